package faults_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/google/go-cmp/cmp"

	"microcert/shared/domain"
	"microcert/shared/faults"
	"microcert/shared/store"
	"microcert/shared/store/storetest"
)

func mustNew(t *testing.T, cfg faults.Config) *faults.Injector {
	t.Helper()
	inj, err := faults.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return inj
}

// noRetries makes every injected fault reach the caller.
func noRetries(o *dynamodb.Options) { o.RetryMaxAttempts = 1 }

// faultyTable starts a stand-in with the table (created without faults) and
// returns a client with the injector and opts installed.
func faultyTable(t *testing.T, inj *faults.Injector, opts ...func(*dynamodb.Options)) (*dynamodb.Client, string) {
	t.Helper()
	env := storetest.Start(t)
	return dynamodb.New(env.Client.Options(), append([]func(*dynamodb.Options){inj.DynamoDB}, opts...)...), env.Table
}

func item(pk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: pk},
		"sk": &types.AttributeValueMemberS{Value: "X"},
	}
}

// TestDynamoDBFaultsLookReal checks each kind against what the SDK and the
// store make of a real one: the typed error, the HTTP status, the retryer's
// view, and KindUnavailable from the store.
func TestDynamoDBFaultsLookReal(t *testing.T) {
	cases := []struct {
		kind   faults.Kind
		check  func(t *testing.T, err error)
		status int
	}{
		{faults.Throttle, func(t *testing.T, err error) {
			var pt *types.ProvisionedThroughputExceededException
			if !errors.As(err, &pt) {
				t.Errorf("not a ProvisionedThroughputExceededException: %v", err)
			}
		}, 400},
		{faults.ServerError, func(t *testing.T, err error) {
			var ise *types.InternalServerError
			if !errors.As(err, &ise) {
				t.Errorf("not an InternalServerError: %v", err)
			}
		}, 500},
		{faults.Timeout, func(t *testing.T, err error) {
			var se *smithyhttp.RequestSendError
			var ne net.Error
			if !errors.As(err, &se) || !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("not a transport timeout: %v", err)
			}
		}, 0},
	}
	for _, tc := range cases {
		t.Run(string(tc.kind), func(t *testing.T) {
			inj := mustNew(t, faults.Config{Rate: 1, Kinds: []faults.Kind{tc.kind}, After: 0})
			db, table := faultyTable(t, inj, noRetries)
			_, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table),
				Key: item("ENT#x")})
			if err == nil {
				t.Fatal("no error")
			}
			tc.check(t, err)
			var re *awshttp.ResponseError
			if tc.status != 0 && (!errors.As(err, &re) || re.HTTPStatusCode() != tc.status) {
				t.Errorf("status: %v, want %d", err, tc.status)
			}
			var ae smithy.APIError
			if tc.status != 0 && (!errors.As(err, &ae) || ae.ErrorFault() == smithy.FaultUnknown && tc.status >= 500) {
				t.Errorf("no API error: %v", err)
			}
			// The store maps it to "retry later" (503), never internal.
			_, _, serr := store.New(db, table, domain.DefaultRules).GetEnterprise(context.Background(), domain.NewID())
			if !domain.IsKind(serr, domain.KindUnavailable) {
				t.Errorf("store: %v, want KindUnavailable", serr)
			}
			if got := faults.Counts(inj.Faults()); got[string(tc.kind)+" before"] != 2 {
				t.Errorf("counts = %v", got)
			}
		})
	}
}

// TestFaultAfterAppliesTheWrite: a fault after the call leaves the write done
// while the caller sees an error.
func TestFaultAfterAppliesTheWrite(t *testing.T) {
	for _, kind := range []faults.Kind{faults.ServerError, faults.Timeout} {
		t.Run(string(kind), func(t *testing.T) {
			inj := mustNew(t, faults.Config{Rate: 1, Kinds: []faults.Kind{kind}, After: 1})
			env := storetest.Start(t)
			faulty := dynamodb.New(env.Client.Options(), inj.DynamoDB, noRetries)
			_, err := faulty.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(env.Table), Item: item("P#1")})
			if err == nil {
				t.Fatal("the caller saw no error")
			}
			out, err := env.Client.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(env.Table),
				Key: item("P#1"), ConsistentRead: aws.Bool(true)})
			if err != nil || len(out.Item) == 0 {
				t.Fatalf("the write did not happen: %v %v", out, err)
			}
			if fs := inj.Faults(); len(fs) != 1 || fs[0].When != faults.After || fs[0].Operation != "PutItem" {
				t.Fatalf("faults = %v", fs)
			}
		})
	}
}

// TestFaultThrottleIsNeverAfter: a throttled request is never applied.
func TestFaultThrottleIsNeverAfter(t *testing.T) {
	inj := mustNew(t, faults.Config{Rate: 1, Kinds: []faults.Kind{faults.Throttle}, After: 1})
	db, table := faultyTable(t, inj, noRetries)
	for i := 0; i < 20; i++ {
		_, _ = db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table), Key: item("T")})
	}
	if got := faults.Counts(inj.Faults()); got["throttle before"] != 20 || len(got) != 1 {
		t.Fatalf("counts = %v", got)
	}
}

// TestFaultSeedIsDeterministic: the same seed and calls give the same faults.
func TestFaultSeedIsDeterministic(t *testing.T) {
	run := func(seed uint64) []faults.Fault {
		inj := mustNew(t, faults.Config{Rate: 0.3, Seed: seed, After: -1})
		db, table := faultyTable(t, inj, noRetries)
		for i := 0; i < 200; i++ {
			_, _ = db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table), Key: item("S")})
		}
		return inj.Faults()
	}
	a, b, c := run(42), run(42), run(43)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Fatalf("same seed, different faults (-a +b):\n%s", diff)
	}
	if cmp.Equal(a, c) {
		t.Fatal("another seed gave the same faults")
	}
	// About 30% of 200 attempts, with all three kinds and both sides.
	if n := len(a); n < 40 || n > 80 {
		t.Errorf("%d faults in 200 attempts at rate 0.3", n)
	}
	counts := faults.Counts(a)
	for _, k := range []string{"throttle before", "5xx before", "5xx after", "timeout before", "timeout after"} {
		if counts[k] == 0 {
			t.Errorf("no %q in %v", k, counts)
		}
	}
	t.Logf("seed 42: %s", faults.Summary(counts))
}

// TestRetriesAbsorbMostFaults: with the SDK's retryer (DynamoDB default: 4
// attempts) a 30% rate leaves few failed calls, and those are retryable.
func TestRetriesAbsorbMostFaults(t *testing.T) {
	inj := mustNew(t, faults.Config{Rate: 0.3, Seed: 7, Kinds: []faults.Kind{faults.ServerError, faults.Timeout}, After: 0})
	db, table := faultyTable(t, inj)
	failed := 0
	for i := 0; i < 100; i++ {
		if _, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table), Key: item("R")}); err != nil {
			failed++
		}
	}
	if failed > 5 {
		t.Errorf("%d of 100 calls failed despite retries", failed)
	}
	if n := len(inj.Faults()); n < 20 {
		t.Errorf("only %d faults injected", n)
	}
	t.Logf("%d faults over %d attempts, %d calls failed", len(inj.Faults()), inj.Attempts(), failed)
}

// TestFaultMatch limits faults to chosen operations, with the typed input.
func TestFaultMatch(t *testing.T) {
	inj := mustNew(t, faults.Config{Rate: 1, Kinds: []faults.Kind{faults.ServerError}, After: 0,
		Match: func(c faults.Call) bool {
			in, ok := c.Input.(*dynamodb.PutItemInput)
			if !ok {
				return false
			}
			pk := in.Item["pk"].(*types.AttributeValueMemberS).Value
			return c.Service == "DynamoDB" && strings.HasPrefix(pk, "IDEM#")
		}})
	db, table := faultyTable(t, inj, noRetries)
	ctx := context.Background()
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item("ENT#1")}); err != nil {
		t.Fatalf("unmatched put: %v", err)
	}
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item("IDEM#1")}); err == nil {
		t.Fatal("matched put did not fail")
	}
	if _, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: item("IDEM#1")}); err != nil {
		t.Fatalf("unmatched get: %v", err)
	}
}

func TestFaultFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if inj, on, err := faults.FromEnv(env(nil), nil); on || inj != nil || err != nil {
		t.Fatalf("unset: %v %v %v, want off", inj, on, err)
	}
	for _, bad := range []map[string]string{
		{"FAULT_RATE": "lots"},
		{"FAULT_RATE": "1.5"},
		{"FAULT_RATE": "0.3", "FAULT_SEED": "-1"},
		{"FAULT_RATE": "0.3", "FAULT_KINDS": "throttle,meteor"},
		{"FAULT_RATE": "0.3", "FAULT_AFTER": "2"},
		{"FAULT_RATE": "0.3", "FAULT_LIMIT": "some"},
	} {
		if _, _, err := faults.FromEnv(env(bad), nil); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
	inj, on, err := faults.FromEnv(env(map[string]string{"FAULT_RATE": "1", "FAULT_SEED": "9", "FAULT_KINDS": "5xx",
		"FAULT_AFTER": "0", "FAULT_OPS": "DynamoDB.PutItem"}), nil)
	if err != nil || !on || inj == nil {
		t.Fatalf("FromEnv: %v %v", inj, err)
	}
	db, table := faultyTable(t, inj, noRetries)
	ctx := context.Background()
	if _, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: item("E")}); err != nil {
		t.Fatalf("GetItem is not in FAULT_OPS: %v", err)
	}
	var ise *types.InternalServerError
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item("E")}); !errors.As(err, &ise) {
		t.Fatalf("PutItem: %v, want InternalServerError", err)
	}
}

// fakeS3 is just enough of S3 (path style) for the fault tests.
type fakeS3 struct {
	mu      sync.Mutex
	objects map[string][]byte
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.Method {
	case http.MethodPut:
		b, _ := io.ReadAll(r.Body)
		f.objects[r.URL.Path] = b
		w.Header().Set("ETag", `"x"`)
	case http.MethodGet, http.MethodHead:
		b, ok := f.objects[r.URL.Path]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			if r.Method == http.MethodGet {
				io.WriteString(w, `<Error><Code>NoSuchKey</Code><Message>no</Message></Error>`)
			}
			return
		}
		w.Header().Set("Content-Length", itoa(len(b)))
		w.Header().Set("Content-Type", "application/octet-stream")
		if r.Method == http.MethodGet {
			w.Write(b)
		}
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func newS3(t *testing.T, opts ...func(*s3.Options)) (*s3.Client, *fakeS3) {
	t.Helper()
	f := &fakeS3{objects: map[string][]byte{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c := s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("k", "s", ""),
		// As shared/config: checksums only when an operation requires one.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}, opts...)
	return c, f
}

func TestS3Faults(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		kind   faults.Kind
		code   string
		status int
	}{
		{faults.Throttle, "SlowDown", 503},
		{faults.ServerError, "InternalError", 500},
	}
	for _, tc := range cases {
		t.Run(string(tc.kind), func(t *testing.T) {
			inj := mustNew(t, faults.Config{Rate: 1, Kinds: []faults.Kind{tc.kind}, After: 0})
			c, _ := newS3(t, inj.S3, func(o *s3.Options) { o.RetryMaxAttempts = 1 })
			_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("k")})
			var ae smithy.APIError
			var re *awshttp.ResponseError
			if !errors.As(err, &ae) || ae.ErrorCode() != tc.code || !errors.As(err, &re) || re.HTTPStatusCode() != tc.status {
				t.Fatalf("GetObject: %v, want %s %d", err, tc.code, tc.status)
			}
			_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("b"), Key: aws.String("k")})
			if !errors.As(err, &re) || re.HTTPStatusCode() != tc.status {
				t.Fatalf("HeadObject: %v, want %d", err, tc.status)
			}
		})
	}
	t.Run("after", func(t *testing.T) {
		inj := mustNew(t, faults.Config{Rate: 1, Kinds: []faults.Kind{faults.ServerError}, After: 1})
		c, f := newS3(t, inj.S3, func(o *s3.Options) { o.RetryMaxAttempts = 1 })
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("k"),
			Body: strings.NewReader("hello")}); err == nil {
			t.Fatal("no error")
		}
		if string(f.objects["/b/k"]) != "hello" {
			t.Fatalf("the put did not happen: %q", f.objects)
		}
	})
	t.Run("presign is never faulted", func(t *testing.T) {
		inj := mustNew(t, faults.Config{Rate: 1})
		c, _ := newS3(t, inj.S3)
		pc := s3.NewPresignClient(c)
		if _, err := pc.PresignPostObject(ctx, &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("k")}); err != nil {
			t.Fatalf("presign post: %v", err)
		}
		if _, err := pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("k")}); err != nil {
			t.Fatalf("presign get: %v", err)
		}
		if n := len(inj.Faults()); n != 0 {
			t.Fatalf("%d faults on presigning", n)
		}
	})
	t.Run("retries absorb", func(t *testing.T) {
		inj := mustNew(t, faults.Config{Rate: 0.3, Seed: 3, After: 0, Kinds: []faults.Kind{faults.ServerError, faults.Timeout}})
		c, f := newS3(t, inj.S3)
		f.objects["/b/k"] = []byte("data")
		failed := 0
		for i := 0; i < 50; i++ {
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("k")})
			if err != nil {
				failed++
				continue
			}
			b, _ := io.ReadAll(out.Body)
			out.Body.Close()
			if string(b) != "data" {
				t.Fatalf("body %q", b)
			}
		}
		if failed > 5 {
			t.Errorf("%d of 50 failed", failed)
		}
	})
}

// A lost race looks like the real one: the store sees a conditional check
// that failed (a single write's, or a transaction's first write's) and
// answers it as the write's conflict.
func TestLostRaceLooksReal(t *testing.T) {
	inj := mustNew(t, faults.Config{Rate: 1, Kinds: []faults.Kind{faults.LostRace}})
	db, table := faultyTable(t, inj, noRetries)
	ctx := context.Background()
	_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item("a")})
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		t.Fatalf("PutItem: %T %v, want ConditionalCheckFailedException", err, err)
	}
	_, err = db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(table), Item: item("b")}}}})
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) || len(tce.CancellationReasons) != 1 || aws.ToString(tce.CancellationReasons[0].Code) != "ConditionalCheckFailed" {
		t.Fatalf("TransactWriteItems: %T %v, want a cancellation with ConditionalCheckFailed", err, err)
	}
	if c := faults.Counts(inj.Faults()); c["lost_race before"] != 2 {
		t.Fatalf("faults %v", c)
	}
}
