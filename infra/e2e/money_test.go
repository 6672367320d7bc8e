package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"microcert/infra/localstack"
	"microcert/infra/localstack/stacktest"
	"microcert/shared/domain"
	"microcert/shared/jobs"
	"microcert/shared/statements"
	"microcert/shared/webhook"
)

// Money through the local stack: the sandbox provider takes the payments,
// pays the refunds back and signs its callbacks; the refund and
// reconciliation functions run as Lambda runs them.

// draftWithOrder opens a Shenzhen case (fee 30000, payable 15000) and its
// fee order.
func (a *app) draftWithOrder() (caseID, orderID string) {
	a.t.Helper()
	ent := a.createEnterprise(nil)
	caseID = a.openCase(ent["id"].(string), "initial", "official_account")["id"].(string)
	order := a.must(201, "POST", "/v1/cases/"+caseID+"/payment", nil).obj(a.t)
	return caseID, order["orderId"].(string)
}

// money is the case view's fee account.
func (a *app) money(caseID string) map[string]any {
	a.t.Helper()
	return a.getCase(caseID)["money"].(map[string]any)
}

// waitRefunds polls the case until it has n refunds, all in status.
func (a *app) waitRefunds(caseID string, n int, status string) []map[string]any {
	a.t.Helper()
	return a.waitRefundsWhere(caseID, n, "status "+status, func(r map[string]any) bool { return r["status"] == status })
}

// waitRefundsWhere polls the case until it has n refunds, all ok: a refund
// a request made owed is sent by RefundFunction after the request answers
// (an async invoke).
func (a *app) waitRefundsWhere(caseID string, n int, want string, ok func(map[string]any) bool) []map[string]any {
	a.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var m map[string]any
	for time.Now().Before(deadline) {
		m = a.money(caseID)
		var out []map[string]any
		for _, r := range m["refunds"].([]any) {
			out = append(out, r.(map[string]any))
		}
		done := len(out) == n
		for _, r := range out {
			done = done && ok(r)
		}
		if done {
			return out
		}
		time.Sleep(100 * time.Millisecond)
	}
	a.t.Fatalf("case %s: want %d refunds with %s, money %v", caseID, n, want, m)
	return nil
}

// providerRefunds is what the sandbox provider paid back for an order.
func (a *app) providerRefunds(orderID string) []map[string]any {
	a.t.Helper()
	var out struct {
		Items []map[string]any `json:"items"`
	}
	a.must(200, "GET", "/_sandbox/refunds?orderId="+orderID, nil).decode(a.t, &out)
	return out.Items
}

func wantMoney(t *testing.T, m map[string]any, paid, kept, refunded, pending float64) {
	t.Helper()
	if m["paidFen"] != paid || m["keptFen"] != kept || m["refundedFen"] != refunded || m["refundPendingFen"] != pending {
		t.Fatalf("money = %v, want paid %v kept %v refunded %v pending %v", m, paid, kept, refunded, pending)
	}
}

func TestRefundOnWithdrawal(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	caseID, orderID := a.draftWithOrder()
	a.must(200, "POST", "/_sandbox/payments", map[string]any{"orderId": orderID})
	wantMoney(t, a.money(caseID), 15000, 15000, 0, 0)

	// Two withdrawals at once (two devices): one withdraws, one refund.
	var wg sync.WaitGroup
	codes := make([]int, 3)
	for i := range codes {
		wg.Go(func() { codes[i] = a.do("POST", "/v1/cases/"+caseID+"/withdraw", nil).Status })
	}
	wg.Wait()
	for _, c := range codes {
		if c != 200 && c != 409 {
			t.Fatalf("withdraw answers %v", codes)
		}
	}
	refunds := a.waitRefunds(caseID, 1, "succeeded")
	if refunds[0]["reason"] != "withdrawn" || refunds[0]["amountFen"] != float64(15000) {
		t.Fatalf("refund %v", refunds[0])
	}
	cs := a.getCase(caseID)
	if cs["refundDue"] != false {
		t.Fatalf("refundDue after the refund: %v", cs["refundDue"])
	}
	wantMoney(t, cs["money"].(map[string]any), 15000, 0, 15000, 0)
	if got := a.providerRefunds(orderID); len(got) != 1 || got[0]["amountFen"] != float64(15000) || got[0]["status"] != "SUCCESS" {
		t.Fatalf("the provider paid back %v", got)
	}
	// The applicant is told.
	notes := a.must(200, "GET", "/v1/enterprises/"+cs["enterpriseId"].(string)+"/notifications", nil).obj(t)["items"].([]any)
	found := false
	for _, n := range notes {
		found = found || n.(map[string]any)["kind"] == "refund"
	}
	if !found {
		t.Fatalf("no refund notification in %v", notes)
	}
}

func TestLatePaymentOnWithdrawnCase(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	caseID, orderID := a.draftWithOrder()
	a.must(200, "POST", "/v1/cases/"+caseID+"/withdraw", nil)
	// The payer paid just before; the provider's callback comes now.
	a.must(200, "POST", "/_sandbox/payments", map[string]any{"orderId": orderID})
	refunds := a.waitRefunds(caseID, 1, "succeeded")
	if refunds[0]["reason"] != "case_closed" {
		t.Fatalf("refund %v", refunds[0])
	}
	wantMoney(t, a.money(caseID), 15000, 0, 15000, 0)
}

func TestLateCallbackForReplacedOrder(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	caseID, first := a.draftWithOrder()
	// The first order fails; the app gets a new one and pays it.
	a.must(200, "POST", "/_sandbox/payments", map[string]any{"orderId": first, "status": "failed"})
	second := a.must(201, "POST", "/v1/cases/"+caseID+"/payment", nil).obj(t)["orderId"].(string)
	if second == first {
		t.Fatal("the failed order was offered again")
	}
	a.must(200, "POST", "/_sandbox/payments", map[string]any{"orderId": second})
	// Then the first order is paid after all: never 404, refunded.
	fen := int64(15000)
	a.must(200, "POST", "/_sandbox/payments", map[string]any{"orderId": first, "amountFen": fen})
	refunds := a.waitRefunds(caseID, 1, "succeeded")
	if refunds[0]["reason"] != "replaced_order" || refunds[0]["orderId"] != first {
		t.Fatalf("refund %v", refunds[0])
	}
	cs := a.getCase(caseID)
	if p := cs["payment"].(map[string]any); p["orderId"] != second || p["status"] != "paid" {
		t.Fatalf("the fee's order %v", p)
	}
	wantMoney(t, cs["money"].(map[string]any), 30000, 15000, 15000, 0)
}

func TestRefundRetriedUntilItSucceedsOnce(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	caseID, orderID := a.draftWithOrder()
	a.must(200, "POST", "/_sandbox/payments", map[string]any{"orderId": orderID})
	// The provider is down for the first refund call.
	a.must(200, "POST", "/_sandbox/refunds/faults", map[string]any{"orderId": orderID, "unavailable": 1})
	a.must(200, "POST", "/v1/cases/"+caseID+"/withdraw", nil, "Idempotency-Key", "withdraw-"+caseID)
	// RefundFunction's send (handed over by the withdrawal) gets no answer.
	refunds := a.waitRefundsWhere(caseID, 1, "status pending after 1 attempt", func(r map[string]any) bool {
		return r["status"] == "pending" && r["attempts"] == float64(1)
	})
	if refunds[0]["nextAttemptAt"] == nil {
		t.Fatalf("after the unanswered call: %v", refunds[0])
	}
	// The app retries its request: replayed, nothing new.
	a.must(200, "POST", "/v1/cases/"+caseID+"/withdraw", nil, "Idempotency-Key", "withdraw-"+caseID)

	// The refund job runs once the pause has passed, and then again
	// (Lambda's retry, the next run): one refund.
	later := time.Now().Add(5 * time.Minute)
	for i := 0; i < 2; i++ {
		out := mustInvoke(t, "RefundFunction", localstack.ScheduledEvent("RefundFunction", "Every5Minutes", later))
		var sum jobs.Summary
		if err := json.Unmarshal(out, &sum); err != nil {
			t.Fatal(err)
		}
		if i == 0 && sum.Count(jobs.OutRefundSubmitted)+sum.Count(jobs.OutRefundSucceeded) < 1 {
			t.Fatalf("first run: %+v", sum)
		}
	}
	refunds = a.waitRefunds(caseID, 1, "succeeded")

	// The provider's notification delivered again changes nothing.
	var books []map[string]any
	books = a.providerRefunds(orderID)
	if len(books) != 1 || books[0]["status"] != "SUCCESS" {
		t.Fatalf("the provider paid back %v", books)
	}
	body := []byte(fmt.Sprintf(`{"refundId":%q,"providerRefundId":%q,"status":"succeeded","amountFen":15000}`,
		books[0]["refundKey"], books[0]["providerRefundId"]))
	a.must(200, "POST", "/v1/callbacks/refund", body, webhook.Header, webhook.Sign(localstack.LocalPaymentSecret, time.Now(), body))
	wantMoney(t, a.money(caseID), 15000, 0, 15000, 0)
	if got := a.providerRefunds(orderID); len(got) != 1 {
		t.Fatalf("the provider paid back %d times", len(got))
	}
}

func TestFailedRefundRetriedByAdmin(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	admin := newApp(t, "admin", "")
	caseID, orderID := a.draftWithOrder()
	a.must(200, "POST", "/_sandbox/payments", map[string]any{"orderId": orderID})
	a.must(200, "POST", "/_sandbox/refunds/faults", map[string]any{"orderId": orderID, "decline": true})
	a.must(200, "POST", "/v1/cases/"+caseID+"/withdraw", nil)
	refunds := a.waitRefunds(caseID, 1, "failed")
	id := refunds[0]["id"].(string)
	if refunds[0]["failureCode"] != "declined" {
		t.Fatalf("refund %v", refunds[0])
	}
	wantMoney(t, a.money(caseID), 15000, 0, 0, 15000)

	// Applicants may not touch refunds.
	a.must(403, "POST", "/v1/admin/refunds/"+id+"/retry", nil)
	page := admin.must(200, "GET", "/v1/admin/refunds?status=failed&caseId="+caseID, nil).obj(t)
	if items := page["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != id {
		t.Fatalf("failed refunds of the case: %v", page)
	}
	a.must(200, "POST", "/_sandbox/refunds/faults", map[string]any{"orderId": orderID, "decline": false})
	got := admin.must(200, "POST", "/v1/admin/refunds/"+id+"/retry", nil).obj(t)
	// Answered pending: RefundFunction sends it after the answer.
	if got["round"] != float64(2) || got["status"] != "pending" {
		t.Fatalf("retry %v", got)
	}
	a.waitRefunds(caseID, 1, "succeeded")
	if r := admin.do("POST", "/v1/admin/refunds/"+id+"/retry", nil); r.Status != 409 || r.code(t) != "refund_not_failed" {
		t.Fatalf("retry of a succeeded refund: %d %s", r.Status, r.Body)
	}
	// Declined once, paid once.
	var paid int
	for _, r := range a.providerRefunds(orderID) {
		if r["status"] == "SUCCESS" {
			paid++
		}
	}
	if paid != 1 {
		t.Fatalf("the provider paid back %d times", paid)
	}
}

func mustInvoke(t *testing.T, fn string, event []byte) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := shared.Invoke(ctx, fn, event)
	if err != nil {
		t.Fatalf("invoke %s: %v", fn, err)
	}
	return out
}

// TestReconciliation runs on a stack of its own: a day's statements cover
// everything that moved on the stack that day.
func TestReconciliation(t *testing.T) {
	ownStack(t)
	st := stacktest.Start(t)
	tok := st.Bearer(t, "applicant", "u-recon")
	a := &app{t: t, base: st.APIURL(), token: tok}
	admin := &app{t: t, base: st.APIURL(), token: st.Bearer(t, "admin", "admin-recon")}
	now := time.Now()
	day := domain.Day(now)
	start, _ := domain.DayStart(day)
	if start.Add(24*time.Hour).Sub(now) < 3*time.Minute {
		t.Skip("too close to Beijing midnight for a one-day scenario")
	}
	runAt := start.Add(24*time.Hour + 2*time.Hour + 30*time.Minute) // the next morning
	reconcile := func(adjust []map[string]any) jobs.Summary {
		t.Helper()
		a.must(200, "POST", "/_sandbox/statements", map[string]any{"day": day, "adjust": adjust})
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		out, err := st.Invoke(ctx, "ReconcileFunction", localstack.ScheduledEvent("ReconcileFunction", "Daily", runAt))
		if err != nil {
			t.Fatalf("reconcile: %v", err)
		}
		var sum jobs.Summary
		if err := json.Unmarshal(out, &sum); err != nil {
			t.Fatal(err)
		}
		if sum.Day != day || !sum.Complete {
			t.Fatalf("summary %+v", sum)
		}
		return sum
	}

	// A clean day: payments, a refund, a micro-deposit.
	kept, orderKept := a.draftWithOrder()
	a.must(200, "POST", "/_sandbox/payments", map[string]any{"orderId": orderKept})
	gone, orderGone := a.draftWithOrder()
	a.must(200, "POST", "/_sandbox/payments", map[string]any{"orderId": orderGone})
	a.must(200, "POST", "/v1/cases/"+gone+"/withdraw", nil)
	a.waitRefunds(gone, 1, "succeeded")
	a.verifyBank(kept)

	sum := reconcile(nil)
	for src, kinds := range sum.Discrepancies {
		for k, n := range kinds {
			if n != 0 {
				t.Errorf("clean day: %d %s on %s", n, k, src)
			}
		}
	}
	if sum.Totals["payments_ours_net_fen"] != 15000 || sum.Totals["payments_ours_net_fen"] != sum.Totals["payments_theirs_net_fen"] {
		t.Errorf("ledger net %d, statement net %d, want 15000 both", sum.Totals["payments_ours_net_fen"], sum.Totals["payments_theirs_net_fen"])
	}
	if sum.Totals["bank_ours_net_fen"] >= 0 || sum.Totals["bank_ours_net_fen"] != sum.Totals["bank_theirs_net_fen"] {
		t.Errorf("payouts %d, bank statement %d", sum.Totals["bank_ours_net_fen"], sum.Totals["bank_theirs_net_fen"])
	}
	raw := getObject(t, st, statements.Key(domain.SourcePayments, day))
	if trades, err := statements.ParseTrades(raw); err != nil || len(trades) != 3 {
		t.Fatalf("the provider's bill: %v, %d lines", err, len(trades))
	}

	// Inject: a payment whose callback was lost, a payment the provider
	// settled at another amount, a refund made by hand at the provider.
	_, lost := a.draftWithOrder()
	a.must(200, "POST", "/_sandbox/payments", map[string]any{"orderId": lost, "callback": false})
	_, off := a.draftWithOrder()
	a.must(200, "POST", "/_sandbox/payments", map[string]any{"orderId": off})
	a.must(200, "POST", "/_sandbox/refunds/manual", map[string]any{"orderId": orderKept, "amountFen": 500})

	sum = reconcile([]map[string]any{{"orderId": off, "amountFen": 14900}})
	want := map[string]int{"missing_on_ours": 2, "amount_mismatch": 1, "missing_on_theirs": 0, "status_mismatch": 0}
	for k, n := range want {
		if sum.Discrepancies["payments"][k] != n {
			t.Errorf("%s: %d, want %d (%v)", k, sum.Discrepancies["payments"][k], n, sum.Discrepancies)
		}
	}
	page := admin.must(200, "GET", "/v1/admin/discrepancies?status=open&from="+day+"&to="+day, nil).obj(t)
	type seen struct{ Kind, LineKind, Order string }
	var got []seen
	var ids []string
	for _, it := range page["items"].([]any) {
		d := it.(map[string]any)
		got = append(got, seen{d["kind"].(string), d["lineKind"].(string), fmt.Sprint(d["orderId"])})
		ids = append(ids, d["id"].(string))
	}
	sort.Slice(got, func(i, j int) bool { return got[i].Kind+got[i].LineKind < got[j].Kind+got[j].LineKind })
	wantSeen := []seen{{"amount_mismatch", "payment", off}, {"missing_on_ours", "payment", lost}, {"missing_on_ours", "refund", orderKept}}
	if fmt.Sprint(got) != fmt.Sprint(wantSeen) {
		t.Fatalf("discrepancies %v, want %v", got, wantSeen)
	}

	// A rerun of the day records nothing new.
	if again := reconcile([]map[string]any{{"orderId": off, "amountFen": 14900}}); again.Count(jobs.OutAlreadyRecorded) != 3 {
		t.Errorf("rerun: %+v", again.Counts)
	}
	// An admin resolves one with a note; applicants see none of it.
	a.must(403, "GET", "/v1/admin/discrepancies", nil)
	res := admin.must(200, "POST", "/v1/admin/discrepancies/"+ids[0]+"/resolve", map[string]any{"note": "人工核对：渠道手工退款，已补记"}).obj(t)
	if res["status"] != "resolved" || res["resolvedBy"] != "admin-recon" {
		t.Fatalf("resolved %v", res)
	}
	if r := admin.do("POST", "/v1/admin/discrepancies/"+ids[0]+"/resolve", map[string]any{"note": "again"}); r.Status != 409 {
		t.Fatalf("resolving twice: %d", r.Status)
	}
	open := admin.must(200, "GET", "/v1/admin/discrepancies?status=open&limit=1", nil).obj(t)
	n := len(open["items"].([]any))
	for cur := open["nextCursor"]; cur != nil; {
		p := admin.must(200, "GET", "/v1/admin/discrepancies?status=open&limit=1&cursor="+cur.(string), nil).obj(t)
		n += len(p["items"].([]any))
		cur = p["nextCursor"]
	}
	if n != 2 {
		t.Fatalf("%d open after resolving one, want 2", n)
	}

	// The month's subsidy report: every fee paid here was Shenzhen's (50%);
	// the withdrawn one was reversed.
	rep := admin.must(200, "GET", "/v1/admin/reports/subsidies?month="+domain.Month(now), nil).obj(t)
	progs := rep["programs"].([]any)
	if len(progs) != 1 {
		t.Fatalf("report %v", rep)
	}
	p := progs[0].(map[string]any)
	if p["program"] != "shenzhen_sme_digital" || p["regionCode"] != "440300" || p["cases"] != float64(3) || p["reversals"] != float64(1) ||
		p["claimFen"] != float64(30000) || rep["totalFen"] != float64(30000) {
		t.Fatalf("report %v", rep)
	}
}

func getObject(t *testing.T, st *stacktest.Stack, key string) []byte {
	t.Helper()
	out, err := st.S3().GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(st.BucketName()), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer out.Body.Close()
	b, _ := io.ReadAll(out.Body)
	return b
}
