package store

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"microcert/shared/domain"
)

// Append-only records: written once with attribute_not_exists(pk) (a
// second write of the same key is ErrDuplicate), never updated.

// markRetention is how long a reminder mark is kept (TTL): longer than a
// certification cycle, so a mark is never forgotten while it matters.
const markRetention = 2 * 365 * 24 * time.Hour

// refGrace is how long a ref outlives its ExpiresAt before TTL deletes it.
const refGrace = 24 * time.Hour

// historyItem: pk CASE#<caseId> (case history) or ENT#<entId>
// (certification history), sk H#<at>#<id>.
type historyItem struct {
	PK           string    `dynamodbav:"pk"`
	SK           string    `dynamodbav:"sk"`
	Entity       string    `dynamodbav:"entity"`
	ID           string    `dynamodbav:"id"`
	At           time.Time `dynamodbav:"at"`
	ActorID      string    `dynamodbav:"actorId"`
	Role         string    `dynamodbav:"role"`
	MemberRole   string    `dynamodbav:"memberRole,omitempty"`
	Subject      string    `dynamodbav:"subject"`
	From         string    `dynamodbav:"from"`
	To           string    `dynamodbav:"to"`
	Reasons      []string  `dynamodbav:"reasons,omitempty"`
	Note         string    `dynamodbav:"note"`
	CaseID       string    `dynamodbav:"caseId,omitempty"`
	EnterpriseID string    `dynamodbav:"enterpriseId,omitempty"`
}

func toHistoryItem(h domain.HistoryRecord) (historyItem, error) {
	e := h.Entry
	var pk string
	switch {
	case h.CaseID != "" && (h.EnterpriseID == "" || !strings.HasPrefix(e.Subject, "certification")):
		pk = casePK(h.CaseID)
	case h.EnterpriseID != "":
		pk = entPK(h.EnterpriseID)
	default:
		return historyItem{}, internal("history record without case or enterprise")
	}
	if e.ID == "" {
		return historyItem{}, internal("history entry without id")
	}
	return historyItem{PK: pk, SK: histSK(e.At, e.ID), Entity: "history", ID: e.ID, At: e.At.UTC(),
		ActorID: e.ActorID, Role: string(e.Role), MemberRole: string(e.MemberRole), Subject: e.Subject, From: e.From, To: e.To,
		Reasons: e.Reasons, Note: e.Note, CaseID: h.CaseID, EnterpriseID: h.EnterpriseID}, nil
}

func (it historyItem) domain() domain.HistoryEntry {
	return domain.HistoryEntry{ID: it.ID, At: it.At, ActorID: it.ActorID, Role: domain.Role(it.Role),
		MemberRole: domain.MemberRole(it.MemberRole), Subject: it.Subject, From: it.From, To: it.To, Reasons: it.Reasons, Note: it.Note}
}

// auditItem: pk CASE#<caseId> (document downloads, refund retries), or
// AUDIT#<Beijing day> for admin actions on no case (money lists, reports,
// discrepancies); sk U#<at>#<id>.
type auditItem struct {
	PK         string    `dynamodbav:"pk"`
	SK         string    `dynamodbav:"sk"`
	Entity     string    `dynamodbav:"entity"`
	ID         string    `dynamodbav:"id"`
	At         time.Time `dynamodbav:"at"`
	ActorID    string    `dynamodbav:"actorId"`
	Role       string    `dynamodbav:"role"`
	Action     string    `dynamodbav:"action"`
	DocumentID string    `dynamodbav:"documentId"`
	CaseID     string    `dynamodbav:"caseId"`
	Target     string    `dynamodbav:"target,omitempty"`
}

func toAuditItem(a domain.AuditEntry) auditItem {
	pk := adminAuditPK(domain.Day(a.At))
	if a.CaseID != "" {
		pk = casePK(a.CaseID)
	}
	return auditItem{PK: pk, SK: auditSK(a.At, a.ID), Entity: "audit", ID: a.ID, At: a.At.UTC(),
		ActorID: a.ActorID, Role: string(a.Role), Action: a.Action, DocumentID: a.DocumentID, CaseID: a.CaseID, Target: a.Target}
}

func (it auditItem) domain() domain.AuditEntry {
	return domain.AuditEntry{ID: it.ID, At: it.At, ActorID: it.ActorID, Role: domain.Role(it.Role),
		Action: it.Action, DocumentID: it.DocumentID, CaseID: it.CaseID, Target: it.Target}
}

// payoutItem is the bank outbox: pk CASE#<caseId>, sk P#<at>; GSI1
// PAYOUTS#<Beijing day> / <at>#<id> (a day's payouts, for the bank's
// statement). The only item holding a micro-deposit amount in the clear
// (what the bank must pay).
type payoutItem struct {
	PK           string    `dynamodbav:"pk"`
	SK           string    `dynamodbav:"sk"`
	GSI1PK       string    `dynamodbav:"gsi1pk,omitempty"`
	GSI1SK       string    `dynamodbav:"gsi1sk,omitempty"`
	Entity       string    `dynamodbav:"entity"`
	ID           string    `dynamodbav:"id,omitempty"`
	CaseID       string    `dynamodbav:"caseId"`
	AmountFen    int64     `dynamodbav:"amountFen"`
	AccountLast4 string    `dynamodbav:"accountLast4"`
	At           time.Time `dynamodbav:"at"`
}

func toPayoutItem(p domain.Payout) payoutItem {
	it := payoutItem{PK: casePK(p.CaseID), SK: payoutSK(p.At), Entity: "payout", ID: p.ID, CaseID: p.CaseID,
		AmountFen: p.AmountFen, AccountLast4: p.AccountLast4, At: p.At.UTC()}
	if p.ID != "" {
		it.GSI1PK, it.GSI1SK = payoutDayPK(domain.Day(p.At)), createdSK(p.At, p.ID)
	}
	return it
}

func (it payoutItem) domain() domain.Payout {
	return domain.Payout{ID: it.ID, CaseID: it.CaseID, AmountFen: it.AmountFen, AccountLast4: it.AccountLast4, At: it.At}
}

// reminderMarkItem: pk ENT#<entId>, sk R#<type>#<cycle>#<milestone>; kept
// about two years (ttl).
type reminderMarkItem struct {
	PK           string    `dynamodbav:"pk"`
	SK           string    `dynamodbav:"sk"`
	TTL          int64     `dynamodbav:"ttl"`
	Entity       string    `dynamodbav:"entity"`
	EnterpriseID string    `dynamodbav:"enterpriseId"`
	Type         string    `dynamodbav:"type"`
	Cycle        int       `dynamodbav:"cycle"`
	Milestone    int       `dynamodbav:"milestone"`
	At           time.Time `dynamodbav:"at"`
}

func toReminderMarkItem(m domain.ReminderMark) reminderMarkItem {
	return reminderMarkItem{PK: entPK(m.EnterpriseID), SK: markSK(m.Type, m.Cycle, m.Milestone),
		TTL: epoch(m.At.Add(markRetention)), Entity: "reminder_mark", EnterpriseID: m.EnterpriseID,
		Type: string(m.Type), Cycle: m.Cycle, Milestone: m.Milestone, At: m.At.UTC()}
}

// refItem: pk REF#<kind>#<id>, sk REF; ttl a day after ExpiresAt.
type refItem struct {
	PK        string    `dynamodbav:"pk"`
	SK        string    `dynamodbav:"sk"`
	TTL       int64     `dynamodbav:"ttl"`
	Entity    string    `dynamodbav:"entity"`
	Kind      string    `dynamodbav:"kind"`
	ID        string    `dynamodbav:"id"`
	CaseID    string    `dynamodbav:"caseId"`
	ExpiresAt time.Time `dynamodbav:"expiresAt"`
}

func toRefItem(r domain.Ref) refItem {
	return refItem{PK: refPK(r.Kind, r.ID), SK: skRef, TTL: epoch(r.ExpiresAt.Add(refGrace)), Entity: "ref",
		Kind: string(r.Kind), ID: r.ID, CaseID: r.CaseID, ExpiresAt: r.ExpiresAt.UTC()}
}

// appendOp puts an append-only record.
func (s *Store) appendOp(v any) ([]op, error) {
	av, err := marshalItem(v)
	if err != nil {
		return nil, err
	}
	o, err := s.putNew(av, ErrDuplicate)
	if err != nil {
		return nil, err
	}
	return []op{o}, nil
}

func (s *Store) historyOps(h domain.HistoryRecord) ([]op, error) {
	it, err := toHistoryItem(h)
	if err != nil {
		return nil, err
	}
	return s.appendOp(it)
}

func (s *Store) auditOps(a domain.AuditEntry) ([]op, error) {
	if a.ID == "" || a.Action == "" {
		return nil, internal("audit entry without id or action")
	}
	return s.appendOp(toAuditItem(a))
}

func (s *Store) payoutOps(p domain.Payout) ([]op, error) {
	if p.CaseID == "" {
		return nil, internal("payout without case")
	}
	return s.appendOp(toPayoutItem(p))
}

func (s *Store) markRecordOps(m domain.ReminderMark) ([]op, error) {
	if m.EnterpriseID == "" || m.Type == "" {
		return nil, internal("reminder mark without enterprise or type")
	}
	return s.appendOp(toReminderMarkItem(m))
}

func (s *Store) refOps(r domain.Ref) ([]op, error) {
	if r.Kind == "" || r.ID == "" || r.CaseID == "" {
		return nil, internal("ref without kind, id or case")
	}
	return s.appendOp(toRefItem(r))
}

// ListNotifications lists an enterprise's notifications, newest first
// (pk ENT#<entId>, sk begins with N#, backwards).
func (s *Store) ListNotifications(ctx context.Context, enterpriseID string, p domain.Page) ([]domain.Notification, string, error) {
	return newestFirst(ctx, s, enterpriseID, skNotePrefix, "notification", p, notificationItem.domain)
}

// newestFirst pages the items of an enterprise's partition whose sort key
// begins with prefix, newest first (sort keys hold the time).
func newestFirst[I, D any](ctx context.Context, s *Store, enterpriseID, prefix, what string, p domain.Page, toDomain func(I) D) ([]D, string, error) {
	spec := cursorSpec{hashAttr: attrPK, hashValue: entPK(enterpriseID), rangeAttr: attrSK,
		prefixes: map[string]string{attrSK: prefix}}
	kc := expression.Key(attrPK).Equal(expression.Value(entPK(enterpriseID))).
		And(expression.Key(attrSK).BeginsWith(prefix))
	items, next, err := s.queryPage(ctx, &dynamodb.QueryInput{ScanIndexForward: aws.Bool(false)}, kc, spec, p)
	if err != nil {
		return nil, "", err
	}
	out, err := decodeAll(items, what, toDomain)
	return out, next, err
}

// ListAudit lists the audit entries (downloads, identifier reveals) of a
// case, oldest first (pk CASE#<caseId>, sk begins with U#).
func (s *Store) ListAudit(ctx context.Context, caseID string) ([]domain.AuditEntry, error) {
	return listRecords[auditItem](ctx, s, casePK(caseID), skAuditPrefix, "audit")
}

// EnterpriseHistory lists the history of an enterprise's certifications,
// oldest first (pk ENT#<entId>, sk begins with H#): what a reviewer of an
// appeal reads the enterprise's violations from.
func (s *Store) EnterpriseHistory(ctx context.Context, enterpriseID string) ([]domain.HistoryEntry, error) {
	return listRecords[historyItem](ctx, s, entPK(enterpriseID), skHistPrefix, "history")
}

// ListAdminAudit lists the admin actions of a Beijing day that concern no
// single case, oldest first (pk AUDIT#<day>).
func (s *Store) ListAdminAudit(ctx context.Context, day string) ([]domain.AuditEntry, error) {
	return listRecords[auditItem](ctx, s, adminAuditPK(day), skAuditPrefix, "audit")
}

// Payouts lists the micro-deposit payout instructions of a case, oldest
// first (pk CASE#<caseId>, sk begins with P#).
func (s *Store) Payouts(ctx context.Context, caseID string) ([]domain.Payout, error) {
	return listRecords[payoutItem](ctx, s, casePK(caseID), skPayoutPrefix, "payout")
}

// listRecords reads every append-only record of a partition under prefix
// (strongly consistent) and converts each item to its domain value.
func listRecords[I interface{ domain() D }, D any](ctx context.Context, s *Store, pk, prefix, what string) ([]D, error) {
	items, err := s.partitionPrefix(ctx, pk, prefix)
	if err != nil {
		return nil, err
	}
	return decodeAll(items, what, func(it I) D { return it.domain() })
}

func (s *Store) partitionPrefix(ctx context.Context, pk, prefix string) ([]map[string]types.AttributeValue, error) {
	kc := expression.Key(attrPK).Equal(expression.Value(pk)).And(expression.Key(attrSK).BeginsWith(prefix))
	return s.queryAll(ctx, &dynamodb.QueryInput{ConsistentRead: aws.Bool(true)}, kc)
}

// ResolveRef returns the case a provider-facing id (session, order) belongs
// to (strongly consistent GetItem). A ref whose TTL has passed is not found
// even if DynamoDB has not deleted it yet.
func (s *Store) ResolveRef(ctx context.Context, kind domain.RefKind, id string) (string, error) {
	av, err := s.getItem(ctx, refPK(kind, id), skRef)
	if err != nil {
		return "", err
	}
	it, err := decode(av, "ref", identity[refItem])
	if err != nil {
		return "", err
	}
	if it.TTL > 0 && s.clock.Now().Unix() > it.TTL {
		return "", domain.ErrNotFound
	}
	return it.CaseID, nil
}

// OrderPayable returns what the fee order orderID asks to be paid, in fen
// (for the local provider sandbox): the order's ref leads to its case.
func (s *Store) OrderPayable(ctx context.Context, orderID string) (int64, error) {
	caseID, err := s.ResolveRef(ctx, domain.RefOrder, orderID)
	if err != nil {
		return 0, err
	}
	c, err := s.GetCase(ctx, caseID)
	if err != nil {
		return 0, err
	}
	if c.Payment == nil || c.Payment.OrderID != orderID {
		return 0, domain.ErrNotFound
	}
	return c.Payment.AmountFen, nil
}
