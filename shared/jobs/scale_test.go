package jobs_test

import (
	"fmt"
	"testing"
	"time"

	"microcert/shared/domain"
	"microcert/shared/jobs"
)

// The table of the scale tests: certs certifications of which 25 are due
// for a reminder and 25 for expiry at now, and cases cases none of which
// is due. Every other certification sits in both RemindIndex and DueIndex
// too, with times after now: the indexes are large, the due work small.
type scaleTable struct {
	now                 time.Time
	remindDue, expiring []string // enterprise ids
}

// scaleSize is one table size: certifications and (not due) cases.
type scaleSize struct{ certs, cases int }

func (s scaleSize) String() string { return fmt.Sprintf("%dcerts+%dcases", s.certs, s.cases) }

const dueEach = 25

func seedScale(tb testing.TB, e *env, size scaleSize) scaleTable {
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
	e.seedClones("ENT#"+tmpl.EnterpriseID, "B#CERT#mini_program", tmpl.EnterpriseID, size.certs-2*dueEach-1)

	kase := newCase(now.Add(-time.Hour))
	kase.Status = domain.CaseSubmitted
	kase.SubmittedAt, kase.ReviewDueAt = ptr(now.Add(-time.Hour)), ptr(now.Add(5*24*time.Hour))
	kase.Deposit = &domain.Deposit{Status: domain.DepositPending, Deadline: now.Add(71 * time.Hour)}
	e.commit(&domain.Change{Cases: []domain.CaseWrite{{Case: kase, Create: true}}})
	e.seedClones("CASE#"+kase.ID, "A#CASE", kase.ID, size.cases-1)
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

// TestJobsReadOnlyDueItems: whatever the size of the table, the jobs read
// the same 50 due items and nothing else. The sizes here are small because
// the stand-in's cost per write grows with the table (each
// TransactWriteItems copies the whole table, each Put re-sorts the indexes);
// BenchmarkJobsAtScale (make bench) runs the same check on 2,000 and
// 10,000 certifications.
func TestJobsReadOnlyDueItems(t *testing.T) {
	small, large := scaleSize{certs: 200, cases: 20}, scaleSize{certs: 1_000, cases: 100}
	read := map[scaleSize][2]int{}
	for _, size := range []scaleSize{small, large} {
		t.Run(size.String(), func(t *testing.T) {
			e := newEnv(t)
			st := seedScale(t, e, size)
			r, x := readOnlyDue(t, e, st)
			read[size] = [2]int{r, x}
		})
	}
	if len(read) == 2 && read[small] != read[large] {
		t.Errorf("items read grew with the table: %v", read)
	}
}

// BenchmarkJobsAtScale seeds 2,000 and 10,000 certifications (plus 200
// and 1,000 cases) and checks, as the test does, that each job reads only
// the due items; it reports how many. Items read, not seconds, are the
// figure: the stand-in's Query walks the whole index and its writes slow
// down as the table grows, so larger tables add minutes and no
// information (five times the rows, the same items read, is the claim).
// make bench runs it once per size; make test does not (bench-smoke runs
// it once on 1,000).
func BenchmarkJobsAtScale(b *testing.B) {
	sizes := []scaleSize{{certs: 2_000, cases: 200}, {certs: 10_000, cases: 1_000}}
	if testing.Short() {
		// The smoke run only proves the benchmark still works.
		sizes = []scaleSize{{certs: 1_000, cases: 100}}
	}
	for _, size := range sizes {
		// Named by certifications: the bench report reads /2000 and /10000.
		b.Run(fmt.Sprint(size.certs), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				start := time.Now()
				e := newEnv(b)
				st := seedScale(b, e, size)
				b.Logf("%v seeded in %v", size, time.Since(start).Round(time.Millisecond))
				b.StartTimer()
				r, x := readOnlyDue(b, e, st)
				b.ReportMetric(float64(r+x), "items-read/run")
			}
		})
	}
}
