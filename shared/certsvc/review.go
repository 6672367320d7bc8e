package certsvc

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

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
	cy, err := s.writeCase(ctx, by, caseID, asReviewer, nil, func(cy *caseCycle) error {
		c := cy.Prev
		now := cy.Now
		switch {
		case c.Status == domain.CaseSubmitted:
			h, err := cy.Next.Transition(s.rules, domain.CaseInReview, by, now, nil, "")
			if err != nil {
				return err
			}
			cy.Change.History = append(cy.Change.History, domain.HistoryRecord{CaseID: c.ID, Entry: h})
		case c.Status == domain.CaseInReview && c.ClaimActive(now) && c.Claim.ReviewerID != by.UserID:
			return errCaseClaimed(c.Claim)
		case c.Status == domain.CaseInReview && c.ClaimActive(now):
			// The holder refreshes the claim: no transition, no history.
		case c.Status == domain.CaseInReview:
			// The claim expired: taken over at once. Still in review, but
			// who holds it changed, which the audit trail records.
			prev := ""
			if c.Claim != nil {
				prev = c.Claim.ReviewerID
			}
			cy.Change.History = append(cy.Change.History, domain.HistoryRecord{CaseID: c.ID, Entry: domain.NewHistoryEntry("case",
				string(domain.CaseInReview), string(domain.CaseInReview), by, now, []string{"claim_expired"},
				strings.TrimSpace("previous claim: "+prev))})
		default:
			return domain.ErrInvalidTransition(string(c.Status), string(domain.CaseInReview))
		}
		cy.Next.Claim = &domain.Claim{ReviewerID: by.UserID, ClaimedAt: now, ExpiresAt: now.Add(s.rules.ClaimTTL)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.withStaffContext(ctx, by, s.cycleView(cy))
}

// DecisionInput is a reviewer's decision as sent.
type DecisionInput struct {
	Decision domain.DecisionKind
	Reasons  []string
	Note     string
	// Redo names what a request for changes sends back (required with
	// request_changes): each a requirement of the case with a reason.
	Redo []RedoInput
	// Version is the case version the reviewer read; it must still be the
	// stored one.
	Version int
}

// RedoInput is one requirement a reviewer sends back.
type RedoInput struct {
	Requirement string
	Reason      string
	Note        string
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
// stored one (409 version_conflict: the reviewer decided on what they
// read). Every write of the decision goes into one Change, committed in one
// transaction under the case's version:
//   - the case (status, LastDecision, claim released; out of the queue;
//     its open-case slots released when the decision closes it);
//   - on approval, one certification per type of the case, created or
//     extended by domain.ApproveCertification under its own version, or
//     for a change case the profile with its new values;
//   - the case's history entry and one per certification;
//   - the applicant's notification with the reasons in plain zh/en;
//   - on rejection, the documents' retention expiry.
//
// Approval is decided against the facts at decision time: the requirements
// are derived again from what the decision read, and anything due (a
// document whose check failed or that changed since submission, a
// verification that lost its binding) blocks it with 409
// requirements_unmet. A request for changes names what to redo; those
// items become due again, and the applicant cannot resubmit before doing
// them.
func (s *Service) Decide(ctx context.Context, by domain.Actor, caseID string, in DecisionInput) (*DecisionResult, error) {
	if !by.CanReview() {
		return nil, domain.ErrForbidden
	}
	in.Note = strings.TrimSpace(in.Note)
	if in.Decision == domain.DecisionRequestChanges && len(in.Redo) == 0 {
		// What to redo is the first thing a request for changes needs;
		// its reasons follow from it.
		return nil, fieldsError(validateRedo(in.Decision, in.Redo))
	}
	if in.Decision == domain.DecisionRequestChanges && len(in.Reasons) == 0 {
		in.Reasons = redoReasons(in.Redo)
	}
	fields := domain.ValidateDecision(in.Decision, in.Reasons, in.Note)
	fields = append(fields, validateRedo(in.Decision, in.Redo)...)
	if len(fields) > 0 {
		return nil, fieldsError(fields)
	}
	var made []domain.Certification
	cy, err := s.writeCase(ctx, by, caseID, asReviewer, &in.Version, func(cy *caseCycle) error {
		c := cy.Prev
		now := cy.Now
		switch {
		case c.Status.Final() || c.Status == domain.CaseChangesRequested || c.Status == domain.CaseDraft:
			return domain.ErrInvalidTransition(string(c.Status), string(in.Decision.Target()))
		case !c.ClaimActive(now):
			return errClaimRequired
		case c.Claim.ReviewerID != by.UserID:
			return errCaseClaimed(c.Claim)
		}
		next := cy.Next
		h, err := next.Transition(s.rules, in.Decision.Target(), by, now, in.Reasons, in.Note)
		if err != nil {
			return err
		}
		decision := domain.Decision{Decision: in.Decision, Reasons: append([]string(nil), in.Reasons...), Note: in.Note,
			ReviewerID: by.UserID, At: now}
		next.LastDecision = &decision
		next.Claim = nil // released: the decision records who reviewed
		cy.Change.History = append(cy.Change.History, domain.HistoryRecord{CaseID: c.ID, Entry: h})
		made = nil
		switch in.Decision {
		case domain.DecisionApprove:
			if req := domain.CaseRequirements(cy.State, c, cy.Bundle.Documents, now, s.rules); !req.Satisfied() {
				return errRequirementsUnmet(req)
			}
			switch c.Kind {
			case domain.KindChange:
				s.applyChange(cy, by)
			case domain.KindDispute:
				if err := s.winDispute(ctx, cy); err != nil {
					return err
				}
			default:
				if made, err = s.approveCertifications(&cy.Change, c, cy.State.Certifications, now); err != nil {
					return err
				}
			}
		case domain.DecisionRequestChanges:
			req := domain.RequiredItems(c, domain.CaseRequirementsEnterprise(cy.State, c).HasCorporateAccount, c.Fee.PayableFen)
			next.Redo = nil
			for i, it := range in.Redo {
				if !contains(req, it.Requirement) {
					return fieldsError([]domain.FieldError{{Field: fmt.Sprintf("redo[%d].requirement", i), Code: "requirement_not_in_case",
						Message: domain.Text{Zh: "该案件没有此项要求：" + it.Requirement, En: "The case has no requirement " + it.Requirement + "."}}})
				}
				next.Redo = append(next.Redo, domain.RedoItem{Requirement: it.Requirement, Reason: it.Reason, Note: strings.TrimSpace(it.Note), Since: now})
			}
		case domain.DecisionReject:
			s.expireDocuments(&cy.Change, next, cy.Bundle.Documents)
		}
		title, body := domain.DecisionNotice(next, decision, made, s.rules.MaxChangeRequests)
		cy.Change.Notifications = append(cy.Change.Notifications, domain.Notification{ID: domain.NewIDAt(now), EnterpriseID: c.EnterpriseID,
			Kind: domain.NoticeDecision, CaseID: c.ID, Title: title, Body: body, CreatedAt: now,
			Subject: domain.NoticeSubject{CaseID: c.ID, CaseKind: c.Kind, CaseStatus: next.Status, Decision: decision.Decision}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	view := s.cycleView(cy)
	if in.Decision == domain.DecisionApprove && (cy.Prev.Kind == domain.KindChange || cy.Prev.Kind == domain.KindDispute) && len(cy.Change.Enterprises) > 0 {
		view.Enterprise = cy.Change.Enterprises[0].Enterprise
	}
	return &DecisionResult{View: view, Certifications: made}, nil
}

// applyChange adds to the cycle the profile write of an approved change
// case: the new values, under the profile's version, with an entry in the
// enterprise's history.
func (s *Service) applyChange(cy *caseCycle, by domain.Actor) {
	e := cy.State.Enterprise
	next := cy.Prev.Change.Apply(*e)
	cy.Change.Enterprises = append(cy.Change.Enterprises, domain.UpdateEnterprise(e, &next, cy.Now))
	cy.Change.History = append(cy.Change.History, domain.HistoryRecord{EnterpriseID: e.ID,
		Entry: domain.NewHistoryEntry("profile", "", "changed", by, cy.Now, nil, "change case "+cy.Prev.ID)})
}

// redoReasons are the distinct reasons of the redo items, in order.
func redoReasons(items []RedoInput) []string {
	var out []string
	for _, it := range items {
		if !contains(out, it.Reason) {
			out = append(out, it.Reason)
		}
	}
	return out
}

// validateRedo checks the redo items: required with request_changes and
// only there; known reasons; no requirement twice; notes within bounds.
func validateRedo(d domain.DecisionKind, items []RedoInput) []domain.FieldError {
	var out []domain.FieldError
	switch {
	case d == domain.DecisionRequestChanges && len(items) == 0:
		return []domain.FieldError{{Field: "redo", Code: "redo_required",
			Message: domain.Text{Zh: "退回补充材料时必须指明需要重新提交的项目。", En: "Name what to redo when requesting changes."}}}
	case d != domain.DecisionRequestChanges && len(items) > 0:
		return []domain.FieldError{{Field: "redo", Code: "redo_not_allowed",
			Message: domain.Text{Zh: "只有退回补充材料时可以指明重做项目。", En: "Only a request for changes names items to redo."}}}
	}
	seen := map[string]bool{}
	for i, it := range items {
		f := fmt.Sprintf("redo[%d]", i)
		if seen[it.Requirement] {
			out = append(out, domain.FieldError{Field: f + ".requirement", Code: "duplicate_requirement",
				Message: domain.Text{Zh: "重复的项目：" + it.Requirement, En: "Repeated requirement " + it.Requirement + "."}})
		}
		seen[it.Requirement] = true
		if _, ok := domain.ReasonFor(it.Reason); !ok {
			out = append(out, domain.FieldError{Field: f + ".reason", Code: "unknown_reason",
				Message: domain.Text{Zh: "未知的原因代码：" + it.Reason, En: "Unknown reason code: " + it.Reason}})
		}
		if it.Reason == domain.ReasonOther && strings.TrimSpace(it.Note) == "" {
			out = append(out, domain.FieldError{Field: f + ".note", Code: "note_required",
				Message: domain.Text{Zh: "原因为 other 时必须填写备注。", En: "A note is required with the reason other."}})
		}
		if utf8.RuneCountInString(it.Note) > domain.MaxDecisionNoteChars || !utf8.ValidString(it.Note) {
			out = append(out, domain.FieldError{Field: f + ".note", Code: "too_long",
				Message: domain.Text{Zh: "备注过长。", En: "The note is too long."}})
		}
	}
	return out
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
		cert, h, err := domain.ApproveCertification(existing, c.EnterpriseID, t, c.Kind, c.ID, now, s.rules)
		if err != nil {
			return nil, err
		}
		cert.RemindAt = cert.NextReminderAt(now, s.rules, nil)
		var w domain.CertificationWrite
		if existing == nil {
			cert.Version = 1
			w = domain.CertificationWrite{Certification: &cert, Create: true}
		} else {
			w = domain.UpdateCertification(existing, &cert)
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
