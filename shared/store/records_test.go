package store

import (
	"fmt"
	"testing"
	"time"

	"microcert/shared/clock"
	"microcert/shared/domain"
)

func hist(caseID string, at time.Time, to string) domain.HistoryRecord {
	return domain.HistoryRecord{CaseID: caseID, Entry: domain.HistoryEntry{ID: domain.NewIDAt(at), At: at,
		ActorID: "u1", Role: domain.RoleApplicant, Subject: "case", From: "draft", To: to}}
}

func TestCaseBundle(t *testing.T) {
	s, counter := newStore(t)
	e := createEnterprise(t, s, "u1")
	c := createCase(t, s, e, t0)
	other := createCase(t, s, e, t0)

	// Documents created out of id order; history written out of time order.
	d2 := sampleDocument(c, t0.Add(2*time.Minute))
	d1 := sampleDocument(c, t0.Add(1*time.Minute))
	d1.ID = "7zzzzzzzzzzzzzzzzzzzzzzzzz" // sorts last by key, first by time
	h2 := hist(c.ID, t0.Add(2*time.Hour), "submitted")
	h1 := hist(c.ID, t0.Add(1*time.Hour), "draft")
	mustCommit(t, s, &domain.Change{
		Documents: []domain.DocumentWrite{{Document: d2, Create: true}, {Document: d1, Create: true}},
		History:   []domain.HistoryRecord{h2, h1},
		Payouts:   []domain.Payout{{CaseID: c.ID, AmountFen: 37, AccountLast4: "1234", At: t0}},
		Audits: []domain.AuditEntry{{ID: domain.NewIDAt(t0), At: t0, ActorID: "r1", Role: domain.RoleReviewer,
			Action: "download", DocumentID: d1.ID, CaseID: c.ID}},
	})
	mustCommit(t, s, &domain.Change{Documents: []domain.DocumentWrite{{Document: sampleDocument(other, t0), Create: true}},
		History: []domain.HistoryRecord{hist(other.ID, t0, "x")}})

	counter.Reset()
	b, err := s.GetCaseBundle(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := &domain.CaseBundle{Case: c, Documents: []domain.Document{*d1, *d2},
		History: []domain.HistoryEntry{h1.Entry, h2.Entry}}
	if d := diff(want, b); d != "" {
		t.Errorf("bundle (-want +got):\n%s", d)
	}
	if counter.Calls("Query") != 1 || counter.TotalCalls() != 1 {
		t.Errorf("bundle took %d calls", counter.TotalCalls())
	}
	if counter.ItemsRead() != 5 {
		t.Errorf("bundle read %d items, want 5 (no payouts, no audits)", counter.ItemsRead())
	}

	_, err = s.GetCaseBundle(ctx, domain.NewIDAt(t0))
	wantCode(t, err, domain.KindNotFound, "not_found")

	audits, err := s.ListAudit(ctx, c.ID)
	if err != nil || len(audits) != 1 || audits[0].DocumentID != d1.ID {
		t.Errorf("ListAudit = %+v, %v", audits, err)
	}
	payouts, err := s.Payouts(ctx, c.ID)
	if d := diff([]domain.Payout{{CaseID: c.ID, AmountFen: 37, AccountLast4: "1234", At: t0}}, payouts); d != "" || err != nil {
		t.Errorf("Payouts (-want +got):\n%s %v", d, err)
	}
	if p, err := s.Payouts(ctx, other.ID); err != nil || len(p) != 0 {
		t.Errorf("other case payouts %v %v", p, err)
	}

	// Writing the same history entry again is a duplicate.
	err = s.Commit(ctx, &domain.Change{History: []domain.HistoryRecord{h1}})
	wantCode(t, err, domain.KindConflict, "duplicate")
}

func TestCaseBundleManyPages(t *testing.T) {
	s, _ := newStore(t)
	e := createEnterprise(t, s, "u1")
	c := createCase(t, s, e, t0)
	// Enough history to need several Commits (and, on DynamoDB, pages).
	for i := 0; i < 3; i++ {
		ch := &domain.Change{}
		for j := 0; j < 90; j++ {
			ch.History = append(ch.History, hist(c.ID, t0.Add(time.Duration(i*100+j)*time.Second), fmt.Sprint(j)))
		}
		mustCommit(t, s, ch)
	}
	b, err := s.GetCaseBundle(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.History) != 270 {
		t.Fatalf("%d history entries, want 270", len(b.History))
	}
	for i := 1; i < len(b.History); i++ {
		if b.History[i].At.Before(b.History[i-1].At) {
			t.Fatalf("history out of order at %d", i)
		}
	}
}

func TestNotificationsNewestFirst(t *testing.T) {
	s, _ := newStore(t)
	e := createEnterprise(t, s, "u1")
	other := createEnterprise(t, s, "u2")
	var want []string
	ch := &domain.Change{}
	for i := 0; i < 5; i++ {
		n := domain.Notification{ID: domain.NewIDAt(t0), EnterpriseID: e.ID, Kind: "reminder",
			Title: domain.Text{Zh: "提醒", En: "Reminder"}, Body: domain.Text{Zh: fmt.Sprint(i), En: fmt.Sprint(i)},
			CreatedAt: t0.Add(time.Duration(i) * time.Hour)}
		ch.Notifications = append(ch.Notifications, n)
		want = append([]string{n.ID}, want...)
	}
	ch.Notifications = append(ch.Notifications, domain.Notification{ID: domain.NewIDAt(t0), EnterpriseID: other.ID, CreatedAt: t0})
	// A reminder mark and certification history live in the same partition
	// and must not show up as notifications.
	ch.ReminderMarks = []domain.ReminderMark{{EnterpriseID: e.ID, Type: domain.CertWeCom, Cycle: 1, Milestone: 60, At: t0}}
	ch.History = []domain.HistoryRecord{{EnterpriseID: e.ID, Entry: domain.HistoryEntry{ID: domain.NewIDAt(t0), At: t0, Subject: "certification:wecom"}}}
	mustCommit(t, s, ch)

	var got []string
	cursor := ""
	for i := 0; i < 10; i++ {
		ns, next, err := s.ListNotifications(ctx, e.ID, domain.Page{Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range ns {
			got = append(got, n.ID)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if d := diff(want, got); d != "" {
		t.Errorf("notifications (-want +got):\n%s", d)
	}

	// Another enterprise's cursor, or a cursor outside the N# range.
	for name, cur := range map[string]string{
		"other enterprise":   mustCursor(t, map[string]string{"pk": entPK(other.ID), "sk": "N#x"}),
		"not a notification": mustCursor(t, map[string]string{"pk": entPK(e.ID), "sk": "B#CERT#wecom"}),
		"index cursor":       mustCursor(t, map[string]string{"pk": entPK(e.ID), "sk": "N#x", "gsi1pk": "a", "gsi1sk": "b"}),
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := s.ListNotifications(ctx, e.ID, domain.Page{Limit: 2, Cursor: cur})
			wantCode(t, err, domain.KindInvalid, "invalid_cursor")
		})
	}
}

func TestReminderMarksOnce(t *testing.T) {
	s, _ := newStore(t)
	e := createEnterprise(t, s, "u1")
	cert := sampleCert(e.ID, domain.CertWeCom, domain.CertActive, t0.AddDate(0, 0, 59))
	mustCommit(t, s, &domain.Change{Certifications: []domain.CertificationWrite{{Certification: cert, Create: true}}})
	mark := domain.ReminderMark{EnterpriseID: e.ID, Type: domain.CertWeCom, Cycle: 1, Milestone: 60, At: t0}
	note := func() domain.Notification {
		return domain.Notification{ID: domain.NewIDAt(t0), EnterpriseID: e.ID, Kind: "reminder", CreatedAt: t0}
	}
	mustCommit(t, s, &domain.Change{ReminderMarks: []domain.ReminderMark{mark}, Notifications: []domain.Notification{note()}})
	// The job runs again: the mark stops the second notification.
	err := s.Commit(ctx, &domain.Change{ReminderMarks: []domain.ReminderMark{mark}, Notifications: []domain.Notification{note()}})
	wantCode(t, err, domain.KindConflict, "duplicate")
	ns, _, _ := s.ListNotifications(ctx, e.ID, domain.Page{Limit: 10})
	if len(ns) != 1 {
		t.Errorf("%d notifications, want 1", len(ns))
	}
	// Another milestone or cycle is a new mark.
	mark.Milestone = 30
	mustCommit(t, s, &domain.Change{ReminderMarks: []domain.ReminderMark{mark}})
	mark.Cycle = 2
	mustCommit(t, s, &domain.Change{ReminderMarks: []domain.ReminderMark{mark}})
	if ttl := rawTTL(t, s, entPK(e.ID), markSK(domain.CertWeCom, 2, 30)); ttl != t0.Add(markRetention).Unix() {
		t.Errorf("mark ttl %d", ttl)
	}
}

func TestRefsAndOrderPayable(t *testing.T) {
	s, _ := newStore(t)
	fake := clock.NewFake(t0)
	s.WithClock(fake)
	e := createEnterprise(t, s, "u1")
	c := createCase(t, s, e, t0)
	paying := nextCase(c, func(n *domain.Case) {
		n.Payment = &domain.Payment{OrderID: "ord-1", Status: domain.PaymentPending, AmountFen: 15000, CreatedAt: t0}
	})
	mustCommit(t, s, &domain.Change{
		Cases: []domain.CaseWrite{{Case: paying, ExpectVersion: 1}},
		Refs: []domain.Ref{
			{Kind: domain.RefOrder, ID: "ord-1", CaseID: c.ID, ExpiresAt: t0.AddDate(0, 0, 7)},
			{Kind: domain.RefOrder, ID: "ord-stale", CaseID: c.ID, ExpiresAt: t0.AddDate(0, 0, 7)},
			{Kind: domain.RefSession, ID: "sess-1", CaseID: c.ID, ExpiresAt: t0.Add(15 * time.Minute)},
		},
	})
	tests := []struct {
		kind domain.RefKind
		id   string
		want string
	}{
		{domain.RefOrder, "ord-1", c.ID},
		{domain.RefSession, "sess-1", c.ID},
		{domain.RefSession, "ord-1", ""}, // kinds do not mix
		{domain.RefOrder, "nope", ""},
	}
	for _, tc := range tests {
		t.Run(string(tc.kind)+"/"+tc.id, func(t *testing.T) {
			got, err := s.ResolveRef(ctx, tc.kind, tc.id)
			if tc.want == "" {
				wantCode(t, err, domain.KindNotFound, "not_found")
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("ResolveRef = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	amount, err := s.OrderPayable(ctx, "ord-1")
	if err != nil || amount != 15000 {
		t.Errorf("OrderPayable = %d, %v", amount, err)
	}
	_, err = s.OrderPayable(ctx, "ord-stale") // the case's order is another one
	wantCode(t, err, domain.KindNotFound, "not_found")
	_, err = s.OrderPayable(ctx, "nope")
	wantCode(t, err, domain.KindNotFound, "not_found")

	// A ref is gone once its TTL has passed, whether or not DynamoDB has
	// deleted it yet.
	fake.Set(t0.Add(15*time.Minute + 24*time.Hour + time.Second))
	_, err = s.ResolveRef(ctx, domain.RefSession, "sess-1")
	wantCode(t, err, domain.KindNotFound, "not_found")

	// The same ref twice is a duplicate.
	err = s.Commit(ctx, &domain.Change{Refs: []domain.Ref{{Kind: domain.RefOrder, ID: "ord-1", CaseID: c.ID, ExpiresAt: t0}}})
	wantCode(t, err, domain.KindConflict, "duplicate")
}
