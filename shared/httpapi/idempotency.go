package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"microcert/shared/domain"
	"microcert/shared/idem"
)

// IdempotencyStore keeps Idempotency-Key reservations (see package idem).
type IdempotencyStore interface {
	ReserveIdempotency(ctx context.Context, rec idem.Record, now time.Time) (idem.Reservation, error)
	CompleteIdempotency(ctx context.Context, key, token string, status int, headers map[string]string, body string) error
	ReleaseIdempotency(ctx context.Context, key, token string) error
}

// notReplayed are the POST routes that ignore Idempotency-Key: a reveal
// answers with identifiers in the clear, which must not be copied into the
// idempotency table for 24 h, and every reveal must leave its own audit
// record (a replay would hand them out unrecorded). Repeating one is
// harmless: it reveals, and is recorded, again.
var notReplayed = map[string]bool{"POST " + revealPath: true}

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
		Key:         hashHex(r.actor.UserID, rt.Key(), clientKey),
		Fingerprint: hashHex(rt.Key(), paramsKey(r.params), string(r.body)),
		State:       idem.StateInProgress,
		Token:       newToken(),
		LeaseUntil:  now.Add(idempotencyLease),
		ExpiresAt:   now.Add(idempotencyTTL),
	}
	res, err := a.idem.ReserveIdempotency(ctx, rec, now)
	if err != nil {
		// The reservation may have been written although the call failed
		// (its response lost): free it, best effort, so that the client's
		// retry need not wait out the lease.
		_ = a.idem.ReleaseIdempotency(ctx, rec.Key, rec.Token)
		return problemResponse(log, err, r.lang)
	}
	if !res.Held {
		existing := res.Existing
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
	mark := idem.Mark{Key: rec.Key, Token: rec.Token}
	resp, completed := a.runHeld(ctx, log, mark, run)
	if completed {
		return resp
	}
	if !replayable(resp.StatusCode) {
		// Only answers the same request would always get again are
		// stored: a 5xx ("retry later") or a 409/429 (what someone else's
		// write or the moment caused) replayed for 24 h would be a lie.
		// Nothing was applied (a use case commits its effect and its
		// 2xx/4xx answer together): release the key so the retry runs
		// again. If the store refuses (the side effect was committed, its
		// response lost) or cannot be reached, leave the reservation:
		// applied answers the retry with request_already_applied, in
		// progress is taken over once its lease ends.
		if err := a.idem.ReleaseIdempotency(ctx, rec.Key, rec.Token); err != nil {
			log.Warn("idempotency reservation kept", "status", resp.StatusCode, "kind", domain.KindOf(err).String(), "code", domain.CodeOf(err))
		}
		return resp
	}
	if err := a.idem.CompleteIdempotency(ctx, rec.Key, rec.Token, resp.StatusCode, resp.Headers, resp.Body); err != nil {
		log.Warn("idempotency record not completed", "kind", domain.KindOf(err).String(), "err", err)
	}
	return resp
}

// runHeld runs a keyed request whose store holds its side effect back
// (idem.Deferral) and writes it with the response: one transaction applies
// the change and stores the response for replay (completed true), so a
// keyed write costs no more than its reservation over a plain one.
//
// When that transaction fails (someone else's write in between, a fault),
// nothing of it applied, or settle has found out that it did (then it
// completed). The request then runs again the way a plain commit works:
// the use case commits at once, under its own retries and with its own
// answer to a failed write (409, 503...), and the caller records or
// releases the key after it. The reservation's condition keeps the side
// effect applied at most once across both runs.
func (a *API) runHeld(ctx context.Context, log *slog.Logger, mark idem.Mark, run func(context.Context) events.APIGatewayV2HTTPResponse) (events.APIGatewayV2HTTPResponse, bool) {
	marked := idem.WithMark(ctx, mark)
	var d idem.Deferral
	resp := run(idem.WithDeferral(marked, &d))
	if err := d.Failed(); err != nil {
		// A held change was written early (before a later store call or
		// a provider call) and that write failed: whatever the request
		// answered after it may describe a change that is not there.
		log.Info("held write failed, running again", "kind", domain.KindOf(err).String(), "code", domain.CodeOf(err))
		return run(marked), false
	}
	if !d.Holding() {
		return resp, false // no write (a failure, or a read-only answer), or written already
	}
	if !replayable(resp.StatusCode) {
		// A change and a 409/5xx together: applied as an immediate commit
		// would, the key kept (the caller's release finds it applied).
		if err := d.Write(marked, nil); err != nil {
			log.Warn("held write of a non-replayable answer failed", "status", resp.StatusCode, "kind", domain.KindOf(err).String(), "code", domain.CodeOf(err))
		}
		return resp, false
	}
	err := d.Write(marked, &idem.Response{Status: resp.StatusCode, Headers: resp.Headers, Body: resp.Body})
	if err == nil {
		return resp, true
	}
	log.Info("held write failed, running again", "kind", domain.KindOf(err).String(), "code", domain.CodeOf(err))
	return run(marked), false
}

// replayable reports whether a response is stored under its
// Idempotency-Key and replayed to the key's retries: 2xx, and the 4xx a
// request always gets again (malformed, invalid, forbidden, not found,
// too large). Never 409 (a conflict is about the state at that moment,
// often caused by another writer), 429 (a rate) or 5xx.
func replayable(status int) bool {
	switch {
	case status >= 200 && status < 300:
		return true
	case status == 409 || status == 429 || status == 408 || status == 425:
		return false
	}
	return status >= 400 && status < 500
}

// paramsKey is the path parameters in a fixed order: the same key on
// another object (another case, another certification type) is another
// request.
func paramsKey(params map[string]string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + params[k] + "&")
	}
	return b.String()
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
