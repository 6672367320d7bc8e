package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"microcert/shared/domain"
	"microcert/shared/idem"
)

// A write whose response is lost (a timeout or a 5xx after DynamoDB applied
// it) is ambiguous: the SDK retries it, and the retry either fails its own
// conditions (PutItem, UpdateItem, and TransactWriteItems on stand-ins that
// ignore ClientRequestToken) or fails again. For a request with an
// Idempotency-Key the truth is in the key's record: the transaction flips
// the reservation to "applied" (or "done"), or creates the record, atomically
// with the side effect, and records which Commit call did it
// (attrAppliedBy, a random id per call). settle reads it back to decide.

// attrAppliedBy is the reservation's attribute naming the Commit call whose
// transaction flipped it to applied.
const attrAppliedBy = "appliedBy"

// newCommitID names one Commit call.
func newCommitID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// settle decides the outcome of a marked commit (call commitID) that failed
// with err:
//   - the reservation is applied (or done) by commitID: this very transaction
//     committed and only its response was lost: nil, success;
//   - it cannot be read: the outcome is unknown: KindUnavailable (the
//     client's retry learns the truth from the reservation);
//   - anything else (still in progress: nothing applied; applied by an
//     earlier commit of the same mark; taken over; gone): err unchanged.
//
// Only "retry later" errors and request_already_applied are ambiguous; other
// conflicts and internal errors are returned as they are.
func (s *Store) settle(ctx context.Context, m idem.Mark, commitID string, err error) error {
	if err == nil || !(domain.IsKind(err, domain.KindUnavailable) || domain.CodeOf(err) == ErrRequestAlreadyApplied.Code) {
		return err
	}
	av, gerr := s.getItem(ctx, idemPK(m.Key), skIdem)
	if gerr != nil && domain.IsKind(gerr, domain.KindUnavailable) && ctx.Err() == nil {
		// Worth a second read: not knowing costs the client a lease's
		// wait and a request_already_applied.
		av, gerr = s.getItem(ctx, idemPK(m.Key), skIdem)
	}
	if gerr != nil {
		if errors.Is(gerr, domain.ErrNotFound) {
			return err
		}
		return domain.Wrap(domain.KindUnavailable, "unavailable", errors.Join(err, gerr))
	}
	rec, derr := decodeIdem(av)
	if derr != nil {
		return err
	}
	by, _ := av[attrAppliedBy].(*types.AttributeValueMemberS)
	if rec.Token == m.Token && (rec.State == idem.StateApplied || rec.State == idem.StateDone) && by != nil && by.Value == commitID {
		return nil
	}
	return err
}
