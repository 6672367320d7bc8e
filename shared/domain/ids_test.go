package domain

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := NewID()
		if !ValidID(id) {
			t.Fatalf("NewID() = %q is not ValidID", id)
		}
		if id != strings.ToLower(id) {
			t.Fatalf("NewID() = %q is not lower case", id)
		}
		if seen[id] {
			t.Fatalf("NewID() repeated %q", id)
		}
		seen[id] = true
	}
}

func TestNewIDAtSortsByTime(t *testing.T) {
	base := time.Date(2026, 9, 24, 10, 0, 0, 0, time.UTC)
	var ids, want []string
	for i := 0; i < 200; i++ {
		id := NewIDAt(base.Add(time.Duration(i) * 37 * time.Millisecond))
		want = append(want, id)
		ids = append(ids, id)
	}
	sort.Strings(ids)
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("ids do not sort by time (-want +got):\n%s", diff)
	}
	// far ends of the time range stay valid
	for _, at := range []time.Time{time.Unix(0, 0), time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)} {
		if id := NewIDAt(at); !ValidID(id) {
			t.Errorf("NewIDAt(%v) = %q invalid", at, id)
		}
	}
}

func TestEncodeID(t *testing.T) {
	tests := []struct {
		name string
		in   [16]byte
		want string
	}{
		{"zero", [16]byte{}, "00000000000000000000000000"},
		{"max", [16]byte{255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255}, "7zzzzzzzzzzzzzzzzzzzzzzzzz"},
		{"one", [16]byte{15: 1}, "00000000000000000000000001"},
		{"32", [16]byte{15: 32}, "00000000000000000000000010"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, encodeID(tt.in)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidID(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"fresh", NewIDAt(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), true},
		{"all zero", "00000000000000000000000000", true},
		{"max", "7zzzzzzzzzzzzzzzzzzzzzzzzz", true},
		{"first char 8 overflows 128 bits", "80000000000000000000000000", false},
		{"upper case", "01ARZ3NDEKTSV4RRFFQ69G5FAV", false},
		{"25 chars", "0000000000000000000000000", false},
		{"27 chars", "000000000000000000000000000", false},
		{"letter i", "0000000000000000000000000i", false},
		{"letter l", "0000000000000000000000000l", false},
		{"letter o", "0000000000000000000000000o", false},
		{"letter u", "0000000000000000000000000u", false},
		{"slash", "0000000000000000000000000/", false},
		{"uuid", "123e4567-e89b-12d3-a456-426614174000", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidID(tt.in); got != tt.want {
				t.Errorf("ValidID(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzValidID(f *testing.F) {
	f.Add("01m8ce0e0w648j5vkn840an6p1")
	f.Add("7zzzzzzzzzzzzzzzzzzzzzzzzz")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		if !ValidID(s) {
			return
		}
		if len(s) != IDLength || strings.ContainsAny(s, "ilouILOU/+=-_") || s != strings.ToLower(s) {
			t.Fatalf("ValidID(%q) accepted a malformed id", s)
		}
	})
}
