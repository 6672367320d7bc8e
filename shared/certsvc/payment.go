package certsvc

import (
	"context"

	"microcert/shared/domain"
	"microcert/shared/webhook"
)

// CreatePayment opens the fee order. Asking again while an order is open
// returns the same order, so a retrying app never gets two.
func (s *Service) CreatePayment(ctx context.Context, by domain.Actor, caseID string) (*domain.Payment, *domain.Fee, error) {
	b, _, err := s.ownedBundle(ctx, by, caseID)
	if err != nil {
		return nil, nil, err
	}
	c := b.Case
	if err := editable(c); err != nil {
		return nil, nil, err
	}
	if c.Fee.PayableFen <= 0 {
		return nil, nil, domain.E(domain.KindConflict, "no_fee_due", "本案件无需缴费。", "This case has no fee to pay.")
	}
	if p := c.Payment; p != nil {
		switch p.Status {
		case domain.PaymentPaid:
			return nil, nil, domain.E(domain.KindConflict, "already_paid", "费用已支付。", "The fee is already paid.")
		case domain.PaymentPending:
			return p, &c.Fee, nil
		}
	}
	now := s.clock.Now()
	p := &domain.Payment{OrderID: domain.NewID(), Status: domain.PaymentPending, AmountFen: c.Fee.PayableFen, CreatedAt: now}
	next := *c
	next.Payment = p
	ch := &domain.Change{
		// Orders stay resolvable long after creation: payments settle late.
		Refs: []domain.Ref{{Kind: domain.RefOrder, ID: p.OrderID, CaseID: c.ID, ExpiresAt: now.AddDate(1, 0, 0)}},
	}
	if err := s.saveCase(ctx, c, &next, now, ch); err != nil {
		return nil, nil, err
	}
	return p, &c.Fee, nil
}

// PaymentResult is the payment provider's callback.
type PaymentResult struct {
	OrderID string
	Status  string // paid or failed
	PaidFen int64
}

// VerifyPaymentCallback checks the provider's signature over the raw body.
func (s *Service) VerifyPaymentCallback(header string, body []byte) error {
	return webhook.Verify(header, body, s.clock.Now(), s.secrets.PaymentWebhook, s.secrets.PaymentWebhookPrevious)
}

// RecordPayment applies a verified callback, idempotently on the order id.
// A paid amount that differs from the order is refused and changes nothing.
func (s *Service) RecordPayment(ctx context.Context, r PaymentResult) (*domain.Payment, error) {
	if r.Status != "paid" && r.Status != "failed" {
		return nil, invalidField("status", "invalid_status", "status 必须是 paid 或 failed。", "status must be paid or failed.")
	}
	if !domain.ValidID(r.OrderID) {
		return nil, domain.ErrNotFound
	}
	caseID, err := s.store.ResolveRef(ctx, domain.RefOrder, r.OrderID)
	if err != nil {
		return nil, err
	}
	return retryOnConflict(ctx, func() (*domain.Payment, error) {
		c, err := s.store.GetCase(ctx, caseID)
		if err != nil {
			return nil, err
		}
		if c.Payment == nil || c.Payment.OrderID != r.OrderID {
			return nil, domain.ErrNotFound
		}
		p := *c.Payment
		if p.Status == domain.PaymentPaid {
			return &p, nil // replay of a settled order
		}
		if r.Status == "paid" && r.PaidFen != p.AmountFen {
			s.log.Warn("payment amount mismatch", "orderId", r.OrderID, "code", "amount_mismatch")
			return nil, domain.E(domain.KindInvalid, "amount_mismatch", "支付金额与订单金额不符。", "The paid amount does not match the order.")
		}
		now := s.clock.Now()
		if r.Status == "paid" {
			p.Status, p.PaidFen, p.PaidAt = domain.PaymentPaid, r.PaidFen, &now
		} else {
			p.Status = domain.PaymentFailed
		}
		next := *c
		next.Payment = &p
		if err := s.saveCase(ctx, c, &next, now, nil); err != nil {
			return nil, err
		}
		return &p, nil
	})
}

// SetExplanation records the applicant's explanation (appeals: what was
// rectified).
func (s *Service) SetExplanation(ctx context.Context, by domain.Actor, caseID, text string) (*CaseView, error) {
	if f := textField("text", text, 1, s.rules.ExplanationMaxChars); f != nil {
		return nil, fieldsError(f)
	}
	b, e, err := s.ownedBundle(ctx, by, caseID)
	if err != nil {
		return nil, err
	}
	c := b.Case
	if err := editable(c); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	next := *c
	next.Explanation = text
	if err := s.saveCase(ctx, c, &next, now, nil); err != nil {
		return nil, err
	}
	return s.view(&next, e, b.Documents, b.History), nil
}
