package certsvc_test

import (
	"sync"
	"testing"
	"time"

	"microcert/shared/certsvc"
	"microcert/shared/domain"
)

func user(id string) domain.Actor {
	return domain.Actor{UserID: id, Roles: []domain.Role{domain.RoleApplicant}}
}

// join invites a user with a role (as the owner) and has them redeem it.
func (e *rvEnv) join(entID string, who domain.Actor, role domain.MemberRole) {
	e.t.Helper()
	inv, err := e.svc.CreateInvitation(rvCtx, rvApplicant, entID, certsvc.InvitationInput{Role: role, Label: "label " + who.UserID})
	if err != nil {
		e.t.Fatalf("invite %s: %v", role, err)
	}
	if _, err := e.svc.RedeemInvitation(rvCtx, who, inv.Code); err != nil {
		e.t.Fatalf("redeem as %s: %v", who.UserID, err)
	}
}

// TestInvitations: a code joins exactly one user once, within its time;
// revoked, used, expired and forged codes are one answer.
func TestInvitations(t *testing.T) {
	e := newRvEnv(t, rvBeijing(2026, 11, 26, 10, 0), nil)
	ent := e.enterprise()
	inv, err := e.svc.CreateInvitation(rvCtx, rvApplicant, ent.ID, certsvc.InvitationInput{Role: domain.MemberOperator})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Invitation.ExpiresAt != e.clock.Now().Add(7*24*time.Hour) {
		t.Errorf("expires %v", inv.Invitation.ExpiresAt)
	}

	// Two users race for one code: one joins, the other is refused.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, who := range []domain.Actor{user("racer-1"), user("racer-2")} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.svc.RedeemInvitation(rvCtx, who, inv.Code)
		}()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("racing redemptions: %v / %v, want exactly one to win", errs[0], errs[1])
	}
	for _, err := range errs {
		if err != nil && domain.CodeOf(err) != "invitation_invalid" {
			t.Errorf("loser: %v", err)
		}
	}
	ms, _ := e.svc.ListMembers(rvCtx, rvApplicant, ent.ID)
	if len(ms) != 2 || ms[0].Role != domain.MemberOwner || ms[1].Role != domain.MemberOperator {
		t.Fatalf("members %+v", ms)
	}

	revoked, _ := e.svc.CreateInvitation(rvCtx, rvApplicant, ent.ID, certsvc.InvitationInput{Role: domain.MemberViewer})
	if _, err := e.svc.RevokeInvitation(rvCtx, rvApplicant, ent.ID, revoked.Invitation.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.RevokeInvitation(rvCtx, rvApplicant, ent.ID, revoked.Invitation.ID)
	wantCode(t, err, "invitation_not_pending")
	expiring, _ := e.svc.CreateInvitation(rvCtx, rvApplicant, ent.ID, certsvc.InvitationInput{Role: domain.MemberViewer})
	fresh, _ := e.svc.CreateInvitation(rvCtx, rvApplicant, ent.ID, certsvc.InvitationInput{Role: domain.MemberViewer})
	owner := rvApplicant

	tests := []struct {
		name  string
		by    domain.Actor
		code  func() string
		want  string
		after time.Duration
	}{
		{"used code", user("late"), func() string { return inv.Code }, "invitation_invalid", 0},
		{"revoked code", user("late"), func() string { return revoked.Code }, "invitation_invalid", 0},
		{"forged secret", user("late"), func() string { s, _ := domain.NewInvitationSecret(); return domain.InvitationCode(ent.ID, s) }, "invitation_invalid", 0},
		{"garbage", user("late"), func() string { return "not a code" }, "invitation_invalid", 0},
		{"unknown enterprise", user("late"), func() string { s, _ := domain.NewInvitationSecret(); return domain.InvitationCode(domain.NewID(), s) }, "invitation_invalid", 0},
		{"already a member", owner, func() string { return fresh.Code }, "already_member", 0},
		{"expired code", user("late"), func() string { return expiring.Code }, "invitation_invalid", 7 * 24 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.clock.Advance(tc.after)
			_, err := e.svc.RedeemInvitation(rvCtx, tc.by, tc.code())
			wantCode(t, err, tc.want)
		})
	}
	invs, err := e.svc.ListInvitations(rvCtx, rvApplicant, ent.ID)
	if err != nil || len(invs) != 4 {
		t.Fatalf("invitations %d %v", len(invs), err)
	}
	statuses := map[domain.InvitationStatus]int{}
	for i := range invs {
		statuses[invs[i].StatusAt(e.clock.Now())]++
	}
	if statuses[domain.InvitationAccepted] != 1 || statuses[domain.InvitationRevoked] != 1 || statuses[domain.InvitationExpired] != 2 {
		t.Errorf("statuses %v", statuses)
	}
}

// TestMemberManagement: roles change, members leave or are removed, the
// owner transfers ownership and can never be removed; every change is in
// the enterprise's history with the actor's role.
func TestMemberManagement(t *testing.T) {
	e := newRvEnv(t, rvBeijing(2026, 11, 26, 10, 0), nil)
	ent := e.enterprise()
	admin, op, viewer, agent := user("admin-1"), user("op-1"), user("viewer-1"), user("agent-1")
	e.join(ent.ID, admin, domain.MemberAdmin)
	e.join(ent.ID, op, domain.MemberOperator)
	e.join(ent.ID, viewer, domain.MemberViewer)
	e.join(ent.ID, agent, domain.MemberAgent)

	steps := []struct {
		name string
		run  func() error
		want string
	}{
		{"operator cannot invite", func() error {
			_, err := e.svc.CreateInvitation(rvCtx, op, ent.ID, certsvc.InvitationInput{Role: domain.MemberViewer})
			return err
		}, "insufficient_role"},
		{"nobody invites an owner", func() error {
			_, err := e.svc.CreateInvitation(rvCtx, rvApplicant, ent.ID, certsvc.InvitationInput{Role: domain.MemberOwner})
			return err
		}, "invalid_role"},
		{"a stranger cannot see the members", func() error { _, err := e.svc.ListMembers(rvCtx, rvStranger, ent.ID); return err }, "not_found"},
		{"admin promotes the viewer", func() error {
			_, err := e.svc.ChangeMemberRole(rvCtx, admin, ent.ID, viewer.UserID, domain.MemberOperator, nil)
			return err
		}, ""},
		{"stale version", func() error {
			v := 1
			_, err := e.svc.ChangeMemberRole(rvCtx, admin, ent.ID, viewer.UserID, domain.MemberViewer, &v)
			return err
		}, "version_conflict"},
		{"admin cannot demote the owner", func() error {
			_, err := e.svc.ChangeMemberRole(rvCtx, admin, ent.ID, rvApplicant.UserID, domain.MemberViewer, nil)
			return err
		}, "owner_cannot_be_removed"},
		{"admin cannot remove the owner", func() error { return e.svc.RemoveMember(rvCtx, admin, ent.ID, rvApplicant.UserID) }, "owner_cannot_be_removed"},
		{"the owner cannot leave", func() error { return e.svc.RemoveMember(rvCtx, rvApplicant, ent.ID, rvApplicant.UserID) }, "owner_cannot_be_removed"},
		{"operator cannot remove others", func() error { return e.svc.RemoveMember(rvCtx, op, ent.ID, viewer.UserID) }, "insufficient_role"},
		{"the agent leaves", func() error { return e.svc.RemoveMember(rvCtx, agent, ent.ID, agent.UserID) }, ""},
		{"the agent is gone", func() error { _, err := e.svc.GetEnterprise(rvCtx, agent, ent.ID); return err }, "not_found"},
		{"admin cannot transfer", func() error { _, err := e.svc.TransferOwnership(rvCtx, admin, ent.ID, op.UserID); return err }, "insufficient_role"},
		{"transfer to a stranger", func() error { _, err := e.svc.TransferOwnership(rvCtx, rvApplicant, ent.ID, "nobody"); return err }, "not_a_member"},
		{"transfer to the operator", func() error { _, err := e.svc.TransferOwnership(rvCtx, rvApplicant, ent.ID, op.UserID); return err }, ""},
		{"the old owner is an admin now", func() error { return e.svc.RemoveMember(rvCtx, rvApplicant, ent.ID, rvApplicant.UserID) }, ""},
		{"the new owner removes the admin", func() error { return e.svc.RemoveMember(rvCtx, op, ent.ID, admin.UserID) }, ""},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) { wantCode(t, st.run(), st.want) })
	}
	v, err := e.svc.GetEnterprise(rvCtx, op, ent.ID)
	if err != nil || v.Enterprise.OwnerID != op.UserID || v.MyRole != domain.MemberOwner {
		t.Fatalf("after transfer: %+v %v", v, err)
	}
	ms, _ := e.svc.ListMembers(rvCtx, op, ent.ID)
	if len(ms) != 2 || ms[0].UserID != op.UserID || ms[1].UserID != viewer.UserID || ms[1].Role != domain.MemberOperator {
		t.Fatalf("members %+v", ms)
	}
	hist, _, err := e.svc.ListHistory(rvCtx, op, ent.ID, domain.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var transfer *domain.HistoryEntry
	for i := range hist {
		if hist[i].Subject == "ownership" {
			transfer = &hist[i]
		}
	}
	if transfer == nil || transfer.From != rvApplicant.UserID || transfer.To != op.UserID || transfer.MemberRole != domain.MemberOwner ||
		transfer.ActorID != rvApplicant.UserID {
		t.Fatalf("transfer history %+v", transfer)
	}
	removed := 0
	for _, h := range hist {
		if h.Subject == "member:"+admin.UserID && h.To == "" && h.MemberRole == domain.MemberOwner {
			removed++
		}
	}
	if removed != 1 {
		t.Errorf("the admin's removal by the owner is not in the history: %+v", hist)
	}
}

// TestDisputeWon: a claimant takes a squatted USCC through a dispute; the
// holder holds a certification in force, so only an admin decides. The
// USCC moves, the claimant's profile is unfrozen, the holder's is frozen,
// its open case withdrawn (refund due) and its certification revoked.
func TestDisputeWon(t *testing.T) {
	e := newRvEnv(t, rvBeijing(2026, 11, 26, 10, 0), nil)
	holder := e.enterprise()
	e.approve(e.submitted(holder.ID, domain.KindInitial, domain.CertWeCom).ID)
	open, err := e.svc.OpenCase(rvCtx, rvApplicant, certsvc.CaseInput{EnterpriseID: holder.ID, Kind: domain.KindInitial,
		Types: []domain.CertType{domain.CertOfficialAccount}})
	if err != nil {
		t.Fatal(err)
	}
	e.fulfil(open)

	claimant, rival := user("claimant"), user("rival")
	in := certsvc.EnterpriseInput{Name: "深圳市真实企业有限公司", USCC: holder.USCC,
		LegalRep:          domain.LegalRep{Name: "王五", IDNumber: domain.SampleIDNumber(777), Phone: "13700001111"},
		RegisteredAddress: "广东省深圳市南山区科技园路1号", OperatingAddress: "广东省深圳市南山区科技园路1号",
		RegionCode: "440300", HasCorporateAccount: true}
	d, err := e.svc.OpenDispute(rvCtx, claimant, in)
	if err != nil {
		t.Fatal(err)
	}
	if d.Enterprise.Status != domain.EnterpriseFrozen || d.Case.Kind != domain.KindDispute || d.Case.Fee.PayableFen != 0 {
		t.Fatalf("dispute %+v on %+v", d.Case, d.Enterprise)
	}
	// A draft holds no lock: a rival may open one too.
	r, err := e.svc.OpenDispute(rvCtx, rival, in)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.OpenCase(rvCtx, claimant, certsvc.CaseInput{EnterpriseID: d.Enterprise.ID, Kind: domain.KindInitial, Types: []domain.CertType{domain.CertWeCom}})
	wantCode(t, err, "enterprise_frozen")

	e.fulfil(d)
	if _, err := e.svc.Submit(rvCtx, claimant, d.Case.ID); err != nil {
		t.Fatal(err)
	}
	e.fulfil(r)
	_, err = e.svc.Submit(rvCtx, rival, r.Case.ID)
	wantCode(t, err, "dispute_open")
	_, err = e.svc.OpenDispute(rvCtx, rival, in)
	wantCode(t, err, "dispute_open")

	// A reviewer may not take a certified holder's USCC; an admin may.
	_, err = e.svc.Decide(rvCtx, rvReviewerA, d.Case.ID, certsvc.DecisionInput{Decision: domain.DecisionApprove, Version: e.claim(rvReviewerA, d.Case.ID)})
	wantCode(t, err, "admin_decision_required")
	e.clock.Advance(3 * time.Hour) // the reviewer's claim lapses
	res := e.decide(rvAdmin, d.Case.ID, domain.DecisionApprove, e.claim(rvAdmin, d.Case.ID))
	if res.View.Case.Status != domain.CaseApproved || res.View.Enterprise.Frozen() {
		t.Fatalf("decision: %s, profile %+v", res.View.Case.Status, res.View.Enterprise)
	}

	claim, err := e.st.GetUSCCClaim(rvCtx, holder.USCC)
	if err != nil || claim.EnterpriseID != d.Enterprise.ID || claim.DisputeCaseID != "" {
		t.Fatalf("USCC claim %+v %v", claim, err)
	}
	hs, err := e.st.GetEnterpriseState(rvCtx, holder.ID)
	if err != nil {
		t.Fatal(err)
	}
	if hs.Enterprise.Status != domain.EnterpriseFrozen || hs.Enterprise.FrozenReason != domain.FrozenDisputeLost || len(hs.OpenCases) != 0 {
		t.Fatalf("holder %+v, open cases %v", hs.Enterprise, hs.OpenCases)
	}
	if c := e.cert(holder.ID, domain.CertWeCom); c.Status != domain.CertRevoked {
		t.Errorf("holder's certification %s", c.Status)
	}
	cb, err := e.st.GetCaseBundle(rvCtx, open.Case.ID)
	if err != nil {
		t.Fatal(err)
	}
	closed := cb.Case
	if closed.Status != domain.CaseWithdrawn || closed.DocumentsExpireAt == nil {
		t.Fatalf("holder's open case %+v", closed)
	}
	// Its fee paid for a review that never started: refunded in full.
	if closed.Money.ReceivedFen == 0 || closed.Money.KeptFen != 0 || len(cb.Refunds) != 1 ||
		cb.Refunds[0].AmountFen != closed.Money.ReceivedFen || cb.Refunds[0].Reason != domain.RefundWithdrawn {
		t.Fatalf("holder's open case money %+v, refunds %+v", closed.Money, cb.Refunds)
	}
	notes, _, _ := e.st.ListNotifications(rvCtx, holder.ID, domain.Page{Limit: 10})
	if len(notes) == 0 || notes[0].Kind != domain.NoticeDisputeLost {
		t.Errorf("holder's notifications %+v", notes)
	}
	_, err = e.svc.OpenCase(rvCtx, rvApplicant, certsvc.CaseInput{EnterpriseID: holder.ID, Kind: domain.KindInitial, Types: []domain.CertType{domain.CertMiniProgram}})
	wantCode(t, err, "enterprise_frozen")
	if _, err := e.svc.OpenCase(rvCtx, claimant, certsvc.CaseInput{EnterpriseID: d.Enterprise.ID, Kind: domain.KindInitial,
		Types: []domain.CertType{domain.CertWeCom}}); err != nil {
		t.Fatalf("the winner opens a case: %v", err)
	}
	// The rival's draft disputed a profile that no longer holds the USCC.
	_, err = e.svc.Submit(rvCtx, rival, r.Case.ID)
	wantCode(t, err, "dispute_open")
	w, err := e.svc.Withdraw(rvCtx, rival, r.Case.ID)
	if err != nil || w.Case.Status != domain.CaseWithdrawn {
		t.Fatalf("withdraw the rival's dispute: %v", err)
	}
	if rs, _ := e.st.GetEnterpriseState(rvCtx, r.Enterprise.ID); rs.Enterprise.FrozenReason != domain.FrozenDisputeFailed {
		t.Errorf("rival's profile %+v", rs.Enterprise)
	}
}

// TestDisputeRules: a USCC nobody holds is registered, not disputed; a
// rejected dispute releases the lock and leaves the claimant's profile
// frozen for good; a reviewer who is a member of the holder cannot decide.
func TestDisputeRules(t *testing.T) {
	e := newRvEnv(t, rvBeijing(2026, 11, 26, 10, 0), nil)
	holder := e.enterprise()
	in := certsvc.EnterpriseInput{Name: "深圳市真实企业有限公司", USCC: domain.SampleUSCC(4242),
		LegalRep:          domain.LegalRep{Name: "王五", IDNumber: domain.SampleIDNumber(4242), Phone: "13700001111"},
		RegisteredAddress: "广东省深圳市南山区科技园路1号", OperatingAddress: "广东省深圳市南山区科技园路1号",
		RegionCode: "440300", HasCorporateAccount: true}
	_, err := e.svc.OpenDispute(rvCtx, user("claimant"), in)
	wantCode(t, err, "uscc_not_registered")

	in.USCC = holder.USCC
	d, err := e.svc.OpenDispute(rvCtx, user("claimant"), in)
	if err != nil {
		t.Fatal(err)
	}
	e.fulfil(d)
	if _, err := e.svc.Submit(rvCtx, user("claimant"), d.Case.ID); err != nil {
		t.Fatal(err)
	}
	insider := domain.Actor{UserID: "rev-insider", Roles: []domain.Role{domain.RoleReviewer}}
	e.join(holder.ID, insider, domain.MemberViewer)
	_, err = e.svc.Claim(rvCtx, insider, d.Case.ID)
	wantCode(t, err, "own_case")

	e.decide(rvReviewerA, d.Case.ID, domain.DecisionReject, e.claim(rvReviewerA, d.Case.ID), domain.ReasonInfoInconsistent)
	claim, _ := e.st.GetUSCCClaim(rvCtx, holder.USCC)
	if claim.EnterpriseID != holder.ID || claim.DisputeCaseID != "" {
		t.Fatalf("after rejection: %+v", claim)
	}
	cs, _ := e.st.GetEnterpriseState(rvCtx, d.Enterprise.ID)
	if cs.Enterprise.FrozenReason != domain.FrozenDisputeFailed {
		t.Errorf("claimant's profile %+v", cs.Enterprise)
	}
	// The lock is free again.
	if _, err := e.svc.OpenDispute(rvCtx, user("claimant"), in); err != nil {
		t.Fatalf("a new dispute after the rejection: %v", err)
	}
}

// TestAgentCases: an agent opens only cases via itself and works only on
// those; nobody names a non-agent as the agent; an agent never starts the
// legal rep's verification.
func TestAgentCases(t *testing.T) {
	e := newRvEnv(t, rvBeijing(2026, 11, 26, 10, 0), nil)
	ent := e.enterprise()
	agent, op := user("agent-x"), user("op-x")
	e.join(ent.ID, agent, domain.MemberAgent)
	e.join(ent.ID, op, domain.MemberOperator)
	open := func(by domain.Actor, via bool, agentID string, t0 domain.CertType) (*certsvc.CaseView, error) {
		return e.svc.OpenCase(rvCtx, by, certsvc.CaseInput{EnterpriseID: ent.ID, Kind: domain.KindInitial,
			Types: []domain.CertType{t0}, ViaAgent: via, AgentID: agentID})
	}
	_, err := open(agent, false, "", domain.CertWeCom)
	wantCode(t, err, "via_agent_required")
	_, err = open(op, true, "", domain.CertWeCom)
	wantCode(t, err, "agent_required")
	_, err = open(op, true, op.UserID, domain.CertWeCom)
	wantCode(t, err, "agent_not_member")
	mine, err := open(agent, true, "", domain.CertWeCom)
	if err != nil || mine.Case.AgentID != agent.UserID || !mine.Case.ViaAgent {
		t.Fatalf("agent's case %+v %v", mine, err)
	}
	if !hasStr(mine.Requirements.CurrentlyDue, "authorization_letter") {
		t.Errorf("an agent's case needs the authorization letter: %v", mine.Requirements.CurrentlyDue)
	}
	ours, err := open(op, false, "", domain.CertOfficialAccount)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.SetExplanation(rvCtx, agent, ours.Case.ID, "x")
	wantCode(t, err, "not_case_agent")
	if _, err := e.svc.SetExplanation(rvCtx, agent, mine.Case.ID, "代办说明"); err != nil {
		t.Fatalf("the agent works on its case: %v", err)
	}
	_, err = e.svc.StartVerification(rvCtx, agent, mine.Case.ID, domain.VerifyFace)
	wantCode(t, err, "agent_cannot_verify")
	v, err := e.svc.StartVerification(rvCtx, op, mine.Case.ID, domain.VerifyFace)
	if err != nil || v.StartedBy != op.UserID || v.LegalRep != domain.LegalRepFingerprint(ent.LegalRep) {
		t.Fatalf("the operator starts the legal rep's session: %+v %v", v, err)
	}
}
