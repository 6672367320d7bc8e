package coldstart

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestExplore(t *testing.T) {
	root := repoRoot(t)
	res, err := Run(context.Background(), Options{RepoRoot: root, RIE: filepath.Join(root, "bin", "aws-lambda-rie"), Rounds: 9, InitTrace: 3, Log: os.Stderr})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Functions {
		fmt.Printf("%-18s init med %.2f min %.2f first %.2f ratio %.2f host %d arm64 %d conns %d errs %v\n  %v\n", f.Name, f.MedianInit(), f.MinInit(), f.MedianFirstResponse(), res.Ratio(f.Name), f.HostBytes, f.Arm64Bytes, f.AWSConnections, f.Errors, f.InitMs)
		fmt.Printf("  inittrace total %.2f ms\n", f.InitTraceTotalMs)
		for i, p := range f.InitTrace {
			if i > 12 { break }
			fmt.Printf("    %-60s %.3f ms %d B %d allocs\n", p.Package, p.ClockMs, p.Bytes, p.Allocs)
		}
	}
}
