package httpapi_test

import (
	"testing"

	"microcert/shared/httpapi/apitest"
)

// Routes of the enterprise profile and its lists.

func init() {
	routeTests["GET /v1/health"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		return apitest.Request{Route: "GET /v1/health"}, nil
	}}

	routeTests["POST /v1/enterprises"] = routeTest{ok: 201, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		taken := apitest.EnterpriseBody(e.Next())
		e.Must(201, apitest.Request{Route: "POST /v1/enterprises", As: apitest.Stranger, Body: taken})
		body := func(edit func(m map[string]any)) map[string]any {
			m := apitest.EnterpriseBody(e.Next())
			edit(m)
			return m
		}
		req := func(b any) apitest.Request {
			return apitest.Request{Route: "POST /v1/enterprises", As: apitest.Owner, Body: b}
		}
		return req(apitest.EnterpriseBody(e.Next())), []refusal{
			{"USCC already registered", 409, "enterprise_exists", req(taken), nil},
			{"invalid USCC", 422, "invalid_uscc", req(body(func(m map[string]any) { m["uscc"] = "91440300MA5FXXXXX0" })), nil},
			{"missing field", 422, "missing_field", req(body(func(m map[string]any) { delete(m, "operatingAddress") })), nil},
			{"unknown field", 422, "unknown_field", req(body(func(m map[string]any) { m["status"] = "approved" })), nil},
		}
	}}

	routeTests["GET /v1/enterprises"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		e.NewEnterprise(apitest.Owner)
		ok := apitest.Request{Route: "GET /v1/enterprises", As: apitest.Owner, Query: map[string]string{"limit": "10"}}
		return ok, []refusal{
			{"limit out of range", 422, "validation_failed", apitest.Request{Route: ok.Route, As: apitest.Owner, Query: map[string]string{"limit": "101"}}, nil},
		}
	}}

	routeTests["GET /v1/enterprises/{enterpriseId}"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		id := e.NewEnterprise(apitest.Owner)
		req := func(as apitest.Caller, id string) apitest.Request {
			return apitest.Request{Route: "GET /v1/enterprises/{enterpriseId}", Params: apitest.P("enterpriseId", id), As: as}
		}
		return req(apitest.Owner, id), []refusal{
			{"another tenant's", 404, "not_found", req(apitest.Stranger, id), nil},
			{"no such id", 404, "not_found", req(apitest.Owner, "01m8sq0wfegzpngdcsk87ajw1j"), nil},
			{"not an id", 404, "not_found", req(apitest.Owner, "../x"), nil},
		}
	}}
}

func init() {
	routeTests["PATCH /v1/enterprises/{enterpriseId}"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		id := e.NewEnterprise(apitest.Owner)
		certified, _ := e.ApprovedCase(apitest.Checker, "wecom")
		req := func(as apitest.Caller, id string, body map[string]any) apitest.Request {
			return apitest.Request{Route: "PATCH /v1/enterprises/{enterpriseId}", Params: apitest.P("enterpriseId", id), As: as, Body: body}
		}
		return req(apitest.Owner, id, map[string]any{"operatingAddress": "广东省深圳市福田区深南大道2号", "version": 1}), []refusal{
			{"another tenant's", 404, "not_found", req(apitest.Stranger, id, map[string]any{"operatingAddress": "广东省深圳市福田区深南大道2号"}), nil},
			{"a reviewer", 403, "forbidden", req(apitest.Checker, id, map[string]any{"operatingAddress": "广东省深圳市福田区深南大道2号"}), nil},
			{"stale version", 409, "version_conflict", req(apitest.Owner, id, map[string]any{"operatingAddress": "广东省深圳市福田区深南大道2号", "version": 7}), nil},
			{"reviewed field of a certified enterprise", 409, "change_requires_review",
				req(apitest.Owner, certified, map[string]any{"name": "深圳市另一个名字有限公司"}), nil},
			{"invalid phone", 422, "invalid_phone", req(apitest.Owner, id, map[string]any{"legalRep": map[string]any{"phone": "123"}}), nil},
			{"the USCC", 422, "unknown_field", req(apitest.Owner, id, map[string]any{"uscc": "91440300MA5FXXXXX0"}), nil},
		}
	}}

	for _, list := range []string{"cases", "notifications"} {
		route := "GET /v1/enterprises/{enterpriseId}/" + list
		routeTests[route] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
			id := e.NewEnterprise(apitest.Owner)
			e.OpenCase(apitest.Owner, id)
			req := func(as apitest.Caller, id, limit string) apitest.Request {
				return apitest.Request{Route: route, Params: apitest.P("enterpriseId", id), As: as, Query: map[string]string{"limit": limit}}
			}
			return req(apitest.Owner, id, "5"), []refusal{
				{"another tenant's", 404, "not_found", req(apitest.Stranger, id, "5"), nil},
				{"limit 0", 422, "validation_failed", req(apitest.Owner, id, "0"), nil},
				{"a cursor of garbage", 422, "invalid_cursor", apitest.Request{Route: route, Params: apitest.P("enterpriseId", id),
					As: apitest.Owner, Query: map[string]string{"cursor": "not-a-cursor"}}, nil},
			}
		}}
	}
}
