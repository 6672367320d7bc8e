package localstack

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"microcert/shared/domain"
	"microcert/shared/statements"
	"microcert/shared/webhook"
)

// The sandbox payment provider keeps its own books (what it took, what it
// paid back), as a real provider does: the reconciliation compares our
// ledger with the statement it writes from them, never with our own data.
// The books are appended to <state>/sandbox/payments.jsonl, so they survive
// a restart like the table does.

// SandboxProviderPath is where the functions find the provider's refund
// API on the local stack (PAYMENT_PROVIDER_URL = <api>/_sandbox).
const SandboxProviderPath = "/_sandbox"

// Sandbox merchant ids printed on the statements.
const (
	sandboxAppID = "wx0000000000000000"
	sandboxMchID = "1900000001"
)

// bookEntry is one line of the provider's books: a payment it took, or a
// refund (requested through the API, or made by hand on its merchant
// platform) with its current status.
type bookEntry struct {
	Type             string    `json:"type"` // payment, refund
	At               time.Time `json:"at"`
	OrderID          string    `json:"orderId"`
	TransactionID    string    `json:"transactionId"`
	AmountFen        int64     `json:"amountFen"`
	RefundKey        string    `json:"refundKey,omitempty"`
	ProviderRefundID string    `json:"providerRefundId,omitempty"`
	Status           string    `json:"status"` // SUCCESS, PROCESSING, FAIL
	FailReason       string    `json:"failReason,omitempty"`
}

// refundFaults make the provider misbehave for the refunds of one order.
type refundFaults struct {
	Unavailable int  `json:"unavailable"` // answer the next n calls 503, recording nothing
	Decline     bool `json:"decline"`     // accept, then report the refund failed
}

type payBooks struct {
	mu      sync.Mutex
	file    string
	entries []bookEntry    // payments and refunds, in the order made
	refunds map[string]int // refund key -> index in entries
	faults  map[string]*refundFaults
}

func openPayBooks(stateDir string) (*payBooks, error) {
	b := &payBooks{refunds: map[string]int{}, faults: map[string]*refundFaults{}}
	if stateDir == "" {
		return b, nil
	}
	dir := filepath.Join(stateDir, "sandbox")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	b.file = filepath.Join(dir, "payments.jsonl")
	f, err := os.Open(b.file)
	if errors.Is(err, os.ErrNotExist) {
		return b, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e bookEntry
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue // a line cut by a crash
		}
		b.apply(e)
	}
	return b, sc.Err()
}

// apply adds e, or replaces the refund with the same key.
func (b *payBooks) apply(e bookEntry) {
	if e.Type == "refund" {
		if i, ok := b.refunds[e.RefundKey]; ok {
			b.entries[i] = e
			return
		}
		b.refunds[e.RefundKey] = len(b.entries)
	}
	b.entries = append(b.entries, e)
}

// record applies and persists e (callers hold mu).
func (b *payBooks) record(e bookEntry) error {
	b.apply(e)
	if b.file == "" {
		return nil
	}
	line, _ := json.Marshal(e)
	f, err := os.OpenFile(b.file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.Write(append(line, '\n'))
	return err
}

// payment finds the payment refunded: by transaction id, else the order's.
func (b *payBooks) payment(orderID, txnID string) (bookEntry, bool) {
	for _, e := range b.entries {
		if e.Type == "payment" && e.OrderID == orderID && (txnID == "" || e.TransactionID == txnID) {
			return e, true
		}
	}
	return bookEntry{}, false
}

// refunded is what was paid back (or is being) of a transaction.
func (b *payBooks) refunded(txnID string) int64 {
	var n int64
	for _, e := range b.entries {
		if e.Type == "refund" && e.TransactionID == txnID && e.Status != "FAIL" {
			n += e.AmountFen
		}
	}
	return n
}

// day is the statement of one Beijing day: payments by their time, refunds
// by the time they succeeded or failed.
func (b *payBooks) day(day string) []bookEntry {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []bookEntry
	for _, e := range b.entries {
		if domain.Day(e.At) == day && (e.Type == "payment" || e.Status != "PROCESSING") {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

// providerID makes a provider-style numeric id (WeChat Pay's are 28-32
// digits).
func providerID(prefix string) string {
	n, _ := rand.Int(rand.Reader, new(big.Int).Exp(big.NewInt(10), big.NewInt(22), nil))
	return fmt.Sprintf("%s%022d", prefix, n)
}

// pay plays the payment provider: the order is paid (by default in full)
// and the provider calls back, signed. With "callback": false the payment
// is taken but its notification is lost; "status": "failed" reports a
// failed payment; "amountFen" pays another amount than the order asks (a
// replaced order's amount, an over- or underpayment).
func (s *sandbox) pay(w http.ResponseWriter, r *http.Request) {
	var in struct {
		OrderID   string `json:"orderId"`
		AmountFen *int64 `json:"amountFen"`
		Status    string `json:"status"`
		Callback  *bool  `json:"callback"`
	}
	if err := decodeStrict(r, &in); err != nil || in.OrderID == "" || (in.Status != "" && in.Status != "paid" && in.Status != "failed") {
		sandboxError(w, http.StatusBadRequest, `want {orderId, amountFen?, status?: "paid" | "failed", callback?}`)
		return
	}
	if s.data == nil {
		sandboxError(w, http.StatusNotImplemented, "sandbox data is not wired (localstack.DefaultSandboxData)")
		return
	}
	var fen int64
	if in.AmountFen != nil {
		fen = *in.AmountFen
	} else {
		var err error
		if fen, err = s.data.OrderPayable(r.Context(), in.OrderID); err != nil {
			s.dataError(w, err)
			return
		}
	}
	status := "paid"
	if in.Status == "failed" {
		status, fen = "failed", 0
	}
	now := s.now().UTC().Truncate(time.Second)
	txn := providerID("4200")
	if status == "paid" {
		s.books.mu.Lock()
		err := s.books.record(bookEntry{Type: "payment", At: now, OrderID: in.OrderID, TransactionID: txn, AmountFen: fen, Status: "SUCCESS"})
		s.books.mu.Unlock()
		if err != nil {
			s.logger.Error("sandbox books", "err", err)
		}
	}
	if in.Callback != nil && !*in.Callback {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"orderId": in.OrderID, "transactionId": txn, "paidFen": fen, "notified": false})
		return
	}
	body, _ := json.Marshal(struct {
		OrderID       string    `json:"orderId"`
		Status        string    `json:"status"`
		PaidFen       int64     `json:"paidFen"`
		TransactionID string    `json:"transactionId"`
		PaidAt        time.Time `json:"paidAt"`
	}{in.OrderID, status, fen, txn, now})
	s.callback(w, r.Context(), "payment", s.paymentSecret, body)
}

// refund is the provider's refund API, called by the functions: signed
// with the merchant key, idempotent on the refund id (= Idempotency-Key).
// It answers "processing" at once and reports the result by the signed
// callback /v1/callbacks/refund right after, as the provider's notify.
func (s *sandbox) refund(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		sandboxError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := webhook.Verify(r.Header.Get(webhook.Header), raw, s.now(), s.paymentSecret); err != nil {
		sandboxError(w, http.StatusUnauthorized, "bad merchant signature")
		return
	}
	var in struct {
		RefundID      string `json:"refundId"`
		OrderID       string `json:"orderId"`
		TransactionID string `json:"transactionId"`
		AmountFen     int64  `json:"amountFen"`
		Reason        string `json:"reason"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil || in.RefundID == "" || in.OrderID == "" || in.AmountFen <= 0 {
		sandboxError(w, http.StatusBadRequest, "want {refundId, orderId, transactionId, amountFen > 0, reason}")
		return
	}
	if k := r.Header.Get("Idempotency-Key"); k != in.RefundID {
		sandboxError(w, http.StatusBadRequest, "Idempotency-Key must be the refundId")
		return
	}
	b := s.books
	b.mu.Lock()
	if f := b.faults[in.OrderID]; f != nil && f.Unavailable > 0 {
		f.Unavailable--
		b.mu.Unlock()
		sandboxError(w, http.StatusServiceUnavailable, "the provider is unavailable (sandbox fault)")
		return
	}
	if i, ok := b.refunds[in.RefundID]; ok {
		e := b.entries[i]
		b.mu.Unlock()
		writeRefundAnswer(w, e)
		return
	}
	pay, ok := b.payment(in.OrderID, in.TransactionID)
	switch {
	case !ok:
		b.mu.Unlock()
		sandboxError(w, http.StatusBadRequest, "no such payment")
		return
	case b.refunded(pay.TransactionID)+in.AmountFen > pay.AmountFen:
		b.mu.Unlock()
		sandboxError(w, http.StatusBadRequest, "the refund exceeds what is left of the payment")
		return
	}
	e := bookEntry{Type: "refund", At: s.now().UTC().Truncate(time.Second), OrderID: in.OrderID, TransactionID: pay.TransactionID,
		AmountFen: in.AmountFen, RefundKey: in.RefundID, ProviderRefundID: providerID("5030"), Status: "PROCESSING"}
	decline := b.faults[in.OrderID] != nil && b.faults[in.OrderID].Decline
	err = b.record(e)
	b.mu.Unlock()
	if err != nil {
		s.logger.Error("sandbox books", "err", err)
	}
	writeRefundAnswer(w, e)
	go s.settleRefund(e.RefundKey, decline)
}

func writeRefundAnswer(w http.ResponseWriter, e bookEntry) {
	status := map[string]string{"PROCESSING": "processing", "SUCCESS": "succeeded", "FAIL": "failed"}[e.Status]
	out := map[string]any{"providerRefundId": e.ProviderRefundID, "status": status, "amountFen": e.AmountFen}
	if e.Status == "SUCCESS" {
		out["succeededAt"] = e.At
	}
	if e.FailReason != "" {
		out["failReason"] = e.FailReason
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// settleRefund pays a refund back (or declines it) and notifies, retrying
// the notification a few times as providers do.
func (s *sandbox) settleRefund(key string, decline bool) {
	b := s.books
	b.mu.Lock()
	e := b.entries[b.refunds[key]]
	e.At = s.now().UTC().Truncate(time.Second)
	e.Status = "SUCCESS"
	if decline {
		e.Status, e.FailReason = "FAIL", "the payer's account is closed (sandbox fault)"
	}
	if err := b.record(e); err != nil {
		s.logger.Error("sandbox books", "err", err)
	}
	b.mu.Unlock()
	status := "succeeded"
	if decline {
		status = "failed"
	}
	body, _ := json.Marshal(map[string]any{"refundId": e.RefundKey, "providerRefundId": e.ProviderRefundID, "status": status,
		"amountFen": e.AmountFen, "succeededAt": e.At, "failReason": e.FailReason})
	for attempt := 0; attempt < 5; attempt++ {
		if attempt > 0 {
			time.Sleep(time.Duration(100<<attempt) * time.Millisecond)
		}
		rec := httptest.NewRecorder()
		s.callback(rec, context.Background(), "refund", s.paymentSecret, body)
		if rec.Code < 300 {
			return
		}
		s.logger.Warn("sandbox refund notify", "status", rec.Code, "attempt", attempt+1)
	}
}

// refundFaults sets how the provider treats the refunds of an order.
func (s *sandbox) setRefundFaults(w http.ResponseWriter, r *http.Request) {
	var in struct {
		OrderID string `json:"orderId"`
		refundFaults
	}
	if err := decodeStrict(r, &in); err != nil || in.OrderID == "" || in.Unavailable < 0 {
		sandboxError(w, http.StatusBadRequest, "want {orderId, unavailable: n, decline: bool}")
		return
	}
	s.books.mu.Lock()
	f := in.refundFaults
	s.books.faults[in.OrderID] = &f
	s.books.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"orderId": in.OrderID, "unavailable": f.Unavailable, "decline": f.Decline})
}

// manualRefund plays a refund made by hand on the provider's merchant
// platform: money goes back without any request of ours and without a
// callback (the reconciliation finds it).
func (s *sandbox) manualRefund(w http.ResponseWriter, r *http.Request) {
	var in struct {
		OrderID   string `json:"orderId"`
		AmountFen int64  `json:"amountFen"`
	}
	if err := decodeStrict(r, &in); err != nil || in.OrderID == "" || in.AmountFen <= 0 {
		sandboxError(w, http.StatusBadRequest, "want {orderId, amountFen > 0}")
		return
	}
	b := s.books
	b.mu.Lock()
	pay, ok := b.payment(in.OrderID, "")
	if !ok {
		b.mu.Unlock()
		sandboxError(w, http.StatusNotFound, "no such payment")
		return
	}
	e := bookEntry{Type: "refund", At: s.now().UTC().Truncate(time.Second), OrderID: in.OrderID, TransactionID: pay.TransactionID,
		AmountFen: in.AmountFen, RefundKey: providerID("MANUAL"), ProviderRefundID: providerID("5030"), Status: "SUCCESS"}
	err := b.record(e)
	b.mu.Unlock()
	if err != nil {
		s.logger.Error("sandbox books", "err", err)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(e)
}

// writeStatements writes the trade bill and the bank statement of a
// Beijing day into the bucket. adjust overrides the settled amount of an
// order's payment line (a provider that settled another amount than it
// reported).
func (s *sandbox) writeStatements(ctx context.Context, day string, adjust map[string]int64) ([]string, error) {
	if s.s3 == nil {
		return nil, errors.New("no bucket")
	}
	var trades []statements.Trade
	for _, e := range s.books.day(day) {
		t := statements.Trade{At: e.At, TransactionID: e.TransactionID, OrderID: e.OrderID}
		if e.Type == "payment" {
			t.TradeStatus, t.SettledFen = "SUCCESS", e.AmountFen
			if v, ok := adjust[e.OrderID]; ok {
				t.SettledFen = v
			}
			t.FeeFen = statements.Fee(t.SettledFen)
		} else {
			t.Refund, t.TradeStatus, t.SettledFen = true, "REFUND", e.AmountFen
			t.ProviderRefundID, t.RefundKey, t.RefundFen, t.RefundStatus = e.ProviderRefundID, e.RefundKey, e.AmountFen, e.Status
			if e.Status == "SUCCESS" {
				t.FeeFen = -statements.Fee(e.AmountFen)
			}
		}
		trades = append(trades, t)
	}
	var payouts []statements.Payout
	if s.data != nil {
		ps, err := s.data.PayoutsForDay(ctx, day)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			payouts = append(payouts, statements.Payout{At: time.Time(p.PaidAt), Reference: p.Reference, BankRef: providerID("BK"),
				Last4: p.AccountLast4, AmountFen: p.AmountFen, Status: "SUCCESS"})
		}
	}
	files := map[string][]byte{
		statements.Key(domain.SourcePayments, day): statements.WriteTrades(sandboxAppID, sandboxMchID, trades),
		statements.Key(domain.SourceBank, day):     statements.WritePayouts(payouts),
	}
	var keys []string
	for key, body := range files {
		if _, err := s.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key),
			Body: bytes.NewReader(body), ContentType: aws.String("text/csv; charset=utf-8")}); err != nil {
			return nil, fmt.Errorf("put %s: %w", key, err)
		}
		keys = append(keys, key)
	}
	sort.Strings(keys)
	return keys, nil
}

// statementsNow serves POST /_sandbox/statements {day?, adjust?}: the
// statements of a day (default: yesterday, Beijing) written now.
func (s *sandbox) statementsNow(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Day    string `json:"day"`
		Adjust []struct {
			OrderID   string `json:"orderId"`
			AmountFen int64  `json:"amountFen"`
		} `json:"adjust"`
	}
	if err := decodeStrict(r, &in); err != nil && err != io.EOF {
		sandboxError(w, http.StatusBadRequest, "want {day?: 2006-01-02, adjust?: [{orderId, amountFen}]}")
		return
	}
	adjust := map[string]int64{}
	for _, a := range in.Adjust {
		adjust[a.OrderID] = a.AmountFen
	}
	if in.Day == "" {
		in.Day = domain.Day(s.now().Add(-24 * time.Hour))
	}
	if _, err := domain.DayStart(in.Day); err != nil {
		sandboxError(w, http.StatusBadRequest, "day is YYYY-MM-DD")
		return
	}
	keys, err := s.writeStatements(r.Context(), in.Day, adjust)
	if err != nil {
		s.logger.Error("sandbox statements", "err", err)
		sandboxError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"day": in.Day, "keys": keys})
}

// dailyStatements writes the previous Beijing day's statements every day
// at 00:30 Beijing time, until stop is closed (`make run`; tests ask for
// them with POST /_sandbox/statements).
func (s *sandbox) dailyStatements(stop <-chan struct{}, logger *slog.Logger) {
	for {
		now := s.now()
		start, _ := domain.DayStart(domain.Day(now))
		next := start.Add(24*time.Hour + 30*time.Minute)
		if now.Before(start.Add(30 * time.Minute)) {
			next = start.Add(30 * time.Minute)
		}
		select {
		case <-stop:
			return
		case <-time.After(time.Until(next)):
		}
		day := domain.Day(next.Add(-24 * time.Hour))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if _, err := s.writeStatements(ctx, day, nil); err != nil {
			logger.Error("sandbox daily statements", "day", day, "err", err)
		}
		cancel()
	}
}

// listRefunds serves GET /_sandbox/refunds?orderId=: the provider's refunds
// of an order (what it really paid back).
func (s *sandbox) listRefunds(w http.ResponseWriter, r *http.Request) {
	order := r.URL.Query().Get("orderId")
	if order == "" {
		sandboxError(w, http.StatusBadRequest, "want ?orderId=")
		return
	}
	s.books.mu.Lock()
	items := []bookEntry{}
	for _, e := range s.books.entries {
		if e.Type == "refund" && e.OrderID == order {
			items = append(items, e)
		}
	}
	s.books.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"items": items})
}
