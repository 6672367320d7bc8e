package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
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
	// For the keys of keyedInCommit routes, which are never reserved.
	RecordIdempotency(ctx context.Context, rec idem.Record, resp idem.Response, now time.Time) (idem.Reservation, error)
	LookupIdempotency(ctx context.Context, key string) (*idem.Record, error)
}

// notReplayed are the POST routes that ignore Idempotency-Key: a reveal
// answers with identifiers in the clear, which must not be copied into the
// idempotency table for 24 h, and every reveal must leave its own audit
// record (a replay would hand them out unrecorded). Repeating one is
// harmless: it reveals, and is recorded, again.
var notReplayed = map[string]bool{"POST " + revealPath: true}

// keyedInCommit are the POST routes whose Idempotency-Key is not reserved
// before the request runs: the transaction that applies the request's
// change creates the key's record (with the response), on condition that
// no other request's record is there, so the change still commits at most
// once per key, and a keyed request costs no call more than a plain one.
// The key is read only when the request did not complete that way
// (inCommit). This is safe only for a route whose every effect is that one
// transaction, made under the version it read: a duplicate then runs its
// reads and fails its write, with nothing done outside the table on the
// way. Every other route reserves its key first: provider calls, presigned
// uploads and sends must never be made twice for one key, even by
// requests running at once.
var keyedInCommit = map[string]bool{
	// A reviewer's decision: reads of the case and the enterprises
	// concerned, then one transaction under the case version the
	// reviewer pinned, with everything it does (the fees a won dispute
	// owes back on the loser's withdrawn cases are written there as
	// refunds due, which the refund job sends; nothing is handed on).
	// A won dispute whose loser has open cases needs all 4 calls of the
	// write budget for that: no room for a reservation.
	"POST /v1/cases/{caseId}/decision": true,
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
		Key:         hashHex(r.actor.UserID, rt.Key(), clientKey),
		Fingerprint: hashHex(rt.Key(), paramsKey(r.params), string(r.body)),
		State:       idem.StateInProgress,
		Token:       newToken(),
		LeaseUntil:  now.Add(idempotencyLease),
		ExpiresAt:   now.Add(idempotencyTTL),
	}
	if keyedInCommit[rt.Key()] {
		return a.inCommit(ctx, log, r, rec, now, run)
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
		return answerExisting(log, r, rec, res.Existing, now)
	}
	mark := idem.Mark{Key: rec.Key, Token: rec.Token}
	resp, completed := a.runHeld(ctx, log, r.lang, mark, run)
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

// answerExisting answers a keyed request from the record another request
// holds its key with: the replay of a done one with the same request, 422
// for another request, and 409 while the first one runs or once it was
// applied without its answer recorded.
func answerExisting(log *slog.Logger, r *request, rec, existing idem.Record, now time.Time) events.APIGatewayV2HTTPResponse {
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
		return problemResponse(log, idem.ErrAlreadyApplied, r.lang)
	default:
		return problemResponse(log, domain.E(domain.KindConflict, "request_in_progress",
			"相同 Idempotency-Key 的请求正在处理中。", "A request with this Idempotency-Key is still in progress."), r.lang)
	}
}

// inCommit runs a keyed request of a keyedInCommit route: no reservation;
// its change's transaction creates the key's record done with the
// response (idem.Mark.Create), which is the whole cost of the key when it
// commits. Otherwise the answer may not be this request's to give:
//   - a replayable answer (2xx, and the 4xx a request always gets again)
//     is stored under the key, unless another request's record is there:
//     then that one answers (the same request's answer replayed, 422 for
//     another body). So a refusal binds the key as with a reservation;
//   - any other answer (a 409 such as version_conflict, a 5xx) may come
//     from this key's own earlier commit (a lost response: the retry finds
//     the version moved on, the claim released, or its own record in the
//     transaction's way) or from a concurrent twin that committed first:
//     the key is read, and a record there answers. Without one the answer
//     is this request's own (someone else's write: the usual 409). If the
//     key cannot be read the outcome is unknown: 503, retry.
//
// A change written before the answer (a later store call of the request,
// or its run again after a failed held write) created the record applied
// with this request's token: the answer completes it or leaves it, as
// with a reservation.
func (a *API) inCommit(ctx context.Context, log *slog.Logger, r *request, rec idem.Record, now time.Time, run func(context.Context) events.APIGatewayV2HTTPResponse) events.APIGatewayV2HTTPResponse {
	mark := idem.Mark{Key: rec.Key, Token: rec.Token, Create: &rec, At: now}
	resp, completed := a.runHeld(ctx, log, r.lang, mark, run)
	if completed {
		return resp
	}
	if replayable(resp.StatusCode) {
		res, err := a.idem.RecordIdempotency(ctx, rec, idem.Response{Status: resp.StatusCode, Headers: resp.Headers, Body: resp.Body}, now)
		switch {
		case err == nil && res.Held:
			return resp
		case err == nil:
			return answerExisting(log, r, rec, res.Existing, now)
		case resp.StatusCode < 300:
			// What it answers is so (its change, if any, is written):
			// only the replay is lost, as when a completion fails.
			log.Warn("idempotency record not stored", "kind", domain.KindOf(err).String(), "err", err)
			return resp
		default:
			return problemResponse(log, err, r.lang)
		}
	}
	existing, err := a.idem.LookupIdempotency(ctx, rec.Key)
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return resp
	case err != nil:
		return problemResponse(log, err, r.lang)
	case existing.Token == rec.Token && existing.State != idem.StateDone:
		// Its own change with a non-replayable answer: applied, kept.
		return resp
	}
	// Done with this request's token too: its first run committed with
	// its answer (the outcome then unknown), that answer stands.
	return answerExisting(log, r, rec, *existing, now)
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
// effect applied at most once across both runs; when it is what failed
// (another request's record holds the key), running again cannot commit
// and the failure is the answer.
func (a *API) runHeld(ctx context.Context, log *slog.Logger, lang string, mark idem.Mark, run func(context.Context) events.APIGatewayV2HTTPResponse) (events.APIGatewayV2HTTPResponse, bool) {
	marked := idem.WithMark(ctx, mark)
	var d idem.Deferral
	resp := run(idem.WithDeferral(marked, &d))
	if err := d.Failed(); err != nil {
		// A held change was written early (before a later store call)
		// and that write failed: whatever the request
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
	if domain.CodeOf(err) == idem.ErrAlreadyApplied.Code {
		return problemResponse(log, err, lang), false
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
