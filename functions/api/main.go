// Command api is ApiFunction: every HTTP route of the mobile apps, the
// reviewers and the providers' callbacks, behind API Gateway.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"microcert/shared/blob/s3blob"
	"microcert/shared/certsvc"
	"microcert/shared/clock"
	"microcert/shared/config"
	"microcert/shared/config/secrets"
	"microcert/shared/holidays"
	"microcert/shared/httpapi"
	"microcert/shared/logging"
	"microcert/shared/refundevent"
	"microcert/shared/selfinvoke"
	"microcert/shared/store"
)

func main() {
	ctx := context.Background()
	log := logging.New("api")
	cfg, rules := config.MustLoad(log)
	st := store.New(cfg.DynamoDB(), cfg.TableName, rules)
	keys := secrets.MustLoad(ctx, log, cfg.AWS)
	objects := s3blob.New(cfg.S3(), cfg.BucketName)
	svc := certsvc.New(certsvc.Config{
		Store:     st,
		Blob:      objects,
		Calendars: holidays.New(objects, clock.System{}, log),
		Rules:     rules,
		// The same fields, so a conversion: certsvc does not import config.
		Secrets: certsvc.Secrets(keys),
		Log:     log,
		// Refunds a request makes owed go to RefundFunction by an async
		// invoke: no request waits for the payment provider.
		Handoff: refundevent.Handoff{Invoker: selfinvoke.New(cfg.AWS, cfg.RefundFunctionName)},
		// Registration checks where an endpoint leads; the dispatcher again
		// on every delivery.
		WebhookURLs:      cfg.Webhooks,
		InsecureWebhooks: cfg.Webhooks.AllowHTTP,
	})
	lambda.Start(httpapi.New(httpapi.Config{Service: svc, Idempotency: st, Log: log}).Handle)
}
