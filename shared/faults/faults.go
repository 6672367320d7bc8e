// Package faults injects the failures of cloud services into AWS SDK calls:
// throttling, server errors (5xx) and timeouts, at a set rate, before or
// after the real call. "After" is the nastiest case: the write happened but
// the caller sees an error, as when a response is lost on the way back.
//
// It is a testing aid. Functions turn it on only when FAULT_RATE is set in
// their environment (shared/config); it is off by default and FAULT_* is
// never set in template.yaml.
//
// The faults look exactly like the real ones: a throttle or a 5xx is a
// synthesized HTTP response (DynamoDB's JSON error document, S3's XML) that
// the SDK's own deserializers turn into the typed error
// (*types.ProvisionedThroughputExceededException, an S3 SlowDown, ...), and a
// timeout is the *smithyhttp.RequestSendError a real transport timeout gives.
// The middleware sits in the Deserialize step, inside the SDK's retry loop,
// so every attempt (retries included) may fail and the SDK's retryer, its
// retry quota and the callers' error mapping all see what they would see in
// AWS.
//
// Decisions come from one seeded generator per Injector: the same seed and
// the same sequence of calls give the same faults.
package faults

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Kind is a kind of fault.
type Kind string

// Kinds of faults.
const (
	// Throttle: DynamoDB ProvisionedThroughputExceededException (HTTP 400),
	// S3 SlowDown (HTTP 503). Always injected before the call: a throttled
	// request is not applied.
	Throttle Kind = "throttle"
	// ServerError: DynamoDB InternalServerError, S3 InternalError (HTTP 500).
	// DynamoDB documents that the request may or may not have been applied.
	ServerError Kind = "5xx"
	// Timeout: the transport gave up waiting (a net.Error with Timeout()
	// that is also context.DeadlineExceeded, as net/http's is).
	Timeout Kind = "timeout"
	// LostRace: another writer got there first: DynamoDB
	// ConditionalCheckFailedException (HTTP 400), S3 PreconditionFailed
	// (HTTP 412). Always before the call. Not in AllKinds: it is for
	// proving what a writer that loses every race answers.
	LostRace Kind = "lost_race"
)

// AllKinds is the default mix, each kind equally likely.
var AllKinds = []Kind{Throttle, ServerError, Timeout}

// When says on which side of the real call a fault is injected.
type When string

const (
	// Before: the request never reaches the service.
	Before When = "before"
	// After: the service applied the request; its response is dropped and
	// the caller sees the fault instead.
	After When = "after"
)

// Call is an SDK operation about to be attempted.
type Call struct {
	Service   string // the SDK's service id: "DynamoDB", "S3"
	Operation string // "TransactWriteItems", "GetObject", ...
	Input     any    // the operation's input, e.g. *dynamodb.UpdateItemInput
}

// Config sets what to inject.
type Config struct {
	// Rate is the chance, in [0, 1], that one attempt fails. Each attempt
	// of the SDK's retryer is a separate draw.
	Rate float64
	// Seed seeds the generator: same seed, same faults for the same calls.
	Seed uint64
	// Kinds is the mix to draw from, each equally likely (nil: AllKinds).
	Kinds []Kind
	// After is the share, in [0, 1], of 5xx and timeouts injected after the
	// real call (throttles are always before). Negative means the default,
	// 0.5; use 0 for "never after".
	After float64
	// Match chooses the calls that may fail (nil: all of them).
	Match func(Call) bool
	// Limit stops injecting after this many faults (0: no limit), e.g. 1
	// to fail only the first attempt of a chosen call.
	Limit int
	// Log gets one line per injected fault (nil: none). The line names the
	// service, operation, kind, side and sequence number, nothing of the
	// request's content.
	Log *slog.Logger
}

// Fault is one injected failure.
type Fault struct {
	N         int // 1-based sequence number within the Injector
	Service   string
	Operation string
	Kind      Kind
	When      When
}

// String is "DynamoDB.PutItem 5xx after".
func (f Fault) String() string {
	return f.Service + "." + f.Operation + " " + string(f.Kind) + " " + string(f.When)
}

// Injector draws and injects faults. Install it on clients with DynamoDB and
// S3; one Injector may serve several clients (one sequence of draws). It is
// safe for concurrent use.
type Injector struct {
	cfg Config

	mu     sync.Mutex
	rng    *rand.Rand
	n      int
	faults []Fault
	calls  int
}

// New validates cfg and returns an Injector.
func New(cfg Config) (*Injector, error) {
	if cfg.Rate < 0 || cfg.Rate > 1 || cfg.Rate != cfg.Rate {
		return nil, fmt.Errorf("faults: rate %v is not in [0, 1]", cfg.Rate)
	}
	if cfg.After < 0 {
		cfg.After = 0.5
	}
	if cfg.After > 1 {
		return nil, fmt.Errorf("faults: after share %v is not in [0, 1]", cfg.After)
	}
	if len(cfg.Kinds) == 0 {
		cfg.Kinds = AllKinds
	}
	for _, k := range cfg.Kinds {
		if k != Throttle && k != ServerError && k != Timeout && k != LostRace {
			return nil, fmt.Errorf("faults: unknown kind %q (want throttle, 5xx, timeout or lost_race)", k)
		}
	}
	return &Injector{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))}, nil
}

// Env names the variables FromEnv reads.
const (
	EnvRate  = "FAULT_RATE"  // 0..1; unset or empty: no injection
	EnvSeed  = "FAULT_SEED"  // uint64; default 1; mixed with AWS_LAMBDA_FUNCTION_NAME
	EnvKinds = "FAULT_KINDS" // comma list of throttle, 5xx, timeout, lost_race; default the first three
	EnvAfter = "FAULT_AFTER" // share of 5xx/timeouts after the call; default 0.5
	EnvOps   = "FAULT_OPS"   // comma list of Operation or Service.Operation; default all
	EnvLimit = "FAULT_LIMIT" // stop after this many faults per process; default no limit
)

// FromEnv builds an Injector from the FAULT_* variables read with getenv.
// on is false (and the injector nil) when FAULT_RATE is unset or empty:
// injection is off, which is the normal case.
func FromEnv(getenv func(string) string, log *slog.Logger) (inj *Injector, on bool, err error) {
	rate := strings.TrimSpace(getenv(EnvRate))
	if rate == "" {
		return nil, false, nil
	}
	cfg := Config{Seed: 1, After: -1, Log: log}
	if cfg.Rate, err = strconv.ParseFloat(rate, 64); err != nil {
		return nil, false, fmt.Errorf("%s %q: not a number", EnvRate, rate)
	}
	if v := strings.TrimSpace(getenv(EnvSeed)); v != "" {
		if cfg.Seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			return nil, false, fmt.Errorf("%s %q: not an unsigned integer", EnvSeed, v)
		}
	}
	if fn := getenv("AWS_LAMBDA_FUNCTION_NAME"); fn != "" {
		// Each function draws its own sequence, still fixed by the seed.
		h := fnv.New64a()
		h.Write([]byte(fn))
		cfg.Seed ^= h.Sum64()
	}
	if v := strings.TrimSpace(getenv(EnvAfter)); v != "" {
		if cfg.After, err = strconv.ParseFloat(v, 64); err != nil || cfg.After < 0 {
			return nil, false, fmt.Errorf("%s %q: not a share in [0, 1]", EnvAfter, v)
		}
	}
	if v := strings.TrimSpace(getenv(EnvLimit)); v != "" {
		if cfg.Limit, err = strconv.Atoi(v); err != nil || cfg.Limit < 0 {
			return nil, false, fmt.Errorf("%s %q: not a count", EnvLimit, v)
		}
	}
	for _, k := range splitList(getenv(EnvKinds)) {
		cfg.Kinds = append(cfg.Kinds, Kind(k))
	}
	if ops := splitList(getenv(EnvOps)); len(ops) > 0 {
		cfg.Match = MatchOperations(ops...)
	}
	inj, err = New(cfg)
	return inj, err == nil, err
}

func splitList(v string) []string {
	var out []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// MatchOperations matches calls by "Operation" (any service) or
// "Service.Operation", e.g. "TransactWriteItems", "S3.GetObject".
func MatchOperations(ops ...string) func(Call) bool {
	set := map[string]bool{}
	for _, o := range ops {
		set[o] = true
	}
	return func(c Call) bool { return set[c.Operation] || set[c.Service+"."+c.Operation] }
}

// DynamoDB installs the injector on a DynamoDB client:
// dynamodb.NewFromConfig(cfg, inj.DynamoDB).
func (i *Injector) DynamoDB(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, i.install(dynamoErrors))
}

// S3 installs the injector on an S3 client: s3.NewFromConfig(cfg, inj.S3).
func (i *Injector) S3(o *s3.Options) {
	o.APIOptions = append(o.APIOptions, i.install(s3Errors))
}

// Faults returns the faults injected so far, in order.
func (i *Injector) Faults() []Fault {
	i.mu.Lock()
	defer i.mu.Unlock()
	return append([]Fault(nil), i.faults...)
}

// Attempts is the number of attempts that were candidates for a fault.
func (i *Injector) Attempts() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.calls
}

// Counts tallies faults by "kind when" (e.g. "5xx after").
func Counts(fs []Fault) map[string]int {
	out := map[string]int{}
	for _, f := range fs {
		out[string(f.Kind)+" "+string(f.When)]++
	}
	return out
}

// Summary renders counts sorted by key, for logs and test output.
func Summary(counts map[string]int) string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s: %d", k, counts[k])
	}
	return b.String()
}

// draw decides the fault of one attempt (ok false: none).
func (i *Injector) draw(service, op string) (Fault, bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.calls++
	if i.cfg.Limit > 0 && i.n >= i.cfg.Limit {
		return Fault{}, false
	}
	if i.cfg.Rate <= 0 || i.rng.Float64() >= i.cfg.Rate {
		return Fault{}, false
	}
	k := i.cfg.Kinds[i.rng.IntN(len(i.cfg.Kinds))]
	when := Before
	if k != Throttle && k != LostRace && i.rng.Float64() < i.cfg.After {
		when = After
	}
	i.n++
	f := Fault{N: i.n, Service: service, Operation: op, Kind: k, When: when}
	i.faults = append(i.faults, f)
	return f, true
}

// errorResponses builds a service's error response for a kind.
type errorResponses func(k Kind, req *smithyhttp.Request, n int) *http.Response

// matchKey marks, per operation invocation, that Match chose the call.
type matchKey struct{}

const middlewareID = "faults.Inject"

func (i *Injector) install(errs errorResponses) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		if i.cfg.Match != nil {
			// Match sees the typed input, which only the Initialize step
			// has; the draw happens per attempt, in the Deserialize step.
			err := st.Initialize.Add(middleware.InitializeMiddlewareFunc(middlewareID+"Match",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					c := Call{Service: awsmiddleware.GetServiceID(ctx), Operation: awsmiddleware.GetOperationName(ctx), Input: in.Parameters}
					ctx = middleware.WithStackValue(ctx, matchKey{}, i.cfg.Match(c))
					return next.HandleInitialize(ctx, in)
				}), middleware.After)
			if err != nil {
				return err
			}
		}
		// After: the innermost deserialize middleware, right next to the
		// transport, so that everything the SDK does with a response
		// (deserializing, error wrapping, retrying) happens to ours too.
		return st.Deserialize.Add(middleware.DeserializeMiddlewareFunc(middlewareID,
			func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				return i.handle(ctx, in, next, errs)
			}), middleware.After)
	}
}

func (i *Injector) handle(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler, errs errorResponses) (middleware.DeserializeOutput, middleware.Metadata, error) {
	req, isHTTP := in.Request.(*smithyhttp.Request)
	if !isHTTP {
		return next.HandleDeserialize(ctx, in)
	}
	if i.cfg.Match != nil {
		if m, _ := middleware.GetStackValue(ctx, matchKey{}).(bool); !m {
			return next.HandleDeserialize(ctx, in)
		}
	}
	f, hit := i.draw(awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx))
	if !hit {
		return next.HandleDeserialize(ctx, in)
	}
	var md middleware.Metadata
	if f.When == After {
		out, m, err := next.HandleDeserialize(ctx, in)
		if err != nil || !succeeded(out.RawResponse) {
			// It failed by itself (nothing was applied, or the service
			// says what happened): nothing to fake.
			return out, m, err
		}
		md = m
		discard(out.RawResponse)
	}
	if i.cfg.Log != nil {
		i.cfg.Log.Warn("fault injected", "service", f.Service, "operation", f.Operation,
			"fault", string(f.Kind), "when", string(f.When), "n", f.N)
	}
	if f.Kind == Timeout {
		return middleware.DeserializeOutput{}, md, &smithyhttp.RequestSendError{Err: &timeoutError{op: req.Method, url: req.URL.String()}}
	}
	resp := errs(f.Kind, req, f.N)
	return middleware.DeserializeOutput{RawResponse: &smithyhttp.Response{Response: resp}}, md, nil
}

// succeeded reports whether a raw response is a 2xx.
func succeeded(raw any) bool {
	r, ok := raw.(*smithyhttp.Response)
	return ok && r != nil && r.Response != nil && r.StatusCode/100 == 2
}

// discard drains (a little) and closes a real response we replace.
func discard(raw any) {
	r, ok := raw.(*smithyhttp.Response)
	if !ok || r == nil || r.Body == nil {
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
	_ = r.Body.Close()
}

// timeoutError is what net/http returns when a client times out: a net.Error
// whose Timeout() is true and that is context.DeadlineExceeded.
type timeoutError struct{ op, url string }

func (e *timeoutError) Error() string {
	return e.op + " " + e.url + ": net/http: timeout awaiting response headers (injected fault)"
}
func (e *timeoutError) Timeout() bool   { return true }
func (e *timeoutError) Temporary() bool { return true }
func (e *timeoutError) Is(target error) bool {
	return target == context.DeadlineExceeded
}

var _ net.Error = (*timeoutError)(nil)

func response(status int, contentType string, headers map[string]string, body string) *http.Response {
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	for k, v := range headers {
		h.Set(k, v)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	return &http.Response{
		Status:        strconv.Itoa(status) + " " + http.StatusText(status),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
	}
}

// dynamoErrors are DynamoDB's JSON 1.0 error documents.
func dynamoErrors(k Kind, req *smithyhttp.Request, n int) *http.Response {
	reqID := fmt.Sprintf("FAULT%027d", n)
	hdr := map[string]string{"X-Amzn-Requestid": reqID}
	const ct = "application/x-amz-json-1.0"
	if k == LostRace {
		if strings.HasSuffix(req.Header.Get("X-Amz-Target"), ".TransactWriteItems") {
			// The first write of the transaction lost.
			return response(http.StatusBadRequest, ct, hdr,
				`{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException",`+
					`"message":"Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed] (injected fault)",`+
					`"CancellationReasons":[{"Code":"ConditionalCheckFailed","Message":"The conditional request failed"}]}`)
		}
		return response(http.StatusBadRequest, ct, hdr,
			`{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed (injected fault)"}`)
	}
	if k == Throttle {
		return response(http.StatusBadRequest, ct, hdr,
			`{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",`+
				`"message":"The level of configured provisioned throughput for the table was exceeded. (injected fault)"}`)
	}
	return response(http.StatusInternalServerError, ct, hdr,
		`{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"Internal server error (injected fault)"}`)
}

// s3Errors are S3's XML error documents (no body for HEAD, as S3 does).
func s3Errors(k Kind, req *smithyhttp.Request, n int) *http.Response {
	reqID := fmt.Sprintf("FAULT%011d", n)
	hdr := map[string]string{"X-Amz-Request-Id": reqID, "X-Amz-Id-2": "injected-fault"}
	status, code, msg := http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again."
	switch k {
	case Throttle:
		status, code, msg = http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate."
	case LostRace:
		status, code, msg = http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold."
	}
	if req.Method == http.MethodHead {
		return response(status, "", hdr, "")
	}
	return response(status, "application/xml", hdr,
		`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<Error><Code>`+code+`</Code><Message>`+msg+
			` (injected fault)</Message><RequestId>`+reqID+`</RequestId></Error>`)
}
