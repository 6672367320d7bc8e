package jobs

import (
	"context"
	"errors"
	"sort"
	"time"

	"microcert/shared/domain"
	"microcert/shared/optimistic"
)

// Expiry is the daily lifecycle and timeout job.
//
// Certifications due in DueIndex move with domain Advance: active past
// ExpiresAt -> overdue (capabilities suspended), overdue more than
// LapseAfterDays past the deadline -> lapsed (both at once after a long
// outage), each with a history entry and a notification.
//
// Cases due in DueIndex get every timeout that has passed: a pending
// micro-deposit past its deadline and pending face/QR sessions past their
// expiry become expired; an in_review case whose claim expired goes back
// to submitted (history entry; the claim stays recorded, see
// Case.Withdraw); a provisional review deadline (computed past the
// working-day calendar's data) whose recheck is due is recomputed on the
// calendar as it is now (final once the data covers it); a submitted or
// in_review case past reviewDueAt is marked SLABreached (history entry).
//
// Each run reads the calendar afresh (an operator's new year applies from
// the next run) and reports how far it reaches (Summary.Calendar, the
// calendar_days_left metric).
//
// Every write is conditional on the version read. A conflict means someone
// else changed the record first: the item is skipped, and if it is still
// due the index brings it back on the next run.
type Expiry struct{ cfg Config }

// NewExpiry returns the job.
func NewExpiry(cfg Config) *Expiry { return &Expiry{cfg: cfg.withDefaults()} }

// Name is the job's name in logs and metrics.
func (j *Expiry) Name() string { return "expiry" }

// Parts names the partitions of the job's work: one per shard of the
// certifications' DueIndex ("cert/<shard>") and the case timeouts
// ("cases").
func (j *Expiry) Parts() []string {
	return partNames(j.parts(context.Background(), time.Time{}, nil))
}

// Run processes every certification and case due at now in the parts named
// (all when none), or as many as the context's deadline allows.
func (j *Expiry) Run(ctx context.Context, now time.Time, parts ...string) Summary {
	cal := domain.BuiltinCalendar()
	if j.cfg.Calendars != nil {
		cal = j.cfg.Calendars.Load(ctx)
	}
	s := run(ctx, j.cfg, j.Name(), now, j.parts(ctx, now, cal), parts...)
	s.Calendar = calendarInfo(cal, now)
	return s
}

func (j *Expiry) parts(ctx context.Context, now time.Time, cal *domain.Calendar) []part {
	var ps []part
	for _, shard := range j.cfg.Store.DueShards() {
		list := func(ctx context.Context, before time.Time, p domain.Page) ([]domain.Certification, string, error) {
			return j.cfg.Store.DueCertifications(ctx, shard, before, p)
		}
		ps = append(ps, part{name: "cert/" + shard, run: func(r *runner) string {
			return drain(ctx, j.cfg, r, now, list, certKey, func(ctx context.Context, c domain.Certification) []string {
				return j.certification(ctx, now, c)
			})
		}})
	}
	return append(ps, part{name: "cases", run: func(r *runner) string {
		return drain(ctx, j.cfg, r, now, j.cfg.Store.DueCases, func(c domain.Case) string { return c.ID }, func(ctx context.Context, c domain.Case) []string {
			return j.kase(ctx, now, cal, c)
		})
	}})
}

// certification advances one certification; it returns the outcomes. On
// the write path: a certification someone wrote since the index was read is
// read again and advanced from the fresh copy.
func (j *Expiry) certification(ctx context.Context, now time.Time, c domain.Certification) []string {
	r := j.cfg.Rules
	var outcomes []string
	current := j.cfg.certificationReader(c)
	err := optimistic.Retry(ctx, func(ctx context.Context) error {
		if err := current(ctx, &c); err != nil {
			return err
		}
		next := c
		hs := next.Advance(now, r)
		if len(hs) == 0 {
			outcomes = []string{OutNotDue}
			return nil
		}
		// Not active any more: no reminders are pending (nil also takes it
		// off RemindIndex).
		next.RemindAt = next.NextReminderAt(now, r, nil)
		ch := &domain.Change{
			Certifications: []domain.CertificationWrite{domain.UpdateCertification(&c, &next)},
			Notifications:  []domain.Notification{expiryNotification(&next, now, r)},
		}
		outcomes = make([]string, 0, len(hs))
		for _, h := range inOrder(hs) {
			ch.History = append(ch.History, domain.HistoryRecord{EnterpriseID: c.EnterpriseID, Entry: h})
			outcomes = append(outcomes, h.To)
		}
		return j.cfg.Store.Commit(ctx, ch)
	})
	if err != nil {
		if conflict(err) {
			return []string{OutConflict}
		}
		j.cfg.Log.Error("certification transition", "enterprise", c.EnterpriseID, "type", c.Type, "err", err)
		return []string{OutFailed}
	}
	return outcomes
}

// kase applies the timeouts of one case on the write path (a case the API
// wrote since the index was read is read again); it returns the outcomes.
func (j *Expiry) kase(ctx context.Context, now time.Time, cal *domain.Calendar, c domain.Case) []string {
	var outcomes []string
	first := true
	err := optimistic.Retry(ctx, func(ctx context.Context) error {
		if !first {
			fresh, err := j.cfg.Store.GetCase(ctx, c.ID)
			if err != nil {
				return err
			}
			c = *fresh
		}
		first = false
		var err error
		outcomes, err = j.caseTimeouts(ctx, now, cal, c)
		return err
	})
	if err != nil {
		if conflict(err) {
			return []string{OutConflict}
		}
		j.cfg.Log.Error("case timeouts", "case", c.ID, "kind", domain.KindOf(err).String(), "err", err)
		return []string{OutFailed}
	}
	return outcomes
}

// caseTimeouts applies the timeouts of one case as read and commits them.
func (j *Expiry) caseTimeouts(ctx context.Context, now time.Time, cal *domain.Calendar, c domain.Case) ([]string, error) {
	r := j.cfg.Rules
	next := c
	var (
		outcomes []string
		history  []domain.HistoryEntry
	)
	if d := c.Deposit; d != nil && d.Status == domain.DepositPending && now.After(d.Deadline) {
		cp := *d
		cp.Status = domain.DepositExpired
		next.Deposit = &cp
		outcomes = append(outcomes, OutDepositExpired)
	}
	expire := func(v *domain.Verification) *domain.Verification {
		if v == nil || v.Status != domain.VerificationPending || !now.After(v.ExpiresAt) {
			return v
		}
		cp := *v
		cp.Status = domain.VerificationExpired
		outcomes = append(outcomes, OutSessionExpired)
		return &cp
	}
	next.Face, next.QR = expire(c.Face), expire(c.QR)
	if c.Status == domain.CaseInReview && c.Claim != nil && !c.ClaimActive(now) {
		// The claim stays recorded: a reviewer held the case (no refund
		// on withdrawal, see Case.Withdraw).
		h, err := next.Transition(r, domain.CaseSubmitted, domain.SystemActor, now, []string{"claim_expired"}, "")
		if err != nil {
			return nil, err
		}
		history = append(history, h)
		outcomes = append(outcomes, OutClaimReleased)
	}
	if (next.Status == domain.CaseSubmitted || next.Status == domain.CaseInReview) &&
		c.ReviewDueProvisional() && !now.Before(*c.ReviewDueRecheckAt) {
		// The deadline may move (earlier: the provisional one had a
		// margin), so the SLA check below reads the recomputed one.
		if next.RecheckReviewDue(cal, r, now) {
			outcomes = append(outcomes, OutReviewDueSettled)
		} else {
			outcomes = append(outcomes, OutReviewDueProvisional)
		}
	}
	var notes []domain.Notification
	if (next.Status == domain.CaseSubmitted || next.Status == domain.CaseInReview) &&
		next.ReviewDueAt != nil && !c.SLABreached && now.After(*next.ReviewDueAt) {
		next.SLABreached = true
		history = append(history, slaHistory(next.Status, now))
		notes = append(notes, domain.ReviewLateNotice(&next, now))
		outcomes = append(outcomes, OutSLABreached)
	}
	var docs []domain.DocumentWrite
	if at := c.DocumentsExpireAt; at != nil && !now.Before(*at) {
		expired, err := j.expireDocuments(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		for i := range expired {
			// The items get their TTL here too: a case closed without its
			// documents at hand (a profile that lost its USCC) set none.
			docs = append(docs, domain.DocumentWrite{Document: &expired[i], ExpireAt: at})
		}
		next.DocumentsExpireAt = nil
		outcomes = append(outcomes, OutDocsExpired)
	}
	if len(outcomes) == 0 {
		return []string{OutNotDue}, nil
	}
	if !c.Status.Final() {
		// A closed case keeps the time it closed: document retention
		// counts from it (RetentionEndsAt).
		next.UpdatedAt = now
	}
	ch := &domain.Change{Cases: []domain.CaseWrite{domain.UpdateCase(&c, &next)}, Documents: docs, Notifications: notes}
	for _, h := range inOrder(history) {
		ch.History = append(ch.History, domain.HistoryRecord{CaseID: c.ID, Entry: h})
	}
	return outcomes, j.cfg.Store.Commit(ctx, ch)
}

// expireDocuments tags every object of a closed case retention=expire, so
// the bucket's lifecycle rule deletes them, and returns the documents (the
// caller gives their items the TTL). Tagging is idempotent: a rerun after
// a crash tags again and changes nothing; a file already gone is fine.
func (j *Expiry) expireDocuments(ctx context.Context, caseID string) ([]domain.Document, error) {
	if j.cfg.Objects == nil {
		return nil, domain.Wrap(domain.KindInternal, "no_objects", errors.New("expiry job has no object store"))
	}
	b, err := j.cfg.Store.GetCaseBundle(ctx, caseID)
	if err != nil {
		return nil, err
	}
	for _, d := range b.Documents {
		// The upload (which the lifecycle removes soon anyway) and the
		// checked copy reviews read.
		for _, key := range []string{d.Key(), d.CheckedKey} {
			if key == "" {
				continue
			}
			err := j.cfg.Objects.Tag(ctx, key, map[string]string{"check": string(d.Status), "retention": "expire"})
			if err != nil && !domain.IsKind(err, domain.KindNotFound) {
				return nil, err
			}
		}
	}
	return b.Documents, nil
}

// inOrder makes entries written at the same instant sort in the order they
// happened: history sorts by time, then id, and ids minted in the same
// millisecond are ordered randomly, so the sorted ids are handed out in
// sequence.
func inOrder(hs []domain.HistoryEntry) []domain.HistoryEntry {
	ids := make([]string, len(hs))
	for i, h := range hs {
		ids[i] = h.ID
	}
	sort.Strings(ids)
	for i := range hs {
		hs[i].ID = ids[i]
	}
	return hs
}

// slaHistory records that a case passed its review deadline (no state
// change: the case stays where it is, flagged for the reviewers).
func slaHistory(status domain.CaseStatus, now time.Time) domain.HistoryEntry {
	return domain.HistoryEntry{
		ID:      domain.NewIDAt(now),
		At:      now,
		ActorID: domain.SystemActor.UserID,
		Role:    domain.SystemActor.MainRole(),
		Subject: "case",
		From:    string(status),
		To:      string(status),
		Reasons: []string{"review_sla_breached"},
	}
}
