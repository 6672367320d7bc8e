package domain

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// bjTime is a Beijing wall-clock time.
func bjTime(y int, m time.Month, d, hh, mm, ss int) time.Time {
	return time.Date(y, m, d, hh, mm, ss, 0, Beijing())
}

func TestCalendarRange(t *testing.T) {
	first, last := CalendarRange()
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
			got, err := IsWorkingDay(tt.day)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("IsWorkingDay(%v) = %v, want %v", tt.day, got, tt.want)
			}
		})
	}
}

func TestReviewDueAt(t *testing.T) {
	tests := []struct {
		name      string
		submitted time.Time
		want      string // RFC 3339 in Beijing time
		wantCode  string
	}{
		{"before National Day and Mid-Autumn 2026", bjTime(2026, 9, 24, 10, 0, 0), "2026-10-09T23:59:59+08:00", ""},
		{"late evening of the submission day", bjTime(2026, 9, 24, 23, 59, 0), "2026-10-09T23:59:59+08:00", ""},
		{"UTC date is the day before the Beijing date", time.Date(2026, 9, 23, 17, 0, 0, 0, time.UTC), "2026-10-09T23:59:59+08:00", ""},
		{"UTC evening before, Beijing 9-23", time.Date(2026, 9, 23, 15, 0, 0, 0, time.UTC), "2026-10-08T23:59:59+08:00", ""},
		{"on a holiday", bjTime(2026, 10, 3, 12, 0, 0), "2026-10-13T23:59:59+08:00", ""},
		{"adjusted working Saturday counts", bjTime(2026, 10, 8, 9, 0, 0), "2026-10-14T23:59:59+08:00", ""},
		{"ordinary Saturday", bjTime(2026, 3, 7, 9, 0, 0), "2026-03-13T23:59:59+08:00", ""},
		{"ordinary Monday", bjTime(2026, 3, 2, 9, 0, 0), "2026-03-09T23:59:59+08:00", ""},
		{"New Year 2026 and its working Sunday", bjTime(2025, 12, 31, 9, 0, 0), "2026-01-08T23:59:59+08:00", ""},
		{"Spring Festival 2027", bjTime(2027, 2, 3, 9, 0, 0), "2027-02-17T23:59:59+08:00", ""},
		{"last due day inside the data", bjTime(2027, 12, 24, 9, 0, 0), "2027-12-31T23:59:59+08:00", ""},
		{"beyond the holiday data", bjTime(2027, 12, 27, 9, 0, 0), "", "calendar_out_of_range"},
		{"far beyond", bjTime(2031, 1, 1, 9, 0, 0), "", "calendar_out_of_range"},
		{"before the data", bjTime(2001, 6, 1, 9, 0, 0), "", "calendar_out_of_range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReviewDueAt(tt.submitted, DefaultRules)
			if diff := cmp.Diff(tt.wantCode, codeOfErr(err)); diff != "" {
				t.Fatalf("error code (-want +got):\n%s (%v)", diff, err)
			}
			if err != nil {
				if KindOf(err) != KindInternal {
					t.Errorf("kind = %v, want internal", KindOf(err))
				}
				return
			}
			if got.Location() != time.UTC {
				t.Errorf("ReviewDueAt returned %v, want UTC", got.Location())
			}
			if diff := cmp.Diff(tt.want, got.In(Beijing()).Format(time.RFC3339)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestReviewDueAtWithRules(t *testing.T) {
	r := DefaultRules.Clone()
	r.ReviewSLAWorkingDays = 3
	got, err := ReviewDueAt(bjTime(2026, 9, 24, 10, 0, 0), r)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("2026-09-30T23:59:59+08:00", got.In(Beijing()).Format(time.RFC3339)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
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
			got, err := AddWorkingDays(tt.from, tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got.Format(time.RFC3339)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestWorkingDaysBetweenInvertsAddWorkingDays(t *testing.T) {
	start := bjTime(2025, 12, 20, 12, 0, 0)
	for d := 0; d < 420; d += 3 {
		from := start.AddDate(0, 0, d)
		for n := -12; n <= 12; n++ {
			to, err := AddWorkingDays(from, n)
			if err != nil {
				t.Fatalf("AddWorkingDays(%v, %d): %v", from, n, err)
			}
			got, err := WorkingDaysBetween(from, to.Add(7*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if got != n {
				t.Fatalf("WorkingDaysBetween(%v, AddWorkingDays(.., %d) = %v) = %d", from, n, to, got)
			}
		}
	}
}

func TestWorkingDaysBetween(t *testing.T) {
	tests := []struct {
		name     string
		a, b     time.Time
		want     int
		wantCode string
	}{
		{"same day", bjTime(2026, 3, 2, 1, 0, 0), bjTime(2026, 3, 2, 23, 0, 0), 0, ""},
		{"week", bjTime(2026, 3, 2, 9, 0, 0), bjTime(2026, 3, 9, 9, 0, 0), 5, ""},
		{"week backwards", bjTime(2026, 3, 9, 9, 0, 0), bjTime(2026, 3, 2, 9, 0, 0), -5, ""},
		{"over National Day", bjTime(2026, 9, 30, 9, 0, 0), bjTime(2026, 10, 8, 9, 0, 0), 1, ""},
		{"whole 2026", bjTime(2025, 12, 31, 9, 0, 0), bjTime(2026, 12, 31, 9, 0, 0), 0, "want-count"},
		{"out of range", bjTime(2027, 12, 1, 9, 0, 0), bjTime(2028, 1, 5, 9, 0, 0), 0, "calendar_out_of_range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := WorkingDaysBetween(tt.a, tt.b)
			if tt.wantCode == "want-count" {
				// 2026 per the State Council schedule: 261 weekdays - 19
				// holidays on weekdays (New Year 2, Spring Festival 6,
				// Qingming 1, Labour Day 3, Dragon Boat 1, Mid-Autumn 1,
				// National Day 5) + 6 adjusted working weekend days = 248.
				if err != nil || got != 248 {
					t.Errorf("working days in 2026 = %d, %v; want 248", got, err)
				}
				return
			}
			if diff := cmp.Diff(tt.wantCode, codeOfErr(err)); diff != "" {
				t.Fatalf("code (-want +got):\n%s", diff)
			}
			if got != tt.want {
				t.Errorf("= %d, want %d", got, tt.want)
			}
		})
	}
}

func TestSLAState(t *testing.T) {
	due := time.Date(2026, 10, 9, 15, 59, 59, 0, time.UTC) // 2026-10-09T23:59:59+08:00, a Friday
	type result struct {
		State   string
		Overdue int
		Code    string
	}
	tests := []struct {
		name string
		now  time.Time
		want result
	}{
		{"days before", bjTime(2026, 9, 28, 9, 0, 0), result{SLAOnTime, 0, ""}},
		{"the evening before (UTC already the due date)", bjTime(2026, 10, 8, 23, 0, 0), result{SLAOnTime, 0, ""}},
		{"morning of the due day", bjTime(2026, 10, 9, 0, 0, 0), result{SLADueToday, 0, ""}},
		{"at the due instant", due, result{SLADueToday, 0, ""}},
		{"one second late, adjusted working Saturday", due.Add(time.Second), result{SLAOverdue, 1, ""}},
		{"Sunday", bjTime(2026, 10, 11, 12, 0, 0), result{SLAOverdue, 1, ""}},
		{"Monday", bjTime(2026, 10, 12, 12, 0, 0), result{SLAOverdue, 2, ""}},
		{"overdue beyond the data", bjTime(2028, 1, 3, 12, 0, 0), result{SLAOverdue, 0, "calendar_out_of_range"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, n, err := SLAState(due, tt.now)
			if diff := cmp.Diff(tt.want, result{s, n, codeOfErr(err)}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("due not at the end of a day", func(t *testing.T) {
		d := bjTime(2026, 10, 9, 15, 0, 0)
		s, _, _ := SLAState(d, bjTime(2026, 10, 9, 16, 0, 0))
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
		{"api.md example", bjTime(2026, 11, 26, 10, 0, 0), "2027-11-26T23:59:59+08:00"},
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
