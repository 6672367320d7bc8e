// Command calendar checks a working-day calendar document before an
// operator uploads it (README: "Working-day calendar"):
//
//	go run ./infra/calendar FILE.json
//
// It applies exactly the checks the functions apply when they read the
// document (shared/holidays.Parse) and prints what the calendar would then
// cover, or the first problem and exit status 1.
package main

import (
	"fmt"
	"os"
	"time"

	"microcert/shared/domain"
	"microcert/shared/holidays"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run ./infra/calendar FILE.json")
		os.Exit(2)
	}
	b, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cal, err := holidays.Parse(b)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: refused (%s): %v\n", os.Args[1], domain.CodeOf(err), err)
		os.Exit(1)
	}
	first, last := cal.Range()
	fmt.Printf("ok: %s\ncovers %s .. %s (%d days left today)\nupload it to s3://<bucket>/%s\n",
		cal.Source(), first.Format(time.DateOnly), last.Format(time.DateOnly), cal.DaysLeft(time.Now()), holidays.Key)
}
