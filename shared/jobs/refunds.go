package jobs

import (
	"context"
	"time"

	"microcert/shared/domain"
)

// RefundSource lists the refunds with work due (implemented by
// *store.Store): the sparse DueIndex partition REFUND, keyed by
// Refund.NextAttemptAt, which only pending refunds carry.
type RefundSource interface {
	RefundsDue(ctx context.Context, before time.Time, p domain.Page) ([]domain.Refund, string, error)
}

// RefundSender sends one refund to the provider and records the answer
// (implemented by *certsvc.Service): answered is false when the provider
// gave none (the refund backs off).
type RefundSender interface {
	SendRefund(ctx context.Context, caseID, id string) (r *domain.Refund, answered bool, err error)
}

// Outcomes of the refund job.
const (
	OutRefundSucceeded   = "refund_succeeded"   // the provider paid it back
	OutRefundSubmitted   = "refund_submitted"   // accepted; its callback (or the next ask) settles it
	OutRefundDeclined    = "refund_declined"    // the provider refused: failed, for an admin
	OutRefundBackoff     = "refund_backoff"     // no answer: called again after a pause
	OutRefundUnreachable = "refund_unreachable" // no answer after the last attempt: failed, for an admin
)

// Refunds is the refund job (RefundFunction, every few minutes): it sends
// every refund whose NextAttemptAt has come (new ones the request that
// created them could not send, unanswered ones after their pause, accepted
// ones whose callback has not come) with the round's idempotency key, so
// a refund the provider already holds is never paid twice, whatever runs
// at the same time (a handler's first send, an overlapping run, Lambda's
// retry, an admin's retry).
type Refunds struct {
	cfg    Config
	source RefundSource
	sender RefundSender
}

// NewRefunds returns the job.
func NewRefunds(cfg Config, source RefundSource, sender RefundSender) *Refunds {
	return &Refunds{cfg: cfg.withDefaults(), source: source, sender: sender}
}

// Name is the job's name in logs and metrics.
func (j *Refunds) Name() string { return "refund" }

// Parts is the one partition of the job's work: a run every few minutes
// sends a few refunds, so it is not fanned out.
func (j *Refunds) Parts() []string { return []string{"refunds"} }

// Run sends every refund due at now.
func (j *Refunds) Run(ctx context.Context, now time.Time, parts ...string) Summary {
	return run(ctx, j.cfg, j.Name(), now, []part{{name: "refunds", run: func(r *runner) string {
		return drain(ctx, j.cfg, r, now, j.source.RefundsDue, func(r domain.Refund) string { return r.ID },
			func(ctx context.Context, r domain.Refund) []string { return []string{j.one(ctx, r)} })
	}}}, parts...)
}

func (j *Refunds) one(ctx context.Context, r domain.Refund) string {
	got, answered, err := j.sender.SendRefund(ctx, r.CaseID, r.ID)
	switch {
	case err != nil && conflict(err):
		return OutConflict
	case err != nil:
		j.cfg.Log.Error("refund", "refundId", r.ID, "code", domain.CodeOf(err), "err", err)
		return OutFailed
	case got.Status == domain.RefundSucceeded && answered:
		return OutRefundSucceeded
	case got.Status == domain.RefundFailed && got.FailureCode == domain.RefundDeclined && answered:
		return OutRefundDeclined
	case got.Status == domain.RefundFailed && !answered && got.FailureCode == domain.RefundUnreachable && got.Round == r.Round:
		return OutRefundUnreachable
	case got.Status == domain.RefundPending && answered:
		return OutRefundSubmitted
	case got.Status == domain.RefundPending:
		return OutRefundBackoff
	}
	return OutNotDue // settled by someone else since the index was read
}
