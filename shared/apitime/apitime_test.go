package apitime

import (
	"encoding/json"
	"regexp"
	"testing"
	"time"
)

// The API's timestamps: RFC 3339, UTC, exactly three fractional digits.
var shape = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)

func TestFormat(t *testing.T) {
	beijing := time.FixedZone("CST", 8*3600)
	cases := []struct {
		name string
		in   time.Time
		want string
	}{
		{"whole second", time.Date(2027, 11, 26, 15, 59, 59, 0, time.UTC), "2027-11-26T15:59:59.000Z"},
		{"nanoseconds are truncated, not rounded", time.Date(2027, 11, 26, 15, 59, 59, 999_999_999, time.UTC), "2027-11-26T15:59:59.999Z"},
		{"one millisecond", time.Date(2026, 1, 2, 3, 4, 5, 1_000_000, time.UTC), "2026-01-02T03:04:05.001Z"},
		{"other zones are converted to UTC", time.Date(2027, 11, 26, 23, 59, 59, 0, beijing), "2027-11-26T15:59:59.000Z"},
		{"monotonic clock reading is ignored", time.Date(2026, 9, 24, 1, 0, 0, 120_000_000, time.UTC).Add(0), "2026-09-24T01:00:00.120Z"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Format(c.in); got != c.want {
				t.Errorf("Format = %q, want %q", got, c.want)
			}
			if !shape.MatchString(Format(c.in)) {
				t.Errorf("%q is not in the API's shape", Format(c.in))
			}
			raw, err := json.Marshal(struct {
				At  Time  `json:"at"`
				Opt *Time `json:"opt"`
			}{At: Time(c.in)})
			if err != nil {
				t.Fatal(err)
			}
			if want := `{"at":"` + c.want + `","opt":null}`; string(raw) != want {
				t.Errorf("JSON = %s, want %s", raw, want)
			}
		})
	}
	if got := Format(time.Now()); !shape.MatchString(got) {
		t.Errorf("now = %q, not in the API's shape", got)
	}
}

func TestNormalize(t *testing.T) {
	at := time.Date(2026, 9, 24, 1, 0, 0, 123_456_789, time.UTC)
	var none *time.Time
	for name, in := range map[string]any{"value": at, "pointer": &at} {
		raw, _ := json.Marshal(Normalize(in))
		if string(raw) != `"2026-09-24T01:00:00.123Z"` {
			t.Errorf("%s: %s", name, raw)
		}
	}
	if Normalize(none) != nil {
		t.Error("a nil *time.Time must stay nil")
	}
	if Normalize(3) != 3 {
		t.Error("other values must pass through")
	}
}
