// Package domain holds microcert's entities and rules: what a case, a
// document or a certification is, which transitions are allowed, what is
// required, what is charged and what a certification unlocks. It imports no
// AWS code; stores and handlers adapt to it.
package domain

import "time"

// Role of a caller, from the token's groups claim.
type Role string

const (
	RoleApplicant Role = "applicant"
	RoleReviewer  Role = "reviewer"
	RoleAdmin     Role = "admin"
	RoleSystem    Role = "system" // scheduled jobs and provider callbacks
)

// Actor is who performs an action.
type Actor struct {
	UserID string
	Roles  []Role
	// MemberRole is the actor's role in the enterprise acted on, set by
	// Authorize (empty for reviewers, admins and the system acting as
	// staff, and before authorization). History entries record it.
	MemberRole MemberRole
}

// Has reports whether the actor holds role r.
func (a Actor) Has(r Role) bool {
	for _, x := range a.Roles {
		if x == r {
			return true
		}
	}
	return false
}

// CanReview reports whether the actor may work the review queue (admins may
// do whatever reviewers do).
func (a Actor) CanReview() bool { return a.Has(RoleReviewer) || a.Has(RoleAdmin) }

// MainRole is the role recorded in history entries.
func (a Actor) MainRole() Role {
	switch {
	case a.Has(RoleAdmin):
		return RoleAdmin
	case a.Has(RoleReviewer):
		return RoleReviewer
	case a.Has(RoleSystem):
		return RoleSystem
	default:
		return RoleApplicant
	}
}

// SystemActor is the actor of scheduled jobs and provider callbacks.
var SystemActor = Actor{UserID: "system", Roles: []Role{RoleSystem}}

// CertType is a certification type.
type CertType string

const (
	CertWeCom           CertType = "wecom"
	CertOfficialAccount CertType = "official_account"
	CertMiniProgram     CertType = "mini_program"
)

// CertTypes lists every certification type in a stable order.
var CertTypes = []CertType{CertWeCom, CertOfficialAccount, CertMiniProgram}

// Valid reports whether t is a known type.
func (t CertType) Valid() bool {
	for _, x := range CertTypes {
		if x == t {
			return true
		}
	}
	return false
}

// CaseKind is why a case was opened.
type CaseKind string

const (
	KindInitial       CaseKind = "initial"
	KindAnnualReview  CaseKind = "annual_review"
	KindAppeal        CaseKind = "appeal"
	KindReinstatement CaseKind = "reinstatement"
	// KindChange (信息变更) changes reviewed profile fields of a certified
	// enterprise: the new values are applied when a reviewer approves.
	KindChange CaseKind = "change"
	// KindDispute claims a USCC another profile registered: opened with a
	// new (frozen) profile of the claimant, decided by a reviewer; winning
	// moves the USCC to the claimant's profile (dispute.go).
	KindDispute CaseKind = "dispute"
)

// Valid reports whether k is a known kind.
func (k CaseKind) Valid() bool {
	switch k {
	case KindInitial, KindAnnualReview, KindAppeal, KindReinstatement, KindChange, KindDispute:
		return true
	}
	return false
}

// CaseStatus is a state of the case state machine (casestate.go).
type CaseStatus string

const (
	CaseDraft            CaseStatus = "draft"
	CaseSubmitted        CaseStatus = "submitted"
	CaseInReview         CaseStatus = "in_review"
	CaseApproved         CaseStatus = "approved"
	CaseRejected         CaseStatus = "rejected"
	CaseChangesRequested CaseStatus = "changes_requested"
	CaseWithdrawn        CaseStatus = "withdrawn"
)

// DocType is a kind of uploaded document.
type DocType string

const (
	DocBusinessLicense     DocType = "business_license"
	DocLegalRepIDFront     DocType = "legal_rep_id_front"
	DocLegalRepIDBack      DocType = "legal_rep_id_back"
	DocAuthorizationLetter DocType = "authorization_letter"
	DocBankAccountProof    DocType = "bank_account_proof"
	DocOfficeVideo         DocType = "office_video"
	DocRectificationProof  DocType = "rectification_proof"
)

// CertStatus is the state of one certification.
type CertStatus string

const (
	CertActive    CertStatus = "active"
	CertOverdue   CertStatus = "overdue"
	CertLapsed    CertStatus = "lapsed"
	CertCancelled CertStatus = "cancelled"
	CertRevoked   CertStatus = "revoked"
)

// LegalRep is the enterprise's legal representative. IDNumber and Phone are
// sensitive (PIPL): never logged, masked in responses.
type LegalRep struct {
	Name     string
	IDNumber string
	Phone    string
}

// Enterprise is an applicant's profile, one per USCC. Its region is not a
// field: it is read from the USCC (Region).
type Enterprise struct {
	ID                  string
	Name                string
	USCC                string
	LegalRep            LegalRep
	RegisteredAddress   string
	OperatingAddress    string
	HasCorporateAccount bool
	// OwnerID is the member with role owner (exactly one; transferable).
	OwnerID string
	// Status is active, or frozen (FrozenReason says why): a frozen
	// profile can be read but not worked on (dispute.go).
	Status       EnterpriseStatus
	FrozenReason string
	Version      int
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Money is the fee of a case, in fen.
type Fee struct {
	AmountFen  int64  // list price
	SubsidyFen int64  // covered by a regional program
	PayableFen int64  // AmountFen - SubsidyFen
	Program    string // subsidy program code, "" if none
	// RegionCode is the enterprise's region the subsidy was granted for
	// ("" without a program): the monthly subsidy report groups by it.
	RegionCode string
	Currency   string // always "CNY"
}

// PaymentStatus of the fee order.
type PaymentStatus string

const (
	PaymentPending PaymentStatus = "pending"
	PaymentPaid    PaymentStatus = "paid"
	PaymentFailed  PaymentStatus = "failed"
)

// Payment is the case's fee order.
type Payment struct {
	OrderID   string
	Status    PaymentStatus
	AmountFen int64 // what the order asks for (the payable amount)
	PaidFen   int64
	CreatedAt time.Time
	PaidAt    *time.Time
	// TransactionID is the provider's id of the payment that paid it.
	TransactionID string
}

// VerificationKind distinguishes the legal rep's face check from the QR-scan
// alternative (enterprises without a corporate account).
type VerificationKind string

const (
	VerifyFace VerificationKind = "face"
	VerifyQR   VerificationKind = "qr"
)

// VerificationStatus of a face or QR session.
type VerificationStatus string

const (
	VerificationPending VerificationStatus = "pending"
	VerificationPassed  VerificationStatus = "passed"
	VerificationFailed  VerificationStatus = "failed"
	VerificationExpired VerificationStatus = "expired"
)

// Verification is a liveness (face) or QR-scan session for the legal rep.
type Verification struct {
	SessionID     string
	Kind          VerificationKind
	Status        VerificationStatus
	ExpiresAt     time.Time
	PhoneMatches  *bool
	LivenessScore *float64
	CompletedAt   *time.Time
	// LegalRep is the LegalRepFingerprint of the person the session
	// verifies: a passed check counts only while the legal rep it
	// verified is the one on record.
	LegalRep string
	// StartedBy is the member who started the session for the legal rep
	// (never an agent: domain.Authorize).
	StartedBy string
}

// DepositStatus of the corporate-account micro-deposit challenge.
type DepositStatus string

const (
	DepositPending  DepositStatus = "pending"
	DepositVerified DepositStatus = "verified"
	DepositLocked   DepositStatus = "locked"
	DepositExpired  DepositStatus = "expired"
)

// Deposit is the micro-deposit challenge. The amount itself is never stored in
// the clear: with only 99 possible values a plain hash would be no
// protection, so AmountMAC is an HMAC under a key from configuration.
type Deposit struct {
	Status       DepositStatus
	AmountMAC    string // hex HMAC-SHA256(key, caseID|amount)
	BankName     string
	AccountName  string
	AccountLast4 string
	Deadline     time.Time
	AttemptsLeft int
	CreatedAt    time.Time
	VerifiedAt   *time.Time
}

// Claim is a reviewer's hold on a case.
type Claim struct {
	ReviewerID string
	ClaimedAt  time.Time
	ExpiresAt  time.Time
}

// Decision kinds.
type DecisionKind string

const (
	DecisionApprove        DecisionKind = "approve"
	DecisionReject         DecisionKind = "reject"
	DecisionRequestChanges DecisionKind = "request_changes"
)

// Decision is a reviewer's decision on a case.
type Decision struct {
	Decision   DecisionKind
	Reasons    []string
	Note       string
	ReviewerID string
	At         time.Time
}

// Case is one application (one or more types, one fee).
type Case struct {
	ID           string
	EnterpriseID string
	// OpenedBy is the user who opened the case.
	OpenedBy string
	Kind     CaseKind
	Types    []CertType
	ViaAgent bool
	// AgentID is the agent member who prepares a case opened via an agent
	// (ViaAgent); it alone of the agents may work on the case.
	AgentID        string
	Status         CaseStatus
	Version        int
	CreatedAt      time.Time
	UpdatedAt      time.Time
	SubmittedAt    *time.Time
	ReviewDueAt    *time.Time
	Fee            Fee
	Payment        *Payment
	Face           *Verification // face session (face or qr kind)
	QR             *Verification
	Deposit        *Deposit
	Explanation    string
	Claim          *Claim
	LastDecision   *Decision
	ChangeRequests int // how many times the case was sent back
	// Redo lists what the last request for changes asked to redo; each
	// item is due until it was done again after the request.
	Redo []RedoItem
	// ExplanationAt is when the explanation was last written.
	ExplanationAt *time.Time
	// Change carries the new profile values of a change case.
	Change *ProfileChange
	// Dispute names the USCC a dispute case claims and the profile that
	// holds it (dispute cases only).
	Dispute     *DisputeClaim
	SLABreached bool // set by the expiry job once past reviewDueAt
	// Money is the case's fee account (money.go).
	Money CaseMoney
	// DocumentsExpireAt is when a withdrawn or rejected case's documents
	// are handed to the bucket's deletion (retention, PIPL); nil for open
	// cases and once done.
	DocumentsExpireAt *time.Time
	// ReviewDueRecheckAt is set while ReviewDueAt is provisional (it ran
	// past the working-day calendar's data): when the daily job next
	// recomputes it.
	ReviewDueRecheckAt *time.Time
}

// RedoItem is one requirement a reviewer sent back, with why.
type RedoItem struct {
	Requirement string // a requirement code of the case (a document type, face_verification, ...)
	Reason      string // a reason code (reasons.go)
	Note        string
	Since       time.Time // the request; work done after it counts
}

// ProfileChange is what a change case would set on the profile; nil fields
// stay as they are.
type ProfileChange struct {
	Name                *string
	LegalRep            *LegalRep
	RegisteredAddress   *string
	OperatingAddress    *string
	HasCorporateAccount *bool
}

// Empty reports whether the change sets nothing.
func (p *ProfileChange) Empty() bool {
	return p == nil || (p.Name == nil && p.LegalRep == nil && p.RegisteredAddress == nil &&
		p.OperatingAddress == nil && p.HasCorporateAccount == nil)
}

// Apply returns e with the change's values.
func (p *ProfileChange) Apply(e Enterprise) Enterprise {
	if p == nil {
		return e
	}
	if p.Name != nil {
		e.Name = *p.Name
	}
	if p.LegalRep != nil {
		e.LegalRep = *p.LegalRep
	}
	if p.RegisteredAddress != nil {
		e.RegisteredAddress = *p.RegisteredAddress
	}
	if p.OperatingAddress != nil {
		e.OperatingAddress = *p.OperatingAddress
	}
	if p.HasCorporateAccount != nil {
		e.HasCorporateAccount = *p.HasCorporateAccount
	}
	return e
}

// HasType reports whether the case covers type t.
func (c *Case) HasType(t CertType) bool {
	for _, x := range c.Types {
		if x == t {
			return true
		}
	}
	return false
}

// DocStatus of a document's automatic check.
type DocStatus string

const (
	DocPending DocStatus = "pending"
	DocPassed  DocStatus = "passed"
	DocFailed  DocStatus = "failed"
)

// Finding is one observation of the document check.
type Finding struct {
	Code    string
	Message Text
}

// Document is one uploaded file of a case. Uploads go straight to S3 under
// uploads/{caseId}/{documentId}; the check function fills in the result.
type Document struct {
	ID     string
	CaseID string
	// EnterpriseID is the case's, copied so that a download is authorized
	// from the document alone (membership of this enterprise).
	EnterpriseID  string
	DocType       DocType
	ContentType   string
	ContentLength int64
	Status        DocStatus
	Findings      []Finding
	Metrics       map[string]float64
	SHA256        string
	// ReusedByOthers is set when the same content was uploaded by another
	// enterprise: a fraud signal for the reviewer.
	ReusedByOthers bool
	// PHash is the perceptual hash of an image document's picture (hex),
	// and PHashBands its index keys, one per band; empty for other files.
	PHash      string
	PHashBands []string
	// Similar are other enterprises' documents with nearly the same
	// picture (re-encoded, resized, trimmed): a fraud signal for the
	// reviewer, like ReusedByOthers.
	Similar []SimilarDocument
	// Notes are the check's observations for the reviewer that do not fail
	// it (a PDF's links, similar pictures elsewhere).
	Notes []Finding
	// Sequencer of the S3 event whose result is stored (normalized by
	// uploadcheck.NormalizeSequencer, so that strings compare in order).
	Sequencer string
	// CheckedKey is the object holding exactly the bytes the stored result
	// is about (CheckedKey), copied there by the check; SHA256 is their
	// digest. Reviews read this object, never the upload key, which a
	// re-posted form can overwrite. Empty until a check read the upload.
	CheckedKey string
	VersionID  string
	CreatedAt  time.Time
	CheckedAt  *time.Time
	// Superseded is set when a newer upload of the same type replaced it.
	Superseded bool
}

// SimilarDocument is another enterprise's document whose picture is
// within the near-duplicate distance of this one's.
type SimilarDocument struct {
	DocumentID   string
	CaseID       string
	EnterpriseID string
	Distance     int // Hamming distance of the perceptual hashes
}

// Key is the S3 object key of the document.
func (d *Document) Key() string { return UploadKey(d.CaseID, d.ID) }

// UploadKey is the S3 key scheme shared by the API, the check function and
// the template's notification filter.
func UploadKey(caseID, documentID string) string {
	return UploadPrefix + caseID + "/" + documentID
}

// UploadPrefix is the key prefix of every applicant upload.
const UploadPrefix = "uploads/"

// CheckedPrefix is the key prefix of the checked copies: no presigned
// form can write there, and no upload notification fires there.
const CheckedPrefix = "checked/"

// CheckedKey is where the check keeps the bytes it checked for the S3
// event with (normalized) sequencer seq: one object per checked upload, so
// a check that loses its race never overwrites the copy another recorded.
func CheckedKey(caseID, documentID, seq string) string {
	return CheckedPrefix + caseID + "/" + documentID + "/" + seq
}

// Certification is one type held by an enterprise.
type Certification struct {
	EnterpriseID string
	Type         CertType
	Status       CertStatus
	IssuedAt     time.Time
	ExpiresAt    time.Time
	CaseID       string // the case that last approved or extended it
	Version      int
	// Cycle counts renewals; reminders are keyed by it so a renewed
	// certification gets no reminders of its old cycle.
	Cycle         int
	RevokedReason string
	Severity      string
	UpdatedAt     time.Time
	// RemindAt is when the next renewal reminder of this cycle falls due;
	// nil when none is pending. The store indexes it (sparse).
	RemindAt *time.Time
}

// HistoryEntry is an immutable record of one transition.
type HistoryEntry struct {
	ID      string
	At      time.Time
	ActorID string
	Role    Role
	// MemberRole is the actor's role in the enterprise when they acted
	// (empty for staff and the system).
	MemberRole MemberRole
	Subject    string // "case", "certification:<type>", "profile", "member:<userId>", "ownership", "uscc"
	From       string
	To         string
	Reasons    []string
	Note       string
}

// Notification is a message in the enterprise's inbox.
type Notification struct {
	ID           string
	EnterpriseID string
	Kind         string // decision, reminder, expiry, ...
	CaseID       string
	Title        Text
	Body         Text
	CreatedAt    time.Time
	// Subject is what it is about, in ids and states (the webhook
	// payload; the channel templates' parameters).
	Subject NoticeSubject
}

// AuditEntry records a sensitive read (a document download) or an admin's
// action on money.
type AuditEntry struct {
	ID         string
	At         time.Time
	ActorID    string
	Role       Role
	Action     string
	DocumentID string
	CaseID     string
	// Target names what an admin action concerned when it is not a
	// document (a refund, a discrepancy, a report month, a list query).
	Target string
}
