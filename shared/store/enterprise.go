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

// enterpriseItem is the profile: pk ENT#<id>, sk A#PROFILE, listed by owner
// on GSI1 (OWNER#<ownerId>, <createdAt>#<id>).
type enterpriseItem struct {
	PK                  string       `dynamodbav:"pk"`
	SK                  string       `dynamodbav:"sk"`
	GSI1PK              string       `dynamodbav:"gsi1pk"`
	GSI1SK              string       `dynamodbav:"gsi1sk"`
	Entity              string       `dynamodbav:"entity"`
	ID                  string       `dynamodbav:"id"`
	Name                string       `dynamodbav:"name"`
	USCC                string       `dynamodbav:"uscc"`
	LegalRep            legalRepItem `dynamodbav:"legalRep"`
	RegisteredAddress   string       `dynamodbav:"registeredAddress"`
	OperatingAddress    string       `dynamodbav:"operatingAddress"`
	HasCorporateAccount bool         `dynamodbav:"hasCorporateAccount"`
	OwnerID             string       `dynamodbav:"ownerId"`
	Version             int          `dynamodbav:"version"`
	CreatedAt           time.Time    `dynamodbav:"createdAt"`
	UpdatedAt           time.Time    `dynamodbav:"updatedAt"`
}

// usccItem claims a USCC for one enterprise: pk USCC#<uscc>, sk USCC. It is
// written with the profile, under attribute_not_exists, in one transaction.
type usccItem struct {
	PK           string    `dynamodbav:"pk"`
	SK           string    `dynamodbav:"sk"`
	Entity       string    `dynamodbav:"entity"`
	USCC         string    `dynamodbav:"uscc"`
	EnterpriseID string    `dynamodbav:"enterpriseId"`
	CreatedAt    time.Time `dynamodbav:"createdAt"`
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
		GSI1PK:              ownerPK(e.OwnerID),
		GSI1SK:              createdSK(e.CreatedAt, e.ID),
		Entity:              "enterprise",
		ID:                  e.ID,
		Name:                e.Name,
		USCC:                e.USCC,
		LegalRep:            legalRepItem{Name: e.LegalRep.Name, IDNumber: e.LegalRep.IDNumber, Phone: e.LegalRep.Phone},
		RegisteredAddress:   e.RegisteredAddress,
		OperatingAddress:    e.OperatingAddress,
		HasCorporateAccount: e.HasCorporateAccount,
		OwnerID:             e.OwnerID,
		Version:             e.Version,
		CreatedAt:           e.CreatedAt.UTC(),
		UpdatedAt:           e.UpdatedAt.UTC(),
	}
}

func (it enterpriseItem) domain() domain.Enterprise {
	return domain.Enterprise{
		ID:                  it.ID,
		Name:                it.Name,
		USCC:                it.USCC,
		LegalRep:            domain.LegalRep{Name: it.LegalRep.Name, IDNumber: it.LegalRep.IDNumber, Phone: it.LegalRep.Phone},
		RegisteredAddress:   it.RegisteredAddress,
		OperatingAddress:    it.OperatingAddress,
		HasCorporateAccount: it.HasCorporateAccount,
		OwnerID:             it.OwnerID,
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

// ListEnterprises lists the profiles an owner created, oldest first (GSI1,
// OWNER#<ownerId>).
func (s *Store) ListEnterprises(ctx context.Context, ownerID string, p domain.Page) ([]domain.Enterprise, string, error) {
	spec := cursorSpec{index: indexGSI1, hashAttr: attrGSI1PK, hashValue: ownerPK(ownerID), rangeAttr: attrGSI1SK,
		prefixes: map[string]string{attrPK: prefixEnt, attrSK: skProfile}}
	kc := expression.Key(attrGSI1PK).Equal(expression.Value(ownerPK(ownerID)))
	items, next, err := s.queryPage(ctx, &dynamodb.QueryInput{IndexName: aws.String(indexGSI1)}, kc, spec, p)
	if err != nil {
		return nil, "", err
	}
	out, err := decodeAll(items, "enterprise", enterpriseItem.domain)
	return out, next, err
}
