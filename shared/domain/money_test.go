package domain

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestReceivePayment(t *testing.T) {
	now := time.Date(2026, 9, 24, 2, 0, 0, 0, time.UTC)
	fee := Fee{AmountFen: 30000, SubsidyFen: 15000, PayableFen: 15000, Program: "shenzhen_sme_digital", RegionCode: "440305", Currency: "CNY"}
	pending := &Payment{OrderID: "o2", Status: PaymentPending, AmountFen: 15000}
	paid := &Payment{OrderID: "o2", Status: PaymentPaid, AmountFen: 15000, PaidFen: 15000, TransactionID: "t1"}
	type refund struct {
		Fen    int64
		Reason RefundReason
	}
	tests := []struct {
		name        string
		status      CaseStatus
		payment     *Payment
		money       CaseMoney
		receipt     PaymentReceipt
		wantOrder   PaymentStatus
		wantMoney   CaseMoney
		wantRefunds []refund
		wantSubsidy bool
		wantKind    LedgerKind
	}{
		{"exact amount pays the fee", CaseDraft, pending, CaseMoney{}, PaymentReceipt{OrderID: "o2", TransactionID: "t1", Paid: true, AmountFen: 15000},
			PaymentPaid, CaseMoney{15000, 15000}, nil, true, LedgerPayment},
		{"overpayment: the excess is owed back", CaseDraft, pending, CaseMoney{}, PaymentReceipt{OrderID: "o2", TransactionID: "t1", Paid: true, AmountFen: 15100},
			PaymentPaid, CaseMoney{15100, 15000}, []refund{{100, RefundOverpaid}}, true, LedgerPayment},
		{"underpayment settles nothing", CaseDraft, pending, CaseMoney{}, PaymentReceipt{OrderID: "o2", TransactionID: "t1", Paid: true, AmountFen: 100},
			PaymentFailed, CaseMoney{100, 0}, []refund{{100, RefundUnderpaid}}, false, LedgerPayment},
		{"late payment on a withdrawn case", CaseWithdrawn, pending, CaseMoney{}, PaymentReceipt{OrderID: "o2", TransactionID: "t1", Paid: true, AmountFen: 15000},
			PaymentPaid, CaseMoney{15000, 0}, []refund{{15000, RefundCaseClosed}}, false, LedgerPayment},
		{"second payment of a paid fee", CaseSubmitted, paid, CaseMoney{15000, 15000}, PaymentReceipt{OrderID: "o2", TransactionID: "t2", Paid: true, AmountFen: 15000},
			PaymentPaid, CaseMoney{30000, 15000}, []refund{{15000, RefundDuplicate}}, false, LedgerPayment},
		{"payment of a replaced order", CaseDraft, pending, CaseMoney{}, PaymentReceipt{OrderID: "o1", TransactionID: "t0", Paid: true, AmountFen: 15000},
			PaymentPending, CaseMoney{15000, 0}, []refund{{15000, RefundReplacedOrder}}, false, LedgerPayment},
		{"failed payment fails the pending order", CaseDraft, pending, CaseMoney{}, PaymentReceipt{OrderID: "o2", Paid: false},
			PaymentFailed, CaseMoney{}, nil, false, LedgerPaymentFailed},
		{"failed report of a paid order changes nothing", CaseDraft, paid, CaseMoney{15000, 15000}, PaymentReceipt{OrderID: "o2", Paid: false},
			PaymentPaid, CaseMoney{15000, 15000}, nil, false, LedgerPaymentFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Case{ID: "c1", EnterpriseID: "e1", Status: tt.status, Fee: fee, Payment: tt.payment, Money: tt.money}
			s := c.ReceivePayment(tt.receipt, now)
			if c.Payment.Status != tt.wantOrder {
				t.Errorf("order status %s, want %s", c.Payment.Status, tt.wantOrder)
			}
			if diff := cmp.Diff(tt.wantMoney, c.Money); diff != "" {
				t.Errorf("money (-want +got):\n%s", diff)
			}
			var got []refund
			var owed int64
			for _, r := range s.Refunds {
				got = append(got, refund{r.AmountFen, r.Reason})
				owed += r.AmountFen
				if r.Status != RefundPending || r.Round != 1 || r.NextAttemptAt == nil || !ValidID(r.ID) {
					t.Errorf("refund %+v", r)
				}
			}
			if diff := cmp.Diff(tt.wantRefunds, got); diff != "" {
				t.Errorf("refunds (-want +got):\n%s", diff)
			}
			if c.Money.ReceivedFen != c.Money.KeptFen+owed+tt.money.ReceivedFen-tt.money.KeptFen {
				t.Errorf("received %d != kept %d + owed %d", c.Money.ReceivedFen, c.Money.KeptFen, owed)
			}
			if (s.Subsidy != nil) != tt.wantSubsidy {
				t.Errorf("subsidy %+v", s.Subsidy)
			}
			if s.Subsidy != nil && (s.Subsidy.SubsidyFen != 15000 || s.Subsidy.RegionCode != "440305" || s.Subsidy.Kind != SubsidyClaim) {
				t.Errorf("subsidy %+v", *s.Subsidy)
			}
			if s.Entry.Kind != tt.wantKind || !ValidID(s.Entry.ID) {
				t.Errorf("entry %+v", s.Entry)
			}
			// The same report, even received later without the provider's
			// time, gives the same entry and the same refunds.
			again := Case{ID: "c1", EnterpriseID: "e1", Status: tt.status, Fee: fee, Payment: tt.payment, Money: tt.money}
			s2 := again.ReceivePayment(tt.receipt, now.Add(time.Hour))
			if s2.Entry.ID != s.Entry.ID || len(s2.Refunds) != len(s.Refunds) || (len(s.Refunds) > 0 && s2.Refunds[0].ID != s.Refunds[0].ID) {
				t.Errorf("not deterministic: %+v vs %+v", s2, s)
			}
		})
	}
}

func TestWithdrawRefundsTheKeptFee(t *testing.T) {
	now := time.Date(2026, 9, 24, 2, 0, 0, 0, time.UTC)
	c := Case{ID: "c1", EnterpriseID: "e1", Status: CaseDraft,
		Fee:     Fee{AmountFen: 30000, SubsidyFen: 15000, PayableFen: 15000, Program: "p", RegionCode: "440300"},
		Payment: &Payment{OrderID: "o", Status: PaymentPending, AmountFen: 15000}}
	s := c.ReceivePayment(PaymentReceipt{OrderID: "o", TransactionID: "t", Paid: true, AmountFen: 15200}, now)
	w, err := c.Withdraw(DefaultRules, Actor{UserID: "u"}, now.Add(time.Hour), "")
	if err != nil {
		t.Fatal(err)
	}
	if w.Refund == nil || w.Refund.AmountFen != 15000 || w.Refund.TransactionID != "t" || w.Refund.ID == s.Refunds[0].ID {
		t.Fatalf("refund %+v (overpaid refund %+v)", w.Refund, s.Refunds)
	}
	if w.Subsidy == nil || w.Subsidy.SubsidyFen != -15000 || w.Subsidy.Kind != SubsidyReversal {
		t.Errorf("subsidy reversal %+v", w.Subsidy)
	}
	if c.Money != (CaseMoney{ReceivedFen: 15200, KeptFen: 0}) {
		t.Errorf("money %+v", c.Money)
	}
}

func TestRefundLifecycle(t *testing.T) {
	now := time.Date(2026, 9, 24, 2, 0, 0, 0, time.UTC)
	r := DefaultRules
	newRefund := func() *Refund {
		due := now
		return &Refund{ID: NewIDAt(now), CaseID: "c", EnterpriseID: "e", AmountFen: 15000, Reason: RefundWithdrawn,
			Status: RefundPending, Round: 1, NextAttemptAt: &due}
	}
	t.Run("unanswered calls back off, then fail as unreachable, retry keeps the key", func(t *testing.T) {
		f := newRefund()
		var waits []time.Duration
		for i := 0; i < r.RefundMaxAttempts; i++ {
			if !f.Unanswered(1, "503", r, now) {
				t.Fatal("not applied")
			}
			if f.NextAttemptAt != nil {
				waits = append(waits, f.NextAttemptAt.Sub(now))
			}
		}
		want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute,
			32 * time.Minute, 64 * time.Minute, 128 * time.Minute, 256 * time.Minute}
		if diff := cmp.Diff(want, waits); diff != "" {
			t.Errorf("waits (-want +got):\n%s", diff)
		}
		if f.Status != RefundFailed || f.FailureCode != RefundUnreachable {
			t.Fatalf("%+v", f)
		}
		key := f.Key()
		if err := f.Retry(now); err != nil || f.Key() != key || f.Status != RefundPending || f.Attempts != 0 {
			t.Errorf("retry: %v %+v", err, f)
		}
	})
	t.Run("declined: retry gets a new key; a late answer of the old round is ignored", func(t *testing.T) {
		f := newRefund()
		out, ok := f.Apply(1, ProviderAnswer{Status: RefundFailed, Detail: "account closed"}, r, now)
		if !ok || out.Entry == nil || out.Entry.Kind != LedgerRefundFailed || out.Notice == nil || f.FailureCode != RefundDeclined {
			t.Fatalf("%+v %+v", out, f)
		}
		if err := f.Retry(now); err != nil || f.Key() != RefundKey(f.ID, 2) {
			t.Fatalf("retry %v key %s", err, f.Key())
		}
		if _, ok := f.Apply(1, ProviderAnswer{Status: RefundSucceeded}, r, now); ok {
			t.Error("old round applied")
		}
		out, ok = f.Apply(2, ProviderAnswer{Status: RefundSucceeded, ProviderRefundID: "p9", AmountFen: 15000}, r, now)
		if !ok || f.Status != RefundSucceeded || out.Entry.AmountFen != 15000 || out.Entry.RefundKey != f.Key() || f.NextAttemptAt != nil {
			t.Fatalf("%+v %+v", out, f)
		}
		if _, ok := f.Apply(2, ProviderAnswer{Status: RefundSucceeded}, r, now); ok {
			t.Error("applied twice")
		}
		if err := f.Retry(now); CodeOf(err) != "refund_not_failed" {
			t.Errorf("retry of a succeeded refund: %v", err)
		}
	})
	t.Run("accepted: asked again later", func(t *testing.T) {
		f := newRefund()
		if _, ok := f.Apply(1, ProviderAnswer{Status: RefundPending, ProviderRefundID: "p1"}, r, now); !ok {
			t.Fatal("not applied")
		}
		if f.SubmittedAt == nil || f.NextAttemptAt.Sub(now) != r.RefundCheckAfter || f.ProviderRefundID != "p1" {
			t.Errorf("%+v", f)
		}
	})
}

func TestRefundKeys(t *testing.T) {
	id := NewID()
	tests := []struct {
		key   string
		ok    bool
		round int
	}{
		{RefundKey(id, 1), true, 1},
		{RefundKey(id, 12), true, 12},
		{id + "-0", false, 0},
		{id + "-01", false, 0},
		{id, false, 0},
		{"x-1", false, 0},
	}
	for _, tt := range tests {
		gotID, round, ok := ParseRefundKey(tt.key)
		if ok != tt.ok || round != tt.round || (ok && gotID != id) {
			t.Errorf("ParseRefundKey(%q) = %q, %d, %v", tt.key, gotID, round, ok)
		}
	}
}

func TestYuan(t *testing.T) {
	tests := []struct {
		in      string
		fen     int64
		wantErr bool
	}{
		{"150.00", 15000, false}, {"0.01", 1, false}, {"150", 15000, false}, {"150.5", 15050, false},
		{"-3.20", -320, false}, {" 1.00 ", 100, false},
		{"1.001", 0, true}, {"1e3", 0, true}, {"", 0, true}, {".5", 0, true}, {"1,000.00", 0, true},
	}
	for _, tt := range tests {
		fen, err := ParseYuan(tt.in)
		if (err != nil) != tt.wantErr || fen != tt.fen {
			t.Errorf("ParseYuan(%q) = %d, %v", tt.in, fen, err)
		}
		if err == nil && tt.in == Yuan(fen) {
			continue
		}
	}
	if Yuan(15000) != "150.00" || Yuan(7) != "0.07" || Yuan(-320) != "-3.20" {
		t.Error("Yuan")
	}
}

func TestReconcile(t *testing.T) {
	now := time.Date(2026, 9, 25, 2, 30, 0, 0, time.UTC)
	pay := func(ref, order string, fen int64) ReconLine {
		return ReconLine{Line: LinePayment, Ref: ref, OrderID: order, AmountFen: fen, Status: LineSucceeded}
	}
	refund := func(ref string, fen int64, status string) ReconLine {
		return ReconLine{Line: LineRefund, Ref: ref, AmountFen: fen, Status: status}
	}
	ours := []ReconLine{pay("t1", "o1", 15000), pay("t2", "o2", 30000), pay("t3", "o3", 15000), pay("", "o5", 30000),
		refund("r1-1", 15000, LineSucceeded), refund("r9-1", 0, LineFailed)}
	theirs := []ReconLine{pay("t1", "o1", 15000), pay("t2", "o2", 29900), pay("t4", "o4", 15000), pay("t5", "o5", 30000),
		refund("r1-1", 15000, LineSucceeded), refund("r7-1", 500, LineSucceeded)}
	res := Reconcile(SourcePayments, "2026-09-24", ours, theirs, now)
	type got struct {
		Kind DiscrepancyKind
		Ref  string
	}
	var g []got
	for _, d := range res.Discrepancies {
		g = append(g, got{d.Kind, d.Ref})
		if d.Status != DiscrepancyOpen || !ValidID(d.ID) || d.Day != "2026-09-24" {
			t.Errorf("%+v", d)
		}
	}
	want := []got{{AmountMismatch, "t2"}, {MissingOnOurs, "r7-1"}, {MissingOnOurs, "t4"}, {MissingOnTheirs, "t3"}}
	if diff := cmp.Diff(want, g); diff != "" {
		t.Errorf("discrepancies (-want +got):\n%s", diff)
	}
	if res.OursNetFen != 15000+30000+15000+30000-15000 || res.TheirsNetFen != 15000+29900+15000+30000-15000-500 {
		t.Errorf("nets %d %d", res.OursNetFen, res.TheirsNetFen)
	}
	// Same input, same ids: a rerun records nothing new.
	again := Reconcile(SourcePayments, "2026-09-24", ours, theirs, now.Add(time.Hour))
	for i := range again.Discrepancies {
		if again.Discrepancies[i].ID != res.Discrepancies[i].ID {
			t.Error("ids differ between runs")
		}
	}
	clean := Reconcile(SourcePayments, "2026-09-24", ours[:1], theirs[:1], now)
	if len(clean.Discrepancies) != 0 || clean.OursNetFen != clean.TheirsNetFen {
		t.Errorf("clean day: %+v", clean)
	}
	status := Reconcile(SourcePayments, "2026-09-24", []ReconLine{refund("r1-1", 0, LineFailed)}, []ReconLine{refund("r1-1", 15000, LineSucceeded)}, now)
	if len(status.Discrepancies) != 1 || status.Discrepancies[0].Kind != StatusMismatch {
		t.Errorf("status: %+v", status.Discrepancies)
	}
}
