package httpapi

import (
	"context"
	"strings"

	"microcert/shared/certsvc"
	"microcert/shared/domain"
)

// Handlers of notifications: the inbox's read state, a member's channels,
// and the enterprise's webhook endpoints.

type settingsBody struct {
	WeChat *struct {
		Enabled     *bool     `json:"enabled"`
		OpenID      *string   `json:"openId"`
		TemplateIDs *[]string `json:"templateIds"`
	} `json:"wechat"`
	SMS *struct {
		Enabled *bool   `json:"enabled"`
		Phone   *string `json:"phone"`
	} `json:"sms"`
}

type endpointBody struct {
	URL        *string   `json:"url"`
	EventTypes *[]string `json:"eventTypes"`
}

type endpointPatchBody struct {
	EventTypes *[]string `json:"eventTypes"`
	Enabled    *bool     `json:"enabled"`
}

func (a *API) markNotificationRead(ctx context.Context, r *request) (*reply, error) {
	if err := noFields(r); err != nil {
		return nil, err
	}
	id := r.params["notificationId"]
	if !domain.ValidID(id) {
		return nil, domain.ErrNotFound
	}
	n, err := a.svc.MarkRead(ctx, r.actor, r.params["enterpriseId"], id)
	if err != nil {
		return nil, err
	}
	return ok(notificationView(n, r.lang))
}

func (a *API) getNotificationSettings(ctx context.Context, r *request) (*reply, error) {
	m, err := a.svc.NotificationSettings(ctx, r.actor, r.params["enterpriseId"])
	if err != nil {
		return nil, err
	}
	return ok(notificationSettingsView(m))
}

// putNotificationSettings replaces the caller's channels; an openId or a
// phone left out keeps the one stored (responses show the phone masked,
// so an app need not hold it to change something else).
func (a *API) putNotificationSettings(ctx context.Context, r *request) (*reply, error) {
	var b settingsBody
	if err := DecodeJSON(r.body, &b); err != nil {
		return nil, err
	}
	if err := required("wechat", b.WeChat != nil, "sms", b.SMS != nil); err != nil {
		return nil, err
	}
	if err := required("wechat.enabled", b.WeChat.Enabled != nil, "sms.enabled", b.SMS.Enabled != nil); err != nil {
		return nil, err
	}
	cur, err := a.svc.NotificationSettings(ctx, r.actor, r.params["enterpriseId"])
	if err != nil {
		return nil, err
	}
	p := cur.Notify
	p.WeChat, p.SMS = *b.WeChat.Enabled, *b.SMS.Enabled
	if b.WeChat.OpenID != nil {
		p.WeChatOpenID = strings.TrimSpace(*b.WeChat.OpenID)
	}
	if b.WeChat.TemplateIDs != nil {
		p.WeChatTemplates = *b.WeChat.TemplateIDs
	}
	if b.SMS.Phone != nil {
		p.Phone = *b.SMS.Phone
	}
	m, err := a.svc.SetNotificationSettings(ctx, r.actor, r.params["enterpriseId"], p)
	if err != nil {
		return nil, err
	}
	return ok(notificationSettingsView(m))
}

func (a *API) createWebhookEndpoint(ctx context.Context, r *request) (*reply, error) {
	var b endpointBody
	if err := DecodeJSON(r.body, &b); err != nil {
		return nil, err
	}
	if err := required("url", b.URL != nil, "eventTypes", b.EventTypes != nil); err != nil {
		return nil, err
	}
	ne, err := a.svc.CreateWebhookEndpoint(ctx, r.actor, r.params["enterpriseId"], certsvc.WebhookInput{URL: *b.URL, EventTypes: *b.EventTypes})
	if err != nil {
		return nil, err
	}
	out := webhookEndpointView(ne.Endpoint, a.clock.Now())
	out.Secret = ne.Secret
	return created(out)
}

func (a *API) listWebhookEndpoints(ctx context.Context, r *request) (*reply, error) {
	eps, err := a.svc.WebhookEndpoints(ctx, r.actor, r.params["enterpriseId"])
	if err != nil {
		return nil, err
	}
	now := a.clock.Now()
	items := make([]webhookEndpointJSON, 0, len(eps))
	for i := range eps {
		items = append(items, webhookEndpointView(&eps[i], now))
	}
	return ok(newPage(items, ""))
}

func (a *API) patchWebhookEndpoint(ctx context.Context, r *request) (*reply, error) {
	var b endpointPatchBody
	if err := DecodeJSON(r.body, &b); err != nil {
		return nil, err
	}
	e, err := a.svc.UpdateWebhookEndpoint(ctx, r.actor, r.params["enterpriseId"], r.params["endpointId"],
		certsvc.WebhookUpdate{EventTypes: b.EventTypes, Enabled: b.Enabled})
	if err != nil {
		return nil, err
	}
	return ok(webhookEndpointView(e, a.clock.Now()))
}

func (a *API) deleteWebhookEndpoint(ctx context.Context, r *request) (*reply, error) {
	if err := noFields(r); err != nil {
		return nil, err
	}
	if err := a.svc.DeleteWebhookEndpoint(ctx, r.actor, r.params["enterpriseId"], r.params["endpointId"]); err != nil {
		return nil, err
	}
	return noContent()
}

func (a *API) rotateWebhookSecret(ctx context.Context, r *request) (*reply, error) {
	if err := noFields(r); err != nil {
		return nil, err
	}
	ne, err := a.svc.RotateWebhookSecret(ctx, r.actor, r.params["enterpriseId"], r.params["endpointId"])
	if err != nil {
		return nil, err
	}
	out := webhookEndpointView(ne.Endpoint, a.clock.Now())
	out.Secret = ne.Secret
	return ok(out)
}

func (a *API) listWebhookDeliveries(ctx context.Context, r *request) (*reply, error) {
	p, err := pageOf(r)
	if err != nil {
		return nil, err
	}
	if !domain.ValidID(r.params["endpointId"]) {
		return nil, domain.ErrNotFound
	}
	ds, next, err := a.svc.WebhookDeliveries(ctx, r.actor, r.params["enterpriseId"], r.params["endpointId"], p)
	if err != nil {
		return nil, err
	}
	items := make([]webhookDeliveryJSON, 0, len(ds))
	for i := range ds {
		items = append(items, webhookDeliveryView(&ds[i]))
	}
	return ok(newPage(items, next))
}

func (a *API) redeliverWebhook(ctx context.Context, r *request) (*reply, error) {
	if err := noFields(r); err != nil {
		return nil, err
	}
	ep, del := r.params["endpointId"], r.params["deliveryId"]
	note, rest, _ := strings.Cut(del, ".")
	if !domain.ValidID(ep) || !domain.ValidID(note) || rest != string(domain.ChannelWebhook)+"."+ep {
		return nil, domain.ErrNotFound
	}
	d, err := a.svc.Redeliver(ctx, r.actor, r.params["enterpriseId"], ep, del)
	if err != nil {
		return nil, err
	}
	return &reply{status: 202, body: webhookDeliveryView(d)}, nil
}
