package domain

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// bjTime is a Beijing wall-clock time.
func bjTime(y int, m time.Month, d, hh, mm, ss int) time.Time {
	return time.Date(y, m, d, hh, mm, ss, 0, Beijing())
}

func TestCalendarRange(t *testing.T) {
	first, last := BuiltinCalendar().Range()
	if diff := cmp.Diff([]string{"2002-01-01T00:00:00+08:00", "2027-12-31T00:00:00+08:00"},
		[]string{first.Format(time.RFC3339), last.Format(time.RFC3339)}); diff != "" {
		t.Errorf("range (-want +got):\n%s\n(upgrading lunar-go extends it; update this test and the docs)", diff)
	}
}

func TestIsWorkingDay(t *testing.T) {
	tests := []struct {
		name string
		day  time.Time
		want bool
	}{
		{"ordinary Monday", bjTime(2026, 3, 2, 9, 0, 0), true},
		{"ordinary Saturday", bjTime(2026, 3, 7, 9, 0, 0), false},
		{"ordinary Sunday", bjTime(2026, 3, 8, 9, 0, 0), false},
		{"National Day", bjTime(2026, 10, 1, 9, 0, 0), false},
		{"National Day week Wednesday", bjTime(2026, 10, 7, 9, 0, 0), false},
		{"Mid-Autumn Friday 2026", bjTime(2026, 9, 25, 9, 0, 0), false},
		{"adjusted working Sunday before National Day 2026", bjTime(2026, 9, 20, 9, 0, 0), true},
		{"adjusted working Saturday after National Day 2026", bjTime(2026, 10, 10, 9, 0, 0), true},
		{"adjusted working Saturday after Spring Festival 2026", bjTime(2026, 2, 28, 9, 0, 0), true},
		{"adjusted working Sunday after New Year 2026", bjTime(2026, 1, 4, 9, 0, 0), true},
		{"Spring Festival eve 2027", bjTime(2027, 2, 5, 9, 0, 0), false},
		{"adjusted working Sunday of Spring Festival 2027", bjTime(2027, 2, 14, 9, 0, 0), true},
		{"late UTC evening is the next Beijing day", time.Date(2026, 9, 30, 16, 0, 0, 0, time.UTC), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, known := BuiltinCalendar().IsWorkingDay(tt.day)
			if !known {
				t.Fatal("not in the data")
			}
			if got != tt.want {
				t.Errorf("IsWorkingDay(%v) = %v, want %v", tt.day, got, tt.want)
			}
		})
	}
}

func TestReviewDueAt(t *testing.T) {
	tests := []struct {
		name        string
		submitted   time.Time
		want        string // RFC 3339 in Beijing time
		provisional bool
	}{
		{"before National Day and Mid-Autumn 2026", bjTime(2026, 9, 24, 10, 0, 0), "2026-10-09T23:59:59+08:00", false},
		{"late evening of the submission day", bjTime(2026, 9, 24, 23, 59, 0), "2026-10-09T23:59:59+08:00", false},
		{"UTC date is the day before the Beijing date", time.Date(2026, 9, 23, 17, 0, 0, 0, time.UTC), "2026-10-09T23:59:59+08:00", false},
		{"UTC evening before, Beijing 9-23", time.Date(2026, 9, 23, 15, 0, 0, 0, time.UTC), "2026-10-08T23:59:59+08:00", false},
		{"on a holiday", bjTime(2026, 10, 3, 12, 0, 0), "2026-10-13T23:59:59+08:00", false},
		{"adjusted working Saturday counts", bjTime(2026, 10, 8, 9, 0, 0), "2026-10-14T23:59:59+08:00", false},
		{"ordinary Saturday", bjTime(2026, 3, 7, 9, 0, 0), "2026-03-13T23:59:59+08:00", false},
		{"ordinary Monday", bjTime(2026, 3, 2, 9, 0, 0), "2026-03-09T23:59:59+08:00", false},
		{"New Year 2026 and its working Sunday", bjTime(2025, 12, 31, 9, 0, 0), "2026-01-08T23:59:59+08:00", false},
		{"Spring Festival 2027", bjTime(2027, 2, 3, 9, 0, 0), "2027-02-17T23:59:59+08:00", false},
		{"last due day inside the data", bjTime(2027, 12, 24, 9, 0, 0), "2027-12-31T23:59:59+08:00", false},
		// Past the data: the days after 2027-12-31 count weekends-only, plus
		// UnknownDaysMargin (6) working days.
		{"due day past the data", bjTime(2027, 12, 27, 9, 0, 0), "2028-01-11T23:59:59+08:00", true},
		{"submitted past the data", bjTime(2028, 3, 1, 9, 0, 0), "2028-03-16T23:59:59+08:00", true},
		{"far beyond", bjTime(2031, 1, 1, 9, 0, 0), "2031-01-16T23:59:59+08:00", true},
		{"before the data", bjTime(2001, 6, 1, 9, 0, 0), "2001-06-18T23:59:59+08:00", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := BuiltinCalendar().ReviewDueAt(tt.submitted, DefaultRules)
			if got.At.Location() != time.UTC {
				t.Errorf("ReviewDueAt returned %v, want UTC", got.At.Location())
			}
			if diff := cmp.Diff(tt.want, got.At.In(Beijing()).Format(time.RFC3339)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if got.Provisional != tt.provisional {
				t.Errorf("provisional = %v, want %v", got.Provisional, tt.provisional)
			}
		})
	}
}

func TestReviewDueAtWithRules(t *testing.T) {
	r := DefaultRules.Clone()
	r.ReviewSLAWorkingDays = 3
	got := BuiltinCalendar().ReviewDueAt(bjTime(2026, 9, 24, 10, 0, 0), r)
	if diff := cmp.Diff("2026-09-30T23:59:59+08:00", got.At.In(Beijing()).Format(time.RFC3339)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestUnknownDaysMarginIsConservative: for every day of the built-in data
// and every SLA of 1-10 working days, counting weekends-only with the
// margin never ends before the real schedule does. This is what makes a
// provisional deadline safe to promise.
func TestUnknownDaysMarginIsConservative(t *testing.T) {
	cal := BuiltinCalendar()
	unknown := &Calendar{adjusted: map[int]bool{}, first: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), last: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)}
	first, last := cal.Range()
	for d := first; d.Before(last.AddDate(0, 0, -40)); d = d.AddDate(0, 0, 1) {
		for n := 1; n <= 10; n++ {
			real, prov := cal.AddWorkingDays(d, n)
			if prov {
				t.Fatalf("%s + %d is not in the data", d, n)
			}
			guess, _ := unknown.AddWorkingDays(d, n+UnknownDaysMargin)
			if guess.Before(real) {
				t.Fatalf("from %s, %d working days end %s, but weekends-only + %d ends %s",
					d.Format(time.DateOnly), n, real.Format(time.DateOnly), UnknownDaysMargin, guess.Format(time.DateOnly))
			}
		}
	}
}

func TestAddWorkingDays(t *testing.T) {
	tests := []struct {
		name string
		from time.Time
		n    int
		want string
	}{
		{"zero is the start of the same day", bjTime(2026, 10, 3, 15, 4, 5), 0, "2026-10-03T00:00:00+08:00"},
		{"one from Friday is Monday", bjTime(2026, 3, 6, 9, 0, 0), 1, "2026-03-09T00:00:00+08:00"},
		{"one from Friday 9-18 is the adjusted Sunday", bjTime(2026, 9, 18, 9, 0, 0), 1, "2026-09-20T00:00:00+08:00"},
		{"minus one from Monday is Friday", bjTime(2026, 3, 9, 9, 0, 0), -1, "2026-03-06T00:00:00+08:00"},
		{"minus one from 10-8 skips the holidays", bjTime(2026, 10, 8, 9, 0, 0), -1, "2026-09-30T00:00:00+08:00"},
		{"twenty across the 2026 National Day", bjTime(2026, 9, 24, 9, 0, 0), 20, "2026-10-29T00:00:00+08:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, prov := BuiltinCalendar().AddWorkingDays(tt.from, tt.n)
			if prov {
				t.Fatal("provisional")
			}
			if diff := cmp.Diff(tt.want, got.Format(time.RFC3339)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestWorkingDaysBetweenInvertsAddWorkingDays(t *testing.T) {
	start := bjTime(2025, 12, 20, 12, 0, 0) // runs past the data too
	for d := 0; d < 840; d += 3 {
		from := start.AddDate(0, 0, d)
		for n := -12; n <= 12; n++ {
			to, _ := BuiltinCalendar().AddWorkingDays(from, n)
			got, _ := BuiltinCalendar().WorkingDaysBetween(from, to.Add(7*time.Hour))
			if got != n {
				t.Fatalf("WorkingDaysBetween(%v, AddWorkingDays(.., %d) = %v) = %d", from, n, to, got)
			}
		}
	}
}

func TestWorkingDaysBetween(t *testing.T) {
	tests := []struct {
		name        string
		a, b        time.Time
		want        int
		provisional bool
	}{
		{"same day", bjTime(2026, 3, 2, 1, 0, 0), bjTime(2026, 3, 2, 23, 0, 0), 0, false},
		{"week", bjTime(2026, 3, 2, 9, 0, 0), bjTime(2026, 3, 9, 9, 0, 0), 5, false},
		{"week backwards", bjTime(2026, 3, 9, 9, 0, 0), bjTime(2026, 3, 2, 9, 0, 0), -5, false},
		{"over National Day", bjTime(2026, 9, 30, 9, 0, 0), bjTime(2026, 10, 8, 9, 0, 0), 1, false},
		// 2026 per the State Council schedule: 261 weekdays - 19 holidays
		// on weekdays (New Year 2, Spring Festival 6, Qingming 1, Labour
		// Day 3, Dragon Boat 1, Mid-Autumn 1, National Day 5) + 6 adjusted
		// working weekend days = 248.
		{"whole 2026", bjTime(2025, 12, 31, 9, 0, 0), bjTime(2026, 12, 31, 9, 0, 0), 248, false},
		// 2027-12-02..31 has 22 weekdays; 2028-01-01..05 is Sat, Sun, Mon,
		// Tue, Wed, counted weekends-only: 3.
		{"past the data", bjTime(2027, 12, 1, 9, 0, 0), bjTime(2028, 1, 5, 9, 0, 0), 25, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, prov := BuiltinCalendar().WorkingDaysBetween(tt.a, tt.b)
			if got != tt.want || prov != tt.provisional {
				t.Errorf("= %d, %v; want %d, %v", got, prov, tt.want, tt.provisional)
			}
		})
	}
}

func TestSLAState(t *testing.T) {
	due := time.Date(2026, 10, 9, 15, 59, 59, 0, time.UTC) // 2026-10-09T23:59:59+08:00, a Friday
	type result struct {
		State   string
		Overdue int
	}
	tests := []struct {
		name string
		now  time.Time
		want result
	}{
		{"days before", bjTime(2026, 9, 28, 9, 0, 0), result{SLAOnTime, 0}},
		{"the evening before (UTC already the due date)", bjTime(2026, 10, 8, 23, 0, 0), result{SLAOnTime, 0}},
		{"morning of the due day", bjTime(2026, 10, 9, 0, 0, 0), result{SLADueToday, 0}},
		{"at the due instant", due, result{SLADueToday, 0}},
		{"one second late, adjusted working Saturday", due.Add(time.Second), result{SLAOverdue, 1}},
		{"Sunday", bjTime(2026, 10, 11, 12, 0, 0), result{SLAOverdue, 1}},
		{"Monday", bjTime(2026, 10, 12, 12, 0, 0), result{SLAOverdue, 2}},
		// 2026-10-10..2027-12-31 per the data (308), then 2028-01-03, a
		// Monday counted weekends-only: no error, a count.
		{"overdue beyond the data", bjTime(2028, 1, 3, 12, 0, 0), result{SLAOverdue, 309}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, n := BuiltinCalendar().SLAState(due, tt.now)
			if diff := cmp.Diff(tt.want, result{s, n}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("due not at the end of a day", func(t *testing.T) {
		d := bjTime(2026, 10, 9, 15, 0, 0)
		s, _ := BuiltinCalendar().SLAState(d, bjTime(2026, 10, 9, 16, 0, 0))
		if s != SLAOverdue {
			t.Errorf("state = %s, want overdue", s)
		}
	})
}

func TestEndOfBeijingDay(t *testing.T) {
	tests := []struct {
		name string
		in   time.Time
		want time.Time
	}{
		{"morning", bjTime(2026, 11, 26, 9, 0, 0), time.Date(2026, 11, 26, 15, 59, 59, 0, time.UTC)},
		{"UTC afternoon is the next Beijing day", time.Date(2026, 11, 26, 16, 30, 0, 0, time.UTC), time.Date(2026, 11, 27, 15, 59, 59, 0, time.UTC)},
		{"already the end", time.Date(2026, 11, 26, 15, 59, 59, 0, time.UTC), time.Date(2026, 11, 26, 15, 59, 59, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, EndOfBeijingDay(tt.in)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestExpiryAfterOneYear(t *testing.T) {
	tests := []struct {
		name string
		from time.Time
		want string
	}{
		{"the documented example", bjTime(2026, 11, 26, 10, 0, 0), "2027-11-26T23:59:59+08:00"},
		{"approved late in the UTC day", time.Date(2026, 11, 26, 17, 0, 0, 0, time.UTC), "2027-11-27T23:59:59+08:00"},
		{"29 February becomes 28 February", bjTime(2028, 2, 29, 10, 0, 0), "2029-02-28T23:59:59+08:00"},
		{"28 February into a leap year", bjTime(2027, 2, 28, 10, 0, 0), "2028-02-28T23:59:59+08:00"},
		{"1 March", bjTime(2027, 3, 1, 10, 0, 0), "2028-03-01T23:59:59+08:00"},
		{"31 December", bjTime(2026, 12, 31, 23, 0, 0), "2027-12-31T23:59:59+08:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ExpiryAfterOneYear(tt.from)
			if got.Location() != time.UTC {
				t.Errorf("location %v, want UTC", got.Location())
			}
			if diff := cmp.Diff(tt.want, got.In(Beijing()).Format(time.RFC3339)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestAddMonthsClamped(t *testing.T) {
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		name   string
		in     time.Time
		months int
		want   time.Time
	}{
		{"plain", d(2026, 11, 26), -3, d(2026, 8, 26)},
		{"31 May minus 3", d(2027, 5, 31), -3, d(2027, 2, 28)},
		{"31 May minus 3, leap", d(2028, 5, 31), -3, d(2028, 2, 29)},
		{"31 January plus 1", d(2027, 1, 31), 1, d(2027, 2, 28)},
		{"across the year", d(2027, 2, 15), -3, d(2026, 11, 15)},
		{"12 months from 29 Feb", d(2028, 2, 29), 12, d(2029, 2, 28)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, addMonthsClamped(tt.in, tt.months)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestCalendarExtend(t *testing.T) {
	y2028 := CalendarYear{Year: 2028,
		Holidays: []string{"2028-01-01", "2028-01-24", "2028-01-25", "2028-01-26"},
		Workdays: []string{"2028-01-22"}} // a Saturday
	tests := []struct {
		name     string
		years    []CalendarYear
		wantLast string
		wantErr  string // part of the message
	}{
		{"next year", []CalendarYear{y2028}, "2028-12-31", ""},
		{"two years", []CalendarYear{y2028, {Year: 2029, Holidays: []string{"2029-01-01"}}}, "2029-12-31", ""},
		{"a correction of a covered year keeps the range", []CalendarYear{{Year: 2027, Holidays: []string{"2027-01-01"}}}, "2027-12-31", ""},
		{"an adjusted day in the December before", []CalendarYear{{Year: 2028, Workdays: []string{"2027-12-26"}}}, "2028-12-31", ""},
		{"nothing", nil, "", "no years"},
		{"a gap", []CalendarYear{{Year: 2029}}, "", "year 2028 is missing"},
		{"twice", []CalendarYear{y2028, y2028}, "", "listed twice"},
		{"before the data", []CalendarYear{{Year: 1999}}, "", "before the built-in data"},
		{"not a date", []CalendarYear{{Year: 2028, Holidays: []string{"2028-02-30"}}}, "", "not a YYYY-MM-DD date"},
		{"a date of another year", []CalendarYear{{Year: 2028, Holidays: []string{"2028-01-01", "2030-10-01"}}}, "", "not in or next to that year"},
		{"a working weekday", []CalendarYear{{Year: 2028, Workdays: []string{"2028-01-24"}}}, "", "adjusted working days are weekend days"},
		{"off and working", []CalendarYear{{Year: 2028, Holidays: []string{"2028-01-22"}, Workdays: []string{"2028-01-22"}}}, "", "listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cal, err := BuiltinCalendar().Extend("国办发明电〔2027〕1号", tt.years)
			if tt.wantErr != "" {
				if err == nil || CodeOf(err) != "invalid_calendar" || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want invalid_calendar with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, last := cal.Range(); last.Format(time.DateOnly) != tt.wantLast {
				t.Errorf("last = %s, want %s", last.Format(time.DateOnly), tt.wantLast)
			}
			if cal.Source() != "lunar-go + 国办发明电〔2027〕1号" {
				t.Errorf("source %q", cal.Source())
			}
		})
	}

	cal, err := BuiltinCalendar().Extend("", []CalendarYear{y2028, {Year: 2027, Holidays: []string{"2027-01-01"}}})
	if err != nil {
		t.Fatal(err)
	}
	days := []struct {
		name           string
		day            time.Time
		working, known bool
	}{
		{"listed holiday", bjTime(2028, 1, 24, 9, 0, 0), false, true},
		{"listed adjusted Saturday", bjTime(2028, 1, 22, 9, 0, 0), true, true},
		{"ordinary weekday of a listed year", bjTime(2028, 3, 1, 9, 0, 0), true, true},
		{"ordinary Sunday of a listed year", bjTime(2028, 3, 5, 9, 0, 0), false, true},
		{"a corrected year replaces the built-in days: National Day 2027 is gone", bjTime(2027, 10, 1, 9, 0, 0), true, true},
		{"the built-in data is untouched elsewhere: National Day 2026", bjTime(2026, 10, 1, 9, 0, 0), false, true},
		{"past the new range", bjTime(2029, 1, 1, 9, 0, 0), true, false},
	}
	for _, d := range days {
		if w, k := cal.IsWorkingDay(d.day); w != d.working || k != d.known {
			t.Errorf("%s: working %v known %v, want %v %v", d.name, w, k, d.working, d.known)
		}
	}
	if w, _ := BuiltinCalendar().IsWorkingDay(bjTime(2027, 10, 1, 9, 0, 0)); w {
		t.Error("Extend changed the calendar it was called on")
	}
}

func TestDaysLeft(t *testing.T) {
	cal := BuiltinCalendar()
	tests := []struct {
		now  time.Time
		want int
	}{
		{bjTime(2027, 10, 2, 9, 0, 0), 90},
		{bjTime(2027, 10, 3, 9, 0, 0), 89},
		{time.Date(2027, 12, 30, 16, 30, 0, 0, time.UTC), 0}, // 2027-12-31 in Beijing
		{bjTime(2028, 1, 1, 9, 0, 0), -1},
	}
	for _, tt := range tests {
		if got := cal.DaysLeft(tt.now); got != tt.want {
			t.Errorf("DaysLeft(%v) = %d, want %d", tt.now, got, tt.want)
		}
	}
}
