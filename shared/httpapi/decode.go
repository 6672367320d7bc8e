package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"

	"microcert/shared/domain"
)

// Limits on request bodies. API Gateway itself stops at 10 MB; ours are far
// tighter because no route takes more than a few hundred bytes.
const (
	maxBodyBytes = 64 << 10
	maxJSONDepth = 16
)

var (
	errMalformed   = domain.E(domain.KindMalformed, "malformed_json", "请求体不是有效的 JSON。", "The request body is not valid JSON.")
	errTooLarge    = domain.E(domain.KindTooLarge, "body_too_large", "请求体过大（上限 64 KB）。", "The request body is too large (limit 64 KB).")
	errNotJSON     = domain.E(domain.KindUnsupported, "unsupported_media_type", "请求体必须是 application/json。", "The request body must be application/json.")
	errTooDeep     = domain.E(domain.KindMalformed, "json_too_deep", "JSON 嵌套层级过深。", "The JSON is nested too deeply.")
	errBodyMissing = domain.E(domain.KindInvalid, "body_required", "缺少请求体。", "A request body is required.")
)

// rawBody returns the request body bytes, enforcing the size limit.
func rawBody(body string, isBase64 bool) ([]byte, error) {
	if isBase64 {
		if base64.StdEncoding.DecodedLen(len(body)) > maxBodyBytes*2 {
			return nil, errTooLarge
		}
		b, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			return nil, errMalformed
		}
		if len(b) > maxBodyBytes {
			return nil, errTooLarge
		}
		return b, nil
	}
	if len(body) > maxBodyBytes {
		return nil, errTooLarge
	}
	return []byte(body), nil
}

// isJSONContentType accepts application/json and application/*+json.
func isJSONContentType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// DecodeJSON strictly decodes body into dst: one JSON object, no unknown
// fields, bounded depth, right types. Errors are domain errors the HTTP layer
// renders as problem+json. It is exported for the fuzz target.
func DecodeJSON(body []byte, dst any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return errBodyMissing
	}
	if err := checkDepth(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errMalformed
	}
	return nil
}

// checkDepth walks the tokens once so a deeply nested body is refused before
// the real decode allocates anything for it.
func checkDepth(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	depth := 0
	first := true
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return errMalformed
		}
		if first {
			if d, ok := tok.(json.Delim); !ok || d != '{' {
				return domain.E(domain.KindInvalid, "invalid_type", "请求体必须是 JSON 对象。", "The request body must be a JSON object.")
			}
			first = false
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				depth++
				if depth > maxJSONDepth {
					return errTooDeep
				}
			default:
				depth--
			}
		}
	}
}

func decodeError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return errMalformed
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(body)"
		}
		return invalidFields(domain.FieldError{Field: field, Code: "invalid_type",
			Message: domain.Text{Zh: fmt.Sprintf("字段 %s 应为 %s 类型。", field, jsonKind(typ.Type.Kind().String())),
				En: fmt.Sprintf("Field %s must be of type %s.", field, jsonKind(typ.Type.Kind().String()))}})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		e := invalidFields(domain.FieldError{Field: field, Code: "unknown_field",
			Message: domain.Text{Zh: "不支持的字段：" + field, En: "Unknown field: " + field}})
		e.Code = "unknown_field"
		return e
	default:
		return errMalformed
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "int", "int64", "int32", "float64", "uint", "uint64":
		return "number"
	case "slice":
		return "array"
	default:
		return "object"
	}
}

// invalidFields builds a 422 listing field errors.
func invalidFields(fields ...domain.FieldError) *domain.Error {
	return &domain.Error{
		Kind:    domain.KindInvalid,
		Code:    "validation_failed",
		Message: domain.Text{Zh: "请求参数无效。", En: "The request is invalid."},
		Fields:  fields,
	}
}
