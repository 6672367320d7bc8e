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

// caseAccess says who may act on a case through the write path (and read
// it for a view): a member with a permission (domain.Authorize decides, in
// one place, for every route), or staff on the review routes.
type caseAccess struct {
	perm     domain.Permission
	reviewer bool
}

// asMember: members whose role has p (staff who are not members may read).
func asMember(p domain.Permission) caseAccess { return caseAccess{perm: p} }

// asReviewer: reviewers and admins (others forbidden before any read), who
// are not members of the enterprise concerned and did not open the case.
var asReviewer = caseAccess{reviewer: true}

// caseCycle is one attempt of a case write: what was read, the successor
// the use case edits, and the other writes of the same transaction.
type caseCycle struct {
	Bundle *domain.CaseBundle
	State  *domain.EnterpriseState
	// Holder is the state of the profile holding the USCC a dispute case
	// claims, when a reviewer acts on a dispute (else nil).
	Holder *domain.EnterpriseState
	// By is the caller as authorized: with their role in the enterprise.
	By domain.Actor
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
func (s *Service) writeCase(ctx context.Context, by domain.Actor, caseID string, acc caseAccess, pinned *int,
	apply func(*caseCycle) error) (*caseCycle, error) {
	read := func(ctx context.Context) (*caseRead, error) { return s.readCase(ctx, by, caseID, acc) }
	return s.caseCycles(ctx, read, pinned, apply)
}

// writeCaseAlone is writeCase for provider callbacks: one read (the case
// alone, no documents, history or enterprise), no caller to check.
func (s *Service) writeCaseAlone(ctx context.Context, caseID string, apply func(*caseCycle) error) (*caseCycle, error) {
	read := func(ctx context.Context) (*caseRead, error) {
		c, err := s.store.GetCase(ctx, caseID)
		if err != nil {
			return nil, err
		}
		return &caseRead{Bundle: &domain.CaseBundle{Case: c}, By: domain.SystemActor}, nil
	}
	return s.caseCycles(ctx, read, nil, apply)
}

// caseCycles runs read-apply-commit cycles until one commits or fails for a
// reason other than someone else's write (optimistic.Retry).
func (s *Service) caseCycles(ctx context.Context, read func(context.Context) (*caseRead, error),
	pinned *int, apply func(*caseCycle) error) (*caseCycle, error) {
	var out *caseCycle
	err := optimistic.Retry(ctx, func(ctx context.Context) error {
		rd, err := read(ctx)
		if err != nil {
			return err
		}
		b := rd.Bundle
		if pinned != nil && *pinned != b.Case.Version {
			return optimistic.Stale(b.Case.Version)
		}
		next := *b.Case
		cy := &caseCycle{Bundle: b, State: rd.State, Holder: rd.Holder, By: rd.By, Prev: b.Case, Next: &next, Now: s.clock.Now()}
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
// the release of its open-case slots when it just closed, a dispute's USCC
// lock (and its claimant profile when it closed without winning), the
// deposit log.
func (s *Service) caseChange(cy *caseCycle) *domain.Change {
	ch := cy.Change
	cy.Next.UpdatedAt = cy.Now
	ch.Cases = append(ch.Cases, domain.UpdateCase(cy.Prev, cy.Next))
	// What the enterprise is told of this write, in its transaction (the
	// notification is the outbox entry of every channel).
	ch.Notifications = append(ch.Notifications, domain.CaseNotices(cy.Prev, cy.Next, ch.Refunds, cy.Now)...)
	closed := !cy.Prev.Status.Final() && cy.Next.Status.Final()
	if closed {
		ch.Slots = append(ch.Slots, cy.State.SlotReleases(cy.Next)...)
	}
	ch.USCCClaims = append(ch.USCCClaims, domain.DisputeLockWrites(cy.Prev, cy.Next, cy.Now)...)
	if closed && cy.Next.Kind == domain.KindDispute && cy.Next.Status != domain.CaseApproved && cy.State != nil {
		// The claim failed: the claimant's profile stays frozen for good
		// (a new dispute comes with a new profile).
		e := cy.State.Enterprise
		failed := *e
		failed.Status, failed.FrozenReason = domain.EnterpriseFrozen, domain.FrozenDisputeFailed
		ch.Enterprises = append(ch.Enterprises, domain.UpdateEnterprise(e, &failed, cy.Now))
	}
	if cy.Deposits != nil {
		ch.DepositLogs = append(ch.DepositLogs, domain.SaveDepositLog(cy.State.Deposits, *cy.Deposits))
	}
	cy.Change = ch
	return &ch
}

// caseRead is what the read step of a case's write path reads.
type caseRead struct {
	Bundle *domain.CaseBundle
	State  *domain.EnterpriseState
	Holder *domain.EnterpriseState
	By     domain.Actor
}

// readCase reads a case with its enterprise's state and authorizes the
// caller (two reads: the case's partition, then the enterprise's):
//   - a member's access is domain.Authorize's decision, from the members
//     read with the state (another enterprise's case is 404, a role
//     without the permission 403);
//   - staff on the review routes read the state by keys, with their own
//     membership only (one BatchGetItem, which for a dispute also reads
//     the profile holding the USCC), and may not act on a case of an
//     enterprise they are a member of, nor on one they opened (403
//     own_case).
func (s *Service) readCase(ctx context.Context, by domain.Actor, id string, acc caseAccess) (*caseRead, error) {
	if acc.reviewer && !by.CanReview() {
		return nil, domain.ErrForbidden
	}
	if !domain.ValidID(id) {
		return nil, domain.ErrNotFound
	}
	b, err := s.store.GetCaseBundle(ctx, id)
	if err != nil {
		return nil, err
	}
	c := b.Case
	if !acc.reviewer {
		st, err := s.store.GetEnterpriseState(ctx, c.EnterpriseID)
		if err != nil {
			return nil, err
		}
		as, err := domain.Authorize(by, st, c, acc.perm)
		if err != nil {
			return nil, err
		}
		return &caseRead{Bundle: b, State: st, By: as}, nil
	}
	ids := []string{c.EnterpriseID}
	if c.Kind == domain.KindDispute && c.Dispute != nil {
		ids = append(ids, c.Dispute.HolderEnterpriseID)
	}
	states, err := s.store.GetEnterpriseStatesAs(ctx, by.UserID, ids...)
	if err != nil {
		return nil, err
	}
	rd := &caseRead{Bundle: b, State: states[c.EnterpriseID], By: by}
	if len(ids) > 1 {
		rd.Holder = states[ids[1]]
	}
	if c.OpenedBy == by.UserID || rd.State.Member(by.UserID) != nil || rd.Holder.Member(by.UserID) != nil {
		return nil, errOwnCase
	}
	return rd, nil
}

// writeEnterprise is the write path of a profile: read the enterprise's
// state, apply, write under the profile's version, retry on someone
// else's write (pinned: as in writeCase).
func (s *Service) writeEnterprise(ctx context.Context, by domain.Actor, id string, perm domain.Permission, pinned *int,
	apply func(st *domain.EnterpriseState, by domain.Actor, next *domain.Enterprise, ch *domain.Change, now time.Time) error) (*domain.EnterpriseState, *domain.Enterprise, error) {
	var (
		outState *domain.EnterpriseState
		outNext  *domain.Enterprise
	)
	err := optimistic.Retry(ctx, func(ctx context.Context) error {
		st, as, err := s.enterpriseAs(ctx, by, id, perm)
		if err != nil {
			return err
		}
		if pinned != nil && *pinned != st.Enterprise.Version {
			return optimistic.Stale(st.Enterprise.Version)
		}
		now := s.clock.Now()
		next := *st.Enterprise
		var ch domain.Change
		if err := apply(st, as, &next, &ch, now); err != nil {
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

// enterpriseAs reads an enterprise's state (one Query, members included)
// and authorizes the caller for perm (domain.Authorize); it returns the
// caller with their role in the enterprise.
func (s *Service) enterpriseAs(ctx context.Context, by domain.Actor, id string, perm domain.Permission) (*domain.EnterpriseState, domain.Actor, error) {
	if !domain.ValidID(id) {
		return nil, by, domain.ErrNotFound
	}
	st, err := s.store.GetEnterpriseState(ctx, id)
	if err != nil {
		return nil, by, err
	}
	as, err := domain.Authorize(by, st, nil, perm)
	if err != nil {
		return nil, by, err
	}
	return st, as, nil
}
