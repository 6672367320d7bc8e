package holidays

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"microcert/shared/clock"
	"microcert/shared/domain"
	"microcert/shared/strictjson"
)

// Key is the document's key in the documents bucket.
const Key = "config/calendar.json"

// Refresh is how long a read document is used before it is read again.
const Refresh = 10 * time.Minute

// retryAfter is how soon a read that failed (S3 unavailable) is tried
// again.
const retryAfter = time.Minute

// maxDocumentBytes bounds the document (a year is about 1 KB).
const maxDocumentBytes = 256 << 10

// Objects reads the document from the bucket.
type Objects interface {
	// Get reads a whole object of at most max bytes; a missing object is
	// a KindNotFound error.
	Get(ctx context.Context, key string, max int64) ([]byte, error)
}

// Document is the operator's file.
type Document struct {
	// Source names what the years transcribe (the notice's number), for
	// the logs and the metrics' readers.
	Source string `json:"source"`
	Years  []Year `json:"years"`
}

// Year is one year of the schedule: every day off of each holiday period
// (weekends inside it included) and every adjusted working weekend day.
type Year struct {
	Year     int      `json:"year"`
	Holidays []string `json:"holidays"`
	Workdays []string `json:"workdays"`
}

// Parse checks a document and returns the built-in calendar extended with
// it. Errors are invalid_calendar (what is wrong, for the operator) or the
// strict decoder's codes.
func Parse(b []byte) (*domain.Calendar, error) {
	var doc Document
	if err := strictjson.Decode(b, &doc); err != nil {
		return nil, err
	}
	years := make([]domain.CalendarYear, 0, len(doc.Years))
	for _, y := range doc.Years {
		years = append(years, domain.CalendarYear{Year: y.Year, Holidays: y.Holidays, Workdays: y.Workdays})
	}
	return domain.BuiltinCalendar().Extend(doc.Source, years)
}

// Source is the calendar in force in one function instance. It is safe
// for concurrent use.
type Source struct {
	objects Objects
	clock   clock.Clock
	log     *slog.Logger

	mu    sync.Mutex
	cal   *domain.Calendar
	next  time.Time // when to read the document again
	state string    // what the last read found, to log changes only
}

// New returns a Source reading through objects; nothing is read until the
// calendar is first needed.
func New(objects Objects, c clock.Clock, log *slog.Logger) *Source {
	if c == nil {
		c = clock.System{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Source{objects: objects, clock: c, log: log, cal: domain.BuiltinCalendar()}
}

// Calendar returns the calendar in force, reading the document again once
// Refresh has passed since the last read.
func (s *Source) Calendar(ctx context.Context) *domain.Calendar {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.clock.Now().Before(s.next) {
		return s.cal
	}
	return s.read(ctx)
}

// Load reads the document now (the expiry job, at the start of a run) and
// returns the calendar in force.
func (s *Source) Load(ctx context.Context) *domain.Calendar {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.read(ctx)
}

// read fetches and applies the document; s.mu is held.
func (s *Source) read(ctx context.Context) *domain.Calendar {
	now := s.clock.Now()
	b, err := s.objects.Get(ctx, Key, maxDocumentBytes)
	switch {
	case domain.IsKind(err, domain.KindNotFound):
		s.cal, s.next = domain.BuiltinCalendar(), now.Add(Refresh)
		s.note("no calendar document: the built-in data is in force", slog.LevelInfo, "")
	case err != nil:
		// Keep what is in force; try again soon.
		s.next = now.Add(retryAfter)
		s.note("calendar document not readable: keeping the calendar in force", slog.LevelWarn, "calendar_unavailable",
			"code", domain.CodeOf(err))
	default:
		cal, err := Parse(b)
		s.next = now.Add(Refresh)
		if err != nil {
			s.note("calendar document refused: keeping the calendar in force", slog.LevelError, "calendar_invalid",
				"code", domain.CodeOf(err), "err", err.Error())
			break
		}
		s.cal = cal
		s.note("calendar document in force", slog.LevelInfo, "")
	}
	return s.cal
}

// note logs what a read found when it differs from the last read's
// finding (every read of an unchanged document would be noise).
func (s *Source) note(msg string, level slog.Level, alarm string, attrs ...any) {
	first, last := s.cal.Range()
	state := msg + "|" + s.cal.Source() + "|" + last.String()
	for _, a := range attrs {
		if v, ok := a.(string); ok {
			state += "|" + v
		}
	}
	if state == s.state {
		return
	}
	s.state = state
	attrs = append(attrs, "key", Key, "calendarSource", s.cal.Source(),
		"calendarFirstDay", first.Format(time.DateOnly), "calendarLastDay", last.Format(time.DateOnly))
	if alarm != "" {
		attrs = append(attrs, "alarm", alarm)
	}
	s.log.Log(context.Background(), level, msg, attrs...)
}
