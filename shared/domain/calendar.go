package domain

import (
	"fmt"
	"sync"
	"time"

	"github.com/6tail/lunar-go/HolidayUtil"
)

// China's working-day calendar. A day is a working day when the State
// Council's schedule says so: statutory holidays are off, adjusted weekend
// days (调休) are working days, every other Saturday and Sunday is off.
// Days are Beijing calendar days.
//
// The schedule is data. The built-in default is github.com/6tail/lunar-go's
// HolidayUtil (2002-2027 in v1.4.7); the State Council publishes the next
// year's schedule each autumn, and operators extend (or correct) the
// built-in data with a document of their own (Calendar.Extend; the
// functions load it, see shared/holidays). A day the data does not cover is
// never an error: it counts as a working day unless it is a Saturday or a
// Sunday, and whatever is computed from it is provisional (a review
// deadline gets a margin for the holidays nobody has announced yet).

// SLA states of a case in the review queue.
const (
	SLAOnTime   = "on_time"
	SLADueToday = "due_today"
	SLAOverdue  = "overdue"
)

// It is loaded on first use: reading the tz database is work a cold start
// of a function that never needs the calendar should not pay.
var beijing = sync.OnceValue(func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	// China has kept UTC+8 without daylight saving since 1991, so the
	// fixed zone is exact for every date this service handles.
	return time.FixedZone("CST", 8*3600)
})

// Beijing is the zone of working-day arithmetic (Asia/Shanghai, or a fixed
// +08:00 zone where the tz database is missing).
func Beijing() *time.Location { return beijing() }

// UnknownDaysMargin is how many working days a deadline that runs into
// days the calendar does not know is pushed back, counting those days
// weekends-only: it covers the most weekdays a holiday period of the
// built-in data (2002-2027: National Day with Mid-Autumn, the extended
// 2020 Spring Festival) ever took out of a window of up to 10 working days,
// so the provisional deadline is never earlier than the real one will be
// (TestUnknownDaysMarginIsConservative checks it against every day of the
// data).
const UnknownDaysMargin = 6

// Calendar is the working-day calendar over the years its data covers.
// It is immutable; Extend returns a new one.
type Calendar struct {
	adjusted    map[int]bool // yyyymmdd -> is a working day
	first, last time.Time    // covered civil dates (UTC midnight), inclusive
	source      string       // where the data came from, for operators
}

// builtinSource names the built-in data.
const builtinSource = "lunar-go"

var builtinCalendar = sync.OnceValue(func() *Calendar {
	c := &Calendar{adjusted: map[int]bool{}, source: builtinSource}
	firstYear, lastYear := 0, 0
	// The library's data starts in 2001; probe a generous range and keep
	// the first contiguous run of years that have entries.
	for y := 1990; y <= 2200; y++ {
		l := HolidayUtil.GetHolidaysByYear(y)
		if l.Len() == 0 {
			if firstYear != 0 {
				break
			}
			continue
		}
		for e := l.Front(); e != nil; e = e.Next() {
			h := e.Value.(*HolidayUtil.Holiday)
			d, err := time.Parse(time.DateOnly, h.GetDay())
			if err != nil {
				continue
			}
			c.adjusted[dayKey(d)] = h.IsWork()
			if firstYear == 0 {
				// A year is covered only if its data starts in January
				// (2001's data holds just the end of December for 2002's
				// New Year).
				firstYear = d.Year()
				if d.Month() != time.January {
					firstYear++
				}
			}
		}
		lastYear = y
	}
	c.first = time.Date(firstYear, 1, 1, 0, 0, 0, 0, time.UTC)
	c.last = time.Date(lastYear, 12, 31, 0, 0, 0, 0, time.UTC)
	return c
})

// BuiltinCalendar is the calendar of the built-in data (lunar-go).
func BuiltinCalendar() *Calendar { return builtinCalendar() }

func dayKey(d time.Time) int { return d.Year()*10000 + int(d.Month())*100 + d.Day() }

// Range reports the first and last Beijing calendar days the data covers
// (as midnight Beijing time).
func (c *Calendar) Range() (first, last time.Time) {
	return civilStart(c.first), civilStart(c.last)
}

// Source says where the data came from: "lunar-go", or "lunar-go + " the
// source an operator's document names.
func (c *Calendar) Source() string { return c.source }

// DaysLeft is the number of Beijing days from now's day to the last
// covered day (0 on the last covered day, negative past it).
func (c *Calendar) DaysLeft(now time.Time) int {
	return int(c.last.Sub(beijingDate(now)).Hours() / 24)
}

// day tells whether the civil date d (UTC midnight) is a working day, and
// whether the data knows it (else: weekends off, weekdays working).
func (c *Calendar) day(d time.Time) (working, known bool) {
	wd := d.Weekday()
	weekday := wd != time.Saturday && wd != time.Sunday
	if d.Before(c.first) || d.After(c.last) {
		return weekday, false
	}
	if w, ok := c.adjusted[dayKey(d)]; ok {
		return w, true
	}
	return weekday, true
}

// beijingDate is t's Beijing calendar date, carried as midnight UTC so that
// date arithmetic never meets a zone offset.
func beijingDate(t time.Time) time.Time {
	b := t.In(beijing())
	return time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, time.UTC)
}

// civilStart turns a civil date back into the instant the Beijing day
// starts.
func civilStart(d time.Time) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, beijing())
}

// IsWorkingDay reports whether t's Beijing calendar day is a working day,
// and whether the data knows that day (outside it: weekends off).
func (c *Calendar) IsWorkingDay(t time.Time) (working, known bool) {
	return c.day(beijingDate(t))
}

// AddWorkingDays returns the start (00:00 Beijing, in the Beijing zone) of
// the n-th working day after the Beijing calendar day of from; that day
// itself never counts, whether or not it is a working day. n = 0 gives the
// start of from's day; a negative n counts backwards (the n-th working day
// before it). provisional is true when a day counted over lies outside the
// data.
func (c *Calendar) AddWorkingDays(from time.Time, n int) (day time.Time, provisional bool) {
	d := beijingDate(from)
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	for n > 0 {
		d = d.AddDate(0, 0, step)
		w, known := c.day(d)
		provisional = provisional || !known
		if w {
			n--
		}
	}
	return civilStart(d), provisional
}

// WorkingDaysBetween counts the working days from a's Beijing day to b's:
// for b after a, the working days in (a's day, b's day]; for b before a,
// minus the working days in [b's day, a's day). So
// WorkingDaysBetween(a, AddWorkingDays(a, n)) == n for every n.
// provisional is true when a day counted over lies outside the data.
func (c *Calendar) WorkingDaysBetween(a, b time.Time) (n int, provisional bool) {
	da, db := beijingDate(a), beijingDate(b)
	lo, hi, sign := da, db, 1
	if db.Before(da) {
		// [db, da) is (db-1, da-1]
		lo, hi, sign = db.AddDate(0, 0, -1), da.AddDate(0, 0, -1), -1
	}
	for d := lo.AddDate(0, 0, 1); !d.After(hi); d = d.AddDate(0, 0, 1) {
		w, known := c.day(d)
		provisional = provisional || !known
		if w {
			n++
		}
	}
	return sign * n, provisional
}

// ReviewDue is a review deadline: the end (23:59:59 Beijing, in UTC) of
// the r.ReviewSLAWorkingDays-th working day after the submission day.
// Provisional: the count ran into days the calendar does not know, so At
// was computed weekends-only with UnknownDaysMargin more working days, and
// is to be recomputed once the data covers them.
type ReviewDue struct {
	At          time.Time
	Provisional bool
}

// ReviewDueAt computes the review deadline of a submission at submittedAt.
func (c *Calendar) ReviewDueAt(submittedAt time.Time, r Rules) ReviewDue {
	day, provisional := c.AddWorkingDays(submittedAt, r.ReviewSLAWorkingDays)
	if provisional {
		day, _ = c.AddWorkingDays(submittedAt, r.ReviewSLAWorkingDays+UnknownDaysMargin)
	}
	return ReviewDue{At: EndOfBeijingDay(day), Provisional: provisional}
}

// SLAState places now against a review deadline: on_time before due's
// Beijing day, due_today on that day up to due itself, overdue after due,
// with the number of working days from due's day to now's day (0 when the
// days after due were all holidays; counted weekends-only over days the
// data does not know).
func (c *Calendar) SLAState(due, now time.Time) (state string, overdueWorkingDays int) {
	switch {
	case now.After(due):
		n, _ := c.WorkingDaysBetween(due, now)
		return SLAOverdue, n
	case beijingDate(now).Equal(beijingDate(due)):
		return SLADueToday, 0
	default:
		return SLAOnTime, 0
	}
}

// ---- Extending the data ----

// CalendarYear is one year of the State Council's holiday schedule as an
// operator transcribes it: the days off (every day of each holiday period,
// weekends included) and the adjusted working days (weekend days worked,
// 调休), as YYYY-MM-DD. Dates belong to Year, or to the December before or
// the January after it when the schedule moves a day there.
type CalendarYear struct {
	Year     int
	Holidays []string
	Workdays []string
}

// maxCalendarYears bounds a document (a few decades is plenty).
const maxCalendarYears = 50

// Extend returns the calendar with years replacing what c says about them:
// every day of a listed year that the year does not list as a holiday or
// an adjusted working day is an ordinary day (weekends off). The covered
// range grows to the last listed year; the listed years after c's data
// must follow it without a gap (a year in between would be covered but
// unknown). Errors are invalid_calendar, naming the first problem.
func (c *Calendar) Extend(source string, years []CalendarYear) (*Calendar, error) {
	bad := func(format string, a ...any) (*Calendar, error) {
		return nil, Wrap(KindInvalid, "invalid_calendar", fmt.Errorf(format, a...))
	}
	if len(years) == 0 {
		return bad("no years")
	}
	if len(years) > maxCalendarYears {
		return bad("%d years: at most %d", len(years), maxCalendarYears)
	}
	next := &Calendar{adjusted: make(map[int]bool, len(c.adjusted)), first: c.first, last: c.last, source: c.source}
	if source != "" {
		next.source = c.source + " + " + source
	}
	listed := map[int]bool{}
	for _, y := range years {
		if y.Year < c.first.Year() || y.Year > 9998 {
			return bad("year %d: before the built-in data (%d) or not a year", y.Year, c.first.Year())
		}
		if listed[y.Year] {
			return bad("year %d listed twice", y.Year)
		}
		listed[y.Year] = true
	}
	for k, w := range c.adjusted {
		if !listed[k/10000] {
			next.adjusted[k] = w
		}
	}
	seen := map[int]string{}
	for _, y := range years {
		from := time.Date(y.Year-1, 12, 1, 0, 0, 0, 0, time.UTC)
		to := time.Date(y.Year+1, 1, 31, 0, 0, 0, 0, time.UTC)
		for _, list := range []struct {
			name    string
			dates   []string
			working bool
		}{{"holidays", y.Holidays, false}, {"workdays", y.Workdays, true}} {
			for _, s := range list.dates {
				d, err := time.Parse(time.DateOnly, s)
				if err != nil {
					return bad("year %d: %s: %q is not a YYYY-MM-DD date", y.Year, list.name, s)
				}
				if d.Before(from) || d.After(to) {
					return bad("year %d: %s: %s is not in or next to that year", y.Year, list.name, s)
				}
				if wd := d.Weekday(); list.working && wd != time.Saturday && wd != time.Sunday {
					return bad("year %d: workdays: %s is a %s; adjusted working days are weekend days", y.Year, s, wd)
				}
				if prev, dup := seen[dayKey(d)]; dup {
					return bad("year %d: %s listed twice (%s and %s)", y.Year, s, prev, list.name)
				}
				seen[dayKey(d)] = list.name
				next.adjusted[dayKey(d)] = list.working
			}
		}
		if end := time.Date(y.Year, 12, 31, 0, 0, 0, 0, time.UTC); end.After(next.last) {
			next.last = end
		}
	}
	for y := c.last.Year() + 1; y <= next.last.Year(); y++ {
		if !listed[y] {
			return bad("year %d is missing: the years after %d must follow without a gap", y, c.last.Year())
		}
	}
	return next, nil
}

// EndOfBeijingDay is 23:59:59 Beijing time of t's Beijing calendar day, in
// UTC.
func EndOfBeijingDay(t time.Time) time.Time {
	b := t.In(beijing())
	return time.Date(b.Year(), b.Month(), b.Day(), 23, 59, 59, 0, beijing()).UTC()
}

// ExpiryAfterOneYear is the end (23:59:59 Beijing, in UTC) of the same
// Beijing calendar day one year after from; 29 February maps to 28
// February of the next year (a certification never outlives its
// anniversary).
func ExpiryAfterOneYear(from time.Time) time.Time {
	return EndOfBeijingDay(civilStart(addMonthsClamped(beijingDate(from), 12)))
}

// addMonthsClamped adds months to a civil date, clamping the day to the
// target month's length (31 May - 3 months = 28/29 February, not 3 March).
func addMonthsClamped(d time.Time, months int) time.Time {
	first := time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, months, 0)
	last := first.AddDate(0, 1, -1).Day()
	day := d.Day()
	if day > last {
		day = last
	}
	return time.Date(first.Year(), first.Month(), day, 0, 0, 0, 0, time.UTC)
}
