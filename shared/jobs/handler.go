package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	"microcert/shared/clock"
	"microcert/shared/domain"
	"microcert/shared/logging"
)

// Job is a daily job: Reminders or Expiry.
type Job interface {
	Name() string
	// Parts names the partitions of the job's work (shards of its lists).
	Parts() []string
	// Run runs the parts named (all when none) as of now.
	Run(ctx context.Context, now time.Time, parts ...string) Summary
}

// Invoker invokes the function itself asynchronously with an event
// (Lambda's InvocationType Event: queued, retried twice on error). The
// handler fans a day's work out with it and hands on what a run could not
// finish before its deadline.
type Invoker interface {
	InvokeAsync(ctx context.Context, event []byte) error
}

// MaxContinuations bounds the chain of invocations one part of one day may
// take: each stops near its deadline and hands on the rest. A part that
// makes no progress through that many invocations (300 s each) is stuck:
// the last one fails, and the alarms say so.
const MaxContinuations = 24

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
//
// With an Invoker (deployed and locally), a scheduled run that has not
// finished within InlineBudget fans out: one asynchronous invocation per
// unfinished part, each with the event's time and the part's name (Part).
// A part's run that stops near its deadline invokes again with
// Continuation + 1 for the rest.
type ScheduledEvent struct {
	Time         string `json:"time"`
	DetailType   string `json:"detail-type,omitempty"`
	Part         string `json:"part,omitempty"`
	Continuation int    `json:"continuation,omitempty"`
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
	// FanOut, when set, spreads a scheduled run over one invocation per
	// part and continues a part's unfinished run in a new invocation; nil
	// runs every part in this invocation (make invoke without the local
	// stack, tests).
	FanOut Invoker
	// InlineBudget overrides the package's InlineBudget (0: that).
	InlineBudget time.Duration

	mu sync.Mutex // one EMF line at a time
}

// Handle is the Lambda handler.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (Summary, error) {
	if h.Log == nil {
		h.Log = slog.New(slog.DiscardHandler)
	}
	now, ev, err := h.event(raw)
	if err != nil {
		h.Log.Error("bad event", "err", err)
		return Summary{Job: h.Job.Name()}, err
	}
	if wall := time.Now(); now.Sub(wall) > 24*time.Hour || wall.Sub(now) > 7*24*time.Hour {
		// Not what EventBridge sends: a manual run for another date.
		h.Log.Warn("running as of a time far from the clock", "now", now, "clock", wall)
	}
	var s Summary
	switch {
	case ev.Part == "" && h.FanOut != nil:
		// The scheduled run works through the day itself for
		// InlineBudget; what is left then goes to one invocation per
		// unfinished part. An ordinary day ends here; a WeChat-sized one
		// fans out after a minute.
		budget := InlineBudget
		if h.InlineBudget > 0 {
			budget = h.InlineBudget
		}
		ictx, cancel := context.WithDeadline(ctx, h.wallNow().Add(budget))
		s = h.Job.Run(ictx, now)
		cancel()
		if !s.Complete && s.Stopped == stopDeadline && ctx.Err() == nil {
			err := h.fanOut(ctx, &s, now)
			s.HandedOn = err == nil
		}
	case ev.Part != "":
		s = h.Job.Run(ctx, now, ev.Part)
		s.HandedOn = h.handOn(ctx, s, ev, now)
	default:
		s = h.Job.Run(ctx, now)
	}
	attrs := []any{"job", s.Job, "now", s.Now, "read", s.Read, "complete", s.Complete,
		"durationMs", s.Duration.Milliseconds(), "counts", s.Counts}
	if c := s.Calendar; c != nil {
		attrs = append(attrs, "calendarSource", c.Source, "calendarLastDay", c.LastDay, "calendarDaysLeft", c.DaysLeft)
	}
	if s.Stopped != "" {
		attrs = append(attrs, "stopped", s.Stopped)
	}
	if len(s.Parts) == 1 {
		attrs = append(attrs, "part", s.Parts[0], "continuation", ev.Continuation)
	}
	if s.HandedOn {
		attrs = append(attrs, "handedOn", true)
	}
	if s.Complete && s.Count(OutFailed) == 0 {
		h.Log.Info("run summary", attrs...)
	} else {
		h.Log.Warn("run summary", attrs...)
	}
	h.writeMetrics(s)
	if s.HandedOn && s.Count(OutFailed) == 0 {
		// The next invocation finishes the part: no retry of this one.
		return s, nil
	}
	return s, s.Err()
}

// writeMetrics prints s as one EMF line to Metrics, if set.
func (h *Handler) writeMetrics(s Summary) {
	if h.Metrics == nil {
		return
	}
	fn := h.Function
	if fn == "" {
		fn = s.Job
	}
	h.mu.Lock()
	err := WriteEMF(h.Metrics, fn, s)
	h.mu.Unlock()
	if err != nil && h.Log != nil {
		h.Log.Error("metrics", "err", err)
	}
}

// InlineBudget is how long a scheduled run works through the day's parts
// itself, all at once, before it hands each unfinished part to an
// invocation of its own (Handler.FanOut).
const InlineBudget = 60 * time.Second

func (h *Handler) wallNow() time.Time {
	if h.Clock != nil {
		return h.Clock.Now()
	}
	return time.Now()
}

// fanOut invokes the function once per unfinished part of s, as of now. A
// failed invoke fails the run, so that Lambda retries it; parts invoked
// twice do their work once (every effect is conditional).
func (h *Handler) fanOut(ctx context.Context, s *Summary, now time.Time) error {
	var errs []error
	for _, p := range s.Unfinished {
		ev, _ := json.Marshal(ScheduledEvent{Time: now.Format(time.RFC3339Nano), Part: p, Continuation: 1})
		if err := h.FanOut.InvokeAsync(ctx, ev); err != nil {
			errs = append(errs, fmt.Errorf("invoke part %s: %w", p, err))
			continue
		}
		s.Dispatched = append(s.Dispatched, p)
	}
	err := errors.Join(errs...)
	if err != nil {
		h.Log.Error("fan-out", "job", s.Job, "now", now, "dispatched", len(s.Dispatched), "of", len(s.Unfinished), "err", err)
		return err
	}
	h.Log.Info("fan-out", "job", s.Job, "now", now, "dispatched", len(s.Dispatched))
	return nil
}

// handOn invokes the function again for the rest of a part whose run
// stopped near its deadline; it reports whether the rest is handed on.
func (h *Handler) handOn(ctx context.Context, s Summary, ev ScheduledEvent, now time.Time) bool {
	if h.FanOut == nil || s.Complete || ev.Part == "" || s.Stopped != stopDeadline {
		return false
	}
	if ev.Continuation+1 > MaxContinuations {
		h.Log.Error("part not finished after the maximum of continuations", "part", ev.Part, "continuations", ev.Continuation)
		return false
	}
	next := ScheduledEvent{Time: now.Format(time.RFC3339Nano), Part: ev.Part, Continuation: ev.Continuation + 1}
	b, _ := json.Marshal(next)
	// The context is nearly done: the invoke gets its own few seconds.
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := h.FanOut.InvokeAsync(ictx, b); err != nil {
		h.Log.Error("hand on", "part", ev.Part, "err", err)
		return false
	}
	return true
}

func (h *Handler) event(raw json.RawMessage) (time.Time, ScheduledEvent, error) {
	var ev ScheduledEvent
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && !bytes.Equal(raw, []byte("null")) {
		if err := json.Unmarshal(raw, &ev); err != nil {
			return time.Time{}, ev, fmt.Errorf("event is not a scheduled event: %w", err)
		}
	}
	if ev.Part != "" && !slices.Contains(h.Job.Parts(), ev.Part) {
		return time.Time{}, ev, fmt.Errorf("event part %q is not a part of job %s", ev.Part, h.Job.Name())
	}
	now, err := h.now(raw)
	return now, ev, err
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

// MetricCalendarDaysLeft is the expiry job's daily gauge of the days left
// in the working-day calendar's data.
const MetricCalendarDaysLeft = "calendar_days_left"

// metricOrder lists the counts every summary reports (0 when nothing
// happened), so that dashboards and alarms see a data point every day.
var metricOrder = map[string][]string{
	"reminder": {OutSent, OutDuplicate, OutRescheduled, OutConflict, OutFailed},
	"refund": {OutRefundSucceeded, OutRefundSubmitted, OutRefundDeclined, OutRefundBackoff, OutRefundUnreachable,
		OutNotDue, OutConflict, OutFailed},
	// The reconciliation also counts each discrepancy it records by kind.
	"reconcile": append([]string{OutReconciled, OutStatementMissing, OutStatementBad, OutAlreadyRecorded, OutFailed},
		discrepancyKinds()...),
	"expiry": {OutOverdue, OutLapsed, OutDepositExpired, OutSessionExpired, OutClaimReleased,
		OutSLABreached, OutReviewDueSettled, OutReviewDueProvisional, OutDocsExpired, OutNotDue, OutConflict, OutFailed},
}

func discrepancyKinds() []string {
	out := make([]string, 0, len(domain.DiscrepancyKinds))
	for _, k := range domain.DiscrepancyKinds {
		out = append(out, string(k))
	}
	return out
}

// WriteEMF prints one CloudWatch Embedded Metric Format line for s: the
// count of each outcome, the items read, whether the run was incomplete and
// its duration, with the dimension FunctionName.
func WriteEMF(w io.Writer, function string, s Summary) error {
	var metrics []logging.Metric
	seen := map[string]bool{}
	add := func(name, unit string, v any) {
		if seen[name] {
			return
		}
		seen[name] = true
		metrics = append(metrics, logging.Metric{Name: name, Unit: unit, Value: v})
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
	props := map[string]any{"FunctionName": function, "job": s.Job, "now": s.Now.UTC().Format(time.RFC3339)}
	if err := logging.WriteEMF(w, props, [][]string{{"FunctionName"}}, metrics); err != nil {
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
	dims := [][]string{{"FunctionName"}, {"FunctionName", "Source", "Type"}}
	for _, src := range sources {
		kinds := make([]string, 0, len(s.Discrepancies[src]))
		for k := range s.Discrepancies[src] {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		for _, k := range kinds {
			props := map[string]any{"FunctionName": function, "Source": src, "Type": k, "day": s.Day}
			if err := logging.WriteEMF(w, props, dims, []logging.Metric{{Name: DiscrepancyMetric, Unit: "Count", Value: s.Discrepancies[src][k]}}); err != nil {
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
