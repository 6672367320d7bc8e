package certsvc

import (
	"context"
	"time"

	"microcert/shared/domain"
)

// CaseInput opens a case.
type CaseInput struct {
	EnterpriseID string
	Kind         domain.CaseKind
	Types        []domain.CertType
	ViaAgent     bool
}

// CaseView is everything the case screen shows.
type CaseView struct {
	Case         *domain.Case
	Enterprise   *domain.Enterprise
	Documents    []domain.Document
	History      []domain.HistoryEntry
	Requirements domain.Requirements
	// Appeal is set on reviewers' and admins' views of an appeal.
	Appeal *domain.AppealContext
}

// OpenCase creates a draft case for one or more types with one fee.
func (s *Service) OpenCase(ctx context.Context, by domain.Actor, in CaseInput) (*CaseView, error) {
	var fields []domain.FieldError
	if !in.Kind.Valid() {
		fields = append(fields, domain.FieldError{Field: "kind", Code: "invalid_kind",
			Message: domain.Text{Zh: "kind 必须是 initial、annual_review、appeal 或 reinstatement。", En: "kind must be initial, annual_review, appeal or reinstatement."}})
	}
	types, typeErr := normalizeTypes(in.Types)
	fields = append(fields, typeErr...)
	if err := fieldsError(fields); err != nil {
		return nil, err
	}
	e, certs, err := s.ownedEnterprise(ctx, by, in.EnterpriseID)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	if err := domain.CanOpenCase(in.Kind, types, certs, now, s.rules); err != nil {
		return nil, err
	}
	c := &domain.Case{
		ID:           domain.NewID(),
		EnterpriseID: e.ID,
		OwnerID:      e.OwnerID,
		Kind:         in.Kind,
		Types:        types,
		ViaAgent:     in.ViaAgent,
		Status:       domain.CaseDraft,
		Version:      1,
		CreatedAt:    now,
		UpdatedAt:    now,
		Fee:          domain.FeeFor(in.Kind, e.Region(), s.rules),
	}
	h := domain.HistoryEntry{ID: domain.NewID(), At: now, ActorID: by.UserID, Role: by.MainRole(), Subject: "case", To: string(domain.CaseDraft)}
	ch := &domain.Change{
		Cases:   []domain.CaseWrite{{Case: c, Create: true}},
		History: []domain.HistoryRecord{{CaseID: c.ID, Entry: h}},
	}
	if err := s.store.Commit(ctx, ch); err != nil {
		return nil, err
	}
	return s.view(c, e, nil, []domain.HistoryEntry{h}), nil
}

func normalizeTypes(in []domain.CertType) ([]domain.CertType, []domain.FieldError) {
	bad := []domain.FieldError{{Field: "types", Code: "invalid_types",
		Message: domain.Text{Zh: "types 应为 wecom、official_account、mini_program 中的一个或多个，且不重复。",
			En: "types must list one or more of wecom, official_account, mini_program, without repeats."}}}
	if len(in) == 0 || len(in) > len(domain.CertTypes) {
		return nil, bad
	}
	seen := map[domain.CertType]bool{}
	for _, t := range in {
		if !t.Valid() || seen[t] {
			return nil, bad
		}
		seen[t] = true
	}
	// Stable order regardless of how the app listed them.
	var out []domain.CertType
	for _, t := range domain.CertTypes {
		if seen[t] {
			out = append(out, t)
		}
	}
	return out, nil
}

// GetCase returns the case view for its owner, reviewers and admins.
func (s *Service) GetCase(ctx context.Context, by domain.Actor, id string) (*CaseView, error) {
	b, e, err := s.bundleFor(ctx, by, id)
	if err != nil {
		return nil, err
	}
	return s.withStaffContext(ctx, by, s.view(b.Case, e, b.Documents, b.History))
}

// bundleFor reads a case the caller may see (two reads: bundle, profile).
func (s *Service) bundleFor(ctx context.Context, by domain.Actor, id string) (*domain.CaseBundle, *domain.Enterprise, error) {
	if !domain.ValidID(id) {
		return nil, nil, domain.ErrNotFound
	}
	b, err := s.store.GetCaseBundle(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if b.Case.OwnerID != by.UserID && !by.CanReview() {
		return nil, nil, domain.ErrNotFound
	}
	e, _, err := s.store.GetEnterprise(ctx, b.Case.EnterpriseID)
	if err != nil {
		return nil, nil, err
	}
	return b, e, nil
}

// ownedBundle is bundleFor restricted to the applicant who owns the case.
func (s *Service) ownedBundle(ctx context.Context, by domain.Actor, id string) (*domain.CaseBundle, *domain.Enterprise, error) {
	b, e, err := s.bundleFor(ctx, by, id)
	if err != nil {
		return nil, nil, err
	}
	if b.Case.OwnerID != by.UserID {
		return nil, nil, domain.ErrForbidden
	}
	return b, e, nil
}

func (s *Service) view(c *domain.Case, e *domain.Enterprise, docs []domain.Document, hist []domain.HistoryEntry) *CaseView {
	if docs == nil {
		docs = []domain.Document{}
	}
	if hist == nil {
		hist = []domain.HistoryEntry{}
	}
	return &CaseView{
		Case: c, Enterprise: e, Documents: docs, History: hist,
		Requirements: domain.ComputeRequirements(e, c, docs, s.clock.Now(), s.rules),
	}
}

// editable reports whether the applicant may still change the case.
func editable(c *domain.Case) error {
	if c.Status == domain.CaseDraft || c.Status == domain.CaseChangesRequested {
		return nil
	}
	return domain.E(domain.KindConflict, "case_not_editable",
		"案件已提交或已结束，不能再修改。", "The case is submitted or closed and can no longer be changed.").With("caseStatus", string(c.Status))
}

// Submit sends the case to review once nothing is due.
func (s *Service) Submit(ctx context.Context, by domain.Actor, id string) (*CaseView, error) {
	b, e, err := s.ownedBundle(ctx, by, id)
	if err != nil {
		return nil, err
	}
	c := b.Case
	if c.Status == domain.CaseSubmitted {
		// A retried submit of an already submitted case is not an error.
		return s.view(c, e, b.Documents, b.History), nil
	}
	if err := editable(c); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	req := domain.ComputeRequirements(e, c, b.Documents, now, s.rules)
	if !req.Satisfied() {
		return nil, domain.E(domain.KindConflict, "requirements_unmet",
			"仍有未完成的认证要求，请补齐后再提交。", "Some requirements are still open; complete them before submitting.").
			With("requirements", LocalizedRequirements(req))
	}
	next := *c
	cal := s.Calendar(ctx)
	h, err := next.Submit(by, now, s.rules, cal)
	if err != nil {
		return nil, err
	}
	if next.ReviewDueProvisional() {
		_, last := cal.Range()
		s.log.Warn("review deadline is provisional: the working-day calendar ends before it", "alarm", "calendar_horizon",
			"case", c.ID, "calendarLastDay", last.Format(time.DateOnly), "calendarSource", cal.Source())
	}
	ch := &domain.Change{
		History: []domain.HistoryRecord{{CaseID: c.ID, Entry: h}},
	}
	if err := s.saveCase(ctx, c, &next, now, ch); err != nil {
		return nil, err
	}
	return s.view(&next, e, b.Documents, append(b.History, h)), nil
}

// Withdraw backs out before a decision. A paid case nobody has claimed yet
// is marked for refund (the fee pays for a review that never started).
func (s *Service) Withdraw(ctx context.Context, by domain.Actor, id string) (*CaseView, error) {
	b, e, err := s.ownedBundle(ctx, by, id)
	if err != nil {
		return nil, err
	}
	c := b.Case
	if c.Status == domain.CaseWithdrawn {
		return s.view(c, e, b.Documents, b.History), nil
	}
	now := s.clock.Now()
	next := *c
	h, err := next.Withdraw(by, now, "")
	if err != nil {
		return nil, err
	}
	ch := &domain.Change{
		History: []domain.HistoryRecord{{CaseID: c.ID, Entry: h}},
	}
	s.expireDocuments(ch, &next, b.Documents)
	if err := s.saveCase(ctx, c, &next, now, ch); err != nil {
		return nil, err
	}
	return s.view(&next, e, b.Documents, append(b.History, h)), nil
}

// expireDocuments schedules the documents of a case that just closed for
// deletion after the retention period (PIPL: identity documents are kept no
// longer than needed): the items get a TTL, and at the same time the expiry
// job tags the objects for the bucket's lifecycle rule.
func (s *Service) expireDocuments(ch *domain.Change, closed *domain.Case, docs []domain.Document) {
	at := closed.RetentionEndsAt(s.rules)
	if at == nil {
		return
	}
	closed.DocumentsExpireAt = at
	for i := range docs {
		d := docs[i]
		ch.Documents = append(ch.Documents, domain.DocumentWrite{Document: &d, ExpireAt: at})
	}
}
