package backfill

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"microcert/shared/store"
)

// legacyTable holds left legacy items and moves up to limit per call, as
// store.BackfillShards does; failAt fails that call (1-based). Its
// enterprise items are pages: BackfillEnterpriseItems returns pages[from]
// (the cursor is the page's index), recording the cursors it was given.
type legacyTable struct {
	left, calls, failAt int
	limits              []int
	pages               map[string]store.EnterpriseBackfill
	froms               []string
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

func (l *legacyTable) BackfillEnterpriseItems(_ context.Context, from string, limit int) (store.EnterpriseBackfill, error) {
	l.calls++
	l.limits = append(l.limits, limit)
	l.froms = append(l.froms, from)
	if l.calls == l.failAt {
		return store.EnterpriseBackfill{Slots: 1}, errors.New("throttled")
	}
	return l.pages[from], nil
}

func mustStep(t *testing.T, name string, tbl Table) Step {
	t.Helper()
	step, err := StepOf(name, tbl)
	if err != nil {
		t.Fatal(err)
	}
	return step
}

func TestRunShards(t *testing.T) {
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
		{name: "until a batch moves nothing", left: 250, opts: Options{Batch: 100}, wantMoved: 250, wantCalls: 4, wantOut: "batch 4: moved 0 (total written 250)"},
		{name: "nothing to move", left: 0, wantMoved: 0, wantCalls: 1, wantOut: "batch 1: moved 0 (total written 0)"},
		{name: "default batch", left: 150, wantMoved: 150, wantCalls: 3, wantOut: "batch 1: moved 100 (total written 100)"},
		{name: "a bounded try stops and says so", left: 500, opts: Options{Batch: 100, MaxBatches: 2}, wantMoved: 200, wantCalls: 2, wantLeft: 300, wantOut: "stopped after 2 batches: run again for the rest\n"},
		{name: "an error stops the run with what was moved", left: 500, failAt: 3, opts: Options{Batch: 100}, wantMoved: 201, wantCalls: 3, wantErr: true, wantLeft: 300},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := &legacyTable{left: tc.left, failAt: tc.failAt}
			var out bytes.Buffer
			sum, err := Run(context.Background(), mustStep(t, "shards", m), tc.opts, &out)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if sum.Wrote != tc.wantMoved || m.calls != tc.wantCalls || m.left != tc.wantLeft {
				t.Errorf("moved %d in %d calls, %d left; want %d in %d, %d left", sum.Wrote, m.calls, m.left, tc.wantMoved, tc.wantCalls, tc.wantLeft)
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

// The enterprise items are a Scan: each batch starts at the cursor the
// last one returned, the run ends at the last page (however little it
// wrote), and what is left for an operator is reported once.
func TestRunEnterprises(t *testing.T) {
	conflict := store.BackfillLeftover{EnterpriseID: "e1", Subject: "wecom", CaseIDs: []string{"c1", "c2"}, Reason: "two open cases"}
	owner := store.BackfillLeftover{EnterpriseID: "e2", Subject: "owner", Reason: "another owner"}
	pages := map[string]store.EnterpriseBackfill{
		"":   {Examined: 3, Slots: 2, Left: []store.BackfillLeftover{conflict}, Next: "p1"},
		"p1": {Examined: 0, Next: "p2"},
		"p2": {Examined: 2, Slots: 1, Owners: 1, Left: []store.BackfillLeftover{conflict, owner}},
	}
	tests := []struct {
		name      string
		opts      Options
		failAt    int
		wantFroms []string
		wantWrote int
		wantLeft  []string
		wantErr   bool
		wantOut   []string
	}{
		{name: "to the last page", wantFroms: []string{"", "p1", "p2"}, wantWrote: 4, wantLeft: []string{conflict.String(), owner.String()},
			wantOut: []string{"batch 1: examined 3 cases and profiles, wrote 2 slots and 0 owner memberships (total written 2)\nnext: -from p1\n",
				"batch 3: examined 2 cases and profiles, wrote 1 slots and 1 owner memberships (total written 4)\n",
				"left for an operator: enterprise e1, wecom, cases c1 c2: two open cases\n"}},
		{name: "resumed at a cursor", opts: Options{From: "p1"}, wantFroms: []string{"p1", "p2"}, wantWrote: 2, wantLeft: []string{conflict.String(), owner.String()}},
		{name: "a bounded try says where to resume", opts: Options{MaxBatches: 2}, wantFroms: []string{"", "p1"}, wantWrote: 2, wantLeft: []string{conflict.String()},
			wantOut: []string{"stopped after 2 batches: run again for the rest (-from p2)\n"}},
		{name: "an error stops the run", failAt: 2, wantFroms: []string{"", "p1"}, wantWrote: 3, wantLeft: []string{conflict.String()}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := &legacyTable{pages: pages, failAt: tc.failAt}
			var out bytes.Buffer
			sum, err := Run(context.Background(), mustStep(t, "enterprises", m), tc.opts, &out)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if !slices.Equal(m.froms, tc.wantFroms) || sum.Wrote != tc.wantWrote || !slices.Equal(sum.Left, tc.wantLeft) {
				t.Errorf("cursors %q, wrote %d, left %q; want %q, %d, %q", m.froms, sum.Wrote, sum.Left, tc.wantFroms, tc.wantWrote, tc.wantLeft)
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output %q lacks %q", out.String(), w)
				}
			}
			if n := strings.Count(out.String(), "left for an operator: "+conflict.String()); n != 1 {
				t.Errorf("the conflict reported %d times:\n%s", n, out.String())
			}
		})
	}
}

func TestStepOfUnknown(t *testing.T) {
	if _, err := StepOf("slots", &legacyTable{}); err == nil || !strings.Contains(err.Error(), "enterprises") {
		t.Errorf("err = %v, want the list of backfills", err)
	}
}

func TestRunStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m := &legacyTable{left: 1000}
	sum, err := Run(ctx, mustStep(t, "shards", m), Options{Batch: 10, Pause: 1e9}, &bytes.Buffer{})
	if !errors.Is(err, context.Canceled) || sum.Wrote != 10 || m.calls != 1 {
		t.Fatalf("moved %d in %d calls, err %v; want one batch, then the cancellation", sum.Wrote, m.calls, err)
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
