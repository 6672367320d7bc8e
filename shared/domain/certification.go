package domain

import (
	"fmt"
	"strings"
	"time"
)

// The certification lifecycle (one record per enterprise and type):
//
//	(none) ──initial──▶ active ──expiry──▶ overdue ──lapse (> LapseAfterDays)──▶ lapsed
//	active, overdue ──annual review──▶ active (extended from the old expiry)
//	active, overdue ──cancel (owner)──▶ cancelled ──initial (full materials)──▶ active
//	active, overdue ──revoke (admin)──▶ revoked ──appeal──▶ active
//	lapsed ──reinstatement (or a new initial)──▶ active
//
// Status is what the store holds; the daily job moves it with Advance. Rules
// that depend on it use EffectiveStatus, which applies expiry and lapse at
// once even if the job has not run yet.

// CertNone is the status of a type the enterprise has never held.
const CertNone CertStatus = ""

// Revocation severities.
const (
	SeverityMinor = "minor"
	SeverityMajor = "major"
)

// CertStatuses lists every certification state in a stable order.
var CertStatuses = []CertStatus{CertActive, CertOverdue, CertLapsed, CertCancelled, CertRevoked}

// Valid reports whether s is a known certification state (CertNone is not).
func (s CertStatus) Valid() bool {
	for _, x := range CertStatuses {
		if x == s {
			return true
		}
	}
	return false
}

// certTransitions is THE table of certification moves. active -> active is
// an annual review that extends a certification before it falls overdue.
var certTransitions = map[CertStatus][]CertStatus{
	CertNone:      {CertActive},
	CertActive:    {CertActive, CertOverdue, CertCancelled, CertRevoked},
	CertOverdue:   {CertActive, CertLapsed, CertCancelled, CertRevoked},
	CertLapsed:    {CertActive},
	CertCancelled: {CertActive},
	CertRevoked:   {CertActive},
}

// approvalFrom says from which (effective) states an approved case of each
// kind makes a certification active. An annual review approved after the
// certification lapsed (slow review of an in-time application) renews it
// from the approval, like a reinstatement. A revoked certification comes
// back only by appeal, never by a fresh initial application.
var approvalFrom = map[CaseKind][]CertStatus{
	KindInitial:       {CertNone, CertCancelled, CertLapsed},
	KindAnnualReview:  {CertActive, CertOverdue, CertLapsed},
	KindReinstatement: {CertLapsed},
	KindAppeal:        {CertRevoked},
}

// CertCanTransition reports whether the lifecycle has the move from -> to.
func CertCanTransition(from, to CertStatus) bool {
	return containsCertStatus(certTransitions[from], to)
}

func containsCertStatus(list []CertStatus, s CertStatus) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// certSubjectPrefix starts the history subject of a certification.
const certSubjectPrefix = "certification:"

func certSubject(t CertType) string { return certSubjectPrefix + string(t) }

// Transition checks the move against the table, sets Status and UpdatedAt
// and returns the history entry (Subject "certification:<type>"). It does
// not touch dates: use ApproveCertification to make a certification active.
func (c *Certification) Transition(to CertStatus, by Actor, at time.Time, reasons []string, note string) (HistoryEntry, error) {
	if !CertCanTransition(c.Status, to) {
		return HistoryEntry{}, ErrInvalidTransition(string(c.Status), string(to))
	}
	from := c.Status
	c.Status, c.UpdatedAt = to, at
	return NewHistoryEntry(certSubject(c.Type), string(from), string(to), by, at, reasons, note), nil
}

// LapsesAt is when an overdue certification lapses: r.LapseAfterDays after
// its expiry (it lapses once now is after this instant).
func (c *Certification) LapsesAt(r Rules) time.Time {
	return c.ExpiresAt.AddDate(0, 0, r.LapseAfterDays)
}

// EffectiveStatus is the status at now with expiry and lapse applied: an
// active certification past ExpiresAt is overdue, an overdue one past
// LapsesAt is lapsed.
func (c *Certification) EffectiveStatus(now time.Time, r Rules) CertStatus {
	s := c.Status
	if s == CertActive && now.After(c.ExpiresAt) {
		s = CertOverdue
	}
	if s == CertOverdue && now.After(c.LapsesAt(r)) {
		s = CertLapsed
	}
	return s
}

// NextTransitionAt is when the daily job next has to move the
// certification: ExpiresAt while active, LapsesAt while overdue, else nil.
func (c *Certification) NextTransitionAt(r Rules) *time.Time {
	var t time.Time
	switch c.Status {
	case CertActive:
		t = c.ExpiresAt
	case CertOverdue:
		t = c.LapsesAt(r)
	default:
		return nil
	}
	return &t
}

// Advance applies the time-driven moves due at now (the daily job): active
// -> overdue after expiry, overdue -> lapsed after the lapse period; both
// at once if the job missed the days in between. It returns the history
// entries (by the system actor), none when nothing moved.
func (c *Certification) Advance(now time.Time, r Rules) []HistoryEntry {
	out := []HistoryEntry{}
	if c.Status == CertActive && now.After(c.ExpiresAt) {
		h, _ := c.Transition(CertOverdue, SystemActor, now, []string{"expiry_passed"}, "")
		out = append(out, h)
	}
	if c.Status == CertOverdue && now.After(c.LapsesAt(r)) {
		h, _ := c.Transition(CertLapsed, SystemActor, now, []string{"lapse_period_ended"}, "")
		out = append(out, h)
	}
	return out
}

// Cancel ends an active or overdue certification at the enterprise's
// request. That the actor owns the enterprise is the use case's check.
func (c *Certification) Cancel(by Actor, at time.Time, note string) (HistoryEntry, error) {
	if c.Status != CertActive && c.Status != CertOverdue {
		return HistoryEntry{}, ErrInvalidTransition(string(c.Status), string(CertCancelled))
	}
	return c.Transition(CertCancelled, by, at, []string{"cancelled_by_owner"}, note)
}

// Revoke ends an active or overdue certification for false content or
// fraud. Only admins revoke (forbidden otherwise); reason must be given
// (reason_required) and severity be minor or major (invalid_severity).
func (c *Certification) Revoke(by Actor, reason, severity string, at time.Time) (HistoryEntry, error) {
	if !by.Has(RoleAdmin) {
		return HistoryEntry{}, ErrForbidden
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return HistoryEntry{}, E(KindInvalid, "reason_required", "请填写撤销原因。", "Give the reason for the revocation.")
	}
	if severity != SeverityMinor && severity != SeverityMajor {
		return HistoryEntry{}, E(KindInvalid, "invalid_severity", "严重程度应为 minor 或 major。", "Severity must be minor or major.")
	}
	if c.Status != CertActive && c.Status != CertOverdue {
		return HistoryEntry{}, ErrInvalidTransition(string(c.Status), string(CertRevoked))
	}
	h, err := c.Transition(CertRevoked, by, at, []string{severity}, reason)
	if err != nil {
		return HistoryEntry{}, err
	}
	c.RevokedReason, c.Severity = reason, severity
	return h, nil
}

// ApproveCertification computes the certification of type t of enterprise
// ent after an approved case of the given kind (existing is the stored
// record, nil if the type was never held). It does not modify existing.
//   - initial (none, cancelled or lapsed): active until ExpiryAfterOneYear(now);
//   - annual_review: extended from the OLD expiry (old ExpiresAt + 1 year,
//     end of the Beijing day); if it lapsed meanwhile, from now;
//   - reinstatement (lapsed): active until ExpiryAfterOneYear(now);
//   - appeal (revoked): active with the original expiry if it is still in
//     the future, else until ExpiryAfterOneYear(now).
//
// Every new period increments Cycle (reminders are keyed by it); an appeal
// that restores the original period keeps it. IssuedAt is now, CaseID the
// case, revocation details are cleared; Version is left to the use case.
// The history entry is by the system actor with the kind as reason and the
// case id as note (the reviewer's decision is in the case's history). A
// kind that cannot apply to the current state is invalid_transition.
// Lapse is judged by r.LapseAfterDays.
func ApproveCertification(existing *Certification, ent string, t CertType, kind CaseKind, caseID string, now time.Time, r Rules) (Certification, HistoryEntry, error) {
	if !t.Valid() || !kind.Valid() {
		return Certification{}, HistoryEntry{}, E(KindInvalid, "invalid_certification",
			"认证类型或申请类型无效。", "Unknown certification type or case kind.")
	}
	cur := Certification{EnterpriseID: ent, Type: t}
	from, eff := CertNone, CertNone
	if existing != nil {
		if existing.EnterpriseID != ent || existing.Type != t {
			return Certification{}, HistoryEntry{}, E(KindInternal, "certification_mismatch",
				"服务内部错误。", "Internal error.")
		}
		cur = *existing
		from, eff = existing.Status, existing.EffectiveStatus(now, r)
	}
	if !containsCertStatus(approvalFrom[kind], eff) {
		return Certification{}, HistoryEntry{}, ErrInvalidTransition(string(eff), string(CertActive)).With("kind", string(kind))
	}
	next := cur
	switch {
	case kind == KindAnnualReview && eff != CertLapsed:
		next.ExpiresAt = ExpiryAfterOneYear(cur.ExpiresAt)
		next.Cycle++
	case kind == KindAppeal && cur.ExpiresAt.After(now):
		// the original period resumes
	default:
		next.ExpiresAt = ExpiryAfterOneYear(now)
		next.Cycle++
	}
	next.Status = CertActive
	next.IssuedAt = now
	next.CaseID = caseID
	next.UpdatedAt = now
	next.RevokedReason, next.Severity = "", ""
	h := NewHistoryEntry(certSubject(t), string(from), string(CertActive), SystemActor, now, []string{string(kind)}, caseID)
	return next, h, nil
}

// ---- Reminders ----
//
// A daily job sends each reminder milestone (r.ReminderDays: 60, 30, 7, 1
// days before expiry) at most once per Cycle:
//
//	for each certification due in the index (NextDueAt <= now):
//	    c.Advance(now, r)                                   // expiry / lapse
//	    if m, ok := c.DueReminder(now, r, sentInStore); ok { // one at most
//	        write notification + ReminderMark{type, c.Cycle, m.Milestone} in one Change
//	    }                                                   // (a second mark conflicts)
//	    store c with NextDueAt(now, r, sent ∪ {m})
//
// DueReminder returns only the most urgent milestone reached: a job that was
// down for weeks sends the 7-day reminder, not the 60-, 30- and 7-day ones
// together. A renewal starts a new Cycle, so its milestones are fresh.

// Reminder is one expiry-reminder milestone of a certification's cycle.
type Reminder struct {
	Milestone int       // days before expiry
	At        time.Time // start (00:00 Beijing, in UTC) of the day it is due
}

// Reminders lists the milestones of the current cycle, most distant first
// (nil unless active).
func (c *Certification) Reminders(r Rules) []Reminder {
	if c.Status != CertActive {
		return nil
	}
	exp := beijingDate(c.ExpiresAt)
	var out []Reminder
	for _, m := range r.reminderDays() {
		out = append(out, Reminder{Milestone: m, At: civilStart(exp.AddDate(0, 0, -m)).UTC()})
	}
	return out
}

// DueReminder returns the reminder the job should send at now: the most
// urgent milestone whose day has come, unless sent reports it was already
// sent in this cycle (sent may be nil: nothing sent). Only an active,
// unexpired certification gets reminders.
func (c *Certification) DueReminder(now time.Time, r Rules, sent func(milestone int) bool) (Reminder, bool) {
	if c.EffectiveStatus(now, r) != CertActive {
		return Reminder{}, false
	}
	var due *Reminder
	for _, m := range c.Reminders(r) {
		if !m.At.After(now) {
			m := m
			due = &m
		}
	}
	if due == nil || (sent != nil && sent(due.Milestone)) {
		return Reminder{}, false
	}
	return *due, true
}

// NextReminderAt is when the job has reminder work: the due time of an
// unsent due reminder (at or before now), else the next milestone after
// now, else nil.
func (c *Certification) NextReminderAt(now time.Time, r Rules, sent func(milestone int) bool) *time.Time {
	if m, ok := c.DueReminder(now, r, sent); ok {
		return &m.At
	}
	if c.EffectiveStatus(now, r) != CertActive {
		return nil
	}
	for _, m := range c.Reminders(r) {
		if m.At.After(now) {
			return &m.At
		}
	}
	return nil
}

// NextDueAt is the certification's key in the store's sparse due-time
// index: the earlier of NextTransitionAt and NextReminderAt, or nil.
func (c *Certification) NextDueAt(now time.Time, r Rules, sent func(milestone int) bool) *time.Time {
	a, b := c.NextTransitionAt(r), c.NextReminderAt(now, r, sent)
	if a == nil || (b != nil && b.Before(*a)) {
		return b
	}
	return a
}

// ---- Opening cases ----

// AnnualReviewOpensAt is when an annual review may first be opened: the
// start of the Beijing day r.AnnualReviewOpensMonths months before the
// expiry day (clamped to month ends), in UTC.
func AnnualReviewOpensAt(expiresAt time.Time, r Rules) time.Time {
	return civilStart(addMonthsClamped(beijingDate(expiresAt), -r.AnnualReviewOpensMonths)).UTC()
}

// CanOpenCase checks that a case of kind for types may be opened given the
// enterprise's certifications at now:
//   - initial: no active or overdue certification of the type
//     (already_certified); a revoked one must be appealed
//     (certification_revoked);
//   - annual_review: an active or overdue certification (not_renewable),
//     and an active one only from AnnualReviewOpensAt (annual_review_not_open,
//     with opensAt);
//   - reinstatement: a lapsed certification (not_lapsed);
//   - appeal: a revoked certification (not_revoked).
//
// Conflicts carry the offending type. Unknown kinds (invalid_kind) and
// empty, unknown or repeated types (invalid_types) are invalid. Whether
// another open case already covers the type is the store's question.
func CanOpenCase(kind CaseKind, types []CertType, certs []Certification, now time.Time, r Rules) error {
	if !kind.Valid() {
		return E(KindInvalid, "invalid_kind", "申请类型无效。", "Unknown case kind.")
	}
	if len(types) == 0 {
		return E(KindInvalid, "invalid_types", "请至少选择一种认证类型。", "Choose at least one certification type.")
	}
	seen := map[CertType]bool{}
	for _, t := range types {
		if !t.Valid() || seen[t] {
			return E(KindInvalid, "invalid_types", "认证类型无效或重复。", "Unknown or repeated certification type.").With("certType", string(t))
		}
		seen[t] = true
	}
	for _, t := range types {
		var cert *Certification
		for i := range certs {
			if certs[i].Type == t {
				cert = &certs[i]
			}
		}
		st := CertNone
		if cert != nil {
			st = cert.EffectiveStatus(now, r)
		}
		var err *Error
		switch kind {
		case KindInitial:
			switch st {
			case CertActive, CertOverdue:
				err = E(KindConflict, "already_certified",
					fmt.Sprintf("该类型已认证，请在到期前%d个月内申请年审。", r.AnnualReviewOpensMonths),
					fmt.Sprintf("This type is already certified; apply for the annual review in the %d months before expiry.", r.AnnualReviewOpensMonths))
			case CertRevoked:
				err = E(KindConflict, "certification_revoked", "该类型认证已被撤销，请整改后提交申诉。",
					"This certification was revoked; rectify and file an appeal instead.")
			}
		case KindAnnualReview:
			switch {
			case st != CertActive && st != CertOverdue:
				err = E(KindConflict, "not_renewable", "只有有效或逾期未年审的认证可以年审。",
					"Only an active or overdue certification can have an annual review.")
			case st == CertActive && now.Before(AnnualReviewOpensAt(cert.ExpiresAt, r)):
				err = E(KindConflict, "annual_review_not_open",
					fmt.Sprintf("年审尚未开放：到期前%d个月内可申请。", r.AnnualReviewOpensMonths),
					fmt.Sprintf("The annual review is not open yet: it opens %d months before expiry.", r.AnnualReviewOpensMonths)).
					With("opensAt", AnnualReviewOpensAt(cert.ExpiresAt, r))
			}
		case KindReinstatement:
			if st != CertLapsed {
				err = E(KindConflict, "not_lapsed", "只有已失效的认证可以申请恢复。",
					"Only a lapsed certification can be reinstated.")
			}
		case KindAppeal:
			if st != CertRevoked {
				err = E(KindConflict, "not_revoked", "只有被撤销的认证可以申诉。",
					"Only a revoked certification can be appealed.")
			}
		}
		if err != nil {
			return err.With("certType", string(t))
		}
	}
	return nil
}
