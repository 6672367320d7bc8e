package domain

import (
	"fmt"
	"sync"
	"time"

	"github.com/6tail/lunar-go/HolidayUtil"
)

// China's working-day calendar. A day is a working day when the State
// Council's schedule (from github.com/6tail/lunar-go's HolidayUtil data)
// says so: statutory holidays are off, adjusted weekend days (调休) are
// working days, every other Saturday and Sunday is off. Days are Beijing
// calendar days.
//
// The data ends with the last year the library version knows (2027 in
// v1.4.7). A day outside the covered years is an error
// (calendar_out_of_range), never a weekends-only guess: upgrading the
// library extends the range.

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

// calendarData is the holiday table flattened for lookups.
type calendarData struct {
	adjusted    map[int]bool // yyyymmdd -> is a working day
	first, last time.Time    // covered civil dates (UTC midnight), inclusive
}

var holidayCalendar = sync.OnceValue(func() calendarData {
	cd := calendarData{adjusted: map[int]bool{}}
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
			var yy, mm, dd int
			if _, err := fmt.Sscanf(h.GetDay(), "%d-%d-%d", &yy, &mm, &dd); err != nil {
				continue
			}
			cd.adjusted[yy*10000+mm*100+dd] = h.IsWork()
			if firstYear == 0 {
				// A year is covered only if its data starts in January
				// (2001's data holds just the end of December for 2002's
				// New Year).
				firstYear = yy
				if mm != 1 {
					firstYear++
				}
			}
		}
		lastYear = y
	}
	cd.first = time.Date(firstYear, 1, 1, 0, 0, 0, 0, time.UTC)
	cd.last = time.Date(lastYear, 12, 31, 0, 0, 0, 0, time.UTC)
	return cd
})

// CalendarRange reports the first and last Beijing calendar days the
// working-day calendar covers (as midnight Beijing time).
func CalendarRange() (first, last time.Time) {
	cd := holidayCalendar()
	return civilStart(cd.first), civilStart(cd.last)
}

// isWorkingDay tells whether the civil date d (UTC midnight) is a working
// day.
func (cd calendarData) isWorkingDay(d time.Time) (bool, error) {
	if d.Before(cd.first) || d.After(cd.last) {
		return false, errCalendarRange(d, cd)
	}
	if w, ok := cd.adjusted[d.Year()*10000+int(d.Month())*100+d.Day()]; ok {
		return w, nil
	}
	wd := d.Weekday()
	return wd != time.Saturday && wd != time.Sunday, nil
}

func errCalendarRange(d time.Time, cd calendarData) *Error {
	return &Error{
		Kind: KindInternal,
		Code: "calendar_out_of_range",
		Message: Text{
			Zh: "工作日历尚未包含该日期的节假日安排。",
			En: "The working-day calendar has no holiday data for this date yet.",
		},
		Err: fmt.Errorf("%s is outside the holiday data %s..%s",
			d.Format(time.DateOnly), cd.first.Format(time.DateOnly), cd.last.Format(time.DateOnly)),
	}
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

// IsWorkingDay reports whether t's Beijing calendar day is a working day.
func IsWorkingDay(t time.Time) (bool, error) {
	return holidayCalendar().isWorkingDay(beijingDate(t))
}

// AddWorkingDays returns the start (00:00 Beijing, in the Beijing zone) of
// the n-th working day after the Beijing calendar day of from; that day
// itself never counts, whether or not it is a working day. n = 0 gives the
// start of from's day; a negative n counts backwards (the n-th working day
// before it). Days outside the calendar's data give calendar_out_of_range.
func AddWorkingDays(from time.Time, n int) (time.Time, error) {
	cd := holidayCalendar()
	d := beijingDate(from)
	if _, err := cd.isWorkingDay(d); err != nil {
		return time.Time{}, err
	}
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	for n > 0 {
		d = d.AddDate(0, 0, step)
		w, err := cd.isWorkingDay(d)
		if err != nil {
			return time.Time{}, err
		}
		if w {
			n--
		}
	}
	return civilStart(d), nil
}

// WorkingDaysBetween counts the working days from a's Beijing day to b's:
// for b after a, the working days in (a's day, b's day]; for b before a,
// minus the working days in [b's day, a's day). So
// WorkingDaysBetween(a, AddWorkingDays(a, n)) == n for every n.
func WorkingDaysBetween(a, b time.Time) (int, error) {
	cd := holidayCalendar()
	da, db := beijingDate(a), beijingDate(b)
	for _, d := range []time.Time{da, db} {
		if _, err := cd.isWorkingDay(d); err != nil {
			return 0, err
		}
	}
	lo, hi, sign := da, db, 1
	if db.Before(da) {
		// [db, da) is (db-1, da-1]
		lo, hi, sign = db.AddDate(0, 0, -1), da.AddDate(0, 0, -1), -1
	}
	n := 0
	for d := lo.AddDate(0, 0, 1); !d.After(hi); d = d.AddDate(0, 0, 1) {
		w, err := cd.isWorkingDay(d)
		if err != nil {
			return 0, err
		}
		if w {
			n++
		}
	}
	return sign * n, nil
}

// EndOfBeijingDay is 23:59:59 Beijing time of t's Beijing calendar day, in
// UTC.
func EndOfBeijingDay(t time.Time) time.Time {
	b := t.In(beijing())
	return time.Date(b.Year(), b.Month(), b.Day(), 23, 59, 59, 0, beijing()).UTC()
}

// ReviewDueAt is the end (23:59:59 Beijing) of the r.ReviewSLAWorkingDays-th
// working day after the submission day, in UTC.
func ReviewDueAt(submittedAt time.Time, r Rules) (time.Time, error) {
	day, err := AddWorkingDays(submittedAt, r.ReviewSLAWorkingDays)
	if err != nil {
		return time.Time{}, err
	}
	return EndOfBeijingDay(day), nil
}

// SLAState places now against a review deadline: on_time before due's
// Beijing day, due_today on that day up to due itself, overdue after due,
// with the number of working days from due's day to now's day (0 when the
// days after due were all holidays).
func SLAState(due, now time.Time) (state string, overdueWorkingDays int, err error) {
	switch {
	case now.After(due):
		n, err := WorkingDaysBetween(due, now)
		if err != nil {
			return SLAOverdue, 0, err
		}
		return SLAOverdue, n, nil
	case beijingDate(now).Equal(beijingDate(due)):
		return SLADueToday, 0, nil
	default:
		return SLAOnTime, 0, nil
	}
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
