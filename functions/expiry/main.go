// Command expiry is ExpiryFunction: the daily expiry and lapse of
// certifications and the timeouts of cases (shared/jobs.Expiry), run by an
// EventBridge schedule whose event time is the run's "now".
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"microcert/shared/blob/s3blob"
	"microcert/shared/clock"
	"microcert/shared/config"
	"microcert/shared/holidays"
	"microcert/shared/jobs"
	"microcert/shared/logging"
	"microcert/shared/selfinvoke"
	"microcert/shared/store"
)

func main() {
	log := logging.New("expiry")
	cfg, rules := config.MustLoad(log)
	st := store.New(cfg.DynamoDB(), cfg.TableName, rules)
	objects := s3blob.New(cfg.S3(), cfg.BucketName)
	job := jobs.NewExpiry(jobs.Config{Store: st, Objects: objects, Calendars: holidays.New(objects, clock.System{}, log),
		Rules: rules, Log: log, MaxItemsPerSecond: jobs.PartitionSafeRate})
	// One invocation per part (shard) of the day's work, through Lambda's
	// async invoke of this function itself.
	fanOut := selfinvoke.New(cfg.AWS, lambdacontext.FunctionName)
	h := &jobs.Handler{Job: job, Clock: clock.System{}, Log: log, Metrics: os.Stdout, Function: lambdacontext.FunctionName, FanOut: fanOut,
		InlineBudget: cfg.JobsInlineBudget}
	lambda.Start(h.Handle)
}
