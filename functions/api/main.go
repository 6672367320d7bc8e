// Command api is ApiFunction: every HTTP route of the mobile apps, the
// reviewers and the providers' callbacks, behind API Gateway.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"microcert/shared/blob"
	"microcert/shared/certsvc"
	"microcert/shared/config"
	"microcert/shared/httpapi"
	"microcert/shared/logging"
	"microcert/shared/store"
)

func main() {
	ctx := context.Background()
	log := logging.New("api")
	cfg, err := config.Load(ctx, true)
	if err != nil {
		log.Error("configuration", "err", err)
		os.Exit(1)
	}
	rules, err := cfg.Rules()
	if err != nil {
		log.Error("rules", "err", err)
		os.Exit(1)
	}
	st := store.New(cfg.DynamoDB(), cfg.TableName).WithRules(rules)
	svc := certsvc.New(certsvc.Config{
		Store: st,
		Blob:  blob.New(cfg.S3(), cfg.BucketName),
		Rules: rules,
		Secrets: certsvc.Secrets{
			FaceWebhook: cfg.Secrets.FaceWebhook, FaceWebhookPrevious: cfg.Secrets.FaceWebhookPrevious,
			PaymentWebhook: cfg.Secrets.PaymentWebhook, PaymentWebhookPrevious: cfg.Secrets.PaymentWebhookPrevious,
			DepositHMACKey: cfg.Secrets.DepositHMACKey,
		},
		Log: log,
	})
	lambda.Start(httpapi.New(httpapi.Config{Service: svc, Idempotency: st, Log: log}).Handle)
}
