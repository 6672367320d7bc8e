package jobs

import (
	"context"
	"encoding/json"
	"fmt"

	"microcert/shared/domain"
	"microcert/shared/refundevent"
)

// RefundHandler is RefundFunction's Lambda handler: its schedule's event
// runs the refund job (Schedule), a refundevent.Event (the API's hand-off)
// sends that one refund. A malformed one is refused (an error, nothing
// sent).
type RefundHandler struct {
	Schedule *Handler
	Job      *Refunds
}

// Handle is the Lambda handler.
func (h *RefundHandler) Handle(ctx context.Context, raw json.RawMessage) (Summary, error) {
	ev, isRefund, err := refundevent.Parse(raw)
	if !isRefund {
		return h.Schedule.Handle(ctx, raw)
	}
	log := h.Job.cfg.Log
	if err != nil {
		log.Error("bad event", "err", err)
		return Summary{Job: h.Job.Name()}, err
	}
	start := h.Schedule.wallNow()
	out := h.Job.one(ctx, domain.Refund{CaseID: ev.CaseID, ID: ev.RefundID, Round: ev.Round})
	s := Summary{Job: h.Job.Name(), Now: start.UTC(), Read: 1, Counts: map[string]int{out: 1}, Complete: true,
		Duration: h.Schedule.wallNow().Sub(start)}
	log.Info("refund handed over", "refundId", ev.RefundID, "outcome", out)
	// The same metrics as a run's: the refunds' outcomes add up.
	h.Schedule.writeMetrics(s)
	if out == OutFailed {
		// Lambda retries the event (twice); the schedule after that.
		return s, fmt.Errorf("refund %s: not sent", ev.RefundID)
	}
	return s, nil
}
