package store

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"microcert/shared/strictjson"
)

// Cursors are the URL-safe base64 (no padding) of a JSON object holding the
// LastEvaluatedKey's string attributes. They are not signed: what matters is
// that a cursor cannot make a Query read outside the list it belongs to, so
// decode checks that it holds exactly the key attributes of that list's
// index, that its partition is the queried one, and that the table key looks
// like an item of that list.

// maxCursorLen bounds the input we are willing to decode.
const maxCursorLen = 2048

// cursorSpec describes the keys of one list.
type cursorSpec struct {
	index     string // "" for the table
	hashAttr  string // partition attribute of the queried index (pk for the table)
	hashValue string // the queried partition
	rangeAttr string // sort attribute of the queried index (sk for the table)
	// prefixes that other key attributes must start with.
	prefixes map[string]string
	// anyPartition: the list spans partitions (a Scan of the table by a
	// migration tool), so any hashAttr value is one of it.
	anyPartition bool
}

// attrs lists the attributes a LastEvaluatedKey of the list holds.
func (c cursorSpec) attrs() []string {
	a := []string{attrPK, attrSK}
	if c.index != "" {
		a = append(a, c.hashAttr, c.rangeAttr)
	}
	return a
}

// encodeCursor makes the cursor of a LastEvaluatedKey ("" for none).
func encodeCursor(lek map[string]types.AttributeValue) (string, error) {
	if len(lek) == 0 {
		return "", nil
	}
	m := make(map[string]string, len(lek))
	for k, v := range lek {
		s, ok := v.(*types.AttributeValueMemberS)
		if !ok {
			return "", internal("last evaluated key attribute %q is not a string", k)
		}
		m[k] = s.Value
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", internal("encode cursor: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// decode validates a cursor and returns the ExclusiveStartKey it stands for;
// ErrInvalidCursor if it is not one this list handed out.
func (c cursorSpec) decode(cursor string) (map[string]types.AttributeValue, error) {
	if len(cursor) > maxCursorLen {
		return nil, ErrInvalidCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return nil, ErrInvalidCursor
	}
	// Strictly: a repeated key would collapse into one and slip past the
	// count below.
	var m map[string]string
	if err := strictjson.Decode(b, &m); err != nil || m == nil {
		return nil, ErrInvalidCursor
	}
	want := c.attrs()
	if len(m) != len(want) {
		return nil, ErrInvalidCursor
	}
	for _, a := range want {
		if v, ok := m[a]; !ok || v == "" {
			return nil, ErrInvalidCursor
		}
	}
	if !c.anyPartition && m[c.hashAttr] != c.hashValue {
		return nil, ErrInvalidCursor
	}
	for a, p := range c.prefixes {
		if !strings.HasPrefix(m[a], p) {
			return nil, ErrInvalidCursor
		}
	}
	key := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		key[k] = &types.AttributeValueMemberS{Value: v}
	}
	return key, nil
}

// cursorOf is the cursor that resumes a list of spec after item av.
func (c cursorSpec) cursorOf(av map[string]types.AttributeValue) (string, error) {
	key := make(map[string]types.AttributeValue, 4)
	for _, a := range c.attrs() {
		v, ok := av[a]
		if !ok {
			return "", internal("item lacks key attribute %q", a)
		}
		key[a] = v
	}
	return encodeCursor(key)
}
