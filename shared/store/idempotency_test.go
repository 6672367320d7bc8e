package store

import (
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
