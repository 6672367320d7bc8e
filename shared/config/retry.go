package config

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// DynamoDB retries. The SDK's DynamoDB default is the standard retryer with
// 4 attempts, a 25 ms base delay for errors and 1 s for throttles, doubling
// up to 20 s: a throttled call could sleep 1+2+4 s, most of ApiFunction's
// 10 s timeout, and a Lambda timeout is a 500 at the gateway. We allow one
// attempt more (at a 30% failure rate a call then fails 0.3^5 = 0.2% of the
// time instead of 0.8%) and cap each wait at 1 s, so four retries sleep at
// most 4 s; what still fails is a 503 with Retry-After (store.mapErr), and
// the client retries with its Idempotency-Key. AWS_MAX_ATTEMPTS, when set,
// still overrides the attempts.
const (
	dynamoDBMaxAttempts = 5
	dynamoDBMaxBackoff  = time.Second
	dynamoDBBaseDelay   = 25 * time.Millisecond
)

// noRetryQuota turns off the standard retryer's client-side retry quota.
// The quota is a token bucket per client (500 tokens, 5 per retry, 10 per
// timeout) that refills only on successes, never with time. It protects a
// long-lived process that serves many requests at once; a Lambda execution
// environment serves one invocation at a time and already bounds each call
// by its attempts and the function's timeout. Under a burst of errors the
// bucket of a warm environment empties, and from then on every call of that
// environment fails on its first error ("retry quota exceeded") until enough
// calls succeed outright: an outage's tail turned into failures, for as long
// as the environment lives. Throttling is still handled by the backoff.
func noRetryQuota(so *retry.StandardOptions) { so.RateLimiter = ratelimit.None }

// dynamoDBRetries sets the retryer of the DynamoDB client (standard mode;
// an adaptive mode chosen by configuration is left alone).
func dynamoDBRetries(o *dynamodb.Options) {
	if o.RetryMode == aws.RetryModeAdaptive {
		return
	}
	o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = dynamoDBMaxAttempts
		so.MaxBackoff = dynamoDBMaxBackoff
		so.BaseDelay = dynamoDBBaseDelay
		noRetryQuota(so)
	})
}

// s3Retries keeps the SDK's S3 defaults (3 attempts; AWS_MAX_ATTEMPTS is
// applied by the client after the options) without the retry quota.
func s3Retries(o *s3.Options) {
	if o.RetryMode == aws.RetryModeAdaptive {
		return
	}
	o.Retryer = retry.NewStandard(noRetryQuota)
}
