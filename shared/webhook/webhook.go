// Package webhook signs and verifies provider callbacks, Stripe-style:
//
//	X-Microcert-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">
//
// More than one v1= may be present while the provider rotates keys, and we
// accept the current and the previous secret, so either side can rotate
// without downtime.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"microcert/shared/domain"
)

// Header is the signature header's name.
const Header = "X-Microcert-Signature"

// Tolerance is how far the signed timestamp may be from now.
const Tolerance = 5 * time.Minute

var errSignature = domain.E(domain.KindUnauthorized, "invalid_signature",
	"回调签名无效。", "The callback signature is invalid.")

// Sign returns the header value for body signed with secret at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

func mac(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify checks header against body: the timestamp within Tolerance of now
// and some v1 signature made with one of the secrets (empty ones are
// skipped). Comparison is constant-time (hmac.Equal).
func Verify(header string, body []byte, now time.Time, secrets ...string) error {
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil && len(b) == sha256.Size {
				sigs = append(sigs, b)
			}
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return errSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); d > Tolerance || d < -Tolerance {
		return domain.E(domain.KindUnauthorized, "signature_expired",
			"回调时间戳超出允许范围。", "The callback timestamp is outside the tolerance window.")
	}
	matched := false
	for _, secret := range secrets {
		if secret == "" {
			continue
		}
		want, _ := hex.DecodeString(mac(secret, ts, body))
		for _, s := range sigs {
			// No early exit: every candidate is compared, in constant time.
			if hmac.Equal(want, s) {
				matched = true
			}
		}
	}
	if !matched {
		return errSignature
	}
	return nil
}
