package domain

import "time"

// PendingWorkAt is the earliest time something about the case goes stale
// and a job must look at it, or nil when nothing is pending. Stores keep it
// in a sparse due-time index (set while pending, removed when nil):
//   - a pending micro-deposit's deadline;
//   - a pending face or QR session's expiry;
//   - the expiry of the reviewer's claim while in_review;
//   - reviewDueAt while submitted or in_review and not yet SLABreached;
//   - ReviewDueRecheckAt while submitted or in_review with a provisional
//     reviewDueAt (waiting for the calendar's data);
//   - DocumentsExpireAt of a closed case (set from RetentionEndsAt when it
//     closed, cleared once the documents were handed to deletion).
func (c *Case) PendingWorkAt() *time.Time {
	var best *time.Time
	consider := func(t time.Time) {
		if !t.IsZero() && (best == nil || t.Before(*best)) {
			t := t
			best = &t
		}
	}
	if c.Deposit != nil && c.Deposit.Status == DepositPending {
		consider(c.Deposit.Deadline)
	}
	for _, v := range []*Verification{c.Face, c.QR} {
		if v != nil && v.Status == VerificationPending {
			consider(v.ExpiresAt)
		}
	}
	if c.Status == CaseInReview && c.Claim != nil {
		consider(c.Claim.ExpiresAt)
	}
	if (c.Status == CaseSubmitted || c.Status == CaseInReview) && c.ReviewDueAt != nil && !c.SLABreached {
		consider(*c.ReviewDueAt)
	}
	if (c.Status == CaseSubmitted || c.Status == CaseInReview) && c.ReviewDueRecheckAt != nil {
		consider(*c.ReviewDueRecheckAt)
	}
	if c.DocumentsExpireAt != nil {
		consider(*c.DocumentsExpireAt)
	}
	return best
}

// Submit moves a draft or changes_requested case to submitted under r:
// SubmittedAt = at, ReviewDueAt = the end of the r.ReviewSLAWorkingDays-th
// working day after at's Beijing day on cal (provisional, with a recheck
// due, when that runs past cal's data), SLABreached cleared, and a claim
// left from a previous round dropped. A resubmission restarts the SLA. It
// does not check requirements (the caller answers 409 requirements_unmet
// from ComputeRequirements first). On error c is unchanged.
func (c *Case) Submit(by Actor, at time.Time, r Rules, cal *Calendar) (HistoryEntry, error) {
	if c.Status != CaseDraft && c.Status != CaseChangesRequested {
		return HistoryEntry{}, ErrInvalidTransition(string(c.Status), string(CaseSubmitted))
	}
	h, err := c.Transition(r, CaseSubmitted, by, at, nil, "")
	if err != nil {
		return HistoryEntry{}, err
	}
	sub := at
	c.SubmittedAt = &sub
	c.setReviewDue(cal.ReviewDueAt(at, r), at)
	c.SLABreached = false
	c.Claim = nil
	return h, nil
}

// AcceptsUpload reports whether a document of type t can still change:
// while the case is a draft, or sent back with a request for changes that
// names t. Once submitted, the documents are what the reviewer reviews: an
// upload arriving after that is late and changes nothing.
func (c *Case) AcceptsUpload(t DocType) bool {
	switch c.Status {
	case CaseDraft:
		return true
	case CaseChangesRequested:
		for _, it := range c.Redo {
			if it.Requirement == string(t) {
				return true
			}
		}
	}
	return false
}

// setReviewDue records a computed deadline; a provisional one is rechecked
// from the next Beijing day on (the daily job runs once a day).
func (c *Case) setReviewDue(due ReviewDue, now time.Time) {
	at := due.At
	c.ReviewDueAt, c.ReviewDueRecheckAt = &at, nil
	if due.Provisional {
		next := civilStart(beijingDate(now).AddDate(0, 0, 1)).UTC()
		c.ReviewDueRecheckAt = &next
	}
}

// ReviewDueProvisional reports whether ReviewDueAt ran past the calendar's
// data and awaits a recheck.
func (c *Case) ReviewDueProvisional() bool { return c.ReviewDueRecheckAt != nil }

// RecheckReviewDue recomputes a provisional review deadline from the
// submission time on cal (the calendar as it is now). It reports whether
// the deadline is final; if not, the next recheck is the next Beijing day.
// The deadline may move earlier (the provisional one had a margin), and
// SLABreached is left for the caller's SLA check against the new one.
func (c *Case) RecheckReviewDue(cal *Calendar, r Rules, now time.Time) (final bool) {
	if c.SubmittedAt == nil || !c.ReviewDueProvisional() {
		return true
	}
	due := cal.ReviewDueAt(*c.SubmittedAt, r)
	c.setReviewDue(due, now)
	return !due.Provisional
}

// Withdrawal is what withdrawing writes beside the case.
type Withdrawal struct {
	History HistoryEntry
	// Refund is the fee owed back when the review never started, with
	// the reversal of the fee's subsidy claim.
	Refund  *Refund
	Subsidy *SubsidyEntry
}

// AddWithdrawal writes what a withdrawal of the case caused: its history
// entry, and the fee's refund and subsidy reversal when one is owed.
func (ch *Change) AddWithdrawal(caseID string, w Withdrawal) {
	ch.History = append(ch.History, HistoryRecord{CaseID: caseID, Entry: w.History})
	if w.Refund != nil {
		ch.Refunds = append(ch.Refunds, RefundWrite{Refund: w.Refund, Create: true})
	}
	if w.Subsidy != nil {
		ch.Subsidies = append(ch.Subsidies, *w.Subsidy)
	}
}

// Withdraw moves the case to withdrawn. The fee pays for the review, so it
// is owed back only when no reviewer has worked on the case: a draft, or a
// submitted case that was never claimed (no Claim recorded, no decision,
// never sent back). Use cases releasing an expired claim should therefore
// keep c.Claim as the record that a reviewer held the case.
func (c *Case) Withdraw(r Rules, by Actor, at time.Time, note string) (Withdrawal, error) {
	untouched := c.Status == CaseDraft ||
		(c.Status == CaseSubmitted && c.Claim == nil && c.LastDecision == nil && c.ChangeRequests == 0)
	h, err := c.Transition(r, CaseWithdrawn, by, at, nil, note)
	if err != nil {
		return Withdrawal{}, err
	}
	refund, sub := c.refundOnWithdrawal(untouched, at)
	return Withdrawal{History: h, Refund: refund, Subsidy: sub}, nil
}

// RetentionEndsAt is when the documents of a withdrawn or rejected case
// may be deleted (r.RetentionDays after the case closed, UpdatedAt), or nil
// for any other state: approved cases keep their documents as the
// certification's record.
func (c *Case) RetentionEndsAt(r Rules) *time.Time {
	if c.Status != CaseWithdrawn && c.Status != CaseRejected {
		return nil
	}
	t := c.UpdatedAt.AddDate(0, 0, r.RetentionDays)
	return &t
}

// ClaimActive reports whether a reviewer's claim holds the case at now.
func (c *Case) ClaimActive(now time.Time) bool {
	return c.Status == CaseInReview && c.Claim != nil && now.Before(c.Claim.ExpiresAt)
}

// verification returns the case's session of the given kind. Face holds
// the face session; QR the QR one (a QR session stored in Face is also
// found).
func (c *Case) verification(kind VerificationKind) *Verification {
	switch kind {
	case VerifyFace:
		if c.Face != nil && (c.Face.Kind == VerifyFace || c.Face.Kind == "") {
			return c.Face
		}
	case VerifyQR:
		if c.QR != nil {
			return c.QR
		}
		if c.Face != nil && c.Face.Kind == VerifyQR {
			return c.Face
		}
	}
	return nil
}
