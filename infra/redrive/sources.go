package redrive

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Folder is the local stack's dead-letter folder of one function. A
// redriven record moves to its redriven/ subfolder (kept for the record).
type Folder struct {
	Dir  string
	read bool
}

func (f *Folder) Next(ctx context.Context) ([]Letter, error) {
	if f.read {
		return nil, nil
	}
	f.read = true
	files, err := filepath.Glob(filepath.Join(f.Dir, "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files) // named by time: oldest first
	var out []Letter
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			return out, err
		}
		out = append(out, Letter{ID: filepath.Base(file), Record: b, handle: file})
	}
	return out, nil
}

func (f *Folder) Done(ctx context.Context, l Letter) error {
	dst := filepath.Join(f.Dir, "redriven")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	return os.Rename(l.handle, filepath.Join(dst, filepath.Base(l.handle)))
}

// SQSAPI is what Queue needs of the SQS client.
type SQSAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
}

// Queue is the stack's SQS dead-letter queue. Received messages stay
// invisible for Hide, so that one run never sees a message twice (a failed
// one comes back after it); the run ends when a receive comes back empty.
type Queue struct {
	Client SQSAPI
	URL    string
	Hide   int32 // seconds; default 900
}

func (q *Queue) Next(ctx context.Context) ([]Letter, error) {
	hide := q.Hide
	if hide == 0 {
		hide = 900
	}
	out, err := q.Client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:            aws.String(q.URL),
		MaxNumberOfMessages: 10,
		VisibilityTimeout:   hide,
		WaitTimeSeconds:     2,
	})
	if err != nil {
		return nil, fmt.Errorf("receive from %s: %w", q.URL, err)
	}
	letters := make([]Letter, 0, len(out.Messages))
	for _, m := range out.Messages {
		letters = append(letters, Letter{ID: aws.ToString(m.MessageId), Record: []byte(aws.ToString(m.Body)), handle: aws.ToString(m.ReceiptHandle)})
	}
	return letters, nil
}

func (q *Queue) Done(ctx context.Context, l Letter) error {
	_, err := q.Client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(q.URL), ReceiptHandle: aws.String(l.handle)})
	return err
}

// LambdaAPI is what Function needs of the Lambda client.
type LambdaAPI interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, opts ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// Function invokes a deployed function asynchronously, as S3 did: Lambda
// queues the event (202) and, should it fail again, retries it and
// dead-letters it again.
type Function struct {
	Client LambdaAPI
	Name   string
}

func (f *Function) Invoke(ctx context.Context, event []byte) error {
	out, err := f.Client.Invoke(ctx, &lambda.InvokeInput{
		FunctionName:   aws.String(f.Name),
		InvocationType: lambdatypes.InvocationTypeEvent,
		Payload:        event,
	})
	if err != nil {
		return err
	}
	if out.StatusCode != 202 {
		return fmt.Errorf("invoke %s: status %d", f.Name, out.StatusCode)
	}
	return nil
}

// CloudFormationAPI is what StackTargets needs of the CloudFormation client.
type CloudFormationAPI interface {
	DescribeStacks(ctx context.Context, in *cloudformation.DescribeStacksInput, opts ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
}

// StackTargets reads the dead-letter queue's URL and the function's name from
// the stack's outputs (DeadLetterQueueUrl, DocCheckFunctionName).
func StackTargets(ctx context.Context, c CloudFormationAPI, stack string) (queueURL, function string, err error) {
	out, err := c.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
	if err != nil {
		return "", "", fmt.Errorf("stack %s: %w", stack, err)
	}
	if len(out.Stacks) == 0 {
		return "", "", fmt.Errorf("stack %s: not found", stack)
	}
	for _, o := range out.Stacks[0].Outputs {
		switch aws.ToString(o.OutputKey) {
		case "DeadLetterQueueUrl":
			queueURL = aws.ToString(o.OutputValue)
		case "DocCheckFunctionName":
			function = aws.ToString(o.OutputValue)
		}
	}
	var missing []string
	if queueURL == "" {
		missing = append(missing, "DeadLetterQueueUrl")
	}
	if function == "" {
		missing = append(missing, "DocCheckFunctionName")
	}
	if len(missing) > 0 {
		return "", "", fmt.Errorf("stack %s has no output %s (deployed before they existed? sam deploy first)", stack, strings.Join(missing, ", "))
	}
	return queueURL, function, nil
}
