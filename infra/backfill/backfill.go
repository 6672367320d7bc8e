// Package backfill writes what data from before a change of the table's
// layout lacks, in batches, until nothing is left, while the API and the
// jobs run (each batch's writes are conditional: a concurrent write wins,
// and running a backfill twice writes nothing the second time):
//
//   - shards: the certifications written before the due lists were
//     sharded (DueIndex CERT, RemindIndex REMIND) move into their shards
//     (store.BackfillShards does one batch). The jobs read the old
//     partitions as the part "legacy" meanwhile, so nothing is missed.
//
//   - enterprises: the open-case slots of cases and the owner's membership
//     of profiles written before those items existed
//     (store.BackfillEnterpriseItems does one page of the table). What it
//     must not write (two open cases covering one subject) is reported
//     for an operator.
//
//     make backfill-shards STACK=microcert-prod        # AWS (credentials as for sam deploy)
//     make backfill-enterprises                        # the local stack (make run)
package backfill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"

	"microcert/shared/store"
)

// Batch is what one batch of a backfill did.
type Batch struct {
	// Wrote counts the items the batch wrote (moved or created).
	Wrote int
	// Detail says what the batch did, for the operator.
	Detail string
	// Left lists what the batch would not write, for an operator.
	Left []string
	// Next resumes the backfill after this batch (-from); "" for a
	// backfill without a cursor.
	Next string
	// Last: nothing is left to do after this batch.
	Last bool
}

// Step runs one batch of up to limit items from cursor from ("" first).
type Step func(ctx context.Context, from string, limit int) (Batch, error)

// Table is the store's side of the backfills (store.Store).
type Table interface {
	BackfillShards(ctx context.Context, limit int) (int, error)
	BackfillEnterpriseItems(ctx context.Context, from string, limit int) (store.EnterpriseBackfill, error)
}

// Backfills names the backfills, for the command line.
var Backfills = []string{"shards", "enterprises"}

// StepOf is the backfill named name over t.
func StepOf(name string, t Table) (Step, error) {
	switch name {
	case "shards":
		// Its legacy partitions only shrink: done when a batch finds
		// nothing to move.
		return func(ctx context.Context, _ string, limit int) (Batch, error) {
			n, err := t.BackfillShards(ctx, limit)
			return Batch{Wrote: n, Detail: fmt.Sprintf("moved %d", n), Last: n == 0}, err
		}, nil
	case "enterprises":
		return func(ctx context.Context, from string, limit int) (Batch, error) {
			b, err := t.BackfillEnterpriseItems(ctx, from, limit)
			out := Batch{Wrote: b.Slots + b.Owners, Next: b.Next, Last: b.Next == "",
				Detail: fmt.Sprintf("examined %d cases and profiles, wrote %d slots and %d owner memberships", b.Examined, b.Slots, b.Owners)}
			for _, l := range b.Left {
				out.Left = append(out.Left, l.String())
			}
			return out, err
		}, nil
	}
	return nil, fmt.Errorf("no backfill %q (one of %v)", name, Backfills)
}

// Options shape a run.
type Options struct {
	// Batch is the most items one batch handles (default 100).
	Batch int
	// Pause is the wait between batches: a deployed table's capacity is
	// shared with the requests and jobs it serves.
	Pause time.Duration
	// MaxBatches stops a run after this many batches (0: until done), for
	// a first, bounded try.
	MaxBatches int
	// From resumes a backfill with a cursor at the cursor a run printed.
	From string
}

// Summary is what a run did.
type Summary struct {
	// Wrote counts the items written.
	Wrote int
	// Left lists what was left for an operator, each once.
	Left []string
}

// Run runs batches of step until nothing is left, reporting each on out
// (with the cursor that resumes after it). It returns what was done, also
// when it stops on an error (writes already done stay done: run it again).
func Run(ctx context.Context, step Step, o Options, out io.Writer) (Summary, error) {
	if o.Batch <= 0 {
		o.Batch = 100
	}
	var sum Summary
	from := o.From
	for batch := 1; o.MaxBatches == 0 || batch <= o.MaxBatches; batch++ {
		b, err := step(ctx, from, o.Batch)
		sum.Wrote += b.Wrote
		for _, l := range b.Left {
			if !slices.Contains(sum.Left, l) {
				sum.Left = append(sum.Left, l)
				fmt.Fprintf(out, "left for an operator: %s\n", l)
			}
		}
		if err != nil {
			return sum, fmt.Errorf("batch %d: %w", batch, err)
		}
		fmt.Fprintf(out, "batch %d: %s (total written %d)\n", batch, b.Detail, sum.Wrote)
		if b.Last {
			return sum, nil
		}
		if b.Next != "" {
			from = b.Next
			fmt.Fprintf(out, "next: -from %s\n", from)
		}
		if o.Pause > 0 {
			select {
			case <-ctx.Done():
				return sum, ctx.Err()
			case <-time.After(o.Pause):
			}
		}
	}
	fmt.Fprintf(out, "stopped after %d batches: run again for the rest%s\n", o.MaxBatches, resumeHint(from))
	return sum, nil
}

func resumeHint(from string) string {
	if from == "" {
		return ""
	}
	return " (-from " + from + ")"
}

// CloudFormationAPI is what StackTable needs of CloudFormation.
type CloudFormationAPI interface {
	DescribeStacks(ctx context.Context, in *cloudformation.DescribeStacksInput, opts ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
}

// StackTable is the table of a deployed stack (its TableName output).
func StackTable(ctx context.Context, c CloudFormationAPI, stack string) (string, error) {
	out, err := c.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
	if err != nil {
		return "", fmt.Errorf("stack %s: %w", stack, err)
	}
	if len(out.Stacks) == 0 {
		return "", fmt.Errorf("stack %s: not found", stack)
	}
	for _, o := range out.Stacks[0].Outputs {
		if aws.ToString(o.OutputKey) == "TableName" && aws.ToString(o.OutputValue) != "" {
			return aws.ToString(o.OutputValue), nil
		}
	}
	return "", errors.New("stack " + stack + " has no output TableName")
}
