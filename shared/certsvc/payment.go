package certsvc

import (
	"context"

	"microcert/shared/domain"
	"microcert/shared/webhook"
)

// CreatePayment opens the fee order. Asking again while an order is open
// returns the same order, so a retrying app never gets two.
func (s *Service) CreatePayment(ctx context.Context, by domain.Actor, caseID string) (*domain.Payment, *domain.Fee, error) {
	var (
		order *domain.Payment
		fee   domain.Fee
	)
	_, err := s.writeCase(ctx, by, caseID, asMember(domain.PermPrepare), nil, func(cy *caseCycle) error {
		c := cy.Prev
		if err := editable(c); err != nil {
			return err
		}
		if c.Fee.PayableFen <= 0 {
			return domain.E(domain.KindConflict, "no_fee_due", "本案件无需缴费。", "This case has no fee to pay.")
		}
		fee = c.Fee
		if p := c.Payment; p != nil {
			switch p.Status {
			case domain.PaymentPaid:
				return domain.E(domain.KindConflict, "already_paid", "费用已支付。", "The fee is already paid.")
			case domain.PaymentPending:
				order = p
				cy.Skip()
				return nil
			}
		}
		order = &domain.Payment{OrderID: domain.NewID(), Status: domain.PaymentPending, AmountFen: c.Fee.PayableFen, CreatedAt: cy.Now}
		cy.Next.Payment = order
		// Orders stay resolvable long after creation: payments settle late.
		cy.Change.Refs = append(cy.Change.Refs, domain.Ref{Kind: domain.RefOrder, ID: order.OrderID, CaseID: c.ID, ExpiresAt: cy.Now.AddDate(1, 0, 0)})
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return order, &fee, nil
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
	var paid *domain.Payment
	_, err = s.writeCaseAlone(ctx, caseID, func(cy *caseCycle) error {
		c := cy.Prev
		if c.Payment == nil || c.Payment.OrderID != r.OrderID {
			return domain.ErrNotFound
		}
		p := *c.Payment
		paid = &p
		if p.Status == domain.PaymentPaid {
			cy.Skip() // replay of a settled order
			return nil
		}
		if r.Status == "paid" && r.PaidFen != p.AmountFen {
			s.log.Warn("payment amount mismatch", "orderId", r.OrderID, "code", "amount_mismatch")
			return domain.E(domain.KindInvalid, "amount_mismatch", "支付金额与订单金额不符。", "The paid amount does not match the order.")
		}
		if r.Status == "paid" {
			now := cy.Now
			p.Status, p.PaidFen, p.PaidAt = domain.PaymentPaid, r.PaidFen, &now
		} else {
			p.Status = domain.PaymentFailed
		}
		cy.Next.Payment = &p
		return nil
	})
	if err != nil {
		return nil, err
	}
	return paid, nil
}

// SetExplanation records the applicant's explanation (appeals: what was
// rectified).
func (s *Service) SetExplanation(ctx context.Context, by domain.Actor, caseID, text string) (*CaseView, error) {
	if f := textField("text", text, 1, s.rules.ExplanationMaxChars); f != nil {
		return nil, fieldsError(f)
	}
	cy, err := s.writeCase(ctx, by, caseID, asMember(domain.PermPrepare), nil, func(cy *caseCycle) error {
		if err := editable(cy.Prev); err != nil {
			return err
		}
		now := cy.Now
		cy.Next.Explanation = text
		cy.Next.ExplanationAt = &now
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.cycleView(cy), nil
}
