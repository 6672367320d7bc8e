package jobs_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"microcert/shared/clock"
	"microcert/shared/domain"
	"microcert/shared/jobs"
)

// crashStore lets N commits through, then calls hit (once) and goes on.
// With after = true, the N+1-th commit is written but its answer is lost
// (the context is cancelled under it, as when Lambda kills the sandbox
// mid-call).
type crashStore struct {
	jobs.Store
	n     int
	after bool
	hit   func()

	mu    sync.Mutex
	count int
}

func (s *crashStore) Commit(ctx context.Context, ch *domain.Change) error {
	s.mu.Lock()
	s.count++
	k := s.count
	s.mu.Unlock()
	if k == s.n+1 && s.after {
		err := s.Store.Commit(context.WithoutCancel(ctx), ch)
		s.hit()
		if err != nil {
			return err
		}
		return context.Canceled
	}
	err := s.Store.Commit(ctx, ch)
	if k == s.n {
		s.hit()
	}
	return err
}

// seedDue writes n certifications due for a reminder, n due for expiry and
// n cases with a stale deposit at now.
func seedDue(e *env, n int, now time.Time) (remind, expire []string, cases []string) {
	for range n {
		ent := domain.NewID()
		e.createCert(newCert(ent, domain.CertWeCom, expires))
		remind = append(remind, ent)

		ent = domain.NewID()
		c := newCert(ent, domain.CertMiniProgram, now.Add(-24*time.Hour))
		c.RemindAt = nil
		e.createCert(c)
		expire = append(expire, ent)

		k := newCase(now.Add(-80 * time.Hour))
		k.Deposit = &domain.Deposit{Status: domain.DepositPending, Deadline: now.Add(-8 * time.Hour), AttemptsLeft: 3}
		e.commit(&domain.Change{Cases: []domain.CaseWrite{{Case: k, Create: true}}})
		cases = append(cases, k.ID)
	}
	return remind, expire, cases
}

func TestCrashMidRunThenRerun(t *testing.T) {
	const due, crashAfter = 45, 17
	for _, mode := range []struct {
		name  string
		after bool // the commit in flight lands but its answer is lost
	}{{"deadline near", false}, {"killed mid-commit", true}} {
		t.Run(mode.name, func(t *testing.T) {
			e := newEnv(t)
			now := beijingMorning(expires, -30)
			remind, expire, cases := seedDue(e, due, now)

			type jobOf func(jobs.Config) jobs.Job
			for _, j := range []struct {
				name  string
				new   jobOf
				items int
			}{
				{"reminder", func(c jobs.Config) jobs.Job { return jobs.NewReminders(c) }, due},
				{"expiry", func(c jobs.Config) jobs.Job { return jobs.NewExpiry(c) }, 2 * due},
			} {
				// First run: the deadline (or the kill) comes after
				// crashAfter items. Small pages, several workers.
				deadline := time.Now().Add(time.Hour)
				runCtx, cancel := context.WithDeadline(ctx, deadline)
				wall := clock.NewFake(time.Now())
				cfg := e.config()
				cfg.PageSize, cfg.Workers, cfg.Wall = 10, 3, wall
				cfg.Store = &crashStore{Store: e.store, n: crashAfter, after: mode.after, hit: func() {
					if mode.after {
						cancel()
					} else {
						wall.Set(deadline.Add(-time.Second)) // within the safety margin
					}
				}}
				first := j.new(cfg).Run(runCtx, now)
				cancel()
				if first.Complete || first.Err() == nil {
					t.Fatalf("%s: first run complete: %+v", j.name, first)
				}
				done := 0
				for o, n := range first.Counts {
					if o != jobs.OutFailed && o != jobs.OutConflict {
						done += n
					}
				}
				if !mode.after && first.Count(jobs.OutFailed) > 0 {
					t.Errorf("%s: stopping at the deadline failed items: %+v", j.name, first)
				}
				// Commits in flight when the kill comes fail with it.
				if done < crashAfter-cfg.Workers || done >= j.items {
					t.Errorf("%s: first run did %d of %d items: %+v", j.name, done, j.items, first)
				}

				// The rerun (or Lambda's retry) finishes the rest.
				second := j.new(e.config()).Run(ctx, now)
				if !second.Complete || second.Err() != nil {
					t.Fatalf("%s: rerun: %+v", j.name, second)
				}
				t.Logf("%s: first %+v; rerun %+v", j.name, first.Counts, second.Counts)
				if third := j.new(e.config()).Run(ctx, now); third.Read != 0 {
					t.Errorf("%s: third run read %d", j.name, third.Read)
				}
			}

			// Every due item was processed exactly once.
			for _, ent := range remind {
				ns := e.notifications(ent)
				if len(ns) != 1 || ns[0].Kind != jobs.KindReminder {
					t.Errorf("enterprise %s: notifications %+v, want one reminder", ent, ns)
				}
			}
			for _, ent := range expire {
				if got := e.cert(ent, domain.CertMiniProgram); got.Status != domain.CertOverdue {
					t.Errorf("enterprise %s: %s, want overdue", ent, got.Status)
				}
				if ns, hs := e.notifications(ent), e.history("ENT#"+ent); len(ns) != 1 || len(hs) != 1 {
					t.Errorf("enterprise %s: %d notifications, %d history entries; want 1 and 1", ent, len(ns), len(hs))
				}
			}
			for _, id := range cases {
				c, err := e.store.GetCase(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if c.Deposit.Status != domain.DepositExpired || c.Version != 2 {
					t.Errorf("case %s: deposit %s version %d; want expired, written once", id, c.Deposit.Status, c.Version)
				}
			}
		})
	}
}
