package certsvc_test

import (
	"strings"
	"testing"
	"time"

	"microcert/shared/certsvc"
	"microcert/shared/domain"
)

// TestUploadsOnlyWhileDocumentsCanChange: once submitted, a case takes no
// upload; sent back, it takes uploads of the documents the request names
// and of no other.
func TestUploadsOnlyWhileDocumentsCanChange(t *testing.T) {
	e := newRvEnv(t, rvBeijing(2026, 11, 2, 10, 0), nil)
	ent := e.enterprise()
	c := e.submitted(ent.ID, domain.KindInitial, domain.CertWeCom)
	upload := func(t domain.DocType) error {
		_, err := e.svc.RequestUpload(rvCtx, rvApplicant, c.ID, certsvc.UploadInput{DocType: t, ContentType: "image/jpeg", ContentLength: 1000})
		return err
	}
	wantCode(t, upload(domain.DocBusinessLicense), "case_not_editable")
	e.decide(rvReviewerA, c.ID, domain.DecisionRequestChanges, e.claim(rvReviewerA, c.ID), domain.ReasonDocumentUnclear)
	if err := upload(domain.DocBusinessLicense); err != nil {
		t.Fatalf("the document the reviewer asked for: %v", err)
	}
	wantCode(t, upload(domain.DocLegalRepIDFront), "document_frozen")
}

// TestDownloadServesTheCheckedCopy: the link is for the copy the check
// recorded, never the upload key a form can overwrite; before a check has
// read the upload there is nothing to serve.
func TestDownloadServesTheCheckedCopy(t *testing.T) {
	e := newRvEnv(t, rvBeijing(2026, 11, 2, 10, 0), nil)
	ent := e.enterprise()
	c := e.submitted(ent.ID, domain.KindInitial, domain.CertWeCom)
	b, err := e.st.GetCaseBundle(rvCtx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	doc := b.Documents[0]
	_, err = e.svc.DownloadDocument(rvCtx, rvReviewerA, doc.ID)
	wantCode(t, err, "document_not_checked")

	checked := doc
	checked.Sequencer = "0000000000000000000000000000000A"
	checked.CheckedKey = domain.CheckedKey(c.ID, doc.ID, checked.Sequencer)
	at := e.clock.Now().Add(time.Minute)
	checked.CheckedAt = &at
	if err := e.st.Commit(rvCtx, &domain.Change{Documents: []domain.DocumentWrite{{Document: &checked, CheckResult: true}}}); err != nil {
		t.Fatal(err)
	}
	dl, err := e.svc.DownloadDocument(rvCtx, rvReviewerA, doc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dl.URL, "/"+checked.CheckedKey) || strings.Contains(dl.URL, domain.UploadPrefix) {
		t.Errorf("download link %s, want the checked copy %s", dl.URL, checked.CheckedKey)
	}
}
