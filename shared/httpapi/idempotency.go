package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"microcert/shared/domain"
	"microcert/shared/idem"
)

// IdempotencyStore keeps Idempotency-Key reservations (see package idem).
type IdempotencyStore interface {
	ReserveIdempotency(ctx context.Context, rec idem.Record, now time.Time) (*idem.Record, error)
	CompleteIdempotency(ctx context.Context, key, token string, status int, headers map[string]string, body string) error
	ReleaseIdempotency(ctx context.Context, key, token string) error
}

const (
	idempotencyTTL   = 24 * time.Hour
	idempotencyLease = 30 * time.Second // longer than the function's timeout
	maxKeyLength     = 255
)

// idempotent runs a POST under its Idempotency-Key: the first request runs
// and its response is stored; the same key and body replays that response;
// another body is refused; a request still running answers 409.
func (a *API) idempotent(ctx context.Context, log *slog.Logger, rt route, r *request, run func(context.Context) events.APIGatewayV2HTTPResponse) events.APIGatewayV2HTTPResponse {
	clientKey := r.headers["idempotency-key"]
	if len(clientKey) > maxKeyLength || strings.TrimSpace(clientKey) == "" {
		return problemResponse(log, domain.E(domain.KindInvalid, "invalid_idempotency_key",
			"Idempotency-Key 应为 1 到 255 个字符。", "Idempotency-Key must be 1-255 characters."), r.lang)
	}
	now := a.clock.Now()
	rec := idem.Record{
		Key:         hashHex(r.actor.UserID, rt.key(), clientKey),
		Fingerprint: hashHex(rt.key(), r.params["caseId"], r.params["enterpriseId"], string(r.body)),
		State:       idem.StateInProgress,
		Token:       newToken(),
		LeaseUntil:  now.Add(idempotencyLease),
		ExpiresAt:   now.Add(idempotencyTTL),
	}
	existing, err := a.idem.ReserveIdempotency(ctx, rec, now)
	if err != nil {
		return problemResponse(log, err, r.lang)
	}
	if existing != nil {
		switch {
		case existing.Fingerprint != rec.Fingerprint:
			return problemResponse(log, domain.E(domain.KindInvalid, "idempotency_key_reused",
				"该 Idempotency-Key 已用于另一个请求。", "This Idempotency-Key was used for a different request."), r.lang)
		case existing.State == idem.StateDone:
			headers := map[string]string{}
			for k, v := range existing.Headers {
				headers[k] = v
			}
			headers["Idempotent-Replayed"] = "true"
			return events.APIGatewayV2HTTPResponse{StatusCode: existing.Status, Headers: headers, Body: existing.Body}
		case existing.State == idem.StateApplied && now.After(existing.LeaseUntil):
			// Applied, and its request never recorded a response (it
			// crashed): never apply again; the resource shows the result.
			return problemResponse(log, domain.E(domain.KindConflict, "request_already_applied",
				"该请求已生效，请重新读取资源查看结果。", "This request was already applied; read the resource to see its result."), r.lang)
		default:
			return problemResponse(log, domain.E(domain.KindConflict, "request_in_progress",
				"相同 Idempotency-Key 的请求正在处理中。", "A request with this Idempotency-Key is still in progress."), r.lang)
		}
	}
	resp := run(idem.WithMark(ctx, idem.Mark{Key: rec.Key, Token: rec.Token}))
	if resp.StatusCode >= 500 {
		// Nothing was applied (or the store refuses the release because it
		// was): let the client retry with the same key.
		if err := a.idem.ReleaseIdempotency(ctx, rec.Key, rec.Token); err == nil {
			return resp
		}
	}
	if err := a.idem.CompleteIdempotency(ctx, rec.Key, rec.Token, resp.StatusCode, resp.Headers, resp.Body); err != nil {
		log.Warn("idempotency record not completed", "kind", domain.KindOf(err).String(), "err", err)
	}
	return resp
}

func hashHex(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func lower(s string) string { return strings.ToLower(s) }
