package reconcile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"microcert/shared/blob"
	"microcert/shared/clock"
	"microcert/shared/domain"
	"microcert/shared/jobs"
	"microcert/shared/statements"
)

// ReconStore is what the reconciliation reads and writes (implemented by
// *store.Store): a day's ledger entries and payouts (one GSI1 partition
// each), and the discrepancies it records.
type ReconStore interface {
	LedgerForDay(ctx context.Context, day string) ([]domain.LedgerEntry, error)
	PayoutsForDay(ctx context.Context, day string) ([]domain.Payout, error)
	Commit(ctx context.Context, ch *domain.Change) error
}

// StatementFiles opens the statements in the bucket (implemented by
// *s3blob.S3); a missing one is a KindNotFound error (blob.ErrObjectGone).
type StatementFiles interface {
	Open(ctx context.Context, key string) (io.ReadCloser, blob.ObjectInfo, error)
}

// maxStatementBytes bounds what the job reads of one statement.
const maxStatementBytes = 64 << 20

// Reconcile is the daily reconciliation (ReconcileFunction): for the
// Beijing day before "now" it compares the payment provider's trade bill
// with the ledger and the bank's statement with the micro-deposit payouts,
// line by line, and records each discrepancy (once: its id is derived from
// the line, so a rerun of the day records nothing twice and a resolved one
// stays resolved). The summary carries the count per source and kind (the
// `discrepancies` metric) and both sides' totals.
type Reconcile struct {
	cfg   Config
	store ReconStore
	files StatementFiles
}

// Config wires the job.
type Config struct {
	Log *slog.Logger
	// SafetyMargin: no statement is started once the context's deadline
	// is closer (default jobs.DefaultSafetyMargin).
	SafetyMargin time.Duration
	// Wall is the clock the deadline is compared with.
	Wall clock.Clock
}

// New returns the job.
func New(cfg Config, store ReconStore, files StatementFiles) *Reconcile {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.SafetyMargin <= 0 {
		cfg.SafetyMargin = jobs.DefaultSafetyMargin
	}
	if cfg.Wall == nil {
		cfg.Wall = clock.System{}
	}
	return &Reconcile{cfg: cfg, store: store, files: files}
}

// stopReason: the context is done or its deadline too near.
func (c Config) stopReason(ctx context.Context) string {
	return jobs.StopReason(ctx, c.Wall, c.SafetyMargin)
}

// tally counts outcomes and lines read.
type tally struct {
	counts map[string]int
	read   int
}

func (t *tally) add(o string) {
	if t.counts == nil {
		t.counts = map[string]int{}
	}
	t.counts[o]++
}

// Name is the job's name in logs and metrics.
func (j *Reconcile) Name() string { return "reconcile" }

// Parts is the one partition of the job's work (the previous day's
// statements): it is not fanned out, so Run has no parts to choose.
func (j *Reconcile) Parts() []string { return []string{"day"} }

// PreviousDay is the Beijing day before the one now falls in.
func PreviousDay(now time.Time) string {
	start, _ := domain.DayStart(domain.Day(now))
	return domain.Day(start.Add(-time.Hour))
}

// Run reconciles the previous day of both sources.
func (j *Reconcile) Run(ctx context.Context, now time.Time, _ ...string) jobs.Summary {
	day := PreviousDay(now)
	start := j.cfg.Wall.Now()
	t := &tally{}
	s := jobs.Summary{Job: j.Name(), Now: now, Day: day, Discrepancies: map[string]map[string]int{}, Totals: map[string]int64{}}
	var stopped []string
	for _, src := range []domain.ReconSource{domain.SourcePayments, domain.SourceBank} {
		if why := j.cfg.stopReason(ctx); why != "" {
			stopped = append(stopped, why)
			break
		}
		if why := j.source(ctx, src, day, now, t, &s); why != "" {
			stopped = append(stopped, fmt.Sprintf("%s: %s", src, why))
		}
	}
	s.Counts, s.Read = t.counts, t.read
	s.Complete = len(stopped) == 0
	if !s.Complete {
		s.Stopped = fmt.Sprint(stopped)
	}
	s.Duration = j.cfg.Wall.Now().Sub(start)
	return s
}

// source reconciles one statement; it returns why it could not ("" when
// done).
func (j *Reconcile) source(ctx context.Context, src domain.ReconSource, day string, now time.Time, t *tally, s *jobs.Summary) string {
	key := statements.Key(src, day)
	raw, err := j.read(ctx, key)
	switch {
	case domain.IsKind(err, domain.KindNotFound):
		t.add(jobs.OutStatementMissing)
		j.cfg.Log.Warn("statement not found", "key", key)
		return "no statement " + key
	case err != nil:
		t.add(jobs.OutFailed)
		j.cfg.Log.Error("read statement", "key", key, "err", err)
		return "read failed: " + domain.CodeOf(err)
	}
	var theirs, ours []domain.ReconLine
	switch src {
	case domain.SourcePayments:
		trades, perr := statements.ParseTrades(raw)
		if perr != nil {
			err = perr
			break
		}
		theirs = statements.TradeLines(trades)
		entries, lerr := j.store.LedgerForDay(ctx, day)
		if lerr != nil {
			err = lerr
			break
		}
		for _, e := range entries {
			if l, ok := domain.LedgerLine(e); ok {
				ours = append(ours, l)
			}
		}
	case domain.SourceBank:
		payouts, perr := statements.ParsePayouts(raw)
		if perr != nil {
			err = perr
			break
		}
		theirs = statements.PayoutLines(payouts)
		ps, lerr := j.store.PayoutsForDay(ctx, day)
		if lerr != nil {
			err = lerr
			break
		}
		for _, p := range ps {
			ours = append(ours, domain.PayoutLine(p))
		}
	}
	if err != nil {
		out := jobs.OutFailed
		if errors.Is(err, statements.ErrMalformed) {
			out = jobs.OutStatementBad // the file itself
		}
		t.add(out)
		j.cfg.Log.Error("reconcile", "source", string(src), "day", day, "err", err)
		return "reconcile failed: " + err.Error()
	}
	t.read += len(ours) + len(theirs)
	res := domain.Reconcile(src, day, ours, theirs, now)
	counts := map[string]int{}
	for _, k := range domain.DiscrepancyKinds {
		counts[string(k)] = 0
	}
	failed := false
	for i := range res.Discrepancies {
		d := res.Discrepancies[i]
		counts[string(d.Kind)]++
		j.cfg.Log.Warn("discrepancy", "source", string(src), "day", day, "kind", string(d.Kind), "lineKind", d.LineKind,
			"ref", d.Ref, "orderId", d.OrderID, "oursFen", d.OursFen, "theirsFen", d.TheirsFen)
		err := j.store.Commit(ctx, &domain.Change{Discrepancies: []domain.DiscrepancyWrite{{Discrepancy: &d, Create: true}}})
		switch {
		case err == nil:
			t.add(string(d.Kind))
		case domain.IsKind(err, domain.KindConflict):
			t.add(jobs.OutAlreadyRecorded)
		default:
			failed = true
			t.add(jobs.OutFailed)
			j.cfg.Log.Error("record discrepancy", "id", d.ID, "err", err)
		}
	}
	t.add(jobs.OutReconciled)
	s.Discrepancies[string(src)] = counts
	s.Totals[string(src)+"_ours_net_fen"] = res.OursNetFen
	s.Totals[string(src)+"_theirs_net_fen"] = res.TheirsNetFen
	s.Totals[string(src)+"_theirs_fee_fen"] = res.TheirsFeeFen
	if failed {
		return "some discrepancies were not recorded"
	}
	return ""
}

func (j *Reconcile) read(ctx context.Context, key string) ([]byte, error) {
	rc, _, err := j.files.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	raw, err := io.ReadAll(io.LimitReader(rc, maxStatementBytes+1))
	if err != nil {
		return nil, domain.Wrap(domain.KindUnavailable, "unavailable", err)
	}
	if len(raw) > maxStatementBytes {
		return nil, fmt.Errorf("statement %s is larger than %d bytes", key, maxStatementBytes)
	}
	return raw, nil
}
