package e2e

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"microcert/infra/localstack"
	"microcert/infra/localstack/stacktest"
	"microcert/shared/domain"
)

// TestRedriveMakeTarget: an upload whose check failed three times is in the
// dead-letter folder and its document pending; `make redrive` (the runbook's
// command) sends it to DocCheckFunction on the running stack, and the
// document gets its result. A second run finds nothing to do.
func TestRedriveMakeTarget(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	st := faultStack(t, "FAULT_RATE", "1", "FAULT_OPS", "S3.HeadObject", "FAULT_LIMIT", "9", "FAULT_KINDS", "5xx")
	a := newCareful(t, st, &faultStats{}, "applicant", "")
	entID := a.call("POST", "/v1/enterprises", enterpriseBody(nil), 201).obj(t)["id"].(string)
	caseID := a.call("POST", "/v1/cases", map[string]any{"enterpriseId": entID, "kind": "initial", "types": []string{"wecom"}}, 201).obj(t)["id"].(string)
	content := uniqueScan()
	up := a.call("POST", "/v1/cases/"+caseID+"/documents",
		map[string]any{"docType": "business_license", "contentType": "image/jpeg", "contentLength": len(content)}, 201).obj(t)
	if s, b := postFile(t, up, content); s/100 != 2 {
		t.Fatalf("presigned POST: %d %s", s, b)
	}
	docID := up["documentId"].(string)
	key := domain.UploadPrefix + caseID + "/" + docID
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, err := st.WaitS3Delivery(ctx, "DocCheckFunction", func(d localstack.Delivery) bool { return d.Key == key })
	if err != nil {
		t.Fatal(err)
	}
	if d.DLQFile == "" {
		t.Fatalf("not dead-lettered: %+v", d)
	}
	if s := docStatus(t, a, caseID, docID); s != "pending" {
		t.Fatalf("status %s before the redrive, want pending", s)
	}

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
