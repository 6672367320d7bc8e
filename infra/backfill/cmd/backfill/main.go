// Command backfill runs one backfill of package backfill to its end:
//
//	backfill shards|enterprises [-stack microcert-prod | -state .local] [-batch N] [-pause D] [-max-batches N] [-from CURSOR]
//
// `make backfill-shards` and `make backfill-enterprises` run it on the
// running local stack, or with STACK=microcert-prod against a deployed one.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
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
	if err := run(os.Args[1:], ".", os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "backfill:", err)
		os.Exit(1)
	}
}

// run runs the backfill args name, in the repository at repoRoot (the
// local stack's table name is its template's), reporting on out.
func run(args []string, repoRoot string, out io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("name a backfill: one of %v", backfill.Backfills)
	}
	name := args[0]
	if !slices.Contains(backfill.Backfills, name) {
		return fmt.Errorf("no backfill %q: one of %v", name, backfill.Backfills)
	}
	fs := flag.NewFlagSet("backfill "+name, flag.ExitOnError)
	stack := fs.String("stack", "", "a deployed stack's name (e.g. microcert-prod): backfill its table")
	state := fs.String("state", ".local", "without -stack: the state folder of the running local stack (make run)")
	var o backfill.Options
	fs.IntVar(&o.Batch, "batch", 100, "items per batch")
	fs.DurationVar(&o.Pause, "pause", 0, "wait between batches (e.g. 200ms to leave a busy table's capacity to its traffic)")
	fs.IntVar(&o.MaxBatches, "max-batches", 0, "stop after this many batches (0: until none is left)")
	fs.StringVar(&o.From, "from", "", "resume at the cursor a run printed (next: -from ...)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, where, err := open(ctx, *stack, *state, repoRoot)
	if err != nil {
		return err
	}
	step, err := backfill.StepOf(name, s)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "backfill %s on %s\n", name, where)
	sum, err := backfill.Run(ctx, step, o, out)
	fmt.Fprintf(out, "%d items written, %d left for an operator\n", sum.Wrote, len(sum.Left))
	for _, l := range sum.Left {
		fmt.Fprintln(out, "  "+l)
	}
	return err
}

// open is the store of the deployed stack, or of the local stack running
// on state. The backfills write items as the store writes them, so the
// rules it is given only place certifications (the lapse period of
// DueIndex): the defaults, as the functions run with.
func open(ctx context.Context, stack, state, repoRoot string) (*store.Store, string, error) {
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
	tpl, err := template.LoadRepo(repoRoot)
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
