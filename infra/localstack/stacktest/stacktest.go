// Package stacktest starts the local stack for a test: the bootstraps are
// built once per test binary, every address is a free port, the state lives in
// a temporary folder, and everything stops at the test's cleanup. It adds
// helpers for the things end-to-end tests do: HTTP calls with a token,
// uploads, waiting for S3 deliveries, reading function logs.
//
//	st := stacktest.Start(t)
//	res := st.Do(t, "GET", "/v1/health", "", nil)
//	res.WantStatus(t, 200)
package stacktest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"microcert/infra/localstack"
	"microcert/infra/template"
)

// Stack is a running local stack with test helpers.
type Stack struct {
	*localstack.Stack
	HTTP *http.Client
}

// Option adjusts the stack's options.
type Option func(*localstack.Options)

// WithEnv adds a variable to every function's environment.
func WithEnv(key, value string) Option {
	return func(o *localstack.Options) {
		if o.Env == nil {
			o.Env = map[string]string{}
		}
		o.Env[key] = value
	}
}

// WithFunctionEnv adds a variable to one function's environment.
func WithFunctionEnv(logicalID, key, value string) Option {
	return func(o *localstack.Options) {
		if o.FunctionEnv == nil {
			o.FunctionEnv = map[string]map[string]string{}
		}
		if o.FunctionEnv[logicalID] == nil {
			o.FunctionEnv[logicalID] = map[string]string{}
		}
		o.FunctionEnv[logicalID][key] = value
	}
}

// WithStateDir keeps the state in dir (e.g. to start a second stack on the
// state of the first, as a restart does).
func WithStateDir(dir string) Option { return func(o *localstack.Options) { o.StateDir = dir } }

var (
	buildOnce sync.Once
	buildErr  error
	repoRoot  string
)

// RepoRoot is template.RepoRoot for a test: the repository's root, or the
// test fails.
func RepoRoot(t testing.TB) string {
	t.Helper()
	root, err := template.RepoRoot()
	if err != nil {
		t.Fatalf("stacktest: %v", err)
	}
	return root
}

// BinDir is where the tests' host bootstraps are built (shared by the test
// binaries: Build replaces each file atomically).
func BinDir(root string) string { return filepath.Join(root, "bin", "lambda-test") }

func build(t testing.TB) string {
	t.Helper()
	root := RepoRoot(t)
	buildOnce.Do(func() {
		repoRoot = root
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		buildErr = localstack.Build(ctx, root, BinDir(root))
	})
	if buildErr != nil {
		t.Fatalf("stacktest: build bootstraps: %v", buildErr)
	}
	return repoRoot
}

// Start builds the bootstraps (once), starts a stack on free ports with a
// temporary state dir, and stops it at cleanup. The function logs of a
// failed test are printed at cleanup.
func Start(t testing.TB, opts ...Option) *Stack {
	t.Helper()
	root := build(t)
	o := localstack.Options{
		RepoRoot:         root,
		StateDir:         t.TempDir(),
		BinDir:           BinDir(root),
		APIAddr:          "127.0.0.1:0",
		PoolSize:         1,
		PoolSizes:        map[string]int{"ApiFunction": 2},
		DisableSchedules: true,
		RetryBackoff:     []time.Duration{200 * time.Millisecond, 400 * time.Millisecond},
		Logger:           slog.New(slog.NewJSONHandler(&testWriter{t: t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	for _, opt := range opts {
		opt(&o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := localstack.Start(ctx, o)
	if err != nil {
		t.Fatalf("stacktest: start: %v", err)
	}
	s := &Stack{Stack: st, HTTP: &http.Client{Timeout: 60 * time.Second}}
	t.Cleanup(func() {
		if t.Failed() {
			for _, l := range st.Logs("") {
				t.Log("function log: " + l)
			}
		}
		if err := st.Close(); err != nil {
			t.Errorf("stacktest: close: %v", err)
		}
	})
	return s
}

// testWriter sends the stack's own logs to t.Log while the test runs.
type testWriter struct {
	t  testing.TB
	mu sync.Mutex
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	defer func() { _ = recover() }() // a log after the test ended
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// Bearer returns a valid token of the local issuer for userID in role.
func (s *Stack) Bearer(t testing.TB, role, userID string, opts ...localstack.TokenOption) string {
	t.Helper()
	tok, err := s.Token(role, userID, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Response is an HTTP answer read whole.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("response body %q: %v", r.Body, err)
	}
}

// WantStatus fails the test unless the status is want.
func (r *Response) WantStatus(t testing.TB, want int) *Response {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d; body: %s", r.Status, want, r.Body)
	}
	return r
}

// Do calls the local API. path is relative to the API URL ("/v1/health");
// token "" sends no Authorization; body is JSON-encoded unless it is []byte
// or a string; header pairs follow ("Idempotency-Key", "k1", ...).
func (s *Stack) Do(t testing.TB, method, path, token string, body any, header ...string) *Response {
	t.Helper()
	var rd io.Reader
	contentType := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
		contentType = "application/json"
	}
	req, err := http.NewRequest(method, s.APIURL()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if len(header)%2 != 0 {
		t.Fatal("stacktest.Do: header wants name/value pairs")
	}
	for i := 0; i < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return s.send(t, req)
}

func (s *Stack) send(t testing.TB, req *http.Request) *Response {
	t.Helper()
	res, err := s.HTTP.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &Response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// PostForm uploads content with a presigned POST (the url and fields the API
// returns), as the apps do: the fields first, then the file.
func (s *Stack) PostForm(t testing.TB, url string, fields map[string]string, content []byte) *Response {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	fw, err := mw.CreateFormFile("file", "upload")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(content)
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, url, &buf)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return s.send(t, req)
}

// PutObject writes an object straight into the local bucket (a plain PUT).
func (s *Stack) PutObject(t testing.TB, key, contentType string, content []byte) {
	t.Helper()
	_, err := s.S3().PutObject(context.Background(), &s3.PutObjectInput{
		Bucket:      aws.String(s.BucketName()),
		Key:         aws.String(key),
		Body:        bytes.NewReader(content),
		ContentType: aws.String(contentType),
	})
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

// WaitS3 waits until an S3 event for key has been delivered to logicalID (or
// dead-lettered) and returns the delivery and the event as the function
// parsed it.
func (s *Stack) WaitS3(t testing.TB, logicalID, key string, timeout time.Duration) (localstack.Delivery, events.S3Event) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	d, err := s.WaitS3Delivery(ctx, logicalID, func(d localstack.Delivery) bool { return d.Key == key })
	if err != nil {
		t.Fatal(err)
	}
	var ev events.S3Event
	if err := json.Unmarshal(d.Event, &ev); err != nil {
		t.Fatalf("delivered event is not an events.S3Event: %v\n%s", err, d.Event)
	}
	return d, ev
}

// MustInvoke runs a function once and fails the test on any error.
func (s *Stack) MustInvoke(t testing.TB, logicalID string, event []byte) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := s.Invoke(ctx, logicalID, event)
	if err != nil {
		t.Fatalf("invoke %s: %v", logicalID, err)
	}
	return out
}

// WaitLogs waits until the function's log (all functions' for "") holds at
// least n lines that contain substr, and returns those lines. What a
// function prints reaches its log through the emulator's pipe, possibly
// after the invoke has answered, so a test that reads what a run printed
// waits for it; the minute's bound only turns a hang into a failure.
func (s *Stack) WaitLogs(t testing.TB, logicalID, substr string, n int) []string {
	t.Helper()
	return s.WaitLogsMatching(t, logicalID, func(l string) bool { return strings.Contains(l, substr) }, n)
}

// WaitLogsMatching is WaitLogs for the lines match accepts.
func (s *Stack) WaitLogsMatching(t testing.TB, logicalID string, match func(line string) bool, n int) []string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var lines []string
		for _, l := range s.Logs(logicalID) {
			if match(l) {
				lines = append(lines, l)
			}
		}
		if len(lines) >= n || time.Now().After(deadline) {
			return lines
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// LogsContaining returns the function log lines (all functions for "") that
// contain substr, as far as they have arrived (see WaitLogs).
func (s *Stack) LogsContaining(logicalID, substr string) []string {
	var out []string
	for _, l := range s.Logs(logicalID) {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return out
}
