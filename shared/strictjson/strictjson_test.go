package strictjson

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"microcert/shared/domain"
)

type rep struct {
	Name     *string `json:"name"`
	IDNumber *string `json:"idNumber"`
	Kind     *string `json:"kind"`
}

type embedded struct {
	Note *string `json:"note"`
}

type target struct {
	Name     *string           `json:"name"`
	Count    *int64            `json:"count"`
	Rep      *rep              `json:"legalRep"`
	Reps     []rep             `json:"reps"`
	Tags     []string          `json:"tags"`
	Extra    map[string]string `json:"extra"`
	Any      any               `json:"any"`
	Raw      json.RawMessage   `json:"raw"`
	Untagged *bool
	Skipped  *bool `json:"-"`
	embedded
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		wantCode string // "" = accepted
		field    string
		status   domain.Kind
	}{
		{"valid", `{"name":"a","count":3,"legalRep":{"name":"b"},"reps":[{"idNumber":"x"}],"tags":["t"],"extra":{"Any":"k"},"any":{"A":1,"A ":2},"raw":{"B":1},"Untagged":true,"note":"n"}`, "", "", 0},
		{"escaped key is the same name", `{"n\u0061me":"a"}`, "", "", 0},
		{"valid surrogate pair", `{"name":"\ud83d\ude00"}`, "", "", 0},
		{"raw UTF-8 emoji and Chinese", `{"name":"深圳😀"}`, "", "", 0},

		// Duplicates: 400 at any level.
		{"duplicate at the top", `{"name":"a","name":"b"}`, "duplicate_key", "name", domain.KindMalformed},
		{"duplicate via an escape", `{"name":"a","n\u0061me":"b"}`, "duplicate_key", "name", domain.KindMalformed},
		{"duplicate in a nested object", `{"legalRep":{"name":"a","name":"b"}}`, "duplicate_key", "legalRep.name", domain.KindMalformed},
		{"duplicate in an array element", `{"reps":[{},{"idNumber":"1","idNumber":"2"}]}`, "duplicate_key", "reps[1].idNumber", domain.KindMalformed},
		{"duplicate in a map", `{"extra":{"k":"1","k":"2"}}`, "duplicate_key", "extra.k", domain.KindMalformed},
		{"duplicate in an untyped value", `{"any":{"x":{"y":1,"y":2}}}`, "duplicate_key", "any.x.y", domain.KindMalformed},
		{"duplicate inside a raw message", `{"raw":{"a":1,"a":1}}`, "duplicate_key", "raw.a", domain.KindMalformed},

		// Exact names: 422 unknown_field at any level.
		{"wrong case at the top", `{"Name":"a"}`, "unknown_field", "Name", domain.KindInvalid},
		{"upper case", `{"NAME":"a"}`, "unknown_field", "NAME", domain.KindInvalid},
		{"wrong case nested", `{"legalRep":{"Name":"a"}}`, "unknown_field", "legalRep.Name", domain.KindInvalid},
		{"wrong case in an array element", `{"reps":[{"idnumber":"a"}]}`, "unknown_field", "reps[0].idnumber", domain.KindInvalid},
		{"Kelvin sign folds to k in encoding/json", `{"legalRep":{"name":"a","\u212aind":"x"}}`, "unknown_field", "legalRep.\u212aind", domain.KindInvalid},
		{"long s folds to s", `{"tag\u017f":["x"]}`, "unknown_field", "tag\u017f", domain.KindInvalid},
		{"wrong case of an untagged field", `{"untagged":true}`, "unknown_field", "untagged", domain.KindInvalid},
		{"a json:\"-\" field is unknown", `{"Skipped":true}`, "unknown_field", "Skipped", domain.KindInvalid},
		{"unknown", `{"status":"approved"}`, "unknown_field", "status", domain.KindInvalid},
		{"wrong case of an embedded field", `{"Note":"n"}`, "unknown_field", "Note", domain.KindInvalid},

		// Text: 400 invalid_utf8.
		{"invalid UTF-8 in a value", "{\"name\":\"\xff\"}", "invalid_utf8", "", domain.KindMalformed},
		{"invalid UTF-8 in a key", "{\"\xc3\x28\":1}", "invalid_utf8", "", domain.KindMalformed},
		{"overlong encoding", "{\"name\":\"\xc0\xaf\"}", "invalid_utf8", "", domain.KindMalformed},
		{"UTF-8 encoded surrogate", "{\"name\":\"\xed\xa0\x80\"}", "invalid_utf8", "", domain.KindMalformed},
		{"lone high surrogate escape", `{"name":"\ud83d"}`, "invalid_utf8", "", domain.KindMalformed},
		{"high surrogate then a letter", `{"name":"\ud83dx"}`, "invalid_utf8", "", domain.KindMalformed},
		{"high surrogate then a high one", `{"name":"\ud83d\ud83d"}`, "invalid_utf8", "", domain.KindMalformed},
		{"lone low surrogate escape", `{"name":"\ude00"}`, "invalid_utf8", "", domain.KindMalformed},
		{"lone surrogate in a key", `{"\ud800":1}`, "invalid_utf8", "", domain.KindMalformed},
		{"an escaped backslash before u is not an escape", `{"name":"\\ud800"}`, "", "", 0},
		{"the replacement character", "{\"name\":\"a\uFFFDb\"}", "invalid_utf8", "", domain.KindMalformed},
		{"the replacement character escaped", `{"name":"a\ufffdb"}`, "invalid_utf8", "", domain.KindMalformed},

		// Shape.
		{"not an object", `[1]`, "invalid_type", "", domain.KindInvalid},
		{"trailing data", `{"name":"a"} {}`, "malformed_json", "", domain.KindMalformed},
		{"syntax", `{"name":`, "malformed_json", "", domain.KindMalformed},
		{"too deep, whatever the names", strings.Repeat(`{"x":`, 20) + "1" + strings.Repeat("}", 20), "json_too_deep", "", domain.KindMalformed},
		{"deep arrays", `{"tags":` + strings.Repeat("[", 20) + strings.Repeat("]", 20) + `}`, "json_too_deep", "", domain.KindMalformed},
		{"a duplicate wins over an unknown name", `{"Name":1,"name":"a","name":"b"}`, "duplicate_key", "name", domain.KindMalformed},
		{"wrong type", `{"count":"3"}`, "validation_failed", "count", domain.KindInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var v target
			err := Decode([]byte(tc.body), &v)
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if domain.CodeOf(err) != tc.wantCode || domain.KindOf(err) != tc.status {
				t.Fatalf("got %v (%s), want %s (%s)", err, domain.KindOf(err), tc.wantCode, tc.status)
			}
			if tc.field != "" {
				e := err.(*domain.Error)
				if len(e.Fields) != 1 || e.Fields[0].Field != tc.field {
					t.Fatalf("fields %+v, want %s", e.Fields, tc.field)
				}
			}
		})
	}
}

func TestDecodeSuggestsTheName(t *testing.T) {
	var v target
	err := Decode([]byte(`{"legalRep":{"Name":"a"}}`), &v)
	e, ok := err.(*domain.Error)
	if !ok || !strings.Contains(e.Message.En, "case-sensitive: name") {
		t.Fatalf("message %v", err)
	}
}

// FuzzDecode: the bodies come from outside (API requests, provider
// callbacks, calendar files). Decode never panics and refuses only with a
// coded 400 or 422; what it accepts is valid UTF-8 without U+FFFD (raw, or
// from an escaped lone surrogate, which encoding/json would quietly turn
// into one), nested at most MaxDepth levels, and names only the target's
// members, spelled exactly, at the top and in the nested structs.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"name":"a","count":3,"legalRep":{"name":"b"},"reps":[{"idNumber":"x"}],"tags":["t"],"extra":{"Any":"k"},"any":{"A":1},"raw":{"B":1},"Untagged":true,"note":"n"}`,
		`{"n\u0061me":"a"}`, `{"name":"\ud83d\ude00"}`, `{"name":"\ud83d"}`, `{"name":"a","name":"b"}`,
		`{"legalRep":{"Name":"a"}}`, `{"reps":[{},{"idNumber":"1","idNumber":"2"}]}`, `{"any":{"x":{"y":1,"y":2}}}`,
		`{"any":` + strings.Repeat(`[`, MaxDepth) + strings.Repeat(`]`, MaxDepth) + `}`, "{\"name\":\"\xff\"}",
		`{"count":1e400}`, `[1]`, `{"name":"a"} {}`, `{"Skipped":true}`,
	} {
		f.Add([]byte(s))
	}
	members := map[string]bool{"name": true, "count": true, "legalRep": true, "reps": true, "tags": true,
		"extra": true, "any": true, "raw": true, "Untagged": true, "note": true}
	repMembers := map[string]bool{"name": true, "idNumber": true, "kind": true}
	f.Fuzz(func(t *testing.T, body []byte) {
		var v target
		err := Decode(body, &v)
		if err != nil {
			k := domain.KindOf(err)
			if (k != domain.KindMalformed && k != domain.KindInvalid) || domain.CodeOf(err) == "" {
				t.Fatalf("refused %q with %v (kind %s, code %q)", body, err, k, domain.CodeOf(err))
			}
			return
		}
		if !utf8.Valid(body) || bytes.ContainsRune(body, utf8.RuneError) {
			t.Fatalf("accepted invalid UTF-8 or U+FFFD: %q", body)
		}
		var generic map[string]any
		if err := json.Unmarshal(body, &generic); err != nil {
			t.Fatalf("accepted %q, which encoding/json refuses: %v", body, err)
		}
		if d := depth(generic); d > MaxDepth {
			t.Fatalf("accepted %q nested %d levels", body, d)
		}
		if s, ok := findRune(generic, utf8.RuneError); ok {
			t.Fatalf("accepted %q, which reads as %q (U+FFFD)", body, s)
		}
		checkNames := func(obj any, allowed map[string]bool) {
			m, _ := obj.(map[string]any)
			for k := range m {
				if !allowed[k] {
					t.Fatalf("accepted member %q of %q", k, body)
				}
			}
		}
		checkNames(generic, members)
		checkNames(generic["legalRep"], repMembers)
		reps, _ := generic["reps"].([]any)
		for _, r := range reps {
			checkNames(r, repMembers)
		}
	})
}

// depth is how deeply v's objects and arrays nest (a scalar is 0).
func depth(v any) int {
	var kids []any
	switch x := v.(type) {
	case map[string]any:
		for _, c := range x {
			kids = append(kids, c)
		}
	case []any:
		kids = x
	default:
		return 0
	}
	d := 0
	for _, c := range kids {
		d = max(d, depth(c))
	}
	return d + 1
}

// findRune returns a key or string of v that holds r.
func findRune(v any, r rune) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, strings.ContainsRune(x, r)
	case map[string]any:
		for k, c := range x {
			if strings.ContainsRune(k, r) {
				return k, true
			}
			if s, ok := findRune(c, r); ok {
				return s, true
			}
		}
	case []any:
		for _, c := range x {
			if s, ok := findRune(c, r); ok {
				return s, true
			}
		}
	}
	return "", false
}
