package e2e

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// Rules that span more than one request or one case, proven through the
// local stack with real concurrency.

// bankBody is the micro-deposit request for the default enterprise's
// account (held in the enterprise's own name).
func bankBody() map[string]any {
	return map[string]any{"bankName": "招商银行深圳分行", "accountName": "深圳市微认证科技有限公司", "accountNumber": "755912345678901"}
}

// TestNoConflictFromOtherWriters: an app that uploads three documents and
// at once starts the face and the bank verification (while the document
// check writes the same case) never sees a conflict it did not cause.
// Here across the stack's processes; the many rounds that make collisions
// certain run in process (shared/certsvc, writepath_test.go).
func TestNoConflictFromOtherWriters(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	const runs = 10
	var (
		mu        sync.Mutex
		conflicts []string
		wg        sync.WaitGroup
	)
	sem := make(chan struct{}, 5)
	for i := 0; i < runs; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			entID := a.createEnterprise(nil)["id"].(string)
			caseID := a.openCase(entID, "initial", "wecom", "official_account")["id"].(string)
			// The three uploads land; their checks start writing the case
			// while the app goes on at once.
			for _, dt := range []string{"business_license", "legal_rep_id_front", "legal_rep_id_back"} {
				scan := uniqueScan()
				up := a.requestUpload(caseID, dt, "image/jpeg", len(scan))
				if st, body := postFile(t, up, scan); st/100 != 2 {
					t.Errorf("upload %s: %d %s", dt, st, body)
				}
			}
			var inner sync.WaitGroup
			statuses := make([]resp, 5)
			inner.Add(2)
			go func() {
				defer inner.Done()
				statuses[3] = a.do("POST", "/v1/cases/"+caseID+"/face-verification", nil)
			}()
			go func() {
				defer inner.Done()
				statuses[4] = a.do("POST", "/v1/cases/"+caseID+"/bank-verification", bankBody())
			}()
			inner.Wait()
			for _, r := range statuses[3:] {
				if r.Status != 201 {
					mu.Lock()
					conflicts = append(conflicts, fmt.Sprintf("%d %s", r.Status, r.Body))
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if len(conflicts) > 0 {
		t.Fatalf("%d of %d runs saw an error: %v", len(conflicts), runs, conflicts)
	}
}

// TestOneOpenCasePerType: two racing creations of a case for the same type
// leave exactly one open case; the other is told which one; after a
// withdrawal a new case opens, and a 409 is never replayed by the
// Idempotency-Key (a retry after the withdrawal succeeds).
func TestOneOpenCasePerType(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	for round := 0; round < 5; round++ {
		entID := a.createEnterprise(nil)["id"].(string)
		var wg sync.WaitGroup
		out := make([]resp, 2)
		for i := range out {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out[i] = a.do("POST", "/v1/cases", map[string]any{"enterpriseId": entID, "kind": "initial", "types": []string{"wecom"}})
			}()
		}
		wg.Wait()
		var winner, loser resp
		switch {
		case out[0].Status == 201 && out[1].Status == 409:
			winner, loser = out[0], out[1]
		case out[1].Status == 201 && out[0].Status == 409:
			winner, loser = out[1], out[0]
		default:
			t.Fatalf("round %d: statuses %d %s / %d %s", round, out[0].Status, out[0].Body, out[1].Status, out[1].Body)
		}
		openID := winner.obj(t)["id"].(string)
		if p := loser.obj(t); p["code"] != "case_already_open" || p["openCaseId"] != openID {
			t.Fatalf("round %d: loser = %s", round, loser.Body)
		}
		var list struct {
			Items []map[string]any `json:"items"`
		}
		a.must(200, "GET", "/v1/enterprises/"+entID+"/cases", nil).decode(t, &list)
		if len(list.Items) != 1 {
			t.Fatalf("round %d: %d cases", round, len(list.Items))
		}
		if round > 0 {
			continue
		}
		// Another type opens beside it; the same type with another kind
		// does not.
		a.must(201, "POST", "/v1/cases", map[string]any{"enterpriseId": entID, "kind": "initial", "types": []string{"mini_program"}})
		key := []string{"Idempotency-Key", "open-wecom-" + entID}
		body := map[string]any{"enterpriseId": entID, "kind": "initial", "types": []string{"wecom", "official_account"}}
		if r := a.do("POST", "/v1/cases", body, key...); r.Status != 409 || r.code(t) != "case_already_open" {
			t.Fatalf("overlapping case: %d %s", r.Status, r.Body)
		}
		a.must(200, "POST", "/v1/cases/"+openID+"/withdraw", nil)
		if r := a.do("POST", "/v1/cases", body, key...); r.Status != 201 || r.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("retry after the withdrawal: %d %s", r.Status, r.Body)
		}
	}
}

// TestDepositLimitsPerEnterprise: the micro-deposit limits hold per
// enterprise whatever case, PATCH or race is tried: a lock's cool-down
// stops new deposits on fresh cases and stops giving up the account, at
// most 3 deposits start in 30 days, and racing confirmations never get
// more than 3 wrong amounts.
func TestDepositLimitsPerEnterprise(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")

	t.Run("lock holds across cases and PATCH", func(t *testing.T) {
		entID := a.createEnterprise(nil)["id"].(string)
		first := a.openCase(entID, "initial", "official_account")["id"].(string)
		a.must(201, "POST", "/v1/cases/"+first+"/bank-verification", bankBody())
		wrong := a.depositAmount(first)%99 + 1
		// Eight racing wrong guesses: at most three are counted.
		var wg sync.WaitGroup
		results := make([]resp, 8)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = a.do("POST", "/v1/cases/"+first+"/bank-verification/confirm", map[string]any{"amountFen": wrong})
			}()
		}
		wg.Wait()
		wrongs, locks := 0, 0
		for _, r := range results {
			switch r.code(t) {
			case "wrong_amount":
				wrongs++
			case "verification_locked":
				locks++
			default:
				t.Errorf("guess: %d %s", r.Status, r.Body)
			}
		}
		if wrongs != 2 || locks != 6 {
			t.Fatalf("8 racing guesses: %d wrong_amount, %d locked; want 2 and 6", wrongs, locks)
		}
		// A fresh case does not bring fresh guesses.
		second := a.openCase(entID, "initial", "mini_program")["id"].(string)
		r := a.do("POST", "/v1/cases/"+second+"/bank-verification", bankBody())
		if r.Status != 409 || r.code(t) != "deposit_limit_reached" || r.obj(t)["nextDepositAt"] == nil {
			t.Fatalf("deposit on a fresh case during the lock: %d %s", r.Status, r.Body)
		}
		// Nor does giving up the account.
		if r := a.do("PATCH", "/v1/enterprises/"+entID, map[string]any{"hasCorporateAccount": false}); r.Status != 409 || r.code(t) != "verification_locked" {
			t.Fatalf("PATCH during the lock: %d %s", r.Status, r.Body)
		}
		// The case says when, and what else would do.
		errs := fmt.Sprint(a.getCase(first)["requirements"].(map[string]any)["errors"])
		if !strings.Contains(errs, "verification_locked") || !strings.Contains(errs, "Beijing") && !strings.Contains(errs, "北京时间") {
			t.Fatalf("locked deposit advice: %s", errs)
		}
	})

	t.Run("at most 3 deposits in 30 days, racing included", func(t *testing.T) {
		entID := a.createEnterprise(nil)["id"].(string)
		started := 0
		for i := 0; i < 2; i++ {
			c := a.openCase(entID, "initial", "official_account")["id"].(string)
			a.must(201, "POST", "/v1/cases/"+c+"/bank-verification", bankBody())
			started++
			a.must(200, "POST", "/v1/cases/"+c+"/withdraw", nil)
		}
		// Two open cases race for the one deposit left.
		c1 := a.openCase(entID, "initial", "official_account")["id"].(string)
		c2 := a.openCase(entID, "initial", "mini_program")["id"].(string)
		var wg sync.WaitGroup
		out := make([]resp, 2)
		for i, c := range []string{c1, c2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out[i] = a.do("POST", "/v1/cases/"+c+"/bank-verification", bankBody())
			}()
		}
		wg.Wait()
		for _, r := range out {
			switch {
			case r.Status == 201:
				started++
			case r.Status == 409 && r.code(t) == "deposit_limit_reached":
			default:
				t.Fatalf("racing deposit: %d %s", r.Status, r.Body)
			}
		}
		if started != 3 {
			t.Fatalf("%d deposits started, want the limit of 3", started)
		}
	})

	t.Run("account holder must be the enterprise", func(t *testing.T) {
		entID := a.createEnterprise(func(b map[string]any) { b["name"] = "微认证（深圳）科技有限公司" })["id"].(string)
		c := a.openCase(entID, "initial", "official_account")["id"].(string)
		body := bankBody()
		body["accountName"] = "张三"
		if r := a.do("POST", "/v1/cases/"+c+"/bank-verification", body); r.Status != 422 || r.code(t) != "account_name_mismatch" {
			t.Fatalf("personal account: %d %s", r.Status, r.Body)
		}
		body["accountName"] = "微认证 (深圳) 科技有限公司" // half-width brackets, spaces: the same name
		a.must(201, "POST", "/v1/cases/"+c+"/bank-verification", body)
	})
}

// TestVerificationBindings: a passed face check belongs to the legal rep
// it verified; a new legal rep reopens it, with a code the app can act on.
func TestVerificationBindings(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	entID := a.createEnterprise(nil)["id"].(string)
	caseID := a.openCase(entID, "initial", "wecom")["id"].(string)
	a.passFace(caseID, true)
	if due := strs(a.getCase(caseID)["requirements"].(map[string]any)["currentlyDue"]); has(due, "face_verification") {
		t.Fatalf("face still due after passing: %v", due)
	}
	a.must(200, "PATCH", "/v1/enterprises/"+entID, map[string]any{"legalRep": map[string]any{"name": "李四"}})
	req := a.getCase(caseID)["requirements"].(map[string]any)
	if !has(strs(req["currentlyDue"]), "face_verification") || !strings.Contains(fmt.Sprint(req["errors"]), "legal_rep_changed") {
		t.Fatalf("after a new legal rep: %v", req)
	}
	// The way forward works: the new legal rep verifies.
	a.passFace(caseID, true)
	if due := strs(a.getCase(caseID)["requirements"].(map[string]any)["currentlyDue"]); has(due, "face_verification") {
		t.Fatalf("face still due after the new legal rep passed: %v", due)
	}
}

// TestChangeCase: a certified enterprise changes reviewed fields only
// through a change case; its certifications stay active meanwhile; the new
// values apply atomically on approval.
func TestChangeCase(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	rev := newApp(t, "reviewer", "")
	entID, caseID := a.submittedCase("wecom")
	rev.approve(caseID)

	for _, patch := range []map[string]any{
		{"name": "深圳市新名称科技有限公司"},
		{"legalRep": map[string]any{"name": "王五"}},
		{"operatingAddress": "广东省深圳市福田区深南大道1号"},
		{"hasCorporateAccount": false},
	} {
		if r := a.do("PATCH", "/v1/enterprises/"+entID, patch); r.Status != 409 || r.code(t) != "change_requires_review" {
			t.Fatalf("PATCH %v of a certified enterprise: %d %s", patch, r.Status, r.Body)
		}
	}
	if r := a.do("POST", "/v1/cases", map[string]any{"enterpriseId": entID, "kind": "change", "change": map[string]any{}}); r.Status != 422 {
		t.Fatalf("empty change: %d %s", r.Status, r.Body)
	}
	newRep := map[string]any{"name": "王五", "idNumber": enterpriseBody(nil)["legalRep"].(map[string]any)["idNumber"], "phone": "13912345678"}
	cs := a.must(201, "POST", "/v1/cases", map[string]any{"enterpriseId": entID, "kind": "change",
		"change": map[string]any{"legalRep": newRep}}).obj(t)
	changeID := cs["id"].(string)
	due := strs(cs["requirements"].(map[string]any)["currentlyDue"])
	if strings.Join(due, ",") != "legal_rep_id_front,legal_rep_id_back,face_verification" || cs["fee"].(map[string]any)["payableFen"].(float64) != 0 {
		t.Fatalf("change case needs %v, fee %v", due, cs["fee"])
	}
	if lr := cs["change"].(map[string]any)["legalRep"].(map[string]any); strings.Contains(fmt.Sprint(lr["idNumber"]), newRep["idNumber"].(string)[6:14]) {
		t.Fatalf("change view leaks the ID number: %v", lr)
	}
	if r := a.do("POST", "/v1/cases", map[string]any{"enterpriseId": entID, "kind": "change",
		"change": map[string]any{"name": "另一个名称有限公司"}}); r.Status != 409 || r.code(t) != "case_already_open" {
		t.Fatalf("second change case: %d %s", r.Status, r.Body)
	}
	a.satisfy(changeID)
	a.submitCase(changeID)
	if c := certOf(t, a.enterprise(entID), "wecom"); c["status"] != "active" {
		t.Fatalf("certification during the change = %v", c)
	}
	rev.approve(changeID)
	ent := a.enterprise(entID)
	if ent["legalRep"].(map[string]any)["name"] != "王五" || certOf(t, ent, "wecom")["status"] != "active" {
		t.Fatalf("after the change: %v", ent)
	}
}

// TestApprovalAgainstCurrentFacts: a reviewer cannot approve what no longer
// holds: the enterprise renamed after submission leaves a verified account
// in another name, and approval is refused with what is due.
func TestApprovalAgainstCurrentFacts(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	rev := newApp(t, "reviewer", "")
	entID, caseID := a.submittedCase("official_account")
	a.must(200, "PATCH", "/v1/enterprises/"+entID, map[string]any{"name": "深圳市另一家科技有限公司"})
	r := rev.do("POST", "/v1/cases/"+caseID+"/decision", decisionBody("approve", rev.claim(caseID)))
	if r.Status != 409 || r.code(t) != "requirements_unmet" || !strings.Contains(string(r.Body), "account_name_mismatch") {
		t.Fatalf("approve after the rename: %d %s", r.Status, r.Body)
	}
}
