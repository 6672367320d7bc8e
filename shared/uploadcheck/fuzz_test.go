package uploadcheck

import (
	"strings"
	"testing"

	"microcert/shared/domain"
)

// awsOrder is how AWS documents the order of two sequencers of one object
// key: left-pad the shorter with zeros, then compare as strings (hex digits
// compared without regard to case). It is the oracle NormalizeSequencer is
// held to.
func awsOrder(a, b string) int {
	a, b = strings.ToUpper(a), strings.ToUpper(b)
	if n := len(b) - len(a); n > 0 {
		a = strings.Repeat("0", n) + a
	} else if n < 0 {
		b = strings.Repeat("0", -n) + b
	}
	return strings.Compare(a, b)
}

func TestSequencerOrder(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"0055AED6DCD90281E5", "0055AED6DCD90281E5", 0},
		{"0055AED6DCD90281E4", "0055AED6DCD90281E5", -1},
		{"0055AED6DCD90281F0", "0055AED6DCD90281E5", 1},
		{"55AED6DCD90281E5", "0055AED6DCD90281E5", 0}, // padding only
		{"9", "10", -1}, // the shorter is padded, not compared as is ("9" > "10")
		{"A", "09", 1},
		{"ff", "100", -1},
		{"100", "FF", 1},
		{"0", "00", 0},
	}
	for _, tc := range tests {
		t.Run(tc.a+"_vs_"+tc.b, func(t *testing.T) {
			if got := awsOrder(tc.a, tc.b); got != tc.want {
				t.Fatalf("the oracle orders %q, %q as %d, want %d", tc.a, tc.b, got, tc.want)
			}
			if got := strings.Compare(NormalizeSequencer(tc.a), NormalizeSequencer(tc.b)); got != tc.want {
				t.Errorf("normalized %q, %q compare %d, want %d", tc.a, tc.b, got, tc.want)
			}
		})
	}
}

// FuzzNormalizeSequencer: the sequencer comes from the S3 event, outside
// input. Whatever it is, the result is "" or fixed-width upper-case hex,
// normalizing is idempotent, and two valid sequencers compare as plain
// strings exactly as AWS's rule orders them.
func FuzzNormalizeSequencer(f *testing.F) {
	f.Add("0055AED6DCD90281E5", "55aed6dcd90281e6")
	f.Add("9", "10")
	f.Add(" 00FF ", "x")
	f.Add(strings.Repeat("F", sequencerWidth), strings.Repeat("1", sequencerWidth+1))
	f.Fuzz(func(t *testing.T, a, b string) {
		na, nb := NormalizeSequencer(a), NormalizeSequencer(b)
		for _, n := range []string{na, nb} {
			if n == "" {
				continue
			}
			if len(n) != sequencerWidth || strings.Trim(n, "0123456789ABCDEF") != "" {
				t.Fatalf("normalized %q is not %d upper-case hex digits", n, sequencerWidth)
			}
			if NormalizeSequencer(n) != n {
				t.Fatalf("normalizing %q again changes it", n)
			}
		}
		if na != "" && nb != "" {
			if got, want := strings.Compare(na, nb), awsOrder(strings.TrimSpace(a), strings.TrimSpace(b)); got != want {
				t.Fatalf("%q vs %q: normalized compare %d, AWS order %d", a, b, got, want)
			}
		}
	})
}

// FuzzParseKey: the object key comes from the S3 event. A key is accepted
// only when it is exactly uploads/{caseId}/{documentId} with valid ids.
func FuzzParseKey(f *testing.F) {
	f.Add(domain.UploadPrefix + "01m8sq0wfegzpngdcsk87ajw1j/01m8sq0wnkpdtzbrp1nwd373fk")
	f.Add(domain.UploadPrefix + "a/b/c")
	f.Add("uploads//")
	f.Fuzz(func(t *testing.T, key string) {
		caseID, docID, ok := ParseKey(key)
		if !ok {
			if caseID != "" || docID != "" {
				t.Fatalf("refused %q but returned ids %q %q", key, caseID, docID)
			}
			return
		}
		if !domain.ValidID(caseID) || !domain.ValidID(docID) || domain.UploadPrefix+caseID+"/"+docID != key {
			t.Fatalf("accepted %q as case %q, document %q", key, caseID, docID)
		}
	})
}
