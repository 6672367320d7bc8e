package holidays

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"microcert/shared/clock"
	"microcert/shared/domain"
)

// doc2028 is 2028 as an operator would transcribe it (dates illustrative).
const doc2028 = `{
  "source": "test notice 2028",
  "years": [
    {"year": 2028,
     "holidays": ["2028-01-01", "2028-01-25", "2028-01-26", "2028-01-27", "2028-01-28", "2028-01-29", "2028-01-30", "2028-01-31"],
     "workdays": ["2028-01-22", "2028-02-05"]}
  ]
}`

func TestParse(t *testing.T) {
	tests := []struct {
		name     string
		doc      string
		wantLast string
		wantCode string
	}{
		{"a year", doc2028, "2028-12-31", ""},
		{"no holidays listed is a year of weekends", `{"source":"","years":[{"year":2028}]}`, "2028-12-31", ""},
		{"not JSON", `{"years": [`, "", "malformed_json"},
		{"a member in the wrong case", `{"Years":[{"year":2028}]}`, "", "unknown_field"},
		{"a nested member in the wrong case", `{"years":[{"Year":2028}]}`, "", "unknown_field"},
		{"a duplicate key", `{"years":[{"year":2028,"year":2029}]}`, "", "duplicate_key"},
		{"a gap", `{"years":[{"year":2029}]}`, "", "invalid_calendar"},
		{"a working weekday", `{"years":[{"year":2028,"workdays":["2028-01-24"]}]}`, "", "invalid_calendar"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cal, err := Parse([]byte(tt.doc))
			if domain.CodeOf(err) != tt.wantCode && !(err == nil && tt.wantCode == "") {
				t.Fatalf("err = %v, want %s", err, tt.wantCode)
			}
			if err != nil {
				return
			}
			if _, last := cal.Range(); last.Format(time.DateOnly) != tt.wantLast {
				t.Errorf("last day %s, want %s", last.Format(time.DateOnly), tt.wantLast)
			}
		})
	}
	cal, _ := Parse([]byte(doc2028))
	if w, known := cal.IsWorkingDay(time.Date(2028, 1, 26, 9, 0, 0, 0, domain.Beijing())); w || !known {
		t.Errorf("2028-01-26: working %v known %v", w, known)
	}
	if w, _ := cal.IsWorkingDay(time.Date(2028, 1, 22, 9, 0, 0, 0, domain.Beijing())); !w {
		t.Error("the adjusted Saturday is not a working day")
	}
}

// bucket is the documents bucket as the Source sees it.
type bucket struct {
	mu    sync.Mutex
	doc   []byte // nil: no object
	err   error
	reads int
}

func (b *bucket) Get(ctx context.Context, key string, max int64) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reads++
	switch {
	case key != Key:
		return nil, domain.ErrNotFound
	case b.err != nil:
		return nil, b.err
	case b.doc == nil:
		return nil, domain.ErrNotFound
	}
	return b.doc, nil
}

func (b *bucket) put(doc string, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.doc, b.err = nil, err
	if doc != "" {
		b.doc = []byte(doc)
	}
}

func TestSource(t *testing.T) {
	ctx := context.Background()
	fc := clock.NewFake(time.Date(2027, 10, 1, 1, 0, 0, 0, time.UTC))
	b := &bucket{}
	var logs bytes.Buffer
	src := New(b, fc, slog.New(slog.NewJSONHandler(&logs, nil)))
	lastDay := func() string {
		_, last := src.Calendar(ctx).Range()
		return last.Format(time.DateOnly)
	}

	steps := []struct {
		name      string
		do        func()
		wantLast  string
		wantReads int
		wantLog   string // in the logs since the last step
	}{
		{"no document: the built-in data", func() {}, "2027-12-31", 1, `"msg":"no calendar document`},
		{"cached", func() { fc.Advance(time.Minute) }, "2027-12-31", 1, ""},
		{"uploaded, not yet read again", func() { b.put(doc2028, nil) }, "2027-12-31", 1, ""},
		{"read again after Refresh", func() { fc.Advance(Refresh) }, "2028-12-31", 2, `"calendarSource":"lunar-go + test notice 2028"`},
		{"a bad upload is refused, the calendar kept", func() { b.put(`{"years":[{"year":2030}]}`, nil); fc.Advance(Refresh) },
			"2028-12-31", 3, `"alarm":"calendar_invalid"`},
		{"the same bad document is not logged again", func() { fc.Advance(Refresh) }, "2028-12-31", 4, ""},
		{"S3 down: kept, retried within a minute", func() {
			b.put("", domain.E(domain.KindUnavailable, "unavailable", "", ""))
			fc.Advance(Refresh)
		}, "2028-12-31", 5, `"alarm":"calendar_unavailable"`},
		{"retried", func() { b.put(doc2028, nil); fc.Advance(retryAfter) }, "2028-12-31", 6, `"msg":"calendar document in force"`},
		{"deleted: back to the built-in data", func() { b.put("", nil); fc.Advance(Refresh) }, "2027-12-31", 7, `"msg":"no calendar document`},
	}
	for _, st := range steps {
		logs.Reset()
		st.do()
		if got := lastDay(); got != st.wantLast {
			t.Fatalf("%s: last day %s, want %s", st.name, got, st.wantLast)
		}
		if b.reads != st.wantReads {
			t.Fatalf("%s: %d reads, want %d", st.name, b.reads, st.wantReads)
		}
		if st.wantLog == "" && logs.Len() > 0 || !strings.Contains(logs.String(), st.wantLog) {
			t.Fatalf("%s: logs %q, want %q", st.name, logs.String(), st.wantLog)
		}
	}

	// Load reads at once, whatever the cache says.
	b.put(doc2028, nil)
	if _, last := src.Load(ctx).Range(); last.Format(time.DateOnly) != "2028-12-31" || b.reads != 8 {
		t.Fatalf("Load: last %s after %d reads", last.Format(time.DateOnly), b.reads)
	}
}
