package certsvc

import (
	"context"
	"time"

	"microcert/shared/domain"
)

// OpenDispute starts the dispute of a USCC another profile holds: the
// caller's own profile for the enterprise (the same body as a
// registration) is created frozen and without the USCC's claim, with a
// dispute case in draft that needs the license, the legal rep's ID card
// and the legal rep's own face verification, and is decided by a
// reviewer. Two reads (the USCC's claim, nothing else) and one
// transaction. A USCC nobody holds is 409 uscc_not_registered (register
// it); one whose dispute is in review 409 dispute_open.
func (s *Service) OpenDispute(ctx context.Context, by domain.Actor, in EnterpriseInput) (*CaseView, error) {
	e, err := s.newProfile(by, in)
	if err != nil {
		return nil, err
	}
	e.Status, e.FrozenReason = domain.EnterpriseFrozen, domain.FrozenDisputePending
	claim, err := s.store.GetUSCCClaim(ctx, e.USCC)
	if domain.IsKind(err, domain.KindNotFound) {
		return nil, domain.ErrUSCCNotRegistered
	}
	if err != nil {
		return nil, err
	}
	if claim.DisputeCaseID != "" {
		return nil, domain.ErrDisputeOpen
	}
	now := e.CreatedAt
	c := &domain.Case{
		ID:           domain.NewIDAt(now),
		EnterpriseID: e.ID,
		OpenedBy:     by.UserID,
		Kind:         domain.KindDispute,
		Status:       domain.CaseDraft,
		Version:      1,
		CreatedAt:    now,
		UpdatedAt:    now,
		Fee:          domain.FeeFor(domain.KindDispute, e.Region(), s.rules),
		Dispute:      &domain.DisputeClaim{USCC: e.USCC, HolderEnterpriseID: claim.EnterpriseID},
	}
	owner := domain.OwnerMembership(e)
	as := by
	as.MemberRole = domain.MemberOwner
	h := domain.NewHistoryEntry("case", "", string(domain.CaseDraft), as, now, nil, "")
	ch := &domain.Change{
		Enterprises: []domain.EnterpriseWrite{{Enterprise: e, Create: true, Unclaimed: true}},
		Members:     []domain.MemberWrite{owner},
		Cases:       []domain.CaseWrite{{Case: c, Create: true}},
		Slots:       domain.SlotsFor(c, false),
		History: []domain.HistoryRecord{{CaseID: c.ID, Entry: h},
			{EnterpriseID: e.ID, Entry: domain.NewHistoryEntry("uscc", "", "disputed", as, now, nil, "dispute case "+c.ID)}},
	}
	if err := s.store.Commit(ctx, ch); err != nil {
		return nil, err
	}
	st := &domain.EnterpriseState{Enterprise: e, Members: []domain.Member{*owner.Member}, OpenCases: map[string]string{}}
	return s.view(c, st, nil, []domain.HistoryEntry{h}), nil
}

// winDispute adds to an approving decision's cycle what winning a dispute
// does, in the same transaction:
//   - the USCC's claim moves to the claimant's profile (on condition that
//     the holder still holds it and this dispute its lock), which is no
//     longer frozen;
//   - the holder's profile is frozen; its certifications in force are
//     revoked; its open cases are withdrawn (each with its slots released
//     and its documents scheduled for deletion; a paid case no reviewer
//     had taken is marked for refund, as any withdrawal);
//   - history on both profiles and the holder's notification.
//
// A holder with a certification in force can only lose its USCC by an
// admin's decision (403 admin_decision_required for a reviewer). The
// holder's open cases cost one more read (one BatchGetItem) when there are
// any.
func (s *Service) winDispute(ctx context.Context, cy *caseCycle) error {
	c, holder, by, now := cy.Prev, cy.Holder, cy.By, cy.Now
	if c.Dispute == nil || holder == nil {
		return domain.Wrap(domain.KindInternal, "dispute_without_holder", nil)
	}
	if domain.HoldsCertification(holder.Certifications, now, s.rules) && !by.Has(domain.RoleAdmin) {
		return domain.ErrAdminDecisionRequired
	}
	ch := &cy.Change
	note := "dispute case " + c.ID
	lost := []string{"uscc_dispute_lost"}

	claimant := cy.State.Enterprise
	won := *claimant
	won.Status, won.FrozenReason = domain.EnterpriseActive, ""
	ch.Enterprises = append(ch.Enterprises, domain.UpdateEnterprise(claimant, &won, now))
	ch.USCCClaims = append(ch.USCCClaims, domain.USCCClaimWrite{USCC: c.Dispute.USCC, Op: domain.USCCTransfer,
		Holder: holder.Enterprise.ID, CaseID: c.ID, NewHolder: claimant.ID, At: now})
	ch.History = append(ch.History,
		domain.HistoryRecord{EnterpriseID: claimant.ID, Entry: domain.NewHistoryEntry("uscc", "disputed", "held", by, now, []string{"uscc_dispute_won"}, note)},
		domain.HistoryRecord{EnterpriseID: claimant.ID, Entry: domain.NewHistoryEntry("profile", string(domain.EnterpriseFrozen), string(domain.EnterpriseActive), by, now, nil, note)})

	he := holder.Enterprise
	frozen := *he
	frozen.Status, frozen.FrozenReason = domain.EnterpriseFrozen, domain.FrozenDisputeLost
	ch.Enterprises = append(ch.Enterprises, domain.UpdateEnterprise(he, &frozen, now))
	ch.History = append(ch.History,
		domain.HistoryRecord{EnterpriseID: he.ID, Entry: domain.NewHistoryEntry("uscc", "held", "lost", by, now, lost, note)},
		domain.HistoryRecord{EnterpriseID: he.ID, Entry: domain.NewHistoryEntry("profile", string(he.Status), string(domain.EnterpriseFrozen), by, now, lost, note)})

	for i := range holder.Certifications {
		cur := holder.Certifications[i]
		next := cur
		hist := next.Advance(now, s.rules)
		if next.Status != domain.CertActive && next.Status != domain.CertOverdue {
			continue
		}
		h, err := next.Revoke(by, "uscc_dispute_lost", domain.SeverityMajor, now)
		if err != nil {
			return err
		}
		next.UpdatedAt, next.RemindAt = now, nil
		ch.Certifications = append(ch.Certifications, domain.UpdateCertification(&cur, &next))
		for _, x := range append(hist, h) {
			ch.History = append(ch.History, domain.HistoryRecord{EnterpriseID: he.ID, Entry: x})
		}
	}

	if ids := holder.OpenCaseIDs(); len(ids) > 0 {
		open, err := s.store.GetCases(ctx, ids)
		if err != nil {
			return err
		}
		for i := range open {
			s.closeLostCase(ch, holder, &open[i], by, now)
		}
	}
	title, body := domain.DisputeLostNotice(c.Dispute.USCC)
	ch.Notifications = append(ch.Notifications, domain.Notification{ID: domain.NewIDAt(now), EnterpriseID: he.ID,
		Kind: domain.NoticeDisputeLost, CaseID: c.ID, Subject: domain.NoticeSubject{CaseID: c.ID, CaseKind: c.Kind}, Title: title, Body: body, CreatedAt: now})
	return nil
}

// closeLostCase withdraws an open case of a profile that lost its USCC:
// slots released (always: a slot of a case already closed is stale), its
// documents scheduled for deletion after retention (the expiry job tags
// the objects and gives the items their TTL), a dispute of its own given
// up.
func (s *Service) closeLostCase(ch *domain.Change, holder *domain.EnterpriseState, cur *domain.Case, by domain.Actor, now time.Time) {
	ch.Slots = append(ch.Slots, holder.SlotReleases(cur)...)
	if cur.Status.Final() {
		return
	}
	next := *cur
	w, err := next.Withdraw(s.rules, by, now, "")
	if err != nil {
		return
	}
	// A fee paid for a review that never started is owed back here too;
	// the refund job sends it.
	w.History.Reasons = []string{"uscc_dispute_lost"}
	next.UpdatedAt = now
	next.DocumentsExpireAt = next.RetentionEndsAt(s.rules)
	ch.Cases = append(ch.Cases, domain.UpdateCase(cur, &next))
	ch.USCCClaims = append(ch.USCCClaims, domain.DisputeLockWrites(cur, &next, now)...)
	ch.AddWithdrawal(cur.ID, w)
}
