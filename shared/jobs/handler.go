package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"time"

	"microcert/shared/clock"
)

// Job is a daily job: Reminders or Expiry.
type Job interface {
	Name() string
	Run(ctx context.Context, now time.Time) Summary
}

// ScheduledEvent is the part of an EventBridge scheduled event the jobs
// read:
//
//	{"detail-type": "Scheduled Event", "source": "aws.events",
//	 "time": "2027-09-27T01:00:00Z", "detail": {}, ...}
//
// The event's time is the job's "now": it is the time the run was
// scheduled for (the same on Lambda's retries of that event, so a retry
// redoes exactly the same day's work), and it is how tests and
// `make invoke EVENT=events/schedule-reminder-2027-09-27.json` run a job as
// of any date. An event without a time (e.g. `{}`) runs as of the clock.
type ScheduledEvent struct {
	Time       string `json:"time"`
	DetailType string `json:"detail-type"`
}

// Handler adapts a job to Lambda: it takes "now" from the event, runs the
// job until done or near the context's deadline, logs one summary line,
// prints the counts as CloudWatch Embedded Metric Format to metrics, and
// returns the summary. The error is non-nil when items are left (deadline,
// failures), so that Lambda retries the invocation, which finishes them.
type Handler struct {
	Job     Job
	Clock   clock.Clock // "now" for events without a time
	Log     *slog.Logger
	Metrics io.Writer // EMF lines (os.Stdout in Lambda)
	// Function is the value of the metrics' FunctionName dimension: the
	// Lambda function's name (lambdacontext.FunctionName), else the job's.
	Function string

	mu sync.Mutex // one EMF line at a time
}

// Handle is the Lambda handler.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (Summary, error) {
	if h.Log == nil {
		h.Log = slog.New(slog.DiscardHandler)
	}
	now, err := h.now(raw)
	if err != nil {
		h.Log.Error("bad event", "err", err)
		return Summary{Job: h.Job.Name()}, err
	}
	if wall := time.Now(); now.Sub(wall) > 24*time.Hour || wall.Sub(now) > 7*24*time.Hour {
		// Not what EventBridge sends: a manual run for another date.
		h.Log.Warn("running as of a time far from the clock", "now", now, "clock", wall)
	}
	s := h.Job.Run(ctx, now)
	attrs := []any{"job", s.Job, "now", s.Now, "read", s.Read, "complete", s.Complete,
		"durationMs", s.Duration.Milliseconds(), "counts", s.Counts}
	if c := s.Calendar; c != nil {
		attrs = append(attrs, "calendarSource", c.Source, "calendarLastDay", c.LastDay, "calendarDaysLeft", c.DaysLeft)
	}
	if s.Stopped != "" {
		attrs = append(attrs, "stopped", s.Stopped)
	}
	if s.Complete && s.Count(OutFailed) == 0 {
		h.Log.Info("run summary", attrs...)
	} else {
		h.Log.Warn("run summary", attrs...)
	}
	if h.Metrics != nil {
		fn := h.Function
		if fn == "" {
			fn = s.Job
		}
		h.mu.Lock()
		err := WriteEMF(h.Metrics, fn, s)
		h.mu.Unlock()
		if err != nil {
			h.Log.Error("metrics", "err", err)
		}
	}
	return s, s.Err()
}

func (h *Handler) now(raw json.RawMessage) (time.Time, error) {
	fallback := func() time.Time {
		if h.Clock != nil {
			return h.Clock.Now().UTC()
		}
		return time.Now().UTC()
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return fallback(), nil
	}
	var ev ScheduledEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return time.Time{}, fmt.Errorf("event is not a scheduled event: %w", err)
	}
	if ev.Time == "" {
		return fallback(), nil
	}
	t, err := time.Parse(time.RFC3339, ev.Time)
	if err != nil {
		return time.Time{}, fmt.Errorf("event time %q is not RFC 3339: %w", ev.Time, err)
	}
	return t.UTC(), nil
}

// Namespace of the jobs' CloudWatch metrics.
const Namespace = "microcert"

// MetricCalendarDaysLeft is the expiry job's daily gauge of the days left
// in the working-day calendar's data.
const MetricCalendarDaysLeft = "calendar_days_left"

// metricOrder lists the counts every summary reports (0 when nothing
// happened), so that dashboards and alarms see a data point every day.
var metricOrder = map[string][]string{
	"reminder": {OutSent, OutDuplicate, OutRescheduled, OutConflict, OutFailed},
	"refund": {OutRefundSucceeded, OutRefundSubmitted, OutRefundDeclined, OutRefundBackoff, OutRefundUnreachable,
		OutNotDue, OutConflict, OutFailed},
	"reconcile": {OutReconciled, OutStatementMissing, OutStatementBad, OutAlreadyRecorded, OutFailed},
	"expiry": {OutOverdue, OutLapsed, OutDepositExpired, OutSessionExpired, OutClaimReleased,
		OutSLABreached, OutReviewDueSettled, OutReviewDueProvisional, OutDocsExpired, OutNotDue, OutConflict, OutFailed},
}

// WriteEMF prints one CloudWatch Embedded Metric Format line for s: the
// count of each outcome, the items read, whether the run was incomplete and
// its duration, in namespace "microcert" with the dimension FunctionName.
func WriteEMF(w io.Writer, function string, s Summary) error {
	values := map[string]any{}
	type metric struct {
		Name string `json:"Name"`
		Unit string `json:"Unit"`
	}
	var metrics []metric
	add := func(name, unit string, v any) {
		if _, ok := values[name]; ok {
			return
		}
		values[name] = v
		metrics = append(metrics, metric{Name: name, Unit: unit})
	}
	for _, o := range metricOrder[s.Job] {
		add(o, "Count", s.Counts[o])
	}
	extra := make([]string, 0, len(s.Counts))
	for o := range s.Counts {
		extra = append(extra, o)
	}
	sort.Strings(extra)
	for _, o := range extra {
		add(o, "Count", s.Counts[o])
	}
	add("read", "Count", s.Read)
	incomplete := 0
	if !s.Complete {
		incomplete = 1
	}
	add("incomplete", "Count", incomplete)
	add("duration", "Milliseconds", s.Duration.Milliseconds())
	if s.Calendar != nil {
		// How many days of known working-day calendar are left (an alarm
		// fires below 90): publish next year's schedule before then.
		add(MetricCalendarDaysLeft, "None", s.Calendar.DaysLeft)
	}

	doc := map[string]any{
		"_aws": map[string]any{
			"Timestamp": time.Now().UnixMilli(),
			"CloudWatchMetrics": []any{map[string]any{
				"Namespace":  Namespace,
				"Dimensions": [][]string{{"FunctionName"}},
				"Metrics":    metrics,
			}},
		},
		"FunctionName": function,
		"job":          s.Job,
		"now":          s.Now.UTC().Format(time.RFC3339),
	}
	for k, v := range values {
		doc[k] = v
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	if _, err = w.Write(append(b, '\n')); err != nil {
		return err
	}
	return writeDiscrepancies(w, function, s)
}

// DiscrepancyMetric is the metric of the reconciliation: one data point per
// statement source and discrepancy kind each run (0 included), with the
// dimensions FunctionName (all kinds: alarm on its Sum > 0) and
// FunctionName + Source + Type (which one).
const DiscrepancyMetric = "discrepancies"

func writeDiscrepancies(w io.Writer, function string, s Summary) error {
	sources := make([]string, 0, len(s.Discrepancies))
	for src := range s.Discrepancies {
		sources = append(sources, src)
	}
	sort.Strings(sources)
	for _, src := range sources {
		kinds := make([]string, 0, len(s.Discrepancies[src]))
		for k := range s.Discrepancies[src] {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		for _, k := range kinds {
			doc := map[string]any{
				"_aws": map[string]any{
					"Timestamp": time.Now().UnixMilli(),
					"CloudWatchMetrics": []any{map[string]any{
						"Namespace":  Namespace,
						"Dimensions": [][]string{{"FunctionName"}, {"FunctionName", "Source", "Type"}},
						"Metrics":    []map[string]string{{"Name": DiscrepancyMetric, "Unit": "Count"}},
					}},
				},
				"FunctionName":    function,
				"Source":          src,
				"Type":            k,
				"day":             s.Day,
				DiscrepancyMetric: s.Discrepancies[src][k],
			}
			b, err := json.Marshal(doc)
			if err != nil {
				return err
			}
			if _, err := w.Write(append(b, '\n')); err != nil {
				return err
			}
		}
	}
	return nil
}

// Summary JSON is also the Lambda result; make the map stable when empty.
func (s Summary) MarshalJSON() ([]byte, error) {
	type plain Summary
	p := plain(s)
	if p.Counts == nil {
		p.Counts = map[string]int{}
	}
	return json.Marshal(p)
}
