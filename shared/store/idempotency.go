package store

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"microcert/shared/domain"
	"microcert/shared/idem"
)

// idemItem is an idempotency reservation: pk IDEM#<key>, sk IDEM, ttl at
// ExpiresAt. Times are fixed-width UTC strings so conditions can compare them.
type idemItem struct {
	PK          string            `dynamodbav:"pk"`
	SK          string            `dynamodbav:"sk"`
	TTL         int64             `dynamodbav:"ttl"`
	Entity      string            `dynamodbav:"entity"`
	Key         string            `dynamodbav:"key"`
	Fingerprint string            `dynamodbav:"fingerprint"`
	State       string            `dynamodbav:"state"`
	Token       string            `dynamodbav:"token"`
	LeaseUntil  string            `dynamodbav:"leaseUntil"`
	ExpiresAt   string            `dynamodbav:"expiresAt"`
	AppliedBy   string            `dynamodbav:"appliedBy,omitempty"` // attrAppliedBy
	Status      int               `dynamodbav:"status,omitempty"`
	Headers     map[string]string `dynamodbav:"headers,omitempty"`
	Body        string            `dynamodbav:"body,omitempty"`
}

func (it idemItem) record() (*idem.Record, error) {
	lease, err := time.Parse(sortTime, it.LeaseUntil)
	if err != nil {
		return nil, internal("idempotency lease %q: %w", it.LeaseUntil, err)
	}
	exp, err := time.Parse(sortTime, it.ExpiresAt)
	if err != nil {
		return nil, internal("idempotency expiry %q: %w", it.ExpiresAt, err)
	}
	return &idem.Record{Key: it.Key, Fingerprint: it.Fingerprint, State: it.State, Token: it.Token,
		LeaseUntil: lease, ExpiresAt: exp, Status: it.Status, Headers: it.Headers, Body: it.Body}, nil
}

func decodeIdem(av map[string]types.AttributeValue) (*idem.Record, error) {
	it, err := decode(av, "idempotency record", identity[idemItem])
	if err != nil {
		return nil, err
	}
	return it.record()
}

// ReserveIdempotency tries to reserve rec.Key for the attempt rec.Token, in
// state in_progress with rec's Fingerprint, LeaseUntil and ExpiresAt (rec.State
// is ignored). It succeeds (Held) when the key is free at now (freeKey):
// no live reservation exists (absent, or its ExpiresAt has passed but TTL
// has not deleted it yet), or the existing one is in_progress, its
// LeaseUntil is before now and its fingerprint is rec's (the attempt
// holding it is presumed dead: this one takes it over, with the new token,
// lease and expiry).
//
// Otherwise nothing is written and it returns the existing record (Held
// false), for the caller to decide: done -> replay (same fingerprint) or 422
// (another); in_progress or applied -> 409 request_in_progress (or 422 for
// another fingerprint).
func (s *Store) ReserveIdempotency(ctx context.Context, rec idem.Record, now time.Time) (idem.Reservation, error) {
	if rec.Key == "" || rec.Token == "" {
		return idem.Reservation{}, internal("idempotency reservation without key or token")
	}
	it := newIdemItem(rec, idem.StateInProgress, "", nil)
	// Our own in-progress record: the put was applied but its response
	// lost, and the SDK's retry then failed the condition on the item the
	// first attempt wrote. Tokens are random per attempt.
	own := func(r *idem.Record) bool { return r.Token == rec.Token && r.State == idem.StateInProgress }
	return s.putIdem(ctx, it, freeKey(rec.Fingerprint, now), own)
}

// RecordIdempotency stores resp as the answer of the request rec (Key,
// Token, Fingerprint, LeaseUntil, ExpiresAt), state done, for a request
// that holds no reservation (idem.Mark.Create): one that answered without
// a change, or whose change was written before its answer (its record
// applied, with its token). It succeeds (Held) when the key is free at now
// (freeKey) or holds that applied record; otherwise nothing is written and
// it returns the record in the way (Held false), which the caller answers
// from as from a reservation it could not take.
func (s *Store) RecordIdempotency(ctx context.Context, rec idem.Record, resp idem.Response, now time.Time) (idem.Reservation, error) {
	if rec.Key == "" || rec.Token == "" {
		return idem.Reservation{}, internal("idempotency record without key or token")
	}
	it := newIdemItem(rec, idem.StateDone, "", &resp)
	cond := freeKey(rec.Fingerprint, now).Or(expression.And(
		expression.Name("token").Equal(expression.Value(rec.Token)),
		expression.Name("state").Equal(expression.Value(idem.StateApplied)),
	))
	// Our own done record with this very answer: the put was applied but
	// its response lost. Done with another answer is an earlier write of
	// the same attempt (its change committed with the answer, though the
	// commit's outcome could not be read): that one stands.
	own := func(r *idem.Record) bool {
		return r.Token == rec.Token && r.State == idem.StateDone && r.Status == resp.Status && r.Body == resp.Body
	}
	return s.putIdem(ctx, it, cond, own)
}

// LookupIdempotency reads the record of key (strongly consistent):
// domain.ErrNotFound when there is none.
func (s *Store) LookupIdempotency(ctx context.Context, key string) (*idem.Record, error) {
	av, err := s.getItem(ctx, idemPK(key), skIdem)
	if err != nil {
		return nil, err
	}
	return decodeIdem(av)
}

// newIdemItem is rec's item in state, with the commit that wrote it
// (appliedBy, ambiguous.go) and the response a done record replays.
func newIdemItem(rec idem.Record, state, appliedBy string, resp *idem.Response) idemItem {
	it := idemItem{
		PK: idemPK(rec.Key), SK: skIdem, TTL: epoch(rec.ExpiresAt), Entity: "idempotency",
		Key: rec.Key, Fingerprint: rec.Fingerprint, State: state, Token: rec.Token,
		LeaseUntil: ts(rec.LeaseUntil), ExpiresAt: ts(rec.ExpiresAt), AppliedBy: appliedBy,
	}
	if resp != nil {
		it.Status, it.Headers, it.Body = resp.Status, resp.Headers, resp.Body
	}
	return it
}

// freeKey is the condition under which a request may write a key's record
// as its own: no live record exists (absent, or expired and not yet
// deleted by TTL), or an in-progress reservation of the same request
// (fingerprint) whose lease ended before now: its attempt is presumed dead.
func freeKey(fingerprint string, now time.Time) expression.ConditionBuilder {
	nowS := expression.Value(ts(now))
	return expression.Or(
		expression.AttributeNotExists(expression.Name(attrPK)),
		expression.Name("expiresAt").LessThan(nowS),
		expression.And(
			expression.Name("state").Equal(expression.Value(idem.StateInProgress)),
			expression.Name("leaseUntil").LessThan(nowS),
			expression.Name("fingerprint").Equal(expression.Value(fingerprint)),
		),
	)
}

// putIdem puts it on condition cond. When the condition fails it returns
// the record in the way, or success if own says that record is this very
// put's (applied, its response lost, and the SDK's retry failed the
// condition on it).
func (s *Store) putIdem(ctx context.Context, it idemItem, cond expression.ConditionBuilder, own func(*idem.Record) bool) (idem.Reservation, error) {
	av, err := marshalItem(it)
	if err != nil {
		return idem.Reservation{}, err
	}
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return idem.Reservation{}, internal("build idempotency record condition: %w", err)
	}
	found := func(r *idem.Record, err error) (idem.Reservation, error) {
		switch {
		case err != nil:
			return idem.Reservation{}, err
		case own(r):
			return idem.Reservation{Held: true}, nil
		default:
			return idem.Reservation{Existing: *r}, nil
		}
	}
	for attempt := 0; attempt < 3; attempt++ {
		// A whole-item Put: a takeover or a reuse after expiry leaves
		// nothing of the previous record behind.
		_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:                           aws.String(s.table),
			Item:                                av,
			ConditionExpression:                 expr.Condition(),
			ExpressionAttributeNames:            expr.Names(),
			ExpressionAttributeValues:           expr.Values(),
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		var ccf *types.ConditionalCheckFailedException
		if !errors.As(err, &ccf) {
			if err != nil {
				return idem.Reservation{}, mapErr(err)
			}
			return idem.Reservation{Held: true}, nil
		}
		if len(ccf.Item) > 0 {
			return found(decodeIdem(ccf.Item))
		}
		// No old image (a stand-in that does not return one): read it.
		old, err := s.getItem(ctx, it.PK, skIdem)
		if err == nil {
			return found(decodeIdem(old))
		}
		if !errors.Is(err, domain.ErrNotFound) {
			return idem.Reservation{}, err
		}
		// Deleted in between (released): try again.
	}
	return idem.Reservation{}, domain.Wrap(domain.KindUnavailable, "unavailable", errors.New("store: idempotency record keeps changing"))
}

// CompleteIdempotency stores the response of the request holding key with
// token and marks the reservation done (replayable), from in_progress (no
// side effect) or applied. ErrReservationLost if token no longer holds it.
func (s *Store) CompleteIdempotency(ctx context.Context, key, token string, status int, headers map[string]string, body string) error {
	ub := completion(expression.Set(expression.Name("state"), expression.Value(idem.StateDone)),
		idem.Response{Status: status, Headers: headers, Body: body})
	cond := expression.Name("token").Equal(expression.Value(token)).And(expression.Or(
		expression.Name("state").Equal(expression.Value(idem.StateInProgress)),
		expression.Name("state").Equal(expression.Value(idem.StateApplied)),
	))
	o, err := s.updateOp(itemKey(idemPK(key), skIdem), ub, cond, ErrReservationLost, false)
	if err != nil {
		return err
	}
	return s.single(ctx, o)
}

// completion adds to ub the response a done reservation replays.
func completion(ub expression.UpdateBuilder, resp idem.Response) expression.UpdateBuilder {
	ub = ub.Set(expression.Name("status"), expression.Value(resp.Status)).
		Set(expression.Name("body"), expression.Value(resp.Body))
	if len(resp.Headers) > 0 { // a reservation never has headers before
		ub = ub.Set(expression.Name("headers"), expression.Value(resp.Headers))
	}
	return ub
}

// ReleaseIdempotency deletes the in_progress reservation of key that token
// holds, so that the client may retry at once (the request failed before any
// side effect). ErrReservationLost if token no longer holds it in progress
// (taken over, applied or gone): nothing is deleted then.
func (s *Store) ReleaseIdempotency(ctx context.Context, key, token string) error {
	cond := expression.Name("token").Equal(expression.Value(token)).
		And(expression.Name("state").Equal(expression.Value(idem.StateInProgress)))
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return internal("build release: %w", err)
	}
	_, err = s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(s.table),
		Key:                       itemKey(idemPK(key), skIdem),
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ErrReservationLost
	}
	return mapErr(err)
}
