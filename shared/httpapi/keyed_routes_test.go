package httpapi

import (
	"strings"
	"testing"
)

// TestKeyedRouteLists: the lists that set how a route treats its
// Idempotency-Key name authenticated POST routes of the table, and no
// route is in both.
func TestKeyedRouteLists(t *testing.T) {
	served := map[string]Access{}
	for _, r := range Routes() {
		served[r.Key()] = r.Access
	}
	lists := map[string]map[string]bool{"keyedInCommit": keyedInCommit, "notReplayed": notReplayed}
	for name, list := range lists {
		for key := range list {
			access, ok := served[key]
			if !ok || access == Public || !strings.HasPrefix(key, "POST ") {
				t.Errorf("%s names %q, which is not an authenticated POST route", name, key)
			}
		}
	}
	for key := range keyedInCommit {
		if notReplayed[key] {
			t.Errorf("%q both ignores its key and creates its record in its transaction", key)
		}
	}
}
