package e2e

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"microcert/infra/localstack"
	"microcert/infra/localstack/s3hook"
	"microcert/infra/localstack/stacktest"
	"microcert/shared/domain"
)

// TestFoundation is the acceptance test of the local stack: it starts
// the stack as `make run` does and drives each kind of trigger once.
func TestFoundation(t *testing.T) {
	ownStack(t)
	st := stacktest.Start(t)

	t.Run("health through the HTTP API", func(t *testing.T) {
		res := st.Do(t, "GET", "/v1/health", "", nil).WantStatus(t, http.StatusOK)
		var body map[string]string
		res.JSON(t, &body)
		if body["status"] != "ok" {
			t.Errorf("body %s", res.Body)
		}
		if res.Header.Get("Apigw-Requestid") == "" {
			t.Error("no Apigw-Requestid header")
		}
	})

	t.Run("JWT authorizer", func(t *testing.T) {
		const path = "/v1/review/queue"
		unauthorized := `{"message":"Unauthorized"}`
		for name, tok := range map[string]string{
			"no token":       "",
			"foreign key":    foreignToken(t),
			"expired":        st.Bearer(t, "reviewer", "r-1", localstack.WithTTL(-time.Minute)),
			"wrong audience": st.Bearer(t, "reviewer", "r-1", localstack.WithClaim("aud", "other")),
		} {
			res := st.Do(t, "GET", path, tok, nil)
			if res.Status != http.StatusUnauthorized || string(res.Body) != unauthorized {
				t.Errorf("%s: %d %s", name, res.Status, res.Body)
			}
		}
		res := st.Do(t, "GET", path, st.Bearer(t, "reviewer", "r-1"), nil)
		if res.Status == http.StatusUnauthorized {
			t.Errorf("a valid token was refused: %s", res.Body)
		}
	})

	t.Run("gateway answers", func(t *testing.T) {
		res := st.Do(t, "GET", "/v1/nowhere", "", nil)
		if res.Status != http.StatusNotFound || string(res.Body) != `{"message":"Not Found"}` {
			t.Errorf("unknown route: %d %s", res.Status, res.Body)
		}
		big := bytes.Repeat([]byte("a"), localstack.MaxPayload+1)
		res = st.Do(t, "POST", "/v1/cases", st.Bearer(t, "applicant", "u-1"), big, "Content-Type", "application/json")
		if res.Status != http.StatusRequestEntityTooLarge || string(res.Body) != `{"message":"Request Entity Too Large"}` {
			t.Errorf("11 MB body: %d %s", res.Status, res.Body)
		}
	})

	t.Run("concurrent requests share the pool", func(t *testing.T) {
		var wg sync.WaitGroup
		codes := make([]int, 12)
		for i := range codes {
			wg.Go(func() {
				req, _ := http.NewRequest("GET", st.APIURL()+"/v1/health", nil)
				res, err := st.HTTP.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				res.Body.Close()
				codes[i] = res.StatusCode
			})
		}
		wg.Wait()
		for i, c := range codes {
			if c != http.StatusOK {
				t.Errorf("request %d: %d", i, c)
			}
		}
	})

	caseID, docID := domain.NewID(), domain.NewID()

	t.Run("S3 PUT reaches DocCheckFunction", func(t *testing.T) {
		key := "uploads/" + caseID + "/" + docID
		st.PutObject(t, key, "image/jpeg", []byte("not really a jpeg"))
		d, ev := st.WaitS3(t, "DocCheckFunction", key, time.Minute)
		checkS3Event(t, st, ev, key, "ObjectCreated:Put", int64(len("not really a jpeg")))
		if d.Attempts < 1 {
			t.Errorf("delivery %+v", d)
		}
		if len(st.WaitLogs(t, "DocCheckFunction", "START RequestId", 1)) == 0 {
			t.Error("DocCheckFunction logged no invocation")
		}
	})

	t.Run("presigned POST reaches DocCheckFunction with its key", func(t *testing.T) {
		key := "uploads/" + caseID + "/" + domain.NewID()
		content := []byte("posted through a presigned POST")
		post, err := s3.NewPresignClient(st.S3()).PresignPostObject(context.Background(), &s3.PutObjectInput{
			Bucket: aws.String(st.BucketName()), Key: aws.String(key),
		}, func(o *s3.PresignPostOptions) {
			o.Conditions = []any{[]any{"content-length-range", 1, 1 << 20}}
		})
		if err != nil {
			t.Fatal(err)
		}
		res := st.PostForm(t, post.URL, post.Values, content)
		if res.Status != http.StatusNoContent {
			t.Fatalf("presigned POST: %d %s", res.Status, res.Body)
		}
		_, ev := st.WaitS3(t, "DocCheckFunction", key, time.Minute)
		checkS3Event(t, st, ev, key, "ObjectCreated:Post", int64(len(content)))
	})

	t.Run("objects outside uploads/ notify nobody", func(t *testing.T) {
		st.PutObject(t, "exports/report.csv", "text/csv", []byte("a,b"))
		// A later upload is delivered; the export before it never is.
		key := "uploads/" + caseID + "/" + domain.NewID()
		st.PutObject(t, key, "image/png", []byte("png"))
		st.WaitS3(t, "DocCheckFunction", key, time.Minute)
		for _, d := range st.S3Deliveries("") {
			if !strings.HasPrefix(d.Key, "uploads/") {
				t.Errorf("delivered %s to %s", d.Key, d.Function)
			}
		}
	})

	t.Run("scheduled functions run once through aws-lambda-rie", func(t *testing.T) {
		for _, fn := range []string{"ReminderFunction", "ExpiryFunction"} {
			tpl, _ := st.Template().Function(fn)
			if len(tpl.Schedules) == 0 || tpl.Schedules[0].Expression != "cron(0 1 * * ? *)" {
				t.Errorf("%s: schedules %v", fn, tpl.Schedules)
			}
			event := readEvent(t, "schedule-"+strings.ToLower(strings.TrimSuffix(fn, "Function"))+".json")
			st.MustInvoke(t, fn, event)
			if len(st.WaitLogs(t, fn, "START RequestId", 1)) == 0 {
				t.Errorf("%s logged no invocation", fn)
			}
		}
	})
}

func checkS3Event(t *testing.T, st *stacktest.Stack, ev events.S3Event, key, name string, size int64) {
	t.Helper()
	if len(ev.Records) != 1 {
		t.Fatalf("%d records", len(ev.Records))
	}
	r := ev.Records[0]
	o := r.S3.Object
	if r.EventName != name || r.EventSource != "aws:s3" || r.AWSRegion != "us-east-1" {
		t.Errorf("eventName %q source %q region %q", r.EventName, r.EventSource, r.AWSRegion)
	}
	if o.URLDecodedKey != key || o.Key != s3hook.EncodeKey(key) {
		t.Errorf("key %q (decoded %q), want %q", o.Key, o.URLDecodedKey, key)
	}
	if o.Size != size {
		t.Errorf("size %d, want %d", o.Size, size)
	}
	if !regexp.MustCompile(`^[0-9A-F]{18}$`).MatchString(o.Sequencer) {
		t.Errorf("sequencer %q is not AWS-shaped", o.Sequencer)
	}
	if strings.Contains(o.ETag, `"`) || len(o.ETag) != 32 {
		t.Errorf("eTag %q", o.ETag)
	}
	if r.S3.Bucket.Name != st.BucketName() || r.S3.Bucket.Arn != "arn:aws:s3:::"+st.BucketName() {
		t.Errorf("bucket %+v", r.S3.Bucket)
	}
	if r.EventTime.IsZero() || r.GlacierEventData != nil {
		t.Errorf("eventTime %v glacier %v", r.EventTime, r.GlacierEventData)
	}
}

func readEvent(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(stacktest.RepoRoot(t), "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func foreignToken(t *testing.T) string {
	iss, err := localstack.OpenIssuer(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tok, err := iss.Token("reviewer", "r-1")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestRestartKeepsState: data (the table snapshot) and uploaded files (the
// versitygw folder) survive a restart together, and Close leaves no child
// process behind.
func TestRestartKeepsState(t *testing.T) {
	ownStack(t)
	dir := t.TempDir()
	ctx := context.Background()
	key := "uploads/" + domain.NewID() + "/" + domain.NewID()

	first := stacktest.Start(t, stacktest.WithStateDir(dir))
	db := first.DynamoDB()
	table := first.TableName()
	_, err := db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(table),
		Item: map[string]ddbtypes.AttributeValue{
			"pk": &ddbtypes.AttributeValueMemberS{Value: "TEST#restart"}, "sk": &ddbtypes.AttributeValueMemberS{Value: "A"},
			"qpk": &ddbtypes.AttributeValueMemberS{Value: "Q"}, "qsk": &ddbtypes.AttributeValueMemberS{Value: "1"},
			"n": &ddbtypes.AttributeValueMemberN{Value: "42"}, "l": &ddbtypes.AttributeValueMemberL{Value: []ddbtypes.AttributeValue{&ddbtypes.AttributeValueMemberBOOL{Value: true}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	first.PutObject(t, key, "text/plain", []byte("kept"))
	first.WaitS3(t, "DocCheckFunction", key, time.Minute)
	groups := first.ProcessGroups()
	if len(groups) < 5 { // versitygw and an emulator per function at least
		t.Errorf("process groups %v", groups)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if left := processesIn(groups); len(left) > 0 {
		t.Errorf("processes left after Close: %v", left)
	}

	second := stacktest.Start(t, stacktest.WithStateDir(dir))
	out, err := second.DynamoDB().Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		IndexName:                 aws.String("QueueIndex"),
		KeyConditionExpression:    aws.String("qpk = :q"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":q": &ddbtypes.AttributeValueMemberS{Value: "Q"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 1 {
		t.Fatalf("after restart the index holds %d items", len(out.Items))
	}
	if n, ok := out.Items[0]["n"].(*ddbtypes.AttributeValueMemberN); !ok || n.Value != "42" {
		t.Errorf("item %v", out.Items[0])
	}
	obj, err := second.S3().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(second.BucketName()), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("file lost in the restart: %v", err)
	}
	defer obj.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(obj.Body)
	if buf.String() != "kept" {
		t.Errorf("file content %q", buf.String())
	}
	// The old event is not delivered again.
	if ds := second.S3Deliveries("DocCheckFunction"); len(ds) != 0 {
		t.Errorf("redelivered after restart: %d", len(ds))
	}
}

// processesIn lists the processes (pid:comm) still in the process groups:
// the stack starts each child in its own group, so its bootstraps are there too.
func processesIn(groups []int) []string {
	in := map[string]bool{}
	for _, g := range groups {
		in[strconv.Itoa(g)] = true
	}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []string
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...
		s := string(b)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < 0 {
			continue
		}
		fields := strings.Fields(s[end+1:])
		if len(fields) > 2 && in[fields[2]] && fields[0] != "Z" {
			out = append(out, strings.TrimSpace(s[:open])+":"+s[open+1:end])
		}
	}
	return out
}
