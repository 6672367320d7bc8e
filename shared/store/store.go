package store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"microcert/shared/clock"
	"microcert/shared/domain"
	"microcert/shared/idem"
)

// Store is microcert's single-table DynamoDB store. It is safe for
// concurrent use; build one per process (Lambda init) and share it.
type Store struct {
	db    *dynamodb.Client
	table string
	clock clock.Clock
	rules domain.Rules
}

// New returns a Store over table with the system clock. It schedules
// certifications on DueIndex by rules (Certification.NextTransitionAt: the
// lapse period): pass the rules the service runs with.
func New(client *dynamodb.Client, table string, rules domain.Rules) *Store {
	return &Store{db: client, table: table, clock: clock.System{}, rules: rules}
}

// WithClock makes the store read time from c (used only to treat items whose
// TTL has passed as gone: DynamoDB deletes them up to days late). It returns
// s; call it before use.
func (s *Store) WithClock(c clock.Clock) *Store {
	s.clock = c
	return s
}

// Conflict and input errors of the store, beside domain.ErrVersionConflict
// and domain.ErrNotFound. Callers compare codes (domain.CodeOf), not
// pointers; the HTTP layer may replace the message.
var (
	// ErrEnterpriseExists: the USCC of a new profile is already claimed.
	ErrEnterpriseExists = domain.E(domain.KindConflict, "enterprise_exists",
		"该统一社会信用代码已注册企业资料。", "An enterprise with this USCC is already registered.")
	// ErrDuplicate: an append-only record (history, notification, audit,
	// payout, ref, reminder mark) or a document check result was already
	// written, or a newer check result is stored.
	ErrDuplicate = domain.E(domain.KindConflict, "duplicate",
		"该记录已存在。", "This record was already written.")
	// ErrRequestAlreadyApplied: the idempotency reservation of the request
	// is no longer ours and in progress, or the key of a request without
	// a reservation holds another record, so its side effect was already
	// committed (or another attempt took the key over).
	ErrRequestAlreadyApplied = idem.ErrAlreadyApplied
	// ErrReservationLost: completing or releasing an idempotency
	// reservation that is no longer held with that token.
	ErrReservationLost = domain.E(domain.KindConflict, "reservation_lost",
		"该请求的幂等保留已失效。", "The idempotency reservation of this request is no longer held.")
	// ErrInvalidCursor: a list cursor that this store did not hand out for
	// that list.
	ErrInvalidCursor = &domain.Error{Kind: domain.KindInvalid, Code: "invalid_cursor",
		Message: domain.Text{Zh: "分页游标无效。", En: "The cursor is not valid."},
		Fields: []domain.FieldError{{Field: "cursor", Code: "invalid_cursor",
			Message: domain.Text{Zh: "请使用上一页返回的 nextCursor。", En: "Use the nextCursor of the previous page."}}}}
)

// internal wraps a bug or an unexpected failure.
func internal(format string, a ...any) error {
	return domain.Wrap(domain.KindInternal, "internal", fmt.Errorf("store: "+format, a...))
}

// unavailableCodes are DynamoDB error codes that mean "retry later".
var unavailableCodes = map[string]bool{
	"ProvisionedThroughputExceededException": true,
	"ThrottlingException":                    true,
	"Throttling":                             true,
	"RequestLimitExceeded":                   true,
	"InternalServerError":                    true,
	"ServiceUnavailable":                     true,
	"TransactionInProgressException":         true,
	"RequestTimeout":                         true,
	"RequestTimeoutException":                true,
}

// mapErr turns an SDK error into a domain error: throttling, 5xx, timeouts
// and transport failures become KindUnavailable, everything else internal.
// Domain errors pass through. It never logs (items may hold PIPL data).
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	var de *domain.Error
	if errors.As(err, &de) {
		return err
	}
	if unavailable(err) {
		return domain.Wrap(domain.KindUnavailable, "unavailable", err)
	}
	return domain.Wrap(domain.KindInternal, "internal", err)
}

func unavailable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && unavailableCodes[ae.ErrorCode()] {
		return true
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() >= 500 {
		return true
	}
	var se *smithyhttp.RequestSendError
	if errors.As(err, &se) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return sdkRetryable(err) // transient.go
}

// sortTime is the fixed-width UTC layout of times inside sort keys, so that
// keys sort lexically in time order.
const sortTime = "2006-01-02T15:04:05.000000000Z"

// ts formats t for a sort key.
func ts(t time.Time) string { return t.UTC().Format(sortTime) }

// utc returns t in UTC (nil stays nil).
func utcp(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// keyJoin joins key parts with '#'.
func keyJoin(parts ...string) string { return strings.Join(parts, "#") }

// hi is appended to a sort-key prefix to make the upper bound of a range
// ('~' sorts after every character of ids, types and sortTime).
const hi = "~"
