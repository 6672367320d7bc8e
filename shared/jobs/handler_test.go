package jobs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"microcert/shared/clock"
	"microcert/shared/domain"
	"microcert/shared/jobs"
)

func readEvent(t *testing.T, name string) json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// logLines decodes JSON log lines.
func logLines(t *testing.T, b *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %s", l)
		}
		out = append(out, m)
	}
	return out
}

func TestHandlerRunsAsOfTheEventTime(t *testing.T) {
	e := newEnv(t)
	ent := domain.NewID()
	e.createCert(newCert(ent, domain.CertWeCom, expires)) // 60 days before: 28 September 2027

	var logs, metrics bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	h := &jobs.Handler{Job: e.reminders(), Clock: clock.NewFake(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)),
		Log: log, Metrics: &metrics, Function: "ReminderFunction"}
	s, err := h.Handle(ctx, readEvent(t, "schedule-reminder-2027-09-28.json"))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2027, 9, 28, 1, 0, 0, 0, time.UTC); !s.Now.Equal(want) || s.Count(jobs.OutSent) != 1 {
		t.Fatalf("summary %+v, want one reminder sent as of %v", s, want)
	}
	if got := daysBefore(e.notifications(ent)); !cmp.Equal(got, []int{60}) {
		t.Errorf("reminders %v", got)
	}

	// One summary line with the counts.
	var summaries []map[string]any
	for _, l := range logLines(t, &logs) {
		if l["msg"] == "run summary" {
			summaries = append(summaries, l)
		}
	}
	if len(summaries) != 1 {
		t.Fatalf("summary lines: %v", summaries)
	}
	if c, _ := summaries[0]["counts"].(map[string]any); c["sent"] != float64(1) || summaries[0]["complete"] != true {
		t.Errorf("summary line %v", summaries[0])
	}

	// One EMF document: namespace microcert, dimension FunctionName.
	emf := logLines(t, &metrics)
	if len(emf) != 1 {
		t.Fatalf("EMF lines: %d", len(emf))
	}
	doc := emf[0]
	aws := doc["_aws"].(map[string]any)
	if _, ok := aws["Timestamp"].(float64); !ok {
		t.Errorf("no Timestamp: %v", aws)
	}
	cw := aws["CloudWatchMetrics"].([]any)[0].(map[string]any)
	if cw["Namespace"] != "microcert" || !cmp.Equal(cw["Dimensions"], []any{[]any{"FunctionName"}}) {
		t.Errorf("EMF directive %v", cw)
	}
	names := map[string]bool{}
	for _, m := range cw["Metrics"].([]any) {
		name := m.(map[string]any)["Name"].(string)
		names[name] = true
		if _, ok := doc[name].(float64); !ok {
			t.Errorf("metric %s has no numeric value in %v", name, doc)
		}
	}
	for _, want := range []string{"sent", "duplicate", "rescheduled", "conflict", "failed", "read", "incomplete", "duration"} {
		if !names[want] {
			t.Errorf("metric %s missing", want)
		}
	}
	if doc["FunctionName"] != "ReminderFunction" || doc["sent"] != float64(1) || doc["failed"] != float64(0) {
		t.Errorf("EMF values %v", doc)
	}

	// The rerun of the same event (Lambda's retry) sends nothing.
	s, err = h.Handle(ctx, readEvent(t, "schedule-reminder-2027-09-28.json"))
	if err != nil || s.Read != 0 {
		t.Errorf("retry: %+v %v", s, err)
	}
}

func TestHandlerClockAndBadEvents(t *testing.T) {
	e := newEnv(t)
	fake := time.Date(2027, 12, 28, 1, 0, 0, 0, time.UTC)
	h := &jobs.Handler{Job: e.expiry(), Clock: clock.NewFake(fake), Log: discard}
	for _, ev := range []string{``, `null`, `{}`, `{"detail-type": "Scheduled Event", "detail": {}}`} {
		s, err := h.Handle(ctx, json.RawMessage(ev))
		if err != nil || !s.Now.Equal(fake) {
			t.Errorf("event %q: now %v err %v; want the clock's %v", ev, s.Now, err, fake)
		}
	}
	s, err := h.Handle(ctx, readEvent(t, "schedule-expiry-2027-11-28.json"))
	if err != nil || !s.Now.Equal(time.Date(2027, 11, 28, 1, 0, 0, 0, time.UTC)) {
		t.Errorf("event time: %v %v", s.Now, err)
	}
	for _, ev := range []string{`[1]`, `{"time": "yesterday"}`, `{"time": 5}`} {
		if _, err := h.Handle(ctx, json.RawMessage(ev)); err == nil {
			t.Errorf("event %s accepted", ev)
		}
	}
}

// An incomplete run is an error, so that Lambda retries the invocation.
func TestHandlerIncompleteRunFails(t *testing.T) {
	e := newEnv(t)
	now := beijingMorning(expires, -30)
	seedDue(e, 3, now)
	wall := clock.NewFake(time.Now())
	cfg := e.config()
	cfg.Wall = wall
	cfg.SafetyMargin = time.Hour // the deadline is always near
	var metrics bytes.Buffer
	h := &jobs.Handler{Job: jobs.NewReminders(cfg), Log: discard, Metrics: &metrics}
	runCtx, cancel := contextWithDeadline(time.Now().Add(time.Minute))
	defer cancel()
	ev, _ := json.Marshal(map[string]string{"time": now.Format(time.RFC3339)})
	s, err := h.Handle(runCtx, ev)
	if err == nil || s.Complete || s.Stopped != "deadline near" {
		t.Errorf("summary %+v err %v", s, err)
	}
	if !strings.Contains(metrics.String(), `"incomplete":1`) {
		t.Errorf("EMF %s", metrics.String())
	}
}

func contextWithDeadline(d time.Time) (context.Context, context.CancelFunc) {
	return context.WithDeadline(ctx, d)
}

// TestStopReason: a deadline near or already passed is the deadline (the
// scheduled run hands its parts on); a cancelled context is not.
func TestStopReason(t *testing.T) {
	wall := clock.NewFake(time.Date(2027, 9, 28, 1, 0, 0, 0, time.UTC))
	const margin = 10 * time.Second
	deadline := func(in time.Duration) context.Context {
		ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(in))
		t.Cleanup(cancel)
		return ctx
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	wallDeadline := func(in time.Duration) context.Context {
		ctx, cancel := context.WithDeadline(context.Background(), wall.Now().Add(in))
		t.Cleanup(cancel)
		return ctx
	}
	for _, tc := range []struct {
		name string
		ctx  context.Context
		want string
	}{
		{"no deadline", context.Background(), ""},
		{"deadline far", wallDeadline(time.Hour), ""},
		{"deadline within the margin", wallDeadline(margin / 2), "deadline near"},
		{"deadline passed", deadline(-time.Millisecond), "deadline near"},
		{"cancelled", cancelled, "context canceled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := jobs.StopReason(tc.ctx, wall, margin); got != tc.want {
				t.Errorf("StopReason = %q, want %q", got, tc.want)
			}
		})
	}
}
