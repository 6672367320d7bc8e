package httpapi_test

import (
	"testing"

	"microcert/shared/httpapi/apitest"
)

// Routes of the reviewers and admins, and the certification endings.

func init() {
	routeTests["GET /v1/review/queue"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		e.SubmittedCase(apitest.Owner)
		req := func(limit string) apitest.Request {
			return apitest.Request{Route: "GET /v1/review/queue", As: apitest.Checker, Query: map[string]string{"limit": limit}}
		}
		return req("10"), []refusal{
			{"limit 1000", 422, "validation_failed", req("1000"), nil},
		}
	}}

	routeTests["POST /v1/cases/{caseId}/claim"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		const r = "POST /v1/cases/{caseId}/claim"
		_, c := e.SubmittedCase(apitest.Owner)
		_, held := e.SubmittedCase(apitest.Owner)
		e.Must(200, caseReq(r, apitest.Reviewer("reviewer-2"), held, nil))
		draft := e.OpenCase(apitest.Owner, e.NewEnterprise(apitest.Owner))
		// A reviewer who also applies may not review their own case.
		both := apitest.Caller{User: apitest.Owner.User, Roles: append(apitest.Owner.Roles, apitest.Checker.Roles...)}
		return caseReq(r, apitest.Checker, c, nil), []refusal{
			{"no such case", 404, "not_found", caseReq(r, apitest.Checker, unknownID, nil), nil},
			{"one's own case", 403, "own_case", caseReq(r, both, c, nil), nil},
			{"held by another reviewer", 409, "case_claimed", caseReq(r, apitest.Checker, held, nil), nil},
			{"a draft", 409, "invalid_transition", caseReq(r, apitest.Checker, draft, nil), nil},
			{"a body with fields", 422, "unknown_field", caseReq(r, apitest.Checker, c, map[string]any{"until": "tomorrow"}), nil},
		}
	}}

	routeTests["POST /v1/review/cases/{caseId}/reveal"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		const r = "POST /v1/review/cases/{caseId}/reveal"
		_, c := e.SubmittedCase(apitest.Owner)
		e.Must(200, caseReq("POST /v1/cases/{caseId}/claim", apitest.Checker, c, nil))
		_, unclaimed := e.SubmittedCase(apitest.Owner)
		both := apitest.Caller{User: apitest.Owner.User, Roles: append(apitest.Owner.Roles, apitest.Checker.Roles...)}
		return caseReq(r, apitest.Checker, c, nil), []refusal{
			{"no such case", 404, "not_found", caseReq(r, apitest.Checker, unknownID, nil), nil},
			{"one's own case", 403, "own_case", caseReq(r, both, c, nil), nil},
			{"unclaimed", 409, "claim_required", caseReq(r, apitest.Checker, unclaimed, nil), nil},
			{"another reviewer's claim", 409, "case_claimed", caseReq(r, apitest.Reviewer("reviewer-2"), c, nil), nil},
		}
	}}

	routeTests["POST /v1/cases/{caseId}/decision"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		const r = "POST /v1/cases/{caseId}/decision"
		_, c := e.SubmittedCase(apitest.Owner)
		v := e.Must(200, caseReq("POST /v1/cases/{caseId}/claim", apitest.Checker, c, nil))["version"]
		_, unclaimed := e.SubmittedCase(apitest.Owner)
		uv := e.Must(200, caseReq("GET /v1/cases/{caseId}", apitest.Checker, unclaimed, nil))["version"]
		approve := map[string]any{"decision": "approve", "version": v}
		return caseReq(r, apitest.Checker, c, approve), []refusal{
			{"no such case", 404, "not_found", caseReq(r, apitest.Checker, unknownID, approve), nil},
			{"unclaimed", 409, "claim_required", caseReq(r, apitest.Checker, unclaimed, map[string]any{"decision": "approve", "version": uv}), nil},
			{"another reviewer", 409, "case_claimed", caseReq(r, apitest.Reviewer("reviewer-2"), c, approve), nil},
			{"stale version", 409, "version_conflict", caseReq(r, apitest.Checker, c, map[string]any{"decision": "approve", "version": 1}), nil},
			{"reject without reasons", 422, "reasons_required", caseReq(r, apitest.Checker, c, map[string]any{"decision": "reject", "version": v}), nil},
			{"unknown reason", 422, "unknown_reason", caseReq(r, apitest.Checker, c,
				map[string]any{"decision": "reject", "reasons": []string{"bad_vibes"}, "version": v}), nil},
		}
	}}

	routeTests["POST /v1/enterprises/{enterpriseId}/certifications/{type}/cancel"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		const r = "POST /v1/enterprises/{enterpriseId}/certifications/{type}/cancel"
		ent, _ := e.ApprovedCase(apitest.Checker, "wecom")
		never := e.NewEnterprise(apitest.Owner)
		req := func(as apitest.Caller, ent, typ string, body any) apitest.Request {
			return apitest.Request{Route: r, Params: apitest.P("enterpriseId", ent, "type", typ), As: as, Body: body}
		}
		reason := map[string]any{"reason": "不再运营该企业微信"}
		revoked, _ := e.ApprovedCase(apitest.Checker, "wecom")
		e.Must(200, apitest.Request{Route: "POST /v1/enterprises/{enterpriseId}/certifications/{type}/revoke",
			Params: apitest.P("enterpriseId", revoked, "type", "wecom"), As: apitest.Boss, Body: map[string]any{"reason": "伪造材料", "severity": "major"}})
		return req(apitest.Owner, ent, "wecom", reason), []refusal{
			{"a revoked certification", 409, "invalid_transition", req(apitest.Owner, revoked, "wecom", reason), nil},
			{"another tenant's", 404, "not_found", req(apitest.Stranger, ent, "wecom", reason), nil},
			{"a reviewer", 403, "forbidden", req(apitest.Checker, ent, "wecom", reason), nil},
			{"a type never held", 404, "not_found", req(apitest.Owner, never, "wecom", reason), nil},
			{"not a type", 404, "not_found", req(apitest.Owner, ent, "weibo", reason), nil},
			{"a reason too long", 422, "too_long", req(apitest.Owner, ent, "wecom", map[string]any{"reason": string(make([]rune, 600))}), nil},
		}
	}}

	routeTests["POST /v1/enterprises/{enterpriseId}/certifications/{type}/revoke"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		const r = "POST /v1/enterprises/{enterpriseId}/certifications/{type}/revoke"
		ent, _ := e.ApprovedCase(apitest.Checker, "wecom")
		cancelled, _ := e.ApprovedCase(apitest.Checker, "wecom")
		e.Must(200, apitest.Request{Route: "POST /v1/enterprises/{enterpriseId}/certifications/{type}/cancel",
			Params: apitest.P("enterpriseId", cancelled, "type", "wecom"), As: apitest.Owner})
		req := func(ent string, body any) apitest.Request {
			return apitest.Request{Route: r, Params: apitest.P("enterpriseId", ent, "type", "wecom"), As: apitest.Boss, Body: body}
		}
		major := map[string]any{"reason": "提交伪造材料", "severity": "major"}
		return req(ent, major), []refusal{
			{"no such enterprise", 404, "not_found", req(unknownID, major), nil},
			{"a cancelled certification", 409, "invalid_transition", req(cancelled, major), nil},
			{"unknown severity", 422, "invalid_severity", req(ent, map[string]any{"reason": "x", "severity": "huge"}), nil},
		}
	}}
}

func init() {
	routeTests["POST /v1/review/cases/{caseId}/reveal"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		const r = "POST /v1/review/cases/{caseId}/reveal"
		_, c := e.SubmittedCase(apitest.Owner)
		e.Must(200, caseReq("POST /v1/cases/{caseId}/claim", apitest.Checker, c, nil))
		_, unclaimed := e.SubmittedCase(apitest.Owner)
		// A reviewer who also applies may not review their own case.
		both := apitest.Caller{User: apitest.Owner.User, Roles: append(apitest.Owner.Roles, apitest.Checker.Roles...)}
		return caseReq(r, apitest.Checker, c, nil), []refusal{
			{"no such case", 404, "not_found", caseReq(r, apitest.Checker, unknownID, nil), nil},
			{"one's own case", 403, "own_case", caseReq(r, both, c, nil), nil},
			{"unclaimed", 409, "claim_required", caseReq(r, apitest.Checker, unclaimed, nil), nil},
			{"another reviewer's claim", 409, "case_claimed", caseReq(r, apitest.Reviewer("reviewer-2"), c, nil), nil},
		}
	}}
}
