package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"microcert/shared/domain"
	"microcert/shared/jobs"
)

func TestExpiryDaysAfterExpiry(t *testing.T) {
	certified := domain.CapabilitiesFor(&domain.Certification{Type: domain.CertOfficialAccount, Status: domain.CertActive,
		ExpiresAt: expires}, expires.Add(-time.Hour), rules)
	tests := []struct {
		name      string
		days      []int // days after the expiry day on which the job runs
		status    domain.CertStatus
		history   []string // from->to
		kinds     []string // notification kinds
		certified bool
		suspended bool
	}{
		{name: "day 0", days: []int{0}, status: domain.CertActive, certified: true},
		{name: "day 1", days: []int{0, 1}, status: domain.CertOverdue,
			history: []string{"active->overdue"}, kinds: []string{jobs.KindOverdue}, suspended: true},
		{name: "day 30", days: []int{1, 30}, status: domain.CertOverdue,
			history: []string{"active->overdue"}, kinds: []string{jobs.KindOverdue}, suspended: true},
		{name: "day 31", days: []int{0, 1, 2, 30, 31}, status: domain.CertLapsed,
			history: []string{"active->overdue", "overdue->lapsed"}, kinds: []string{jobs.KindOverdue, jobs.KindLapsed}},
		{name: "day 31 after an outage", days: []int{31}, status: domain.CertLapsed,
			history: []string{"active->overdue", "overdue->lapsed"}, kinds: []string{jobs.KindLapsed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			ent := domain.NewID()
			c := newCert(ent, domain.CertOfficialAccount, expires)
			c.RemindAt = nil // every reminder sent
			e.createCert(c)
			var now time.Time
			for _, d := range tt.days {
				now = beijingMorning(expires, d)
				for range 2 { // a rerun changes nothing
					if s := e.expiry().Run(ctx, now); !s.Complete || s.Count(jobs.OutFailed)+s.Count(jobs.OutConflict) > 0 {
						t.Fatalf("day %d: %+v", d, s)
					}
				}
			}
			got := e.cert(ent, domain.CertOfficialAccount)
			if got.Status != tt.status {
				t.Errorf("status %s, want %s", got.Status, tt.status)
			}
			var hist []string
			for _, h := range e.history("ENT#" + ent) {
				if h.Subject != "certification:official_account" || h.ActorID != "system" {
					t.Errorf("history entry %+v", h)
				}
				hist = append(hist, h.From+"->"+h.To)
			}
			if d := cmp.Diff(tt.history, hist); d != "" {
				t.Errorf("history (-want +got):\n%s", d)
			}
			var kinds []string
			for _, n := range e.notifications(ent) {
				kinds = append(kinds, n.Kind)
			}
			if d := cmp.Diff(tt.kinds, kinds); d != "" {
				t.Errorf("notifications (-want +got):\n%s", d)
			}
			// Capabilities follow the stored state (and the effective one).
			caps := domain.CapabilitiesFor(got, now, rules)
			if caps.Certified != tt.certified || caps.Suspended != tt.suspended {
				t.Errorf("capabilities %+v, want certified=%v suspended=%v", caps, tt.certified, tt.suspended)
			}
			if tt.certified && !cmp.Equal(caps, certified) {
				t.Errorf("capabilities %+v, want %+v", caps, certified)
			}
			if tt.status == domain.CertLapsed && got.RemindAt != nil {
				t.Errorf("lapsed with RemindAt %v", got.RemindAt)
			}
		})
	}
}

func TestExpiryMessages(t *testing.T) {
	e := newEnv(t)
	ent := domain.NewID()
	c := newCert(ent, domain.CertMiniProgram, expires)
	c.RemindAt = nil
	e.createCert(c)
	e.expiry().Run(ctx, beijingMorning(expires, 1))
	e.expiry().Run(ctx, beijingMorning(expires, 31))
	ns := e.notifications(ent)
	if len(ns) != 2 {
		t.Fatalf("notifications %v", ns)
	}
	want := []domain.Text{
		{Zh: "您的小程序认证已于2027年11月27日（北京时间）到期，相关权益已暂停。请于2027年12月27日前在应用内发起年审以恢复；逾期超过30天认证将失效。",
			En: "Your Mini Program certification expired on 27 November 2027 (Beijing time) and its capabilities are suspended. Open the annual review in the app by 27 December 2027 to restore them; after that the certification lapses."},
		{Zh: "您的小程序认证已于2027年11月27日（北京时间）到期，逾期超过30天未完成年审，认证已失效，相关权益已取消。如需恢复，请在应用内申请恢复认证：缴纳年审费用并重新提交材料审核。",
			En: "Your Mini Program certification expired on 27 November 2027 (Beijing time) and no annual review was completed within 30 days, so it has lapsed and its capabilities are withdrawn. To recover it, apply for reinstatement in the app: pay the annual fee and submit your materials for review."},
	}
	for i, n := range ns {
		if d := cmp.Diff(want[i], n.Body); d != "" {
			t.Errorf("notification %d body (-want +got):\n%s", i, d)
		}
	}
}

// A certification renewed (or cancelled) after the job read it is read
// again (the write path) and left alone: the fresh copy is not due.
func TestExpiryConflictRereads(t *testing.T) {
	e := newEnv(t)
	ent := domain.NewID()
	c := newCert(ent, domain.CertWeCom, expires)
	c.RemindAt = nil
	e.createCert(c)
	now := beijingMorning(expires, 1)
	// The store read by the job is one step behind: the renewal lands
	// between the read and the write.
	racing := &raceStore{Store: e.store, before: func() {
		cur := e.cert(ent, domain.CertWeCom)
		renewed, _, err := domain.ApproveCertification(cur, ent, domain.CertWeCom, domain.KindAnnualReview, "case", now, rules)
		if err != nil {
			t.Fatal(err)
		}
		e.commit(&domain.Change{Certifications: []domain.CertificationWrite{domain.UpdateCertification(cur, &renewed)}})
	}}
	cfg := e.config()
	cfg.Store = racing
	s := jobs.NewExpiry(cfg).Run(ctx, now)
	// The write path reads the certification again and finds nothing due.
	if s.Count(jobs.OutNotDue) != 1 || s.Count(jobs.OutConflict) != 0 || s.Count(jobs.OutOverdue) != 0 {
		t.Fatalf("summary %+v", s)
	}
	if got := e.cert(ent, domain.CertWeCom); got.Status != domain.CertActive || got.Cycle != 2 {
		t.Errorf("renewed certification was changed: %+v", got)
	}
	if ns := e.notifications(ent); len(ns) != 0 {
		t.Errorf("notifications %v", ns)
	}
	// The renewed certification is due a year later: the next run reads
	// nothing.
	if s := e.expiry().Run(ctx, now); s.Read != 0 {
		t.Errorf("rerun read %d", s.Read)
	}
}

// raceStore runs before once, just before the first Commit.
type raceStore struct {
	jobs.Store
	before func()
	done   bool
}

func (r *raceStore) Commit(ctx2 context.Context, ch *domain.Change) error {
	if !r.done {
		r.done = true
		r.before()
	}
	return r.Store.Commit(ctx2, ch)
}

func TestExpiryCaseTimeouts(t *testing.T) {
	now := time.Date(2027, 3, 10, 1, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Minute), now.Add(time.Hour)
	tests := []struct {
		name     string
		setup    func(c *domain.Case)
		outcomes map[string]int
		check    func(t *testing.T, c *domain.Case)
		history  []string
	}{
		{
			name: "stale deposit expires",
			setup: func(c *domain.Case) {
				c.Deposit = &domain.Deposit{Status: domain.DepositPending, Deadline: past, AttemptsLeft: 3, AmountMAC: "x"}
			},
			outcomes: map[string]int{jobs.OutDepositExpired: 1},
			check: func(t *testing.T, c *domain.Case) {
				if c.Deposit.Status != domain.DepositExpired || c.Deposit.AttemptsLeft != 3 {
					t.Errorf("deposit %+v", c.Deposit)
				}
			},
		},
		{
			name: "stale face and qr sessions expire",
			setup: func(c *domain.Case) {
				c.Face = &domain.Verification{SessionID: "s1", Kind: domain.VerifyFace, Status: domain.VerificationPending, ExpiresAt: past}
				c.QR = &domain.Verification{SessionID: "s2", Kind: domain.VerifyQR, Status: domain.VerificationPending, ExpiresAt: past.Add(-time.Hour)}
			},
			outcomes: map[string]int{jobs.OutSessionExpired: 2},
			check: func(t *testing.T, c *domain.Case) {
				if c.Face.Status != domain.VerificationExpired || c.QR.Status != domain.VerificationExpired {
					t.Errorf("sessions %+v %+v", c.Face, c.QR)
				}
			},
		},
		{
			name: "only the stale one of two",
			setup: func(c *domain.Case) {
				c.Face = &domain.Verification{SessionID: "s1", Kind: domain.VerifyFace, Status: domain.VerificationPending, ExpiresAt: past}
				c.Deposit = &domain.Deposit{Status: domain.DepositPending, Deadline: future, AttemptsLeft: 3}
			},
			outcomes: map[string]int{jobs.OutSessionExpired: 1},
			check: func(t *testing.T, c *domain.Case) {
				if c.Face.Status != domain.VerificationExpired || c.Deposit.Status != domain.DepositPending {
					t.Errorf("face %+v deposit %+v", c.Face, c.Deposit)
				}
			},
		},
		{
			name: "expired claim is released",
			setup: func(c *domain.Case) {
				c.Status = domain.CaseInReview
				c.SubmittedAt, c.ReviewDueAt = ptr(now.Add(-48*time.Hour)), ptr(now.Add(72*time.Hour))
				c.Claim = &domain.Claim{ReviewerID: "rev-1", ClaimedAt: past.Add(-2 * time.Hour), ExpiresAt: past}
			},
			outcomes: map[string]int{jobs.OutClaimReleased: 1},
			history:  []string{"in_review->submitted claim_expired"},
			check: func(t *testing.T, c *domain.Case) {
				if c.Status != domain.CaseSubmitted || c.Claim == nil || c.Claim.ReviewerID != "rev-1" {
					t.Errorf("case %s claim %+v", c.Status, c.Claim)
				}
				if c.ClaimActive(now) {
					t.Error("claim still active")
				}
			},
		},
		{
			name: "review past its SLA is flagged",
			setup: func(c *domain.Case) {
				c.Status = domain.CaseSubmitted
				c.SubmittedAt, c.ReviewDueAt = ptr(now.Add(-8*24*time.Hour)), ptr(past)
			},
			outcomes: map[string]int{jobs.OutSLABreached: 1},
			history:  []string{"submitted->submitted review_sla_breached"},
			check: func(t *testing.T, c *domain.Case) {
				if !c.SLABreached || c.Status != domain.CaseSubmitted {
					t.Errorf("case %s breached %v", c.Status, c.SLABreached)
				}
			},
		},
		{
			name: "expired claim past the SLA: both",
			setup: func(c *domain.Case) {
				c.Status = domain.CaseInReview
				c.SubmittedAt, c.ReviewDueAt = ptr(now.Add(-8*24*time.Hour)), ptr(past.Add(-time.Hour))
				c.Claim = &domain.Claim{ReviewerID: "rev-1", ClaimedAt: past.Add(-2 * time.Hour), ExpiresAt: past}
			},
			outcomes: map[string]int{jobs.OutClaimReleased: 1, jobs.OutSLABreached: 1},
			history:  []string{"in_review->submitted claim_expired", "submitted->submitted review_sla_breached"},
			check: func(t *testing.T, c *domain.Case) {
				if !c.SLABreached || c.Status != domain.CaseSubmitted {
					t.Errorf("case %s breached %v", c.Status, c.SLABreached)
				}
			},
		},
		{
			name: "nothing stale yet",
			setup: func(c *domain.Case) {
				c.Status = domain.CaseInReview
				c.SubmittedAt, c.ReviewDueAt = ptr(now.Add(-48*time.Hour)), ptr(future)
				c.Claim = &domain.Claim{ReviewerID: "rev-1", ClaimedAt: now.Add(-time.Hour), ExpiresAt: future}
				c.Deposit = &domain.Deposit{Status: domain.DepositPending, Deadline: future}
			},
			outcomes: map[string]int{},
			check: func(t *testing.T, c *domain.Case) {
				if c.Status != domain.CaseInReview || c.Version != 1 {
					t.Errorf("case changed: %s v%d", c.Status, c.Version)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			c := newCase(now.Add(-72 * time.Hour))
			tt.setup(c)
			e.commit(&domain.Change{Cases: []domain.CaseWrite{{Case: c, Create: true}}})

			s := e.expiry().Run(ctx, now)
			got := s.Counts
			delete(got, jobs.OutNotDue)
			if d := cmp.Diff(tt.outcomes, got, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("outcomes (-want +got):\n%s", d)
			}
			stored, err := e.store.GetCase(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, stored)
			var hist []string
			for _, h := range e.history("CASE#" + c.ID) {
				hist = append(hist, h.From+"->"+h.To+" "+h.Reasons[0])
			}
			if d := cmp.Diff(tt.history, hist); d != "" {
				t.Errorf("history (-want +got):\n%s", d)
			}
			// A review past its deadline tells the enterprise, once.
			var late int
			for _, n := range e.notifications(c.EnterpriseID) {
				if n.Kind == domain.NoticeReviewLate && n.CaseID == c.ID && n.Subject.CaseStatus == domain.CaseSubmitted {
					late++
				}
			}
			if want := tt.outcomes[jobs.OutSLABreached]; late != want {
				t.Errorf("%d review_late notifications, want %d", late, want)
			}
			// Done work leaves the due range: a rerun reads nothing, and
			// the case comes back only when its next deadline passes.
			if s := e.expiry().Run(ctx, now); s.Read != 0 {
				t.Errorf("rerun read %d items (%+v), want 0", s.Read, s.Counts)
			}
		})
	}
}

func newCase(at time.Time) *domain.Case {
	return &domain.Case{
		ID:           domain.NewIDAt(at),
		EnterpriseID: domain.NewIDAt(at),
		OpenedBy:     "user-1",
		Kind:         domain.KindInitial,
		Types:        []domain.CertType{domain.CertWeCom},
		Status:       domain.CaseDraft,
		Version:      1,
		CreatedAt:    at,
		UpdatedAt:    at,
		Fee:          domain.Fee{AmountFen: 30000, PayableFen: 30000, Currency: "CNY"},
	}
}
