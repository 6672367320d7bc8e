package httpapi

import (
	"strings"
	"testing"

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
		{"[reviewer admin]", []string{"reviewer", "admin"}},
		{`["reviewer","admin"]`, []string{"reviewer", "admin"}},
		{"applicant", []string{"applicant"}},
		{"", nil},
		{"reviewer,admin", []string{"reviewer", "admin"}},
	}
	for _, tc := range tests {
		got := parseGroups(tc.in)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("parseGroups(%q) = %v, want %v", tc.in, got, tc.want)
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

// FuzzDecodeJSON: the decoder never panics, and whatever it accepts is a
// JSON object whose re-decode agrees.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"name":"a","count":1,"tags":["x"]}`, `{}`, `{"name":`, `[1]`, `{"a":{"b":{"c":1}}}`,
		`{"count":1e400}`, `{"tags":[` + strings.Repeat(`"x",`, 10) + `"y"]}`, "{\"name\":\"\xff\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var v sample
		err := DecodeJSON(body, &v)
		if err == nil {
			var again sample
			if err2 := DecodeJSON(body, &again); err2 != nil {
				t.Fatalf("accepted once, refused twice: %v", err2)
			}
			return
		}
		if k := domain.KindOf(err); k != domain.KindMalformed && k != domain.KindInvalid {
			t.Fatalf("unexpected kind %s for %q", k, body)
		}
	})
}
