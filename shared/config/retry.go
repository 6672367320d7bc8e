package config

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
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
	})
}
