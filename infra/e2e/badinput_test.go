package e2e

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"microcert/infra/localstack"
	"microcert/shared/webhook"
)

// TestBadInput sends each class of bad request through the local API and
// checks the problem+json answer, and that nothing changed.
func TestBadInput(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	ent := a.createEnterprise(nil)
	entID := ent["id"].(string)
	cs := a.openCase(entID, "initial", "wecom")
	caseID := cs["id"].(string)
	version := cs["version"].(float64)

	other := newApp(t, "applicant", "")
	otherEnt := other.createEnterprise(nil)
	otherCase := other.openCase(otherEnt["id"].(string), "initial", "wecom")

	big := strings.Repeat("x", 70<<10)
	tests := []struct {
		name       string
		method     string
		path       string
		body       any
		headers    []string
		wantStatus int
		wantCode   string
	}{
		{"malformed JSON", "POST", "/v1/enterprises", `{"name": "x",`, nil, 400, "malformed_json"},
		{"not an object", "POST", "/v1/enterprises", `[1,2]`, nil, 422, "invalid_type"},
		{"unknown field", "POST", "/v1/cases", map[string]any{"enterpriseId": entID, "kind": "initial", "types": []string{"wecom"}, "status": "approved"}, nil, 422, "unknown_field"},
		{"wrong type", "POST", "/v1/cases", map[string]any{"enterpriseId": entID, "kind": "initial", "types": "wecom"}, nil, 422, "validation_failed"},
		{"missing field", "POST", "/v1/cases", map[string]any{"enterpriseId": entID}, nil, 422, "missing_field"},
		{"body over 64 KB", "POST", "/v1/cases/" + caseID + "/explanation", `{"text":"` + big + `"}`, nil, 413, "body_too_large"},
		{"not JSON", "POST", "/v1/cases/" + caseID + "/explanation", "text=hello", []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"},
		{"deep nesting", "POST", "/v1/cases", strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40), nil, 400, "json_too_deep"},
		{"invalid USCC", "POST", "/v1/enterprises", enterpriseBody(func(m map[string]any) { m["uscc"] = "91440300MA5FXXXXX0" }), nil, 422, "invalid_uscc"},
		{"invalid ID number", "POST", "/v1/enterprises", enterpriseBody(func(m map[string]any) {
			m["legalRep"].(map[string]any)["idNumber"] = "110105194912310022"
		}), nil, 422, "invalid_id_number"},
		{"invalid phone", "POST", "/v1/enterprises", enterpriseBody(func(m map[string]any) {
			m["legalRep"].(map[string]any)["phone"] = "12345"
		}), nil, 422, "invalid_phone"},
		{"amount with decimals", "POST", "/v1/cases/" + caseID + "/bank-verification/confirm", `{"amountFen": 0.37}`, nil, 422, "validation_failed"},
		{"amount as string", "POST", "/v1/cases/" + caseID + "/bank-verification/confirm", `{"amountFen": "37"}`, nil, 422, "validation_failed"},
		{"amount out of range", "POST", "/v1/cases/" + caseID + "/bank-verification/confirm", `{"amountFen": 100}`, nil, 422, "invalid_amount"},
		{"malformed id", "GET", "/v1/cases/not-an-id", nil, nil, 404, "not_found"},
		{"another tenant's case", "GET", "/v1/cases/" + otherCase["id"].(string), nil, nil, 404, "not_found"},
		{"another tenant's enterprise", "GET", "/v1/enterprises/" + otherEnt["id"].(string), nil, nil, 404, "not_found"},
		{"case for another tenant's enterprise", "POST", "/v1/cases", map[string]any{"enterpriseId": otherEnt["id"], "kind": "initial", "types": []string{"wecom"}}, nil, 404, "not_found"},
		{"limit out of range", "GET", "/v1/enterprises/" + entID + "/cases?limit=100000", nil, nil, 422, "validation_failed"},
		{"tampered cursor", "GET", "/v1/enterprises/" + entID + "/cases?cursor=AAAA", nil, nil, 422, "invalid_cursor"},
		{"forged face callback", "POST", "/v1/callbacks/face", `{"sessionId":"x","result":"pass","phoneMatchesRegistration":true}`,
			[]string{webhook.Header, webhook.Sign("not-the-secret", time.Now(), []byte(`{"sessionId":"x","result":"pass","phoneMatchesRegistration":true}`))}, 401, "invalid_signature"},
		{"stale payment callback", "POST", "/v1/callbacks/payment", `{"orderId":"x","status":"paid","paidFen":1}`,
			[]string{webhook.Header, webhook.Sign("local-payment-secret", time.Now().Add(-10*time.Minute), []byte(`{"orderId":"x","status":"paid","paidFen":1}`))}, 401, "signature_expired"},
		{"unsigned callback", "POST", "/v1/callbacks/face", `{"sessionId":"x","result":"pass","phoneMatchesRegistration":true}`, nil, 401, "invalid_signature"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := a.do(tc.method, tc.path, tc.body, tc.headers...)
			if r.Status != tc.wantStatus || r.code(t) != tc.wantCode {
				t.Fatalf("got %d %s, want %d %s", r.Status, r.Body, tc.wantStatus, tc.wantCode)
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("content type %q", ct)
			}
		})
	}
	after := a.getCase(caseID)
	if after["version"].(float64) != version || after["status"] != "draft" || after["explanation"] != "" {
		t.Fatalf("case changed by bad requests: version %v -> %v", version, after["version"])
	}
	if r := other.getCase(otherCase["id"].(string)); r["version"].(float64) != otherCase["version"].(float64) {
		t.Fatalf("other tenant's case changed")
	}
}

// TestEnterpriseConflictsAndVersions covers one profile per USCC and
// optimistic locking of profile edits.
func TestEnterpriseConflictsAndVersions(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	body := enterpriseBody(nil)
	ent := a.must(201, "POST", "/v1/enterprises", body).obj(t)
	if r := newApp(t, "applicant", "").do("POST", "/v1/enterprises", body); r.Status != 409 || r.code(t) != "enterprise_exists" {
		t.Fatalf("duplicate USCC: %d %s", r.Status, r.Body)
	}
	id := ent["id"].(string)
	p := a.must(200, "PATCH", "/v1/enterprises/"+id, map[string]any{"operatingAddress": "广东省深圳市福田区1号", "version": 1}).obj(t)
	if p["version"].(float64) != 2 {
		t.Fatalf("version after patch = %v", p["version"])
	}
	if r := a.do("PATCH", "/v1/enterprises/"+id, map[string]any{"operatingAddress": "x", "version": 1}); r.Status != 409 || r.code(t) != "version_conflict" {
		t.Fatalf("stale patch: %d %s", r.Status, r.Body)
	}
	if r := a.do("PATCH", "/v1/enterprises/"+id, map[string]any{"uscc": "x", "version": 2}); r.Status != 422 {
		t.Fatalf("USCC change: %d %s", r.Status, r.Body)
	}
	// The changed operating address no longer matches the license: the
	// top rejection reason shows up before submission.
	cs := a.openCase(id, "initial", "wecom")
	errs := cs["requirements"].(map[string]any)["errors"].([]any)
	found := false
	for _, e := range errs {
		if e.(map[string]any)["code"] == "address_mismatch" {
			found = true
		}
	}
	if !found {
		t.Fatalf("address mismatch not surfaced: %v", errs)
	}
}

// leaksAmount reports whether a problem document shows fen anywhere: as a
// number (but the status and the attempts left, which are not it) or as a
// number of its own in a text. Comparing values, not substrings: 42 fen is
// no leak in "status":422.
func leaksAmount(doc map[string]any, fen int64) bool {
	word := regexp.MustCompile(`(^|[^0-9])` + strconv.FormatInt(fen, 10) + `([^0-9]|$)`)
	var walk func(key string, v any) bool
	walk = func(key string, v any) bool {
		switch x := v.(type) {
		case float64:
			return key != "status" && key != "attemptsLeft" && x == float64(fen)
		case string:
			return word.MatchString(x)
		case map[string]any:
			for k, e := range x {
				if walk(k, e) {
					return true
				}
			}
		case []any:
			for _, e := range x {
				if walk(key, e) {
					return true
				}
			}
		}
		return false
	}
	return walk("", doc)
}

// TestDepositGuessing: three wrong amounts lock the challenge; no response
// reveals the amount; a fourth guess is refused even with the right amount.
func TestDepositGuessing(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	ent := a.createEnterprise(nil)
	caseID := a.openCase(ent["id"].(string), "initial", "official_account")["id"].(string)
	a.must(201, "POST", "/v1/cases/"+caseID+"/bank-verification",
		map[string]any{"bankName": "招商银行", "accountName": "深圳市微认证科技有限公司", "accountNumber": "6222020200112233"})
	right := a.depositAmount(caseID)
	wrong := right%99 + 1
	for i, left := range []float64{2, 1} {
		r := a.do("POST", "/v1/cases/"+caseID+"/bank-verification/confirm", map[string]any{"amountFen": wrong})
		if r.Status != 422 || r.code(t) != "wrong_amount" || r.obj(t)["attemptsLeft"].(float64) != left {
			t.Fatalf("guess %d: %d %s", i+1, r.Status, r.Body)
		}
		if leaksAmount(r.obj(t), right) {
			t.Fatalf("response leaks the amount %d: %s", right, r.Body)
		}
	}
	if r := a.do("POST", "/v1/cases/"+caseID+"/bank-verification/confirm", map[string]any{"amountFen": wrong}); r.Status != 409 || r.code(t) != "verification_locked" {
		t.Fatalf("third wrong guess: %d %s", r.Status, r.Body)
	}
	if r := a.do("POST", "/v1/cases/"+caseID+"/bank-verification/confirm", map[string]any{"amountFen": right}); r.Status != 409 || r.code(t) != "verification_locked" {
		t.Fatalf("fourth guess: %d %s", r.Status, r.Body)
	}
	// A new deposit during the lock's cool-down is refused too (no fresh
	// guesses), with the date from which one may start.
	if r := a.do("POST", "/v1/cases/"+caseID+"/bank-verification",
		map[string]any{"bankName": "招商银行", "accountName": "深圳市微认证科技有限公司", "accountNumber": "6222020200112233"}); r.Status != 409 ||
		r.code(t) != "deposit_limit_reached" || r.obj(t)["nextDepositAt"] == nil {
		t.Fatalf("restart while locked: %d %s", r.Status, r.Body)
	}
}

// TestCallbacks covers replayed callbacks and wrong amounts.
func TestCallbacks(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	ent := a.createEnterprise(nil)
	caseID := a.openCase(ent["id"].(string), "initial", "wecom")["id"].(string)

	s := a.must(201, "POST", "/v1/cases/"+caseID+"/face-verification", nil).obj(t)
	body := []byte(fmt.Sprintf(`{"sessionId":%q,"result":"pass","phoneMatchesRegistration":false,"livenessScore":0.98}`, s["sessionId"]))
	sig := webhook.Sign("local-face-secret", time.Now(), body)
	a.must(200, "POST", "/v1/callbacks/face", body, webhook.Header, sig)
	v1 := a.getCase(caseID)["version"]
	// The same callback again (a provider retry or a replay): acknowledged,
	// nothing changes.
	a.must(200, "POST", "/v1/callbacks/face", body, webhook.Header, sig)
	cs := a.getCase(caseID)
	if cs["version"] != v1 {
		t.Fatalf("replayed callback changed the case")
	}
	if st := cs["verifications"].(map[string]any)["face"].(map[string]any)["status"]; st != "failed" {
		t.Fatalf("face with phone mismatch = %v", st)
	}
	found := false
	for _, e := range cs["requirements"].(map[string]any)["errors"].([]any) {
		if e.(map[string]any)["code"] == "legal_rep_outdated" {
			found = true
		}
	}
	if !found {
		t.Fatalf("legal_rep_outdated not surfaced: %v", cs["requirements"])
	}

	// Asking for the order again returns the same open order.
	order := a.must(201, "POST", "/v1/cases/"+caseID+"/payment", nil).obj(t)
	if again := a.must(201, "POST", "/v1/cases/"+caseID+"/payment", nil).obj(t); again["orderId"] != order["orderId"] {
		t.Fatalf("second order %v, want the open one %v", again["orderId"], order["orderId"])
	}
	// A short payment is money the provider took: recorded, never refused,
	// and owed back in full; the order is spent, so the app gets a new one.
	pay := []byte(fmt.Sprintf(`{"orderId":%q,"status":"paid","paidFen":1,"transactionId":"t-short"}`, order["orderId"]))
	a.must(200, "POST", "/v1/callbacks/payment", pay, webhook.Header, webhook.Sign("local-payment-secret", time.Now(), pay))
	cs = a.getCase(caseID)
	if p := cs["payment"].(map[string]any); p["status"] != "failed" {
		t.Fatalf("payment after a short amount = %v", p)
	}
	m := cs["money"].(map[string]any)
	refunds := m["refunds"].([]any)
	if m["paidFen"] != float64(1) || m["keptFen"] != float64(0) || len(refunds) != 1 || refunds[0].(map[string]any)["reason"] != "underpaid" {
		t.Fatalf("money after a short payment = %v", m)
	}
	if next := a.must(201, "POST", "/v1/cases/"+caseID+"/payment", nil).obj(t); next["orderId"] == order["orderId"] {
		t.Fatalf("the spent order was offered again: %v", next)
	}
}

// TestIdempotencyKey replays, refuses reuse with another body, and never
// applies a side effect twice.
func TestIdempotencyKey(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	ent := a.createEnterprise(nil)
	body := map[string]any{"enterpriseId": ent["id"], "kind": "initial", "types": []string{"wecom"}}
	first := a.must(201, "POST", "/v1/cases", body, "Idempotency-Key", "k-1")
	again := a.must(201, "POST", "/v1/cases", body, "Idempotency-Key", "k-1")
	if string(first.Body) != string(again.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay differs:\n%s\n%s", first.Body, again.Body)
	}
	other := map[string]any{"enterpriseId": ent["id"], "kind": "initial", "types": []string{"mini_program"}}
	if r := a.do("POST", "/v1/cases", other, "Idempotency-Key", "k-1"); r.Status != 422 || r.code(t) != "idempotency_key_reused" {
		t.Fatalf("reuse with another body: %d %s", r.Status, r.Body)
	}
	var cases struct {
		Items []any `json:"items"`
	}
	a.must(200, "GET", "/v1/enterprises/"+ent["id"].(string)+"/cases", nil).decode(t, &cases)
	if len(cases.Items) != 1 {
		t.Fatalf("%d cases after a replayed POST, want 1", len(cases.Items))
	}
	// Keys are scoped to the caller: another user's same key is independent.
	b := newApp(t, "applicant", "")
	ent2 := b.createEnterprise(nil)
	b.must(201, "POST", "/v1/cases", map[string]any{"enterpriseId": ent2["id"], "kind": "initial", "types": []string{"wecom"}}, "Idempotency-Key", "k-1")
}

// TestIdempotencyConcurrent: a mobile client retrying while its first
// request still runs gets 409 request_in_progress or the replay, and the
// side effect happens once.
func TestIdempotencyConcurrent(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	ent := a.createEnterprise(nil)
	body := map[string]any{"enterpriseId": ent["id"], "kind": "initial", "types": []string{"wecom"}}
	const n = 6
	results := make(chan resp, n)
	for i := 0; i < n; i++ {
		go func() {
			results <- a.do("POST", "/v1/cases", body, "Idempotency-Key", "burst-1")
		}()
	}
	var created []string
	for i := 0; i < n; i++ {
		r := <-results
		switch {
		case r.Status == 201:
			created = append(created, string(r.Body))
		case r.Status == 409 && r.code(t) == "request_in_progress":
		default:
			t.Fatalf("unexpected answer %d %s", r.Status, r.Body)
		}
	}
	if len(created) == 0 {
		t.Fatal("no request succeeded")
	}
	for _, c := range created[1:] {
		if c != created[0] {
			t.Fatalf("replays differ:\n%s\n%s", created[0], c)
		}
	}
	var cases struct{ Items []any }
	a.must(200, "GET", "/v1/enterprises/"+ent["id"].(string)+"/cases", nil).decode(t, &cases)
	if len(cases.Items) != 1 {
		t.Fatalf("%d cases after a burst with one key, want 1", len(cases.Items))
	}
}

// TestExpiredSessionsAndDeposits: a face session or micro-deposit past its
// time (expired by the daily job) refuses its late result; the app is told
// to start again.
func TestExpiredSessionsAndDeposits(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	ent := a.createEnterprise(nil)
	caseID := a.openCase(ent["id"].(string), "initial", "mini_program")["id"].(string)
	s := a.must(201, "POST", "/v1/cases/"+caseID+"/face-verification", nil).obj(t)
	a.must(201, "POST", "/v1/cases/"+caseID+"/bank-verification",
		map[string]any{"bankName": "招商银行", "accountName": "深圳市微认证科技有限公司", "accountNumber": "6222020200112233"})
	amount := a.depositAmount(caseID)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := shared.Invoke(ctx, "ExpiryFunction", localstack.ScheduledEvent("ExpiryFunction", "Daily", time.Now().Add(73*time.Hour))); err != nil {
		t.Fatal(err)
	}
	cs := a.getCase(caseID)
	if st := cs["verifications"].(map[string]any)["face"].(map[string]any)["status"]; st != "expired" {
		t.Fatalf("face session after the job: %v", st)
	}
	before := cs["version"]

	body := []byte(fmt.Sprintf(`{"sessionId":%q,"result":"pass","phoneMatchesRegistration":true}`, s["sessionId"]))
	r := a.do("POST", "/v1/callbacks/face", body, webhook.Header, webhook.Sign("local-face-secret", time.Now(), body))
	if r.Status != 409 || r.code(t) != "session_expired" {
		t.Fatalf("late face result: %d %s", r.Status, r.Body)
	}
	if r := a.do("POST", "/v1/cases/"+caseID+"/bank-verification/confirm", map[string]any{"amountFen": amount}); r.Status != 409 || r.code(t) != "verification_expired" {
		t.Fatalf("late deposit confirmation: %d %s", r.Status, r.Body)
	}
	after := a.getCase(caseID)
	if after["version"] != before {
		t.Fatal("refused late results changed the case")
	}
	due := strs(after["requirements"].(map[string]any)["currentlyDue"])
	if !has(due, "face_verification") || !has(due, "bank_verification") {
		t.Fatalf("expired verifications are not due again: %v", due)
	}
	// Starting again works.
	a.must(201, "POST", "/v1/cases/"+caseID+"/face-verification", nil)
}

// TestStrictInput: what encoding/json would quietly accept is refused, on
// the API and in signed provider callbacks alike, and changes nothing:
// repeated keys (400), member names in another case at any level (422),
// invalid UTF-8 and unpaired surrogate escapes (400); control,
// bidirectional and invisible characters in names and addresses (422); a
// group name that mentions several roles gives none.
func TestStrictInput(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	ent := a.createEnterprise(nil)
	entID := ent["id"].(string)
	cs := a.openCase(entID, "initial", "wecom")
	caseID := cs["id"].(string)
	face := a.must(201, "POST", "/v1/cases/"+caseID+"/face-verification", nil).obj(t)
	session := face["sessionId"].(string)
	before := a.getCase(caseID)

	withRep := func(k, v string) map[string]any {
		return enterpriseBody(func(m map[string]any) { m["legalRep"].(map[string]any)[k] = v })
	}
	set := func(k, v string) map[string]any {
		return enterpriseBody(func(m map[string]any) { m[k] = v })
	}
	signedFace := func(body string) []string {
		return []string{webhook.Header, webhook.Sign("local-face-secret", time.Now(), []byte(body))}
	}
	dupFace := fmt.Sprintf(`{"sessionId":%q,"result":"fail","result":"pass","phoneMatchesRegistration":true}`, session)
	caseFace := fmt.Sprintf(`{"sessionId":%q,"Result":"pass","phoneMatchesRegistration":true}`, session)
	tests := []struct {
		name       string
		method     string
		path       string
		body       any
		headers    []string
		wantStatus int
		wantCode   string
		wantField  string
	}{
		{"repeated key", "POST", "/v1/cases", fmt.Sprintf(`{"enterpriseId":%q,"kind":"initial","kind":"appeal","types":["wecom"]}`, entID), nil, 400, "duplicate_key", "kind"},
		{"repeated nested key", "POST", "/v1/enterprises", `{"legalRep":{"name":"张三","name":"李四"}}`, nil, 400, "duplicate_key", "legalRep.name"},
		{"repeated key via an escape", "PATCH", "/v1/enterprises/" + entID, `{"name":"甲","n\u0061me":"乙"}`, nil, 400, "duplicate_key", "name"},
		{"member name in another case", "POST", "/v1/cases", fmt.Sprintf(`{"EnterpriseId":%q,"kind":"initial","types":["wecom"]}`, entID), nil, 422, "unknown_field", "EnterpriseId"},
		{"nested member name in another case", "POST", "/v1/enterprises", enterpriseBody(func(m map[string]any) {
			rep := m["legalRep"].(map[string]any)
			rep["Name"] = rep["name"]
			delete(rep, "name")
		}), nil, 422, "unknown_field", "legalRep.Name"},
		{"Unicode case folding (long s)", "POST", "/v1/cases/" + caseID + "/explanation", `{"text":"x","\u017fomething":1}`, nil, 422, "unknown_field", ""},
		{"invalid UTF-8", "POST", "/v1/cases/" + caseID + "/explanation", "{\"text\":\"\xff\xfe\"}", nil, 400, "invalid_utf8", ""},
		{"unpaired surrogate escape", "POST", "/v1/cases/" + caseID + "/explanation", `{"text":"\ud800"}`, nil, 400, "invalid_utf8", ""},
		{"newline in a name", "POST", "/v1/enterprises", set("name", "深圳市微认证\n科技有限公司"), nil, 422, "invalid_characters", "name"},
		{"right-to-left override in an address", "POST", "/v1/enterprises", set("operatingAddress", "广东省深圳市\u202e号1路园技科"), nil, 422, "invalid_characters", "operatingAddress"},
		{"zero-width space in the legal rep's name", "POST", "/v1/enterprises", withRep("name", "张\u200b三"), nil, 422, "invalid_characters", "legalRep.name"},
		{"isolate in a patched address", "PATCH", "/v1/enterprises/" + entID, map[string]any{"registeredAddress": "广东省深圳市\u2067南山区\u2069"}, nil, 422, "invalid_characters", "registeredAddress"},
		{"override in the account name", "POST", "/v1/cases/" + caseID + "/bank-verification",
			map[string]any{"bankName": "招商银行", "accountName": "深圳市微认证科技有限公司\u202d", "accountNumber": "6222020200112233"}, nil, 422, "invalid_characters", "accountName"},
		{"signed callback with a repeated key", "POST", "/v1/callbacks/face", dupFace, signedFace(dupFace), 400, "duplicate_key", "result"},
		{"signed callback, member name in another case", "POST", "/v1/callbacks/face", caseFace, signedFace(caseFace), 422, "unknown_field", "Result"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := a.do(tc.method, tc.path, tc.body, tc.headers...)
			if r.Status != tc.wantStatus || r.code(t) != tc.wantCode {
				t.Fatalf("got %d %s, want %d %s", r.Status, r.Body, tc.wantStatus, tc.wantCode)
			}
			if tc.wantField != "" {
				var p struct {
					Errors []struct{ Field string } `json:"errors"`
				}
				r.decode(t, &p)
				if len(p.Errors) == 0 || p.Errors[0].Field != tc.wantField {
					t.Fatalf("errors %+v, want field %s", p.Errors, tc.wantField)
				}
			}
		})
	}
	after := a.getCase(caseID)
	if after["version"] != before["version"] || after["explanation"] != "" || after["bankVerification"] != nil {
		t.Fatalf("bad requests changed the case: %v", after)
	}
	if f := after["verifications"].(map[string]any)["face"].(map[string]any); f["status"] != "pending" {
		t.Fatalf("a refused callback changed the face session: %v", f)
	}
	if e := a.must(200, "GET", "/v1/enterprises/"+entID, nil).obj(t); e["version"] != ent["version"] {
		t.Fatalf("bad patches changed the profile")
	}

	// A group whose name mentions two roles gives neither.
	tok, err := shared.Token("reviewer", "u-groups", localstack.WithGroups("reviewer,admin"))
	if err != nil {
		t.Fatal(err)
	}
	odd := &app{t: t, base: shared.APIURL(), token: tok}
	if r := odd.do("GET", "/v1/review/queue", nil); r.Status != 403 {
		t.Fatalf("group \"reviewer,admin\" on the queue: %d %s", r.Status, r.Body)
	}
	tok, _ = shared.Token("reviewer", "u-groups", localstack.WithGroups("reviewer", "admin"))
	two := &app{t: t, base: shared.APIURL(), token: tok}
	two.must(200, "GET", "/v1/review/queue", nil)
}
