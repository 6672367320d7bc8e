package e2e

import (
	"strings"
	"testing"
	"time"
)

// People of an enterprise and disputes of a USCC, end to end through the
// local stack: several users per enterprise with roles, invitations,
// removal, ownership transfer, service agents, and a squatted USCC won back
// by the real company.

// invite has the caller create an invitation for role and the invitee
// redeem it; it returns the membership.
func (a *app) invite(entID, role string, invitee *app) map[string]any {
	a.t.Helper()
	inv := a.must(201, "POST", "/v1/enterprises/"+entID+"/invitations", map[string]any{"role": role, "label": role + " " + invitee.user}).obj(a.t)
	code, _ := inv["code"].(string)
	if inv["status"] != "pending" || !strings.HasPrefix(code, entID+".") {
		a.t.Fatalf("invitation %v", inv)
	}
	m := invitee.must(200, "POST", "/v1/invitations/redeem", map[string]any{"code": code}).obj(a.t)
	if m["enterpriseId"] != entID || m["role"] != role || m["userId"] != invitee.user {
		a.t.Fatalf("membership %v", m)
	}
	return m
}

// myEnterprises is GET /v1/enterprises as id -> role.
func (a *app) myEnterprises() map[string]string {
	a.t.Helper()
	var page struct {
		Items []map[string]any `json:"items"`
	}
	a.must(200, "GET", "/v1/enterprises", nil).decode(a.t, &page)
	out := map[string]string{}
	for _, it := range page.Items {
		out[it["id"].(string)] = it["role"].(string)
	}
	return out
}

// history is the enterprise's history, newest first.
func (a *app) history(entID string) []map[string]any {
	a.t.Helper()
	var page struct {
		Items []map[string]any `json:"items"`
	}
	a.must(200, "GET", "/v1/enterprises/"+entID+"/history?limit=100", nil).decode(a.t, &page)
	return page.Items
}

// findHistory returns the first entry (newest) with the subject and to.
func findHistory(hs []map[string]any, subject, to string) map[string]any {
	for _, h := range hs {
		if h["subject"] == subject && h["to"] == to {
			return h
		}
	}
	return nil
}

// TestMembersFlow: the owner invites an operator and a viewer; the
// operator prepares and submits a case; the viewer reads but gets 403 on
// every write; once removed, the viewer gets 404. Every step is in the
// history with the member's role.
func TestMembersFlow(t *testing.T) {
	onShared(t)
	owner, op, viewer := newApp(t, "applicant", ""), newApp(t, "applicant", ""), newApp(t, "applicant", "")
	entID := owner.createEnterprise(nil)["id"].(string)
	owner.invite(entID, "operator", op)
	owner.invite(entID, "viewer", viewer)
	if got := op.myEnterprises(); got[entID] != "operator" || len(got) != 1 {
		t.Fatalf("operator's enterprises %v", got)
	}
	var members struct {
		Items []map[string]any `json:"items"`
	}
	viewer.must(200, "GET", "/v1/enterprises/"+entID+"/members", nil).decode(t, &members)
	if len(members.Items) != 3 || members.Items[0]["role"] != "owner" || members.Items[0]["userId"] != owner.user {
		t.Fatalf("members %v", members.Items)
	}

	// The operator prepares and submits a case of the enterprise.
	caseID := op.openCase(entID, "initial", "wecom", "official_account")["id"].(string)
	op.satisfy(caseID)
	sub := op.submitCase(caseID)
	hist := sub["history"].([]any)
	if first := hist[0].(map[string]any); first["actorId"] != op.user || first["memberRole"] != "operator" {
		t.Fatalf("case history %v", hist)
	}
	if last := hist[len(hist)-1].(map[string]any); last["to"] != "submitted" || last["memberRole"] != "operator" {
		t.Fatalf("submission history %v", last)
	}

	// The viewer reads everything and may write nothing.
	if cs := viewer.getCase(caseID); cs["status"] != "submitted" {
		t.Fatalf("viewer reads %v", cs["status"])
	}
	viewer.must(200, "GET", "/v1/enterprises/"+entID, nil)
	viewer.must(200, "GET", "/v1/enterprises/"+entID+"/cases", nil)
	viewer.must(200, "GET", "/v1/enterprises/"+entID+"/notifications", nil)
	docs := viewer.must(200, "GET", "/v1/cases/"+caseID+"/documents", nil).obj(t)["items"].([]any)
	docID := docs[0].(map[string]any)["id"].(string)
	viewer.must(200, "GET", "/v1/documents/"+docID+"/download", nil)
	writes := []struct {
		method, path string
		body         any
	}{
		{"PATCH", "/v1/enterprises/" + entID, map[string]any{"operatingAddress": "广东省深圳市南山区科技园路2号"}},
		{"POST", "/v1/cases", map[string]any{"enterpriseId": entID, "kind": "initial", "types": []string{"mini_program"}}},
		{"POST", "/v1/cases/" + caseID + "/documents", map[string]any{"docType": "business_license", "contentType": "image/jpeg", "contentLength": 1000}},
		{"POST", "/v1/cases/" + caseID + "/face-verification", nil},
		{"POST", "/v1/cases/" + caseID + "/explanation", map[string]any{"text": "x"}},
		{"POST", "/v1/cases/" + caseID + "/payment", nil},
		{"POST", "/v1/cases/" + caseID + "/withdraw", nil},
		{"POST", "/v1/enterprises/" + entID + "/invitations", map[string]any{"role": "viewer"}},
	}
	for _, w := range writes {
		if r := viewer.do(w.method, w.path, w.body); r.Status != 403 || r.code(t) != "insufficient_role" {
			t.Errorf("viewer %s %s: %d %s", w.method, w.path, r.Status, r.Body)
		}
	}
	if cs := owner.getCase(caseID); cs["status"] != "submitted" {
		t.Fatalf("the viewer's refused writes changed the case: %v", cs["status"])
	}

	// Removed, the viewer sees nothing any more.
	owner.must(204, "DELETE", "/v1/enterprises/"+entID+"/members/"+viewer.user, nil)
	for _, path := range []string{"/v1/enterprises/" + entID, "/v1/cases/" + caseID, "/v1/enterprises/" + entID + "/members",
		"/v1/documents/" + docID + "/download", "/v1/enterprises/" + entID + "/history"} {
		if r := viewer.do("GET", path, nil); r.Status != 404 {
			t.Errorf("removed member GET %s: %d %s", path, r.Status, r.Body)
		}
	}
	if got := viewer.myEnterprises(); len(got) != 0 {
		t.Errorf("removed member still lists %v", got)
	}
	hs := owner.history(entID)
	if h := findHistory(hs, "member:"+viewer.user, ""); h == nil || h["actorId"] != owner.user || h["memberRole"] != "owner" {
		t.Errorf("removal history %v", h)
	}
	if h := findHistory(hs, "member:"+op.user, "operator"); h == nil || h["actorId"] != op.user || h["memberRole"] != "operator" {
		t.Errorf("joining history %v", h)
	}
	var notes struct {
		Items []map[string]any `json:"items"`
	}
	owner.must(200, "GET", "/v1/enterprises/"+entID+"/notifications?limit=50", nil).decode(t, &notes)
	kinds := map[string]int{}
	for _, n := range notes.Items {
		kinds[n["kind"].(string)]++
	}
	if kinds["member_invited"] != 2 || kinds["member_joined"] != 2 || kinds["member_removed"] != 1 {
		t.Errorf("notifications %v", kinds)
	}
	// The last owner can never be removed.
	if r := owner.do("DELETE", "/v1/enterprises/"+entID+"/members/"+owner.user, nil); r.Status != 409 || r.code(t) != "owner_cannot_be_removed" {
		t.Errorf("owner leaving: %d %s", r.Status, r.Body)
	}
}

// TestOwnershipTransfer: the owner hands the enterprise to an admin and
// becomes an admin; only the owner transfers; both moves are in the
// history.
func TestOwnershipTransfer(t *testing.T) {
	onShared(t)
	owner, admin := newApp(t, "applicant", ""), newApp(t, "applicant", "")
	entID := owner.createEnterprise(nil)["id"].(string)
	owner.invite(entID, "admin", admin)
	if r := admin.do("POST", "/v1/enterprises/"+entID+"/ownership", map[string]any{"userId": admin.user}); r.Status != 403 {
		t.Fatalf("an admin transferring: %d %s", r.Status, r.Body)
	}
	e := owner.must(200, "POST", "/v1/enterprises/"+entID+"/ownership", map[string]any{"userId": admin.user}).obj(t)
	if e["myRole"] != "admin" {
		t.Fatalf("after the transfer the former owner is %v", e["myRole"])
	}
	if got := admin.myEnterprises(); got[entID] != "owner" {
		t.Fatalf("new owner's enterprises %v", got)
	}
	if got := owner.myEnterprises(); got[entID] != "admin" {
		t.Fatalf("former owner's enterprises %v", got)
	}
	if e := admin.must(200, "GET", "/v1/enterprises/"+entID, nil).obj(t); e["myRole"] != "owner" {
		t.Fatalf("new owner's view %v", e["myRole"])
	}
	// The former owner cannot transfer any more, nor remove the new owner;
	// the new owner can remove them.
	if r := owner.do("POST", "/v1/enterprises/"+entID+"/ownership", map[string]any{"userId": owner.user}); r.Status != 403 {
		t.Errorf("former owner transferring back: %d %s", r.Status, r.Body)
	}
	if r := owner.do("DELETE", "/v1/enterprises/"+entID+"/members/"+admin.user, nil); r.Status != 409 {
		t.Errorf("removing the new owner: %d %s", r.Status, r.Body)
	}
	hs := admin.history(entID)
	tr := findHistory(hs, "ownership", admin.user)
	if tr == nil || tr["from"] != owner.user || tr["actorId"] != owner.user || tr["memberRole"] != "owner" {
		t.Fatalf("transfer history %v", tr)
	}
	if h := findHistory(hs, "member:"+owner.user, "admin"); h == nil {
		t.Errorf("the former owner's new role is not in the history: %v", hs)
	}
	admin.must(204, "DELETE", "/v1/enterprises/"+entID+"/members/"+owner.user, nil)
	if r := owner.do("GET", "/v1/enterprises/"+entID, nil); r.Status != 404 {
		t.Errorf("removed former owner: %d", r.Status)
	}
}

// TestAgentFlow: a service agent invited by an enterprise sees only that
// enterprise, prepares a case via itself (the authorization letter is
// required), can never start the legal rep's face verification (a member
// of the enterprise starts it for the legal rep), and submits; a reviewer
// approves.
func TestAgentFlow(t *testing.T) {
	onShared(t)
	owner, agent := newApp(t, "applicant", ""), newApp(t, "applicant", "")
	entID := owner.createEnterprise(nil)["id"].(string)
	otherEnt := newApp(t, "applicant", "").createEnterprise(nil)["id"].(string)
	owner.invite(entID, "agent", agent)
	if got := agent.myEnterprises(); len(got) != 1 || got[entID] != "agent" {
		t.Fatalf("agent's enterprises %v", got)
	}
	if r := agent.do("GET", "/v1/enterprises/"+otherEnt, nil); r.Status != 404 {
		t.Fatalf("agent reads an enterprise that did not invite it: %d", r.Status)
	}
	if r := agent.do("POST", "/v1/cases", map[string]any{"enterpriseId": entID, "kind": "initial", "types": []string{"official_account"}}); r.Status != 422 || r.code(t) != "via_agent_required" {
		t.Fatalf("agent without viaAgent: %d %s", r.Status, r.Body)
	}
	cs := agent.must(201, "POST", "/v1/cases", map[string]any{"enterpriseId": entID, "kind": "initial",
		"types": []string{"wecom", "official_account"}, "viaAgent": true}).obj(t)
	caseID := cs["id"].(string)
	if cs["agentId"] != agent.user || cs["viaAgent"] != true {
		t.Fatalf("agent's case %v", cs)
	}
	due := strs(cs["requirements"].(map[string]any)["currentlyDue"])
	if !has(due, "authorization_letter") || !has(due, "face_verification") {
		t.Fatalf("currentlyDue %v", due)
	}
	if r := agent.do("POST", "/v1/cases/"+caseID+"/face-verification", nil); r.Status != 403 || r.code(t) != "agent_cannot_verify" {
		t.Fatalf("agent starting face verification: %d %s", r.Status, r.Body)
	}
	for _, item := range due {
		switch item {
		case "face_verification":
			// The legal rep verifies in person: a member of the enterprise
			// starts the session bound to the legal rep on record.
			owner.passFace(caseID, true)
		case "bank_verification":
			agent.verifyBank(caseID)
		case "payment":
			agent.pay(caseID)
		default:
			if d := agent.upload(caseID, item, "image/jpeg", uniqueScan()); d["check"].(map[string]any)["status"] != "passed" {
				t.Fatalf("%s: %v", item, d["check"])
			}
		}
	}
	sub := agent.submitCase(caseID)
	hist := sub["history"].([]any)
	if last := hist[len(hist)-1].(map[string]any); last["actorId"] != agent.user || last["memberRole"] != "agent" {
		t.Fatalf("submission by %v", last)
	}
	approved := newApp(t, "reviewer", "").approve(caseID)
	if approved["status"] != "approved" {
		t.Fatalf("decision %v", approved["status"])
	}
	// Another case of the enterprise is not the agent's to work on.
	mine := owner.openCase(entID, "initial", "mini_program")["id"].(string)
	if r := agent.do("POST", "/v1/cases/"+mine+"/explanation", map[string]any{"text": "x"}); r.Status != 403 || r.code(t) != "not_case_agent" {
		t.Fatalf("agent on the enterprise's own case: %d %s", r.Status, r.Body)
	}
	agent.getCase(mine) // but may read it
}

// TestDisputeFlow: a squatter registers a company's USCC; the real
// company is answered enterprise_exists with the way to dispute, disputes
// with its license and its legal rep's face verification, a reviewer
// approves, the real company owns the USCC and certifies; the squatter is
// frozen, its open case withdrawn, and notified.
func TestDisputeFlow(t *testing.T) {
	onShared(t)
	squatter, company, rival := newApp(t, "applicant", ""), newApp(t, "applicant", ""), newApp(t, "applicant", "")
	squatted := squatter.createEnterprise(func(m map[string]any) { m["name"] = "深圳市抢注科技有限公司" })
	uscc := squatted["uscc"].(string)
	squatCase := squatter.openCase(squatted["id"].(string), "initial", "wecom")["id"].(string)
	squatDoc := squatter.upload(squatCase, "business_license", "image/jpeg", uniqueScan())["id"].(string)

	body := enterpriseBody(func(m map[string]any) { m["uscc"] = uscc })
	r := company.do("POST", "/v1/enterprises", body)
	if r.Status != 409 || r.code(t) != "enterprise_exists" {
		t.Fatalf("registration of a squatted USCC: %d %s", r.Status, r.Body)
	}
	link, _ := r.obj(t)["dispute"].(map[string]any)
	if link["method"] != "POST" || link["href"] != "/v1/disputes" {
		t.Fatalf("no way to dispute: %s", r.Body)
	}
	d := company.must(201, "POST", link["href"].(string), body).obj(t)
	disputeID, claimantEnt := d["id"].(string), d["enterpriseId"].(string)
	if d["kind"] != "dispute" || d["dispute"].(map[string]any)["uscc"] != uscc || d["fee"].(map[string]any)["payableFen"].(float64) != 0 {
		t.Fatalf("dispute %v", d)
	}
	if e := company.must(200, "GET", "/v1/enterprises/"+claimantEnt, nil).obj(t); e["status"] != "frozen" || e["frozenReason"] != "dispute_pending" {
		t.Fatalf("claimant's profile %v %v", e["status"], e["frozenReason"])
	}
	if r := company.do("POST", "/v1/cases", map[string]any{"enterpriseId": claimantEnt, "kind": "initial", "types": []string{"wecom"}}); r.Status != 409 || r.code(t) != "enterprise_frozen" {
		t.Fatalf("a case on a pending claim: %d %s", r.Status, r.Body)
	}
	due := strs(d["requirements"].(map[string]any)["currentlyDue"])
	if strings.Join(due, ",") != "business_license,legal_rep_id_front,legal_rep_id_back,face_verification" {
		t.Fatalf("a dispute needs %v", due)
	}
	company.satisfy(disputeID)
	company.submitCase(disputeID)
	if r := rival.do("POST", "/v1/disputes", body); r.Status != 409 || r.code(t) != "dispute_open" {
		t.Fatalf("a second dispute while one is in review: %d %s", r.Status, r.Body)
	}

	// The reviewer sees whose USCC is disputed, and decides.
	rev := newApp(t, "reviewer", "")
	if c := rev.getCase(disputeID); c["dispute"].(map[string]any)["holderEnterpriseId"] != squatted["id"] {
		t.Fatalf("reviewer's view of the dispute %v", c["dispute"])
	}
	rev.approve(disputeID)

	won := company.must(200, "GET", "/v1/enterprises/"+claimantEnt, nil).obj(t)
	if won["status"] != "active" || won["uscc"] != uscc || won["myRole"] != "owner" {
		t.Fatalf("claimant after winning %v", won)
	}
	lost := squatter.must(200, "GET", "/v1/enterprises/"+squatted["id"].(string), nil).obj(t)
	if lost["status"] != "frozen" || lost["frozenReason"] != "dispute_lost" {
		t.Fatalf("squatter after losing %v", lost)
	}
	if c := squatter.getCase(squatCase); c["status"] != "withdrawn" {
		t.Fatalf("squatter's open case %v", c["status"])
	}
	if documentHasTTL(t, squatCase, squatDoc) {
		t.Fatal("the closed case's documents are deleted before their retention ended")
	}
	runExpiry(t, time.Now().Add(31*24*time.Hour))
	if !documentHasTTL(t, squatCase, squatDoc) {
		t.Fatal("the closed case's documents have no TTL after their retention")
	}
	var notes struct {
		Items []map[string]any `json:"items"`
	}
	squatter.must(200, "GET", "/v1/enterprises/"+squatted["id"].(string)+"/notifications", nil).decode(t, &notes)
	if len(notes.Items) == 0 || notes.Items[0]["kind"] != "dispute_lost" {
		t.Fatalf("squatter's notifications %v", notes.Items)
	}
	company.must(200, "GET", "/v1/enterprises/"+claimantEnt+"/notifications", nil).decode(t, &notes)
	if len(notes.Items) == 0 || notes.Items[0]["kind"] != "decision" {
		t.Fatalf("claimant's notifications %v", notes.Items)
	}
	if r := squatter.do("POST", "/v1/cases", map[string]any{"enterpriseId": squatted["id"], "kind": "initial", "types": []string{"mini_program"}}); r.Status != 409 || r.code(t) != "enterprise_frozen" {
		t.Fatalf("squatter opening a case: %d %s", r.Status, r.Body)
	}
	// Members see staff entries by role, not by account.
	if h := findHistory(company.history(claimantEnt), "uscc", "held"); h == nil || h["role"] != "reviewer" || h["actorId"] != nil {
		t.Errorf("the USCC's move in the claimant's history: %v", h)
	}
	if r := rival.do("POST", "/v1/enterprises", body); r.Status != 409 || r.code(t) != "enterprise_exists" {
		t.Fatalf("registering the USCC again: %d %s", r.Status, r.Body)
	}

	// The real company certifies.
	caseID := company.openCase(claimantEnt, "initial", "wecom")["id"].(string)
	company.satisfy(caseID)
	company.submitCase(caseID)
	rev.approve(caseID)
	e := company.must(200, "GET", "/v1/enterprises/"+claimantEnt, nil).obj(t)
	certs := e["certifications"].([]any)
	if len(certs) != 1 || certs[0].(map[string]any)["status"] != "active" {
		t.Fatalf("certifications %v", certs)
	}
}
