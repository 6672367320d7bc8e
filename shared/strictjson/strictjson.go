// Package strictjson decodes JSON that comes from outside (API bodies,
// signed provider callbacks, operator documents) more strictly than
// encoding/json, whose leniencies let two readers of the same bytes
// disagree about what they say:
//
//   - invalid UTF-8, and \u escapes of lone UTF-16 surrogates (which
//     encoding/json silently turns into U+FFFD), are refused:
//     400 invalid_utf8; so is U+FFFD itself, raw or escaped: it is what
//     invalid UTF-8 becomes when an intermediary (API Gateway building the
//     Lambda event, which is JSON and cannot carry invalid bytes) decodes
//     it, and no field of ours has a use for it;
//   - a key repeated in one object is refused (encoding/json keeps the
//     last, other parsers the first): 400 duplicate_key;
//   - member names must match the target's field names exactly, at every
//     level (encoding/json matches them case-insensitively, so {"Name":..}
//     would fill name): 422 unknown_field, like any member the target does
//     not have;
//   - the body is one JSON object, nested at most MaxDepth levels, with
//     nothing after it; values must fit the target's types.
//
// Errors are domain errors with stable codes, rendered by the HTTP layer.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"

	"microcert/shared/domain"
)

// MaxDepth is how deeply objects and arrays may nest.
const MaxDepth = 16

// ErrMalformed: not JSON (400 malformed_json).
var ErrMalformed = domain.E(domain.KindMalformed, "malformed_json", "请求体不是有效的 JSON。", "The request body is not valid JSON.")

var (
	errTooDeep    = domain.E(domain.KindMalformed, "json_too_deep", "JSON 嵌套层级过深。", "The JSON is nested too deeply.")
	errInvalidUTF = domain.E(domain.KindMalformed, "invalid_utf8",
		"请求体含有无效的 UTF-8 编码（或不成对的 \\u 代理项转义、替换字符 U+FFFD）。",
		"The body is not valid UTF-8 (or holds a \\u escape of an unpaired surrogate, or the replacement character U+FFFD).")
	errNotObject = domain.E(domain.KindInvalid, "invalid_type", "请求体必须是 JSON 对象。", "The request body must be a JSON object.")
)

// Decode decodes body, one JSON object, into dst (a pointer) under the
// rules of the package.
func Decode(body []byte, dst any) error {
	if err := checkText(body); err != nil {
		return err
	}
	w := walker{dec: json.NewDecoder(bytes.NewReader(body))}
	w.dec.UseNumber()
	tok, err := w.dec.Token()
	if err != nil {
		return ErrMalformed
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errNotObject
	}
	if err := w.object(reflect.TypeOf(dst), "", 1); err != nil {
		return err
	}
	if _, err := w.dec.Token(); err != io.EOF {
		return ErrMalformed
	}
	if w.unknown != nil {
		return w.unknown
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	return nil
}

// checkText refuses invalid UTF-8, U+FFFD, and \u escapes that do not
// make valid Unicode (a high surrogate not followed by a low one, a lone
// low one) or that spell U+FFFD.
func checkText(body []byte) error {
	if !utf8.Valid(body) || bytes.ContainsRune(body, utf8.RuneError) {
		return errInvalidUTF
	}
	inString := false
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '"':
			inString = !inString
		case inString && c == '\\' && i+1 < len(body):
			if body[i+1] != 'u' {
				i++ // skip the escaped character (it may be a quote)
				continue
			}
			r, ok := hex4(body, i+2)
			if !ok {
				continue // malformed: the decoder reports it
			}
			switch {
			case r >= 0xDC00 && r <= 0xDFFF, r == utf8.RuneError:
				return errInvalidUTF
			case r >= 0xD800 && r <= 0xDBFF:
				lo, ok := -1, false
				if i+7 < len(body) && body[i+6] == '\\' && body[i+7] == 'u' {
					lo, ok = hex4(body, i+8)
				}
				if !ok || lo < 0xDC00 || lo > 0xDFFF {
					return errInvalidUTF
				}
				i += 11 // both escapes
				continue
			}
			i += 5
		}
	}
	return nil
}

// hex4 reads four hex digits at b[i:].
func hex4(b []byte, i int) (int, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	v := 0
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			v = v*16 + int(c-'0')
		case c >= 'a' && c <= 'f':
			v = v*16 + int(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v*16 + int(c-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}

// walker reads the tokens once, alongside the target type, before the
// real decode allocates anything: depth, duplicate keys and exact names.
// The body's shape is checked to the end before a name is reported (a
// deeply nested or malformed body is a 400 whatever its member names).
type walker struct {
	dec     *json.Decoder
	unknown error // the first member the target does not have
}

// object reads the members of an object whose '{' was read, for a value
// of type t (nil when unknown: only duplicates are checked then).
func (w *walker) object(t reflect.Type, path string, depth int) error {
	if depth > MaxDepth {
		return errTooDeep
	}
	t = deref(t)
	var fields map[string]reflect.Type
	var elem reflect.Type
	switch {
	case t == nil:
	case t.Kind() == reflect.Struct:
		fields = fieldsOf(t)
	case t.Kind() == reflect.Map:
		elem = t.Elem()
	}
	seen := map[string]bool{}
	for {
		tok, err := w.dec.Token()
		if err != nil {
			return ErrMalformed
		}
		if d, ok := tok.(json.Delim); ok && d == '}' {
			return nil
		}
		key, ok := tok.(string)
		if !ok {
			return ErrMalformed
		}
		at := join(path, key)
		if seen[key] {
			return field(domain.KindMalformed, "duplicate_key", at,
				"JSON 对象中的键 "+at+" 重复。", "The key "+at+" appears more than once in one object.")
		}
		seen[key] = true
		next := elem
		if fields != nil {
			ft, exact := fields[key]
			if !exact && w.unknown == nil {
				w.unknown = unknownField(at, near(fields, key))
			}
			next = ft // nil when unknown: the value is only walked
		}
		if err := w.value(next, at, depth); err != nil {
			return err
		}
	}
}

// value reads one value for type t.
func (w *walker) value(t reflect.Type, path string, depth int) error {
	tok, err := w.dec.Token()
	if err != nil {
		return ErrMalformed
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil // a scalar: its type is the decoder's to check
	}
	t = deref(t)
	switch d {
	case '{':
		if t != nil && t.Kind() != reflect.Struct && t.Kind() != reflect.Map {
			t = nil // a type mismatch, reported by the decoder
		}
		return w.object(t, path, depth+1)
	case '[':
		if depth+1 > MaxDepth {
			return errTooDeep
		}
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; ; i++ {
			if !w.dec.More() {
				_, err := w.dec.Token() // ']'
				if err != nil {
					return ErrMalformed
				}
				return nil
			}
			if err := w.value(elem, fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
				return err
			}
		}
	default:
		return ErrMalformed
	}
}

func deref(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil && t.Kind() == reflect.Interface {
		return nil
	}
	return t
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// near is the field name key differs from only by case ("" if none).
func near(fields map[string]reflect.Type, key string) string {
	for name := range fields {
		if strings.EqualFold(name, key) {
			return name
		}
	}
	return ""
}

func unknownField(at, near string) error {
	if near != "" {
		return field(domain.KindInvalid, "unknown_field", at,
			"不支持的字段："+at+"（字段名区分大小写，应为 "+near+"）。",
			"Unknown field: "+at+" (field names are case-sensitive: "+near+").")
	}
	return field(domain.KindInvalid, "unknown_field", at, "不支持的字段："+at, "Unknown field: "+at)
}

// field is an error about one member, with its code as the problem's.
func field(kind domain.Kind, code, at, zh, en string) error {
	msg := domain.Text{Zh: zh, En: en}
	return &domain.Error{Kind: kind, Code: code, Message: msg,
		Fields: []domain.FieldError{{Field: at, Code: code, Message: msg}}}
}

var fieldCache sync.Map // reflect.Type -> map[string]reflect.Type

// fieldsOf lists the JSON member names of a struct as encoding/json sees
// them (tags, untagged exported fields, embedded structs' fields), each
// with its type.
func fieldsOf(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			if et := deref(f.Type); et != nil && et.Kind() == reflect.Struct {
				for k, v := range fieldsOf(et) {
					if _, taken := m[k]; !taken {
						m[k] = v
					}
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = f.Type
	}
	fieldCache.Store(t, m)
	return m
}

// decodeError maps encoding/json's errors to the API's.
func decodeError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return ErrMalformed
	case errors.As(err, &typ):
		f := typ.Field
		if f == "" {
			f = "(body)"
		}
		kind := jsonKind(typ.Type.Kind())
		return &domain.Error{Kind: domain.KindInvalid, Code: "validation_failed",
			Message: domain.Text{Zh: "请求参数无效。", En: "The request is invalid."},
			Fields: []domain.FieldError{{Field: f, Code: "invalid_type",
				Message: domain.Text{Zh: fmt.Sprintf("字段 %s 应为 %s 类型。", f, kind), En: fmt.Sprintf("Field %s must be of type %s.", f, kind)}}}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// The walk reports unknown fields first; kept for safety.
		return unknownField(strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), "")
	default:
		return ErrMalformed
	}
}

func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	default:
		return "object"
	}
}
