package apicalls

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"microcert/shared/blob"
	"microcert/shared/certsvc"
	"microcert/shared/clock"
	"microcert/shared/doccheck/doccheckfixtures"
	"microcert/shared/domain"
	"microcert/shared/httpapi"
	"microcert/shared/store"
	"microcert/shared/store/storetest"
	"microcert/shared/uploadcheck"
	"microcert/shared/webhook"
)

var tableOut = flag.String("apicalls.json", "", "write the table as JSON to this file (infra/bench/report)")

const (
	faceSecret    = "bench-face-secret"
	paymentSecret = "bench-payment-secret"
	bucket        = "microcert-bench"
)

// harness is the API in-process over a counted client.
type harness struct {
	t       testing.TB
	counter *storetest.Counter
	st      *store.Store
	api     *httpapi.API
	checker *uploadcheck.Checker
	objects *memObjects
	seq     int
	n       int

	// label, when set, names the rows recorded (a route measured again in
	// another situation gets a row of its own).
	label string

	mu   sync.Mutex
	rows map[string]*Row
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	counter := storetest.NewCounter()
	client, table := storetest.NewTable(t, counter.Option())
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	st := store.New(client, table).WithRules(domain.DefaultRules)
	// Presigning signs locally and makes no network call: a dummy endpoint
	// is enough.
	s3c := s3.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("bench", "bench-secret", ""),
	}, func(o *s3.Options) {
		o.BaseEndpoint = aws.String("http://127.0.0.1:9")
		o.UsePathStyle = true
	})
	svc := certsvc.New(certsvc.Config{
		Store: st,
		Blob:  blob.New(s3c, bucket),
		Rules: domain.DefaultRules,
		Secrets: certsvc.Secrets{FaceWebhook: faceSecret, PaymentWebhook: paymentSecret,
			DepositHMACKey: "bench-deposit-key"},
		Log: log,
	})
	objects := &memObjects{m: map[string][]byte{}}
	return &harness{
		t:       t,
		counter: counter,
		st:      st,
		api:     httpapi.New(httpapi.Config{Service: svc, Idempotency: st, Log: log}),
		checker: uploadcheck.New(st, objects, clock.System{}, log),
		objects: objects,
		n:       int(time.Now().UnixNano() % 1_000_000),
		rows:    map[string]*Row{},
	}
}

// who calls.
type who struct {
	user  string
	group string // applicant, reviewer, admin; "" = public route
}

var (
	applicant = who{"bench-applicant", "applicant"}
	reviewer  = who{"bench-reviewer", "reviewer"}
	admin     = who{"bench-admin", "admin"}
	public    = who{}
)

// event builds the API Gateway v2 event of routeKey ("POST
// /v1/cases/{caseId}") as the gateway sends it. keyed adds an
// Idempotency-Key; extra are header name/value pairs.
func (h *harness) event(routeKey string, params map[string]string, by who, body any, keyed bool, extra ...string) events.APIGatewayV2HTTPRequest {
	h.t.Helper()
	method, path, _ := strings.Cut(routeKey, " ")
	raw := path
	for k, v := range params {
		raw = strings.ReplaceAll(raw, "{"+k+"}", v)
	}
	var b []byte
	switch v := body.(type) {
	case nil:
	case []byte:
		b = v
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			h.t.Fatal(err)
		}
	}
	h.seq++
	now := time.Now().UTC()
	headers := map[string]string{"host": "api.local", "accept-language": "zh-CN", "user-agent": "microcert-bench"}
	if len(b) > 0 {
		headers["content-type"] = "application/json"
		headers["content-length"] = fmt.Sprint(len(b))
	}
	if keyed {
		headers["idempotency-key"] = fmt.Sprintf("bench-%d-%d", h.n, h.seq)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		headers[strings.ToLower(extra[i])] = extra[i+1]
	}
	if len(params) == 0 {
		params = nil
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       routeKey,
		RawPath:        raw,
		Headers:        headers,
		PathParameters: params,
		Body:           string(b),
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: routeKey, AccountID: "000000000000", Stage: "$default", APIID: "bench",
			RequestID: fmt.Sprintf("bench-%d", h.seq), DomainName: "api.local", DomainPrefix: "api",
			Time: now.Format("02/Jan/2006:15:04:05 -0700"), TimeEpoch: now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: raw,
				Protocol: "HTTP/1.1", SourceIP: "127.0.0.1", UserAgent: "microcert-bench"},
		},
	}
	if by.group != "" {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
				Claims: map[string]string{"sub": by.user, "groups": "[" + by.group + "]", "token_use": "id"},
			},
		}
	}
	return ev
}

// call sends the event of routeKey and records its DynamoDB calls.
func (h *harness) call(routeKey string, params map[string]string, by who, body any, keyed bool, extra ...string) (int, map[string]any) {
	h.t.Helper()
	ev := h.event(routeKey, params, by, body, keyed, extra...)
	h.counter.Reset()
	resp, err := h.api.Handle(context.Background(), ev)
	if err != nil {
		h.t.Fatalf("%s: %v", routeKey, err)
	}
	c := h.count(resp.StatusCode)
	h.record(routeKey+h.label, by, keyed, c)
	var out map[string]any
	_ = json.Unmarshal([]byte(resp.Body), &out)
	return resp.StatusCode, out
}

func (h *harness) count(status int) Count {
	c := Count{Status: status, Calls: h.counter.TotalCalls(), ItemsRead: h.counter.ItemsRead(),
		Scans: h.counter.Calls("Scan"), ByOp: map[string]int{}}
	for _, op := range Ops {
		if n := h.counter.Calls(op); n > 0 {
			c.ByOp[op] = n
		}
	}
	return c
}

func (h *harness) record(route string, by who, keyed bool, c Count) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.rows[route]
	if r == nil {
		method, _, _ := strings.Cut(route, " ")
		r = &Row{Route: route, Kind: "write", Budget: MaxWriteCalls}
		if method == "GET" {
			r.Kind, r.Budget = "read", MaxReadCalls
		}
		if method == "EVENT" {
			r.Kind, r.Budget = "event", 0
		}
		h.rows[route] = r
	}
	if keyed {
		cc := c
		r.Keyed = &cc
	} else {
		r.Plain = c
	}
}

// must calls and fails unless the status is one of want.
func (h *harness) must(want []int, routeKey string, params map[string]string, by who, body any, keyed bool, extra ...string) map[string]any {
	h.t.Helper()
	st, out := h.call(routeKey, params, by, body, keyed, extra...)
	for _, w := range want {
		if st == w {
			return out
		}
	}
	h.t.Fatalf("%s %v: status %d, want %v: %v", routeKey, params, st, want, out)
	return nil
}

func codes(c ...int) []int { return c }

// memObjects is the S3 side of the document check, in memory.
type memObjects struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (o *memObjects) put(key string, b []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.m[key] = b
}

func (o *memObjects) Head(ctx context.Context, key string) (uploadcheck.ObjectInfo, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	b, ok := o.m[key]
	if !ok {
		return uploadcheck.ObjectInfo{}, uploadcheck.ErrObjectGone
	}
	return uploadcheck.ObjectInfo{Size: int64(len(b)), ContentType: "image/jpeg"}, nil
}

func (o *memObjects) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	b, ok := o.m[key]
	if !ok {
		return nil, fs.ErrNotExist
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (o *memObjects) Tag(ctx context.Context, key string, tags map[string]string) error { return nil }

// upload asks for a presigned POST, "uploads" the file and runs the
// document check on its S3 event, as DocCheckFunction would.
func (h *harness) upload(caseID, docType string, keyed bool) {
	h.uploadAs(applicant, caseID, docType, keyed)
}

func (h *harness) uploadAs(by who, caseID, docType string, keyed bool) {
	h.t.Helper()
	h.seq++
	content := doccheckfixtures.ScanJPEG(1000+h.seq%200, 800)
	up := h.must(codes(201), "POST /v1/cases/{caseId}/documents", map[string]string{"caseId": caseID}, by,
		map[string]any{"docType": docType, "contentType": "image/jpeg", "contentLength": len(content)}, keyed)
	key, _ := up["key"].(string)
	if key == "" {
		h.t.Fatalf("upload answer without key: %v", up)
	}
	h.objects.put(key, content)
	rec := events.S3EventRecord{EventName: "ObjectCreated:Post", EventSource: "aws:s3", AWSRegion: "us-east-1"}
	rec.S3.Bucket.Name = bucket
	rec.S3.Object.Key = key
	rec.S3.Object.Size = int64(len(content))
	rec.S3.Object.Sequencer = fmt.Sprintf("%X", time.Now().UnixNano())
	h.counter.Reset()
	out, err := h.checker.Process(context.Background(), rec)
	if err != nil || out != uploadcheck.Checked {
		h.t.Fatalf("document check of %s: %v %v", key, out, err)
	}
	h.record("EVENT S3 ObjectCreated uploads/ (DocCheckFunction)"+h.label, public, keyed, h.count(200))
}

// enterpriseBody is a valid profile; n makes its USCC and ID number unique.
func enterpriseBody(n int) map[string]any {
	return map[string]any{
		"name": "深圳市基准测试有限公司", "uscc": domain.SampleUSCC(n),
		"legalRep":          map[string]any{"name": "张三", "idNumber": domain.SampleIDNumber(n), "phone": "13812345678"},
		"registeredAddress": "广东省深圳市南山区科技园路1号", "operatingAddress": "广东省深圳市南山区科技园路1号",
		"regionCode": "440300", "hasCorporateAccount": true,
	}
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func num(m map[string]any, k string) int {
	f, _ := m[k].(float64)
	return int(f)
}

// flow drives every route once, as the apps, providers and reviewers do.
func (h *harness) flow(keyed bool) {
	t := h.t
	t.Helper()
	h.must(codes(200), "GET /v1/health", nil, public, nil, false)

	h.n++
	ent := h.must(codes(201), "POST /v1/enterprises", nil, applicant, enterpriseBody(h.n), keyed)
	entID := str(ent, "id")
	ep := map[string]string{"enterpriseId": entID}
	ent = h.must(codes(200), "GET /v1/enterprises/{enterpriseId}", ep, applicant, nil, false)
	h.must(codes(200), "GET /v1/enterprises", nil, applicant, nil, false)
	h.must(codes(200), "PATCH /v1/enterprises/{enterpriseId}", ep, applicant,
		map[string]any{"legalRep": map[string]any{"phone": "13812345679"}, "version": num(ent, "version")}, false)
	member := h.people(entID, keyed)

	cs := h.must(codes(201), "POST /v1/cases", nil, applicant,
		map[string]any{"enterpriseId": entID, "kind": "initial", "types": []string{"wecom", "official_account"}}, keyed)
	caseID := str(cs, "id")
	cp := map[string]string{"caseId": caseID}
	h.must(codes(200), "GET /v1/cases/{caseId}", cp, applicant, nil, false)

	for _, dt := range []string{"business_license", "legal_rep_id_front", "legal_rep_id_back"} {
		h.upload(caseID, dt, keyed)
	}
	var docs struct {
		Items []map[string]any `json:"items"`
	}
	_, page := h.call("GET /v1/cases/{caseId}/documents", cp, applicant, nil, false)
	if b, err := json.Marshal(page); err == nil {
		_ = json.Unmarshal(b, &docs)
	}
	if len(docs.Items) != 3 {
		t.Fatalf("documents: %v", page)
	}
	h.must(codes(200), "GET /v1/documents/{documentId}/download", map[string]string{"documentId": str(docs.Items[0], "id")}, applicant, nil, false)

	// Face: the app starts a session, the provider calls back (signed).
	face := h.must(codes(201), "POST /v1/cases/{caseId}/face-verification", cp, applicant, nil, keyed)
	cb, _ := json.Marshal(map[string]any{"sessionId": str(face, "sessionId"), "result": "pass", "phoneMatchesRegistration": true, "livenessScore": 0.98})
	h.must(codes(200), "POST /v1/callbacks/face", nil, public, cb, false, webhook.Header, webhook.Sign(faceSecret, time.Now(), cb))
	// QR is required only by some case kinds: a refusal costs what it costs.
	h.must(codes(201, 409), "POST /v1/cases/{caseId}/qr-verification", cp, applicant, nil, keyed)
	h.must(codes(200), "POST /v1/cases/{caseId}/explanation", cp, applicant, map[string]any{"text": "营业执照地址已更新。"}, keyed)

	// Micro-deposit: the amount is read from the payout outbox, as the
	// bank's statement would show it.
	h.must(codes(201), "POST /v1/cases/{caseId}/bank-verification", cp, applicant,
		map[string]any{"bankName": "招商银行深圳分行", "accountName": "深圳市基准测试有限公司", "accountNumber": "755912345678901"}, keyed)
	payouts, err := h.st.Payouts(context.Background(), caseID)
	if err != nil || len(payouts) == 0 {
		t.Fatalf("payouts: %v %v", payouts, err)
	}
	h.must(codes(200), "POST /v1/cases/{caseId}/bank-verification/confirm", cp, applicant,
		map[string]any{"amountFen": payouts[len(payouts)-1].AmountFen}, keyed)

	order := h.must(codes(201), "POST /v1/cases/{caseId}/payment", cp, applicant, nil, keyed)
	pb, _ := json.Marshal(map[string]any{"orderId": str(order, "orderId"), "status": "paid", "paidFen": num(order, "payableFen")})
	h.must(codes(200), "POST /v1/callbacks/payment", nil, public, pb, false, webhook.Header, webhook.Sign(paymentSecret, time.Now(), pb))

	h.must(codes(200), "POST /v1/cases/{caseId}/submit", cp, applicant, nil, keyed)
	h.must(codes(200), "GET /v1/enterprises/{enterpriseId}/cases", ep, applicant, nil, false)
	h.must(codes(200), "GET /v1/enterprises/{enterpriseId}/notifications", ep, applicant, nil, false)

	// Review.
	h.must(codes(200), "GET /v1/review/queue", nil, reviewer, nil, false)
	claimed := h.must(codes(200), "POST /v1/cases/{caseId}/claim", cp, reviewer, nil, keyed)
	h.must(codes(200), "POST /v1/cases/{caseId}/decision", cp, reviewer,
		map[string]any{"decision": "approve", "version": num(claimed, "version")}, keyed)

	// Certification endings: the owner cancels one, an admin revokes the other.
	h.must(codes(200), "POST /v1/enterprises/{enterpriseId}/certifications/{type}/cancel",
		map[string]string{"enterpriseId": entID, "type": "wecom"}, applicant, map[string]any{"reason": "不再使用"}, keyed)
	h.must(codes(200), "POST /v1/enterprises/{enterpriseId}/certifications/{type}/revoke",
		map[string]string{"enterpriseId": entID, "type": "official_account"}, admin,
		map[string]any{"reason": "违规经营", "severity": "major"}, keyed)

	// The owner hands the enterprise to the member, then leaves it.
	h.must(codes(200), "POST /v1/enterprises/{enterpriseId}/ownership", ep, applicant, map[string]any{"userId": member.user}, keyed)
	h.must(codes(204), "DELETE /v1/enterprises/{enterpriseId}/members/{userId}",
		map[string]string{"enterpriseId": entID, "userId": applicant.user}, applicant, nil, false)

	// A second case, withdrawn.
	h.n++
	ent2 := h.must(codes(201), "POST /v1/enterprises", nil, applicant, map[string]any{
		"name": "深圳市基准撤回有限公司", "uscc": domain.SampleUSCC(h.n),
		"legalRep":          map[string]any{"name": "李四", "idNumber": domain.SampleIDNumber(h.n), "phone": "13912345678"},
		"registeredAddress": "广东省深圳市福田区深南大道1号", "operatingAddress": "广东省深圳市福田区深南大道1号",
		"regionCode": "440300", "hasCorporateAccount": true,
	}, false)
	cs2 := h.must(codes(201), "POST /v1/cases", nil, applicant,
		map[string]any{"enterpriseId": str(ent2, "id"), "kind": "initial", "types": []string{"wecom"}}, false)
	h.must(codes(200), "POST /v1/cases/{caseId}/withdraw", map[string]string{"caseId": str(cs2, "id")}, applicant, nil, keyed)

	// Its USCC disputed and won back while it has an open case.
	h.must(codes(201), "POST /v1/cases", nil, applicant,
		map[string]any{"enterpriseId": str(ent2, "id"), "kind": "initial", "types": []string{"mini_program"}}, false)
	h.dispute(str(ent2, "uscc"), keyed)
}

// people drives the member routes on entID: an invitation redeemed, a
// role changed, an invitation revoked; it returns the member.
func (h *harness) people(entID string, keyed bool) who {
	ep := map[string]string{"enterpriseId": entID}
	h.must(codes(200), "GET /v1/enterprises/{enterpriseId}/history", ep, applicant, nil, false)
	inv := h.must(codes(201), "POST /v1/enterprises/{enterpriseId}/invitations", ep, applicant, map[string]any{"role": "operator"}, keyed)
	h.seq++
	member := who{fmt.Sprintf("bench-member-%d-%d", h.n, h.seq), "applicant"}
	h.must(codes(200), "POST /v1/invitations/redeem", nil, member, map[string]any{"code": str(inv, "code")}, keyed)
	h.must(codes(200), "GET /v1/enterprises/{enterpriseId}/members", ep, applicant, nil, false)
	h.must(codes(200), "PATCH /v1/enterprises/{enterpriseId}/members/{userId}",
		map[string]string{"enterpriseId": entID, "userId": member.user}, applicant, map[string]any{"role": "admin"}, false)
	unused := h.must(codes(201), "POST /v1/enterprises/{enterpriseId}/invitations", ep, applicant, map[string]any{"role": "viewer"}, false)
	h.must(codes(200), "GET /v1/enterprises/{enterpriseId}/invitations", ep, applicant, nil, false)
	h.must(codes(200), "DELETE /v1/enterprises/{enterpriseId}/invitations/{invitationId}",
		map[string]string{"enterpriseId": entID, "invitationId": str(unused, "id")}, applicant, nil, false)
	return member
}

// dispute has another user dispute uscc, complete and submit the dispute,
// and an admin approve it (the holder's open cases are closed with it).
func (h *harness) dispute(uscc string, keyed bool) {
	h.seq++
	claimant := who{fmt.Sprintf("bench-claimant-%d-%d", h.n, h.seq), "applicant"}
	body := enterpriseBody(h.n)
	body["uscc"] = uscc
	d := h.must(codes(201), "POST /v1/disputes", nil, claimant, body, keyed)
	h.label = " (dispute)"
	defer func() { h.label = "" }()
	dp := map[string]string{"caseId": str(d, "id")}
	for _, dt := range []string{"business_license", "legal_rep_id_front", "legal_rep_id_back"} {
		h.uploadAs(claimant, str(d, "id"), dt, keyed)
	}
	face := h.must(codes(201), "POST /v1/cases/{caseId}/face-verification", dp, claimant, nil, keyed)
	cb, _ := json.Marshal(map[string]any{"sessionId": str(face, "sessionId"), "result": "pass", "phoneMatchesRegistration": true, "livenessScore": 0.97})
	h.must(codes(200), "POST /v1/callbacks/face", nil, public, cb, false, webhook.Header, webhook.Sign(faceSecret, time.Now(), cb))
	h.must(codes(200), "POST /v1/cases/{caseId}/submit", dp, claimant, nil, keyed)
	claimed := h.must(codes(200), "POST /v1/cases/{caseId}/claim", dp, admin, nil, keyed)
	h.label = " (dispute won, the holder with an open case)"
	h.must(codes(200), "POST /v1/cases/{caseId}/decision", dp, admin,
		map[string]any{"decision": "approve", "version": num(claimed, "version")}, keyed)
}

// TestAPICalls measures every route and holds it to the budget: at most 2
// DynamoDB calls per read, 4 per write, and no Scan. Authenticated POSTs are
// measured a second time with an Idempotency-Key; that column is reported
// (the reservation and its completion are two more writes by design) and
// only its Scans fail the test.
func TestAPICalls(t *testing.T) {
	h := newHarness(t)
	h.flow(false)
	h.flow(true)

	var tbl Table
	for _, r := range h.rows {
		tbl.Rows = append(tbl.Rows, *r)
	}
	sort.Slice(tbl.Rows, func(i, j int) bool {
		if tbl.Rows[i].Kind != tbl.Rows[j].Kind {
			return tbl.Rows[i].Kind < tbl.Rows[j].Kind
		}
		return tbl.Rows[i].Route < tbl.Rows[j].Route
	})

	// Every route of the API is measured: a new route needs a line in flow.
	// Rows of a route measured again in another situation ("... (dispute)")
	// are held to the same budget.
	for _, key := range httpapi.RouteKeys() {
		if h.rows[key] == nil {
			t.Errorf("route %s is not measured: add it to flow", key)
		}
	}

	var buf bytes.Buffer
	w := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "route\tkind\tstatus\tcalls\tbudget\twith key\titems read\toperations")
	for _, r := range tbl.Rows {
		keyed := "-"
		if r.Keyed != nil {
			keyed = fmt.Sprint(r.Keyed.Calls)
		}
		budget := "-"
		if r.Budget > 0 {
			budget = fmt.Sprint(r.Budget)
		}
		mark := ""
		if r.Over() {
			mark = "  OVER BUDGET"
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%s\t%s\t%d\t%s%s\n", r.Route, r.Kind, r.Plain.Status, r.Plain.Calls, budget, keyed,
			r.Plain.ItemsRead, r.Plain.OpsString(), mark)
	}
	w.Flush()
	t.Logf("DynamoDB calls per request:\n%s", buf.String())

	for _, r := range tbl.Rows {
		if r.Over() {
			t.Errorf("%s: %d DynamoDB calls (%s), %d Scans; budget %d calls, 0 Scans", r.Route, r.Plain.Calls,
				r.Plain.OpsString(), r.Plain.Scans, r.Budget)
		}
		if r.Keyed != nil && r.Keyed.Scans > 0 {
			t.Errorf("%s with Idempotency-Key: %d Scans", r.Route, r.Keyed.Scans)
		}
	}
	if *tableOut != "" {
		b, err := json.MarshalIndent(tbl, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(*tableOut, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
