package faults_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"microcert/shared/domain"
	"microcert/shared/faults"
	"microcert/shared/httpapi/apitest"
)

// The Idempotency-Key crash cases, through the real HTTP adapter, use case
// and store against the DynamoDB stand-in, with faults aimed at single
// writes: whatever is lost, a retry with the same key never applies the side
// effect twice, and a failure is a 503 with Retry-After, never a 500.

// pkOf is the partition key of a DynamoDB input ("" if it has none).
func pkOf(in any) string {
	var av map[string]types.AttributeValue
	switch v := in.(type) {
	case *dynamodb.PutItemInput:
		av = v.Item
	case *dynamodb.UpdateItemInput:
		av = v.Key
	case *dynamodb.DeleteItemInput:
		av = v.Key
	case *dynamodb.GetItemInput:
		av = v.Key
	}
	if s, ok := av["pk"].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// on matches op calls; with idem, only those on an idempotency record.
func on(op string, idem bool) func(faults.Call) bool {
	return func(c faults.Call) bool {
		return c.Operation == op && (!idem || strings.HasPrefix(pkOf(c.Input), "IDEM#"))
	}
}

func either(ms ...func(faults.Call) bool) func(faults.Call) bool {
	return func(c faults.Call) bool {
		for _, m := range ms {
			if m(c) {
				return true
			}
		}
		return false
	}
}

// crashEnv is the API in process (apitest) whose store client retries
// once; api gives its wiring over a client with faults.
type crashEnv struct {
	t *testing.T
	*apitest.Env
}

func newCrashEnv(t *testing.T) *crashEnv {
	return &crashEnv{t: t, Env: apitest.New(t, apitest.WithDynamoDB(func(o *dynamodb.Options) { o.RetryMaxAttempts = 2 }))}
}

// api is ApiFunction's wiring over a client with inj (nil: no faults).
func (e *crashEnv) api(inj *faults.Injector) *apitest.Env {
	if inj == nil {
		return e.Env
	}
	return e.Rewire(func(o *dynamodb.Options) { o.RetryMaxAttempts = 2 }, inj.DynamoDB)
}

func (e *crashEnv) createEnterprise(api *apitest.Env, key, body string) apitest.Response {
	e.t.Helper()
	return api.Do(apitest.Request{Route: "POST /v1/enterprises", As: apitest.Owner, Body: body,
		Headers: map[string]string{"Idempotency-Key": key}})
}

func enterpriseJSON(n int) string {
	b, _ := json.Marshal(map[string]any{
		"name": "深圳市故障注入科技有限公司", "uscc": domain.SampleUSCC(n),
		"legalRep":          map[string]any{"name": "王五", "idNumber": domain.SampleIDNumber(n), "phone": "13812345678"},
		"registeredAddress": "广东省深圳市南山区科技园路1号", "operatingAddress": "广东省深圳市南山区科技园路1号",
		"regionCode": "440300", "hasCorporateAccount": true,
	})
	return string(b)
}

// entities counts the table's items by entity, read without faults.
func (e *crashEnv) entities() map[string]int {
	e.t.Helper()
	out, err := e.Table.Client.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(e.Table.Table)})
	if err != nil {
		e.t.Fatal(err)
	}
	n := map[string]int{}
	for _, it := range out.Items {
		if s, ok := it["entity"].(*types.AttributeValueMemberS); ok {
			n[s.Value]++
		}
	}
	return n
}

func (e *crashEnv) idemState() string {
	e.t.Helper()
	out, err := e.Table.Client.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(e.Table.Table)})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, it := range out.Items {
		if s, ok := it["entity"].(*types.AttributeValueMemberS); ok && s.Value == "idempotency" {
			return it["state"].(*types.AttributeValueMemberS).Value
		}
	}
	return "none"
}

func want(t *testing.T, what string, r apitest.Response, status int, code string) {
	t.Helper()
	if r.Status != status || (code != "" && r.Code() != code) {
		t.Fatalf("%s: %d %s, want %d %s", what, r.Status, r.Body, status, code)
	}
	if status == 503 && r.Headers["Retry-After"] == "" {
		t.Fatalf("%s: 503 without Retry-After", what)
	}
}

func (e *crashEnv) wantOneEnterprise() {
	e.t.Helper()
	if n := e.entities(); n["enterprise"] != 1 || n["uscc"] != 1 {
		e.t.Fatalf("items after the retry: %v, want one enterprise and one USCC claim", n)
	}
}

func injector(t *testing.T, cfg faults.Config) *faults.Injector {
	t.Helper()
	if cfg.Rate == 0 {
		cfg.Rate = 1
	}
	if len(cfg.Kinds) == 0 {
		cfg.Kinds = []faults.Kind{faults.ServerError, faults.Timeout}
	}
	return mustNew(t, cfg)
}

// first matches the first n calls that m matches (each with all its
// attempts).
func first(n int, m func(faults.Call) bool) func(faults.Call) bool {
	var mu sync.Mutex
	seen := 0
	return func(c faults.Call) bool {
		if !m(c) {
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		seen++
		return seen <= n
	}
}

// TestFaultIdemCrashAfterSideEffectBeforeResponseRecorded is the crash case:
// the enterprise is committed (and the reservation flipped to applied in the
// same transaction) but the response is never recorded (CompleteIdempotency
// fails: the function died, or the write was lost) and never reaches the
// client. The retry with the same key must not create a second enterprise.
//
// A keyed write normally stores its response in the transaction of its side
// effect, where this cannot happen: here that transaction fails (both SDK
// attempts, before anything is applied), so the request runs again with an
// immediate commit and a separate completion, which is then lost.
func TestFaultIdemCrashAfterSideEffectBeforeResponseRecorded(t *testing.T) {
	e := newCrashEnv(t)
	body := enterpriseJSON(101)
	inj := injector(t, faults.Config{Match: either(first(1, on("TransactWriteItems", false)), on("UpdateItem", true)), After: 0})
	first := e.createEnterprise(e.api(inj), "k-crash", body)
	want(t, "first attempt (its response is lost)", first, 201, "")
	if len(inj.Faults()) == 0 {
		t.Fatal("CompleteIdempotency was not faulted")
	}
	if s := e.idemState(); s != "applied" {
		t.Fatalf("reservation %s, want applied (side effect committed, response not recorded)", s)
	}
	clean := e.api(nil)
	// Within the lease the first attempt may still be about to record its
	// response (a concurrent retry): "in progress", retry later.
	want(t, "retry within the lease", e.createEnterprise(clean, "k-crash", body), 409, "request_in_progress")
	e.Clock.Advance(31 * time.Second)
	want(t, "retry after the lease", e.createEnterprise(clean, "k-crash", body), 409, "request_already_applied")
	e.wantOneEnterprise()
}

// TestFaultIdemCommitResponseLost: the transaction commits but every attempt's
// response is lost (the SDK's retry fails its conditions). The store reads
// the reservation, sees its own commit, and the request succeeds; the retry
// replays the response byte for byte.
func TestFaultIdemCommitResponseLost(t *testing.T) {
	e := newCrashEnv(t)
	body := enterpriseJSON(102)
	inj := injector(t, faults.Config{Match: on("TransactWriteItems", false), After: 1})
	first := e.createEnterprise(e.api(inj), "k-lost", body)
	want(t, "first attempt", first, 201, "")
	if c := faults.Counts(inj.Faults()); c["5xx after"]+c["timeout after"] == 0 {
		t.Fatalf("faults = %v", inj.Faults())
	}
	again := e.createEnterprise(e.api(nil), "k-lost", body)
	want(t, "retry", again, 201, "")
	if string(again.Body) != string(first.Body) || again.Headers["Idempotent-Replayed"] != "true" {
		t.Fatalf("retry is not a byte-for-byte replay:\n%s\n%s", first.Body, again.Body)
	}
	e.wantOneEnterprise()
}

// TestFaultIdemCommitOutcomeUnknown: the transaction commits, its response is lost,
// and the reservation cannot be read either: 503 with Retry-After. The
// transaction stored the response with the side effect, so the retry
// replays it byte for byte, within the lease and after.
func TestFaultIdemCommitOutcomeUnknown(t *testing.T) {
	e := newCrashEnv(t)
	body := enterpriseJSON(103)
	inj := injector(t, faults.Config{Match: either(on("TransactWriteItems", false), on("GetItem", true)), After: 1})
	first := e.createEnterprise(e.api(inj), "k-unknown", body)
	want(t, "first attempt", first, 503, "unavailable")
	clean := e.api(nil)
	within := e.createEnterprise(clean, "k-unknown", body)
	want(t, "retry within the lease", within, 201, "")
	e.Clock.Advance(31 * time.Second)
	after := e.createEnterprise(clean, "k-unknown", body)
	want(t, "retry after the lease", after, 201, "")
	for _, r := range []apitest.Response{within, after} {
		if r.Headers["Idempotent-Replayed"] != "true" || string(r.Body) != string(after.Body) {
			t.Fatalf("retry is not a replay: %v %s", r.Headers, r.Body)
		}
	}
	e.wantOneEnterprise()
}

// TestFaultIdemReservationResponseLost: the reservation is written but its response
// lost; the SDK's retry finds the attempt's own reservation and goes on.
func TestFaultIdemReservationResponseLost(t *testing.T) {
	e := newCrashEnv(t)
	inj := injector(t, faults.Config{Match: on("PutItem", true), After: 1, Limit: 1})
	r := e.createEnterprise(e.api(inj), "k-reserve", enterpriseJSON(104))
	want(t, "request", r, 201, "")
	if len(inj.Faults()) != 1 {
		t.Fatalf("faults = %v", inj.Faults())
	}
	e.wantOneEnterprise()
}

// TestFaultIdemFailureBeforeAnyWrite: nothing was applied: 503, the reservation is
// released, the retry runs the request.
func TestFaultIdemFailureBeforeAnyWrite(t *testing.T) {
	e := newCrashEnv(t)
	body := enterpriseJSON(105)
	inj := injector(t, faults.Config{Match: on("TransactWriteItems", false), After: 0})
	want(t, "first attempt", e.createEnterprise(e.api(inj), "k-before", body), 503, "unavailable")
	if s := e.idemState(); s != "none" {
		t.Fatalf("reservation %s after a failure with nothing applied, want released", s)
	}
	want(t, "retry", e.createEnterprise(e.api(nil), "k-before", body), 201, "")
	e.wantOneEnterprise()
}

// TestFaultIdemReleaseLost: nothing applied and the release fails too: the 503 is
// not stored; the key answers request_in_progress until the lease ends,
// then the retry takes it over and runs.
func TestFaultIdemReleaseLost(t *testing.T) {
	e := newCrashEnv(t)
	body := enterpriseJSON(106)
	inj := injector(t, faults.Config{Match: either(on("TransactWriteItems", false), on("DeleteItem", true)), After: 0})
	want(t, "first attempt", e.createEnterprise(e.api(inj), "k-release", body), 503, "unavailable")
	clean := e.api(nil)
	want(t, "retry within the lease", e.createEnterprise(clean, "k-release", body), 409, "request_in_progress")
	e.Clock.Advance(31 * time.Second)
	want(t, "retry after the lease", e.createEnterprise(clean, "k-release", body), 201, "")
	e.wantOneEnterprise()
}
