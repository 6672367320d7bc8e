package certsvc

import (
	"context"
	"strings"
	"time"

	"microcert/shared/blob"
	"microcert/shared/doccheck"
	"microcert/shared/domain"
)

// Upload windows and limits.
const (
	// uploadTTL is how long a presigned POST is good for: long enough to
	// send 10 MB from a phone on a slow network, short enough that a form
	// kept around is of no use later (and once the case is submitted, an
	// upload changes nothing anyway: see uploadcheck's late uploads).
	uploadTTL       = 5 * time.Minute
	downloadTTL     = 5 * time.Minute
	maxDocsPerCase  = 40 // keeps every case's writes within one transaction
	maxDocsPerType  = 10
	documentAudited = "document.download"
)

// UploadInput asks for a presigned upload.
type UploadInput struct {
	DocType       domain.DocType
	ContentType   string
	ContentLength int64
}

// Upload is a pending document and the presigned POST to send it with.
type Upload struct {
	Document *domain.Document
	Post     blob.PresignedPost
	MaxBytes int64
}

// RequestUpload registers a pending document and returns a presigned POST
// pinned to its server-generated key, the declared content type and the
// type's size limit.
func (s *Service) RequestUpload(ctx context.Context, by domain.Actor, caseID string, in UploadInput) (*Upload, error) {
	b, st, err := s.readCase(ctx, by, caseID, byOwner)
	if err != nil {
		return nil, err
	}
	c := b.Case
	e := domain.CaseRequirementsEnterprise(st, c)
	now := s.clock.Now()
	spec := doccheck.SpecFor(in.DocType)
	known := spec.Known()
	var fields []domain.FieldError
	switch {
	case !known:
		fields = append(fields, domain.FieldError{Field: "docType", Code: "invalid_doc_type",
			Message: domain.Text{Zh: "未知的材料类型。", En: "Unknown document type."}})
	case !requiresItem(e, c, string(in.DocType)):
		fields = append(fields, domain.FieldError{Field: "docType", Code: "doc_type_not_required",
			Message: domain.Text{Zh: "本案件不需要此类材料。", En: "This case does not need this document type."}})
	}
	ct := strings.ToLower(strings.TrimSpace(in.ContentType))
	if known && !contains(spec.ContentTypes, ct) {
		fields = append(fields, domain.FieldError{Field: "contentType", Code: "unsupported_content_type",
			Message: domain.Text{Zh: "不支持的文件类型，允许：" + strings.Join(spec.ContentTypes, ", "),
				En: "Unsupported file type; allowed: " + strings.Join(spec.ContentTypes, ", ")}})
	}
	if in.ContentLength < 1 || (known && in.ContentLength > spec.MaxBytes) {
		fields = append(fields, domain.FieldError{Field: "contentLength", Code: "file_too_large",
			Message: domain.Text{Zh: "文件大小超出限制。", En: "The file is larger than allowed for this document type."}})
	}
	if err := fieldsError(fields); err != nil {
		return nil, err
	}
	if err := editable(c); err != nil {
		return nil, err
	}
	if !c.AcceptsUpload(in.DocType) {
		return nil, domain.E(domain.KindConflict, "document_frozen",
			"审核员未要求重新提交此材料，已提交的材料不能更换。", "The reviewer did not ask for this document again; submitted documents cannot be replaced.").
			With("docType", string(in.DocType))
	}
	perType := 0
	for _, d := range b.Documents {
		if d.DocType == in.DocType {
			perType++
		}
	}
	if len(b.Documents) >= maxDocsPerCase || perType >= maxDocsPerType {
		// A limit of the case, not a rate: retrying never helps, so it is a
		// conflict (409), not 429, which clients retry.
		return nil, domain.E(domain.KindConflict, "too_many_documents",
			"本案件上传次数过多。", "Too many uploads for this case.")
	}
	d := &domain.Document{
		ID:            domain.NewID(),
		CaseID:        c.ID,
		EnterpriseID:  c.EnterpriseID,
		OwnerID:       c.OwnerID,
		DocType:       in.DocType,
		ContentType:   ct,
		ContentLength: in.ContentLength,
		Status:        domain.DocPending,
		CreatedAt:     now,
	}
	post, err := s.blob.PresignUpload(ctx, d.Key(), ct, spec.MaxBytes, uploadTTL)
	if err != nil {
		return nil, err
	}
	if err := s.store.Commit(ctx, &domain.Change{Documents: []domain.DocumentWrite{{Document: d, Create: true}}}); err != nil {
		return nil, err
	}
	return &Upload{Document: d, Post: post, MaxBytes: spec.MaxBytes}, nil
}

// ListDocuments returns the case's documents with their check results.
func (s *Service) ListDocuments(ctx context.Context, by domain.Actor, caseID string) ([]domain.Document, error) {
	b, _, err := s.bundleFor(ctx, by, caseID)
	if err != nil {
		return nil, err
	}
	if b.Documents == nil {
		return []domain.Document{}, nil
	}
	return b.Documents, nil
}

// Download is a short-lived link to a document.
type Download struct {
	URL       string
	ExpiresAt time.Time
	Document  *domain.Document
}

// DownloadDocument issues a presigned GET for the owner, reviewers and
// admins, and records who downloaded what and when before handing it out.
// It serves the checked copy (CheckedKey): exactly the bytes the stored
// result is about, whatever was posted to the upload key since. A document
// whose upload was never read has none (409 document_not_checked).
func (s *Service) DownloadDocument(ctx context.Context, by domain.Actor, docID string) (*Download, error) {
	if !domain.ValidID(docID) {
		return nil, domain.ErrNotFound
	}
	d, err := s.store.FindDocument(ctx, docID)
	if err != nil {
		return nil, err
	}
	if d.OwnerID != by.UserID && !by.CanReview() {
		return nil, domain.ErrNotFound
	}
	if d.CheckedKey == "" {
		return nil, domain.E(domain.KindConflict, "document_not_checked",
			"该材料尚未通过读取检查，没有可供查看的文件。", "This document has not been read by the check yet; there is no file to show.").
			With("status", string(d.Status))
	}
	now := s.clock.Now()
	url, err := s.blob.PresignDownload(ctx, d.CheckedKey, downloadTTL)
	if err != nil {
		return nil, err
	}
	audit := domain.AuditEntry{ID: domain.NewID(), At: now, ActorID: by.UserID, Role: by.MainRole(),
		Action: documentAudited, DocumentID: d.ID, CaseID: d.CaseID}
	if err := s.store.Commit(ctx, &domain.Change{Audits: []domain.AuditEntry{audit}}); err != nil {
		return nil, err
	}
	return &Download{URL: url, ExpiresAt: now.Add(downloadTTL), Document: d}, nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
