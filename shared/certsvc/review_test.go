package certsvc_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"microcert/shared/certsvc"
	"microcert/shared/clock"
	"microcert/shared/domain"
	"microcert/shared/httpapi/apitest"
	"microcert/shared/store"
)

// Review and lifecycle use cases against the real store on the local
// DynamoDB stand-in, with a fake clock: the time-dependent paths (claim
// expiry, annual review from the old expiry, lapse and reinstatement,
// appeal within the original period) need a clock the test moves. The
// applicant's path to a submitted case is the e2e tests' (infra/e2e); here a
// case is opened by the service and put in "submitted" by a store write.

var rvCtx = context.Background()

// rvBeijing builds a Beijing wall-clock time.
func rvBeijing(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, domain.Beijing())
}

type rvEnv struct {
	t     *testing.T
	st    *store.Store
	svc   *certsvc.Service
	clock *clock.Fake
	rules domain.Rules
	seed  int
}

var (
	rvApplicant = domain.Actor{UserID: "app-owner", Roles: []domain.Role{domain.RoleApplicant}}
	rvStranger  = domain.Actor{UserID: "app-other", Roles: []domain.Role{domain.RoleApplicant}}
	rvReviewerA = domain.Actor{UserID: "rev-a", Roles: []domain.Role{domain.RoleReviewer}}
	rvReviewerB = domain.Actor{UserID: "rev-b", Roles: []domain.Role{domain.RoleReviewer}}
	rvAdmin     = domain.Actor{UserID: "adm-1", Roles: []domain.Role{domain.RoleAdmin}}
)

// newRvEnv runs the use cases on the harness (apitest) with the clock at
// start and the rules tweaked.
func newRvEnv(t *testing.T, start time.Time, tweak func(*domain.Rules)) *rvEnv {
	t.Helper()
	rules := domain.DefaultRules.Clone()
	if tweak != nil {
		tweak(&rules)
	}
	e := apitest.New(t, apitest.At(start), apitest.WithRules(rules))
	return &rvEnv{t: t, st: e.Store, svc: e.Service, clock: e.Clock, rules: rules}
}

func (e *rvEnv) enterprise() *domain.Enterprise {
	e.t.Helper()
	e.seed++
	n := int(time.Now().UnixNano()%1000000) + e.seed
	ent, err := e.svc.CreateEnterprise(rvCtx, rvApplicant, certsvc.EnterpriseInput{
		Name: "深圳市审核测试有限公司", USCC: domain.SampleUSCC(n),
		LegalRep:          domain.LegalRep{Name: "李四", IDNumber: domain.SampleIDNumber(n), Phone: "13912345678"},
		RegisteredAddress: "广东省深圳市南山区科技园路1号", OperatingAddress: "广东省深圳市南山区科技园路1号",
		RegionCode: "440300", HasCorporateAccount: true,
	})
	if err != nil {
		e.t.Fatalf("create enterprise: %v", err)
	}
	return ent
}

// submitted opens a case through the service, completes every requirement
// (a passed document per document type, passed verifications bound to the
// legal rep, a verified deposit in the enterprise's name, the fee paid, the
// explanation) and puts the case in "submitted" as the applicant's submit
// would: a reviewer's approval re-derives the requirements and must find
// nothing due.
func (e *rvEnv) submitted(entID string, kind domain.CaseKind, types ...domain.CertType) *domain.Case {
	e.t.Helper()
	v, err := e.svc.OpenCase(rvCtx, rvApplicant, certsvc.CaseInput{EnterpriseID: entID, Kind: kind, Types: types})
	if err != nil {
		e.t.Fatalf("open %s case: %v", kind, err)
	}
	prev := e.fulfil(v)
	c := *prev
	now := e.clock.Now()
	h, err := c.Transition(domain.DefaultRules, domain.CaseSubmitted, rvApplicant, now, nil, "")
	if err != nil {
		e.t.Fatal(err)
	}
	due := domain.BuiltinCalendar().ReviewDueAt(now, e.rules).At
	c.SubmittedAt, c.ReviewDueAt = &now, &due
	if err := e.st.Commit(rvCtx, &domain.Change{
		Cases:   []domain.CaseWrite{domain.UpdateCase(prev, &c)},
		History: []domain.HistoryRecord{{CaseID: c.ID, Entry: h}},
	}); err != nil {
		e.t.Fatalf("seed submit: %v", err)
	}
	return &c
}

// fulfil completes every requirement of the case v shows, by store
// writes: a passed document per document type, passed verifications bound
// to the legal rep, a verified deposit in the enterprise's name, the fee
// paid, the explanation. It returns the case as stored.
func (e *rvEnv) fulfil(v *certsvc.CaseView) *domain.Case {
	e.t.Helper()
	now := e.clock.Now()
	c := *v.Case
	ent := v.Enterprise
	entID := c.EnterpriseID
	var docs []domain.DocumentWrite
	yes := true
	for i, item := range domain.RequiredItems(&c, ent.HasCorporateAccount, c.Fee.PayableFen) {
		switch item {
		case domain.ReqFaceVerification, domain.ReqQRVerification:
			kind := domain.VerifyFace
			if item == domain.ReqQRVerification {
				kind = domain.VerifyQR
			}
			ver := &domain.Verification{SessionID: domain.NewIDAt(now), Kind: kind, Status: domain.VerificationPassed,
				ExpiresAt: now.Add(time.Minute), PhoneMatches: &yes, CompletedAt: &now, LegalRep: domain.LegalRepFingerprint(ent.LegalRep)}
			if kind == domain.VerifyQR {
				c.QR = ver
			} else {
				c.Face = ver
			}
		case domain.ReqBankVerification:
			c.Deposit = &domain.Deposit{Status: domain.DepositVerified, AccountName: ent.Name, AccountLast4: "1234",
				Deadline: now.Add(time.Hour), CreatedAt: now, VerifiedAt: &now}
		case domain.ReqPayment:
			c.Payment = &domain.Payment{OrderID: domain.NewIDAt(now), Status: domain.PaymentPaid, AmountFen: c.Fee.PayableFen,
				PaidFen: c.Fee.PayableFen, CreatedAt: now, PaidAt: &now}
			// The fee account as the payment callback leaves it.
			c.Money.ReceivedFen, c.Money.KeptFen = c.Fee.PayableFen, c.Fee.PayableFen
		case domain.ReqExplanation:
			c.Explanation, c.ExplanationAt = "整改完成。", &now
		default:
			docs = append(docs, domain.DocumentWrite{Create: true, Document: &domain.Document{ID: domain.NewIDAt(now.Add(time.Duration(i))),
				CaseID: c.ID, EnterpriseID: entID, DocType: domain.DocType(item), ContentType: "image/jpeg", ContentLength: 1000,
				Status: domain.DocPassed, CreatedAt: now}})
		}
	}
	if err := e.st.Commit(rvCtx, &domain.Change{Cases: []domain.CaseWrite{domain.UpdateCase(v.Case, &c)}, Documents: docs}); err != nil {
		e.t.Fatalf("seed requirements: %v", err)
	}
	return &c
}

// claim claims caseID as by and returns the new version.
func (e *rvEnv) claim(by domain.Actor, caseID string) int {
	e.t.Helper()
	v, err := e.svc.Claim(rvCtx, by, caseID)
	if err != nil {
		e.t.Fatalf("claim by %s: %v", by.UserID, err)
	}
	if v.Case.Status != domain.CaseInReview || v.Case.Claim == nil || v.Case.Claim.ReviewerID != by.UserID {
		e.t.Fatalf("after claim: status %s claim %+v", v.Case.Status, v.Case.Claim)
	}
	return v.Case.Version
}

func (e *rvEnv) decide(by domain.Actor, caseID string, d domain.DecisionKind, version int, reasons ...string) *certsvc.DecisionResult {
	e.t.Helper()
	in := certsvc.DecisionInput{Decision: d, Reasons: reasons, Version: version}
	if d == domain.DecisionRequestChanges {
		// Every request for changes names what to redo.
		in.Redo = []certsvc.RedoInput{{Requirement: string(domain.DocBusinessLicense), Reason: domain.ReasonDocumentUnclear}}
	}
	res, err := e.svc.Decide(rvCtx, by, caseID, in)
	if err != nil {
		e.t.Fatalf("decide %s: %v", d, err)
	}
	return res
}

// approve runs claim + approve by reviewer A.
func (e *rvEnv) approve(caseID string) *certsvc.DecisionResult {
	e.t.Helper()
	return e.decide(rvReviewerA, caseID, domain.DecisionApprove, e.claim(rvReviewerA, caseID))
}

func (e *rvEnv) cert(entID string, t domain.CertType) domain.Certification {
	e.t.Helper()
	_, certs, err := e.st.GetEnterprise(rvCtx, entID)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, c := range certs {
		if c.Type == t {
			return c
		}
	}
	e.t.Fatalf("enterprise %s holds no %s certification", entID, t)
	return domain.Certification{}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if domain.CodeOf(err) != code {
		t.Fatalf("error = %v, want code %s", err, code)
	}
}

func TestReviewApproveCreatesCertificatesAtomically(t *testing.T) {
	// The documented example: approved on 2026-11-26 -> expiresAt
	// 2027-11-26T23:59:59+08:00.
	e := newRvEnv(t, rvBeijing(2026, 11, 26, 10, 0), nil)
	ent := e.enterprise()
	c := e.submitted(ent.ID, domain.KindInitial, domain.CertWeCom, domain.CertOfficialAccount)

	res := e.approve(c.ID)
	if res.View.Case.Status != domain.CaseApproved || res.View.Case.LastDecision == nil || res.View.Case.Claim != nil {
		t.Fatalf("case after approval: %+v", res.View.Case)
	}
	want := time.Date(2027, 11, 26, 23, 59, 59, 0, domain.Beijing())
	for _, typ := range []domain.CertType{domain.CertWeCom, domain.CertOfficialAccount} {
		cert := e.cert(ent.ID, typ)
		if cert.Status != domain.CertActive || !cert.ExpiresAt.Equal(want) || cert.CaseID != c.ID || cert.Version != 1 || cert.Cycle != 1 {
			t.Errorf("%s = %+v, want active until %v", typ, cert, want)
		}
		if cert.RemindAt == nil {
			t.Errorf("%s has no reminder scheduled", typ)
		}
		caps := domain.CapabilitiesFor(&cert, e.clock.Now(), domain.DefaultRules)
		if !caps.Certified {
			t.Errorf("%s capabilities = %+v", typ, caps)
		}
	}
	if _, err := e.st.GetCertification(rvCtx, ent.ID, domain.CertMiniProgram); domain.CodeOf(err) != "not_found" {
		t.Errorf("mini_program (not in the case) exists: %v", err)
	}

	b, err := e.st.GetCaseBundle(rvCtx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var decisions, certEntries int
	for _, h := range b.History {
		switch {
		case h.Subject == "case" && h.To == string(domain.CaseApproved):
			decisions++
			if h.ActorID != rvReviewerA.UserID || h.Role != domain.RoleReviewer || h.From != string(domain.CaseInReview) {
				t.Errorf("decision entry = %+v", h)
			}
		case h.Subject == "certification:wecom" || h.Subject == "certification:official_account":
			certEntries++
		}
	}
	if decisions != 1 || certEntries != 2 {
		t.Errorf("history: %d decision entries, %d certification entries; want 1 and 2: %+v", decisions, certEntries, b.History)
	}
	notes, _, err := e.st.ListNotifications(rvCtx, ent.ID, domain.Page{Limit: 10})
	if err != nil || len(notes) != 1 || notes[0].Kind != domain.NoticeDecision || notes[0].CaseID != c.ID {
		t.Fatalf("notifications = %+v, %v", notes, err)
	}
	queue, _, err := e.svc.ListQueue(rvCtx, rvReviewerA, domain.Page{Limit: 10})
	if err != nil || len(queue) != 0 {
		t.Fatalf("queue after approval = %+v, %v", queue, err)
	}
}

func TestReviewQueueSLA(t *testing.T) {
	// Submitted Thursday 2026-11-26: due at the end of the 5th working day
	// after, Thursday 2026-12-03.
	e := newRvEnv(t, rvBeijing(2026, 11, 26, 10, 0), nil)
	ent := e.enterprise()
	first := e.submitted(ent.ID, domain.KindInitial, domain.CertWeCom)
	e.clock.Advance(24 * time.Hour)
	second := e.submitted(ent.ID, domain.KindInitial, domain.CertOfficialAccount)

	if _, _, err := e.svc.ListQueue(rvCtx, rvApplicant, domain.Page{}); domain.CodeOf(err) != "forbidden" {
		t.Fatalf("applicant listing the queue: %v", err)
	}
	for _, tc := range []struct {
		name  string
		now   time.Time
		state string
		days  int
	}{
		{"on time", rvBeijing(2026, 12, 2, 12, 0), domain.SLAOnTime, 0},
		{"due today", rvBeijing(2026, 12, 3, 23, 0), domain.SLADueToday, 0},
		{"overdue over a weekend (Fri, Mon)", rvBeijing(2026, 12, 7, 9, 0), domain.SLAOverdue, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.clock.Set(tc.now)
			q, _, err := e.svc.ListQueue(rvCtx, rvReviewerA, domain.Page{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(q) != 2 || q[0].Case.ID != first.ID || q[1].Case.ID != second.ID {
				t.Fatalf("queue order = %+v", q)
			}
			if q[0].SLAState != tc.state || q[0].OverdueWorkingDays != tc.days {
				t.Errorf("first case: %s/%d, want %s/%d", q[0].SLAState, q[0].OverdueWorkingDays, tc.state, tc.days)
			}
		})
	}
}

func TestReviewClaimRules(t *testing.T) {
	e := newRvEnv(t, rvBeijing(2026, 11, 26, 10, 0), nil)
	ent := e.enterprise()
	c := e.submitted(ent.ID, domain.KindInitial, domain.CertWeCom)

	_, err := e.svc.Decide(rvCtx, rvReviewerA, c.ID, certsvc.DecisionInput{Decision: domain.DecisionApprove, Version: c.Version})
	wantCode(t, err, "claim_required")
	_, err = e.svc.Claim(rvCtx, rvApplicant, c.ID)
	wantCode(t, err, "forbidden")

	v := e.claim(rvReviewerA, c.ID)
	_, err = e.svc.Claim(rvCtx, rvReviewerB, c.ID)
	wantCode(t, err, "case_claimed")
	if _, ok := err.(*domain.Error).Detail("claimExpiresAt"); !ok {
		t.Fatalf("case_claimed without claimExpiresAt: %+v", err)
	}
	_, err = e.svc.Decide(rvCtx, rvReviewerB, c.ID, certsvc.DecisionInput{Decision: domain.DecisionApprove, Version: v})
	wantCode(t, err, "case_claimed")

	// The holder claiming again extends the claim.
	e.clock.Advance(time.Hour)
	v = e.claim(rvReviewerA, c.ID)
	got, _ := e.st.GetCase(rvCtx, c.ID)
	if want := e.clock.Now().Add(e.rules.ClaimTTL); !got.Claim.ExpiresAt.Equal(want) {
		t.Fatalf("refreshed claim expires %v, want %v", got.Claim.ExpiresAt, want)
	}

	// Past its expiry the claim can be taken by anyone at once, and the
	// former holder can no longer decide.
	e.clock.Advance(e.rules.ClaimTTL + time.Second)
	_, err = e.svc.Decide(rvCtx, rvReviewerA, c.ID, certsvc.DecisionInput{Decision: domain.DecisionApprove, Version: v})
	wantCode(t, err, "claim_required")
	v = e.claim(rvReviewerB, c.ID)
	_, err = e.svc.Decide(rvCtx, rvReviewerA, c.ID, certsvc.DecisionInput{Decision: domain.DecisionApprove, Version: v})
	wantCode(t, err, "case_claimed")
	_, err = e.svc.Decide(rvCtx, rvReviewerB, c.ID, certsvc.DecisionInput{Decision: domain.DecisionApprove, Version: v - 1})
	wantCode(t, err, "version_conflict")
	e.decide(rvReviewerB, c.ID, domain.DecisionApprove, v)

	b, _ := e.st.GetCaseBundle(rvCtx, c.ID)
	var takeovers int
	for _, h := range b.History {
		if h.From == string(domain.CaseInReview) && h.To == string(domain.CaseInReview) && h.ActorID == rvReviewerB.UserID {
			takeovers++
		}
	}
	if takeovers != 1 {
		t.Errorf("takeover entries = %d, want 1: %+v", takeovers, b.History)
	}
}

func TestReviewOwnCaseAndStrangers(t *testing.T) {
	e := newRvEnv(t, rvBeijing(2026, 11, 26, 10, 0), nil)
	ent := e.enterprise()
	c := e.submitted(ent.ID, domain.KindInitial, domain.CertWeCom)
	// A reviewer who is also the applicant cannot review their own case.
	self := domain.Actor{UserID: rvApplicant.UserID, Roles: []domain.Role{domain.RoleReviewer}}
	_, err := e.svc.Claim(rvCtx, self, c.ID)
	wantCode(t, err, "own_case")
	e.approve(c.ID)

	_, err = e.svc.Cancel(rvCtx, rvStranger, ent.ID, certsvc.CancelInput{Type: domain.CertWeCom})
	wantCode(t, err, "not_found")
	_, err = e.svc.Revoke(rvCtx, rvReviewerA, ent.ID, certsvc.RevokeInput{Type: domain.CertWeCom, Reason: "x", Severity: "minor"})
	wantCode(t, err, "forbidden")
	_, err = e.svc.Cancel(rvCtx, rvApplicant, ent.ID, certsvc.CancelInput{Type: domain.CertMiniProgram})
	wantCode(t, err, "not_found")
	_, err = e.svc.Cancel(rvCtx, rvApplicant, ent.ID, certsvc.CancelInput{Type: "bogus"})
	wantCode(t, err, "not_found")
}

func TestReviewRequestChangesLimit(t *testing.T) {
	e := newRvEnv(t, rvBeijing(2026, 11, 26, 10, 0), func(r *domain.Rules) { r.MaxChangeRequests = 1 })
	ent := e.enterprise()
	c := e.submitted(ent.ID, domain.KindInitial, domain.CertWeCom)

	_, err := e.svc.Decide(rvCtx, rvReviewerA, c.ID, certsvc.DecisionInput{Decision: domain.DecisionRequestChanges,
		Reasons: []string{domain.ReasonDocumentUnclear}, Version: c.Version})
	wantCode(t, err, "redo_required")
	_, err = e.svc.Decide(rvCtx, rvReviewerA, c.ID, certsvc.DecisionInput{Decision: domain.DecisionRequestChanges,
		Reasons: []string{"no_such_reason"}, Version: c.Version,
		Redo: []certsvc.RedoInput{{Requirement: string(domain.DocBusinessLicense), Reason: domain.ReasonDocumentUnclear}}})
	wantCode(t, err, "unknown_reason")

	res := e.decide(rvReviewerA, c.ID, domain.DecisionRequestChanges, e.claim(rvReviewerA, c.ID),
		domain.ReasonAddressMismatch, domain.ReasonDocumentUnclear)
	if res.View.Case.Status != domain.CaseChangesRequested || res.View.Case.ChangeRequests != 1 {
		t.Fatalf("after request_changes: %+v", res.View.Case)
	}
	notes, _, _ := e.st.ListNotifications(rvCtx, ent.ID, domain.Page{Limit: 10})
	if len(notes) != 1 {
		t.Fatalf("notifications = %+v", notes)
	}
	addr, _ := domain.ReasonFor(domain.ReasonAddressMismatch)
	if !contains(notes[0].Body.Zh, addr.Text.Zh) || !contains(notes[0].Body.En, addr.Text.En) {
		t.Errorf("notification does not explain the reason: %+v", notes[0].Body)
	}

	// Resubmitted (as the applicant's submit would), then only approve or
	// reject remain.
	cur, _ := e.st.GetCase(rvCtx, c.ID)
	next := *cur
	h, err := next.Submit(rvApplicant, e.clock.Now(), e.rules, domain.BuiltinCalendar())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.Commit(rvCtx, &domain.Change{Cases: []domain.CaseWrite{domain.UpdateCase(cur, &next)},
		History: []domain.HistoryRecord{{CaseID: c.ID, Entry: h}}}); err != nil {
		t.Fatal(err)
	}
	v := e.claim(rvReviewerA, c.ID)
	_, err = e.svc.Decide(rvCtx, rvReviewerA, c.ID, certsvc.DecisionInput{Decision: domain.DecisionRequestChanges,
		Reasons: []string{domain.ReasonDocumentUnclear}, Version: v,
		Redo: []certsvc.RedoInput{{Requirement: string(domain.DocBusinessLicense), Reason: domain.ReasonDocumentUnclear}}})
	wantCode(t, err, "change_requests_exhausted")
	res = e.decide(rvReviewerA, c.ID, domain.DecisionReject, v, domain.ReasonDocumentUnclear)
	if res.View.Case.Status != domain.CaseRejected {
		t.Fatalf("after reject: %+v", res.View.Case)
	}
	// Rejected is final.
	_, err = e.svc.Claim(rvCtx, rvReviewerA, c.ID)
	wantCode(t, err, "invalid_transition")
	_, err = e.svc.Decide(rvCtx, rvReviewerA, c.ID, certsvc.DecisionInput{Decision: domain.DecisionApprove, Version: res.View.Case.Version})
	wantCode(t, err, "invalid_transition")
	if _, err := e.st.GetCertification(rvCtx, ent.ID, domain.CertWeCom); domain.CodeOf(err) != "not_found" {
		t.Errorf("a rejected case made a certification: %v", err)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestReviewAnnualReviewExtendsFromOldExpiry(t *testing.T) {
	e := newRvEnv(t, rvBeijing(2026, 3, 10, 15, 0), nil)
	ent := e.enterprise()
	e.approve(e.submitted(ent.ID, domain.KindInitial, domain.CertMiniProgram).ID)
	first := e.cert(ent.ID, domain.CertMiniProgram)
	if want := time.Date(2027, 3, 10, 23, 59, 59, 0, domain.Beijing()); !first.ExpiresAt.Equal(want) {
		t.Fatalf("initial expiry %v, want %v", first.ExpiresAt, want)
	}

	// Too early: the annual review opens 3 months before expiry.
	e.clock.Set(rvBeijing(2026, 11, 26, 10, 0))
	_, err := e.svc.OpenCase(rvCtx, rvApplicant, certsvc.CaseInput{EnterpriseID: ent.ID, Kind: domain.KindAnnualReview,
		Types: []domain.CertType{domain.CertMiniProgram}})
	wantCode(t, err, "annual_review_not_open")

	e.clock.Set(rvBeijing(2027, 1, 15, 9, 30))
	e.approve(e.submitted(ent.ID, domain.KindAnnualReview, domain.CertMiniProgram).ID)
	renewed := e.cert(ent.ID, domain.CertMiniProgram)
	if want := time.Date(2028, 3, 10, 23, 59, 59, 0, domain.Beijing()); !renewed.ExpiresAt.Equal(want) {
		t.Errorf("renewed expiry %v, want %v (one year from the old expiry, not from today)", renewed.ExpiresAt, want)
	}
	if renewed.Version != domain.NextVersion(first.Version) || renewed.Cycle != first.Cycle+1 || renewed.Status != domain.CertActive {
		t.Errorf("renewed = %+v", renewed)
	}
}

func TestReviewReinstatementOfLapsed(t *testing.T) {
	e := newRvEnv(t, rvBeijing(2026, 3, 10, 15, 0), nil)
	ent := e.enterprise()
	e.approve(e.submitted(ent.ID, domain.KindInitial, domain.CertWeCom).ID)

	// 31 days after expiry the certification has lapsed (even before the
	// daily job wrote it): no capabilities, no cancel, and only a
	// reinstatement brings it back.
	e.clock.Set(rvBeijing(2027, 4, 12, 10, 0))
	cert := e.cert(ent.ID, domain.CertWeCom)
	if got := cert.EffectiveStatus(e.clock.Now(), e.rules); got != domain.CertLapsed {
		t.Fatalf("effective status %s, want lapsed", got)
	}
	if caps := domain.CapabilitiesFor(&cert, e.clock.Now(), domain.DefaultRules); caps.Certified {
		t.Fatalf("lapsed capabilities = %+v", caps)
	}
	_, err := e.svc.Cancel(rvCtx, rvApplicant, ent.ID, certsvc.CancelInput{Type: domain.CertWeCom})
	wantCode(t, err, "invalid_transition")
	_, err = e.svc.OpenCase(rvCtx, rvApplicant, certsvc.CaseInput{EnterpriseID: ent.ID, Kind: domain.KindAppeal,
		Types: []domain.CertType{domain.CertWeCom}})
	wantCode(t, err, "not_revoked")

	v, err := e.svc.OpenCase(rvCtx, rvApplicant, certsvc.CaseInput{EnterpriseID: ent.ID, Kind: domain.KindReinstatement,
		Types: []domain.CertType{domain.CertWeCom}})
	if err != nil {
		t.Fatal(err)
	}
	if v.Case.Fee.AmountFen != 30000 || !hasStr(v.Requirements.CurrentlyDue, domain.ReqPayment) || !hasStr(v.Requirements.CurrentlyDue, string(domain.DocBusinessLicense)) {
		t.Fatalf("reinstatement needs the annual fee and the materials: fee %+v, due %v", v.Case.Fee, v.Requirements.CurrentlyDue)
	}
	// One open case per type: this one is withdrawn before the next.
	if _, err := e.svc.Withdraw(rvCtx, rvApplicant, v.Case.ID); err != nil {
		t.Fatal(err)
	}
	e.approve(e.submitted(ent.ID, domain.KindReinstatement, domain.CertWeCom).ID)
	back := e.cert(ent.ID, domain.CertWeCom)
	if want := time.Date(2028, 4, 12, 23, 59, 59, 0, domain.Beijing()); back.Status != domain.CertActive || !back.ExpiresAt.Equal(want) {
		t.Errorf("reinstated = %+v, want active until %v", back, want)
	}
}

func hasStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestReviewRevokeAppealReinstates(t *testing.T) {
	e := newRvEnv(t, rvBeijing(2026, 11, 26, 10, 0), nil)
	ent := e.enterprise()
	e.approve(e.submitted(ent.ID, domain.KindInitial, domain.CertOfficialAccount).ID)
	original := e.cert(ent.ID, domain.CertOfficialAccount)

	e.clock.Advance(48 * time.Hour)
	_, err := e.svc.Revoke(rvCtx, rvAdmin, ent.ID, certsvc.RevokeInput{Type: domain.CertOfficialAccount, Reason: "虚假宣传", Severity: "critical"})
	wantCode(t, err, "invalid_severity")
	_, err = e.svc.Revoke(rvCtx, rvAdmin, ent.ID, certsvc.RevokeInput{Type: domain.CertOfficialAccount, Reason: " ", Severity: domain.SeverityMinor})
	wantCode(t, err, "reason_required")
	v, err := e.svc.Revoke(rvCtx, rvAdmin, ent.ID, certsvc.RevokeInput{Type: domain.CertOfficialAccount, Reason: "虚假宣传", Severity: domain.SeverityMinor})
	if err != nil {
		t.Fatal(err)
	}
	if c := v.Certifications[0]; c.Status != domain.CertRevoked || c.Severity != domain.SeverityMinor || c.RevokedReason != "虚假宣传" {
		t.Fatalf("revoked = %+v", c)
	}
	revoked := e.cert(ent.ID, domain.CertOfficialAccount)
	if caps := domain.CapabilitiesFor(&revoked, e.clock.Now(), domain.DefaultRules); caps.Certified || caps.Payments != domain.PaymentsNone {
		t.Fatalf("revoked capabilities = %+v", caps)
	}
	_, err = e.svc.OpenCase(rvCtx, rvApplicant, certsvc.CaseInput{EnterpriseID: ent.ID, Kind: domain.KindInitial,
		Types: []domain.CertType{domain.CertOfficialAccount}})
	wantCode(t, err, "certification_revoked")

	appeal, err := e.svc.OpenCase(rvCtx, rvApplicant, certsvc.CaseInput{EnterpriseID: ent.ID, Kind: domain.KindAppeal,
		Types: []domain.CertType{domain.CertOfficialAccount}})
	if err != nil {
		t.Fatal(err)
	}
	due := appeal.Requirements.CurrentlyDue
	if appeal.Case.Fee.PayableFen != 0 || !hasStr(due, string(domain.DocRectificationProof)) || !hasStr(due, domain.ReqExplanation) || hasStr(due, domain.ReqPayment) {
		t.Fatalf("appeal: fee %+v, due %v", appeal.Case.Fee, due)
	}
	if _, err := e.svc.Withdraw(rvCtx, rvApplicant, appeal.Case.ID); err != nil {
		t.Fatal(err)
	}

	e.clock.Advance(72 * time.Hour)
	e.approve(e.submitted(ent.ID, domain.KindAppeal, domain.CertOfficialAccount).ID)
	back := e.cert(ent.ID, domain.CertOfficialAccount)
	if back.Status != domain.CertActive || !back.ExpiresAt.Equal(original.ExpiresAt) || back.RevokedReason != "" || back.Cycle != original.Cycle {
		t.Errorf("after appeal = %+v, want active with the original expiry %v", back, original.ExpiresAt)
	}
	notes, _, _ := e.st.ListNotifications(rvCtx, ent.ID, domain.Page{Limit: 10})
	kinds := map[string]int{}
	for _, n := range notes {
		kinds[n.Kind]++
	}
	if kinds[domain.NoticeRevoked] != 1 || kinds[domain.NoticeDecision] != 2 {
		t.Errorf("notifications by kind = %v", kinds)
	}
}

func TestReviewCancel(t *testing.T) {
	e := newRvEnv(t, rvBeijing(2026, 11, 26, 10, 0), nil)
	ent := e.enterprise()
	e.approve(e.submitted(ent.ID, domain.KindInitial, domain.CertWeCom).ID)

	// Past expiry (overdue, not yet written by the job) it can still be
	// cancelled; the history shows both moves.
	e.clock.Set(rvBeijing(2027, 11, 28, 10, 0))
	v, err := e.svc.Cancel(rvCtx, rvApplicant, ent.ID, certsvc.CancelInput{Type: domain.CertWeCom, Reason: "业务调整"})
	if err != nil {
		t.Fatal(err)
	}
	if v.Certifications[0].Status != domain.CertCancelled {
		t.Fatalf("cancel = %+v", v.Certifications)
	}
	_, err = e.svc.Cancel(rvCtx, rvApplicant, ent.ID, certsvc.CancelInput{Type: domain.CertWeCom})
	wantCode(t, err, "invalid_transition")

	// A new initial application with full materials brings it back.
	e.approve(e.submitted(ent.ID, domain.KindInitial, domain.CertWeCom).ID)
	if c := e.cert(ent.ID, domain.CertWeCom); c.Status != domain.CertActive {
		t.Fatalf("after a new initial case: %+v", c)
	}
}

func TestReviewRacingDecisions(t *testing.T) {
	e := newRvEnv(t, rvBeijing(2026, 11, 26, 10, 0), nil)
	ent := e.enterprise()
	c := e.submitted(ent.ID, domain.KindInitial, domain.CertWeCom)
	v := e.claim(rvReviewerA, c.ID)

	decisions := []domain.DecisionKind{domain.DecisionApprove, domain.DecisionReject}
	errs := make([]error, len(decisions))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, d := range decisions {
		wg.Go(func() {
			<-start
			reasons := []string(nil)
			if d != domain.DecisionApprove {
				reasons = []string{domain.ReasonInfoInconsistent}
			}
			_, errs[i] = e.svc.Decide(rvCtx, rvReviewerA, c.ID, certsvc.DecisionInput{Decision: d, Reasons: reasons, Version: v})
		})
	}
	close(start)
	wg.Wait()
	var wins, conflicts int
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case domain.IsKind(err, domain.KindConflict):
			conflicts++
		default:
			t.Errorf("unexpected error %v", err)
		}
	}
	if wins != 1 || conflicts != 1 {
		t.Fatalf("wins %d conflicts %d (%v)", wins, conflicts, errs)
	}
	b, _ := e.st.GetCaseBundle(rvCtx, c.ID)
	n := 0
	for _, h := range b.History {
		if h.Subject == "case" && h.From == string(domain.CaseInReview) && (h.To == string(domain.CaseApproved) || h.To == string(domain.CaseRejected)) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("decision history entries = %d, want 1", n)
	}
	notes, _, _ := e.st.ListNotifications(rvCtx, ent.ID, domain.Page{Limit: 10})
	if len(notes) != 1 {
		t.Fatalf("notifications = %d, want 1", len(notes))
	}
}
