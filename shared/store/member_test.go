package store

import (
	"testing"
	"time"

	"microcert/shared/domain"
)

func member(e *domain.Enterprise, user string, role domain.MemberRole, at time.Time) *domain.Member {
	return &domain.Member{EnterpriseID: e.ID, UserID: user, Role: role, JoinedAt: at, UpdatedAt: at, Version: 1}
}

// TestMembers: memberships are read with the enterprise's state, listed
// per user (GSI1), written under their versions; a second membership of
// the same user fails like a stale version.
func TestMembers(t *testing.T) {
	s, counter := newStore(t)
	a := createEnterprise(t, s, "owner-a")
	b := createEnterprise(t, s, "owner-b")
	op := member(a, "user-op", domain.MemberOperator, t0.Add(time.Minute))
	mustCommit(t, s, &domain.Change{Members: []domain.MemberWrite{{Member: op, Create: true}}})
	mustCommit(t, s, &domain.Change{Members: []domain.MemberWrite{{Member: member(b, "user-op", domain.MemberViewer, t0.Add(2*time.Minute)), Create: true}}})

	st, err := s.GetEnterpriseState(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	var roles []string
	for _, m := range st.Members {
		roles = append(roles, m.UserID+":"+string(m.Role))
	}
	if d := diff([]string{"owner-a:owner", "user-op:operator"}, roles); d != "" {
		t.Errorf("members (-want +got):\n%s", d)
	}

	counter.Reset()
	ms, next, err := s.ListMemberships(ctx, "user-op", domain.Page{Limit: 10})
	if err != nil || next != "" {
		t.Fatal(err, next)
	}
	if len(ms) != 2 || ms[0].EnterpriseID != a.ID || ms[1].EnterpriseID != b.ID || ms[1].Role != domain.MemberViewer {
		t.Fatalf("memberships %+v", ms)
	}
	if counter.TotalCalls() != 1 || counter.Calls("Query") != 1 {
		t.Errorf("ListMemberships made %d calls", counter.TotalCalls())
	}
	counter.Reset()
	ents, err := s.GetEnterprises(ctx, []string{a.ID, b.ID, domain.NewIDAt(t0)})
	if err != nil || len(ents) != 2 || ents[b.ID].Name != b.Name {
		t.Fatalf("GetEnterprises %v %v", ents, err)
	}
	if counter.Calls("BatchGetItem") != 1 || counter.TotalCalls() != 1 {
		t.Errorf("GetEnterprises made %d calls", counter.TotalCalls())
	}

	tests := []struct {
		name string
		w    domain.MemberWrite
		want string
	}{
		{"second membership of the same user", domain.MemberWrite{Member: member(a, "user-op", domain.MemberViewer, t0), Create: true}, "version_conflict"},
		{"stale role change", domain.SaveMember(&domain.Member{EnterpriseID: a.ID, UserID: "user-op", Role: domain.MemberOperator, Version: 7},
			domain.Member{EnterpriseID: a.ID, UserID: "user-op", Role: domain.MemberAdmin, JoinedAt: op.JoinedAt}), "version_conflict"},
		{"role change", domain.SaveMember(op, domain.Member{EnterpriseID: a.ID, UserID: "user-op", Role: domain.MemberAdmin, JoinedAt: op.JoinedAt}), ""},
		{"stale removal", domain.RemoveMember(op), "version_conflict"},
		{"removal", domain.RemoveMember(&domain.Member{EnterpriseID: a.ID, UserID: "user-op", Role: domain.MemberAdmin, Version: 2}), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Commit(ctx, &domain.Change{Members: []domain.MemberWrite{tc.w}})
			if got := domain.CodeOf(err); got != tc.want {
				t.Fatalf("code %q (%v), want %q", got, err, tc.want)
			}
		})
	}
	if st, _ := s.GetEnterpriseState(ctx, a.ID); len(st.Members) != 1 {
		t.Errorf("after removal: %+v", st.Members)
	}
	if ms, _, _ := s.ListMemberships(ctx, "user-op", domain.Page{Limit: 10}); len(ms) != 1 || ms[0].EnterpriseID != b.ID {
		t.Errorf("memberships after removal: %+v", ms)
	}
}

// TestMemberCheck: a Change with a member check commits only while the
// user is a member with one of the roles; else it is not found and writes
// nothing.
func TestMemberCheck(t *testing.T) {
	s, counter := newStore(t)
	e := createEnterprise(t, s, "owner-c")
	c := createCase(t, s, e, t0)
	audit := func() domain.AuditEntry {
		return domain.AuditEntry{ID: domain.NewIDAt(t0), At: t0, ActorID: "x", Role: domain.RoleApplicant, Action: "document.download", CaseID: c.ID}
	}
	tests := []struct {
		name  string
		check domain.MemberCheck
		want  string
	}{
		{"member with the role", domain.MemberCheck{EnterpriseID: e.ID, UserID: "owner-c", Roles: []domain.MemberRole{domain.MemberOwner}}, ""},
		{"member without the role", domain.MemberCheck{EnterpriseID: e.ID, UserID: "owner-c", Roles: []domain.MemberRole{domain.MemberViewer}}, "not_found"},
		{"not a member", domain.MemberCheck{EnterpriseID: e.ID, UserID: "stranger", Roles: domain.RolesWith(domain.PermRead)}, "not_found"},
	}
	written := 0
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			counter.Reset()
			err := s.Commit(ctx, &domain.Change{Audits: []domain.AuditEntry{audit()}, MemberChecks: []domain.MemberCheck{tc.check}})
			if got := domain.CodeOf(err); got != tc.want {
				t.Fatalf("code %q (%v), want %q", got, err, tc.want)
			}
			if counter.TotalCalls() != 1 {
				t.Errorf("%d calls, want one transaction", counter.TotalCalls())
			}
			if err == nil {
				written++
			}
		})
	}
	if got, _ := s.ListAudit(ctx, c.ID); len(got) != written {
		t.Errorf("%d audit entries, want %d", len(got), written)
	}
}

// TestUSCCClaimLock: a dispute locks a USCC while in review; a second one
// cannot; a won dispute moves the claim.
func TestUSCCClaimLock(t *testing.T) {
	s, _ := newStore(t)
	e := createEnterprise(t, s, "holder")
	w := func(op domain.USCCOp, caseID, holder string) domain.USCCClaimWrite {
		return domain.USCCClaimWrite{USCC: e.USCC, Op: op, Holder: holder, CaseID: caseID, NewHolder: "claimant-ent", At: t0}
	}
	first, second := domain.NewIDAt(t0), domain.NewIDAt(t0.Add(time.Second))
	steps := []struct {
		name string
		w    domain.USCCClaimWrite
		want string
	}{
		{"lock", w(domain.USCCLock, first, e.ID), ""},
		{"lock again by the same dispute", w(domain.USCCLock, first, e.ID), ""},
		{"another dispute", w(domain.USCCLock, second, e.ID), "dispute_open"},
		{"unlock by another", w(domain.USCCUnlock, second, e.ID), "version_conflict"},
		{"transfer by another", w(domain.USCCTransfer, second, e.ID), "version_conflict"},
		{"unlock", w(domain.USCCUnlock, first, e.ID), ""},
		{"the other locks", w(domain.USCCLock, second, e.ID), ""},
		{"transfer from a wrong holder", w(domain.USCCTransfer, second, "someone"), "version_conflict"},
		{"transfer", w(domain.USCCTransfer, second, e.ID), ""},
		{"lock against the old holder", w(domain.USCCLock, first, e.ID), "dispute_open"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			err := s.Commit(ctx, &domain.Change{USCCClaims: []domain.USCCClaimWrite{st.w}})
			if got := domain.CodeOf(err); got != st.want {
				t.Fatalf("code %q (%v), want %q", got, err, st.want)
			}
		})
	}
	claim, err := s.GetUSCCClaim(ctx, e.USCC)
	if err != nil || claim.EnterpriseID != "claimant-ent" || claim.DisputeCaseID != "" {
		t.Fatalf("claim %+v %v", claim, err)
	}
	if _, err := s.GetUSCCClaim(ctx, domain.SampleUSCC(nextSeed())); !domain.IsKind(err, domain.KindNotFound) {
		t.Fatalf("unknown USCC: %v", err)
	}
	// A claimant's profile is created without a claim.
	c := sampleEnterprise("claimant")
	c.USCC = e.USCC
	mustCommit(t, s, &domain.Change{Enterprises: []domain.EnterpriseWrite{{Enterprise: c, Create: true, Unclaimed: true}}})
}

// TestStatesAs: a reviewer's read of several enterprises by keys in one
// BatchGetItem holds their profiles, certifications, slots and the
// reader's own membership only.
func TestStatesAs(t *testing.T) {
	s, counter := newStore(t)
	a := createEnterprise(t, s, "owner-1")
	b := createEnterprise(t, s, "owner-2")
	cert := sampleCert(b.ID, domain.CertWeCom, domain.CertActive, t0.AddDate(1, 0, 0))
	c := createCase(t, s, b, t0)
	mustCommit(t, s, &domain.Change{
		Certifications: []domain.CertificationWrite{{Certification: cert, Create: true}},
		Slots:          domain.SlotsFor(c, false),
		Members:        []domain.MemberWrite{{Member: member(b, "rev-1", domain.MemberViewer, t0), Create: true}},
	})
	counter.Reset()
	got, err := s.GetEnterpriseStatesAs(ctx, "rev-1", a.ID, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if counter.TotalCalls() != 1 || counter.Calls("BatchGetItem") != 1 {
		t.Errorf("%d calls, want one BatchGetItem", counter.TotalCalls())
	}
	sa, sb := got[a.ID], got[b.ID]
	if sa.Enterprise.ID != a.ID || len(sa.Members) != 0 || len(sa.Certifications) != 0 {
		t.Errorf("state of a: %+v", sa)
	}
	if sb.Member("rev-1") == nil || sb.Member("owner-2") != nil || len(sb.Certifications) != 1 {
		t.Errorf("state of b: members %+v certs %+v", sb.Members, sb.Certifications)
	}
	if d := diff([]string{c.ID}, sb.OpenCaseIDs()); d != "" {
		t.Errorf("open cases (-want +got):\n%s", d)
	}
	cases, err := s.GetCases(ctx, sb.OpenCaseIDs())
	if err != nil || len(cases) != 1 || cases[0].ID != c.ID {
		t.Fatalf("GetCases %v %v", cases, err)
	}
	if _, err := s.GetEnterpriseStatesAs(ctx, "rev-1", domain.NewIDAt(t0)); !domain.IsKind(err, domain.KindNotFound) {
		t.Errorf("unknown enterprise: %v", err)
	}
}
