package store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"microcert/shared/domain"
)

// enterpriseItem is the profile: pk ENT#<id>, sk A#PROFILE. A user's
// enterprises are listed through their memberships (member.go).
type enterpriseItem struct {
	PK                  string       `dynamodbav:"pk"`
	SK                  string       `dynamodbav:"sk"`
	Entity              string       `dynamodbav:"entity"`
	ID                  string       `dynamodbav:"id"`
	Name                string       `dynamodbav:"name"`
	USCC                string       `dynamodbav:"uscc"`
	LegalRep            legalRepItem `dynamodbav:"legalRep"`
	RegisteredAddress   string       `dynamodbav:"registeredAddress"`
	OperatingAddress    string       `dynamodbav:"operatingAddress"`
	HasCorporateAccount bool         `dynamodbav:"hasCorporateAccount"`
	OwnerID             string       `dynamodbav:"ownerId"`
	Status              string       `dynamodbav:"status,omitempty"`
	FrozenReason        string       `dynamodbav:"frozenReason,omitempty"`
	Version             int          `dynamodbav:"version"`
	CreatedAt           time.Time    `dynamodbav:"createdAt"`
	UpdatedAt           time.Time    `dynamodbav:"updatedAt"`
}

// usccItem claims a USCC for one enterprise: pk USCC#<uscc>, sk USCC. It is
// written with the profile, under attribute_not_exists, in one transaction.
// disputeCaseId names the dispute that holds the USCC's lock ("" when
// none); a won dispute moves enterpriseId to the claimant's profile.
type usccItem struct {
	PK            string     `dynamodbav:"pk"`
	SK            string     `dynamodbav:"sk"`
	Entity        string     `dynamodbav:"entity"`
	USCC          string     `dynamodbav:"uscc"`
	EnterpriseID  string     `dynamodbav:"enterpriseId"`
	DisputeCaseID string     `dynamodbav:"disputeCaseId,omitempty"`
	CreatedAt     time.Time  `dynamodbav:"createdAt"`
	TransferredAt *time.Time `dynamodbav:"transferredAt,omitempty"`
}

// itemKey is the primary key of an item.
func itemKey(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: pk},
		attrSK: &types.AttributeValueMemberS{Value: sk},
	}
}

func toEnterpriseItem(e *domain.Enterprise) enterpriseItem {
	return enterpriseItem{
		PK:                  entPK(e.ID),
		SK:                  skProfile,
		Entity:              "enterprise",
		ID:                  e.ID,
		Name:                e.Name,
		USCC:                e.USCC,
		LegalRep:            legalRepItem{Name: e.LegalRep.Name, IDNumber: e.LegalRep.IDNumber, Phone: e.LegalRep.Phone},
		RegisteredAddress:   e.RegisteredAddress,
		OperatingAddress:    e.OperatingAddress,
		HasCorporateAccount: e.HasCorporateAccount,
		OwnerID:             e.OwnerID,
		Status:              string(e.Status),
		FrozenReason:        e.FrozenReason,
		Version:             e.Version,
		CreatedAt:           e.CreatedAt.UTC(),
		UpdatedAt:           e.UpdatedAt.UTC(),
	}
}

func (it enterpriseItem) domain() domain.Enterprise {
	if it.Status == "" {
		it.Status = string(domain.EnterpriseActive)
	}
	return domain.Enterprise{
		ID:                  it.ID,
		Name:                it.Name,
		USCC:                it.USCC,
		LegalRep:            domain.LegalRep{Name: it.LegalRep.Name, IDNumber: it.LegalRep.IDNumber, Phone: it.LegalRep.Phone},
		RegisteredAddress:   it.RegisteredAddress,
		OperatingAddress:    it.OperatingAddress,
		HasCorporateAccount: it.HasCorporateAccount,
		OwnerID:             it.OwnerID,
		Status:              domain.EnterpriseStatus(it.Status),
		FrozenReason:        it.FrozenReason,
		Version:             it.Version,
		CreatedAt:           it.CreatedAt,
		UpdatedAt:           it.UpdatedAt,
	}
}

// enterpriseOps are the writes of one EnterpriseWrite: a create puts the
// profile and claims the USCC; an update replaces the profile under its version.
func (s *Store) enterpriseOps(w domain.EnterpriseWrite) ([]op, error) {
	e := w.Enterprise
	if e == nil || e.ID == "" || e.USCC == "" || e.OwnerID == "" {
		return nil, internal("enterprise write without id, uscc or owner")
	}
	it := toEnterpriseItem(e)
	av, err := marshalItem(it)
	if err != nil {
		return nil, err
	}
	if w.Create && w.Unclaimed {
		o, err := s.putNew(av, domain.ErrVersionConflict)
		if err != nil {
			return nil, err
		}
		return []op{o}, nil
	}
	if w.Create {
		claim, err := marshalItem(usccItem{PK: usccPK(e.USCC), SK: skUSCC, Entity: "uscc", USCC: e.USCC,
			EnterpriseID: e.ID, CreatedAt: e.CreatedAt.UTC()})
		if err != nil {
			return nil, err
		}
		p1, err := s.putNew(av, domain.ErrVersionConflict)
		if err != nil {
			return nil, err
		}
		p2, err := s.putNew(claim, ErrEnterpriseExists)
		if err != nil {
			return nil, err
		}
		return []op{p1, p2}, nil
	}
	// The USCC never changes (its claim item stays as created): an update
	// carrying another one fails like a stale version.
	o, err := s.versionedPut("enterprise", av, e.Version, w.ExpectVersion,
		expression.Name("uscc").Equal(expression.Value(e.USCC)))
	if err != nil {
		return nil, err
	}
	return []op{o}, nil
}

// certRank orders certifications as domain.CertTypes does.
func certRank(t domain.CertType) int {
	for i, x := range domain.CertTypes {
		if x == t {
			return i
		}
	}
	return len(domain.CertTypes)
}

// GetUSCCClaim reads who holds a USCC (strongly consistent GetItem).
func (s *Store) GetUSCCClaim(ctx context.Context, uscc string) (*domain.USCCClaim, error) {
	av, err := s.getItem(ctx, usccPK(uscc), skUSCC)
	if err != nil {
		return nil, err
	}
	return ref(decode(av, "uscc claim", func(it usccItem) domain.USCCClaim {
		return domain.USCCClaim{USCC: it.USCC, EnterpriseID: it.EnterpriseID, DisputeCaseID: it.DisputeCaseID, CreatedAt: it.CreatedAt}
	}))
}

// usccClaimOps updates a USCC claim (never on an index, so an UpdateItem of
// SET clauses):
//   - lock: on condition that Holder holds it and no other dispute holds
//     the lock (else dispute_open);
//   - unlock: on condition that CaseID holds the lock;
//   - transfer: on condition that Holder holds it and CaseID the lock.
func (s *Store) usccClaimOps(w domain.USCCClaimWrite) ([]op, error) {
	if w.USCC == "" || w.Holder == "" || w.CaseID == "" {
		return nil, internal("uscc claim write without uscc, holder or case")
	}
	held := expression.Name("enterpriseId").Equal(expression.Value(w.Holder))
	ours := expression.Name("disputeCaseId").Equal(expression.Value(w.CaseID))
	var (
		ub     expression.UpdateBuilder
		cond   expression.ConditionBuilder
		onFail error = domain.ErrVersionConflict
	)
	switch w.Op {
	case domain.USCCLock:
		free := expression.AttributeNotExists(expression.Name("disputeCaseId")).
			Or(expression.Name("disputeCaseId").Equal(expression.Value("")), ours)
		ub = expression.Set(expression.Name("disputeCaseId"), expression.Value(w.CaseID))
		cond, onFail = held.And(free), domain.ErrDisputeOpen
	case domain.USCCUnlock:
		ub = expression.Set(expression.Name("disputeCaseId"), expression.Value(""))
		cond = ours
	case domain.USCCTransfer:
		if w.NewHolder == "" {
			return nil, internal("uscc transfer without a new holder")
		}
		ub = expression.Set(expression.Name("disputeCaseId"), expression.Value("")).
			Set(expression.Name("enterpriseId"), expression.Value(w.NewHolder)).
			Set(expression.Name("transferredAt"), expression.Value(w.At.UTC()))
		cond = held.And(ours)
	default:
		return nil, internal("unknown uscc claim op %q", w.Op)
	}
	o, err := s.updateOp(itemKey(usccPK(w.USCC), skUSCC), ub, cond, onFail, true)
	if err != nil {
		return nil, err
	}
	return []op{o}, nil
}
