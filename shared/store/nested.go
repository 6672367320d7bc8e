package store

import (
	"time"

	"microcert/shared/domain"
)

// Private mirrors of the domain's value types, so that the stored shape has
// names of its own (a field renamed in domain does not silently rename an
// attribute). roundtrip_test.go fills every domain field and checks that it
// survives toItem/fromItem, so a field added in domain and forgotten here
// fails the tests.

type textItem struct {
	Zh string `dynamodbav:"zh"`
	En string `dynamodbav:"en"`
}

func toText(t domain.Text) textItem    { return textItem{Zh: t.Zh, En: t.En} }
func (t textItem) domain() domain.Text { return domain.Text{Zh: t.Zh, En: t.En} }

// legalRepItem holds PIPL-sensitive data (ID number, phone): stored because
// the reviewers need them; never logged.
type legalRepItem struct {
	Name     string `dynamodbav:"name"`
	IDNumber string `dynamodbav:"idNumber"`
	Phone    string `dynamodbav:"phone"`
}

type feeItem struct {
	AmountFen  int64  `dynamodbav:"amountFen"`
	SubsidyFen int64  `dynamodbav:"subsidyFen"`
	PayableFen int64  `dynamodbav:"payableFen"`
	Program    string `dynamodbav:"program"`
	RegionCode string `dynamodbav:"regionCode,omitempty"`
	Currency   string `dynamodbav:"currency"`
}

type moneyItem struct {
	ReceivedFen int64 `dynamodbav:"receivedFen"`
	KeptFen     int64 `dynamodbav:"keptFen"`
}

type paymentItem struct {
	OrderID   string     `dynamodbav:"orderId"`
	Status    string     `dynamodbav:"status"`
	AmountFen int64      `dynamodbav:"amountFen"`
	PaidFen   int64      `dynamodbav:"paidFen"`
	CreatedAt time.Time  `dynamodbav:"createdAt"`
	PaidAt    *time.Time `dynamodbav:"paidAt,omitempty"`
	TxnID     string     `dynamodbav:"transactionId,omitempty"`
}

type verificationItem struct {
	SessionID     string     `dynamodbav:"sessionId"`
	Kind          string     `dynamodbav:"kind"`
	Status        string     `dynamodbav:"status"`
	ExpiresAt     time.Time  `dynamodbav:"expiresAt"`
	PhoneMatches  *bool      `dynamodbav:"phoneMatches,omitempty"`
	LivenessScore *float64   `dynamodbav:"livenessScore,omitempty"`
	CompletedAt   *time.Time `dynamodbav:"completedAt,omitempty"`
	LegalRep      string     `dynamodbav:"legalRep,omitempty"`
	StartedBy     string     `dynamodbav:"startedBy,omitempty"`
}

// depositItem never holds the amount: only its HMAC (the amount itself is
// stored once, in the payout outbox item, for the bank).
type depositItem struct {
	Status       string     `dynamodbav:"status"`
	AmountMAC    string     `dynamodbav:"amountMac"`
	BankName     string     `dynamodbav:"bankName"`
	AccountName  string     `dynamodbav:"accountName"`
	AccountLast4 string     `dynamodbav:"accountLast4"`
	Deadline     time.Time  `dynamodbav:"deadline"`
	AttemptsLeft int        `dynamodbav:"attemptsLeft"`
	CreatedAt    time.Time  `dynamodbav:"createdAt"`
	VerifiedAt   *time.Time `dynamodbav:"verifiedAt,omitempty"`
}

type claimItem struct {
	ReviewerID string    `dynamodbav:"reviewerId"`
	ClaimedAt  time.Time `dynamodbav:"claimedAt"`
	ExpiresAt  time.Time `dynamodbav:"expiresAt"`
}

type decisionItem struct {
	Decision   string    `dynamodbav:"decision"`
	Reasons    []string  `dynamodbav:"reasons,omitempty"`
	Note       string    `dynamodbav:"note"`
	ReviewerID string    `dynamodbav:"reviewerId"`
	At         time.Time `dynamodbav:"at"`
}

type similarItem struct {
	DocumentID   string `dynamodbav:"documentId"`
	CaseID       string `dynamodbav:"caseId"`
	EnterpriseID string `dynamodbav:"enterpriseId"`
	Distance     int    `dynamodbav:"distance"`
}

func toSimilar(s []domain.SimilarDocument) []similarItem {
	var out []similarItem
	for _, x := range s {
		out = append(out, similarItem(x))
	}
	return out
}

func fromSimilar(s []similarItem) []domain.SimilarDocument {
	var out []domain.SimilarDocument
	for _, x := range s {
		out = append(out, domain.SimilarDocument(x))
	}
	return out
}

type findingItem struct {
	Code    string   `dynamodbav:"code"`
	Message textItem `dynamodbav:"message"`
}

func toPayment(p *domain.Payment) *paymentItem {
	if p == nil {
		return nil
	}
	return &paymentItem{OrderID: p.OrderID, Status: string(p.Status), AmountFen: p.AmountFen, PaidFen: p.PaidFen,
		CreatedAt: p.CreatedAt.UTC(), PaidAt: utcp(p.PaidAt), TxnID: p.TransactionID}
}

func (p *paymentItem) domain() *domain.Payment {
	if p == nil {
		return nil
	}
	return &domain.Payment{OrderID: p.OrderID, Status: domain.PaymentStatus(p.Status), AmountFen: p.AmountFen,
		PaidFen: p.PaidFen, CreatedAt: p.CreatedAt, PaidAt: p.PaidAt, TransactionID: p.TxnID}
}

func toVerification(v *domain.Verification) *verificationItem {
	if v == nil {
		return nil
	}
	return &verificationItem{SessionID: v.SessionID, Kind: string(v.Kind), Status: string(v.Status),
		ExpiresAt: v.ExpiresAt.UTC(), PhoneMatches: v.PhoneMatches, LivenessScore: v.LivenessScore,
		CompletedAt: utcp(v.CompletedAt), LegalRep: v.LegalRep, StartedBy: v.StartedBy}
}

func (v *verificationItem) domain() *domain.Verification {
	if v == nil {
		return nil
	}
	return &domain.Verification{SessionID: v.SessionID, Kind: domain.VerificationKind(v.Kind),
		Status: domain.VerificationStatus(v.Status), ExpiresAt: v.ExpiresAt, PhoneMatches: v.PhoneMatches,
		LivenessScore: v.LivenessScore, CompletedAt: v.CompletedAt, LegalRep: v.LegalRep, StartedBy: v.StartedBy}
}

func toDeposit(d *domain.Deposit) *depositItem {
	if d == nil {
		return nil
	}
	return &depositItem{Status: string(d.Status), AmountMAC: d.AmountMAC, BankName: d.BankName,
		AccountName: d.AccountName, AccountLast4: d.AccountLast4, Deadline: d.Deadline.UTC(),
		AttemptsLeft: d.AttemptsLeft, CreatedAt: d.CreatedAt.UTC(), VerifiedAt: utcp(d.VerifiedAt)}
}

func (d *depositItem) domain() *domain.Deposit {
	if d == nil {
		return nil
	}
	return &domain.Deposit{Status: domain.DepositStatus(d.Status), AmountMAC: d.AmountMAC, BankName: d.BankName,
		AccountName: d.AccountName, AccountLast4: d.AccountLast4, Deadline: d.Deadline,
		AttemptsLeft: d.AttemptsLeft, CreatedAt: d.CreatedAt, VerifiedAt: d.VerifiedAt}
}

func toClaim(c *domain.Claim) *claimItem {
	if c == nil {
		return nil
	}
	return &claimItem{ReviewerID: c.ReviewerID, ClaimedAt: c.ClaimedAt.UTC(), ExpiresAt: c.ExpiresAt.UTC()}
}

func (c *claimItem) domain() *domain.Claim {
	if c == nil {
		return nil
	}
	return &domain.Claim{ReviewerID: c.ReviewerID, ClaimedAt: c.ClaimedAt, ExpiresAt: c.ExpiresAt}
}

func toDecision(d *domain.Decision) *decisionItem {
	if d == nil {
		return nil
	}
	return &decisionItem{Decision: string(d.Decision), Reasons: d.Reasons, Note: d.Note,
		ReviewerID: d.ReviewerID, At: d.At.UTC()}
}

func (d *decisionItem) domain() *domain.Decision {
	if d == nil {
		return nil
	}
	return &domain.Decision{Decision: domain.DecisionKind(d.Decision), Reasons: d.Reasons, Note: d.Note,
		ReviewerID: d.ReviewerID, At: d.At}
}

func toFindings(fs []domain.Finding) []findingItem {
	if fs == nil {
		return nil
	}
	out := make([]findingItem, len(fs))
	for i, f := range fs {
		out[i] = findingItem{Code: f.Code, Message: toText(f.Message)}
	}
	return out
}

func fromFindings(fs []findingItem) []domain.Finding {
	if fs == nil {
		return nil
	}
	out := make([]domain.Finding, len(fs))
	for i, f := range fs {
		out[i] = domain.Finding{Code: f.Code, Message: f.Message.domain()}
	}
	return out
}

type redoItem struct {
	Requirement string    `dynamodbav:"requirement"`
	Reason      string    `dynamodbav:"reason"`
	Note        string    `dynamodbav:"note,omitempty"`
	Since       time.Time `dynamodbav:"since"`
}

func toRedo(in []domain.RedoItem) []redoItem {
	var out []redoItem
	for _, r := range in {
		out = append(out, redoItem{Requirement: r.Requirement, Reason: r.Reason, Note: r.Note, Since: r.Since.UTC()})
	}
	return out
}

func fromRedo(in []redoItem) []domain.RedoItem {
	var out []domain.RedoItem
	for _, r := range in {
		out = append(out, domain.RedoItem{Requirement: r.Requirement, Reason: r.Reason, Note: r.Note, Since: r.Since})
	}
	return out
}

// profileChangeItem holds a change case's new values; the legal rep's ID
// number and phone are PIPL-sensitive like the profile's.
type profileChangeItem struct {
	Name                *string       `dynamodbav:"name,omitempty"`
	LegalRep            *legalRepItem `dynamodbav:"legalRep,omitempty"`
	RegisteredAddress   *string       `dynamodbav:"registeredAddress,omitempty"`
	OperatingAddress    *string       `dynamodbav:"operatingAddress,omitempty"`
	HasCorporateAccount *bool         `dynamodbav:"hasCorporateAccount,omitempty"`
}

func toProfileChange(p *domain.ProfileChange) *profileChangeItem {
	if p == nil {
		return nil
	}
	out := &profileChangeItem{Name: p.Name, RegisteredAddress: p.RegisteredAddress, OperatingAddress: p.OperatingAddress,
		HasCorporateAccount: p.HasCorporateAccount}
	if p.LegalRep != nil {
		out.LegalRep = &legalRepItem{Name: p.LegalRep.Name, IDNumber: p.LegalRep.IDNumber, Phone: p.LegalRep.Phone}
	}
	return out
}

func (p *profileChangeItem) domain() *domain.ProfileChange {
	if p == nil {
		return nil
	}
	out := &domain.ProfileChange{Name: p.Name, RegisteredAddress: p.RegisteredAddress, OperatingAddress: p.OperatingAddress,
		HasCorporateAccount: p.HasCorporateAccount}
	if p.LegalRep != nil {
		out.LegalRep = &domain.LegalRep{Name: p.LegalRep.Name, IDNumber: p.LegalRep.IDNumber, Phone: p.LegalRep.Phone}
	}
	return out
}
