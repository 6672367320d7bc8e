package load

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"microcert/infra/localstack/stacktest"
)

// BenchmarkLoad starts the local stack and runs b.N flows with 2 apps: the
// smoke run of the load generator (make bench-smoke). The real run is
// make bench (50 apps, infra/bench/report) or loadgen.
func BenchmarkLoad(b *testing.B) {
	root := stacktest.RepoRoot(b)
	for _, tool := range []string{"versitygw", "aws-lambda-rie"} {
		if _, err := os.Stat(filepath.Join(root, "bin", tool)); err != nil {
			b.Skipf("%s is not installed (make tools)", tool)
		}
	}
	res, err := Run(context.Background(), Options{RepoRoot: root, Apps: 2, Flows: max(b.N, 2), Quiet: 10, ApiPool: 2, DocCheckPool: 1})
	if err != nil {
		b.Fatal(err)
	}
	if res.Errors > 0 {
		b.Fatalf("%d errors: %v", res.Errors, res.ErrorSamples)
	}
	if res.FlowsDone == 0 || res.Before.N == 0 {
		b.Fatalf("nothing measured: %+v", res)
	}
	b.ReportMetric(res.HandlerP50, "handler-p50-ms")
	b.ReportMetric(res.Before.OverheadP50(), "overhead-p50-ms")
}

func TestPercentile(t *testing.T) {
	xs := []float64{5, 1, 4, 2, 3}
	for _, c := range []struct{ p, want float64 }{{50, 3}, {99, 5}, {100, 5}, {1, 1}} {
		if got := pct(xs, c.p); got != c.want {
			t.Errorf("pct(%v) = %v, want %v", c.p, got, c.want)
		}
	}
	if pct(nil, 50) != 0 {
		t.Error("pct of nothing")
	}
}

func TestLoopbackOnly(t *testing.T) {
	for host, want := range map[string]bool{"127.0.0.1": true, "localhost": true, "::1": true, "127.3.2.1": true,
		"10.0.0.1": false, "192.168.1.1": false, "example.com": false} {
		if loopback(host) != want {
			t.Errorf("loopback(%q) = %v", host, !want)
		}
	}
	if _, err := Run(context.Background(), Options{RepoRoot: stacktest.RepoRoot(t), URL: "http://10.0.0.1:3000"}); err == nil {
		t.Error("a non-loopback -url was accepted")
	}
}
