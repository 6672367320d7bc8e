package openapicheck

import (
	"fmt"
	"sort"
	"testing"
)

func TestDumpCodes(t *testing.T) {
	scan := newCodeScan(parsedSource(t))
	for _, src := range codeSources {
		got := scan.collect(src)
		var cs []string
		for c := range got {
			cs = append(cs, c)
		}
		sort.Strings(cs)
		fmt.Println(src.schema, len(cs), cs)
	}
}
