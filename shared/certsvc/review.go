package certsvc

import (
	"context"
	"strings"
	"time"

	"microcert/shared/domain"
)

// QueueItem is one case of the reviewers' queue with where it stands
// against its review deadline.
type QueueItem struct {
	Case               domain.Case
	SLAState           string // domain.SLAOnTime, SLADueToday, SLAOverdue
	OverdueWorkingDays int
}

// ListQueue pages the reviewers' queue: submitted and in-review cases
// (appeals included), earliest reviewDueAt first, read from the queue
// index (never a Scan). Reviewers and admins only.
func (s *Service) ListQueue(ctx context.Context, by domain.Actor, p domain.Page) ([]QueueItem, string, error) {
	if !by.CanReview() {
		return nil, "", domain.ErrForbidden
	}
	cases, next, err := s.store.ListQueue(ctx, p)
	if err != nil {
		return nil, "", err
	}
	now := s.clock.Now()
	cal := s.Calendar(ctx)
	out := make([]QueueItem, 0, len(cases))
	for _, c := range cases {
		it := QueueItem{Case: c, SLAState: domain.SLAOnTime}
		if c.ReviewDueAt != nil {
			it.SLAState, it.OverdueWorkingDays = cal.SLAState(*c.ReviewDueAt, now)
		}
		out = append(out, it)
	}
	return out, next, nil
}

// errCaseClaimed: another reviewer's unexpired claim holds the case.
func errCaseClaimed(cl *domain.Claim) error {
	return domain.E(domain.KindConflict, "case_claimed",
		"该案件已被其他审核员领取，领取到期前不能操作。",
		"Another reviewer holds this case; it is available again when their claim expires.").
		With("claimExpiresAt", cl.ExpiresAt.UTC())
}

// errClaimRequired: deciding a case nobody (or nobody any more) holds.
var errClaimRequired = domain.E(domain.KindConflict, "claim_required",
	"请先领取该案件（或领取已过期，请重新领取）再做审核决定。",
	"Claim the case first (or your claim expired: claim it again) before deciding.")

// errOwnCase: a reviewer may not review an enterprise they applied for.
var errOwnCase = domain.E(domain.KindForbidden, "own_case",
	"不能审核自己提交的申请。", "You cannot review an application you filed yourself.")

// Claim takes a case for review: submitted -> in_review, with a claim that
// holds for rules.ClaimTTL. While another reviewer's claim has not expired
// the answer is 409 case_claimed (with claimExpiresAt); a claim whose time
// has passed can be taken by anyone at once; the holder claiming again
// extends the claim. The write is conditional on the version read, so of
// two racing claims exactly one wins.
func (s *Service) Claim(ctx context.Context, by domain.Actor, caseID string) (*CaseView, error) {
	if !by.CanReview() {
		return nil, domain.ErrForbidden
	}
	b, e, err := s.bundleFor(ctx, by, caseID)
	if err != nil {
		return nil, err
	}
	c := b.Case
	if c.OwnerID == by.UserID {
		return nil, errOwnCase
	}
	now := s.clock.Now()
	next := *c
	var hist []domain.HistoryRecord
	switch {
	case c.Status == domain.CaseSubmitted:
		h, err := next.TransitionWith(s.rules, domain.CaseInReview, by, now, nil, "")
		if err != nil {
			return nil, err
		}
		hist = append(hist, domain.HistoryRecord{CaseID: c.ID, Entry: h})
	case c.Status == domain.CaseInReview && c.ClaimActive(now) && c.Claim.ReviewerID != by.UserID:
		return nil, errCaseClaimed(c.Claim)
	case c.Status == domain.CaseInReview && c.ClaimActive(now):
		// The holder refreshes the claim: no transition, no history.
		next.UpdatedAt = now
	case c.Status == domain.CaseInReview:
		// The claim expired: taken over at once. Still in review, but who
		// holds it changed, which the audit trail records.
		prev := ""
		if c.Claim != nil {
			prev = c.Claim.ReviewerID
		}
		next.UpdatedAt = now
		hist = append(hist, domain.HistoryRecord{CaseID: c.ID, Entry: domain.HistoryEntry{
			ID: domain.NewIDAt(now), At: now, ActorID: by.UserID, Role: by.MainRole(), Subject: "case",
			From: string(domain.CaseInReview), To: string(domain.CaseInReview),
			Reasons: []string{"claim_expired"}, Note: strings.TrimSpace("previous claim: " + prev),
		}})
	default:
		return nil, domain.ErrInvalidTransition(string(c.Status), string(domain.CaseInReview))
	}
	next.Claim = &domain.Claim{ReviewerID: by.UserID, ClaimedAt: now, ExpiresAt: now.Add(s.rules.ClaimTTL)}
	if err := s.saveCase(ctx, c, &next, now, &domain.Change{History: hist}); err != nil {
		if domain.CodeOf(err) == domain.ErrVersionConflict.Code {
			// Someone else wrote first: if that was a claim, say so.
			if cur, gerr := s.store.GetCase(ctx, c.ID); gerr == nil && cur.ClaimActive(now) && cur.Claim.ReviewerID != by.UserID {
				return nil, errCaseClaimed(cur.Claim)
			}
		}
		return nil, err
	}
	return s.withStaffContext(ctx, by, s.view(&next, e, b.Documents, appendHistory(b.History, hist)))
}

// DecisionInput is a reviewer's decision as sent.
type DecisionInput struct {
	Decision domain.DecisionKind
	Reasons  []string
	Note     string
	// Version is the case version the reviewer read; it must still be the
	// stored one.
	Version int
}

// DecisionResult is the case after the decision and the certifications it
// created or extended (approvals only).
type DecisionResult struct {
	View           *CaseView
	Certifications []domain.Certification
}

// Decide records a reviewer's decision. Only the reviewer whose claim still
// holds decides (409 claim_required when nobody holds it or the claim
// expired, 409 case_claimed when someone else does); version must be the
// stored one (409 version_conflict). Every write of the decision goes into
// one Change, committed in one transaction under the case's version:
//   - the case (status, LastDecision, claim released; out of the queue);
//   - on approval, one certification per type of the case, created or
//     extended by domain.ApproveCertification under its own version;
//   - the case's history entry and one per certification;
//   - the applicant's notification with the reasons in plain zh/en;
//   - on rejection, the documents' retention expiry.
//
// So there is no state where the case is approved but a certificate is
// missing, and of two racing decisions exactly one commits.
func (s *Service) Decide(ctx context.Context, by domain.Actor, caseID string, in DecisionInput) (*DecisionResult, error) {
	if !by.CanReview() {
		return nil, domain.ErrForbidden
	}
	in.Note = strings.TrimSpace(in.Note)
	if fields := domain.ValidateDecision(in.Decision, in.Reasons, in.Note); len(fields) > 0 {
		return nil, fieldsError(fields)
	}
	if !domain.ValidID(caseID) {
		return nil, domain.ErrNotFound
	}
	b, err := s.store.GetCaseBundle(ctx, caseID)
	if err != nil {
		return nil, err
	}
	c := b.Case
	if c.OwnerID == by.UserID {
		return nil, errOwnCase
	}
	e, certs, err := s.store.GetEnterprise(ctx, c.EnterpriseID)
	if err != nil {
		return nil, err
	}
	if in.Version != c.Version {
		return nil, domain.ErrVersionConflict.With("currentVersion", c.Version)
	}
	now := s.clock.Now()
	switch {
	case c.Status.Final() || c.Status == domain.CaseChangesRequested || c.Status == domain.CaseDraft:
		return nil, domain.ErrInvalidTransition(string(c.Status), string(in.Decision.Target()))
	case !c.ClaimActive(now):
		return nil, errClaimRequired
	case c.Claim.ReviewerID != by.UserID:
		return nil, errCaseClaimed(c.Claim)
	}

	next := *c
	h, err := next.TransitionWith(s.rules, in.Decision.Target(), by, now, in.Reasons, in.Note)
	if err != nil {
		return nil, err
	}
	decision := domain.Decision{Decision: in.Decision, Reasons: append([]string(nil), in.Reasons...), Note: in.Note,
		ReviewerID: by.UserID, At: now}
	next.LastDecision = &decision
	next.Claim = nil // released: the decision records who reviewed
	ch := &domain.Change{History: []domain.HistoryRecord{{CaseID: c.ID, Entry: h}}}

	var made []domain.Certification
	switch in.Decision {
	case domain.DecisionApprove:
		if made, err = s.approveCertifications(ch, c, certs, now); err != nil {
			return nil, err
		}
	case domain.DecisionReject:
		s.expireDocuments(ch, &next, b.Documents)
	}
	title, body := domain.DecisionNotice(&next, decision, made, s.rules.MaxChangeRequests)
	ch.Notifications = append(ch.Notifications, domain.Notification{ID: domain.NewIDAt(now), EnterpriseID: c.EnterpriseID,
		Kind: domain.NoticeDecision, CaseID: c.ID, Title: title, Body: body, CreatedAt: now})

	if err := s.saveCase(ctx, c, &next, now, ch); err != nil {
		return nil, err
	}
	return &DecisionResult{
		View:           s.view(&next, e, b.Documents, appendHistory(b.History, ch.History)),
		Certifications: made,
	}, nil
}

// approveCertifications adds to ch the certification writes and history
// entries of an approved case: one certification per type, each written
// under the version read (or created if the type was never held), so a
// concurrent cancel or revoke makes the whole decision fail rather than be
// overwritten.
func (s *Service) approveCertifications(ch *domain.Change, c *domain.Case, certs []domain.Certification, now time.Time) ([]domain.Certification, error) {
	var made []domain.Certification
	for _, t := range c.Types {
		var existing *domain.Certification
		for i := range certs {
			if certs[i].Type == t {
				existing = &certs[i]
			}
		}
		cert, h, err := domain.ApproveCertification(existing, c.EnterpriseID, t, c.Kind, c.ID, now)
		if err != nil {
			return nil, err
		}
		cert.RemindAt = cert.NextReminderAt(now, s.rules, nil)
		w := domain.CertificationWrite{Certification: &cert}
		if existing == nil {
			cert.Version, w.Create = 1, true
		} else {
			cert.Version, w.ExpectVersion = existing.Version+1, existing.Version
		}
		ch.Certifications = append(ch.Certifications, w)
		// The certification's own trail (under the enterprise) and the
		// same entry in the case's history, so the case view shows what
		// the approval did to each certificate.
		ch.History = append(ch.History, domain.HistoryRecord{EnterpriseID: c.EnterpriseID, Entry: h},
			domain.HistoryRecord{CaseID: c.ID, Entry: h})
		made = append(made, cert)
	}
	return made, nil
}

// appendHistory adds the case's new history entries (not the
// certifications') to what the view shows.
func appendHistory(hist []domain.HistoryEntry, recs []domain.HistoryRecord) []domain.HistoryEntry {
	out := append([]domain.HistoryEntry(nil), hist...)
	for _, r := range recs {
		if r.CaseID != "" {
			out = append(out, r.Entry)
		}
	}
	return out
}
