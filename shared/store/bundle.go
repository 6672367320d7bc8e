package store

import (
	"context"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"microcert/shared/domain"
)

// GetCaseBundle reads the case view with one strongly consistent Query of
// its partition, sk between A# and H#~ (the case A#CASE, documents D#...,
// history H#...; payouts P# and audits U# sort after and are not read),
// following pages internally. Documents come in creation order, history in
// time order.
func (s *Store) GetCaseBundle(ctx context.Context, id string) (*domain.CaseBundle, error) {
	kc := expression.Key(attrPK).Equal(expression.Value(casePK(id))).
		And(expression.Key(attrSK).Between(expression.Value("A#"), expression.Value(skHistPrefix+hi)))
	items, err := s.queryAll(ctx, &dynamodb.QueryInput{ConsistentRead: aws.Bool(true)}, kc)
	if err != nil {
		return nil, err
	}
	b := &domain.CaseBundle{}
	for _, av := range items {
		sk := stringAttr(av, attrSK)
		switch {
		case sk == skCase:
			if b.Case, err = ref(decode(av, "case", caseItem.domain)); err != nil {
				return nil, err
			}
		case strings.HasPrefix(sk, skDocPrefix):
			d, err := decode(av, "document", documentItem.domain)
			if err != nil {
				return nil, err
			}
			b.Documents = append(b.Documents, d)
		case isRefundSK(sk):
			r, err := decode(av, "refund", refundItem.domain)
			if err != nil {
				return nil, err
			}
			b.Refunds = append(b.Refunds, r)
		case strings.HasPrefix(sk, skHistPrefix):
			h, err := decode(av, "history", historyItem.domain)
			if err != nil {
				return nil, err
			}
			b.History = append(b.History, h)
		}
	}
	if b.Case == nil {
		return nil, domain.ErrNotFound
	}
	sort.SliceStable(b.Documents, func(i, j int) bool {
		x, y := b.Documents[i], b.Documents[j]
		if !x.CreatedAt.Equal(y.CreatedAt) {
			return x.CreatedAt.Before(y.CreatedAt)
		}
		return x.ID < y.ID
	})
	return b, nil
}
