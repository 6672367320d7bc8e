package store

import (
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// marshalItem encodes an item struct. An empty map attribute is left out
// (omitempty leaves a non-nil empty map in): DynamoDB would keep it, but
// the local stand-in stores something else in its place (a document whose
// file was gone before its check could then not be read back), and an
// absent map decodes as a nil one, which every reader treats as empty.
func marshalItem(v any) (map[string]types.AttributeValue, error) {
	av, err := attributevalue.MarshalMap(v)
	if err != nil {
		return nil, internal("marshal %T: %w", v, err)
	}
	for k, x := range av {
		if m, ok := x.(*types.AttributeValueMemberM); ok && len(m.Value) == 0 {
			delete(av, k)
		}
	}
	return av, nil
}

// decode is the one decoder of stored items: it reads av into the item
// struct I of its entity and converts that with toDomain (the item's
// domain method, e.g. caseItem.domain). what names the entity in errors.
func decode[I, D any](av map[string]types.AttributeValue, what string, toDomain func(I) D) (D, error) {
	var it I
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		var zero D
		return zero, internal("decode %s: %w", what, err)
	}
	return toDomain(it), nil
}

// decodeAll decodes a page of items of one entity.
func decodeAll[I, D any](avs []map[string]types.AttributeValue, what string, toDomain func(I) D) ([]D, error) {
	out := make([]D, 0, len(avs))
	for _, av := range avs {
		d, err := decode(av, what, toDomain)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// ref returns a pointer to a decoded value (nil with the error), for the
// reads that return one entity: return ref(decode(av, "case", caseItem.domain)).
func ref[D any](d D, err error) (*D, error) {
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// identity is the toDomain of an item read as itself.
func identity[I any](it I) I { return it }
