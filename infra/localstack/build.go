package localstack

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"microcert/infra/template"
)

// Build compiles every function of the template into
// <binDir>/<LogicalId>/bootstrap for the host, with the flags of the Lambda
// build (CGO off, lambda.norpc, trimmed). One `go build` builds them all, so
// shared packages compile once; the Go build cache makes a warm build quick.
func Build(ctx context.Context, repoRoot, binDir string) error {
	tpl, err := template.LoadRepo(repoRoot)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(binDir, ".build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	args := []string{"build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", tmp + "/"}
	for _, f := range tpl.Functions {
		args = append(args, "./"+f.Folder)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %w\n%s", err, out)
	}
	for _, f := range tpl.Functions {
		dst := filepath.Join(binDir, f.LogicalID)
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return err
		}
		// Rename is atomic: a stack starting meanwhile never runs half a file.
		if err := os.Rename(filepath.Join(tmp, filepath.Base(f.Folder)), filepath.Join(dst, "bootstrap")); err != nil {
			return err
		}
	}
	return nil
}
