package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"microcert/shared/apitime"
	"microcert/shared/certsvc"
	"microcert/shared/domain"
	"microcert/shared/notify"
)

// The JSON shapes below are the API's contract (openapi.yaml). They are
// built from domain values here and nowhere else, so masking happens in one
// place: ID numbers, phones and account numbers never leave unmasked, except
// in revealView (a claimed case's reviewer, audited).

type legalRepJSON struct {
	Name     string `json:"name"`
	IDNumber string `json:"idNumber"`
	Phone    string `json:"phone"`
}

type certificationJSON struct {
	Type      string        `json:"type"`
	Status    string        `json:"status"`
	IssuedAt  apitime.Time  `json:"issuedAt"`
	ExpiresAt apitime.Time  `json:"expiresAt"`
	CaseID    string        `json:"caseId"`
	Version   int           `json:"version"`
	Reason    string        `json:"revokedReason,omitempty"`
	Severity  string        `json:"severity,omitempty"`
	UpdatedAt *apitime.Time `json:"updatedAt,omitempty"`
}

type enterpriseJSON struct {
	ID                  string                                  `json:"id"`
	Name                string                                  `json:"name"`
	USCC                string                                  `json:"uscc"`
	LegalRep            legalRepJSON                            `json:"legalRep"`
	RegisteredAddress   string                                  `json:"registeredAddress"`
	OperatingAddress    string                                  `json:"operatingAddress"`
	RegionCode          string                                  `json:"regionCode"`
	HasCorporateAccount bool                                    `json:"hasCorporateAccount"`
	Status              string                                  `json:"status"`
	FrozenReason        string                                  `json:"frozenReason,omitempty"`
	MyRole              string                                  `json:"myRole,omitempty"`
	Version             int                                     `json:"version"`
	CreatedAt           apitime.Time                            `json:"createdAt"`
	UpdatedAt           apitime.Time                            `json:"updatedAt"`
	Certifications      []certificationJSON                     `json:"certifications"`
	Capabilities        map[domain.CertType]domain.Capabilities `json:"capabilities"`
}

func enterpriseView(v *certsvc.EnterpriseView, now time.Time, r domain.Rules) enterpriseJSON {
	e := v.Enterprise
	out := enterpriseJSON{
		ID: e.ID, Name: e.Name, USCC: e.USCC,
		LegalRep: legalRepJSON{Name: e.LegalRep.Name, IDNumber: domain.MaskIDNumber(e.LegalRep.IDNumber),
			Phone: domain.MaskPhone(e.LegalRep.Phone)},
		RegisteredAddress: e.RegisteredAddress, OperatingAddress: e.OperatingAddress, RegionCode: e.Region(),
		HasCorporateAccount: e.HasCorporateAccount, Status: enterpriseStatus(e), FrozenReason: e.FrozenReason, MyRole: string(v.MyRole),
		Version: e.Version, CreatedAt: apitime.Time(e.CreatedAt), UpdatedAt: apitime.Time(e.UpdatedAt),
		Certifications: []certificationJSON{},
		Capabilities:   map[domain.CertType]domain.Capabilities{},
	}
	held := map[domain.CertType]*domain.Certification{}
	for i := range v.Certifications {
		c := &v.Certifications[i]
		held[c.Type] = c
		out.Certifications = append(out.Certifications, certView(c, now, r))
	}
	for _, t := range domain.CertTypes {
		out.Capabilities[t] = domain.CapabilitiesFor(held[t], now, r)
	}
	return out
}

// enterpriseStatus is a profile's status as shown (active unless frozen).
func enterpriseStatus(e *domain.Enterprise) string {
	if e.Frozen() {
		return string(domain.EnterpriseFrozen)
	}
	return string(domain.EnterpriseActive)
}

// certView shows the status in force at now under r: a certification past
// its expiry is overdue even before the daily job has recorded it, so the
// status and the capabilities shown never disagree.
func certView(c *domain.Certification, now time.Time, r domain.Rules) certificationJSON {
	out := certificationJSON{Type: string(c.Type), Status: string(c.EffectiveStatus(now, r)), IssuedAt: apitime.Time(c.IssuedAt), ExpiresAt: apitime.Time(c.ExpiresAt),
		CaseID: c.CaseID, Version: c.Version, Reason: c.RevokedReason, Severity: c.Severity}
	if !c.UpdatedAt.IsZero() {
		out.UpdatedAt = apitime.Ptr(&c.UpdatedAt)
	}
	return out
}

type feeJSON struct {
	AmountFen  int64  `json:"amountFen"`
	SubsidyFen int64  `json:"subsidyFen"`
	PayableFen int64  `json:"payableFen"`
	Currency   string `json:"currency"`
	Program    string `json:"subsidyProgram,omitempty"`
}

func feeView(f domain.Fee) feeJSON {
	return feeJSON{AmountFen: f.AmountFen, SubsidyFen: f.SubsidyFen, PayableFen: f.PayableFen, Currency: "CNY", Program: f.Program}
}

type findingJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type checkJSON struct {
	Status    string             `json:"status"`
	Findings  []findingJSON      `json:"findings"`
	Metrics   map[string]float64 `json:"metrics,omitempty"`
	CheckedAt *apitime.Time      `json:"checkedAt,omitempty"`
}

type documentJSON struct {
	ID            string       `json:"id"`
	CaseID        string       `json:"caseId"`
	DocType       string       `json:"docType"`
	ContentType   string       `json:"contentType"`
	ContentLength int64        `json:"contentLength"`
	CreatedAt     apitime.Time `json:"createdAt"`
	Check         checkJSON    `json:"check"`
	// ReusedByOtherEnterprise is shown to reviewers only: a fraud signal.
	ReusedByOtherEnterprise *bool `json:"reusedByOtherEnterprise,omitempty"`
	// Reviewers also see the check's notes and similar pictures elsewhere.
	ReviewNotes      []findingJSON `json:"reviewNotes,omitempty"`
	SimilarDocuments []similarJSON `json:"similarDocuments,omitempty"`
}

type similarJSON struct {
	DocumentID string `json:"documentId"`
	CaseID     string `json:"caseId"`
	Distance   int    `json:"distance"`
}

func documentView(d *domain.Document, lang string, reviewer bool) documentJSON {
	out := documentJSON{ID: d.ID, CaseID: d.CaseID, DocType: string(d.DocType), ContentType: d.ContentType,
		ContentLength: d.ContentLength, CreatedAt: apitime.Time(d.CreatedAt),
		Check: checkJSON{Status: string(d.Status), Findings: findingsView(d.Findings, lang), Metrics: d.Metrics, CheckedAt: apitime.Ptr(d.CheckedAt)}}
	if reviewer {
		r := d.ReusedByOthers
		out.ReusedByOtherEnterprise = &r
		if len(d.Notes) > 0 {
			out.ReviewNotes = findingsView(d.Notes, lang)
		}
		for _, s := range d.Similar {
			out.SimilarDocuments = append(out.SimilarDocuments, similarJSON{DocumentID: s.DocumentID, CaseID: s.CaseID, Distance: s.Distance})
		}
	}
	return out
}

func findingsView(fs []domain.Finding, lang string) []findingJSON {
	out := []findingJSON{}
	for _, f := range fs {
		out = append(out, findingJSON{Code: f.Code, Message: f.Message.In(lang)})
	}
	return out
}

type verificationJSON struct {
	SessionID   string        `json:"sessionId"`
	Kind        string        `json:"kind"`
	Status      string        `json:"status"`
	ExpiresAt   apitime.Time  `json:"expiresAt"`
	CompletedAt *apitime.Time `json:"completedAt,omitempty"`
}

func verificationView(v *domain.Verification) *verificationJSON {
	if v == nil {
		return nil
	}
	return &verificationJSON{SessionID: v.SessionID, Kind: string(v.Kind), Status: string(v.Status), ExpiresAt: apitime.Time(v.ExpiresAt), CompletedAt: apitime.Ptr(v.CompletedAt)}
}

type bankJSON struct {
	Status       string        `json:"status"`
	BankName     string        `json:"bankName"`
	AccountName  string        `json:"accountName"`
	Account      string        `json:"account"`
	Deadline     apitime.Time  `json:"deadline"`
	AttemptsLeft int           `json:"attemptsLeft"`
	VerifiedAt   *apitime.Time `json:"verifiedAt,omitempty"`
}

func bankView(d *domain.Deposit) *bankJSON {
	if d == nil {
		return nil
	}
	return &bankJSON{Status: string(d.Status), BankName: d.BankName, AccountName: d.AccountName,
		Account: "**** " + d.AccountLast4, Deadline: apitime.Time(d.Deadline), AttemptsLeft: d.AttemptsLeft, VerifiedAt: apitime.Ptr(d.VerifiedAt)}
}

type paymentJSON struct {
	OrderID    string        `json:"orderId"`
	Status     string        `json:"status"`
	AmountFen  int64         `json:"amountFen"`
	SubsidyFen int64         `json:"subsidyFen"`
	PayableFen int64         `json:"payableFen"`
	PaidFen    int64         `json:"paidFen"`
	Currency   string        `json:"currency"`
	PaidAt     *apitime.Time `json:"paidAt,omitempty"`
}

func paymentView(p *domain.Payment, f domain.Fee) *paymentJSON {
	if p == nil {
		return nil
	}
	return &paymentJSON{OrderID: p.OrderID, Status: string(p.Status), AmountFen: f.AmountFen, SubsidyFen: f.SubsidyFen,
		PayableFen: p.AmountFen, PaidFen: p.PaidFen, Currency: "CNY", PaidAt: apitime.Ptr(p.PaidAt)}
}

type historyJSON struct {
	At         apitime.Time `json:"at"`
	ActorID    string       `json:"actorId,omitempty"`
	Role       string       `json:"role"`
	MemberRole string       `json:"memberRole,omitempty"`
	Subject    string       `json:"subject"`
	From       string       `json:"from"`
	To         string       `json:"to"`
	Reasons    []string     `json:"reasons"`
	Note       string       `json:"note,omitempty"`
}

// historyView renders a case's history. Applicants never see the account
// of a reviewer, an admin or the system: such entries keep their role but
// lose the actor id, and a claim passing from one reviewer to another
// (in_review -> in_review, noting the previous holder) is review-internal
// and left out.
func historyView(hs []domain.HistoryEntry, staff bool) []historyJSON {
	out := []historyJSON{}
	for _, h := range hs {
		reasons := h.Reasons
		if reasons == nil {
			reasons = []string{}
		}
		j := historyJSON{At: apitime.Time(h.At), ActorID: h.ActorID, Role: string(h.Role), MemberRole: string(h.MemberRole), Subject: h.Subject,
			From: h.From, To: h.To, Reasons: reasons, Note: h.Note}
		if !staff {
			if h.Subject == "case" && h.From == string(domain.CaseInReview) && h.To == string(domain.CaseInReview) {
				continue
			}
			if h.Role != domain.RoleApplicant {
				j.ActorID = ""
			}
		}
		out = append(out, j)
	}
	return out
}

type reviewJSON struct {
	ClaimedBy      string        `json:"claimedBy,omitempty"`
	ClaimExpiresAt *apitime.Time `json:"claimExpiresAt,omitempty"`
	Decision       string        `json:"decision,omitempty"`
	Reasons        []string      `json:"reasons"`
	Note           string        `json:"note,omitempty"`
	DecidedAt      *apitime.Time `json:"decidedAt,omitempty"`
	SLAState       string        `json:"slaState,omitempty"`
	OverdueDays    int           `json:"overdueWorkingDays,omitempty"`
	// Redo: what the last request for changes sent back.
	Redo []redoJSON `json:"redo"`
}

type redoJSON struct {
	Requirement string       `json:"requirement"`
	Reason      string       `json:"reason"`
	Note        string       `json:"note,omitempty"`
	RequestedAt apitime.Time `json:"requestedAt"`
}

// profileChangeJSON: the new values a change case carries (the legal rep's
// ID number and phone masked like the profile's).
type profileChangeJSON struct {
	Name                *string       `json:"name,omitempty"`
	LegalRep            *legalRepJSON `json:"legalRep,omitempty"`
	RegisteredAddress   *string       `json:"registeredAddress,omitempty"`
	OperatingAddress    *string       `json:"operatingAddress,omitempty"`
	HasCorporateAccount *bool         `json:"hasCorporateAccount,omitempty"`
}

func profileChangeView(p *domain.ProfileChange) *profileChangeJSON {
	if p == nil {
		return nil
	}
	out := &profileChangeJSON{Name: p.Name, RegisteredAddress: p.RegisteredAddress, OperatingAddress: p.OperatingAddress,
		HasCorporateAccount: p.HasCorporateAccount}
	if r := p.LegalRep; r != nil {
		out.LegalRep = &legalRepJSON{Name: r.Name, IDNumber: domain.MaskIDNumber(r.IDNumber), Phone: domain.MaskPhone(r.Phone)}
	}
	return out
}

// caseJSON is the case summary (lists and the queue): every member is
// always present, so generated clients can make them required.
type caseJSON struct {
	ID             string                       `json:"id"`
	EnterpriseID   string                       `json:"enterpriseId"`
	Kind           string                       `json:"kind"`
	Types          []domain.CertType            `json:"types"`
	ViaAgent       bool                         `json:"viaAgent"`
	AgentID        string                       `json:"agentId,omitempty"`
	Dispute        *disputeJSON                 `json:"dispute,omitempty"`
	Status         string                       `json:"status"`
	Version        int                          `json:"version"`
	CreatedAt      apitime.Time                 `json:"createdAt"`
	UpdatedAt      apitime.Time                 `json:"updatedAt"`
	SubmittedAt    *apitime.Time                `json:"submittedAt"`
	ReviewDueAt    *apitime.Time                `json:"reviewDueAt"`
	Fee            feeJSON                      `json:"fee"`
	Verifications  map[string]*verificationJSON `json:"verifications"`
	Bank           *bankJSON                    `json:"bankVerification"`
	Payment        *paymentJSON                 `json:"payment"`
	Explanation    string                       `json:"explanation"`
	Review         reviewJSON                   `json:"review"`
	ChangeRequests int                          `json:"changeRequests"`
	Change         *profileChangeJSON           `json:"change,omitempty"`
	// RefundDue: in the full view, money is still owed back (pending or
	// failed refunds); in lists (no refunds read), money was owed back
	// on this case at all.
	RefundDue bool `json:"refundDue"`
	// ReviewDueProvisional: reviewDueAt ran past the working-day calendar's
	// data; it has a margin and is recomputed once the data arrives.
	ReviewDueProvisional bool `json:"reviewDueProvisional"`
}

// caseDetailJSON is the full view of one case: the summary plus what needs
// more reads (requirements, documents, history), each always present.
type caseDetailJSON struct {
	caseJSON
	Requirements requirementsJSON `json:"requirements"`
	Documents    []documentJSON   `json:"documents"`
	History      []historyJSON    `json:"history"`
	Money        *moneyJSON       `json:"money,omitempty"`
	// Appeal: reviewers' and admins' views of an appeal only.
	Appeal *appealJSON `json:"appeal,omitempty"`
}

// violationJSON is a revocation on the enterprise's record (staff only).
type violationJSON struct {
	Type       string       `json:"type"`
	Reason     string       `json:"reason"`
	Severity   string       `json:"severity"`
	RevokedAt  apitime.Time `json:"revokedAt"`
	Overturned bool         `json:"overturned"`
}

// appealJSON is what a reviewer weighs on an appeal (staff only).
type appealJSON struct {
	Revocations       []violationJSON `json:"revocations"`
	EarlierViolations []violationJSON `json:"earlierViolations"`
}

func appealView(a *domain.AppealContext) *appealJSON {
	if a == nil {
		return nil
	}
	list := func(vs []domain.Violation) []violationJSON {
		out := []violationJSON{}
		for _, v := range vs {
			out = append(out, violationJSON{Type: string(v.Type), Reason: v.Reason, Severity: v.Severity,
				RevokedAt: apitime.Time(v.RevokedAt), Overturned: v.Overturned})
		}
		return out
	}
	return &appealJSON{Revocations: list(a.Revocations), EarlierViolations: list(a.EarlierViolations)}
}

// asOf is what a case view is rendered against: the time, and the
// working-day calendar in force (read only when a view counts working
// days).
type asOf struct {
	now time.Time
	cal func() *domain.Calendar
}

// asOf is the API's present.
func (a *API) asOf(ctx context.Context) asOf {
	return asOf{now: a.clock.Now(), cal: func() *domain.Calendar { return a.svc.Calendar(ctx) }}
}

// disputeJSON is what a dispute case claims; the holding profile's id is
// shown to reviewers and admins only.
type disputeJSON struct {
	USCC               string `json:"uscc"`
	HolderEnterpriseID string `json:"holderEnterpriseId,omitempty"`
}

func disputeView(d *domain.DisputeClaim, reviewer bool) *disputeJSON {
	if d == nil {
		return nil
	}
	out := &disputeJSON{USCC: d.USCC}
	if reviewer {
		out.HolderEnterpriseID = d.HolderEnterpriseID
	}
	return out
}

// caseSummary renders a case without its documents, requirements and
// history (lists and the queue), as an applicant may see it: without the
// reviewer holding the claim nor the profile a dispute claims from
// (withStaffDetail adds them for staff).
func caseSummary(c *domain.Case, at asOf) caseJSON {
	out := caseJSON{
		ID: c.ID, EnterpriseID: c.EnterpriseID, Kind: string(c.Kind), Types: c.Types, ViaAgent: c.ViaAgent,
		AgentID: c.AgentID, Dispute: disputeView(c.Dispute, false),
		Status: string(c.Status), Version: c.Version, CreatedAt: apitime.Time(c.CreatedAt), UpdatedAt: apitime.Time(c.UpdatedAt),
		SubmittedAt: apitime.Ptr(c.SubmittedAt), ReviewDueAt: apitime.Ptr(c.ReviewDueAt),
		ReviewDueProvisional: c.ReviewDueProvisional(), Fee: feeView(c.Fee),
		Verifications: map[string]*verificationJSON{"face": verificationView(c.Face), "qr": verificationView(c.QR)},
		Bank:          bankView(c.Deposit), Payment: paymentView(c.Payment, c.Fee), Explanation: c.Explanation,
		ChangeRequests: c.ChangeRequests, Review: reviewJSON{Reasons: []string{}, Redo: []redoJSON{}},
		Change: profileChangeView(c.Change), RefundDue: c.Money.ReceivedFen > c.Money.KeptFen,
	}
	for _, it := range c.Redo {
		out.Review.Redo = append(out.Review.Redo, redoJSON{Requirement: it.Requirement, Reason: it.Reason, Note: it.Note, RequestedAt: apitime.Time(it.Since)})
	}
	if out.Types == nil {
		out.Types = []domain.CertType{}
	}
	if cl := c.Claim; cl != nil {
		out.Review.ClaimExpiresAt = apitime.Ptr(&cl.ExpiresAt)
	}
	if d := c.LastDecision; d != nil {
		out.Review.Decision, out.Review.Note, out.Review.DecidedAt = string(d.Decision), d.Note, apitime.Ptr(&d.At)
		if d.Reasons != nil {
			out.Review.Reasons = d.Reasons
		}
	}
	if c.ReviewDueAt != nil && (c.Status == domain.CaseSubmitted || c.Status == domain.CaseInReview) {
		out.Review.SLAState, out.Review.OverdueDays = at.cal().SLAState(*c.ReviewDueAt, at.now)
	}
	return out
}

// withStaffDetail adds to a staff view which reviewer holds (or last
// held) the claim and, for a dispute, the profile holding the USCC:
// applicants see neither.
func withStaffDetail(out caseJSON, c *domain.Case) caseJSON {
	if c.Claim != nil {
		out.Review.ClaimedBy = c.Claim.ReviewerID
	}
	out.Dispute = disputeView(c.Dispute, true)
	return out
}

func caseView(v *certsvc.CaseView, lang string, reviewer bool, at asOf) caseDetailJSON {
	sum := caseSummary(v.Case, at)
	out := caseDetailJSON{caseJSON: sum, Requirements: certsvc.RequirementsJSON(v.Requirements, lang),
		Documents: []documentJSON{}}
	if reviewer {
		out.caseJSON = withStaffDetail(sum, v.Case)
		out.Appeal = appealView(v.Appeal)
	}
	for i := range v.Documents {
		out.Documents = append(out.Documents, documentView(&v.Documents[i], lang, reviewer))
	}
	out.History = historyView(v.History, reviewer)
	m := moneyView(v.Case, v.Refunds)
	out.Money, out.RefundDue = &m, m.RefundPendingFen > 0
	return out
}

// revealJSON is the one response with the legal representative's
// identifiers in the clear (POST /v1/review/cases/{caseId}/reveal, audited).
type revealJSON struct {
	CaseID       string       `json:"caseId"`
	EnterpriseID string       `json:"enterpriseId"`
	LegalRep     legalRepJSON `json:"legalRep"`
	RevealedAt   apitime.Time `json:"revealedAt"`
}

func revealView(v *certsvc.LegalRepReveal) revealJSON {
	return revealJSON{CaseID: v.CaseID, EnterpriseID: v.EnterpriseID, RevealedAt: apitime.Time(v.RevealedAt),
		LegalRep: legalRepJSON{Name: v.LegalRep.Name, IDNumber: v.LegalRep.IDNumber, Phone: v.LegalRep.Phone}}
}

type requirementsJSON = certsvc.RequirementsDoc

type notificationJSON struct {
	ID        string        `json:"id"`
	Kind      string        `json:"kind"`
	CaseID    string        `json:"caseId,omitempty"`
	Title     string        `json:"title"`
	Body      string        `json:"body"`
	CreatedAt apitime.Time  `json:"createdAt"`
	ReadAt    *apitime.Time `json:"readAt"`
}

func notificationView(n *certsvc.InboxItem, lang string) notificationJSON {
	return notificationJSON{ID: n.ID, Kind: n.Kind, CaseID: n.CaseID, Title: n.Title.In(lang), Body: n.Body.In(lang),
		CreatedAt: apitime.Time(n.CreatedAt), ReadAt: apitime.Ptr(n.ReadAt)}
}

// notificationSettingsJSON: the caller's channels; the phone masked.
type notificationSettingsJSON struct {
	InApp     channelOnJSON      `json:"inApp"`
	WeChat    wechatSettingsJSON `json:"wechat"`
	SMS       smsSettingsJSON    `json:"sms"`
	UpdatedAt *apitime.Time      `json:"updatedAt"`
	Version   int                `json:"version"`
}

type channelOnJSON struct {
	Enabled bool `json:"enabled"`
}

type wechatSettingsJSON struct {
	Enabled     bool     `json:"enabled"`
	OpenID      *string  `json:"openId"`
	TemplateIDs []string `json:"templateIds"`
}

type smsSettingsJSON struct {
	Enabled bool    `json:"enabled"`
	Phone   *string `json:"phone"`
}

func notificationSettingsView(m *domain.Member) notificationSettingsJSON {
	p := m.Notify
	out := notificationSettingsJSON{InApp: channelOnJSON{Enabled: true},
		WeChat:  wechatSettingsJSON{Enabled: p.WeChat, TemplateIDs: p.WeChatTemplates},
		SMS:     smsSettingsJSON{Enabled: p.SMS},
		Version: m.Version}
	if out.WeChat.TemplateIDs == nil {
		out.WeChat.TemplateIDs = []string{}
	}
	if p.WeChatOpenID != "" {
		out.WeChat.OpenID = &p.WeChatOpenID
	}
	if p.Phone != "" {
		masked := domain.MaskPhone(p.Phone)
		out.SMS.Phone = &masked
	}
	if !p.UpdatedAt.IsZero() {
		out.UpdatedAt = apitime.Ptr(&p.UpdatedAt)
	}
	return out
}

type webhookEndpointJSON struct {
	ID                      string        `json:"id"`
	URL                     string        `json:"url"`
	EventTypes              []string      `json:"eventTypes"`
	Status                  string        `json:"status"`
	DisabledReason          *string       `json:"disabledReason"`
	PreviousSecretExpiresAt *apitime.Time `json:"previousSecretExpiresAt"`
	CreatedAt               apitime.Time  `json:"createdAt"`
	UpdatedAt               apitime.Time  `json:"updatedAt"`
	Version                 int           `json:"version"`
	// Secret is shown once: when the endpoint is made or its secret rotated.
	Secret string `json:"secret,omitempty"`
}

func webhookEndpointView(e *domain.WebhookEndpoint, now time.Time) webhookEndpointJSON {
	out := webhookEndpointJSON{ID: e.ID, URL: e.URL, EventTypes: e.EventTypes, Status: string(e.Status),
		CreatedAt: apitime.Time(e.CreatedAt), UpdatedAt: apitime.Time(e.UpdatedAt), Version: e.Version}
	if e.DisabledReason != "" {
		out.DisabledReason = &e.DisabledReason
	}
	if e.PreviousUntil != nil && now.Before(*e.PreviousUntil) {
		out.PreviousSecretExpiresAt = apitime.Ptr(e.PreviousUntil)
	}
	return out
}

type webhookDeliveryJSON struct {
	ID            string        `json:"id"`
	EventID       string        `json:"eventId"`
	EventType     string        `json:"eventType"`
	Status        string        `json:"status"`
	Attempts      int           `json:"attempts"`
	NextAttemptAt *apitime.Time `json:"nextAttemptAt"`
	LastError     *string       `json:"lastError"`
	LastStatus    *int          `json:"lastStatus"`
	CreatedAt     apitime.Time  `json:"createdAt"`
	DeliveredAt   *apitime.Time `json:"deliveredAt"`
}

func webhookDeliveryView(d *domain.Delivery) webhookDeliveryJSON {
	out := webhookDeliveryJSON{ID: d.ID, EventID: notify.EventIDPrefix + d.NotificationID, EventType: d.Event, Status: string(d.Status),
		Attempts: d.Attempts, CreatedAt: apitime.Time(d.CreatedAt), DeliveredAt: apitime.Ptr(d.DeliveredAt)}
	if d.Status == domain.DeliveryPending {
		out.NextAttemptAt = apitime.Ptr(d.NextAttemptAt)
	}
	if d.LastError != "" {
		out.LastError = &d.LastError
	}
	if d.LastStatus != 0 {
		out.LastStatus = &d.LastStatus
	}
	return out
}

// page is the list envelope.
type page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"nextCursor"`
}

func newPage[T any](items []T, next string) page[T] {
	if items == nil {
		items = []T{}
	}
	p := page[T]{Items: items}
	if next != "" {
		p.NextCursor = &next
	}
	return p
}

// render turns a reply into the API Gateway response.
func render(rep *reply, lang string) events.APIGatewayV2HTTPResponse {
	headers := map[string]string{"Content-Type": "application/json", "Content-Language": langTag(lang), "Cache-Control": "no-store"}
	for k, v := range rep.headers {
		headers[k] = v
	}
	status := rep.status
	if status == 0 {
		status = http.StatusOK
	}
	if status == http.StatusNoContent {
		delete(headers, "Content-Type")
		return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: headers}
	}
	body, err := json.Marshal(rep.body)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{StatusCode: 500, Headers: map[string]string{"Content-Type": "application/problem+json"},
			Body: `{"type":"about:blank","title":"Internal Server Error","status":500,"detail":"","code":"internal"}`}
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: headers, Body: string(body)}
}

// moneyJSON is the case's fee account: what was paid, what the fee kept,
// what was paid back and what is still owed back (pending or failed and
// awaiting an admin's retry), with each refund.
type moneyJSON struct {
	Currency         string       `json:"currency"`
	PaidFen          int64        `json:"paidFen"`
	KeptFen          int64        `json:"keptFen"`
	RefundedFen      int64        `json:"refundedFen"`
	RefundPendingFen int64        `json:"refundPendingFen"`
	Refunds          []refundJSON `json:"refunds"`
}

type refundJSON struct {
	ID            string        `json:"id"`
	CaseID        string        `json:"caseId"`
	OrderID       string        `json:"orderId"`
	AmountFen     int64         `json:"amountFen"`
	Currency      string        `json:"currency"`
	Reason        string        `json:"reason"`
	Status        string        `json:"status"`
	Attempts      int           `json:"attempts"`
	NextAttemptAt *apitime.Time `json:"nextAttemptAt"`
	FailureCode   string        `json:"failureCode,omitempty"`
	CreatedAt     apitime.Time  `json:"createdAt"`
	CompletedAt   *apitime.Time `json:"completedAt"`
}

func refundView(r *domain.Refund) refundJSON {
	return refundJSON{ID: r.ID, CaseID: r.CaseID, OrderID: r.OrderID, AmountFen: r.AmountFen, Currency: "CNY",
		Reason: string(r.Reason), Status: string(r.Status), Attempts: r.Attempts, NextAttemptAt: apitime.Ptr(r.NextAttemptAt),
		FailureCode: r.FailureCode, CreatedAt: apitime.Time(r.CreatedAt), CompletedAt: apitime.Ptr(r.CompletedAt)}
}

func moneyView(c *domain.Case, refunds []domain.Refund) moneyJSON {
	m := moneyJSON{Currency: "CNY", PaidFen: c.Money.ReceivedFen, KeptFen: c.Money.KeptFen, Refunds: []refundJSON{}}
	for i := range refunds {
		r := &refunds[i]
		if r.Status == domain.RefundSucceeded {
			m.RefundedFen += r.AmountFen
		} else {
			m.RefundPendingFen += r.AmountFen
		}
		m.Refunds = append(m.Refunds, refundView(r))
	}
	return m
}

// memberJSON is one member of an enterprise.
type memberJSON struct {
	UserID    string       `json:"userId"`
	Role      string       `json:"role"`
	Label     string       `json:"label,omitempty"`
	InvitedBy string       `json:"invitedBy,omitempty"`
	JoinedAt  apitime.Time `json:"joinedAt"`
	Version   int          `json:"version"`
}

func memberView(m *domain.Member) memberJSON {
	return memberJSON{UserID: m.UserID, Role: string(m.Role), Label: m.Label, InvitedBy: m.InvitedBy, JoinedAt: apitime.Time(m.JoinedAt), Version: m.Version}
}

// invitationJSON is an invitation; Code is set only in the answer that
// made it.
type invitationJSON struct {
	ID           string        `json:"id"`
	EnterpriseID string        `json:"enterpriseId"`
	Role         string        `json:"role"`
	Label        string        `json:"label,omitempty"`
	Status       string        `json:"status"`
	CreatedBy    string        `json:"createdBy"`
	CreatedAt    apitime.Time  `json:"createdAt"`
	ExpiresAt    apitime.Time  `json:"expiresAt"`
	AcceptedBy   string        `json:"acceptedBy,omitempty"`
	AcceptedAt   *apitime.Time `json:"acceptedAt,omitempty"`
	Version      int           `json:"version"`
	Code         string        `json:"code,omitempty"`
}

func invitationView(i *domain.Invitation, now time.Time) invitationJSON {
	return invitationJSON{ID: i.ID, EnterpriseID: i.EnterpriseID, Role: string(i.Role), Label: i.Label, Status: string(i.StatusAt(now)),
		CreatedBy: i.CreatedBy, CreatedAt: apitime.Time(i.CreatedAt), ExpiresAt: apitime.Time(i.ExpiresAt), AcceptedBy: i.AcceptedBy, AcceptedAt: apitime.Ptr(i.AcceptedAt),
		Version: i.Version}
}
