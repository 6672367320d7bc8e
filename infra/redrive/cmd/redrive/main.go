// Command redrive sends dead-lettered document checks back to
// DocCheckFunction (see package redrive): `make redrive` locally,
// `make redrive STACK=microcert-prod` against a deployed stack.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"microcert/infra/localstack"
	"microcert/infra/redrive"
)

const function = "DocCheckFunction"

func main() {
	stack := flag.String("stack", "", "a deployed stack's name (e.g. microcert-prod): redrive its SQS dead-letter queue")
	state := flag.String("state", ".local", "without -stack: the local stack's state folder")
	dryRun := flag.Bool("dry-run", false, "list the dead letters, redrive nothing")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var (
		res redrive.Result
		err error
	)
	if *stack != "" {
		res, err = deployed(ctx, *stack, *dryRun)
	} else {
		res, err = local(ctx, *state, *dryRun)
	}
	fmt.Printf("%d redriven, %d failed\n", res.Redriven, res.Failed)
	if err == nil && res.Failed > 0 {
		err = errors.New("some dead letters could not be redriven: they are still there")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "redrive:", err)
		os.Exit(1)
	}
}

func deployed(ctx context.Context, stack string, dryRun bool) (redrive.Result, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return redrive.Result{}, err
	}
	queueURL, fn, err := redrive.StackTargets(ctx, cloudformation.NewFromConfig(cfg), stack)
	if err != nil {
		return redrive.Result{}, err
	}
	fmt.Printf("redriving %s into %s\n", queueURL, fn)
	return redrive.Run(ctx,
		&redrive.Queue{Client: sqs.NewFromConfig(cfg), URL: queueURL},
		&redrive.Function{Client: lambda.NewFromConfig(cfg), Name: fn},
		dryRun, os.Stdout)
}

// local redrives <state>/dlq/DocCheckFunction through the stack running on
// the state (or one started for the purpose).
func local(ctx context.Context, state string, dryRun bool) (redrive.Result, error) {
	dir := filepath.Join(state, "dlq", function)
	fmt.Printf("redriving %s into %s\n", dir, function)
	binDir := filepath.Join("bin", "lambda")
	if !dryRun {
		if err := localstack.Build(ctx, ".", binDir); err != nil {
			return redrive.Result{}, err
		}
	}
	inv := localInvoker{o: localstack.Options{RepoRoot: ".", StateDir: state, BinDir: binDir}}
	return redrive.Run(ctx, &redrive.Folder{Dir: dir}, inv, dryRun, os.Stdout)
}

// localInvoker runs the function once per event on the state's stack: the
// local dead letters are few, and each run's result is known at once.
type localInvoker struct{ o localstack.Options }

func (l localInvoker) Invoke(ctx context.Context, event []byte) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	_, err := localstack.RunOnce(ctx, l.o, function, event)
	return err
}
