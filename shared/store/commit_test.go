package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/truora/minidyn/server"

	"microcert/shared/domain"
	"microcert/shared/idem"
	"microcert/shared/store/storetest"
)

func TestCommitShapes(t *testing.T) {
	s, counter := newStore(t)
	e := createEnterprise(t, s, "u1")
	c := createCase(t, s, e, t0)

	tests := []struct {
		name   string
		ctx    context.Context
		change func() *domain.Change
		calls  map[string]int
	}{
		{"empty change writes nothing", ctx, func() *domain.Change { return &domain.Change{} }, map[string]int{}},
		{"one write without a mark: PutItem", ctx, func() *domain.Change {
			return &domain.Change{History: []domain.HistoryRecord{hist(c.ID, t0, "a")}}
		}, map[string]int{"PutItem": 1}},
		{"one document update: UpdateItem", ctx, func() *domain.Change {
			d := sampleDocument(c, t0)
			if err := s.Commit(ctx, &domain.Change{Documents: []domain.DocumentWrite{{Document: d, Create: true}}}); err != nil {
				t.Fatal(err)
			}
			counter.Reset()
			return &domain.Change{Documents: []domain.DocumentWrite{{Document: d}}}
		}, map[string]int{"UpdateItem": 1}},
		{"several writes: one transaction", ctx, func() *domain.Change {
			return &domain.Change{History: []domain.HistoryRecord{hist(c.ID, t0, "a"), hist(c.ID, t0, "b")}}
		}, map[string]int{"TransactWriteItems": 1}},
		{"one write with a mark: a transaction", reserved(t, s, "k-shape", "tok"), func() *domain.Change {
			return &domain.Change{History: []domain.HistoryRecord{hist(c.ID, t0, "a")}}
		}, map[string]int{"TransactWriteItems": 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			counter.Reset()
			ch := tc.change()
			if err := s.Commit(tc.ctx, ch); err != nil {
				t.Fatal(err)
			}
			if counter.TotalCalls() != sum(tc.calls) {
				t.Errorf("%d calls, want %v", counter.TotalCalls(), tc.calls)
			}
			for op, n := range tc.calls {
				if got := counter.Calls(op); got != n {
					t.Errorf("%s: %d calls, want %d", op, got, n)
				}
			}
		})
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// reserved reserves key for token and returns a context carrying the mark.
func reserved(t *testing.T, s *Store, key, token string) context.Context {
	t.Helper()
	got, err := s.ReserveIdempotency(ctx, idem.Record{Key: key, Fingerprint: "fp", Token: token,
		LeaseUntil: t0.Add(time.Minute), ExpiresAt: t0.Add(24 * time.Hour)}, t0)
	if err != nil || !got.Held {
		t.Fatalf("reserve %s: %+v, %v", key, got, err)
	}
	return idem.WithMark(ctx, idem.Mark{Key: key, Token: token})
}

func TestCommitTooLarge(t *testing.T) {
	s, counter := newStore(t)
	ch := &domain.Change{}
	for i := 0; i < 101; i++ {
		ch.History = append(ch.History, hist("c", t0, "x"))
	}
	counter.Reset()
	err := s.Commit(ctx, ch)
	wantCode(t, err, domain.KindInternal, "internal")
	ch.History = ch.History[:100]
	if err := s.Commit(ctx, ch); err != nil {
		t.Fatalf("100 writes: %v", err)
	}
	// 99 writes and a mark: fine; 100 and a mark: too many.
	mctx := reserved(t, s, "k-large", "t")
	ch.History = ch.History[:0]
	for i := 0; i < 100; i++ {
		ch.History = append(ch.History, hist("c2", t0, "x"))
	}
	wantCode(t, s.Commit(mctx, ch), domain.KindInternal, "internal")
	ch.History = ch.History[:99]
	if err := s.Commit(mctx, ch); err != nil {
		t.Fatalf("99 writes and a mark: %v", err)
	}
}

func TestCommitAppliesOncePerIdempotencyKey(t *testing.T) {
	s, _ := newStore(t)
	e := createEnterprise(t, s, "u1")
	c := createCase(t, s, e, t0)
	mctx := reserved(t, s, "user|POST /v1/cases/x/submit|abc", "token-1")

	first := submit(c, t0, t0.Add(96*time.Hour))
	h := hist(c.ID, t0, "submitted")
	mustCommitCtx(t, s, mctx, &domain.Change{Cases: []domain.CaseWrite{{Case: first, ExpectVersion: 1}}, History: []domain.HistoryRecord{h}})
	rec := idemRecord(t, s, "user|POST /v1/cases/x/submit|abc")
	if rec.State != idem.StateApplied {
		t.Fatalf("state %s, want applied", rec.State)
	}

	// The same request retried with the same mark (e.g. after a timeout
	// whose commit had landed): nothing is applied twice, even a write
	// whose own condition would pass.
	again := nextCase(first, func(n *domain.Case) { n.Explanation = "second" })
	err := s.Commit(mctx, &domain.Change{Cases: []domain.CaseWrite{{Case: again, ExpectVersion: 2}},
		History: []domain.HistoryRecord{hist(c.ID, t0.Add(time.Second), "again")}})
	wantCode(t, err, domain.KindConflict, "request_already_applied")
	// Also when other conditions fail too: "already applied" wins.
	err = s.Commit(mctx, &domain.Change{Cases: []domain.CaseWrite{{Case: first, ExpectVersion: 1}}, History: []domain.HistoryRecord{h}})
	wantCode(t, err, domain.KindConflict, "request_already_applied")
	got, _ := s.GetCaseBundle(ctx, c.ID)
	if got.Case.Version != 2 || got.Case.Explanation != "" || len(got.History) != 1 {
		t.Errorf("second commit leaked: v%d %q %d history", got.Case.Version, got.Case.Explanation, len(got.History))
	}

	// A mark whose token does not hold the reservation.
	other := idem.WithMark(ctx, idem.Mark{Key: "user|POST /v1/cases/x/submit|abc", Token: "someone-else"})
	err = s.Commit(other, &domain.Change{History: []domain.HistoryRecord{hist(c.ID, t0.Add(time.Hour), "x")}})
	wantCode(t, err, domain.KindConflict, "request_already_applied")
	// A mark with no reservation at all.
	none := idem.WithMark(ctx, idem.Mark{Key: "never-reserved", Token: "t"})
	err = s.Commit(none, &domain.Change{History: []domain.HistoryRecord{hist(c.ID, t0.Add(time.Hour), "x")}})
	wantCode(t, err, domain.KindConflict, "request_already_applied")
}

func mustCommitCtx(t *testing.T, s *Store, c context.Context, ch *domain.Change) {
	t.Helper()
	if err := s.Commit(c, ch); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

func TestUnavailable(t *testing.T) {
	env := storetest.Start(t)
	// One attempt: the SDK would otherwise retry the 500s with backoff.
	client := dynamodb.New(env.Client.Options(), func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
	s := New(client, env.Table, domain.DefaultRules)
	e := createEnterprise(t, s, "u1")
	c := createCase(t, s, e, t0)

	env.Server.EmulateFailure(server.FailureConditionInternalServerError)
	calls := map[string]func() error{
		"GetCase":       func() error { _, err := s.GetCase(ctx, c.ID); return err },
		"GetEnterprise": func() error { _, _, err := s.GetEnterprise(ctx, e.ID); return err },
		"ListQueue":     func() error { _, _, err := s.ListQueue(ctx, domain.Page{Limit: 5}); return err },
		"Commit one": func() error {
			return s.Commit(ctx, &domain.Change{History: []domain.HistoryRecord{hist(c.ID, t0, "a")}})
		},
		"Commit many": func() error {
			return s.Commit(ctx, &domain.Change{History: []domain.HistoryRecord{hist(c.ID, t0, "a"), hist(c.ID, t0, "b")}})
		},
		"Reserve": func() error {
			_, err := s.ReserveIdempotency(ctx, idem.Record{Key: "k", Token: "t", ExpiresAt: t0}, t0)
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			wantCode(t, call(), domain.KindUnavailable, "unavailable")
		})
	}
	env.Server.EmulateFailure(server.FailureConditionNone)

	// A deadline that passes is unavailable too.
	dctx, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel()
	_, err := s.GetCase(dctx, c.ID)
	wantCode(t, err, domain.KindUnavailable, "unavailable")
}

func TestCancellationReasons(t *testing.T) {
	ops := []op{
		{onFail: ErrRequestAlreadyApplied},
		{onFail: domain.ErrVersionConflict, versioned: true},
		{onFail: ErrDuplicate},
	}
	tce := func(codes ...string) error {
		r := make([]types.CancellationReason, len(codes))
		for i, c := range codes {
			r[i] = types.CancellationReason{Code: aws.String(c)}
		}
		return &types.TransactionCanceledException{CancellationReasons: r}
	}
	tests := []struct {
		name string
		err  error
		kind domain.Kind
		code string
	}{
		{"mark failed", tce("ConditionalCheckFailed", "None", "None"), domain.KindConflict, "request_already_applied"},
		{"all failed: mark wins", tce("ConditionalCheckFailed", "ConditionalCheckFailed", "ConditionalCheckFailed"), domain.KindConflict, "request_already_applied"},
		{"version", tce("None", "ConditionalCheckFailed", "None"), domain.KindConflict, "version_conflict"},
		{"duplicate", tce("None", "None", "ConditionalCheckFailed"), domain.KindConflict, "duplicate"},
		{"conflict on a versioned write", tce("None", "TransactionConflict", "None"), domain.KindConflict, "version_conflict"},
		{"conflict elsewhere: retry", tce("None", "None", "TransactionConflict"), domain.KindUnavailable, "unavailable"},
		{"throttled", tce("ThrottlingError", "None", "None"), domain.KindUnavailable, "unavailable"},
		{"validation", tce("ValidationError", "None", "None"), domain.KindInternal, "internal"},
		{"throughput", &types.ProvisionedThroughputExceededException{}, domain.KindUnavailable, "unavailable"},
		{"other", errors.New("boom"), domain.KindInternal, "internal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, cancelled(tc.err, ops), tc.kind, tc.code)
		})
	}
}

func TestCommitRejectsMalformedChanges(t *testing.T) {
	s, counter := newStore(t)
	counter.Reset()
	bad := []*domain.Change{
		{History: []domain.HistoryRecord{{Entry: domain.HistoryEntry{ID: "x", At: t0}}}},
		{Cases: []domain.CaseWrite{{Case: nil}}},
		{Documents: []domain.DocumentWrite{{Document: &domain.Document{ID: "d", CaseID: "c"}, CheckResult: true}}},
		{Notifications: []domain.Notification{{ID: "n"}}},
	}
	for _, ch := range bad {
		wantCode(t, s.Commit(ctx, ch), domain.KindInternal, "internal")
	}
	if counter.TotalCalls() != 0 {
		t.Errorf("malformed changes made %d calls", counter.TotalCalls())
	}
}

// TestHeldCommit: under a deferral the marked commit is checked and held,
// then written with the response in one transaction (reservation done), or
// without one when the request makes any other store call first
// (reservation applied, the call sees the write).
func TestHeldCommit(t *testing.T) {
	s, counter := newStore(t)
	e := createEnterprise(t, s, "u1")
	c := createCase(t, s, e, t0)
	histories := func() int { return historyCount(t, s, c.ID) }
	base := histories()
	resp := &idem.Response{Status: 201, Headers: map[string]string{"Content-Type": "application/json"}, Body: `{"id":"x"}`}

	tests := []struct {
		name string
		// after runs after the held commit, with its context.
		after     func(t *testing.T, hctx context.Context, d *idem.Deferral)
		wantState string
		wantCalls map[string]int // after the reservation
	}{
		{"written with the response: one transaction, reservation done", func(t *testing.T, hctx context.Context, d *idem.Deferral) {
			if err := d.Write(hctx, resp); err != nil {
				t.Fatal(err)
			}
		}, idem.StateDone, map[string]int{"TransactWriteItems": 1}},
		{"a later read writes it first: reservation applied", func(t *testing.T, hctx context.Context, d *idem.Deferral) {
			if _, err := s.GetCaseBundle(hctx, c.ID); err != nil {
				t.Fatal(err)
			}
		}, idem.StateApplied, map[string]int{"TransactWriteItems": 1, "Query": 1}},
		{"a later commit writes it first and runs at once", func(t *testing.T, hctx context.Context, d *idem.Deferral) {
			err := s.Commit(idem.WithoutMark(hctx), &domain.Change{History: []domain.HistoryRecord{hist(c.ID, t0, "later")}})
			if err != nil {
				t.Fatal(err)
			}
		}, idem.StateApplied, map[string]int{"TransactWriteItems": 1, "PutItem": 1}},
		{"WriteHeld writes it (before a provider call)", func(t *testing.T, hctx context.Context, d *idem.Deferral) {
			if err := idem.WriteHeld(hctx); err != nil {
				t.Fatal(err)
			}
		}, idem.StateApplied, map[string]int{"TransactWriteItems": 1}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := fmt.Sprintf("k-held-%d", i)
			var d idem.Deferral
			hctx := idem.WithDeferral(reserved(t, s, key, "tok"), &d)
			counter.Reset()
			mustCommitCtx(t, s, hctx, &domain.Change{History: []domain.HistoryRecord{hist(c.ID, t0.Add(time.Duration(i)*time.Hour), "held")}})
			if counter.TotalCalls() != 0 || !d.Holding() {
				t.Fatalf("held commit made %d calls (holding %v), want none", counter.TotalCalls(), d.Holding())
			}
			if rec := idemRecord(t, s, key); rec.State != idem.StateInProgress {
				t.Fatalf("reservation %s while held, want in_progress", rec.State)
			}
			counter.Reset()
			tc.after(t, hctx, &d)
			for op, n := range tc.wantCalls {
				if got := counter.Calls(op); got != n {
					t.Errorf("%s: %d calls, want %d", op, got, n)
				}
			}
			if d.Holding() || d.Failed() != nil {
				t.Fatalf("after: holding %v, failed %v", d.Holding(), d.Failed())
			}
			rec := idemRecord(t, s, key)
			if rec.State != tc.wantState {
				t.Fatalf("reservation %s, want %s", rec.State, tc.wantState)
			}
			if tc.wantState == idem.StateDone && (rec.Status != resp.Status || rec.Body != resp.Body || rec.Headers["Content-Type"] != "application/json") {
				t.Fatalf("stored response %d %v %s", rec.Status, rec.Headers, rec.Body)
			}
			if got := histories(); got < base+i+1 {
				t.Fatalf("%d history entries, want the held one written", got)
			}
		})
	}
}

// TestHeldCommitFails: a held write whose condition fails reports it and
// is remembered as failed; nothing of it is applied and the reservation
// stays in progress (the HTTP layer runs the request again).
func TestHeldCommitFails(t *testing.T) {
	s, _ := newStore(t)
	e := createEnterprise(t, s, "u1")
	c := createCase(t, s, e, t0)
	h := hist(c.ID, t0, "once")
	mustCommitCtx(t, s, ctx, &domain.Change{History: []domain.HistoryRecord{h}})
	var d idem.Deferral
	hctx := idem.WithDeferral(reserved(t, s, "k-held-fail", "tok"), &d)
	mustCommitCtx(t, s, hctx, &domain.Change{History: []domain.HistoryRecord{h, hist(c.ID, t0, "other")}})
	err := d.Write(hctx, &idem.Response{Status: 200, Body: "{}"})
	wantCode(t, err, domain.KindConflict, "duplicate")
	if d.Failed() == nil {
		t.Fatal("failed write not remembered")
	}
	if rec := idemRecord(t, s, "k-held-fail"); rec.State != idem.StateInProgress {
		t.Fatalf("reservation %s, want in_progress", rec.State)
	}
}
