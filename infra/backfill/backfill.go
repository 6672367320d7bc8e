// Package backfill moves the certifications written before the due lists
// were sharded (DueIndex CERT, RemindIndex REMIND) into their shards, in
// batches, until none is left (store.BackfillShards does one batch). The
// jobs read the old partitions as the part "legacy" meanwhile, so nothing
// is missed before, during or after a run; running it twice, or at the
// same time as the jobs, is harmless (each move is a conditional rewrite
// of the item as it is).
//
//	make backfill-shards STACK=microcert-prod   # AWS (credentials as for sam deploy)
//	make backfill-shards                        # the local stack (make run)
package backfill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
)

// Mover moves up to limit legacy items into their shards and says how many
// it moved (store.Store).
type Mover interface {
	BackfillShards(ctx context.Context, limit int) (int, error)
}

// Options shape a run.
type Options struct {
	// Batch is the most items one call moves (default 100).
	Batch int
	// Pause is the wait between batches: a deployed table's write
	// capacity is shared with the requests and jobs it serves.
	Pause time.Duration
	// MaxBatches stops a run after this many batches (0: until done), for
	// a first, bounded try.
	MaxBatches int
}

// Run moves batches through m until one moves nothing, reporting each on
// out. It returns the items moved, also when it stops on an error (moves
// already done stay done: run it again).
func Run(ctx context.Context, m Mover, o Options, out io.Writer) (int, error) {
	if o.Batch <= 0 {
		o.Batch = 100
	}
	total := 0
	for batch := 1; o.MaxBatches == 0 || batch <= o.MaxBatches; batch++ {
		n, err := m.BackfillShards(ctx, o.Batch)
		total += n
		if err != nil {
			return total, fmt.Errorf("batch %d: %w", batch, err)
		}
		fmt.Fprintf(out, "batch %d: moved %d (total %d)\n", batch, n, total)
		if n == 0 {
			return total, nil
		}
		if o.Pause > 0 {
			select {
			case <-ctx.Done():
				return total, ctx.Err()
			case <-time.After(o.Pause):
			}
		}
	}
	fmt.Fprintf(out, "stopped after %d batches: run again for the rest\n", o.MaxBatches)
	return total, nil
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
