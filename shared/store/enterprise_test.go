package store

import (
	"sync"
	"testing"

	"microcert/shared/domain"
)

func TestEnterpriseCreateGetUpdate(t *testing.T) {
	s, counter := newStore(t)
	e := createEnterprise(t, s, "user-1")

	counter.Reset()
	got, certs, err := s.GetEnterprise(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := diff(e, got); d != "" {
		t.Errorf("GetEnterprise (-want +got):\n%s", d)
	}
	if len(certs) != 0 {
		t.Errorf("certs = %v, want none", certs)
	}
	if n := counter.TotalCalls(); n != 1 || counter.Calls("Query") != 1 {
		t.Errorf("GetEnterprise made %d calls, want one Query", n)
	}

	next := *e
	next.Version = 2
	next.OperatingAddress = "深圳市福田区福华路2号"
	next.LegalRep.Phone = "13900139000"
	mustCommit(t, s, &domain.Change{Enterprises: []domain.EnterpriseWrite{{Enterprise: &next, ExpectVersion: 1}}})
	got, _, err = s.GetEnterprise(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := diff(&next, got); d != "" {
		t.Errorf("after update (-want +got):\n%s", d)
	}

	// A stale version loses.
	stale := next
	stale.Version = 2
	stale.Name = "stale"
	err = s.Commit(ctx, &domain.Change{Enterprises: []domain.EnterpriseWrite{{Enterprise: &stale, ExpectVersion: 1}}})
	wantCode(t, err, domain.KindConflict, "version_conflict")

	// Unknown enterprise.
	_, _, err = s.GetEnterprise(ctx, domain.NewIDAt(t0))
	wantCode(t, err, domain.KindNotFound, "not_found")
}

func TestEnterpriseUSCCUnique(t *testing.T) {
	s, _ := newStore(t)
	e := createEnterprise(t, s, "user-1")

	dup := sampleEnterprise("user-2")
	dup.USCC = e.USCC
	err := s.Commit(ctx, &domain.Change{Enterprises: []domain.EnterpriseWrite{{Enterprise: dup, Create: true}}})
	wantCode(t, err, domain.KindConflict, "enterprise_exists")
	// Nothing of the loser was written.
	_, _, err = s.GetEnterprise(ctx, dup.ID)
	wantCode(t, err, domain.KindNotFound, "not_found")

	// Racing creates of one USCC: exactly one wins.
	const n = 8
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		wins   int
		losses int
	)
	uscc := domain.SampleUSCC(900001)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := sampleEnterprise("racer")
			x.USCC = uscc
			err := s.Commit(ctx, &domain.Change{Enterprises: []domain.EnterpriseWrite{{Enterprise: x, Create: true}}})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case domain.CodeOf(err) == "enterprise_exists":
				losses++
			default:
				t.Errorf("racing create: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || losses != n-1 {
		t.Errorf("wins %d, losses %d; want 1 and %d", wins, losses, n-1)
	}
}
