package client_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"microcert/infra/contract/client"
	"microcert/shared/httpapi/openapicheck"
)

// A later minor version of the API may add response members and values of
// extensible enums (openapi.yaml, "Versioning"). These answers carry both;
// the client generated from today's openapi.yaml must still decode them.

const caseID = "01jd4x9c3n0s8t6v4w2x1y7z9b"

// laterCase is a case view as a later version might send it: an unknown
// top-level member (priority), unknown nested members (fee.vatFen,
// review.escalatedTo, a document's pages), and unknown values of
// extensible enums (status, kind, a type, a requirement, a finding code, a
// history role).
const laterCase = `{
  "id": "` + caseID + `", "enterpriseId": "01jd4x8k2m9q7r5t3v1w0y6z8a",
  "kind": "fast_track", "types": ["wecom", "channels"], "viaAgent": false,
  "status": "escalated", "version": 7,
  "createdAt": "2026-11-26T01:02:03.456Z", "updatedAt": "2026-11-27T01:02:03.456Z",
  "submittedAt": null, "reviewDueAt": null,
  "fee": {"amountFen": 30000, "subsidyFen": 0, "payableFen": 30000, "currency": "CNY", "vatFen": 1800},
  "verifications": {"face": null, "qr": null}, "bankVerification": null, "payment": null,
  "explanation": "", "review": {"reasons": [], "escalatedTo": "rev-9"}, "changeRequests": 0, "refundDue": false,
  "requirements": {"currentlyDue": ["video_call"], "pendingVerification": [], "errors": [], "deadline": null},
  "documents": [{"id": "01jd4xa05p1t9v7w5x3y2z8a0c", "caseId": "` + caseID + `", "docType": "business_license",
    "contentType": "image/jpeg", "contentLength": 1024, "createdAt": "2026-11-26T01:02:03.456Z", "pages": 1,
    "check": {"status": "passed", "findings": [{"code": "watermark", "message": "m"}]}}],
  "history": [{"at": "2026-11-26T01:02:03.456Z", "actorId": "u-1", "role": "auditor", "subject": "case",
    "from": "", "to": "escalated", "reasons": []}],
  "priority": "high"
}`

// laterProblem is a problem document with a code this client does not
// know and an extension member it does not know.
const laterProblem = `{"type": "https://microcert.dev/problems/case-frozen", "title": "Conflict", "status": 409,
  "detail": "The case is frozen.", "code": "case_frozen", "frozenUntil": "2027-01-01T00:00:00.000Z"}`

// laterNotifications has a notification of an unknown kind with an
// unknown member.
const laterNotifications = `{"items": [{"id": "01jd4xa05p1t9v7w5x3y2z8a0c", "kind": "survey", "title": "t", "body": "b",
  "createdAt": "2026-11-26T01:02:03.456Z", "channel": "sms"}], "nextCursor": null}`

// laterStatus is a status this version does not declare (a later one
// might): the default response, a problem document.
const laterStatus = `{"type": "https://microcert.dev/problems/locked", "title": "Locked", "status": 423,
  "detail": "Locked.", "code": "resource_locked"}`

type answer struct {
	status      int
	contentType string
	body        string
}

func serve(t *testing.T, routes map[string]answer) *client.ClientWithResponses {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := routes[r.Method+" "+r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", a.contentType)
		w.WriteHeader(a.status)
		fmt.Fprint(w, a.body)
	}))
	t.Cleanup(srv.Close)
	c, err := client.NewClientWithResponses(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDecodesWhatLaterVersionsMaySend(t *testing.T) {
	ctx := context.Background()
	c := serve(t, map[string]answer{
		"GET /v1/cases/" + caseID:                                      {200, "application/json", laterCase},
		"POST /v1/cases/" + caseID + "/submit":                         {409, "application/problem+json", laterProblem},
		"GET /v1/enterprises/01jd4x8k2m9q7r5t3v1w0y6z8a/notifications": {200, "application/json", laterNotifications},
		"POST /v1/cases/" + caseID + "/withdraw":                       {423, "application/problem+json", laterStatus},
	})

	t.Run("case with unknown members and enum values", func(t *testing.T) {
		res, err := c.GetCaseWithResponse(ctx, caseID, nil)
		if err != nil {
			t.Fatal(err)
		}
		cs := res.JSON200
		if cs == nil {
			t.Fatalf("status %d: no decoded case: %s", res.StatusCode(), res.Body)
		}
		if cs.Id != caseID || cs.Version != 7 || cs.Fee.AmountFen != 30000 {
			t.Errorf("known members: id %q version %d fee %d", cs.Id, cs.Version, cs.Fee.AmountFen)
		}
		// Unknown values are kept as sent, and say that they are unknown.
		if cs.Status != "escalated" || cs.Status.Valid() {
			t.Errorf("status = %q (valid %v), want the unknown value kept", cs.Status, cs.Status.Valid())
		}
		if cs.Kind != "fast_track" || len(cs.Types) != 2 || cs.Types[1] != "channels" || cs.Types[1].Valid() || !cs.Types[0].Valid() {
			t.Errorf("kind %q types %v", cs.Kind, cs.Types)
		}
		if len(cs.Documents) != 1 || cs.Documents[0].Check.Findings[0].Code != "watermark" {
			t.Errorf("documents = %+v", cs.Documents)
		}
		if len(cs.History) != 1 || cs.History[0].Role != "auditor" || cs.History[0].To != "escalated" {
			t.Errorf("history = %+v", cs.History)
		}
		if len(cs.Requirements.CurrentlyDue) != 1 || cs.Requirements.CurrentlyDue[0] != "video_call" {
			t.Errorf("requirements = %+v", cs.Requirements)
		}
		if cs.CreatedAt.UnixMilli()%1000 != 456 {
			t.Errorf("createdAt = %v, milliseconds lost", cs.CreatedAt)
		}
	})

	t.Run("problem with an unknown code and member", func(t *testing.T) {
		res, err := c.SubmitCaseWithResponse(ctx, caseID, nil)
		if err != nil {
			t.Fatal(err)
		}
		p := res.ApplicationproblemJSON409
		if p == nil {
			t.Fatalf("status %d: no decoded problem: %s", res.StatusCode(), res.Body)
		}
		if p.Code != "case_frozen" || p.Code.Valid() || p.Status != 409 || p.Detail != "The case is frozen." {
			t.Errorf("problem = %+v", p)
		}
	})

	t.Run("notification of an unknown kind", func(t *testing.T) {
		res, err := c.ListNotificationsWithResponse(ctx, "01jd4x8k2m9q7r5t3v1w0y6z8a", nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.JSON200 == nil || len(res.JSON200.Items) != 1 || res.JSON200.Items[0].Kind != "survey" || res.JSON200.NextCursor != nil {
			t.Fatalf("status %d: %+v: %s", res.StatusCode(), res.JSON200, res.Body)
		}
	})

	t.Run("a status this version does not declare", func(t *testing.T) {
		res, err := c.WithdrawCaseWithResponse(ctx, caseID, nil)
		if err != nil {
			t.Fatal(err)
		}
		p := res.ApplicationproblemJSONDefault
		if p == nil || p.Status != 423 || p.Code != "resource_locked" {
			t.Fatalf("status %d: default problem %+v: %s", res.StatusCode(), p, res.Body)
		}
	})
}

// TestLaterAnswersAreReallyNew keeps the test above honest: today's strict
// contract check refuses each of those answers for the very members and
// values the client must tolerate, so they are not answers of this version.
func TestLaterAnswersAreReallyNew(t *testing.T) {
	jsonH := http.Header{"Content-Type": {"application/json"}}
	problemH := http.Header{"Content-Type": {"application/problem+json"}}
	cases := []struct {
		name, method, path string
		status             int
		header             http.Header
		body               string
		want               []string
	}{
		{"case", "GET", "/v1/cases/" + caseID, 200, jsonH, laterCase,
			[]string{"priority", "vatFen", "escalatedTo", "pages", "/status", "/kind", "/types/1", "/role", "/code", "video_call"}},
		{"problem", "POST", "/v1/cases/" + caseID + "/submit", 409, problemH, laterProblem, []string{"frozenUntil", "/code"}},
		{"notifications", "GET", "/v1/enterprises/01jd4x8k2m9q7r5t3v1w0y6z8a/notifications", 200, jsonH, laterNotifications,
			[]string{"channel", "/kind"}},
		{"status", "POST", "/v1/cases/" + caseID + "/withdraw", 423, problemH, laterStatus, []string{"status is not supported"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			all := strings.Join(openapicheck.Failures(c.method, c.path, nil, nil, c.status, c.header, []byte(c.body)), "\n")
			for _, w := range c.want {
				if !strings.Contains(all, w) {
					t.Errorf("the strict check does not refuse %q:\n%s", w, all)
				}
			}
		})
	}
}
