package domain

import (
	"crypto/sha256"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Money of a case. Every fen that moves is an immutable LedgerEntry (a
// payment the provider took, a refund it paid back, a micro-deposit payout
// is a Payout). The case item keeps the two facts the rules need without
// reading the ledger: what was received (CaseMoney.ReceivedFen) and what of
// it pays the fee (KeptFen). Everything else received is owed back as a
// Refund, created in the same transaction as the entry that made it owed,
// with an id derived from its cause, so that two triggers of the same
// refund write one item. Hence, per case, always:
//
//	ReceivedFen = KeptFen + the sum of the case's refunds (any status)

// CaseMoney is the fee account of a case.
type CaseMoney struct {
	// ReceivedFen is every payment received for any order of the case.
	ReceivedFen int64
	// KeptFen is the part of ReceivedFen that pays the fee (at most the
	// fee's payable amount); the rest is owed back.
	KeptFen int64
}

// LedgerKind says what a ledger entry records.
type LedgerKind string

const (
	// LedgerPayment: the provider took AmountFen from the payer.
	LedgerPayment LedgerKind = "payment"
	// LedgerPaymentFailed: the provider reported a failed payment (no money).
	LedgerPaymentFailed LedgerKind = "payment_failed"
	// LedgerRefund: the provider paid AmountFen back.
	LedgerRefund LedgerKind = "refund"
	// LedgerRefundFailed: the provider declined a refund (no money).
	LedgerRefundFailed LedgerKind = "refund_failed"
)

// LedgerEntry is one immutable record of money (or of a provider's report
// that no money moved). Its ID is derived from what it records, so the
// same provider event recorded twice is the same entry (written once).
type LedgerEntry struct {
	ID           string
	CaseID       string
	EnterpriseID string
	Kind         LedgerKind
	OrderID      string
	// TransactionID is the provider's id of the payment (WeChat Pay's
	// transaction_id).
	TransactionID string
	// RefundKey is our refund request id (out_refund_no); ProviderRefundID
	// the provider's.
	RefundKey        string
	ProviderRefundID string
	AmountFen        int64
	// At is when the money moved by the provider's clock (the statement
	// day); RecordedAt when we learned of it.
	At         time.Time
	RecordedAt time.Time
}

// Moves reports whether the entry moved money (it counts in the balance and
// on the provider's statement).
func (e LedgerEntry) Moves() bool { return e.Kind == LedgerPayment || e.Kind == LedgerRefund }

// SignedFen is the entry's effect on the merchant's balance: payments in,
// refunds out.
func (e LedgerEntry) SignedFen() int64 {
	switch e.Kind {
	case LedgerPayment:
		return e.AmountFen
	case LedgerRefund:
		return -e.AmountFen
	}
	return 0
}

// RefundReason says why money is owed back.
type RefundReason string

const (
	// RefundWithdrawn: a paid case withdrawn before any reviewer claimed it.
	RefundWithdrawn RefundReason = "withdrawn"
	// RefundOverpaid: the part paid above the order's amount.
	RefundOverpaid RefundReason = "overpaid"
	// RefundUnderpaid: a payment below the order's amount settles nothing.
	RefundUnderpaid RefundReason = "underpaid"
	// RefundCaseClosed: a payment that arrived after the case closed.
	RefundCaseClosed RefundReason = "case_closed"
	// RefundDuplicate: a second payment for a fee already paid.
	RefundDuplicate RefundReason = "duplicate_payment"
	// RefundReplacedOrder: a payment of an order that a newer one replaced.
	RefundReplacedOrder RefundReason = "replaced_order"
)

// RefundReasons lists every reason (for validation of list filters).
var RefundReasons = []RefundReason{RefundWithdrawn, RefundOverpaid, RefundUnderpaid, RefundCaseClosed, RefundDuplicate, RefundReplacedOrder}

// RefundStatus is the lifecycle of a refund: pending -> succeeded, or
// pending -> failed (an admin may retry a failed one: back to pending).
type RefundStatus string

const (
	RefundPending   RefundStatus = "pending"
	RefundSucceeded RefundStatus = "succeeded"
	RefundFailed    RefundStatus = "failed"
)

// Valid reports whether s is a known status.
func (s RefundStatus) Valid() bool {
	return s == RefundPending || s == RefundSucceeded || s == RefundFailed
}

// Refund failure codes.
const (
	// RefundDeclined: the provider answered that the refund failed; a new
	// request (a new round, a new idempotency key) is needed.
	RefundDeclined = "declined"
	// RefundUnreachable: every attempt failed to get an answer; the
	// provider may still hold the request, so a retry keeps the key.
	RefundUnreachable = "unreachable"
)

// Refund is money owed back to the payer, and the order to the provider
// that pays it. It is versioned (its lifecycle is written under optimistic
// locking) and lives beside its case.
type Refund struct {
	ID           string
	CaseID       string
	EnterpriseID string
	// The payment refunded.
	OrderID       string
	TransactionID string
	AmountFen     int64
	Reason        RefundReason
	Status        RefundStatus
	// Round counts requests with a new idempotency key: 1, then one more
	// for each admin retry after the provider declined.
	Round int
	// Attempts are the provider calls of this round that got no answer.
	Attempts int
	// NextAttemptAt is when the refund job must look at it (send, send
	// again, or ask again); nil once it is settled or failed.
	NextAttemptAt *time.Time
	// SubmittedAt: the provider accepted this round's request.
	SubmittedAt      *time.Time
	ProviderRefundID string
	FailureCode      string // RefundDeclined or RefundUnreachable
	FailureDetail    string
	CreatedAt        time.Time
	UpdatedAt        time.Time
	CompletedAt      *time.Time
	Version          int
}

// Key is the idempotency key of the refund's current round, sent to the
// provider as the refund request id (WeChat Pay's out_refund_no): the same
// key never pays twice.
func (r *Refund) Key() string { return RefundKey(r.ID, r.Round) }

// RefundKey joins a refund id and a round.
func RefundKey(id string, round int) string { return id + "-" + strconv.Itoa(round) }

// ParseRefundKey splits a key made by RefundKey.
func ParseRefundKey(key string) (id string, round int, ok bool) {
	id, r, found := strings.Cut(key, "-")
	if !found || !ValidID(id) {
		return "", 0, false
	}
	n, err := strconv.Atoi(r)
	if err != nil || n < 1 || strconv.Itoa(n) != r {
		return "", 0, false
	}
	return id, n, true
}

// Settled reports whether the refund needs no more work.
func (r *Refund) Settled() bool { return r.Status == RefundSucceeded }

// RefundWrite creates or updates a refund.
type RefundWrite struct {
	Refund        *Refund
	Create        bool
	ExpectVersion int
}

// UpdateRefund makes next the successor of prev and returns its
// conditional write.
func UpdateRefund(prev, next *Refund) RefundWrite {
	next.Version = NextVersion(prev.Version)
	return RefundWrite{Refund: next, ExpectVersion: prev.Version}
}

// DerivedID is an id whose time part is at and whose other 80 bits are a
// hash of parts: the same parts always give the same id. Records that must
// exist at most once per cause (a refund per payment and reason, a
// discrepancy per statement line) use it as their key.
func DerivedID(at time.Time, parts ...string) string {
	b := idTime(at)
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	copy(b[6:], sum[:10])
	return encodeID(b)
}

// PaymentReceipt is what the payment provider reported for an order.
type PaymentReceipt struct {
	OrderID string
	// TransactionID is the provider's payment id; "" when the provider
	// sends none (then an order is paid at most once).
	TransactionID string
	Paid          bool // else the payment failed
	AmountFen     int64
	// At is the provider's time of the payment (zero: when we learned).
	At time.Time
}

// causeTime is the time part of ids derived from a cause: fixed, because a
// repeat of the cause (a callback without the provider's time, a trigger
// at another moment) must give the same id.
var causeTime = time.Unix(0, 0)

// entryID is the ledger id of the receipt: one per provider payment.
func (p PaymentReceipt) entryID(caseID string) string {
	kind := "paid"
	if !p.Paid {
		kind = "failed"
	}
	return DerivedID(causeTime, "payment", caseID, p.OrderID, p.TransactionID, kind)
}

// Settlement is what recording a receipt writes beside the case: its
// ledger entry, the refunds it makes owed, and the subsidy claim of a fee
// it paid.
type Settlement struct {
	Entry   LedgerEntry
	Refunds []Refund
	Subsidy *SubsidyEntry
}

// ReceivePayment records a provider's report on order p.OrderID of c (an
// order of c: the current one or one it replaced), in any state of the
// case, and says what the money does: it pays the fee (the current order
// of an open case, the exact amount), or it is owed back in part (overpaid)
// or in full (underpaid, a closed case, a fee already paid, a replaced
// order). A failed payment moves no money: it is recorded, and the
// current order, if still pending, fails (the app asks for a new one). c is
// changed in place (Payment, Money).
func (c *Case) ReceivePayment(p PaymentReceipt, now time.Time) Settlement {
	if p.At.IsZero() {
		p.At = now
	}
	entry := LedgerEntry{ID: p.entryID(c.ID), CaseID: c.ID, EnterpriseID: c.EnterpriseID, OrderID: p.OrderID,
		TransactionID: p.TransactionID, At: p.At, RecordedAt: now}
	current := c.Payment != nil && c.Payment.OrderID == p.OrderID
	if !p.Paid {
		entry.Kind = LedgerPaymentFailed
		if current && c.Payment.Status == PaymentPending {
			pay := *c.Payment
			pay.Status = PaymentFailed
			c.Payment = &pay
		}
		return Settlement{Entry: entry}
	}
	entry.Kind, entry.AmountFen = LedgerPayment, p.AmountFen
	s := Settlement{Entry: entry}
	c.Money.ReceivedFen += p.AmountFen
	owe := func(fen int64, why RefundReason) {
		if fen > 0 {
			s.Refunds = append(s.Refunds, newRefund(c, p, entry.ID, fen, why, now))
		}
	}
	switch {
	case !current:
		owe(p.AmountFen, RefundReplacedOrder)
	case c.Payment.Status == PaymentPaid:
		owe(p.AmountFen, RefundDuplicate)
	default:
		pay := *c.Payment
		paidAt := p.At
		pay.Status, pay.PaidFen, pay.PaidAt, pay.TransactionID = PaymentPaid, p.AmountFen, &paidAt, p.TransactionID
		switch {
		case c.Status.Final():
			owe(p.AmountFen, RefundCaseClosed)
		case p.AmountFen < pay.AmountFen:
			// Not the fee: the order is spent, the app asks for a new one.
			pay.Status = PaymentFailed
			owe(p.AmountFen, RefundUnderpaid)
		default:
			c.Money.KeptFen += pay.AmountFen
			owe(p.AmountFen-pay.AmountFen, RefundOverpaid)
			if c.Fee.SubsidyFen > 0 {
				s.Subsidy = &SubsidyEntry{CaseID: c.ID, EnterpriseID: c.EnterpriseID, Program: c.Fee.Program,
					RegionCode: c.Fee.RegionCode, Kind: SubsidyClaim, SubsidyFen: c.Fee.SubsidyFen, At: p.At}
			}
		}
		c.Payment = &pay
	}
	return s
}

// refundOnWithdrawal is the refund a withdrawal makes owed: the fee kept,
// when the review never started. It moves the kept money to the refund and
// reverses the subsidy claim of the fee.
func (c *Case) refundOnWithdrawal(untouched bool, now time.Time) (*Refund, *SubsidyEntry) {
	if !untouched || c.Money.KeptFen <= 0 || c.Payment == nil {
		return nil, nil
	}
	p := PaymentReceipt{OrderID: c.Payment.OrderID, TransactionID: c.Payment.TransactionID, Paid: true}
	if c.Payment.PaidAt != nil {
		p.At = *c.Payment.PaidAt
	}
	r := newRefund(c, p, p.entryID(c.ID), c.Money.KeptFen, RefundWithdrawn, now)
	c.Money.KeptFen = 0
	var rev *SubsidyEntry
	if c.Fee.SubsidyFen > 0 {
		rev = &SubsidyEntry{CaseID: c.ID, EnterpriseID: c.EnterpriseID, Program: c.Fee.Program,
			RegionCode: c.Fee.RegionCode, Kind: SubsidyReversal, SubsidyFen: -c.Fee.SubsidyFen, At: now}
	}
	return &r, rev
}

func newRefund(c *Case, p PaymentReceipt, paymentEntry string, fen int64, why RefundReason, now time.Time) Refund {
	due := now
	return Refund{
		ID: DerivedID(causeTime, "refund", c.ID, paymentEntry, string(why)), CaseID: c.ID, EnterpriseID: c.EnterpriseID,
		OrderID: p.OrderID, TransactionID: p.TransactionID, AmountFen: fen, Reason: why, Status: RefundPending,
		Round: 1, NextAttemptAt: &due, CreatedAt: now, UpdatedAt: now,
	}
}

// RefundRetryDelay is how long the refund job waits after the attempts-th
// unanswered call: base doubling, capped at max.
func RefundRetryDelay(attempts int, base, max time.Duration) time.Duration {
	d := base
	for i := 1; i < attempts && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// ProviderAnswer is the provider's answer to a refund request or its
// callback.
type ProviderAnswer struct {
	Status           RefundStatus // pending = accepted, still processing
	ProviderRefundID string
	AmountFen        int64
	At               time.Time // when the provider paid it back
	Detail           string    // why it failed
}

// RefundOutcome is what recording an answer writes beside the refund.
type RefundOutcome struct {
	Entry  *LedgerEntry
	Notice *Notification
}

// Apply records the provider's answer for round of r (a late answer of an
// earlier round changes nothing). Succeeded and failed are final for the
// round: the ledger entry and the applicant's notification come with them.
// It reports whether r changed.
func (r *Refund) Apply(round int, a ProviderAnswer, rules Rules, now time.Time) (RefundOutcome, bool) {
	if round != r.Round || r.Status != RefundPending {
		return RefundOutcome{}, false
	}
	r.UpdatedAt = now
	if a.ProviderRefundID != "" {
		r.ProviderRefundID = a.ProviderRefundID
	}
	switch a.Status {
	case RefundPending:
		if r.SubmittedAt == nil {
			t := now
			r.SubmittedAt = &t
		}
		next := now.Add(rules.RefundCheckAfter)
		r.NextAttemptAt, r.Attempts = &next, 0
		return RefundOutcome{}, true
	case RefundSucceeded:
		at := a.At
		if at.IsZero() {
			at = now
		}
		fen := a.AmountFen
		if fen <= 0 {
			fen = r.AmountFen
		}
		r.Status, r.CompletedAt, r.NextAttemptAt, r.FailureCode, r.FailureDetail = RefundSucceeded, &now, nil, "", ""
		e := LedgerEntry{ID: DerivedID(at, "refund", r.ID, strconv.Itoa(round)), CaseID: r.CaseID, EnterpriseID: r.EnterpriseID,
			Kind: LedgerRefund, OrderID: r.OrderID, TransactionID: r.TransactionID, RefundKey: RefundKey(r.ID, round),
			ProviderRefundID: r.ProviderRefundID, AmountFen: fen, At: at, RecordedAt: now}
		title, body := RefundNotice(r, fen, true)
		return RefundOutcome{Entry: &e, Notice: &Notification{Kind: NoticeRefund, CaseID: r.CaseID, Title: title, Body: body,
			Subject: NoticeSubject{CaseID: r.CaseID, RefundID: r.ID, RefundStatus: r.Status, AmountFen: fen}}}, true
	default:
		r.Status, r.NextAttemptAt, r.FailureCode, r.FailureDetail = RefundFailed, nil, RefundDeclined, a.Detail
		e := LedgerEntry{ID: DerivedID(now, "refund_failed", r.ID, strconv.Itoa(round)), CaseID: r.CaseID, EnterpriseID: r.EnterpriseID,
			Kind: LedgerRefundFailed, OrderID: r.OrderID, TransactionID: r.TransactionID, RefundKey: RefundKey(r.ID, round),
			ProviderRefundID: r.ProviderRefundID, At: now, RecordedAt: now}
		title, body := RefundNotice(r, r.AmountFen, false)
		return RefundOutcome{Entry: &e, Notice: &Notification{Kind: NoticeRefund, CaseID: r.CaseID, Title: title, Body: body,
			Subject: NoticeSubject{CaseID: r.CaseID, RefundID: r.ID, RefundStatus: r.Status, AmountFen: r.AmountFen}}}, true
	}
}

// Unanswered records a call of round that got no answer (the provider was
// down, timed out, answered 5xx): the job calls again after a growing
// pause, and after rules.RefundMaxAttempts the refund fails as unreachable
// (an admin retries it with the same key).
func (r *Refund) Unanswered(round int, detail string, rules Rules, now time.Time) bool {
	if round != r.Round || r.Status != RefundPending {
		return false
	}
	r.Attempts++
	r.UpdatedAt = now
	r.FailureDetail = detail
	if r.Attempts >= rules.RefundMaxAttempts {
		r.Status, r.NextAttemptAt, r.FailureCode = RefundFailed, nil, RefundUnreachable
		return true
	}
	next := now.Add(RefundRetryDelay(r.Attempts, rules.RefundRetryBase, rules.RefundRetryMax))
	r.NextAttemptAt = &next
	return true
}

// Retry puts a failed refund back to pending, due now. After the provider
// declined, the request gets a new key (a new round: the old key's answer
// is final); after it was unreachable, the same key (the provider may hold
// that request).
func (r *Refund) Retry(now time.Time) error {
	if r.Status != RefundFailed {
		return E(KindConflict, "refund_not_failed", "只能重试失败的退款。", "Only a failed refund can be retried.").
			With("status", string(r.Status))
	}
	if r.FailureCode == RefundDeclined {
		r.Round++
		r.SubmittedAt, r.ProviderRefundID = nil, ""
	}
	due := now
	r.Status, r.Attempts, r.NextAttemptAt, r.UpdatedAt = RefundPending, 0, &due, now
	r.FailureCode, r.FailureDetail = "", ""
	return nil
}

// NoticeRefund is the notification kind of refund results.
const NoticeRefund = "refund"

// RefundNotice is the applicant's notification of a refund's result.
func RefundNotice(r *Refund, fen int64, ok bool) (title, body Text) {
	amount := Yuan(fen)
	why := refundReasonText(r.Reason)
	if ok {
		return Text{Zh: "退款已到账", En: "Refund paid"},
			Text{Zh: fmt.Sprintf("%s元已原路退回（%s）。", amount, why.Zh),
				En: fmt.Sprintf("CNY %s was paid back to the account it came from (%s).", amount, why.En)}
	}
	return Text{Zh: "退款未成功", En: "Refund not completed"},
		Text{Zh: fmt.Sprintf("%s元的退款（%s）未能完成，平台将人工处理，无需您操作。", amount, why.Zh),
			En: fmt.Sprintf("The refund of CNY %s (%s) did not go through; our staff will handle it, nothing is needed from you.", amount, why.En)}
}

func refundReasonText(r RefundReason) Text {
	switch r {
	case RefundWithdrawn:
		return Text{Zh: "申请在审核开始前撤回", En: "the application was withdrawn before review"}
	case RefundOverpaid:
		return Text{Zh: "多付的金额", En: "the amount paid above the fee"}
	case RefundUnderpaid:
		return Text{Zh: "支付金额不足，订单未完成", En: "the payment was short of the fee"}
	case RefundCaseClosed:
		return Text{Zh: "申请已关闭后的付款", En: "a payment after the application closed"}
	case RefundDuplicate:
		return Text{Zh: "重复支付", En: "a second payment of the same fee"}
	case RefundReplacedOrder:
		return Text{Zh: "已被新订单取代的订单的付款", En: "a payment of a replaced order"}
	}
	return Text{Zh: string(r), En: string(r)}
}

// Yuan formats fen as yuan with two decimals ("150.00"), exactly.
func Yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s%d.%02d", sign, fen/100, fen%100)
}

// ParseYuan reads an amount in yuan with at most two decimals ("150",
// "150.5", "150.00") into fen, exactly (no floating point).
func ParseYuan(s string) (int64, error) {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(whole) > 12 || len(frac) > 2 || !digits(whole) || !digits(frac) {
		return 0, fmt.Errorf("amount %q is not yuan with at most two decimals", s)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	w, _ := strconv.ParseInt(whole, 10, 64)
	f, _ := strconv.ParseInt(frac, 10, 64)
	fen := w*100 + f
	if neg {
		fen = -fen
	}
	return fen, nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// SubsidyKind: a claim on the program when a subsidised fee is paid, a
// reversal when that fee is refunded (a withdrawal before review).
type SubsidyKind string

const (
	SubsidyClaim    SubsidyKind = "claim"
	SubsidyReversal SubsidyKind = "reversal"
)

// SubsidyEntry is one immutable line of the monthly subsidy report: the
// amount to claim from a regional program for a case (negative: reversed).
// It belongs to the Beijing month of At.
type SubsidyEntry struct {
	CaseID       string
	EnterpriseID string
	Program      string
	RegionCode   string
	Kind         SubsidyKind
	SubsidyFen   int64
	At           time.Time
}

// Month is the Beijing month ("2026-09") an instant falls in.
func Month(t time.Time) string { return t.In(Beijing()).Format("2006-01") }

// Day is the Beijing calendar day ("2026-09-24") an instant falls in: the
// day of the provider's statements.
func Day(t time.Time) string { return t.In(Beijing()).Format("2006-01-02") }

// DayStart is the instant the Beijing day ("2026-09-24") starts.
func DayStart(day string) (time.Time, error) {
	return time.ParseInLocation("2006-01-02", day, Beijing())
}

// RefundFilter narrows the admins' list of refunds; zero fields match all.
type RefundFilter struct {
	Status RefundStatus
	Reason RefundReason
	CaseID string
	// From and To bound CreatedAt (To exclusive).
	From, To *time.Time
}
