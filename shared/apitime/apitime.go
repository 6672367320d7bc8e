// Package apitime is the one format of timestamps in the HTTP API: RFC 3339
// in UTC with exactly three fractional digits (2027-11-26T15:59:59.000Z).
// That is what ECMAScript's Date.prototype.toISOString writes and what
// Date.parse reads everywhere, so apps on every platform parse it the same
// way; Go's default (RFC 3339 with up to nine digits, trailing zeros
// dropped) gives 9 digits on one field and none on the next.
//
// Every timestamp the API renders goes through Format, directly or through
// the Time type's MarshalJSON.
package apitime

import (
	"encoding/json"
	"time"
)

// Layout is the API's timestamp layout (always UTC).
const Layout = "2006-01-02T15:04:05.000Z"

// Format renders t in the API's format: converted to UTC and truncated (not
// rounded) to the millisecond, so a time never moves past a deadline it
// was before.
func Format(t time.Time) string {
	return t.UTC().Truncate(time.Millisecond).Format(Layout)
}

// Time is a time.Time that marshals to JSON in the API's format. View
// structs use it for every timestamp member.
type Time time.Time

// MarshalJSON writes the quoted Format of t.
func (t Time) MarshalJSON() ([]byte, error) {
	return json.Marshal(Format(time.Time(t)))
}

// Ptr converts an optional time; nil stays nil (rendered null or left out).
func Ptr(t *time.Time) *Time {
	if t == nil {
		return nil
	}
	v := Time(*t)
	return &v
}

// Normalize returns v with any time.Time or *time.Time replaced by Time,
// for values of unknown type such as a problem document's extra members.
func Normalize(v any) any {
	switch x := v.(type) {
	case time.Time:
		return Time(x)
	case *time.Time:
		if p := Ptr(x); p != nil {
			return *p
		}
		return nil
	}
	return v
}
