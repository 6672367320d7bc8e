// Package providers are the dispatcher's channels over HTTP: WeChat's
// subscription-message API, an SMS gateway and integrators' webhook
// endpoints. Each sends the delivery's idempotency key; the answers are
// mapped to notify.SendError (permanent or retried). Nothing here logs a
// phone or an openid.
package providers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"microcert/shared/notify"
	"microcert/shared/notify/outbound"
)

var (
	_ notify.WeChatSender  = (*WeChat)(nil)
	_ notify.SMSSender     = (*SMS)(nil)
	_ notify.WebhookPoster = (*Webhooks)(nil)
)

// WeChat sends subscription messages with WeChat's server API:
// POST /cgi-bin/message/subscribe/send?access_token=..., the token from
// GET /cgi-bin/token (cached until shortly before it expires).
type WeChat struct {
	BaseURL   string // https://api.weixin.qq.com
	AppID     string
	AppSecret string
	HTTP      *http.Client
	Now       func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time
}

// WeChat error codes that retrying cannot fix.
var wechatPermanent = map[int]string{
	40003: "invalid openid",
	40037: "invalid template id",
	43101: "user did not subscribe (or used up the subscription)",
	47003: "template data invalid",
}

func (w *WeChat) accessToken(ctx context.Context, refresh bool) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !refresh && w.token != "" && w.Now().Before(w.expires) {
		return w.token, nil
	}
	q := url.Values{"grant_type": {"client_credential"}, "appid": {w.AppID}, "secret": {w.AppSecret}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.BaseURL+"/cgi-bin/token?"+q.Encode(), nil)
	if err != nil {
		return "", notify.Permanent(0, "wechat token request: %v", err)
	}
	var out struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		ErrCode     int    `json:"errcode"`
		ErrMsg      string `json:"errmsg"`
	}
	status, err := doJSON(w.HTTP, req, &out)
	if err != nil {
		return "", notify.Transient(status, "wechat token: %v", err)
	}
	if out.AccessToken == "" {
		return "", notify.Transient(status, "wechat token: errcode %d %s", out.ErrCode, out.ErrMsg)
	}
	w.token = out.AccessToken
	// Refresh five minutes early: WeChat's tokens last two hours.
	w.expires = w.Now().Add(time.Duration(out.ExpiresIn)*time.Second - 5*time.Minute)
	return w.token, nil
}

// SendSubscribeMessage sends one message.
func (w *WeChat) SendSubscribeMessage(ctx context.Context, m notify.WeChatMessage) error {
	data := map[string]map[string]string{}
	for k, v := range m.Data {
		data[k] = map[string]string{"value": v}
	}
	body, err := json.Marshal(map[string]any{"touser": m.OpenID, "template_id": m.TemplateID, "page": m.Page,
		"data": data, "miniprogram_state": "formal", "lang": "zh_CN"})
	if err != nil {
		return notify.Permanent(0, "wechat body: %v", err)
	}
	for attempt := 0; attempt < 2; attempt++ {
		token, err := w.accessToken(ctx, attempt > 0)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost,
			w.BaseURL+"/cgi-bin/message/subscribe/send?access_token="+url.QueryEscape(token), bytes.NewReader(body))
		if err != nil {
			return notify.Permanent(0, "wechat request: %v", err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", m.IdempotencyKey)
		var out struct {
			ErrCode int    `json:"errcode"`
			ErrMsg  string `json:"errmsg"`
		}
		status, err := doJSON(w.HTTP, req, &out)
		switch {
		case err != nil:
			return notify.Transient(status, "wechat: %v", err)
		case out.ErrCode == 0:
			return nil
		case out.ErrCode == 40001 || out.ErrCode == 42001: // token invalid or expired: once more with a new one
			continue
		case wechatPermanent[out.ErrCode] != "":
			return notify.Permanent(status, "wechat errcode %d: %s", out.ErrCode, wechatPermanent[out.ErrCode])
		default:
			return notify.Transient(status, "wechat errcode %d", out.ErrCode)
		}
	}
	return notify.Transient(0, "wechat: access token refused twice")
}

// SMS sends templated messages through an SMS gateway's JSON API:
// POST /v1/sms/send {phoneNumber, templateCode, templateParam, outId}
// with a bearer key; outId is the idempotency key (the gateway drops a
// second message with the same one).
type SMS struct {
	BaseURL  string
	APIKey   string
	SignName string // the approved signature shown in front of the text (【微企认证】)
	HTTP     *http.Client
}

// SendSMS sends one message.
func (s *SMS) SendSMS(ctx context.Context, m notify.SMSMessage) error {
	body, err := json.Marshal(map[string]any{"phoneNumber": m.Phone, "signName": s.SignName, "templateCode": m.TemplateCode,
		"templateParam": m.Params, "outId": m.IdempotencyKey})
	if err != nil {
		return notify.Permanent(0, "sms body: %v", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.BaseURL+"/v1/sms/send", bytes.NewReader(body))
	if err != nil {
		return notify.Permanent(0, "sms request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.APIKey)
	req.Header.Set("Idempotency-Key", m.IdempotencyKey)
	var out struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	status, err := doJSON(s.HTTP, req, &out)
	switch {
	case err != nil && (status == 0 || status >= 500 || status == http.StatusTooManyRequests):
		return notify.Transient(status, "sms: %v", err)
	case err != nil:
		return notify.Permanent(status, "sms: %v", err)
	case out.Code != "OK":
		return notify.Permanent(status, "sms: %s", out.Code)
	}
	return nil
}

// doJSON runs req and decodes a 2xx JSON answer into out; another status
// is an error (with the status).
func doJSON(c *http.Client, req *http.Request, out any) (int, error) {
	res, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	b := outbound.Drain(res.Body)
	if res.StatusCode/100 != 2 {
		return res.StatusCode, fmt.Errorf("status %d", res.StatusCode)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return res.StatusCode, fmt.Errorf("answer: %w", err)
	}
	return res.StatusCode, nil
}

// Webhooks posts signed events to integrators' endpoints through the
// outbound policy: 2xx is delivered, anything else (a refused address, a
// timeout, a redirect, 4xx or 5xx) is retried until the retry policy gives
// up, as receivers fix their bugs in that time.
type Webhooks struct {
	HTTP *http.Client // outbound.Policy.Client
}

// Post sends one delivery.
func (wh *Webhooks) Post(ctx context.Context, r notify.WebhookRequest) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return notify.Permanent(0, "webhook request: %v", err)
	}
	for k, v := range r.Headers {
		req.Header.Set(k, v)
	}
	res, err := wh.HTTP.Do(req)
	if err != nil {
		msg := err.Error()
		if strings.Contains(msg, outbound.ErrRefused.Error()) {
			msg = "address refused"
		}
		return notify.Transient(0, "webhook: %s", msg)
	}
	outbound.Drain(res.Body)
	if res.StatusCode/100 != 2 {
		return notify.Transient(res.StatusCode, "webhook: status %d", res.StatusCode)
	}
	return nil
}
