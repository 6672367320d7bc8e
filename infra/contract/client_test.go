// Package contract holds the tooling of the API contract: the pinned linters
// of openapi.yaml (package.json, run by `make lint`), and the Go client
// generated from it (client/). Its test proves the committed client is what
// the pinned generator makes of today's openapi.yaml.
package contract

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// generateLine is client/doc.go's go:generate directive: `go run <module>@<version> ...`.
var generateLine = regexp.MustCompile(`(?m)^//go:generate go run (\S+@v\S+) -config \.\./oapi-codegen\.yaml \.\./\.\./\.\./openapi\.yaml$`)

// TestClientUpToDate regenerates the client with the pinned generator and
// settings into a temporary file and compares it with client/client.gen.go.
// It fails when openapi.yaml (or the settings) changed without `make
// client`.
func TestClientUpToDate(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("client", "doc.go"))
	if err != nil {
		t.Fatal(err)
	}
	m := generateLine.FindSubmatch(doc)
	if m == nil {
		t.Fatalf("client/doc.go has no go:generate line of the form %s", generateLine)
	}
	generator := string(m[1])

	settings, err := os.ReadFile("oapi-codegen.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	out := filepath.Join(tmp, "client.gen.go")
	outputLine := regexp.MustCompile(`(?m)^output: .*$`)
	if !outputLine.Match(settings) {
		t.Fatal("oapi-codegen.yaml has no output line")
	}
	cfg := filepath.Join(tmp, "oapi-codegen.yaml")
	if err := os.WriteFile(cfg, outputLine.ReplaceAll(settings, []byte("output: "+out)), 0o644); err != nil {
		t.Fatal(err)
	}
	spec, err := filepath.Abs(filepath.Join("..", "..", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// Read here too, so that go test's cache reruns the test when it changes
	// (the generator reads it in another process).
	if _, err := os.ReadFile(spec); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "run", generator, "-config", cfg, spec)
	cmd.Dir = "client"
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, msg)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join("client", "client.gen.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("client/client.gen.go is not what %s makes of openapi.yaml: run `make client` and commit the result", generator)
	}
}
