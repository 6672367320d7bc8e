package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"microcert/infra/localstack"
	"microcert/shared/domain"
	"microcert/shared/httpapi"
	"microcert/shared/store"
)

// tenant is an applicant with an enterprise, a case and an uploaded
// document.
type tenant struct {
	app              *app
	entID, caseID    string
	docID            string
	entVer, caseVer  float64
	enterpriseDetail map[string]any
}

func newTenant(t *testing.T) *tenant {
	t.Helper()
	a := newApp(t, "applicant", "")
	ent := a.createEnterprise(nil)
	cs := a.openCase(ent["id"].(string), "initial", "wecom", "official_account")
	d := a.upload(cs["id"].(string), "business_license", "image/jpeg", uniqueScan())
	cs = a.getCase(cs["id"].(string))
	return &tenant{app: a, entID: ent["id"].(string), caseID: cs["id"].(string), docID: d["id"].(string),
		entVer: ent["version"].(float64), caseVer: cs["version"].(float64), enterpriseDetail: ent}
}

func matchesRoute(key, method, path string) bool {
	m, pattern, _ := strings.Cut(key, " ")
	if m != method {
		return false
	}
	ps := strings.Split(pattern, "/")
	xs := strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i := range ps {
		if !strings.HasPrefix(ps[i], "{") && ps[i] != xs[i] {
			return false
		}
	}
	return true
}

// TestFunctionLevelAuthorization: reviewer and admin routes refuse
// applicants (403); revoking refuses reviewers; bad tokens are 401 from the
// authorizer before any function runs.
func TestFunctionLevelAuthorization(t *testing.T) {
	onShared(t)
	ten := newTenant(t)
	applicant := ten.app
	reviewer := newApp(t, "reviewer", "")
	privileged := []struct {
		method, path string
		body         any
		reviewerOK   bool
	}{
		{"GET", "/v1/review/queue", nil, true},
		{"POST", "/v1/cases/" + ten.caseID + "/claim", nil, true},
		{"POST", "/v1/cases/" + ten.caseID + "/decision", map[string]any{"decision": "approve", "reasons": []string{}, "note": "", "version": 1}, true},
		{"POST", "/v1/review/cases/" + ten.caseID + "/reveal", nil, true},
		{"POST", "/v1/enterprises/" + ten.entID + "/certifications/wecom/revoke", map[string]any{"reason": "fraud", "severity": "major"}, false},
		{"GET", "/v1/admin/refunds", nil, false},
		{"POST", "/v1/admin/refunds/" + ten.caseID + "/retry", nil, false},
		{"GET", "/v1/admin/discrepancies", nil, false},
		{"POST", "/v1/admin/discrepancies/" + ten.caseID + "/resolve", map[string]any{"note": "x"}, false},
		{"GET", "/v1/admin/reports/subsidies", nil, false},
	}
	for _, r := range httpapi.Routes() {
		tried := false
		for _, rt := range privileged {
			tried = tried || matchesRoute(r.Key(), rt.method, rt.path) && rt.reviewerOK == (r.Access == httpapi.Reviewers)
		}
		if (r.Access == httpapi.Reviewers || r.Access == httpapi.Admins) && !tried {
			t.Errorf("%s (%s) is not tried here", r.Key(), r.Access)
		}
	}
	for _, rt := range privileged {
		if r := applicant.do(rt.method, rt.path, rt.body); r.Status != 403 {
			t.Errorf("applicant %s %s: %d %s", rt.method, rt.path, r.Status, r.Body)
		}
		if !rt.reviewerOK {
			if r := reviewer.do(rt.method, rt.path, rt.body); r.Status != 403 {
				t.Errorf("reviewer %s %s: %d %s", rt.method, rt.path, r.Status, r.Body)
			}
		}
	}
	// A reviewer may read the case but not act as its applicant.
	if r := reviewer.do("POST", "/v1/cases/"+ten.caseID+"/submit", nil); r.Status != 403 {
		t.Errorf("reviewer submitting an applicant's case: %d %s", r.Status, r.Body)
	}

	good, err := shared.Token("applicant", "u-tokens")
	if err != nil {
		t.Fatal(err)
	}
	expired, _ := shared.Token("applicant", "u-tokens", localstack.WithTTL(-time.Minute))
	wrongAud, _ := shared.Token("applicant", "u-tokens", localstack.WithClaim("aud", "another-app"))
	wrongIss, _ := shared.Token("applicant", "u-tokens", localstack.WithClaim("iss", "https://evil.example/"))
	parts := strings.Split(good, ".")
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	var claims map[string]any
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	_ = json.Unmarshal(raw, &claims)
	claims["groups"] = []string{"admin"}
	forged, _ := json.Marshal(claims)
	resigned := parts[0] + "." + base64.RawURLEncoding.EncodeToString(forged) + "." + parts[2]
	for name, tok := range map[string]string{"expired": expired, "wrong audience": wrongAud, "wrong issuer": wrongIss,
		"alg none": none, "payload changed, signature kept": resigned, "garbage": "abc.def.ghi"} {
		c := &app{t: t, base: shared.APIURL(), token: tok}
		if r := c.do("GET", "/v1/enterprises/"+ten.entID, nil); r.Status != 401 || string(r.Body) != `{"message":"Unauthorized"}` {
			t.Errorf("%s token: %d %s", name, r.Status, r.Body)
		}
	}
	c := &app{t: t, base: shared.APIURL(), token: good}
	if r := c.do("GET", "/v1/review/queue", nil); r.Status != 403 {
		t.Errorf("valid applicant token on the queue: %d", r.Status)
	}
}

// TestMassAssignment: bodies that try to set what the server owns are
// refused whole; nothing is applied.
func TestMassAssignment(t *testing.T) {
	onShared(t)
	ten := newTenant(t)
	a := ten.app
	other := newTenant(t)
	tries := []struct {
		name, method, path string
		body               map[string]any
	}{
		{"owner on create", "POST", "/v1/enterprises", enterpriseBody(func(m map[string]any) { m["ownerId"] = "someone-else" })},
		{"status on create", "POST", "/v1/enterprises", enterpriseBody(func(m map[string]any) { m["status"] = "approved" })},
		{"key attributes", "POST", "/v1/enterprises", enterpriseBody(func(m map[string]any) { m["pk"] = "ENT#x"; m["id"] = "x" })},
		{"USCC on patch", "PATCH", "/v1/enterprises/" + ten.entID, map[string]any{"uscc": "x", "version": ten.entVer}},
		{"owner on patch", "PATCH", "/v1/enterprises/" + ten.entID, map[string]any{"ownerId": "x", "version": ten.entVer}},
		{"status on case", "POST", "/v1/cases", map[string]any{"enterpriseId": ten.entID, "kind": "initial", "types": []string{"mini_program"}, "status": "approved"}},
		{"fee on case", "POST", "/v1/cases", map[string]any{"enterpriseId": ten.entID, "kind": "initial", "types": []string{"mini_program"}, "fee": map[string]any{"payableFen": 0}}},
		{"version on case", "POST", "/v1/cases", map[string]any{"enterpriseId": ten.entID, "kind": "initial", "types": []string{"mini_program"}, "version": 99}},
		{"expiresAt on a document", "POST", "/v1/cases/" + ten.caseID + "/documents", map[string]any{"docType": "legal_rep_id_front", "contentType": "image/jpeg", "contentLength": 10, "expiresAt": "2099-01-01T00:00:00Z"}},
		{"status on a document", "POST", "/v1/cases/" + ten.caseID + "/documents", map[string]any{"docType": "legal_rep_id_front", "contentType": "image/jpeg", "contentLength": 10, "status": "passed"}},
		{"amount on a deposit", "POST", "/v1/cases/" + ten.caseID + "/bank-verification", map[string]any{"bankName": "b", "accountName": "a", "accountNumber": "6222020200112233", "amountFen": 1}},
	}
	for _, tc := range tries {
		t.Run(tc.name, func(t *testing.T) {
			r := a.do(tc.method, tc.path, tc.body)
			if r.Status != 422 || r.code(t) != "unknown_field" {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
	}
	// Another tenant's enterprise id in a body is not found, never used.
	if r := a.do("POST", "/v1/cases", map[string]any{"enterpriseId": other.entID, "kind": "initial", "types": []string{"mini_program"}}); r.Status != 404 {
		t.Fatalf("other tenant's enterprise in a body: %d", r.Status)
	}
	cs := a.getCase(ten.caseID)
	if cs["version"].(float64) != ten.caseVer || cs["status"] != "draft" {
		t.Fatal("the case changed")
	}
	var cases struct{ Items []any }
	a.must(200, "GET", "/v1/enterprises/"+ten.entID+"/cases", nil).decode(t, &cases)
	if len(cases.Items) != 1 {
		t.Fatalf("%d cases, want 1", len(cases.Items))
	}
	// Responses never expose keys or unmasked identifiers.
	for _, body := range []string{mustJSON(cs), mustJSON(a.must(200, "GET", "/v1/enterprises/"+ten.entID, nil).obj(t))} {
		for _, leak := range []string{`"pk"`, `"sk"`, `"gsi1pk"`, `"ownerId"`, `"amountMac"`, `"AmountMAC"`, "ENT#", "CASE#"} {
			if strings.Contains(body, leak) {
				t.Errorf("response exposes %s: %s", leak, body)
			}
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestResourceLimits: oversize and pathological inputs get a clear 4xx.
func TestResourceLimits(t *testing.T) {
	onShared(t)
	ten := newTenant(t)
	a := ten.app
	hugeTypes := make([]string, 5000)
	for i := range hugeTypes {
		hugeTypes[i] = "wecom"
	}
	tests := []struct {
		name       string
		method     string
		path       string
		body       any
		wantStatus int
	}{
		{"10,000-character name", "POST", "/v1/enterprises", enterpriseBody(func(m map[string]any) { m["name"] = strings.Repeat("名", 10000) }), 422},
		{"huge array", "POST", "/v1/cases", map[string]any{"enterpriseId": ten.entID, "kind": "initial", "types": hugeTypes}, 422},
		{"list limit 100000", "GET", "/v1/enterprises/" + ten.entID + "/notifications?limit=100000", nil, 422},
		{"limit zero", "GET", "/v1/enterprises/" + ten.entID + "/cases?limit=0", nil, 422},
		{"explanation over 2,000 characters", "POST", "/v1/cases/" + ten.caseID + "/explanation", map[string]any{"text": strings.Repeat("a", 2001)}, 422},
		{"oversized Idempotency-Key", "POST", "/v1/cases/" + ten.caseID + "/explanation", map[string]any{"text": "x"}, 422},
		{"body over the gateway limit", "POST", "/v1/enterprises", strings.Repeat(" ", 11<<20), 413},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var headers []string
			if strings.HasPrefix(tc.name, "oversized Idempotency-Key") {
				headers = []string{"Idempotency-Key", strings.Repeat("k", 300)}
			}
			if r := a.do(tc.method, tc.path, tc.body, headers...); r.Status != tc.wantStatus {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
	}
}

// TestNoIdentifiersInLogs runs a whole flow with known identifiers and
// searches every log line of every function (and the stack) for them.
func TestNoIdentifiersInLogs(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	n := int(seed.Add(1))
	idNumber, phone, account := domain.SampleIDNumber(n), "13987654321", "6222987654321098"
	ent := a.createEnterprise(func(m map[string]any) {
		m["legalRep"].(map[string]any)["idNumber"] = idNumber
		m["legalRep"].(map[string]any)["phone"] = phone
	})
	// A bad request echoes nothing either.
	a.do("POST", "/v1/enterprises", enterpriseBody(func(m map[string]any) {
		m["legalRep"].(map[string]any)["idNumber"] = idNumber[:17] + "0"
		m["legalRep"].(map[string]any)["phone"] = phone
	}))
	caseID := a.openCase(ent["id"].(string), "initial", "official_account")["id"].(string)
	a.upload(caseID, "business_license", "image/jpeg", uniqueScan())
	a.must(201, "POST", "/v1/cases/"+caseID+"/bank-verification",
		map[string]any{"bankName": "招商银行", "accountName": "深圳市微认证科技有限公司", "accountNumber": account})
	a.must(200, "POST", "/v1/cases/"+caseID+"/bank-verification/confirm", map[string]any{"amountFen": a.depositAmount(caseID)})
	a.must(200, "PATCH", "/v1/enterprises/"+ent["id"].(string), map[string]any{"legalRep": map[string]any{"phone": phone}, "version": 1})

	// Everything the functions wrote, from the log files.
	files, _ := filepath.Glob(filepath.Join(shared.StateDir(), "logs", "*.log"))
	if len(files) == 0 {
		t.Fatal("no function logs found")
	}
	lines := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines += strings.Count(string(raw), "\n")
		for _, secret := range []string{idNumber, idNumber[:17] + "0", phone, account} {
			if strings.Contains(string(raw), secret) {
				t.Errorf("%s contains an identifier %s...", filepath.Base(f), secret[:4])
			}
		}
	}
	if lines < 10 {
		t.Fatalf("only %d log lines: is logging working?", lines)
	}
	// And the responses mask them.
	e := a.must(200, "GET", "/v1/enterprises/"+ent["id"].(string), nil)
	for _, secret := range []string{idNumber, phone} {
		if strings.Contains(string(e.Body), secret) {
			t.Errorf("response contains %s...", secret[:4])
		}
	}
	if c := a.getCase(caseID); strings.Contains(mustJSON(c), account) {
		t.Error("case view contains the account number")
	}
}

// TestDownloadsAreAudited: the owner and a reviewer download; both are in
// the audit log with who and when; the link is short-lived.
func TestDownloadsAreAudited(t *testing.T) {
	onShared(t)
	ten := newTenant(t)
	rev := newApp(t, "reviewer", "")
	for _, c := range []*app{ten.app, rev} {
		d := c.must(200, "GET", "/v1/documents/"+ten.docID+"/download", nil).obj(t)
		exp, err := time.Parse(time.RFC3339, d["expiresAt"].(string))
		if err != nil || time.Until(exp) > 15*time.Minute {
			t.Fatalf("download link lives until %v", d["expiresAt"])
		}
		if !strings.Contains(d["url"].(string), "X-Amz-Signature") {
			t.Fatalf("not a presigned URL: %v", d["url"])
		}
	}
	audits, err := store.New(shared.DynamoDB(), shared.TableName(), domain.DefaultRules).ListAudit(context.Background(), ten.caseID)
	if err != nil {
		t.Fatal(err)
	}
	if len(audits) != 2 {
		t.Fatalf("%d audit entries, want 2", len(audits))
	}
	roles := fmt.Sprint(audits[0].Role, audits[1].Role)
	if !strings.Contains(roles, "applicant") || !strings.Contains(roles, "reviewer") || audits[0].DocumentID != ten.docID || audits[0].At.IsZero() {
		t.Fatalf("audit entries %+v", audits)
	}
}
