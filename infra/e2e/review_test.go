package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"microcert/shared/domain"
	"microcert/shared/store"
)

// Review and the certification lifecycle, end to end through the local
// stack: the applicant's app drives a case to "submitted" the real way
// (presigned uploads checked by the document function, the sandbox face
// provider, the sandbox bank's micro-deposit, the sandbox payment), then
// reviewers and admins work it over HTTP.
//
// Paths that need time to pass (an expired claim, the annual-review window,
// a lapsed certification) move the stored dates back through the store
// against the stack's DynamoDB (seedStore), then run over HTTP like the
// others; shared/certsvc/review_test.go covers them with a fake clock too.

// seedStore is the store over the shared stack's table, for moving dates.
func seedStore() *store.Store {
	return store.New(shared.DynamoDB(), shared.TableName(), domain.DefaultRules)
}

// satisfy fulfils every item of the case's currentlyDue the way the app
// does, and returns the case view once nothing is due or pending.
func (a *app) satisfy(caseID string) map[string]any {
	a.t.Helper()
	cs := a.getCase(caseID)
	for _, item := range strs(cs["requirements"].(map[string]any)["currentlyDue"]) {
		switch item {
		case "face_verification":
			a.passFace(caseID, true)
		case "bank_verification":
			a.verifyBank(caseID)
		case "payment":
			a.pay(caseID)
		case "explanation":
			a.must(200, "POST", "/v1/cases/"+caseID+"/explanation",
				map[string]any{"text": "已删除违规内容并完成整改，附整改报告。"})
		default: // a document type
			d := a.upload(caseID, item, "image/jpeg", uniqueScan())
			if st := d["check"].(map[string]any)["status"]; st != "passed" {
				a.t.Fatalf("%s check = %v: %v", item, st, d["check"])
			}
		}
	}
	cs = a.getCase(caseID)
	req := cs["requirements"].(map[string]any)
	if len(req["currentlyDue"].([]any))+len(req["pendingVerification"].([]any))+len(req["errors"].([]any)) != 0 {
		a.t.Fatalf("requirements left: %v", req)
	}
	return cs
}

// submitCase submits the case and checks it is on its way to review.
func (a *app) submitCase(caseID string) map[string]any {
	a.t.Helper()
	sub := a.must(200, "POST", "/v1/cases/"+caseID+"/submit", nil).obj(a.t)
	if sub["status"] != "submitted" || sub["reviewDueAt"] == nil {
		a.t.Fatalf("submit = %v", sub)
	}
	return sub
}

// submittedCase registers an enterprise, opens an initial case for types
// and drives it to "submitted". It returns the enterprise and case ids.
func (a *app) submittedCase(types ...string) (entID, caseID string) {
	a.t.Helper()
	entID = a.createEnterprise(nil)["id"].(string)
	caseID = a.openCase(entID, "initial", types...)["id"].(string)
	a.satisfy(caseID)
	a.submitCase(caseID)
	return entID, caseID
}

// claim claims the case as this reviewer and returns its version.
func (a *app) claim(caseID string) int {
	a.t.Helper()
	cs := a.must(200, "POST", "/v1/cases/"+caseID+"/claim", nil).obj(a.t)
	if cs["status"] != "in_review" {
		a.t.Fatalf("claim = %v", cs)
	}
	return int(cs["version"].(float64))
}

func decisionBody(decision string, version int, reasons ...string) map[string]any {
	if reasons == nil {
		reasons = []string{}
	}
	b := map[string]any{"decision": decision, "reasons": reasons, "note": "", "version": version}
	if decision == "request_changes" && len(reasons) > 0 {
		// A request for changes names what to redo.
		b["redo"] = []map[string]any{{"requirement": "business_license", "reason": "document_unclear"}}
	}
	return b
}

// decide sends a decision and requires 200.
func (a *app) decide(caseID, decision string, version int, reasons ...string) map[string]any {
	a.t.Helper()
	return a.must(200, "POST", "/v1/cases/"+caseID+"/decision", decisionBody(decision, version, reasons...)).obj(a.t)
}

// approve claims and approves; it returns the decided case.
func (a *app) approve(caseID string) map[string]any {
	a.t.Helper()
	cs := a.decide(caseID, "approve", a.claim(caseID))
	if cs["status"] != "approved" {
		a.t.Fatalf("approve = %v", cs)
	}
	return cs
}

func (a *app) enterprise(entID string) map[string]any {
	a.t.Helper()
	return a.must(200, "GET", "/v1/enterprises/"+entID, nil).obj(a.t)
}

// certOf finds the certification of type typ in an enterprise view.
func certOf(t testing.TB, ent map[string]any, typ string) map[string]any {
	t.Helper()
	for _, c := range ent["certifications"].([]any) {
		if m := c.(map[string]any); m["type"] == typ {
			return m
		}
	}
	t.Fatalf("no %s certification in %v", typ, ent["certifications"])
	return nil
}

func parseTime(t testing.TB, v any) time.Time {
	t.Helper()
	s, _ := v.(string)
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("time %v: %v", v, err)
	}
	return at
}

// decisionEntries counts the case history entries of decisions.
func decisionEntries(cs map[string]any) int {
	n := 0
	for _, h := range cs["history"].([]any) {
		m := h.(map[string]any)
		if m["subject"] == "case" && m["from"] == "in_review" && m["to"] != "in_review" && m["to"] != "submitted" && m["to"] != "withdrawn" {
			n++
		}
	}
	return n
}

func (a *app) notifications(entID string) []map[string]any {
	a.t.Helper()
	var page struct {
		Items []map[string]any `json:"items"`
	}
	a.must(200, "GET", "/v1/enterprises/"+entID+"/notifications", nil).decode(a.t, &page)
	return page.Items
}

func inQueue(t testing.TB, rev *app, caseID string) map[string]any {
	t.Helper()
	for cursor := ""; ; {
		path := "/v1/review/queue?limit=100"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		var page struct {
			Items      []map[string]any `json:"items"`
			NextCursor *string          `json:"nextCursor"`
		}
		rev.must(200, "GET", path, nil).decode(t, &page)
		for _, it := range page.Items {
			if it["id"] == caseID {
				return it
			}
		}
		if page.NextCursor == nil {
			return nil
		}
		cursor = *page.NextCursor
	}
}

// TestReviewApproveFlow: submit -> queue -> claim -> approve -> certificates
// active with the right expiry, capabilities in the profile, the decision
// in the history and the inbox; and who may do what.
func TestReviewApproveFlow(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	revA := newApp(t, "reviewer", "")
	revB := newApp(t, "reviewer", "")
	entID, caseID := a.submittedCase("wecom", "official_account")

	// Applicants reach no reviewer or admin route.
	for _, r := range []struct{ method, path string }{
		{"GET", "/v1/review/queue"},
		{"POST", "/v1/cases/" + caseID + "/claim"},
		{"POST", "/v1/cases/" + caseID + "/decision"},
		{"POST", "/v1/enterprises/" + entID + "/certifications/wecom/revoke"},
	} {
		var body any
		if r.method == "POST" {
			body = map[string]any{}
		}
		if got := a.do(r.method, r.path, body); got.Status != 403 || got.code(t) != "forbidden" {
			t.Errorf("applicant %s %s: %d %s", r.method, r.path, got.Status, got.Body)
		}
	}

	item := inQueue(t, revA, caseID)
	if item == nil {
		t.Fatalf("case %s not in the review queue", caseID)
	}
	if st := item["slaState"]; st != "on_time" || item["review"].(map[string]any)["slaState"] != st {
		t.Errorf("slaState = %v, review = %v", st, item["review"])
	}

	// Nobody decides an unclaimed case.
	version := int(item["version"].(float64))
	if r := revA.do("POST", "/v1/cases/"+caseID+"/decision", decisionBody("approve", version)); r.Status != 409 || r.code(t) != "claim_required" {
		t.Fatalf("decision on an unclaimed case: %d %s", r.Status, r.Body)
	}
	version = revA.claim(caseID)
	r := revB.do("POST", "/v1/cases/"+caseID+"/claim", nil)
	if r.Status != 409 || r.code(t) != "case_claimed" || r.obj(t)["claimExpiresAt"] == nil {
		t.Fatalf("second claim: %d %s", r.Status, r.Body)
	}
	if r := revB.do("POST", "/v1/cases/"+caseID+"/decision", decisionBody("approve", version)); r.Status != 409 || r.code(t) != "case_claimed" {
		t.Fatalf("decision by a non-claimant: %d %s", r.Status, r.Body)
	}

	// The reviewer sees each document's check and reuse flag, and downloads
	// one through a short-lived audited link.
	cs := revA.getCase(caseID)
	docs := cs["documents"].([]any)
	if len(docs) == 0 {
		t.Fatal("reviewer sees no documents")
	}
	first := docs[0].(map[string]any)
	if _, ok := first["reusedByOtherEnterprise"]; !ok || first["check"].(map[string]any)["status"] != "passed" {
		t.Errorf("reviewer's document view = %v", first)
	}
	dl := revA.must(200, "GET", "/v1/documents/"+first["id"].(string)+"/download", nil).obj(t)
	if dl["url"] == "" {
		t.Errorf("download = %v", dl)
	}
	if _, ok := a.getCase(caseID)["documents"].([]any)[0].(map[string]any)["reusedByOtherEnterprise"]; ok {
		t.Error("the applicant sees the reuse flag")
	}

	if r := revA.do("POST", "/v1/cases/"+caseID+"/decision", decisionBody("approve", version-1)); r.Status != 409 || r.code(t) != "version_conflict" {
		t.Fatalf("stale version: %d %s", r.Status, r.Body)
	}
	if r := revA.do("POST", "/v1/cases/"+caseID+"/decision", map[string]any{"decision": "approve"}); r.Status != 422 || r.code(t) != "missing_field" {
		t.Fatalf("decision without version: %d %s", r.Status, r.Body)
	}
	cs = revA.decide(caseID, "approve", version)
	if cs["status"] != "approved" || decisionEntries(cs) != 1 {
		t.Fatalf("approved case = %v", cs)
	}
	decidedAt := parseTime(t, cs["review"].(map[string]any)["decidedAt"])
	if inQueue(t, revA, caseID) != nil {
		t.Error("an approved case is still in the queue")
	}

	ent := a.enterprise(entID)
	want := domain.ExpiryAfterOneYear(decidedAt)
	for _, typ := range []string{"wecom", "official_account"} {
		c := certOf(t, ent, typ)
		exp := parseTime(t, c["expiresAt"])
		if c["status"] != "active" || !exp.Equal(want) || c["caseId"] != caseID {
			t.Errorf("%s = %v, want active until %v", typ, c, want)
		}
		// expiresAt is the end of the Beijing day one year on.
		if b := exp.In(domain.Beijing()); b.Hour() != 23 || b.Minute() != 59 || b.Second() != 59 ||
			b.Year() != decidedAt.In(domain.Beijing()).Year()+1 {
			t.Errorf("%s expiresAt %v is not 23:59:59 Beijing one year on", typ, b)
		}
	}
	caps := ent["capabilities"].(map[string]any)
	if w := caps["wecom"].(map[string]any); w["certified"] != true || w["externalContactsLimit"] != nil {
		t.Errorf("wecom capabilities = %v", w)
	}
	if o := caps["official_account"].(map[string]any); o["certified"] != true || o["payments"] != "native" {
		t.Errorf("official_account capabilities = %v", o)
	}
	if m := caps["mini_program"].(map[string]any); m["certified"] != false || m["externalContactsLimit"] != float64(20000) {
		t.Errorf("mini_program (not applied for) capabilities = %v", m)
	}

	notes := a.notifications(entID)
	if len(notes) == 0 || notes[0]["kind"] != "decision" || notes[0]["caseId"] != caseID {
		t.Errorf("inbox = %v", notes)
	}

	// Nobody reads or ends another enterprise's objects.
	other := newApp(t, "applicant", "")
	for _, r := range []struct{ method, path string }{
		{"GET", "/v1/enterprises/" + entID},
		{"GET", "/v1/cases/" + caseID},
		{"GET", "/v1/enterprises/" + entID + "/notifications"},
		{"GET", "/v1/documents/" + first["id"].(string) + "/download"},
		{"POST", "/v1/enterprises/" + entID + "/certifications/wecom/cancel"},
	} {
		if got := other.do(r.method, r.path, nil); got.Status != 404 {
			t.Errorf("other applicant %s %s: %d %s", r.method, r.path, got.Status, got.Body)
		}
	}
	if c := certOf(t, a.enterprise(entID), "wecom"); c["status"] != "active" {
		t.Errorf("wecom after a stranger's cancel = %v", c)
	}
}

// TestReviewRequestChangesThenApprove: the reviewer sends the case back
// with reasons; the applicant reads them (case view and inbox, in plain
// language), fixes the profile and re-uploads, resubmits; approval.
func TestReviewRequestChangesThenApprove(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	a.lang = "en"
	rev := newApp(t, "reviewer", "")
	entID, caseID := a.submittedCase("wecom")

	v := rev.claim(caseID)
	if r := rev.do("POST", "/v1/cases/"+caseID+"/decision", decisionBody("request_changes", v)); r.Status != 422 || r.code(t) != "redo_required" {
		t.Fatalf("request_changes naming nothing to redo: %d %s", r.Status, r.Body)
	}
	if r := rev.do("POST", "/v1/cases/"+caseID+"/decision", decisionBody("request_changes", v, "made_up")); r.Status != 422 || r.code(t) != "unknown_reason" {
		t.Fatalf("unknown reason: %d %s", r.Status, r.Body)
	}
	body := decisionBody("request_changes", v, "address_mismatch", "document_unclear")
	body["note"] = "营业执照照片模糊"
	body["redo"] = []map[string]any{{"requirement": "business_license", "reason": "document_unclear", "note": "请用扫描仪重新扫描"}}
	if r := rev.do("POST", "/v1/cases/"+caseID+"/decision", map[string]any{"decision": "request_changes", "reasons": []string{"other"},
		"version": v, "redo": []map[string]any{{"requirement": "payment_proof", "reason": "document_unclear"}}}); r.Status != 422 {
		t.Fatalf("redo of a requirement the case does not have: %d %s", r.Status, r.Body)
	}
	cs := rev.must(200, "POST", "/v1/cases/"+caseID+"/decision", body).obj(t)
	if cs["status"] != "changes_requested" || cs["changeRequests"].(float64) != 1 {
		t.Fatalf("after request_changes: %v", cs)
	}
	// What was sent back is due again, with the reviewer's advice, and
	// resubmitting before redoing it is refused.
	req := a.getCase(caseID)["requirements"].(map[string]any)
	if !has(strs(req["currentlyDue"]), "business_license") || !strings.Contains(fmt.Sprint(req["errors"]), "changes_requested") ||
		!strings.Contains(fmt.Sprint(req["errors"]), "请用扫描仪重新扫描") {
		t.Fatalf("requirements after request_changes = %v", req)
	}
	if r := a.do("POST", "/v1/cases/"+caseID+"/submit", nil); r.Status != 409 || r.code(t) != "requirements_unmet" {
		t.Fatalf("resubmit unchanged: %d %s", r.Status, r.Body)
	}

	// The applicant sees the reasons in the case view and the inbox.
	mine := a.getCase(caseID)
	review := mine["review"].(map[string]any)
	if got := strs(review["reasons"]); len(got) != 2 || got[0] != "address_mismatch" || review["decision"] != "request_changes" {
		t.Errorf("case view review = %v", review)
	}
	notes := a.notifications(entID)
	if len(notes) == 0 {
		t.Fatal("no notification of the request for changes")
	}
	addr, _ := domain.ReasonFor("address_mismatch")
	unclear, _ := domain.ReasonFor("document_unclear")
	if n := notes[0]; n["kind"] != "decision" || !strings.Contains(n["body"].(string), addr.Text.En) ||
		!strings.Contains(n["body"].(string), unclear.Text.En) || !strings.Contains(n["body"].(string), "营业执照照片模糊") {
		t.Errorf("notification = %v", n)
	}
	zh := *a
	zh.lang = "zh-CN"
	if n := zh.notifications(entID)[0]; !strings.Contains(n["body"].(string), addr.Text.Zh) {
		t.Errorf("zh notification = %v", n)
	}
	// Not re-claimable while the applicant has it.
	if r := rev.do("POST", "/v1/cases/"+caseID+"/claim", nil); r.Status != 409 {
		t.Errorf("claim of a case sent back: %d %s", r.Status, r.Body)
	}

	// Fixes: a corrected profile (no version sent: the server applies it
	// to the current one) and a new scan of the license.
	a.must(200, "PATCH", "/v1/enterprises/"+entID, map[string]any{
		"operatingAddress": "广东省深圳市南山区科技园路1号"})
	d := a.upload(caseID, "business_license", "image/jpeg", uniqueScan())
	if d["check"].(map[string]any)["status"] != "passed" {
		t.Fatalf("new upload = %v", d)
	}
	a.satisfy(caseID)
	a.submitCase(caseID)

	cs = rev.approve(caseID)
	if got := certOf(t, a.enterprise(entID), "wecom"); got["status"] != "active" {
		t.Fatalf("wecom after approval = %v", got)
	}
	hist := cs["history"].([]any)
	var path []string
	for _, h := range hist {
		if m := h.(map[string]any); m["subject"] == "case" {
			path = append(path, fmt.Sprint(m["to"]))
		}
	}
	if got := strings.Join(path, ">"); !strings.HasSuffix(got, "submitted>in_review>changes_requested>submitted>in_review>approved") {
		t.Errorf("case history = %s", got)
	}
}

// TestReviewRejectIsFinal: after a rejection nothing moves the case.
func TestReviewRejectIsFinal(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	rev := newApp(t, "reviewer", "")
	entID, caseID := a.submittedCase("wecom")
	cs := rev.decide(caseID, "reject", rev.claim(caseID), "document_reused")
	if cs["status"] != "rejected" {
		t.Fatalf("reject = %v", cs)
	}
	v := int(cs["version"].(float64))
	for _, r := range []struct {
		who    *app
		method string
		path   string
		body   any
	}{
		{rev, "POST", "/v1/cases/" + caseID + "/claim", nil},
		{rev, "POST", "/v1/cases/" + caseID + "/decision", decisionBody("approve", v)},
		{a, "POST", "/v1/cases/" + caseID + "/submit", nil},
		{a, "POST", "/v1/cases/" + caseID + "/withdraw", nil},
	} {
		if got := r.who.do(r.method, r.path, r.body); got.Status != 409 {
			t.Errorf("%s %s after rejection: %d %s", r.method, r.path, got.Status, got.Body)
		}
	}
	if got := a.getCase(caseID); got["status"] != "rejected" {
		t.Errorf("status = %v", got["status"])
	}
	if certs := a.enterprise(entID)["certifications"].([]any); len(certs) != 0 {
		t.Errorf("a rejected case left certifications: %v", certs)
	}
	notes := a.notifications(entID)
	if len(notes) == 0 || !strings.Contains(notes[0]["body"].(string), "驳回") {
		t.Errorf("rejection notice = %v", notes)
	}
}

// TestReviewRacingDecisions: decisions sent at the same moment; exactly one
// is applied and recorded.
func TestReviewRacingDecisions(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	revA := newApp(t, "reviewer", "")
	revB := newApp(t, "reviewer", "")
	_, case1 := a.submittedCase("wecom")
	_, case2 := a.submittedCase("official_account")

	race := func(t *testing.T, caseID string, senders []*app, decisions []string, version int) {
		t.Helper()
		statuses := make([]int, len(senders))
		bodies := make([]string, len(senders))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range senders {
			wg.Go(func() {
				<-start
				var reasons []string
				if decisions[i] != "approve" {
					reasons = []string{"info_inconsistent"}
				}
				r := senders[i].do("POST", "/v1/cases/"+caseID+"/decision", decisionBody(decisions[i], version, reasons...))
				statuses[i], bodies[i] = r.Status, string(r.Body)
			})
		}
		close(start)
		wg.Wait()
		var ok, conflict int
		for _, s := range statuses {
			switch s {
			case 200:
				ok++
			case 409:
				conflict++
			}
		}
		if ok != 1 || conflict != 1 {
			t.Fatalf("statuses %v, want one 200 and one 409: %v", statuses, bodies)
		}
		if n := decisionEntries(revA.getCase(caseID)); n != 1 {
			t.Fatalf("decision history entries = %d, want 1", n)
		}
	}
	t.Run("two reviewers", func(t *testing.T) {
		v := revA.claim(case1)
		race(t, case1, []*app{revA, revB}, []string{"approve", "reject"}, v)
	})
	t.Run("the claimant twice (two devices)", func(t *testing.T) {
		v := revA.claim(case2)
		race(t, case2, []*app{revA, revA}, []string{"approve", "reject"}, v)
	})
}

// TestReviewRacingClaims: two reviewers claim at once; one holds the case.
func TestReviewRacingClaims(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	revs := []*app{newApp(t, "reviewer", ""), newApp(t, "reviewer", "")}
	_, caseID := a.submittedCase("wecom")
	statuses := make([]int, len(revs))
	codes := make([]string, len(revs))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, rev := range revs {
		wg.Go(func() {
			<-start
			r := rev.do("POST", "/v1/cases/"+caseID+"/claim", nil)
			statuses[i] = r.Status
			codes[i] = r.code(t)
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, s := range statuses {
		if s == 200 {
			if winner >= 0 {
				t.Fatalf("both claims succeeded: %v", statuses)
			}
			winner = i
		} else if s != 409 {
			t.Fatalf("statuses %v codes %v", statuses, codes)
		}
	}
	if winner < 0 {
		t.Fatalf("no claim succeeded: %v %v", statuses, codes)
	}
	cs := revs[winner].getCase(caseID)
	if cs["status"] != "in_review" || cs["review"].(map[string]any)["claimedBy"] == nil {
		t.Fatalf("case after racing claims: %v", cs["review"])
	}
	// The loser cannot decide; the winner can.
	v := int(cs["version"].(float64))
	if r := revs[1-winner].do("POST", "/v1/cases/"+caseID+"/decision", decisionBody("approve", v)); r.Status != 409 {
		t.Fatalf("loser's decision: %d %s", r.Status, r.Body)
	}
	revs[winner].decide(caseID, "approve", v)
}

// TestReviewRevokeAppealApprove: an admin revokes; the enterprise appeals
// with rectification proof and an explanation; approval reinstates the
// certification with its original expiry.
func TestReviewRevokeAppealApprove(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	rev := newApp(t, "reviewer", "")
	admin := newApp(t, "admin", "")
	entID, caseID := a.submittedCase("official_account")
	rev.approve(caseID)
	original := certOf(t, a.enterprise(entID), "official_account")

	revokePath := "/v1/enterprises/" + entID + "/certifications/official_account/revoke"
	if r := rev.do("POST", revokePath, map[string]any{"reason": "x", "severity": "minor"}); r.Status != 403 {
		t.Fatalf("reviewer revoking: %d %s", r.Status, r.Body)
	}
	if r := admin.do("POST", revokePath, map[string]any{"reason": "x", "severity": "fatal"}); r.Status != 422 || r.code(t) != "invalid_severity" {
		t.Fatalf("bad severity: %d %s", r.Status, r.Body)
	}
	if r := admin.do("POST", revokePath, map[string]any{"reason": "x"}); r.Status != 422 {
		t.Fatalf("missing severity: %d %s", r.Status, r.Body)
	}
	c := admin.must(200, "POST", revokePath, map[string]any{"reason": "公众号发布虚假宣传内容", "severity": "minor"}).obj(t)
	if c["type"] != "official_account" || c["status"] != "revoked" || c["severity"] != "minor" || c["revokedReason"] != "公众号发布虚假宣传内容" {
		t.Fatalf("revoked = %v", c)
	}
	ent := a.enterprise(entID)
	if caps := ent["capabilities"].(map[string]any)["official_account"].(map[string]any); caps["certified"] != false || caps["payments"] != "none" {
		t.Fatalf("capabilities after revocation = %v", caps)
	}
	if notes := a.notifications(entID); len(notes) == 0 || notes[0]["kind"] != domain.NoticeRevoked {
		t.Errorf("inbox after revocation = %v", notes)
	}
	if r := admin.do("POST", revokePath, map[string]any{"reason": "again", "severity": "major"}); r.Status != 409 {
		t.Errorf("revoking twice: %d %s", r.Status, r.Body)
	}

	// A fresh initial application is refused: revocations are appealed.
	if r := a.do("POST", "/v1/cases", map[string]any{"enterpriseId": entID, "kind": "initial", "types": []string{"official_account"}}); r.Status != 409 || r.code(t) != "certification_revoked" {
		t.Fatalf("initial after revocation: %d %s", r.Status, r.Body)
	}
	appeal := a.openCase(entID, "appeal", "official_account")
	appealID := appeal["id"].(string)
	due := strs(appeal["requirements"].(map[string]any)["currentlyDue"])
	if !has(due, "rectification_proof") || !has(due, "explanation") || has(due, "payment") || appeal["fee"].(map[string]any)["payableFen"].(float64) != 0 {
		t.Fatalf("appeal requirements %v, fee %v", due, appeal["fee"])
	}
	a.satisfy(appealID)
	a.submitCase(appealID)

	item := inQueue(t, rev, appealID)
	if item == nil || item["kind"] != "appeal" {
		t.Fatalf("appeal not in the queue: %v", item)
	}
	cs := rev.getCase(appealID)
	if cs["explanation"] == "" {
		t.Errorf("reviewer does not see the explanation: %v", cs)
	}
	// The reviewer sees what is appealed (reason, severity) and the record;
	// the applicant does not.
	ctx, _ := cs["appeal"].(map[string]any)
	revs, _ := ctx["revocations"].([]any)
	if len(revs) != 1 || len(ctx["earlierViolations"].([]any)) != 0 {
		t.Fatalf("reviewer's appeal context = %v", cs["appeal"])
	}
	if v := revs[0].(map[string]any); v["type"] != "official_account" || v["reason"] != "公众号发布虚假宣传内容" || v["severity"] != "minor" || v["overturned"] != false {
		t.Errorf("revocation under appeal = %v", v)
	}
	if _, ok := a.getCase(appealID)["appeal"]; ok {
		t.Errorf("the applicant sees the appeal context")
	}
	rev.approve(appealID)
	back := certOf(t, a.enterprise(entID), "official_account")
	if back["status"] != "active" || !parseTime(t, back["expiresAt"]).Equal(parseTime(t, original["expiresAt"])) || back["caseId"] != appealID {
		t.Fatalf("after the appeal = %v, want active until %v", back, original["expiresAt"])
	}
	if _, ok := back["revokedReason"]; ok {
		t.Errorf("revocation details kept: %v", back)
	}
}

// TestReviewCancel: the owner cancels; nobody else can.
func TestReviewCancel(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	rev := newApp(t, "reviewer", "")
	entID, caseID := a.submittedCase("wecom")
	rev.approve(caseID)

	path := "/v1/enterprises/" + entID + "/certifications/wecom/cancel"
	if r := newApp(t, "applicant", "").do("POST", path, nil); r.Status != 404 {
		t.Fatalf("stranger cancelling: %d %s", r.Status, r.Body)
	}
	if r := rev.do("POST", path, nil); r.Status != 403 {
		t.Fatalf("reviewer cancelling: %d %s", r.Status, r.Body)
	}
	if r := a.do("POST", "/v1/enterprises/"+entID+"/certifications/mini_program/cancel", nil); r.Status != 404 {
		t.Fatalf("cancelling a type never held: %d %s", r.Status, r.Body)
	}
	if c := a.must(200, "POST", path, map[string]any{"reason": "业务调整"}).obj(t); c["type"] != "wecom" || c["status"] != "cancelled" {
		t.Fatalf("cancel = %v", c)
	}
	ent := a.enterprise(entID)
	if caps := ent["capabilities"].(map[string]any)["wecom"].(map[string]any); caps["certified"] != false || caps["externalContactsLimit"] != float64(20000) {
		t.Fatalf("capabilities after cancel = %v", caps)
	}
	if r := a.do("POST", path, nil); r.Status != 409 {
		t.Fatalf("cancelling twice: %d %s", r.Status, r.Body)
	}
	if notes := a.notifications(entID); len(notes) == 0 || notes[0]["kind"] != domain.NoticeCancelled {
		t.Errorf("inbox after cancel = %v", notes)
	}
}

// TestReviewExpiredClaimIsTakenOver: once a claim's time has passed another
// reviewer takes the case at once, and the former holder cannot decide.
func TestReviewExpiredClaimIsTakenOver(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	revA := newApp(t, "reviewer", "")
	revB := newApp(t, "reviewer", "")
	_, caseID := a.submittedCase("wecom")
	revA.claim(caseID)

	next := expireClaim(t, caseID)

	if r := revA.do("POST", "/v1/cases/"+caseID+"/decision", decisionBody("approve", next.Version)); r.Status != 409 || r.code(t) != "claim_required" {
		t.Fatalf("decision on an expired claim: %d %s", r.Status, r.Body)
	}
	v := revB.claim(caseID)
	if r := revA.do("POST", "/v1/cases/"+caseID+"/decision", decisionBody("approve", v)); r.Status != 409 || r.code(t) != "case_claimed" {
		t.Fatalf("former holder deciding: %d %s", r.Status, r.Body)
	}
	cs := revB.decide(caseID, "approve", v)
	var takeover bool
	for _, h := range cs["history"].([]any) {
		m := h.(map[string]any)
		if m["from"] == "in_review" && m["to"] == "in_review" && has(strs(m["reasons"]), "claim_expired") {
			takeover = true
		}
	}
	if !takeover {
		t.Errorf("no takeover entry in %v", cs["history"])
	}
}

// expireClaim lets a case's claim run out (moved back in the store, as two
// hours passing would) and returns the case as stored now.
func expireClaim(t testing.TB, caseID string) *domain.Case {
	t.Helper()
	db, ctx := seedStore(), context.Background()
	c, err := db.GetCase(ctx, caseID)
	if err != nil {
		t.Fatal(err)
	}
	next := *c
	cl := *c.Claim
	cl.ClaimedAt, cl.ExpiresAt = cl.ClaimedAt.Add(-3*time.Hour), time.Now().Add(-time.Minute)
	next.Claim = &cl
	if err := db.Commit(ctx, &domain.Change{Cases: []domain.CaseWrite{domain.UpdateCase(c, &next)}}); err != nil {
		t.Fatal(err)
	}
	return &next
}

// TestReviewAnnualReviewExtendsFromOldExpiry: the annual review opens 3
// months before expiry and its approval extends the certification one year
// from the old expiry, not from the approval.
func TestReviewAnnualReviewExtendsFromOldExpiry(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	rev := newApp(t, "reviewer", "")
	entID, caseID := a.submittedCase("wecom")
	rev.approve(caseID)
	if r := a.do("POST", "/v1/cases", map[string]any{"enterpriseId": entID, "kind": "annual_review", "types": []string{"wecom"}}); r.Status != 409 || r.code(t) != "annual_review_not_open" {
		t.Fatalf("annual review a year before expiry: %d %s", r.Status, r.Body)
	}

	// Eleven months on: the certification expires in 20 days.
	db, ctx := seedStore(), context.Background()
	cert, err := db.GetCertification(ctx, entID, domain.CertWeCom)
	if err != nil {
		t.Fatal(err)
	}
	next := *cert
	next.ExpiresAt = domain.EndOfBeijingDay(time.Now().AddDate(0, 0, 20))
	next.IssuedAt = next.ExpiresAt.AddDate(-1, 0, 0)
	next.RemindAt = next.NextReminderAt(time.Now(), domain.DefaultRules, nil)
	if err := db.Commit(ctx, &domain.Change{Certifications: []domain.CertificationWrite{domain.UpdateCertification(cert, &next)}}); err != nil {
		t.Fatal(err)
	}

	renewal := a.openCase(entID, "annual_review", "wecom")
	renewalID := renewal["id"].(string)
	if fee := renewal["fee"].(map[string]any); fee["amountFen"].(float64) != 30000 {
		t.Fatalf("annual review fee = %v", fee)
	}
	if due := strs(renewal["requirements"].(map[string]any)["currentlyDue"]); !has(due, "business_license") || !has(due, "payment") {
		t.Fatalf("annual review requirements = %v", due)
	}
	a.satisfy(renewalID)
	a.submitCase(renewalID)
	rev.approve(renewalID)

	got := certOf(t, a.enterprise(entID), "wecom")
	want := domain.ExpiryAfterOneYear(next.ExpiresAt)
	if got["status"] != "active" || !parseTime(t, got["expiresAt"]).Equal(want) || got["caseId"] != renewalID {
		t.Fatalf("after the annual review = %v, want active until %v (one year from the old expiry %v)", got, want, next.ExpiresAt)
	}
}

// TestReviewReinstatementOfLapsed: more than 30 days past expiry the
// certification has lapsed (no capabilities, cannot be cancelled); a
// reinstatement case with the annual fee and full materials brings it back
// for a year from the approval.
func TestReviewReinstatementOfLapsed(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	rev := newApp(t, "reviewer", "")
	entID := a.createEnterprise(nil)["id"].(string)

	// Certified two years ago, expired 40 days ago (seeded: the daily job
	// has not even marked it overdue; the rules apply the lapse anyway).
	expired := domain.EndOfBeijingDay(time.Now().AddDate(0, 0, -40))
	issued := expired.AddDate(-1, 0, 0)
	db := seedStore()
	if err := db.Commit(context.Background(), &domain.Change{Certifications: []domain.CertificationWrite{{Create: true,
		Certification: &domain.Certification{EnterpriseID: entID, Type: domain.CertMiniProgram, Status: domain.CertActive,
			IssuedAt: issued, ExpiresAt: expired, CaseID: domain.NewIDAt(issued), Version: 1, Cycle: 1, UpdatedAt: issued}}}}); err != nil {
		t.Fatal(err)
	}
	ent := a.enterprise(entID)
	if caps := ent["capabilities"].(map[string]any)["mini_program"].(map[string]any); caps["certified"] != false || caps["suspended"] != false {
		t.Fatalf("lapsed capabilities = %v", caps)
	}
	if r := a.do("POST", "/v1/enterprises/"+entID+"/certifications/mini_program/cancel", nil); r.Status != 409 {
		t.Fatalf("cancelling a lapsed certification: %d %s", r.Status, r.Body)
	}
	if r := a.do("POST", "/v1/cases", map[string]any{"enterpriseId": entID, "kind": "annual_review", "types": []string{"mini_program"}}); r.Status != 409 || r.code(t) != "not_renewable" {
		t.Fatalf("annual review of a lapsed certification: %d %s", r.Status, r.Body)
	}

	cs := a.openCase(entID, "reinstatement", "mini_program")
	caseID := cs["id"].(string)
	due := strs(cs["requirements"].(map[string]any)["currentlyDue"])
	if cs["fee"].(map[string]any)["amountFen"].(float64) != 30000 || !has(due, "payment") || !has(due, "business_license") || !has(due, "face_verification") {
		t.Fatalf("reinstatement: fee %v, due %v", cs["fee"], due)
	}
	a.satisfy(caseID)
	a.submitCase(caseID)
	decided := rev.approve(caseID)

	got := certOf(t, a.enterprise(entID), "mini_program")
	want := domain.ExpiryAfterOneYear(parseTime(t, decided["review"].(map[string]any)["decidedAt"]))
	if got["status"] != "active" || !parseTime(t, got["expiresAt"]).Equal(want) {
		t.Fatalf("reinstated = %v, want active until %v", got, want)
	}
	if caps := a.enterprise(entID)["capabilities"].(map[string]any)["mini_program"].(map[string]any); caps["certified"] != true || caps["dataTools"] != "advanced" {
		t.Errorf("capabilities after reinstatement = %v", caps)
	}
}
