package jobs_test

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"microcert/shared/clock"
	"microcert/shared/domain"
	"microcert/shared/jobs"
)

// calendars is the operator's calendar as the job loads it.
type calendars struct{ cal *domain.Calendar }

func (c *calendars) Load(context.Context) *domain.Calendar { return c.cal }

// with2028 is the built-in data plus a 2028 whose first working day is
// 4 January.
func with2028(t *testing.T) *domain.Calendar {
	t.Helper()
	cal, err := domain.BuiltinCalendar().Extend("test 2028", []domain.CalendarYear{{Year: 2028,
		Holidays: []string{"2028-01-01", "2028-01-02", "2028-01-03"}}})
	if err != nil {
		t.Fatal(err)
	}
	return cal
}

// TestExpiryCalendarPastItsHorizon: cases submitted when the calendar's
// data ends before their deadline get a provisional one; the daily job
// rechecks it every day, and once the operator's data covers it the
// deadline becomes final (earlier: the provisional one had a margin), with
// the SLA checked against the final one in the same write.
func TestExpiryCalendarPastItsHorizon(t *testing.T) {
	e := newEnv(t)
	cals := &calendars{cal: domain.BuiltinCalendar()}
	cfg := e.config()
	cfg.Calendars = cals
	job := jobs.NewExpiry(cfg)

	// Submitted on 2027-12-28 with the built-in data (ends 2027-12-31).
	submitted := time.Date(2027, 12, 28, 10, 0, 0, 0, domain.Beijing())
	submit := func() *domain.Case {
		c := newCase(submitted.Add(-time.Hour))
		if _, err := c.Submit(domain.Actor{UserID: "user-1", Roles: []domain.Role{domain.RoleApplicant}}, submitted, rules, domain.BuiltinCalendar()); err != nil {
			t.Fatal(err)
		}
		e.commit(&domain.Change{Cases: []domain.CaseWrite{{Case: c, Create: true}}})
		return c
	}
	early := submit()
	submit() // a second one, to see the job handle several
	provisionalDue := time.Date(2028, 1, 12, 15, 59, 59, 0, time.UTC)
	if !early.ReviewDueProvisional() || !early.ReviewDueAt.Equal(provisionalDue) {
		t.Fatalf("submitted: due %v provisional %v", early.ReviewDueAt, early.ReviewDueProvisional())
	}
	get := func(id string) *domain.Case {
		c, err := e.store.GetCase(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	counts := func(s jobs.Summary) map[string]int {
		got := s.Counts
		delete(got, jobs.OutNotDue)
		return got
	}

	// 12-29: no data yet. Both stay provisional, rechecked the next day.
	s := job.Run(ctx, beijingMorning(submitted, 1))
	if d := cmp.Diff(map[string]int{jobs.OutReviewDueProvisional: 2}, counts(s)); d != "" {
		t.Fatalf("12-29 outcomes (-want +got):\n%s", d)
	}
	if s.Calendar == nil || s.Calendar.DaysLeft != 2 || s.Calendar.LastDay != "2027-12-31" || s.Calendar.Source != "lunar-go" {
		t.Fatalf("calendar %+v", s.Calendar)
	}
	c := get(early.ID)
	if !c.ReviewDueAt.Equal(provisionalDue) || c.ReviewDueRecheckAt == nil ||
		!c.ReviewDueRecheckAt.Equal(time.Date(2027, 12, 29, 16, 0, 0, 0, time.UTC)) {
		t.Fatalf("after the first recheck: due %v recheck %v", c.ReviewDueAt, c.ReviewDueRecheckAt)
	}
	if s := job.Run(ctx, beijingMorning(submitted, 1)); s.Read != 0 {
		t.Fatalf("a rerun the same day read %d", s.Read)
	}

	// 12-30: the operator published 2028. The early case settles: 12-29,
	// 12-30, 12-31, (01-01..03 off), 01-04, 01-05.
	cals.cal = with2028(t)
	s = job.Run(ctx, beijingMorning(submitted, 2))
	if d := cmp.Diff(map[string]int{jobs.OutReviewDueSettled: 2}, counts(s)); d != "" {
		t.Fatalf("12-30 outcomes (-want +got):\n%s", d)
	}
	if s.Calendar.DaysLeft != 367 || s.Calendar.LastDay != "2028-12-31" || s.Calendar.Source != "lunar-go + test 2028" {
		t.Fatalf("calendar %+v", s.Calendar)
	}
	c = get(early.ID)
	if want := time.Date(2028, 1, 5, 15, 59, 59, 0, time.UTC); !c.ReviewDueAt.Equal(want) || c.ReviewDueProvisional() || c.SLABreached {
		t.Fatalf("settled: due %v (want %v) recheck %v breached %v", c.ReviewDueAt, want, c.ReviewDueRecheckAt, c.SLABreached)
	}
	if s := job.Run(ctx, beijingMorning(submitted, 2)); s.Read != 0 {
		t.Fatalf("a rerun after settling read %d", s.Read)
	}
}

// TestExpirySettlesAndBreachesAtOnce: when the data arrives after the real
// deadline has passed (the provisional one has not), the one write both
// settles the deadline and flags the breach.
func TestExpirySettlesAndBreachesAtOnce(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	cfg.Calendars = &calendars{cal: with2028(t)}
	submitted := time.Date(2027, 12, 28, 10, 0, 0, 0, domain.Beijing())
	c := newCase(submitted.Add(-time.Hour))
	if _, err := c.Submit(domain.Actor{UserID: "user-1", Roles: []domain.Role{domain.RoleApplicant}}, submitted, rules, domain.BuiltinCalendar()); err != nil {
		t.Fatal(err)
	}
	e.commit(&domain.Change{Cases: []domain.CaseWrite{{Case: c, Create: true}}})

	s := jobs.NewExpiry(cfg).Run(ctx, time.Date(2028, 1, 7, 1, 0, 0, 0, time.UTC)) // after 01-05, before 01-12
	got := s.Counts
	delete(got, jobs.OutNotDue)
	if d := cmp.Diff(map[string]int{jobs.OutReviewDueSettled: 1, jobs.OutSLABreached: 1}, got, cmpopts.EquateEmpty()); d != "" {
		t.Fatalf("outcomes (-want +got):\n%s", d)
	}
	stored, err := e.store.GetCase(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.ReviewDueProvisional() || !stored.SLABreached || stored.Version != 2 {
		t.Fatalf("case %+v", stored)
	}
}

// TestExpiryEmitsCalendarDaysLeft: the expiry job's EMF line carries
// calendar_days_left every day (the alarm fires below 90).
func TestExpiryEmitsCalendarDaysLeft(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	cfg.Calendars = &calendars{cal: domain.BuiltinCalendar()}
	var metrics bytes.Buffer
	h := &jobs.Handler{Job: jobs.NewExpiry(cfg), Clock: clock.NewFake(time.Date(2027, 10, 3, 1, 0, 0, 0, time.UTC)),
		Log: slog.New(slog.DiscardHandler), Metrics: &metrics, Function: "ExpiryFunction"}
	if _, err := h.Handle(ctx, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	doc := logLines(t, &metrics)[0]
	var declared bool
	for _, m := range doc["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)["Metrics"].([]any) {
		declared = declared || m.(map[string]any)["Name"] == jobs.MetricCalendarDaysLeft
	}
	if !declared || doc[jobs.MetricCalendarDaysLeft] != float64(89) {
		t.Fatalf("calendar_days_left declared %v value %v in %v", declared, doc[jobs.MetricCalendarDaysLeft], doc)
	}
}
