package jobs_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"microcert/shared/domain"
	"microcert/shared/jobs"
)

// expiry of the certifications of these tests: the end of 27 November
// 2027, Beijing time.
var expires = domain.EndOfBeijingDay(time.Date(2027, 11, 27, 12, 0, 0, 0, domain.Beijing()))

// daysBefore lists the Beijing days (relative to the expiry day) on which
// the daily runs sent a reminder.
func daysBefore(ns []domain.Notification) []int {
	var out []int
	for _, n := range ns {
		if n.Kind == jobs.KindReminder {
			out = append(out, -int(beijingMorning(n.CreatedAt, 0).Sub(beijingMorning(expires, 0)).Hours()/24))
		}
	}
	return out
}

func TestRemindersEachMilestoneOnce(t *testing.T) {
	e := newEnv(t)
	ent := domain.NewID()
	e.createCert(newCert(ent, domain.CertWeCom, expires))

	// Every day from 75 days before expiry to 3 days after it, the job runs
	// twice (a rerun of the same schedule).
	for d := -75; d <= 3; d++ {
		now := beijingMorning(expires, d)
		first := e.reminders().Run(ctx, now)
		second := e.reminders().Run(ctx, now)
		if !first.Complete || first.Count(jobs.OutFailed) > 0 {
			t.Fatalf("day %d: %+v", d, first)
		}
		if second.Read != 0 {
			t.Errorf("day %d: the rerun read %d items, want 0 (the cert left the index)", d, second.Read)
		}
	}
	ns := e.notifications(ent)
	if d := cmp.Diff([]int{60, 30, 7, 1}, daysBefore(ns)); d != "" {
		t.Errorf("reminders on days before expiry (-want +got):\n%s", d)
	}
	for _, m := range []int{60, 30, 7, 1} {
		e.markExists(ent, domain.CertWeCom, 1, m)
	}
	c := e.cert(ent, domain.CertWeCom)
	if c.RemindAt != nil {
		t.Errorf("after the last milestone RemindAt = %v, want nil", c.RemindAt)
	}

	// The message names the type, the expiry date in Beijing time and the
	// annual review, in both languages.
	n := ns[0]
	for _, want := range []string{"企业微信", "2027年11月27日", "北京时间", "年审", "60天"} {
		if !strings.Contains(n.Title.Zh+n.Body.Zh, want) {
			t.Errorf("zh message lacks %q: %s / %s", want, n.Title.Zh, n.Body.Zh)
		}
	}
	for _, want := range []string{"WeCom", "27 November 2027", "Beijing time", "annual review", "60 days"} {
		if !strings.Contains(n.Title.En+n.Body.En, want) {
			t.Errorf("en message lacks %q: %s / %s", want, n.Title.En, n.Body.En)
		}
	}
}

func TestRemindersConfigurableMilestones(t *testing.T) {
	e := newEnv(t)
	r := rules.Clone()
	r.ReminderDays = []int{45, 3}
	cfg := e.config()
	cfg.Rules = r
	ent := domain.NewID()
	c := newCert(ent, domain.CertMiniProgram, expires)
	c.RemindAt = c.NextReminderAt(c.IssuedAt, r, nil)
	e.createCert(c)
	for d := -75; d <= 0; d++ {
		jobs.NewReminders(cfg).Run(ctx, beijingMorning(expires, d))
	}
	if d := cmp.Diff([]int{45, 3}, daysBefore(e.notifications(ent))); d != "" {
		t.Errorf("reminders (-want +got):\n%s", d)
	}
}

// A job that was down for weeks sends only the most urgent milestone.
func TestRemindersAfterOutageSendMostUrgentOnly(t *testing.T) {
	e := newEnv(t)
	ent := domain.NewID()
	e.createCert(newCert(ent, domain.CertOfficialAccount, expires))
	s := e.reminders().Run(ctx, beijingMorning(expires, -20))
	if s.Count(jobs.OutSent) != 1 {
		t.Fatalf("summary %+v", s)
	}
	if d := cmp.Diff([]int{20}, daysBefore(e.notifications(ent))); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	e.markExists(ent, domain.CertOfficialAccount, 1, 30)
	if got := e.cert(ent, domain.CertOfficialAccount).RemindAt; got == nil || !got.Equal(beijingMorning(expires, -7).Add(-9*time.Hour)) {
		t.Errorf("RemindAt = %v, want the start of the 7-day milestone", got)
	}
}

func TestRemindersConcurrentRunsSendOnce(t *testing.T) {
	e := newEnv(t)
	const certs, runs = 30, 4
	var ents []string
	for range certs {
		ent := domain.NewID()
		ents = append(ents, ent)
		e.createCert(newCert(ent, domain.CertWeCom, expires))
	}
	now := beijingMorning(expires, -30)
	var wg sync.WaitGroup
	sums := make([]jobs.Summary, runs)
	for i := range runs {
		wg.Go(func() { sums[i] = e.reminders().Run(ctx, now) })
	}
	wg.Wait()
	sent := 0
	for _, s := range sums {
		sent += s.Count(jobs.OutSent)
		if s.Count(jobs.OutFailed) > 0 || !s.Complete {
			t.Errorf("run: %+v", s)
		}
	}
	t.Logf("overlapping runs: %+v", sums)
	if sent != certs {
		t.Errorf("%d reminders sent over %d overlapping runs, want %d", sent, runs, certs)
	}
	for _, ent := range ents {
		if got := daysBefore(e.notifications(ent)); !cmp.Equal(got, []int{30}) {
			t.Errorf("enterprise %s got reminders %v, want [30]", ent, got)
		}
	}
	if s := e.reminders().Run(ctx, now); s.Read != 0 {
		t.Errorf("a later run read %d items, want 0", s.Read)
	}
}

// A mark without the RemindAt move (a crash between two writes of an
// older version, a restored backup, ...) is a duplicate: nothing is sent,
// and the certification still moves on so it leaves the index.
func TestRemindersDuplicateMarkMovesOn(t *testing.T) {
	e := newEnv(t)
	ent := domain.NewID()
	e.createCert(newCert(ent, domain.CertWeCom, expires))
	now := beijingMorning(expires, -60)
	e.commit(&domain.Change{ReminderMarks: []domain.ReminderMark{{EnterpriseID: ent, Type: domain.CertWeCom, Cycle: 1, Milestone: 60, At: now}}})

	s := e.reminders().Run(ctx, now)
	if s.Count(jobs.OutDuplicate) != 1 || s.Count(jobs.OutSent) != 0 {
		t.Fatalf("summary %+v, want one duplicate", s)
	}
	if ns := e.notifications(ent); len(ns) != 0 {
		t.Errorf("notifications %v, want none", ns)
	}
	if got := e.cert(ent, domain.CertWeCom).RemindAt; got == nil || !got.After(now) {
		t.Errorf("RemindAt = %v, want the next milestone", got)
	}
	if s := e.reminders().Run(ctx, now); s.Read != 0 {
		t.Errorf("rerun read %d, want 0", s.Read)
	}
}

func TestRemindersRenewalStopsOldCycle(t *testing.T) {
	e := newEnv(t)
	ent := domain.NewID()
	old := newCert(ent, domain.CertWeCom, expires)
	e.createCert(old)
	e.reminders().Run(ctx, beijingMorning(expires, -60))

	// The annual review is approved 40 days before expiry: a new cycle,
	// extended from the old expiry. The approval leaves RemindAt as it was
	// (the 30-day milestone of the old cycle): the job must notice.
	approvedAt := beijingMorning(expires, -40)
	cur := e.cert(ent, domain.CertWeCom)
	renewed, _, err := domain.ApproveCertification(cur, ent, domain.CertWeCom, domain.KindAnnualReview, domain.NewIDAt(approvedAt), approvedAt, rules)
	if err != nil {
		t.Fatal(err)
	}
	renewed.Version = domain.NextVersion(cur.Version)
	e.commit(&domain.Change{Certifications: []domain.CertificationWrite{{Certification: &renewed, ExpectVersion: cur.Version}}})
	if renewed.Cycle != 2 {
		t.Fatalf("cycle %d", renewed.Cycle)
	}

	for d := -39; d <= 2; d++ {
		e.reminders().Run(ctx, beijingMorning(expires, d))
	}
	if got := daysBefore(e.notifications(ent)); !cmp.Equal(got, []int{60}) {
		t.Errorf("reminders of the old cycle: %v, want only [60]", got)
	}
	// The new cycle's first milestone comes 60 days before the new expiry.
	next := e.cert(ent, domain.CertWeCom).RemindAt
	want := beijingMorning(renewed.ExpiresAt, -60).Add(-9 * time.Hour)
	if next == nil || !next.Equal(want) {
		t.Fatalf("RemindAt = %v, want %v", next, want)
	}
	s := e.reminders().Run(ctx, beijingMorning(renewed.ExpiresAt, -60))
	if s.Count(jobs.OutSent) != 1 {
		t.Fatalf("new cycle: %+v", s)
	}
	e.markExists(ent, domain.CertWeCom, 2, 60)
}

// Certifications that are no longer active get no reminders, and leave
// the index.
func TestRemindersSkipInactive(t *testing.T) {
	e := newEnv(t)
	now := beijingMorning(expires, -7)
	for _, st := range []domain.CertStatus{domain.CertRevoked, domain.CertCancelled} {
		t.Run(string(st), func(t *testing.T) {
			ent := domain.NewID()
			c := newCert(ent, domain.CertWeCom, expires)
			c.Status = st
			c.RemindAt = ptr(now.Add(-time.Hour)) // left by an older write
			e.createCert(c)
			s := e.reminders().Run(ctx, now)
			if s.Count(jobs.OutRescheduled) != 1 || s.Count(jobs.OutSent) != 0 {
				t.Errorf("summary %+v", s)
			}
			if got := e.cert(ent, domain.CertWeCom).RemindAt; got != nil {
				t.Errorf("RemindAt = %v, want nil", got)
			}
		})
	}
}
