package store

import (
	"sync"
	"testing"
	"time"

	"microcert/shared/domain"
)

func submit(c *domain.Case, at time.Time, due time.Time) *domain.Case {
	return nextCase(c, func(n *domain.Case) {
		n.Status = domain.CaseSubmitted
		n.SubmittedAt = ptr(at)
		n.ReviewDueAt = ptr(due)
		n.UpdatedAt = at
	})
}

func caseIDs(cs []domain.Case) []string {
	ids := []string{}
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}

func TestCaseCreateGetUpdate(t *testing.T) {
	s, _ := newStore(t)
	e := createEnterprise(t, s, "u1")
	c := createCase(t, s, e, t0)

	got, err := s.GetCase(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := diff(c, got); d != "" {
		t.Errorf("GetCase (-want +got):\n%s", d)
	}

	// Create twice: the second is a conflict (the id exists).
	err = s.Commit(ctx, &domain.Change{Cases: []domain.CaseWrite{{Case: c, Create: true}}})
	wantCode(t, err, domain.KindConflict, "version_conflict")

	tests := []struct {
		name   string
		expect int
		next   func(*domain.Case) *domain.Case
		code   string
	}{
		{"current version applies", 1, func(c *domain.Case) *domain.Case { return submit(c, t0, t0.Add(120*time.Hour)) }, ""},
		{"stale version conflicts", 1, func(c *domain.Case) *domain.Case {
			n := *c
			n.Version = 2
			n.Explanation = "late"
			return &n
		}, "version_conflict"},
		{"future version conflicts", 5, func(c *domain.Case) *domain.Case {
			n := *c
			n.Version = 6
			return &n
		}, "version_conflict"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cur, err := s.GetCase(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			n := tc.next(cur)
			err = s.Commit(ctx, &domain.Change{Cases: []domain.CaseWrite{{Case: n, ExpectVersion: tc.expect}}})
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				got, err := s.GetCase(ctx, c.ID)
				if err != nil {
					t.Fatal(err)
				}
				if d := diff(n, got); d != "" {
					t.Errorf("(-want +got):\n%s", d)
				}
				return
			}
			wantCode(t, err, domain.KindConflict, tc.code)
		})
	}

	// The entity must carry ExpectVersion+1.
	cur, _ := s.GetCase(ctx, c.ID)
	bad := *cur
	err = s.Commit(ctx, &domain.Change{Cases: []domain.CaseWrite{{Case: &bad, ExpectVersion: cur.Version}}})
	wantCode(t, err, domain.KindInternal, "internal")

	_, err = s.GetCase(ctx, domain.NewIDAt(t0))
	wantCode(t, err, domain.KindNotFound, "not_found")
}

func TestCaseOptionalFieldsCleared(t *testing.T) {
	s, _ := newStore(t)
	e := createEnterprise(t, s, "u1")
	c := createCase(t, s, e, t0)
	withClaim := nextCase(c, func(n *domain.Case) {
		n.Claim = &domain.Claim{ReviewerID: "r1", ClaimedAt: t0, ExpiresAt: t0.Add(2 * time.Hour)}
		n.Payment = &domain.Payment{OrderID: "o1", Status: domain.PaymentPending, AmountFen: 15000, CreatedAt: t0}
	})
	mustCommit(t, s, &domain.Change{Cases: []domain.CaseWrite{{Case: withClaim, ExpectVersion: 1}}})
	cleared := nextCase(withClaim, func(n *domain.Case) { n.Claim = nil })
	mustCommit(t, s, &domain.Change{Cases: []domain.CaseWrite{{Case: cleared, ExpectVersion: 2}}})
	got, err := s.GetCase(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Claim != nil || got.Payment == nil {
		t.Errorf("claim %v payment %v: want claim removed, payment kept", got.Claim, got.Payment)
	}
}

// Two reviewers decide the same case at once: exactly one wins.
func TestConcurrentCommitsOneWins(t *testing.T) {
	s, _ := newStore(t)
	e := createEnterprise(t, s, "u1")
	c := createCase(t, s, e, t0)
	const n = 10
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		winners   []string
		conflicts int
	)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			reviewer := string(rune('a' + i))
			next := nextCase(c, func(x *domain.Case) {
				x.Status = domain.CaseApproved
				x.LastDecision = &domain.Decision{Decision: domain.DecisionApprove, ReviewerID: reviewer, At: t0}
			})
			h := domain.HistoryRecord{CaseID: c.ID, Entry: domain.HistoryEntry{ID: domain.NewIDAt(t0), At: t0,
				ActorID: reviewer, Role: domain.RoleReviewer, Subject: "case", From: "in_review", To: "approved"}}
			err := s.Commit(ctx, &domain.Change{Cases: []domain.CaseWrite{{Case: next, ExpectVersion: 1}},
				History: []domain.HistoryRecord{h}})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				winners = append(winners, reviewer)
			case domain.CodeOf(err) == "version_conflict":
				conflicts++
			default:
				t.Errorf("commit: %v", err)
			}
		}(i)
	}
	wg.Wait()
	if len(winners) != 1 || conflicts != n-1 {
		t.Fatalf("winners %v, conflicts %d; want one winner", winners, conflicts)
	}
	b, err := s.GetCaseBundle(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if b.Case.Version != 2 || b.Case.LastDecision.ReviewerID != winners[0] {
		t.Errorf("stored decision by %s v%d, want %s v2", b.Case.LastDecision.ReviewerID, b.Case.Version, winners[0])
	}
	if len(b.History) != 1 || b.History[0].ActorID != winners[0] {
		t.Errorf("history %+v: want only the winner's entry", b.History)
	}
}

// A case is on the queue while submitted or in review, off it after the
// decision; DueIndex follows the pending work.
func TestQueueAndDueIndexFollowStatus(t *testing.T) {
	s, counter := newStore(t)
	e := createEnterprise(t, s, "u1")
	c1 := createCase(t, s, e, t0)
	c2 := createCase(t, s, e, t0.Add(time.Minute))
	createCase(t, s, e, t0.Add(2*time.Minute)) // stays a draft

	s1 := submit(c1, t0, t0.Add(96*time.Hour))
	s2 := submit(c2, t0, t0.Add(72*time.Hour)) // due earlier
	mustCommit(t, s, &domain.Change{Cases: []domain.CaseWrite{{Case: s1, ExpectVersion: 1}, {Case: s2, ExpectVersion: 1}}})

	q, next, err := s.ListQueue(ctx, domain.Page{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if d := diff([]string{c2.ID, c1.ID}, caseIDs(q)); d != "" || next != "" {
		t.Errorf("queue (-want +got):\n%s next %q", d, next)
	}

	due, _, err := s.DueCases(ctx, t0.Add(80*time.Hour), domain.Page{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if d := diff([]string{c2.ID}, caseIDs(due)); d != "" {
		t.Errorf("due by +80h (-want +got):\n%s", d)
	}
	// Due exactly at the bound counts.
	due, _, _ = s.DueCases(ctx, t0.Add(72*time.Hour), domain.Page{Limit: 10})
	if d := diff([]string{c2.ID}, caseIDs(due)); d != "" {
		t.Errorf("due at the bound (-want +got):\n%s", d)
	}

	// Claimed: still queued; due at the claim expiry, the earlier.
	claimed := nextCase(s2, func(n *domain.Case) {
		n.Status = domain.CaseInReview
		n.Claim = &domain.Claim{ReviewerID: "r1", ClaimedAt: t0, ExpiresAt: t0.Add(2 * time.Hour)}
	})
	mustCommit(t, s, &domain.Change{Cases: []domain.CaseWrite{{Case: claimed, ExpectVersion: 2}}})
	due, _, _ = s.DueCases(ctx, t0.Add(3*time.Hour), domain.Page{Limit: 10})
	if d := diff([]string{c2.ID}, caseIDs(due)); d != "" {
		t.Errorf("due by claim expiry (-want +got):\n%s", d)
	}

	// Decided: off the queue and off DueIndex.
	approved := nextCase(claimed, func(n *domain.Case) {
		n.Status = domain.CaseApproved
		n.Claim = nil
	})
	mustCommit(t, s, &domain.Change{Cases: []domain.CaseWrite{{Case: approved, ExpectVersion: 3}}})
	q, _, _ = s.ListQueue(ctx, domain.Page{Limit: 10})
	if d := diff([]string{c1.ID}, caseIDs(q)); d != "" {
		t.Errorf("queue after decision (-want +got):\n%s", d)
	}
	counter.Reset()
	due, _, _ = s.DueCases(ctx, t0.AddDate(1, 0, 0), domain.Page{Limit: 10})
	if d := diff([]string{c1.ID}, caseIDs(due)); d != "" {
		t.Errorf("due after decision (-want +got):\n%s", d)
	}
	if got := counter.ItemsRead(); got != 1 {
		t.Errorf("DueCases read %d items, want 1", got)
	}

	// SLA breach recorded: the case stays queued but is no longer due.
	breached := nextCase(s1, func(n *domain.Case) { n.SLABreached = true })
	mustCommit(t, s, &domain.Change{Cases: []domain.CaseWrite{{Case: breached, ExpectVersion: 2}}})
	due, _, _ = s.DueCases(ctx, t0.AddDate(1, 0, 0), domain.Page{Limit: 10})
	q, _, _ = s.ListQueue(ctx, domain.Page{Limit: 10})
	if len(due) != 0 || len(q) != 1 {
		t.Errorf("after breach: due %v queue %v; want none due, one queued", caseIDs(due), caseIDs(q))
	}
	if counter.Calls("Scan") != 0 {
		t.Errorf("Scan called")
	}
}

func TestListCasesNewestFirstAndCursors(t *testing.T) {
	s, counter := newStore(t)
	e := createEnterprise(t, s, "u1")
	other := createEnterprise(t, s, "u2")
	var want []string
	for i := 0; i < 5; i++ {
		c := createCase(t, s, e, t0.Add(time.Duration(i)*time.Hour))
		want = append([]string{c.ID}, want...)
	}
	createCase(t, s, other, t0)

	var got []string
	cursor := ""
	pages := 0
	for {
		cs, next, err := s.ListCases(ctx, e.ID, domain.Page{Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) > 2 {
			t.Fatalf("page of %d > limit", len(cs))
		}
		got = append(got, caseIDs(cs)...)
		pages++
		if next == "" {
			break
		}
		if pages > 5 {
			t.Fatal("cursor does not end")
		}
		cursor = next
	}
	if d := diff(want, got); d != "" {
		t.Errorf("ListCases (-want +got):\n%s", d)
	}

	// A cursor of one enterprise's list is refused for another's, and for
	// another list; tampered cursors are refused.
	_, next, err := s.ListCases(ctx, e.ID, domain.Page{Limit: 2})
	if err != nil || next == "" {
		t.Fatalf("first page: next %q err %v", next, err)
	}
	notesCursor := mustCursor(t, map[string]string{"pk": entPK(e.ID), "sk": "N#x"})
	bad := map[string]string{
		"not base64":          "%%%",
		"not json":            "bm90IGpzb24",
		"other enterprise":    mustCursor(t, map[string]string{"pk": casePK("x"), "sk": skCase, "gsi1pk": entCasesPK(other.ID), "gsi1sk": "2026"}),
		"missing attribute":   mustCursor(t, map[string]string{"pk": casePK("x"), "sk": skCase, "gsi1pk": entCasesPK(e.ID)}),
		"extra attribute":     mustCursor(t, map[string]string{"pk": casePK("x"), "sk": skCase, "gsi1pk": entCasesPK(e.ID), "gsi1sk": "2026", "qpk": "QUEUE"}),
		"other list's cursor": notesCursor,
		"not a case item":     mustCursor(t, map[string]string{"pk": entPK("x"), "sk": skProfile, "gsi1pk": entCasesPK(e.ID), "gsi1sk": "2026"}),
		"number instead of S": "eyJwayI6MX0",
		"empty value":         mustCursor(t, map[string]string{"pk": "", "sk": skCase, "gsi1pk": entCasesPK(e.ID), "gsi1sk": "2026"}),
		"padding is not ours": next + "==",
		"huge":                string(make([]byte, 5000)),
	}
	counter.Reset()
	for name, cur := range bad {
		t.Run(name, func(t *testing.T) {
			_, _, err := s.ListCases(ctx, e.ID, domain.Page{Limit: 2, Cursor: cur})
			wantCode(t, err, domain.KindInvalid, "invalid_cursor")
		})
	}
	if n := counter.TotalCalls(); n != 0 {
		t.Errorf("invalid cursors made %d calls, want 0", n)
	}
}

func mustCursor(t *testing.T, m map[string]string) string {
	t.Helper()
	lek := map[string]string{}
	for k, v := range m {
		lek[k] = v
	}
	c, err := encodeCursor(toLEK(lek))
	if err != nil {
		t.Fatal(err)
	}
	return c
}
