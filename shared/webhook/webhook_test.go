package webhook

import (
	"testing"
	"time"

	"microcert/shared/domain"
)

func TestVerify(t *testing.T) {
	now := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	body := []byte(`{"sessionId":"s1","result":"pass"}`)
	good := Sign("current", now, body)
	old := Sign("previous", now, body)
	both := good + ",v1=" + Sign("previous", now, body)[len("t=1795680000,v1="):]
	tests := []struct {
		name     string
		header   string
		body     []byte
		at       time.Time
		secrets  []string
		wantCode string
	}{
		{"current key", good, body, now, []string{"current", "previous"}, ""},
		{"previous key during rotation", old, body, now, []string{"current", "previous"}, ""},
		{"two signatures", both, body, now, []string{"current"}, ""},
		{"rotated-out key", old, body, now, []string{"current"}, "invalid_signature"},
		{"tampered body", good, []byte(`{"sessionId":"s1","result":"fail"}`), now, []string{"current"}, "invalid_signature"},
		{"too old", good, body, now.Add(Tolerance + time.Second), []string{"current"}, "signature_expired"},
		{"from the future", good, body, now.Add(-Tolerance - time.Second), []string{"current"}, "signature_expired"},
		{"missing header", "", body, now, []string{"current"}, "invalid_signature"},
		{"garbage", "t=abc,v1=zz", body, now, []string{"current"}, "invalid_signature"},
		{"no secrets configured", good, body, now, []string{""}, "invalid_signature"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(tc.header, tc.body, tc.at, tc.secrets...)
			if got := domain.CodeOf(err); got != tc.wantCode {
				t.Fatalf("code = %q, want %q (err %v)", got, tc.wantCode, err)
			}
		})
	}
}
