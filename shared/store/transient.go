package store

import (
	"errors"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// sdkRetryable reports whether the SDK's own retryer would retry err: then
// the failure is transient by the SDK's judgement (throttling, 5xx, a
// connection refused, reset or closed while the response was read, ...),
// and once the retries are spent it is "retry later" (503), not a bug
// (500). store.unavailable consults it last, after the codes it knows.
//
// Seen under injected faults: a Query whose response body read failed with
// "use of closed network connection" surfaced as a *smithy.DeserializationError
// (HTTP 200), which none of unavailable's checks recognized: a 500.
// A response cut short (io.ErrUnexpectedEOF: the connection dropped inside
// the body) is transient too, though the SDK does not retry it.
func sdkRetryable(err error) bool {
	return errors.Is(err, io.ErrUnexpectedEOF) ||
		retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
}
