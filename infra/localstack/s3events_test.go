package localstack

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"microcert/infra/template"
)

// putEvent is a versitygw webhook body for a PUT of key into the local bucket.
func putEvent(key string) []byte {
	return []byte(`{"Records":[{"eventVersion":"2.2","eventSource":"aws:s3","awsRegion":"us-east-1","eventTime":"2026-11-26T17:20:42Z","eventName":"s3:ObjectCreated:Put","userIdentity":{"PrincipalId":"local"},"requestParameters":{"sourceIPAddress":"127.0.0.1"},"responseElements":{"x-amz-request-id":"","x-amz-id-2":""},"s3":{"s3SchemaVersion":"1.0","configurationId":"webhook-global","bucket":{"name":"microcert-documents-000000000000-local","ownerIdentity":{"PrincipalId":"local"},"arn":"arn:aws:s3:::/b"},"object":{"key":"` + key + `","size":11,"eTag":"\"5eb63bbbe01eeed093cb22bb8f5acdc3\"","versionId":null,"sequencer":"2"}},"glacierEventData":{"restoreEventData":{"lifecycleRestorationExpiryTime":"","lifecycleRestoreStorageClass":""}}}]}`)
}

func testS3Events(t *testing.T, invoke func(ctx context.Context, fn, requestID string, payload []byte) ([]byte, error)) *s3Events {
	t.Helper()
	tpl, err := template.LoadRepo(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	e, err := newS3Events(tpl, t.TempDir(), t.TempDir(), []time.Duration{time.Millisecond, 2 * time.Millisecond}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	e.invoke = invoke
	t.Cleanup(e.stop)
	return e
}

func waitDone(t *testing.T, e *s3Events, fn string) Delivery {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		ds, changed := e.snapshot(fn)
		if len(ds) > 0 && ds[0].Done {
			return ds[0]
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no finished delivery: %+v", ds)
		case <-changed:
		}
	}
}

func TestS3DeliveryDeadLetter(t *testing.T) {
	var calls atomic.Int32
	e := testS3Events(t, func(ctx context.Context, fn, id string, payload []byte) ([]byte, error) {
		calls.Add(1)
		var ev events.S3Event
		if err := json.Unmarshal(payload, &ev); err != nil {
			t.Errorf("payload is not an events.S3Event: %v", err)
		}
		out := []byte(`{"errorMessage":"boom","errorType":"errorString"}`)
		return out, functionError(fn, out)
	})
	e.handle(putEvent("uploads/c1/d1"))
	d := waitDone(t, e, "DocCheckFunction")
	if d.Attempts != 3 || calls.Load() != 3 || d.Err == nil || d.DLQFile == "" {
		t.Fatalf("delivery %+v after %d calls; want the event and 2 retries, then the DLQ", d, calls.Load())
	}
	b, err := os.ReadFile(d.DLQFile)
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		RequestContext struct {
			Condition              string `json:"condition"`
			ApproximateInvokeCount int    `json:"approximateInvokeCount"`
		} `json:"requestContext"`
		RequestPayload  events.S3Event `json:"requestPayload"`
		ResponseContext struct {
			FunctionError string `json:"functionError"`
		} `json:"responseContext"`
		ResponsePayload map[string]string `json:"responsePayload"`
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	if rec.RequestContext.Condition != "RetriesExhausted" || rec.RequestContext.ApproximateInvokeCount != 3 ||
		rec.RequestPayload.Records[0].S3.Object.Key != "uploads/c1/d1" || rec.ResponseContext.FunctionError != "Unhandled" ||
		rec.ResponsePayload["errorMessage"] != "boom" {
		t.Errorf("dead letter %s", b)
	}
}

func TestS3DeliveryRetrySucceeds(t *testing.T) {
	var calls atomic.Int32
	e := testS3Events(t, func(ctx context.Context, fn, id string, payload []byte) ([]byte, error) {
		if calls.Add(1) == 1 {
			return nil, errors.New("first try fails")
		}
		return []byte(`null`), nil
	})
	e.handle(putEvent("uploads/c1/d2"))
	d := waitDone(t, e, "DocCheckFunction")
	if d.Attempts != 2 || d.Err != nil || d.DLQFile != "" {
		t.Errorf("delivery %+v", d)
	}
}

func TestS3DeliveryFilters(t *testing.T) {
	e := testS3Events(t, func(ctx context.Context, fn, id string, payload []byte) ([]byte, error) {
		t.Errorf("invoked for %s", payload)
		return nil, nil
	})
	e.handle(putEvent("exports/x.csv"))
	e.handle([]byte(`{"Bucket":"Test-Bucket","Event":"s3:TestEvent","Service":"S3","Time":"2026-11-26T17:20:42Z"}`))
	e.handle([]byte(strings.Replace(string(putEvent("uploads/c/d")), "s3:ObjectCreated:Put", "s3:ObjectRemoved:Delete", 1)))
	e.handle([]byte(`not json`))
	if ds, _ := e.snapshot(""); len(ds) != 0 {
		t.Errorf("deliveries %+v", ds)
	}
}

// TestS3DeliveryPendingSurvivesStop: an event whose delivery had not finished
// when the stack stopped is delivered by the next start, with the attempts
// it had used counted.
func TestS3DeliveryPendingSurvivesStop(t *testing.T) {
	tpl, err := template.LoadRepo(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	state, dlq := t.TempDir(), t.TempDir()
	start := func(invoke func(ctx context.Context, fn, id string, payload []byte) ([]byte, error)) *s3Events {
		t.Helper()
		e, err := newS3Events(tpl, state, dlq, []time.Duration{time.Millisecond}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		e.invoke = invoke
		return e
	}
	pending := func() int {
		t.Helper()
		ents, err := os.ReadDir(filepath.Join(state, "pending"))
		if err != nil {
			t.Fatal(err)
		}
		return len(ents)
	}
	boom := []byte(`{"errorMessage":"boom","errorType":"errorString"}`)

	// First run: one event fails once, then the stack stops during the retry.
	var calls atomic.Int32
	e := start(func(ctx context.Context, fn, id string, payload []byte) ([]byte, error) {
		if calls.Add(1) == 1 {
			return boom, functionError(fn, boom)
		}
		<-ctx.Done()
		return nil, ctx.Err()
	})
	e.handle(putEvent("uploads/c1/d1"))
	for calls.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	e.stop()
	if n := pending(); n != 1 {
		t.Fatalf("%d pending deliveries after the stop, want 1", n)
	}

	// Second run: the function fails for good; 1 attempt was used, so 2 are
	// left before the dead-letter folder.
	calls.Store(0)
	e2 := start(func(ctx context.Context, fn, id string, payload []byte) ([]byte, error) {
		calls.Add(1)
		return boom, functionError(fn, boom)
	})
	defer e2.stop()
	e2.resume()
	d := waitDone(t, e2, "DocCheckFunction")
	if d.Key != "uploads/c1/d1" || d.Attempts != 3 || calls.Load() != 2 || d.DLQFile == "" {
		t.Fatalf("resumed delivery %+v after %d calls; want 2 more attempts, then the DLQ", d, calls.Load())
	}
	if n := pending(); n != 0 {
		t.Fatalf("%d pending deliveries after the dead letter, want 0", n)
	}

	// Third run: nothing left to deliver.
	e3 := start(func(ctx context.Context, fn, id string, payload []byte) ([]byte, error) {
		t.Errorf("delivered again: %s", payload)
		return nil, nil
	})
	defer e3.stop()
	e3.resume()
	if ds, _ := e3.snapshot(""); len(ds) != 0 {
		t.Fatalf("deliveries after everything finished: %+v", ds)
	}
}
