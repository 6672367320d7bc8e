package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"microcert/shared/logging"
)

// The dispatcher runs on a schedule of one minute. Each run covers its
// minute: it passes over the outbox again and again (pausing Poll when a
// pass found nothing) until Window after the time it was scheduled for,
// so a state change waits about Poll, not a minute, for its delivery.
// A run invoked for a time long past (a test, a manual run, a late
// retry) makes one pass.

// ScheduledEvent is the part of an EventBridge scheduled event the
// dispatcher reads: the time the run was scheduled for.
type ScheduledEvent struct {
	Time string `json:"time"`
}

// Handler adapts the dispatcher to Lambda.
type Handler struct {
	Dispatcher *Dispatcher
	// Window: how long after its scheduled time a run keeps passing
	// (less than the schedule's period, so runs do not overlap).
	Window time.Duration
	// Poll: the pause after a pass that found nothing.
	Poll time.Duration
	// Margin: a run stops this long before the invocation's deadline.
	Margin   time.Duration
	Metrics  io.Writer // EMF lines (os.Stdout in Lambda)
	Function string    // the metrics' FunctionName
	// Sleep pauses (nil: the real time; tests move a fake clock).
	Sleep func(ctx context.Context, d time.Duration)
}

func (h *Handler) sleep(ctx context.Context, d time.Duration) {
	if h.Sleep != nil {
		h.Sleep(ctx, d)
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// Summary is what a run did.
type Summary struct {
	Passes   int                       `json:"passes"`
	Counts   map[string]map[string]int `json:"counts"`
	Errors   int                       `json:"errors"`
	Duration time.Duration             `json:"durationNs"`
}

// Handle is the Lambda handler.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (Summary, error) {
	d := h.Dispatcher
	start := d.Clock.Now()
	scheduled := start
	var ev ScheduledEvent
	if raw = bytes.TrimSpace(raw); len(raw) > 0 && !bytes.Equal(raw, []byte("null")) {
		if err := json.Unmarshal(raw, &ev); err != nil {
			return Summary{}, fmt.Errorf("event is not a scheduled event: %w", err)
		}
	}
	if ev.Time != "" {
		t, err := time.Parse(time.RFC3339, ev.Time)
		if err != nil {
			return Summary{}, fmt.Errorf("event time %q is not RFC 3339: %w", ev.Time, err)
		}
		scheduled = t
	}
	until := scheduled.Add(h.Window)
	if dl, ok := ctx.Deadline(); ok && dl.Add(-h.Margin).Before(until) {
		until = dl.Add(-h.Margin)
	}
	stats := NewStats()
	sum := Summary{}
	for {
		before := stats.Total()
		if err := d.Pass(ctx, stats); err != nil {
			sum.Errors++
			d.Log.Error("pass", "err", err)
		}
		sum.Passes++
		now := d.Clock.Now()
		if ctx.Err() != nil || !now.Before(until) {
			break
		}
		if stats.Total() == before {
			h.sleep(ctx, min(h.Poll, until.Sub(now)))
		}
	}
	sum.Counts = stats.Counts
	sum.Duration = d.Clock.Now().Sub(start)
	d.Log.Info("run summary", "passes", sum.Passes, "counts", sum.Counts, "errors", sum.Errors, "durationMs", sum.Duration.Milliseconds())
	if h.Metrics != nil {
		if err := WriteEMF(h.Metrics, h.Function, stats); err != nil {
			d.Log.Error("metrics", "err", err)
		}
	}
	return sum, nil
}

// Channels every run reports (0 when nothing happened), with the outcomes
// each reports, so alarms see data points.
var reported = []string{"notification", "in_app", "wechat", "sms", "webhook"}

// WriteEMF prints one CloudWatch Embedded Metric Format line per channel:
// the count of each outcome and the delivery latencies (milliseconds),
// with the dimensions FunctionName and Channel.
func WriteEMF(w io.Writer, function string, s *Stats) error {
	channels := map[string]bool{}
	for _, c := range reported {
		channels[c] = true
	}
	for c := range s.Counts {
		channels[c] = true
	}
	// The run itself: how many entries it read (the not-reported alarm
	// counts these lines).
	if err := logging.WriteEMF(w, map[string]any{"FunctionName": function}, [][]string{{"FunctionName"}},
		[]logging.Metric{{Name: "read", Unit: "Count", Value: s.Total()}}); err != nil {
		return err
	}
	names := make([]string, 0, len(channels))
	for c := range channels {
		names = append(names, c)
	}
	sort.Strings(names)
	for _, c := range names {
		var metrics []logging.Metric
		for _, o := range []string{OutDelivered, OutRetried, OutFailed, OutDead, OutSkipped, OutFannedOut, OutError} {
			metrics = append(metrics, logging.Metric{Name: o, Unit: "Count", Value: s.Counts[c][o]})
		}
		if l := s.LatencyMs[c]; len(l) > 0 {
			metrics = append(metrics, logging.Metric{Name: "delivery_latency", Unit: "Milliseconds", Value: l})
		}
		props := map[string]any{"FunctionName": function, "Channel": c}
		if err := logging.WriteEMF(w, props, [][]string{{"FunctionName", "Channel"}}, metrics); err != nil {
			return err
		}
	}
	return nil
}
