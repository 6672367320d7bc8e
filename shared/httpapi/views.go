package httpapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"microcert/shared/certsvc"
	"microcert/shared/domain"
)

// The JSON shapes below are the API's contract (openapi.yaml). They are
// built from domain values here and nowhere else, so masking happens in one
// place: ID numbers, phones and account numbers never leave unmasked.

type legalRepJSON struct {
	Name     string `json:"name"`
	IDNumber string `json:"idNumber"`
	Phone    string `json:"phone"`
}

type certificationJSON struct {
	Type      string     `json:"type"`
	Status    string     `json:"status"`
	IssuedAt  time.Time  `json:"issuedAt"`
	ExpiresAt time.Time  `json:"expiresAt"`
	CaseID    string     `json:"caseId"`
	Version   int        `json:"version"`
	Reason    string     `json:"revokedReason,omitempty"`
	Severity  string     `json:"severity,omitempty"`
	UpdatedAt *time.Time `json:"updatedAt,omitempty"`
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
	CreatedAt           time.Time                               `json:"createdAt"`
	UpdatedAt           time.Time                               `json:"updatedAt"`
	Certifications      []certificationJSON                     `json:"certifications"`
	Capabilities        map[domain.CertType]domain.Capabilities `json:"capabilities"`
}

func enterpriseView(v *certsvc.EnterpriseView, now time.Time) enterpriseJSON {
	e := v.Enterprise
	out := enterpriseJSON{
		ID: e.ID, Name: e.Name, USCC: e.USCC,
		LegalRep: legalRepJSON{Name: e.LegalRep.Name, IDNumber: domain.MaskIDNumber(e.LegalRep.IDNumber),
			Phone: domain.MaskPhone(e.LegalRep.Phone)},
		RegisteredAddress: e.RegisteredAddress, OperatingAddress: e.OperatingAddress, RegionCode: e.RegionCode,
		HasCorporateAccount: e.HasCorporateAccount, Status: enterpriseStatus(e), FrozenReason: e.FrozenReason, MyRole: string(v.MyRole),
		Version: e.Version, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt,
		Certifications: []certificationJSON{},
		Capabilities:   map[domain.CertType]domain.Capabilities{},
	}
	held := map[domain.CertType]*domain.Certification{}
	for i := range v.Certifications {
		c := &v.Certifications[i]
		held[c.Type] = c
		out.Certifications = append(out.Certifications, certView(c, now))
	}
	for _, t := range domain.CertTypes {
		out.Capabilities[t] = domain.CapabilitiesFor(held[t], now)
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

// certView shows the status in force at now: a certification past its
// expiry is overdue even before the daily job has recorded it, so the status
// and the capabilities shown never disagree.
func certView(c *domain.Certification, now time.Time) certificationJSON {
	out := certificationJSON{Type: string(c.Type), Status: string(c.EffectiveStatus(now, domain.DefaultRules)), IssuedAt: c.IssuedAt, ExpiresAt: c.ExpiresAt,
		CaseID: c.CaseID, Version: c.Version, Reason: c.RevokedReason, Severity: c.Severity}
	if !c.UpdatedAt.IsZero() {
		u := c.UpdatedAt
		out.UpdatedAt = &u
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
	CheckedAt *time.Time         `json:"checkedAt,omitempty"`
}

type documentJSON struct {
	ID            string    `json:"id"`
	CaseID        string    `json:"caseId"`
	DocType       string    `json:"docType"`
	ContentType   string    `json:"contentType"`
	ContentLength int64     `json:"contentLength"`
	CreatedAt     time.Time `json:"createdAt"`
	Check         checkJSON `json:"check"`
	// ReusedByOtherEnterprise is shown to reviewers only: a fraud signal.
	ReusedByOtherEnterprise *bool `json:"reusedByOtherEnterprise,omitempty"`
}

func documentView(d *domain.Document, lang string, reviewer bool) documentJSON {
	out := documentJSON{ID: d.ID, CaseID: d.CaseID, DocType: string(d.DocType), ContentType: d.ContentType,
		ContentLength: d.ContentLength, CreatedAt: d.CreatedAt,
		Check: checkJSON{Status: string(d.Status), Findings: findingsView(d.Findings, lang), Metrics: d.Metrics, CheckedAt: d.CheckedAt}}
	if reviewer {
		r := d.ReusedByOthers
		out.ReusedByOtherEnterprise = &r
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
	SessionID   string     `json:"sessionId"`
	Kind        string     `json:"kind"`
	Status      string     `json:"status"`
	ExpiresAt   time.Time  `json:"expiresAt"`
	CompletedAt *time.Time `json:"completedAt,omitempty"`
}

func verificationView(v *domain.Verification) *verificationJSON {
	if v == nil {
		return nil
	}
	return &verificationJSON{SessionID: v.SessionID, Kind: string(v.Kind), Status: string(v.Status), ExpiresAt: v.ExpiresAt, CompletedAt: v.CompletedAt}
}

type bankJSON struct {
	Status       string     `json:"status"`
	BankName     string     `json:"bankName"`
	AccountName  string     `json:"accountName"`
	Account      string     `json:"account"`
	Deadline     time.Time  `json:"deadline"`
	AttemptsLeft int        `json:"attemptsLeft"`
	VerifiedAt   *time.Time `json:"verifiedAt,omitempty"`
}

func bankView(d *domain.Deposit) *bankJSON {
	if d == nil {
		return nil
	}
	return &bankJSON{Status: string(d.Status), BankName: d.BankName, AccountName: d.AccountName,
		Account: "**** " + d.AccountLast4, Deadline: d.Deadline, AttemptsLeft: d.AttemptsLeft, VerifiedAt: d.VerifiedAt}
}

type paymentJSON struct {
	OrderID    string     `json:"orderId"`
	Status     string     `json:"status"`
	AmountFen  int64      `json:"amountFen"`
	SubsidyFen int64      `json:"subsidyFen"`
	PayableFen int64      `json:"payableFen"`
	PaidFen    int64      `json:"paidFen"`
	Currency   string     `json:"currency"`
	PaidAt     *time.Time `json:"paidAt,omitempty"`
}

func paymentView(p *domain.Payment, f domain.Fee) *paymentJSON {
	if p == nil {
		return nil
	}
	return &paymentJSON{OrderID: p.OrderID, Status: string(p.Status), AmountFen: f.AmountFen, SubsidyFen: f.SubsidyFen,
		PayableFen: p.AmountFen, PaidFen: p.PaidFen, Currency: "CNY", PaidAt: p.PaidAt}
}

type historyJSON struct {
	At         time.Time `json:"at"`
	ActorID    string    `json:"actorId"`
	Role       string    `json:"role"`
	MemberRole string    `json:"memberRole,omitempty"`
	Subject    string    `json:"subject"`
	From       string    `json:"from"`
	To         string    `json:"to"`
	Reasons    []string  `json:"reasons"`
	Note       string    `json:"note,omitempty"`
}

func historyView(hs []domain.HistoryEntry) []historyJSON {
	out := []historyJSON{}
	for _, h := range hs {
		reasons := h.Reasons
		if reasons == nil {
			reasons = []string{}
		}
		out = append(out, historyJSON{At: h.At, ActorID: h.ActorID, Role: string(h.Role), MemberRole: string(h.MemberRole), Subject: h.Subject,
			From: h.From, To: h.To, Reasons: reasons, Note: h.Note})
	}
	return out
}

type reviewJSON struct {
	ClaimedBy      string     `json:"claimedBy,omitempty"`
	ClaimExpiresAt *time.Time `json:"claimExpiresAt,omitempty"`
	Decision       string     `json:"decision,omitempty"`
	Reasons        []string   `json:"reasons"`
	Note           string     `json:"note,omitempty"`
	DecidedAt      *time.Time `json:"decidedAt,omitempty"`
	SLAState       string     `json:"slaState,omitempty"`
	OverdueDays    int        `json:"overdueWorkingDays,omitempty"`
	// Redo: what the last request for changes sent back.
	Redo []redoJSON `json:"redo"`
}

type redoJSON struct {
	Requirement string    `json:"requirement"`
	Reason      string    `json:"reason"`
	Note        string    `json:"note,omitempty"`
	RequestedAt time.Time `json:"requestedAt"`
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
	CreatedAt      time.Time                    `json:"createdAt"`
	UpdatedAt      time.Time                    `json:"updatedAt"`
	SubmittedAt    *time.Time                   `json:"submittedAt"`
	ReviewDueAt    *time.Time                   `json:"reviewDueAt"`
	Fee            feeJSON                      `json:"fee"`
	Requirements   *requirementsJSON            `json:"requirements,omitempty"`
	Documents      []documentJSON               `json:"documents,omitempty"`
	Verifications  map[string]*verificationJSON `json:"verifications"`
	Bank           *bankJSON                    `json:"bankVerification"`
	Payment        *paymentJSON                 `json:"payment"`
	Explanation    string                       `json:"explanation,omitempty"`
	Review         reviewJSON                   `json:"review"`
	ChangeRequests int                          `json:"changeRequests"`
	Change         *profileChangeJSON           `json:"change,omitempty"`
	RefundDue      bool                         `json:"refundDue"`
	History        []historyJSON                `json:"history,omitempty"`
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
// history (lists and the queue); reviewer says whether staff read it.
func caseSummary(c *domain.Case, now time.Time, reviewer bool) caseJSON {
	types := c.Types
	if types == nil {
		types = []domain.CertType{}
	}
	out := caseJSON{
		ID: c.ID, EnterpriseID: c.EnterpriseID, Kind: string(c.Kind), Types: types, ViaAgent: c.ViaAgent,
		AgentID: c.AgentID, Dispute: disputeView(c.Dispute, reviewer),
		Status: string(c.Status), Version: c.Version, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		SubmittedAt: c.SubmittedAt, ReviewDueAt: c.ReviewDueAt, Fee: feeView(c.Fee),
		Verifications: map[string]*verificationJSON{"face": verificationView(c.Face), "qr": verificationView(c.QR)},
		Bank:          bankView(c.Deposit), Payment: paymentView(c.Payment, c.Fee), Explanation: c.Explanation,
		ChangeRequests: c.ChangeRequests, RefundDue: c.RefundDue, Review: reviewJSON{Reasons: []string{}, Redo: []redoJSON{}},
		Change: profileChangeView(c.Change),
	}
	for _, it := range c.Redo {
		out.Review.Redo = append(out.Review.Redo, redoJSON{Requirement: it.Requirement, Reason: it.Reason, Note: it.Note, RequestedAt: it.Since})
	}
	if cl := c.Claim; cl != nil {
		exp := cl.ExpiresAt
		out.Review.ClaimedBy, out.Review.ClaimExpiresAt = cl.ReviewerID, &exp
	}
	if d := c.LastDecision; d != nil {
		at := d.At
		out.Review.Decision, out.Review.Note, out.Review.DecidedAt = string(d.Decision), d.Note, &at
		if d.Reasons != nil {
			out.Review.Reasons = d.Reasons
		}
	}
	if c.ReviewDueAt != nil && (c.Status == domain.CaseSubmitted || c.Status == domain.CaseInReview) {
		if state, days, err := domain.SLAState(*c.ReviewDueAt, now); err == nil {
			out.Review.SLAState, out.Review.OverdueDays = state, days
		}
	}
	return out
}

func caseView(v *certsvc.CaseView, lang string, reviewer bool, now time.Time) caseJSON {
	out := caseSummary(v.Case, now, reviewer)
	req := certsvc.RequirementsJSON(v.Requirements, lang)
	out.Requirements = &req
	out.Documents = []documentJSON{}
	for i := range v.Documents {
		out.Documents = append(out.Documents, documentView(&v.Documents[i], lang, reviewer))
	}
	out.History = historyView(v.History)
	return out
}

type requirementsJSON = certsvc.RequirementsDoc

type notificationJSON struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	CaseID    string    `json:"caseId,omitempty"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"createdAt"`
}

func notificationView(n *domain.Notification, lang string) notificationJSON {
	return notificationJSON{ID: n.ID, Kind: n.Kind, CaseID: n.CaseID, Title: n.Title.In(lang), Body: n.Body.In(lang), CreatedAt: n.CreatedAt}
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

// memberJSON is one member of an enterprise.
type memberJSON struct {
	UserID    string    `json:"userId"`
	Role      string    `json:"role"`
	Label     string    `json:"label,omitempty"`
	InvitedBy string    `json:"invitedBy,omitempty"`
	JoinedAt  time.Time `json:"joinedAt"`
	Version   int       `json:"version"`
}

func memberView(m *domain.Member) memberJSON {
	return memberJSON{UserID: m.UserID, Role: string(m.Role), Label: m.Label, InvitedBy: m.InvitedBy, JoinedAt: m.JoinedAt, Version: m.Version}
}

// invitationJSON is an invitation; Code is set only in the answer that
// made it.
type invitationJSON struct {
	ID           string     `json:"id"`
	EnterpriseID string     `json:"enterpriseId"`
	Role         string     `json:"role"`
	Label        string     `json:"label,omitempty"`
	Status       string     `json:"status"`
	CreatedBy    string     `json:"createdBy"`
	CreatedAt    time.Time  `json:"createdAt"`
	ExpiresAt    time.Time  `json:"expiresAt"`
	AcceptedBy   string     `json:"acceptedBy,omitempty"`
	AcceptedAt   *time.Time `json:"acceptedAt,omitempty"`
	Version      int        `json:"version"`
	Code         string     `json:"code,omitempty"`
}

func invitationView(i *domain.Invitation, now time.Time) invitationJSON {
	return invitationJSON{ID: i.ID, EnterpriseID: i.EnterpriseID, Role: string(i.Role), Label: i.Label, Status: string(i.StatusAt(now)),
		CreatedBy: i.CreatedBy, CreatedAt: i.CreatedAt, ExpiresAt: i.ExpiresAt, AcceptedBy: i.AcceptedBy, AcceptedAt: i.AcceptedAt,
		Version: i.Version}
}
