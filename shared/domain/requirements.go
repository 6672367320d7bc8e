package domain

import (
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Requirement codes besides the document types (api.md, "Names the app
// switches on").
const (
	ReqFaceVerification = "face_verification"
	ReqBankVerification = "bank_verification"
	ReqQRVerification   = "qr_verification"
	ReqPayment          = "payment"
	ReqExplanation      = "explanation"
)

// Requirements is what stands between a case and its submission, shaped
// like the API's requirements object. The slices are never nil (JSON []).
type Requirements struct {
	// CurrentlyDue: what the applicant has to provide or redo.
	CurrentlyDue []string `json:"currentlyDue"`
	// PendingVerification: provided, waiting for a check or a provider.
	PendingVerification []string `json:"pendingVerification"`
	// Errors explain why something failed, with advice.
	Errors []RequirementError `json:"errors"`
	// Deadline is the earliest deadline of pending work (micro-deposit,
	// face or QR session), nil if none.
	Deadline *time.Time `json:"deadline"`
}

// RequirementError is one problem found with a requirement.
type RequirementError struct {
	Requirement string `json:"requirement"`
	Code        string `json:"code"`
	Message     Text   `json:"message"`
}

// Satisfied reports whether the case may be submitted: nothing due, nothing
// pending, no errors.
func (r Requirements) Satisfied() bool {
	return len(r.CurrentlyDue) == 0 && len(r.PendingVerification) == 0 && len(r.Errors) == 0
}

// reqCondition is the extra condition of a requirement row.
type reqCondition int

const (
	condAlways reqCondition = iota
	condViaAgent
	condCorporateAccount   // the enterprise has a corporate account
	condNoCorporateAccount // ... has none: QR scan + office video instead of the micro-deposit
	condPayable            // the fee to pay is above zero
)

type requirementRow struct {
	item  string
	kinds []CaseKind // case kinds it applies to
	types []CertType // applies when the case covers any of these
	cond  reqCondition
}

var (
	materialKinds = []CaseKind{KindInitial, KindAnnualReview, KindReinstatement}
	reqAllKinds   = []CaseKind{KindInitial, KindAnnualReview, KindReinstatement, KindAppeal}
	accountTypes  = []CertType{CertOfficialAccount, CertMiniProgram} // types that need a corporate account
)

// requirementTable is THE table of what a case needs (domain.md, "Materials
// required per type" and the first-application flow), in the order the app
// shows it. Annual reviews and reinstatements re-review the full materials.
// Appeals need the rectification proof and an explanation, no fee and no
// face check. bank_account_proof is asked only of enterprises that have a
// corporate account (there is no account-opening proof without one).
var requirementTable = []requirementRow{
	{string(DocBusinessLicense), materialKinds, CertTypes, condAlways},
	{string(DocLegalRepIDFront), materialKinds, []CertType{CertWeCom, CertOfficialAccount}, condAlways},
	{string(DocLegalRepIDBack), materialKinds, []CertType{CertWeCom, CertOfficialAccount}, condAlways},
	{string(DocAuthorizationLetter), materialKinds, CertTypes, condViaAgent},
	{ReqFaceVerification, materialKinds, []CertType{CertWeCom, CertMiniProgram}, condAlways},
	{string(DocBankAccountProof), materialKinds, []CertType{CertMiniProgram}, condCorporateAccount},
	{ReqBankVerification, materialKinds, accountTypes, condCorporateAccount},
	{ReqQRVerification, materialKinds, accountTypes, condNoCorporateAccount},
	{string(DocOfficeVideo), materialKinds, accountTypes, condNoCorporateAccount},
	{string(DocRectificationProof), []CaseKind{KindAppeal}, CertTypes, condAlways},
	{ReqExplanation, []CaseKind{KindAppeal}, CertTypes, condAlways},
	{ReqPayment, reqAllKinds, CertTypes, condPayable},
}

// RequiredItems lists the requirement codes a case needs, in display order,
// given whether the enterprise has a corporate account and the fee payable.
func RequiredItems(c *Case, hasCorporateAccount bool, payableFen int64) []string {
	out := []string{}
	for _, row := range requirementTable {
		if !containsKind(row.kinds, c.Kind) || !c.hasAnyType(row.types) {
			continue
		}
		ok := true
		switch row.cond {
		case condViaAgent:
			ok = c.ViaAgent
		case condCorporateAccount:
			ok = hasCorporateAccount
		case condNoCorporateAccount:
			ok = !hasCorporateAccount
		case condPayable:
			ok = payableFen > 0
		}
		if ok {
			out = append(out, row.item)
		}
	}
	return out
}

func containsKind(list []CaseKind, k CaseKind) bool {
	for _, x := range list {
		if x == k {
			return true
		}
	}
	return false
}

func (c *Case) hasAnyType(ts []CertType) bool {
	for _, t := range ts {
		if c.HasType(t) {
			return true
		}
	}
	return false
}

// ComputeRequirements derives the case's requirements at now from the
// enterprise profile, the case and its documents:
//   - a document type is satisfied by its newest non-superseded document
//     that passed; pending -> pendingVerification; failed -> currentlyDue
//     plus a document_failed error with the findings;
//   - face / QR: passed (and the phone matching the registration) is
//     satisfied; a session still open -> pendingVerification; failed ->
//     currentlyDue plus legal_rep_outdated (phone mismatch) or
//     verification_failed; an expired session -> currentlyDue plus
//     verification_expired;
//   - micro-deposit: verified is satisfied; open -> pendingVerification;
//     locked or past its deadline -> currentlyDue plus verification_locked
//     or verification_expired;
//   - payment (only if the fee payable is above zero): paid in full is
//     satisfied; no order, an unpaid order or a failed one (payment_failed)
//     -> currentlyDue (the applicant still has to pay);
//   - explanation (appeals): non-empty and at most r.ExplanationMaxChars;
//   - registered and operating addresses that do not match give an
//     address_mismatch error (on business_license) with advice.
//
// The fee is c.Fee, or FeeFor(c.Kind, e.Region(), r) if the case has
// none yet (no currency).
func ComputeRequirements(e *Enterprise, c *Case, docs []Document, now time.Time, r Rules) Requirements {
	req := Requirements{CurrentlyDue: []string{}, PendingVerification: []string{}, Errors: []RequirementError{}}
	if c == nil {
		return req
	}
	var ent Enterprise
	if e != nil {
		ent = *e
	}
	fee := c.Fee
	if fee.Currency == "" {
		fee = FeeFor(c.Kind, ent.Region(), r)
	}
	due := func(item string) { req.CurrentlyDue = appendOnce(req.CurrentlyDue, item) }
	pending := func(item string, deadline time.Time) {
		req.PendingVerification = appendOnce(req.PendingVerification, item)
		if !deadline.IsZero() && (req.Deadline == nil || deadline.Before(*req.Deadline)) {
			d := deadline
			req.Deadline = &d
		}
	}
	fail := func(item, code string, msg Text) {
		req.Errors = append(req.Errors, RequirementError{Requirement: item, Code: code, Message: msg})
	}

	if !c.Kind.Valid() || len(c.Types) == 0 || !allValidTypes(c.Types) {
		// Cases are checked when opened (CanOpenCase); never let a broken
		// one look complete.
		fail("case", "invalid_case", Text{Zh: "申请类型或认证类型无效。", En: "The case has an unknown kind or certification type."})
	}
	latest := latestDocs(c.ID, docs)
	for _, item := range RequiredItems(c, ent.HasCorporateAccount, fee.PayableFen) {
		switch item {
		case ReqFaceVerification, ReqQRVerification:
			kind := VerifyFace
			if item == ReqQRVerification {
				kind = VerifyQR
			}
			v := c.verification(kind)
			switch {
			case v == nil:
				due(item)
			case v.Status == VerificationPassed && (v.PhoneMatches == nil || *v.PhoneMatches):
			case v.Status == VerificationPassed || (v.Status == VerificationFailed && v.PhoneMatches != nil && !*v.PhoneMatches):
				due(item)
				fail(item, "legal_rep_outdated", msgLegalRepOutdated)
			case v.Status == VerificationFailed:
				due(item)
				fail(item, "verification_failed", msgVerificationFailed)
			case v.Status == VerificationPending && now.Before(v.ExpiresAt):
				pending(item, v.ExpiresAt)
			default: // expired, or pending past its expiry
				due(item)
				fail(item, "verification_expired", msgSessionExpired)
			}
		case ReqBankVerification:
			d := c.Deposit
			switch {
			case d == nil:
				due(item)
			case d.Status == DepositVerified:
			case d.Status == DepositLocked || (d.Status == DepositPending && d.AttemptsLeft <= 0):
				due(item)
				fail(item, "verification_locked", msgDepositLocked)
			case d.Status == DepositPending && now.Before(d.Deadline):
				pending(item, d.Deadline)
			default: // expired, or pending past its deadline
				due(item)
				fail(item, "verification_expired", msgDepositExpired)
			}
		case ReqPayment:
			p := c.Payment
			switch {
			case p != nil && p.Status == PaymentPaid && p.PaidFen >= fee.PayableFen:
			case p != nil && p.Status == PaymentFailed:
				due(item)
				fail(item, "payment_failed", msgPaymentFailed)
			default:
				due(item)
			}
		case ReqExplanation:
			text := strings.TrimSpace(c.Explanation)
			switch {
			case text == "":
				due(item)
			case utf8.RuneCountInString(text) > r.ExplanationMaxChars:
				due(item)
				fail(item, "explanation_too_long", Text{
					Zh: fmt.Sprintf("说明不能超过%d个字符。", r.ExplanationMaxChars),
					En: fmt.Sprintf("The explanation may not exceed %d characters.", r.ExplanationMaxChars),
				})
			}
		default: // a document type
			d, ok := latest[DocType(item)]
			switch {
			case !ok:
				due(item)
			case d.Status == DocPassed:
			case d.Status == DocFailed:
				due(item)
				fail(item, "document_failed", findingsText(d.Findings))
			default:
				pending(item, time.Time{})
			}
		}
	}
	if e != nil && containsKind(materialKinds, c.Kind) && !AddressesMatch(e.RegisteredAddress, e.OperatingAddress) {
		fail(string(DocBusinessLicense), "address_mismatch", msgAddressMismatch)
	}
	return req
}

// latestDocs picks, per type, the newest non-superseded document of the
// case (documents of another case are ignored).
func latestDocs(caseID string, docs []Document) map[DocType]Document {
	sorted := append([]Document(nil), docs...)
	sort.SliceStable(sorted, func(i, j int) bool {
		if !sorted[i].CreatedAt.Equal(sorted[j].CreatedAt) {
			return sorted[i].CreatedAt.Before(sorted[j].CreatedAt)
		}
		return sorted[i].ID < sorted[j].ID
	})
	out := map[DocType]Document{}
	for _, d := range sorted {
		if d.Superseded || (caseID != "" && d.CaseID != "" && d.CaseID != caseID) {
			continue
		}
		out[d.DocType] = d
	}
	return out
}

func allValidTypes(ts []CertType) bool {
	for _, t := range ts {
		if !t.Valid() {
			return false
		}
	}
	return true
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

func findingsText(fs []Finding) Text {
	if len(fs) == 0 {
		return Text{Zh: "材料未通过检查，请重新上传。", En: "The document failed the check; upload it again."}
	}
	zh := make([]string, 0, len(fs))
	en := make([]string, 0, len(fs))
	for _, f := range fs {
		zh = append(zh, f.Message.Zh)
		en = append(en, f.Message.En)
	}
	return Text{
		Zh: "材料未通过检查：" + strings.Join(zh, "；"),
		En: "The document failed the check: " + strings.Join(en, "; "),
	}
}

var (
	msgLegalRepOutdated = Text{
		Zh: "核验未通过：法定代表人手机号与工商登记信息不一致。请先在国家企业信用信息公示系统核对并更新法定代表人信息，同步修改企业资料后重新核验。",
		En: "Verification failed: the legal representative's phone number does not match the business registration. Check and update the legal representative's details in the National Enterprise Credit Information Publicity System, correct the enterprise profile to match, then retry.",
	}
	msgVerificationFailed = Text{
		Zh: "核验未通过，请由法定代表人本人在光线充足处重新发起核验。",
		En: "Verification failed; the legal representative should start a new one in person, in good light.",
	}
	msgSessionExpired = Text{
		Zh: "核验会话已超时，请重新发起。",
		En: "The verification session expired; start a new one.",
	}
	msgDepositLocked = Text{
		Zh: "打款金额输错次数过多，验证已锁定，请重新发起打款验证。",
		En: "Too many wrong amounts: the micro-deposit check is locked. Start a new micro-deposit.",
	}
	msgDepositExpired = Text{
		Zh: "打款验证已超过确认期限，请重新发起打款验证。",
		En: "The micro-deposit was not confirmed in time; start a new one.",
	}
	msgPaymentFailed = Text{
		Zh: "支付失败，请重新支付。",
		En: "The payment failed; pay again.",
	}
	msgAddressMismatch = Text{
		Zh: "营业执照登记地址与经营地址不一致。请对照营业执照（或国家企业信用信息公示系统）修改企业资料中的地址；如已迁址，请先办理工商变更登记。",
		En: "The registered address on the business license does not match the operating address. Correct the addresses in the enterprise profile against the license (or the National Enterprise Credit Information Publicity System); if the business has moved, register the change of address first.",
	}
)
