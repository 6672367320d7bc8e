package store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"microcert/shared/domain"
)

// People of an enterprise, in its partition and inside the range
// GetEnterpriseState reads (A# .. B#~), so every authorization decision is
// made from the one read a use case does anyway:
//
//	member       ENT#<entId>  A#MEMBER#<userId>   gsi1 MEMBER#<userId> / <joinedAt>#<entId> (a user's enterprises)
//	invitation   ENT#<entId>  A#INVITE#<invId>    ttl a day after it expires

const (
	skMemberPrefix = "A#MEMBER#"
	skInvitePrefix = "A#INVITE#"
	// invitationGrace is how long an invitation is kept after it expired
	// (its status stays readable for a day), before TTL deletes it.
	invitationGrace = 24 * time.Hour
)

func memberSK(userID string) string     { return skMemberPrefix + userID }
func memberGSI1PK(userID string) string { return "MEMBER#" + userID }
func inviteSK(id string) string         { return skInvitePrefix + id }

type memberItem struct {
	PK           string    `dynamodbav:"pk"`
	SK           string    `dynamodbav:"sk"`
	GSI1PK       string    `dynamodbav:"gsi1pk"`
	GSI1SK       string    `dynamodbav:"gsi1sk"`
	Entity       string    `dynamodbav:"entity"`
	EnterpriseID string    `dynamodbav:"enterpriseId"`
	UserID       string    `dynamodbav:"userId"`
	Role         string    `dynamodbav:"role"`
	Label        string    `dynamodbav:"label,omitempty"`
	InvitedBy    string    `dynamodbav:"invitedBy,omitempty"`
	JoinedAt     time.Time `dynamodbav:"joinedAt"`
	UpdatedAt    time.Time `dynamodbav:"updatedAt"`
	Version      int       `dynamodbav:"version"`
	// Notify holds the member's notification choices; its phone and
	// openid are personal data (never logged).
	Notify *notifyPrefsItem `dynamodbav:"notify,omitempty"`
}

func toMemberItem(m *domain.Member) memberItem {
	return memberItem{PK: entPK(m.EnterpriseID), SK: memberSK(m.UserID), GSI1PK: memberGSI1PK(m.UserID),
		GSI1SK: createdSK(m.JoinedAt, m.EnterpriseID), Entity: "member", EnterpriseID: m.EnterpriseID, UserID: m.UserID,
		Role: string(m.Role), Label: m.Label, InvitedBy: m.InvitedBy, JoinedAt: m.JoinedAt.UTC(), UpdatedAt: m.UpdatedAt.UTC(),
		Version: m.Version, Notify: toNotifyPrefs(m.Notify)}
}

func (it memberItem) domain() domain.Member {
	return domain.Member{EnterpriseID: it.EnterpriseID, UserID: it.UserID, Role: domain.MemberRole(it.Role), Label: it.Label,
		InvitedBy: it.InvitedBy, JoinedAt: it.JoinedAt, UpdatedAt: it.UpdatedAt, Version: it.Version, Notify: it.Notify.domain()}
}

// memberOps creates a membership (the user must not be a member yet:
// version_conflict otherwise, so of two racing redemptions one wins),
// replaces it under its version, or deletes it under its version.
func (s *Store) memberOps(w domain.MemberWrite) ([]op, error) {
	m := w.Member
	if m == nil || m.EnterpriseID == "" || m.UserID == "" || !m.Role.Valid() {
		return nil, internal("member write without enterprise, user or role")
	}
	if w.Delete {
		return s.versionedDelete("member", itemKey(entPK(m.EnterpriseID), memberSK(m.UserID)), w.ExpectVersion)
	}
	return s.entityOps("member", toMemberItem(m), w.Create, m.Version, w.ExpectVersion)
}

// versionedDelete deletes the item with key if its version is expect.
func (s *Store) versionedDelete(what string, key map[string]types.AttributeValue, expect int) ([]op, error) {
	cond := expression.Name("version").Equal(expression.Value(expect))
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return nil, internal("build %s delete: %w", what, err)
	}
	return []op{{item: types.TransactWriteItem{Delete: &types.Delete{
		TableName:                 aws.String(s.table),
		Key:                       key,
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	}}, onFail: domain.ErrVersionConflict, versioned: true}}, nil
}

// memberCheckOps is a ConditionCheck that the user is a member with one
// of the roles; it fails as not found (the read it guards is answered as
// if the object did not exist).
func (s *Store) memberCheckOps(c domain.MemberCheck) ([]op, error) {
	if c.EnterpriseID == "" || c.UserID == "" || len(c.Roles) == 0 {
		return nil, internal("member check without enterprise, user or roles")
	}
	roles := make([]expression.OperandBuilder, 0, len(c.Roles))
	for _, r := range c.Roles {
		roles = append(roles, expression.Value(string(r)))
	}
	cond := expression.Name("role").In(roles[0], roles[1:]...)
	o, err := s.checkOp(itemKey(entPK(c.EnterpriseID), memberSK(c.UserID)), cond, domain.ErrNotFound, false)
	if err != nil {
		return nil, err
	}
	return []op{o}, nil
}

type invitationItem struct {
	PK           string     `dynamodbav:"pk"`
	SK           string     `dynamodbav:"sk"`
	TTL          int64      `dynamodbav:"ttl"`
	Entity       string     `dynamodbav:"entity"`
	ID           string     `dynamodbav:"id"`
	EnterpriseID string     `dynamodbav:"enterpriseId"`
	Role         string     `dynamodbav:"role"`
	Label        string     `dynamodbav:"label,omitempty"`
	Status       string     `dynamodbav:"status"`
	CreatedBy    string     `dynamodbav:"createdBy"`
	CreatedAt    time.Time  `dynamodbav:"createdAt"`
	ExpiresAt    time.Time  `dynamodbav:"expiresAt"`
	AcceptedBy   string     `dynamodbav:"acceptedBy,omitempty"`
	AcceptedAt   *time.Time `dynamodbav:"acceptedAt,omitempty"`
	Version      int        `dynamodbav:"version"`
}

func toInvitationItem(i *domain.Invitation) invitationItem {
	return invitationItem{PK: entPK(i.EnterpriseID), SK: inviteSK(i.ID), TTL: epoch(i.ExpiresAt.Add(invitationGrace)),
		Entity: "invitation", ID: i.ID, EnterpriseID: i.EnterpriseID, Role: string(i.Role), Label: i.Label,
		Status: string(i.Status), CreatedBy: i.CreatedBy, CreatedAt: i.CreatedAt.UTC(), ExpiresAt: i.ExpiresAt.UTC(),
		AcceptedBy: i.AcceptedBy, AcceptedAt: utcp(i.AcceptedAt), Version: i.Version}
}

func (it invitationItem) domain() domain.Invitation {
	return domain.Invitation{ID: it.ID, EnterpriseID: it.EnterpriseID, Role: domain.MemberRole(it.Role), Label: it.Label,
		Status: domain.InvitationStatus(it.Status), CreatedBy: it.CreatedBy, CreatedAt: it.CreatedAt, ExpiresAt: it.ExpiresAt,
		AcceptedBy: it.AcceptedBy, AcceptedAt: it.AcceptedAt, Version: it.Version}
}

func (s *Store) invitationOps(w domain.InvitationWrite) ([]op, error) {
	i := w.Invitation
	if i == nil || i.ID == "" || i.EnterpriseID == "" {
		return nil, internal("invitation write without id or enterprise")
	}
	return s.entityOps("invitation", toInvitationItem(i), w.Create, i.Version, w.ExpectVersion)
}

// ListMemberships lists the enterprises userID is a member of, in the
// order joined (GSI1 MEMBER#<userId>; eventually consistent).
func (s *Store) ListMemberships(ctx context.Context, userID string, p domain.Page) ([]domain.Member, string, error) {
	spec := cursorSpec{index: indexGSI1, hashAttr: attrGSI1PK, hashValue: memberGSI1PK(userID), rangeAttr: attrGSI1SK,
		prefixes: map[string]string{attrPK: prefixEnt, attrSK: skMemberPrefix}}
	kc := expression.Key(attrGSI1PK).Equal(expression.Value(memberGSI1PK(userID)))
	items, next, err := s.queryPage(ctx, &dynamodb.QueryInput{IndexName: aws.String(indexGSI1)}, kc, spec, p)
	if err != nil {
		return nil, "", err
	}
	out, err := decodeAll(items, "member", memberItem.domain)
	return out, next, err
}

// ListEnterpriseHistory lists an enterprise's history (members,
// ownership, profile, USCC and certification transitions), newest first
// (pk ENT#<entId>, sk begins with H#, backwards).
func (s *Store) ListEnterpriseHistory(ctx context.Context, enterpriseID string, p domain.Page) ([]domain.HistoryEntry, string, error) {
	return newestFirst(ctx, s, enterpriseID, skHistPrefix, "history", p, historyItem.domain)
}
