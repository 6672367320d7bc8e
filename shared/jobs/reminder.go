package jobs

import (
	"context"
	"time"

	"microcert/shared/domain"
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

// Run processes every reminder due at now, or as many as the context's
// deadline allows.
func (j *Reminders) Run(ctx context.Context, now time.Time) Summary {
	return run(ctx, j.cfg, j.Name(), now, func(t *tally) string {
		return drain(ctx, j.cfg, t, now, j.cfg.Store.RemindersDue, certKey, func(ctx context.Context, c domain.Certification) []string {
			return []string{j.one(ctx, now, c)}
		})
	})
}

// certKey identifies a certification within a run.
func certKey(c domain.Certification) string { return c.EnterpriseID + "#" + string(c.Type) }

// one handles one certification read from the index; it returns the
// outcome.
func (j *Reminders) one(ctx context.Context, now time.Time, c domain.Certification) string {
	r := j.cfg.Rules
	log := j.cfg.Log.With("enterprise", c.EnterpriseID, "type", c.Type, "cycle", c.Cycle)
	for attempt := 1; ; attempt++ {
		if c.RemindAt == nil || c.RemindAt.After(now) {
			// A fresh copy (after a conflict) says the work is done.
			return OutConflict
		}
		m, due := c.DueReminder(now, r, nil)
		var sent func(int) bool
		if due {
			sent = func(ms int) bool { return ms == m.Milestone }
		}
		next := c
		next.Version = c.Version + 1
		next.RemindAt = c.NextReminderAt(now, r, sent)
		cw := domain.CertificationWrite{Certification: &next, ExpectVersion: c.Version}
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
			return OutSent
		case err == nil:
			return OutRescheduled
		case due && domain.CodeOf(err) == codeDuplicate:
			// Already sent (the mark exists): only move RemindAt on, so
			// the certification leaves the index.
			err = j.cfg.Store.Commit(ctx, &domain.Change{Certifications: []domain.CertificationWrite{cw}})
			if err == nil {
				log.Info("reminder already sent", "milestone", m.Milestone)
				return OutDuplicate
			}
			if !conflict(err) {
				log.Error("reschedule after duplicate", "milestone", m.Milestone, "err", err)
				return OutFailed
			}
		case !conflict(err):
			log.Error("reminder", "err", err)
			return OutFailed
		}
		// Version conflict: someone (another run, the API) wrote the
		// certification since the index was read. Re-read and decide on
		// the fresh copy.
		if attempt == maxAttempts {
			return OutConflict
		}
		fresh, err := j.cfg.Store.GetCertification(ctx, c.EnterpriseID, c.Type)
		if err != nil {
			if domain.IsKind(err, domain.KindNotFound) {
				return OutConflict
			}
			log.Error("re-read certification", "err", err)
			return OutFailed
		}
		c = *fresh
	}
}
