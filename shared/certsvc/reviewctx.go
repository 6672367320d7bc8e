package certsvc

import (
	"context"
	"time"

	"microcert/shared/domain"
)

// What reviewers see beyond what applicants see: the legal representative's
// identifiers in the clear (on request, audited) and, on an appeal, the
// revocation under appeal and the enterprise's earlier violations.

// legalRepRevealed is the audit action of a reveal.
const legalRepRevealed = "legal_rep.reveal"

// LegalRepReveal is the legal representative of a case's enterprise with
// the ID number and phone unmasked.
type LegalRepReveal struct {
	CaseID       string
	EnterpriseID string
	LegalRep     domain.LegalRep
	RevealedAt   time.Time
}

// RevealLegalRep hands the reviewer who holds a case's claim the legal
// representative's full ID number and phone, to compare with the ID card
// images: responses mask them everywhere else. Each reveal is recorded
// (who, when, which case) before anything is returned, like a document
// download. Only the claim's holder may reveal: an unclaimed or expired
// case is 409 claim_required, another reviewer's 409 case_claimed, the
// case of an enterprise the reviewer is a member of (or opened) 403
// own_case; applicants are forbidden.
func (s *Service) RevealLegalRep(ctx context.Context, by domain.Actor, caseID string) (*LegalRepReveal, error) {
	if !by.CanReview() {
		return nil, domain.ErrForbidden
	}
	if !domain.ValidID(caseID) {
		return nil, domain.ErrNotFound
	}
	c, err := s.store.GetCase(ctx, caseID)
	if err != nil {
		return nil, err
	}
	st, err := s.store.GetEnterpriseState(ctx, c.EnterpriseID)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	switch {
	case c.OpenedBy == by.UserID || st.Member(by.UserID) != nil:
		return nil, errOwnCase
	case !c.ClaimActive(now):
		return nil, errClaimRequired
	case c.Claim.ReviewerID != by.UserID:
		return nil, errCaseClaimed(c.Claim)
	}
	audit := domain.AuditEntry{ID: domain.NewIDAt(now), At: now, ActorID: by.UserID, Role: by.MainRole(),
		Action: legalRepRevealed, CaseID: c.ID}
	if err := s.store.Commit(ctx, &domain.Change{Audits: []domain.AuditEntry{audit}}); err != nil {
		return nil, err
	}
	return &LegalRepReveal{CaseID: c.ID, EnterpriseID: st.Enterprise.ID, LegalRep: st.Enterprise.LegalRep, RevealedAt: now}, nil
}

// withStaffContext adds to a reviewer's or admin's view of an appeal what
// the decision turns on: the revocations under appeal (reason, severity)
// and the enterprise's earlier violations, from its certification history
// (one more Query, for staff views of appeals only). Applicants' views are
// returned as they are.
func (s *Service) withStaffContext(ctx context.Context, by domain.Actor, v *CaseView) (*CaseView, error) {
	if !by.CanReview() || v.Case.Kind != domain.KindAppeal {
		return v, nil
	}
	hist, err := s.store.EnterpriseHistory(ctx, v.Case.EnterpriseID)
	if err != nil {
		return nil, err
	}
	v.Appeal = domain.AppealContextFor(v.Case, hist)
	return v, nil
}
