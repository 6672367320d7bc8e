package statements

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"microcert/shared/domain"
)

var at = time.Date(2026, 9, 24, 2, 3, 4, 0, time.UTC)

func sampleTrades() []Trade {
	return []Trade{
		{At: at, TransactionID: "4200000001", OrderID: "o1", TradeStatus: "SUCCESS", SettledFen: 15000, FeeFen: Fee(15000)},
		{At: at.Add(time.Hour), TransactionID: "4200000001", OrderID: "o1", Refund: true, TradeStatus: "REFUND", SettledFen: 15000,
			ProviderRefundID: "5030000001", RefundKey: "r-1", RefundFen: 15000, RefundStatus: "SUCCESS", FeeFen: -Fee(15000)},
		{At: at.Add(2 * time.Hour), TransactionID: "4200000002", OrderID: "o2", TradeStatus: "SUCCESS", SettledFen: 30001, FeeFen: Fee(30001)},
	}
}

func TestTradesRoundTrip(t *testing.T) {
	raw := WriteTrades("wxapp", "1900000001", sampleTrades())
	if !strings.HasPrefix(string(raw), "交易时间,公众账号ID") || !strings.Contains(string(raw), "`150.00") {
		t.Fatalf("not a WeChat-style bill:\n%s", raw)
	}
	got, err := ParseTrades(raw)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sampleTrades(), got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	lines := TradeLines(got)
	want := []domain.ReconLine{
		{Line: domain.LinePayment, Ref: "4200000001", OrderID: "o1", AmountFen: 15000, Status: domain.LineSucceeded, FeeFen: 90},
		{Line: domain.LineRefund, Ref: "r-1", OrderID: "o1", AmountFen: 15000, Status: domain.LineSucceeded, FeeFen: -90},
		{Line: domain.LinePayment, Ref: "4200000002", OrderID: "o2", AmountFen: 30001, Status: domain.LineSucceeded, FeeFen: 180},
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
	// A BOM (as the provider's downloads carry) changes nothing.
	if _, err := ParseTrades(append([]byte("\ufeff"), raw...)); err != nil {
		t.Errorf("with BOM: %v", err)
	}
}

func TestPayoutsRoundTrip(t *testing.T) {
	ps := []Payout{{At: at, Reference: "p1", BankRef: "B1", Last4: "1234", AmountFen: 37, Status: "SUCCESS"},
		{At: at, Reference: "p2", BankRef: "B2", Last4: "9876", AmountFen: 5, Status: "FAIL"}}
	got, err := ParsePayouts(WritePayouts(ps))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ps, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestMalformedStatements(t *testing.T) {
	good := string(WriteTrades("a", "m", sampleTrades()))
	tests := []struct {
		name string
		raw  string
	}{
		{"empty", ""},
		{"another header", strings.Replace(good, "交易时间", "time", 1)},
		{"no summary", good[:strings.Index(good, "总交易单数")]},
		{"summary total off", strings.Replace(good, "`450.01", "`450.00", 1)},
		{"summary count off", strings.Replace(good, "\n`3,", "\n`4,", 1)},
		{"amount with three decimals", strings.Replace(good, "`300.01", "`300.011", 1)},
		{"float amount", strings.Replace(good, "`300.01", "`3e2", 1)},
		{"short line", strings.Replace(good, ",`NATIVE", "", 1)},
		{"bad time", strings.Replace(good, "2026-09-24 10:03:04", "yesterday", 1)},
		{"text after the summary", good + "x\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseTrades([]byte(tt.raw)); !errors.Is(err, ErrMalformed) {
				t.Errorf("err = %v, want malformed", err)
			}
		})
	}
}

func TestFee(t *testing.T) {
	for fen, want := range map[int64]int64{15000: 90, 30000: 180, 1: 0, 84: 1, 83: 0} {
		if got := Fee(fen); got != want {
			t.Errorf("Fee(%d) = %d, want %d", fen, got, want)
		}
	}
}

func FuzzParseTrades(f *testing.F) {
	f.Add(WriteTrades("a", "m", sampleTrades()))
	f.Add(WritePayouts([]Payout{{At: at, Reference: "p", AmountFen: 1, Status: "SUCCESS"}}))
	f.Add([]byte("交易时间\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		ts, err := ParseTrades(raw)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		// What parses renders back to a statement that parses the same.
		again, err := ParseTrades(WriteTrades("a", "m", ts))
		if err != nil {
			t.Fatalf("re-render does not parse: %v", err)
		}
		if len(again) != len(ts) {
			t.Fatalf("%d lines, then %d", len(ts), len(again))
		}
	})
}

func FuzzParsePayouts(f *testing.F) {
	f.Add(WritePayouts([]Payout{{At: at, Reference: "p", AmountFen: 1, Status: "SUCCESS"}}))
	f.Add(WriteTrades("a", "m", sampleTrades()))
	f.Add([]byte("\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		ps, err := ParsePayouts(raw)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		// What parses renders back to a statement that parses the same.
		again, err := ParsePayouts(WritePayouts(ps))
		if err != nil {
			t.Fatalf("re-render does not parse: %v", err)
		}
		if d := cmp.Diff(ps, again); d != "" {
			t.Fatalf("parse, render, parse differs (-first +again):\n%s", d)
		}
	})
}
