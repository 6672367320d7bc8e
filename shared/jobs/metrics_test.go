package jobs_test

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"microcert/shared/domain"
	"microcert/shared/jobs"
)

// TestEveryOutcomeHasADailyZero: every outcome a job's code can count is
// in its metric list, so the EMF line of a quiet day still carries it as 0
// (an alarm on a metric without data points never fires). The outcomes a
// job counts are read from its source files: each Out... constant they
// name; the reconciliation also counts each discrepancy kind it records.
func TestEveryOutcomeHasADailyZero(t *testing.T) {
	values := outcomeValues(t)
	var kinds []string
	for _, k := range domain.DiscrepancyKinds {
		kinds = append(kinds, string(k))
	}
	for _, tc := range []struct {
		job, file string
		more      []string // counted by value, not by an Out... constant
	}{
		{"reminder", "reminder.go", nil},
		{"expiry", "expiry.go", nil},
		{"refund", "refunds.go", nil},
		{"reconcile", "../reconcile/reconcile.go", kinds},
	} {
		t.Run(tc.job, func(t *testing.T) {
			var buf bytes.Buffer
			if err := jobs.WriteEMF(&buf, "F", jobs.Summary{Job: tc.job}); err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			for _, name := range outcomesNamed(t, tc.file) {
				if v, ok := doc[values[name]]; !ok || v != float64(0) {
					t.Errorf("%s counts %s (%q) but its EMF line of a quiet day has %v", tc.file, name, values[name], v)
				}
			}
			for _, o := range tc.more {
				if v, ok := doc[o]; !ok || v != float64(0) {
					t.Errorf("%s counts %q but its EMF line of a quiet day has %v", tc.file, o, v)
				}
			}
		})
	}
}

// outcomeValues maps each Out... constant of the package to its value.
func outcomeValues(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if vs, ok := n.(*ast.ValueSpec); ok {
				for i, id := range vs.Names {
					if i >= len(vs.Values) {
						break
					}
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && strings.HasPrefix(id.Name, "Out") {
						out[id.Name], _ = strconv.Unquote(lit.Value)
					}
				}
			}
			return true
		})
	}
	if len(out) == 0 {
		t.Fatal("no Out... constants in the package")
	}
	return out
}

// outcomesNamed lists the Out... identifiers a source file uses.
func outcomesNamed(t *testing.T, file string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && strings.HasPrefix(id.Name, "Out") && !seen[id.Name] {
			seen[id.Name] = true
			out = append(out, id.Name)
		}
		return true
	})
	if len(out) == 0 {
		t.Fatalf("%s names no outcome", file)
	}
	return out
}
