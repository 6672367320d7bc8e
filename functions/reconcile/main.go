// Command reconcile is ReconcileFunction: every day it compares the
// previous Beijing day's statements of the payment provider and of the bank
// (statements/... in the bucket) with the ledger and the payouts, and
// records each discrepancy (shared/reconcile).
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"microcert/shared/blob/s3blob"
	"microcert/shared/clock"
	"microcert/shared/config"
	"microcert/shared/jobs"
	"microcert/shared/logging"
	"microcert/shared/reconcile"
	"microcert/shared/store"
)

func main() {
	log := logging.New("reconcile")
	cfg, rules := config.MustLoad(log)
	st := store.New(cfg.DynamoDB(), cfg.TableName, rules)
	job := reconcile.New(reconcile.Config{Log: log}, st, s3blob.New(cfg.S3(), cfg.BucketName))
	h := &jobs.Handler{Job: job, Clock: clock.System{}, Log: log, Metrics: os.Stdout, Function: lambdacontext.FunctionName}
	lambda.Start(h.Handle)
}
