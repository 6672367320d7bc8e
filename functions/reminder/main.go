// Command reminder is ReminderFunction: the daily renewal reminders before a
// certification's expiry (shared/jobs.Reminders), run by an EventBridge
// schedule whose event time is the run's "now".
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"microcert/shared/clock"
	"microcert/shared/config"
	"microcert/shared/jobs"
	"microcert/shared/logging"
	"microcert/shared/selfinvoke"
	"microcert/shared/store"
)

func main() {
	log := logging.New("reminder")
	cfg, rules := config.MustLoad(log)
	st := store.New(cfg.DynamoDB(), cfg.TableName, rules)
	job := jobs.NewReminders(jobs.Config{Store: st, Rules: rules, Log: log, MaxItemsPerSecond: jobs.PartitionSafeRate})
	// One invocation per part (shard) of the day's work, through Lambda's
	// async invoke of this function itself.
	fanOut := selfinvoke.New(cfg.AWS, lambdacontext.FunctionName)
	h := &jobs.Handler{Job: job, Clock: clock.System{}, Log: log, Metrics: os.Stdout, Function: lambdacontext.FunctionName, FanOut: fanOut,
		InlineBudget: cfg.JobsInlineBudget}
	lambda.Start(h.Handle)
}
