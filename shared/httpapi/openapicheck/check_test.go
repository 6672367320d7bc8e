package openapicheck

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/go-cmp/cmp"

	"microcert/shared/httpapi"
)

// publicRoutes are the routes the router serves without a token.
func publicRoutes() map[string]bool {
	out := map[string]bool{}
	for _, r := range httpapi.Routes() {
		out[r.Key()] = r.Access == httpapi.Public
	}
	return out
}

type operation struct {
	key string
	op  *openapi3.Operation
	pi  *openapi3.PathItem
}

// document returns the loaded document or stops the test.
func document(t *testing.T) *openapi3.T {
	t.Helper()
	s, err := load()
	if err != nil {
		t.Fatal(err)
	}
	return s.doc
}

func operations(t *testing.T) []operation {
	t.Helper()
	doc := document(t)
	var out []operation
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			out = append(out, operation{key: strings.ToUpper(method) + " " + path, op: op, pi: item})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}

// params lists an operation's parameters, path-level ones included, as
// "in:name".
func params(o operation) map[string]*openapi3.Parameter {
	m := map[string]*openapi3.Parameter{}
	for _, list := range []openapi3.Parameters{o.pi.Parameters, o.op.Parameters} {
		for _, p := range list {
			if p != nil && p.Value != nil {
				m[p.Value.In+":"+p.Value.Name] = p.Value
			}
		}
	}
	return m
}

func TestDocumentValidates(t *testing.T) {
	s, err := load()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.doc.Validate(context.Background()); err != nil {
		t.Fatalf("%s: %v", DocFile, err)
	}
	if got := s.doc.OpenAPI; got != "3.0.3" {
		t.Errorf("openapi = %q, want 3.0.3", got)
	}
}

// TestRoutesMatchRouter: every route the router serves is documented, and
// every documented route is served.
func TestRoutesMatchRouter(t *testing.T) {
	var documented, served []string
	for _, o := range operations(t) {
		documented = append(documented, o.key)
	}
	for _, r := range httpapi.Routes() {
		served = append(served, r.Key())
	}
	sort.Strings(documented)
	sort.Strings(served)
	if d := cmp.Diff(served, documented); d != "" {
		t.Errorf("router routes (-) vs %s (+):\n%s", DocFile, d)
	}
}

// TestConventions checks the cross-cutting rules of the contract on every
// operation, so that a route added later cannot forget them.
func TestConventions(t *testing.T) {
	doc := document(t)
	public := publicRoutes()
	for _, o := range operations(t) {
		t.Run(o.key, func(t *testing.T) {
			method := strings.SplitN(o.key, " ", 2)[0]
			ps := params(o)
			if ps["header:Accept-Language"] == nil {
				t.Error("no Accept-Language parameter")
			}
			if o.op.OperationID == "" {
				t.Error("no operationId")
			}
			if method == http.MethodPost {
				if p := ps["header:Idempotency-Key"]; p == nil {
					t.Error("POST without the Idempotency-Key header parameter")
				} else if p.Required {
					t.Error("Idempotency-Key must be optional")
				}
			}
			if strings.Contains(o.key, "?") {
				t.Error("query in path")
			}
			security := doc.Security
			if o.op.Security != nil {
				security = *o.op.Security
			}
			switch {
			case strings.HasPrefix(o.key, "POST /v1/callbacks/"):
				if len(security) != 1 || security[0]["providerSignature"] == nil || len(security[0]) != 1 {
					t.Errorf("callback security = %v, want the providerSignature scheme alone", security)
				}
			case public[o.key]:
				if len(security) != 0 {
					t.Error("public route requires authentication")
				}
			default:
				if len(security) == 0 || security[0]["bearerAuth"] == nil {
					t.Error("route does not require bearerAuth")
				}
				if o.op.Responses.Status(http.StatusUnauthorized) == nil {
					t.Error("no 401 response")
				}
			}
			if strings.HasSuffix(o.key, "/queue") || strings.HasSuffix(o.key, "/cases") && method == http.MethodGet ||
				strings.HasSuffix(o.key, "/notifications") {
				if ps["query:limit"] == nil || ps["query:cursor"] == nil {
					t.Error("list without ?limit and ?cursor")
				}
			}
			for code, ref := range o.op.Responses.Map() {
				if ref.Value == nil {
					t.Errorf("response %s unresolved", code)
					continue
				}
				// The gateway answers 401, 413 and 429 itself (GatewayMessage);
				// everything else is the service's problem document.
				gateway := code == "401" || code == "413" || code == "429"
				if code >= "400" && !gateway {
					if ref.Value.Content.Get("application/problem+json") == nil {
						t.Errorf("error response %s is not application/problem+json", code)
					}
				}
				if !gateway && ref.Value.Content.Get("application/json") != nil && code >= "400" {
					t.Errorf("error response %s offers application/json: only the gateway answers that", code)
				}
			}
			if o.op.Responses.Status(http.StatusInternalServerError) == nil {
				t.Error("no 500 response")
			}
			// Throttling can answer any route.
			if o.op.Responses.Status(http.StatusTooManyRequests) == nil {
				t.Error("no 429 response")
			}
			if d := o.op.Responses.Default(); d == nil || d.Value == nil || d.Value.Content.Get("application/problem+json") == nil {
				t.Error("no default problem response")
			}
			if len(o.op.Responses.Map()) > 0 && o.op.Description == "" {
				t.Error("no description")
			}
		})
	}
}

func TestValidateResponse(t *testing.T) {
	jsonH := http.Header{"Content-Type": {"application/json"}}
	problemH := http.Header{"Content-Type": {"application/problem+json"}, "Content-Language": {"en"}}
	notFound := `{"type":"https://microcert.dev/problems/not-found","title":"Not Found","status":404,"detail":"The resource was not found.","code":"not_found"}`
	cases := []struct {
		name         string
		method, url  string
		status       int
		header       http.Header
		body         string
		wantFailures []string // substrings of the failure; none = must pass
	}{
		{name: "health ok", method: "GET", url: "/v1/health", status: 200, header: jsonH, body: `{"status":"ok"}`},
		{name: "absolute URL", method: "GET", url: "http://127.0.0.1:3000/v1/health", status: 200, header: jsonH, body: `{"status":"ok"}`},
		{name: "undeclared member", method: "GET", url: "/v1/health", status: 200, header: jsonH, body: `{"status":"ok","x":1}`,
			wantFailures: []string{"x"}},
		{name: "wrong enum", method: "GET", url: "/v1/health", status: 200, header: jsonH, body: `{"status":"down"}`,
			wantFailures: []string{"/status"}},
		{name: "undeclared status", method: "GET", url: "/v1/health", status: 418, header: jsonH, body: `{}`,
			wantFailures: []string{"status is not supported"}},
		{name: "wrong content type", method: "GET", url: "/v1/health", status: 200, header: http.Header{"Content-Type": {"text/plain"}}, body: `ok`,
			wantFailures: []string{"text/plain"}},
		{name: "problem", method: "GET", url: "/v1/cases/01jd4x9c3n0s8t6v4w2x1y7z9b", status: 404, header: problemH, body: notFound},
		{name: "problem missing code", method: "GET", url: "/v1/cases/01jd4x9c3n0s8t6v4w2x1y7z9b", status: 404, header: problemH,
			body: `{"type":"about:blank","title":"Not Found","status":404,"detail":""}`, wantFailures: []string{"code"}},
		{name: "gateway 401", method: "GET", url: "/v1/cases/x", status: 401, header: jsonH, body: `{"message":"Unauthorized"}`},
		{name: "no route, gateway 404", method: "GET", url: "/v1/nope", status: 404, header: jsonH, body: `{"message":"Not Found"}`},
		{name: "no route", method: "GET", url: "/v1/nope", status: 200, header: jsonH, body: `{}`,
			wantFailures: []string{"no operation"}},
		{name: "wrong method", method: "DELETE", url: "/v1/health", status: 200, header: jsonH, body: `{}`,
			wantFailures: []string{"no operation"}},
		{name: "page", method: "GET", url: "/v1/enterprises/01jd4x8k2m9q7r5t3v1w0y6z8a/notifications?limit=5", status: 200, header: jsonH,
			body: `{"items":[{"id":"01jd4xa05p1t9v7w5x3y2z8a0c","kind":"reminder","title":"t","body":"b","createdAt":"2026-11-26T01:02:03.456Z","readAt":null}],"nextCursor":null}`},
		{name: "page without nextCursor", method: "GET", url: "/v1/enterprises/01jd4x8k2m9q7r5t3v1w0y6z8a/notifications", status: 200, header: jsonH,
			body: `{"items":[]}`, wantFailures: []string{"nextCursor"}},
		{name: "bad date-time", method: "GET", url: "/v1/enterprises/e/notifications", status: 200, header: jsonH,
			body:         `{"items":[{"id":"n","kind":"reminder","title":"t","body":"b","createdAt":"yesterday"}],"nextCursor":null}`,
			wantFailures: []string{"/items/0/createdAt"}},
		{name: "replayed header", method: "POST", url: "/v1/cases/c/submit", status: 409,
			header: http.Header{"Content-Type": {"application/problem+json"}, "Idempotent-Replayed": {"true"}},
			body:   `{"type":"https://microcert.dev/problems/requirements-unmet","title":"Conflict","status":409,"detail":"d","code":"requirements_unmet","requirements":{"currentlyDue":["payment"],"pendingVerification":[],"errors":[],"deadline":null}}`},
		{name: "undeclared problem member", method: "GET", url: "/v1/cases/01jd4x9c3n0s8t6v4w2x1y7z9b", status: 404, header: problemH,
			body:         `{"type":"https://microcert.dev/problems/not-found","title":"Not Found","status":404,"detail":"","code":"not_found","secret":"x"}`,
			wantFailures: []string{"secret"}},
		{name: "timestamp with nine digits", method: "GET", url: "/v1/enterprises/01jd4x8k2m9q7r5t3v1w0y6z8a/notifications", status: 200, header: jsonH,
			body:         `{"items":[{"id":"01jd4xa05p1t9v7w5x3y2z8a0c","kind":"reminder","title":"t","body":"b","createdAt":"2026-11-26T01:02:03.456789123Z","readAt":null}],"nextCursor":null}`,
			wantFailures: []string{"/items/0/createdAt"}},
		{name: "sandbox deposits", method: "GET", url: "/_sandbox/deposits?caseId=01jd4x9c3n0s8t6v4w2x1y7z9b", status: 200, header: jsonH,
			body: `{"items":[{"amountFen":37,"accountLast4":"0123","paidAt":"2026-11-26T01:02:03.456Z"}]}`},
		{name: "sandbox relays a callback ack", method: "POST", url: "/_sandbox/payments", status: 200, header: jsonH,
			body: `{"orderId":"01jd4xb7q2r0v8w6x4y3z1a9b2","status":"paid"}`},
		{name: "sandbox undeclared member", method: "GET", url: "/_sandbox/deposits?caseId=01jd4x9c3n0s8t6v4w2x1y7z9b", status: 200, header: jsonH,
			body: `{"items":[],"total":0}`, wantFailures: []string{"total"}},
		{name: "unknown error code", method: "GET", url: "/v1/cases/01jd4x9c3n0s8t6v4w2x1y7z9b", status: 404, header: problemH,
			body:         `{"type":"https://microcert.dev/problems/not-found","title":"Not Found","status":404,"detail":"","code":"no_such_code"}`,
			wantFailures: []string{"/code"}},
		{name: "bad extension member", method: "POST", url: "/v1/cases/c/bank-verification/confirm", status: 422, header: problemH,
			body:         `{"type":"t","title":"Unprocessable Entity","status":422,"detail":"d","code":"wrong_amount","attemptsLeft":"two"}`,
			wantFailures: []string{"/attemptsLeft"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			failures := Failures(c.method, c.url, nil, nil, c.status, c.header, []byte(c.body))
			if len(c.wantFailures) == 0 {
				for _, e := range failures {
					t.Errorf("unexpected failure: %s", e)
				}
				return
			}
			if len(failures) == 0 {
				t.Fatalf("no failure, want one mentioning %q", c.wantFailures)
			}
			all := strings.Join(failures, "\n")
			for _, w := range c.wantFailures {
				if !strings.Contains(all, w) {
					t.Errorf("failure does not mention %q:\n%s", w, all)
				}
			}
		})
	}
}

// closedEnums are the response enums that may never grow: a new value
// would be a new major version.
var closedEnums = map[string]bool{
	"Currency":                   true, // amounts are CNY by definition of the API
	"Health.status":              true, // "ok" or no answer at all
	"Problem.status":             true, // not an enum; listed for clarity
	"header:Content-Language":    true, // the two languages served
	"header:Cache-Control":       true,
	"header:Idempotent-Replayed": true,
}

// TestPublishedSchemasCanGrow: what clients generate from must let the API
// grow within a major version. No response schema is closed
// (additionalProperties: false makes strict generated clients, such as
// ogen's, refuse a member added later) and every response enum is marked
// x-extensible unless it is one of closedEnums.
func TestPublishedSchemasCanGrow(t *testing.T) {
	doc := document(t)
	seen := map[*openapi3.Schema]bool{}
	var walk func(where string, ref *openapi3.SchemaRef)
	walk = func(where string, ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		if name := strings.TrimPrefix(ref.Ref, "#/components/schemas/"); name != "" {
			where = name
		}
		if s.AdditionalProperties.Has != nil && !*s.AdditionalProperties.Has {
			t.Errorf("%s: response schema with additionalProperties: false", where)
		}
		if len(s.Enum) > 0 && s.Extensions["x-extensible"] != true && !closedEnums[where] {
			t.Errorf("%s: response enum %v is not marked x-extensible: true (or listed in closedEnums)", where, s.Enum)
		}
		for name, p := range s.Properties {
			walk(where+"."+name, p)
		}
		for _, list := range []openapi3.SchemaRefs{s.AllOf, s.OneOf, s.AnyOf} {
			for _, x := range list {
				walk(where, x)
			}
		}
		walk(where+"[]", s.Items)
		walk(where+"{}", s.AdditionalProperties.Schema)
	}
	response := func(where string, r *openapi3.ResponseRef) {
		if r == nil || r.Value == nil {
			return
		}
		for name, h := range r.Value.Headers {
			if h.Value != nil && h.Value.Schema != nil {
				walk("header:"+name, h.Value.Schema)
			}
		}
		for ct, mt := range r.Value.Content {
			walk(where+" "+ct, mt.Schema)
		}
	}
	for name, r := range doc.Components.Responses {
		response("responses."+name, r)
	}
	for _, o := range operations(t) {
		for code, r := range o.op.Responses.Map() {
			response(o.key+" "+code, r)
		}
	}
	if len(seen) < 20 {
		t.Fatalf("walked only %d schemas: the walk is broken", len(seen))
	}
}
