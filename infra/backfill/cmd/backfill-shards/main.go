// Command backfill-shards moves the certifications written before the due
// lists were sharded into their shards (see package backfill):
// `make backfill-shards` on the running local stack, `make backfill-shards
// STACK=microcert-prod` against a deployed one.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"microcert/infra/backfill"
	"microcert/infra/localstack"
	"microcert/infra/template"
	"microcert/shared/domain"
	"microcert/shared/store"
)

func main() {
	stack := flag.String("stack", "", "a deployed stack's name (e.g. microcert-prod): backfill its table")
	state := flag.String("state", ".local", "without -stack: the state folder of the running local stack (make run)")
	var o backfill.Options
	flag.IntVar(&o.Batch, "batch", 100, "items per batch")
	flag.DurationVar(&o.Pause, "pause", 0, "wait between batches (e.g. 200ms to leave a busy table's capacity to its traffic)")
	flag.IntVar(&o.MaxBatches, "max-batches", 0, "stop after this many batches (0: until none is left)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, where, err := open(ctx, *stack, *state)
	if err == nil {
		fmt.Printf("backfilling the due-list shards of %s\n", where)
		var n int
		n, err = backfill.Run(ctx, s, o, os.Stdout)
		fmt.Printf("%d certifications moved\n", n)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "backfill-shards:", err)
		os.Exit(1)
	}
}

// open is the store of the deployed stack, or of the local stack running
// on state. The backfill only rewrites items as they are, so the rules it
// is given only place them (the lapse period of DueIndex): the defaults,
// as the functions run with.
func open(ctx context.Context, stack, state string) (*store.Store, string, error) {
	if stack != "" {
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, "", err
		}
		table, err := backfill.StackTable(ctx, cloudformation.NewFromConfig(cfg), stack)
		if err != nil {
			return nil, "", err
		}
		return store.New(dynamodb.NewFromConfig(cfg), table, domain.DefaultRules), "table " + table, nil
	}
	ri, ok := localstack.Running(state)
	if !ok {
		return nil, "", errors.New("no local stack runs on " + state + ": start it with make run")
	}
	tpl, err := template.LoadRepo(".")
	if err != nil {
		return nil, "", err
	}
	client := dynamodb.New(dynamodb.Options{
		Region:       localstack.Region,
		BaseEndpoint: aws.String(ri.DynamoDB),
		Credentials:  credentials.NewStaticCredentialsProvider(localstack.AccessKeyID, localstack.SecretAccessKey, ""),
		// The stand-in sends no CRC32 of its responses.
		DisableValidateResponseChecksum: true,
	})
	return store.New(client, tpl.Table.Name, domain.DefaultRules), "the local stack's table " + tpl.Table.Name, nil
}
