package jobs

import (
	"context"
	"time"

	"microcert/shared/domain"
	"microcert/shared/optimistic"
)

// codeDuplicate is the code of the store's conflict for an append-only
// record written twice (store.ErrDuplicate): for a reminder mark, "this
// milestone of this cycle was already sent".
const codeDuplicate = "duplicate"

// maxAttempts bounds how often one item is re-read after a version
// conflict within a run.
const maxAttempts = 3

// Reminders is the daily renewal-reminder job.
//
// For each certification whose RemindAt is due (RemindIndex) it sends the
// most urgent milestone reached (domain DueReminder), in ONE Change: the
// ReminderMark (enterprise, type, cycle, milestone), the notification and
// the certification with RemindAt moved to the next milestone (conditional
// on the version read). The mark makes the send exactly-once: a second
// write of it fails, whoever tries (a rerun, an overlapping run, a retry
// after a timeout). A renewal starts a new Cycle with its own ExpiresAt, so
// the old cycle's milestones are never due again.
type Reminders struct{ cfg Config }

// NewReminders returns the job.
func NewReminders(cfg Config) *Reminders { return &Reminders{cfg: cfg.withDefaults()} }

// Name is the job's name in logs and metrics.
func (j *Reminders) Name() string { return "reminder" }

// Parts names the partitions of the job's work: one per shard of
// RemindIndex ("remind/<shard>").
func (j *Reminders) Parts() []string { return partNames(j.parts(context.Background(), time.Time{})) }

// Run processes every reminder due at now in the parts named (all when
// none), or as many as the context's deadline allows.
func (j *Reminders) Run(ctx context.Context, now time.Time, parts ...string) Summary {
	return run(ctx, j.cfg, j.Name(), now, j.parts(ctx, now), parts...)
}

func (j *Reminders) parts(ctx context.Context, now time.Time) []part {
	var ps []part
	for _, shard := range j.cfg.Store.DueShards() {
		list := func(ctx context.Context, before time.Time, p domain.Page) ([]domain.Certification, string, error) {
			return j.cfg.Store.RemindersDue(ctx, shard, before, p)
		}
		ps = append(ps, part{name: "remind/" + shard, run: func(r *runner) string {
			return drain(ctx, j.cfg, r, now, list, certKey, func(ctx context.Context, c domain.Certification) []string {
				return []string{j.one(ctx, now, c)}
			})
		}})
	}
	return ps
}

// certKey identifies a certification within a run.
func certKey(c domain.Certification) string { return c.EnterpriseID + "#" + string(c.Type) }

// one handles one certification read from the index; it returns the
// outcome. It runs on the write path (optimistic.Retry): when someone (an
// overlapping run, the API) wrote the certification since the index was
// read, it re-reads it and decides again on the fresh copy.
func (j *Reminders) one(ctx context.Context, now time.Time, c domain.Certification) string {
	r := j.cfg.Rules
	log := j.cfg.Log.With("enterprise", c.EnterpriseID, "type", c.Type, "cycle", c.Cycle)
	var outcome string
	current := j.cfg.certificationReader(c)
	err := optimistic.Retry(ctx, func(ctx context.Context) error {
		if err := current(ctx, &c); err != nil {
			return err
		}
		if c.RemindAt == nil || c.RemindAt.After(now) {
			// A fresh copy (after a conflict) says the work is done.
			outcome = OutConflict
			return nil
		}
		m, due := c.DueReminder(now, r, nil)
		var sent func(int) bool
		if due {
			sent = func(ms int) bool { return ms == m.Milestone }
		}
		next := c
		next.RemindAt = c.NextReminderAt(now, r, sent)
		cw := domain.UpdateCertification(&c, &next)
		ch := &domain.Change{Certifications: []domain.CertificationWrite{cw}}
		if due {
			ch.ReminderMarks = []domain.ReminderMark{{EnterpriseID: c.EnterpriseID, Type: c.Type,
				Cycle: c.Cycle, Milestone: m.Milestone, At: now}}
			ch.Notifications = []domain.Notification{reminderNotification(&c, m, now, r)}
		}
		err := j.cfg.Store.Commit(ctx, ch)
		switch {
		case err == nil && due:
			log.Debug("reminder sent", "milestone", m.Milestone)
			outcome = OutSent
		case err == nil:
			outcome = OutRescheduled
		case due && domain.CodeOf(err) == codeDuplicate:
			// Already sent (the mark exists): only move RemindAt on, so
			// the certification leaves the index.
			if err := j.cfg.Store.Commit(ctx, &domain.Change{Certifications: []domain.CertificationWrite{cw}}); err != nil {
				return err
			}
			log.Info("reminder already sent", "milestone", m.Milestone)
			outcome = OutDuplicate
		default:
			return err
		}
		return nil
	})
	switch {
	case err == nil:
		return outcome
	case optimistic.IsConflict(err) || domain.IsKind(err, domain.KindNotFound):
		return OutConflict
	}
	log.Error("reminder", "err", err)
	return OutFailed
}
