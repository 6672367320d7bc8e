package httpapi

import (
	"bytes"
	"encoding/base64"
	"mime"
	"strings"

	"microcert/shared/domain"
	"microcert/shared/strictjson"
)

// Limits on request bodies. API Gateway itself stops at 10 MB; ours are far
// tighter because no route takes more than a few hundred bytes.
const maxBodyBytes = 64 << 10

var (
	errTooLarge    = domain.E(domain.KindTooLarge, "body_too_large", "请求体过大（上限 64 KB）。", "The request body is too large (limit 64 KB).")
	errNotJSON     = domain.E(domain.KindUnsupported, "unsupported_media_type", "请求体必须是 application/json。", "The request body must be application/json.")
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
			return nil, strictjson.ErrMalformed
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

// DecodeJSON strictly decodes body into dst (shared/strictjson): one JSON
// object of valid UTF-8, no duplicate keys, member names exactly the
// fields' (no case-insensitive matching), no unknown fields, bounded depth,
// right types. Errors are domain errors the HTTP layer renders as
// problem+json. It is exported for the fuzz target.
func DecodeJSON(body []byte, dst any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return errBodyMissing
	}
	return strictjson.Decode(body, dst)
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
