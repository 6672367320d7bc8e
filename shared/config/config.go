// Package config reads the functions' configuration once, at init: names of
// the table and bucket, tunables, and the AWS client settings. Secrets are in
// the subpackage secrets, which only ApiFunction and DispatcherFunction link
// (SSM is costly to initialise, and the other functions need no secret).
//
// The AWS configuration is built from the environment Lambda provides
// (region, the execution role's credentials, AWS_ENDPOINT_URL_* locally)
// rather than with config.LoadDefaultConfig: the default chain links STS,
// SSO and IMDS clients that a function never uses, which costs about 1 MB
// of binary and part of a millisecond of cold start (BENCHMARKS.md).
package config

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"microcert/shared/domain"
	"microcert/shared/notify/outbound"
)

// Config is everything a function needs from its environment.
type Config struct {
	TableName         string
	BucketName        string
	S3UsePathStyle    bool
	ClaimTTL          time.Duration
	RetentionDays     int
	ReminderMilestone []int
	// WebhookRetryFor and WebhookRetryFirst override the webhook retry
	// policy (template parameters WebhookRetryFor, WebhookFirstRetry).
	WebhookRetryFor   time.Duration
	WebhookRetryFirst time.Duration
	// Webhooks is where integrators' endpoints may lead. WEBHOOK_ALLOW_HTTP
	// and WEBHOOK_ALLOW_LOOPBACK are set by the local stack only (its
	// receivers listen on loopback over http); the template never sets them.
	Webhooks outbound.Policy
	// PaymentProviderURL is the base URL of the payment provider's refund
	// API ("" where the function sends no refunds).
	PaymentProviderURL string
	// RefundFunctionName is the function that sends a refund a request
	// made owed (REFUND_FUNCTION_NAME; the API's, "" elsewhere).
	RefundFunctionName string
	// JobsInlineBudget overrides how long a scheduled job run works itself
	// before it fans out (0: jobs.InlineBudget). Only tests set it
	// (JOBS_INLINE_BUDGET), to drive a fan-out with a small day; a
	// deployed stack never does (checked against template.yaml).
	JobsInlineBudget time.Duration
	// DeliveryAttempt bounds one delivery attempt of a notification
	// (DELIVERY_ATTEMPT_TIMEOUT, default 10s); a claimed delivery is hidden
	// from other dispatcher runs for three of them. The e2e tests shorten
	// it so that a crashed run's claim lapses in seconds.
	DeliveryAttempt time.Duration
	AWS             aws.Config
}

// JobsInlineBudgetEnv is the variable of Config.JobsInlineBudget.
const JobsInlineBudgetEnv = "JOBS_INLINE_BUDGET"

// Load reads the environment.
func Load() (Config, error) {
	awsCfg, err := AWSFromEnv()
	if err != nil {
		return Config{}, err
	}
	c := Config{
		TableName:      os.Getenv("TABLE_NAME"),
		BucketName:     os.Getenv("BUCKET_NAME"),
		S3UsePathStyle: os.Getenv("S3_USE_PATH_STYLE") == "true",
		ClaimTTL:       2 * time.Hour,
		RetentionDays:  30,
		AWS:            awsCfg,

		DeliveryAttempt: 10 * time.Second,

		PaymentProviderURL: os.Getenv("PAYMENT_PROVIDER_URL"),
		RefundFunctionName: os.Getenv("REFUND_FUNCTION_NAME"),
	}
	if c.TableName == "" {
		return Config{}, fmt.Errorf("TABLE_NAME is not set")
	}
	if v := os.Getenv("CLAIM_TTL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return Config{}, fmt.Errorf("CLAIM_TTL %q: not a positive duration", v)
		}
		c.ClaimTTL = d
	}
	if v := os.Getenv("DOCUMENT_RETENTION_DAYS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return Config{}, fmt.Errorf("DOCUMENT_RETENTION_DAYS %q: not a positive integer", v)
		}
		c.RetentionDays = n
	}
	if v := os.Getenv("REMINDER_MILESTONES"); v != "" {
		ms, err := ParseMilestones(v)
		if err != nil {
			return Config{}, err
		}
		c.ReminderMilestone = ms
	}
	for name, dst := range map[string]*time.Duration{"WEBHOOK_RETRY_FOR": &c.WebhookRetryFor, "WEBHOOK_RETRY_FIRST": &c.WebhookRetryFirst,
		JobsInlineBudgetEnv: &c.JobsInlineBudget, "DELIVERY_ATTEMPT_TIMEOUT": &c.DeliveryAttempt} {
		if v := os.Getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return Config{}, fmt.Errorf("%s %q: not a positive duration", name, v)
			}
			*dst = d
		}
	}
	c.Webhooks = outbound.Policy{AllowHTTP: os.Getenv("WEBHOOK_ALLOW_HTTP") == "true", AllowLoopback: os.Getenv("WEBHOOK_ALLOW_LOOPBACK") == "true"}
	if err := checkFaults(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// ParseMilestones parses "60,30,7,1" into days before expiry, largest first.
func ParseMilestones(v string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 || n > 366 {
			return nil, fmt.Errorf("REMINDER_MILESTONES %q: want comma-separated days 0-366", v)
		}
		out = append(out, n)
	}
	for i := 1; i < len(out); i++ {
		if out[i] >= out[i-1] {
			return nil, fmt.Errorf("REMINDER_MILESTONES %q: days must be strictly decreasing", v)
		}
	}
	return out, nil
}

// AWSFromEnv is the AWS configuration of a function: region and credentials
// from the variables Lambda sets (AWS_REGION, AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN: the execution role's
// credentials, valid for the life of the execution environment).
func AWSFromEnv() (aws.Config, error) {
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = os.Getenv("AWS_DEFAULT_REGION")
	}
	id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if region == "" || id == "" || secret == "" {
		return aws.Config{}, fmt.Errorf("aws config: AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set (Lambda sets them)")
	}
	cfg := aws.Config{
		Region:      region,
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(id, secret, os.Getenv("AWS_SESSION_TOKEN"))),
	}
	if v := os.Getenv("AWS_MAX_ATTEMPTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return aws.Config{}, fmt.Errorf("AWS_MAX_ATTEMPTS %q: not a positive integer", v)
		}
		cfg.RetryMaxAttempts = n
	}
	return cfg, nil
}

// Endpoint returns the endpoint override for a service from
// AWS_ENDPOINT_URL_<SERVICE> or AWS_ENDPOINT_URL (the local stand-ins), or
// nil for the AWS default.
func Endpoint(service string) *string {
	for _, name := range []string{"AWS_ENDPOINT_URL_" + service, "AWS_ENDPOINT_URL"} {
		if v := os.Getenv(name); v != "" {
			return aws.String(v)
		}
	}
	return nil
}

// DynamoDB builds the client once. Retries: retry.go; fault injection
// (testing aid, off unless FAULT_RATE is set): faults.go.
func (c Config) DynamoDB(optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	endpoint := func(o *dynamodb.Options) { o.BaseEndpoint = Endpoint("DYNAMODB") }
	fns := append(append([]func(*dynamodb.Options){endpoint, dynamoDBRetries}, dynamoDBFaults()...), optFns...)
	return dynamodb.NewFromConfig(c.AWS, fns...)
}

// S3 builds the S3 client; path-style addressing for the local stand-in.
func (c Config) S3(optFns ...func(*s3.Options)) *s3.Client {
	fns := append([]func(*s3.Options){func(o *s3.Options) {
		o.BaseEndpoint = Endpoint("S3")
		o.UsePathStyle = c.S3UsePathStyle
		// Checksums on every request confuse presigned POSTs and the stand-in;
		// only compute them when an operation requires one.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	}, s3Retries}, s3Faults()...)
	fns = append(fns, optFns...)
	return s3.NewFromConfig(c.AWS, fns...)
}

// ChannelTemplates parses a provider's template ids, "name=id,name=id"
// (names are domain.Templates; a template left out is not sent by that
// provider).
func ChannelTemplates(v string) (domain.ChannelTemplates, error) {
	out := domain.ChannelTemplates{}
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		name, id, ok := strings.Cut(f, "=")
		if !ok || id == "" || !slices.Contains(domain.Templates, domain.Template(name)) {
			return nil, fmt.Errorf("template %q: want name=id with a name of %v", f, domain.Templates)
		}
		out[domain.Template(name)] = id
	}
	return out, nil
}
