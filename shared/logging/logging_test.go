package logging

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestScrub(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"id number", "id 11010519491231002X here", "id **************002X here"},
		{"phone", "call 13812345678", "call *******5678"},
		{"phone +86", "+8613812345678", "**********5678"},
		{"bank account", "acct=6222020200112233445", "acct=***************3445"},
		{"timestamp untouched", "2026-11-26T17:00:00Z", "2026-11-26T17:00:00Z"},
		{"short numbers untouched", "attempts 3 of 99", "attempts 3 of 99"},
		{"ten digits untouched", "1795680000", "1795680000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Scrub(tc.in); got != tc.want {
				t.Fatalf("Scrub(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestLoggerMasksAttrsAndErrors(t *testing.T) {
	var buf bytes.Buffer
	log := NewTo(&buf, "test", slog.LevelInfo)
	log.Info("x", "phone", "13812345678", "err", errors.New("bad id 110105194912310021"))
	out := buf.String()
	for _, leak := range []string{"13812345678", "110105194912310021"} {
		if strings.Contains(out, leak) {
			t.Fatalf("log leaks %s: %s", leak, out)
		}
	}
}
