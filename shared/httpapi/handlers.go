package httpapi

import (
	"context"
	"strconv"
	"time"

	"microcert/shared/apitime"
	"microcert/shared/certsvc"
	"microcert/shared/domain"
	"microcert/shared/webhook"
)

// Request bodies. Pointer fields tell "missing" from "zero"; unknown fields
// are refused by DecodeJSON, so clients cannot set status, version, owner
// or keys by adding them to a body (mass assignment).

type legalRepBody struct {
	Name     *string `json:"name"`
	IDNumber *string `json:"idNumber"`
	Phone    *string `json:"phone"`
}

type createEnterpriseBody struct {
	Name                *string       `json:"name"`
	USCC                *string       `json:"uscc"`
	LegalRep            *legalRepBody `json:"legalRep"`
	RegisteredAddress   *string       `json:"registeredAddress"`
	OperatingAddress    *string       `json:"operatingAddress"`
	RegionCode          *string       `json:"regionCode"`
	HasCorporateAccount *bool         `json:"hasCorporateAccount"`
}

type patchEnterpriseBody struct {
	Name                *string       `json:"name"`
	LegalRep            *legalRepBody `json:"legalRep"`
	RegisteredAddress   *string       `json:"registeredAddress"`
	OperatingAddress    *string       `json:"operatingAddress"`
	RegionCode          *string       `json:"regionCode"`
	HasCorporateAccount *bool         `json:"hasCorporateAccount"`
	Version             *int          `json:"version"`
}

type openCaseBody struct {
	EnterpriseID *string            `json:"enterpriseId"`
	Kind         *string            `json:"kind"`
	Types        []domain.CertType  `json:"types"`
	ViaAgent     *bool              `json:"viaAgent"`
	AgentID      *string            `json:"agentId"`
	Change       *profileChangeBody `json:"change"`
}

// profileChangeBody: the new values of a change case (kind change).
type profileChangeBody struct {
	Name                *string       `json:"name"`
	LegalRep            *legalRepBody `json:"legalRep"`
	RegisteredAddress   *string       `json:"registeredAddress"`
	OperatingAddress    *string       `json:"operatingAddress"`
	HasCorporateAccount *bool         `json:"hasCorporateAccount"`
}

// profileChange converts the body; a legal rep must be given whole (a new
// legal rep is a new person).
func (b *profileChangeBody) profileChange() (*domain.ProfileChange, error) {
	if b == nil {
		return nil, nil
	}
	p := &domain.ProfileChange{Name: b.Name, RegisteredAddress: b.RegisteredAddress, OperatingAddress: b.OperatingAddress,
		HasCorporateAccount: b.HasCorporateAccount}
	if b.LegalRep != nil {
		if err := required("change.legalRep.name", b.LegalRep.Name != nil, "change.legalRep.idNumber", b.LegalRep.IDNumber != nil,
			"change.legalRep.phone", b.LegalRep.Phone != nil); err != nil {
			return nil, err
		}
		p.LegalRep = &domain.LegalRep{Name: *b.LegalRep.Name, IDNumber: *b.LegalRep.IDNumber, Phone: *b.LegalRep.Phone}
	}
	return p, nil
}

type uploadBody struct {
	DocType       *string `json:"docType"`
	ContentType   *string `json:"contentType"`
	ContentLength *int64  `json:"contentLength"`
}

type explanationBody struct {
	Text *string `json:"text"`
}

type bankBody struct {
	BankName      *string `json:"bankName"`
	AccountName   *string `json:"accountName"`
	AccountNumber *string `json:"accountNumber"`
}

type confirmBody struct {
	AmountFen *int64 `json:"amountFen"`
}

type faceCallbackBody struct {
	SessionID                *string  `json:"sessionId"`
	Result                   *string  `json:"result"`
	PhoneMatchesRegistration *bool    `json:"phoneMatchesRegistration"`
	LivenessScore            *float64 `json:"livenessScore"`
}

type paymentCallbackBody struct {
	OrderID       *string    `json:"orderId"`
	Status        *string    `json:"status"`
	PaidFen       *int64     `json:"paidFen"`
	TransactionID *string    `json:"transactionId"`
	PaidAt        *time.Time `json:"paidAt"`
}

type refundCallbackBody struct {
	RefundID         *string    `json:"refundId"`
	ProviderRefundID *string    `json:"providerRefundId"`
	Status           *string    `json:"status"`
	AmountFen        *int64     `json:"amountFen"`
	SucceededAt      *time.Time `json:"succeededAt"`
	FailReason       *string    `json:"failReason"`
}

// required lists the missing fields among name/present pairs.
func required(pairs ...any) error {
	var fields []domain.FieldError
	for i := 0; i+1 < len(pairs); i += 2 {
		name := pairs[i].(string)
		if pairs[i+1].(bool) {
			continue
		}
		fields = append(fields, domain.FieldError{Field: name, Code: "required",
			Message: domain.Text{Zh: "缺少字段 " + name + "。", En: "Missing field " + name + "."}})
	}
	if len(fields) == 0 {
		return nil
	}
	e := invalidFields(fields...)
	e.Code = "missing_field"
	return e
}

// noFields refuses a body with any field on a route that takes none (an
// empty body or {} is fine): what a client sends is either used or refused,
// never silently dropped.
func noFields(r *request) error {
	if len(r.body) == 0 {
		return nil
	}
	var empty struct{}
	return DecodeJSON(r.body, &empty)
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (a *API) health(ctx context.Context, r *request) (*reply, error) {
	return ok(map[string]string{"status": "ok"})
}

// enterpriseInput reads a new profile's body (a registration and a
// dispute send the same).
func enterpriseInput(body []byte) (certsvc.EnterpriseInput, error) {
	var b createEnterpriseBody
	if err := DecodeJSON(body, &b); err != nil {
		return certsvc.EnterpriseInput{}, err
	}
	if err := required("name", b.Name != nil, "uscc", b.USCC != nil, "legalRep", b.LegalRep != nil,
		"registeredAddress", b.RegisteredAddress != nil, "operatingAddress", b.OperatingAddress != nil,
		"hasCorporateAccount", b.HasCorporateAccount != nil); err != nil {
		return certsvc.EnterpriseInput{}, err
	}
	if err := required("legalRep.name", b.LegalRep.Name != nil, "legalRep.idNumber", b.LegalRep.IDNumber != nil,
		"legalRep.phone", b.LegalRep.Phone != nil); err != nil {
		return certsvc.EnterpriseInput{}, err
	}
	return certsvc.EnterpriseInput{
		Name: *b.Name, USCC: *b.USCC,
		LegalRep:          domain.LegalRep{Name: *b.LegalRep.Name, IDNumber: *b.LegalRep.IDNumber, Phone: *b.LegalRep.Phone},
		RegisteredAddress: *b.RegisteredAddress, OperatingAddress: *b.OperatingAddress, RegionCode: str(b.RegionCode),
		HasCorporateAccount: *b.HasCorporateAccount,
	}, nil
}

func (a *API) createEnterprise(ctx context.Context, r *request) (*reply, error) {
	in, err := enterpriseInput(r.body)
	if err != nil {
		return nil, err
	}
	e, err := a.svc.CreateEnterprise(ctx, r.actor, in)
	if err != nil {
		return nil, err
	}
	return created(enterpriseView(&certsvc.EnterpriseView{Enterprise: e, MyRole: domain.MemberOwner}, a.clock.Now(), a.svc.Rules()))
}

// enterpriseSummaryJSON is a profile in the caller's list, with the
// caller's role: enough to pick one; the full view (with certifications
// and capabilities) is one GET away.
type enterpriseSummaryJSON struct {
	ID         string       `json:"id"`
	Name       string       `json:"name"`
	USCC       string       `json:"uscc"`
	RegionCode string       `json:"regionCode"`
	Status     string       `json:"status"`
	Role       string       `json:"role"`
	Version    int          `json:"version"`
	CreatedAt  apitime.Time `json:"createdAt"`
}

func (a *API) listEnterprises(ctx context.Context, r *request) (*reply, error) {
	p, err := pageOf(r)
	if err != nil {
		return nil, err
	}
	ents, next, err := a.svc.ListMyEnterprises(ctx, r.actor, p)
	if err != nil {
		return nil, err
	}
	items := make([]enterpriseSummaryJSON, 0, len(ents))
	for _, m := range ents {
		e := m.Enterprise
		items = append(items, enterpriseSummaryJSON{ID: e.ID, Name: e.Name, USCC: e.USCC, RegionCode: e.Region(),
			Status: enterpriseStatus(e), Role: string(m.Role), Version: e.Version, CreatedAt: apitime.Time(e.CreatedAt)})
	}
	return ok(newPage(items, next))
}

func (a *API) getEnterprise(ctx context.Context, r *request) (*reply, error) {
	v, err := a.svc.GetEnterprise(ctx, r.actor, r.params["enterpriseId"])
	if err != nil {
		return nil, err
	}
	return ok(enterpriseView(v, a.clock.Now(), a.svc.Rules()))
}

func (a *API) patchEnterprise(ctx context.Context, r *request) (*reply, error) {
	var b patchEnterpriseBody
	if err := DecodeJSON(r.body, &b); err != nil {
		return nil, err
	}
	// version is optional: without it the server applies the patch to
	// whatever is current (retrying past other writers); with it a stale
	// version is 409 version_conflict.
	p := certsvc.EnterprisePatch{Name: b.Name, RegisteredAddress: b.RegisteredAddress, OperatingAddress: b.OperatingAddress,
		RegionCode: b.RegionCode, HasCorporateAccount: b.HasCorporateAccount, Version: b.Version}
	if b.LegalRep != nil {
		p.LegalRepName, p.LegalRepIDNumber, p.LegalRepPhone = b.LegalRep.Name, b.LegalRep.IDNumber, b.LegalRep.Phone
	}
	v, err := a.svc.PatchEnterprise(ctx, r.actor, r.params["enterpriseId"], p)
	if err != nil {
		return nil, err
	}
	return ok(enterpriseView(v, a.clock.Now(), a.svc.Rules()))
}

// pageOf reads ?limit= (1-100, default 20) and ?cursor=.
func pageOf(r *request) (domain.Page, error) {
	p := domain.Page{Limit: 20, Cursor: r.query["cursor"]}
	if v, present := r.query["limit"]; present {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return p, invalidFields(domain.FieldError{Field: "limit", Code: "invalid_limit",
				Message: domain.Text{Zh: "limit 应为 1 到 100 之间的整数。", En: "limit must be an integer from 1 to 100."}})
		}
		p.Limit = n
	}
	if len(p.Cursor) > 1024 {
		return p, domain.E(domain.KindInvalid, "invalid_cursor", "分页游标无效。", "The cursor is invalid.")
	}
	return p, nil
}

func (a *API) listCases(ctx context.Context, r *request) (*reply, error) {
	p, err := pageOf(r)
	if err != nil {
		return nil, err
	}
	cases, next, err := a.svc.ListCases(ctx, r.actor, r.params["enterpriseId"], p)
	if err != nil {
		return nil, err
	}
	at := a.asOf(ctx)
	items := make([]caseJSON, 0, len(cases))
	for i := range cases {
		c := caseSummary(&cases[i], at)
		if r.actor.CanReview() {
			c = withStaffDetail(c, &cases[i])
		}
		items = append(items, c)
	}
	return ok(newPage(items, next))
}

func (a *API) listNotifications(ctx context.Context, r *request) (*reply, error) {
	p, err := pageOf(r)
	if err != nil {
		return nil, err
	}
	notes, next, err := a.svc.ListNotifications(ctx, r.actor, r.params["enterpriseId"], p)
	if err != nil {
		return nil, err
	}
	items := make([]notificationJSON, 0, len(notes))
	for i := range notes {
		items = append(items, notificationView(&notes[i], r.lang))
	}
	return ok(newPage(items, next))
}

func (a *API) openCase(ctx context.Context, r *request) (*reply, error) {
	var b openCaseBody
	if err := DecodeJSON(r.body, &b); err != nil {
		return nil, err
	}
	if err := required("enterpriseId", b.EnterpriseID != nil, "kind", b.Kind != nil); err != nil {
		return nil, err
	}
	if domain.CaseKind(*b.Kind) != domain.KindChange {
		if err := required("types", b.Types != nil); err != nil {
			return nil, err
		}
	}
	change, err := b.Change.profileChange()
	if err != nil {
		return nil, err
	}
	viaAgent := b.ViaAgent != nil && *b.ViaAgent
	v, err := a.svc.OpenCase(ctx, r.actor, certsvc.CaseInput{EnterpriseID: *b.EnterpriseID, Kind: domain.CaseKind(*b.Kind),
		Types: b.Types, ViaAgent: viaAgent, AgentID: str(b.AgentID), Change: change})
	if err != nil {
		return nil, err
	}
	return created(caseView(v, r.lang, r.actor.CanReview(), a.asOf(ctx)))
}

func (a *API) getCase(ctx context.Context, r *request) (*reply, error) {
	v, err := a.svc.GetCase(ctx, r.actor, r.params["caseId"])
	if err != nil {
		return nil, err
	}
	return ok(caseView(v, r.lang, r.actor.CanReview(), a.asOf(ctx)))
}

type uploadJSON struct {
	DocumentID string            `json:"documentId"`
	Key        string            `json:"key"`
	URL        string            `json:"url"`
	Fields     map[string]string `json:"fields"`
	ExpiresAt  apitime.Time      `json:"expiresAt"`
	MaxBytes   int64             `json:"maxBytes"`
	Document   documentJSON      `json:"document"`
}

func (a *API) requestUpload(ctx context.Context, r *request) (*reply, error) {
	var b uploadBody
	if err := DecodeJSON(r.body, &b); err != nil {
		return nil, err
	}
	if err := required("docType", b.DocType != nil, "contentType", b.ContentType != nil, "contentLength", b.ContentLength != nil); err != nil {
		return nil, err
	}
	u, err := a.svc.RequestUpload(ctx, r.actor, r.params["caseId"], certsvc.UploadInput{
		DocType: domain.DocType(*b.DocType), ContentType: *b.ContentType, ContentLength: *b.ContentLength})
	if err != nil {
		return nil, err
	}
	return created(uploadJSON{DocumentID: u.Document.ID, Key: u.Document.Key(), URL: u.Post.URL, Fields: u.Post.Fields,
		ExpiresAt: apitime.Time(u.Post.ExpiresAt), MaxBytes: u.MaxBytes,
		Document: documentView(u.Document, r.lang, false)})
}

func (a *API) listDocuments(ctx context.Context, r *request) (*reply, error) {
	docs, err := a.svc.ListDocuments(ctx, r.actor, r.params["caseId"])
	if err != nil {
		return nil, err
	}
	items := make([]documentJSON, 0, len(docs))
	for i := range docs {
		items = append(items, documentView(&docs[i], r.lang, r.actor.CanReview()))
	}
	return ok(newPage(items, ""))
}

func (a *API) startFace(ctx context.Context, r *request) (*reply, error) {
	return a.startVerification(ctx, r, domain.VerifyFace)
}

func (a *API) startQR(ctx context.Context, r *request) (*reply, error) {
	return a.startVerification(ctx, r, domain.VerifyQR)
}

func (a *API) startVerification(ctx context.Context, r *request, kind domain.VerificationKind) (*reply, error) {
	if err := noFields(r); err != nil {
		return nil, err
	}
	v, err := a.svc.StartVerification(ctx, r.actor, r.params["caseId"], kind)
	if err != nil {
		return nil, err
	}
	return created(verificationView(v))
}

func (a *API) setExplanation(ctx context.Context, r *request) (*reply, error) {
	var b explanationBody
	if err := DecodeJSON(r.body, &b); err != nil {
		return nil, err
	}
	if err := required("text", b.Text != nil); err != nil {
		return nil, err
	}
	v, err := a.svc.SetExplanation(ctx, r.actor, r.params["caseId"], *b.Text)
	if err != nil {
		return nil, err
	}
	return ok(caseView(v, r.lang, false, a.asOf(ctx)))
}

func (a *API) startDeposit(ctx context.Context, r *request) (*reply, error) {
	var b bankBody
	if err := DecodeJSON(r.body, &b); err != nil {
		return nil, err
	}
	if err := required("bankName", b.BankName != nil, "accountName", b.AccountName != nil, "accountNumber", b.AccountNumber != nil); err != nil {
		return nil, err
	}
	d, err := a.svc.StartDeposit(ctx, r.actor, r.params["caseId"], certsvc.BankInput{BankName: *b.BankName,
		AccountName: *b.AccountName, AccountNumber: *b.AccountNumber})
	if err != nil {
		return nil, err
	}
	return created(bankView(d))
}

func (a *API) confirmDeposit(ctx context.Context, r *request) (*reply, error) {
	var b confirmBody
	if err := DecodeJSON(r.body, &b); err != nil {
		return nil, err
	}
	if err := required("amountFen", b.AmountFen != nil); err != nil {
		return nil, err
	}
	d, err := a.svc.ConfirmDeposit(ctx, r.actor, r.params["caseId"], *b.AmountFen)
	if err != nil {
		return nil, err
	}
	return ok(bankView(d))
}

func (a *API) createPayment(ctx context.Context, r *request) (*reply, error) {
	if err := noFields(r); err != nil {
		return nil, err
	}
	p, fee, err := a.svc.CreatePayment(ctx, r.actor, r.params["caseId"])
	if err != nil {
		return nil, err
	}
	return created(paymentView(p, *fee))
}

func (a *API) submit(ctx context.Context, r *request) (*reply, error) {
	if err := noFields(r); err != nil {
		return nil, err
	}
	v, err := a.svc.Submit(ctx, r.actor, r.params["caseId"])
	if err != nil {
		return nil, err
	}
	return ok(caseView(v, r.lang, false, a.asOf(ctx)))
}

func (a *API) withdraw(ctx context.Context, r *request) (*reply, error) {
	if err := noFields(r); err != nil {
		return nil, err
	}
	v, err := a.svc.Withdraw(ctx, r.actor, r.params["caseId"])
	if err != nil {
		return nil, err
	}
	return ok(caseView(v, r.lang, false, a.asOf(ctx)))
}

type downloadJSON struct {
	URL       string       `json:"url"`
	ExpiresAt apitime.Time `json:"expiresAt"`
	Document  documentJSON `json:"document"`
}

func (a *API) download(ctx context.Context, r *request) (*reply, error) {
	d, err := a.svc.DownloadDocument(ctx, r.actor, r.params["documentId"])
	if err != nil {
		return nil, err
	}
	return ok(downloadJSON{URL: d.URL, ExpiresAt: apitime.Time(d.ExpiresAt), Document: documentView(d.Document, r.lang, r.actor.CanReview())})
}

func (a *API) faceCallback(ctx context.Context, r *request) (*reply, error) {
	if err := a.svc.VerifyFaceCallback(r.headers[lowerSig], r.body); err != nil {
		return nil, err
	}
	var b faceCallbackBody
	if err := DecodeJSON(r.body, &b); err != nil {
		return nil, err
	}
	if err := required("sessionId", b.SessionID != nil, "result", b.Result != nil,
		"phoneMatchesRegistration", b.PhoneMatchesRegistration != nil); err != nil {
		return nil, err
	}
	score := 0.0
	if b.LivenessScore != nil {
		score = *b.LivenessScore
	}
	v, err := a.svc.RecordFaceResult(ctx, certsvc.FaceResult{SessionID: *b.SessionID, Result: *b.Result,
		PhoneMatchesRegistration: *b.PhoneMatchesRegistration, LivenessScore: score})
	if err != nil {
		return nil, err
	}
	return ok(map[string]string{"sessionId": v.SessionID, "status": string(v.Status)})
}

var lowerSig = lower(webhook.Header)

func (a *API) paymentCallback(ctx context.Context, r *request) (*reply, error) {
	if err := a.svc.VerifyPaymentCallback(r.headers[lowerSig], r.body); err != nil {
		return nil, err
	}
	var b paymentCallbackBody
	if err := DecodeJSON(r.body, &b); err != nil {
		return nil, err
	}
	if err := required("orderId", b.OrderID != nil, "status", b.Status != nil, "paidFen", b.PaidFen != nil); err != nil {
		return nil, err
	}
	p, err := a.svc.RecordPayment(ctx, certsvc.PaymentResult{OrderID: *b.OrderID, Status: *b.Status, PaidFen: *b.PaidFen,
		TransactionID: str(b.TransactionID), PaidAt: b.PaidAt})
	if err != nil {
		return nil, err
	}
	return ok(map[string]string{"orderId": p.OrderID, "status": p.Status})
}

func (a *API) refundCallback(ctx context.Context, r *request) (*reply, error) {
	if err := a.svc.VerifyRefundCallback(r.headers[lowerSig], r.body); err != nil {
		return nil, err
	}
	var b refundCallbackBody
	if err := DecodeJSON(r.body, &b); err != nil {
		return nil, err
	}
	if err := required("refundId", b.RefundID != nil, "status", b.Status != nil, "amountFen", b.AmountFen != nil); err != nil {
		return nil, err
	}
	f, err := a.svc.RecordRefundResult(ctx, certsvc.RefundResult{RefundKey: *b.RefundID, ProviderRefundID: str(b.ProviderRefundID),
		Status: *b.Status, AmountFen: *b.AmountFen, At: b.SucceededAt, Detail: str(b.FailReason)})
	if err != nil {
		return nil, err
	}
	return ok(map[string]string{"refundId": *b.RefundID, "status": string(f.Status)})
}
