package certsvc

import (
	"context"
	"time"

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
	// TransactionID is the provider's payment id (optional: without it an
	// order is paid at most once); PaidAt the provider's time of payment
	// (optional: then the time we learn of it).
	TransactionID string
	PaidAt        *time.Time
}

// PaymentRecord is what the callback recorded.
type PaymentRecord struct {
	OrderID string
	Status  string // the report as recorded: paid or failed
	// Refunds are the refunds the payment made owed.
	Refunds []domain.Refund
}

// VerifyPaymentCallback checks the provider's signature over the raw body.
func (s *Service) VerifyPaymentCallback(header string, body []byte) error {
	return webhook.Verify(header, body, s.clock.Now(), s.secrets.PaymentWebhook, s.secrets.PaymentWebhookPrevious)
}

// maxTransactionIDLen bounds the provider's ids (WeChat Pay's are 32).
const maxTransactionIDLen = 64

// RecordPayment records a verified callback for any order of any case, in
// any state of the case: money the provider took is never refused. The
// ledger entry is keyed by the provider's payment, so a replayed callback
// records nothing new and is answered as the first was. What the fee does
// not keep (an overpayment, a payment of a closed case, of a paid fee, of a
// replaced order, a short payment) is owed back: the refunds are written
// with the entry and sent to the provider at once.
func (s *Service) RecordPayment(ctx context.Context, r PaymentResult) (*PaymentRecord, error) {
	if r.Status != "paid" && r.Status != "failed" {
		return nil, invalidField("status", "invalid_status", "status 必须是 paid 或 failed。", "status must be paid or failed.")
	}
	if r.PaidFen < 0 || (r.Status == "paid" && r.PaidFen == 0) {
		return nil, invalidField("paidFen", "invalid_amount", "paidFen 必须为正整数（分）。", "paidFen must be a positive number of fen.")
	}
	if !validProviderID(r.TransactionID, true) {
		return nil, invalidField("transactionId", "invalid_format", "transactionId 格式无效。", "transactionId is not a valid id.")
	}
	if !domain.ValidID(r.OrderID) {
		return nil, domain.ErrNotFound
	}
	caseID, err := s.store.ResolveRef(ctx, domain.RefOrder, r.OrderID)
	if err != nil {
		return nil, err
	}
	receipt := domain.PaymentReceipt{OrderID: r.OrderID, TransactionID: r.TransactionID, Paid: r.Status == "paid"}
	if receipt.Paid {
		receipt.AmountFen = r.PaidFen
	}
	if r.PaidAt != nil {
		receipt.At = r.PaidAt.UTC()
	}
	out := &PaymentRecord{OrderID: r.OrderID, Status: r.Status}
	var settled domain.Settlement
	_, err = s.writeCaseAlone(ctx, caseID, func(cy *caseCycle) error {
		settled = cy.Next.ReceivePayment(receipt, cy.Now)
		cy.Change.Ledger = append(cy.Change.Ledger, settled.Entry)
		for i := range settled.Refunds {
			cy.Change.Refunds = append(cy.Change.Refunds, domain.RefundWrite{Refund: &settled.Refunds[i], Create: true})
		}
		if settled.Subsidy != nil {
			cy.Change.Subsidies = append(cy.Change.Subsidies, *settled.Subsidy)
		}
		return nil
	})
	switch {
	case domain.CodeOf(err) == "duplicate":
		// A replay: the entry (and whatever it made owed) is recorded.
		return out, nil
	case err != nil:
		return nil, err
	}
	for _, rf := range settled.Refunds {
		s.log.Warn("payment owed back", "caseId", caseID, "orderId", r.OrderID, "refundId", rf.ID,
			"reason", string(rf.Reason), "amountFen", rf.AmountFen)
	}
	out.Refunds = settled.Refunds
	s.sendNewRefunds(ctx, refundCreates(settled.Refunds))
	return out, nil
}

// validProviderID accepts a provider's id: letters, digits, '_' and '-',
// at most maxTransactionIDLen ("" when optional).
func validProviderID(id string, optional bool) bool {
	if id == "" {
		return optional
	}
	if len(id) > maxTransactionIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
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
