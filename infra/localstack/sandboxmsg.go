package localstack

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"microcert/shared/apitime"
)

// The messaging providers of the sandbox: WeChat's subscription-message
// API (with its access token) and an SMS gateway, as the dispatcher calls
// them in AWS. Each keeps what it received, once per idempotency key (a
// second request with the same key is answered as the first and only
// counted), so tests can see that a person got a message exactly once
// while the dispatcher retried. Phones are kept because the sandbox is
// the person's phone; it logs none.

const (
	// LocalWeChatSecret and LocalSMSKey are the local stack's provider
	// credentials (DispatcherFunction's WECHAT_APP_SECRET, SMS_API_KEY).
	LocalWeChatSecret = "local-wechat-secret"
	LocalSMSKey       = "local-sms-key"
	localWeChatToken  = "sandbox-access-token"
)

// SandboxMessage is one message a sandbox provider accepted.
type SandboxMessage struct {
	Channel        string            `json:"channel"` // wechat or sms
	To             string            `json:"to"`      // openid or phone
	Template       string            `json:"template"`
	Data           map[string]string `json:"data"`
	IdempotencyKey string            `json:"idempotencyKey"`
	// Requests counts the requests that carried this key (retries).
	Requests   int          `json:"requests"`
	ReceivedAt apitime.Time `json:"receivedAt"`
}

type messageBox struct {
	mu    sync.Mutex
	byKey map[string]*SandboxMessage
	order []string
}

// accept records m under its key; it reports whether the key is new.
func (b *messageBox) accept(m SandboxMessage) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.byKey == nil {
		b.byKey = map[string]*SandboxMessage{}
	}
	if prev, ok := b.byKey[m.IdempotencyKey]; ok {
		prev.Requests++
		return false
	}
	m.Requests = 1
	b.byKey[m.IdempotencyKey] = &m
	b.order = append(b.order, m.IdempotencyKey)
	return true
}

func (b *messageBox) list(channel, to string) []SandboxMessage {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := []SandboxMessage{}
	for _, k := range b.order {
		if m := b.byKey[k]; m.Channel == channel && (to == "" || m.To == to) {
			out = append(out, *m)
		}
	}
	return out
}

func writeProviderJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// wechatToken plays GET /cgi-bin/token.
func (s *sandbox) wechatToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("grant_type") != "client_credential" || q.Get("secret") != LocalWeChatSecret {
		writeProviderJSON(w, http.StatusOK, map[string]any{"errcode": 40125, "errmsg": "invalid appsecret"})
		return
	}
	writeProviderJSON(w, http.StatusOK, map[string]any{"access_token": localWeChatToken, "expires_in": 7200})
}

// wechatSend plays POST /cgi-bin/message/subscribe/send.
func (s *sandbox) wechatSend(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("access_token") != localWeChatToken {
		writeProviderJSON(w, http.StatusOK, map[string]any{"errcode": 40001, "errmsg": "invalid credential"})
		return
	}
	var in struct {
		ToUser           string                       `json:"touser"`
		TemplateID       string                       `json:"template_id"`
		Page             string                       `json:"page"`
		Data             map[string]map[string]string `json:"data"`
		MiniprogramState string                       `json:"miniprogram_state"`
		Lang             string                       `json:"lang"`
	}
	if err := decodeStrict(r, &in); err != nil || in.ToUser == "" || in.TemplateID == "" {
		writeProviderJSON(w, http.StatusOK, map[string]any{"errcode": 47001, "errmsg": "data format error"})
		return
	}
	data := map[string]string{}
	for k, v := range in.Data {
		data[k] = v["value"]
	}
	s.messages.accept(SandboxMessage{Channel: "wechat", To: in.ToUser, Template: in.TemplateID, Data: data,
		IdempotencyKey: idempotencyKey(r), ReceivedAt: apitime.Time(s.now())})
	writeProviderJSON(w, http.StatusOK, map[string]any{"errcode": 0, "errmsg": "ok"})
}

// smsSend plays the SMS gateway's POST /v1/sms/send.
func (s *sandbox) smsSend(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+LocalSMSKey {
		writeProviderJSON(w, http.StatusUnauthorized, map[string]any{"code": "Unauthorized", "message": "bad key"})
		return
	}
	var in struct {
		PhoneNumber   string            `json:"phoneNumber"`
		SignName      string            `json:"signName"`
		TemplateCode  string            `json:"templateCode"`
		TemplateParam map[string]string `json:"templateParam"`
		OutID         string            `json:"outId"`
	}
	if err := decodeStrict(r, &in); err != nil || in.PhoneNumber == "" || in.TemplateCode == "" || in.OutID == "" {
		writeProviderJSON(w, http.StatusBadRequest, map[string]any{"code": "InvalidParameter", "message": "want phoneNumber, templateCode, outId"})
		return
	}
	s.messages.accept(SandboxMessage{Channel: "sms", To: in.PhoneNumber, Template: in.TemplateCode, Data: in.TemplateParam,
		IdempotencyKey: in.OutID, ReceivedAt: apitime.Time(s.now())})
	writeProviderJSON(w, http.StatusOK, map[string]any{"code": "OK", "message": "OK"})
}

func idempotencyKey(r *http.Request) string {
	if k := r.Header.Get("Idempotency-Key"); k != "" {
		return k
	}
	return time.Now().String() // no key: every request is a message of its own
}

// inbox lists what a provider received: GET /_sandbox/{wechat|sms}/messages?to=.
func (s *sandbox) inbox(w http.ResponseWriter, r *http.Request) {
	channel := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/_sandbox/"), "/messages")
	to := r.URL.Query().Get("to")
	if len(to) > 64 {
		sandboxError(w, http.StatusBadRequest, "to: an openid or a phone number, at most 64 characters")
		return
	}
	writeProviderJSON(w, http.StatusOK, map[string]any{"items": s.messages.list(channel, to)})
}
