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

// Money items: ledger entries and subsidy lines (append-only), refunds and
// discrepancies (versioned, whole-item puts).

// ledgerItem: pk CASE#<caseId>, sk L#<id>; GSI1 LEDGER#<Beijing day of
// At> / <At>#<id> (a day's movements, for reconciliation).
type ledgerItem struct {
	PK               string    `dynamodbav:"pk"`
	SK               string    `dynamodbav:"sk"`
	GSI1PK           string    `dynamodbav:"gsi1pk"`
	GSI1SK           string    `dynamodbav:"gsi1sk"`
	Entity           string    `dynamodbav:"entity"`
	ID               string    `dynamodbav:"id"`
	CaseID           string    `dynamodbav:"caseId"`
	EnterpriseID     string    `dynamodbav:"enterpriseId"`
	Kind             string    `dynamodbav:"kind"`
	OrderID          string    `dynamodbav:"orderId,omitempty"`
	TransactionID    string    `dynamodbav:"transactionId,omitempty"`
	RefundKey        string    `dynamodbav:"refundKey,omitempty"`
	ProviderRefundID string    `dynamodbav:"providerRefundId,omitempty"`
	AmountFen        int64     `dynamodbav:"amountFen"`
	At               time.Time `dynamodbav:"at"`
	RecordedAt       time.Time `dynamodbav:"recordedAt"`
}

func toLedgerItem(e domain.LedgerEntry) ledgerItem {
	return ledgerItem{PK: casePK(e.CaseID), SK: ledgerSK(e.ID), GSI1PK: ledgerDayPK(domain.Day(e.At)), GSI1SK: createdSK(e.At, e.ID),
		Entity: "ledger", ID: e.ID, CaseID: e.CaseID, EnterpriseID: e.EnterpriseID, Kind: string(e.Kind), OrderID: e.OrderID,
		TransactionID: e.TransactionID, RefundKey: e.RefundKey, ProviderRefundID: e.ProviderRefundID, AmountFen: e.AmountFen,
		At: e.At.UTC(), RecordedAt: e.RecordedAt.UTC()}
}

func (it ledgerItem) domain() domain.LedgerEntry {
	return domain.LedgerEntry{ID: it.ID, CaseID: it.CaseID, EnterpriseID: it.EnterpriseID, Kind: domain.LedgerKind(it.Kind),
		OrderID: it.OrderID, TransactionID: it.TransactionID, RefundKey: it.RefundKey, ProviderRefundID: it.ProviderRefundID,
		AmountFen: it.AmountFen, At: it.At, RecordedAt: it.RecordedAt}
}

func (s *Store) ledgerOps(e domain.LedgerEntry) ([]op, error) {
	if e.ID == "" || e.CaseID == "" || e.Kind == "" || e.AmountFen < 0 {
		return nil, internal("ledger entry without id, case or kind, or a negative amount")
	}
	return s.appendOp(toLedgerItem(e))
}

// refundItem: pk CASE#<caseId>, sk F#<id> (read with the case view);
// GSI1 REFUNDS / <createdAt>#<id> (the admins' list); DueIndex REFUND /
// <nextAttemptAt>#<caseId>#<id> while the refund job has work on it.
type refundItem struct {
	PK               string     `dynamodbav:"pk"`
	SK               string     `dynamodbav:"sk"`
	GSI1PK           string     `dynamodbav:"gsi1pk"`
	GSI1SK           string     `dynamodbav:"gsi1sk"`
	DuePK            string     `dynamodbav:"duepk,omitempty"`
	DueSK            string     `dynamodbav:"duesk,omitempty"`
	Entity           string     `dynamodbav:"entity"`
	ID               string     `dynamodbav:"id"`
	CaseID           string     `dynamodbav:"caseId"`
	EnterpriseID     string     `dynamodbav:"enterpriseId"`
	OrderID          string     `dynamodbav:"orderId"`
	TransactionID    string     `dynamodbav:"transactionId,omitempty"`
	AmountFen        int64      `dynamodbav:"amountFen"`
	Reason           string     `dynamodbav:"reason"`
	Status           string     `dynamodbav:"status"`
	Round            int        `dynamodbav:"round"`
	Attempts         int        `dynamodbav:"attempts"`
	NextAttemptAt    *time.Time `dynamodbav:"nextAttemptAt,omitempty"`
	SubmittedAt      *time.Time `dynamodbav:"submittedAt,omitempty"`
	ProviderRefundID string     `dynamodbav:"providerRefundId,omitempty"`
	FailureCode      string     `dynamodbav:"failureCode,omitempty"`
	FailureDetail    string     `dynamodbav:"failureDetail,omitempty"`
	CreatedAt        time.Time  `dynamodbav:"createdAt"`
	UpdatedAt        time.Time  `dynamodbav:"updatedAt"`
	CompletedAt      *time.Time `dynamodbav:"completedAt,omitempty"`
	Version          int        `dynamodbav:"version"`
}

func toRefundItem(r *domain.Refund) refundItem {
	it := refundItem{PK: casePK(r.CaseID), SK: refundSK(r.ID), GSI1PK: refundsPK, GSI1SK: createdSK(r.CreatedAt, r.ID),
		Entity: "refund", ID: r.ID, CaseID: r.CaseID, EnterpriseID: r.EnterpriseID, OrderID: r.OrderID,
		TransactionID: r.TransactionID, AmountFen: r.AmountFen, Reason: string(r.Reason), Status: string(r.Status),
		Round: r.Round, Attempts: r.Attempts, NextAttemptAt: utcp(r.NextAttemptAt), SubmittedAt: utcp(r.SubmittedAt),
		ProviderRefundID: r.ProviderRefundID, FailureCode: r.FailureCode, FailureDetail: r.FailureDetail,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), CompletedAt: utcp(r.CompletedAt), Version: r.Version}
	if r.Status == domain.RefundPending && r.NextAttemptAt != nil {
		it.DuePK, it.DueSK = dueRefundPK, dueSK(*r.NextAttemptAt, r.CaseID, r.ID)
	}
	return it
}

func (it refundItem) domain() domain.Refund {
	return domain.Refund{ID: it.ID, CaseID: it.CaseID, EnterpriseID: it.EnterpriseID, OrderID: it.OrderID,
		TransactionID: it.TransactionID, AmountFen: it.AmountFen, Reason: domain.RefundReason(it.Reason),
		Status: domain.RefundStatus(it.Status), Round: it.Round, Attempts: it.Attempts, NextAttemptAt: it.NextAttemptAt,
		SubmittedAt: it.SubmittedAt, ProviderRefundID: it.ProviderRefundID, FailureCode: it.FailureCode,
		FailureDetail: it.FailureDetail, CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt, CompletedAt: it.CompletedAt,
		Version: it.Version}
}

// refundOps writes a refund; a new one also gets its ref (refund id ->
// case, for the provider's callback and the admins' retry). A create whose
// item exists is ErrDuplicate: the refund was already owed (the same
// cause, written by another trigger).
func (s *Store) refundOps(w domain.RefundWrite) ([]op, error) {
	r := w.Refund
	if r == nil || r.ID == "" || r.CaseID == "" || r.AmountFen <= 0 {
		return nil, internal("refund without id or case, or of no amount")
	}
	av, err := marshalItem(toRefundItem(r))
	if err != nil {
		return nil, err
	}
	if !w.Create {
		o, err := s.versionedPut("refund", av, r.Version, w.ExpectVersion)
		if err != nil {
			return nil, err
		}
		return []op{o}, nil
	}
	o, err := s.putNew(av, ErrDuplicate)
	if err != nil {
		return nil, err
	}
	ref, err := s.refOps(domain.Ref{Kind: domain.RefRefund, ID: r.ID, CaseID: r.CaseID, ExpiresAt: r.CreatedAt.AddDate(5, 0, 0)})
	if err != nil {
		return nil, err
	}
	return append([]op{o}, ref...), nil
}

// subsidyItem: pk SUBSIDY#<Beijing month of At>, sk
// <program>#<caseId>#<kind> (one claim and at most one reversal per case).
type subsidyItem struct {
	PK           string    `dynamodbav:"pk"`
	SK           string    `dynamodbav:"sk"`
	Entity       string    `dynamodbav:"entity"`
	CaseID       string    `dynamodbav:"caseId"`
	EnterpriseID string    `dynamodbav:"enterpriseId"`
	Program      string    `dynamodbav:"program"`
	RegionCode   string    `dynamodbav:"regionCode"`
	Kind         string    `dynamodbav:"kind"`
	SubsidyFen   int64     `dynamodbav:"subsidyFen"`
	At           time.Time `dynamodbav:"at"`
}

func (s *Store) subsidyOps(e domain.SubsidyEntry) ([]op, error) {
	if e.CaseID == "" || e.Program == "" || e.Kind == "" {
		return nil, internal("subsidy entry without case, program or kind")
	}
	return s.appendOp(subsidyItem{PK: subsidyPK(domain.Month(e.At)), SK: keyJoin(e.Program, e.CaseID, string(e.Kind)),
		Entity: "subsidy", CaseID: e.CaseID, EnterpriseID: e.EnterpriseID, Program: e.Program, RegionCode: e.RegionCode,
		Kind: string(e.Kind), SubsidyFen: e.SubsidyFen, At: e.At.UTC()})
}

// discrepancyItem: pk DISC#<id>, sk DISC; GSI1 DISCREPANCIES / <day>#<id>.
type discrepancyItem struct {
	PK           string     `dynamodbav:"pk"`
	SK           string     `dynamodbav:"sk"`
	GSI1PK       string     `dynamodbav:"gsi1pk"`
	GSI1SK       string     `dynamodbav:"gsi1sk"`
	Entity       string     `dynamodbav:"entity"`
	ID           string     `dynamodbav:"id"`
	Source       string     `dynamodbav:"source"`
	Day          string     `dynamodbav:"day"`
	Kind         string     `dynamodbav:"kind"`
	LineKind     string     `dynamodbav:"lineKind"`
	Ref          string     `dynamodbav:"ref"`
	OrderID      string     `dynamodbav:"orderId,omitempty"`
	CaseID       string     `dynamodbav:"caseId,omitempty"`
	OursFen      int64      `dynamodbav:"oursFen"`
	TheirsFen    int64      `dynamodbav:"theirsFen"`
	OursStatus   string     `dynamodbav:"oursStatus,omitempty"`
	TheirsStatus string     `dynamodbav:"theirsStatus,omitempty"`
	Status       string     `dynamodbav:"status"`
	DetectedAt   time.Time  `dynamodbav:"detectedAt"`
	ResolvedAt   *time.Time `dynamodbav:"resolvedAt,omitempty"`
	ResolvedBy   string     `dynamodbav:"resolvedBy,omitempty"`
	Note         string     `dynamodbav:"note,omitempty"`
	Version      int        `dynamodbav:"version"`
}

func toDiscrepancyItem(d *domain.Discrepancy) discrepancyItem {
	return discrepancyItem{PK: discrepancyPK(d.ID), SK: skDiscrepancy, GSI1PK: discrepanciesPK, GSI1SK: keyJoin(d.Day, d.ID),
		Entity: "discrepancy", ID: d.ID, Source: string(d.Source), Day: d.Day, Kind: string(d.Kind), LineKind: d.LineKind,
		Ref: d.Ref, OrderID: d.OrderID, CaseID: d.CaseID, OursFen: d.OursFen, TheirsFen: d.TheirsFen,
		OursStatus: d.OursStatus, TheirsStatus: d.TheirsStatus, Status: string(d.Status), DetectedAt: d.DetectedAt.UTC(),
		ResolvedAt: utcp(d.ResolvedAt), ResolvedBy: d.ResolvedBy, Note: d.Note, Version: d.Version}
}

func (it discrepancyItem) domain() domain.Discrepancy {
	return domain.Discrepancy{ID: it.ID, Source: domain.ReconSource(it.Source), Day: it.Day, Kind: domain.DiscrepancyKind(it.Kind),
		LineKind: it.LineKind, Ref: it.Ref, OrderID: it.OrderID, CaseID: it.CaseID, OursFen: it.OursFen, TheirsFen: it.TheirsFen,
		OursStatus: it.OursStatus, TheirsStatus: it.TheirsStatus, Status: domain.DiscrepancyStatus(it.Status),
		DetectedAt: it.DetectedAt, ResolvedAt: it.ResolvedAt, ResolvedBy: it.ResolvedBy, Note: it.Note, Version: it.Version}
}

// discrepancyOps: a create is once per id (ErrDuplicate: a rerun found it
// again); an update is versioned.
func (s *Store) discrepancyOps(w domain.DiscrepancyWrite) ([]op, error) {
	d := w.Discrepancy
	if d == nil || d.ID == "" || d.Day == "" {
		return nil, internal("discrepancy without id or day")
	}
	av, err := marshalItem(toDiscrepancyItem(d))
	if err != nil {
		return nil, err
	}
	var o op
	if w.Create {
		o, err = s.putNew(av, ErrDuplicate)
	} else {
		o, err = s.versionedPut("discrepancy", av, d.Version, w.ExpectVersion)
	}
	if err != nil {
		return nil, err
	}
	return []op{o}, nil
}

// LedgerForDay lists the ledger entries whose money moved on a Beijing day
// (GSI1 LEDGER#<day>), in time order.
func (s *Store) LedgerForDay(ctx context.Context, day string) ([]domain.LedgerEntry, error) {
	kc := expression.Key(attrGSI1PK).Equal(expression.Value(ledgerDayPK(day)))
	items, err := s.queryAll(ctx, &dynamodb.QueryInput{IndexName: aws.String(indexGSI1)}, kc)
	if err != nil {
		return nil, err
	}
	return decodeLedger(items)
}

// CaseLedger lists a case's ledger entries (pk CASE#<id>, sk L#).
func (s *Store) CaseLedger(ctx context.Context, caseID string) ([]domain.LedgerEntry, error) {
	items, err := s.partitionPrefix(ctx, casePK(caseID), skLedgerPrefix)
	if err != nil {
		return nil, err
	}
	return decodeLedger(items)
}

func decodeLedger(items []map[string]types.AttributeValue) ([]domain.LedgerEntry, error) {
	return decodeAll(items, "ledger entry", ledgerItem.domain)
}

// PayoutsForDay lists the micro-deposit payouts made on a Beijing day
// (GSI1 PAYOUTS#<day>).
func (s *Store) PayoutsForDay(ctx context.Context, day string) ([]domain.Payout, error) {
	kc := expression.Key(attrGSI1PK).Equal(expression.Value(payoutDayPK(day)))
	items, err := s.queryAll(ctx, &dynamodb.QueryInput{IndexName: aws.String(indexGSI1)}, kc)
	if err != nil {
		return nil, err
	}
	return decodeAll(items, "payout", payoutItem.domain)
}

// GetRefund reads one refund (strongly consistent).
func (s *Store) GetRefund(ctx context.Context, caseID, id string) (*domain.Refund, error) {
	av, err := s.getItem(ctx, casePK(caseID), refundSK(id))
	if err != nil {
		return nil, err
	}
	return ref(decode(av, "refund", refundItem.domain))
}

// RefundsDue lists refunds the refund job has work on at or before before
// (DueIndex, duepk REFUND), earliest first.
func (s *Store) RefundsDue(ctx context.Context, before time.Time, p domain.Page) ([]domain.Refund, string, error) {
	spec := cursorSpec{index: indexDue, hashAttr: attrDuePK, hashValue: dueRefundPK, rangeAttr: attrDueSK,
		prefixes: map[string]string{attrPK: prefixCase, attrSK: skRefundPrefix}}
	kc := expression.Key(attrDuePK).Equal(expression.Value(dueRefundPK)).
		And(expression.Key(attrDueSK).LessThanEqual(expression.Value(ts(before) + "#" + hi)))
	return s.refundPage(ctx, &dynamodb.QueryInput{IndexName: aws.String(indexDue)}, kc, nil, spec, p)
}

// ListRefunds lists refunds newest first (GSI1 REFUNDS): the time range is
// a key condition, the other filters are applied to what it reads (see
// queryPageMatching).
func (s *Store) ListRefunds(ctx context.Context, f domain.RefundFilter, p domain.Page) ([]domain.Refund, string, error) {
	spec := cursorSpec{index: indexGSI1, hashAttr: attrGSI1PK, hashValue: refundsPK, rangeAttr: attrGSI1SK,
		prefixes: map[string]string{attrPK: prefixCase, attrSK: skRefundPrefix}}
	kc := rangeKey(refundsPK, f.From, f.To)
	match := attrsEqual(map[string]string{"status": string(f.Status), "reason": string(f.Reason), "caseId": f.CaseID})
	return s.refundPage(ctx, &dynamodb.QueryInput{IndexName: aws.String(indexGSI1), ScanIndexForward: aws.Bool(false)}, kc, match, spec, p)
}

// rangeKey is gsi1pk = pk and, when given, gsi1sk within [from, to).
func rangeKey(pk string, from, to *time.Time) expression.KeyConditionBuilder {
	kc := expression.Key(attrGSI1PK).Equal(expression.Value(pk))
	lo, hiKey := "", ""
	if from != nil {
		lo = ts(*from)
	}
	if to != nil {
		hiKey = ts(*to)
	}
	switch {
	case lo != "" && hiKey != "":
		return kc.And(expression.Key(attrGSI1SK).Between(expression.Value(lo), expression.Value(hiKey)))
	case lo != "":
		return kc.And(expression.Key(attrGSI1SK).GreaterThanEqual(expression.Value(lo)))
	case hiKey != "":
		return kc.And(expression.Key(attrGSI1SK).LessThan(expression.Value(hiKey)))
	}
	return kc
}

func (s *Store) refundPage(ctx context.Context, in *dynamodb.QueryInput, kc expression.KeyConditionBuilder,
	match func(map[string]types.AttributeValue) bool, spec cursorSpec, p domain.Page) ([]domain.Refund, string, error) {
	var items []map[string]types.AttributeValue
	var next string
	var err error
	if match == nil {
		items, next, err = s.queryPage(ctx, in, kc, spec, p)
	} else {
		items, next, err = s.queryPageMatching(ctx, in, kc, match, spec, p)
	}
	if err != nil {
		return nil, "", err
	}
	out, err := decodeAll(items, "refund", refundItem.domain)
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// ListDiscrepancies lists discrepancies, latest statement day first (GSI1
// DISCREPANCIES), filtered like ListRefunds.
func (s *Store) ListDiscrepancies(ctx context.Context, f domain.DiscrepancyFilter, p domain.Page) ([]domain.Discrepancy, string, error) {
	spec := cursorSpec{index: indexGSI1, hashAttr: attrGSI1PK, hashValue: discrepanciesPK, rangeAttr: attrGSI1SK,
		prefixes: map[string]string{attrPK: prefixDiscrepancy, attrSK: skDiscrepancy}}
	kc := expression.Key(attrGSI1PK).Equal(expression.Value(discrepanciesPK))
	lo, hiKey := f.FromDay, f.ToDay
	switch {
	case lo != "" && hiKey != "":
		kc = kc.And(expression.Key(attrGSI1SK).Between(expression.Value(lo), expression.Value(hiKey+"#"+hi)))
	case lo != "":
		kc = kc.And(expression.Key(attrGSI1SK).GreaterThanEqual(expression.Value(lo)))
	case hiKey != "":
		kc = kc.And(expression.Key(attrGSI1SK).LessThanEqual(expression.Value(hiKey + "#" + hi)))
	}
	match := attrsEqual(map[string]string{"status": string(f.Status), "kind": string(f.Kind), "source": string(f.Source)})
	items, next, err := s.queryPageMatching(ctx, &dynamodb.QueryInput{IndexName: aws.String(indexGSI1), ScanIndexForward: aws.Bool(false)}, kc, match, spec, p)
	if err != nil {
		return nil, "", err
	}
	out, err := decodeAll(items, "discrepancy", discrepancyItem.domain)
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// GetDiscrepancy reads one discrepancy (strongly consistent).
func (s *Store) GetDiscrepancy(ctx context.Context, id string) (*domain.Discrepancy, error) {
	av, err := s.getItem(ctx, discrepancyPK(id), skDiscrepancy)
	if err != nil {
		return nil, err
	}
	return ref(decode(av, "discrepancy", discrepancyItem.domain))
}

// SubsidyEntries lists the subsidy lines of a Beijing month ("2026-09"),
// by program then case (pk SUBSIDY#<month>).
func (s *Store) SubsidyEntries(ctx context.Context, month string) ([]domain.SubsidyEntry, error) {
	kc := expression.Key(attrPK).Equal(expression.Value(subsidyPK(month)))
	items, err := s.queryAll(ctx, &dynamodb.QueryInput{ConsistentRead: aws.Bool(true)}, kc)
	if err != nil {
		return nil, err
	}
	return decodeAll(items, "subsidy", subsidyItem.domain)
}

func (it subsidyItem) domain() domain.SubsidyEntry {
	return domain.SubsidyEntry{CaseID: it.CaseID, EnterpriseID: it.EnterpriseID, Program: it.Program,
		RegionCode: it.RegionCode, Kind: domain.SubsidyKind(it.Kind), SubsidyFen: it.SubsidyFen, At: it.At}
}

// attrsEqual matches items whose string attributes equal the non-empty
// values of want.
func attrsEqual(want map[string]string) func(map[string]types.AttributeValue) bool {
	return func(av map[string]types.AttributeValue) bool {
		for name, v := range want {
			if v != "" && stringAttr(av, name) != v {
				return false
			}
		}
		return true
	}
}

// isRefundSK reports whether a case-partition sort key is a refund's.
func isRefundSK(sk string) bool { return strings.HasPrefix(sk, skRefundPrefix) }
