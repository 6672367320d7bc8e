package localstack

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"microcert/infra/template"
)

// Schedule is a parsed EventBridge schedule expression: cron(...) or rate(...).
type Schedule interface {
	// Next returns the first firing time strictly after t.
	Next(t time.Time) time.Time
}

// ParseSchedule parses the AWS forms "rate(5 minutes)" and
// "cron(Minutes Hours Day-of-month Month Day-of-week Year)" (UTC). The cron
// form accepts *, ?, lists, ranges, steps, and month/day names; L, W and # are
// not supported locally.
func ParseSchedule(expr string) (Schedule, error) {
	expr = strings.TrimSpace(expr)
	switch {
	case strings.HasPrefix(expr, "rate(") && strings.HasSuffix(expr, ")"):
		return parseRate(expr[5 : len(expr)-1])
	case strings.HasPrefix(expr, "cron(") && strings.HasSuffix(expr, ")"):
		return parseCron(expr[5 : len(expr)-1])
	}
	return nil, fmt.Errorf("schedule %q: want rate(...) or cron(...)", expr)
}

type rate time.Duration

func (r rate) Next(t time.Time) time.Time {
	d := time.Duration(r)
	return t.Truncate(d).Add(d)
}

func parseRate(s string) (Schedule, error) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return nil, fmt.Errorf("rate(%s): want \"<n> <unit>\"", s)
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n < 1 {
		return nil, fmt.Errorf("rate(%s): want a positive number", s)
	}
	var unit time.Duration
	switch f[1] {
	case "minute", "minutes":
		unit = time.Minute
	case "hour", "hours":
		unit = time.Hour
	case "day", "days":
		unit = 24 * time.Hour
	default:
		return nil, fmt.Errorf("rate(%s): unit minute(s), hour(s) or day(s)", s)
	}
	// AWS wants the singular exactly for 1.
	if (n == 1) != !strings.HasSuffix(f[1], "s") {
		return nil, fmt.Errorf("rate(%s): use %q for 1 and plurals otherwise", s, strings.TrimSuffix(f[1], "s"))
	}
	return rate(time.Duration(n) * unit), nil
}

type cron struct {
	minute, hour, dom, month, dow, year map[int]bool // nil = any
}

var (
	monthNames = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
	dayNames   = map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
)

func parseCron(s string) (Schedule, error) {
	f := strings.Fields(s)
	if len(f) != 6 {
		return nil, fmt.Errorf("cron(%s): want 6 fields", s)
	}
	var (
		c   cron
		err error
	)
	fields := []struct {
		dst      *map[int]bool
		lo, hi   int
		names    map[string]int
		question bool
	}{
		{&c.minute, 0, 59, nil, false},
		{&c.hour, 0, 23, nil, false},
		{&c.dom, 1, 31, nil, true},
		{&c.month, 1, 12, monthNames, false},
		{&c.dow, 1, 7, dayNames, true},
		{&c.year, 1970, 2199, nil, false},
	}
	for i, fd := range fields {
		if *fd.dst, err = parseCronField(f[i], fd.lo, fd.hi, fd.names, fd.question); err != nil {
			return nil, fmt.Errorf("cron(%s): field %d: %w", s, i+1, err)
		}
	}
	// AWS: one of day-of-month and day-of-week must be "?".
	if (f[2] == "?") == (f[4] == "?") {
		return nil, fmt.Errorf("cron(%s): exactly one of day-of-month and day-of-week must be ?", s)
	}
	return c, nil
}

func parseCronField(s string, lo, hi int, names map[string]int, question bool) (map[int]bool, error) {
	if s == "*" || (question && s == "?") {
		return nil, nil
	}
	if s == "?" {
		return nil, fmt.Errorf("? is allowed only in day-of-month and day-of-week")
	}
	val := func(v string) (int, error) {
		if n, ok := names[strings.ToUpper(v)]; ok {
			return n, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return 0, fmt.Errorf("%q: want %d-%d", v, lo, hi)
		}
		return n, nil
	}
	set := map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		if strings.ContainsAny(part, "LW#") && names == nil || strings.Contains(part, "#") {
			return nil, fmt.Errorf("%q: L, W and # are not supported locally", part)
		}
		rng, stepStr, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepStr)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("%q: bad step", part)
			}
			step = n
		}
		from, to := lo, hi
		switch {
		case rng == "*":
		case strings.Contains(rng, "-"):
			a, b, _ := strings.Cut(rng, "-")
			var err error
			if from, err = val(a); err != nil {
				return nil, err
			}
			if to, err = val(b); err != nil {
				return nil, err
			}
			if to < from {
				return nil, fmt.Errorf("%q: empty range", part)
			}
		default:
			n, err := val(rng)
			if err != nil {
				return nil, err
			}
			from = n
			if !hasStep {
				to = n
			}
		}
		for v := from; v <= to; v += step {
			set[v] = true
		}
	}
	return set, nil
}

func in(set map[int]bool, v int) bool { return set == nil || set[v] }

// Next walks forward by day, then hour, then minute: at most a few thousand
// steps for any expression with a firing time in the next years.
func (c cron) Next(t time.Time) time.Time {
	t = t.UTC().Truncate(time.Minute).Add(time.Minute)
	limit := t.AddDate(10, 0, 0)
	for t.Before(limit) {
		if !in(c.year, t.Year()) || !in(c.month, int(t.Month())) {
			t = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 1, 0)
			continue
		}
		if !in(c.dom, t.Day()) || !in(c.dow, int(t.Weekday())+1) {
			t = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1)
			continue
		}
		if !in(c.hour, t.Hour()) {
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), 0, 0, 0, time.UTC).Add(time.Hour)
			continue
		}
		if !in(c.minute, t.Minute()) {
			t = t.Add(time.Minute)
			continue
		}
		return t
	}
	return time.Time{}
}

// scheduler fires each schedule of the template at its times, like an
// EventBridge rule targeting the function.
type scheduler struct {
	stopc chan struct{}
	wg    sync.WaitGroup
}

func startScheduler(t *template.Template, invoke func(logicalID string, event []byte), logger *slog.Logger) *scheduler {
	s := &scheduler{stopc: make(chan struct{})}
	for _, f := range t.Functions {
		for _, sc := range f.Schedules {
			if !sc.Enabled {
				continue
			}
			parsed, err := ParseSchedule(sc.Expression)
			if err != nil {
				logger.Error("schedule not understood: not run", "function", f.LogicalID, "event", sc.Name, "err", err)
				continue
			}
			s.wg.Go(func() {
				for {
					next := parsed.Next(time.Now())
					if next.IsZero() {
						return
					}
					logger.Info("schedule armed", "function", f.LogicalID, "event", sc.Name, "next", next)
					select {
					case <-s.stopc:
						return
					case <-time.After(time.Until(next)):
						invoke(f.LogicalID, ScheduledEvent(f.LogicalID, sc.Name, next))
					}
				}
			})
		}
	}
	return s
}

func (s *scheduler) stop() {
	close(s.stopc)
	s.wg.Wait()
}
