package store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"microcert/shared/domain"
)

// certificationItem: pk ENT#<entId>, sk B#CERT#<type>; on DueIndex
// (CERT#<shard>, <due>#<entId>#<type>) while the domain schedules a
// transition (Certification.NextTransitionAt: expiry while active, lapse
// while overdue) and on RemindIndex (REMIND#<shard>,
// <remindAt>#<entId>#<type>) while RemindAt is set (shards.go).
type certificationItem struct {
	PK            string     `dynamodbav:"pk"`
	SK            string     `dynamodbav:"sk"`
	DuePK         string     `dynamodbav:"duepk,omitempty"`
	DueSK         string     `dynamodbav:"duesk,omitempty"`
	RPK           string     `dynamodbav:"rpk,omitempty"`
	RSK           string     `dynamodbav:"rsk,omitempty"`
	Entity        string     `dynamodbav:"entity"`
	EnterpriseID  string     `dynamodbav:"enterpriseId"`
	Type          string     `dynamodbav:"type"`
	Status        string     `dynamodbav:"status"`
	IssuedAt      time.Time  `dynamodbav:"issuedAt"`
	ExpiresAt     time.Time  `dynamodbav:"expiresAt"`
	CaseID        string     `dynamodbav:"caseId"`
	Version       int        `dynamodbav:"version"`
	Cycle         int        `dynamodbav:"cycle"`
	RevokedReason string     `dynamodbav:"revokedReason"`
	Severity      string     `dynamodbav:"severity"`
	UpdatedAt     time.Time  `dynamodbav:"updatedAt"`
	RemindAt      *time.Time `dynamodbav:"remindAt,omitempty"`
}

func toCertificationItem(c *domain.Certification, r domain.Rules) certificationItem {
	it := certificationItem{
		PK:            entPK(c.EnterpriseID),
		SK:            certSK(c.Type),
		Entity:        "certification",
		EnterpriseID:  c.EnterpriseID,
		Type:          string(c.Type),
		Status:        string(c.Status),
		IssuedAt:      c.IssuedAt.UTC(),
		ExpiresAt:     c.ExpiresAt.UTC(),
		CaseID:        c.CaseID,
		Version:       c.Version,
		Cycle:         c.Cycle,
		RevokedReason: c.RevokedReason,
		Severity:      c.Severity,
		UpdatedAt:     c.UpdatedAt.UTC(),
		RemindAt:      utcp(c.RemindAt),
	}
	shard := certShard(c.EnterpriseID, c.Type)
	if due := c.NextTransitionAt(r); due != nil {
		it.DuePK, it.DueSK = dueCertPK+"#"+shard, dueSK(*due, c.EnterpriseID, string(c.Type))
	}
	if c.RemindAt != nil {
		it.RPK, it.RSK = remindPK+"#"+shard, dueSK(*c.RemindAt, c.EnterpriseID, string(c.Type))
	}
	return it
}

func (it certificationItem) domain() domain.Certification {
	return domain.Certification{
		EnterpriseID:  it.EnterpriseID,
		Type:          domain.CertType(it.Type),
		Status:        domain.CertStatus(it.Status),
		IssuedAt:      it.IssuedAt,
		ExpiresAt:     it.ExpiresAt,
		CaseID:        it.CaseID,
		Version:       it.Version,
		Cycle:         it.Cycle,
		RevokedReason: it.RevokedReason,
		Severity:      it.Severity,
		UpdatedAt:     it.UpdatedAt,
		RemindAt:      it.RemindAt,
	}
}

func (s *Store) certificationOps(w domain.CertificationWrite) ([]op, error) {
	c := w.Certification
	if c == nil || c.EnterpriseID == "" || c.Type == "" {
		return nil, internal("certification write without enterprise or type")
	}
	return s.entityOps("certification", toCertificationItem(c, s.rules), w.Create, c.Version, w.ExpectVersion)
}

// DueCertifications lists the certifications of one shard (DueShards) whose
// scheduled transition is due at or before before, earliest first
// (DueIndex, duepk CERT#<shard>).
func (s *Store) DueCertifications(ctx context.Context, shard string, before time.Time, p domain.Page) ([]domain.Certification, string, error) {
	return s.certsByTime(ctx, indexDue, attrDuePK, attrDueSK, dueCertPK, shard, before, p)
}

// RemindersDue lists the certifications of one shard (DueShards) whose next
// renewal reminder is due at or before before, earliest first (RemindIndex,
// rpk REMIND#<shard>).
func (s *Store) RemindersDue(ctx context.Context, shard string, before time.Time, p domain.Page) ([]domain.Certification, string, error) {
	return s.certsByTime(ctx, indexRemind, attrRPK, attrRSK, remindPK, shard, before, p)
}

func (s *Store) certsByTime(ctx context.Context, index, hashAttr, rangeAttr, list, shard string, before time.Time, p domain.Page) ([]domain.Certification, string, error) {
	hash, err := shardPK(list, shard)
	if err != nil {
		return nil, "", err
	}
	spec := cursorSpec{index: index, hashAttr: hashAttr, hashValue: hash, rangeAttr: rangeAttr,
		prefixes: map[string]string{attrPK: prefixEnt, attrSK: skCertPrefix}}
	kc := expression.Key(hashAttr).Equal(expression.Value(hash)).
		And(expression.Key(rangeAttr).LessThanEqual(expression.Value(ts(before) + "#" + hi)))
	items, next, err := s.queryPage(ctx, &dynamodb.QueryInput{IndexName: aws.String(index)}, kc, spec, p)
	if err != nil {
		return nil, "", err
	}
	out, err := decodeAll(items, "certification", certificationItem.domain)
	return out, next, err
}
