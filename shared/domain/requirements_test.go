package domain

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRequiredItems(t *testing.T) {
	tests := []struct {
		name     string
		kind     CaseKind
		types    []CertType
		viaAgent bool
		account  bool
		payable  int64
		want     []string
	}{
		{"wecom", KindInitial, []CertType{CertWeCom}, false, false, 30000,
			[]string{"business_license", "legal_rep_id_front", "legal_rep_id_back", "face_verification", "payment"}},
		{"wecom with account: optional, not asked", KindInitial, []CertType{CertWeCom}, false, true, 30000,
			[]string{"business_license", "legal_rep_id_front", "legal_rep_id_back", "face_verification", "payment"}},
		{"official account with corporate account", KindInitial, []CertType{CertOfficialAccount}, false, true, 30000,
			[]string{"business_license", "legal_rep_id_front", "legal_rep_id_back", "bank_verification", "payment"}},
		{"official account via agent", KindInitial, []CertType{CertOfficialAccount}, true, true, 30000,
			[]string{"business_license", "legal_rep_id_front", "legal_rep_id_back", "authorization_letter", "bank_verification", "payment"}},
		{"official account without corporate account", KindInitial, []CertType{CertOfficialAccount}, false, false, 30000,
			[]string{"business_license", "legal_rep_id_front", "legal_rep_id_back", "qr_verification", "office_video", "payment"}},
		{"mini program with account", KindInitial, []CertType{CertMiniProgram}, false, true, 30000,
			[]string{"business_license", "face_verification", "bank_account_proof", "bank_verification", "payment"}},
		{"mini program without account", KindInitial, []CertType{CertMiniProgram}, false, false, 30000,
			[]string{"business_license", "face_verification", "qr_verification", "office_video", "payment"}},
		{"all three, via agent, with account, subsidised to zero", KindInitial, CertTypes, true, true, 0,
			[]string{"business_license", "legal_rep_id_front", "legal_rep_id_back", "authorization_letter", "face_verification", "bank_account_proof", "bank_verification"}},
		{"annual review re-reviews materials", KindAnnualReview, []CertType{CertWeCom}, false, false, 15000,
			[]string{"business_license", "legal_rep_id_front", "legal_rep_id_back", "face_verification", "payment"}},
		{"reinstatement", KindReinstatement, []CertType{CertMiniProgram}, false, true, 30000,
			[]string{"business_license", "face_verification", "bank_account_proof", "bank_verification", "payment"}},
		{"appeal", KindAppeal, []CertType{CertWeCom, CertMiniProgram}, true, false, 0,
			[]string{"rectification_proof", "explanation"}},
		{"no types", KindInitial, nil, false, false, 30000, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Case{Kind: tt.kind, Types: tt.types, ViaAgent: tt.viaAgent}
			if diff := cmp.Diff(tt.want, RequiredItems(c, tt.account, tt.payable)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// reqFixture is a mini_program + wecom case of an enterprise with a
// corporate account where everything is done.
func reqFixture(now time.Time) (*Enterprise, *Case, []Document) {
	yes := true
	e := &Enterprise{
		ID: "e1", Name: "北京示例科技有限公司", USCC: SampleUSCCIn("110105", 1), HasCorporateAccount: true,
		LegalRep:          LegalRep{Name: "张三", IDNumber: "11010519491231002X"},
		RegisteredAddress: "北京市朝阳区建国路88号", OperatingAddress: "朝阳区建国路88号",
	}
	paidAt := now.Add(-time.Hour)
	c := &Case{
		ID: "c1", EnterpriseID: "e1", Kind: KindInitial, Types: []CertType{CertWeCom, CertMiniProgram}, Status: CaseDraft,
		Fee:     FeeFor(KindInitial, "110105", DefaultRules),
		Payment: &Payment{OrderID: "o1", Status: PaymentPaid, AmountFen: 30000, PaidFen: 30000, PaidAt: &paidAt},
		Face: &Verification{SessionID: "s1", Kind: VerifyFace, Status: VerificationPassed, PhoneMatches: &yes,
			LegalRep: LegalRepFingerprint(e.LegalRep)},
		Deposit: &Deposit{Status: DepositVerified, AccountName: "北京示例科技有限公司", Deadline: now.Add(time.Hour), AttemptsLeft: 2},
	}
	var docs []Document
	for i, dt := range []DocType{DocBusinessLicense, DocLegalRepIDFront, DocLegalRepIDBack, DocBankAccountProof} {
		docs = append(docs, Document{ID: string(rune('a' + i)), CaseID: "c1", DocType: dt, Status: DocPassed, CreatedAt: now.Add(-2 * time.Hour)})
	}
	return e, c, docs
}

func TestComputeRequirements(t *testing.T) {
	now := time.Date(2026, 9, 24, 2, 0, 0, 0, time.UTC)
	no, yes := false, true
	findingBlur := Finding{Code: "blurry", Message: Text{Zh: "图片模糊", En: "the image is blurry"}}
	findingSeal := Finding{Code: "no_seal", Message: Text{Zh: "缺少公章", En: "the company seal is missing"}}
	empty := Requirements{CurrentlyDue: []string{}, PendingVerification: []string{}, Errors: []RequirementError{}}
	with := func(f func(*Requirements)) Requirements {
		r := Requirements{CurrentlyDue: []string{}, PendingVerification: []string{}, Errors: []RequirementError{}}
		f(&r)
		return r
	}
	tests := []struct {
		name   string
		modify func(e *Enterprise, c *Case, docs *[]Document)
		rules  *Rules
		want   Requirements
	}{
		{"everything done", func(*Enterprise, *Case, *[]Document) {}, nil, empty},
		{"nothing done", func(e *Enterprise, c *Case, docs *[]Document) {
			c.Payment, c.Face, c.Deposit, *docs = nil, nil, nil, nil
		}, nil, with(func(r *Requirements) {
			r.CurrentlyDue = []string{"business_license", "legal_rep_id_front", "legal_rep_id_back", "face_verification", "bank_account_proof", "bank_verification", "payment"}
		})},
		{"document pending check", func(e *Enterprise, c *Case, docs *[]Document) {
			(*docs)[0].Status = DocPending
		}, nil, with(func(r *Requirements) { r.PendingVerification = []string{"business_license"} })},
		{"document failed with findings", func(e *Enterprise, c *Case, docs *[]Document) {
			(*docs)[0].Status = DocFailed
			(*docs)[0].Findings = []Finding{findingBlur, findingSeal}
		}, nil, with(func(r *Requirements) {
			r.CurrentlyDue = []string{"business_license"}
			r.Errors = []RequirementError{{Requirement: "business_license", Code: "document_failed",
				Message: Text{Zh: "材料未通过检查：图片模糊；缺少公章", En: "The document failed the check: the image is blurry; the company seal is missing"}}}
		})},
		{"failed document replaced by a newer pending upload", func(e *Enterprise, c *Case, docs *[]Document) {
			(*docs)[0].Status = DocFailed
			*docs = append(*docs, Document{ID: "z", CaseID: "c1", DocType: DocBusinessLicense, Status: DocPending, CreatedAt: now})
		}, nil, with(func(r *Requirements) { r.PendingVerification = []string{"business_license"} })},
		{"superseded passed document does not count", func(e *Enterprise, c *Case, docs *[]Document) {
			(*docs)[0].Superseded = true
		}, nil, with(func(r *Requirements) { r.CurrentlyDue = []string{"business_license"} })},
		{"another case's document does not count", func(e *Enterprise, c *Case, docs *[]Document) {
			(*docs)[0].CaseID = "other"
		}, nil, with(func(r *Requirements) { r.CurrentlyDue = []string{"business_license"} })},
		{"face session open", func(e *Enterprise, c *Case, docs *[]Document) {
			c.Face = &Verification{Kind: VerifyFace, Status: VerificationPending, ExpiresAt: now.Add(10 * time.Minute)}
		}, nil, with(func(r *Requirements) {
			r.PendingVerification = []string{"face_verification"}
			r.Deadline = timePtr(now.Add(10 * time.Minute))
		})},
		{"face session pending past expiry", func(e *Enterprise, c *Case, docs *[]Document) {
			c.Face = &Verification{Kind: VerifyFace, Status: VerificationPending, ExpiresAt: now}
		}, nil, with(func(r *Requirements) {
			r.CurrentlyDue = []string{"face_verification"}
			r.Errors = []RequirementError{{Requirement: "face_verification", Code: "verification_expired", Message: msgSessionExpired}}
		})},
		{"face failed, phone does not match registration", func(e *Enterprise, c *Case, docs *[]Document) {
			c.Face = &Verification{Kind: VerifyFace, Status: VerificationFailed, PhoneMatches: &no}
		}, nil, with(func(r *Requirements) {
			r.CurrentlyDue = []string{"face_verification"}
			r.Errors = []RequirementError{{Requirement: "face_verification", Code: "legal_rep_outdated", Message: msgLegalRepOutdated}}
		})},
		{"face passed liveness but phone does not match", func(e *Enterprise, c *Case, docs *[]Document) {
			c.Face = &Verification{Kind: VerifyFace, Status: VerificationPassed, PhoneMatches: &no, LegalRep: c.Face.LegalRep}
		}, nil, with(func(r *Requirements) {
			r.CurrentlyDue = []string{"face_verification"}
			r.Errors = []RequirementError{{Requirement: "face_verification", Code: "legal_rep_outdated", Message: msgLegalRepOutdated}}
		})},
		{"face failed liveness", func(e *Enterprise, c *Case, docs *[]Document) {
			c.Face = &Verification{Kind: VerifyFace, Status: VerificationFailed, PhoneMatches: &yes}
		}, nil, with(func(r *Requirements) {
			r.CurrentlyDue = []string{"face_verification"}
			r.Errors = []RequirementError{{Requirement: "face_verification", Code: "verification_failed", Message: msgVerificationFailed}}
		})},
		{"deposit open: earliest deadline wins", func(e *Enterprise, c *Case, docs *[]Document) {
			c.Deposit = &Deposit{Status: DepositPending, Deadline: now.Add(72 * time.Hour), AttemptsLeft: 3}
			c.Face = &Verification{Kind: VerifyFace, Status: VerificationPending, ExpiresAt: now.Add(15 * time.Minute)}
		}, nil, with(func(r *Requirements) {
			r.PendingVerification = []string{"face_verification", "bank_verification"}
			r.Deadline = timePtr(now.Add(15 * time.Minute))
		})},
		{"deposit locked", func(e *Enterprise, c *Case, docs *[]Document) {
			c.Deposit = &Deposit{Status: DepositLocked, Deadline: now.Add(time.Hour)}
		}, nil, with(func(r *Requirements) {
			r.CurrentlyDue = []string{"bank_verification"}
			r.Errors = []RequirementError{{Requirement: "bank_verification", Code: "verification_locked", Message: msgDepositLocked}}
		})},
		{"deposit out of attempts", func(e *Enterprise, c *Case, docs *[]Document) {
			c.Deposit = &Deposit{Status: DepositPending, Deadline: now.Add(time.Hour), AttemptsLeft: 0}
		}, nil, with(func(r *Requirements) {
			r.CurrentlyDue = []string{"bank_verification"}
			r.Errors = []RequirementError{{Requirement: "bank_verification", Code: "verification_locked", Message: msgDepositLocked}}
		})},
		{"deposit past deadline", func(e *Enterprise, c *Case, docs *[]Document) {
			c.Deposit = &Deposit{Status: DepositPending, Deadline: now.Add(-time.Second), AttemptsLeft: 3}
		}, nil, with(func(r *Requirements) {
			r.CurrentlyDue = []string{"bank_verification"}
			r.Errors = []RequirementError{{Requirement: "bank_verification", Code: "verification_expired", Message: msgDepositExpired}}
		})},
		{"deposit expired", func(e *Enterprise, c *Case, docs *[]Document) {
			c.Deposit = &Deposit{Status: DepositExpired}
		}, nil, with(func(r *Requirements) {
			r.CurrentlyDue = []string{"bank_verification"}
			r.Errors = []RequirementError{{Requirement: "bank_verification", Code: "verification_expired", Message: msgDepositExpired}}
		})},
		{"no corporate account: QR and office video instead", func(e *Enterprise, c *Case, docs *[]Document) {
			e.HasCorporateAccount = false
			c.QR = &Verification{Kind: VerifyQR, Status: VerificationPending, ExpiresAt: now.Add(5 * time.Minute)}
		}, nil, with(func(r *Requirements) {
			r.CurrentlyDue = []string{"office_video"}
			r.PendingVerification = []string{"qr_verification"}
			r.Deadline = timePtr(now.Add(5 * time.Minute))
		})},
		{"QR session stored in Face", func(e *Enterprise, c *Case, docs *[]Document) {
			e.HasCorporateAccount = false
			c.Face = &Verification{Kind: VerifyQR, Status: VerificationPassed, PhoneMatches: &yes, LegalRep: c.Face.LegalRep}
			*docs = append(*docs, Document{ID: "v", CaseID: "c1", DocType: DocOfficeVideo, Status: DocPassed})
		}, nil, with(func(r *Requirements) { r.CurrentlyDue = []string{"face_verification"} })},
		{"payment order not paid yet", func(e *Enterprise, c *Case, docs *[]Document) {
			c.Payment.Status, c.Payment.PaidFen = PaymentPending, 0
		}, nil, with(func(r *Requirements) { r.CurrentlyDue = []string{"payment"} })},
		{"payment failed", func(e *Enterprise, c *Case, docs *[]Document) {
			c.Payment.Status, c.Payment.PaidFen = PaymentFailed, 0
		}, nil, with(func(r *Requirements) {
			r.CurrentlyDue = []string{"payment"}
			r.Errors = []RequirementError{{Requirement: "payment", Code: "payment_failed", Message: msgPaymentFailed}}
		})},
		{"paid less than payable", func(e *Enterprise, c *Case, docs *[]Document) {
			c.Payment.PaidFen = 100
		}, nil, with(func(r *Requirements) { r.CurrentlyDue = []string{"payment"} })},
		{"fee not yet on the case: computed from the region (Shenzhen, half paid is enough)", func(e *Enterprise, c *Case, docs *[]Document) {
			e.USCC = SampleUSCC(1)
			c.Fee = Fee{}
			c.Payment.PaidFen = 15000
		}, nil, empty},
		{"fully subsidised: no payment needed", func(e *Enterprise, c *Case, docs *[]Document) {
			c.Fee = Fee{AmountFen: 30000, SubsidyFen: 30000, PayableFen: 0, Currency: "CNY"}
			c.Payment = nil
		}, nil, empty},
		{"address mismatch", func(e *Enterprise, c *Case, docs *[]Document) {
			e.OperatingAddress = "北京市海淀区中关村大街1号"
		}, nil, with(func(r *Requirements) {
			r.Errors = []RequirementError{{Requirement: "business_license", Code: "address_mismatch", Message: msgAddressMismatch}}
		})},
		{"case without types is never complete", func(e *Enterprise, c *Case, docs *[]Document) {
			c.Types = nil
		}, nil, with(func(r *Requirements) {
			r.Errors = []RequirementError{{Requirement: "case", Code: "invalid_case",
				Message: Text{Zh: "申请类型或认证类型无效。", En: "The case has an unknown kind or certification type."}}}
		})},
		{"unknown kind", func(e *Enterprise, c *Case, docs *[]Document) {
			c.Kind = "renewal"
		}, nil, with(func(r *Requirements) {
			r.Errors = []RequirementError{{Requirement: "case", Code: "invalid_case",
				Message: Text{Zh: "申请类型或认证类型无效。", En: "The case has an unknown kind or certification type."}}}
		})},
		{"via agent: authorization letter", func(e *Enterprise, c *Case, docs *[]Document) {
			c.ViaAgent = true
		}, nil, with(func(r *Requirements) { r.CurrentlyDue = []string{"authorization_letter"} })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, c, docs := reqFixture(now)
			tt.modify(e, c, &docs)
			r := DefaultRules
			if tt.rules != nil {
				r = *tt.rules
			}
			got := ComputeRequirements(e, c, docs, now, r)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if got.Satisfied() != (len(tt.want.CurrentlyDue)+len(tt.want.PendingVerification)+len(tt.want.Errors) == 0) {
				t.Errorf("Satisfied() = %v", got.Satisfied())
			}
		})
	}
}

func TestComputeRequirementsAppeal(t *testing.T) {
	now := time.Date(2026, 9, 24, 2, 0, 0, 0, time.UTC)
	e := &Enterprise{RegisteredAddress: "北京市朝阳区建国路88号", OperatingAddress: "上海市浦东新区世纪大道1号"}
	tests := []struct {
		name        string
		explanation string
		docs        []Document
		want        Requirements
	}{
		{"nothing yet (address mismatch is not an appeal matter)", "", nil, Requirements{
			CurrentlyDue: []string{"rectification_proof", "explanation"}, PendingVerification: []string{}, Errors: []RequirementError{}}},
		{"blank explanation", "   ", nil, Requirements{
			CurrentlyDue: []string{"rectification_proof", "explanation"}, PendingVerification: []string{}, Errors: []RequirementError{}}},
		{"complete", "已整改虚假内容。", []Document{{ID: "p", CaseID: "c", DocType: DocRectificationProof, Status: DocPassed}}, Requirements{
			CurrentlyDue: []string{}, PendingVerification: []string{}, Errors: []RequirementError{}}},
		{"2000 characters is fine", strings.Repeat("改", 2000), []Document{{ID: "p", CaseID: "c", DocType: DocRectificationProof, Status: DocPassed}}, Requirements{
			CurrentlyDue: []string{}, PendingVerification: []string{}, Errors: []RequirementError{}}},
		{"2001 characters is too long", strings.Repeat("改", 2001), []Document{{ID: "p", CaseID: "c", DocType: DocRectificationProof, Status: DocPassed}}, Requirements{
			CurrentlyDue: []string{"explanation"}, PendingVerification: []string{},
			Errors: []RequirementError{{Requirement: "explanation", Code: "explanation_too_long",
				Message: Text{Zh: "说明不能超过2000个字符。", En: "The explanation may not exceed 2000 characters."}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Case{ID: "c", Kind: KindAppeal, Types: []CertType{CertWeCom}, Explanation: tt.explanation,
				Fee: FeeFor(KindAppeal, "", DefaultRules)}
			if diff := cmp.Diff(tt.want, ComputeRequirements(e, c, tt.docs, now, DefaultRules)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestRequirementsJSON(t *testing.T) {
	got, err := json.Marshal(ComputeRequirements(nil, nil, nil, time.Time{}, DefaultRules))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(`{"currentlyDue":[],"pendingVerification":[],"errors":[],"deadline":null}`, string(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
