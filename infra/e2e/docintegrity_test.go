package e2e

import (
	"bytes"
	"context"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"microcert/shared/doccheck/doccheckfixtures"
	"microcert/shared/domain"
	"microcert/shared/uploadcheck"
)

// reviewedDocument is a document as a reviewer sees it in the case view.
func reviewedDocument(t *testing.T, rev *app, caseID, docID string) map[string]any {
	t.Helper()
	for _, d := range rev.getCase(caseID)["documents"].([]any) {
		if m := d.(map[string]any); m["id"] == docID {
			return m
		}
	}
	t.Fatalf("document %s not in case %s", docID, caseID)
	return nil
}

// downloaded fetches a document's bytes through the download route.
func downloaded(t *testing.T, a *app, docID string) []byte {
	t.Helper()
	dl := a.must(200, "GET", "/v1/documents/"+docID+"/download", nil).obj(t)
	res, err := httpClient.Get(dl["url"].(string))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("download: %d %s", res.StatusCode, body)
	}
	return body
}

// lateUploads counts the late-upload audit entries of a document.
func lateUploads(t *testing.T, caseID, docID string) int {
	t.Helper()
	entries, err := seedStore().ListAudit(context.Background(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.Action == uploadcheck.AuditLateUpload && e.DocumentID == docID {
			n++
		}
	}
	return n
}

// repost sends the same presigned form again with other bytes and waits
// until the check has recorded it as late.
func repost(t *testing.T, up map[string]any, caseID string, content []byte) {
	t.Helper()
	docID := up["documentId"].(string)
	before := lateUploads(t, caseID, docID)
	if st, body := postFile(t, up, content); st/100 != 2 {
		t.Fatalf("re-posting the form: %d %s (the form itself stays valid for its 5 minutes)", st, body)
	}
	deadline := time.Now().Add(60 * time.Second)
	for lateUploads(t, caseID, docID) == before {
		if time.Now().After(deadline) {
			t.Fatal("the re-posted upload was not recorded as late within 60s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestRepostedFormChangesNothing: the business licence's presigned form,
// kept by the applicant and posted again with other bytes after
// submission and again after approval, changes nothing the reviewer sees:
// the document, its check, the case's version, and the bytes the download
// serves, which are the bytes that were checked. Each re-post is recorded
// as a late upload.
func TestRepostedFormChangesNothing(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	rev := newApp(t, "reviewer", "")
	_, caseID := newDraft(t, a, "wecom")
	original := uniqueScan()
	up := a.requestUpload(caseID, "business_license", "image/jpeg", len(original))
	docID := up["documentId"].(string)
	if st, body := postFile(t, up, original); st/100 != 2 {
		t.Fatalf("upload: %d %s", st, body)
	}
	if d := a.waitChecked(caseID, docID); d["check"].(map[string]any)["status"] != "passed" {
		t.Fatalf("licence check: %v", d["check"])
	}
	a.satisfy(caseID)
	a.submitCase(caseID)

	seen := reviewedDocument(t, rev, caseID, docID)
	version := rev.getCase(caseID)["version"]
	if got := downloaded(t, rev, docID); !bytes.Equal(got, original) {
		t.Fatalf("download serves %d bytes, not the %d checked", len(got), len(original))
	}
	same := func(when string) {
		t.Helper()
		if diff := cmp.Diff(seen, reviewedDocument(t, rev, caseID, docID)); diff != "" {
			t.Errorf("%s: the reviewer's document changed (-before +after):\n%s", when, diff)
		}
		if got := downloaded(t, rev, docID); !bytes.Equal(got, original) {
			t.Errorf("%s: the download serves other bytes (%d, checked %d)", when, len(got), len(original))
		}
	}

	// After submission: a failing file (a PDF with a script) and a passing
	// one (another clear scan): neither is checked nor shown.
	repost(t, up, caseID, doccheckfixtures.PDFWithObjStmJavaScript())
	repost(t, up, caseID, uniqueScan())
	same("after submission")
	if v := rev.getCase(caseID)["version"]; v != version {
		t.Errorf("late uploads moved the case: version %v -> %v", version, v)
	}

	rev.approve(caseID)
	approved := rev.getCase(caseID)
	repost(t, up, caseID, doccheckfixtures.BlurredJPEG())
	same("after approval")
	if after := rev.getCase(caseID); after["version"] != approved["version"] || after["status"] != "approved" {
		t.Errorf("a late upload changed the approved case: %v -> %v", approved["version"], after["version"])
	}
	if n := lateUploads(t, caseID, docID); n != 3 {
		t.Errorf("%d late uploads recorded, want 3", n)
	}
	// The applicant cannot ask for a new form either.
	if r := a.do("POST", "/v1/cases/"+caseID+"/documents",
		map[string]any{"docType": "business_license", "contentType": "image/jpeg", "contentLength": 1000}); r.Status != 409 || r.code(t) != "case_not_editable" {
		t.Errorf("new form after approval: %d %s", r.Status, r.Body)
	}
}

// TestApprovalRefusedWhileDocumentFailed: a document whose check failed
// (however it came to: here a result written through the store, as a
// re-check would write it) blocks approval with requirements_unmet, and
// the case stays in review.
func TestApprovalRefusedWhileDocumentFailed(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	rev := newApp(t, "reviewer", "")
	_, caseID := a.submittedCase("wecom")
	var licence map[string]any
	for _, d := range rev.getCase(caseID)["documents"].([]any) {
		if m := d.(map[string]any); m["docType"] == "business_license" {
			licence = m
		}
	}
	ctx := context.Background()
	st := seedStore()
	doc, err := st.GetDocument(ctx, caseID, licence["id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	doc.Status = domain.DocFailed
	doc.Findings = []domain.Finding{{Code: "blurry", Message: domain.Text{Zh: "图片模糊。", En: "The image is blurry."}}}
	doc.Sequencer = uploadcheck.NormalizeSequencer("FFFFFFFFFFFFFFFFFFFF")
	if err := st.Commit(ctx, &domain.Change{Documents: []domain.DocumentWrite{{Document: doc, CheckResult: true}}}); err != nil {
		t.Fatal(err)
	}
	version := rev.claim(caseID)
	r := rev.do("POST", "/v1/cases/"+caseID+"/decision", decisionBody("approve", version))
	if r.Status != 409 || r.code(t) != "requirements_unmet" || !strings.Contains(string(r.Body), "document_failed") {
		t.Fatalf("approve with a failed document: %d %s", r.Status, r.Body)
	}
	if cs := rev.getCase(caseID); cs["status"] != "in_review" {
		t.Fatalf("after the refusal: %v", cs["status"])
	}
}

// TestHostilePDFCorpus: every file of the hostile corpus, uploaded through
// a presigned POST, fails with exactly one finding that names what was
// found; the ordinary files of common producers pass, and their web links
// reach the reviewer as a note.
func TestHostilePDFCorpus(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	a.lang = "en"
	rev := newApp(t, "reviewer", "")
	rev.lang = "en"
	// wecom + mini_program need four document types: 10 uploads each.
	_, caseID := newDraft(t, a, "wecom", "mini_program")
	docTypes := []string{"business_license", "legal_rep_id_front", "legal_rep_id_back", "bank_account_proof"}
	type upload struct {
		name  string
		data  []byte
		check func(t *testing.T, d map[string]any)
	}
	var uploads []upload
	for _, h := range doccheckfixtures.HostilePDFs() {
		h := h
		uploads = append(uploads, upload{"hostile/" + h.Name, h.Data, func(t *testing.T, d map[string]any) {
			c := d["check"].(map[string]any)
			fs := c["findings"].([]any)
			if c["status"] != "failed" || len(fs) != 1 {
				t.Fatalf("check = %v, want failed with one finding", c)
			}
			f := fs[0].(map[string]any)
			if f["code"] != h.Code {
				t.Fatalf("finding %v, want %s", f, h.Code)
			}
			for _, name := range h.Names {
				if !strings.Contains(f["message"].(string), name) {
					t.Errorf("finding %q does not name %s", f["message"], name)
				}
			}
		}})
	}
	ordinary := doccheckfixtures.OrdinaryPDFs()
	for _, name := range slices.Sorted(maps.Keys(ordinary)) {
		name := name
		uploads = append(uploads, upload{"ordinary/" + name, ordinary[name], func(t *testing.T, d map[string]any) {
			if c := d["check"].(map[string]any); c["status"] != "passed" {
				t.Fatalf("check = %v, want passed", c)
			}
			seen := reviewedDocument(t, rev, caseID, d["id"].(string))
			notes, _ := seen["reviewNotes"].([]any)
			hasLinks := len(notes) == 1 && notes[0].(map[string]any)["code"] == "pdf_links"
			if wantLinks := name == "latex" || name == "word"; hasLinks != wantLinks {
				t.Errorf("reviewNotes %v, want pdf_links: %v", notes, wantLinks)
			}
		}})
	}
	t.Run("uploads", func(t *testing.T) {
		for i, u := range uploads {
			u, docType := u, docTypes[i%len(docTypes)]
			t.Run(u.name, func(t *testing.T) {
				t.Parallel()
				a := &app{t: t, base: a.base, token: a.token, lang: "en"}
				u.check(t, a.upload(caseID, docType, "application/pdf", u.data))
			})
		}
	})
}

// TestNearDuplicatesFlagged: another enterprise's licence, resized and
// re-encoded, or with bytes appended, is flagged to the reviewer with the
// original's document; a distinct licence of the same layout is not, and
// applicants never see the flag.
func TestNearDuplicatesFlagged(t *testing.T) {
	onShared(t)
	seed := uint64(time.Now().UnixNano())
	const w, h = 2000, 1500
	licence := doccheckfixtures.LicenceImage(seed, w, h)
	original := doccheckfixtures.EncodeJPEG(licence, 85)

	owner := newApp(t, "applicant", "")
	_, caseA := newDraft(t, owner, "wecom")
	first := owner.upload(caseA, "business_license", "image/jpeg", original)
	rev := newApp(t, "reviewer", "")

	copies := map[string][]byte{
		"resized 75% at quality 70": doccheckfixtures.EncodeJPEG(doccheckfixtures.Resize(licence, w*3/4, h*3/4), 70),
		"bytes appended":            append(bytes.Clone(original), "\r\nscanned-by-x"...),
		"margins trimmed":           doccheckfixtures.EncodeJPEG(doccheckfixtures.CropMargins(licence, 0.03), 90),
	}
	for name, data := range copies {
		t.Run(name, func(t *testing.T) {
			b := newApp(t, "applicant", "")
			_, caseB := newDraft(t, b, "wecom")
			d := b.upload(caseB, "business_license", "image/jpeg", data)
			if d["similarDocuments"] != nil || d["reviewNotes"] != nil {
				t.Fatal("the applicant sees the reviewer's flag")
			}
			seen := reviewedDocument(t, rev, caseB, d["id"].(string))
			similar, _ := seen["similarDocuments"].([]any)
			found := false
			for _, s := range similar {
				if m := s.(map[string]any); m["documentId"] == first["id"] && m["caseId"] == caseA {
					found = true
				}
			}
			notes, _ := seen["reviewNotes"].([]any)
			if !found || len(notes) == 0 || notes[len(notes)-1].(map[string]any)["code"] != "near_duplicate" {
				t.Fatalf("copy not flagged: similar %v, notes %v", similar, notes)
			}
		})
	}
	t.Run("distinct licence", func(t *testing.T) {
		c := newApp(t, "applicant", "")
		_, caseC := newDraft(t, c, "wecom")
		other := doccheckfixtures.EncodeJPEG(doccheckfixtures.LicenceImage(seed+1, w, h), 85)
		d := c.upload(caseC, "business_license", "image/jpeg", other)
		if seen := reviewedDocument(t, rev, caseC, d["id"].(string)); seen["similarDocuments"] != nil {
			t.Fatalf("a distinct licence is flagged: %v", seen["similarDocuments"])
		}
	})
	// The first upload is nobody's copy.
	if seen := reviewedDocument(t, rev, caseA, first["id"].(string)); seen["similarDocuments"] != nil {
		t.Fatalf("the original is flagged: %v", seen["similarDocuments"])
	}
}
