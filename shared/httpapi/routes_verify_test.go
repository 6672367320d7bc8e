package httpapi_test

import (
	"testing"
	"time"

	"microcert/shared/faults"

	"microcert/shared/httpapi/apitest"
)

// Routes of the verifications, the micro-deposit, the fee and the
// providers' callbacks.

// noAccount registers an enterprise of Owner without a corporate account.
func noAccount(e *apitest.Env) string {
	b := apitest.EnterpriseBody(e.Next())
	b["hasCorporateAccount"] = false
	return e.Must(201, apitest.Request{Route: "POST /v1/enterprises", As: apitest.Owner, Body: b})["id"].(string)
}

func init() {
	routeTests["POST /v1/cases/{caseId}/face-verification"] = routeTest{ok: 201, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		const r = "POST /v1/cases/{caseId}/face-verification"
		c := e.OpenCase(apitest.Owner, e.NewEnterprise(apitest.Owner), "wecom")
		noFace := e.OpenCase(apitest.Owner, e.NewEnterprise(apitest.Owner), "official_account")
		done := e.OpenCase(apitest.Owner, e.NewEnterprise(apitest.Owner), "wecom")
		e.PassFace(apitest.Owner, done, r)
		return caseReq(r, apitest.Owner, c, nil), []refusal{
			{"another tenant's", 404, "not_found", caseReq(r, apitest.Stranger, c, nil), nil},
			{"a reviewer", 403, "forbidden", caseReq(r, apitest.Checker, c, nil), nil},
			{"a case that needs no face check", 409, "verification_not_required", caseReq(r, apitest.Owner, noFace, nil), nil},
			{"already verified", 409, "already_verified", caseReq(r, apitest.Owner, done, nil), nil},
			{"a body with fields", 422, "unknown_field", caseReq(r, apitest.Owner, c, map[string]any{"result": "pass"}), nil},
		}
	}}

	routeTests["POST /v1/cases/{caseId}/qr-verification"] = routeTest{ok: 201, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		const r = "POST /v1/cases/{caseId}/qr-verification"
		c := e.OpenCase(apitest.Owner, noAccount(e), "official_account")
		withAccount := e.OpenCase(apitest.Owner, e.NewEnterprise(apitest.Owner), "official_account")
		_, submitted := e.SubmittedCase(apitest.Owner)
		return caseReq(r, apitest.Owner, c, nil), []refusal{
			{"another tenant's", 404, "not_found", caseReq(r, apitest.Stranger, c, nil), nil},
			{"a reviewer", 403, "forbidden", caseReq(r, apitest.Checker, c, nil), nil},
			{"an enterprise with a corporate account", 409, "verification_not_required", caseReq(r, apitest.Owner, withAccount, nil), nil},
			{"a submitted case", 409, "case_not_editable", caseReq(r, apitest.Owner, submitted, nil), nil},
			{"a body with fields", 422, "unknown_field", caseReq(r, apitest.Owner, c, map[string]any{"x": 1}), nil},
		}
	}}

	routeTests["POST /v1/callbacks/face"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		const face = "POST /v1/cases/{caseId}/face-verification"
		c := e.OpenCase(apitest.Owner, e.NewEnterprise(apitest.Owner), "wecom")
		old := e.Must(201, caseReq(face, apitest.Owner, c, nil))["sessionId"]
		session := e.Must(201, caseReq(face, apitest.Owner, c, nil))["sessionId"]
		expiring := e.OpenCase(apitest.Owner, e.NewEnterprise(apitest.Owner), "wecom")
		expired := e.Must(201, caseReq(face, apitest.Owner, expiring, nil))["sessionId"]
		later := e.Later(e.Rules.VerificationSessionTTL + time.Second)
		body := func(session any, result string) map[string]any {
			return map[string]any{"sessionId": session, "result": result, "phoneMatchesRegistration": true, "livenessScore": 0.97}
		}
		return signed(e, "POST /v1/callbacks/face", apitest.Secrets.FaceWebhook, body(session, "pass")), []refusal{
			{"unknown session", 404, "not_found", signed(e, "POST /v1/callbacks/face", apitest.Secrets.FaceWebhook, body(unknownID, "pass")), nil},
			{"a replaced session", 409, "session_superseded", signed(e, "POST /v1/callbacks/face", apitest.Secrets.FaceWebhook, body(old, "pass")), nil},
			{"an expired session", 409, "session_expired", signed(later, "POST /v1/callbacks/face", apitest.Secrets.FaceWebhook, body(expired, "pass")), later},
			{"unknown result", 422, "invalid_result", signed(e, "POST /v1/callbacks/face", apitest.Secrets.FaceWebhook, body(session, "maybe")), nil},
			{"missing field", 422, "missing_field", signed(e, "POST /v1/callbacks/face", apitest.Secrets.FaceWebhook, map[string]any{"sessionId": session}), nil},
		}
	}}

	routeTests["POST /v1/callbacks/payment"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		c := e.OpenCase(apitest.Owner, e.NewEnterprise(apitest.Owner), "wecom")
		o := e.Must(201, caseReq("POST /v1/cases/{caseId}/payment", apitest.Owner, c, nil))
		body := func(order any, status string, fen any) map[string]any {
			return map[string]any{"orderId": order, "status": status, "paidFen": fen}
		}
		req := func(b map[string]any) apitest.Request {
			return signed(e, "POST /v1/callbacks/payment", apitest.Secrets.PaymentWebhook, b)
		}
		// Every write of the case loses its race (someone else's write got
		// in each time): the retries give up.
		raced, err := faults.New(faults.Config{Rate: 1, Kinds: []faults.Kind{faults.LostRace},
			Match: faults.MatchOperations("PutItem", "TransactWriteItems")})
		if err != nil {
			t.Fatal(err)
		}
		return req(body(o["orderId"], "paid", o["payableFen"])), []refusal{
			{"unknown order", 404, "not_found", req(body(unknownID, "paid", 100)), nil},
			{"every write loses its race", 409, "version_conflict", req(body(o["orderId"], "paid", o["payableFen"])), e.Rewire(raced.DynamoDB)},
			{"paid nothing", 422, "invalid_amount", req(body(o["orderId"], "paid", 0)), nil},
			{"unknown status", 422, "invalid_status", req(body(o["orderId"], "refunded", o["payableFen"])), nil},
		}
	}}

	routeTests["POST /v1/cases/{caseId}/payment"] = routeTest{ok: 201, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		const r = "POST /v1/cases/{caseId}/payment"
		c := e.OpenCase(apitest.Owner, e.NewEnterprise(apitest.Owner))
		paid := e.OpenCase(apitest.Owner, e.NewEnterprise(apitest.Owner))
		e.Pay(apitest.Owner, paid)
		return caseReq(r, apitest.Owner, c, nil), []refusal{
			{"another tenant's", 404, "not_found", caseReq(r, apitest.Stranger, c, nil), nil},
			{"a reviewer", 403, "forbidden", caseReq(r, apitest.Checker, c, nil), nil},
			{"already paid", 409, "already_paid", caseReq(r, apitest.Owner, paid, nil), nil},
			{"a body with fields", 422, "unknown_field", caseReq(r, apitest.Owner, c, map[string]any{"amountFen": 1}), nil},
		}
	}}

	bank := map[string]any{"bankName": "招商银行深圳分行", "accountName": apitest.CompanyName, "accountNumber": "755912345678901"}
	routeTests["POST /v1/cases/{caseId}/bank-verification"] = routeTest{ok: 201, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		const r = "POST /v1/cases/{caseId}/bank-verification"
		c := e.OpenCase(apitest.Owner, e.NewEnterprise(apitest.Owner), "official_account")
		pending := e.OpenCase(apitest.Owner, e.NewEnterprise(apitest.Owner), "official_account")
		e.Must(201, caseReq(r, apitest.Owner, pending, bank))
		noAcct := e.OpenCase(apitest.Owner, noAccount(e), "official_account")
		other := map[string]any{"bankName": "招商银行深圳分行", "accountName": "深圳市别人的公司", "accountNumber": "755912345678901"}
		short := map[string]any{"bankName": "招商银行深圳分行", "accountName": apitest.CompanyName, "accountNumber": "12"}
		return caseReq(r, apitest.Owner, c, bank), []refusal{
			{"another tenant's", 404, "not_found", caseReq(r, apitest.Stranger, c, bank), nil},
			{"a reviewer", 403, "forbidden", caseReq(r, apitest.Checker, c, bank), nil},
			{"one already on its way", 409, "verification_pending", caseReq(r, apitest.Owner, pending, bank), nil},
			{"no corporate account", 409, "verification_not_required", caseReq(r, apitest.Owner, noAcct, bank), nil},
			{"another account holder", 422, "account_name_mismatch", caseReq(r, apitest.Owner, c, other), nil},
			{"not an account number", 422, "invalid_account_number", caseReq(r, apitest.Owner, c, short), nil},
		}
	}}

	routeTests["POST /v1/cases/{caseId}/bank-verification/confirm"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		const r = "POST /v1/cases/{caseId}/bank-verification/confirm"
		c := e.OpenCase(apitest.Owner, e.NewEnterprise(apitest.Owner), "official_account")
		e.Must(201, caseReq("POST /v1/cases/{caseId}/bank-verification", apitest.Owner, c, bank))
		notStarted := e.OpenCase(apitest.Owner, e.NewEnterprise(apitest.Owner), "official_account")
		amount := map[string]any{"amountFen": e.DepositPaid(c)}
		return caseReq(r, apitest.Owner, c, amount), []refusal{
			{"another tenant's", 404, "not_found", caseReq(r, apitest.Stranger, c, amount), nil},
			{"a reviewer", 403, "forbidden", caseReq(r, apitest.Checker, c, amount), nil},
			{"no deposit sent", 409, "verification_not_started", caseReq(r, apitest.Owner, notStarted, amount), nil},
			{"an amount no deposit has", 422, "invalid_amount", caseReq(r, apitest.Owner, c, map[string]any{"amountFen": 100}), nil},
		}
	}}
}

// signed is a provider callback to route signed with secret now.
func signed(e *apitest.Env, route, secret string, body map[string]any) apitest.Request {
	return e.SignedRequest(route, secret, body)
}
