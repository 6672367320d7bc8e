package e2e

import (
	"context"
	"strings"
	"testing"

	"microcert/shared/domain"
)

// TestRevealLegalRep: the reviewer holding the claim reads the legal
// representative's ID number and phone in the clear; every reveal is
// audited, none is replayed from an Idempotency-Key, and nobody else gets
// them.
func TestRevealLegalRep(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	revA := newApp(t, "reviewer", "")
	revB := newApp(t, "reviewer", "")
	entID, caseID := a.submittedCase("wecom")
	path := "/v1/review/cases/" + caseID + "/reveal"
	ent, _, err := seedStore().GetEnterprise(context.Background(), entID)
	if err != nil {
		t.Fatal(err)
	}

	if r := revA.do("POST", path, nil); r.Status != 409 || r.code(t) != "claim_required" {
		t.Fatalf("reveal before the claim: %d %s", r.Status, r.Body)
	}
	revA.claim(caseID)
	if r := revB.do("POST", path, nil); r.Status != 409 || r.code(t) != "case_claimed" {
		t.Fatalf("another reviewer: %d %s", r.Status, r.Body)
	}
	if r := a.do("POST", path, nil); r.Status != 403 {
		t.Fatalf("the applicant: %d %s", r.Status, r.Body)
	}
	if r := revA.do("POST", "/v1/review/cases/"+domain.NewID()+"/reveal", nil); r.Status != 404 {
		t.Fatalf("no such case: %d %s", r.Status, r.Body)
	}

	for i := 0; i < 2; i++ { // the same Idempotency-Key twice: two reveals, two records
		r := revA.must(200, "POST", path, nil, "Idempotency-Key", "reveal-"+caseID)
		if r.Header.Get("Idempotent-Replayed") != "" || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("headers %v", r.Header)
		}
		var got struct {
			CaseID   string `json:"caseId"`
			LegalRep struct {
				Name, IDNumber, Phone string
			} `json:"legalRep"`
		}
		r.decode(t, &got)
		if got.CaseID != caseID || got.LegalRep.IDNumber != ent.LegalRep.IDNumber || got.LegalRep.Phone != ent.LegalRep.Phone ||
			got.LegalRep.Name != ent.LegalRep.Name {
			t.Fatalf("revealed %+v", got)
		}
	}
	// The case view still masks them.
	if cs := revA.getCase(caseID); strings.Contains(mustJSON(cs), ent.LegalRep.IDNumber) {
		t.Fatal("the case view carries the ID number in the clear")
	}

	audits, err := seedStore().ListAudit(context.Background(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	var reveals int
	for _, au := range audits {
		if au.Action == "legal_rep.reveal" {
			reveals++
			if !strings.HasPrefix(au.ActorID, "reviewer-") || au.Role != domain.RoleReviewer || au.At.IsZero() {
				t.Errorf("audit %+v", au)
			}
		}
	}
	if reveals != 2 {
		t.Fatalf("%d reveal records, want 2 (audits %+v)", reveals, audits)
	}
}

// TestApplicantsNeverSeeReviewerIDs: a claim taken over from one reviewer
// by another and a request for changes leave the applicant's views free of
// both reviewers' account ids (claims, history, decisions, lists, inbox),
// while the reviewers still see who held the case.
func TestApplicantsNeverSeeReviewerIDs(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	revA := newApp(t, "reviewer", "")
	revB := newApp(t, "reviewer", "")
	entID, caseID := a.submittedCase("wecom")
	revA.claim(caseID)

	// Reviewer A's claim ran out; B takes over.
	revAID := expireClaim(t, caseID).Claim.ReviewerID
	v := revB.claim(caseID)
	body := decisionBody("request_changes", v, "document_unclear")
	body["note"] = "请重新上传清晰的营业执照"
	staff := revB.must(200, "POST", "/v1/cases/"+caseID+"/decision", body).obj(t)
	after, err := seedStore().GetCase(context.Background(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	revBID := after.LastDecision.ReviewerID

	// Staff views name them.
	if s := mustJSON(staff); !strings.Contains(s, revAID) || !strings.Contains(s, revBID) {
		t.Fatalf("the reviewer's view lost who held the case: %s", s)
	}

	views := map[string]string{}
	for _, p := range []string{"/v1/cases/" + caseID, "/v1/cases/" + caseID + "/documents", "/v1/enterprises/" + entID,
		"/v1/enterprises/" + entID + "/cases", "/v1/enterprises/" + entID + "/notifications", "/v1/enterprises"} {
		views[p] = string(a.must(200, "GET", p, nil).Body)
	}
	views["submit (409)"] = string(a.do("POST", "/v1/cases/"+caseID+"/submit", nil).Body)
	for p, body := range views {
		for _, id := range []string{revAID, revBID} {
			if strings.Contains(body, id) {
				t.Errorf("%s shows reviewer %s: %s", p, id, body)
			}
		}
	}
	mine := a.getCase(caseID)
	if review := mine["review"].(map[string]any); review["claimedBy"] != nil || review["decision"] != "request_changes" ||
		review["note"] != "请重新上传清晰的营业执照" {
		t.Errorf("applicant's review = %v", review)
	}
	var sawReviewer bool
	for _, h := range mine["history"].([]any) {
		m := h.(map[string]any)
		if m["role"] == "reviewer" {
			sawReviewer = true
			if _, ok := m["actorId"]; ok {
				t.Errorf("history entry with a reviewer's id: %v", m)
			}
		}
		if m["role"] == "applicant" && m["actorId"] == nil {
			t.Errorf("the applicant's own entry lost its actor: %v", m)
		}
	}
	if !sawReviewer {
		t.Errorf("the decision is missing from the applicant's history: %v", mine["history"])
	}
}
