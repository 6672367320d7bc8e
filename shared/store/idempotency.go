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
// is ignored). It succeeds, returning (nil, nil), when no live reservation
// exists (absent, or its ExpiresAt has passed but TTL has not deleted it
// yet), or when the existing one is in_progress, its LeaseUntil is before
// now and its fingerprint is rec's (the attempt holding it is presumed dead:
// this one takes it over, with the new token, lease and expiry).
//
// Otherwise nothing is written and it returns the existing record (Held
// false), for the caller to decide: done -> replay (same fingerprint) or 422
// (another); in_progress or applied -> 409 request_in_progress (or 422 for
// another fingerprint).
func (s *Store) ReserveIdempotency(ctx context.Context, rec idem.Record, now time.Time) (idem.Reservation, error) {
	if rec.Key == "" || rec.Token == "" {
		return idem.Reservation{}, internal("idempotency reservation without key or token")
	}
	av, err := marshalItem(idemItem{
		PK: idemPK(rec.Key), SK: skIdem, TTL: epoch(rec.ExpiresAt), Entity: "idempotency",
		Key: rec.Key, Fingerprint: rec.Fingerprint, State: idem.StateInProgress, Token: rec.Token,
		LeaseUntil: ts(rec.LeaseUntil), ExpiresAt: ts(rec.ExpiresAt),
	})
	if err != nil {
		return idem.Reservation{}, err
	}
	nowS := expression.Value(ts(now))
	cond := expression.Or(
		expression.AttributeNotExists(expression.Name(attrPK)),
		expression.Name("expiresAt").LessThan(nowS),
		expression.And(
			expression.Name("state").Equal(expression.Value(idem.StateInProgress)),
			expression.Name("leaseUntil").LessThan(nowS),
			expression.Name("fingerprint").Equal(expression.Value(rec.Fingerprint)),
		),
	)
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return idem.Reservation{}, internal("build reservation: %w", err)
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
			return keepOwn(rec.Token)(decodeIdem(ccf.Item))
		}
		// No old image (a stand-in that does not return one): read it.
		old, err := s.getItem(ctx, idemPK(rec.Key), skIdem)
		if err == nil {
			return keepOwn(rec.Token)(decodeIdem(old))
		}
		if !errors.Is(err, domain.ErrNotFound) {
			return idem.Reservation{}, err
		}
		// Deleted in between (released): try again.
	}
	return idem.Reservation{}, domain.Wrap(domain.KindUnavailable, "unavailable", errors.New("store: idempotency reservation keeps changing"))
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
