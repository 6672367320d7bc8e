// Package secrets reads the keys that sign provider callbacks and protect
// the micro-deposit amount, once at init. In AWS they are SSM Parameter
// Store SecureString parameters whose names the template passes as
// <NAME>_PARAM; locally they come straight from <NAME>. ApiFunction reads the
// callback and deposit keys, DispatcherFunction its providers' credentials.
package secrets

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Secrets holds the keys.
type Secrets struct {
	FaceWebhook            string
	FaceWebhookPrevious    string
	PaymentWebhook         string
	PaymentWebhookPrevious string
	DepositHMACKey         string
}

// vars maps each secret to its variable.
var vars = []struct {
	name string
	dst  func(*Secrets) *string
}{
	{"FACE_WEBHOOK_SECRET", func(s *Secrets) *string { return &s.FaceWebhook }},
	{"FACE_WEBHOOK_SECRET_PREVIOUS", func(s *Secrets) *string { return &s.FaceWebhookPrevious }},
	{"PAYMENT_WEBHOOK_SECRET", func(s *Secrets) *string { return &s.PaymentWebhook }},
	{"PAYMENT_WEBHOOK_SECRET_PREVIOUS", func(s *Secrets) *string { return &s.PaymentWebhookPrevious }},
	{"DEPOSIT_HMAC_KEY", func(s *Secrets) *string { return &s.DepositHMACKey }},
}

// Load reads the secrets: SSM parameters when names are given, else the
// variables themselves. The current keys are required, previous ones
// optional (they exist only during a rotation).
func Load(ctx context.Context, awsCfg aws.Config) (Secrets, error) {
	s, err := load(ctx, awsCfg, func(string) bool { return true })
	if err != nil {
		return Secrets{}, err
	}
	if s.FaceWebhook == "" || s.PaymentWebhook == "" || s.DepositHMACKey == "" {
		return Secrets{}, fmt.Errorf("secrets: FACE_WEBHOOK_SECRET, PAYMENT_WEBHOOK_SECRET and DEPOSIT_HMAC_KEY are required")
	}
	return s, nil
}

// LoadPayment reads only the payment provider's keys (RefundFunction
// signs its requests to the provider and needs nothing else).
func LoadPayment(ctx context.Context, awsCfg aws.Config) (Secrets, error) {
	s, err := load(ctx, awsCfg, func(name string) bool { return strings.HasPrefix(name, "PAYMENT_") })
	if err != nil {
		return Secrets{}, err
	}
	if s.PaymentWebhook == "" {
		return Secrets{}, fmt.Errorf("secrets: PAYMENT_WEBHOOK_SECRET is required")
	}
	return s, nil
}

func load(ctx context.Context, awsCfg aws.Config, want func(string) bool) (Secrets, error) {
	var s Secrets
	var names []string
	byName := map[string]*string{}
	for _, v := range vars {
		if !want(v.name) {
			continue
		}
		if p := os.Getenv(v.name + "_PARAM"); p != "" {
			names = append(names, p)
			byName[p] = v.dst(&s)
			continue
		}
		*v.dst(&s) = os.Getenv(v.name)
	}
	if len(names) > 0 {
		values, invalid, err := getParameters(ctx, awsCfg, names)
		if err != nil {
			return Secrets{}, fmt.Errorf("ssm: %w", err)
		}
		if len(invalid) > 0 {
			return Secrets{}, fmt.Errorf("ssm: parameters not found: %v", invalid)
		}
		for name, v := range values {
			if dst := byName[name]; dst != nil {
				*dst = v
			}
		}
	}
	return s, nil
}

// MustLoad is Load at init: log why not and exit.
func MustLoad(ctx context.Context, log *slog.Logger, awsCfg aws.Config) Secrets {
	s, err := Load(ctx, awsCfg)
	if err != nil {
		log.Error("secrets", "err", err)
		os.Exit(1)
	}
	return s
}

// MustLoadPayment is LoadPayment at init: log why not and exit.
func MustLoadPayment(ctx context.Context, log *slog.Logger, awsCfg aws.Config) Secrets {
	s, err := LoadPayment(ctx, awsCfg)
	if err != nil {
		log.Error("secrets", "err", err)
		os.Exit(1)
	}
	return s
}

// Named reads other secrets the same way (SSM when <NAME>_PARAM names a
// parameter, else <NAME> itself), every one of them required.
func Named(ctx context.Context, awsCfg aws.Config, names ...string) (map[string]string, error) {
	out := map[string]string{}
	var params []string
	byParam := map[string]string{}
	for _, n := range names {
		if p := os.Getenv(n + "_PARAM"); p != "" {
			params = append(params, p)
			byParam[p] = n
			continue
		}
		out[n] = os.Getenv(n)
	}
	if len(params) > 0 {
		values, invalid, err := getParameters(ctx, awsCfg, params)
		if err != nil {
			return nil, fmt.Errorf("ssm: %w", err)
		}
		if len(invalid) > 0 {
			return nil, fmt.Errorf("ssm: parameters not found: %v", invalid)
		}
		for p, v := range values {
			out[byParam[p]] = v
		}
	}
	for _, n := range names {
		if out[n] == "" {
			return nil, fmt.Errorf("secrets: %s is required", n)
		}
	}
	return out, nil
}
