package localstack

import (
	"testing"
	"time"
)

func TestScheduleNext(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		expr, from, want string
	}{
		{"cron(0 1 * * ? *)", "2026-11-26T00:59:00Z", "2026-11-26T01:00:00Z"},
		{"cron(0 1 * * ? *)", "2026-11-26T01:00:00Z", "2026-11-27T01:00:00Z"},
		{"cron(0 1 * * ? *)", "2026-12-31T02:00:00Z", "2027-01-01T01:00:00Z"},
		{"cron(15,45 8-9 ? * MON-FRI *)", "2026-11-27T09:50:00Z", "2026-11-30T08:15:00Z"}, // Friday -> Monday
		{"cron(0/20 * * * ? *)", "2026-11-26T10:41:00Z", "2026-11-26T11:00:00Z"},
		{"cron(0 0 29 2 ? *)", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z"},
		{"cron(0 12 ? * 1 *)", "2026-11-26T00:00:00Z", "2026-11-29T12:00:00Z"}, // 1 = Sunday
		{"cron(0 0 1 JAN ? 2027)", "2026-11-26T00:00:00Z", "2027-01-01T00:00:00Z"},
		{"rate(5 minutes)", "2026-11-26T10:41:30Z", "2026-11-26T10:45:00Z"},
		{"rate(1 day)", "2026-11-26T10:41:30Z", "2026-11-27T00:00:00Z"},
	}
	for _, tt := range tests {
		s, err := ParseSchedule(tt.expr)
		if err != nil {
			t.Errorf("%s: %v", tt.expr, err)
			continue
		}
		if got := s.Next(at(tt.from)); !got.Equal(at(tt.want)) {
			t.Errorf("%s after %s = %s, want %s", tt.expr, tt.from, got.Format(time.RFC3339), tt.want)
		}
	}
}

func TestScheduleRejects(t *testing.T) {
	for _, expr := range []string{
		"", "cron(0 1 * * * *)", "cron(0 1 ? * ? *)", "cron(0 1 * *)", "cron(60 1 * * ? *)", "cron(0 1 L * ? *)",
		"cron(0 1 ? * 6#3 *)", "rate(0 minutes)", "rate(1 minutes)", "rate(5 minute)", "rate(5 weeks)", "every day",
	} {
		if _, err := ParseSchedule(expr); err == nil {
			t.Errorf("%q accepted", expr)
		}
	}
}
