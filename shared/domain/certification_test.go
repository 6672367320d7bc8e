package domain

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// allowedCertMoves is written out from the certification lifecycle (README,
// "Review and lifecycle"), independently of certTransitions.
var allowedCertMoves = map[[2]CertStatus]bool{
	{CertNone, CertActive}:       true, // initial
	{CertActive, CertActive}:     true, // annual review before expiry
	{CertActive, CertOverdue}:    true,
	{CertActive, CertCancelled}:  true,
	{CertActive, CertRevoked}:    true,
	{CertOverdue, CertActive}:    true, // annual review
	{CertOverdue, CertLapsed}:    true,
	{CertOverdue, CertCancelled}: true,
	{CertOverdue, CertRevoked}:   true,
	{CertLapsed, CertActive}:     true, // reinstatement
	{CertRevoked, CertActive}:    true, // appeal
	{CertCancelled, CertActive}:  true, // new initial application
}

func TestCertCanTransitionEveryPair(t *testing.T) {
	states := append([]CertStatus{CertNone, "bogus"}, CertStatuses...)
	for _, from := range states {
		for _, to := range states {
			want := allowedCertMoves[[2]CertStatus{from, to}]
			t.Run(fmt.Sprintf("%q->%q", from, to), func(t *testing.T) {
				if got := CertCanTransition(from, to); got != want {
					t.Errorf("CertCanTransition = %v, want %v", got, want)
				}
				c := &Certification{Type: CertWeCom, Status: from}
				_, err := c.Transition(to, SystemActor, time.Unix(0, 0), nil, "")
				if want != (err == nil) {
					t.Errorf("Transition err = %v, want allowed=%v", err, want)
				}
				if err != nil && (CodeOf(err) != "invalid_transition" || c.Status != from) {
					t.Errorf("forbidden move: err %v, status now %q", err, c.Status)
				}
			})
		}
	}
}

func TestApproveCertification(t *testing.T) {
	now := bjTime(2026, 11, 26, 10, 0, 0)
	endOf := func(y int, m time.Month, d int) time.Time { return EndOfBeijingDay(bjTime(y, m, d, 12, 0, 0)) }
	stored := func(s CertStatus, expires time.Time, cycle int) *Certification {
		return &Certification{EnterpriseID: "e1", Type: CertWeCom, Status: s, ExpiresAt: expires, Cycle: cycle,
			IssuedAt: expires.AddDate(-1, 0, 0), CaseID: "old", Version: 7}
	}
	type out struct {
		Status    CertStatus
		ExpiresAt time.Time
		Cycle     int
		From      string
	}
	tests := []struct {
		name     string
		existing *Certification
		kind     CaseKind
		want     out
		wantCode string
	}{
		{"initial, never held", nil, KindInitial, out{CertActive, endOf(2027, 11, 26), 1, ""}, ""},
		{"initial after cancellation", stored(CertCancelled, endOf(2027, 3, 1), 2), KindInitial, out{CertActive, endOf(2027, 11, 26), 3, "cancelled"}, ""},
		{"initial after lapse", stored(CertLapsed, endOf(2026, 9, 1), 1), KindInitial, out{CertActive, endOf(2027, 11, 26), 2, "lapsed"}, ""},
		{"initial while active", stored(CertActive, endOf(2027, 3, 1), 1), KindInitial, out{}, "invalid_transition"},
		{"initial while overdue", stored(CertOverdue, endOf(2026, 11, 20), 1), KindInitial, out{}, "invalid_transition"},
		{"initial after revocation", stored(CertRevoked, endOf(2027, 3, 1), 1), KindInitial, out{}, "invalid_transition"},
		{"annual review extends from the old expiry", stored(CertActive, endOf(2026, 12, 31), 1), KindAnnualReview, out{CertActive, endOf(2027, 12, 31), 2, "active"}, ""},
		{"annual review of an overdue cert", stored(CertOverdue, endOf(2026, 11, 1), 1), KindAnnualReview, out{CertActive, endOf(2027, 11, 1), 2, "overdue"}, ""},
		{"annual review of an active cert already past expiry", stored(CertActive, endOf(2026, 11, 20), 4), KindAnnualReview, out{CertActive, endOf(2027, 11, 20), 5, "active"}, ""},
		{"annual review approved after the lapse: from now", stored(CertOverdue, endOf(2026, 10, 1), 1), KindAnnualReview, out{CertActive, endOf(2027, 11, 26), 2, "overdue"}, ""},
		{"annual review of a 29 February expiry", &Certification{EnterpriseID: "e1", Type: CertWeCom, Status: CertActive, ExpiresAt: endOf(2028, 2, 29), Cycle: 1},
			KindAnnualReview, out{CertActive, endOf(2029, 2, 28), 2, "active"}, ""},
		{"annual review with nothing held", nil, KindAnnualReview, out{}, "invalid_transition"},
		{"annual review of a revoked cert", stored(CertRevoked, endOf(2027, 3, 1), 1), KindAnnualReview, out{}, "invalid_transition"},
		{"reinstatement of a lapsed cert", stored(CertLapsed, endOf(2026, 9, 1), 1), KindReinstatement, out{CertActive, endOf(2027, 11, 26), 2, "lapsed"}, ""},
		{"reinstatement of a cert the job has not lapsed yet", stored(CertOverdue, endOf(2026, 10, 1), 1), KindReinstatement, out{CertActive, endOf(2027, 11, 26), 2, "overdue"}, ""},
		{"reinstatement of an active cert", stored(CertActive, endOf(2027, 3, 1), 1), KindReinstatement, out{}, "invalid_transition"},
		{"appeal restores the original expiry", stored(CertRevoked, endOf(2027, 3, 1), 3), KindAppeal, out{CertActive, endOf(2027, 3, 1), 3, "revoked"}, ""},
		{"appeal after the original expiry: from now", stored(CertRevoked, endOf(2026, 11, 1), 3), KindAppeal, out{CertActive, endOf(2027, 11, 26), 4, "revoked"}, ""},
		{"appeal of an active cert", stored(CertActive, endOf(2027, 3, 1), 1), KindAppeal, out{}, "invalid_transition"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before Certification
			if tt.existing != nil {
				before = *tt.existing
				before.RevokedReason, before.Severity = "fraud", "minor"
				*tt.existing = before
			}
			got, h, err := ApproveCertification(tt.existing, "e1", CertWeCom, tt.kind, "c9", now, DefaultRules)
			if diff := cmp.Diff(tt.wantCode, codeOfErr(err)); diff != "" {
				t.Fatalf("code (-want +got):\n%s (%v)", diff, err)
			}
			if tt.existing != nil {
				if diff := cmp.Diff(before, *tt.existing); diff != "" {
					t.Errorf("existing modified:\n%s", diff)
				}
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tt.want, out{got.Status, got.ExpiresAt, got.Cycle, h.From}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if got.EnterpriseID != "e1" || got.Type != CertWeCom || got.CaseID != "c9" || !got.IssuedAt.Equal(now) ||
				got.RevokedReason != "" || got.Severity != "" {
				t.Errorf("certification %+v", got)
			}
			if tt.existing != nil && got.Version != tt.existing.Version {
				t.Errorf("Version changed to %d", got.Version)
			}
			wantH := HistoryEntry{At: now, ActorID: "system", Role: RoleSystem, Subject: "certification:wecom",
				From: tt.want.From, To: "active", Reasons: []string{string(tt.kind)}, Note: "c9"}
			if diff := cmp.Diff(wantH, h, cmpopts.IgnoreFields(HistoryEntry{}, "ID")); diff != "" {
				t.Errorf("history (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("the documented example", func(t *testing.T) {
		got, _, err := ApproveCertification(nil, "e1", CertMiniProgram, KindInitial, "c1", bjTime(2026, 11, 26, 15, 0, 0), DefaultRules)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff("2027-11-26T23:59:59+08:00", got.ExpiresAt.In(Beijing()).Format(time.RFC3339)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("bad input", func(t *testing.T) {
		for _, tc := range []struct {
			name     string
			existing *Certification
			ty       CertType
			kind     CaseKind
			code     string
		}{
			{"unknown type", nil, "bogus", KindInitial, "invalid_certification"},
			{"unknown kind", nil, CertWeCom, "bogus", "invalid_certification"},
			{"another enterprise's record", &Certification{EnterpriseID: "e2", Type: CertWeCom, Status: CertLapsed}, CertWeCom, KindReinstatement, "certification_mismatch"},
			{"another type's record", &Certification{EnterpriseID: "e1", Type: CertMiniProgram, Status: CertLapsed}, CertWeCom, KindReinstatement, "certification_mismatch"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, _, err := ApproveCertification(tc.existing, "e1", tc.ty, tc.kind, "c", now, DefaultRules)
				if CodeOf(err) != tc.code {
					t.Errorf("err = %v, want %s", err, tc.code)
				}
			})
		}
	})
}

func TestAdvance(t *testing.T) {
	exp := EndOfBeijingDay(bjTime(2027, 11, 26, 12, 0, 0))
	tests := []struct {
		name  string
		from  CertStatus
		now   time.Time
		want  CertStatus
		moves []string
	}{
		{"active before expiry", CertActive, exp, CertActive, []string{}},
		{"active just after expiry", CertActive, exp.Add(time.Second), CertOverdue, []string{"active->overdue"}},
		{"overdue at 30 days", CertOverdue, exp.AddDate(0, 0, 30), CertOverdue, []string{}},
		{"overdue after 30 days", CertOverdue, exp.AddDate(0, 0, 30).Add(time.Second), CertLapsed, []string{"overdue->lapsed"}},
		{"active, job missed everything", CertActive, exp.AddDate(0, 2, 0), CertLapsed, []string{"active->overdue", "overdue->lapsed"}},
		{"cancelled stays", CertCancelled, exp.AddDate(1, 0, 0), CertCancelled, []string{}},
		{"revoked stays", CertRevoked, exp.AddDate(1, 0, 0), CertRevoked, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Certification{Type: CertWeCom, Status: tt.from, ExpiresAt: exp}
			hs := c.Advance(tt.now, DefaultRules)
			moves := []string{}
			for _, h := range hs {
				moves = append(moves, h.From+"->"+h.To)
				if h.Role != RoleSystem || h.Subject != "certification:wecom" {
					t.Errorf("history %+v", h)
				}
			}
			if diff := cmp.Diff(tt.moves, moves); diff != "" {
				t.Errorf("moves (-want +got):\n%s", diff)
			}
			if c.Status != tt.want {
				t.Errorf("status = %s, want %s", c.Status, tt.want)
			}
		})
	}
}

func TestNextTransitionAt(t *testing.T) {
	exp := EndOfBeijingDay(bjTime(2027, 11, 26, 12, 0, 0))
	tests := []struct {
		status CertStatus
		want   *time.Time
	}{
		{CertActive, timePtr(exp)},
		{CertOverdue, timePtr(time.Date(2027, 12, 26, 15, 59, 59, 0, time.UTC))},
		{CertLapsed, nil},
		{CertCancelled, nil},
		{CertRevoked, nil},
	}
	for _, tt := range tests {
		t.Run(string(tt.status), func(t *testing.T) {
			c := &Certification{Status: tt.status, ExpiresAt: exp}
			if diff := cmp.Diff(tt.want, c.NextTransitionAt(DefaultRules)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestCancelAndRevoke(t *testing.T) {
	at := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		from     CertStatus
		do       func(c *Certification) (HistoryEntry, error)
		want     CertStatus
		wantCode string
	}{
		{"cancel active", CertActive, func(c *Certification) (HistoryEntry, error) { return c.Cancel(actApplicant, at, "") }, CertCancelled, ""},
		{"cancel overdue", CertOverdue, func(c *Certification) (HistoryEntry, error) { return c.Cancel(actApplicant, at, "") }, CertCancelled, ""},
		{"cancel lapsed", CertLapsed, func(c *Certification) (HistoryEntry, error) { return c.Cancel(actApplicant, at, "") }, CertLapsed, "invalid_transition"},
		{"cancel twice", CertCancelled, func(c *Certification) (HistoryEntry, error) { return c.Cancel(actApplicant, at, "") }, CertCancelled, "invalid_transition"},
		{"revoke active, major", CertActive, func(c *Certification) (HistoryEntry, error) {
			return c.Revoke(actAdmin, "虚假材料", SeverityMajor, at)
		}, CertRevoked, ""},
		{"revoke overdue, minor", CertOverdue, func(c *Certification) (HistoryEntry, error) {
			return c.Revoke(actAdmin, "false content", SeverityMinor, at)
		}, CertRevoked, ""},
		{"revoke by a reviewer", CertActive, func(c *Certification) (HistoryEntry, error) { return c.Revoke(actReviewer, "x", SeverityMinor, at) }, CertActive, "forbidden"},
		{"revoke without reason", CertActive, func(c *Certification) (HistoryEntry, error) { return c.Revoke(actAdmin, "  ", SeverityMinor, at) }, CertActive, "reason_required"},
		{"revoke with bad severity", CertActive, func(c *Certification) (HistoryEntry, error) { return c.Revoke(actAdmin, "x", "critical", at) }, CertActive, "invalid_severity"},
		{"revoke a cancelled cert", CertCancelled, func(c *Certification) (HistoryEntry, error) { return c.Revoke(actAdmin, "x", SeverityMinor, at) }, CertCancelled, "invalid_transition"},
		{"revoke twice", CertRevoked, func(c *Certification) (HistoryEntry, error) { return c.Revoke(actAdmin, "x", SeverityMinor, at) }, CertRevoked, "invalid_transition"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Certification{Type: CertOfficialAccount, Status: tt.from}
			h, err := tt.do(c)
			if diff := cmp.Diff(tt.wantCode, codeOfErr(err)); diff != "" {
				t.Fatalf("code (-want +got):\n%s", diff)
			}
			if c.Status != tt.want {
				t.Errorf("status = %s, want %s", c.Status, tt.want)
			}
			if err == nil && (h.Subject != "certification:official_account" || h.To != string(tt.want) || !c.UpdatedAt.Equal(at)) {
				t.Errorf("history %+v, updated %v", h, c.UpdatedAt)
			}
			if tt.want == CertRevoked && err == nil && (c.RevokedReason == "" || c.Severity == "") {
				t.Errorf("revocation details missing: %+v", c)
			}
		})
	}
}

func TestReminders(t *testing.T) {
	exp := EndOfBeijingDay(bjTime(2027, 11, 26, 12, 0, 0))
	c := &Certification{Type: CertWeCom, Status: CertActive, ExpiresAt: exp, Cycle: 2}
	dayStart := func(m time.Month, d int) time.Time { return bjTime(2027, m, d, 0, 0, 0).UTC() }
	want := []Reminder{
		{60, dayStart(9, 27)},
		{30, dayStart(10, 27)},
		{7, dayStart(11, 19)},
		{1, dayStart(11, 25)},
	}
	if diff := cmp.Diff(want, c.Reminders(DefaultRules)); diff != "" {
		t.Fatalf("Reminders (-want +got):\n%s", diff)
	}
	sentSet := func(ms ...int) func(int) bool {
		return func(m int) bool {
			for _, x := range ms {
				if x == m {
					return true
				}
			}
			return false
		}
	}
	type got struct {
		Milestone int
		OK        bool
		Next      *time.Time
	}
	tests := []struct {
		name string
		c    *Certification
		now  time.Time
		sent func(int) bool
		want got
	}{
		{"a year before", c, bjTime(2026, 12, 1, 9, 0, 0), nil, got{0, false, timePtr(dayStart(9, 27))}},
		{"61 days before", c, bjTime(2027, 9, 26, 23, 0, 0), nil, got{0, false, timePtr(dayStart(9, 27))}},
		{"60-day milestone", c, bjTime(2027, 9, 27, 0, 0, 0), nil, got{60, true, timePtr(dayStart(9, 27))}},
		{"60 sent", c, bjTime(2027, 9, 27, 9, 0, 0), sentSet(60), got{0, false, timePtr(dayStart(10, 27))}},
		{"45 days before, 60 sent", c, bjTime(2027, 10, 12, 9, 0, 0), sentSet(60), got{0, false, timePtr(dayStart(10, 27))}},
		{"45 days before, 60 never sent (job down): send it late", c, bjTime(2027, 10, 12, 9, 0, 0), nil, got{60, true, timePtr(dayStart(9, 27))}},
		{"30-day milestone", c, bjTime(2027, 10, 27, 9, 0, 0), sentSet(60), got{30, true, timePtr(dayStart(10, 27))}},
		{"job down for weeks: only the most urgent", c, bjTime(2027, 11, 20, 9, 0, 0), nil, got{7, true, timePtr(dayStart(11, 19))}},
		{"7 sent, 60 and 30 skipped", c, bjTime(2027, 11, 21, 9, 0, 0), sentSet(7), got{0, false, timePtr(dayStart(11, 25))}},
		{"last day", c, bjTime(2027, 11, 26, 9, 0, 0), sentSet(60, 30, 7), got{1, true, timePtr(dayStart(11, 25))}},
		{"all sent", c, bjTime(2027, 11, 26, 23, 0, 0), sentSet(60, 30, 7, 1), got{0, false, nil}},
		{"expired: no reminders", c, exp.Add(time.Second), nil, got{0, false, nil}},
		{"overdue: no reminders", &Certification{Status: CertOverdue, ExpiresAt: exp}, bjTime(2027, 11, 20, 9, 0, 0), nil, got{0, false, nil}},
		{"revoked: no reminders", &Certification{Status: CertRevoked, ExpiresAt: exp}, bjTime(2027, 11, 20, 9, 0, 0), nil, got{0, false, nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ok := tt.c.DueReminder(tt.now, DefaultRules, tt.sent)
			g := got{m.Milestone, ok, tt.c.NextReminderAt(tt.now, DefaultRules, tt.sent)}
			if diff := cmp.Diff(tt.want, g); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestNextDueAt(t *testing.T) {
	exp := EndOfBeijingDay(bjTime(2027, 11, 26, 12, 0, 0))
	none := func(int) bool { return false }
	all := func(int) bool { return true }
	tests := []struct {
		name string
		c    Certification
		now  time.Time
		sent func(int) bool
		want *time.Time
	}{
		{"next reminder before expiry", Certification{Status: CertActive, ExpiresAt: exp}, bjTime(2027, 1, 1, 9, 0, 0), none, timePtr(bjTime(2027, 9, 27, 0, 0, 0).UTC())},
		{"all reminders sent: expiry", Certification{Status: CertActive, ExpiresAt: exp}, bjTime(2027, 11, 26, 9, 0, 0), all, timePtr(exp)},
		{"overdue: lapse", Certification{Status: CertOverdue, ExpiresAt: exp}, exp.Add(time.Hour), none, timePtr(exp.AddDate(0, 0, 30))},
		{"lapsed: nothing", Certification{Status: CertLapsed, ExpiresAt: exp}, exp.AddDate(0, 2, 0), none, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.c.NextDueAt(tt.now, DefaultRules, tt.sent)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestAnnualReviewOpensAt(t *testing.T) {
	tests := []struct {
		name string
		exp  time.Time
		want string
	}{
		{"3 months before", EndOfBeijingDay(bjTime(2027, 11, 26, 12, 0, 0)), "2027-08-26T00:00:00+08:00"},
		{"month end clamps", EndOfBeijingDay(bjTime(2027, 5, 31, 12, 0, 0)), "2027-02-28T00:00:00+08:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, AnnualReviewOpensAt(tt.exp, DefaultRules).In(Beijing()).Format(time.RFC3339)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestCanOpenCase(t *testing.T) {
	now := bjTime(2027, 9, 1, 10, 0, 0)
	exp := func(y int, m time.Month, d int) time.Time { return EndOfBeijingDay(bjTime(y, m, d, 12, 0, 0)) }
	certs := []Certification{
		{Type: CertWeCom, Status: CertActive, ExpiresAt: exp(2027, 11, 26)},         // in the window (opens 08-26)
		{Type: CertOfficialAccount, Status: CertActive, ExpiresAt: exp(2028, 3, 1)}, // not yet
		{Type: CertMiniProgram, Status: CertOverdue, ExpiresAt: exp(2027, 8, 20)},   // overdue
	}
	lapsed := []Certification{{Type: CertWeCom, Status: CertLapsed, ExpiresAt: exp(2027, 6, 1)}}
	lapsedByTime := []Certification{{Type: CertWeCom, Status: CertOverdue, ExpiresAt: exp(2027, 7, 1)}}
	revoked := []Certification{{Type: CertWeCom, Status: CertRevoked, ExpiresAt: exp(2028, 1, 1)}}
	cancelled := []Certification{{Type: CertWeCom, Status: CertCancelled, ExpiresAt: exp(2028, 1, 1)}}
	tests := []struct {
		name     string
		kind     CaseKind
		types    []CertType
		certs    []Certification
		wantCode string
		wantKind Kind
	}{
		{"initial, nothing held", KindInitial, []CertType{CertWeCom, CertOfficialAccount}, nil, "", 0},
		{"initial over an active cert", KindInitial, []CertType{CertWeCom}, certs, "already_certified", KindConflict},
		{"initial over an overdue cert", KindInitial, []CertType{CertMiniProgram}, certs, "already_certified", KindConflict},
		{"initial after cancellation", KindInitial, []CertType{CertWeCom}, cancelled, "", 0},
		{"initial after lapse", KindInitial, []CertType{CertWeCom}, lapsed, "", 0},
		{"initial after revocation", KindInitial, []CertType{CertWeCom}, revoked, "certification_revoked", KindConflict},
		{"annual review in the window", KindAnnualReview, []CertType{CertWeCom}, certs, "", 0},
		{"annual review of an overdue cert", KindAnnualReview, []CertType{CertMiniProgram}, certs, "", 0},
		{"annual review too early", KindAnnualReview, []CertType{CertOfficialAccount}, certs, "annual_review_not_open", KindConflict},
		{"annual review, one of two too early", KindAnnualReview, []CertType{CertWeCom, CertOfficialAccount}, certs, "annual_review_not_open", KindConflict},
		{"annual review, nothing held", KindAnnualReview, []CertType{CertWeCom}, nil, "not_renewable", KindConflict},
		{"annual review of a lapsed cert", KindAnnualReview, []CertType{CertWeCom}, lapsed, "not_renewable", KindConflict},
		{"annual review of a cert lapsed by time", KindAnnualReview, []CertType{CertWeCom}, lapsedByTime, "not_renewable", KindConflict},
		{"reinstatement of a lapsed cert", KindReinstatement, []CertType{CertWeCom}, lapsed, "", 0},
		{"reinstatement of a cert lapsed by time", KindReinstatement, []CertType{CertWeCom}, lapsedByTime, "", 0},
		{"reinstatement of an active cert", KindReinstatement, []CertType{CertWeCom}, certs, "not_lapsed", KindConflict},
		{"appeal of a revoked cert", KindAppeal, []CertType{CertWeCom}, revoked, "", 0},
		{"appeal of an active cert", KindAppeal, []CertType{CertWeCom}, certs, "not_revoked", KindConflict},
		{"appeal, nothing held", KindAppeal, []CertType{CertWeCom}, nil, "not_revoked", KindConflict},
		{"unknown kind", "renewal", []CertType{CertWeCom}, nil, "invalid_kind", KindInvalid},
		{"no types", KindInitial, nil, nil, "invalid_types", KindInvalid},
		{"unknown type", KindInitial, []CertType{"weibo"}, nil, "invalid_types", KindInvalid},
		{"repeated type", KindInitial, []CertType{CertWeCom, CertWeCom}, nil, "invalid_types", KindInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CanOpenCase(tt.kind, tt.types, tt.certs, now, DefaultRules)
			if diff := cmp.Diff(tt.wantCode, codeOfErr(err)); diff != "" {
				t.Fatalf("code (-want +got):\n%s (%v)", diff, err)
			}
			if err != nil && KindOf(err) != tt.wantKind {
				t.Errorf("kind = %v, want %v", KindOf(err), tt.wantKind)
			}
		})
	}
}
