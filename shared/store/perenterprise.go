package store

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"microcert/shared/domain"
)

// Items kept per enterprise across its cases, in the enterprise's own
// partition and inside the range GetEnterpriseState reads (A# .. B#~), so
// the rules they carry cost no extra read:
//
//	open-case slot   ENT#<entId>  B#OPEN#<subject>   which open case holds a type (or the profile)
//	deposit log      ENT#<entId>  A#DEPOSITS         micro-deposits started, lock cool-down (versioned)

const (
	skSlotPrefix   = "B#OPEN#"
	skDepositLog   = "A#DEPOSITS"
	attrSlotCaseID = "caseId"
)

func slotSK(subject string) string { return skSlotPrefix + subject }

// slotKeys are the keys of every open-case slot an enterprise can have.
func slotKeys(enterpriseID string) []map[string]types.AttributeValue {
	var keys []map[string]types.AttributeValue
	for _, sub := range domain.AllSlotSubjects() {
		keys = append(keys, itemKey(entPK(enterpriseID), slotSK(sub)))
	}
	return keys
}

type slotItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	Entity    string `dynamodbav:"entity"`
	Subject   string `dynamodbav:"subject"`
	CaseID    string `dynamodbav:"caseId"`
	CreatedAt string `dynamodbav:"createdAt,omitempty"`
}

// slotOps takes a slot (put, on condition that it is free or already this
// case's: a retried transaction takes it again) or releases it (delete, on
// the same condition). A slot another case holds fails like a stale
// version: the use case reads again and answers case_already_open.
func (s *Store) slotOps(w domain.CaseSlot) ([]op, error) {
	if w.EnterpriseID == "" || w.Subject == "" || w.CaseID == "" {
		return nil, internal("slot write without enterprise, subject or case")
	}
	cond := expression.AttributeNotExists(expression.Name(attrPK)).
		Or(expression.Name(attrSlotCaseID).Equal(expression.Value(w.CaseID)))
	if !w.Release {
		av, err := marshalItem(slotItem{PK: entPK(w.EnterpriseID), SK: slotSK(w.Subject), Entity: "slot",
			Subject: w.Subject, CaseID: w.CaseID})
		if err != nil {
			return nil, err
		}
		o, err := s.putIf(av, cond, domain.ErrVersionConflict, true)
		if err != nil {
			return nil, err
		}
		return []op{o}, nil
	}
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return nil, internal("build slot release: %w", err)
	}
	return []op{{item: types.TransactWriteItem{Delete: &types.Delete{
		TableName:                 aws.String(s.table),
		Key:                       itemKey(entPK(w.EnterpriseID), slotSK(w.Subject)),
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	}}, onFail: domain.ErrVersionConflict, versioned: true}}, nil
}

type depositStartItem struct {
	At           time.Time `dynamodbav:"at"`
	CaseID       string    `dynamodbav:"caseId"`
	AccountLast4 string    `dynamodbav:"accountLast4"`
}

type depositLogItem struct {
	PK          string             `dynamodbav:"pk"`
	SK          string             `dynamodbav:"sk"`
	Entity      string             `dynamodbav:"entity"`
	Starts      []depositStartItem `dynamodbav:"starts"`
	LockedUntil *time.Time         `dynamodbav:"lockedUntil,omitempty"`
	Version     int                `dynamodbav:"version"`
}

func toDepositLogItem(l *domain.DepositLog) depositLogItem {
	it := depositLogItem{PK: entPK(l.EnterpriseID), SK: skDepositLog, Entity: "depositLog",
		LockedUntil: utcp(l.LockedUntil), Version: l.Version, Starts: []depositStartItem{}}
	for _, x := range l.Starts {
		it.Starts = append(it.Starts, depositStartItem{At: x.At.UTC(), CaseID: x.CaseID, AccountLast4: x.AccountLast4})
	}
	return it
}

func (it depositLogItem) domain(enterpriseID string) *domain.DepositLog {
	l := &domain.DepositLog{EnterpriseID: enterpriseID, LockedUntil: it.LockedUntil, Version: it.Version}
	for _, x := range it.Starts {
		l.Starts = append(l.Starts, domain.DepositStart{At: x.At, CaseID: x.CaseID, AccountLast4: x.AccountLast4})
	}
	return l
}

func (s *Store) depositLogOps(w domain.DepositLogWrite) ([]op, error) {
	if w.Log == nil || w.Log.EnterpriseID == "" {
		return nil, internal("deposit log write without enterprise")
	}
	return s.entityOps("deposit log", toDepositLogItem(w.Log), w.Create, w.Log.Version, w.ExpectVersion)
}

// GetEnterpriseState reads the profile, the certifications, the open-case
// slots, the deposit log, the members and the invitations of an enterprise
// with one strongly consistent Query (pk ENT#<id>, sk between A# and B#~).
func (s *Store) GetEnterpriseState(ctx context.Context, id string) (*domain.EnterpriseState, error) {
	kc := expression.Key(attrPK).Equal(expression.Value(entPK(id))).
		And(expression.Key(attrSK).Between(expression.Value("A#"), expression.Value("B#"+hi)))
	items, err := s.queryAll(ctx, &dynamodb.QueryInput{ConsistentRead: aws.Bool(true)}, kc)
	if err != nil {
		return nil, err
	}
	return s.stateOf(id, items)
}

// GetEnterpriseStatesAs reads the states of several enterprises as userID
// sees them, with one strongly consistent BatchGetItem of the keys every
// enterprise has: the profile, the deposit log, each certification type,
// each open-case slot and userID's own membership. Other members and the
// invitations are not read (staff acting on a case need neither). An
// enterprise without a profile is not found.
func (s *Store) GetEnterpriseStatesAs(ctx context.Context, userID string, ids ...string) (map[string]*domain.EnterpriseState, error) {
	var keys []map[string]types.AttributeValue
	for _, id := range ids {
		pk := entPK(id)
		keys = append(keys, itemKey(pk, skProfile), itemKey(pk, skDepositLog))
		for _, t := range domain.CertTypes {
			keys = append(keys, itemKey(pk, certSK(t)))
		}
		keys = append(keys, slotKeys(id)...)
		if userID != "" {
			keys = append(keys, itemKey(pk, memberSK(userID)))
		}
	}
	items, err := s.batchGet(ctx, keys, true)
	if err != nil {
		return nil, err
	}
	byEnt := map[string][]map[string]types.AttributeValue{}
	for _, av := range items {
		pk := stringAttr(av, attrPK)
		byEnt[pk] = append(byEnt[pk], av)
	}
	out := make(map[string]*domain.EnterpriseState, len(ids))
	for _, id := range ids {
		st, err := s.stateOf(id, byEnt[entPK(id)])
		if err != nil {
			return nil, err
		}
		out[id] = st
	}
	return out, nil
}

// stateOf decodes the items of an enterprise's partition (A# .. B#~).
func (s *Store) stateOf(id string, items []map[string]types.AttributeValue) (*domain.EnterpriseState, error) {
	st := &domain.EnterpriseState{OpenCases: map[string]string{}}
	now := s.clock.Now()
	for _, av := range items {
		sk := stringAttr(av, attrSK)
		var err error
		switch {
		case sk == skProfile:
			st.Enterprise, err = ref(decode(av, "enterprise", enterpriseItem.domain))
		case strings.HasPrefix(sk, skCertPrefix):
			var c domain.Certification
			if c, err = decode(av, "certification", certificationItem.domain); err == nil {
				st.Certifications = append(st.Certifications, c)
			}
		case strings.HasPrefix(sk, skSlotPrefix):
			st.OpenCases[strings.TrimPrefix(sk, skSlotPrefix)] = stringAttr(av, attrSlotCaseID)
		case sk == skDepositLog:
			st.Deposits, err = decode(av, "deposit log", func(it depositLogItem) *domain.DepositLog { return it.domain(id) })
		case strings.HasPrefix(sk, skMemberPrefix):
			var m domain.Member
			if m, err = decode(av, "member", memberItem.domain); err == nil {
				st.Members = append(st.Members, m)
			}
		case strings.HasPrefix(sk, skInvitePrefix):
			var it invitationItem
			// An invitation whose TTL passed is gone, whether or not
			// DynamoDB deleted it yet.
			if it, err = decode(av, "invitation", identity[invitationItem]); err == nil && now.Unix() <= it.TTL {
				st.Invitations = append(st.Invitations, it.domain())
			}
		}
		if err != nil {
			return nil, err
		}
	}
	if st.Enterprise == nil {
		return nil, domain.ErrNotFound
	}
	sort.SliceStable(st.Certifications, func(i, j int) bool {
		return certRank(st.Certifications[i].Type) < certRank(st.Certifications[j].Type)
	})
	domain.SortMembers(st.Members)
	sort.SliceStable(st.Invitations, func(i, j int) bool { return st.Invitations[i].CreatedAt.After(st.Invitations[j].CreatedAt) })
	return st, nil
}

// GetEnterprise reads the profile and the certifications (see
// GetEnterpriseState).
func (s *Store) GetEnterprise(ctx context.Context, id string) (*domain.Enterprise, []domain.Certification, error) {
	st, err := s.GetEnterpriseState(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	return st.Enterprise, st.Certifications, nil
}
