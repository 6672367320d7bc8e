// Package optimistic is the one write path of microcert's versioned
// entities (enterprise, case, certification): read, apply a domain
// function, write on condition that the stored version is still the one
// read, and when that condition fails because someone else wrote in
// between, read again and apply again.
//
// Every use case, job and the document check runs its read-apply-write
// cycle through Retry, so a mobile app that never sent a version never sees
// a conflict that another writer (the document check, a provider callback,
// a job) caused. A version the client did send is different: the client
// decided on what it read, so a stale one is answered, not retried (Stale).
package optimistic

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"microcert/shared/domain"
)

// Policy bounds the retries of one cycle.
type Policy struct {
	// Attempts is how many cycles run at most (the first included).
	Attempts int
	// Base is the first pause; each later pause doubles, up to Max. Each
	// pause is drawn uniformly from [0, bound) ("full jitter"), so writers
	// that collided once spread out instead of colliding again.
	Base, Max time.Duration
}

// Default fits a request handler: at most 8 cycles and about 0.5 s of
// pauses in all, far inside the API function's timeout; a case rarely has
// more than five writers at once (the document check of three uploads and
// two verifications started together).
var Default = Policy{Attempts: 8, Base: 4 * time.Millisecond, Max: 120 * time.Millisecond}

// Retry runs cycle under Default.
func Retry(ctx context.Context, cycle func(context.Context) error) error {
	return Default.Retry(ctx, cycle)
}

// Retry runs cycle until it returns anything but a version conflict, at
// most p.Attempts times. A conflict of a version the client pinned (Stale)
// is returned at once, unwrapped to the domain's version_conflict.
func (p Policy) Retry(ctx context.Context, cycle func(context.Context) error) error {
	var err error
	bound := p.Base
	for attempt := 1; ; attempt++ {
		err = cycle(ctx)
		var st *staleError
		if errors.As(err, &st) {
			return st.err
		}
		if !IsConflict(err) || attempt >= p.Attempts {
			return err
		}
		pause := time.Duration(rand.Int64N(int64(bound) + 1))
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
		if bound *= 2; bound > p.Max {
			bound = p.Max
		}
	}
}

// IsConflict reports whether err is a version conflict: a conditional
// write found another version than the one read.
func IsConflict(err error) bool {
	return err != nil && domain.CodeOf(err) == domain.ErrVersionConflict.Code
}

// Stale is the answer to a client that pinned version pinned while the
// stored one is current: 409 version_conflict with currentVersion, never
// retried (the client must read again and decide again).
func Stale(current int) error {
	return &staleError{err: domain.ErrVersionConflict.With("currentVersion", current)}
}

type staleError struct{ err error }

func (e *staleError) Error() string { return e.err.Error() }
func (e *staleError) Unwrap() error { return e.err }
