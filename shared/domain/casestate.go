package domain

import "time"

// The case state machine:
//
//	draft ──submit──▶ submitted ──claim──▶ in_review ──▶ approved | rejected | changes_requested
//	                      ▲                    │
//	                      └──claim expiry──────┘          changes_requested ──submit──▶ submitted
//
//	withdrawn from draft, submitted, in_review, changes_requested (never after a decision)
//	approved, rejected, withdrawn are final.
//
// Who may fire a transition (applicant, reviewer, system) is the handlers'
// and use cases' business; this table only says which moves exist.

// CaseStatuses lists every case state in a stable order.
var CaseStatuses = []CaseStatus{
	CaseDraft, CaseSubmitted, CaseInReview, CaseApproved, CaseRejected, CaseChangesRequested, CaseWithdrawn,
}

// caseTransitions is THE table of allowed case moves.
var caseTransitions = map[CaseStatus][]CaseStatus{
	CaseDraft:            {CaseSubmitted, CaseWithdrawn},
	CaseSubmitted:        {CaseInReview, CaseWithdrawn},
	CaseInReview:         {CaseApproved, CaseRejected, CaseChangesRequested, CaseSubmitted, CaseWithdrawn},
	CaseChangesRequested: {CaseSubmitted, CaseWithdrawn},
}

// Valid reports whether s is a known case state.
func (s CaseStatus) Valid() bool {
	for _, x := range CaseStatuses {
		if x == s {
			return true
		}
	}
	return false
}

// Final reports whether nothing can happen to a case in state s any more.
func (s CaseStatus) Final() bool {
	return s == CaseApproved || s == CaseRejected || s == CaseWithdrawn
}

// CanTransition reports whether the state machine has the move from -> to.
func CanTransition(from, to CaseStatus) bool {
	for _, x := range caseTransitions[from] {
		if x == to {
			return true
		}
	}
	return false
}

// Transition checks the move against the table and r, sets Status and
// UpdatedAt, counts a request for changes, and returns the history entry
// (Subject "case", with a fresh id sorted by at). A move the table lacks is
// a conflict (invalid_transition); a request for changes beyond
// r.MaxChangeRequests is a conflict (change_requests_exhausted): the
// reviewer can then only approve or reject. On error c is unchanged.
//
// Other fields (SubmittedAt, ReviewDueAt, Claim, LastDecision, Money)
// belong to the use case; Submit and Withdraw in case.go set theirs.
func (c *Case) Transition(r Rules, to CaseStatus, by Actor, at time.Time, reasons []string, note string) (HistoryEntry, error) {
	if !CanTransition(c.Status, to) {
		return HistoryEntry{}, ErrInvalidTransition(string(c.Status), string(to))
	}
	if to == CaseChangesRequested && c.ChangeRequests >= r.MaxChangeRequests {
		return HistoryEntry{}, E(KindConflict, "change_requests_exhausted",
			"该申请退回补充材料的次数已达上限，只能通过或驳回。",
			"This case was already sent back for more material the maximum number of times; it can only be approved or rejected.").
			With("maxChangeRequests", r.MaxChangeRequests)
	}
	from := c.Status
	c.Status = to
	c.UpdatedAt = at
	if to == CaseChangesRequested {
		c.ChangeRequests++
	}
	return NewHistoryEntry("case", string(from), string(to), by, at, reasons, note), nil
}

// ErrInvalidTransition is the conflict of a move the state machine lacks.
func ErrInvalidTransition(from, to string) *Error {
	return E(KindConflict, "invalid_transition",
		"当前状态不允许该操作。", "This action is not allowed in the current state.").
		With("from", from).With("to", to)
}

// NewHistoryEntry is the record of by moving subject from -> to at at:
// who, as which platform role and which member role, why.
func NewHistoryEntry(subject, from, to string, by Actor, at time.Time, reasons []string, note string) HistoryEntry {
	return HistoryEntry{
		ID:         NewIDAt(at),
		At:         at,
		ActorID:    by.UserID,
		Role:       by.MainRole(),
		MemberRole: by.MemberRole,
		Subject:    subject,
		From:       from,
		To:         to,
		Reasons:    append([]string(nil), reasons...),
		Note:       note,
	}
}
