package store

import (
	"encoding/base64"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

var queueSpec = cursorSpec{index: indexQueue, hashAttr: attrQPK, hashValue: queuePK, rangeAttr: attrQSK,
	prefixes: map[string]string{attrPK: prefixCase, attrSK: skCase}}

func TestCursorRoundTrip(t *testing.T) {
	want := map[string]string{"pk": "CASE#abc", "sk": "A#CASE", "qpk": "QUEUE", "qsk": "2026-11-26T02:00:00.000000000Z#abc"}
	c, err := encodeCursor(toLEK(want))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range c {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			t.Fatalf("cursor %q is not URL-safe", c)
		}
	}
	got, err := queueSpec.decode(c)
	if err != nil {
		t.Fatal(err)
	}
	back := map[string]string{}
	for k := range got {
		back[k] = stringAttr(got, k)
	}
	if d := diff(want, back); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if c, err := encodeCursor(nil); c != "" || err != nil {
		t.Errorf("no LastEvaluatedKey: %q %v", c, err)
	}
	if _, err := encodeCursor(map[string]types.AttributeValue{"pk": &types.AttributeValueMemberN{Value: "1"}}); err == nil {
		t.Error("a numeric key encoded")
	}
}

// A cursor with a repeated key is refused: the repeat would otherwise
// collapse and pass the count of attributes.
func TestCursorRepeatedKey(t *testing.T) {
	raw := `{"pk":"CASE#a","sk":"A#CASE","qpk":"QUEUE","qsk":"x","qsk":"y"}`
	c := base64.RawURLEncoding.EncodeToString([]byte(raw))
	if _, err := queueSpec.decode(c); err != ErrInvalidCursor {
		t.Fatalf("decode = %v, want ErrInvalidCursor", err)
	}
}

// Whatever comes in, decode never panics, and what it accepts stays in the
// queried partition and list.
func FuzzCursorDecode(f *testing.F) {
	good, _ := encodeCursor(toLEK(map[string]string{"pk": "CASE#a", "sk": "A#CASE", "qpk": "QUEUE", "qsk": "x"}))
	f.Add(good)
	f.Add("")
	f.Add("eyJwayI6MX0")
	f.Fuzz(func(t *testing.T, c string) {
		key, err := queueSpec.decode(c)
		if err != nil {
			return
		}
		if len(key) != 4 || stringAttr(key, attrQPK) != queuePK || stringAttr(key, attrSK) != skCase {
			t.Fatalf("accepted %q as %v", c, key)
		}
	})
}
