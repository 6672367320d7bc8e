package domain

import (
	"crypto/rand"
	"crypto/sha256"
	"sort"
	"strings"
	"time"
)

// People of an enterprise. Several users work for one enterprise, each as a
// member with one role; what a role may do is the permission table below,
// and Authorize is the one rule every use case applies before it reads or
// writes an enterprise's objects.

// MemberRole is a user's role in one enterprise.
type MemberRole string

const (
	// MemberOwner: exactly one per enterprise; may do everything, and alone
	// may hand ownership to another member.
	MemberOwner MemberRole = "owner"
	// MemberAdmin manages members and invitations, and may do what an
	// operator does.
	MemberAdmin MemberRole = "admin"
	// MemberOperator prepares and submits cases: uploads, verifications,
	// micro-deposits, payments; corrects the profile.
	MemberOperator MemberRole = "operator"
	// MemberViewer reads.
	MemberViewer MemberRole = "viewer"
	// MemberAgent is a service agent (服务商) the enterprise invited: it
	// prepares the cases opened via it (Case.AgentID) and reads the
	// enterprise, and can never verify the legal representative.
	MemberAgent MemberRole = "agent"
)

// MemberRoles lists every role, strongest first.
var MemberRoles = []MemberRole{MemberOwner, MemberAdmin, MemberOperator, MemberViewer, MemberAgent}

// Valid reports whether r is a known role.
func (r MemberRole) Valid() bool {
	for _, x := range MemberRoles {
		if x == r {
			return true
		}
	}
	return false
}

// Grantable reports whether an invitation or a role change may give r:
// every role but owner, which only a transfer hands on.
func (r MemberRole) Grantable() bool { return r.Valid() && r != MemberOwner }

// Permission is something a member may be allowed to do.
type Permission string

const (
	// PermRead: the profile, its cases, documents, notifications, members
	// and history.
	PermRead Permission = "read"
	// PermPrepare: open cases and work on them (uploads, explanation,
	// micro-deposit, payment, submit, withdraw).
	PermPrepare Permission = "prepare"
	// PermVerifyLegalRep: start the legal representative's face or QR
	// session (the legal rep then verifies in person).
	PermVerifyLegalRep Permission = "verify_legal_rep"
	// PermEditProfile: correct the profile.
	PermEditProfile Permission = "edit_profile"
	// PermEndCertification: cancel a certification.
	PermEndCertification Permission = "end_certification"
	// PermManageMembers: invitations, role changes, removals.
	PermManageMembers Permission = "manage_members"
	// PermTransferOwnership: hand ownership to another member.
	PermTransferOwnership Permission = "transfer_ownership"
	// PermIntegrations: webhook endpoints (their URLs and secrets) and
	// their deliveries.
	PermIntegrations Permission = "integrations"
)

// rolePermissions is THE table of what each member role may do.
var rolePermissions = map[MemberRole][]Permission{
	MemberOwner: {PermRead, PermPrepare, PermVerifyLegalRep, PermEditProfile, PermEndCertification,
		PermManageMembers, PermTransferOwnership, PermIntegrations},
	MemberAdmin:    {PermRead, PermPrepare, PermVerifyLegalRep, PermEditProfile, PermEndCertification, PermManageMembers, PermIntegrations},
	MemberOperator: {PermRead, PermPrepare, PermVerifyLegalRep, PermEditProfile},
	MemberViewer:   {PermRead},
	MemberAgent:    {PermRead, PermPrepare},
}

// Can reports whether role r has permission p.
func (r MemberRole) Can(p Permission) bool {
	for _, x := range rolePermissions[r] {
		if x == p {
			return true
		}
	}
	return false
}

// RolesWith lists the roles that have permission p, strongest first.
func RolesWith(p Permission) []MemberRole {
	var out []MemberRole
	for _, r := range MemberRoles {
		if r.Can(p) {
			out = append(out, r)
		}
	}
	return out
}

// Member is a user's membership of an enterprise.
type Member struct {
	EnterpriseID string
	UserID       string
	Role         MemberRole
	// Label is how the enterprise names the person (e.g. 财务 王五), set
	// with the invitation; not verified.
	Label     string
	InvitedBy string
	JoinedAt  time.Time
	UpdatedAt time.Time
	Version   int
	// Notify: the member's choices for WeChat and SMS notifications.
	Notify NotifyPrefs
}

// Member returns userID's membership of the enterprise, nil when the user
// is not a member.
func (st *EnterpriseState) Member(userID string) *Member {
	if st == nil || userID == "" {
		return nil
	}
	for i := range st.Members {
		if st.Members[i].UserID == userID {
			return &st.Members[i]
		}
	}
	return nil
}

// Errors of membership.
var (
	// ErrNotCaseAgent: an agent working on a case another agent (or nobody)
	// prepares.
	ErrNotCaseAgent = E(KindForbidden, "not_case_agent",
		"服务商只能处理指定由其代办的申请。", "A service agent may only work on the cases it was named to prepare.")
	// ErrAgentCannotVerify: the legal rep's face or QR verification is the
	// legal rep's own act; an agent can never start it for them.
	ErrAgentCannotVerify = E(KindForbidden, "agent_cannot_verify",
		"法定代表人核验须由法定代表人本人发起和完成，服务商不能代为核验。请企业成员（非服务商）为法定代表人发起核验。",
		"The legal representative verifies in person: a service agent cannot start or pass it for them. A member of the enterprise (not the agent) starts it for the legal representative.")
)

// errInsufficientRole answers a member whose role lacks the permission.
func errInsufficientRole(r MemberRole, p Permission) *Error {
	allowed := make([]string, 0, len(MemberRoles))
	for _, x := range RolesWith(p) {
		allowed = append(allowed, string(x))
	}
	return E(KindForbidden, "insufficient_role",
		"您在该企业的角色无权执行此操作。", "Your role in this enterprise does not allow this.").
		With("memberRole", string(r)).With("allowedRoles", allowed)
}

// ErrEnterpriseFrozen answers a write on a frozen profile.
func ErrEnterpriseFrozen(reason string) *Error {
	return E(KindConflict, "enterprise_frozen",
		"该企业资料已冻结，只能查看。", "This enterprise profile is frozen: it can be read, not worked on.").
		With("frozenReason", reason)
}

// Authorize is the one rule of access to an enterprise's objects: whether
// by may do p on the enterprise of st (and on its case c, when the action
// is about a case). It returns by with MemberRole set to by's role there.
//   - A member may do what the role allows (403 insufficient_role
//     otherwise). An agent works only on the cases naming it (403
//     not_case_agent) and never verifies the legal rep (403
//     agent_cannot_verify).
//   - A reviewer or admin who is not a member may read (403 forbidden for
//     anything else); the review routes check their own rules.
//   - Anyone else gets 404, as if the enterprise did not exist.
//   - A frozen profile can be read and its members (and owner) managed;
//     while its dispute is pending, the dispute case can be worked on and
//     the profile corrected; nothing else (409 enterprise_frozen).
func Authorize(by Actor, st *EnterpriseState, c *Case, p Permission) (Actor, error) {
	m := st.Member(by.UserID)
	if m == nil {
		switch {
		case !by.CanReview():
			return by, ErrNotFound
		case p != PermRead:
			return by, ErrForbidden
		}
		by.MemberRole = ""
		return by, nil
	}
	by.MemberRole = m.Role
	switch {
	case m.Role == MemberAgent && p == PermVerifyLegalRep:
		return by, ErrAgentCannotVerify
	case !m.Role.Can(p):
		return by, errInsufficientRole(m.Role, p)
	case m.Role == MemberAgent && c != nil && p != PermRead && c.AgentID != by.UserID:
		return by, ErrNotCaseAgent
	}
	if e := st.Enterprise; e.Frozen() && !frozenAllows(e, c, p) {
		return by, ErrEnterpriseFrozen(e.FrozenReason)
	}
	return by, nil
}

// frozenAllows says what a frozen profile still allows: reading, managing
// its members and owner, and while its dispute is pending, the dispute
// case and corrections of the profile the dispute is judged on.
func frozenAllows(e *Enterprise, c *Case, p Permission) bool {
	switch p {
	case PermRead, PermManageMembers, PermTransferOwnership:
		return true
	}
	if e.FrozenReason != FrozenDisputePending {
		return false
	}
	return p == PermEditProfile || (c != nil && c.Kind == KindDispute)
}

// ReadCheck is Authorize(by, ..., PermRead) for a read authorized from an
// object alone, without reading the enterprise: nil for staff (reviewers
// and admins read everything), else the condition that by is a member of
// the enterprise with a role that may read, for the store to check when it
// writes the read's audit.
func ReadCheck(by Actor, enterpriseID string) *MemberCheck {
	if by.CanReview() {
		return nil
	}
	return &MemberCheck{EnterpriseID: enterpriseID, UserID: by.UserID, Roles: RolesWith(PermRead)}
}

// ValidUserID reports whether s can be a user id (a token's sub): 1-128
// printable characters without a slash.
func ValidUserID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, r := range s {
		if r < 0x21 || r == 0x7f || r == '/' {
			return false
		}
	}
	return true
}

// MemberLimit is how many members an enterprise may have (each member is
// read with the enterprise's state, so the count is bounded).
const MemberLimit = 50

// ErrMemberLimit answers an invitation or a redemption past MemberLimit.
var ErrMemberLimit = E(KindConflict, "member_limit_reached",
	"企业成员数量已达上限。", "The enterprise has the most members it may have.").With("limit", MemberLimit)

// SortMembers orders members owner first, then by joining time.
func SortMembers(ms []Member) {
	sort.SliceStable(ms, func(i, j int) bool {
		oi, oj := ms[i].Role == MemberOwner, ms[j].Role == MemberOwner
		if oi != oj {
			return oi
		}
		if !ms[i].JoinedAt.Equal(ms[j].JoinedAt) {
			return ms[i].JoinedAt.Before(ms[j].JoinedAt)
		}
		return ms[i].UserID < ms[j].UserID
	})
}

// MemberWrite creates, updates (under its version) or deletes one
// membership.
type MemberWrite struct {
	Member        *Member
	Create        bool
	Delete        bool
	ExpectVersion int
}

// OwnerMembership is the creation of the owner's membership of profile e,
// joined when the profile was created: written with a new profile, and by
// the backfill for a profile created before members existed.
func OwnerMembership(e *Enterprise) MemberWrite {
	return MemberWrite{Create: true, Member: &Member{EnterpriseID: e.ID, UserID: e.OwnerID,
		Role: MemberOwner, JoinedAt: e.CreatedAt, UpdatedAt: e.CreatedAt, Version: 1}}
}

// SaveMember returns the write that turns prev into next.
func SaveMember(prev *Member, next Member) MemberWrite {
	next.Version = NextVersion(prev.Version)
	return MemberWrite{Member: &next, ExpectVersion: prev.Version}
}

// RemoveMember returns the write that deletes m (as read).
func RemoveMember(m *Member) MemberWrite {
	cp := *m
	return MemberWrite{Member: &cp, Delete: true, ExpectVersion: m.Version}
}

// MemberCheck asks a Change to hold only while UserID is a member of
// EnterpriseID with one of Roles (a condition, no write): a read
// authorized by membership alone (a document download) commits its audit
// under it, so a removed member's read fails instead of being recorded.
type MemberCheck struct {
	EnterpriseID string
	UserID       string
	Roles        []MemberRole
}

// InvitationStatus of an invitation.
type InvitationStatus string

const (
	InvitationPending  InvitationStatus = "pending"
	InvitationAccepted InvitationStatus = "accepted"
	InvitationRevoked  InvitationStatus = "revoked"
	// InvitationExpired is shown, never stored: pending past ExpiresAt.
	InvitationExpired InvitationStatus = "expired"
)

// Invitation lets one user join an enterprise with a role. Its code is
// shown once, when it is made; only the invitation's id, the SHA-256 of
// the secret part of the code, is stored, so whoever reads the table or
// the listing cannot redeem it.
type Invitation struct {
	ID           string
	EnterpriseID string
	Role         MemberRole
	Label        string
	Status       InvitationStatus
	CreatedBy    string
	CreatedAt    time.Time
	ExpiresAt    time.Time
	AcceptedBy   string
	AcceptedAt   *time.Time
	Version      int
}

// StatusAt is the invitation's status at now (pending past its expiry is
// expired).
func (i *Invitation) StatusAt(now time.Time) InvitationStatus {
	if i.Status == InvitationPending && !now.Before(i.ExpiresAt) {
		return InvitationExpired
	}
	return i.Status
}

// InvitationLimit is how many invitations an enterprise may hold at once,
// whatever their status (each is read with the enterprise's state, and the
// store deletes them some time after they expire).
const InvitationLimit = 50

// ErrInvitationLimit answers an invitation past InvitationLimit.
var ErrInvitationLimit = E(KindConflict, "invitation_limit_reached",
	"近期邀请过多，请撤销不用的邀请或等待过期后再试。",
	"Too many recent invitations; revoke unused ones or wait for them to expire.").With("limit", InvitationLimit)

// Invitation codes are "<enterpriseId>.<secret>": the enterprise to look
// in, and 32 characters (160 bits) from crypto/rand in the id alphabet.
// The invitation's id is derived from the secret (InvitationIDOf).
const invitationSecretLen = 32

// NewInvitationSecret returns a fresh secret and the id of its invitation.
func NewInvitationSecret() (secret, id string) {
	var b [invitationSecretLen]byte
	_, _ = rand.Read(b[:])
	out := make([]byte, invitationSecretLen)
	for i, x := range b {
		out[i] = idAlphabet[x&31]
	}
	secret = string(out)
	return secret, InvitationIDOf(secret)
}

// InvitationIDOf is the id of the invitation a secret redeems: the first
// 128 bits of its SHA-256 in the id format (a valid id, so it can appear
// in paths), from which the secret cannot be recovered.
func InvitationIDOf(secret string) string {
	h := sha256.Sum256([]byte("microcert-invitation\x00" + secret))
	var b [16]byte
	copy(b[:], h[:16])
	return encodeID(b)
}

// InvitationCode is what the inviter hands to the person invited.
func InvitationCode(enterpriseID, secret string) string { return enterpriseID + "." + secret }

// ParseInvitationCode splits a code; ok is false for anything that is not
// a code this service made.
func ParseInvitationCode(code string) (enterpriseID, secret string, ok bool) {
	ent, sec, found := strings.Cut(strings.TrimSpace(code), ".")
	if !found || !ValidID(ent) || len(sec) != invitationSecretLen {
		return "", "", false
	}
	for i := 0; i < len(sec); i++ {
		if !isIDChar(sec[i]) {
			return "", "", false
		}
	}
	return ent, sec, true
}

// InvitationWrite creates or updates (under its version) one invitation.
type InvitationWrite struct {
	Invitation    *Invitation
	Create        bool
	ExpectVersion int
}

// ErrInvitationInvalid answers a code that is malformed, unknown, used,
// revoked or expired: one answer for all, so a code cannot be probed.
var ErrInvitationInvalid = E(KindNotFound, "invitation_invalid",
	"邀请码无效、已使用、已撤销或已过期。", "The invitation code is invalid, used, revoked or expired.")

// Notification kinds of membership.
const (
	NoticeMemberInvited  = "member_invited"
	NoticeMemberJoined   = "member_joined"
	NoticeMemberRemoved  = "member_removed"
	NoticeMemberRole     = "member_role_changed"
	NoticeOwnershipMoved = "ownership_transferred"
)

// RoleName is the display name of a member role.
func RoleName(r MemberRole) Text {
	switch r {
	case MemberOwner:
		return Text{Zh: "所有者", En: "owner"}
	case MemberAdmin:
		return Text{Zh: "管理员", En: "admin"}
	case MemberOperator:
		return Text{Zh: "经办人", En: "operator"}
	case MemberViewer:
		return Text{Zh: "查看者", En: "viewer"}
	case MemberAgent:
		return Text{Zh: "服务商", En: "service agent"}
	}
	return Text{Zh: string(r), En: string(r)}
}

// MemberNotice is the enterprise's notification of a membership event.
// who names the member concerned (their label, or their user id).
func MemberNotice(kind, who string, role MemberRole, by string) (title, body Text) {
	rn := RoleName(role)
	switch kind {
	case NoticeMemberInvited:
		return Text{Zh: "已发出成员邀请", En: "Member invited"},
			Text{Zh: "用户 " + by + " 邀请了一位新成员（" + rn.Zh + "）：" + who + "。邀请码在有效期内只能使用一次。",
				En: "User " + by + " invited a new member (" + rn.En + "): " + who + ". The code can be used once, until it expires."}
	case NoticeMemberJoined:
		return Text{Zh: "新成员已加入", En: "Member joined"},
			Text{Zh: who + " 已接受邀请，以" + rn.Zh + "身份加入企业。", En: who + " accepted the invitation and joined as " + rn.En + "."}
	case NoticeMemberRemoved:
		return Text{Zh: "成员已移除", En: "Member removed"},
			Text{Zh: "成员 " + who + "（" + rn.Zh + "）已被 " + by + " 移出企业，不能再查看或办理本企业的事项。",
				En: "Member " + who + " (" + rn.En + ") was removed by " + by + " and can no longer see or work on this enterprise."}
	case NoticeMemberRole:
		return Text{Zh: "成员角色已变更", En: "Member role changed"},
			Text{Zh: "成员 " + who + " 的角色已由 " + by + " 改为" + rn.Zh + "。", En: "Member " + who + "'s role was changed to " + rn.En + " by " + by + "."}
	case NoticeOwnershipMoved:
		return Text{Zh: "企业所有者已变更", En: "Ownership transferred"},
			Text{Zh: by + " 已将企业所有权转交给 " + who + "。", En: by + " transferred the ownership of the enterprise to " + who + "."}
	}
	return Text{Zh: kind, En: kind}, Text{Zh: who, En: who}
}

// MemberName is how notifications name a member: their label, else their
// user id.
func (m *Member) MemberName() string {
	if m == nil {
		return ""
	}
	if l := strings.TrimSpace(m.Label); l != "" {
		return l + " (" + m.UserID + ")"
	}
	return m.UserID
}
