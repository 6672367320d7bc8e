package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"microcert/shared/domain"
	"microcert/shared/faults"
	"microcert/shared/httpapi/apitest"
)

// Routes of money: the provider's refund callback and the admins' routes.

// owedRefund pays a case and withdraws it: its fee is owed back. With no
// provider wired (the harness has none) the refund stays pending.
func owedRefund(t *testing.T, e *apitest.Env) domain.Refund {
	t.Helper()
	c := e.OpenCase(apitest.Owner, e.NewEnterprise(apitest.Owner), "wecom")
	e.Pay(apitest.Owner, c)
	e.Must(200, caseReq("POST /v1/cases/{caseId}/withdraw", apitest.Owner, c, nil))
	b, err := e.Store.GetCaseBundle(context.Background(), c)
	if err != nil || len(b.Refunds) != 1 {
		t.Fatalf("refunds of a withdrawn paid case: %v %v", b, err)
	}
	return b.Refunds[0]
}

// failRefund records unanswered calls until the refund fails.
func failRefund(t *testing.T, e *apitest.Env, r domain.Refund) {
	t.Helper()
	prev := r
	for r.Status == domain.RefundPending {
		r.Unanswered(r.Round, "503", e.Rules, e.Clock.Now())
	}
	if err := e.Store.Commit(context.Background(), &domain.Change{Refunds: []domain.RefundWrite{domain.UpdateRefund(&prev, &r)}}); err != nil {
		t.Fatal(err)
	}
}

func init() {
	routeTests["POST /v1/callbacks/refund"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		r := owedRefund(t, e)
		body := func(key, status string) map[string]any {
			return map[string]any{"refundId": key, "status": status, "amountFen": r.AmountFen, "providerRefundId": "5030000001"}
		}
		req := func(b map[string]any) apitest.Request {
			return signed(e, "POST /v1/callbacks/refund", apitest.Secrets.PaymentWebhook, b)
		}
		raced, err := faults.New(faults.Config{Rate: 1, Kinds: []faults.Kind{faults.LostRace},
			Match: faults.MatchOperations("PutItem", "TransactWriteItems")})
		if err != nil {
			t.Fatal(err)
		}
		return req(body(r.Key(), "succeeded")), []refusal{
			{"unknown refund", 404, "not_found", req(body(domain.RefundKey(unknownID, 1), "succeeded")), nil},
			{"every write loses its race", 409, "version_conflict", req(body(r.Key(), "succeeded")), e.Rewire(raced.DynamoDB)},
			{"unknown status", 422, "invalid_status", req(body(r.Key(), "refunded")), nil},
		}
	}}

	routeTests["GET /v1/admin/refunds"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		r := owedRefund(t, e)
		req := func(q map[string]string) apitest.Request {
			return apitest.Request{Route: "GET /v1/admin/refunds", As: apitest.Boss, Query: q}
		}
		return req(map[string]string{"status": "pending", "caseId": r.CaseID, "limit": "10"}), []refusal{
			{"unknown status", 422, "invalid_value", req(map[string]string{"status": "lost"}), nil},
			{"a time that is not RFC 3339", 422, "validation_failed", req(map[string]string{"from": "yesterday"}), nil},
		}
	}}

	routeTests["POST /v1/admin/refunds/{refundId}/retry"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		const route = "POST /v1/admin/refunds/{refundId}/retry"
		failed := owedRefund(t, e)
		failRefund(t, e, failed)
		pending := owedRefund(t, e)
		req := func(id string, body any) apitest.Request {
			return apitest.Request{Route: route, Params: apitest.P("refundId", id), As: apitest.Boss, Body: body}
		}
		return req(failed.ID, nil), []refusal{
			{"no such refund", 404, "not_found", req(unknownID, nil), nil},
			{"a refund that has not failed", 409, "refund_not_failed", req(pending.ID, nil), nil},
			{"a body with fields", 422, "unknown_field", req(failed.ID, map[string]any{"round": 9}), nil},
		}
	}}

	routeTests["GET /v1/admin/discrepancies"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		d := discrepancy(t, e)
		req := func(q map[string]string) apitest.Request {
			return apitest.Request{Route: "GET /v1/admin/discrepancies", As: apitest.Boss, Query: q}
		}
		return req(map[string]string{"status": "open", "from": d.Day, "to": d.Day}), []refusal{
			{"unknown kind", 422, "invalid_value", req(map[string]string{"kind": "rounding"}), nil},
			{"a day that is not a date", 422, "invalid_date", req(map[string]string{"from": "2026-13-40"}), nil},
		}
	}}

	routeTests["POST /v1/admin/discrepancies/{discrepancyId}/resolve"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		const route = "POST /v1/admin/discrepancies/{discrepancyId}/resolve"
		open, done := discrepancy(t, e), discrepancy(t, e)
		req := func(id string, body any) apitest.Request {
			return apitest.Request{Route: route, Params: apitest.P("discrepancyId", id), As: apitest.Boss, Body: body}
		}
		note := map[string]any{"note": "渠道手工退款，已补记"}
		e.Must(200, req(done.ID, note))
		return req(open.ID, note), []refusal{
			{"no such discrepancy", 404, "not_found", req(unknownID, note), nil},
			{"already resolved", 409, "discrepancy_resolved", req(done.ID, note), nil},
			{"no note", 422, "missing_field", req(open.ID, map[string]any{}), nil},
			{"a note too long", 422, "too_long", req(open.ID, map[string]any{"note": strings.Repeat("长", 1001)}), nil},
		}
	}}

	routeTests["GET /v1/admin/reports/subsidies"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		c := e.OpenCase(apitest.Owner, e.NewEnterprise(apitest.Owner), "wecom")
		e.Pay(apitest.Owner, c)
		req := func(month string) apitest.Request {
			return apitest.Request{Route: "GET /v1/admin/reports/subsidies", As: apitest.Boss, Query: map[string]string{"month": month}}
		}
		return req(domain.Month(e.Clock.Now())), []refusal{
			{"not a month", 422, "invalid_month", req("2026-13"), nil},
		}
	}}
}

// discrepancy records an open discrepancy as the reconciliation would.
func discrepancy(t *testing.T, e *apitest.Env) domain.Discrepancy {
	t.Helper()
	now := e.Clock.Now()
	d := domain.Discrepancy{ID: domain.NewIDAt(now), Source: domain.SourcePayments, Day: domain.Day(now), Kind: domain.MissingOnOurs,
		LineKind: domain.LinePayment, Ref: "4200000001", OrderID: unknownID, TheirsFen: 15000, TheirsStatus: domain.LineSucceeded,
		Status: domain.DiscrepancyOpen, DetectedAt: now}
	if err := e.Store.Commit(context.Background(), &domain.Change{Discrepancies: []domain.DiscrepancyWrite{{Discrepancy: &d, Create: true}}}); err != nil {
		t.Fatal(err)
	}
	return d
}
