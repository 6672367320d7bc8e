package store

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"microcert/shared/domain"
	"microcert/shared/idem"
)

// maxTransactItems is DynamoDB's limit of TransactWriteItems.
const maxTransactItems = 100

// op is one write of a Change, with the error its failed condition means.
type op struct {
	item types.TransactWriteItem
	// onFail is returned when the write's condition fails.
	onFail error
	// versioned: the write is guarded by a version (or the item's
	// existence) that a concurrent transaction may be changing, so a
	// TransactionConflict on it means "someone else won the race"
	// (version_conflict) rather than "retry later".
	versioned bool
}

// putNew puts av only if no item has its key.
func (s *Store) putNew(av map[string]types.AttributeValue, onFail error) (op, error) {
	return s.putIf(av, expression.AttributeNotExists(expression.Name(attrPK)), onFail, onFail == domain.ErrVersionConflict)
}

// putIf puts (replaces) the whole item av under cond.
func (s *Store) putIf(av map[string]types.AttributeValue, cond expression.ConditionBuilder, onFail error, versioned bool) (op, error) {
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return op{}, internal("build put condition: %w", err)
	}
	return op{item: types.TransactWriteItem{Put: &types.Put{
		TableName:                 aws.String(s.table),
		Item:                      av,
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	}}, onFail: onFail, versioned: versioned}, nil
}

// checkOp is a ConditionCheck of cond on the item with key: the
// transaction writes nothing unless it holds.
func (s *Store) checkOp(key map[string]types.AttributeValue, cond expression.ConditionBuilder, onFail error, versioned bool) (op, error) {
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return op{}, internal("build condition check: %w", err)
	}
	return op{item: types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName:                 aws.String(s.table),
		Key:                       key,
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	}}, onFail: onFail, versioned: versioned}, nil
}

// updateOp updates the item with key under cond.
func (s *Store) updateOp(key map[string]types.AttributeValue, ub expression.UpdateBuilder, cond expression.ConditionBuilder, onFail error, versioned bool) (op, error) {
	expr, err := expression.NewBuilder().WithUpdate(ub).WithCondition(cond).Build()
	if err != nil {
		return op{}, internal("build update: %w", err)
	}
	return op{item: types.TransactWriteItem{Update: &types.Update{
		TableName:                 aws.String(s.table),
		Key:                       key,
		UpdateExpression:          expr.Update(),
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	}}, onFail: onFail, versioned: versioned}, nil
}

// versionedPut replaces a versioned entity's item (av, built from the
// entity) if the stored version is expect; extra conditions are ANDed. The
// entity already carries the new version, which must be expect+1.
//
// Why a whole-item Put and not an UpdateItem of SET/REMOVE clauses: the item
// is a pure function of the entity, so replacing it leaves exactly the
// sparse-index attributes the entity's state calls for, with nothing to
// REMOVE and no need to know what was stored (same write cost: DynamoDB bills
// the larger of the old and new item either way). It also keeps the tests
// honest on minidyn v0.8.2, whose UpdateItem ignores top-level REMOVE and
// corrupts a non-empty GSI when an update adds the item to it.
func (s *Store) versionedPut(what string, av map[string]types.AttributeValue, version, expect int, extra ...expression.ConditionBuilder) (op, error) {
	if version != expect+1 {
		return op{}, internal("%s: version %d is not the expected version %d + 1", what, version, expect)
	}
	cond := expression.Name("version").Equal(expression.Value(expect))
	for _, c := range extra {
		cond = cond.And(c)
	}
	return s.putIf(av, cond, domain.ErrVersionConflict, true)
}

// entityOps writes a versioned entity's item: a create on condition that
// its key is free, an update under the version it replaces (versionedPut).
// A lost race is domain.ErrVersionConflict either way.
func (s *Store) entityOps(what string, item any, create bool, version, expect int) ([]op, error) {
	av, err := marshalItem(item)
	if err != nil {
		return nil, err
	}
	var o op
	if create {
		o, err = s.putNew(av, domain.ErrVersionConflict)
	} else {
		o, err = s.versionedPut(what, av, version, expect)
	}
	if err != nil {
		return nil, err
	}
	return []op{o}, nil
}

// markOp flips the request's idempotency reservation to applied, on
// condition that we still hold it in progress: a side effect is committed at
// most once per idempotency key. With resp, the reservation becomes done
// with resp instead, stored for replay: the transaction that applies the
// change also completes the request. commitID names this write (see
// ambiguous.go).
//
// A mark that holds no reservation (m.Create) creates the record instead,
// in the same state, on condition that the key is free (freeKey): the
// change of another request with the key, committed first, fails it the
// same way.
func (s *Store) markOp(m idem.Mark, commitID string, resp *idem.Response) (op, error) {
	state := idem.StateApplied
	if resp != nil {
		state = idem.StateDone
	}
	if m.Create != nil {
		rec := *m.Create
		rec.Key, rec.Token = m.Key, m.Token
		av, err := marshalItem(newIdemItem(rec, state, commitID, resp))
		if err != nil {
			return op{}, err
		}
		return s.putIf(av, freeKey(rec.Fingerprint, m.At), ErrRequestAlreadyApplied, false)
	}
	ub := expression.Set(expression.Name("state"), expression.Value(state)).
		Set(expression.Name(attrAppliedBy), expression.Value(commitID))
	if resp != nil {
		ub = completion(ub, *resp)
	}
	cond := expression.Name("token").Equal(expression.Value(m.Token)).
		And(expression.Name("state").Equal(expression.Value(idem.StateInProgress)))
	return s.updateOp(itemKey(idemPK(m.Key), skIdem), ub, cond, ErrRequestAlreadyApplied, false)
}

// Commit writes the whole Change atomically with one TransactWriteItems (at
// most 100 writes; a larger Change is an internal error). Creates require
// that the item does not exist, updates that the stored version is the
// expected one; history, notifications, audits, payouts, refs and reminder
// marks are puts that must not overwrite anything.
//
// If ctx carries an idempotency mark (idem.MarkFrom), the transaction also
// flips that reservation from in_progress to applied, on condition that the
// mark's token still holds it (or, for a mark without a reservation, creates
// the record on condition that the key is free): a request's side effect
// commits at most once.
// If ctx also carries a deferral (idem.DeferralFrom) with nothing held yet,
// the change is checked and held there instead, and Commit returns nil: the
// HTTP layer writes it with the request's response, and any later store
// call of the request writes it first (so the request reads its own
// writes, and its writes keep their order). A Change of a single write and
// no mark uses PutItem/UpdateItem instead.
//
// A failed condition is a KindConflict error: request_already_applied (the
// mark), enterprise_exists (the USCC), version_conflict (versions; also a
// create whose item exists, or a document update whose stored check result
// changed), duplicate (append-only records, reminder marks, check results
// already recorded or older than the stored one).
func (s *Store) Commit(ctx context.Context, ch *domain.Change) error {
	if ch == nil || ch.Empty() {
		return nil
	}
	if err := flushHeld(ctx); err != nil {
		return err
	}
	ops, err := s.changeOps(ch)
	if err != nil {
		return err
	}
	mark, marked := idem.MarkFrom(ctx)
	if !marked {
		return s.write(ctx, ops)
	}
	if len(ops)+1 > maxTransactItems {
		return internal("change of %d writes and its reservation exceeds the %d of one transaction", len(ops), maxTransactItems)
	}
	held := func(ctx context.Context, resp *idem.Response) error { return s.commitMarked(ctx, mark, ops, resp) }
	if idem.DeferralFrom(ctx).Hold(held) {
		return nil
	}
	return held(ctx, nil)
}

// flushHeld writes the change a request's earlier Commit held (see
// Commit), before any other store call of that request.
func flushHeld(ctx context.Context) error { return idem.WriteHeld(ctx) }

// write runs ops of a Change without a mark: one transaction, or a single
// PutItem/UpdateItem for one write.
func (s *Store) write(ctx context.Context, ops []op) error {
	if len(ops) > maxTransactItems {
		return internal("change of %d writes exceeds the %d of one transaction", len(ops), maxTransactItems)
	}
	if len(ops) == 1 {
		return s.single(ctx, ops[0])
	}
	return s.transact(ctx, ops)
}

// commitMarked writes ops with the mark's reservation flip (to done with
// resp, or to applied without) in one transaction, and settles a lost
// response (ambiguous.go).
func (s *Store) commitMarked(ctx context.Context, mark idem.Mark, ops []op, resp *idem.Response) error {
	commitID := newCommitID()
	// The mark first, so that when several conditions fail (DynamoDB
	// reports them all, minidyn only the first) "already applied" wins.
	o, err := s.markOp(mark, commitID, resp)
	if err != nil {
		return err
	}
	err = s.transact(ctx, append([]op{o}, ops...))
	return s.settle(ctx, mark, commitID, err)
}

// transact runs ops as one TransactWriteItems.
func (s *Store) transact(ctx context.Context, ops []op) error {
	items := make([]types.TransactWriteItem, len(ops))
	for i, o := range ops {
		items[i] = o.item
	}
	// The SDK fills ClientRequestToken once per call and reuses it on
	// retries, so a retried transaction that already succeeded succeeds
	// again instead of failing its own conditions.
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	return cancelled(err, ops)
}

// changeOps turns a Change into writes, in a fixed order.
func (s *Store) changeOps(ch *domain.Change) ([]op, error) {
	var ops []op
	add := func(o []op, err error) error {
		if err != nil {
			return err
		}
		ops = append(ops, o...)
		return nil
	}
	for _, w := range ch.Enterprises {
		if err := add(s.enterpriseOps(w)); err != nil {
			return nil, err
		}
	}
	for _, w := range ch.Cases {
		if err := add(s.caseOps(w)); err != nil {
			return nil, err
		}
	}
	for _, w := range ch.Certifications {
		if err := add(s.certificationOps(w)); err != nil {
			return nil, err
		}
	}
	// Versioned money records next: a lost race is reported as a version
	// conflict (retried), not as the duplicate of a record written with it.
	for _, w := range ch.Refunds {
		if err := add(s.refundOps(w)); err != nil {
			return nil, err
		}
	}
	for _, w := range ch.Discrepancies {
		if err := add(s.discrepancyOps(w)); err != nil {
			return nil, err
		}
	}
	for _, w := range ch.Documents {
		if err := add(s.documentOps(w)); err != nil {
			return nil, err
		}
	}
	for _, h := range ch.History {
		if err := add(s.historyOps(h)); err != nil {
			return nil, err
		}
	}
	for _, n := range ch.Notifications {
		if err := add(s.notificationOps(n)); err != nil {
			return nil, err
		}
	}
	for _, a := range ch.Audits {
		if err := add(s.auditOps(a)); err != nil {
			return nil, err
		}
	}
	for _, r := range ch.Refs {
		if err := add(s.refOps(r)); err != nil {
			return nil, err
		}
	}
	for _, p := range ch.Payouts {
		if err := add(s.payoutOps(p)); err != nil {
			return nil, err
		}
	}
	for _, m := range ch.ReminderMarks {
		if err := add(s.markRecordOps(m)); err != nil {
			return nil, err
		}
	}
	for _, w := range ch.Slots {
		if err := add(s.slotOps(w)); err != nil {
			return nil, err
		}
	}
	for _, w := range ch.DepositLogs {
		if err := add(s.depositLogOps(w)); err != nil {
			return nil, err
		}
	}
	for _, e := range ch.Ledger {
		if err := add(s.ledgerOps(e)); err != nil {
			return nil, err
		}
	}
	for _, e := range ch.Subsidies {
		if err := add(s.subsidyOps(e)); err != nil {
			return nil, err
		}
	}
	for _, w := range ch.Members {
		if err := add(s.memberOps(w)); err != nil {
			return nil, err
		}
	}
	for _, w := range ch.Invitations {
		if err := add(s.invitationOps(w)); err != nil {
			return nil, err
		}
	}
	for _, w := range ch.USCCClaims {
		if err := add(s.usccClaimOps(w)); err != nil {
			return nil, err
		}
	}
	for _, w := range ch.Deliveries {
		if err := add(s.deliveryOps(w)); err != nil {
			return nil, err
		}
	}
	for _, w := range ch.Endpoints {
		if err := add(s.endpointOps(w)); err != nil {
			return nil, err
		}
	}
	for _, m := range ch.Reads {
		if err := add(s.readMarkOps(m)); err != nil {
			return nil, err
		}
	}
	for _, c := range ch.MemberChecks {
		if err := add(s.memberCheckOps(c)); err != nil {
			return nil, err
		}
	}
	return ops, nil
}

// single runs one write without a transaction.
func (s *Store) single(ctx context.Context, o op) error {
	var err error
	switch it := o.item; {
	case it.Put != nil:
		_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:                 it.Put.TableName,
			Item:                      it.Put.Item,
			ConditionExpression:       it.Put.ConditionExpression,
			ExpressionAttributeNames:  it.Put.ExpressionAttributeNames,
			ExpressionAttributeValues: it.Put.ExpressionAttributeValues,
		})
	case it.Update != nil:
		_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 it.Update.TableName,
			Key:                       it.Update.Key,
			UpdateExpression:          it.Update.UpdateExpression,
			ConditionExpression:       it.Update.ConditionExpression,
			ExpressionAttributeNames:  it.Update.ExpressionAttributeNames,
			ExpressionAttributeValues: it.Update.ExpressionAttributeValues,
		})
	case it.Delete != nil:
		_, err = s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName:                 it.Delete.TableName,
			Key:                       it.Delete.Key,
			ConditionExpression:       it.Delete.ConditionExpression,
			ExpressionAttributeNames:  it.Delete.ExpressionAttributeNames,
			ExpressionAttributeValues: it.Delete.ExpressionAttributeValues,
		})
	default:
		return internal("unsupported single write")
	}
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return o.onFail
	}
	return mapErr(err)
}

// cancelled maps a TransactWriteItems error: the first write whose condition
// failed decides the conflict; a transaction conflict on a versioned write
// is a version conflict (a concurrent writer won), elsewhere it is
// "unavailable" (retry); throttling is unavailable.
func cancelled(err error, ops []op) error {
	if err == nil {
		return nil
	}
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return mapErr(err)
	}
	reasons := tce.CancellationReasons
	for i, r := range reasons {
		if aws.ToString(r.Code) == "ConditionalCheckFailed" && i < len(ops) {
			return ops[i].onFail
		}
	}
	retry := false
	for i, r := range reasons {
		switch aws.ToString(r.Code) {
		case "TransactionConflict":
			if i < len(ops) && ops[i].versioned {
				return domain.ErrVersionConflict
			}
			retry = true
		case "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded":
			retry = true
		}
	}
	if retry {
		return domain.Wrap(domain.KindUnavailable, "unavailable", err)
	}
	return domain.Wrap(domain.KindInternal, "internal", err)
}
