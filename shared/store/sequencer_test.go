package store

import "testing"

func TestCompareSequencers(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"0055AED6DCD90281E5", "0055AED6DCD90281E5", 0},
		{"0055AED6DCD90281E4", "0055AED6DCD90281E5", -1},
		{"0055AED6DCD90281F0", "0055AED6DCD90281E5", 1},
		{"55AED6DCD90281E5", "0055AED6DCD90281E5", 0}, // padding only
		{"9", "10", -1}, // shorter is padded, not compared as is ("9" > "10")
		{"A", "09", 1},
		{"FF", "100", -1},
		{"100", "FF", 1},
		{"", "0", 0},
		{"", "1", -1},
	}
	for _, tc := range tests {
		t.Run(tc.a+"_vs_"+tc.b, func(t *testing.T) {
			if got := CompareSequencers(tc.a, tc.b); got != tc.want {
				t.Errorf("CompareSequencers(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
			}
			if got := CompareSequencers(tc.b, tc.a); got != -tc.want {
				t.Errorf("CompareSequencers(%q, %q) = %d, want %d", tc.b, tc.a, got, -tc.want)
			}
		})
	}
}

func FuzzCompareSequencers(f *testing.F) {
	f.Add("0055AED6DCD90281E5", "55AED6DCD90281E6")
	f.Fuzz(func(t *testing.T, a, b string) {
		if CompareSequencers(a, b) != -CompareSequencers(b, a) {
			t.Fatalf("not antisymmetric for %q, %q", a, b)
		}
		if CompareSequencers(a, a) != 0 {
			t.Fatalf("not reflexive for %q", a)
		}
	})
}
