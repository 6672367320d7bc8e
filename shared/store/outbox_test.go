package store

import (
	"testing"
	"time"

	"microcert/shared/domain"
)

// dueEverywhere reads every outbox shard as of at.
func dueEverywhere(t *testing.T, s *Store, at time.Time) []domain.OutboxEntry {
	t.Helper()
	var out []domain.OutboxEntry
	for shard := 0; shard < OutboxShards; shard++ {
		es, err := s.DueOutbox(ctx, shard, at, 100)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, es...)
	}
	return out
}

// The notification written with a state change is the outbox entry: due
// until fanned out, then its deliveries are due until they end.
func TestOutboxLifecycle(t *testing.T) {
	s, _ := newStore(t)
	e := createEnterprise(t, s, "u1")
	exp := t0.AddDate(0, 0, 60)
	n := domain.Notification{ID: domain.NewIDAt(t0), EnterpriseID: e.ID, Kind: domain.NoticeReminder, CreatedAt: t0,
		Subject: domain.NoticeSubject{CertType: domain.CertWeCom, ExpiresAt: &exp, DaysLeft: 60}}
	inboxOnly := domain.Notification{ID: domain.NewIDAt(t0), EnterpriseID: e.ID, Kind: "not_sent_anywhere", CreatedAt: t0}
	mustCommit(t, s, &domain.Change{Notifications: []domain.Notification{n, inboxOnly}})

	if got := dueEverywhere(t, s, t0.Add(-time.Second)); len(got) != 0 {
		t.Fatalf("due before it was written: %+v", got)
	}
	got := dueEverywhere(t, s, t0)
	if len(got) != 1 || got[0].Notification == nil || got[0].Notification.ID != n.ID {
		t.Fatalf("due = %+v, want the reminder alone", got)
	}
	if d := diff(n, *got[0].Notification); d != "" {
		t.Errorf("notification (-want +got):\n%s", d)
	}

	ds := []domain.Delivery{
		{ID: domain.DeliveryID(n.ID, domain.ChannelSMS, "u1"), NotificationID: n.ID, EnterpriseID: e.ID, Channel: domain.ChannelSMS,
			Recipient: "u1", Address: "13800138000", Status: domain.DeliveryPending, NextAttemptAt: &t0, CreatedAt: t0, UpdatedAt: t0, Version: 1},
		{ID: domain.DeliveryID(n.ID, domain.ChannelWebhook, "ep1"), NotificationID: n.ID, EnterpriseID: e.ID, Channel: domain.ChannelWebhook,
			Recipient: "ep1", Payload: []byte(`{}`), Status: domain.DeliveryPending, NextAttemptAt: &t0, CreatedAt: t0, UpdatedAt: t0, Version: 1},
	}
	if err := s.FanOut(ctx, got[0].Notification, ds, t0); err != nil {
		t.Fatal(err)
	}
	// A second fan-out (a crash before the first was recorded) adds nothing.
	if err := s.FanOut(ctx, got[0].Notification, ds, t0); err != nil {
		t.Fatal(err)
	}
	got = dueEverywhere(t, s, t0)
	if len(got) != 2 || got[0].Delivery == nil || got[1].Delivery == nil {
		t.Fatalf("after fan-out due = %+v, want the two deliveries", got)
	}
	// The inbox still shows it, with its subject.
	ns, _, err := s.ListNotifications(ctx, e.ID, domain.Page{Limit: 10})
	if err != nil || len(ns) != 2 {
		t.Fatalf("inbox: %v %d", err, len(ns))
	}

	// Delivered: off the index; retried: due again at its time.
	done := ds[0]
	done.Status, done.Version, done.NextAttemptAt, done.DeliveredAt = domain.DeliveryDelivered, 2, nil, &t0
	retry := ds[1]
	later := t0.Add(time.Minute)
	retry.Attempts, retry.Version, retry.NextAttemptAt = 1, 2, &later
	mustCommit(t, s, &domain.Change{Deliveries: []domain.DeliveryWrite{{Delivery: &done, ExpectVersion: 1}, {Delivery: &retry, ExpectVersion: 1}}})
	if got := dueEverywhere(t, s, t0); len(got) != 0 {
		t.Fatalf("due = %+v, want none until the retry", got)
	}
	if got := dueEverywhere(t, s, later); len(got) != 1 || got[0].Delivery.ID != retry.ID {
		t.Fatalf("due = %+v, want the retry", got)
	}
	// A stale write (another dispatcher claimed it first) conflicts.
	err = s.Commit(ctx, &domain.Change{Deliveries: []domain.DeliveryWrite{{Delivery: &retry, ExpectVersion: 1}}})
	wantCode(t, err, domain.KindConflict, "version_conflict")

	// The endpoint's deliveries, newest first.
	list, _, err := s.ListEndpointDeliveries(ctx, "ep1", domain.Page{Limit: 10})
	if err != nil || len(list) != 1 || list[0].Attempts != 1 {
		t.Fatalf("endpoint deliveries: %v %+v", err, list)
	}
	got1, err := s.GetDelivery(ctx, e.ID, ds[0].ID)
	if err != nil || got1.Status != domain.DeliveryDelivered || got1.Address != "13800138000" {
		t.Fatalf("get delivery: %v %+v", err, got1)
	}
}

func TestReadMarks(t *testing.T) {
	s, _ := newStore(t)
	e := createEnterprise(t, s, "u1")
	at := t0.Add(1234567 * time.Nanosecond)
	n := domain.Notification{ID: domain.NewIDAt(at), EnterpriseID: e.ID, Kind: domain.NoticeDecision, CreatedAt: at}
	mustCommit(t, s, &domain.Change{Notifications: []domain.Notification{n}})

	found, err := s.FindNotification(ctx, e.ID, n.ID)
	if err != nil || found.ID != n.ID {
		t.Fatalf("find: %v %+v", err, found)
	}
	for name, id := range map[string]string{"unknown": domain.NewIDAt(at), "malformed": "x"} {
		_, err := s.FindNotification(ctx, e.ID, id)
		wantCode(t, err, domain.KindNotFound, "not_found")
		_ = name
	}
	mark := domain.ReadMark{EnterpriseID: e.ID, UserID: "u1", NotificationID: n.ID, At: t0.Add(time.Hour)}
	mustCommit(t, s, &domain.Change{Reads: []domain.ReadMark{mark}})
	// Again: a duplicate, and the first time stays.
	mark.At = t0.Add(2 * time.Hour)
	wantCode(t, s.Commit(ctx, &domain.Change{Reads: []domain.ReadMark{mark}}), domain.KindConflict, "duplicate")
	mine, err := s.ReadMarks(ctx, e.ID, "u1", []string{n.ID})
	if err != nil || !mine[n.ID].Equal(t0.Add(time.Hour)) {
		t.Fatalf("u1's marks: %v %v", err, mine)
	}
	marks, err := s.ReadMarks(ctx, e.ID, "u2", []string{n.ID})
	if err != nil || len(marks) != 0 {
		t.Fatalf("another member's marks: %v %v", err, marks)
	}
	// The read mark is not a notification.
	ns, _, _ := s.ListNotifications(ctx, e.ID, domain.Page{Limit: 10})
	if len(ns) != 1 {
		t.Errorf("%d notifications, want 1", len(ns))
	}
}

func TestWebhookEndpoints(t *testing.T) {
	s, _ := newStore(t)
	e := createEnterprise(t, s, "u1")
	ep := &domain.WebhookEndpoint{ID: domain.NewIDAt(t0), EnterpriseID: e.ID, URL: "https://example.com/hook",
		EventTypes: []string{domain.EventCaseUpdated}, Status: domain.WebhookEnabled, Secret: "whsec_a", CreatedBy: "u1",
		CreatedAt: t0, UpdatedAt: t0, Version: 1}
	mustCommit(t, s, &domain.Change{Endpoints: []domain.WebhookEndpointWrite{{Endpoint: ep, Create: true}}})
	next := *ep
	next.Rotate("whsec_b", t0)
	next.Version = 2
	mustCommit(t, s, &domain.Change{Endpoints: []domain.WebhookEndpointWrite{{Endpoint: &next, ExpectVersion: 1}}})
	eps, err := s.WebhookEndpoints(ctx, e.ID)
	if err != nil || len(eps) != 1 {
		t.Fatalf("list: %v %v", err, eps)
	}
	if d := diff(next, eps[0]); d != "" {
		t.Errorf("endpoint (-want +got):\n%s", d)
	}
	err = s.Commit(ctx, &domain.Change{Endpoints: []domain.WebhookEndpointWrite{{Endpoint: &next, Delete: true, ExpectVersion: 1}}})
	wantCode(t, err, domain.KindConflict, "version_conflict")
	mustCommit(t, s, &domain.Change{Endpoints: []domain.WebhookEndpointWrite{{Endpoint: &next, Delete: true, ExpectVersion: 2}}})
	if eps, _ := s.WebhookEndpoints(ctx, e.ID); len(eps) != 0 {
		t.Errorf("after delete: %v", eps)
	}
}
