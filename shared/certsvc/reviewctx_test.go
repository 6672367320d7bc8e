package certsvc_test

import (
	"testing"
	"time"

	"microcert/shared/certsvc"
	"microcert/shared/domain"
)

func TestRevealLegalRep(t *testing.T) {
	e := newRvEnv(t, rvBeijing(2026, 11, 26, 10, 0), nil)
	ent := e.enterprise()
	c := e.submitted(ent.ID, domain.KindInitial, domain.CertWeCom)

	_, err := e.svc.RevealLegalRep(rvCtx, rvApplicant, c.ID)
	wantCode(t, err, "forbidden")
	_, err = e.svc.RevealLegalRep(rvCtx, rvReviewerA, "not-an-id")
	wantCode(t, err, "not_found")
	_, err = e.svc.RevealLegalRep(rvCtx, rvReviewerA, domain.NewID())
	wantCode(t, err, "not_found")
	_, err = e.svc.RevealLegalRep(rvCtx, rvReviewerA, c.ID)
	wantCode(t, err, "claim_required")

	e.claim(rvReviewerA, c.ID)
	_, err = e.svc.RevealLegalRep(rvCtx, rvReviewerB, c.ID)
	wantCode(t, err, "case_claimed")

	got, err := e.svc.RevealLegalRep(rvCtx, rvReviewerA, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.LegalRep != ent.LegalRep || got.CaseID != c.ID || got.EnterpriseID != ent.ID || !got.RevealedAt.Equal(e.clock.Now()) {
		t.Fatalf("reveal = %+v, want %+v", got, ent.LegalRep)
	}

	// The claim ran out: no more reveals until it is claimed again.
	e.clock.Advance(e.rules.ClaimTTL + time.Second)
	_, err = e.svc.RevealLegalRep(rvCtx, rvReviewerA, c.ID)
	wantCode(t, err, "claim_required")

	audits, err := e.st.ListAudit(rvCtx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(audits) != 1 || audits[0].Action != "legal_rep.reveal" || audits[0].ActorID != rvReviewerA.UserID ||
		audits[0].Role != domain.RoleReviewer || audits[0].CaseID != c.ID {
		t.Fatalf("audits = %+v, want the one successful reveal", audits)
	}

	// A reviewer never reveals on a case of their own enterprise.
	own, err := e.svc.CreateEnterprise(rvCtx, rvReviewerB, certsvc.EnterpriseInput{
		Name: "深圳市自营测试有限公司", USCC: domain.SampleUSCC(int(time.Now().UnixNano() % 1e6)),
		LegalRep:          domain.LegalRep{Name: "王五", IDNumber: domain.SampleIDNumber(99), Phone: "13912345678"},
		RegisteredAddress: "深圳市南山区科技园路1号", OperatingAddress: "深圳市南山区科技园路1号", HasCorporateAccount: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	ownCase, err := e.svc.OpenCase(rvCtx, rvReviewerB, certsvc.CaseInput{EnterpriseID: own.ID, Kind: domain.KindInitial,
		Types: []domain.CertType{domain.CertWeCom}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.RevealLegalRep(rvCtx, rvReviewerB, ownCase.Case.ID)
	wantCode(t, err, "own_case")
}

// An appeal's reviewer sees the revocation under appeal and the earlier
// violations; the applicant sees neither.
func TestAppealViewShowsViolations(t *testing.T) {
	e := newRvEnv(t, rvBeijing(2026, 11, 26, 10, 0), nil)
	ent := e.enterprise()
	e.approve(e.submitted(ent.ID, domain.KindInitial, domain.CertWeCom, domain.CertOfficialAccount).ID)

	revoke := func(ty domain.CertType, severity, reason string) time.Time {
		t.Helper()
		e.clock.Advance(24 * time.Hour)
		if _, err := e.svc.Revoke(rvCtx, rvAdmin, ent.ID, certsvc.RevokeInput{Type: ty, Reason: reason, Severity: severity}); err != nil {
			t.Fatal(err)
		}
		return e.clock.Now()
	}
	first := revoke(domain.CertOfficialAccount, domain.SeverityMinor, "标题夸大")
	e.clock.Advance(24 * time.Hour)
	e.approve(e.submitted(ent.ID, domain.KindAppeal, domain.CertOfficialAccount).ID) // overturned
	wecom := revoke(domain.CertWeCom, domain.SeverityMajor, "冒用他人资质")
	second := revoke(domain.CertOfficialAccount, domain.SeverityMajor, "虚假宣传")

	e.clock.Advance(time.Hour)
	appeal := e.submitted(ent.ID, domain.KindAppeal, domain.CertOfficialAccount)

	v, err := e.svc.GetCase(rvCtx, rvReviewerA, appeal.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := &domain.AppealContext{
		Revocations: []domain.Violation{{Type: domain.CertOfficialAccount, Reason: "虚假宣传", Severity: domain.SeverityMajor, RevokedAt: second}},
		EarlierViolations: []domain.Violation{
			{Type: domain.CertWeCom, Reason: "冒用他人资质", Severity: domain.SeverityMajor, RevokedAt: wecom},
			{Type: domain.CertOfficialAccount, Reason: "标题夸大", Severity: domain.SeverityMinor, RevokedAt: first, Overturned: true},
		},
	}
	if v.Appeal == nil || len(v.Appeal.Revocations) != 1 || len(v.Appeal.EarlierViolations) != 2 {
		t.Fatalf("appeal context = %+v", v.Appeal)
	}
	for i, got := range append(v.Appeal.Revocations, v.Appeal.EarlierViolations...) {
		w := append(want.Revocations, want.EarlierViolations...)[i]
		if got.Type != w.Type || got.Reason != w.Reason || got.Severity != w.Severity || !got.RevokedAt.Equal(w.RevokedAt) || got.Overturned != w.Overturned {
			t.Errorf("violation %d = %+v, want %+v", i, got, w)
		}
	}
	claimed, err := e.svc.Claim(rvCtx, rvReviewerA, appeal.ID)
	if err != nil || claimed.Appeal == nil || len(claimed.Appeal.Revocations) != 1 {
		t.Fatalf("claim view: %v %+v", err, claimed)
	}

	mine, err := e.svc.GetCase(rvCtx, rvApplicant, appeal.ID)
	if err != nil {
		t.Fatal(err)
	}
	if mine.Appeal != nil {
		t.Fatalf("the applicant sees the reviewer's appeal context: %+v", mine.Appeal)
	}
}
