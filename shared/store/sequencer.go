package store

import "strings"

// CompareSequencers orders two S3 event sequencers of the same object key the
// way AWS documents it: left-pad the shorter with zeros, then compare as
// strings. It returns -1, 0 or +1. (Stored sequencers are normalized by the
// caller to equal-width upper-case hex, so DynamoDB's own string comparison
// in the check-result condition gives the same order.)
func CompareSequencers(a, b string) int {
	if n := len(b) - len(a); n > 0 {
		a = strings.Repeat("0", n) + a
	} else if n < 0 {
		b = strings.Repeat("0", -n) + b
	}
	return strings.Compare(a, b)
}
