package domain

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Reason codes a reviewer gives with a rejection or a request for changes.
// The app switches on the code; the applicant reads the plain-language text
// (what is wrong and what to do), which is also what the decision
// notification says.
const (
	ReasonAddressMismatch           = "address_mismatch"
	ReasonLegalRepOutdated          = "legal_rep_outdated"
	ReasonDocumentUnclear           = "document_unclear"
	ReasonLicenseExpired            = "license_expired"
	ReasonInfoInconsistent          = "info_inconsistent"
	ReasonDocumentReused            = "document_reused"
	ReasonRectificationInsufficient = "rectification_insufficient"
	ReasonOther                     = "other"
)

// Reason is one row of the reason table.
type Reason struct {
	Code string
	Text Text
}

// reasonTable is THE table of decision reasons, in the order the reviewers'
// tool lists them. The two most common causes of rejection come first
// (address mismatch, 32% of rejections; outdated legal-rep information,
// 25%), with the advice their texts repeat.
var reasonTable = []Reason{
	{ReasonAddressMismatch, Text{
		Zh: "营业执照上的登记地址与填写的经营地址不一致。请对照营业执照或国家企业信用信息公示系统修改企业资料中的地址；如已迁址，请先办理工商变更登记。",
		En: "The registered address on the business license does not match the operating address you gave. Correct the addresses in the enterprise profile against the license or the National Enterprise Credit Information Publicity System; if the business has moved, register the change of address first.",
	}},
	{ReasonLegalRepOutdated, Text{
		Zh: "法定代表人信息不是最新的（姓名、身份证或手机号与工商登记不一致）。请在国家企业信用信息公示系统核对后更新企业资料，并由现任法定代表人重新完成人脸核验。",
		En: "The legal representative's details are out of date (name, ID card or phone number differ from the business registration). Check them in the National Enterprise Credit Information Publicity System, update the enterprise profile, and have the current legal representative redo the face verification.",
	}},
	{ReasonDocumentUnclear, Text{
		Zh: "上传的材料不清晰，无法辨认。请使用扫描仪或在光线充足处拍摄原件，确保四角完整、文字清楚后重新上传。",
		En: "An uploaded document is too unclear to read. Scan it, or photograph the original in good light with all four corners visible and the text sharp, then upload it again.",
	}},
	{ReasonLicenseExpired, Text{
		Zh: "营业执照已超过有效期。请上传在有效期内的营业执照。",
		En: "The business license has expired. Upload a license that is within its validity period.",
	}},
	{ReasonInfoInconsistent, Text{
		Zh: "申请信息与材料内容不一致（如企业名称、统一社会信用代码）。请核对企业资料与营业执照，修改后重新提交。",
		En: "The application does not match the documents (for example the enterprise name or the unified social credit code). Check the profile against the business license, correct it and submit again.",
	}},
	{ReasonDocumentReused, Text{
		Zh: "上传的材料与其他企业提交的材料相同。请上传本企业自己的材料原件。",
		En: "An uploaded document is identical to one submitted by another enterprise. Upload your own enterprise's original documents.",
	}},
	{ReasonRectificationInsufficient, Text{
		Zh: "整改证明不足以说明违规问题已经整改。请补充整改证明材料，并在说明中写明具体整改措施。",
		En: "The rectification proof does not show that the violation was rectified. Add proof and describe the measures taken in the explanation.",
	}},
	{ReasonOther, Text{
		Zh: "其他原因，详见审核备注。",
		En: "Another reason; see the reviewer's note.",
	}},
}

// ReasonFor looks a reason code up.
func ReasonFor(code string) (Reason, bool) {
	for _, r := range reasonTable {
		if r.Code == code {
			return r, true
		}
	}
	return Reason{}, false
}

// Valid reports whether d is a known decision.
func (d DecisionKind) Valid() bool {
	switch d {
	case DecisionApprove, DecisionReject, DecisionRequestChanges:
		return true
	}
	return false
}

// Target is the case state a decision moves the case to.
func (d DecisionKind) Target() CaseStatus {
	switch d {
	case DecisionApprove:
		return CaseApproved
	case DecisionReject:
		return CaseRejected
	case DecisionRequestChanges:
		return CaseChangesRequested
	}
	return ""
}

// MaxDecisionNoteChars bounds the reviewer's note (characters).
const MaxDecisionNoteChars = 2000

// ValidateDecision checks a decision as the reviewer sends it: a known
// decision; known, unrepeated reason codes (at most one per row of the
// table); at least one reason for a rejection or a request for changes (the
// applicant must learn what to fix); a note for the reason "other"; a note
// of at most MaxDecisionNoteChars. It returns the field errors (nil if
// valid).
func ValidateDecision(d DecisionKind, reasons []string, note string) []FieldError {
	var out []FieldError
	if !d.Valid() {
		out = append(out, FieldError{Field: "decision", Code: "invalid_decision",
			Message: Text{Zh: "decision 应为 approve、reject 或 request_changes。", En: "decision must be approve, reject or request_changes."}})
	}
	seen := map[string]bool{}
	for i, code := range reasons {
		field := fmt.Sprintf("reasons[%d]", i)
		if _, ok := ReasonFor(code); !ok {
			out = append(out, FieldError{Field: field, Code: "unknown_reason",
				Message: Text{Zh: "未知的原因代码：" + code, En: "Unknown reason code: " + code}})
			continue
		}
		if seen[code] {
			out = append(out, FieldError{Field: field, Code: "duplicate_reason",
				Message: Text{Zh: "原因代码重复：" + code, En: "Repeated reason code: " + code}})
		}
		seen[code] = true
	}
	if (d == DecisionReject || d == DecisionRequestChanges) && len(reasons) == 0 {
		out = append(out, FieldError{Field: "reasons", Code: "reasons_required",
			Message: Text{Zh: "驳回或退回补充材料时必须给出至少一个原因。", En: "Give at least one reason when rejecting or requesting changes."}})
	}
	if seen[ReasonOther] && strings.TrimSpace(note) == "" {
		out = append(out, FieldError{Field: "note", Code: "note_required",
			Message: Text{Zh: "原因为 other 时必须填写备注。", En: "A note is required with the reason other."}})
	}
	if utf8.RuneCountInString(note) > MaxDecisionNoteChars || !utf8.ValidString(note) {
		out = append(out, FieldError{Field: "note", Code: "too_long",
			Message: Text{Zh: fmt.Sprintf("备注不能超过%d个字符。", MaxDecisionNoteChars),
				En: fmt.Sprintf("The note may not exceed %d characters.", MaxDecisionNoteChars)}})
	}
	return out
}

// Notification kinds of the lifecycle.
const (
	NoticeDecision   = "decision"
	NoticeCancelled  = "certification_cancelled"
	NoticeRevoked    = "certification_revoked"
	NoticeReinstated = "certification_reinstated"
)

var typeNames = map[CertType]Text{
	CertWeCom:           {Zh: "企业微信", En: "WeCom"},
	CertOfficialAccount: {Zh: "公众号", En: "Official Account"},
	CertMiniProgram:     {Zh: "小程序", En: "Mini Program"},
}

// TypeName is the display name of a certification type.
func TypeName(t CertType) Text {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return Text{Zh: string(t), En: string(t)}
}

func typeList(types []CertType) Text {
	zh := make([]string, 0, len(types))
	en := make([]string, 0, len(types))
	for _, t := range types {
		n := TypeName(t)
		zh, en = append(zh, n.Zh), append(en, n.En)
	}
	return Text{Zh: strings.Join(zh, "、"), En: strings.Join(en, ", ")}
}

// DecisionNotice is the applicant's notification of a decision on case c:
// the outcome, each reason in plain language with what to do, the
// reviewer's note, and what happens next. certs are the certifications an
// approval made active (their expiry is quoted, in Beijing time).
func DecisionNotice(c *Case, d Decision, certs []Certification, maxChangeRequests int) (title, body Text) {
	types := typeList(c.Types)
	what := Text{Zh: types.Zh + "认证申请", En: "application for " + types.En + " certification"}
	if c.Kind == KindDispute && c.Dispute != nil {
		what = Text{Zh: "统一社会信用代码 " + c.Dispute.USCC + " 的争议", En: "dispute of the USCC " + c.Dispute.USCC}
	}
	var zh, en []string
	switch d.Decision {
	case DecisionApprove:
		title = Text{Zh: "认证审核已通过", En: "Certification approved"}
		zh = append(zh, fmt.Sprintf("您的%s已通过审核。", what.Zh))
		en = append(en, fmt.Sprintf("Your %s was approved.", what.En))
		if c.Kind == KindDispute && c.Dispute != nil {
			won := disputeWonText(c.Dispute.USCC)
			zh, en = append(zh, won.Zh), append(en, won.En)
		}
		for _, cert := range certs {
			exp := cert.ExpiresAt.In(Beijing()).Format("2006-01-02 15:04:05")
			n := TypeName(cert.Type)
			zh = append(zh, fmt.Sprintf("%s认证有效期至 %s（北京时间）。", n.Zh, exp))
			en = append(en, fmt.Sprintf("%s certification is valid until %s (Beijing time).", n.En, exp))
		}
	case DecisionReject:
		title = Text{Zh: "认证审核未通过", En: "Certification rejected"}
		zh = append(zh, fmt.Sprintf("很遗憾，您的%s未通过审核。原因：", what.Zh))
		en = append(en, fmt.Sprintf("Your %s was rejected, for these reasons:", what.En))
	case DecisionRequestChanges:
		title = Text{Zh: "认证申请需补充材料", En: "Changes requested on your application"}
		zh = append(zh, fmt.Sprintf("您的%s需要补充或修改材料。原因：", what.Zh))
		en = append(en, fmt.Sprintf("Your %s needs changes, for these reasons:", what.En))
	}
	if c.Kind == KindDispute {
		title = disputeTitles[d.Decision]
	}
	for i, code := range d.Reasons {
		r, ok := ReasonFor(code)
		if !ok {
			r = Reason{Code: code, Text: Text{Zh: code, En: code}}
		}
		zh = append(zh, fmt.Sprintf("%d. %s", i+1, r.Text.Zh))
		en = append(en, fmt.Sprintf("%d. %s", i+1, r.Text.En))
	}
	if note := strings.TrimSpace(d.Note); note != "" {
		zh = append(zh, "审核备注："+note)
		en = append(en, "Reviewer's note: "+note)
	}
	switch d.Decision {
	case DecisionReject:
		zh = append(zh, "驳回为最终结果，如需认证请按上述原因整改后重新提交新的申请。")
		en = append(en, "A rejection is final: to be certified, fix the points above and file a new application.")
	case DecisionRequestChanges:
		left := maxChangeRequests - c.ChangeRequests
		if left < 0 {
			left = 0
		}
		zh = append(zh, fmt.Sprintf("请按上述原因修改后在同一申请中重新提交（还可退回补充%d次）。", left))
		en = append(en, fmt.Sprintf("Fix the points above and submit the same application again (it can be sent back %d more time(s)).", left))
	}
	return title, Text{Zh: strings.Join(zh, "\n"), En: strings.Join(en, "\n")}
}

// disputeTitles are the notification titles of dispute decisions.
var disputeTitles = map[DecisionKind]Text{
	DecisionApprove:        {Zh: "统一社会信用代码争议成功", En: "USCC dispute won"},
	DecisionReject:         {Zh: "统一社会信用代码争议未通过", En: "USCC dispute rejected"},
	DecisionRequestChanges: {Zh: "统一社会信用代码争议需补充材料", En: "Changes requested on your USCC dispute"},
}

// CancelNotice is the enterprise's notification of a voluntary cancellation.
func CancelNotice(t CertType) (title, body Text) {
	n := TypeName(t)
	return Text{Zh: n.Zh + "认证已注销", En: n.En + " certification cancelled"},
		Text{Zh: fmt.Sprintf("应您的申请，%s认证已注销，相关认证能力已停止。如需重新认证，请提交完整材料的新申请。", n.Zh),
			En: fmt.Sprintf("At your request the %s certification was cancelled and its capabilities removed. To be certified again, file a new application with full materials.", n.En)}
}

// RevokeNotice is the enterprise's notification of a revocation.
func RevokeNotice(t CertType, reason, severity string) (title, body Text) {
	n := TypeName(t)
	sev := Text{Zh: "轻微", En: "minor"}
	if severity == SeverityMajor {
		sev = Text{Zh: "严重", En: "major"}
	}
	return Text{Zh: n.Zh + "认证已被撤销", En: n.En + " certification revoked"},
		Text{Zh: fmt.Sprintf("因存在虚假内容或违规行为（%s），%s认证已被撤销，相关认证能力已停止。原因：%s\n整改后可提交申诉（申请类型 appeal），并上传整改证明和说明。", sev.Zh, n.Zh, reason),
			En: fmt.Sprintf("The %s certification was revoked for false content or a violation (%s) and its capabilities removed. Reason: %s\nAfter rectifying, file an appeal (case kind appeal) with rectification proof and an explanation.", n.En, sev.En, reason)}
}
