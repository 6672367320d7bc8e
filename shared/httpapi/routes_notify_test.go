package httpapi_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"microcert/shared/domain"
	"microcert/shared/faults"
	"microcert/shared/httpapi/apitest"
)

// Routes of notifications: read state, a member's channels, webhook
// endpoints and their deliveries.

// hookURL is a public address (an IP literal: no DNS in tests).
const hookURL = "https://93.184.216.34/microcert"

// newEndpoint registers an endpoint for every event and returns its id.
func newEndpoint(e *apitest.Env, as apitest.Caller, entID string) string {
	out := e.Must(201, entReq("POST /v1/enterprises/{enterpriseId}/webhook-endpoints", as, entID,
		map[string]any{"url": hookURL, "eventTypes": []string{"*"}}))
	return out["id"].(string)
}

// seedDelivery writes a webhook delivery of a fresh notification to the
// endpoint, in status st (what the dispatcher would have written).
func seedDelivery(t *testing.T, e *apitest.Env, entID, epID string, st domain.DeliveryStatus) string {
	now := e.Clock.Now()
	n := domain.Notification{ID: domain.NewIDAt(now), EnterpriseID: entID, Kind: domain.NoticeCaseSubmitted, CreatedAt: now}
	d := domain.Delivery{ID: domain.DeliveryID(n.ID, domain.ChannelWebhook, epID), NotificationID: n.ID, EnterpriseID: entID,
		Channel: domain.ChannelWebhook, Recipient: epID, Kind: n.Kind, Event: domain.EventCaseUpdated, Payload: []byte(`{}`),
		Status: st, Attempts: 1, CreatedAt: now, UpdatedAt: now, Version: 1}
	if st == domain.DeliveryPending {
		d.NextAttemptAt = &now
	} else {
		d.DeliveredAt = &now
	}
	if err := e.Store.Commit(context.Background(), &domain.Change{Deliveries: []domain.DeliveryWrite{{Delivery: &d, Create: true}}}); err != nil {
		t.Fatal(err)
	}
	return d.ID
}

// lostDeletes makes every delete lose its race.
func lostDeletes(t *testing.T, e *apitest.Env) *apitest.Env {
	raced, err := faults.New(faults.Config{Rate: 1, Kinds: []faults.Kind{faults.LostRace}, Match: faults.MatchOperations("DeleteItem")})
	if err != nil {
		t.Fatal(err)
	}
	return e.Rewire(raced.DynamoDB)
}

func init() {
	routeTests["POST /v1/enterprises/{enterpriseId}/notifications/{notificationId}/read"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		const r = "POST /v1/enterprises/{enterpriseId}/notifications/{notificationId}/read"
		id := e.NewEnterprise(apitest.Owner)
		e.Must(201, entReq("POST /v1/enterprises/{enterpriseId}/invitations", apitest.Owner, id, map[string]any{"role": "viewer"}))
		page := e.Must(200, entReq("GET /v1/enterprises/{enterpriseId}/notifications", apitest.Owner, id, nil))
		note := page["items"].([]any)[0].(map[string]any)["id"].(string)
		return entReq(r, apitest.Owner, id, nil, "notificationId", note), []refusal{
			{"another tenant's", 404, "not_found", entReq(r, apitest.Stranger, id, nil, "notificationId", note), nil},
			{"no such notification", 404, "not_found", entReq(r, apitest.Owner, id, nil, "notificationId", domain.NewIDAt(e.Clock.Now())), nil},
			{"a body", 422, "unknown_field", entReq(r, apitest.Owner, id, map[string]any{"read": true}, "notificationId", note), nil},
		}
	}}

	routeTests["GET /v1/enterprises/{enterpriseId}/notification-settings"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		const r = "GET /v1/enterprises/{enterpriseId}/notification-settings"
		id := e.NewEnterprise(apitest.Owner)
		return entReq(r, apitest.Owner, id, nil), []refusal{
			{"another tenant's", 404, "not_found", entReq(r, apitest.Stranger, id, nil), nil},
			{"staff have no settings", 404, "not_found", entReq(r, apitest.Checker, id, nil), nil},
		}
	}}

	routeTests["PUT /v1/enterprises/{enterpriseId}/notification-settings"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		const r = "PUT /v1/enterprises/{enterpriseId}/notification-settings"
		id := e.NewEnterprise(apitest.Owner)
		body := func(sms bool, phone any) map[string]any {
			s := map[string]any{"enabled": sms}
			if phone != nil {
				s["phone"] = phone
			}
			return map[string]any{"wechat": map[string]any{"enabled": true, "openId": "oAbC123", "templateIds": []string{"tpl-cert-expiring"}}, "sms": s}
		}
		return entReq(r, apitest.Owner, id, body(true, "139 0013 9000")), []refusal{
			{"another tenant's", 404, "not_found", entReq(r, apitest.Stranger, id, body(true, "13900139000")), nil},
			{"sms without a phone", 422, "required", entReq(r, apitest.Owner, id, body(true, nil)), nil},
			{"a bad phone", 422, "invalid_phone", entReq(r, apitest.Owner, id, body(true, "12345")), nil},
			{"no sms member", 422, "missing_field", entReq(r, apitest.Owner, id, map[string]any{"wechat": map[string]any{"enabled": false}}), nil},
			{"lost every race", 409, "version_conflict", entReq(r, apitest.Owner, id, body(true, "13900139000")), lostRaces(t, e)},
		}
	}}

	routeTests["POST /v1/enterprises/{enterpriseId}/webhook-endpoints"] = routeTest{ok: 201, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		const r = "POST /v1/enterprises/{enterpriseId}/webhook-endpoints"
		id := e.NewEnterprise(apitest.Owner)
		op := newMember(e)
		join(e, apitest.Owner, id, op, "operator")
		full := e.NewEnterprise(apitest.Owner)
		for i := 0; i < domain.MaxWebhookEndpoints; i++ {
			newEndpoint(e, apitest.Owner, full)
		}
		body := func(url string, events ...string) map[string]any {
			return map[string]any{"url": url, "eventTypes": events}
		}
		return entReq(r, apitest.Owner, id, body(hookURL, "case.updated", "certification.expiring")), []refusal{
			{"another tenant's", 404, "not_found", entReq(r, apitest.Stranger, id, body(hookURL, "*")), nil},
			{"an operator", 403, "insufficient_role", entReq(r, op, id, body(hookURL, "*")), nil},
			{"http", 422, "https_required", entReq(r, apitest.Owner, id, body("http://93.184.216.34/", "*")), nil},
			{"a private address", 422, "webhook_address_refused", entReq(r, apitest.Owner, id, body("https://10.0.0.7/hook", "*")), nil},
			{"the metadata service", 422, "webhook_address_refused", entReq(r, apitest.Owner, id, body("https://169.254.169.254/latest", "*")), nil},
			{"loopback", 422, "webhook_address_refused", entReq(r, apitest.Owner, id, body("https://127.0.0.1:8443/", "*")), nil},
			{"an unknown event", 422, "unknown_event_type", entReq(r, apitest.Owner, id, body(hookURL, "case.deleted")), nil},
			{"no url", 422, "missing_field", entReq(r, apitest.Owner, id, map[string]any{"eventTypes": []string{"*"}}), nil},
			{"ten already", 409, "too_many_webhook_endpoints", entReq(r, apitest.Owner, full, body(hookURL, "*")), nil},
		}
	}}

	routeTests["GET /v1/enterprises/{enterpriseId}/webhook-endpoints"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		const r = "GET /v1/enterprises/{enterpriseId}/webhook-endpoints"
		id := e.NewEnterprise(apitest.Owner)
		newEndpoint(e, apitest.Owner, id)
		viewer := newMember(e)
		join(e, apitest.Owner, id, viewer, "viewer")
		return entReq(r, apitest.Owner, id, nil), []refusal{
			{"another tenant's", 404, "not_found", entReq(r, apitest.Stranger, id, nil), nil},
			{"a viewer", 403, "insufficient_role", entReq(r, viewer, id, nil), nil},
		}
	}}

	routeTests["PATCH /v1/enterprises/{enterpriseId}/webhook-endpoints/{endpointId}"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		const r = "PATCH /v1/enterprises/{enterpriseId}/webhook-endpoints/{endpointId}"
		id := e.NewEnterprise(apitest.Owner)
		ep := newEndpoint(e, apitest.Owner, id)
		op := newMember(e)
		join(e, apitest.Owner, id, op, "operator")
		req := func(as apitest.Caller, body any, epID string) apitest.Request {
			return entReq(r, as, id, body, "endpointId", epID)
		}
		ok := map[string]any{"enabled": false, "eventTypes": []string{"case.updated"}}
		return req(apitest.Owner, ok, ep), []refusal{
			{"another tenant's", 404, "not_found", req(apitest.Stranger, ok, ep), nil},
			{"no such endpoint", 404, "not_found", req(apitest.Owner, ok, domain.NewIDAt(e.Clock.Now())), nil},
			{"an operator", 403, "insufficient_role", req(op, ok, ep), nil},
			{"an unknown event", 422, "unknown_event_type", req(apitest.Owner, map[string]any{"eventTypes": []string{"nope.nope"}}, ep), nil},
			{"lost every race", 409, "version_conflict", req(apitest.Owner, ok, ep), lostRaces(t, e)},
		}
	}}

	routeTests["DELETE /v1/enterprises/{enterpriseId}/webhook-endpoints/{endpointId}"] = routeTest{ok: 204, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		const r = "DELETE /v1/enterprises/{enterpriseId}/webhook-endpoints/{endpointId}"
		id := e.NewEnterprise(apitest.Owner)
		ep := newEndpoint(e, apitest.Owner, id)
		op := newMember(e)
		join(e, apitest.Owner, id, op, "operator")
		return entReq(r, apitest.Owner, id, nil, "endpointId", ep), []refusal{
			{"another tenant's", 404, "not_found", entReq(r, apitest.Stranger, id, nil, "endpointId", ep), nil},
			{"an operator", 403, "insufficient_role", entReq(r, op, id, nil, "endpointId", ep), nil},
			{"lost every race", 409, "version_conflict", entReq(r, apitest.Owner, id, nil, "endpointId", ep), lostDeletes(t, e)},
		}
	}}

	routeTests["POST /v1/enterprises/{enterpriseId}/webhook-endpoints/{endpointId}/rotate-secret"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		const r = "POST /v1/enterprises/{enterpriseId}/webhook-endpoints/{endpointId}/rotate-secret"
		id := e.NewEnterprise(apitest.Owner)
		ep := newEndpoint(e, apitest.Owner, id)
		op := newMember(e)
		join(e, apitest.Owner, id, op, "operator")
		return entReq(r, apitest.Owner, id, nil, "endpointId", ep), []refusal{
			{"another tenant's", 404, "not_found", entReq(r, apitest.Stranger, id, nil, "endpointId", ep), nil},
			{"an operator", 403, "insufficient_role", entReq(r, op, id, nil, "endpointId", ep), nil},
			{"a body", 422, "unknown_field", entReq(r, apitest.Owner, id, map[string]any{"secret": "mine"}, "endpointId", ep), nil},
		}
	}}

	routeTests["GET /v1/enterprises/{enterpriseId}/webhook-endpoints/{endpointId}/deliveries"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		const r = "GET /v1/enterprises/{enterpriseId}/webhook-endpoints/{endpointId}/deliveries"
		id := e.NewEnterprise(apitest.Owner)
		ep := newEndpoint(e, apitest.Owner, id)
		seedDelivery(t, e, id, ep, domain.DeliveryDead)
		op := newMember(e)
		join(e, apitest.Owner, id, op, "operator")
		req := func(as apitest.Caller, q map[string]string) apitest.Request {
			x := entReq(r, as, id, nil, "endpointId", ep)
			x.Query = q
			return x
		}
		return req(apitest.Owner, map[string]string{"limit": "5"}), []refusal{
			{"another tenant's", 404, "not_found", req(apitest.Stranger, nil), nil},
			{"an operator", 403, "insufficient_role", req(op, nil), nil},
			{"limit 0", 422, "validation_failed", req(apitest.Owner, map[string]string{"limit": "0"}), nil},
		}
	}}

	routeTests["POST /v1/enterprises/{enterpriseId}/webhook-endpoints/{endpointId}/deliveries/{deliveryId}/redeliver"] = routeTest{ok: 202, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		const r = "POST /v1/enterprises/{enterpriseId}/webhook-endpoints/{endpointId}/deliveries/{deliveryId}/redeliver"
		id := e.NewEnterprise(apitest.Owner)
		ep := newEndpoint(e, apitest.Owner, id)
		dead := seedDelivery(t, e, id, ep, domain.DeliveryDead)
		pending := seedDelivery(t, e, id, ep, domain.DeliveryPending)
		op := newMember(e)
		join(e, apitest.Owner, id, op, "operator")
		req := func(as apitest.Caller, del string) apitest.Request {
			return entReq(r, as, id, nil, "endpointId", ep, "deliveryId", del)
		}
		return req(apitest.Owner, dead), []refusal{
			{"another tenant's", 404, "not_found", req(apitest.Stranger, dead), nil},
			{"no such delivery", 404, "not_found", req(apitest.Owner, fmt.Sprintf("%s.webhook.%s", domain.NewIDAt(e.Clock.Now().Add(time.Hour)), ep)), nil},
			{"an operator", 403, "insufficient_role", req(op, dead), nil},
			{"still pending", 409, "delivery_pending", req(apitest.Owner, pending), nil},
			{"a body", 422, "unknown_field", entReq(r, apitest.Owner, id, map[string]any{"now": true}, "endpointId", ep, "deliveryId", dead), nil},
		}
	}}
}
