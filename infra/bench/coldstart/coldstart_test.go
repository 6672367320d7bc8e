package coldstart

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"microcert/infra/localstack/stacktest"
	"microcert/infra/template"
)

// BenchmarkColdStart runs every bootstrap and the hello baseline cold
// (b.N alternating rounds) and reports the median init time of each as a
// ratio to hello's. make bench-smoke runs it once so that the harness
// cannot rot; make bench runs the full measurement through infra/bench/report.
func BenchmarkColdStart(b *testing.B) {
	root := stacktest.RepoRoot(b)
	rie := filepath.Join(root, "bin", "aws-lambda-rie")
	if _, err := os.Stat(rie); err != nil {
		b.Skip("aws-lambda-rie is not installed (make tools)")
	}
	res, err := Run(context.Background(), Options{RepoRoot: root, RIE: rie, Rounds: b.N, InitTrace: -1, SkipArm64: true})
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range res.Functions {
		if len(f.Errors) > 0 {
			b.Errorf("%s: %v", f.Name, f.Errors)
		}
		if f.AWSConnections != 0 {
			b.Errorf("%s: %d connections to AWS endpoints during init and a trivial invoke, want 0", f.Name, f.AWSConnections)
		}
		if f.Name != Hello {
			b.ReportMetric(res.Ratio(f.Name), "x-hello-"+f.Name)
		}
	}
	b.ReportMetric(res.Get(Hello).MedianInit(), "hello-init-ms")
}

// The trivial invokes are valid JSON events of the right kind.
func TestTrivialEvents(t *testing.T) {
	for _, f := range []template.Function{
		{Routes: []template.Route{{Method: "GET", Path: "/v1/health"}}},
		{S3Events: []template.S3Event{{Name: "Upload"}}},
		{Schedules: []template.Schedule{{Name: "Daily"}}},
		{},
	} {
		ev := trivialEvent(f)
		if !json.Valid([]byte(ev)) {
			t.Errorf("%+v: invalid JSON %s", f, ev)
		}
	}
}

func TestInitReportParse(t *testing.T) {
	line := "26 Nov 2026 17:31:49,664 [INFO] (rapid) INIT REPORT(durationMs: 7.928000)"
	m := initReport.FindStringSubmatch(line)
	if m == nil || m[1] != "7.928000" {
		t.Fatalf("INIT REPORT not parsed: %v", m)
	}
	m = initTrace.FindStringSubmatch("init microcert/shared/logging @1.2 ms, 0.031 ms clock, 12345 bytes, 67 allocs")
	if m == nil || m[1] != "microcert/shared/logging" || m[2] != "0.031" || m[3] != "12345" || m[4] != "67" {
		t.Fatalf("inittrace not parsed: %v", m)
	}
}
