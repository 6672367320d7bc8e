package store

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"microcert/shared/domain"
)

// defaultLimit is used when a caller passes no limit (the API's default).
const defaultLimit = 20

// getItem reads one item, strongly consistent; domain.ErrNotFound if absent.
func (s *Store) getItem(ctx context.Context, pk, sk string) (map[string]types.AttributeValue, error) {
	if err := flushHeld(ctx); err != nil {
		return nil, err
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            itemKey(pk, sk),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, mapErr(err)
	}
	if len(out.Item) == 0 {
		return nil, domain.ErrNotFound
	}
	return out.Item, nil
}

// prepare fills in the table and the key condition of a Query.
func (s *Store) prepare(in *dynamodb.QueryInput, kc expression.KeyConditionBuilder) error {
	expr, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return internal("build key condition: %w", err)
	}
	in.TableName = aws.String(s.table)
	in.KeyConditionExpression = expr.KeyCondition()
	in.ExpressionAttributeNames = expr.Names()
	in.ExpressionAttributeValues = expr.Values()
	return nil
}

// queryAll runs a Query to its last page.
func (s *Store) queryAll(ctx context.Context, in *dynamodb.QueryInput, kc expression.KeyConditionBuilder) ([]map[string]types.AttributeValue, error) {
	if err := s.prepare(in, kc); err != nil {
		return nil, err
	}
	if err := flushHeld(ctx); err != nil {
		return nil, err
	}
	var items []map[string]types.AttributeValue
	pages := dynamodb.NewQueryPaginator(s.db, in)
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return nil, mapErr(err)
		}
		items = append(items, out.Items...)
	}
	return items, nil
}

// queryPage runs one Query page of p.Limit items starting after p.Cursor
// (validated against spec) and returns the items and the next cursor ("" on
// the last page). A page may hold fewer items than the limit, and the last
// full page may be followed by an empty one: DynamoDB only knows there is
// nothing more once it looks.
func (s *Store) queryPage(ctx context.Context, in *dynamodb.QueryInput, kc expression.KeyConditionBuilder, spec cursorSpec, p domain.Page) ([]map[string]types.AttributeValue, string, error) {
	if err := s.prepare(in, kc); err != nil {
		return nil, "", err
	}
	limit := p.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	in.Limit = aws.Int32(int32(min(limit, 1000)))
	if p.Cursor != "" {
		start, err := spec.decode(p.Cursor)
		if err != nil {
			return nil, "", err
		}
		in.ExclusiveStartKey = start
	}
	if err := flushHeld(ctx); err != nil {
		return nil, "", err
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, "", mapErr(err)
	}
	next, err := encodeCursor(out.LastEvaluatedKey)
	if err != nil {
		return nil, "", err
	}
	return out.Items, next, nil
}

// maxFilteredReads bounds the items one filtered page examines: past it
// the page comes back short (even empty) with a cursor to go on from.
const maxFilteredReads = 1000

// queryPageMatching is queryPage keeping only the items match accepts. It
// reads on until p.Limit items match, the list ends, or maxFilteredReads
// items were examined; the cursor then points after the last item
// examined. (The filter runs here rather than as a FilterExpression, which
// would cost the same reads: it keeps the pages full.)
func (s *Store) queryPageMatching(ctx context.Context, in *dynamodb.QueryInput, kc expression.KeyConditionBuilder,
	match func(map[string]types.AttributeValue) bool, spec cursorSpec, p domain.Page) ([]map[string]types.AttributeValue, string, error) {
	limit := p.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	var out []map[string]types.AttributeValue
	cursor, examined := p.Cursor, 0
	for {
		page := *in
		items, next, err := s.queryPage(ctx, &page, kc, spec, domain.Page{Limit: limit, Cursor: cursor})
		if err != nil {
			return nil, "", err
		}
		for _, av := range items {
			examined++
			if !match(av) {
				continue
			}
			out = append(out, av)
			if len(out) == limit {
				last, err := spec.cursorOf(av)
				return out, last, err
			}
		}
		if next == "" || examined >= maxFilteredReads {
			return out, next, nil
		}
		cursor = next
	}
}

// stringAttr is the string value of attribute name of av ("" if absent).
func stringAttr(av map[string]types.AttributeValue, name string) string {
	if s, ok := av[name].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}
