// Package refundevent is the event with which the API hands a refund a
// request made owed to RefundFunction (an asynchronous Lambda invoke), so
// that no request waits for the payment provider. Its own package: the API
// links it without the jobs, RefundFunction without the HTTP layer.
package refundevent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"microcert/shared/domain"
)

// Event names one refund to send now. RefundFunction's schedule still
// sends the refund while it stays due, so a lost event delays it by one
// run at most; a refund sent twice is harmless (the same round's key to
// the provider, its state checked first).
//
//	{"caseId": "...", "refundId": "...", "round": 1}
type Event struct {
	CaseID   string `json:"caseId"`
	RefundID string `json:"refundId"`
	// Round is the refund's round when handed over (an unreachable
	// answer is counted as that round's).
	Round int `json:"round"`
}

// Invoker queues an asynchronous invoke of RefundFunction
// (*selfinvoke.Client).
type Invoker interface {
	InvokeAsync(ctx context.Context, event []byte) error
}

// Handoff hands refunds to RefundFunction through Invoker (the API's
// certsvc.RefundHandoff).
type Handoff struct {
	Invoker Invoker
}

// HandOff queues one Event for r.
func (h Handoff) HandOff(ctx context.Context, r domain.Refund) error {
	b, err := json.Marshal(Event{CaseID: r.CaseID, RefundID: r.ID, Round: r.Round})
	if err != nil {
		return err
	}
	return h.Invoker.InvokeAsync(ctx, b)
}

// errMalformed: an event naming a refund, but not a valid Event.
var errMalformed = errors.New("refund event: caseId and refundId must be ids and round at least 1")

// Parse reports whether raw is an Event (it names a case or a refund; a
// schedule's event does not) and decodes it strictly: unknown fields, ids
// that are not ids or a round below 1 are an error.
func Parse(raw []byte) (Event, bool, error) {
	var probe struct {
		CaseID   json.RawMessage `json:"caseId"`
		RefundID json.RawMessage `json:"refundId"`
	}
	if json.Unmarshal(raw, &probe) != nil || (probe.CaseID == nil && probe.RefundID == nil) {
		return Event{}, false, nil
	}
	var ev Event
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		return Event{}, true, fmt.Errorf("refund event: %w", err)
	}
	if !domain.ValidID(ev.CaseID) || !domain.ValidID(ev.RefundID) || ev.Round < 1 {
		return Event{}, true, errMalformed
	}
	return ev, true, nil
}
