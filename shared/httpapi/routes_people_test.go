package httpapi_test

import (
	"fmt"
	"testing"

	"microcert/shared/domain"
	"microcert/shared/faults"
	"microcert/shared/httpapi/apitest"
)

// Routes of an enterprise's people (members, invitations, ownership,
// history) and of disputes.

// entReq is a request to an enterprise route.
func entReq(route string, as apitest.Caller, entID string, body any, params ...any) apitest.Request {
	return apitest.Request{Route: route, Params: apitest.P(append([]any{"enterpriseId", entID}, params...)...), As: as, Body: body}
}

// join has owner invite who with role and who redeem the code.
func join(e *apitest.Env, owner apitest.Caller, entID string, who apitest.Caller, role string) {
	inv := e.Must(201, entReq("POST /v1/enterprises/{enterpriseId}/invitations", owner, entID, map[string]any{"role": role}))
	e.Must(200, apitest.Request{Route: "POST /v1/invitations/redeem", As: who, Body: map[string]any{"code": inv["code"]}})
}

// newMember is a fresh applicant.
func newMember(e *apitest.Env) apitest.Caller {
	return apitest.Applicant(fmt.Sprintf("member-%d", e.Next()))
}

// lostRaces makes every write lose its race (someone else's write got in
// each time): the retries give up with version_conflict.
func lostRaces(t *testing.T, e *apitest.Env) *apitest.Env {
	raced, err := faults.New(faults.Config{Rate: 1, Kinds: []faults.Kind{faults.LostRace},
		Match: faults.MatchOperations("PutItem", "TransactWriteItems")})
	if err != nil {
		t.Fatal(err)
	}
	return e.Rewire(raced.DynamoDB)
}

func init() {
	routeTests["GET /v1/enterprises/{enterpriseId}/members"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		const r = "GET /v1/enterprises/{enterpriseId}/members"
		id := e.NewEnterprise(apitest.Owner)
		join(e, apitest.Owner, id, newMember(e), "viewer")
		return entReq(r, apitest.Owner, id, nil), []refusal{
			{"another tenant's", 404, "not_found", entReq(r, apitest.Stranger, id, nil), nil},
		}
	}}

	routeTests["GET /v1/enterprises/{enterpriseId}/history"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		const r = "GET /v1/enterprises/{enterpriseId}/history"
		id := e.NewEnterprise(apitest.Owner)
		join(e, apitest.Owner, id, newMember(e), "operator")
		req := func(as apitest.Caller, q map[string]string) apitest.Request {
			x := entReq(r, as, id, nil)
			x.Query = q
			return x
		}
		return req(apitest.Owner, map[string]string{"limit": "5"}), []refusal{
			{"another tenant's", 404, "not_found", req(apitest.Stranger, nil), nil},
			{"limit 0", 422, "validation_failed", req(apitest.Owner, map[string]string{"limit": "0"}), nil},
			{"a cursor of garbage", 422, "invalid_cursor", req(apitest.Owner, map[string]string{"cursor": "not-a-cursor"}), nil},
		}
	}}

	routeTests["GET /v1/enterprises/{enterpriseId}/invitations"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		const r = "GET /v1/enterprises/{enterpriseId}/invitations"
		id := e.NewEnterprise(apitest.Owner)
		op := newMember(e)
		join(e, apitest.Owner, id, op, "operator")
		return entReq(r, apitest.Owner, id, nil), []refusal{
			{"another tenant's", 404, "not_found", entReq(r, apitest.Stranger, id, nil), nil},
			{"an operator", 403, "insufficient_role", entReq(r, op, id, nil), nil},
		}
	}}

	routeTests["POST /v1/enterprises/{enterpriseId}/invitations"] = routeTest{ok: 201, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		const r = "POST /v1/enterprises/{enterpriseId}/invitations"
		id := e.NewEnterprise(apitest.Owner)
		op := newMember(e)
		join(e, apitest.Owner, id, op, "operator")
		viewer := map[string]any{"role": "viewer", "label": "财务 王五"}
		full := e.NewEnterprise(apitest.Owner)
		for i := 0; i < domain.InvitationLimit; i++ {
			e.Must(201, entReq(r, apitest.Owner, full, viewer))
		}
		return entReq(r, apitest.Owner, id, viewer), []refusal{
			{"another tenant's", 404, "not_found", entReq(r, apitest.Stranger, id, viewer), nil},
			{"an operator", 403, "insufficient_role", entReq(r, op, id, viewer), nil},
			{"too many invitations", 409, "invitation_limit_reached", entReq(r, apitest.Owner, full, viewer), nil},
			{"an owner", 422, "invalid_role", entReq(r, apitest.Owner, id, map[string]any{"role": "owner"}), nil},
			{"no role", 422, "missing_field", entReq(r, apitest.Owner, id, map[string]any{}), nil},
		}
	}}

	routeTests["DELETE /v1/enterprises/{enterpriseId}/invitations/{invitationId}"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		const r = "DELETE /v1/enterprises/{enterpriseId}/invitations/{invitationId}"
		id := e.NewEnterprise(apitest.Owner)
		op := newMember(e)
		join(e, apitest.Owner, id, op, "operator")
		invite := func() any {
			return e.Must(201, entReq("POST /v1/enterprises/{enterpriseId}/invitations", apitest.Owner, id, map[string]any{"role": "viewer"}))["id"]
		}
		pending, revoked := invite(), invite()
		e.Must(200, entReq(r, apitest.Owner, id, nil, "invitationId", revoked))
		return entReq(r, apitest.Owner, id, nil, "invitationId", pending), []refusal{
			{"another tenant's", 404, "not_found", entReq(r, apitest.Stranger, id, nil, "invitationId", pending), nil},
			{"no such invitation", 404, "not_found", entReq(r, apitest.Owner, id, nil, "invitationId", unknownID), nil},
			{"an operator", 403, "insufficient_role", entReq(r, op, id, nil, "invitationId", pending), nil},
			{"revoked already", 409, "invitation_not_pending", entReq(r, apitest.Owner, id, nil, "invitationId", revoked), nil},
			{"a body", 422, "unknown_field", entReq(r, apitest.Owner, id, map[string]any{"status": "revoked"}, "invitationId", pending), nil},
		}
	}}

	routeTests["POST /v1/invitations/redeem"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		const r = "POST /v1/invitations/redeem"
		id := e.NewEnterprise(apitest.Owner)
		code := func() any {
			return e.Must(201, entReq("POST /v1/enterprises/{enterpriseId}/invitations", apitest.Owner, id, map[string]any{"role": "viewer"}))["code"]
		}
		mine := code()
		req := func(as apitest.Caller, body any) apitest.Request {
			return apitest.Request{Route: r, As: as, Body: body}
		}
		return req(newMember(e), map[string]any{"code": code()}), []refusal{
			{"a forged code", 404, "invitation_invalid", req(newMember(e), map[string]any{"code": id + ".0123456789abcdefghjkmnpqrstvwxyz"}), nil},
			{"garbage", 404, "invitation_invalid", req(newMember(e), map[string]any{"code": "x"}), nil},
			{"a member already", 409, "already_member", req(apitest.Owner, map[string]any{"code": mine}), nil},
			{"no code", 422, "missing_field", req(newMember(e), map[string]any{}), nil},
		}
	}}

	routeTests["PATCH /v1/enterprises/{enterpriseId}/members/{userId}"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		const r = "PATCH /v1/enterprises/{enterpriseId}/members/{userId}"
		id := e.NewEnterprise(apitest.Owner)
		m, op := newMember(e), newMember(e)
		join(e, apitest.Owner, id, m, "viewer")
		join(e, apitest.Owner, id, op, "operator")
		role := map[string]any{"role": "operator"}
		return entReq(r, apitest.Owner, id, role, "userId", m.User), []refusal{
			{"another tenant's", 404, "not_found", entReq(r, apitest.Stranger, id, role, "userId", m.User), nil},
			{"no such member", 404, "not_found", entReq(r, apitest.Owner, id, role, "userId", "nobody"), nil},
			{"an operator", 403, "insufficient_role", entReq(r, op, id, role, "userId", m.User), nil},
			{"the owner's role", 409, "owner_cannot_be_removed", entReq(r, apitest.Owner, id, role, "userId", apitest.Owner.User), nil},
			{"stale version", 409, "version_conflict", entReq(r, apitest.Owner, id, map[string]any{"role": "operator", "version": 9}, "userId", m.User), nil},
			{"an owner", 422, "invalid_role", entReq(r, apitest.Owner, id, map[string]any{"role": "owner"}, "userId", m.User), nil},
		}
	}}

	routeTests["DELETE /v1/enterprises/{enterpriseId}/members/{userId}"] = routeTest{ok: 204, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		const r = "DELETE /v1/enterprises/{enterpriseId}/members/{userId}"
		id := e.NewEnterprise(apitest.Owner)
		m, op := newMember(e), newMember(e)
		join(e, apitest.Owner, id, m, "viewer")
		join(e, apitest.Owner, id, op, "operator")
		return entReq(r, apitest.Owner, id, nil, "userId", m.User), []refusal{
			{"another tenant's", 404, "not_found", entReq(r, apitest.Stranger, id, nil, "userId", m.User), nil},
			{"no such member", 404, "not_found", entReq(r, apitest.Owner, id, nil, "userId", "nobody"), nil},
			{"an operator", 403, "insufficient_role", entReq(r, op, id, nil, "userId", m.User), nil},
			{"the owner", 409, "owner_cannot_be_removed", entReq(r, apitest.Owner, id, nil, "userId", apitest.Owner.User), nil},
			{"a body", 422, "unknown_field", entReq(r, apitest.Owner, id, map[string]any{"reason": "x"}, "userId", m.User), nil},
		}
	}}

	routeTests["POST /v1/enterprises/{enterpriseId}/ownership"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		const r = "POST /v1/enterprises/{enterpriseId}/ownership"
		id := e.NewEnterprise(apitest.Owner)
		admin, agent := newMember(e), newMember(e)
		join(e, apitest.Owner, id, admin, "admin")
		join(e, apitest.Owner, id, agent, "agent")
		to := map[string]any{"userId": admin.User}
		return entReq(r, apitest.Owner, id, to), []refusal{
			{"another tenant's", 404, "not_found", entReq(r, apitest.Stranger, id, to), nil},
			{"an admin", 403, "insufficient_role", entReq(r, admin, id, to), nil},
			{"every write loses its race", 409, "version_conflict", entReq(r, apitest.Owner, id, to), lostRaces(t, e)},
			{"not a member", 422, "not_a_member", entReq(r, apitest.Owner, id, map[string]any{"userId": "nobody"}), nil},
			{"an agent", 422, "agent_cannot_own", entReq(r, apitest.Owner, id, map[string]any{"userId": agent.User}), nil},
		}
	}}

	routeTests["POST /v1/disputes"] = routeTest{ok: 201, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		const r = "POST /v1/disputes"
		squatted := apitest.EnterpriseBody(e.Next())
		e.Must(201, apitest.Request{Route: "POST /v1/enterprises", As: apitest.Stranger, Body: squatted})
		claim := apitest.EnterpriseBody(e.Next())
		claim["uscc"] = squatted["uscc"]
		free := apitest.EnterpriseBody(e.Next())
		bad := apitest.EnterpriseBody(e.Next())
		bad["uscc"] = "91440300MA5FXXXXX0"
		req := func(body any) apitest.Request { return apitest.Request{Route: r, As: apitest.Owner, Body: body} }
		return req(claim), []refusal{
			{"a USCC nobody holds", 409, "uscc_not_registered", req(free), nil},
			{"invalid USCC", 422, "invalid_uscc", req(bad), nil},
		}
	}}
}
