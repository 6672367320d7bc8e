package template

import (
	"os/exec"
	"strings"
	"testing"
)

// TestFunctionsLinkOnlyWhatTheyCall: a function's binary carries only the
// packages of its own work (cold start, attack surface). The daily jobs
// link no use cases, HTTP layer or document check; the refund job only the
// use cases' refund sending (no HTTP layer, document check or statements);
// the reconciliation no use cases; only it links the statements; the
// document check links no use cases or HTTP layer; no function links the
// local stack or the tests' helpers.
func TestFunctionsLinkOnlyWhatTheyCall(t *testing.T) {
	forbidden := map[string][]string{
		"api":      {"shared/jobs", "shared/uploadcheck"},
		"doccheck": {"shared/certsvc", "shared/httpapi", "shared/jobs"},
		"reminder": {"shared/certsvc", "shared/httpapi", "shared/uploadcheck", "shared/doccheck", "shared/blob", "shared/statements", "shared/payprovider"},
		"expiry":   {"shared/certsvc", "shared/httpapi", "shared/uploadcheck", "shared/doccheck", "shared/statements", "shared/payprovider"},
		"refund":   {"shared/httpapi", "shared/uploadcheck", "shared/statements", "shared/reconcile", "shared/blob/s3blob"},
		"reconcile": {"shared/certsvc", "shared/httpapi", "shared/uploadcheck", "shared/doccheck", "shared/payprovider",
			"shared/webhook"},
	}
	everywhere := []string{"microcert/infra/", "storetest", "openapicheck", "apitest"}
	for fn, pkgs := range forbidden {
		t.Run(fn, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command("go", "list", "-deps", "./functions/"+fn)
			cmd.Dir = repoRoot
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("go list: %v\n%s", err, out)
			}
			deps := strings.Fields(string(out))
			if len(deps) < 10 {
				t.Fatalf("go list -deps gave %v", deps)
			}
			for _, d := range deps {
				for _, p := range pkgs {
					if d == "microcert/"+p {
						t.Errorf("functions/%s links %s", fn, d)
					}
				}
				for _, p := range everywhere {
					if strings.Contains(d, p) {
						t.Errorf("functions/%s links %s", fn, d)
					}
				}
			}
		})
	}
}
