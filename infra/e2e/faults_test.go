package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"microcert/infra/localstack"
	"microcert/infra/localstack/stacktest"
	"microcert/infra/template"
	"microcert/shared/domain"
	"microcert/shared/store"
	"microcert/shared/uploadcheck"
)

// Faults: the system under 30% injected DynamoDB and S3 failures
// (shared/faults: throttling, 5xx and timeouts, before or after the real
// call), switched on in every function of a stack of its own with
// FAULT_RATE. The apps behave as good clients do: every POST carries an
// Idempotency-Key and is retried with the same key on 503 (after its
// Retry-After) and on 409 request_in_progress. Every answer must be the
// expected one or a clean 503 with Retry-After, never a 500; afterwards the
// table is read through a fault-free client and must hold no half-applied
// and no duplicated state.

// faultSeed is the default seed of the fault tests; FAULT_SEED in the
// test's environment overrides it (to try other fault sequences).
const faultSeed = "20261126"

func faultStack(t *testing.T, env ...string) *stacktest.Stack {
	t.Helper()
	seed := faultSeed
	if v := os.Getenv("FAULT_SEED"); v != "" {
		seed = v
	}
	opts := []stacktest.Option{stacktest.WithEnv("FAULT_SEED", seed)}
	for i := 0; i+1 < len(env); i += 2 {
		opts = append(opts, stacktest.WithEnv(env[i], env[i+1]))
	}
	t.Logf("fault seed %s", seed)
	return stacktest.Start(t, opts...)
}

// faultStats is what the apps saw.
type faultStats struct {
	Requests       int // logical requests
	Attempts       int // HTTP requests sent
	Unavailable    int // 503 + Retry-After
	InProgress     int // 409 request_in_progress
	AlreadyApplied int // 409 request_already_applied (then the app reads)
	Replayed       int // a retry answered with the stored response
	Redelivered    int // dead-lettered S3 events sent again
}

// careful is an app that retries like the real ones should, and the
// operator who re-delivers dead-lettered S3 events.
type careful struct {
	*app
	st          *stacktest.Stack
	user        string
	stats       *faultStats
	keys        int
	redelivered map[string]bool // dead-letter files sent again
}

func newCareful(t *testing.T, st *stacktest.Stack, stats *faultStats, role, user string) *careful {
	if user == "" {
		user = fmt.Sprintf("%s-%d-%d", role, time.Now().UnixNano()%1e9, users.Add(1))
	}
	return &careful{app: &app{t: t, base: st.APIURL(), token: st.Bearer(t, role, user)}, st: st, user: user, stats: stats,
		redelivered: map[string]bool{}}
}

func (c *careful) newKey() string {
	c.keys++
	return fmt.Sprintf("fault-%d-%d", time.Now().UnixNano(), c.keys)
}

// call sends one logical request: a POST gets a fresh Idempotency-Key and
// keeps it across retries. It returns the answer with status want, or a 409
// request_already_applied (the caller reads the resource instead).
func (c *careful) call(method, path string, body any, want int) resp {
	c.t.Helper()
	key := ""
	if method == "POST" && strings.HasPrefix(path, "/v1/") {
		key = c.newKey()
	}
	return c.callKey(method, path, body, want, key)
}

func (c *careful) callKey(method, path string, body any, want int, key string) resp {
	c.t.Helper()
	c.stats.Requests++
	deadline := time.Now().Add(retryBound)
	for {
		var r resp
		if key != "" {
			r = c.do(method, path, body, "Idempotency-Key", key)
		} else {
			r = c.do(method, path, body)
		}
		c.stats.Attempts++
		var wait time.Duration
		switch code := r.code(c.t); {
		case r.Status == want:
			if r.Header.Get("Idempotent-Replayed") == "true" {
				c.stats.Replayed++
			}
			return r
		case r.Status == 503:
			ra, err := strconv.Atoi(r.Header.Get("Retry-After"))
			if err != nil || ra < 1 || (strings.HasPrefix(path, "/v1/") && code != "unavailable") {
				c.t.Fatalf("%s %s: 503 without clean retry advice (Retry-After %q, code %q): %s",
					method, path, r.Header.Get("Retry-After"), code, r.Body)
			}
			c.stats.Unavailable++
			wait = time.Duration(ra) * time.Second
		case r.Status == 409 && code == "request_in_progress":
			c.stats.InProgress++
			wait = 2 * time.Second
		case r.Status == 409 && code == "request_already_applied":
			c.stats.AlreadyApplied++
			return r
		default:
			c.t.Fatalf("%s %s: %d %s; want %d, or 503 with Retry-After", method, path, r.Status, r.Body, want)
		}
		if time.Now().Add(wait).After(deadline) {
			c.t.Fatalf("%s %s: still failing after %v of retries", method, path, retryBound)
		}
		time.Sleep(wait)
	}
}

func applied(r resp) bool { return r.Status == 409 }

// createEnterprise registers an enterprise of the app's user (who owns no
// other) and returns its id. If the create was applied but its answer lost,
// the app finds it in the user's list.
func (c *careful) createEnterprise() string {
	c.t.Helper()
	if r := c.call("POST", "/v1/enterprises", enterpriseBody(nil), 201); !applied(r) {
		return r.obj(c.t)["id"].(string)
	}
	var page struct {
		Items []map[string]any `json:"items"`
	}
	c.call("GET", "/v1/enterprises", nil, 200).decode(c.t, &page)
	if len(page.Items) != 1 {
		c.t.Fatalf("enterprise already applied; the user's list has %d", len(page.Items))
	}
	return page.Items[0]["id"].(string)
}

// get reads (GETs are safe to retry as they are).
func (c *careful) get(path string) map[string]any {
	c.t.Helper()
	return c.call("GET", path, nil, 200).obj(c.t)
}

// retryBound bounds how long the apps keep retrying one request and wait
// for one document check. It only turns a hang into a failure: nothing
// here expects anything to take less than this, however busy the machine.
const retryBound = 5 * time.Minute

// waitChecked polls the document until the check has a result. An S3 event
// whose three deliveries all failed lands in the dead-letter folder; the
// operator re-delivers it (here: at once).
func (c *careful) waitChecked(caseID, docID string) map[string]any {
	c.t.Helper()
	key := domain.UploadPrefix + caseID + "/" + docID
	deadline := time.Now().Add(retryBound)
	for time.Now().Before(deadline) {
		var page struct {
			Items []map[string]any `json:"items"`
		}
		c.call("GET", "/v1/cases/"+caseID+"/documents", nil, 200).decode(c.t, &page)
		for _, d := range page.Items {
			if d["id"] == docID && d["check"].(map[string]any)["status"] != "pending" {
				return d
			}
		}
		c.drainDeadLetters(key)
		time.Sleep(200 * time.Millisecond)
	}
	c.t.Fatalf("document %s was not checked within %v", docID, retryBound)
	return nil
}

// settleS3Events waits until every S3 event of the document check is
// delivered or dead-lettered (an event whose result is already visible may
// still be retrying), then re-delivers the dead letters.
func (c *careful) settleS3Events() {
	c.t.Helper()
	deadline := time.Now().Add(retryBound)
	for {
		pending := 0
		for _, d := range c.st.S3Deliveries("DocCheckFunction") {
			if !d.Done {
				pending++
			}
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%d S3 events still being delivered after %v", pending, retryBound)
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.drainDeadLetters("")
}

// drainDeadLetters re-delivers every dead-lettered event of the document
// check not re-delivered yet (only those of key, unless key is ""), as the
// operator does. An event can land there even though its result was
// recorded: the write happened, but its answer and every retry failed.
func (c *careful) drainDeadLetters(key string) {
	c.t.Helper()
	for _, d := range c.st.S3Deliveries("DocCheckFunction") {
		if (key == "" || d.Key == key) && d.Done && d.DLQFile != "" && !c.redelivered[d.DLQFile] {
			c.redelivered[d.DLQFile] = true
			c.stats.Redelivered++
			redeliver(c.t, c.st, d.DLQFile, 20)
		}
	}
}

func redeliver(t testing.TB, st *stacktest.Stack, file string, tries int) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var dl struct {
		RequestPayload json.RawMessage `json:"requestPayload"`
	}
	if err := json.Unmarshal(b, &dl); err != nil || len(dl.RequestPayload) == 0 {
		t.Fatalf("dead letter %s: %v", file, err)
	}
	for i := 0; i < tries; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		_, err = st.Invoke(ctx, "DocCheckFunction", dl.RequestPayload)
		cancel()
		if err == nil {
			return
		}
		t.Logf("re-delivery of %s failed (%v), again", filepath.Base(file), err)
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("re-delivery of %s failed %d times", file, tries)
}

// upload asks for a presigned POST (the document is registered), sends the
// file straight to S3 (the app talking to S3: not faulted) and waits for
// the check. It returns the document id.
func (c *careful) upload(caseID, docType string, content []byte) string {
	c.t.Helper()
	body := map[string]any{"docType": docType, "contentType": "image/jpeg", "contentLength": len(content)}
	r := c.call("POST", "/v1/cases/"+caseID+"/documents", body, 201)
	if applied(r) {
		// Registered, but the presigned POST never reached the app: ask
		// for another upload (the first document stays pending, unused).
		c.t.Logf("upload of %s already applied; requesting another", docType)
		r = c.call("POST", "/v1/cases/"+caseID+"/documents", body, 201)
	}
	up := r.obj(c.t)
	if st, b := postFile(c.t, up, content); st/100 != 2 {
		c.t.Fatalf("presigned POST of %s: %d %s", docType, st, b)
	}
	docID := up["documentId"].(string)
	d := c.waitChecked(caseID, docID)
	if s := d["check"].(map[string]any)["status"]; s != "passed" {
		c.t.Fatalf("%s check = %v: %v", docType, s, d["check"])
	}
	return docID
}

// faultTable reads every item of the stack's table through a fault-free
// client (a test-only Scan), grouped by entity.
func faultTable(t *testing.T, st *stacktest.Stack) map[string][]map[string]any {
	t.Helper()
	db := st.DynamoDB()
	out := map[string][]map[string]any{}
	in := &dynamodb.ScanInput{TableName: aws.String(st.TableName())}
	for {
		page, err := db.Scan(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		var items []map[string]any
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &items); err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			e, _ := it["entity"].(string)
			out[e] = append(out[e], it)
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

func where(items []map[string]any, attr, value string) []map[string]any {
	var out []map[string]any
	for _, it := range items {
		if it[attr] == value {
			out = append(out, it)
		}
	}
	return out
}

// injected tallies the "fault injected" lines of the functions' logs.
func injected(t *testing.T, st *stacktest.Stack) (map[string]int, map[string]int, int) {
	t.Helper()
	byKind, byOp := map[string]int{}, map[string]int{}
	total := 0
	for _, f := range st.Template().Functions {
		file, err := os.Open(st.LogFile(f.LogicalID))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(file)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var l struct {
				Msg, Service, Operation, Fault, When string
			}
			if json.Unmarshal(sc.Bytes(), &l) != nil || l.Msg != "fault injected" {
				continue
			}
			total++
			byKind[l.Fault+" "+l.When]++
			byOp[f.LogicalID+" "+l.Service+"."+l.Operation]++
		}
		file.Close()
	}
	return byKind, byOp, total
}

func sortedCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "\n  %-60s %d", k, m[k])
	}
	return b.String()
}

// checkOutcomes counts, per object key, the outcomes the document check
// logged: "checked" is a result it recorded, "duplicate" an event whose
// result was already stored (a re-delivery, or its own commit whose response
// was lost: the retry's conditional write then finds the result).
func checkOutcomes(t *testing.T, st *stacktest.Stack) map[string]map[string]int {
	t.Helper()
	b, err := os.ReadFile(st.LogFile("DocCheckFunction"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]int{}
	for _, line := range strings.Split(string(b), "\n") {
		var l struct{ Msg, Key, Outcome string }
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "document check" {
			if out[l.Key] == nil {
				out[l.Key] = map[string]int{}
			}
			out[l.Key][l.Outcome]++
		}
	}
	return out
}

// eventSequencer is the normalized S3 sequencer of the event delivered for
// key ("" if none was).
func eventSequencer(t *testing.T, st *stacktest.Stack, key string) string {
	t.Helper()
	for _, d := range st.S3Deliveries("DocCheckFunction") {
		if d.Key != key {
			continue
		}
		var ev struct {
			Records []struct {
				S3 struct {
					Object struct {
						Sequencer string `json:"sequencer"`
					} `json:"object"`
				} `json:"s3"`
			} `json:"Records"`
		}
		if json.Unmarshal(d.Event, &ev) == nil && len(ev.Records) == 1 {
			return uploadcheck.NormalizeSequencer(ev.Records[0].S3.Object.Sequencer)
		}
	}
	return ""
}

// TestFaultsFlow drives the whole applicant flow and the review under
// injected faults, then checks every item, then runs the scheduled jobs
// under the same faults. At 30% the SDK's retries absorb almost
// everything; at 50% they cannot, so the apps see 503s and retry, and the
// document check's events fail over to the dead-letter folder.
func TestFaultsFlow(t *testing.T) {
	ownStack(t)
	for _, rate := range []string{"0.3", "0.5"} {
		// Each rate has a stack of its own: the two run side by side.
		t.Run("rate="+rate, func(t *testing.T) {
			t.Parallel()
			faultFlow(t, rate)
		})
	}
}

func faultFlow(t *testing.T, rate string) {
	st := faultStack(t, "FAULT_RATE", rate)
	stats := &faultStats{}
	owner := fmt.Sprintf("fault-owner-%d", time.Now().UnixNano())
	a := newCareful(t, st, stats, "applicant", owner)
	db := store.New(st.DynamoDB(), st.TableName(), domain.DefaultRules) // fault-free
	ctx := context.Background()
	start := time.Now()

	entID := a.createEnterprise()

	// Case.
	var caseID string
	caseBody := map[string]any{"enterpriseId": entID, "kind": "initial", "types": []string{"wecom", "official_account"}}
	if r := a.call("POST", "/v1/cases", caseBody, 201); applied(r) {
		var page struct {
			Items []map[string]any `json:"items"`
		}
		a.call("GET", "/v1/enterprises/"+entID+"/cases", nil, 200).decode(t, &page)
		if len(page.Items) != 1 {
			t.Fatalf("case already applied, list: %v", page.Items)
		}
		caseID = page.Items[0]["id"].(string)
	} else {
		caseID = r.obj(t)["id"].(string)
	}

	// Documents: presigned uploads, checked by DocCheckFunction (faulted).
	var docIDs []string
	for _, dt := range []string{"business_license", "legal_rep_id_front", "legal_rep_id_back"} {
		docIDs = append(docIDs, a.upload(caseID, dt, uniqueScan()))
	}

	// Face: a session, then the provider's callback (retried by the
	// provider on 503, as the sandbox relays the callback's answer).
	r := a.call("POST", "/v1/cases/"+caseID+"/face-verification", nil, 201)
	if applied(r) {
		r = a.call("POST", "/v1/cases/"+caseID+"/face-verification", nil, 201) // a new session
	}
	sess := r.obj(t)["sessionId"]
	a.call("POST", "/_sandbox/face", map[string]any{"sessionId": sess, "result": "pass", "phoneMatchesRegistration": true}, 200)

	// Micro-deposit.
	a.call("POST", "/v1/cases/"+caseID+"/bank-verification",
		map[string]any{"bankName": "招商银行深圳分行", "accountName": "深圳市微认证科技有限公司", "accountNumber": "755912345678901"}, 201)
	var deposits struct {
		Items []struct {
			AmountFen int64 `json:"amountFen"`
		} `json:"items"`
	}
	a.call("GET", "/_sandbox/deposits?caseId="+caseID, nil, 200).decode(t, &deposits)
	if len(deposits.Items) != 1 {
		t.Fatalf("%d micro-deposits paid, want exactly 1", len(deposits.Items))
	}
	a.call("POST", "/v1/cases/"+caseID+"/bank-verification/confirm", map[string]any{"amountFen": deposits.Items[0].AmountFen}, 200)

	// Payment: asking again returns the same open order.
	r = a.call("POST", "/v1/cases/"+caseID+"/payment", nil, 201)
	if applied(r) {
		r = a.call("POST", "/v1/cases/"+caseID+"/payment", nil, 201)
	}
	order := r.obj(t)
	a.call("POST", "/_sandbox/payments", map[string]any{"orderId": order["orderId"]}, 200)

	// Submit (a submit of a submitted case is not an error).
	a.call("POST", "/v1/cases/"+caseID+"/submit", nil, 200)

	// Review: claim and approve.
	rev := newCareful(t, st, stats, "reviewer", fmt.Sprintf("fault-reviewer-%d", time.Now().UnixNano()))
	r = rev.call("POST", "/v1/cases/"+caseID+"/claim", nil, 200)
	if applied(r) {
		r = rev.call("POST", "/v1/cases/"+caseID+"/claim", nil, 200) // the holder refreshes its claim
	}
	version := int(r.obj(t)["version"].(float64))
	r = rev.call("POST", "/v1/cases/"+caseID+"/decision", decisionBody("approve", version), 200)
	if !applied(r) && r.obj(t)["status"] != "approved" {
		t.Fatalf("decision: %s", r.Body)
	}
	if cs := a.get("/v1/cases/" + caseID); cs["status"] != "approved" {
		t.Fatalf("case after approval: %v", cs["status"])
	}
	flowTime := time.Since(start)
	// Every S3 event is settled before the items are checked: none may be
	// left in the dead-letter folder.
	a.settleS3Events()

	// ---- Every item, read without faults.
	items := faultTable(t, st)
	if n := len(items["enterprise"]); n != 1 {
		t.Errorf("%d enterprises, want 1", n)
	}
	if n := len(items["uscc"]); n != 1 {
		t.Errorf("%d USCC claims, want 1", n)
	}
	if n := len(items["case"]); n != 1 {
		t.Errorf("%d cases, want 1", n)
	}
	b, err := db.GetCaseBundle(ctx, caseID)
	if err != nil {
		t.Fatal(err)
	}
	c := b.Case
	if c.Status != domain.CaseApproved || c.Face == nil || c.Face.Status != domain.VerificationPassed ||
		c.Deposit == nil || c.Deposit.Status != domain.DepositVerified || c.Payment == nil || c.Payment.Status != domain.PaymentPaid {
		t.Errorf("case state: status %s face %+v deposit %+v payment %+v", c.Status, c.Face, c.Deposit, c.Payment)
	}
	// History: each transition exactly once, in order.
	var caseHist []string
	seen := map[string]bool{}
	for _, h := range b.History {
		tr := h.Subject + ":" + h.From + "->" + h.To
		if seen[tr] {
			t.Errorf("duplicate transition %s in the history", tr)
		}
		seen[tr] = true
		if h.Subject == "case" {
			caseHist = append(caseHist, h.From+"->"+h.To)
		}
	}
	if got, want := strings.Join(caseHist, " "), "->draft draft->submitted submitted->in_review in_review->approved"; got != want {
		t.Errorf("case history %q, want %q", got, want)
	}
	// Documents: the uploaded ones each with exactly one result, the one
	// of their S3 event; the check recorded a result at most once.
	// The check's log lines reach the log after its invocations answered:
	// wait until each upload's outcome is there.
	outcomes := checkOutcomes(t, st)
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); outcomes = checkOutcomes(t, st) {
		logged := 0
		for _, id := range docIDs {
			if o := outcomes[domain.UploadPrefix+caseID+"/"+id]; o["checked"]+o["duplicate"] > 0 {
				logged++
			}
		}
		if logged == len(docIDs) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	lostChecks := 0
	docs := where(items["document"], "caseId", caseID)
	uploaded := map[string]bool{}
	for _, id := range docIDs {
		uploaded[id] = true
	}
	for _, d := range docs {
		id := d["id"].(string)
		key := domain.UploadPrefix + caseID + "/" + id
		switch {
		case uploaded[id]:
			seq := eventSequencer(t, st, key)
			if d["status"] != "passed" || seq == "" || d["seq"] != seq || d["checkedAt"] == nil {
				t.Errorf("document %s: status %v seq %v (event %s) checkedAt %v", id, d["status"], d["seq"], seq, d["checkedAt"])
			}
			o := outcomes[key]
			if o["checked"] > 1 || o["checked"]+o["duplicate"] < 1 {
				t.Errorf("document %s: outcomes %v, want the result recorded once", id, o)
			}
			if o["checked"] == 0 {
				lostChecks++
			}
		case d["status"] != "pending" || len(outcomes[key]) != 0:
			t.Errorf("unused document %s: status %v, outcomes %v", id, d["status"], outcomes[key])
		}
	}
	if len(docs) < len(docIDs) {
		t.Errorf("%d documents stored, %d uploaded", len(docs), len(docIDs))
	}
	// Payouts, orders, certifications, notifications: no duplicates.
	if ps, err := db.Payouts(ctx, caseID); err != nil || len(ps) != 1 {
		t.Errorf("payouts %v (%v), want exactly 1", ps, err)
	}
	if n := len(where(items["ref"], "kind", string(domain.RefOrder))); n != 1 {
		t.Errorf("%d payment orders, want 1", n)
	}
	_, certs, err := db.GetEnterprise(ctx, entID)
	if err != nil {
		t.Fatal(err)
	}
	if len(certs) != 2 {
		t.Errorf("%d certifications, want 2 (wecom, official_account)", len(certs))
	}
	for _, ce := range certs {
		if ce.Status != domain.CertActive || ce.Cycle != 1 {
			t.Errorf("certification %s: %s cycle %d", ce.Type, ce.Status, ce.Cycle)
		}
	}
	noteKinds := map[string]int{}
	for _, n := range where(items["notification"], "enterpriseId", entID) {
		noteKinds[fmt.Sprint(n["kind"])]++
	}
	for k, n := range noteKinds {
		if n != 1 {
			t.Errorf("%d %q notifications, want 1", n, k)
		}
	}
	idemStates := map[string]int{}
	for _, it := range items["idempotency"] {
		idemStates[fmt.Sprint(it["state"])]++
	}

	// ---- The document checks' deliveries.
	deliveries, dead := 0, 0
	for _, d := range st.S3Deliveries("DocCheckFunction") {
		deliveries += d.Attempts
		if d.DLQFile != "" {
			dead++
		}
	}

	// ---- The scheduled jobs, under the same faults.
	jobs := faultJobs(t, st, newCareful(t, st, stats, "applicant", ""), db)

	kinds, ops, total := injected(t, st)
	t.Logf("flow: %d logical requests, %d HTTP attempts in %v; apps saw %d x 503, %d x request_in_progress, "+
		"%d x request_already_applied, %d replays; %d S3 event invocations (%d dead-lettered, %d re-delivered; "+
		"%d results recorded by a commit whose response was lost)",
		stats.Requests, stats.Attempts, flowTime.Round(time.Millisecond), stats.Unavailable, stats.InProgress,
		stats.AlreadyApplied, stats.Replayed, deliveries, dead, stats.Redelivered, lostChecks)
	t.Logf("idempotency records: %v; jobs: %s", idemStates, jobs)
	t.Logf("%d faults injected, by kind:%s\nby function and operation:%s", total, sortedCounts(kinds), sortedCounts(ops))
	// Why the apps saw what they saw: the API's own account of each 503
	// and of reservations it had to keep.
	for _, l := range st.Logs("ApiFunction") {
		if strings.Contains(l, `"dependency unavailable"`) || strings.Contains(l, `"idempotency reservation kept`) {
			t.Logf("api: %.400s", l)
		}
	}
	if total < 20 {
		t.Errorf("only %d faults were injected: is FAULT_RATE reaching the functions?", total)
	}
	for _, k := range []string{"throttle before", "5xx before", "5xx after", "timeout before", "timeout after"} {
		if kinds[k] == 0 {
			t.Errorf("no %q fault was injected", k)
		}
	}
	if n := len(st.LogsContaining("ApiFunction", `"status":500`)); n != 0 {
		t.Errorf("%d requests answered 500", n)
	}
}

// faultJobs seeds a certification due for its 60-day reminder and runs the
// reminder and expiry jobs under faults: each run at least twice and until
// a run completes cleanly (Lambda retries a failed run). Every reminder and
// expiry notice must exist exactly once.
func faultJobs(t *testing.T, st *stacktest.Stack, a *careful, db *store.Store) string {
	t.Helper()
	ctx := context.Background()
	entID := a.createEnterprise()
	expires := domain.EndOfBeijingDay(time.Date(2027, 11, 27, 12, 0, 0, 0, domain.Beijing()))
	issued := expires.AddDate(-1, 0, 0)
	cert := &domain.Certification{EnterpriseID: entID, Type: domain.CertWeCom, Status: domain.CertActive,
		IssuedAt: issued, ExpiresAt: expires, CaseID: domain.NewIDAt(issued), Version: 1, Cycle: 1, UpdatedAt: issued}
	cert.RemindAt = cert.NextReminderAt(issued, domain.DefaultRules, nil)
	if err := db.Commit(ctx, &domain.Change{Certifications: []domain.CertificationWrite{{Certification: cert, Create: true}}}); err != nil {
		t.Fatal(err)
	}
	var report []string
	run := func(fn, event string) {
		ev, err := os.ReadFile(filepath.Join(stacktest.RepoRoot(t), "events", event))
		if err != nil {
			t.Fatal(err)
		}
		runs, failed := 0, 0
		for clean := false; runs < 2 || !clean; runs++ {
			if runs == 20 {
				t.Fatalf("%s: no clean run in 20", fn)
			}
			ictx, cancel := context.WithTimeout(ctx, 5*time.Minute)
			out, err := st.Invoke(ictx, fn, ev)
			cancel()
			var fe *localstack.FunctionError
			switch {
			case errors.As(err, &fe):
				failed++ // items left: Lambda would retry the run
			case err != nil:
				t.Fatalf("%s: %v", fn, err)
			default:
				var sum struct {
					Complete bool           `json:"complete"`
					Counts   map[string]int `json:"counts"`
				}
				if err := json.Unmarshal(out, &sum); err != nil {
					t.Fatal(err)
				}
				clean = sum.Complete && sum.Counts["failed"] == 0
			}
		}
		report = append(report, fmt.Sprintf("%s %d runs (%d failed)", fn, runs, failed))
	}
	run("ReminderFunction", "schedule-reminder-2027-09-28.json")
	run("ExpiryFunction", "schedule-expiry-2027-11-28.json")

	items := faultTable(t, st)
	kinds := map[string]int{}
	for _, n := range where(items["notification"], "enterpriseId", entID) {
		kinds[fmt.Sprint(n["kind"])]++
	}
	if kinds["reminder"] != 1 || kinds["expiry"] != 1 {
		t.Errorf("notifications of the seeded enterprise: %v, want one reminder and one expiry notice", kinds)
	}
	if n := len(where(items["reminder_mark"], "enterpriseId", entID)); n != 1 {
		t.Errorf("%d reminder marks, want 1", n)
	}
	// Every enterprise: as many reminders as marks (one per milestone).
	for _, e := range items["enterprise"] {
		id := e["id"].(string)
		notes := len(where(where(items["notification"], "enterpriseId", id), "kind", "reminder"))
		if marks := len(where(items["reminder_mark"], "enterpriseId", id)); notes != marks {
			t.Errorf("enterprise %s: %d reminders for %d milestones", id, notes, marks)
		}
	}
	got, err := db.GetCertification(ctx, entID, domain.CertWeCom)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != domain.CertOverdue {
		t.Errorf("certification after the expiry run: %s, want overdue", got.Status)
	}
	return strings.Join(report, ", ")
}

// TestFaultsDocCheckDeadLetter: the document check fails all three
// deliveries of an event (every HeadObject attempt fails, 3 per invocation,
// 9 in all), so the event lands in the dead-letter folder; re-delivered, it
// records the result once; re-delivered again, nothing more.
func TestFaultsDocCheckDeadLetter(t *testing.T) {
	ownStack(t)
	st := faultStack(t, "FAULT_RATE", "1", "FAULT_OPS", "S3.HeadObject", "FAULT_LIMIT", "9", "FAULT_KINDS", "5xx,timeout")
	a := newCareful(t, st, &faultStats{}, "applicant", "")
	caseID, docID, d := deadLetteredUpload(t, st, a)
	key := domain.UploadPrefix + caseID + "/" + docID
	redeliver(t, st, d.DLQFile, 1)
	redeliver(t, st, d.DLQFile, 1) // an operator's double click
	if s := docStatus(t, a, caseID, docID); s != "passed" {
		t.Fatalf("status %s after the re-delivery, want passed", s)
	}
	// Both re-deliveries' log lines, which may reach the log after the
	// invocations answered.
	st.WaitLogs(t, "DocCheckFunction", `"msg":"document check"`, 2)
	if o := checkOutcomes(t, st)[key]; o["checked"] != 1 || o["duplicate"] != 1 {
		t.Fatalf("outcomes %v, want the result recorded once, then the second re-delivery a duplicate", o)
	}
	st.WaitLogs(t, "DocCheckFunction", `"msg":"fault injected"`, 9)
	kinds, _, total := injected(t, st)
	if total != 9 {
		t.Errorf("%d faults injected, want 9: %v", total, kinds)
	}
	t.Logf("faults: %s", sortedCounts(kinds))
}

// deadLetteredUpload uploads a document on a stack whose DocCheckFunction
// fails every S3 HeadObject (faultStack) and waits until its event is in the
// dead-letter folder, the document pending.
func deadLetteredUpload(t *testing.T, st *stacktest.Stack, a *careful) (caseID, docID string, d localstack.Delivery) {
	t.Helper()
	entID := a.call("POST", "/v1/enterprises", enterpriseBody(nil), 201).obj(t)["id"].(string)
	caseID = a.call("POST", "/v1/cases", map[string]any{"enterpriseId": entID, "kind": "initial", "types": []string{"wecom"}}, 201).obj(t)["id"].(string)
	content := uniqueScan()
	up := a.call("POST", "/v1/cases/"+caseID+"/documents",
		map[string]any{"docType": "business_license", "contentType": "image/jpeg", "contentLength": len(content)}, 201).obj(t)
	if s, b := postFile(t, up, content); s/100 != 2 {
		t.Fatalf("presigned POST: %d %s", s, b)
	}
	docID = up["documentId"].(string)
	key := domain.UploadPrefix + caseID + "/" + docID
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, err := st.WaitS3Delivery(ctx, "DocCheckFunction", func(d localstack.Delivery) bool { return d.Key == key })
	if err != nil {
		t.Fatal(err)
	}
	if d.DLQFile == "" || d.Attempts != 3 {
		t.Fatalf("delivery: %d attempts, dead letter %q; want 3 attempts and a dead letter", d.Attempts, d.DLQFile)
	}
	if s := docStatus(t, a, caseID, docID); s != "pending" {
		t.Fatalf("status %s of a dead-lettered upload, want pending", s)
	}
	return caseID, docID, d
}

func docStatus(t *testing.T, a *careful, caseID, docID string) string {
	t.Helper()
	var page struct {
		Items []map[string]any `json:"items"`
	}
	a.call("GET", "/v1/cases/"+caseID+"/documents", nil, 200).decode(t, &page)
	for _, d := range page.Items {
		if d["id"] == docID {
			return fmt.Sprint(d["check"].(map[string]any)["status"])
		}
	}
	t.Fatalf("document %s not listed", docID)
	return ""
}

// TestFaultsLostCommitResponses: every transaction commits but its response
// is lost, on every attempt (the nastiest case, for every write). The store
// recognizes its own commit in the idempotency reservation, so each request
// succeeds once, and a retry with the same key replays it byte for byte.
func TestFaultsLostCommitResponses(t *testing.T) {
	ownStack(t)
	st := faultStack(t, "FAULT_RATE", "1", "FAULT_OPS", "DynamoDB.TransactWriteItems", "FAULT_AFTER", "1", "FAULT_KINDS", "5xx,timeout")
	owner := fmt.Sprintf("lost-%d", time.Now().UnixNano())
	a := &app{t: t, base: st.APIURL(), token: st.Bearer(t, "applicant", owner)}
	body := enterpriseBody(nil)
	first := a.must(201, "POST", "/v1/enterprises", body, "Idempotency-Key", "e1")
	again := a.must(201, "POST", "/v1/enterprises", body, "Idempotency-Key", "e1")
	if string(first.Body) != string(again.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("not a byte-for-byte replay:\n%s\n%s", first.Body, again.Body)
	}
	entID := first.obj(t)["id"].(string)
	caseBody := map[string]any{"enterpriseId": entID, "kind": "initial", "types": []string{"wecom"}}
	c1 := a.must(201, "POST", "/v1/cases", caseBody, "Idempotency-Key", "c1")
	c2 := a.must(201, "POST", "/v1/cases", caseBody, "Idempotency-Key", "c1")
	if string(c1.Body) != string(c2.Body) {
		t.Fatalf("case create not replayed")
	}
	items := faultTable(t, st)
	if len(items["enterprise"]) != 1 || len(items["case"]) != 1 || len(where(items["history"], "to", "draft")) != 1 {
		t.Fatalf("after lost responses: %d enterprises, %d cases, %d history entries; want 1, 1, 1",
			len(items["enterprise"]), len(items["case"]), len(items["history"]))
	}
	st.WaitLogs(t, "ApiFunction", `"msg":"fault injected"`, 1)
	kinds, _, total := injected(t, st)
	if total == 0 || kinds["5xx before"]+kinds["timeout before"] != 0 {
		t.Fatalf("faults: %v", kinds)
	}
	t.Logf("%d faults, all after the commit:%s", total, sortedCounts(kinds))
}

// TestFaultsOffInTemplate: fault injection is a testing aid; no deployed
// function may have FAULT_* in its environment.
func TestFaultsOffInTemplate(t *testing.T) {
	noStack(t)
	tpl, err := template.LoadRepo(stacktest.RepoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range tpl.Functions {
		for k := range f.Env {
			if strings.HasPrefix(k, "FAULT_") {
				t.Errorf("%s sets %s in template.yaml", f.LogicalID, k)
			}
		}
	}
	raw, err := os.ReadFile(filepath.Join(stacktest.RepoRoot(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "FAULT_") {
		t.Error("template.yaml mentions FAULT_")
	}
}
