package certsvc

import (
	"context"
	"errors"
	"time"

	"microcert/shared/domain"
	"microcert/shared/idem"
	"microcert/shared/optimistic"
)

// Refunds: the order to the provider, its answers and its callback. A
// refund is created (pending, due now) in the transaction that makes it
// owed; then it is sent at once by the use case that created it, and by the
// refund job while it stays due. Every send carries the round's key as the
// provider's idempotency key (out_refund_no), so sending again (a retry, the
// job and a handler at once, an admin's retry of an unreachable one) never
// pays twice. Every answer is recorded under the refund's version.

// RefundRequest is one refund order to the provider.
type RefundRequest struct {
	// Key is the idempotency key (the refund's id and round).
	Key           string
	OrderID       string
	TransactionID string
	AmountFen     int64
	Reason        string
}

// RefundProvider is the payment provider's refund API. Refund answers what
// the provider said: accepted (pending), succeeded or failed (declined, a
// final answer for that key). An error means no answer (unreachable,
// timeout, 5xx): the call is made again later with the same key.
type RefundProvider interface {
	Refund(ctx context.Context, req RefundRequest) (domain.ProviderAnswer, error)
}

// errNoProvider: the function runs without a payment provider endpoint.
var errNoProvider = errors.New("no payment provider is configured (PAYMENT_PROVIDER_URL)")

// sendTimeout bounds the immediate send after a refund became owed: the
// request that caused it does not wait longer (the job sends it later).
const sendTimeout = 4 * time.Second

// refundCreates wraps new refunds as their create writes.
func refundCreates(rs []domain.Refund) []domain.RefundWrite {
	out := make([]domain.RefundWrite, len(rs))
	for i := range rs {
		out[i] = domain.RefundWrite{Refund: &rs[i], Create: true}
	}
	return out
}

// sendNewRefunds sends refunds just created, best effort: whatever does not
// go through stays due for the refund job.
func (s *Service) sendNewRefunds(ctx context.Context, ws []domain.RefundWrite) {
	for _, w := range ws {
		if !w.Create {
			continue
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
		_, _, err := s.send(sctx, w.Refund)
		cancel()
		if err != nil {
			s.log.Warn("refund not sent yet; the refund job retries", "refundId", w.Refund.ID, "code", domain.CodeOf(err), "err", err)
		}
	}
}

// SendRefund orders a pending refund from the provider and records the
// answer, or that there was none (answered false). A refund that is no
// longer pending is returned as it is.
func (s *Service) SendRefund(ctx context.Context, caseID, id string) (*domain.Refund, bool, error) {
	r, err := s.store.GetRefund(ctx, caseID, id)
	if err != nil {
		return nil, false, err
	}
	return s.send(ctx, r)
}

// send is SendRefund of a refund as just read or written (its record is
// written under that version, read again only if someone else wrote).
func (s *Service) send(ctx context.Context, r *domain.Refund) (*domain.Refund, bool, error) {
	// Never the side effect of the request that runs it (a withdrawal,
	// a callback, an admin's retry): that one committed already, or is
	// held to be written with the response, and must be written before
	// the provider hears of the refund it owes.
	if err := idem.WriteHeld(ctx); err != nil {
		return nil, false, err
	}
	ctx = idem.WithoutMark(ctx)
	if r.Status != domain.RefundPending {
		return r, false, nil
	}
	if s.refunds == nil {
		return nil, false, domain.Wrap(domain.KindUnavailable, "provider_unavailable", errNoProvider)
	}
	round := r.Round
	ans, callErr := s.refunds.Refund(ctx, RefundRequest{Key: r.Key(), OrderID: r.OrderID, TransactionID: r.TransactionID,
		AmountFen: r.AmountFen, Reason: string(r.Reason)})
	if callErr != nil && ctx.Err() != nil {
		// Our own deadline, not the provider's silence: no attempt counted.
		return nil, false, domain.Wrap(domain.KindUnavailable, "provider_unavailable", callErr)
	}
	out, err := s.writeRefund(ctx, r.CaseID, r.ID, r, func(cur *domain.Refund, ch *domain.Change, now time.Time) bool {
		if callErr != nil {
			return cur.Unanswered(round, callErr.Error(), s.rules, now)
		}
		return s.applyAnswer(cur, round, ans, ch, now)
	})
	if err != nil {
		return nil, false, err
	}
	if callErr != nil {
		s.log.Warn("refund call unanswered", "refundId", r.ID, "attempts", out.Attempts, "err", callErr)
	}
	return out, callErr == nil, nil
}

// applyAnswer records a provider's answer on cur, with its ledger entry and
// the applicant's notification in ch.
func (s *Service) applyAnswer(cur *domain.Refund, round int, a domain.ProviderAnswer, ch *domain.Change, now time.Time) bool {
	o, changed := cur.Apply(round, a, s.rules, now)
	if o.Entry != nil {
		ch.Ledger = append(ch.Ledger, *o.Entry)
	}
	if o.Notice != nil {
		n := *o.Notice
		n.ID, n.EnterpriseID, n.CreatedAt = domain.NewIDAt(now), cur.EnterpriseID, now
		ch.Notifications = append(ch.Notifications, n)
	}
	return changed
}

// writeRefund is the write path of a refund: read it, apply, write under
// its version with the rest of ch, again on someone else's write. apply
// returns false when there is nothing to write. known, when set, is the
// refund as the caller just read or wrote it: the first cycle starts from
// it instead of reading.
func (s *Service) writeRefund(ctx context.Context, caseID, id string, known *domain.Refund,
	apply func(cur *domain.Refund, ch *domain.Change, now time.Time) bool) (*domain.Refund, error) {
	var out *domain.Refund
	err := optimistic.Retry(ctx, func(ctx context.Context) error {
		prev := known
		known = nil
		if prev == nil {
			var err error
			if prev, err = s.store.GetRefund(ctx, caseID, id); err != nil {
				return err
			}
		}
		next := *prev
		var ch domain.Change
		now := s.clock.Now()
		if !apply(&next, &ch, now) {
			out = prev
			return nil
		}
		ch.Refunds = append(ch.Refunds, domain.UpdateRefund(prev, &next))
		if err := s.store.Commit(ctx, &ch); err != nil {
			return err
		}
		out = &next
		return nil
	})
	return out, err
}

// RefundResult is the provider's signed refund callback.
type RefundResult struct {
	// RefundKey is the key we sent (the refund's id and round).
	RefundKey        string
	ProviderRefundID string
	Status           string // succeeded or failed
	AmountFen        int64
	At               *time.Time
	Detail           string
}

// VerifyRefundCallback checks the provider's signature (the payment
// provider's key, as for payments).
func (s *Service) VerifyRefundCallback(header string, body []byte) error {
	return s.VerifyPaymentCallback(header, body)
}

// RecordRefundResult applies the provider's callback. A callback of an
// earlier round, or a repeat, changes nothing and is answered with the
// refund as it is.
func (s *Service) RecordRefundResult(ctx context.Context, r RefundResult) (*domain.Refund, error) {
	var status domain.RefundStatus
	switch r.Status {
	case "succeeded":
		status = domain.RefundSucceeded
	case "failed":
		status = domain.RefundFailed
	default:
		return nil, invalidField("status", "invalid_status", "status 必须是 succeeded 或 failed。", "status must be succeeded or failed.")
	}
	if r.AmountFen < 0 || !validProviderID(r.ProviderRefundID, true) {
		return nil, invalidField("amountFen", "invalid_amount", "金额或退款单号无效。", "The amount or the provider's refund id is not valid.")
	}
	id, round, ok := domain.ParseRefundKey(r.RefundKey)
	if !ok {
		return nil, domain.ErrNotFound
	}
	caseID, err := s.store.ResolveRef(ctx, domain.RefRefund, id)
	if err != nil {
		return nil, err
	}
	ans := domain.ProviderAnswer{Status: status, ProviderRefundID: r.ProviderRefundID, AmountFen: r.AmountFen, Detail: r.Detail}
	if r.At != nil {
		ans.At = r.At.UTC()
	}
	return s.writeRefund(ctx, caseID, id, nil, func(cur *domain.Refund, ch *domain.Change, now time.Time) bool {
		return s.applyAnswer(cur, round, ans, ch, now)
	})
}

// RetryRefund puts a failed refund back to pending (admins only, audited
// in the same transaction) and sends it at once.
func (s *Service) RetryRefund(ctx context.Context, by domain.Actor, id string) (*domain.Refund, error) {
	if !by.Has(domain.RoleAdmin) {
		return nil, domain.ErrForbidden
	}
	if !domain.ValidID(id) {
		return nil, domain.ErrNotFound
	}
	caseID, err := s.store.ResolveRef(ctx, domain.RefRefund, id)
	if err != nil {
		return nil, err
	}
	var retryErr error
	r, err := s.writeRefund(ctx, caseID, id, nil, func(cur *domain.Refund, ch *domain.Change, now time.Time) bool {
		if retryErr = cur.Retry(now); retryErr != nil {
			return false
		}
		ch.Audits = append(ch.Audits, domain.AuditEntry{ID: domain.NewIDAt(now), At: now, ActorID: by.UserID,
			Role: by.MainRole(), Action: "refund_retry", CaseID: caseID, Target: id})
		return true
	})
	if err != nil {
		return nil, err
	}
	if retryErr != nil {
		return nil, retryErr
	}
	sent, _, err := s.send(ctx, r)
	if err != nil {
		s.log.Warn("retried refund not sent yet; the refund job retries", "refundId", id, "code", domain.CodeOf(err))
		return r, nil
	}
	return sent, nil
}
