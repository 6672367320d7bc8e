package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"microcert/shared/domain"
	"microcert/shared/idem"
)

func idemRecord(t *testing.T, s *Store, key string) *idem.Record {
	t.Helper()
	av, err := s.getItem(ctx, idemPK(key), skIdem)
	if err != nil {
		t.Fatalf("read reservation %s: %v", key, err)
	}
	rec, err := decodeIdem(av)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestIdempotencyLifecycle(t *testing.T) {
	s, _ := newStore(t)
	lease := time.Minute
	rec := func(token, fp string, now time.Time) idem.Record {
		return idem.Record{Key: "K", Fingerprint: fp, Token: token, LeaseUntil: now.Add(lease), ExpiresAt: now.Add(24 * time.Hour)}
	}
	type step struct {
		name string
		do   func(t *testing.T) (*idem.Record, error)
		// want: nil = reserved; else the state/token of the existing record returned.
		wantState, wantToken string
		wantCode             string
	}
	reserve := func(token, fp string, now time.Time) func(t *testing.T) (*idem.Record, error) {
		return func(t *testing.T) (*idem.Record, error) {
			res, err := s.ReserveIdempotency(ctx, rec(token, fp, now), now)
			if res.Held {
				return nil, err
			}
			return &res.Existing, err
		}
	}
	noRec := func(f func() error) func(t *testing.T) (*idem.Record, error) {
		return func(t *testing.T) (*idem.Record, error) { return nil, f() }
	}
	steps := []step{
		{name: "first request reserves", do: reserve("t1", "fp", t0)},
		{name: "a retry while it runs sees it in progress", do: reserve("t2", "fp", t0.Add(time.Second)), wantState: idem.StateInProgress, wantToken: "t1"},
		{name: "another body with the key sees it too (caller: 422)", do: reserve("t2", "other", t0.Add(2*time.Minute)), wantState: idem.StateInProgress, wantToken: "t1"},
		{name: "after the lease a retry takes over", do: reserve("t2", "fp", t0.Add(2*time.Minute))},
		{name: "the old attempt can no longer release", do: noRec(func() error { return s.ReleaseIdempotency(ctx, "K", "t1") }), wantCode: "reservation_lost"},
		{name: "nor complete", do: noRec(func() error { return s.CompleteIdempotency(ctx, "K", "t1", 200, nil, "{}") }), wantCode: "reservation_lost"},
		{name: "the new one commits its side effect", do: noRec(func() error {
			return s.Commit(idem.WithMark(ctx, idem.Mark{Key: "K", Token: "t2"}), &domain.Change{History: []domain.HistoryRecord{hist("c", t0, "x")}})
		})},
		{name: "an applied reservation is not taken over, even after the lease", do: reserve("t3", "fp", t0.Add(time.Hour)), wantState: idem.StateApplied, wantToken: "t2"},
		{name: "an applied reservation cannot be released", do: noRec(func() error { return s.ReleaseIdempotency(ctx, "K", "t2") }), wantCode: "reservation_lost"},
		{name: "complete stores the response", do: noRec(func() error {
			return s.CompleteIdempotency(ctx, "K", "t2", 201, map[string]string{"Content-Type": "application/json"}, `{"id":"x"}`)
		})},
		{name: "a retry gets the response to replay", do: reserve("t4", "fp", t0.Add(2*time.Hour)), wantState: idem.StateDone, wantToken: "t2"},
		{name: "after expiry the key is free again", do: reserve("t5", "other", t0.Add(25*time.Hour))},
		{name: "released reservations free the key at once", do: noRec(func() error { return s.ReleaseIdempotency(ctx, "K", "t5") })},
		{name: "reserve after release", do: reserve("t6", "fp", t0.Add(25*time.Hour))},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			got, err := st.do(t)
			if st.wantCode != "" {
				wantCode(t, err, domain.KindConflict, st.wantCode)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if st.wantState == "" {
				if got != nil {
					t.Fatalf("got existing record %+v, want a reservation", got)
				}
				return
			}
			if got == nil || got.State != st.wantState || got.Token != st.wantToken {
				t.Fatalf("got %+v, want state %s token %s", got, st.wantState, st.wantToken)
			}
		})
	}

	// What a replay reads.
	s2, _ := newStore(t)
	if _, err := s2.ReserveIdempotency(ctx, rec("a", "fp", t0), t0); err != nil {
		t.Fatal(err)
	}
	if err := s2.CompleteIdempotency(ctx, "K", "a", 201, map[string]string{"Location": "/v1/cases/x"}, `{"id":"x"}`); err != nil {
		t.Fatal(err)
	}
	got, err := s2.ReserveIdempotency(ctx, rec("b", "fp", t0.Add(time.Second)), t0.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	want := &idem.Record{Key: "K", Fingerprint: "fp", State: idem.StateDone, Token: "a", LeaseUntil: t0.Add(lease),
		ExpiresAt: t0.Add(24 * time.Hour), Status: 201, Headers: map[string]string{"Location": "/v1/cases/x"}, Body: `{"id":"x"}`}
	if d := diff(want, &got.Existing); d != "" {
		t.Errorf("replayed record (-want +got):\n%s", d)
	}
	if ttl := rawTTL(t, s2, idemPK("K"), skIdem); ttl != t0.Add(24*time.Hour).Unix() {
		t.Errorf("ttl %d", ttl)
	}
}

// TestKeyCreatedWithChange: a mark without a reservation (idem.Mark.Create)
// has the change's transaction create the key's record, on condition that
// the key is free, so a second change under the key never commits; the
// answer of a request whose change went first (or that had none) is
// stored with RecordIdempotency, which never replaces another request's
// record.
func TestKeyCreatedWithChange(t *testing.T) {
	s, _ := newStore(t)
	e := createEnterprise(t, s, "u1")
	c := createCase(t, s, e, t0)
	rec := func(key, token, fp string, now time.Time) idem.Record {
		return idem.Record{Key: key, Fingerprint: fp, Token: token, LeaseUntil: now.Add(time.Minute), ExpiresAt: now.Add(24 * time.Hour)}
	}
	created := func(key, token, fp string, now time.Time) context.Context {
		r := rec(key, token, fp, now)
		return idem.WithMark(ctx, idem.Mark{Key: key, Token: token, Create: &r, At: now})
	}
	n := 0
	change := func() *domain.Change {
		n++
		return &domain.Change{History: []domain.HistoryRecord{hist(c.ID, t0.Add(time.Duration(n)*time.Second), "x")}}
	}
	histories := func() int { return historyCount(t, s, c.ID) }
	answer := idem.Response{Status: 200, Headers: map[string]string{"Content-Type": "application/json"}, Body: `{"id":"x"}`}
	other := idem.Response{Status: 200, Body: `{"id":"y"}`}
	held := func(key, token, fp string, now time.Time) error {
		var d idem.Deferral
		hctx := idem.WithDeferral(created(key, token, fp, now), &d)
		if err := s.Commit(hctx, change()); err != nil || !d.Holding() {
			t.Fatalf("held commit: %v (holding %v)", err, d.Holding())
		}
		return d.Write(hctx, &answer)
	}
	record := func(key, token, fp string, now time.Time, resp idem.Response) func() (idem.Reservation, error) {
		return func() (idem.Reservation, error) { return s.RecordIdempotency(ctx, rec(key, token, fp, now), resp, now) }
	}
	commit := func(key, token, fp string, now time.Time) func() (idem.Reservation, error) {
		return func() (idem.Reservation, error) {
			return idem.Reservation{Held: true}, s.Commit(created(key, token, fp, now), change())
		}
	}
	reserve := func(key, token, fp string, now time.Time) func() (idem.Reservation, error) {
		return func() (idem.Reservation, error) { return s.ReserveIdempotency(ctx, rec(key, token, fp, now), now) }
	}
	steps := []struct {
		name string
		do   func() (idem.Reservation, error)
		// wantCode: the error; else Held, or the record in the way
		// (wantState, wantToken).
		wantCode             string
		wantState, wantToken string
		// afterState, afterToken: the record of key K after the step;
		// applied: whether the step's change was written.
		afterState, afterToken string
		applied                bool
	}{
		{name: "the held change creates the record, done with the answer", do: func() (idem.Reservation, error) {
			return idem.Reservation{Held: true}, held("K", "t1", "fp", t0)
		}, afterState: idem.StateDone, afterToken: "t1", applied: true},
		{name: "a twin's change fails on it", do: commit("K", "t2", "fp", t0.Add(time.Second)),
			wantCode: "request_already_applied", afterState: idem.StateDone, afterToken: "t1"},
		{name: "another request's too", do: commit("K", "t2", "other", t0.Add(time.Second)),
			wantCode: "request_already_applied", afterState: idem.StateDone, afterToken: "t1"},
		{name: "an answer without a change is not stored over it", do: record("K", "t3", "fp", t0.Add(time.Second), other),
			wantState: idem.StateDone, wantToken: "t1", afterState: idem.StateDone, afterToken: "t1"},
		{name: "after expiry an immediate commit creates it applied", do: commit("K", "t4", "fp", t0.Add(25*time.Hour)),
			afterState: idem.StateApplied, afterToken: "t4", applied: true},
		{name: "a twin's answer is not stored over it", do: record("K", "t5", "fp", t0.Add(25*time.Hour), other),
			wantState: idem.StateApplied, wantToken: "t4", afterState: idem.StateApplied, afterToken: "t4"},
		{name: "its own answer completes it", do: record("K", "t4", "fp", t0.Add(25*time.Hour), answer),
			afterState: idem.StateDone, afterToken: "t4"},
		{name: "the same answer again (its put's response lost) is its own", do: record("K", "t4", "fp", t0.Add(25*time.Hour), answer),
			afterState: idem.StateDone, afterToken: "t4"},
		{name: "another answer of the same attempt does not replace it", do: record("K", "t4", "fp", t0.Add(25*time.Hour), other),
			wantState: idem.StateDone, wantToken: "t4", afterState: idem.StateDone, afterToken: "t4"},
		{name: "a reservation of the same request, abandoned", do: reserve("K2", "r1", "fp", t0)},
		{name: "is taken over by the commit once its lease ended", do: commit("K2", "t6", "fp", t0.Add(2*time.Minute)), applied: true},
		{name: "a reservation of another request", do: reserve("K3", "r2", "fp", t0)},
		{name: "is not, even once its lease ended", do: commit("K3", "t7", "other", t0.Add(2*time.Minute)), wantCode: "request_already_applied"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before := histories()
			got, err := st.do()
			switch {
			case st.wantCode != "":
				wantCode(t, err, domain.KindConflict, st.wantCode)
			case err != nil:
				t.Fatal(err)
			case st.wantState == "" && !got.Held:
				t.Fatalf("got the record in the way %+v, want success", got.Existing)
			case st.wantState != "" && (got.Held || got.Existing.State != st.wantState || got.Existing.Token != st.wantToken):
				t.Fatalf("got %+v, want the record in the way, %s by %s", got, st.wantState, st.wantToken)
			}
			if applied := histories() > before; applied != st.applied {
				t.Fatalf("change applied: %v, want %v", applied, st.applied)
			}
			if st.afterState != "" {
				r, err := s.LookupIdempotency(ctx, "K")
				if err != nil {
					t.Fatal(err)
				}
				if r.State != st.afterState || r.Token != st.afterToken {
					t.Fatalf("record %s by %s, want %s by %s", r.State, r.Token, st.afterState, st.afterToken)
				}
				if r.State == idem.StateDone && (r.Status != answer.Status || r.Body != answer.Body) {
					t.Fatalf("stored answer %d %s, want %d %s", r.Status, r.Body, answer.Status, answer.Body)
				}
			}
		})
	}
	if _, err := s.LookupIdempotency(ctx, "nobody"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("lookup of a key never used: %v, want not found", err)
	}
}
