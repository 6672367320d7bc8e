package domain

import (
	"strings"
	"testing"
	"time"
)

func stateWith(status EnterpriseStatus, reason string, members ...Member) *EnterpriseState {
	return &EnterpriseState{Enterprise: &Enterprise{ID: "e", Status: status, FrozenReason: reason}, Members: members}
}

// TestAuthorize is the permission table as callers meet it: every role on
// every permission, agents on their own and others' cases, staff, strangers
// and frozen profiles.
func TestAuthorize(t *testing.T) {
	members := []Member{
		{UserID: "owner", Role: MemberOwner}, {UserID: "admin", Role: MemberAdmin}, {UserID: "op", Role: MemberOperator},
		{UserID: "viewer", Role: MemberViewer}, {UserID: "agent", Role: MemberAgent},
	}
	active := stateWith(EnterpriseActive, "", members...)
	applicant := func(id string) Actor { return Actor{UserID: id, Roles: []Role{RoleApplicant}} }
	reviewer := Actor{UserID: "rev", Roles: []Role{RoleReviewer}}
	agentCase := &Case{Kind: KindInitial, AgentID: "agent"}
	otherCase := &Case{Kind: KindInitial, AgentID: "someone-else"}
	perms := []Permission{PermRead, PermPrepare, PermVerifyLegalRep, PermEditProfile, PermEndCertification, PermManageMembers, PermTransferOwnership}
	// want[role] lists the permissions granted, in perms order ("y"/"-").
	want := map[string]string{
		"owner":  "yyyyyyy",
		"admin":  "yyyyyy-",
		"op":     "yyyy---",
		"viewer": "y------",
		"agent":  "yy-----",
	}
	for user, row := range want {
		for i, p := range perms {
			t.Run(user+"/"+string(p), func(t *testing.T) {
				as, err := Authorize(applicant(user), active, nil, p)
				granted := err == nil
				if granted != (row[i] == 'y') {
					t.Fatalf("granted %v (%v), want %c", granted, err, row[i])
				}
				if !granted && KindOf(err) != KindForbidden {
					t.Fatalf("a member refused: %v, want 403", err)
				}
				if granted && as.MemberRole != active.Member(user).Role {
					t.Fatalf("member role %q", as.MemberRole)
				}
			})
		}
	}
	tests := []struct {
		name string
		by   Actor
		st   *EnterpriseState
		c    *Case
		p    Permission
		code string // "" = granted
	}{
		{"stranger reads", applicant("stranger"), active, nil, PermRead, "not_found"},
		{"stranger prepares", applicant("stranger"), active, nil, PermPrepare, "not_found"},
		{"reviewer reads", reviewer, active, nil, PermRead, ""},
		{"reviewer prepares", reviewer, active, nil, PermPrepare, "forbidden"},
		{"viewer prepares", applicant("viewer"), active, nil, PermPrepare, "insufficient_role"},
		{"agent on its case", applicant("agent"), active, agentCase, PermPrepare, ""},
		{"agent on another agent's case", applicant("agent"), active, otherCase, PermPrepare, "not_case_agent"},
		{"agent reads another case", applicant("agent"), active, otherCase, PermRead, ""},
		{"agent verifies the legal rep", applicant("agent"), active, agentCase, PermVerifyLegalRep, "agent_cannot_verify"},
		{"operator on an agent's case", applicant("op"), active, agentCase, PermPrepare, ""},
		{"frozen: read", applicant("op"), stateWith(EnterpriseFrozen, FrozenDisputeLost, members...), nil, PermRead, ""},
		{"frozen: prepare", applicant("op"), stateWith(EnterpriseFrozen, FrozenDisputeLost, members...), nil, PermPrepare, "enterprise_frozen"},
		{"frozen: members", applicant("admin"), stateWith(EnterpriseFrozen, FrozenDisputeLost, members...), nil, PermManageMembers, ""},
		{"frozen: edit profile", applicant("op"), stateWith(EnterpriseFrozen, FrozenDisputeLost, members...), nil, PermEditProfile, "enterprise_frozen"},
		{"pending claim: dispute case", applicant("op"), stateWith(EnterpriseFrozen, FrozenDisputePending, members...), &Case{Kind: KindDispute}, PermPrepare, ""},
		{"pending claim: another case", applicant("op"), stateWith(EnterpriseFrozen, FrozenDisputePending, members...), nil, PermPrepare, "enterprise_frozen"},
		{"pending claim: edit profile", applicant("op"), stateWith(EnterpriseFrozen, FrozenDisputePending, members...), nil, PermEditProfile, ""},
		{"failed claim: dispute case", applicant("op"), stateWith(EnterpriseFrozen, FrozenDisputeFailed, members...), &Case{Kind: KindDispute}, PermPrepare, "enterprise_frozen"},
		{"frozen: stranger", applicant("stranger"), stateWith(EnterpriseFrozen, FrozenDisputeLost, members...), nil, PermRead, "not_found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Authorize(tc.by, tc.st, tc.c, tc.p)
			if got := CodeOf(err); got != tc.code {
				t.Fatalf("code %q (%v), want %q", got, err, tc.code)
			}
		})
	}
}

func TestReadCheck(t *testing.T) {
	if c := ReadCheck(Actor{UserID: "rev", Roles: []Role{RoleAdmin}}, "e"); c != nil {
		t.Errorf("staff need no member check: %+v", c)
	}
	c := ReadCheck(Actor{UserID: "u", Roles: []Role{RoleApplicant}}, "e")
	if c == nil || c.UserID != "u" || c.EnterpriseID != "e" || len(c.Roles) != len(MemberRoles) {
		t.Errorf("check %+v: every role reads", c)
	}
}

func TestInvitationCodes(t *testing.T) {
	ent := NewID()
	secret, id := NewInvitationSecret()
	code := InvitationCode(ent, secret)
	gotEnt, gotSecret, ok := ParseInvitationCode("  " + code + "\n")
	if !ok || gotEnt != ent || gotSecret != secret || InvitationIDOf(gotSecret) != id || !ValidID(id) {
		t.Fatalf("round trip of %q: %q %q %v", code, gotEnt, gotSecret, ok)
	}
	if strings.Contains(code, id) {
		t.Error("the code shows the stored id")
	}
	other, _ := NewInvitationSecret()
	if other == secret || InvitationIDOf(other) == id {
		t.Error("two secrets collide")
	}
	for _, bad := range []string{"", ent, ent + ".", ent + "." + secret[:31], ent + "." + secret + "a", "x." + secret,
		ent + "." + strings.Replace(secret, secret[:1], "I", 1), ent + "/" + secret} {
		if _, _, ok := ParseInvitationCode(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestInvitationStatusAt(t *testing.T) {
	now := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	inv := Invitation{Status: InvitationPending, ExpiresAt: now.Add(time.Hour)}
	if inv.StatusAt(now) != InvitationPending || inv.StatusAt(now.Add(time.Hour)) != InvitationExpired {
		t.Errorf("pending: %s, at expiry: %s", inv.StatusAt(now), inv.StatusAt(now.Add(time.Hour)))
	}
	inv.Status = InvitationAccepted
	if inv.StatusAt(now.Add(2*time.Hour)) != InvitationAccepted {
		t.Error("an accepted invitation shows expired")
	}
}

func TestValidUserID(t *testing.T) {
	for s, want := range map[string]bool{"u-1": true, "0b7c2d-uuid": true, "": false, "a/b": false, "a b": false,
		strings.Repeat("x", 128): true, strings.Repeat("x", 129): false, "a\x00": false} {
		if ValidUserID(s) != want {
			t.Errorf("ValidUserID(%q) = %v", s, !want)
		}
	}
}

func TestDisputeLockWrites(t *testing.T) {
	at := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	dispute := func(s CaseStatus) *Case {
		return &Case{ID: "c", Kind: KindDispute, Status: s, Dispute: &DisputeClaim{USCC: "u", HolderEnterpriseID: "h"}}
	}
	tests := []struct {
		from, to CaseStatus
		want     USCCOp // "" = no write
	}{
		{CaseDraft, CaseSubmitted, USCCLock},
		{CaseChangesRequested, CaseSubmitted, USCCLock},
		{CaseSubmitted, CaseInReview, ""},
		{CaseInReview, CaseSubmitted, ""},
		{CaseInReview, CaseChangesRequested, USCCUnlock},
		{CaseInReview, CaseRejected, USCCUnlock},
		{CaseSubmitted, CaseWithdrawn, USCCUnlock},
		{CaseInReview, CaseApproved, ""},
		{CaseDraft, CaseWithdrawn, ""},
	}
	for _, tc := range tests {
		t.Run(string(tc.from)+"->"+string(tc.to), func(t *testing.T) {
			ws := DisputeLockWrites(dispute(tc.from), dispute(tc.to), at)
			switch {
			case tc.want == "" && len(ws) != 0:
				t.Fatalf("writes %+v", ws)
			case tc.want != "" && (len(ws) != 1 || ws[0].Op != tc.want || ws[0].Holder != "h" || ws[0].CaseID != "c" || ws[0].USCC != "u"):
				t.Fatalf("writes %+v, want one %s", ws, tc.want)
			}
		})
	}
	plain := &Case{Kind: KindInitial, Status: CaseSubmitted}
	if ws := DisputeLockWrites(&Case{Kind: KindInitial, Status: CaseDraft}, plain, at); len(ws) != 0 {
		t.Errorf("a case that is no dispute locks: %+v", ws)
	}
}

func TestDisputeRequirements(t *testing.T) {
	c := &Case{ID: "c", Kind: KindDispute, Dispute: &DisputeClaim{USCC: "u"}}
	e := &Enterprise{RegisteredAddress: "广东省深圳市南山区科技园路1号", OperatingAddress: "广东省深圳市南山区科技园路1号", HasCorporateAccount: true}
	req := ComputeRequirements(e, c, nil, time.Now(), DefaultRules)
	want := []string{"business_license", "legal_rep_id_front", "legal_rep_id_back", "face_verification"}
	if strings.Join(req.CurrentlyDue, ",") != strings.Join(want, ",") || len(req.Errors) != 0 {
		t.Fatalf("requirements %+v, want %v due and no errors", req, want)
	}
	if f := FeeFor(KindDispute, "440300", DefaultRules); f.PayableFen != 0 {
		t.Errorf("a dispute costs %d", f.PayableFen)
	}
}
