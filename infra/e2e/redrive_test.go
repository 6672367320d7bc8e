package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"microcert/infra/localstack/stacktest"
	"microcert/shared/domain"
)

// TestRedriveMakeTarget: an upload whose check failed three times is in the
// dead-letter folder and its document pending; `make redrive` (the runbook's
// command) sends it to DocCheckFunction on the running stack, and the
// document gets its result. A second run finds nothing to do.
func TestRedriveMakeTarget(t *testing.T) {
	ownStack(t)
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	st := faultStack(t, "FAULT_RATE", "1", "FAULT_OPS", "S3.HeadObject", "FAULT_LIMIT", "9", "FAULT_KINDS", "5xx")
	a := newCareful(t, st, &faultStats{}, "applicant", "")
	caseID, docID, _ := deadLetteredUpload(t, st, a)
	key := domain.UploadPrefix + caseID + "/" + docID

	redrive := func() string {
		t.Helper()
		cmd := exec.Command("make", "--no-print-directory", "redrive", "STATE="+st.StateDir())
		cmd.Dir = stacktest.RepoRoot(t)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("make redrive: %v\n%s", err, out)
		}
		return string(out)
	}
	if out := redrive(); !strings.Contains(out, "1 redriven, 0 failed") || !strings.Contains(out, key) {
		t.Fatalf("make redrive said:\n%s", out)
	}
	if s := docStatus(t, a, caseID, docID); s != "passed" {
		t.Fatalf("status %s after the redrive, want passed", s)
	}
	if moved, _ := filepath.Glob(filepath.Join(st.StateDir(), "dlq", "DocCheckFunction", "redriven", "*.json")); len(moved) != 1 {
		t.Fatalf("redriven records kept: %v", moved)
	}
	if out := redrive(); !strings.Contains(out, "0 redriven, 0 failed") {
		t.Fatalf("second make redrive said:\n%s", out)
	}
}
