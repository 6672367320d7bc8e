package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"microcert/shared/domain"
)

type sample struct {
	Name  *string  `json:"name"`
	Count *int64   `json:"count"`
	Tags  []string `json:"tags"`
}

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		wantKind domain.Kind
		wantCode string
		field    string
	}{
		{"valid", `{"name":"a","count":3,"tags":["x"]}`, 0, "", ""},
		{"empty", ``, domain.KindInvalid, "body_required", ""},
		{"syntax", `{"name":`, domain.KindMalformed, "malformed_json", ""},
		{"trailing data", `{"name":"a"} {}`, domain.KindMalformed, "malformed_json", ""},
		{"array body", `[1]`, domain.KindInvalid, "invalid_type", ""},
		{"unknown field", `{"name":"a","status":"approved"}`, domain.KindInvalid, "unknown_field", "status"},
		{"wrong type", `{"count":"3"}`, domain.KindInvalid, "validation_failed", "count"},
		{"float for int", `{"count":0.5}`, domain.KindInvalid, "validation_failed", "count"},
		{"too deep", strings.Repeat(`{"name":`, 20) + `"a"` + strings.Repeat(`}`, 20), domain.KindMalformed, "json_too_deep", ""},
		{"deep array", `{"tags":` + strings.Repeat(`[`, 30) + strings.Repeat(`]`, 30) + `}`, domain.KindMalformed, "json_too_deep", ""},
		{"duplicate key", `{"name":"a","name":"b"}`, domain.KindMalformed, "duplicate_key", "name"},
		{"field name in another case", `{"Name":"a"}`, domain.KindInvalid, "unknown_field", "Name"},
		{"invalid UTF-8", "{\"name\":\"\xff\"}", domain.KindMalformed, "invalid_utf8", ""},
		{"unpaired surrogate escape", `{"name":"\udc00"}`, domain.KindMalformed, "invalid_utf8", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var v sample
			err := DecodeJSON([]byte(tc.body), &v)
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if domain.KindOf(err) != tc.wantKind || domain.CodeOf(err) != tc.wantCode {
				t.Fatalf("got %v (%s), want %s %s", err, domain.KindOf(err), tc.wantKind, tc.wantCode)
			}
			if tc.field != "" {
				e := err.(*domain.Error)
				if len(e.Fields) != 1 || e.Fields[0].Field != tc.field {
					t.Fatalf("fields = %+v, want %s", e.Fields, tc.field)
				}
			}
		})
	}
}

func TestRawBodyLimit(t *testing.T) {
	if _, err := rawBody(strings.Repeat("a", maxBodyBytes+1), false); domain.CodeOf(err) != "body_too_large" {
		t.Fatalf("err = %v", err)
	}
	if b, err := rawBody(strings.Repeat("a", maxBodyBytes), false); err != nil || len(b) != maxBodyBytes {
		t.Fatalf("at the limit: %v", err)
	}
}

func TestParseGroups(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"[reviewer admin]", []string{"reviewer", "admin"}}, // API Gateway's form of an array claim
		{"[reviewer]", []string{"reviewer"}},
		{"applicant", []string{"applicant"}}, // a string claim: one group
		{"", nil},
		{"[]", nil},
		// A group name never splits into several roles.
		{"reviewer,admin", []string{"reviewer,admin"}},
		{"[reviewer,admin]", []string{"reviewer,admin"}},
		{"reviewer admin", []string{"reviewer admin"}},
		{`["reviewer","admin"]`, []string{`"reviewer","admin"`}}, // not JSON: one group
		{"[[admin]]", []string{"[admin]"}},
		{"admin]", []string{"admin]"}},
		{"[admin", []string{"[admin"}},
		{"[ admin ]", []string{"admin"}},
	}
	for _, tc := range tests {
		got := parseGroups(tc.in)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
			t.Errorf("parseGroups(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestActorRolesMatchExactly: only a group named exactly like a role gives
// it; look-alikes give none, and the caller is an applicant.
func TestActorRolesMatchExactly(t *testing.T) {
	tests := []struct {
		groups string
		want   []domain.Role
	}{
		{"[reviewer admin]", []domain.Role{domain.RoleReviewer, domain.RoleAdmin}},
		{"admin", []domain.Role{domain.RoleAdmin}},
		{"reviewer,admin", []domain.Role{domain.RoleApplicant}},
		{"[reviewer,admin]", []domain.Role{domain.RoleApplicant}},
		{"[Admin]", []domain.Role{domain.RoleApplicant}},
		{"[admin ]", []domain.Role{domain.RoleAdmin}},
		{"[ADMIN reviewers]", []domain.Role{domain.RoleApplicant}},
		{`["admin"]`, []domain.Role{domain.RoleApplicant}},
	}
	for _, tc := range tests {
		ev := events.APIGatewayV2HTTPRequest{RequestContext: events.APIGatewayV2HTTPRequestContext{
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
				Claims: map[string]string{"sub": "u-1", "cognito:groups": tc.groups}}}}}
		a, err := actorFrom(ev, AnyUser)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(a.Roles) != fmt.Sprint(tc.want) {
			t.Errorf("groups %q: roles %v, want %v", tc.groups, a.Roles, tc.want)
		}
	}
}

func TestStatusOfEveryKind(t *testing.T) {
	want := map[domain.Kind]int{
		domain.KindInternal: 500, domain.KindMalformed: 400, domain.KindInvalid: 422, domain.KindNotFound: 404,
		domain.KindForbidden: 403, domain.KindConflict: 409, domain.KindTooLarge: 413, domain.KindUnsupported: 415,
		domain.KindTooMany: 429, domain.KindUnavailable: 503, domain.KindUnauthorized: 401,
	}
	for k, s := range want {
		if got := statusOf(k); got != s {
			t.Errorf("statusOf(%s) = %d, want %d", k, got, s)
		}
	}
}

// FuzzDecodeJSON: the decoder never panics, refuses only with 400 or 422,
// and whatever it accepts is a JSON object of valid Unicode without a
// repeated key at any level, whose member names are exactly the target's
// (checked here with a reader of its own), and whose re-decode agrees.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"name":"a","count":1,"tags":["x"]}`, `{}`, `{"name":`, `[1]`, `{"a":{"b":{"c":1}}}`,
		`{"count":1e400}`, `{"tags":[` + strings.Repeat(`"x",`, 10) + `"y"]}`, "{\"name\":\"\xff\"}",
		`{"name":"a","name":"b"}`, `{"Name":"a"}`, `{"n\u0061me":"a"}`, `{"name":"\ud83d\ude00"}`, `{"name":"\ud83d"}`,
		`{"tag\u017f":["x"]}`, `{"name":"\\ud800"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var v sample
		err := DecodeJSON(body, &v)
		if err != nil {
			if k := domain.KindOf(err); k != domain.KindMalformed && k != domain.KindInvalid {
				t.Fatalf("unexpected kind %s for %q", k, body)
			}
			return
		}
		if !utf8.Valid(body) || bytes.ContainsRune(body, utf8.RuneError) {
			t.Fatalf("accepted invalid UTF-8 or U+FFFD: %q", body)
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		top, problem := strictShape(dec)
		if problem != "" {
			t.Fatalf("accepted %q: %s", body, problem)
		}
		for _, k := range top {
			if k != "name" && k != "count" && k != "tags" {
				t.Fatalf("accepted member %q of %q", k, body)
			}
		}
		var again sample
		if err2 := DecodeJSON(body, &again); err2 != nil {
			t.Fatalf("accepted once, refused twice: %v", err2)
		}
	})
}

// strictShape reads one value and reports a repeated key at any level; it
// returns the keys of the value if it is an object.
func strictShape(dec *json.Decoder) ([]string, string) {
	tok, err := dec.Token()
	if err != nil {
		return nil, "unreadable: " + err.Error()
	}
	switch tok {
	case json.Delim('{'):
		var keys []string
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, "unreadable key"
			}
			k := kt.(string)
			if seen[k] {
				return nil, "repeated key " + k
			}
			seen[k] = true
			keys = append(keys, k)
			if _, p := strictShape(dec); p != "" {
				return nil, p
			}
		}
		dec.Token()
		return keys, ""
	case json.Delim('['):
		for dec.More() {
			if _, p := strictShape(dec); p != "" {
				return nil, p
			}
		}
		dec.Token()
	}
	return nil, ""
}
