package domain

import (
	"errors"
	"fmt"
)

// Kind classifies an error. The HTTP layer maps each kind to one status code
// in exactly one place (httpapi.statusOf); nothing else decides statuses.
type Kind int

const (
	KindInternal     Kind = iota // a bug or an unexpected failure: logged, 500
	KindMalformed                // the request could not be parsed: 400
	KindInvalid                  // parsed but invalid: 422
	KindNotFound                 // absent, or another tenant's: 404
	KindForbidden                // the caller's role may not do this: 403
	KindConflict                 // state or version conflict: 409
	KindTooLarge                 // body over the limit: 413
	KindUnsupported              // not JSON: 415
	KindTooMany                  // too many attempts: 429
	KindUnavailable              // a dependency is throttling or down: 503, retry later
	KindUnauthorized             // bad or missing credentials (callbacks): 401
)

func (k Kind) String() string {
	switch k {
	case KindMalformed:
		return "malformed"
	case KindInvalid:
		return "invalid"
	case KindNotFound:
		return "not_found"
	case KindForbidden:
		return "forbidden"
	case KindConflict:
		return "conflict"
	case KindTooLarge:
		return "too_large"
	case KindUnsupported:
		return "unsupported"
	case KindTooMany:
		return "too_many"
	case KindUnavailable:
		return "unavailable"
	case KindUnauthorized:
		return "unauthorized"
	default:
		return "internal"
	}
}

// Text is a human-readable message in the two languages the apps show.
type Text struct {
	Zh string `json:"zh"`
	En string `json:"en"`
}

// In picks the message for a language tag ("en..." gives English, anything
// else Chinese, the default of the mobile apps).
func (t Text) In(lang string) string {
	if len(lang) >= 2 && (lang[:2] == "en" || lang[:2] == "EN") {
		return t.En
	}
	return t.Zh
}

// FieldError names one invalid field of a request.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message Text   `json:"-"`
}

// Error is the one error type that crosses package boundaries. Code is stable
// and machine-readable (the app switches on it); Message is for people.
type Error struct {
	Kind    Kind
	Code    string
	Message Text
	Fields  []FieldError
	// Details are extra members of the problem document, e.g.
	// attemptsLeft: plain values (strings, numbers, times) that encode to
	// JSON as they are.
	Details []Detail
	// Requirements are the case's open requirements, when they are why the
	// request is refused (requirements_unmet); the HTTP layer renders them
	// in the caller's language.
	Requirements *Requirements
	// Err is the cause, for logs only; never shown to clients.
	Err error
}

// Detail is one extra member of a problem document.
type Detail struct {
	Name  string
	Value any
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Kind, e.Code, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Kind, e.Code)
}

func (e *Error) Unwrap() error { return e.Err }

// E builds an error of a kind with a code and a message.
func E(kind Kind, code string, zh, en string) *Error {
	return &Error{Kind: kind, Code: code, Message: Text{Zh: zh, En: en}}
}

// Wrap makes an internal or unavailable error around a cause.
func Wrap(kind Kind, code string, err error) *Error {
	return &Error{Kind: kind, Code: code, Err: err, Message: defaultText(kind)}
}

// With returns a copy of e carrying the detail name: v (replacing one of
// the same name).
func (e *Error) With(name string, v any) *Error {
	c := *e
	c.Details = make([]Detail, 0, len(e.Details)+1)
	for _, d := range e.Details {
		if d.Name != name {
			c.Details = append(c.Details, d)
		}
	}
	c.Details = append(c.Details, Detail{Name: name, Value: v})
	return &c
}

// Detail returns the value of the detail name.
func (e *Error) Detail(name string) (any, bool) {
	for _, d := range e.Details {
		if d.Name == name {
			return d.Value, true
		}
	}
	return nil, false
}

// WithRequirements returns a copy of e carrying the case's requirements.
func (e *Error) WithRequirements(r Requirements) *Error {
	c := *e
	c.Requirements = &r
	return &c
}

// KindOf reports the kind of err; errors that are not *Error are internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// CodeOf reports the code of err, "" if it has none.
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// IsKind reports whether err is of kind k.
func IsKind(err error, k Kind) bool { return KindOf(err) == k }

func defaultText(k Kind) Text {
	switch k {
	case KindUnavailable:
		return Text{Zh: "服务繁忙，请稍后重试。", En: "The service is busy; retry shortly."}
	case KindNotFound:
		return Text{Zh: "未找到。", En: "Not found."}
	default:
		return Text{Zh: "服务内部错误。", En: "Internal error."}
	}
}

// Common errors. Callers return these (or copies with extra members).
var (
	ErrNotFound        = E(KindNotFound, "not_found", "未找到该资源。", "The resource was not found.")
	ErrVersionConflict = E(KindConflict, "version_conflict", "数据已被修改，请刷新后重试。", "The resource was changed by someone else; reload and retry.")
	ErrForbidden       = E(KindForbidden, "forbidden", "当前角色无权执行此操作。", "Your role may not do this.")
)
