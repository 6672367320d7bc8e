package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"microcert/shared/clock"
	"microcert/shared/domain"
)

// Store is what the jobs need from the table (implemented by *store.Store).
type Store interface {
	// DueShards names the shards of the certification due lists: each is
	// read on its own, by its own invocation when fanned out.
	DueShards() []string
	// RemindersDue lists the certifications of a shard whose RemindAt is at
	// or before before (sparse RemindIndex), earliest first.
	RemindersDue(ctx context.Context, shard string, before time.Time, p domain.Page) ([]domain.Certification, string, error)
	// DueCertifications lists the certifications of a shard whose
	// scheduled transition (expiry, lapse) is at or before before (sparse
	// DueIndex), earliest first.
	DueCertifications(ctx context.Context, shard string, before time.Time, p domain.Page) ([]domain.Certification, string, error)
	// DueCases lists cases whose pending work (PendingWorkAt) is at or
	// before before (sparse DueIndex).
	DueCases(ctx context.Context, before time.Time, p domain.Page) ([]domain.Case, string, error)
	// GetCertification re-reads one certification (strongly consistent).
	GetCertification(ctx context.Context, enterpriseID string, t domain.CertType) (*domain.Certification, error)
	// GetCase re-reads one case (strongly consistent).
	GetCase(ctx context.Context, id string) (*domain.Case, error)
	// GetCaseBundle reads a case with its documents (one Query).
	GetCaseBundle(ctx context.Context, id string) (*domain.CaseBundle, error)
	// Commit writes a Change atomically; failed conditions are
	// KindConflict errors (version_conflict, duplicate).
	Commit(ctx context.Context, ch *domain.Change) error
}

// Objects tags stored documents (S3); the bucket's lifecycle rule deletes
// objects tagged retention=expire.
type Objects interface {
	Tag(ctx context.Context, key string, tags map[string]string) error
}

// Calendars loads the working-day calendar in force (shared/holidays):
// the built-in data extended by the operator's document. It never fails
// (on trouble it returns what it had).
type Calendars interface {
	Load(ctx context.Context) *domain.Calendar
}

// Defaults of Config.
const (
	DefaultPageSize     = 100
	DefaultWorkers      = 8
	DefaultSafetyMargin = 15 * time.Second
)

// PartitionSafeRate is the MaxItemsPerSecond of the deployed jobs: a
// reminder moves its certification within RemindIndex (a delete and a put
// in the shard's partition: 2 writes) and rewrites it on DueIndex (1), so
// 200 items/s are 400 writes/s on a partition that takes 1,000: the 2x
// margin of BENCHMARKS.md's scale model, with room to spare.
const PartitionSafeRate = 200

// Config wires a job.
type Config struct {
	Store Store
	// Objects is needed by the expiry job only (document retention).
	Objects Objects
	// Calendars is read by the expiry job at the start of each run
	// (provisional review deadlines, calendar_days_left); nil means the
	// built-in data.
	Calendars Calendars
	// Rules are the business numbers (milestones, lapse period, review
	// SLA): the ones the function loaded (shared/config). Required.
	Rules domain.Rules
	Log   *slog.Logger
	// PageSize is the number of index items read per Query.
	PageSize int
	// Workers is how many items one invocation processes at once, across
	// the parts it runs (each item is its own transaction; items of a page
	// never touch the same record).
	Workers int
	// MaxItemsPerSecond caps the items one invocation starts per second
	// (0: no cap), so that the index partition of a shard it drains stays
	// within its write limit (PartitionSafeRate).
	MaxItemsPerSecond int
	// SafetyMargin: no new item is started once the context's deadline is
	// closer than this (time for the items in flight and the summary).
	SafetyMargin time.Duration
	// Wall is the clock the deadline is compared with (the real clock in
	// Lambda; tests move a fake one). It is not the job's "now".
	Wall clock.Clock
}

func (c Config) withDefaults() Config {
	if c.PageSize <= 0 {
		c.PageSize = DefaultPageSize
	}
	if c.Workers <= 0 {
		c.Workers = DefaultWorkers
	}
	if c.SafetyMargin <= 0 {
		c.SafetyMargin = DefaultSafetyMargin
	}
	if c.Wall == nil {
		c.Wall = clock.System{}
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if err := c.Rules.Validate(); err != nil {
		// A wiring mistake, found at init: a job never runs on rules it
		// was not given.
		panic("jobs: Config.Rules: " + err.Error())
	}
	return c
}

// Outcome names of the summary and the metrics. Each item processed adds
// its outcomes: one for a reminder, one per transition or timeout applied
// for the expiry job, or one of the last three.
const (
	// Reminders.
	OutSent        = "sent"        // reminder written with its mark
	OutDuplicate   = "duplicate"   // the milestone's mark existed: already sent
	OutRescheduled = "rescheduled" // nothing to send (renewed, expired, ...): RemindAt recomputed
	// Expiry of certifications (one item may count both).
	OutOverdue = "overdue"
	OutLapsed  = "lapsed"
	// Case timeouts (one item may count several).
	OutDepositExpired = "deposit_expired"
	OutSessionExpired = "session_expired"
	OutClaimReleased  = "claim_released"
	OutSLABreached    = "sla_breached"
	OutDocsExpired    = "documents_expired" // a closed case's files handed to the bucket's deletion
	// A provisional review deadline (past the calendar's data) recomputed:
	// final now that the data covers it, or still provisional.
	OutReviewDueSettled     = "review_due_settled"
	OutReviewDueProvisional = "review_due_provisional"
	// Any job.
	OutNotDue   = "not_due"  // read but nothing due at now (an index entry ahead of the rules)
	OutConflict = "conflict" // someone else changed the record first: skipped, the index brings it back if still due
	OutFailed   = "failed"   // an error; the item stays due for the next run
)

// Outcomes of the reconciliation (shared/reconcile), beside one count per
// discrepancy kind.
const (
	OutReconciled       = "reconciled"        // a statement compared
	OutStatementMissing = "statement_missing" // not in the bucket yet: the run fails, Lambda (or tomorrow) retries
	OutStatementBad     = "statement_malformed"
	OutAlreadyRecorded  = "already_recorded" // a discrepancy an earlier run of the day recorded
)

// Summary is the result of one run: what was read and what happened.
type Summary struct {
	Job string    `json:"job"`
	Now time.Time `json:"now"`
	// Parts names the partitions of the job's work this run covered.
	Parts []string `json:"parts,omitempty"`
	// Read is the number of index items read (certifications and cases;
	// an item that failed or conflicted may be read again in the run).
	Read int `json:"read"`
	// Counts holds the number of items per outcome.
	Counts map[string]int `json:"counts"`
	// Complete is false when the run stopped before the end of the due
	// items (deadline, cancellation, a failing read).
	Complete bool `json:"complete"`
	// Stopped says why an incomplete run stopped.
	Stopped  string        `json:"stopped,omitempty"`
	Duration time.Duration `json:"durationNs"`
	// Reconciliation only: the statement day, the discrepancies found per
	// source and kind (every kind, 0 included), and each side's totals.
	Day           string                    `json:"day,omitempty"`
	Discrepancies map[string]map[string]int `json:"discrepancies,omitempty"`
	Totals        map[string]int64          `json:"totals,omitempty"`
	// Calendar is the working-day calendar the run used (expiry job).
	Calendar *CalendarInfo `json:"calendar,omitempty"`
	// Unfinished names the parts that stopped before their last due item.
	Unfinished []string `json:"unfinished,omitempty"`
	// Dispatched names the parts a fan-out invoked (Handler.FanOut).
	Dispatched []string `json:"dispatched,omitempty"`
	// HandedOn: the run stopped near its deadline and invoked the
	// function again for the rest (Dispatched, or its own part).
	HandedOn bool `json:"handedOn,omitempty"`
}

// CalendarInfo says how far the working-day calendar reaches: what an
// operator checks after publishing a year, and the calendar_days_left
// metric (an alarm fires below 90).
type CalendarInfo struct {
	Source   string `json:"source"`
	LastDay  string `json:"lastDay"`  // YYYY-MM-DD, Beijing
	DaysLeft int    `json:"daysLeft"` // from the run's Beijing day to LastDay
}

// calendarInfo describes cal as of now.
func calendarInfo(cal *domain.Calendar, now time.Time) *CalendarInfo {
	_, last := cal.Range()
	return &CalendarInfo{Source: cal.Source(), LastDay: last.Format(time.DateOnly), DaysLeft: cal.DaysLeft(now)}
}

// Count is Counts[outcome] (0 when absent).
func (s Summary) Count(outcome string) int { return s.Counts[outcome] }

// Err is the error the Lambda handler returns for this summary: nil when
// the run processed every due item, else an error so that Lambda retries
// the invocation (the retry finishes the rest).
func (s Summary) Err() error {
	switch {
	case !s.Complete:
		return errors.New(s.Job + ": stopped before the end of the due items: " + s.Stopped)
	case s.Counts[OutFailed] > 0:
		return errors.New(s.Job + ": some items failed; they stay due for the next run")
	}
	return nil
}

// tally collects outcomes from concurrent workers.
type tally struct {
	mu     sync.Mutex
	counts map[string]int
	read   int
}

func (t *tally) add(outcomes ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.counts == nil {
		t.counts = map[string]int{}
	}
	for _, o := range outcomes {
		t.counts[o]++
	}
}

func (t *tally) addRead(n int) {
	t.mu.Lock()
	t.read += n
	t.mu.Unlock()
}

func (t *tally) snapshot() (map[string]int, int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]int, len(t.counts))
	for k, v := range t.counts {
		out[k] = v
	}
	return out, t.read
}

// stopReason reports why no new item may start ("" if it may).
func (c Config) stopReason(ctx context.Context) string {
	return StopReason(ctx, c.Wall, c.SafetyMargin)
}

// StopReason reports why a job may start no new item ("" if it may): the
// context is done, or its deadline is within margin of wall's now. A
// deadline already passed is the deadline too, not a failure: a scheduled
// run whose inline budget ran out in the middle of a Query hands its parts
// on like one that saw the deadline coming.
func StopReason(ctx context.Context, wall clock.Clock, margin time.Duration) string {
	if err := ctx.Err(); errors.Is(err, context.DeadlineExceeded) {
		return stopDeadline
	} else if err != nil {
		return err.Error()
	}
	if dl, ok := ctx.Deadline(); ok && dl.Sub(wall.Now()) < margin {
		return stopDeadline
	}
	return ""
}

// stopDeadline is why a run stopped when its deadline came near.
const stopDeadline = "deadline near"

// maxQueryLimit is the largest page the store reads in one Query.
const maxQueryLimit = 1000

// stays reports whether an item may still be in the due range after do:
// it failed, lost to another writer, or was not due after all.
func stays(outcomes []string) bool {
	for _, o := range outcomes {
		if o == OutFailed || o == OutConflict || o == OutNotDue {
			return true
		}
	}
	return false
}

// drain reads the items list says are due at or before now and hands each
// to do, c.Workers at a time. It returns "" when none is left, else why it
// stopped.
//
// Processed items leave the due range (their due time is removed or moves
// past now), so after a page the next Query starts again from the
// beginning of the range rather than from the page's cursor: that is
// correct whatever happened to the page's last item (the local stand-in
// only resumes after a key that still exists), and it costs nothing more
// when all goes well. Items that stay in the range (failures, conflicts)
// are remembered and skipped; the page is widened by their number so they
// never crowd out new work, and when a Query returns nothing new (e.g. the
// index still shows items just written: GSIs are eventually consistent) the
// run follows that Query's cursor past them. Failed items stay due for the
// next run; one failing item does not stop the batch.
func drain[T any](ctx context.Context, c Config, r *runner, now time.Time,
	list func(context.Context, time.Time, domain.Page) ([]T, string, error),
	key func(T) string, do func(context.Context, T) []string) string {
	seen := map[string]bool{}
	t := r.tally
	var (
		mu     sync.Mutex
		stuck  int
		cursor string
		wg     sync.WaitGroup
	)
	defer wg.Wait()
	for {
		if why := c.stopReason(ctx); why != "" {
			return why
		}
		mu.Lock()
		limit := c.PageSize + stuck
		mu.Unlock()
		if limit > maxQueryLimit {
			return fmt.Sprintf("%d items failed or conflicted in this run", stuck)
		}
		items, next, err := list(ctx, now, domain.Page{Limit: limit, Cursor: cursor})
		if err != nil {
			c.Log.Error("read due items", "err", err)
			if why := c.stopReason(ctx); why != "" {
				return why
			}
			return "read failed: " + domain.CodeOf(err)
		}
		t.addRead(len(items))
		fresh := 0
		for _, it := range items {
			k := key(it)
			if seen[k] {
				continue
			}
			if why := c.stopReason(ctx); why != "" {
				return why
			}
			if err := r.pace.wait(ctx); err != nil {
				return c.stopReason(ctx)
			}
			seen[k] = true
			fresh++
			r.sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-r.sem; wg.Done() }()
				out := do(ctx, it)
				t.add(out...)
				if stays(out) {
					mu.Lock()
					stuck++
					mu.Unlock()
				}
			}()
		}
		// The page's writes land before the range is read again.
		wg.Wait()
		switch {
		case next == "":
			return ""
		case fresh == 0:
			cursor = next
		default:
			cursor = ""
		}
	}
}

// runner is what the parts run by one invocation share: the outcomes, the
// Workers bound on items in flight, the MaxItemsPerSecond pace.
type runner struct {
	tally *tally
	sem   chan struct{}
	pace  *pacer
}

// part is one partition of a job's work: a shard of a due list, or the
// case timeouts. Run with the shared runner, it returns "" when nothing due
// is left, else why it stopped.
type part struct {
	name string
	run  func(*runner) string
}

// partNames lists the names of ps.
func partNames(ps []part) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.name
	}
	return out
}

// run runs the parts of a job named in names (all when none) at once into
// one Summary: their Queries run in parallel, their items share the
// invocation's Workers and pace.
func run(ctx context.Context, c Config, job string, now time.Time, all []part, names ...string) Summary {
	start := c.Wall.Now()
	r := &runner{tally: &tally{}, sem: make(chan struct{}, c.Workers), pace: newPacer(c.MaxItemsPerSecond)}
	chosen := all
	if len(names) > 0 {
		chosen = nil
		for _, n := range names {
			i := slices.IndexFunc(all, func(p part) bool { return p.name == n })
			if i < 0 {
				return Summary{Job: job, Now: now, Parts: names, Stopped: "no part " + strconv.Quote(n) + " in this job"}
			}
			chosen = append(chosen, all[i])
		}
	}
	stops := make([]string, len(chosen))
	var wg sync.WaitGroup
	for i, p := range chosen {
		wg.Go(func() { stops[i] = p.run(r) })
	}
	wg.Wait()
	// Why the run stopped: each distinct reason once (a deadline stops
	// every part).
	var stopped, unfinished []string
	for i, why := range stops {
		if why == "" {
			continue
		}
		unfinished = append(unfinished, chosen[i].name)
		if !slices.Contains(stopped, why) {
			stopped = append(stopped, why)
		}
	}
	counts, read := r.tally.snapshot()
	return Summary{Job: job, Now: now, Parts: partNames(chosen), Read: read, Counts: counts, Complete: len(stopped) == 0,
		Stopped: strings.Join(stopped, "; "), Unfinished: unfinished, Duration: c.Wall.Now().Sub(start)}
}

// pacer spaces the starts of items at least 1/rate apart (nil: no pace).
type pacer struct {
	mu    sync.Mutex
	every time.Duration
	next  time.Time
}

func newPacer(perSecond int) *pacer {
	if perSecond <= 0 {
		return nil
	}
	return &pacer{every: time.Second / time.Duration(perSecond)}
}

// wait blocks until the next start is due (wall time: it paces real
// traffic), or ctx is done.
func (p *pacer) wait(ctx context.Context) error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	now := time.Now()
	at := p.next
	if at.Before(now) {
		at = now
	}
	p.next = at.Add(p.every)
	p.mu.Unlock()
	if d := time.Until(at); d > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
		}
	}
	return nil
}

// conflict reports whether err is a failed condition (someone else wrote
// first), as opposed to a failure.
func conflict(err error) bool {
	var de *domain.Error
	return errors.As(err, &de) && de.Kind == domain.KindConflict
}

// certificationReader gives the write path's cycles their copy of a
// certification read from an index: that copy on the first cycle, a
// strongly consistent re-read on every later one (someone wrote it in
// between).
func (c Config) certificationReader(from domain.Certification) func(context.Context, *domain.Certification) error {
	first := true
	return func(ctx context.Context, dst *domain.Certification) error {
		if first {
			first = false
			*dst = from
			return nil
		}
		fresh, err := c.Store.GetCertification(ctx, from.EnterpriseID, from.Type)
		if err != nil {
			return err
		}
		*dst = *fresh
		return nil
	}
}
