package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"microcert/shared/apitime"
	"microcert/shared/certsvc"
	"microcert/shared/domain"
)

// statusOf is the one place that maps an error kind to an HTTP status.
func statusOf(k domain.Kind) int {
	switch k {
	case domain.KindMalformed:
		return http.StatusBadRequest
	case domain.KindInvalid:
		return http.StatusUnprocessableEntity
	case domain.KindNotFound:
		return http.StatusNotFound
	case domain.KindForbidden:
		return http.StatusForbidden
	case domain.KindConflict:
		return http.StatusConflict
	case domain.KindTooLarge:
		return http.StatusRequestEntityTooLarge
	case domain.KindUnsupported:
		return http.StatusUnsupportedMediaType
	case domain.KindTooMany:
		return http.StatusTooManyRequests
	case domain.KindUnavailable:
		return http.StatusServiceUnavailable
	case domain.KindUnauthorized:
		return http.StatusUnauthorized
	default:
		return http.StatusInternalServerError
	}
}

// problem is an RFC 9457 problem document.
type problem struct {
	Type   string         `json:"type"`
	Title  string         `json:"title"`
	Status int            `json:"status"`
	Detail string         `json:"detail"`
	Code   string         `json:"code"`
	Errors []problemField `json:"errors,omitempty"`
}

type problemField struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// problemResponse renders err for a client speaking lang. Internal errors
// are logged (with their cause) and shown without detail.
func problemResponse(log *slog.Logger, err error, lang string) events.APIGatewayV2HTTPResponse {
	var e *domain.Error
	if !errors.As(err, &e) {
		e = domain.Wrap(domain.KindInternal, "internal", err)
	}
	status := statusOf(e.Kind)
	switch e.Kind {
	case domain.KindInternal:
		log.Error("request failed", "kind", e.Kind.String(), "code", e.Code, "err", e.Err)
	case domain.KindUnavailable:
		log.Warn("dependency unavailable", "kind", e.Kind.String(), "code", e.Code, "err", e.Err)
	default:
		log.Info("request refused", "kind", e.Kind.String(), "code", e.Code, "status", status)
	}
	code := publicCode(e)
	p := problem{
		Type:   "https://microcert.dev/problems/" + strings.ReplaceAll(code, "_", "-"),
		Title:  http.StatusText(status),
		Status: status,
		Detail: e.Message.In(lang),
		Code:   code,
	}
	for _, f := range e.Fields {
		p.Errors = append(p.Errors, problemField{Field: f.Field, Code: f.Code, Message: f.Message.In(lang)})
	}
	body := map[string]any{}
	raw, _ := json.Marshal(p)
	_ = json.Unmarshal(raw, &body)
	for _, d := range e.Details {
		if _, taken := body[d.Name]; !taken {
			body[d.Name] = apitime.Normalize(d.Value)
		}
	}
	if e.Requirements != nil {
		body["requirements"] = certsvc.RequirementsJSON(*e.Requirements, lang)
	}
	out, _ := json.Marshal(body)
	headers := map[string]string{"Content-Type": "application/problem+json", "Content-Language": langTag(lang)}
	if e.Kind == domain.KindUnavailable {
		headers["Retry-After"] = "1"
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: headers, Body: string(out)}
}

// publicCode is the code a client sees. Internal and unavailable errors
// carry a code that names the failure for the logs (random, read_failed,
// ...); clients get the one code of their kind, which openapi.yaml lists.
func publicCode(e *domain.Error) string {
	switch e.Kind {
	case domain.KindInternal:
		return "internal"
	case domain.KindUnavailable:
		return "unavailable"
	}
	return e.Code
}

// langTag normalises Accept-Language to the two languages served.
func langTag(acceptLanguage string) string {
	for _, part := range strings.Split(acceptLanguage, ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		if strings.HasPrefix(tag, "en") {
			return "en"
		}
		if strings.HasPrefix(tag, "zh") {
			return "zh-CN"
		}
	}
	return "zh-CN"
}
