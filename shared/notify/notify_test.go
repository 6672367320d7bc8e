package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"microcert/shared/clock"
	"microcert/shared/domain"
	"microcert/shared/notify"
	"microcert/shared/store"
	"microcert/shared/store/storetest"
	"microcert/shared/webhook"
)

var t0 = time.Date(2027, 9, 27, 1, 0, 0, 0, time.UTC)

// recorder is a provider that keeps one message per idempotency key and
// counts the requests, like the sandbox; fail makes it answer errors.
type recorder struct {
	mu       sync.Mutex
	byKey    map[string]int
	requests int
	fail     error
	lastBody []byte
	lastSig  string
}

func (r *recorder) take(key string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	if r.fail != nil {
		return r.fail
	}
	if r.byKey == nil {
		r.byKey = map[string]int{}
	}
	r.byKey[key]++
	return nil
}

func (r *recorder) SendSubscribeMessage(_ context.Context, m notify.WeChatMessage) error {
	return r.take(m.IdempotencyKey)
}
func (r *recorder) SendSMS(_ context.Context, m notify.SMSMessage) error {
	return r.take(m.IdempotencyKey)
}
func (r *recorder) Post(_ context.Context, w notify.WebhookRequest) error {
	r.mu.Lock()
	r.lastBody, r.lastSig = w.Body, w.Headers[webhook.Header]
	r.mu.Unlock()
	return r.take(w.Headers["Idempotency-Key"])
}

// lossyStore loses the record of the first delivered attempt, as a
// dispatcher that dies between sending and recording does.
type lossyStore struct {
	*store.Store
	mu   sync.Mutex
	lose int
}

func (s *lossyStore) Commit(ctx context.Context, ch *domain.Change) error {
	s.mu.Lock()
	if len(ch.Deliveries) == 1 && ch.Deliveries[0].Delivery.Status == domain.DeliveryDelivered && s.lose > 0 {
		s.lose--
		s.mu.Unlock()
		return domain.E(domain.KindUnavailable, "unavailable", "lost", "lost")
	}
	s.mu.Unlock()
	return s.Store.Commit(ctx, ch)
}

type fixture struct {
	st                 *store.Store
	clk                *clock.Fake
	wechat, sms, hooks *recorder
	d                  *notify.Dispatcher
	ent                *domain.Enterprise
	endpoint           *domain.WebhookEndpoint
}

func setup(t *testing.T, rules domain.Rules) *fixture {
	client, table := storetest.NewTable(t)
	f := &fixture{st: store.New(client, table, rules), clk: clock.NewFake(t0), wechat: &recorder{}, sms: &recorder{}, hooks: &recorder{}}
	e := &domain.Enterprise{ID: domain.NewIDAt(t0), Name: "深圳示例科技有限公司", USCC: domain.SampleUSCC(1),
		LegalRep:          domain.LegalRep{Name: "张三", IDNumber: domain.SampleIDNumber(1), Phone: "13800138000"},
		RegisteredAddress: "深圳市南山区科技园1号", OperatingAddress: "深圳市南山区科技园1号", OwnerID: "owner",
		Status: domain.EnterpriseActive, Version: 1, CreatedAt: t0, UpdatedAt: t0}
	prefs := domain.NotifyPrefs{WeChat: true, SMS: true, WeChatOpenID: "o-owner", WeChatTemplates: []string{"wx-exp"}, Phone: "13900139000", UpdatedAt: t0}
	members := []domain.MemberWrite{
		{Member: &domain.Member{EnterpriseID: e.ID, UserID: "owner", Role: domain.MemberOwner, JoinedAt: t0, UpdatedAt: t0, Version: 1, Notify: prefs}, Create: true},
		{Member: &domain.Member{EnterpriseID: e.ID, UserID: "viewer", Role: domain.MemberViewer, JoinedAt: t0, UpdatedAt: t0, Version: 1}, Create: true},
	}
	f.endpoint = &domain.WebhookEndpoint{ID: domain.NewIDAt(t0), EnterpriseID: e.ID, URL: "https://hooks.example.com/in",
		EventTypes: []string{"*"}, Status: domain.WebhookEnabled, Secret: "whsec_test", CreatedBy: "owner", CreatedAt: t0, UpdatedAt: t0, Version: 1}
	if err := f.st.Commit(context.Background(), &domain.Change{Enterprises: []domain.EnterpriseWrite{{Enterprise: e, Create: true}},
		Members: members, Endpoints: []domain.WebhookEndpointWrite{{Endpoint: f.endpoint, Create: true}}}); err != nil {
		t.Fatal(err)
	}
	f.ent = e
	f.d = &notify.Dispatcher{Store: f.st, WeChat: f.wechat, SMS: f.sms, Webhooks: f.hooks, Rules: rules,
		WeChatTemplates: domain.ChannelTemplates{domain.TemplateExpiring: "wx-exp"},
		SMSTemplates:    domain.ChannelTemplates{domain.TemplateExpiring: "SMS_EXP", domain.TemplateCertStatus: "SMS_STATUS"},
		Clock:           f.clk, Log: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Lease: 30 * time.Second, Timeout: 5 * time.Second, Batch: 25, Shards: store.OutboxShards}
	return f
}

func (f *fixture) reminder(t *testing.T) domain.Notification {
	t.Helper()
	exp := t0.AddDate(0, 0, 60)
	n := domain.Notification{ID: domain.NewIDAt(f.clk.Now()), EnterpriseID: f.ent.ID, Kind: domain.NoticeReminder, CreatedAt: f.clk.Now(),
		Title:   domain.Text{Zh: "提醒", En: "Reminder"},
		Subject: domain.NoticeSubject{CertType: domain.CertWeCom, CertStatus: domain.CertActive, ExpiresAt: &exp, DaysLeft: 60}}
	if err := f.st.Commit(context.Background(), &domain.Change{Notifications: []domain.Notification{n}}); err != nil {
		t.Fatal(err)
	}
	return n
}

// drain passes until a pass finds nothing due.
func (f *fixture) drain(t *testing.T) *notify.Stats {
	t.Helper()
	stats := notify.NewStats()
	for i := 0; i < 10; i++ {
		before := stats.Total()
		if err := f.d.Pass(context.Background(), stats); err != nil {
			t.Fatal(err)
		}
		if stats.Total() == before {
			return stats
		}
	}
	t.Fatal("the outbox never drained")
	return nil
}

func TestReminderReachesEveryChannelOnce(t *testing.T) {
	f := setup(t, domain.DefaultRules)
	n := f.reminder(t)
	stats := f.drain(t)
	for name, r := range map[string]*recorder{"wechat": f.wechat, "sms": f.sms, "webhook": f.hooks} {
		if r.requests != 1 || len(r.byKey) != 1 {
			t.Errorf("%s: %d requests, %d messages; want one of each", name, r.requests, len(r.byKey))
		}
	}
	for _, ch := range []string{"wechat", "sms", "webhook"} {
		if stats.Counts[ch][notify.OutDelivered] != 1 || len(stats.LatencyMs[ch]) != 1 {
			t.Errorf("%s stats: %v %v", ch, stats.Counts[ch], stats.LatencyMs[ch])
		}
	}
	// The webhook body is signed with the endpoint's secret, and says what
	// happened in ids and states only.
	if err := webhook.Verify(f.hooks.lastSig, f.hooks.lastBody, f.clk.Now(), "whsec_test"); err != nil {
		t.Errorf("signature: %v", err)
	}
	var ev struct {
		ID, Type, Created string
		Data              struct {
			CertType  string
			DaysLeft  int
			ExpiresAt string
		}
	}
	if err := json.Unmarshal(f.hooks.lastBody, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.ID != "evt_"+n.ID || ev.Type != domain.EventCertificationExpiring || ev.Data.CertType != "wecom" || ev.Data.DaysLeft != 60 ||
		ev.Data.ExpiresAt != "2027-11-26T01:00:00.000Z" || ev.Created == "" {
		t.Errorf("event %+v", ev)
	}
	if strings.Contains(string(f.hooks.lastBody), "13900139000") || strings.Contains(string(f.hooks.lastBody), "13800138000") {
		t.Error("the event carries a phone number")
	}
	// The viewer chose nothing: no personal delivery for it.
	ds, _, _ := f.st.ListEndpointDeliveries(context.Background(), f.endpoint.ID, domain.Page{Limit: 10})
	if len(ds) != 1 || ds[0].Status != domain.DeliveryDelivered {
		t.Errorf("endpoint deliveries %+v", ds)
	}
}

// A dispatcher that dies after a provider accepted a message, before it
// recorded it, leaves the delivery claimed; once the claim expires the next
// pass sends again with the same key, and the provider keeps one message.
func TestCrashAfterSendIsDeliveredOnce(t *testing.T) {
	f := setup(t, domain.DefaultRules)
	lossy := &lossyStore{Store: f.st, lose: 3} // every channel's first record is lost
	f.d.Store = lossy
	f.reminder(t)
	stats := f.drain(t)
	if stats.Counts["sms"][notify.OutError] != 1 {
		t.Fatalf("stats %v: want the lost record", stats.Counts)
	}
	// Nothing is due while the claim holds.
	if again := f.drain(t); again.Total() != 0 {
		t.Fatalf("due during the lease: %v", again.Counts)
	}
	f.clk.Advance(31 * time.Second)
	f.drain(t)
	for name, r := range map[string]*recorder{"wechat": f.wechat, "sms": f.sms, "webhook": f.hooks} {
		if r.requests != 2 || len(r.byKey) != 1 {
			t.Errorf("%s: %d requests, %d messages; want 2 requests and one message", name, r.requests, len(r.byKey))
		}
		for k, v := range r.byKey {
			if v != 2 {
				t.Errorf("%s: key %s seen %d times", name, k, v)
			}
		}
	}
	f.clk.Advance(time.Hour)
	if again := f.drain(t); again.Total() != 0 {
		t.Errorf("still due after delivery: %v", again.Counts)
	}
}

// A failing endpoint is retried with growing waits, then the delivery is
// dead, the endpoint disabled and the admins told (in-app, and by SMS to
// the owner, who chose SMS).
func TestFailingEndpointRetriedThenDisabled(t *testing.T) {
	rules := domain.DefaultRules.Clone()
	rules.WebhookRetry = domain.RetryPolicy{First: time.Minute, Max: 10 * time.Minute, GiveUpAfter: time.Hour}
	f := setup(t, rules)
	f.hooks.fail = notify.Transient(500, "webhook: status 500")
	f.reminder(t)
	var waits []time.Duration
	last := f.clk.Now()
	for i := 0; i < 300; i++ {
		before := f.hooks.requests
		f.drain(t)
		if f.hooks.requests > before {
			waits = append(waits, f.clk.Now().Sub(last))
			last = f.clk.Now()
		}
		f.clk.Advance(30 * time.Second)
	}
	if len(waits) < 4 || waits[2] <= waits[1] {
		t.Errorf("attempts at waits %v: want retries with growing waits", waits)
	}
	eps, err := f.st.WebhookEndpoints(context.Background(), f.ent.ID)
	if err != nil || len(eps) != 1 || eps[0].Status != domain.WebhookDisabled || eps[0].DisabledReason != domain.DisabledFailing {
		t.Fatalf("endpoint %+v %v", eps, err)
	}
	ds, _, _ := f.st.ListEndpointDeliveries(context.Background(), f.endpoint.ID, domain.Page{Limit: 10})
	if len(ds) != 1 || ds[0].Status != domain.DeliveryDead || ds[0].LastStatus != 500 {
		t.Fatalf("deliveries %+v", ds)
	}
	notes, _, _ := f.st.ListNotifications(context.Background(), f.ent.ID, domain.Page{Limit: 10})
	if len(notes) != 2 || notes[0].Kind != domain.NoticeWebhookDisabled || notes[0].Subject.EndpointID != f.endpoint.ID {
		t.Fatalf("notifications %+v", notes)
	}
	// A disabled endpoint receives nothing more.
	requests := f.hooks.requests
	f.hooks.fail = nil
	f.reminder(t)
	f.drain(t)
	if f.hooks.requests != requests {
		t.Errorf("a disabled endpoint got %d more requests", f.hooks.requests-requests)
	}
}

func TestPermanentFailureIsNotRetried(t *testing.T) {
	f := setup(t, domain.DefaultRules)
	f.wechat.fail = notify.Permanent(200, "wechat errcode 43101")
	f.reminder(t)
	stats := f.drain(t)
	f.clk.Advance(2 * time.Hour)
	f.drain(t)
	if f.wechat.requests != 1 || stats.Counts["wechat"][notify.OutFailed] != 1 {
		t.Errorf("wechat: %d requests, stats %v", f.wechat.requests, stats.Counts["wechat"])
	}
}

// A run covers its minute: passes until Window after its scheduled time;
// a run for a time long past makes one pass.
func TestHandlerRunWindow(t *testing.T) {
	f := setup(t, domain.DefaultRules)
	slept := time.Duration(0)
	h := &notify.Handler{Dispatcher: f.d, Window: 55 * time.Second, Poll: time.Second, Margin: 20 * time.Second,
		Sleep: func(_ context.Context, d time.Duration) { slept += d; f.clk.Advance(d) }}
	ev := func(at time.Time) json.RawMessage {
		return json.RawMessage(`{"time":"` + at.Format(time.RFC3339) + `"}`)
	}
	sum, err := h.Handle(context.Background(), ev(t0.Add(-time.Hour)))
	if err != nil || sum.Passes != 1 {
		t.Errorf("late run: %+v %v", sum, err)
	}
	sum, err = h.Handle(context.Background(), ev(f.clk.Now()))
	if err != nil || sum.Passes < 50 || slept < 54*time.Second || slept > 56*time.Second {
		t.Errorf("on-time run: %d passes, slept %s, %v", sum.Passes, slept, err)
	}
}
