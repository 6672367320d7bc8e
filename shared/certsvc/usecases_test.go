package certsvc_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"microcert/shared/certsvc"
	"microcert/shared/domain"
	"microcert/shared/httpapi/apitest"
)

// The applicant's use cases (enterprises, cases, documents, verifications,
// the micro-deposit, the fee) on the harness: the real store on the
// DynamoDB stand-in, the in-memory bucket and a fake clock. What the HTTP
// layer adds is in shared/httpapi's route tests; these hold the use cases'
// own rules.

var (
	ucOwner    = domain.Actor{UserID: apitest.Owner.User, Roles: []domain.Role{domain.RoleApplicant}}
	ucReviewer = domain.Actor{UserID: apitest.Checker.User, Roles: []domain.Role{domain.RoleReviewer}}
)

var ctx = context.Background()

func enterpriseInput(n int) certsvc.EnterpriseInput {
	return certsvc.EnterpriseInput{
		Name: apitest.CompanyName, USCC: domain.SampleUSCC(n),
		LegalRep:          domain.LegalRep{Name: "张三", IDNumber: domain.SampleIDNumber(n), Phone: "13812345678"},
		RegisteredAddress: "广东省深圳市南山区科技园路1号", OperatingAddress: "广东省深圳市南山区科技园路1号",
		HasCorporateAccount: true,
	}
}

// must(call())(t) is call's value, or the test stops with its error.
func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func TestCreateEnterpriseNormalizes(t *testing.T) {
	e := apitest.New(t)
	in := enterpriseInput(1)
	in.USCC = " " + strings.ToLower(in.USCC) + " "
	in.LegalRep.IDNumber = strings.ToLower(in.LegalRep.IDNumber)
	in.LegalRep.Phone = "+86 138-1234-5678"
	in.Name = "  " + in.Name + "  "
	got := must(e.Service.CreateEnterprise(ctx, ucOwner, in))(t)
	want := enterpriseInput(1)
	if got.USCC != want.USCC || got.LegalRep.IDNumber != want.LegalRep.IDNumber || got.LegalRep.Phone != "13812345678" ||
		got.Name != want.Name || got.OwnerID != ucOwner.UserID || got.Version != 1 {
		t.Errorf("stored %+v", got)
	}

	// The same USCC again, even by someone else, is taken.
	_, err := e.Service.CreateEnterprise(ctx, domain.Actor{UserID: "other", Roles: ucOwner.Roles}, enterpriseInput(1))
	wantCode(t, err, "enterprise_exists")

	// Every invalid field is reported at once.
	bad := enterpriseInput(2)
	bad.LegalRep.Phone, bad.Name = "12", " "
	_, err = e.Service.CreateEnterprise(ctx, ucOwner, bad)
	var de *domain.Error
	if !asDomain(err, &de) || len(de.Fields) != 2 {
		t.Fatalf("two invalid fields: %v", err)
	}
}

func asDomain(err error, target **domain.Error) bool {
	e, ok := err.(*domain.Error)
	if ok {
		*target = e
	}
	return ok
}

func TestPatchEnterprise(t *testing.T) {
	e := apitest.New(t)
	ent := must(e.Service.CreateEnterprise(ctx, ucOwner, enterpriseInput(3)))(t)
	addr := "广东省深圳市福田区深南大道2号"

	// Without a version the patch applies to whatever is current.
	v := must(e.Service.PatchEnterprise(ctx, ucOwner, ent.ID, certsvc.EnterprisePatch{OperatingAddress: &addr}))(t)
	if v.Enterprise.OperatingAddress != addr || v.Enterprise.Version != 2 {
		t.Fatalf("after patch: %+v", v.Enterprise)
	}
	// With a stale one it is refused, saying which version is current.
	stale := 1
	_, err := e.Service.PatchEnterprise(ctx, ucOwner, ent.ID, certsvc.EnterprisePatch{OperatingAddress: &addr, Version: &stale})
	wantCode(t, err, "version_conflict")
	if cur, _ := err.(*domain.Error).Detail("currentVersion"); cur != 2 {
		t.Errorf("currentVersion %v, want 2", cur)
	}
	// Others see nothing; reviewers may not edit.
	_, err = e.Service.PatchEnterprise(ctx, domain.Actor{UserID: "other", Roles: ucOwner.Roles}, ent.ID, certsvc.EnterprisePatch{OperatingAddress: &addr})
	wantCode(t, err, "not_found")
	_, err = e.Service.PatchEnterprise(ctx, ucReviewer, ent.ID, certsvc.EnterprisePatch{OperatingAddress: &addr})
	wantCode(t, err, "forbidden")
}

// A passed face check is bound to the legal representative it verified:
// once the profile names another one, the case needs the check again.
func TestLegalRepChangeUndoesTheFaceCheck(t *testing.T) {
	e := apitest.New(t)
	entID := e.NewEnterprise(apitest.Owner)
	caseID := e.OpenCase(apitest.Owner, entID, "wecom")
	e.PassFace(apitest.Owner, caseID, "POST /v1/cases/{caseId}/face-verification")
	if due := e.CurrentlyDue(apitest.Owner, caseID); slices.Contains(due, domain.ReqFaceVerification) {
		t.Fatalf("face still due after passing: %v", due)
	}
	name, id := "李四", domain.SampleIDNumber(99)
	must(e.Service.PatchEnterprise(ctx, ucOwner, entID, certsvc.EnterprisePatch{LegalRepName: &name, LegalRepIDNumber: &id}))(t)
	if due := e.CurrentlyDue(apitest.Owner, caseID); !slices.Contains(due, domain.ReqFaceVerification) {
		t.Errorf("after a new legal rep: due %v, want face_verification again", due)
	}
}

func TestOpenCaseFeeAndSlots(t *testing.T) {
	e := apitest.New(t)
	ent := must(e.Service.CreateEnterprise(ctx, ucOwner, enterpriseInput(4)))(t)
	elsewhere := enterpriseInput(5)
	elsewhere.USCC = domain.SampleUSCCIn("110105", 5)
	far := must(e.Service.CreateEnterprise(ctx, ucOwner, elsewhere))(t)

	tests := []struct {
		name    string
		ent     string
		kind    domain.CaseKind
		types   []domain.CertType
		payable int64
		code    string
	}{
		{"Shenzhen: half the fee, one fee for two types", ent.ID, domain.KindInitial,
			[]domain.CertType{domain.CertWeCom, domain.CertOfficialAccount}, 15000, ""},
		{"a type already in an open case", ent.ID, domain.KindInitial, []domain.CertType{domain.CertWeCom}, 0, "case_already_open"},
		{"another type is free", ent.ID, domain.KindInitial, []domain.CertType{domain.CertMiniProgram}, 15000, ""},
		{"Beijing: the list price", far.ID, domain.KindInitial, []domain.CertType{domain.CertWeCom}, 30000, ""},
	}
	var first string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := e.Service.OpenCase(ctx, ucOwner, certsvc.CaseInput{EnterpriseID: tt.ent, Kind: tt.kind, Types: tt.types})
			if tt.code != "" {
				wantCode(t, err, tt.code)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v.Case.Fee.PayableFen != tt.payable || v.Case.Status != domain.CaseDraft || v.Case.OpenedBy != ucOwner.UserID {
				t.Errorf("case %+v, fee %+v", v.Case, v.Case.Fee)
			}
			if first == "" {
				first = v.Case.ID
			}
		})
	}
	// Withdrawing the first case frees its types.
	must(e.Service.Withdraw(ctx, ucOwner, first))(t)
	must(e.Service.OpenCase(ctx, ucOwner, certsvc.CaseInput{EnterpriseID: ent.ID, Kind: domain.KindInitial,
		Types: []domain.CertType{domain.CertWeCom}}))(t)
}

func TestSubmit(t *testing.T) {
	// Submitted on Thursday 2026-09-24: the 5th working day after is
	// Friday 2026-10-09 (the National Day holiday and its make-up days in
	// between).
	e := apitest.New(t, apitest.At(time.Date(2026, 9, 24, 2, 0, 0, 0, time.UTC)))
	entID := e.NewEnterprise(apitest.Owner)
	caseID := e.OpenCase(apitest.Owner, entID, "wecom")

	_, err := e.Service.Submit(ctx, ucOwner, caseID)
	wantCode(t, err, "requirements_unmet")
	if de := err.(*domain.Error); de.Requirements == nil || len(de.Requirements.CurrentlyDue) == 0 {
		t.Errorf("requirements_unmet without the requirements: %+v", de)
	}

	e.Fulfil(apitest.Owner, caseID)
	v := must(e.Service.Submit(ctx, ucOwner, caseID))(t)
	want := time.Date(2026, 10, 9, 23, 59, 59, 0, domain.Beijing())
	if v.Case.Status != domain.CaseSubmitted || v.Case.ReviewDueAt == nil || !v.Case.ReviewDueAt.Equal(want) {
		t.Errorf("submitted: status %s, review due %v, want %v", v.Case.Status, v.Case.ReviewDueAt, want)
	}
	// A retried submit is answered with the case as it is.
	again := must(e.Service.Submit(ctx, ucOwner, caseID))(t)
	if again.Case.Version != v.Case.Version {
		t.Errorf("a second submit wrote: version %d -> %d", v.Case.Version, again.Case.Version)
	}
}

// A paid case withdrawn before any reviewer touched it is due a refund;
// one a reviewer claimed is not.
func TestWithdrawRefund(t *testing.T) {
	e := apitest.New(t)
	_, untouched := e.SubmittedCase(apitest.Owner)
	_, claimed := e.SubmittedCase(apitest.Owner)
	must(e.Service.Claim(ctx, ucReviewer, claimed))(t)
	for _, tt := range []struct {
		caseID string
		refund bool
	}{{untouched, true}, {claimed, false}} {
		v := must(e.Service.Withdraw(ctx, ucOwner, tt.caseID))(t)
		if v.Case.Status != domain.CaseWithdrawn || (len(v.Refunds) == 1) != tt.refund {
			t.Errorf("withdrawn case: status %s refunds %v, want a refund: %v", v.Case.Status, v.Refunds, tt.refund)
		}
		if tt.refund && (v.Refunds[0].Reason != domain.RefundWithdrawn || v.Refunds[0].AmountFen != v.Case.Fee.PayableFen) {
			t.Errorf("refund %+v", v.Refunds[0])
		}
	}
}

// The presigned POST pins the key, the content type and the document
// type's size limit; the uploads of one type are bounded.
func TestRequestUpload(t *testing.T) {
	e := apitest.New(t)
	caseID := e.OpenCase(apitest.Owner, e.NewEnterprise(apitest.Owner), "wecom")
	in := certsvc.UploadInput{DocType: domain.DocBusinessLicense, ContentType: "IMAGE/JPEG", ContentLength: 5000}
	up := must(e.Service.RequestUpload(ctx, ucOwner, caseID, in))(t)
	wantKey := domain.UploadPrefix + caseID + "/" + up.Document.ID
	if up.Post.Fields["key"] != wantKey || up.Post.Fields["Content-Type"] != "image/jpeg" || up.MaxBytes != 10<<20 ||
		up.Document.Status != domain.DocPending {
		t.Errorf("upload %+v, document %+v", up.Post, up.Document)
	}
	if err := e.Bucket.Post(up.Post, make([]byte, up.MaxBytes+1)); err == nil {
		t.Error("the bucket took a file over the type's limit")
	}
	for range 9 {
		must(e.Service.RequestUpload(ctx, ucOwner, caseID, in))(t)
	}
	_, err := e.Service.RequestUpload(ctx, ucOwner, caseID, in)
	wantCode(t, err, "too_many_documents")
}

// Every download is written to the case's audit trail before the link is
// handed out.
func TestDownloadIsAudited(t *testing.T) {
	e := apitest.New(t)
	caseID := e.OpenCase(apitest.Owner, e.NewEnterprise(apitest.Owner), "wecom")
	docID := e.Upload(apitest.Owner, caseID, domain.DocBusinessLicense, nil)
	d := must(e.Service.DownloadDocument(ctx, ucReviewer, docID))(t)
	if d.Document.ID != docID || !d.ExpiresAt.After(e.Clock.Now()) {
		t.Errorf("download %+v", d)
	}
	audits := must(e.Store.ListAudit(ctx, caseID))(t)
	if len(audits) != 1 || audits[0].ActorID != ucReviewer.UserID || audits[0].DocumentID != docID {
		t.Errorf("audits %+v", audits)
	}
}

func TestMicroDeposit(t *testing.T) {
	e := apitest.New(t)
	entID := e.NewEnterprise(apitest.Owner)
	caseID := e.OpenCase(apitest.Owner, entID, "official_account")
	bank := certsvc.BankInput{BankName: "招商银行深圳分行", AccountName: apitest.CompanyName, AccountNumber: "7559 1234 5678 901"}

	d := must(e.Service.StartDeposit(ctx, ucOwner, caseID, bank))(t)
	paid := e.DepositPaid(caseID)
	if paid < e.Rules.DepositMinFen || paid > e.Rules.DepositMaxFen {
		t.Fatalf("paid %d fen, outside %d..%d", paid, e.Rules.DepositMinFen, e.Rules.DepositMaxFen)
	}
	if d.AccountLast4 != "8901" || d.AttemptsLeft != e.Rules.DepositAttempts || d.AmountMAC == "" {
		t.Errorf("deposit %+v", d)
	}
	_, err := e.Service.StartDeposit(ctx, ucOwner, caseID, bank)
	wantCode(t, err, "verification_pending")

	// Wrong amounts count down, then lock (with the cool-down's end).
	wrong := paid%e.Rules.DepositMaxFen + 1
	for left := e.Rules.DepositAttempts - 1; left > 0; left-- {
		_, err := e.Service.ConfirmDeposit(ctx, ucOwner, caseID, wrong)
		wantCode(t, err, "wrong_amount")
		if got, _ := err.(*domain.Error).Detail("attemptsLeft"); got != left {
			t.Errorf("attemptsLeft %v, want %d", got, left)
		}
	}
	_, err = e.Service.ConfirmDeposit(ctx, ucOwner, caseID, wrong)
	wantCode(t, err, "verification_locked")
	if _, ok := err.(*domain.Error).Detail("nextDepositAt"); !ok {
		t.Error("a lock without nextDepositAt")
	}
	// Even the right amount is refused now, and no new deposit starts
	// during the cool-down.
	_, err = e.Service.ConfirmDeposit(ctx, ucOwner, caseID, paid)
	wantCode(t, err, "verification_locked")
	_, err = e.Service.StartDeposit(ctx, ucOwner, caseID, bank)
	wantCode(t, err, "deposit_limit_reached")

	// Another enterprise (no cool-down there): the right amount verifies.
	other := e.OpenCase(apitest.Owner, e.NewEnterprise(apitest.Owner), "official_account")
	must(e.Service.StartDeposit(ctx, ucOwner, other, bank))(t)
	v := must(e.Service.ConfirmDeposit(ctx, ucOwner, other, e.DepositPaid(other)))(t)
	if v.Status != domain.DepositVerified || v.VerifiedAt == nil {
		t.Errorf("after the right amount: %+v", v)
	}
}

func TestPaymentOrder(t *testing.T) {
	e := apitest.New(t)
	caseID := e.OpenCase(apitest.Owner, e.NewEnterprise(apitest.Owner), "wecom")
	first, fee := mustPay(t, e, caseID)
	again, _ := mustPay(t, e, caseID)
	if again.OrderID != first.OrderID || first.AmountFen != fee.PayableFen {
		t.Fatalf("orders %s, %s; amount %d, payable %d", first.OrderID, again.OrderID, first.AmountFen, fee.PayableFen)
	}
	// A failed payment lets the applicant ask for a new order.
	p := must(e.Service.RecordPayment(ctx, certsvc.PaymentResult{OrderID: first.OrderID, Status: "failed"}))(t)
	if p.Status != "failed" || len(p.Refunds) != 0 {
		t.Fatalf("after a failure: %+v", p)
	}
	next, _ := mustPay(t, e, caseID)
	if next.OrderID == first.OrderID {
		t.Fatal("no new order after a failed payment")
	}
	paid := must(e.Service.RecordPayment(ctx, certsvc.PaymentResult{OrderID: next.OrderID, Status: "paid", PaidFen: next.AmountFen}))(t)
	before := must(e.Store.GetCase(ctx, caseID))(t)
	// The provider's retry of the same callback changes nothing.
	replay := must(e.Service.RecordPayment(ctx, certsvc.PaymentResult{OrderID: next.OrderID, Status: "paid", PaidFen: next.AmountFen}))(t)
	after := must(e.Store.GetCase(ctx, caseID))(t)
	if paid.Status != "paid" || replay.Status != "paid" || len(replay.Refunds) != 0 || after.Version != before.Version ||
		after.Payment.Status != domain.PaymentPaid || after.Money.KeptFen != next.AmountFen {
		t.Errorf("paid %+v, replay %+v, case %+v", paid, replay, after)
	}
	_, _, err := e.Service.CreatePayment(ctx, ucOwner, caseID)
	wantCode(t, err, "already_paid")
}

func mustPay(t *testing.T, e *apitest.Env, caseID string) (*domain.Payment, *domain.Fee) {
	t.Helper()
	p, fee, err := e.Service.CreatePayment(ctx, ucOwner, caseID)
	if err != nil {
		t.Fatal(err)
	}
	return p, fee
}

func TestFaceResult(t *testing.T) {
	e := apitest.New(t)
	caseID := e.OpenCase(apitest.Owner, e.NewEnterprise(apitest.Owner), "wecom")
	start := func() string {
		return must(e.Service.StartVerification(ctx, ucOwner, caseID, domain.VerifyFace))(t).SessionID
	}
	tests := []struct {
		name   string
		result certsvc.FaceResult
		want   domain.VerificationStatus
	}{
		{"a pass whose phone is not the registered one fails", certsvc.FaceResult{Result: "pass", PhoneMatchesRegistration: false}, domain.VerificationFailed},
		{"a fail fails", certsvc.FaceResult{Result: "fail", PhoneMatchesRegistration: true}, domain.VerificationFailed},
		{"a pass with the registered phone passes", certsvc.FaceResult{Result: "pass", PhoneMatchesRegistration: true, LivenessScore: 0.99}, domain.VerificationPassed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.result
			r.SessionID = start()
			v := must(e.Service.RecordFaceResult(ctx, r))(t)
			if v.Status != tt.want {
				t.Fatalf("status %s, want %s", v.Status, tt.want)
			}
			// The provider's retry of the same callback changes nothing.
			r.Result = "fail"
			if again := must(e.Service.RecordFaceResult(ctx, r))(t); again.Status != tt.want {
				t.Errorf("a replay changed the result to %s", again.Status)
			}
		})
	}
	_, err := e.Service.StartVerification(ctx, ucOwner, caseID, domain.VerifyFace)
	wantCode(t, err, "already_verified")
}
