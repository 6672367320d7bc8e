package domain

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func timePtr(t time.Time) *time.Time { return &t }

func TestPendingWorkAt(t *testing.T) {
	base := time.Date(2026, 9, 24, 2, 0, 0, 0, time.UTC)
	h := func(n int) time.Time { return base.Add(time.Duration(n) * time.Hour) }
	tests := []struct {
		name string
		c    Case
		want *time.Time
	}{
		{"nothing pending", Case{Status: CaseDraft}, nil},
		{"pending deposit", Case{Status: CaseDraft, Deposit: &Deposit{Status: DepositPending, Deadline: h(72)}}, timePtr(h(72))},
		{"verified deposit is not pending", Case{Status: CaseDraft, Deposit: &Deposit{Status: DepositVerified, Deadline: h(72)}}, nil},
		{"face session earlier than deposit", Case{Status: CaseDraft,
			Deposit: &Deposit{Status: DepositPending, Deadline: h(72)},
			Face:    &Verification{Kind: VerifyFace, Status: VerificationPending, ExpiresAt: h(1)}}, timePtr(h(1))},
		{"QR session", Case{Status: CaseDraft, QR: &Verification{Kind: VerifyQR, Status: VerificationPending, ExpiresAt: h(2)}}, timePtr(h(2))},
		{"finished session", Case{Status: CaseDraft, Face: &Verification{Status: VerificationPassed, ExpiresAt: h(2)}}, nil},
		{"submitted: review due", Case{Status: CaseSubmitted, ReviewDueAt: timePtr(h(100))}, timePtr(h(100))},
		{"submitted but SLA already breached", Case{Status: CaseSubmitted, ReviewDueAt: timePtr(h(100)), SLABreached: true}, nil},
		{"in review: claim expiry first", Case{Status: CaseInReview, ReviewDueAt: timePtr(h(100)), Claim: &Claim{ExpiresAt: h(2)}}, timePtr(h(2))},
		{"in review, breached: claim only", Case{Status: CaseInReview, ReviewDueAt: timePtr(h(100)), SLABreached: true, Claim: &Claim{ExpiresAt: h(2)}}, timePtr(h(2))},
		{"approved: nothing", Case{Status: CaseApproved, ReviewDueAt: timePtr(h(100)), Claim: &Claim{ExpiresAt: h(2)}}, nil},
		{"changes requested: old review due ignored", Case{Status: CaseChangesRequested, ReviewDueAt: timePtr(h(100))}, nil},
		{"provisional review due: the recheck first", Case{Status: CaseSubmitted, ReviewDueAt: timePtr(h(100)), ReviewDueRecheckAt: timePtr(h(20))}, timePtr(h(20))},
		{"provisional, breached: still rechecked", Case{Status: CaseInReview, ReviewDueAt: timePtr(h(100)), SLABreached: true, ReviewDueRecheckAt: timePtr(h(20))}, timePtr(h(20))},
		{"provisional but decided: nothing", Case{Status: CaseRejected, ReviewDueAt: timePtr(h(100)), ReviewDueRecheckAt: timePtr(h(20))}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.c.PendingWorkAt()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSubmit(t *testing.T) {
	at := bjTime(2026, 9, 24, 10, 0, 0)
	wantDue := time.Date(2026, 10, 9, 15, 59, 59, 0, time.UTC)
	late := bjTime(2027, 12, 28, 9, 0, 0)
	tests := []struct {
		name        string
		c           Case
		at          time.Time
		wantCode    string
		wantDue     time.Time
		wantRecheck *time.Time
	}{
		{"draft", Case{Status: CaseDraft}, at, "", wantDue, nil},
		{"resubmission restarts the SLA", Case{Status: CaseChangesRequested, SLABreached: true, Claim: &Claim{ReviewerID: "r"}, ChangeRequests: 1}, at, "", wantDue, nil},
		{"a provisional deadline of an earlier round is replaced", Case{Status: CaseChangesRequested, ReviewDueRecheckAt: timePtr(at)}, at, "", wantDue, nil},
		{"in review is not a submission", Case{Status: CaseInReview}, at, "invalid_transition", time.Time{}, nil},
		{"approved", Case{Status: CaseApproved}, at, "invalid_transition", time.Time{}, nil},
		// 5 + 6 working days: 12-29..31 per the data, then weekends-only
		// from 2028-01-03: 2028-01-12, rechecked from the next Beijing day.
		{"beyond the calendar: provisional, never an error", Case{Status: CaseDraft}, late, "",
			time.Date(2028, 1, 12, 15, 59, 59, 0, time.UTC), timePtr(time.Date(2027, 12, 28, 16, 0, 0, 0, time.UTC))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c
			before := tt.c
			h, err := c.Submit(actApplicant, tt.at, DefaultRules, BuiltinCalendar())
			if diff := cmp.Diff(tt.wantCode, codeOfErr(err)); diff != "" {
				t.Fatalf("code (-want +got):\n%s", diff)
			}
			if err != nil {
				if diff := cmp.Diff(before, c); diff != "" {
					t.Errorf("case changed on error (-before +after):\n%s", diff)
				}
				return
			}
			if c.Status != CaseSubmitted || c.SubmittedAt == nil || !c.SubmittedAt.Equal(tt.at) ||
				c.ReviewDueAt == nil || !c.ReviewDueAt.Equal(tt.wantDue) || c.SLABreached || c.Claim != nil {
				t.Errorf("after Submit: %+v", c)
			}
			if diff := cmp.Diff(tt.wantRecheck, c.ReviewDueRecheckAt); diff != "" {
				t.Errorf("recheck (-want +got):\n%s", diff)
			}
			if c.ReviewDueProvisional() != (tt.wantRecheck != nil) {
				t.Errorf("provisional = %v", c.ReviewDueProvisional())
			}
			if h.To != "submitted" || h.Role != RoleApplicant {
				t.Errorf("history %+v", h)
			}
		})
	}
}

// TestRecheckReviewDue: a deadline computed past the calendar's horizon
// stays provisional (rechecked daily) until the data covers it, then
// becomes the real one, which may be earlier than the provisional one.
func TestRecheckReviewDue(t *testing.T) {
	submitted := bjTime(2027, 12, 28, 9, 0, 0)
	extended, err := BuiltinCalendar().Extend("test 2028", []CalendarYear{{Year: 2028,
		Holidays: []string{"2028-01-01", "2028-01-02", "2028-01-03"}}})
	if err != nil {
		t.Fatal(err)
	}
	provisional := func() Case {
		c := Case{Status: CaseDraft}
		if _, err := c.Submit(actApplicant, submitted, DefaultRules, BuiltinCalendar()); err != nil {
			t.Fatal(err)
		}
		return c
	}
	tests := []struct {
		name        string
		cal         *Calendar
		now         time.Time
		wantFinal   bool
		wantDue     time.Time
		wantRecheck *time.Time
	}{
		{"no data yet: still provisional, next recheck tomorrow", BuiltinCalendar(), bjTime(2028, 1, 4, 9, 0, 0), false,
			time.Date(2028, 1, 12, 15, 59, 59, 0, time.UTC), timePtr(time.Date(2028, 1, 4, 16, 0, 0, 0, time.UTC))},
		// 12-29, 12-30, 12-31, then 2028-01-03 is a holiday: 01-04, 01-05.
		{"the data arrived: final, and earlier", extended, bjTime(2028, 1, 4, 9, 0, 0), true,
			time.Date(2028, 1, 5, 15, 59, 59, 0, time.UTC), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := provisional()
			if got := c.RecheckReviewDue(tt.cal, DefaultRules, tt.now); got != tt.wantFinal {
				t.Fatalf("final = %v, want %v", got, tt.wantFinal)
			}
			if !c.ReviewDueAt.Equal(tt.wantDue) {
				t.Errorf("due = %v, want %v", c.ReviewDueAt, tt.wantDue)
			}
			if diff := cmp.Diff(tt.wantRecheck, c.ReviewDueRecheckAt); diff != "" {
				t.Errorf("recheck (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("a final deadline is left alone", func(t *testing.T) {
		c := Case{Status: CaseDraft}
		if _, err := c.Submit(actApplicant, bjTime(2026, 9, 24, 10, 0, 0), DefaultRules, BuiltinCalendar()); err != nil {
			t.Fatal(err)
		}
		before := c
		if !c.RecheckReviewDue(BuiltinCalendar(), DefaultRules, bjTime(2026, 9, 25, 9, 0, 0)) {
			t.Fatal("not final")
		}
		if diff := cmp.Diff(before, c); diff != "" {
			t.Errorf("changed (-before +after):\n%s", diff)
		}
	})
}

func TestWithdraw(t *testing.T) {
	at := time.Date(2026, 9, 24, 2, 0, 0, 0, time.UTC)
	paid := &Payment{OrderID: "o", Status: PaymentPaid, AmountFen: 30000, PaidFen: 30000}
	tests := []struct {
		name       string
		c          Case
		wantCode   string
		wantRefund bool
	}{
		{"paid draft", Case{Status: CaseDraft, Payment: paid}, "", true},
		{"unpaid draft", Case{Status: CaseDraft}, "", false},
		{"pending payment", Case{Status: CaseDraft, Payment: &Payment{Status: PaymentPending}}, "", false},
		{"submitted, never claimed", Case{Status: CaseSubmitted, Payment: paid}, "", true},
		{"submitted after a released claim", Case{Status: CaseSubmitted, Payment: paid, Claim: &Claim{ReviewerID: "r"}}, "", false},
		{"in review", Case{Status: CaseInReview, Payment: paid, Claim: &Claim{ReviewerID: "r"}}, "", false},
		{"after changes were requested", Case{Status: CaseChangesRequested, Payment: paid, ChangeRequests: 1}, "", false},
		{"resubmitted after changes", Case{Status: CaseSubmitted, Payment: paid, ChangeRequests: 1}, "", false},
		{"approved cannot be withdrawn", Case{Status: CaseApproved, Payment: paid}, "invalid_transition", false},
		{"rejected cannot be withdrawn", Case{Status: CaseRejected, Payment: paid}, "invalid_transition", false},
		{"withdrawn twice", Case{Status: CaseWithdrawn, Payment: paid}, "invalid_transition", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c
			if c.Payment == paid {
				c.Money = CaseMoney{ReceivedFen: 30000, KeptFen: 30000}
			}
			w, err := c.Withdraw(DefaultRules, actApplicant, at, "")
			if diff := cmp.Diff(tt.wantCode, codeOfErr(err)); diff != "" {
				t.Fatalf("code (-want +got):\n%s", diff)
			}
			if got := w.Refund != nil; got != tt.wantRefund {
				t.Fatalf("refund = %v, want %v", got, tt.wantRefund)
			}
			if w.Refund != nil && (w.Refund.AmountFen != 30000 || w.Refund.Reason != RefundWithdrawn || c.Money.KeptFen != 0) {
				t.Errorf("refund %+v, money %+v", *w.Refund, c.Money)
			}
			if err == nil && c.Status != CaseWithdrawn {
				t.Errorf("status = %s", c.Status)
			}
		})
	}
}

func TestRetentionEndsAt(t *testing.T) {
	closed := time.Date(2026, 9, 24, 2, 0, 0, 0, time.UTC)
	tests := []struct {
		status CaseStatus
		want   *time.Time
	}{
		{CaseWithdrawn, timePtr(closed.AddDate(0, 0, 30))},
		{CaseRejected, timePtr(closed.AddDate(0, 0, 30))},
		{CaseApproved, nil},
		{CaseDraft, nil},
		{CaseInReview, nil},
	}
	for _, tt := range tests {
		t.Run(string(tt.status), func(t *testing.T) {
			c := Case{Status: tt.status, UpdatedAt: closed}
			if diff := cmp.Diff(tt.want, c.RetentionEndsAt(DefaultRules)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestClaimActive(t *testing.T) {
	now := time.Date(2026, 9, 24, 2, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		c    Case
		want bool
	}{
		{"held", Case{Status: CaseInReview, Claim: &Claim{ExpiresAt: now.Add(time.Minute)}}, true},
		{"expired", Case{Status: CaseInReview, Claim: &Claim{ExpiresAt: now}}, false},
		{"no claim", Case{Status: CaseInReview}, false},
		{"not in review", Case{Status: CaseSubmitted, Claim: &Claim{ExpiresAt: now.Add(time.Hour)}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.ClaimActive(now); got != tt.want {
				t.Errorf("= %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAcceptsUpload(t *testing.T) {
	redo := []RedoItem{{Requirement: string(DocBusinessLicense), Reason: "document_unclear"}, {Requirement: ReqFaceVerification}}
	tests := []struct {
		name   string
		status CaseStatus
		redo   []RedoItem
		doc    DocType
		want   bool
	}{
		{"draft", CaseDraft, nil, DocLegalRepIDFront, true},
		{"sent back for this document", CaseChangesRequested, redo, DocBusinessLicense, true},
		{"sent back for something else", CaseChangesRequested, redo, DocLegalRepIDFront, false},
		{"sent back, nothing named", CaseChangesRequested, nil, DocBusinessLicense, false},
		{"submitted", CaseSubmitted, nil, DocBusinessLicense, false},
		{"in review", CaseInReview, redo, DocBusinessLicense, false},
		{"approved", CaseApproved, nil, DocBusinessLicense, false},
		{"rejected", CaseRejected, nil, DocBusinessLicense, false},
		{"withdrawn", CaseWithdrawn, nil, DocBusinessLicense, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Case{Status: tt.status, Redo: tt.redo}
			if got := c.AcceptsUpload(tt.doc); got != tt.want {
				t.Errorf("AcceptsUpload(%s) = %v, want %v", tt.doc, got, tt.want)
			}
		})
	}
}
