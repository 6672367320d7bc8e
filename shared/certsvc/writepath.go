package certsvc

import (
	"context"
	"time"

	"microcert/shared/domain"
	"microcert/shared/optimistic"
)

// The one write path of a case: read it (with its documents, history and
// the enterprise's state), let the use case apply its domain function to a
// copy, write the copy on condition that the case (and every other
// versioned item written with it) is still at the version read, and when
// someone else's write got in between, read and apply again
// (optimistic.Retry). The apply function therefore must be a function of
// what it reads: it runs once per attempt.

// caseAccess says who may write a case through writeCase.
type caseAccess int

const (
	// byOwner: the applicant who owns the case (reviewers get forbidden,
	// anyone else not found).
	byOwner caseAccess = iota
	// byReviewer: reviewers and admins (others forbidden before any read).
	byReviewer
	// bySystem: a provider callback or a job; no caller to check.
	bySystem
)

// caseCycle is one attempt of a case write: what was read, the successor
// the use case edits, and the other writes of the same transaction.
type caseCycle struct {
	Bundle *domain.CaseBundle
	State  *domain.EnterpriseState
	// Prev is the case as read; Next starts as a copy of it.
	Prev, Next *domain.Case
	// Change holds the other writes of the transaction (history,
	// notifications, refs, payouts, enterprise or certification writes).
	Change domain.Change
	Now    time.Time
	// Deposits, when set, is written as the enterprise's deposit log (a
	// create or an update of the one read).
	Deposits *domain.DepositLog

	skip bool
}

// Skip ends the cycle without writing: the request is a replay of what the
// case already shows.
func (cy *caseCycle) Skip() { cy.skip = true }

// History is the case's history with this cycle's new case entries.
func (cy *caseCycle) History() []domain.HistoryEntry {
	return appendHistory(cy.Bundle.History, cy.Change.History)
}

// writeCase runs apply under the write path. pinned is the version the
// client sent, if it sent one: then a stale read is answered
// version_conflict (with currentVersion) instead of being retried.
func (s *Service) writeCase(ctx context.Context, by domain.Actor, caseID string, who caseAccess, pinned *int,
	apply func(*caseCycle) error) (*caseCycle, error) {
	if who == byReviewer && !by.CanReview() {
		return nil, domain.ErrForbidden
	}
	read := func(ctx context.Context) (*domain.CaseBundle, *domain.EnterpriseState, error) {
		return s.readCase(ctx, by, caseID, who)
	}
	return s.caseCycles(ctx, read, pinned, apply)
}

// writeCaseAlone is writeCase for provider callbacks: one read (the case
// alone, no documents, history or enterprise), no caller to check.
func (s *Service) writeCaseAlone(ctx context.Context, caseID string, apply func(*caseCycle) error) (*caseCycle, error) {
	read := func(ctx context.Context) (*domain.CaseBundle, *domain.EnterpriseState, error) {
		c, err := s.store.GetCase(ctx, caseID)
		if err != nil {
			return nil, nil, err
		}
		return &domain.CaseBundle{Case: c}, nil, nil
	}
	return s.caseCycles(ctx, read, nil, apply)
}

// caseCycles runs read-apply-commit cycles until one commits or fails for a
// reason other than someone else's write (optimistic.Retry).
func (s *Service) caseCycles(ctx context.Context, read func(context.Context) (*domain.CaseBundle, *domain.EnterpriseState, error),
	pinned *int, apply func(*caseCycle) error) (*caseCycle, error) {
	var out *caseCycle
	err := optimistic.Retry(ctx, func(ctx context.Context) error {
		b, st, err := read(ctx)
		if err != nil {
			return err
		}
		if pinned != nil && *pinned != b.Case.Version {
			return optimistic.Stale(b.Case.Version)
		}
		next := *b.Case
		cy := &caseCycle{Bundle: b, State: st, Prev: b.Case, Next: &next, Now: s.clock.Now()}
		if err := apply(cy); err != nil {
			return err
		}
		out = cy
		if cy.skip {
			return nil
		}
		return s.store.Commit(ctx, s.caseChange(cy))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// caseChange completes a cycle's Change: the case's conditional write,
// the release of its open-case slots when it just closed, the deposit log.
func (s *Service) caseChange(cy *caseCycle) *domain.Change {
	ch := cy.Change
	cy.Next.UpdatedAt = cy.Now
	ch.Cases = append(ch.Cases, domain.UpdateCase(cy.Prev, cy.Next))
	if !cy.Prev.Status.Final() && cy.Next.Status.Final() {
		ch.Slots = append(ch.Slots, domain.SlotsFor(cy.Next, true)...)
	}
	if cy.Deposits != nil {
		ch.DepositLogs = append(ch.DepositLogs, domain.SaveDepositLog(cy.State.Deposits, *cy.Deposits))
	}
	cy.Change = ch
	return &ch
}

// readCase reads a case the caller may see with the enterprise's state
// (two reads: the case's partition, the enterprise's).
func (s *Service) readCase(ctx context.Context, by domain.Actor, id string, who caseAccess) (*domain.CaseBundle, *domain.EnterpriseState, error) {
	if !domain.ValidID(id) {
		return nil, nil, domain.ErrNotFound
	}
	b, err := s.store.GetCaseBundle(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	switch who {
	case byOwner:
		if b.Case.OwnerID != by.UserID {
			if by.CanReview() {
				return nil, nil, domain.ErrForbidden
			}
			return nil, nil, domain.ErrNotFound
		}
	case byReviewer:
		if !by.CanReview() {
			return nil, nil, domain.ErrForbidden
		}
	}
	st, err := s.store.GetEnterpriseState(ctx, b.Case.EnterpriseID)
	if err != nil {
		return nil, nil, err
	}
	return b, st, nil
}

// writeEnterprise is the write path of a profile: read the enterprise's
// state, apply, write under the profile's version, retry on someone
// else's write (pinned: as in writeCase).
func (s *Service) writeEnterprise(ctx context.Context, by domain.Actor, id string, pinned *int,
	apply func(st *domain.EnterpriseState, next *domain.Enterprise, ch *domain.Change, now time.Time) error) (*domain.EnterpriseState, *domain.Enterprise, error) {
	var (
		outState *domain.EnterpriseState
		outNext  *domain.Enterprise
	)
	err := optimistic.Retry(ctx, func(ctx context.Context) error {
		st, err := s.ownedEnterprise(ctx, by, id)
		if err != nil {
			return err
		}
		if pinned != nil && *pinned != st.Enterprise.Version {
			return optimistic.Stale(st.Enterprise.Version)
		}
		now := s.clock.Now()
		next := *st.Enterprise
		var ch domain.Change
		if err := apply(st, &next, &ch, now); err != nil {
			return err
		}
		ch.Enterprises = append(ch.Enterprises, domain.UpdateEnterprise(st.Enterprise, &next, now))
		if err := s.store.Commit(ctx, &ch); err != nil {
			return err
		}
		outState, outNext = st, &next
		return nil
	})
	return outState, outNext, err
}
