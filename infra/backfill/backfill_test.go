package backfill

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
)

// legacyTable holds left legacy items and moves up to limit per call, as
// store.BackfillShards does; failAt fails that call (1-based).
type legacyTable struct {
	left, calls, failAt int
	limits              []int
}

func (l *legacyTable) BackfillShards(_ context.Context, limit int) (int, error) {
	l.calls++
	l.limits = append(l.limits, limit)
	if l.calls == l.failAt {
		return 1, errors.New("throttled")
	}
	n := min(limit, l.left)
	l.left -= n
	return n, nil
}

func TestRun(t *testing.T) {
	tests := []struct {
		name      string
		left      int
		failAt    int
		opts      Options
		wantMoved int
		wantCalls int
		wantErr   bool
		wantLeft  int
		wantOut   string
	}{
		{name: "until a batch moves nothing", left: 250, opts: Options{Batch: 100}, wantMoved: 250, wantCalls: 4, wantOut: "batch 4: moved 0 (total 250)"},
		{name: "nothing to move", left: 0, wantMoved: 0, wantCalls: 1, wantOut: "batch 1: moved 0 (total 0)"},
		{name: "default batch", left: 150, wantMoved: 150, wantCalls: 3, wantOut: "batch 1: moved 100 (total 100)"},
		{name: "a bounded try stops and says so", left: 500, opts: Options{Batch: 100, MaxBatches: 2}, wantMoved: 200, wantCalls: 2, wantLeft: 300, wantOut: "stopped after 2 batches"},
		{name: "an error stops the run with what was moved", left: 500, failAt: 3, opts: Options{Batch: 100}, wantMoved: 201, wantCalls: 3, wantErr: true, wantLeft: 300},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := &legacyTable{left: tc.left, failAt: tc.failAt}
			var out bytes.Buffer
			moved, err := Run(context.Background(), m, tc.opts, &out)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if moved != tc.wantMoved || m.calls != tc.wantCalls || m.left != tc.wantLeft {
				t.Errorf("moved %d in %d calls, %d left; want %d in %d, %d left", moved, m.calls, m.left, tc.wantMoved, tc.wantCalls, tc.wantLeft)
			}
			want := tc.opts.Batch
			if want == 0 {
				want = 100
			}
			for _, l := range m.limits {
				if l != want {
					t.Errorf("batch limit %d, want %d", l, want)
				}
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Errorf("output %q lacks %q", out.String(), tc.wantOut)
			}
		})
	}
}

func TestRunStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m := &legacyTable{left: 1000}
	moved, err := Run(ctx, m, Options{Batch: 10, Pause: 1e9}, &bytes.Buffer{})
	if !errors.Is(err, context.Canceled) || moved != 10 || m.calls != 1 {
		t.Fatalf("moved %d in %d calls, err %v; want one batch, then the cancellation", moved, m.calls, err)
	}
}

type stacks map[string][]cfntypes.Output

func (s stacks) DescribeStacks(_ context.Context, in *cloudformation.DescribeStacksInput, _ ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error) {
	outs, ok := s[aws.ToString(in.StackName)]
	if !ok {
		return nil, errors.New("ValidationError: Stack does not exist")
	}
	return &cloudformation.DescribeStacksOutput{Stacks: []cfntypes.Stack{{Outputs: outs}}}, nil
}

func TestStackTable(t *testing.T) {
	c := stacks{
		"prod": {{OutputKey: aws.String("ApiUrl"), OutputValue: aws.String("https://x")}, {OutputKey: aws.String("TableName"), OutputValue: aws.String("microcert-prod-Table-1")}},
		"old":  {{OutputKey: aws.String("ApiUrl"), OutputValue: aws.String("https://x")}},
	}
	tests := []struct{ stack, want, wantErr string }{
		{"prod", "microcert-prod-Table-1", ""},
		{"old", "", "no output TableName"},
		{"none", "", "does not exist"},
	}
	for _, tc := range tests {
		got, err := StackTable(context.Background(), c, tc.stack)
		if got != tc.want || (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%s: %q, %v; want %q, %q", tc.stack, got, err, tc.want, tc.wantErr)
		}
	}
}
