package certsvc

import (
	"context"
	"strings"
	"time"

	"microcert/shared/domain"
	"microcert/shared/optimistic"
)

// Members of an enterprise: invitations (a code, single use, 7 days),
// role changes, removals and the owner's transfer. Each use case reads the
// enterprise's state (members and invitations included), authorizes the
// caller (domain.Authorize), and writes its changes with a history entry
// under the enterprise (who, as which role) and a notification, in one
// transaction under the versions read.

// maxLabelChars bounds a member's label.
const maxLabelChars = 50

// InvitationInput asks for an invitation.
type InvitationInput struct {
	Role  domain.MemberRole
	Label string // optional: how the enterprise names the person
}

// NewInvitation is an invitation as made: its code is shown this once.
type NewInvitation struct {
	Invitation *domain.Invitation
	Code       string
}

// ListMembers lists the enterprise's members, owner first.
func (s *Service) ListMembers(ctx context.Context, by domain.Actor, enterpriseID string) ([]domain.Member, error) {
	st, _, err := s.enterpriseAs(ctx, by, enterpriseID, domain.PermRead)
	if err != nil {
		return nil, err
	}
	if st.Members == nil {
		return []domain.Member{}, nil
	}
	return st.Members, nil
}

// errInvalidRole answers a role an invitation or a role change cannot give.
func errInvalidRole() error {
	return invalidField("role", "invalid_role",
		"role 必须是 admin、operator、viewer 或 agent（所有者只能通过转让产生）。",
		"role must be admin, operator, viewer or agent (ownership is only transferred).")
}

// CreateInvitation makes an invitation for a role (owners and admins):
// the code, shown only in this answer, lets one signed-in user join within
// rules.InvitationTTL.
func (s *Service) CreateInvitation(ctx context.Context, by domain.Actor, enterpriseID string, in InvitationInput) (*NewInvitation, error) {
	if !in.Role.Grantable() {
		return nil, errInvalidRole()
	}
	label, err := memberLabel(in.Label)
	if err != nil {
		return nil, err
	}
	var out *NewInvitation
	err = optimistic.Retry(ctx, func(ctx context.Context) error {
		st, as, err := s.enterpriseAs(ctx, by, enterpriseID, domain.PermManageMembers)
		if err != nil {
			return err
		}
		switch {
		case len(st.Invitations) >= domain.InvitationLimit:
			return domain.ErrInvitationLimit
		case len(st.Members) >= domain.MemberLimit:
			return domain.ErrMemberLimit
		}
		now := s.clock.Now()
		secret, id := domain.NewInvitationSecret()
		inv := &domain.Invitation{ID: id, EnterpriseID: enterpriseID, Role: in.Role, Label: label,
			Status: domain.InvitationPending, CreatedBy: as.UserID, CreatedAt: now,
			ExpiresAt: now.Add(s.rules.InvitationTTL), Version: 1}
		title, body := domain.MemberNotice(domain.NoticeMemberInvited, nameOr(label, "("+string(in.Role)+")"), in.Role, as.UserID)
		ch := &domain.Change{
			Invitations:   []domain.InvitationWrite{{Invitation: inv, Create: true}},
			History:       []domain.HistoryRecord{{EnterpriseID: enterpriseID, Entry: domain.NewHistoryEntry("invitation:"+id, "", string(in.Role), as, now, nil, label)}},
			Notifications: []domain.Notification{memberNotification(enterpriseID, domain.NoticeMemberInvited, "", title, body, now)},
		}
		if err := s.store.Commit(ctx, ch); err != nil {
			return err
		}
		out = &NewInvitation{Invitation: inv, Code: domain.InvitationCode(enterpriseID, secret)}
		return nil
	})
	return out, err
}

// ListInvitations lists the enterprise's invitations, newest first
// (owners and admins); codes are never shown again.
func (s *Service) ListInvitations(ctx context.Context, by domain.Actor, enterpriseID string) ([]domain.Invitation, error) {
	st, _, err := s.enterpriseAs(ctx, by, enterpriseID, domain.PermManageMembers)
	if err != nil {
		return nil, err
	}
	if st.Invitations == nil {
		return []domain.Invitation{}, nil
	}
	return st.Invitations, nil
}

// RevokeInvitation withdraws a pending invitation (owners and admins); an
// invitation already used, revoked or expired is 409 invitation_not_pending.
func (s *Service) RevokeInvitation(ctx context.Context, by domain.Actor, enterpriseID, invitationID string) (*domain.Invitation, error) {
	if !domain.ValidID(invitationID) {
		return nil, domain.ErrNotFound
	}
	var out *domain.Invitation
	err := optimistic.Retry(ctx, func(ctx context.Context) error {
		st, as, err := s.enterpriseAs(ctx, by, enterpriseID, domain.PermManageMembers)
		if err != nil {
			return err
		}
		cur := findInvitation(st, invitationID)
		if cur == nil {
			return domain.ErrNotFound
		}
		now := s.clock.Now()
		if st := cur.StatusAt(now); st != domain.InvitationPending {
			return domain.E(domain.KindConflict, "invitation_not_pending",
				"该邀请已使用、已撤销或已过期。", "The invitation was already used, revoked or expired.").With("invitationStatus", string(st))
		}
		next := *cur
		next.Status = domain.InvitationRevoked
		next.Version = domain.NextVersion(cur.Version)
		ch := &domain.Change{
			Invitations: []domain.InvitationWrite{{Invitation: &next, ExpectVersion: cur.Version}},
			History: []domain.HistoryRecord{{EnterpriseID: enterpriseID, Entry: domain.NewHistoryEntry("invitation:"+cur.ID,
				string(domain.InvitationPending), string(domain.InvitationRevoked), as, now, nil, "")}},
		}
		if err := s.store.Commit(ctx, ch); err != nil {
			return err
		}
		out = &next
		return nil
	})
	return out, err
}

// RedeemInvitation makes the signed-in caller a member with the
// invitation's role. Any code that is malformed, unknown, used, revoked
// or expired is one answer, 404 invitation_invalid, so codes cannot be
// probed; a caller already a member is 409 already_member. One read (the
// enterprise's state, which holds its invitations) and one transaction,
// which takes the invitation under its version: of two racing
// redemptions one wins.
func (s *Service) RedeemInvitation(ctx context.Context, by domain.Actor, code string) (*domain.Member, error) {
	enterpriseID, secret, ok := domain.ParseInvitationCode(code)
	if !ok {
		return nil, domain.ErrInvitationInvalid
	}
	id := domain.InvitationIDOf(secret)
	var out *domain.Member
	err := optimistic.Retry(ctx, func(ctx context.Context) error {
		st, err := s.store.GetEnterpriseState(ctx, enterpriseID)
		if domain.IsKind(err, domain.KindNotFound) {
			return domain.ErrInvitationInvalid
		}
		if err != nil {
			return err
		}
		now := s.clock.Now()
		cur := findInvitation(st, id)
		if cur == nil || cur.StatusAt(now) != domain.InvitationPending {
			return domain.ErrInvitationInvalid
		}
		if m := st.Member(by.UserID); m != nil {
			return domain.E(domain.KindConflict, "already_member", "您已是该企业的成员。", "You are already a member of this enterprise.").
				With("memberRole", string(m.Role))
		}
		if len(st.Members) >= domain.MemberLimit {
			return domain.ErrMemberLimit
		}
		m := &domain.Member{EnterpriseID: enterpriseID, UserID: by.UserID, Role: cur.Role, Label: cur.Label,
			InvitedBy: cur.CreatedBy, JoinedAt: now, UpdatedAt: now, Version: 1}
		used := *cur
		used.Status, used.AcceptedBy, used.AcceptedAt = domain.InvitationAccepted, by.UserID, &now
		used.Version = domain.NextVersion(cur.Version)
		as := by
		as.MemberRole = cur.Role
		title, body := domain.MemberNotice(domain.NoticeMemberJoined, m.MemberName(), m.Role, cur.CreatedBy)
		ch := &domain.Change{
			Members:     []domain.MemberWrite{{Member: m, Create: true}},
			Invitations: []domain.InvitationWrite{{Invitation: &used, ExpectVersion: cur.Version}},
			History: []domain.HistoryRecord{{EnterpriseID: enterpriseID, Entry: domain.NewHistoryEntry("member:"+by.UserID,
				"", string(m.Role), as, now, []string{"invitation_accepted"}, "invitation "+cur.ID)}},
			Notifications: []domain.Notification{memberNotification(enterpriseID, domain.NoticeMemberJoined, by.UserID, title, body, now)},
		}
		if err := s.store.Commit(ctx, ch); err != nil {
			return err
		}
		out = m
		return nil
	})
	return out, err
}

// ChangeMemberRole gives a member another role (owners and admins). The
// owner's role only changes by a transfer (409 owner_role_fixed). version,
// when sent, must be the member's stored one.
func (s *Service) ChangeMemberRole(ctx context.Context, by domain.Actor, enterpriseID, userID string, role domain.MemberRole, version *int) (*domain.Member, error) {
	if !domain.ValidUserID(userID) {
		return nil, domain.ErrNotFound
	}
	if !role.Grantable() {
		return nil, errInvalidRole()
	}
	var out *domain.Member
	err := optimistic.Retry(ctx, func(ctx context.Context) error {
		st, as, err := s.enterpriseAs(ctx, by, enterpriseID, domain.PermManageMembers)
		if err != nil {
			return err
		}
		cur := st.Member(userID)
		if cur == nil {
			return domain.ErrNotFound
		}
		if version != nil && *version != cur.Version {
			return optimistic.Stale(cur.Version)
		}
		if cur.Role == domain.MemberOwner {
			return errOwnerFixed
		}
		if cur.Role == role {
			out = cur
			return nil
		}
		now := s.clock.Now()
		next := *cur
		next.Role, next.UpdatedAt = role, now
		w := domain.SaveMember(cur, next)
		title, body := domain.MemberNotice(domain.NoticeMemberRole, cur.MemberName(), role, as.UserID)
		ch := &domain.Change{
			Members: []domain.MemberWrite{w},
			History: []domain.HistoryRecord{{EnterpriseID: enterpriseID, Entry: domain.NewHistoryEntry("member:"+userID,
				string(cur.Role), string(role), as, now, nil, "")}},
			Notifications: []domain.Notification{memberNotification(enterpriseID, domain.NoticeMemberRole, userID, title, body, now)},
		}
		if err := s.store.Commit(ctx, ch); err != nil {
			return err
		}
		out = w.Member
		return nil
	})
	return out, err
}

// errOwnerFixed: the owner is never removed nor demoted; ownership is
// transferred first.
var errOwnerFixed = domain.E(domain.KindConflict, "owner_cannot_be_removed",
	"所有者不能被移除或改变角色，请先将所有权转让给其他成员。",
	"The owner can neither be removed nor change role: transfer the ownership to another member first.")

// RemoveMember ends a membership: owners and admins remove others, and any
// member may leave (remove themselves). The owner can never be removed
// (409 owner_cannot_be_removed): there is always exactly one.
func (s *Service) RemoveMember(ctx context.Context, by domain.Actor, enterpriseID, userID string) error {
	if !domain.ValidUserID(userID) {
		return domain.ErrNotFound
	}
	perm := domain.PermManageMembers
	if userID == by.UserID {
		perm = domain.PermRead
	}
	return optimistic.Retry(ctx, func(ctx context.Context) error {
		st, as, err := s.enterpriseAs(ctx, by, enterpriseID, perm)
		if err != nil {
			return err
		}
		cur := st.Member(userID)
		switch {
		case cur == nil:
			return domain.ErrNotFound
		case cur.Role == domain.MemberOwner:
			return errOwnerFixed
		}
		now := s.clock.Now()
		reason := "removed"
		if userID == by.UserID {
			reason = "left"
		}
		title, body := domain.MemberNotice(domain.NoticeMemberRemoved, cur.MemberName(), cur.Role, as.UserID)
		ch := &domain.Change{
			Members: []domain.MemberWrite{domain.RemoveMember(cur)},
			History: []domain.HistoryRecord{{EnterpriseID: enterpriseID, Entry: domain.NewHistoryEntry("member:"+userID,
				string(cur.Role), "", as, now, []string{reason}, "")}},
			Notifications: []domain.Notification{memberNotification(enterpriseID, domain.NoticeMemberRemoved, userID, title, body, now)},
		}
		return s.store.Commit(ctx, ch)
	})
}

// TransferOwnership makes another member the owner (the owner only); the
// former owner stays as an admin. The profile's owner and both
// memberships are written in one transaction under their versions.
// Service agents cannot own an enterprise (422 agent_cannot_own).
func (s *Service) TransferOwnership(ctx context.Context, by domain.Actor, enterpriseID, userID string) (*EnterpriseView, error) {
	if !domain.ValidUserID(userID) {
		return nil, invalidField("userId", "not_a_member", "userId 不是本企业的成员。", "userId is not a member of this enterprise.")
	}
	var out *EnterpriseView
	err := optimistic.Retry(ctx, func(ctx context.Context) error {
		st, as, err := s.enterpriseAs(ctx, by, enterpriseID, domain.PermTransferOwnership)
		if err != nil {
			return err
		}
		from, to := st.Member(as.UserID), st.Member(userID)
		switch {
		case to == nil:
			return invalidField("userId", "not_a_member", "userId 不是本企业的成员。", "userId is not a member of this enterprise.")
		case to.UserID == as.UserID:
			return invalidField("userId", "already_owner", "您已是所有者。", "You are the owner already.")
		case to.Role == domain.MemberAgent:
			return invalidField("userId", "agent_cannot_own", "服务商不能成为企业所有者。", "A service agent cannot own the enterprise.")
		}
		now := s.clock.Now()
		e := st.Enterprise
		next := *e
		next.OwnerID = to.UserID
		oldOwner, newOwner := *from, *to
		oldOwner.Role, oldOwner.UpdatedAt = domain.MemberAdmin, now
		newOwner.Role, newOwner.UpdatedAt = domain.MemberOwner, now
		title, body := domain.MemberNotice(domain.NoticeOwnershipMoved, to.MemberName(), domain.MemberOwner, as.UserID)
		ch := &domain.Change{
			Enterprises: []domain.EnterpriseWrite{domain.UpdateEnterprise(e, &next, now)},
			Members:     []domain.MemberWrite{domain.SaveMember(from, oldOwner), domain.SaveMember(to, newOwner)},
			History: []domain.HistoryRecord{
				{EnterpriseID: e.ID, Entry: domain.NewHistoryEntry("ownership", from.UserID, to.UserID, as, now, nil, "")},
				{EnterpriseID: e.ID, Entry: domain.NewHistoryEntry("member:"+from.UserID, string(domain.MemberOwner), string(domain.MemberAdmin), as, now, []string{"ownership_transferred"}, "")},
				{EnterpriseID: e.ID, Entry: domain.NewHistoryEntry("member:"+to.UserID, string(to.Role), string(domain.MemberOwner), as, now, []string{"ownership_transferred"}, "")},
			},
			Notifications: []domain.Notification{memberNotification(e.ID, domain.NoticeOwnershipMoved, to.UserID, title, body, now)},
		}
		if err := s.store.Commit(ctx, ch); err != nil {
			return err
		}
		out = &EnterpriseView{Enterprise: &next, Certifications: st.Certifications, MyRole: domain.MemberAdmin}
		return nil
	})
	return out, err
}

func findInvitation(st *domain.EnterpriseState, id string) *domain.Invitation {
	for i := range st.Invitations {
		if st.Invitations[i].ID == id {
			return &st.Invitations[i]
		}
	}
	return nil
}

func memberNotification(enterpriseID, kind, userID string, title, body domain.Text, now time.Time) domain.Notification {
	return domain.Notification{ID: domain.NewIDAt(now), EnterpriseID: enterpriseID, Kind: kind, Title: title, Body: body, CreatedAt: now,
		Subject: domain.NoticeSubject{UserID: userID}}
}

// memberLabel trims and checks an optional label.
func memberLabel(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	if f := textField("label", v, 1, maxLabelChars); f != nil {
		return "", fieldsError(f)
	}
	return v, nil
}

func nameOr(label, fallback string) string {
	if label != "" {
		return label
	}
	return fallback
}
