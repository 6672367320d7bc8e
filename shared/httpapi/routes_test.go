package httpapi_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"microcert/shared/faults"
	"microcert/shared/httpapi"
	"microcert/shared/httpapi/apitest"
	"microcert/shared/httpapi/openapicheck"
)

// The route tests: every route of httpapi.Routes, in process on the
// harness (apitest), with its success and each of its refusals. Every answer
// is checked against openapi.yaml, every refusal must leave the table as it
// was, and when the whole package runs, every status openapi.yaml declares
// for a route must have been seen (but those in notOurs).

// routeTest builds, on a fresh Env, the state one route needs; it returns
// the request that succeeds and the refusals of wrong requests. Refusals
// common to every route (no token, a body too large, not JSON, malformed
// JSON, a role that may not call the route, the table unavailable) are
// derived from the request that succeeds.
type routeTest struct {
	ok    int // the success status
	build func(t *testing.T, e *apitest.Env) (apitest.Request, []refusal)
}

// refusal is a wrong request and the answer it gets.
type refusal struct {
	name   string
	status int
	code   string
	req    apitest.Request
	// env, when set, sends req through another wiring of the same table
	// (e.g. with faults).
	env *apitest.Env
}

// callbackSecrets are the secrets the providers sign their callbacks with.
var callbackSecrets = map[string]string{
	"POST /v1/callbacks/face":    apitest.Secrets.FaceWebhook,
	"POST /v1/callbacks/payment": apitest.Secrets.PaymentWebhook,
	"POST /v1/callbacks/refund":  apitest.Secrets.PaymentWebhook,
}

// routeTests is filled by the routes_*_test.go files, one entry per route.
var routeTests = map[string]routeTest{}

// exercised records the statuses each route answered in these tests.
var exercised = struct {
	sync.Mutex
	m map[string]map[int]bool
}{m: map[string]map[int]bool{}}

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && flag.Lookup("test.run").Value.String() == "" {
		if missing, err := unexercised(); err != nil || len(missing) > 0 {
			fmt.Fprintf(os.Stderr, "route tests: statuses openapi.yaml declares that no test exercised (%v):\n  %s\n",
				err, strings.Join(missing, "\n  "))
			code = 1
		}
	}
	os.Exit(code)
}

// notOurs are the declared statuses the function never answers on purpose.
var notOurs = map[int]string{
	http.StatusInternalServerError: "an internal error: nothing answers it on purpose",
	http.StatusTooManyRequests:     "API Gateway's throttling answers it before the function runs",
}

// unexercised lists "route status" pairs declared but never seen.
func unexercised() ([]string, error) {
	declared, err := openapicheck.Statuses()
	if err != nil {
		return nil, err
	}
	exercised.Lock()
	defer exercised.Unlock()
	var out []string
	for route, statuses := range declared {
		for _, s := range statuses {
			if notOurs[s] == "" && !exercised.m[route][s] {
				out = append(out, fmt.Sprintf("%s %d", route, s))
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// call sends r, checks the answer against openapi.yaml and records it;
// it fails the test unless the answer has status (and, when code is not
// "", that problem code). A refusal must change nothing in the table.
func call(t *testing.T, e *apitest.Env, status int, code string, r apitest.Request) apitest.Response {
	t.Helper()
	var before map[string]string
	if status >= 400 {
		before = items(t, e)
	}
	ev := e.Event(r)
	resp := e.Do(r)
	url := ev.RawPath
	if ev.RawQueryString != "" {
		url += "?" + ev.RawQueryString
	}
	reqHeaders, respHeaders := http.Header{}, http.Header{}
	for k, v := range ev.Headers {
		reqHeaders.Set(k, v)
	}
	for k, v := range resp.Headers {
		respHeaders.Set(k, v)
	}
	openapicheck.ValidateResponse(t, ev.RequestContext.HTTP.Method, url, reqHeaders, []byte(ev.Body), resp.Status, respHeaders, resp.Body)
	exercised.Lock()
	if exercised.m[r.Route] == nil {
		exercised.m[r.Route] = map[int]bool{}
	}
	exercised.m[r.Route][resp.Status] = true
	exercised.Unlock()
	if resp.Status != status || (code != "" && resp.Code() != code) {
		t.Fatalf("%s: %d %s; want %d %s", r.Route, resp.Status, resp.Body, status, code)
	}
	if status == http.StatusServiceUnavailable && resp.Headers["Retry-After"] == "" {
		t.Errorf("%s: 503 without Retry-After", r.Route)
	}
	if before != nil {
		if d := cmp.Diff(before, items(t, e)); d != "" {
			t.Errorf("%s refused with %d changed the table (-before +after):\n%s", r.Route, status, d)
		}
	}
	return resp
}

// items is every item of the table (a test-only Scan), by key.
func items(t *testing.T, e *apitest.Env) map[string]string {
	t.Helper()
	out := map[string]string{}
	in := &dynamodb.ScanInput{TableName: aws.String(e.Table.Table)}
	for {
		page, err := e.Table.Client.Scan(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			var m map[string]any
			if err := attributevalue.UnmarshalMap(it, &m); err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			out[attr(it, "pk")+" "+attr(it, "sk")] = string(b)
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

func attr(it map[string]types.AttributeValue, name string) string {
	if s, ok := it[name].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// TestRoutes runs every route's test.
func TestRoutes(t *testing.T) {
	declared, err := openapicheck.Statuses()
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range httpapi.Routes() {
		key := rt.Key()
		t.Run(key, func(t *testing.T) {
			tt, ok := routeTests[key]
			if !ok {
				t.Fatalf("no route test: add %q to routeTests", key)
			}
			e := apitest.New(t)
			req, refusals := tt.build(t, e)
			if req.Route != key {
				t.Fatalf("the route test of %s builds a request to %s", key, req.Route)
			}
			refusals = append(refusals, common(e, rt, req, declared[key])...)
			for _, rf := range refusals {
				t.Run(rf.name, func(t *testing.T) {
					env := e
					if rf.env != nil {
						env = rf.env
					}
					call(t, env, rf.status, rf.code, rf.req)
				})
			}
			call(t, e, tt.ok, "", req)
		})
	}
}

// common derives the refusals every route has from the request that
// succeeds, for the statuses openapi.yaml declares for it.
func common(e *apitest.Env, rt httpapi.Route, ok apitest.Request, statuses []int) []refusal {
	declares := map[int]bool{}
	for _, s := range statuses {
		declares[s] = true
	}
	var out []refusal
	with := func(f func(*apitest.Request)) apitest.Request {
		r := ok
		r.Headers = map[string]string{}
		for k, v := range ok.Headers {
			r.Headers[k] = v
		}
		f(&r)
		return r
	}
	switch {
	case rt.Access != httpapi.Public && declares[401]:
		out = append(out, refusal{"no token", 401, "unauthenticated", with(func(r *apitest.Request) { r.As = apitest.Public }), nil})
	case strings.HasPrefix(rt.Path, "/v1/callbacks/") && declares[401]:
		out = append(out, refusal{"bad signature", 401, "invalid_signature",
			with(func(r *apitest.Request) { r.Headers["X-Microcert-Signature"] = "t=1,v1=00" }), nil})
	}
	if rt.Access == httpapi.Reviewers || rt.Access == httpapi.Admins {
		out = append(out, refusal{"applicant", 403, "forbidden", with(func(r *apitest.Request) { r.As = apitest.Owner }), nil})
	}
	if rt.Access == httpapi.Admins {
		out = append(out, refusal{"reviewer", 403, "forbidden", with(func(r *apitest.Request) { r.As = apitest.Checker }), nil})
	}
	if declares[413] {
		out = append(out, refusal{"body over 64 KB", 413, "body_too_large",
			with(func(r *apitest.Request) { r.Body = `{"text":"` + strings.Repeat("x", 65<<10) + `"}` }), nil})
	}
	if declares[415] {
		out = append(out, refusal{"not JSON", 415, "unsupported_media_type", with(func(r *apitest.Request) {
			r.Body, r.Headers["Content-Type"] = "text=hello", "application/x-www-form-urlencoded"
		}), nil})
	}
	if declares[400] {
		malformed := with(func(r *apitest.Request) { r.Body = `{"` })
		if secret, ok := callbackSecrets[rt.Key()]; ok {
			// The provider signs what it sends, malformed or not.
			malformed = e.SignedRequest(rt.Key(), secret, []byte(`{"`))
		}
		out = append(out, refusal{"malformed JSON", 400, "malformed_json", malformed, nil})
	}
	if declares[503] {
		inj, err := faults.New(faults.Config{Rate: 1, Kinds: []faults.Kind{faults.ServerError}, After: 0})
		if err != nil {
			panic(err)
		}
		down := e.Rewire(func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 }, inj.DynamoDB)
		out = append(out, refusal{"table unavailable", 503, "unavailable", ok, down})
	}
	return out
}
