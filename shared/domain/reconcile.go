package domain

import (
	"sort"
	"time"
)

// Reconciliation compares, for one Beijing day, what moved according to us
// (the ledger, the payouts) with what moved according to the provider's or
// the bank's statement, line by line. Each difference is a Discrepancy that
// an admin reads and resolves.

// ReconSource names a statement.
type ReconSource string

const (
	// SourcePayments: the payment provider's trade bill (payments, refunds).
	SourcePayments ReconSource = "payments"
	// SourceBank: the bank's statement of micro-deposit payouts.
	SourceBank ReconSource = "bank"
)

// Valid reports whether s is a known source.
func (s ReconSource) Valid() bool { return s == SourcePayments || s == SourceBank }

// DiscrepancyKind says how the two sides differ.
type DiscrepancyKind string

const (
	// MissingOnOurs: the statement shows money we have no record of.
	MissingOnOurs DiscrepancyKind = "missing_on_ours"
	// MissingOnTheirs: we recorded money the statement does not show.
	MissingOnTheirs DiscrepancyKind = "missing_on_theirs"
	// AmountMismatch: both sides have the line with different amounts.
	AmountMismatch DiscrepancyKind = "amount_mismatch"
	// StatusMismatch: both sides have the line; one says it succeeded,
	// the other that it did not.
	StatusMismatch DiscrepancyKind = "status_mismatch"
)

// DiscrepancyKinds lists every kind in a stable order.
var DiscrepancyKinds = []DiscrepancyKind{MissingOnOurs, MissingOnTheirs, AmountMismatch, StatusMismatch}

// Valid reports whether k is a known kind.
func (k DiscrepancyKind) Valid() bool {
	for _, x := range DiscrepancyKinds {
		if x == k {
			return true
		}
	}
	return false
}

// Line kinds of both sides.
const (
	LinePayment = "payment"
	LineRefund  = "refund"
	LinePayout  = "payout"
)

// Line statuses of both sides.
const (
	LineSucceeded = "succeeded"
	LineFailed    = "failed"
	LineOther     = "other" // processing, revoked, ...: no money counted
)

// ReconLine is one movement as one side records it.
type ReconLine struct {
	Line string // LinePayment, LineRefund, LinePayout
	// Ref identifies the movement on both sides: the refund key (our
	// out_refund_no), the payout's transfer reference, or for a payment
	// the provider's transaction id (OrderID is matched when we have none).
	Ref       string
	OrderID   string
	CaseID    string
	AmountFen int64
	Status    string
	// FeeFen is the provider's service fee (statement side only).
	FeeFen int64
}

// moves reports whether the line moved money.
func (l ReconLine) moves() bool { return l.Status == LineSucceeded }

// signedFen is the line's effect on our balance (payments in, the rest out).
func (l ReconLine) signedFen() int64 {
	if !l.moves() {
		return 0
	}
	if l.Line == LinePayment {
		return l.AmountFen
	}
	return -l.AmountFen
}

// DiscrepancyStatus: open until an admin resolves it.
type DiscrepancyStatus string

const (
	DiscrepancyOpen     DiscrepancyStatus = "open"
	DiscrepancyResolved DiscrepancyStatus = "resolved"
)

// Discrepancy is one difference between our records and a statement.
type Discrepancy struct {
	ID       string
	Source   ReconSource
	Day      string // Beijing day of the statement, 2006-01-02
	Kind     DiscrepancyKind
	LineKind string
	Ref      string
	OrderID  string
	CaseID   string
	// Amounts and statuses of each side ("" / 0 where a side has none).
	OursFen      int64
	TheirsFen    int64
	OursStatus   string
	TheirsStatus string
	Status       DiscrepancyStatus
	DetectedAt   time.Time
	ResolvedAt   *time.Time
	ResolvedBy   string
	Note         string
	Version      int
}

// DiscrepancyWrite creates (once per id) or resolves a discrepancy.
type DiscrepancyWrite struct {
	Discrepancy   *Discrepancy
	Create        bool
	ExpectVersion int
}

// Resolve closes an open discrepancy with an admin's note.
func (d *Discrepancy) Resolve(by Actor, note string, at time.Time) error {
	if d.Status == DiscrepancyResolved {
		return E(KindConflict, "discrepancy_resolved", "该差异已处理。", "This discrepancy is already resolved.")
	}
	d.Status, d.ResolvedBy, d.Note = DiscrepancyResolved, by.UserID, note
	t := at
	d.ResolvedAt = &t
	return nil
}

// UpdateDiscrepancy makes next the successor of prev.
func UpdateDiscrepancy(prev, next *Discrepancy) DiscrepancyWrite {
	next.Version = NextVersion(prev.Version)
	return DiscrepancyWrite{Discrepancy: next, ExpectVersion: prev.Version}
}

// ReconResult is the comparison of one day of one source.
type ReconResult struct {
	Discrepancies []Discrepancy
	// Net money of the day by each side (payments minus refunds; payouts
	// out), and the provider's fees.
	OursNetFen   int64
	TheirsNetFen int64
	TheirsFeeFen int64
	OursLines    int
	TheirsLines  int
}

// Reconcile matches the lines of one day line by line. A line that moved
// no money on either side (a failed payment, a declined refund) is only
// compared when the other side has it.
func Reconcile(source ReconSource, day string, ours, theirs []ReconLine, now time.Time) ReconResult {
	res := ReconResult{OursLines: len(ours), TheirsLines: len(theirs)}
	for _, l := range ours {
		res.OursNetFen += l.signedFen()
	}
	for _, l := range theirs {
		res.TheirsNetFen += l.signedFen()
		res.TheirsFeeFen += l.FeeFen
	}
	start, _ := DayStart(day)
	add := func(kind DiscrepancyKind, o, t *ReconLine) {
		d := Discrepancy{Source: source, Day: day, Kind: kind, Status: DiscrepancyOpen, DetectedAt: now}
		for _, l := range []*ReconLine{t, o} {
			if l != nil {
				d.LineKind, d.Ref, d.OrderID = l.Line, l.Ref, l.OrderID
				if l.CaseID != "" {
					d.CaseID = l.CaseID
				}
			}
		}
		if o != nil {
			d.OursFen, d.OursStatus = o.AmountFen, o.Status
		}
		if t != nil {
			d.TheirsFen, d.TheirsStatus = t.AmountFen, t.Status
		}
		d.ID = DerivedID(start, "discrepancy", string(source), day, string(kind), d.LineKind, d.Ref, d.OrderID)
		res.Discrepancies = append(res.Discrepancies, d)
	}
	key := func(l ReconLine) string { return l.Line + "\x00" + l.Ref }
	theirsBy := map[string]int{}
	for i, l := range theirs {
		theirsBy[key(l)] = i
	}
	matched := make([]bool, len(theirs))
	var unmatched []int
	for i, o := range ours {
		j, ok := -1, false
		if o.Ref != "" {
			j, ok = theirsBy[key(o)]
		}
		if !ok && o.Line == LinePayment && o.Ref == "" {
			// No transaction id on our side: the order id decides.
			for k, t := range theirs {
				if !matched[k] && t.Line == LinePayment && t.OrderID == o.OrderID {
					j, ok = k, true
					break
				}
			}
		}
		if !ok || matched[j] {
			unmatched = append(unmatched, i)
			continue
		}
		matched[j] = true
		t := theirs[j]
		switch {
		case o.moves() != t.moves():
			add(StatusMismatch, &ours[i], &theirs[j])
		case o.moves() && o.AmountFen != t.AmountFen:
			add(AmountMismatch, &ours[i], &theirs[j])
		}
	}
	for _, i := range unmatched {
		if ours[i].moves() {
			add(MissingOnTheirs, &ours[i], nil)
		}
	}
	for j := range theirs {
		if !matched[j] && theirs[j].moves() {
			add(MissingOnOurs, nil, &theirs[j])
		}
	}
	sort.SliceStable(res.Discrepancies, func(a, b int) bool {
		x, y := res.Discrepancies[a], res.Discrepancies[b]
		if x.Kind != y.Kind {
			return x.Kind < y.Kind
		}
		return x.Ref < y.Ref
	})
	return res
}

// LedgerLine is how the payment provider's statement shows a ledger entry
// (entries that the statement never lists give false).
func LedgerLine(e LedgerEntry) (ReconLine, bool) {
	l := ReconLine{OrderID: e.OrderID, CaseID: e.CaseID, AmountFen: e.AmountFen, Status: LineSucceeded}
	switch e.Kind {
	case LedgerPayment:
		l.Line, l.Ref = LinePayment, e.TransactionID
	case LedgerRefund:
		l.Line, l.Ref = LineRefund, e.RefundKey
	case LedgerRefundFailed:
		l.Line, l.Ref, l.Status = LineRefund, e.RefundKey, LineFailed
	default:
		return ReconLine{}, false
	}
	return l, true
}

// PayoutLine is how the bank's statement shows a payout.
func PayoutLine(p Payout) ReconLine {
	return ReconLine{Line: LinePayout, Ref: p.ID, CaseID: p.CaseID, AmountFen: p.AmountFen, Status: LineSucceeded}
}

// DiscrepancyFilter narrows the admins' list; zero fields match all.
type DiscrepancyFilter struct {
	Status DiscrepancyStatus
	Kind   DiscrepancyKind
	Source ReconSource
	// FromDay and ToDay bound the statement day (both inclusive).
	FromDay, ToDay string
}
