// Package apitest runs the API in process for tests: ApiFunction's wiring
// (httpapi over certsvc over store) on a fresh table of the DynamoDB
// stand-in (storetest), an in-memory bucket, a fake clock, the document
// check over the same store and bucket, and a builder of the events API
// Gateway and S3 send. Route tests, use-case tests, the document check's
// outcome tests, the fault tests and the DynamoDB call counts of
// infra/bench/apicalls run on it; none starts a process.
//
//	e := apitest.New(t)
//	ent := e.Must(201, apitest.Request{Route: "POST /v1/enterprises", As: apitest.Owner, Body: apitest.EnterpriseBody(1)})
//	r := e.Do(apitest.Request{Route: "GET /v1/enterprises/{enterpriseId}",
//		Params: apitest.P("enterpriseId", ent["id"]), As: apitest.Applicant("someone-else")})
//	// r.Status == 404, r.Code() == "not_found"
package apitest

import (
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"microcert/shared/certsvc"
	"microcert/shared/clock"
	"microcert/shared/domain"
	"microcert/shared/httpapi"
	"microcert/shared/notify/outbound"
	"microcert/shared/store"
	"microcert/shared/store/storetest"
	"microcert/shared/uploadcheck"
)

// Start is the fake clock's default start: a Thursday, 10:00 in Beijing.
var Start = time.Date(2026, 9, 24, 2, 0, 0, 0, time.UTC)

// Secrets are the webhook and deposit keys the Env's service runs with.
var Secrets = certsvc.Secrets{
	FaceWebhook:    "apitest-face-secret",
	PaymentWebhook: "apitest-payment-secret",
	DepositHMACKey: "apitest-deposit-key",
}

// Env is the API and the document check wired as in production, in process.
type Env struct {
	T       testing.TB
	Table   *storetest.Env
	Clock   *clock.Fake
	Bucket  *Bucket
	Rules   domain.Rules
	Store   *store.Store
	Service *certsvc.Service
	API     *httpapi.API
	Checker *uploadcheck.Checker
	Log     *slog.Logger

	shared *counters
	dynamo []func(*dynamodb.Options)
	// refunds is the payment provider's refund API the service calls.
	refunds certsvc.RefundProvider
	// handoff hands the refunds requests make owed over (nil: in-process).
	handoff certsvc.RefundHandoff
}

// counters are shared by an Env and its Rewire copies, so that keys,
// request ids and sequencers never repeat within one table, also when
// requests are sent at once from several goroutines.
type counters struct {
	mu sync.Mutex
	n  int
}

func (c *counters) next() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return c.n
}

// Option adjusts New.
type Option func(*settings)

type settings struct {
	refunds certsvc.RefundProvider
	handoff certsvc.RefundHandoff
	dynamo  []func(*dynamodb.Options)
	rules   domain.Rules
	start   time.Time
}

// WithDynamoDB adjusts the store's DynamoDB client: a storetest.Counter's
// Option, a faults.Injector's DynamoDB, fewer retries...
func WithDynamoDB(opts ...func(*dynamodb.Options)) Option {
	return func(s *settings) { s.dynamo = append(s.dynamo, opts...) }
}

// WithRules runs the service, the store and the check with r instead of
// domain.DefaultRules.
func WithRules(r domain.Rules) Option { return func(s *settings) { s.rules = r } }

// WithRefunds gives the service a payment provider's refund API (none by
// default: refunds are recorded and stay pending).
func WithRefunds(p certsvc.RefundProvider) Option { return func(s *settings) { s.refunds = p } }

// WithHandoff gives the service a hand-off of the refunds requests make
// owed (none by default: they are sent in-process once written).
func WithHandoff(h certsvc.RefundHandoff) Option { return func(s *settings) { s.handoff = h } }

// At starts the fake clock at t instead of Start.
func At(t time.Time) Option { return func(s *settings) { s.start = t } }

// New starts a stand-in table for the test and wires everything on it.
func New(t testing.TB, opts ...Option) *Env {
	t.Helper()
	s := settings{rules: domain.DefaultRules, start: Start}
	for _, o := range opts {
		o(&s)
	}
	clk := clock.NewFake(s.start)
	e := &Env{
		T:      t,
		Table:  storetest.Start(t),
		Clock:  clk,
		Bucket: NewBucket(clk),
		Rules:  s.rules,
		Log:    slog.New(slog.DiscardHandler),
		shared: &counters{},

		refunds: s.refunds,
		handoff: s.handoff,
	}
	e.wire(s.dynamo)
	return e
}

// Rewire returns a copy of e whose store, service, API and check use a
// client with opts over the same table, clock and bucket (e.g. one with
// faults beside a clean one).
func (e *Env) Rewire(opts ...func(*dynamodb.Options)) *Env {
	c := *e
	c.wire(opts)
	return &c
}

// Later returns a copy of e whose clock reads d later than e's (e's own
// clock does not move): a request sent through it happens then.
func (e *Env) Later(d time.Duration) *Env {
	c := *e
	c.Clock = clock.NewFake(e.Clock.Now().Add(d))
	c.wire(c.dynamo)
	return &c
}

func (e *Env) wire(dynamo []func(*dynamodb.Options)) {
	e.dynamo = dynamo
	client := dynamodb.New(e.Table.Client.Options(), dynamo...)
	e.Store = store.New(client, e.Table.Table, e.Rules).WithClock(e.Clock)
	e.Service = certsvc.New(certsvc.Config{Store: e.Store, Blob: e.Bucket, Clock: e.Clock, Rules: e.Rules,
		Secrets: Secrets, Log: e.Log, Refunds: e.refunds, Handoff: e.handoff,
		// As deployed: https only and no address inside a network (tests
		// use IP literals, so no DNS is asked).
		WebhookURLs: outbound.Policy{}})
	e.API = httpapi.New(httpapi.Config{Service: e.Service, Idempotency: e.Store, Clock: e.Clock, Log: e.Log})
	e.Checker = uploadcheck.New(e.Store, e.Bucket, e.Clock, e.Log)
}
