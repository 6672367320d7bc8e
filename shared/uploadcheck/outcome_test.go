package uploadcheck_test

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	fx "microcert/shared/doccheck/doccheckfixtures"
	"microcert/shared/domain"
	"microcert/shared/faults"
	"microcert/shared/httpapi/apitest"
	"microcert/shared/uploadcheck"
)

// The outcomes of the document check, on the harness: an upload registered
// through the API, the file in the in-memory bucket, the S3 event built as
// S3 sends it, the result read back through the store.

// pending registers an upload of docType declared as contentType and puts
// content in the bucket with its presigned POST; it returns the object key
// and the document id.
func pending(t *testing.T, e *apitest.Env, caseID string, docType domain.DocType, contentType string, content []byte) (string, string) {
	t.Helper()
	up := e.Must(201, apitest.Request{Route: "POST /v1/cases/{caseId}/documents", Params: apitest.P("caseId", caseID),
		As: apitest.Owner, Body: map[string]any{"docType": docType, "contentType": contentType, "contentLength": len(content)}})
	if err := e.Bucket.Post(apitest.PostOf(t, up), content); err != nil {
		t.Fatal(err)
	}
	return up["key"].(string), up["documentId"].(string)
}

func document(t *testing.T, e *apitest.Env, caseID, docID string) *domain.Document {
	t.Helper()
	d, err := e.Store.GetDocument(context.Background(), caseID, docID)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func codes(d *domain.Document) []string {
	var out []string
	for _, f := range d.Findings {
		out = append(out, f.Code)
	}
	return out
}

func TestOutcomes(t *testing.T) {
	tests := []struct {
		name        string
		docType     domain.DocType
		contentType string
		content     []byte
		before      func(e *apitest.Env, key string) // between the upload and the event
		want        uploadcheck.Outcome
		status      domain.DocStatus
		finding     string // a finding the result must carry
	}{
		{name: "a clear scan passes", docType: domain.DocBusinessLicense, contentType: "image/jpeg", content: fx.ClearJPEG(),
			want: uploadcheck.Checked, status: domain.DocPassed},
		{name: "a blurred photo fails", docType: domain.DocBusinessLicense, contentType: "image/jpeg", content: fx.BlurredJPEG(),
			want: uploadcheck.Checked, status: domain.DocFailed, finding: "blurry"},
		{name: "a JPEG declared as PDF fails", docType: domain.DocBusinessLicense, contentType: "application/pdf", content: fx.ClearJPEG(),
			want: uploadcheck.Checked, status: domain.DocFailed, finding: "type_mismatch"},
		{name: "a PDF with JavaScript fails", docType: domain.DocBusinessLicense, contentType: "application/pdf", content: fx.PDFWithEscapedJavaScript(),
			want: uploadcheck.Checked, status: domain.DocFailed, finding: "pdf_active_content"},
		{name: "a file deleted before the check", docType: domain.DocBusinessLicense, contentType: "image/jpeg", content: fx.ClearJPEG(),
			before: func(e *apitest.Env, key string) { e.Bucket.Delete(context.Background(), key) },
			want:   uploadcheck.Missing, status: domain.DocFailed, finding: "object_missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := apitest.New(t)
			caseID := e.OpenCase(apitest.Owner, e.NewEnterprise(apitest.Owner))
			before := e.Must(200, apitest.Request{Route: "GET /v1/cases/{caseId}", Params: apitest.P("caseId", caseID), As: apitest.Owner})
			key, docID := pending(t, e, caseID, tt.docType, tt.contentType, tt.content)
			if tt.before != nil {
				tt.before(e, key)
			}
			out, err := e.Check(key)
			if err != nil || out != tt.want {
				t.Fatalf("outcome %q, %v; want %q", out, err, tt.want)
			}
			d := document(t, e, caseID, docID)
			if d.Status != tt.status || d.CheckedAt == nil || d.Sequencer == "" {
				t.Errorf("document %s, checked at %v, sequencer %q; want %s", d.Status, d.CheckedAt, d.Sequencer, tt.status)
			}
			if tt.finding != "" && !slices.Contains(codes(d), tt.finding) {
				t.Errorf("findings %v, want %s", codes(d), tt.finding)
			}
			if tt.want == uploadcheck.Checked {
				if got := e.Bucket.Tags(key)["check"]; got != string(tt.status) {
					t.Errorf("object tagged check=%q, want %q", got, tt.status)
				}
			}
			// The case moved, so the app sees new requirements on its next read.
			after := e.Must(200, apitest.Request{Route: "GET /v1/cases/{caseId}", Params: apitest.P("caseId", caseID), As: apitest.Owner})
			if after["version"].(float64) <= before["version"].(float64) {
				t.Errorf("case version %v -> %v", before["version"], after["version"])
			}
		})
	}
}

// S3 delivers at least once and out of order: an event whose sequencer is
// not greater than the stored one's changes nothing.
func TestDuplicateAndStaleEvents(t *testing.T) {
	e := apitest.New(t)
	caseID := e.OpenCase(apitest.Owner, e.NewEnterprise(apitest.Owner))
	key, docID := pending(t, e, caseID, domain.DocBusinessLicense, "image/jpeg", fx.ClearJPEG())
	stale := e.S3Event(key)
	first := e.S3Event(key)
	if out, err := e.Checker.Process(context.Background(), first); err != nil || out != uploadcheck.Checked {
		t.Fatalf("first: %q %v", out, err)
	}
	stored := document(t, e, caseID, docID)
	for name, rec := range map[string]events.S3EventRecord{"the same event again": first, "an older event": stale} {
		out, err := e.Checker.Process(context.Background(), rec)
		if err != nil || out != uploadcheck.Duplicate {
			t.Errorf("%s: %q %v, want duplicate", name, out, err)
		}
	}
	if again := document(t, e, caseID, docID); !again.CheckedAt.Equal(*stored.CheckedAt) || again.Sequencer != stored.Sequencer {
		t.Errorf("a duplicate rewrote the result: %+v", again)
	}
}

// Events the check has no business with are ignored without a retry.
func TestIgnoredEvents(t *testing.T) {
	e := apitest.New(t)
	caseID := e.OpenCase(apitest.Owner, e.NewEnterprise(apitest.Owner))
	key, _ := pending(t, e, caseID, domain.DocBusinessLicense, "image/jpeg", fx.ClearJPEG())
	withdrawn := e.OpenCase(apitest.Owner, e.NewEnterprise(apitest.Owner))
	wkey, _ := pending(t, e, withdrawn, domain.DocBusinessLicense, "image/jpeg", fx.ClearJPEG())
	e.Must(200, apitest.Request{Route: "POST /v1/cases/{caseId}/withdraw", Params: apitest.P("caseId", withdrawn), As: apitest.Owner})

	removed := e.S3Event(key)
	removed.EventName = "ObjectRemoved:Delete"
	noSequencer := e.S3Event(key)
	noSequencer.S3.Object.Sequencer = ""
	tests := map[string]events.S3EventRecord{
		"outside uploads/":        e.S3Event("exports/" + caseID + "/x"),
		"an unknown document":     e.S3Event(domain.UploadPrefix + caseID + "/" + domain.NewID()),
		"an object removed":       removed,
		"no sequencer":            noSequencer,
		"a withdrawn case's file": e.S3Event(wkey),
	}
	for name, rec := range tests {
		t.Run(name, func(t *testing.T) {
			if out, err := e.Checker.Process(context.Background(), rec); err != nil || out != uploadcheck.Ignored {
				t.Errorf("%q %v, want ignored", out, err)
			}
		})
	}
}

// The same file already used by another enterprise is flagged for the
// reviewer (HashIndex), without failing the document.
func TestReuseAcrossEnterprises(t *testing.T) {
	e := apitest.New(t)
	content := fx.ClearJPEG()
	first := e.OpenCase(apitest.Owner, e.NewEnterprise(apitest.Owner))
	k1, d1 := pending(t, e, first, domain.DocBusinessLicense, "image/jpeg", content)
	if _, err := e.Check(k1); err != nil {
		t.Fatal(err)
	}
	other := e.OpenCase(apitest.Owner, e.NewEnterprise(apitest.Owner))
	k2, d2 := pending(t, e, other, domain.DocBusinessLicense, "image/jpeg", content)
	if _, err := e.Check(k2); err != nil {
		t.Fatal(err)
	}
	if d := document(t, e, first, d1); d.ReusedByOthers {
		t.Error("the first use is flagged")
	}
	if d := document(t, e, other, d2); !d.ReusedByOthers || d.Status != domain.DocPassed {
		t.Errorf("the second use: reused %v, status %s; want flagged and passed", d.ReusedByOthers, d.Status)
	}
}

// When the table is unavailable the event is handed back for Lambda's
// retry, and the retry records the result.
func TestUnavailableIsRetried(t *testing.T) {
	e := apitest.New(t)
	caseID := e.OpenCase(apitest.Owner, e.NewEnterprise(apitest.Owner))
	key, docID := pending(t, e, caseID, domain.DocBusinessLicense, "image/jpeg", fx.ClearJPEG())
	inj, err := faults.New(faults.Config{Rate: 1, Kinds: []faults.Kind{faults.ServerError}, After: 0})
	if err != nil {
		t.Fatal(err)
	}
	down := e.Rewire(func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 }, inj.DynamoDB)
	rec := e.S3Event(key)
	if err := down.Checker.Handle(context.Background(), events.S3Event{Records: []events.S3EventRecord{rec}}); err == nil {
		t.Fatal("no error for Lambda to retry on")
	}
	if err := e.Checker.Handle(context.Background(), events.S3Event{Records: []events.S3EventRecord{rec}}); err != nil {
		t.Fatal(err)
	}
	if d := document(t, e, caseID, docID); d.Status != domain.DocPassed {
		t.Errorf("after the retry: %s", d.Status)
	}
}
