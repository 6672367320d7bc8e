package domain

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var (
	actApplicant = Actor{UserID: "u-applicant", Roles: []Role{RoleApplicant}}
	actReviewer  = Actor{UserID: "u-reviewer", Roles: []Role{RoleReviewer}}
	actAdmin     = Actor{UserID: "u-admin", Roles: []Role{RoleAdmin, RoleReviewer}}
)

// allowedCaseMoves is written out from the case lifecycle (README, openapi.yaml),
// independently of the table in casestate.go.
var allowedCaseMoves = map[[2]CaseStatus]bool{
	{CaseDraft, CaseSubmitted}:            true,
	{CaseDraft, CaseWithdrawn}:            true,
	{CaseSubmitted, CaseInReview}:         true, // claim
	{CaseSubmitted, CaseWithdrawn}:        true,
	{CaseInReview, CaseApproved}:          true,
	{CaseInReview, CaseRejected}:          true,
	{CaseInReview, CaseChangesRequested}:  true,
	{CaseInReview, CaseSubmitted}:         true, // claim expiry releases
	{CaseInReview, CaseWithdrawn}:         true,
	{CaseChangesRequested, CaseSubmitted}: true,
	{CaseChangesRequested, CaseWithdrawn}: true,
}

func TestCanTransitionEveryPair(t *testing.T) {
	states := append(append([]CaseStatus{}, CaseStatuses...), "", "bogus")
	if len(CaseStatuses) != 7 {
		t.Fatalf("CaseStatuses has %d states, want 7", len(CaseStatuses))
	}
	for _, from := range states {
		for _, to := range states {
			want := allowedCaseMoves[[2]CaseStatus{from, to}]
			t.Run(fmt.Sprintf("%s->%s", from, to), func(t *testing.T) {
				if got := CanTransition(from, to); got != want {
					t.Errorf("CanTransition(%q, %q) = %v, want %v", from, to, got, want)
				}
				c := &Case{Status: from, ChangeRequests: 0}
				at := time.Date(2026, 9, 24, 2, 0, 0, 0, time.UTC)
				_, err := c.Transition(DefaultRules, to, actReviewer, at, nil, "")
				if want {
					if err != nil {
						t.Fatalf("Transition: %v", err)
					}
					if c.Status != to || !c.UpdatedAt.Equal(at) {
						t.Errorf("case after = %s at %v", c.Status, c.UpdatedAt)
					}
					return
				}
				if CodeOf(err) != "invalid_transition" || KindOf(err) != KindConflict {
					t.Fatalf("Transition err = %v, want conflict invalid_transition", err)
				}
				if c.Status != from {
					t.Errorf("status changed to %s on a forbidden move", c.Status)
				}
			})
		}
	}
}

func TestFinalStates(t *testing.T) {
	for _, s := range CaseStatuses {
		t.Run(string(s), func(t *testing.T) {
			want := s == CaseApproved || s == CaseRejected || s == CaseWithdrawn
			if s.Final() != want {
				t.Errorf("Final() = %v, want %v", s.Final(), want)
			}
			for _, to := range CaseStatuses {
				if want && CanTransition(s, to) {
					t.Errorf("final state %s may move to %s", s, to)
				}
			}
			if !s.Valid() {
				t.Errorf("Valid() = false")
			}
		})
	}
	if CaseStatus("bogus").Valid() {
		t.Error("bogus state is valid")
	}
}

func TestCaseTransitionHistory(t *testing.T) {
	at := time.Date(2026, 9, 24, 2, 0, 0, 0, time.UTC)
	c := &Case{ID: "c1", Status: CaseInReview}
	reasons := []string{"address_mismatch"}
	h, err := c.Transition(DefaultRules, CaseChangesRequested, actAdmin, at, reasons, "fix the address")
	if err != nil {
		t.Fatal(err)
	}
	reasons[0] = "mutated" // the entry keeps its own copy
	want := HistoryEntry{
		At: at, ActorID: "u-admin", Role: RoleAdmin, Subject: "case",
		From: "in_review", To: "changes_requested", Reasons: []string{"address_mismatch"}, Note: "fix the address",
	}
	if diff := cmp.Diff(want, h, cmpopts.IgnoreFields(HistoryEntry{}, "ID")); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	if !ValidID(h.ID) {
		t.Errorf("history id %q not valid", h.ID)
	}
	if c.ChangeRequests != 1 {
		t.Errorf("ChangeRequests = %d, want 1", c.ChangeRequests)
	}
}

func TestChangeRequestLimit(t *testing.T) {
	at := time.Date(2026, 9, 24, 2, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		rules    Rules
		already  int
		to       CaseStatus
		wantCode string
		wantN    int
	}{
		{"first request", DefaultRules, 0, CaseChangesRequested, "", 1},
		{"third request", DefaultRules, 2, CaseChangesRequested, "", 3},
		{"fourth request refused", DefaultRules, 3, CaseChangesRequested, "change_requests_exhausted", 3},
		{"approve still possible", DefaultRules, 3, CaseApproved, "", 3},
		{"reject still possible", DefaultRules, 3, CaseRejected, "", 3},
		{"configured limit 1", func() Rules { r := DefaultRules.Clone(); r.MaxChangeRequests = 1; return r }(), 1, CaseChangesRequested, "change_requests_exhausted", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Case{Status: CaseInReview, ChangeRequests: tt.already}
			_, err := c.Transition(tt.rules, tt.to, actReviewer, at, nil, "")
			if diff := cmp.Diff(tt.wantCode, codeOfErr(err)); diff != "" {
				t.Fatalf("code (-want +got):\n%s", diff)
			}
			if err != nil {
				if KindOf(err) != KindConflict {
					t.Errorf("kind = %v, want conflict", KindOf(err))
				}
				if c.Status != CaseInReview {
					t.Errorf("status changed to %s", c.Status)
				}
			}
			if c.ChangeRequests != tt.wantN {
				t.Errorf("ChangeRequests = %d, want %d", c.ChangeRequests, tt.wantN)
			}
		})
	}
	if DefaultRules.MaxChangeRequests != 3 {
		t.Errorf("DefaultRules.MaxChangeRequests = %d, want 3", DefaultRules.MaxChangeRequests)
	}
}
