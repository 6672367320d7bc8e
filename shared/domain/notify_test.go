package domain

import (
	"slices"
	"testing"
	"time"
)

func TestPlanFollowsPreferencesAudienceAndSubscriptions(t *testing.T) {
	now := time.Date(2027, 9, 27, 1, 0, 0, 0, time.UTC)
	exp := now.AddDate(0, 0, 60)
	wechat := ChannelTemplates{TemplateExpiring: "wx-exp", TemplateCaseProgress: "wx-case"}
	sms := ChannelTemplates{TemplateExpiring: "SMS_1", TemplateCaseProgress: "SMS_2"}
	all := NotifyPrefs{WeChat: true, SMS: true, WeChatOpenID: "o1", WeChatTemplates: []string{"wx-exp"}, Phone: "13800138000", UpdatedAt: now}
	members := []Member{
		{UserID: "owner", Role: MemberOwner, Notify: all},
		{UserID: "viewer", Role: MemberViewer, Notify: all},
		{UserID: "quiet", Role: MemberAdmin},                                                                    // never chose anything
		{UserID: "smsonly", Role: MemberOperator, Notify: NotifyPrefs{SMS: true, Phone: "13900139000"}},         // no WeChat
		{UserID: "unsub", Role: MemberAdmin, Notify: NotifyPrefs{WeChat: true, WeChatOpenID: "o2", SMS: false}}, // not subscribed
	}
	endpoints := []WebhookEndpoint{
		{ID: "all", Status: WebhookEnabled, EventTypes: []string{"*"}},
		{ID: "certs", Status: WebhookEnabled, EventTypes: []string{EventCertificationExpiring}},
		{ID: "cases", Status: WebhookEnabled, EventTypes: []string{EventCaseUpdated}},
		{ID: "off", Status: WebhookDisabled, EventTypes: []string{"*"}},
	}
	tests := []struct {
		name string
		n    Notification
		want []string
	}{
		{"a reminder goes to every member who chose a channel, and to subscribed endpoints",
			Notification{ID: "n1", Kind: NoticeReminder, Subject: NoticeSubject{CertType: CertWeCom, ExpiresAt: &exp, DaysLeft: 60}},
			[]string{"n1.wechat.owner", "n1.sms.owner", "n1.wechat.viewer", "n1.sms.viewer", "n1.sms.smsonly", "n1.webhook.all", "n1.webhook.certs"}},
		{"WeChat only to members subscribed to the template (nobody took wx-case)",
			Notification{ID: "n2", Kind: NoticeCaseSubmitted, Subject: NoticeSubject{CaseID: "c1"}},
			[]string{"n2.sms.owner", "n2.sms.viewer", "n2.sms.smsonly", "n2.webhook.all", "n2.webhook.cases"}},
		{"payments go to owners and admins only",
			Notification{ID: "n3", Kind: NoticePaymentReceived, Subject: NoticeSubject{CaseID: "c1", AmountFen: 30000}},
			[]string{"n3.webhook.all", "n3.webhook.cases"}},
		{"membership changes: no template, webhooks only",
			Notification{ID: "n4", Kind: NoticeMemberJoined},
			[]string{"n4.webhook.all"}},
		{"an inbox-only kind goes nowhere else",
			Notification{ID: "n5", Kind: "something_else"},
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, d := range Plan(&tt.n, Recipients{Members: members, Endpoints: endpoints}, wechat, sms, []byte("{}"), now) {
				got = append(got, d.ID)
				if d.Status != DeliveryPending || d.NextAttemptAt == nil || !d.NextAttemptAt.Equal(now) || d.Version != 1 {
					t.Errorf("%s: not due now: %+v", d.ID, d)
				}
				if d.Channel == ChannelWebhook && (d.Payload == nil || d.Params != nil || d.Address != "") {
					t.Errorf("%s: a webhook delivery carries the payload only", d.ID)
				}
				if d.Channel == ChannelSMS && (d.Address == "" || len(d.Params) == 0) {
					t.Errorf("%s: an SMS needs a phone and parameters", d.ID)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("deliveries\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestReminderParamsCarryTypeAndExpiry(t *testing.T) {
	exp := time.Date(2027, 11, 26, 15, 59, 59, 0, time.UTC) // end of 26 Nov, Beijing
	ps := TemplateParams(&Notification{Kind: NoticeReminder, Subject: NoticeSubject{CertType: CertOfficialAccount, ExpiresAt: &exp, DaysLeft: 60}})
	got := map[string]string{}
	for _, p := range ps {
		got[p.Name] = p.Value
	}
	if got["type"] != "公众号" || got["date"] != "2027-11-26" || got["days"] != "60" {
		t.Errorf("params = %v", got)
	}
}

func TestRetryPolicy(t *testing.T) {
	created := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	p := RetryPolicy{First: time.Minute, Max: 8 * time.Hour, GiveUpAfter: 72 * time.Hour}
	tests := []struct {
		attempts int
		now      time.Time
		wait     time.Duration
		ok       bool
	}{
		{1, created, time.Minute, true},
		{2, created, 2 * time.Minute, true},
		{5, created, 16 * time.Minute, true},
		{12, created, 8 * time.Hour, true}, // capped
		{30, created.Add(60 * time.Hour), 8 * time.Hour, true},
		{30, created.Add(65 * time.Hour), 0, false}, // past three days: give up
	}
	for _, tt := range tests {
		next, ok := p.Next(tt.attempts, created, tt.now)
		if ok != tt.ok || (ok && next.Sub(tt.now) != tt.wait) {
			t.Errorf("Next(%d, +%s) = %s %v, want +%s %v", tt.attempts, tt.now.Sub(created), next.Sub(tt.now), ok, tt.wait, tt.ok)
		}
	}
	// Three days of webhook retries are about 15 attempts.
	attempts, now := 0, created
	for {
		attempts++
		next, ok := p.Next(attempts, created, now)
		if !ok {
			break
		}
		now = next
	}
	if attempts < 12 || attempts > 20 {
		t.Errorf("%d attempts in three days", attempts)
	}
}

func TestValidateWebhookEndpoint(t *testing.T) {
	tests := []struct {
		name     string
		url      string
		events   []string
		insecure bool
		codes    []string
	}{
		{"https", "https://hooks.example.com/microcert", []string{EventCaseUpdated}, false, nil},
		{"wildcard", "https://hooks.example.com/", []string{"*"}, false, nil},
		{"http refused in deployed stages", "http://hooks.example.com/", []string{"*"}, false, []string{"https_required"}},
		{"http allowed locally", "http://127.0.0.1:9999/", []string{"*"}, true, nil},
		{"credentials in the URL", "https://user:pw@hooks.example.com/", []string{"*"}, false, []string{"invalid_url"}},
		{"no host", "https:///x", []string{"*"}, false, []string{"invalid_url"}},
		{"other scheme", "ftp://hooks.example.com/", []string{"*"}, true, []string{"https_required"}},
		{"no events", "https://hooks.example.com/", nil, false, []string{"required"}},
		{"unknown event", "https://hooks.example.com/", []string{"case.deleted"}, false, []string{"unknown_event_type"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var codes []string
			for _, e := range ValidateWebhookEndpoint(tt.url, tt.events, tt.insecure) {
				codes = append(codes, e.Code)
			}
			if !slices.Equal(codes, tt.codes) {
				t.Errorf("codes %v, want %v", codes, tt.codes)
			}
		})
	}
}

func TestValidateNotifyPrefs(t *testing.T) {
	tests := []struct {
		name  string
		p     NotifyPrefs
		codes []string
	}{
		{"nothing", NotifyPrefs{}, nil},
		{"all", NotifyPrefs{WeChat: true, SMS: true, WeChatOpenID: "oABC-12_x", WeChatTemplates: []string{"tpl1"}, Phone: "13800138000"}, nil},
		{"wechat without openid", NotifyPrefs{WeChat: true}, []string{"required"}},
		{"sms without phone", NotifyPrefs{SMS: true}, []string{"required"}},
		{"bad phone", NotifyPrefs{Phone: "12345"}, []string{"invalid_phone"}},
		{"bad openid", NotifyPrefs{WeChatOpenID: "a b"}, []string{"invalid_format"}},
		{"bad template", NotifyPrefs{WeChatTemplates: []string{""}}, []string{"invalid_format"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var codes []string
			for _, e := range ValidateNotifyPrefs(tt.p) {
				codes = append(codes, e.Code)
			}
			if !slices.Equal(codes, tt.codes) {
				t.Errorf("codes %v, want %v", codes, tt.codes)
			}
		})
	}
}

func TestSigningSecretsDuringRotation(t *testing.T) {
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	w := WebhookEndpoint{Secret: "whsec_old"}
	w.Rotate("whsec_new", now)
	if got := w.SigningSecrets(now.Add(time.Hour)); !slices.Equal(got, []string{"whsec_new", "whsec_old"}) {
		t.Errorf("during the overlap: %v", got)
	}
	if got := w.SigningSecrets(now.Add(WebhookRotateOverlap)); !slices.Equal(got, []string{"whsec_new"}) {
		t.Errorf("after the overlap: %v", got)
	}
}

func TestIDTime(t *testing.T) {
	at := time.Date(2027, 3, 4, 5, 6, 7, 891_234_567, time.UTC)
	got, ok := IDTime(NewIDAt(at))
	if !ok || !got.Equal(at.Truncate(time.Millisecond)) {
		t.Errorf("IDTime = %v %v, want %v", got, ok, at.Truncate(time.Millisecond))
	}
	if _, ok := IDTime("nope"); ok {
		t.Error("a malformed id has a time")
	}
}
