package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"microcert/infra/localstack"
	"microcert/infra/localstack/stacktest"
	"microcert/shared/domain"
	"microcert/shared/store"
	"microcert/shared/webhook"
)

// Notifications through the local stack: a state change's outbox entry is
// delivered by DispatcherFunction (invoked here for one pass at a time, as
// its schedule would run it) to the sandbox's WeChat and SMS providers and
// to a webhook receiver on loopback that verifies each signature.

// receiver is an integrator's webhook endpoint: it verifies every request
// with the endpoint's secret, as the README's sample does.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	secret string
	status int // what it answers (200 by default)
	got    []receivedEvent
}

type receivedEvent struct {
	ID, Type string
	Data     map[string]any
	Body     string
	Verified error
}

func newReceiver(t *testing.T, status int) *receiver {
	r := &receiver{status: status}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var ev struct {
			ID   string         `json:"id"`
			Type string         `json:"type"`
			Data map[string]any `json:"data"`
		}
		_ = json.Unmarshal(body, &ev)
		r.mu.Lock()
		err := webhook.Verify(req.Header.Get("X-Microcert-Signature"), body, time.Now(), r.secret)
		r.got = append(r.got, receivedEvent{ID: ev.ID, Type: ev.Type, Data: ev.Data, Body: string(body), Verified: err})
		st := r.status
		r.mu.Unlock()
		w.WriteHeader(st)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) events() []receivedEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]receivedEvent(nil), r.got...)
}

// sandboxMessage is what the sandbox's WeChat or SMS provider accepted.
type sandboxMessage struct {
	To             string            `json:"to"`
	Template       string            `json:"template"`
	Data           map[string]string `json:"data"`
	IdempotencyKey string            `json:"idempotencyKey"`
	Requests       int               `json:"requests"`
}

func sandboxInbox(t *testing.T, api, channel, to string) []sandboxMessage {
	t.Helper()
	res, err := http.Get(api + "/_sandbox/" + channel + "/messages?to=" + url.QueryEscape(to))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Items []sandboxMessage `json:"items"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out.Items
}

// dispatchUntil invokes DispatcherFunction for one pass at a time (an
// event of an hour ago: the run has no minute left to cover) until done
// holds; it returns how many invocations failed (crashed).
func dispatchUntil(t *testing.T, st *localstack.Stack, timeout time.Duration, done func() bool) int {
	t.Helper()
	failed := 0
	deadline := time.Now().Add(timeout)
	for !done() {
		if time.Now().After(deadline) {
			t.Fatalf("not delivered within %s (%d failed invocations)", timeout, failed)
		}
		ev := localstack.ScheduledEvent("DispatcherFunction", "EveryMinute", time.Now().Add(-time.Hour))
		if _, err := st.Invoke(context.Background(), "DispatcherFunction", ev); err != nil {
			failed++
		}
		time.Sleep(500 * time.Millisecond)
	}
	return failed
}

var phones struct {
	sync.Mutex
	n int
}

// uniquePhone is a mainland mobile number no other test uses.
func uniquePhone() string {
	phones.Lock()
	defer phones.Unlock()
	phones.n++
	return fmt.Sprintf("139%04d%04d", time.Now().UnixNano()%10000, phones.n)
}

// TestNotificationsOnApproval: the approval reaches the owner by WeChat
// (subscribed to the case-progress template) and SMS once each, not the
// viewer who turned SMS off, and a webhook endpoint on loopback receives a
// signed case.updated; an endpoint at a private address is refused; the
// inbox's read state is per member.
func TestNotificationsOnApproval(t *testing.T) {
	onShared(t)
	owner, viewer := newApp(t, "applicant", ""), newApp(t, "applicant", "")
	rev := newApp(t, "reviewer", "")
	entID, caseID := owner.submittedCase("wecom")
	inv := owner.must(201, "POST", "/v1/enterprises/"+entID+"/invitations", map[string]any{"role": "viewer"}).obj(t)
	viewer.must(200, "POST", "/v1/invitations/redeem", map[string]any{"code": inv["code"]})

	ownerPhone, viewerPhone, openID := uniquePhone(), uniquePhone(), "o-"+strings.ReplaceAll(owner.user, "-", "_")
	set := owner.must(200, "PUT", "/v1/enterprises/"+entID+"/notification-settings", map[string]any{
		"wechat": map[string]any{"enabled": true, "openId": openID, "templateIds": []string{"tpl-case-progress"}},
		"sms":    map[string]any{"enabled": true, "phone": ownerPhone},
	}).obj(t)
	if p := set["sms"].(map[string]any)["phone"]; p != ownerPhone[:3]+"****"+ownerPhone[7:] {
		t.Errorf("phone in the answer %v: want it masked", p)
	}
	viewer.must(200, "PUT", "/v1/enterprises/"+entID+"/notification-settings", map[string]any{
		"wechat": map[string]any{"enabled": false}, "sms": map[string]any{"enabled": false, "phone": viewerPhone},
	})

	hook := newReceiver(t, 200)
	ep := owner.must(201, "POST", "/v1/enterprises/"+entID+"/webhook-endpoints", map[string]any{
		"url": hook.srv.URL + "/microcert", "eventTypes": []string{"case.updated"}}).obj(t)
	hook.mu.Lock()
	hook.secret = ep["secret"].(string)
	hook.mu.Unlock()
	for _, u := range []string{"http://10.20.30.40/hook", "http://169.254.169.254/latest/meta-data", "http://192.168.1.1/"} {
		r := owner.do("POST", "/v1/enterprises/"+entID+"/webhook-endpoints", map[string]any{"url": u, "eventTypes": []string{"*"}})
		if r.Status != 422 || r.code(t) != "webhook_address_refused" {
			t.Errorf("%s: %d %s, want 422 webhook_address_refused", u, r.Status, r.Body)
		}
	}
	// A viewer may not register endpoints.
	if r := viewer.do("POST", "/v1/enterprises/"+entID+"/webhook-endpoints", map[string]any{"url": hook.srv.URL, "eventTypes": []string{"*"}}); r.Status != 403 {
		t.Errorf("viewer: %d", r.Status)
	}

	rev.approve(caseID)
	approved := func() *receivedEvent {
		for _, ev := range hook.events() {
			if ev.Type == "case.updated" && ev.Data["caseId"] == caseID && ev.Data["caseStatus"] == "approved" {
				return &ev
			}
		}
		return nil
	}
	sms := func(phone string) []sandboxMessage { return sandboxInbox(t, shared.APIURL(), "sms", phone) }
	wechatDecision := func() []sandboxMessage {
		var out []sandboxMessage
		for _, m := range sandboxInbox(t, shared.APIURL(), "wechat", openID) {
			if m.Data["phrase2"] == "已通过" {
				out = append(out, m)
			}
		}
		return out
	}
	smsDecision := func() []sandboxMessage {
		var out []sandboxMessage
		for _, m := range sms(ownerPhone) {
			if m.Template == "SMS_CASE_PROGRESS" && m.Data["status"] == "已通过" {
				out = append(out, m)
			}
		}
		return out
	}
	dispatchUntil(t, shared, 90*time.Second, func() bool {
		return approved() != nil && len(wechatDecision()) == 1 && len(smsDecision()) == 1
	})

	ev := approved()
	if ev.Verified != nil {
		t.Errorf("signature: %v", ev.Verified)
	}
	if !strings.HasPrefix(ev.ID, "evt_") || ev.Data["decision"] != "approve" || ev.Data["kind"] != "decision" {
		t.Errorf("event %s", ev.Body)
	}
	for _, p := range []string{ownerPhone, viewerPhone, "13812345678"} {
		if strings.Contains(ev.Body, p) {
			t.Errorf("the event carries a phone number: %s", ev.Body)
		}
	}
	if ms := wechatDecision(); len(ms) != 1 || ms[0].Template != "tpl-case-progress" || ms[0].Requests != 1 {
		t.Errorf("wechat: %+v", ms)
	}
	if decided := smsDecision(); len(decided) != 1 || decided[0].Requests != 1 {
		t.Errorf("owner's SMS of the decision: %+v", decided)
	}
	if got := sms(viewerPhone); len(got) != 0 {
		t.Errorf("the viewer turned SMS off but got %+v", got)
	}
	// The approval's delivery is listed, delivered (recorded just after
	// the receiver answered).
	listed := func() map[string]any {
		var dels struct {
			Items []map[string]any `json:"items"`
		}
		owner.must(200, "GET", "/v1/enterprises/"+entID+"/webhook-endpoints/"+ep["id"].(string)+"/deliveries", nil).decode(t, &dels)
		for _, d := range dels.Items {
			if d["eventId"] == ev.ID {
				return d
			}
		}
		return nil
	}
	var d map[string]any
	for i := 0; i < 20; i++ {
		if d = listed(); d != nil && d["status"] == "delivered" {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if d == nil || d["status"] != "delivered" || d["eventType"] != "case.updated" {
		t.Errorf("the approval's delivery: %v", d)
	}

	// Read state: per member.
	var decision map[string]any
	for _, n := range owner.notifications(entID) {
		if n["kind"] == "decision" {
			decision = n
		}
	}
	if decision == nil || decision["readAt"] != nil {
		t.Fatalf("decision notification %v", decision)
	}
	read := owner.must(200, "POST", "/v1/enterprises/"+entID+"/notifications/"+decision["id"].(string)+"/read", nil).obj(t)
	if read["readAt"] == nil {
		t.Errorf("mark read: %v", read)
	}
	for _, n := range owner.notifications(entID) {
		if n["id"] == decision["id"] && n["readAt"] != read["readAt"] {
			t.Errorf("owner's list: %v, want readAt %v", n, read["readAt"])
		}
	}
	for _, n := range viewer.notifications(entID) {
		if n["id"] == decision["id"] && n["readAt"] != nil {
			t.Errorf("viewer's list: %v, want unread", n)
		}
	}
}

// TestNotificationCrashRetryAndDeadLetter: a renewal reminder reaches the
// sandbox's WeChat and SMS exactly once although the dispatcher crashes
// after the SMS provider accepted it (FAULT_CRASH_AFTER_SEND: the process
// exits before recording; the claim expires and the next run sends again
// with the same idempotency key). A failing endpoint is retried with
// growing waits, then dead-lettered and disabled, and the admins told.
func TestNotificationCrashRetryAndDeadLetter(t *testing.T) {
	ownStack(t)
	st := stacktest.Start(t,
		stacktest.WithFunctionEnv("DispatcherFunction", "FAULT_CRASH_AFTER_SEND", "sms"),
		// The crashed run's claim lapses after three attempt timeouts.
		stacktest.WithFunctionEnv("DispatcherFunction", "DELIVERY_ATTEMPT_TIMEOUT", "3s"),
		stacktest.WithFunctionEnv("DispatcherFunction", "WEBHOOK_RETRY_FIRST", "1s"),
		stacktest.WithFunctionEnv("DispatcherFunction", "WEBHOOK_RETRY_FOR", "8s"))
	token := st.Bearer(t, "applicant", "notify-owner")
	var ent struct {
		ID string `json:"id"`
	}
	st.Do(t, "POST", "/v1/enterprises", token, enterpriseBody(nil)).WantStatus(t, http.StatusCreated).JSON(t, &ent)

	phone, openID := uniquePhone(), "o-crash-test"
	st.Do(t, "PUT", "/v1/enterprises/"+ent.ID+"/notification-settings", token, map[string]any{
		"wechat": map[string]any{"enabled": true, "openId": openID, "templateIds": []string{"tpl-cert-expiring"}},
		"sms":    map[string]any{"enabled": true, "phone": phone},
	}).WantStatus(t, http.StatusOK)
	good, failing := newReceiver(t, 200), newReceiver(t, 500)
	for _, r := range []*receiver{good, failing} {
		var ep struct {
			Secret string `json:"secret"`
		}
		st.Do(t, "POST", "/v1/enterprises/"+ent.ID+"/webhook-endpoints", token,
			map[string]any{"url": r.srv.URL, "eventTypes": []string{"certification.expiring"}}, "Idempotency-Key", fmt.Sprintf("ep-%p", r)).
			WantStatus(t, http.StatusCreated).JSON(t, &ep)
		r.secret = ep.Secret
	}

	// The wecom certification expires in 59 days: its 60-day reminder is
	// due; the reminder job runs now (the outbox is due from the state
	// change's time, so the run is of today, as the schedule runs it).
	now := time.Now()
	expires := domain.EndOfBeijingDay(now.AddDate(0, 0, 59))
	issued := expires.AddDate(-1, 0, 0)
	cert := &domain.Certification{EnterpriseID: ent.ID, Type: domain.CertWeCom, Status: domain.CertActive,
		IssuedAt: issued, ExpiresAt: expires, CaseID: domain.NewIDAt(issued), Version: 1, Cycle: 1, UpdatedAt: issued}
	cert.RemindAt = cert.NextReminderAt(issued, domain.DefaultRules, nil)
	db := store.New(st.DynamoDB(), st.TableName(), domain.DefaultRules)
	if err := db.Commit(context.Background(), &domain.Change{Certifications: []domain.CertificationWrite{{Certification: cert, Create: true}}}); err != nil {
		t.Fatal(err)
	}
	st.MustInvoke(t, "ReminderFunction", localstack.ScheduledEvent("ReminderFunction", "Daily", now))
	expiryDay := expires.In(domain.Beijing()).Format("2006-01-02")

	disabled := func() bool {
		var eps struct {
			Items []map[string]any `json:"items"`
		}
		st.Do(t, "GET", "/v1/enterprises/"+ent.ID+"/webhook-endpoints", token, nil).WantStatus(t, http.StatusOK).JSON(t, &eps)
		for _, e := range eps.Items {
			if e["url"] == failing.srv.URL && e["status"] == "disabled" {
				return true
			}
		}
		return false
	}
	smsDone := func() bool {
		ms := sandboxInbox(t, st.APIURL(), "sms", phone)
		return len(ms) == 1 && ms[0].Requests == 2
	}
	crashes := dispatchUntil(t, st.Stack, 150*time.Second, func() bool {
		return smsDone() && len(sandboxInbox(t, st.APIURL(), "wechat", openID)) == 1 && len(good.events()) >= 1 && disabled()
	})
	if crashes != 1 {
		t.Errorf("%d crashed runs, want 1", crashes)
	}
	ms := sandboxInbox(t, st.APIURL(), "sms", phone)
	if len(ms) != 1 || ms[0].Template != "SMS_CERT_EXPIRING" || ms[0].Data["type"] != "企业微信" || ms[0].Data["date"] != expiryDay || ms[0].Data["days"] == "" {
		t.Errorf("sms %+v", ms)
	}
	wx := sandboxInbox(t, st.APIURL(), "wechat", openID)
	if len(wx) != 1 || wx[0].Requests != 1 || wx[0].Data["thing1"] != "企业微信" || wx[0].Data["date2"] != expiryDay {
		t.Errorf("wechat %+v", wx)
	}
	if evs := good.events(); len(evs) != 1 || evs[0].Verified != nil || evs[0].Type != "certification.expiring" {
		t.Errorf("good endpoint: %+v", evs)
	}
	// The failing endpoint was tried several times with growing waits,
	// then given up.
	if got := len(failing.events()); got < 3 {
		t.Errorf("failing endpoint tried %d times", got)
	}
	var notes struct {
		Items []map[string]any `json:"items"`
	}
	st.Do(t, "GET", "/v1/enterprises/"+ent.ID+"/notifications", token, nil).WantStatus(t, http.StatusOK).JSON(t, &notes)
	if len(notes.Items) == 0 || notes.Items[0]["kind"] != "webhook_endpoint_disabled" {
		t.Errorf("notifications %v", notes.Items)
	}
	if got := st.LogsContaining("DispatcherFunction", phone); len(got) != 0 {
		t.Errorf("a phone number in the dispatcher's log: %v", got)
	}
}
