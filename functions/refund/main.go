// Command refund is RefundFunction: every few minutes it sends the refunds
// whose next attempt has come to the payment provider (shared/jobs.Refunds),
// run by an EventBridge schedule whose event time is the run's "now".
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"microcert/shared/certsvc"
	"microcert/shared/clock"
	"microcert/shared/config"
	"microcert/shared/config/secrets"
	"microcert/shared/jobs"
	"microcert/shared/logging"
	"microcert/shared/payprovider"
	"microcert/shared/store"
)

func main() {
	log := logging.New("refund")
	cfg, rules := config.MustLoad(log)
	keys := secrets.MustLoadPayment(context.Background(), log, cfg.AWS)
	st := store.New(cfg.DynamoDB(), cfg.TableName, rules)
	svc := certsvc.New(certsvc.Config{Store: st, Rules: rules, Log: log, Secrets: certsvc.Secrets(keys),
		Refunds: payprovider.FromURL(cfg.PaymentProviderURL, keys.PaymentWebhook)})
	job := jobs.NewRefunds(jobs.Config{Rules: rules, Log: log}, st, svc)
	h := &jobs.Handler{Job: job, Clock: clock.System{}, Log: log, Metrics: os.Stdout, Function: lambdacontext.FunctionName}
	lambda.Start(h.Handle)
}
