package httpapi_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
	"github.com/google/go-cmp/cmp"

	"microcert/shared/faults"
	"microcert/shared/httpapi/apitest"
)

// The Idempotency-Key of a reviewer's decision is never reserved: the
// decision's transaction creates the key's record with the response, and
// the key is read only when the request did not complete that way. These
// tests run the real adapter, service and store against the DynamoDB
// stand-in, with the decision of a won dispute whose losing holder has an
// open case (the request that needs all four calls of the write budget).

var (
	claimant = apitest.Applicant("claimant-1")
	decider  = apitest.Reviewer("reviewer-decides")
)

// decisionReq is the keyed decision to approve d at version with note.
func decisionReq(d apitest.Dispute, key string, version int, note string) apitest.Request {
	body := map[string]any{"decision": "approve", "version": version}
	if note != "" {
		body["note"] = note
	}
	return apitest.Request{Route: "POST /v1/cases/{caseId}/decision", Params: apitest.P("caseId", d.CaseID), As: decider,
		Body: body, Headers: map[string]string{"Idempotency-Key": key}}
}

// dynamoHook runs see on the typed input of every call of a client, before
// the SDK's retries (its Initialize step).
func dynamoHook(see func(in any)) func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("test.hook",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					see(in.Parameters)
					return next.HandleInitialize(ctx, in)
				}), middleware.Before)
		})
	}
}

// reservations counts the calls of the reservation protocol on an
// idempotency record: a reservation (put in progress), its completion
// (update) or release (delete). A keyed decision makes none: its record is
// created by its transaction, or stored done with a refusal.
type reservations struct {
	mu sync.Mutex
	n  int
}

func (r *reservations) option() func(*dynamodb.Options) {
	return dynamoHook(func(in any) {
		var key map[string]types.AttributeValue
		switch v := in.(type) {
		case *dynamodb.PutItemInput:
			if st, ok := v.Item["state"].(*types.AttributeValueMemberS); ok && st.Value == "in_progress" {
				key = v.Item
			}
		case *dynamodb.UpdateItemInput:
			key = v.Key
		case *dynamodb.DeleteItemInput:
			key = v.Key
		}
		if pk, ok := key["pk"].(*types.AttributeValueMemberS); ok && strings.HasPrefix(pk.Value, "IDEM#") {
			r.mu.Lock()
			r.n++
			r.mu.Unlock()
		}
	})
}

func (r *reservations) none(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n > 0 {
		t.Errorf("%d calls of the reservation protocol on an idempotency record, want none", r.n)
	}
}

// beforeTransact runs hook before a client's TransactWriteItems calls.
func beforeTransact(hook func()) func(*dynamodb.Options) {
	return dynamoHook(func(in any) {
		if _, ok := in.(*dynamodb.TransactWriteItemsInput); ok {
			hook()
		}
	})
}

// wantDecidedOnce checks that the dispute was decided by one commit: its
// version moved by one, one approval in its history, the holder's open
// case withdrawn.
func wantDecidedOnce(t *testing.T, e *apitest.Env, d apitest.Dispute) {
	t.Helper()
	c := e.Must(200, apitest.Request{Route: "GET /v1/cases/{caseId}", Params: apitest.P("caseId", d.CaseID), As: decider})
	approvals := 0
	for _, h := range c["history"].([]any) {
		if h := h.(map[string]any); h["subject"] == "case" && h["to"] == "approved" {
			approvals++
		}
	}
	if c["status"] != "approved" || c["version"] != float64(d.Version+1) || approvals != 1 {
		t.Fatalf("dispute after the decision: %v version %v, %d approvals in its history; want approved, version %d, 1",
			c["status"], c["version"], approvals, d.Version+1)
	}
	held := e.Must(200, apitest.Request{Route: "GET /v1/cases/{caseId}", Params: apitest.P("caseId", d.HolderCaseID), As: apitest.Owner})
	if held["status"] != "withdrawn" {
		t.Fatalf("the holder's open case is %v, want withdrawn", held["status"])
	}
}

func wantReplay(t *testing.T, what string, got, first apitest.Response) {
	t.Helper()
	if got.Status != first.Status || string(got.Body) != string(first.Body) || got.Headers["Idempotent-Replayed"] != "true" {
		t.Fatalf("%s: %d %v %s\nwant the replay of %d %s", what, got.Status, got.Headers, got.Body, first.Status, first.Body)
	}
}

// TestKeyedDecisionTwinsAtOnce: the same keyed decision sent twice at once
// (a mobile retry racing its first try), both past their reads before
// either writes: one transaction commits with the key's record, the other
// is cancelled by it, reads the key and replays the stored answer.
func TestKeyedDecisionTwinsAtOnce(t *testing.T) {
	e := apitest.New(t)
	d := e.ClaimedDispute(claimant, decider)
	// Both requests reach their transaction before either is sent (the
	// bound only turns a request that never arrives into a failure).
	var mu sync.Mutex
	arrivals := 0
	both := make(chan struct{})
	var res reservations
	api := e.Rewire(res.option(), beforeTransact(func() {
		mu.Lock()
		arrivals++
		n := arrivals
		if n == 2 {
			close(both)
		}
		mu.Unlock()
		if n <= 2 {
			select {
			case <-both:
			case <-time.After(time.Minute):
			}
		}
	}))

	req := decisionReq(d, "twins", d.Version, "")
	var out [2]apitest.Response
	var wg sync.WaitGroup
	for i := range out {
		wg.Add(1)
		go func() { defer wg.Done(); out[i] = api.Do(req) }()
	}
	wg.Wait()
	replayed := 0
	for i, r := range out {
		if r.Status != 200 {
			t.Fatalf("request %d: %d %s, want 200", i, r.Status, r.Body)
		}
		if r.Headers["Idempotent-Replayed"] == "true" {
			replayed++
		}
	}
	if string(out[0].Body) != string(out[1].Body) || replayed != 1 {
		t.Fatalf("answers differ or are not one first and one replay (%d replayed):\n%s\n%s", replayed, out[0].Body, out[1].Body)
	}
	wantDecidedOnce(t, e, d)

	before := items(t, e)
	first := out[0]
	if out[0].Headers["Idempotent-Replayed"] == "true" {
		first = out[1]
	}
	wantReplay(t, "a third try", call(t, api, 200, "", req), first)
	if diff := cmp.Diff(before, items(t, e)); diff != "" {
		t.Errorf("the replay changed the table (-before +after):\n%s", diff)
	}
	res.none(t)
}

// TestKeyedDecisionCommitResponseLost: the decision's transaction commits
// and every answer to it is lost (the SDK's own retry then fails its
// conditions on the stand-in). The store reads the key's record back and
// finds its own commit: 200. When even that read fails, the outcome is
// unknown: 503. Either way the client's retry with the key replays the
// stored answer, and the dispute is decided once.
func TestKeyedDecisionCommitResponseLost(t *testing.T) {
	onIdem := func(c faults.Call) bool {
		in, ok := c.Input.(*dynamodb.GetItemInput)
		if !ok {
			return false
		}
		pk, ok := in.Key["pk"].(*types.AttributeValueMemberS)
		return ok && strings.HasPrefix(pk.Value, "IDEM#")
	}
	tests := []struct {
		name string
		// lost also fails the key's reads (the outcome cannot be known).
		lost       func(faults.Call) bool
		wantStatus int
	}{
		{"the commit found in its record", func(faults.Call) bool { return false }, 200},
		{"the record cannot be read", onIdem, 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := apitest.New(t, apitest.WithDynamoDB(func(o *dynamodb.Options) { o.RetryMaxAttempts = 2 }))
			d := e.ClaimedDispute(claimant, decider)
			inj, err := faults.New(faults.Config{Rate: 1, Kinds: []faults.Kind{faults.ServerError, faults.Timeout}, After: 1,
				Match: func(c faults.Call) bool { return c.Operation == "TransactWriteItems" || tt.lost(c) }})
			if err != nil {
				t.Fatal(err)
			}
			var res reservations
			faulty := e.Rewire(func(o *dynamodb.Options) { o.RetryMaxAttempts = 2 }, res.option(), inj.DynamoDB)
			req := decisionReq(d, "lost", d.Version, "")
			// Not call: a 503 here is not a refusal, the change is written.
			first := faulty.Do(req)
			if first.Status != tt.wantStatus || (first.Status == 503 && first.Headers["Retry-After"] == "") {
				t.Fatalf("the decision whose commit answer is lost: %d %v %s, want %d", first.Status, first.Headers, first.Body, tt.wantStatus)
			}
			if c := faults.Counts(inj.Faults()); c["5xx after"]+c["timeout after"] == 0 {
				t.Fatalf("no answer was lost: %v", inj.Faults())
			}
			clean := e.Rewire(func(o *dynamodb.Options) { o.RetryMaxAttempts = 2 }, res.option())
			again := call(t, clean, 200, "", req)
			if again.Headers["Idempotent-Replayed"] != "true" {
				t.Fatalf("the retry is not a replay: %v %s", again.Headers, again.Body)
			}
			if first.Status == 200 {
				wantReplay(t, "the retry", again, first)
			}
			wantDecidedOnce(t, e, d)
			res.none(t)
		})
	}
}

// TestKeyedDecisionKeyReused: a key used for one decision and sent again
// with another body is 422 idempotency_key_reused and changes nothing,
// whether the first request committed (its record came with its change)
// or was refused (a refusal is stored under the key, as with a
// reservation).
func TestKeyedDecisionKeyReused(t *testing.T) {
	e := apitest.New(t)
	var res reservations
	api := e.Rewire(res.option())

	d := e.ClaimedDispute(claimant, decider)
	call(t, api, 200, "", decisionReq(d, "used", d.Version, ""))
	// Another body, at the case's version now or at the one read first:
	// refused, nothing written (call checks the table is unchanged).
	call(t, api, 422, "idempotency_key_reused", decisionReq(d, "used", d.Version+1, "再次审核"))
	call(t, api, 422, "idempotency_key_reused", decisionReq(d, "used", d.Version, "再次审核"))

	refused := e.ClaimedDispute(claimant, decider)
	noReasons := decisionReq(refused, "refused", refused.Version, "")
	noReasons.Body = map[string]any{"decision": "reject", "version": refused.Version}
	// The refusal is stored under the key (the one write it makes).
	first := api.Do(noReasons)
	if first.Status != 422 || first.Code() != "reasons_required" {
		t.Fatalf("a rejection without reasons: %d %s", first.Status, first.Body)
	}
	wantReplay(t, "the refusal again", call(t, api, 422, "reasons_required", noReasons), first)
	call(t, api, 422, "idempotency_key_reused", decisionReq(refused, "refused", refused.Version, ""))
	c := e.Must(200, apitest.Request{Route: "GET /v1/cases/{caseId}", Params: apitest.P("caseId", refused.CaseID), As: decider})
	if c["status"] != "in_review" || c["version"] != float64(refused.Version) {
		t.Fatalf("the dispute after a reused key: %v version %v", c["status"], c["version"])
	}
	res.none(t)
}

// TestKeyedDecisionSomeoneElsesWrite: another write to the case lands
// between the decision's reads and its transaction (the reviewer's claim
// refreshed from another device). The transaction fails on the case's
// version; the key has no record, so the answer is the usual 409
// version_conflict with the current version, not a replay, and the key
// stays free for the decision made again on what is there now.
func TestKeyedDecisionSomeoneElsesWrite(t *testing.T) {
	e := apitest.New(t)
	d := e.ClaimedDispute(claimant, decider)
	var once sync.Once
	var res reservations
	api := e.Rewire(res.option(), beforeTransact(func() {
		once.Do(func() {
			e.Must(200, apitest.Request{Route: "POST /v1/cases/{caseId}/claim", Params: apitest.P("caseId", d.CaseID), As: decider})
		})
	}))
	// Not call: the claim refreshed in between changes the table.
	r := api.Do(decisionReq(d, "raced", d.Version, ""))
	if r.Status != 409 || r.Code() != "version_conflict" || r.Headers["Idempotent-Replayed"] != "" {
		t.Fatalf("the decision after another write: %d %v %s; want 409 version_conflict, not a replay", r.Status, r.Headers, r.Body)
	}
	var p struct {
		CurrentVersion int `json:"currentVersion"`
	}
	r.Decode(t, &p)
	if p.CurrentVersion != d.Version+1 {
		t.Fatalf("currentVersion %d, want %d", p.CurrentVersion, d.Version+1)
	}
	d.Version = p.CurrentVersion
	call(t, api, 200, "", decisionReq(d, "raced", d.Version, ""))
	wantDecidedOnce(t, e, d)
	res.none(t)
}
