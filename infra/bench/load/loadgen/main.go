// Command loadgen runs the load generator of infra/bench/load on its own:
//
//	go -C infra/bench run ./load/loadgen                       # starts a stack on free ports
//	go -C infra/bench run ./load/loadgen -url http://127.0.0.1:3000   # against `make run`
//
// Only loopback addresses are accepted. make bench runs it through
// infra/bench/report, which also writes BENCHMARKS.md.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"microcert/infra/bench/load"
	"microcert/infra/template"
)

func main() {
	var o load.Options
	root, err := template.RepoRoot()
	if err != nil {
		root = "."
	}
	flag.StringVar(&o.RepoRoot, "root", root, "repository root (template.yaml)")
	flag.StringVar(&o.URL, "url", "", "API of a running stack on loopback (default: start one)")
	flag.StringVar(&o.StateDir, "state", "", "state folder of the running stack (default <root>/.local)")
	flag.IntVar(&o.Apps, "apps", 50, "concurrent simulated apps")
	flag.IntVar(&o.Flows, "flows", 150, "total applicant flows")
	flag.DurationVar(&o.Duration, "duration", 3*time.Minute, "start no flow after this")
	flag.IntVar(&o.ApiPool, "api-pool", 8, "ApiFunction emulators (a stack this command starts)")
	flag.IntVar(&o.DocCheckPool, "doccheck-pool", 3, "DocCheckFunction emulators (a stack this command starts)")
	flag.IntVar(&o.Quiet, "quiet", 150, "sequential GET case samples before and after the load")
	jsonOut := flag.Bool("json", false, "print the result as JSON")
	flag.Parse()
	o.Log = os.Stderr
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := load.Run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	if *jsonOut {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(res)
	} else {
		fmt.Print(load.Format(res))
	}
	if res.Errors > 0 {
		os.Exit(1)
	}
}
