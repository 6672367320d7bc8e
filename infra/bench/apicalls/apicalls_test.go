package apicalls

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"

	"microcert/shared/certsvc"
	"microcert/shared/doccheck/doccheckfixtures"
	"microcert/shared/domain"
	"microcert/shared/httpapi"
	"microcert/shared/httpapi/apitest"
	"microcert/shared/store/storetest"
	"microcert/shared/uploadcheck"
	"microcert/shared/webhook"
)

var tableOut = flag.String("apicalls.json", "", "write the table as JSON to this file (infra/bench/report)")

// harness is the API in process (apitest) over a counted client.
type harness struct {
	*apitest.Env
	t       testing.TB
	counter *storetest.Counter

	// label, when set, names the rows recorded (a route measured again in
	// another situation gets a row of its own).
	label string

	mu   sync.Mutex
	rows map[string]*Row

	// handedOff records the refunds the API handed to RefundFunction.
	handedOff *recordHandoff
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	counter := storetest.NewCounter()
	handoff := &recordHandoff{}
	return &harness{Env: apitest.New(t, apitest.WithDynamoDB(counter.Option()), apitest.WithRefunds(declineRefunds{}),
		apitest.WithHandoff(handoff)), t: t, counter: counter, rows: map[string]*Row{}, handedOff: handoff}
}

// recordHandoff records the refunds handed to RefundFunction (the async
// invoke) instead of invoking it.
type recordHandoff struct {
	mu  sync.Mutex
	got []domain.Refund
}

func (r *recordHandoff) HandOff(ctx context.Context, rf domain.Refund) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, rf)
	return nil
}

// take returns the refunds handed over since the last take.
func (r *recordHandoff) take() []domain.Refund {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.got
	r.got = nil
	return out
}

// sendHandedOff sends the refunds handed over as RefundFunction would (not
// counted: no request waits for it), after checking that there is exactly
// one, the one the request made owed.
func (h *harness) sendHandedOff(route string) {
	h.t.Helper()
	got := h.handedOff.take()
	if len(got) != 1 {
		h.t.Fatalf("%s: %d refunds handed to RefundFunction, want 1", route, len(got))
	}
	if _, _, err := h.Service.SendRefund(context.Background(), got[0].CaseID, got[0].ID); err != nil {
		h.t.Fatal(err)
	}
}

var (
	applicant = apitest.Applicant("bench-applicant")
	reviewer  = apitest.Reviewer("bench-reviewer")
	admin     = apitest.Admin("bench-admin")
	public    = apitest.Public
)

// request is the apitest request of routeKey; keyed adds an
// Idempotency-Key, extra are header name/value pairs.
func (h *harness) request(routeKey string, params map[string]string, by apitest.Caller, body any, keyed bool, extra ...string) apitest.Request {
	r := apitest.Request{Route: routeKey, Params: params, As: by, Body: body, Headers: map[string]string{}}
	if keyed {
		r.Headers["Idempotency-Key"] = fmt.Sprintf("bench-key-%d", h.Next())
	}
	for i := 0; i+1 < len(extra); i += 2 {
		r.Headers[extra[i]] = extra[i+1]
	}
	return r
}

// call sends the event of routeKey and records its DynamoDB calls.
func (h *harness) call(routeKey string, params map[string]string, by apitest.Caller, body any, keyed bool, extra ...string) (int, map[string]any) {
	h.t.Helper()
	req := h.request(routeKey, params, by, body, keyed, extra...)
	h.counter.Reset()
	resp := h.Do(req)
	h.record(routeKey+h.label, keyed, h.count(resp.Status))
	var out map[string]any
	_ = json.Unmarshal(resp.Body, &out)
	return resp.Status, out
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

func (h *harness) record(route string, keyed bool, c Count) {
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
func (h *harness) must(want []int, routeKey string, params map[string]string, by apitest.Caller, body any, keyed bool, extra ...string) map[string]any {
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

// upload asks for a presigned POST, uploads the file with it and runs the
// document check on its S3 event, as DocCheckFunction would.
func (h *harness) upload(caseID, docType string, keyed bool) {
	h.uploadAs(applicant, caseID, docType, keyed)
}

func (h *harness) uploadAs(by apitest.Caller, caseID, docType string, keyed bool) {
	h.t.Helper()
	content := doccheckfixtures.ScanJPEG(1000+h.Next()%200, 800)
	up := h.must(codes(201), "POST /v1/cases/{caseId}/documents", map[string]string{"caseId": caseID}, by,
		map[string]any{"docType": docType, "contentType": "image/jpeg", "contentLength": len(content)}, keyed)
	if err := h.Bucket.Post(apitest.PostOf(h.t, up), content); err != nil {
		h.t.Fatal(err)
	}
	h.counter.Reset()
	out, err := h.Check(str(up, "key"))
	if err != nil || out != uploadcheck.Checked {
		h.t.Fatalf("document check of %s: %v %v", str(up, "key"), out, err)
	}
	h.record("EVENT S3 ObjectCreated uploads/ (DocCheckFunction)"+h.label, keyed, h.count(200))
}

// signed is the signature header of a provider callback body.
func (h *harness) signed(secret string, body []byte) []string {
	return []string{webhook.Header, webhook.Sign(secret, h.Clock.Now(), body)}
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

	ent := h.must(codes(201), "POST /v1/enterprises", nil, applicant, apitest.EnterpriseBody(h.Next()), keyed)
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
	h.must(codes(200), "POST /v1/callbacks/face", nil, public, cb, false, h.signed(apitest.Secrets.FaceWebhook, cb)...)
	// QR is required only by some case kinds: a refusal costs what it costs.
	h.must(codes(201, 409), "POST /v1/cases/{caseId}/qr-verification", cp, applicant, nil, keyed)
	h.must(codes(200), "POST /v1/cases/{caseId}/explanation", cp, applicant, map[string]any{"text": "营业执照地址已更新。"}, keyed)

	// Micro-deposit: the amount is read from the payout outbox, as the
	// bank's statement would show it.
	h.must(codes(201), "POST /v1/cases/{caseId}/bank-verification", cp, applicant,
		map[string]any{"bankName": "招商银行深圳分行", "accountName": apitest.CompanyName, "accountNumber": "755912345678901"}, keyed)
	h.must(codes(200), "POST /v1/cases/{caseId}/bank-verification/confirm", cp, applicant,
		map[string]any{"amountFen": h.DepositPaid(caseID)}, keyed)

	order := h.must(codes(201), "POST /v1/cases/{caseId}/payment", cp, applicant, nil, keyed)
	pb, _ := json.Marshal(map[string]any{"orderId": str(order, "orderId"), "status": "paid", "paidFen": num(order, "payableFen")})
	h.must(codes(200), "POST /v1/callbacks/payment", nil, public, pb, false, h.signed(apitest.Secrets.PaymentWebhook, pb)...)

	h.must(codes(200), "POST /v1/cases/{caseId}/submit", cp, applicant, nil, keyed)
	h.must(codes(200), "GET /v1/enterprises/{enterpriseId}/cases", ep, applicant, nil, false)
	h.must(codes(200), "GET /v1/enterprises/{enterpriseId}/notifications", ep, applicant, nil, false)
	h.notifications(entID, keyed)

	// Review.
	h.must(codes(200), "GET /v1/review/queue", nil, reviewer, nil, false)
	claimed := h.must(codes(200), "POST /v1/cases/{caseId}/claim", cp, reviewer, nil, keyed)
	h.must(codes(200), "POST /v1/review/cases/{caseId}/reveal", cp, reviewer, nil, keyed)
	h.must(codes(200), "POST /v1/cases/{caseId}/decision", cp, reviewer,
		map[string]any{"decision": "approve", "version": num(claimed, "version")}, keyed)

	// Certification endings: the owner cancels one, an admin revokes the other.
	h.must(codes(200), "POST /v1/enterprises/{enterpriseId}/certifications/{type}/cancel",
		map[string]string{"enterpriseId": entID, "type": "wecom"}, applicant, map[string]any{"reason": "不再使用"}, keyed)
	h.must(codes(200), "POST /v1/enterprises/{enterpriseId}/certifications/{type}/revoke",
		map[string]string{"enterpriseId": entID, "type": "official_account"}, admin,
		map[string]any{"reason": "违规经营", "severity": "major"}, keyed)

	// The owner hands the enterprise to the member, then leaves it.
	h.must(codes(200), "POST /v1/enterprises/{enterpriseId}/ownership", ep, applicant, map[string]any{"userId": member.User}, keyed)
	h.must(codes(204), "DELETE /v1/enterprises/{enterpriseId}/members/{userId}",
		map[string]string{"enterpriseId": entID, "userId": applicant.User}, applicant, nil, false)

	// A second case, withdrawn.
	ent2 := h.must(codes(201), "POST /v1/enterprises", nil, applicant, apitest.EnterpriseBody(h.Next()), false)
	cs2 := h.must(codes(201), "POST /v1/cases", nil, applicant,
		map[string]any{"enterpriseId": str(ent2, "id"), "kind": "initial", "types": []string{"wecom"}}, false)
	cp2 := map[string]string{"caseId": str(cs2, "id")}
	order2 := h.must(codes(201), "POST /v1/cases/{caseId}/payment", cp2, applicant, nil, false)
	pb2, _ := json.Marshal(map[string]any{"orderId": str(order2, "orderId"), "status": "paid", "paidFen": num(order2, "payableFen"), "transactionId": fmt.Sprintf("t-%d", h.Next())})
	h.must(codes(200), "POST /v1/callbacks/payment", nil, public, pb2, false, h.signed(apitest.Secrets.PaymentWebhook, pb2)...)
	h.handedOff.take()
	h.must(codes(200), "POST /v1/cases/{caseId}/withdraw", cp2, applicant, nil, keyed)
	h.sendHandedOff("withdraw")

	// Money: the fee's refund (declined by the provider) is retried by an
	// admin; the provider reports it paid.
	refunds := h.must(codes(200), "GET /v1/admin/refunds", nil, admin, nil, false)
	items, _ := refunds["items"].([]any)
	if len(items) == 0 {
		t.Fatalf("no refund after a paid withdrawal: %v", refunds)
	}
	refundID := str(items[0].(map[string]any), "id")
	retried := h.must(codes(200), "POST /v1/admin/refunds/{refundId}/retry", map[string]string{"refundId": refundID}, admin, nil, keyed)
	h.sendHandedOff("retry")
	rb, _ := json.Marshal(map[string]any{"refundId": domain.RefundKey(refundID, int(num(retried, "round"))), "status": "succeeded", "amountFen": num(retried, "amountFen")})
	h.must(codes(200), "POST /v1/callbacks/refund", nil, public, rb, false, h.signed(apitest.Secrets.PaymentWebhook, rb)...)
	now := h.Clock.Now()
	d := &domain.Discrepancy{ID: domain.NewIDAt(now), Source: domain.SourcePayments, Day: domain.Day(now), Kind: domain.MissingOnOurs,
		LineKind: domain.LinePayment, Ref: "t-bench", TheirsFen: 100, Status: domain.DiscrepancyOpen, DetectedAt: now}
	if err := h.Store.Commit(context.Background(), &domain.Change{Discrepancies: []domain.DiscrepancyWrite{{Discrepancy: d, Create: true}}}); err != nil {
		t.Fatal(err)
	}
	h.must(codes(200), "GET /v1/admin/discrepancies", nil, admin, nil, false)
	h.must(codes(200), "POST /v1/admin/discrepancies/{discrepancyId}/resolve", map[string]string{"discrepancyId": d.ID}, admin,
		map[string]any{"note": "已核对"}, keyed)
	h.must(codes(200), "GET /v1/admin/reports/subsidies", nil, admin, nil, false)

	// Its USCC disputed and won back while it has an open case.
	h.must(codes(201), "POST /v1/cases", nil, applicant,
		map[string]any{"enterpriseId": str(ent2, "id"), "kind": "initial", "types": []string{"mini_program"}}, false)
	h.dispute(str(ent2, "uscc"), keyed)
}

// notifications drives the inbox's read state, the member's channels and
// the webhook routes on entID.
func (h *harness) notifications(entID string, keyed bool) {
	t := h.t
	ep := map[string]string{"enterpriseId": entID}
	page := h.must(codes(200), "GET /v1/enterprises/{enterpriseId}/notifications", ep, applicant, nil, false)
	items, _ := page["items"].([]any)
	if len(items) == 0 {
		t.Fatalf("no notification to read: %v", page)
	}
	h.must(codes(200), "POST /v1/enterprises/{enterpriseId}/notifications/{notificationId}/read",
		map[string]string{"enterpriseId": entID, "notificationId": str(items[0].(map[string]any), "id")}, applicant, nil, keyed)
	h.must(codes(200), "GET /v1/enterprises/{enterpriseId}/notification-settings", ep, applicant, nil, false)
	h.must(codes(200), "PUT /v1/enterprises/{enterpriseId}/notification-settings", ep, applicant,
		map[string]any{"wechat": map[string]any{"enabled": true, "openId": "oBench1", "templateIds": []string{"tpl-case-progress"}},
			"sms": map[string]any{"enabled": true, "phone": "13900139000"}}, false)
	hook := h.must(codes(201), "POST /v1/enterprises/{enterpriseId}/webhook-endpoints", ep, applicant,
		map[string]any{"url": "https://93.184.216.34/hook", "eventTypes": []string{"*"}}, keyed)
	hp := map[string]string{"enterpriseId": entID, "endpointId": str(hook, "id")}
	h.must(codes(200), "GET /v1/enterprises/{enterpriseId}/webhook-endpoints", ep, applicant, nil, false)
	h.must(codes(200), "PATCH /v1/enterprises/{enterpriseId}/webhook-endpoints/{endpointId}", hp, applicant, map[string]any{"eventTypes": []string{"case.updated"}}, false)
	h.must(codes(200), "POST /v1/enterprises/{enterpriseId}/webhook-endpoints/{endpointId}/rotate-secret", hp, applicant, nil, keyed)
	// A delivery the dispatcher gave up, to list and redeliver.
	now := h.Clock.Now()
	noteID := domain.NewIDAt(now)
	dead := domain.Delivery{ID: domain.DeliveryID(noteID, domain.ChannelWebhook, hp["endpointId"]), NotificationID: noteID, EnterpriseID: entID,
		Channel: domain.ChannelWebhook, Recipient: hp["endpointId"], Kind: domain.NoticeCaseSubmitted, Event: domain.EventCaseUpdated,
		Payload: []byte(`{}`), Status: domain.DeliveryDead, Attempts: 15, CreatedAt: now, UpdatedAt: now, Version: 3}
	if err := h.Store.Commit(context.Background(), &domain.Change{Deliveries: []domain.DeliveryWrite{{Delivery: &dead, Create: true}}}); err != nil {
		t.Fatal(err)
	}
	h.must(codes(200), "GET /v1/enterprises/{enterpriseId}/webhook-endpoints/{endpointId}/deliveries", hp, applicant, nil, false)
	h.must(codes(202), "POST /v1/enterprises/{enterpriseId}/webhook-endpoints/{endpointId}/deliveries/{deliveryId}/redeliver",
		map[string]string{"enterpriseId": entID, "endpointId": hp["endpointId"], "deliveryId": dead.ID}, applicant, nil, keyed)
	h.must(codes(204), "DELETE /v1/enterprises/{enterpriseId}/webhook-endpoints/{endpointId}", hp, applicant, nil, false)
}

// people drives the member routes on entID: an invitation redeemed, a
// role changed, an invitation revoked; it returns the member.
func (h *harness) people(entID string, keyed bool) apitest.Caller {
	ep := map[string]string{"enterpriseId": entID}
	h.must(codes(200), "GET /v1/enterprises/{enterpriseId}/history", ep, applicant, nil, false)
	inv := h.must(codes(201), "POST /v1/enterprises/{enterpriseId}/invitations", ep, applicant, map[string]any{"role": "operator"}, keyed)
	member := apitest.Applicant(fmt.Sprintf("bench-member-%d", h.Next()))
	h.must(codes(200), "POST /v1/invitations/redeem", nil, member, map[string]any{"code": str(inv, "code")}, keyed)
	h.must(codes(200), "GET /v1/enterprises/{enterpriseId}/members", ep, applicant, nil, false)
	h.must(codes(200), "PATCH /v1/enterprises/{enterpriseId}/members/{userId}",
		map[string]string{"enterpriseId": entID, "userId": member.User}, applicant, map[string]any{"role": "admin"}, false)
	unused := h.must(codes(201), "POST /v1/enterprises/{enterpriseId}/invitations", ep, applicant, map[string]any{"role": "viewer"}, false)
	h.must(codes(200), "GET /v1/enterprises/{enterpriseId}/invitations", ep, applicant, nil, false)
	h.must(codes(200), "DELETE /v1/enterprises/{enterpriseId}/invitations/{invitationId}",
		map[string]string{"enterpriseId": entID, "invitationId": str(unused, "id")}, applicant, nil, false)
	return member
}

// dispute has another user dispute uscc, complete and submit the dispute,
// and an admin approve it (the holder's open cases are closed with it).
func (h *harness) dispute(uscc string, keyed bool) {
	claimant := apitest.Applicant(fmt.Sprintf("bench-claimant-%d", h.Next()))
	body := apitest.EnterpriseBody(h.Next())
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
	h.must(codes(200), "POST /v1/callbacks/face", nil, public, cb, false, h.signed(apitest.Secrets.FaceWebhook, cb)...)
	h.must(codes(200), "POST /v1/cases/{caseId}/submit", dp, claimant, nil, keyed)
	claimed := h.must(codes(200), "POST /v1/cases/{caseId}/claim", dp, admin, nil, keyed)
	h.label = " (dispute won, the holder with an open case)"
	h.must(codes(200), "POST /v1/cases/{caseId}/decision", dp, admin,
		map[string]any{"decision": "approve", "version": num(claimed, "version")}, keyed)
}

// declineRefunds is a provider that declines every refund (a refund's
// calls are then measured up to its admin retry).
type declineRefunds struct{}

func (declineRefunds) Refund(ctx context.Context, req certsvc.RefundRequest) (domain.ProviderAnswer, error) {
	return domain.ProviderAnswer{Status: domain.RefundFailed, Detail: "declined"}, nil
}

// TestAPICalls measures every route and holds it to the budget: at most 2
// DynamoDB calls per read, 4 per write, and no Scan. Authenticated POSTs are
// measured a second time with an Idempotency-Key, held to the same budget.
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
	for _, r := range httpapi.Routes() {
		if key := r.Key(); h.rows[key] == nil {
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
		if r.KeyedOver() {
			t.Errorf("%s with Idempotency-Key: %d DynamoDB calls (%s), %d Scans; budget %d calls, 0 Scans", r.Route,
				r.Keyed.Calls, r.Keyed.OpsString(), r.Keyed.Scans, r.Budget)
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
