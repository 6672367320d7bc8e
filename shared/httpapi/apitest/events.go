package apitest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"microcert/shared/domain"
)

// Caller is who sends a request: the JWT authorizer's claims (sub and
// groups). The zero Caller is a request without a token.
type Caller struct {
	User  string
	Roles []domain.Role
}

// Applicant, Reviewer and Admin are callers with one role.
func Applicant(user string) Caller {
	return Caller{User: user, Roles: []domain.Role{domain.RoleApplicant}}
}
func Reviewer(user string) Caller {
	return Caller{User: user, Roles: []domain.Role{domain.RoleReviewer}}
}
func Admin(user string) Caller { return Caller{User: user, Roles: []domain.Role{domain.RoleAdmin}} }

// Usual callers.
var (
	Public   = Caller{}
	Owner    = Applicant("owner-1")
	Stranger = Applicant("stranger-1") // owns nothing of the Owner's
	Checker  = Reviewer("reviewer-1")
	Boss     = Admin("admin-1")
)

// Request is one HTTP API request.
type Request struct {
	Route   string            // the route key, e.g. "POST /v1/cases/{caseId}/submit"
	Params  map[string]string // path parameters
	Query   map[string]string
	As      Caller
	Body    any               // JSON-encoded; a []byte or string is sent as it is
	Headers map[string]string // e.g. Idempotency-Key (names in any case)
}

// P builds path parameters from name, value pairs: P("caseId", id).
func P(nameValue ...any) map[string]string {
	out := map[string]string{}
	for i := 0; i+1 < len(nameValue); i += 2 {
		out[fmt.Sprint(nameValue[i])] = fmt.Sprint(nameValue[i+1])
	}
	return out
}

// Event is the API Gateway HTTP API (payload 2.0) event of r, as the
// gateway sends it after its JWT authorizer: lower-case headers, the route
// key, path parameters, and the claims as strings (groups as "[a b]").
func (e *Env) Event(r Request) events.APIGatewayV2HTTPRequest {
	e.T.Helper()
	method, path, ok := strings.Cut(r.Route, " ")
	if !ok {
		e.T.Fatalf("apitest: route %q is not a route key", r.Route)
	}
	raw := path
	for k, v := range r.Params {
		raw = strings.ReplaceAll(raw, "{"+k+"}", url.PathEscape(v))
	}
	var body []byte
	switch v := r.Body.(type) {
	case nil:
	case []byte:
		body = v
	case string:
		body = []byte(v)
	default:
		var err error
		if body, err = json.Marshal(v); err != nil {
			e.T.Fatalf("apitest: body of %s: %v", r.Route, err)
		}
	}
	n := e.shared.next()
	now := e.Clock.Now()
	headers := map[string]string{"host": "api.test", "user-agent": "apitest"}
	if len(body) > 0 {
		headers["content-type"] = "application/json"
		headers["content-length"] = fmt.Sprint(len(body))
	}
	for k, v := range r.Headers {
		headers[strings.ToLower(k)] = v
	}
	var query []string
	for k, v := range r.Query {
		query = append(query, url.QueryEscape(k)+"="+url.QueryEscape(v))
	}
	params := r.Params
	if len(params) == 0 {
		params = nil
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              r.Route,
		RawPath:               raw,
		RawQueryString:        strings.Join(query, "&"),
		Headers:               headers,
		QueryStringParameters: r.Query,
		PathParameters:        params,
		Body:                  string(body),
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: r.Route, AccountID: "000000000000", Stage: "$default", APIID: "apitest",
			RequestID: fmt.Sprintf("apitest-%d", n), DomainName: "api.test", DomainPrefix: "api",
			Time: now.Format("02/Jan/2006:15:04:05 -0700"), TimeEpoch: now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: raw,
				Protocol: "HTTP/1.1", SourceIP: "127.0.0.1", UserAgent: "apitest"},
		},
	}
	if r.As.User != "" {
		groups := make([]string, len(r.As.Roles))
		for i, g := range r.As.Roles {
			groups[i] = string(g)
		}
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
				Claims: map[string]string{"sub": r.As.User, "groups": "[" + strings.Join(groups, " ") + "]", "token_use": "id"},
			},
		}
	}
	return ev
}

// Response is what the API answered.
type Response struct {
	Status  int
	Headers map[string]string
	Body    []byte
}

// Do sends r through the API's handler.
func (e *Env) Do(r Request) Response {
	e.T.Helper()
	resp, err := e.API.Handle(context.Background(), e.Event(r))
	if err != nil {
		e.T.Fatalf("apitest: %s: handler error %v", r.Route, err)
	}
	return Response{Status: resp.StatusCode, Headers: resp.Headers, Body: []byte(resp.Body)}
}

// Must sends r and fails the test unless the answer has status; it returns
// the body as a JSON object.
func (e *Env) Must(status int, r Request) map[string]any {
	e.T.Helper()
	resp := e.Do(r)
	if resp.Status != status {
		e.T.Fatalf("%s %v: %d %s; want %d", r.Route, r.Params, resp.Status, resp.Body, status)
	}
	return resp.Object(e.T)
}

// Code is the problem+json code of an error answer ("" otherwise).
func (r Response) Code() string {
	var p struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(r.Body, &p)
	return p.Code
}

// Object decodes the body as a JSON object (nil for an empty body).
func (r Response) Object(t interface{ Fatalf(string, ...any) }) map[string]any {
	if len(r.Body) == 0 {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("apitest: body is not a JSON object: %v: %s", err, r.Body)
	}
	return m
}

// Decode decodes the body into v.
func (r Response) Decode(t interface{ Fatalf(string, ...any) }, v any) {
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("apitest: decode %s: %v", r.Body, err)
	}
}
