// Package idem carries the Idempotency-Key of a POST through the layers.
// The HTTP layer reserves the key before running a request; the store, when
// it commits the request's side effect, flips the reservation to "applied"
// in the same transaction, or (when the HTTP layer lets it hold the change
// back, Deferral) to "done" with the request's response. So a retry after a
// crash can never apply the side effect a second time, and a completed
// request replays byte for byte.
//
// A route whose every effect is that one transaction may skip the
// reservation (Mark.Create): the transaction then creates the record, on
// condition that no live one exists, so at most one change commits per key
// all the same, and the HTTP layer reads the key only when the request did
// not complete.
package idem

import (
	"context"
	"sync"
	"time"

	"microcert/shared/domain"
)

// States of a reservation.
const (
	StateInProgress = "in_progress" // reserved, running, nothing applied
	StateApplied    = "applied"     // side effect committed, response not yet stored
	StateDone       = "done"        // response stored: replay it
)

// ErrAlreadyApplied: the key's record is not this request's to complete
// (its change was committed already, by an earlier attempt or a twin
// request, or another attempt took the key over), so the request's change
// cannot commit under it.
var ErrAlreadyApplied = domain.E(domain.KindConflict, "request_already_applied",
	"该请求已生效，请重新读取资源查看结果。", "This request was already applied; read the resource to see its result.")

// Mark identifies the reservation a request holds, or the record its
// change creates.
type Mark struct {
	Key   string // scoped key (caller, route, client key), hashed
	Token string // this attempt's lease token
	// Create, when set, is the record of a key nobody reserved: the
	// transaction that applies the request's change creates it (applied,
	// or done with the response) on condition that the key is free at At
	// (absent, expired, or an in-progress reservation of the same request
	// whose lease ended), instead of flipping a reservation this request
	// holds. Its Key and Token are the mark's.
	Create *Record
	At     time.Time
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

// Response is what a request answered, stored with its reservation for
// replay.
type Response struct {
	Status  int
	Headers map[string]string
	Body    string
}

// Deferral is the slot of one request attempt for a side effect the store
// has prepared but not yet written: the HTTP layer writes it together with
// the request's response, so that one transaction applies the change and
// completes the reservation (no separate write to record the response).
type Deferral struct {
	mu sync.Mutex
	// held writes the held change; with a response, the reservation
	// becomes done with it in the same transaction; without one it
	// becomes applied (as an immediate commit leaves it).
	held func(ctx context.Context, resp *Response) error
	// failed is the error of a held change's write, kept: the request
	// may have gone on (a best-effort step swallowing it), so its answer
	// cannot be trusted to describe what was written.
	failed error
	// after are the actions waiting for the held change to be written
	// (AfterWrite); dropped when its write fails.
	after []func(ctx context.Context)
}

type deferralKey struct{}

// WithDeferral returns ctx carrying d: the store's commit under a mark
// then holds its change in d instead of writing it (see Deferral.Hold).
func WithDeferral(ctx context.Context, d *Deferral) context.Context {
	return context.WithValue(ctx, deferralKey{}, d)
}

// DeferralFrom returns the deferral of ctx, if any.
func DeferralFrom(ctx context.Context) *Deferral {
	d, _ := ctx.Value(deferralKey{}).(*Deferral)
	return d
}

// Hold keeps write as the attempt's held change. It reports false (and
// keeps nothing) when there is no deferral or a change is already held.
func (d *Deferral) Hold(write func(ctx context.Context, resp *Response) error) bool {
	if d == nil {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.held != nil {
		return false
	}
	d.held = write
	return true
}

// Holding reports whether a change is held.
func (d *Deferral) Holding() bool {
	if d == nil {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.held != nil
}

// Write writes the held change (nothing when none is held) with resp, or
// without a response when resp is nil, and lets go of it.
func (d *Deferral) Write(ctx context.Context, resp *Response) error {
	if d == nil {
		return nil
	}
	// Taken under the lock, written outside it: the write's own store
	// calls (settle's read) find nothing held.
	d.mu.Lock()
	write, after := d.held, d.after
	d.held, d.after = nil, nil
	d.mu.Unlock()
	if write == nil {
		return nil
	}
	err := write(ctx, resp)
	if err != nil {
		d.mu.Lock()
		if d.failed == nil {
			d.failed = err
		}
		d.mu.Unlock()
		return err
	}
	for _, f := range after {
		f(ctx)
	}
	return nil
}

// AfterWrite runs action once the change the request of ctx holds is
// written (at once when nothing is held: the request's change, if any, is
// committed already). For what must follow a change and never precede it,
// such as handing a refund it created to the function that sends it. When
// the held write fails the action is dropped: nothing of the change was
// applied, and the request runs again without a deferral.
func AfterWrite(ctx context.Context, action func(ctx context.Context)) {
	if d := DeferralFrom(ctx); d != nil {
		d.mu.Lock()
		if d.held != nil {
			d.after = append(d.after, action)
			d.mu.Unlock()
			return
		}
		d.mu.Unlock()
	}
	action(ctx)
}

// Failed returns the error of the first held change whose write failed
// (nil if none did).
func (d *Deferral) Failed() error {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.failed
}

// Flush writes a held change without a response: for a store call of the
// same request that must see it written (a later read or commit).
func (d *Deferral) Flush(ctx context.Context) error { return d.Write(ctx, nil) }

// WriteHeld writes the change held for the request of ctx, if any: a use
// case calls it before anything outside the store acts on that change (an
// order to the payment provider).
func WriteHeld(ctx context.Context) error { return DeferralFrom(ctx).Flush(ctx) }
