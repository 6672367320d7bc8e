package jobs_test

import (
	"fmt"
	"testing"
	"time"

	"microcert/shared/domain"
	"microcert/shared/jobs"
)

// The table of the scale tests: total certifications of which 25 are due
// for a reminder and 25 for expiry at now, and 1,000 cases none of which
// is due. Every other certification sits in both RemindIndex and DueIndex
// too, with times after now: the indexes are large, the due work small.
type scaleTable struct {
	now                 time.Time
	remindDue, expiring []string // enterprise ids
}

const (
	dueEach    = 25
	scaleCases = 1000
)

func seedScale(tb testing.TB, e *env, total int) scaleTable {
	tb.Helper()
	now := beijingMorning(expires, -30)
	st := scaleTable{now: now}
	for range dueEach {
		ent := domain.NewID()
		e.createCert(newCert(ent, domain.CertWeCom, expires))
		st.remindDue = append(st.remindDue, ent)

		ent = domain.NewID()
		c := newCert(ent, domain.CertOfficialAccount, now.Add(-48*time.Hour))
		c.RemindAt = nil
		e.createCert(c)
		st.expiring = append(st.expiring, ent)
	}
	// Not due: expires 200 days later; next reminder after now.
	tmpl := newCert(domain.NewID(), domain.CertMiniProgram, expires.AddDate(0, 0, 200))
	if tmpl.RemindAt == nil || !tmpl.RemindAt.After(now) {
		tb.Fatalf("template RemindAt %v", tmpl.RemindAt)
	}
	e.createCert(tmpl)
	e.seedClones("ENT#"+tmpl.EnterpriseID, "B#CERT#mini_program", tmpl.EnterpriseID, total-2*dueEach-1)

	kase := newCase(now.Add(-time.Hour))
	kase.Status = domain.CaseSubmitted
	kase.SubmittedAt, kase.ReviewDueAt = ptr(now.Add(-time.Hour)), ptr(now.Add(5*24*time.Hour))
	kase.Deposit = &domain.Deposit{Status: domain.DepositPending, Deadline: now.Add(71 * time.Hour)}
	e.commit(&domain.Change{Cases: []domain.CaseWrite{{Case: kase, Create: true}}})
	e.seedClones("CASE#"+kase.ID, "A#CASE", kase.ID, scaleCases-1)
	return st
}

// readOnlyDue runs both jobs over the table and checks that they read the
// due items and nothing else; it returns the items read by each.
func readOnlyDue(tb testing.TB, e *env, st scaleTable) (reminderRead, expiryRead int) {
	tb.Helper()
	e.counter.Reset()
	s := e.reminders().Run(ctx, st.now)
	reminderRead = e.counter.ItemsRead()
	if s.Count(jobs.OutSent) != dueEach || !s.Complete {
		tb.Errorf("reminders: %+v", s)
	}
	if reminderRead != dueEach || e.counter.Calls("Scan") != 0 {
		tb.Errorf("reminder job read %d items (%d Scans), want the %d due ones only", reminderRead, e.counter.Calls("Scan"), dueEach)
	}

	e.counter.Reset()
	s = e.expiry().Run(ctx, st.now)
	expiryRead = e.counter.ItemsRead()
	if s.Count(jobs.OutOverdue) != dueEach || !s.Complete {
		tb.Errorf("expiry: %+v", s)
	}
	if expiryRead != dueEach || e.counter.Calls("Scan") != 0 {
		tb.Errorf("expiry job read %d items (%d Scans), want the %d due ones only", expiryRead, e.counter.Calls("Scan"), dueEach)
	}

	// Done work left the indexes: the next runs read nothing.
	e.counter.Reset()
	e.reminders().Run(ctx, st.now)
	e.expiry().Run(ctx, st.now)
	if n := e.counter.ItemsRead(); n != 0 {
		tb.Errorf("reruns read %d items, want 0", n)
	}
	return reminderRead, expiryRead
}

// TestJobsReadOnlyDueItems: with 10,000 and 50,000 certifications the jobs
// read the same 50 due items. The stand-in's cost per write grows with the
// table (each TransactWriteItems copies the whole table, each Put re-sorts
// the indexes): the 10k run takes about a minute, the 50k one about five,
// so the 50k one is skipped with -short (BenchmarkJobsAtScale, run by make
// bench, covers it too).
func TestJobsReadOnlyDueItems(t *testing.T) {
	sizes := []int{10_000, 50_000}
	read := map[int][2]int{}
	for _, n := range sizes {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			if n > 10_000 && testing.Short() {
				t.Skip("-short: the 50k table takes minutes to seed and run on the stand-in")
			}
			start := time.Now()
			e := newEnv(t)
			st := seedScale(t, e, n)
			seeded := time.Since(start)
			start = time.Now()
			r, x := readOnlyDue(t, e, st)
			read[n] = [2]int{r, x}
			t.Logf("%d certifications + %d cases: seeded in %v; reminder job read %d items, expiry job %d; runs took %v",
				n, scaleCases, seeded.Round(time.Millisecond), r, x, time.Since(start).Round(time.Millisecond))
		})
	}
	if len(read) == len(sizes) && read[10_000] != read[50_000] {
		t.Errorf("items read grew with the table: %v", read)
	}
}

func BenchmarkJobsAtScale(b *testing.B) {
	sizes := []int{10_000, 50_000}
	if testing.Short() {
		// The smoke run only proves the benchmark still works.
		sizes = []int{1_000}
	}
	for _, n := range sizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				e := newEnv(b)
				st := seedScale(b, e, n)
				b.StartTimer()
				r, x := readOnlyDue(b, e, st)
				b.ReportMetric(float64(r+x), "items-read/run")
			}
		})
	}
}
