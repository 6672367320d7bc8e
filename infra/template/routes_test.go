package template

import (
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"microcert/shared/httpapi"
)

// TestRoutesMatchRouter: the template is the route table, so every route it
// declares must be served by ApiFunction's router and every router route must
// be declared (the local provider sandbox is neither).
func TestRoutesMatchRouter(t *testing.T) {
	tpl, err := LoadRepo(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	api, ok := tpl.Function("ApiFunction")
	if !ok {
		t.Fatal("no ApiFunction")
	}
	var declared []string
	for _, r := range api.Routes {
		declared = append(declared, r.Key())
	}
	served := append([]string(nil), httpapi.RouteKeys()...)
	sort.Strings(declared)
	sort.Strings(served)
	if d := cmp.Diff(declared, served); d != "" {
		t.Errorf("template routes (-) vs router routes (+):\n%s", d)
	}
}
