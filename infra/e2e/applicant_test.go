package e2e

import (
	"strings"
	"testing"
	"time"

	"microcert/shared/doccheck/doccheckfixtures"
)

// uniqueScan is a clear scan-quality JPEG whose bytes differ per call, so
// tests do not trip the reuse detector unless they mean to.
func uniqueScan() []byte {
	n := int(seed.Add(1) % 300)
	return doccheckfixtures.ScanJPEG(1200+n, 900)
}

func strs(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestApplicantFlow drives the whole first application as an app would:
// enterprise -> case for wecom + official_account -> requirements ->
// presigned uploads -> face -> micro-deposit -> payment -> submit.
func TestApplicantFlow(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")

	ent := a.createEnterprise(nil)
	entID := ent["id"].(string)
	legal := ent["legalRep"].(map[string]any)
	if id := legal["idNumber"].(string); !strings.Contains(id, "**********") || len(id) != 18 {
		t.Fatalf("idNumber not masked: %q", id)
	}
	if p := legal["phone"].(string); p != "138****5678" {
		t.Fatalf("phone not masked: %q", p)
	}

	var mine struct {
		Items []map[string]any `json:"items"`
	}
	a.must(200, "GET", "/v1/enterprises", nil).decode(t, &mine)
	if len(mine.Items) != 1 || mine.Items[0]["id"] != entID {
		t.Fatalf("my enterprises = %v", mine.Items)
	}
	newApp(t, "applicant", "").must(200, "GET", "/v1/enterprises", nil).decode(t, &mine)
	if len(mine.Items) != 0 {
		t.Fatalf("another user sees %v", mine.Items)
	}

	cs := a.openCase(entID, "initial", "wecom", "official_account")
	caseID := cs["id"].(string)
	if cs["status"] != "draft" {
		t.Fatalf("status = %v", cs["status"])
	}
	fee := cs["fee"].(map[string]any)
	if fee["amountFen"].(float64) != 30000 || fee["subsidyFen"].(float64) != 15000 || fee["payableFen"].(float64) != 15000 {
		t.Fatalf("fee for Shenzhen = %v, want 30000 - 15000 subsidy", fee)
	}
	due := strs(cs["requirements"].(map[string]any)["currentlyDue"])
	for _, want := range []string{"business_license", "legal_rep_id_front", "legal_rep_id_back", "face_verification", "bank_verification", "payment"} {
		if !has(due, want) {
			t.Errorf("currentlyDue %v lacks %s", due, want)
		}
	}
	if r := a.do("POST", "/v1/cases/"+caseID+"/submit", nil); r.Status != 409 || r.code(t) != "requirements_unmet" {
		t.Fatalf("early submit: %d %s", r.Status, r.Body)
	}

	for _, dt := range []string{"business_license", "legal_rep_id_front", "legal_rep_id_back"} {
		d := a.upload(caseID, dt, "image/jpeg", uniqueScan())
		if st := d["check"].(map[string]any)["status"]; st != "passed" {
			t.Fatalf("%s check = %v: %v", dt, st, d["check"])
		}
	}
	cs = a.getCase(caseID)
	due = strs(cs["requirements"].(map[string]any)["currentlyDue"])
	if has(due, "business_license") || has(due, "legal_rep_id_front") {
		t.Fatalf("uploaded documents still due: %v", due)
	}

	a.passFace(caseID, true)
	cs = a.getCase(caseID)
	if st := cs["verifications"].(map[string]any)["face"].(map[string]any)["status"]; st != "passed" {
		t.Fatalf("face = %v", st)
	}

	a.verifyBank(caseID)
	cs = a.getCase(caseID)
	bank := cs["bankVerification"].(map[string]any)
	if bank["status"] != "verified" || bank["account"] != "**** 8901" {
		t.Fatalf("bank verification = %v", bank)
	}

	order := a.pay(caseID)
	if order["payableFen"].(float64) != 15000 {
		t.Fatalf("order = %v", order)
	}
	cs = a.getCase(caseID)
	req := cs["requirements"].(map[string]any)
	if len(req["currentlyDue"].([]any))+len(req["pendingVerification"].([]any))+len(req["errors"].([]any)) != 0 {
		t.Fatalf("requirements left before submit: %v", req)
	}

	sub := a.must(200, "POST", "/v1/cases/"+caseID+"/submit", nil).obj(t)
	if sub["status"] != "submitted" || sub["reviewDueAt"] == nil {
		t.Fatalf("submit = %v", sub)
	}
	dueAt, err := time.Parse(time.RFC3339, sub["reviewDueAt"].(string))
	if err != nil || !dueAt.After(time.Now().Add(5*24*time.Hour)) {
		t.Fatalf("reviewDueAt %v not at least 5 working days out", sub["reviewDueAt"])
	}
	hist := sub["history"].([]any)
	if last := hist[len(hist)-1].(map[string]any); last["from"] != "draft" || last["to"] != "submitted" {
		t.Fatalf("history = %v", hist)
	}

	var cases struct {
		Items []map[string]any `json:"items"`
	}
	a.must(200, "GET", "/v1/enterprises/"+entID+"/cases", nil).decode(t, &cases)
	if len(cases.Items) != 1 || cases.Items[0]["id"] != caseID {
		t.Fatalf("enterprise cases = %v", cases.Items)
	}
}
