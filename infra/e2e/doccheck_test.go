package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"microcert/infra/localstack"
	"microcert/infra/localstack/stacktest"
	"microcert/shared/doccheck/doccheckfixtures"
)

// newDraft makes an enterprise (with a corporate account unless said
// otherwise) and a draft case needing every material of its types.
func newDraft(t *testing.T, a *app, types ...string) (entID, caseID string) {
	t.Helper()
	ent := a.createEnterprise(nil)
	cs := a.openCase(ent["id"].(string), "initial", types...)
	return ent["id"].(string), cs["id"].(string)
}

func findingCodes(d map[string]any) []string {
	var out []string
	for _, f := range d["check"].(map[string]any)["findings"].([]any) {
		out = append(out, f.(map[string]any)["code"].(string))
	}
	return out
}

// TestDocumentChecks uploads real files through presigned POSTs and checks
// the stored result of each.
func TestDocumentChecks(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	_, caseID := newDraft(t, a, "wecom", "mini_program")
	tests := []struct {
		name        string
		docType     string
		contentType string
		content     []byte
		wantStatus  string
		wantCode    string
	}{
		{"clear JPEG scan", "business_license", "image/jpeg", uniqueScan(), "passed", ""},
		{"clear PNG scan", "legal_rep_id_front", "image/png", doccheckfixtures.ClearPNG(), "passed", ""},
		{"blurred copy", "business_license", "image/jpeg", doccheckfixtures.BlurredJPEG(), "failed", "blurry"},
		{"decompression bomb", "business_license", "image/png", doccheckfixtures.BombPNG(), "failed", "image_too_large"},
		{"PDF renamed .jpg", "business_license", "image/jpeg", doccheckfixtures.CleanPDF(), "failed", "type_mismatch"},
		{"PDF with OpenAction", "bank_account_proof", "application/pdf", doccheckfixtures.PDFWithOpenAction(), "failed", "pdf_active_content"},
		{"PDF with J#61vaScript", "bank_account_proof", "application/pdf", doccheckfixtures.PDFWithEscapedJavaScript(), "failed", "pdf_active_content"},
		{"JavaScript inside ObjStm", "bank_account_proof", "application/pdf", doccheckfixtures.PDFWithObjStmJavaScript(), "failed", "pdf_active_content"},
		{"truncated JPEG", "legal_rep_id_back", "image/jpeg", doccheckfixtures.TruncatedJPEG(), "failed", "unreadable"},
		{"clean PDF", "bank_account_proof", "application/pdf", doccheckfixtures.CleanPDF(), "passed", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := &app{t: t, base: a.base, token: a.token}
			d := a.upload(caseID, tc.docType, tc.contentType, tc.content)
			codes := findingCodes(d)
			if st := d["check"].(map[string]any)["status"]; st != tc.wantStatus {
				t.Fatalf("status %v (%v), want %s", st, codes, tc.wantStatus)
			}
			if tc.wantCode != "" && !has(codes, tc.wantCode) {
				t.Fatalf("findings %v lack %s", codes, tc.wantCode)
			}
		})
	}
}

// TestUploadPolicyRefusesOversize: the presigned POST policy itself stops a
// file one byte over the limit at the S3 stand-in.
func TestUploadPolicyRefusesOversize(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	_, caseID := newDraft(t, a, "wecom")
	up := a.requestUpload(caseID, "business_license", "image/jpeg", 1000)
	max := int(up["maxBytes"].(float64))
	st, body := postFile(t, up, bytes.Repeat([]byte{0xff}, max+1))
	if st != 400 || !strings.Contains(body, "EntityTooLarge") {
		t.Fatalf("oversized POST: %d %s", st, body)
	}
	// Declaring more than the limit is refused before any URL is issued.
	if r := a.do("POST", "/v1/cases/"+caseID+"/documents",
		map[string]any{"docType": "business_license", "contentType": "image/jpeg", "contentLength": max + 1}); r.Status != 422 {
		t.Fatalf("oversize declaration: %d %s", r.Status, r.Body)
	}
}

// TestOversizedObjectNotRead: an object over the limit that reached the
// bucket anyway (e.g. written with other credentials) fails from its size
// alone: the check never reads the body, so no digest is recorded.
func TestOversizedObjectNotRead(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	_, caseID := newDraft(t, a, "wecom")
	up := a.requestUpload(caseID, "business_license", "image/jpeg", 1000)
	max := int64(up["maxBytes"].(float64))
	putObject(t, up["key"].(string), "image/jpeg", bytes.Repeat([]byte{0xff}, int(max)+1))
	d := a.waitChecked(caseID, up["documentId"].(string))
	if codes := findingCodes(d); d["check"].(map[string]any)["status"] != "failed" || !has(codes, "too_large") {
		t.Fatalf("oversized object: %v", d["check"])
	}
	// The check's log line may reach the log after its result was stored.
	lines := (&stacktest.Stack{Stack: shared}).WaitLogsMatching(t, "DocCheckFunction", func(l string) bool {
		return strings.Contains(l, up["documentId"].(string)) && strings.Contains(l, `"outcome":"checked"`)
	}, 1)
	if len(lines) == 0 {
		t.Fatal("no check log line for the oversized object")
	}
	for _, l := range lines {
		if !strings.Contains(l, `"bodyRead":false`) {
			t.Fatalf("the oversized object was read: %s", l)
		}
	}
}

func putObject(t *testing.T, key, contentType string, content []byte) {
	t.Helper()
	_, err := shared.S3().PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(shared.BucketName()),
		Key: aws.String(key), ContentType: aws.String(contentType), Body: bytes.NewReader(content)})
	if err != nil {
		t.Fatal(err)
	}
}

// TestReuseAcrossEnterprises: the same file uploaded by a second
// enterprise is flagged for the reviewer, not for the first.
func TestReuseAcrossEnterprises(t *testing.T) {
	onShared(t)
	file := uniqueScan()
	a := newApp(t, "applicant", "")
	_, caseA := newDraft(t, a, "wecom")
	first := a.upload(caseA, "business_license", "image/jpeg", file)
	b := newApp(t, "applicant", "")
	_, caseB := newDraft(t, b, "wecom")
	second := b.upload(caseB, "business_license", "image/jpeg", file)
	if first["reusedByOtherEnterprise"] != nil || second["reusedByOtherEnterprise"] != nil {
		t.Fatal("applicants must not see the reuse flag")
	}
	rev := newApp(t, "reviewer", "")
	flag := func(caseID, docID string) bool {
		for _, d := range rev.getCase(caseID)["documents"].([]any) {
			if m := d.(map[string]any); m["id"] == docID {
				return m["reusedByOtherEnterprise"].(bool)
			}
		}
		t.Fatalf("document %s not in case %s", docID, caseID)
		return false
	}
	if flag(caseA, first["id"].(string)) {
		t.Error("the first upload is flagged")
	}
	if !flag(caseB, second["id"].(string)) {
		t.Error("the second enterprise's copy is not flagged")
	}
}

// TestDuplicateAndOutOfOrderEvents: S3 delivers at least once and out of
// order; whatever arrives, each object version gets exactly one result.
func TestDuplicateAndOutOfOrderEvents(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	_, caseID := newDraft(t, a, "wecom")
	d := a.upload(caseID, "business_license", "image/jpeg", uniqueScan())
	docID := d["id"].(string)
	delivery, err := shared.WaitS3Delivery(context.Background(), "DocCheckFunction", func(x localstack.Delivery) bool {
		return strings.HasSuffix(x.Key, docID)
	})
	if err != nil {
		t.Fatal(err)
	}
	before := a.getCase(caseID)
	checkedAt := d["check"].(map[string]any)["checkedAt"]

	var ev events.S3Event
	if err := json.Unmarshal(delivery.Event, &ev); err != nil {
		t.Fatal(err)
	}
	invoke := func(ev events.S3Event) {
		raw, _ := json.Marshal(ev)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := shared.Invoke(ctx, "DocCheckFunction", raw); err != nil {
			t.Error(err)
		}
	}
	concurrently := func(ev events.S3Event, n int) {
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() { defer wg.Done(); invoke(ev) }()
		}
		wg.Wait()
	}

	// The same event again, five times in a row and five at once.
	for i := 0; i < 5; i++ {
		invoke(ev)
	}
	concurrently(ev, 5)
	after := a.getCase(caseID)
	if after["version"] != before["version"] {
		t.Fatalf("duplicates changed the case: version %v -> %v", before["version"], after["version"])
	}
	if got := a.waitChecked(caseID, docID)["check"].(map[string]any)["checkedAt"]; got != checkedAt {
		t.Fatalf("duplicates rewrote the result: %v -> %v", checkedAt, got)
	}

	// A newer version of the object, its event delivered five times at
	// once: exactly one new result and one requirements update.
	newer := ev
	newer.Records = append([]events.S3EventRecord(nil), ev.Records...)
	newer.Records[0].S3.Object.Sequencer = "FFFFFFFFFFFFFFFFFFFF"
	concurrently(newer, 5)
	bumped := a.getCase(caseID)
	if bumped["version"].(float64) != before["version"].(float64)+1 {
		t.Fatalf("newer event: version %v -> %v, want exactly +1", before["version"], bumped["version"])
	}
	rechecked := a.waitChecked(caseID, docID)["check"].(map[string]any)["checkedAt"]
	if rechecked == checkedAt {
		t.Fatal("the newer event left no result")
	}

	// The original, older event arriving late changes nothing.
	invoke(ev)
	if v := a.getCase(caseID)["version"]; v != bumped["version"] {
		t.Fatalf("an older sequencer changed the case: %v -> %v", bumped["version"], v)
	}
}
