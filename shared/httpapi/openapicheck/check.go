// Package openapicheck holds the API's real responses to the contract:
// tests call ValidateResponse with what a handler answered, and it fails the
// test when the status is not declared for the route, the Content-Type is not
// one the route declares for that status, or the body does not match the
// schema of openapi.yaml (at the repository root).
//
// The published document is open for clients (response schemas accept
// members a later version adds, every operation has a `default` response),
// which would let the service add an undocumented member or status unseen.
// So responses are validated against a strict copy (Strict): every object
// schema that lists its properties and says nothing about others is closed
// (additionalProperties: false), and `default` responses are dropped, so
// every status must be declared.
//
// The document is loaded and validated once per test binary. Security
// requirements are not checked (the JWT authorizer and the callback signature
// are tested elsewhere); request bodies are not validated either, because the
// tests deliberately send invalid requests.
package openapicheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"microcert/infra/template"
)

// DocFile is the contract's file name at the repository root.
const DocFile = "openapi.yaml"

// SandboxDocFile describes the local stack's provider sandbox (/_sandbox/),
// which is no part of the published contract; it reuses DocFile's schemas.
const SandboxDocFile = "openapi-sandbox.yaml"

// sandboxPrefix is the path prefix of the routes SandboxDocFile describes.
const sandboxPrefix = "/_sandbox/"

type loadOnce struct {
	once sync.Once
	st   *state
	err  error
}

var loads = map[string]*loadOnce{DocFile: {}, SandboxDocFile: {}}

type state struct {
	doc    *openapi3.T // as published
	strict *openapi3.T // closed copy the responses are validated against
	router routers.Router
}

func load() (*state, error) { return loadFile(DocFile) }

func loadFile(name string) (*state, error) {
	l := loads[name]
	l.once.Do(func() { l.st, l.err = loadState(name) })
	return l.st, l.err
}

func loadState(name string) (*state, error) {
	root, err := template.RepoRoot()
	if err != nil {
		return nil, fmt.Errorf("openapicheck: %w", err)
	}
	path := filepath.Join(root, name)
	doc, err := loadDoc(path)
	if err != nil {
		return nil, err
	}
	strict, err := loadDoc(path)
	if err != nil {
		return nil, err
	}
	Strict(strict)
	// Route on a copy without servers, so that any scheme and host match
	// (tests use httptest servers, the local stack or bare paths).
	routed := *strict
	routed.Servers = nil
	router, err := gorillamux.NewRouter(&routed)
	if err != nil {
		return nil, fmt.Errorf("openapicheck: router for %s: %w", path, err)
	}
	return &state{doc: doc, strict: strict, router: router}, nil
}

func loadDoc(path string) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	// The sandbox's document reuses openapi.yaml's schemas (beside it in
	// the repository); the contract itself refers to nothing outside.
	loader.IsExternalRefsAllowed = filepath.Base(path) == SandboxDocFile
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("openapicheck: load %s: %w", path, err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("openapicheck: %s is not a valid OpenAPI document: %w", path, err)
	}
	return doc, nil
}

// Strict turns a loaded document into the tests' closed variant, in place:
// object schemas with properties and no additionalProperties are closed, and
// operations lose their `default` response. Schemas that say
// additionalProperties (true, false or a schema: maps) keep what they say.
func Strict(doc *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	var closeSchema func(ref *openapi3.SchemaRef)
	closeSchema = func(ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		if len(s.Properties) > 0 && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
			s.AdditionalProperties = openapi3.AdditionalProperties{Has: openapi3.Ptr(false)}
		}
		for _, p := range s.Properties {
			closeSchema(p)
		}
		for _, list := range []openapi3.SchemaRefs{s.AllOf, s.OneOf, s.AnyOf} {
			for _, x := range list {
				closeSchema(x)
			}
		}
		closeSchema(s.Items)
		closeSchema(s.AdditionalProperties.Schema)
		closeSchema(s.Not)
	}
	for _, ref := range doc.Components.Schemas {
		closeSchema(ref)
	}
	closeContent := func(r *openapi3.ResponseRef) {
		if r == nil || r.Value == nil {
			return
		}
		for _, mt := range r.Value.Content {
			closeSchema(mt.Schema)
		}
	}
	for _, r := range doc.Components.Responses {
		closeContent(r)
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.Responses == nil {
				continue
			}
			op.Responses.Delete("default")
			for _, r := range op.Responses.Map() {
				closeContent(r)
			}
		}
	}
}

// maxShownBody bounds how much of a response body a failure message quotes.
const maxShownBody = 2000

// ValidateResponse fails t (t.Errorf) unless the response matches the
// document: the route (method and path of url, which may be absolute or a
// bare path with a query) must be an operation, status must be declared for
// it, the response's Content-Type one declared for that status, the body
// valid against its schema, and declared headers valid where present. A 404
// for a path or method that is no route is accepted when its body is the
// gateway's {"message":"Not Found"}.
func ValidateResponse(t testing.TB, method, url string, reqHeaders http.Header, reqBody []byte, status int, respHeaders http.Header, respBody []byte) {
	t.Helper()
	for _, f := range Failures(method, url, reqHeaders, reqBody, status, respHeaders, respBody) {
		t.Errorf("%s", f)
	}
}

// Failures is ValidateResponse's verdict without a test: one message per
// way the response departs from the document, none when it matches.
func Failures(method, url string, reqHeaders http.Header, reqBody []byte, status int, respHeaders http.Header, respBody []byte) []string {
	where := fmt.Sprintf("%s %s -> %d", method, url, status)
	req, err := http.NewRequest(method, url, bytes.NewReader(reqBody))
	if err != nil {
		return []string{fmt.Sprintf("openapicheck: %s: bad request URL: %v", where, err)}
	}
	file := DocFile
	if strings.HasPrefix(req.URL.Path, sandboxPrefix) {
		file = SandboxDocFile
	}
	s, err := loadFile(file)
	if err != nil {
		return []string{err.Error()}
	}
	if reqHeaders != nil {
		req.Header = reqHeaders.Clone()
	}
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		if status == http.StatusNotFound && isGatewayNotFound(respHeaders, respBody) {
			return nil
		}
		return []string{fmt.Sprintf("openapicheck: %s: no operation for %s %s in %s (%v); body: %s",
			where, method, req.URL.Path, file, err, shown(respBody))}
	}
	opts := &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: params,
			Route:      route,
			Options:    opts,
		},
		Status:  status,
		Header:  respHeaders,
		Options: opts,
	}
	if in.Header == nil {
		in.Header = http.Header{}
	}
	in.SetBodyBytes(respBody)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		op := route.Method + " " + route.Path
		if route.Operation != nil && route.Operation.OperationID != "" {
			op += " (" + route.Operation.OperationID + ")"
		}
		return []string{fmt.Sprintf("openapicheck: %s: response does not match %s, operation %s, status %d:\n%s\nContent-Type: %q\nbody: %s",
			where, file, op, status, strings.Join(describe(err), "\n"), respHeaders.Get("Content-Type"), shown(respBody))}
	}
	return nil
}

// isGatewayNotFound reports whether a response is the gateway's (or the
// router's) answer for no route.
func isGatewayNotFound(h http.Header, body []byte) bool {
	ct := strings.TrimSpace(strings.SplitN(h.Get("Content-Type"), ";", 2)[0])
	return ct == "application/json" && bytes.Equal(bytes.TrimSpace(body), []byte(`{"message":"Not Found"}`))
}

// describe flattens kin-openapi's errors into one line per problem, each
// naming where in the body it is (a JSON pointer) and why.
func describe(err error) []string {
	var out []string
	var walk func(prefix string, err error)
	walk = func(prefix string, err error) {
		switch e := err.(type) {
		case nil:
			return
		case openapi3.MultiError:
			for _, x := range e {
				walk(prefix, x)
			}
		case *openapi3filter.ResponseError:
			p := prefix + e.Reason
			if e.Err == nil {
				out = append(out, "  - "+p)
				return
			}
			walk(p+": ", e.Err)
		case *openapi3.SchemaError:
			ptr := "/" + strings.Join(e.JSONPointer(), "/")
			reason := e.Reason
			if reason == "" {
				reason = e.Error()
			}
			out = append(out, fmt.Sprintf("  - %sat %s: %s", prefix, ptr, reason))
			if e.Origin != nil {
				var se *openapi3.SchemaError
				var me openapi3.MultiError
				if errors.As(e.Origin, &me) || errors.As(e.Origin, &se) {
					walk(prefix+"("+ptr+") ", e.Origin)
				}
			}
		default:
			var me openapi3.MultiError
			if errors.As(err, &me) && len(me) > 0 {
				walk(prefix, me)
				return
			}
			out = append(out, "  - "+prefix+err.Error())
		}
	}
	walk("", err)
	if len(out) == 0 {
		out = append(out, "  - "+err.Error())
	}
	return out
}

func shown(body []byte) string {
	if len(body) == 0 {
		return "(empty)"
	}
	if len(body) > maxShownBody {
		return string(body[:maxShownBody]) + fmt.Sprintf("... (%d bytes)", len(body))
	}
	return string(body)
}

// Statuses lists, per route key ("POST /v1/cases"), the HTTP statuses the
// document declares for the operation, in ascending order ("default" is no
// status and is left out).
func Statuses() (map[string][]int, error) {
	s, err := load()
	if err != nil {
		return nil, err
	}
	out := map[string][]int{}
	for path, item := range s.doc.Paths.Map() {
		for method, op := range item.Operations() {
			key := strings.ToUpper(method) + " " + path
			for code := range op.Responses.Map() {
				if code == "default" {
					continue // the catch-all (internal errors), no status of its own
				}
				n, err := strconv.Atoi(code)
				if err != nil {
					return nil, fmt.Errorf("openapicheck: %s: response %q is not a status", key, code)
				}
				out[key] = append(out[key], n)
			}
			sort.Ints(out[key])
		}
	}
	return out, nil
}
