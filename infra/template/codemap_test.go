package template

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeMapsEveryPackage: the README's code map names every package of
// the product module (a row may name a folder's packages with "dir/..."),
// every package it names exists, and so does each file it names as where
// a row's main rule lives.
func TestReadmeMapsEveryPackage(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	start := strings.Index(readme, "\n## Code map\n")
	if start < 0 {
		t.Fatal("README.md has no ## Code map section")
	}
	section := readme[start+1:]
	if end := strings.Index(section[1:], "\n## "); end >= 0 {
		section = section[:end+1]
	}
	quoted := regexp.MustCompile("`([^`]+)`")
	named := map[string]bool{}
	var trees []string
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cols := strings.Split(line, "|") // "", package, owns, main rule in, ""
		if len(cols) < 5 {
			t.Fatalf("code map row without three columns: %s", line)
		}
		var dirs []string
		for _, m := range quoted.FindAllStringSubmatch(cols[1], -1) {
			dir, isTree := strings.CutSuffix(m[1], "/...")
			dirs = append(dirs, dir)
			if isTree {
				trees = append(trees, dir)
				continue
			}
			named[m[1]] = true
		}
		for _, m := range quoted.FindAllStringSubmatch(cols[3], -1) {
			if !strings.HasSuffix(m[1], ".go") && !strings.HasSuffix(m[1], ".py") {
				continue
			}
			found := false
			for _, dir := range dirs {
				if _, err := os.Stat(filepath.Join(repoRoot, dir, m[1])); err == nil {
					found = true
				}
			}
			if !found {
				t.Errorf("the README's code map names %s in %v, which is not there", m[1], dirs)
			}
		}
	}
	cmd := exec.Command("go", "list", "-f", "{{.Dir}}", "./...")
	cmd.Dir = repoRoot
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	pkgs := strings.Fields(string(out))
	if len(pkgs) < 20 {
		t.Fatalf("go list ./... gave %v", pkgs)
	}
	exists := map[string]bool{}
	for _, dir := range pkgs {
		rel, err := filepath.Rel(root, dir)
		if err != nil {
			t.Fatal(err)
		}
		rel = filepath.ToSlash(rel)
		exists[rel] = true
		if !named[rel] {
			t.Errorf("the README's code map does not name %s", rel)
		}
	}
	for p := range named {
		if _, err := os.Stat(filepath.Join(repoRoot, p)); !exists[p] && err != nil {
			t.Errorf("the README's code map names %s, which does not exist", p)
		}
	}
	for _, tree := range trees {
		if _, err := os.Stat(filepath.Join(repoRoot, tree)); err != nil {
			t.Errorf("the README's code map names %s/..., which does not exist", tree)
		}
	}
}
