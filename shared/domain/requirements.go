package domain

import (
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Requirement codes besides the document types: names the app switches on
// (openapi.yaml lists them).
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

// requirementTable is THE table of what a case needs (the materials each
// type requires and the first application's steps), in the order the app
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
	switch c.Kind {
	case KindChange:
		return changeItems(c.Change)
	case KindDispute:
		return disputeItems()
	}
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

// changeItems is what a change case needs, by what it changes: a new
// business license for a new name or address (both are printed on it); the
// new legal rep's ID card and their own face verification; for a newly
// declared corporate account its opening proof and the micro-deposit, for
// an account given up the QR scan and the premises video. A change is
// free (no payment).
func changeItems(p *ProfileChange) []string {
	out := []string{}
	if p == nil {
		return out
	}
	if p.Name != nil || p.RegisteredAddress != nil || p.OperatingAddress != nil {
		out = append(out, string(DocBusinessLicense))
	}
	if p.LegalRep != nil {
		out = append(out, string(DocLegalRepIDFront), string(DocLegalRepIDBack), ReqFaceVerification)
	}
	if p.HasCorporateAccount != nil {
		if *p.HasCorporateAccount {
			out = append(out, string(DocBankAccountProof), ReqBankVerification)
		} else {
			out = append(out, ReqQRVerification, string(DocOfficeVideo))
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

	if !c.Kind.Valid() || (len(c.Types) == 0 && c.Kind != KindDispute) || !allValidTypes(c.Types) {
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
			case v.Status == VerificationPassed && v.LegalRep != LegalRepFingerprint(ent.LegalRep):
				// Verified someone who is no longer the legal rep on
				// record: the new one has to verify.
				due(item)
				fail(item, "legal_rep_changed", msgLegalRepChanged)
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
			case d.Status == DepositVerified && !SameRegisteredName(d.AccountName, ent.Name):
				// The account verified belongs to another name than the
				// one on record now (the profile's name changed).
				due(item)
				fail(item, "account_name_mismatch", msgAccountNameMismatch)
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
	if e != nil && (containsKind(materialKinds, c.Kind) || c.Kind == KindChange || c.Kind == KindDispute) && !AddressesMatch(ent.RegisteredAddress, ent.OperatingAddress) {
		fail(string(DocBusinessLicense), "address_mismatch", msgAddressMismatch)
	}
	for _, it := range c.Redo {
		if !redone(c, latest, it) {
			due(it.Requirement)
			fail(it.Requirement, "changes_requested", redoText(it))
		}
	}
	return req
}

// redone reports whether a requirement sent back by a reviewer was done
// again after the request: a document uploaded after it (whatever its
// check says: the document's own status speaks for that), a verification
// completed after it, an explanation written after it. Anything else (the
// payment) cannot be redone and counts as done.
func redone(c *Case, latest map[DocType]Document, it RedoItem) bool {
	after := func(t *time.Time) bool { return t != nil && t.After(it.Since) }
	switch it.Requirement {
	case ReqFaceVerification:
		v := c.verification(VerifyFace)
		return v != nil && after(v.CompletedAt)
	case ReqQRVerification:
		v := c.verification(VerifyQR)
		return v != nil && after(v.CompletedAt)
	case ReqBankVerification:
		return c.Deposit != nil && after(c.Deposit.VerifiedAt)
	case ReqExplanation:
		return after(c.ExplanationAt)
	case ReqPayment:
		return true
	}
	d, ok := latest[DocType(it.Requirement)]
	return ok && d.CreatedAt.After(it.Since)
}

// redoText is the advice of a sent-back requirement: the reason's text
// and the reviewer's note.
func redoText(it RedoItem) Text {
	t := Text{Zh: "审核员要求重新提交此项。", En: "The reviewer asked for this again."}
	if r, ok := ReasonFor(it.Reason); ok {
		t = Text{Zh: "审核员要求重新提交此项：" + r.Text.Zh, En: "The reviewer asked for this again: " + r.Text.En}
	}
	if n := strings.TrimSpace(it.Note); n != "" {
		t.Zh += "（备注：" + n + "）"
		t.En += " (Note: " + n + ")"
	}
	return t
}

// CaseRequirements is ComputeRequirements against what the case would make
// of the enterprise (a change case: the profile with its new values), with
// the way forward of a locked micro-deposit dated from the enterprise's
// deposit log.
func CaseRequirements(st *EnterpriseState, c *Case, docs []Document, now time.Time, r Rules) Requirements {
	var e *Enterprise
	if st != nil && st.Enterprise != nil {
		e = CaseRequirementsEnterprise(st, c)
	}
	req := ComputeRequirements(e, c, docs, now, r)
	if st == nil {
		return req
	}
	for i, x := range req.Errors {
		if x.Code == "verification_locked" {
			at := st.Deposits.NextDepositAt(now, r).In(Beijing()).Format("2006-01-02 15:04")
			req.Errors[i].Message = Text{
				Zh: "打款金额输错次数过多，本次打款验证已锁定。可于 " + at + "（北京时间）起重新发起打款验证；若企业确无对公账户，可修改企业资料改为法定代表人扫码验证并上传经营场所视频。",
				En: "Too many wrong amounts: this micro-deposit is locked. A new micro-deposit can be started from " + at + " (Beijing time); if the enterprise really has no corporate account, change the profile to use the legal representative's QR verification with a video of the premises instead.",
			}
		}
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
	msgLegalRepChanged = Text{
		Zh: "法定代表人信息已变更，原核验结果不再有效，请由现任法定代表人重新完成核验。",
		En: "The legal representative changed since the verification; the current legal representative has to verify.",
	}
	msgAccountNameMismatch = Text{
		Zh: "已验证的对公账户户名与企业当前登记名称不一致，请使用以企业名称开立的对公账户重新验证。",
		En: "The verified account's holder name is not the enterprise's registered name any more; verify an account held in the enterprise's name.",
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

// CaseRequirementsEnterprise is the profile a case's requirements are
// derived against: the stored one, or for a change case the profile with
// the change's new values.
func CaseRequirementsEnterprise(st *EnterpriseState, c *Case) *Enterprise {
	eff := *st.Enterprise
	if c != nil && c.Kind == KindChange {
		eff = c.Change.Apply(eff)
	}
	return &eff
}
