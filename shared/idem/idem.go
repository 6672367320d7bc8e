// Package idem carries the Idempotency-Key of a POST through the layers.
// The HTTP layer reserves the key before running a request; the store, when
// it commits the request's side effect, flips the reservation to "applied"
// in the same transaction. So a retry after a crash can never apply the
// side effect a second time, and a completed request replays byte for byte.
package idem

import (
	"context"
	"time"
)

// States of a reservation.
const (
	StateInProgress = "in_progress" // reserved, running, nothing applied
	StateApplied    = "applied"     // side effect committed, response not yet stored
	StateDone       = "done"        // response stored: replay it
)

// Mark identifies the reservation a request holds.
type Mark struct {
	Key   string // scoped key (caller, route, client key), hashed
	Token string // this attempt's lease token
}

type markKey struct{}

// WithMark returns ctx carrying m.
func WithMark(ctx context.Context, m Mark) context.Context {
	return context.WithValue(ctx, markKey{}, m)
}

// WithoutMark returns ctx without a mark: for writes that follow a
// request's side effect and are not part of it.
func WithoutMark(ctx context.Context) context.Context {
	return context.WithValue(ctx, markKey{}, nil)
}

// MarkFrom returns the mark of ctx, if any.
func MarkFrom(ctx context.Context) (Mark, bool) {
	m, ok := ctx.Value(markKey{}).(Mark)
	return m, ok
}

// Record is a stored reservation.
type Record struct {
	Key         string
	Fingerprint string // hash of the request body
	State       string
	Token       string
	LeaseUntil  time.Time // an in-progress reservation older than this is abandoned
	ExpiresAt   time.Time // 24 h after the first request
	Status      int
	Headers     map[string]string
	Body        string
}

// Reservation is the outcome of reserving a key: either this request holds
// it now, or another request's record is in force (replay, 409 or 422).
type Reservation struct {
	Held     bool
	Existing Record // when !Held
}
