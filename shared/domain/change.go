package domain

import "time"

// Change is a set of writes that must happen together or not at all: a
// decision writes the case, its certifications, history and a notification
// in one unit. Stores apply a Change atomically (DynamoDB TransactWriteItems)
// and turn any failed precondition into a KindConflict error.
//
// Versions: every write of a mutable entity names the version it read
// (ExpectVersion); the entity passed in already carries the new version
// (NextVersion of ExpectVersion). Create writes require that the item does
// not exist.
type Change struct {
	Enterprises    []EnterpriseWrite
	Cases          []CaseWrite
	Documents      []DocumentWrite
	Certifications []CertificationWrite
	History        []HistoryRecord
	Notifications  []Notification
	Audits         []AuditEntry
	Refs           []Ref
	Payouts        []Payout
	ReminderMarks  []ReminderMark
	Slots          []CaseSlot
	DepositLogs    []DepositLogWrite
	// Money (money.go): ledger entries and subsidy lines are append-only;
	// refunds and discrepancies are versioned.
	Ledger        []LedgerEntry
	Refunds       []RefundWrite
	Subsidies     []SubsidyEntry
	Discrepancies []DiscrepancyWrite
	Members       []MemberWrite
	Invitations   []InvitationWrite
	USCCClaims    []USCCClaimWrite
	Deliveries    []DeliveryWrite
	Endpoints     []WebhookEndpointWrite
	Reads         []ReadMark
	// MemberChecks are conditions, not writes: the Change applies only
	// while each holds.
	MemberChecks []MemberCheck
}

// Empty reports whether the change writes nothing.
func (c *Change) Empty() bool {
	return len(c.Enterprises)+len(c.Cases)+len(c.Documents)+len(c.Certifications)+
		len(c.History)+len(c.Notifications)+len(c.Audits)+len(c.Refs)+len(c.Payouts)+
		len(c.ReminderMarks)+len(c.Slots)+len(c.DepositLogs)+len(c.Ledger)+len(c.Refunds)+
		len(c.Subsidies)+len(c.Discrepancies)+len(c.Members)+len(c.Invitations)+
		len(c.USCCClaims)+len(c.Deliveries)+len(c.Endpoints)+len(c.Reads) == 0
}

// EnterpriseWrite creates or updates a profile. Creating also claims the
// USCC (a second profile for the same USCC fails with enterprise_exists),
// unless Unclaimed: a dispute's claimant profile holds no claim until the
// dispute is won.
type EnterpriseWrite struct {
	Enterprise    *Enterprise
	Create        bool
	Unclaimed     bool
	ExpectVersion int
}

// CaseWrite creates or updates a case.
type CaseWrite struct {
	Case          *Case
	Create        bool
	ExpectVersion int
}

// DocumentWrite creates a document or records its check result. A result
// write names the S3 sequencer of the event it comes from and only applies
// when no result of a later (or the same) event was stored before.
type DocumentWrite struct {
	Document *Document
	Create   bool
	// CheckResult: condition on the stored sequencer being absent or lower
	// than Document.Sequencer (sequencers compared as AWS documents: equal
	// width, then lexically; see NormalizeSequencer).
	CheckResult bool
	// Expire marks the document for deletion after retention (PIPL).
	ExpireAt *time.Time
}

// CertificationWrite creates or updates one certification.
type CertificationWrite struct {
	Certification *Certification
	Create        bool
	ExpectVersion int
}

// HistoryRecord places a history entry under its case or, for
// certification transitions, under its enterprise.
type HistoryRecord struct {
	CaseID       string // set for case history
	EnterpriseID string // set for certification history
	Entry        HistoryEntry
}

// RefKind names a lookup from an outside id to a case.
type RefKind string

const (
	RefSession RefKind = "session" // face / QR session id -> case
	RefOrder   RefKind = "order"   // payment order id -> case
	RefRefund  RefKind = "refund"  // refund id -> case
)

// Ref lets a provider callback find its case by the provider-facing id.
type Ref struct {
	Kind      RefKind
	ID        string
	CaseID    string
	ExpiresAt time.Time // after this the store may delete the ref (TTL)
}

// Payout is the instruction for the bank integration to pay the
// micro-deposit: it holds the amount the bank must pay (an outbox item).
type Payout struct {
	// ID is the transfer's reference on the bank's statement.
	ID           string
	CaseID       string
	AmountFen    int64
	AccountLast4 string
	At           time.Time
}

// ReminderMark records that a reminder milestone of a certification's cycle
// was sent; writing it twice is a conflict, which makes sending exactly-once.
type ReminderMark struct {
	EnterpriseID string
	Type         CertType
	Cycle        int
	Milestone    int // days before expiry
	At           time.Time
}

// Page asks for one page of a list.
type Page struct {
	Limit  int
	Cursor string // opaque, from a previous page's NextCursor
}

// CaseBundle is everything the case view shows, read in one go.
type CaseBundle struct {
	Case      *Case
	Documents []Document
	History   []HistoryEntry
	Refunds   []Refund
}
