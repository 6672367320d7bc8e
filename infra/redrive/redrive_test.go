package redrive

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"
)

func record(key string) string {
	return `{"version":"1.0","requestContext":{"condition":"RetriesExhausted","approximateInvokeCount":3},` +
		`"requestPayload":{"Records":[{"s3":{"object":{"key":"` + key + `"}}}]},"responseContext":{"functionError":"Unhandled"}}`
}

// fakeQueue is an SQS queue: received messages are hidden until deleted or
// the run ends.
type fakeQueue struct {
	messages map[string]string // receipt handle -> body
	hidden   map[string]bool
	deleted  []string
}

func (q *fakeQueue) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, _ ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	out := &sqs.ReceiveMessageOutput{}
	for h, body := range q.messages {
		if q.hidden[h] || len(out.Messages) == int(in.MaxNumberOfMessages) {
			continue
		}
		q.hidden[h] = true
		out.Messages = append(out.Messages, sqstypes.Message{MessageId: aws.String("m-" + h), ReceiptHandle: aws.String(h), Body: aws.String(body)})
	}
	return out, nil
}

func (q *fakeQueue) DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, _ ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	delete(q.messages, aws.ToString(in.ReceiptHandle))
	q.deleted = append(q.deleted, aws.ToString(in.ReceiptHandle))
	return &sqs.DeleteMessageOutput{}, nil
}

// fakeLambda accepts every event but those naming a key in fail.
type fakeLambda struct {
	fail    string
	invoked []string
}

func (l *fakeLambda) Invoke(ctx context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	if in.InvocationType != "Event" {
		return nil, errors.New("not an asynchronous invoke")
	}
	l.invoked = append(l.invoked, keysOf(in.Payload))
	if l.fail != "" && strings.Contains(string(in.Payload), l.fail) {
		return nil, errors.New("TooManyRequestsException")
	}
	return &lambda.InvokeOutput{StatusCode: 202}, nil
}

func TestRunQueue(t *testing.T) {
	q := &fakeQueue{hidden: map[string]bool{}, messages: map[string]string{}}
	for i, key := range []string{"uploads/c1/d1", "uploads/c1/d2", "uploads/c2/d3", "uploads/c3/broken"} {
		q.messages[string(rune('a'+i))] = record(key)
	}
	for i := range 12 { // more than one receive's worth
		q.messages["x"+string(rune('a'+i))] = record("uploads/c9/d" + string(rune('a'+i)))
	}
	q.messages["junk"] = `not json`
	fn := &fakeLambda{fail: "broken"}
	var out bytes.Buffer
	res, err := Run(context.Background(), &Queue{Client: q, URL: "https://sqs/dlq"}, &Function{Client: fn, Name: "doccheck"}, false, &out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Redriven != 15 || res.Failed != 2 {
		t.Fatalf("result %+v, want 15 redriven and 2 failed\n%s", res, out.String())
	}
	left := []string{}
	for h := range q.messages {
		left = append(left, h)
	}
	if len(left) != 2 || q.messages["d"] == "" || q.messages["junk"] == "" {
		t.Fatalf("left in the queue: %v, want the failed and the unreadable one", left)
	}
	if len(fn.invoked) != 16 {
		t.Fatalf("%d invokes, want 16 (the unreadable record is never invoked)", len(fn.invoked))
	}
}

func TestRunDryRun(t *testing.T) {
	q := &fakeQueue{hidden: map[string]bool{}, messages: map[string]string{"a": record("uploads/c1/d1")}}
	fn := &fakeLambda{}
	var out bytes.Buffer
	res, err := Run(context.Background(), &Queue{Client: q, URL: "u"}, &Function{Client: fn, Name: "f"}, true, &out)
	if err != nil || res != (Result{}) || len(fn.invoked) != 0 || len(q.deleted) != 0 {
		t.Fatalf("dry run: %+v %v, invoked %v, deleted %v", res, err, fn.invoked, q.deleted)
	}
	if !strings.Contains(out.String(), "would redrive m-a: uploads/c1/d1") {
		t.Fatalf("dry run said %q", out.String())
	}
}

// invokeFunc adapts a function to Invoker.
type invokeFunc func(ctx context.Context, event []byte) error

func (f invokeFunc) Invoke(ctx context.Context, event []byte) error { return f(ctx, event) }

func TestRunFolder(t *testing.T) {
	dir := t.TempDir()
	for name, key := range map[string]string{"20261201T010101.000-a.json": "uploads/c1/ok", "20261201T010102.000-b.json": "uploads/c1/bad"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(record(key)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	inv := invokeFunc(func(ctx context.Context, event []byte) error {
		got = append(got, keysOf(event))
		if strings.Contains(string(event), "bad") {
			return errors.New("function error")
		}
		return nil
	})
	res, err := Run(context.Background(), &Folder{Dir: dir}, inv, false, &bytes.Buffer{})
	if err != nil || res != (Result{Redriven: 1, Failed: 1}) {
		t.Fatalf("%+v %v", res, err)
	}
	if diff := cmp.Diff([]string{"uploads/c1/ok", "uploads/c1/bad"}, got); diff != "" {
		t.Errorf("invoked, oldest first (-want +got):\n%s", diff)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	moved, _ := filepath.Glob(filepath.Join(dir, "redriven", "*.json"))
	if len(left) != 1 || !strings.HasSuffix(left[0], "-b.json") || len(moved) != 1 || !strings.HasSuffix(moved[0], "-a.json") {
		t.Fatalf("left %v, moved %v", left, moved)
	}
}

type fakeStacks map[string][]cfntypes.Output

func (f fakeStacks) DescribeStacks(ctx context.Context, in *cloudformation.DescribeStacksInput, _ ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error) {
	outs, ok := f[aws.ToString(in.StackName)]
	if !ok {
		return nil, errors.New("ValidationError: Stack does not exist")
	}
	return &cloudformation.DescribeStacksOutput{Stacks: []cfntypes.Stack{{Outputs: outs}}}, nil
}

func TestStackTargets(t *testing.T) {
	stacks := fakeStacks{
		"microcert-prod": {
			{OutputKey: aws.String("ApiUrl"), OutputValue: aws.String("https://x/")},
			{OutputKey: aws.String("DeadLetterQueueUrl"), OutputValue: aws.String("https://sqs/dlq")},
			{OutputKey: aws.String("DocCheckFunctionName"), OutputValue: aws.String("microcert-prod-DocCheckFunction-X")},
		},
		"microcert-old": {{OutputKey: aws.String("DeadLetterQueueUrl"), OutputValue: aws.String("https://sqs/dlq")}},
	}
	q, fn, err := StackTargets(context.Background(), stacks, "microcert-prod")
	if err != nil || q != "https://sqs/dlq" || fn != "microcert-prod-DocCheckFunction-X" {
		t.Fatalf("%q %q %v", q, fn, err)
	}
	if _, _, err := StackTargets(context.Background(), stacks, "microcert-old"); err == nil || !strings.Contains(err.Error(), "DocCheckFunctionName") {
		t.Fatalf("old stack: %v", err)
	}
	if _, _, err := StackTargets(context.Background(), stacks, "nope"); err == nil {
		t.Fatal("no error for a missing stack")
	}
}

func TestPayload(t *testing.T) {
	for _, bad := range []string{`nope`, `{}`, `{"requestPayload":null}`} {
		if _, err := Payload([]byte(bad)); err == nil {
			t.Errorf("Payload(%s) accepted", bad)
		}
	}
}
