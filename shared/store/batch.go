package store

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"microcert/shared/domain"
)

// maxBatchGet is DynamoDB's limit of keys per BatchGetItem.
const maxBatchGet = 100

// batchGetAttempts bounds the rounds of a BatchGetItem whose keys come
// back unprocessed (throttling): the SDK does not retry those itself.
const batchGetAttempts = 5

// batchGet reads the items with keys (absent ones are left out), 100 keys
// per BatchGetItem, retrying unprocessed keys a bounded number of times.
func (s *Store) batchGet(ctx context.Context, keys []map[string]types.AttributeValue, consistent bool) ([]map[string]types.AttributeValue, error) {
	if err := flushHeld(ctx); err != nil {
		return nil, err
	}
	var out []map[string]types.AttributeValue
	for start := 0; start < len(keys); start += maxBatchGet {
		pending := keys[start:min(start+maxBatchGet, len(keys))]
		for attempt := 1; len(pending) > 0; attempt++ {
			if attempt > batchGetAttempts {
				return nil, domain.Wrap(domain.KindUnavailable, "unavailable", internal("batch get: %d keys still unprocessed", len(pending)))
			}
			res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
				s.table: {Keys: pending, ConsistentRead: aws.Bool(consistent)},
			}})
			if err != nil {
				return nil, mapErr(err)
			}
			out = append(out, res.Responses[s.table]...)
			pending = res.UnprocessedKeys[s.table].Keys
		}
	}
	return out, nil
}

// GetEnterprises reads profiles by id (one BatchGetItem per 100; eventually
// consistent); ids without a profile are left out of the map.
func (s *Store) GetEnterprises(ctx context.Context, ids []string) (map[string]*domain.Enterprise, error) {
	keys := make([]map[string]types.AttributeValue, 0, len(ids))
	for _, id := range ids {
		keys = append(keys, itemKey(entPK(id), skProfile))
	}
	items, err := s.batchGet(ctx, keys, false)
	if err != nil {
		return nil, err
	}
	ents, err := decodeAll(items, "enterprise", enterpriseItem.domain)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*domain.Enterprise, len(ents))
	for i := range ents {
		out[ents[i].ID] = &ents[i]
	}
	return out, nil
}

// GetCases reads cases by id with one strongly consistent BatchGetItem
// (per 100); a case that does not exist is not found.
func (s *Store) GetCases(ctx context.Context, ids []string) ([]domain.Case, error) {
	keys := make([]map[string]types.AttributeValue, 0, len(ids))
	for _, id := range ids {
		keys = append(keys, itemKey(casePK(id), skCase))
	}
	items, err := s.batchGet(ctx, keys, true)
	if err != nil {
		return nil, err
	}
	cases, err := decodeAll(items, "case", caseItem.domain)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]domain.Case, len(cases))
	for _, c := range cases {
		byID[c.ID] = c
	}
	out := make([]domain.Case, 0, len(ids))
	for _, id := range ids {
		c, ok := byID[id]
		if !ok {
			return nil, domain.ErrNotFound
		}
		out = append(out, c)
	}
	return out, nil
}
