package httpapi_test

import (
	"testing"

	"microcert/shared/httpapi/apitest"
)

// Routes of a case and its documents.

// caseReq is a request to a case route.
func caseReq(route string, as apitest.Caller, caseID string, body any) apitest.Request {
	return apitest.Request{Route: route, Params: apitest.P("caseId", caseID), As: as, Body: body}
}

const unknownID = "01m8sq0wfegzpngdcsk87ajw1j"

func init() {
	routeTests["POST /v1/cases"] = routeTest{ok: 201, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		ent := e.NewEnterprise(apitest.Owner)
		busy := e.NewEnterprise(apitest.Owner)
		e.OpenCase(apitest.Owner, busy, "wecom")
		req := func(as apitest.Caller, body map[string]any) apitest.Request {
			return apitest.Request{Route: "POST /v1/cases", As: as, Body: body}
		}
		body := func(ent, kind string, types ...string) map[string]any {
			return map[string]any{"enterpriseId": ent, "kind": kind, "types": types}
		}
		return req(apitest.Owner, body(ent, "initial", "wecom", "official_account")), []refusal{
			{"another tenant's enterprise", 404, "not_found", req(apitest.Stranger, body(ent, "initial", "wecom")), nil},
			{"a reviewer for the applicant", 403, "forbidden", req(apitest.Checker, body(ent, "initial", "wecom")), nil},
			{"a type already in an open case", 409, "case_already_open", req(apitest.Owner, body(busy, "initial", "wecom")), nil},
			{"unknown kind", 422, "invalid_kind", req(apitest.Owner, body(ent, "renewal", "wecom")), nil},
			{"repeated type", 422, "invalid_types", req(apitest.Owner, body(ent, "initial", "wecom", "wecom")), nil},
		}
	}}

	routeTests["GET /v1/cases/{caseId}"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		c := e.OpenCase(apitest.Owner, e.NewEnterprise(apitest.Owner))
		const r = "GET /v1/cases/{caseId}"
		return caseReq(r, apitest.Owner, c, nil), []refusal{
			{"another tenant's", 404, "not_found", caseReq(r, apitest.Stranger, c, nil), nil},
			{"no such case", 404, "not_found", caseReq(r, apitest.Owner, unknownID, nil), nil},
		}
	}}

	routeTests["GET /v1/cases/{caseId}/documents"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		c := e.OpenCase(apitest.Owner, e.NewEnterprise(apitest.Owner))
		e.Upload(apitest.Owner, c, "business_license", nil)
		const r = "GET /v1/cases/{caseId}/documents"
		return caseReq(r, apitest.Owner, c, nil), []refusal{
			{"another tenant's", 404, "not_found", caseReq(r, apitest.Stranger, c, nil), nil},
		}
	}}

	routeTests["POST /v1/cases/{caseId}/documents"] = routeTest{ok: 201, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		const r = "POST /v1/cases/{caseId}/documents"
		c := e.OpenCase(apitest.Owner, e.NewEnterprise(apitest.Owner))
		_, submitted := e.SubmittedCase(apitest.Owner)
		full := e.OpenCase(apitest.Owner, e.NewEnterprise(apitest.Owner))
		upload := func(docType, contentType string, n int) map[string]any {
			return map[string]any{"docType": docType, "contentType": contentType, "contentLength": n}
		}
		for range 10 { // the most uploads of one type a case takes
			e.Must(201, caseReq(r, apitest.Owner, full, upload("business_license", "image/jpeg", 1000)))
		}
		return caseReq(r, apitest.Owner, c, upload("business_license", "image/jpeg", 200_000)), []refusal{
			{"another tenant's", 404, "not_found", caseReq(r, apitest.Stranger, c, upload("business_license", "image/jpeg", 1000)), nil},
			{"a reviewer", 403, "forbidden", caseReq(r, apitest.Checker, c, upload("business_license", "image/jpeg", 1000)), nil},
			{"a submitted case", 409, "case_not_editable", caseReq(r, apitest.Owner, submitted, upload("business_license", "image/jpeg", 1000)), nil},
			{"unknown document type", 422, "invalid_doc_type", caseReq(r, apitest.Owner, c, upload("selfie", "image/jpeg", 1000)), nil},
			{"a type the case does not need", 422, "doc_type_not_required", caseReq(r, apitest.Owner, c, upload("office_video", "video/mp4", 1000)), nil},
			{"over the size limit", 422, "file_too_large", caseReq(r, apitest.Owner, c, upload("business_license", "image/jpeg", 11<<20)), nil},
			{"too many uploads", 409, "too_many_documents", caseReq(r, apitest.Owner, full, upload("business_license", "image/jpeg", 1000)), nil},
		}
	}}

	routeTests["GET /v1/documents/{documentId}/download"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		c := e.OpenCase(apitest.Owner, e.NewEnterprise(apitest.Owner))
		doc := e.Upload(apitest.Owner, c, "business_license", nil)
		req := func(as apitest.Caller, id string) apitest.Request {
			return apitest.Request{Route: "GET /v1/documents/{documentId}/download", Params: apitest.P("documentId", id), As: as}
		}
		// A form asked for but never posted: no check has read anything.
		pending := e.Must(201, caseReq("POST /v1/cases/{caseId}/documents", apitest.Owner, c,
			map[string]any{"docType": "legal_rep_id_front", "contentType": "image/jpeg", "contentLength": 1000}))["documentId"].(string)
		return req(apitest.Owner, doc), []refusal{
			{"another tenant's", 404, "not_found", req(apitest.Stranger, doc), nil},
			{"no such document", 404, "not_found", req(apitest.Owner, unknownID), nil},
			{"not checked yet", 409, "document_not_checked", req(apitest.Owner, pending), nil},
		}
	}}

	routeTests["POST /v1/cases/{caseId}/submit"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		const r = "POST /v1/cases/{caseId}/submit"
		ready := e.OpenCase(apitest.Owner, e.NewEnterprise(apitest.Owner))
		e.Fulfil(apitest.Owner, ready)
		open := e.OpenCase(apitest.Owner, e.NewEnterprise(apitest.Owner))
		_, approved := e.ApprovedCase(apitest.Checker)
		return caseReq(r, apitest.Owner, ready, nil), []refusal{
			{"another tenant's", 404, "not_found", caseReq(r, apitest.Stranger, ready, nil), nil},
			{"a reviewer", 403, "forbidden", caseReq(r, apitest.Checker, ready, nil), nil},
			{"requirements open", 409, "requirements_unmet", caseReq(r, apitest.Owner, open, nil), nil},
			{"a decided case", 409, "case_not_editable", caseReq(r, apitest.Owner, approved, nil), nil},
			{"a body", 422, "unknown_field", caseReq(r, apitest.Owner, ready, map[string]any{"status": "approved"}), nil},
		}
	}}

	routeTests["POST /v1/cases/{caseId}/withdraw"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		const r = "POST /v1/cases/{caseId}/withdraw"
		c := e.OpenCase(apitest.Owner, e.NewEnterprise(apitest.Owner))
		_, approved := e.ApprovedCase(apitest.Checker)
		return caseReq(r, apitest.Owner, c, nil), []refusal{
			{"another tenant's", 404, "not_found", caseReq(r, apitest.Stranger, c, nil), nil},
			{"a reviewer", 403, "forbidden", caseReq(r, apitest.Checker, c, nil), nil},
			{"a decided case", 409, "invalid_transition", caseReq(r, apitest.Owner, approved, nil), nil},
			{"a body", 422, "unknown_field", caseReq(r, apitest.Owner, c, map[string]any{"reason": "x"}), nil},
		}
	}}

	routeTests["POST /v1/cases/{caseId}/explanation"] = routeTest{ok: 200, build: func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal) {
		const r = "POST /v1/cases/{caseId}/explanation"
		c := e.OpenCase(apitest.Owner, e.NewEnterprise(apitest.Owner))
		_, submitted := e.SubmittedCase(apitest.Owner)
		text := map[string]any{"text": "营业执照地址已于上月变更。"}
		return caseReq(r, apitest.Owner, c, text), []refusal{
			{"another tenant's", 404, "not_found", caseReq(r, apitest.Stranger, c, text), nil},
			{"a reviewer", 403, "forbidden", caseReq(r, apitest.Checker, c, text), nil},
			{"a submitted case", 409, "case_not_editable", caseReq(r, apitest.Owner, submitted, text), nil},
			{"no text", 422, "missing_field", caseReq(r, apitest.Owner, c, map[string]any{}), nil},
		}
	}}
}
