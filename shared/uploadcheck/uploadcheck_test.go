package uploadcheck

import (
	"testing"

	"microcert/shared/domain"
)

func TestNormalizeSequencer(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0055AED6DCD90281E5", "000000000000000055AED6DCD90281E5"},
		{"1a", "0000000000000000000000000000001A"},
		{"", ""},
		{"xyz", ""},
		{"123456789012345678901234567890123", ""}, // longer than any S3 sequencer
	}
	for _, tc := range tests {
		if got := NormalizeSequencer(tc.in); got != tc.want {
			t.Errorf("NormalizeSequencer(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// AWS's rule: pad the shorter, then compare as strings.
	if !(NormalizeSequencer("FF") < NormalizeSequencer("100")) {
		t.Error("FF must sort before 100 once padded")
	}
}

func TestParseKey(t *testing.T) {
	c, d := domain.NewID(), domain.NewID()
	tests := []struct {
		key    string
		wantOK bool
	}{
		{"uploads/" + c + "/" + d, true},
		{"uploads/" + c, false},
		{"other/" + c + "/" + d, false},
		{"uploads/../" + d, false},
		{"uploads/" + c + "/" + d + "/x", false},
	}
	for _, tc := range tests {
		gc, gd, ok := ParseKey(tc.key)
		if ok != tc.wantOK || (ok && (gc != c || gd != d)) {
			t.Errorf("ParseKey(%q) = %q %q %v", tc.key, gc, gd, ok)
		}
	}
}
