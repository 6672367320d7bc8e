package certsvc

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"microcert/shared/domain"
	"microcert/shared/optimistic"
)

// The endings of a certification that people cause (cancel by the owner,
// revoke by an admin). The time-driven ones (overdue, lapsed) are the
// expiry job's; the recoveries (annual review, reinstatement, appeal) are
// cases approved through Decide.

// maxLifecycleTextChars bounds a cancellation note or a revocation reason.
const maxLifecycleTextChars = 500

// lifecycleReason is a cancellation's or revocation's reason, trimmed and
// within maxLifecycleTextChars.
func lifecycleReason(s string) (string, error) {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > maxLifecycleTextChars || !utf8.ValidString(s) {
		return "", invalidField("reason", "too_long", "原因过长。", "The reason is too long.")
	}
	return s, nil
}

// CancelInput is the owner's voluntary cancellation.
type CancelInput struct {
	Type   domain.CertType
	Reason string // optional, recorded in the history
}

// RevokeInput is an admin's revocation.
type RevokeInput struct {
	Type     domain.CertType
	Reason   string
	Severity string // domain.SeverityMinor or SeverityMajor
}

// Cancel ends an active or overdue certification at its owner's request:
// -> cancelled, with a history entry and a notification, written under the
// certification's version. Others get not found (reviewers, who may read
// the enterprise, forbidden); a type never held is not found.
func (s *Service) Cancel(ctx context.Context, by domain.Actor, enterpriseID string, in CancelInput) (*EnterpriseView, error) {
	if !in.Type.Valid() {
		return nil, domain.ErrNotFound
	}
	var err error
	if in.Reason, err = lifecycleReason(in.Reason); err != nil {
		return nil, err
	}
	read := func(ctx context.Context) (*domain.EnterpriseState, domain.Actor, error) {
		return s.enterpriseAs(ctx, by, enterpriseID, domain.PermEndCertification)
	}
	return s.endCertification(ctx, read, in.Type, func(c *domain.Certification, as domain.Actor, now time.Time) (domain.HistoryEntry, domain.Notification, error) {
		h, err := c.Cancel(as, now, in.Reason)
		title, body := domain.CancelNotice(c.Type)
		return h, domain.Notification{Kind: domain.NoticeCancelled, Title: title, Body: body, Subject: certSubject(c)}, err
	})
}

// Revoke ends an active or overdue certification for false content or
// fraud (admins only): -> revoked with the reason and severity, a history
// entry and a notification telling the enterprise how to appeal.
func (s *Service) Revoke(ctx context.Context, by domain.Actor, enterpriseID string, in RevokeInput) (*EnterpriseView, error) {
	if !by.Has(domain.RoleAdmin) {
		return nil, domain.ErrForbidden
	}
	if !in.Type.Valid() {
		return nil, domain.ErrNotFound
	}
	var err error
	if in.Reason, err = lifecycleReason(in.Reason); err != nil {
		return nil, err
	}
	read := func(ctx context.Context) (*domain.EnterpriseState, domain.Actor, error) {
		return s.enterpriseAs(ctx, by, enterpriseID, domain.PermRead)
	}
	return s.endCertification(ctx, read, in.Type, func(c *domain.Certification, as domain.Actor, now time.Time) (domain.HistoryEntry, domain.Notification, error) {
		h, err := c.Revoke(as, in.Reason, in.Severity, now)
		title, body := domain.RevokeNotice(c.Type, in.Reason, in.Severity)
		return h, domain.Notification{Kind: domain.NoticeRevoked, Title: title, Body: body, Subject: certSubject(c)}, err
	})
}

// endCertification applies move to the certification of type t: first the
// time-driven moves the daily job may not have made yet (so an expired
// certification is cancelled from overdue, and a lapsed one cannot be
// cancelled), then move; one Change with the certification (under its
// version), every history entry and the notification.
func (s *Service) endCertification(ctx context.Context, read func(context.Context) (*domain.EnterpriseState, domain.Actor, error), t domain.CertType,
	move func(*domain.Certification, domain.Actor, time.Time) (domain.HistoryEntry, domain.Notification, error)) (*EnterpriseView, error) {
	var out *EnterpriseView
	err := optimistic.Retry(ctx, func(ctx context.Context) error {
		st, as, err := read(ctx)
		if err != nil {
			return err
		}
		e, certs := st.Enterprise, st.Certifications
		idx := -1
		for i := range certs {
			if certs[i].Type == t {
				idx = i
			}
		}
		if idx < 0 {
			return domain.ErrNotFound
		}
		now := s.clock.Now()
		cur := certs[idx]
		next := cur
		hist := next.Advance(now, s.rules)
		h, n, err := move(&next, as, now)
		if err != nil {
			return err
		}
		hist = append(hist, h)
		next.UpdatedAt = now
		next.RemindAt = nil // no reminders for an ended certification
		n.ID, n.EnterpriseID, n.CreatedAt = domain.NewIDAt(now), e.ID, now
		ch := &domain.Change{
			Certifications: []domain.CertificationWrite{domain.UpdateCertification(&cur, &next)},
			Notifications:  []domain.Notification{n},
		}
		for _, x := range hist {
			ch.History = append(ch.History, domain.HistoryRecord{EnterpriseID: e.ID, Entry: x})
		}
		if err := s.store.Commit(ctx, ch); err != nil {
			return err
		}
		list := append([]domain.Certification(nil), certs...)
		list[idx] = next
		out = &EnterpriseView{Enterprise: e, Certifications: list, MyRole: as.MemberRole}
		return nil
	})
	return out, err
}

// certSubject is what a certification's notification is about.
func certSubject(c *domain.Certification) domain.NoticeSubject {
	exp := c.ExpiresAt
	return domain.NoticeSubject{CertType: c.Type, CertStatus: c.Status, ExpiresAt: &exp}
}
