// Package config reads the functions' configuration once, at init: names of
// the table and bucket, tunables, and secrets. In AWS the secrets come from
// SSM Parameter Store SecureString parameters whose names the template passes
// as *_PARAM variables; locally they come straight from the environment.
package config

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// Secrets holds the keys that sign callbacks and protect the deposit amount.
type Secrets struct {
	FaceWebhook            string
	FaceWebhookPrevious    string
	PaymentWebhook         string
	PaymentWebhookPrevious string
	DepositHMACKey         string
}

// Config is everything a function needs from its environment.
type Config struct {
	TableName         string
	BucketName        string
	PublicS3URL       string // where apps send presigned posts ("" = the SDK's endpoint)
	S3UsePathStyle    bool
	ClaimTTL          time.Duration
	RetentionDays     int
	ReminderMilestone []int
	Secrets           Secrets
	AWS               aws.Config
}

// secretVars maps each secret to its variable; NAME_PARAM names the SSM
// parameter holding it in AWS.
var secretVars = []struct {
	name string
	dst  func(*Secrets) *string
}{
	{"FACE_WEBHOOK_SECRET", func(s *Secrets) *string { return &s.FaceWebhook }},
	{"FACE_WEBHOOK_SECRET_PREVIOUS", func(s *Secrets) *string { return &s.FaceWebhookPrevious }},
	{"PAYMENT_WEBHOOK_SECRET", func(s *Secrets) *string { return &s.PaymentWebhook }},
	{"PAYMENT_WEBHOOK_SECRET_PREVIOUS", func(s *Secrets) *string { return &s.PaymentWebhookPrevious }},
	{"DEPOSIT_HMAC_KEY", func(s *Secrets) *string { return &s.DepositHMACKey }},
}

// Load reads the environment (and SSM when parameter names are given).
// withSecrets is false for functions that need none.
func Load(ctx context.Context, withSecrets bool) (Config, error) {
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return Config{}, fmt.Errorf("aws config: %w", err)
	}
	c := Config{
		TableName:      os.Getenv("TABLE_NAME"),
		BucketName:     os.Getenv("BUCKET_NAME"),
		PublicS3URL:    os.Getenv("PUBLIC_S3_URL"),
		S3UsePathStyle: os.Getenv("S3_USE_PATH_STYLE") == "true",
		ClaimTTL:       2 * time.Hour,
		RetentionDays:  30,
		AWS:            awsCfg,
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
	if err := checkFaults(); err != nil {
		return Config{}, err
	}
	if withSecrets {
		if c.Secrets, err = loadSecrets(ctx, awsCfg); err != nil {
			return Config{}, err
		}
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

func loadSecrets(ctx context.Context, awsCfg aws.Config) (Secrets, error) {
	var s Secrets
	var names []string
	byName := map[string]*string{}
	for _, v := range secretVars {
		if p := os.Getenv(v.name + "_PARAM"); p != "" {
			names = append(names, p)
			byName[p] = v.dst(&s)
			continue
		}
		*v.dst(&s) = os.Getenv(v.name)
	}
	if len(names) > 0 {
		out, err := ssm.NewFromConfig(awsCfg).GetParameters(ctx, &ssm.GetParametersInput{
			Names: names, WithDecryption: aws.Bool(true),
		})
		if err != nil {
			return Secrets{}, fmt.Errorf("ssm: %w", err)
		}
		for _, p := range out.Parameters {
			if dst := byName[aws.ToString(p.Name)]; dst != nil {
				*dst = aws.ToString(p.Value)
			}
		}
		if len(out.InvalidParameters) > 0 {
			return Secrets{}, fmt.Errorf("ssm: parameters not found: %v", out.InvalidParameters)
		}
	}
	if s.FaceWebhook == "" || s.PaymentWebhook == "" || s.DepositHMACKey == "" {
		return Secrets{}, fmt.Errorf("secrets: FACE_WEBHOOK_SECRET, PAYMENT_WEBHOOK_SECRET and DEPOSIT_HMAC_KEY are required")
	}
	return s, nil
}

// DynamoDB builds the client once; endpoints come from AWS_ENDPOINT_URL_DYNAMODB
// locally (the SDK reads it itself). Retries: retry.go; fault injection
// (testing aid, off unless FAULT_RATE is set): faults.go.
func (c Config) DynamoDB(optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	fns := append(append([]func(*dynamodb.Options){dynamoDBRetries}, dynamoDBFaults()...), optFns...)
	return dynamodb.NewFromConfig(c.AWS, fns...)
}

// S3 builds the S3 client; path-style addressing for the local stand-in.
func (c Config) S3(optFns ...func(*s3.Options)) *s3.Client {
	fns := append([]func(*s3.Options){func(o *s3.Options) {
		o.UsePathStyle = c.S3UsePathStyle
		// Checksums on every request confuse presigned POSTs and the stand-in;
		// only compute them when an operation requires one.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	}}, s3Faults()...)
	fns = append(fns, optFns...)
	return s3.NewFromConfig(c.AWS, fns...)
}
