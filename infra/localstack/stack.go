// Package localstack starts the whole system of template.yaml on 127.0.0.1
// without Docker or an AWS account: DynamoDB (minidyn over HTTP), S3
// (versitygw), each function's real bootstrap under a pool of aws-lambda-rie
// emulators, the HTTP API with its JWT authorizer, S3 notifications, the
// schedules, and the providers' sandbox. `make run` and the end-to-end tests
// both use it.
package localstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"microcert/infra/template"
)

// Local values of the secrets the template names as SSM parameters.
const (
	LocalFaceSecret    = "local-face-secret"
	LocalPaymentSecret = "local-payment-secret"
	LocalDepositKey    = "local-deposit-key"
)

// Options configure a stack. Zero values are the `make run` defaults.
type Options struct {
	RepoRoot string // holds template.yaml (default ".")
	StateDir string // data, files, logs, issuer key (default <RepoRoot>/.local)
	BinDir   string // host-arch bootstraps <BinDir>/<LogicalId>/bootstrap (default <RepoRoot>/bin/lambda)
	ToolsDir string // versitygw and aws-lambda-rie (default <RepoRoot>/bin)

	// Addresses; port 0 picks a free port.
	APIAddr      string // default 127.0.0.1:3000
	S3Addr       string // default 127.0.0.1:0
	DynamoDBAddr string // default 127.0.0.1:0

	// PoolSize is the number of emulators per function (default 2);
	// PoolSizes overrides it per logical id.
	PoolSize  int
	PoolSizes map[string]int

	// Env is added to every function's environment, after the local values
	// (so a test can set LOG_LEVEL=DEBUG or a rotated secret).
	Env map[string]string

	// FunctionEnv adds variables to one function's environment (by
	// logical id), after Env.
	FunctionEnv map[string]map[string]string
	// DisableSchedules keeps the scheduled functions from firing on their own.
	DisableSchedules bool
	// RetryBackoff are the waits before the async retries (default 1 s, 2 s;
	// AWS waits about 1 and 2 minutes).
	RetryBackoff []time.Duration

	// SandboxData backs the provider sandbox (default DefaultSandboxData).
	SandboxData SandboxDataFactory

	Logger *slog.Logger // the stack's own logs (default: discard)
}

// withDefaults fills in the zero values.
func (o Options) withDefaults() Options {
	if o.RepoRoot == "" {
		o.RepoRoot = "."
	}
	if o.StateDir == "" {
		o.StateDir = filepath.Join(o.RepoRoot, ".local")
	}
	if o.BinDir == "" {
		o.BinDir = filepath.Join(o.RepoRoot, "bin", "lambda")
	}
	if o.ToolsDir == "" {
		o.ToolsDir = filepath.Join(o.RepoRoot, "bin")
	}
	if o.APIAddr == "" {
		o.APIAddr = "127.0.0.1:3000"
	}
	if o.S3Addr == "" {
		o.S3Addr = "127.0.0.1:0"
	}
	if o.DynamoDBAddr == "" {
		o.DynamoDBAddr = "127.0.0.1:0"
	}
	if o.PoolSize <= 0 {
		o.PoolSize = 2
	}
	if len(o.RetryBackoff) == 0 {
		o.RetryBackoff = []time.Duration{time.Second, 2 * time.Second}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	if o.SandboxData == nil {
		o.SandboxData = DefaultSandboxData
	}
	return o
}

// Stack is a running local system.
type Stack struct {
	opts    Options
	tpl     *template.Template
	logger  *slog.Logger
	issuer  *LocalIssuer
	db      *dynamo
	objects *objectStore
	s3ev    *s3Events
	fns     map[string]*function
	fnLogs  map[string]*lineLog
	apiSrv  *http.Server
	apiURL  string
	hookSrv *http.Server
	// lambdaSrv serves the Invoke API at lambdaURL (lambdaapi.go); async
	// counts the asynchronous invokes not finished yet.
	lambdaSrv *http.Server
	lambdaURL string
	async     sync.WaitGroup
	vgwLog    *lineLog
	sched     *scheduler
	// stopSandbox ends the sandbox's daily statements.
	stopSandbox chan struct{}
	closeMu     sync.Mutex
	closed      bool
}

// Start brings the stack up and returns when every part is serving.
func Start(ctx context.Context, o Options) (st *Stack, err error) {
	o = o.withDefaults()
	for _, tool := range []string{"versitygw", "aws-lambda-rie"} {
		if _, err := os.Stat(filepath.Join(o.ToolsDir, tool)); err != nil {
			return nil, fmt.Errorf("%s is not installed in %s (run `make tools`): %w", tool, o.ToolsDir, err)
		}
	}
	if ri, ok := Running(o.StateDir); ok {
		return nil, fmt.Errorf("a stack already runs on %s (pid %d, api %s)", o.StateDir, ri.PID, ri.API)
	}
	tpl, err := template.LoadRepo(o.RepoRoot)
	if err != nil {
		return nil, err
	}
	for _, d := range []string{"logs", "s3", "dlq"} {
		if err := os.MkdirAll(filepath.Join(o.StateDir, d), 0o755); err != nil {
			return nil, err
		}
	}
	s := &Stack{
		opts:   o,
		tpl:    tpl,
		logger: o.Logger,
		fns:    map[string]*function{},
		fnLogs: map[string]*lineLog{},
	}
	defer func() {
		if err != nil {
			s.stopAll()
		}
	}()
	if s.issuer, err = OpenIssuer(o.StateDir); err != nil {
		return nil, err
	}

	// DynamoDB, with the previous run's data: its snapshot and journal.
	if s.db, err = startDynamo(ctx, o.DynamoDBAddr, tpl.Table, o.StateDir); err != nil {
		return nil, err
	}
	n, replayed, err := s.db.recover()
	if err != nil {
		return nil, err
	}
	s.logger.Info("dynamodb ready", "url", s.db.url, "table", tpl.Table.Name, "items", n, "journalRecordsReplayed", replayed)

	// The webhook receiver must listen before versitygw starts: versitygw
	// posts a test event at start and exits if nobody answers.
	if s.s3ev, err = newS3Events(tpl, filepath.Join(o.StateDir, "s3events"), filepath.Join(o.StateDir, "dlq"), o.RetryBackoff, s.logger); err != nil {
		return nil, err
	}
	hookLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.hookSrv = &http.Server{Handler: s.s3ev, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.hookSrv.Serve(hookLn) }()

	if s.vgwLog, err = openLineLog(filepath.Join(o.StateDir, "logs", "versitygw.log"), 1000); err != nil {
		return nil, err
	}
	if s.objects, err = startObjectStore(ctx, filepath.Join(o.ToolsDir, "versitygw"), filepath.Join(o.StateDir, "s3"),
		o.S3Addr, "http://"+hookLn.Addr().String()+"/", s.vgwLog.writer(), s.logger); err != nil {
		return nil, err
	}
	if err := s.objects.ensureBucket(ctx, tpl.Bucket.Name); err != nil {
		return nil, err
	}
	s.s3ev.s3 = s.objects.client
	s.logger.Info("s3 ready", "url", s.objects.url, "bucket", tpl.Bucket.Name)

	// The API listener is opened before the functions start so that its
	// address (port 0) is known; requests wait for the pools.
	apiLn, err := net.Listen("tcp", o.APIAddr)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	s.apiURL = "http://" + apiLn.Addr().String()
	lambdaLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		apiLn.Close()
		return nil, fmt.Errorf("lambda api: %w", err)
	}
	s.lambdaURL = "http://" + lambdaLn.Addr().String()
	s.lambdaSrv = &http.Server{Handler: s.lambdaAPI(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.lambdaSrv.Serve(lambdaLn) }()

	// Functions.
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, f := range tpl.Functions {
		if _, err := os.Stat(filepath.Join(o.BinDir, f.LogicalID, "bootstrap")); err != nil {
			apiLn.Close()
			return nil, fmt.Errorf("%s: no bootstrap in %s (build it first: localstack.Build): %w", f.LogicalID, o.BinDir, err)
		}
		logs, err := openLineLog(filepath.Join(o.StateDir, "logs", f.LogicalID+".log"), 20000)
		if err != nil {
			apiLn.Close()
			return nil, err
		}
		s.fnLogs[f.LogicalID] = logs
		size := o.PoolSize
		if n, ok := o.PoolSizes[f.LogicalID]; ok && n > 0 {
			size = n
		}
		timeout := time.Duration(max(f.Timeout, 3)) * time.Second
		fn := newFunction(f.LogicalID, filepath.Join(o.ToolsDir, "aws-lambda-rie"), o.BinDir,
			lambdaEnv(f, s.functionVars(f), os.Getenv("PATH")), timeout, size, logs, s.logger)
		s.fns[f.LogicalID] = fn
		wg.Go(func() {
			if err := fn.start(ctx, size); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		apiLn.Close()
		return nil, err
	}
	s.s3ev.invoke = s.invoke
	s.s3ev.run()

	// HTTP API and sandbox.
	gw := newGateway(tpl, func(id string) *function { return s.fns[id] }, s.issuer, s.logger)
	var data SandboxData
	if o.SandboxData != nil {
		if data, err = o.SandboxData(ctx, s.DynamoDB(), tpl.Table.Name); err != nil {
			apiLn.Close()
			return nil, fmt.Errorf("sandbox data: %w", err)
		}
	}
	api, _ := tpl.Function("ApiFunction")
	books, err := openPayBooks(o.StateDir)
	if err != nil {
		apiLn.Close()
		return nil, fmt.Errorf("sandbox books: %w", err)
	}
	sb := &sandbox{
		api:            gw,
		data:           data,
		faceSecret:     s.functionVars(api)["FACE_WEBHOOK_SECRET"],
		paymentSecret:  s.functionVars(api)["PAYMENT_WEBHOOK_SECRET"],
		now:            time.Now,
		logger:         s.logger,
		callbackPrefix: s.apiURL,
		books:          books,
		s3:             s.objects.client,
		bucket:         tpl.Bucket.Name,
	}
	gw.sandbox = sb
	s.apiSrv = &http.Server{Handler: gw, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.apiSrv.Serve(apiLn) }()

	s.stopSandbox = make(chan struct{})
	if !o.DisableSchedules {
		s.sched = startScheduler(tpl, s.invokeAsync, s.logger)
		go sb.dailyStatements(s.stopSandbox, s.logger)
	}
	if err := writeRunInfo(o.StateDir, RunInfo{PID: os.Getpid(), API: s.apiURL, S3: s.objects.url, DynamoDB: s.db.url, Lambda: s.lambdaURL}); err != nil {
		return nil, err
	}
	s.logger.Info("stack ready", "api", s.apiURL, "s3", s.objects.url, "dynamodb", s.db.url)
	return s, nil
}

// functionVars is the environment of f in this stack (see LocalVars).
func (s *Stack) functionVars(f template.Function) map[string]string {
	var dbURL, s3URL string
	if s.db != nil {
		dbURL = s.db.url
	}
	if s.objects != nil {
		s3URL = s.objects.url
	}
	v := LocalVars(f, dbURL, s3URL, s.apiURL, s.opts.Env)
	if s.lambdaURL != "" {
		v["AWS_ENDPOINT_URL_LAMBDA"] = s.lambdaURL
	}
	for k, val := range s.opts.FunctionEnv[f.LogicalID] {
		v[k] = val
	}
	return v
}

// LocalVars is the template environment of f with the local stack's values:
// SSM parameter names become the local secrets, and the SDKs point at the
// local DynamoDB and S3 with the dummy credentials, and the payment
// provider's API at the sandbox of the stack serving apiURL. extra comes
// last.
func LocalVars(f template.Function, dynamoURL, s3URL, apiURL string, extra map[string]string) map[string]string {
	v := map[string]string{}
	local := map[string]string{
		"FACE_WEBHOOK_SECRET":    LocalFaceSecret,
		"PAYMENT_WEBHOOK_SECRET": LocalPaymentSecret,
		"DEPOSIT_HMAC_KEY":       LocalDepositKey,
		"WECHAT_APP_SECRET":      LocalWeChatSecret,
		"SMS_API_KEY":            LocalSMSKey,
	}
	for k, val := range f.Env {
		if name, ok := strings.CutSuffix(k, "_PARAM"); ok {
			// No SSM locally: the plain variable carries the value. A
			// "previous" key exists only during a rotation (set it via Env).
			if lv, ok := local[name]; ok {
				v[name] = lv
			}
			continue
		}
		v[k] = val
	}
	if _, ok := f.Env["PAYMENT_PROVIDER_URL"]; ok && apiURL != "" {
		v["PAYMENT_PROVIDER_URL"] = apiURL + SandboxProviderPath
	}
	// The messaging providers are the sandbox's too.
	if _, ok := f.Env["WECHAT_API_URL"]; ok && apiURL != "" {
		v["WECHAT_API_URL"] = apiURL + "/_sandbox/wechat"
	}
	if _, ok := f.Env["SMS_API_URL"]; ok && apiURL != "" {
		v["SMS_API_URL"] = apiURL + "/_sandbox/sms"
	}
	v["AWS_ENDPOINT_URL_DYNAMODB"] = dynamoURL
	v["AWS_ENDPOINT_URL_S3"] = s3URL
	v["S3_USE_PATH_STYLE"] = "true"
	v["AWS_REGION"] = Region
	v["AWS_DEFAULT_REGION"] = Region
	v["AWS_ACCESS_KEY_ID"] = AccessKeyID
	v["AWS_SECRET_ACCESS_KEY"] = SecretAccessKey
	v["AWS_EC2_METADATA_DISABLED"] = "true"
	// Webhook receivers of the local stack (tests, a developer's tool)
	// listen on loopback over http; other private addresses stay refused.
	v["WEBHOOK_ALLOW_HTTP"] = "true"
	v["WEBHOOK_ALLOW_LOOPBACK"] = "true"
	for k, val := range extra {
		v[k] = val
	}
	return v
}

// Template returns the template the stack runs.
func (s *Stack) Template() *template.Template { return s.tpl }

// APIURL is the HTTP API's base URL, e.g. http://127.0.0.1:3000.
func (s *Stack) APIURL() string { return s.apiURL }

// S3URL is the local S3 endpoint (presigned URLs point here).
func (s *Stack) S3URL() string { return s.objects.url }

// DynamoDBURL is the local DynamoDB endpoint.
func (s *Stack) DynamoDBURL() string { return s.db.url }

// TableName and BucketName are the template's names resolved locally.
func (s *Stack) TableName() string  { return s.tpl.Table.Name }
func (s *Stack) BucketName() string { return s.tpl.Bucket.Name }

// StateDir is where the stack keeps its data, files and logs.
func (s *Stack) StateDir() string { return s.opts.StateDir }

// S3 returns a client of the local S3 with the dummy credentials.
func (s *Stack) S3() *s3.Client { return newS3Client(s.objects.url) }

// DynamoDB returns a client of the local DynamoDB.
func (s *Stack) DynamoDB() *dynamodb.Client { return dynamoClient(s.db.url) }

// Token returns a bearer token of the local issuer for userID in role.
func (s *Stack) Token(role, userID string, opts ...TokenOption) (string, error) {
	return s.issuer.Token(role, userID, opts...)
}

// Invoke runs one synchronous invoke of a function through aws-lambda-rie and
// returns its answer; a handler error is a *FunctionError (with the answer).
func (s *Stack) Invoke(ctx context.Context, logicalID string, event []byte) ([]byte, error) {
	return s.invoke(ctx, logicalID, newRequestID(), event)
}

func (s *Stack) invoke(ctx context.Context, logicalID, requestID string, event []byte) ([]byte, error) {
	fn, ok := s.fns[logicalID]
	if !ok {
		return nil, fmt.Errorf("no function %q in the template", logicalID)
	}
	return fn.invoke(ctx, requestID, event)
}

// invokeAsync is how EventBridge invokes: retried like any async invoke.
func (s *Stack) invokeAsync(logicalID string, event []byte) {
	s.async.Add(1)
	go func() {
		defer s.async.Done()
		for attempt := 0; attempt <= 2; attempt++ {
			if attempt > 0 {
				time.Sleep(s.opts.RetryBackoff[min(attempt-1, len(s.opts.RetryBackoff)-1)])
			}
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
			_, err := s.Invoke(ctx, logicalID, event)
			cancel()
			if err == nil {
				return
			}
			s.logger.Warn("scheduled invoke failed", "function", logicalID, "attempt", attempt+1, "err", err)
		}
	}()
}

// WaitAsync waits until every asynchronous invoke (schedules, the jobs'
// fan-out and hand-ons) has finished, or ctx is done.
func (s *Stack) WaitAsync(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.async.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ResetData empties the table once the asynchronous invokes have finished
// (a testing aid: the stand-in's Query walks every item of the table, so a
// table that grows through a whole suite makes every later request
// slower; the e2e tests give each test of their shared stack an empty
// one). Uploaded files stay: nothing reaches them without their items.
func (s *Stack) ResetData(ctx context.Context) error {
	if err := s.WaitAsync(ctx); err != nil {
		return err
	}
	return s.db.reset(ctx)
}

// ScheduledEvent is the EventBridge event a schedule sends a function.
func ScheduledEvent(logicalID, eventName string, at time.Time) []byte {
	ev := events.CloudWatchEvent{
		Version:    "0",
		ID:         newRequestID(),
		DetailType: "Scheduled Event",
		Source:     "aws.events",
		AccountID:  AccountID,
		Time:       at.UTC().Truncate(time.Second),
		Region:     Region,
		Resources:  []string{fmt.Sprintf("arn:aws:events:%s:%s:rule/microcert-local-%s%s", Region, AccountID, logicalID, eventName)},
		Detail:     json.RawMessage(`{}`),
	}
	b, _ := json.Marshal(ev)
	return b
}

// S3Deliveries returns the S3 events delivered (or being delivered) to a
// function ("" = every function), oldest first.
func (s *Stack) S3Deliveries(logicalID string) []Delivery {
	d, _ := s.s3ev.snapshot(logicalID)
	return d
}

// WaitS3Delivery waits for a delivery to logicalID that satisfies match
// (nil = any) and has finished (delivered or dead-lettered).
func (s *Stack) WaitS3Delivery(ctx context.Context, logicalID string, match func(Delivery) bool) (Delivery, error) {
	for {
		ds, changed := s.s3ev.snapshot(logicalID)
		for _, d := range ds {
			if d.Done && (match == nil || match(d)) {
				return d, nil
			}
		}
		select {
		case <-ctx.Done():
			return Delivery{}, fmt.Errorf("no S3 delivery to %s matched: %w (saw %d)", logicalID, ctx.Err(), len(ds))
		case <-changed:
		}
	}
}

// Logs returns the recent output lines of a function ("" = all functions),
// the JSON log lines of its bootstrap and the emulator's START/END/REPORT.
// The full logs are in <StateDir>/logs/<LogicalId>.log.
func (s *Stack) Logs(logicalID string) []string {
	if logicalID != "" {
		if l := s.fnLogs[logicalID]; l != nil {
			return l.snapshot()
		}
		return nil
	}
	ids := make([]string, 0, len(s.fnLogs))
	for id := range s.fnLogs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []string
	for _, id := range ids {
		out = append(out, s.fnLogs[id].snapshot()...)
	}
	return out
}

// LogFile is the file holding every output line of a function (Logs keeps
// only the most recent 10,000-20,000 lines in memory).
func (s *Stack) LogFile(logicalID string) string {
	return filepath.Join(s.opts.StateDir, "logs", logicalID+".log")
}

// ProcessGroups returns the process group of every child process (each
// child leads its own group, which also holds what it starts).
func (s *Stack) ProcessGroups() []int {
	var out []int
	if s.objects != nil {
		out = append(out, s.objects.child.cmd.Process.Pid)
	}
	for _, fn := range s.fns {
		fn.mu.Lock()
		for _, w := range fn.all {
			out = append(out, w.child.cmd.Process.Pid)
		}
		fn.mu.Unlock()
	}
	return out
}

// ReadyLine is the one line `make run` prints when the stack serves.
func (s *Stack) ReadyLine() string {
	return fmt.Sprintf("microcert local stack ready: api %s  s3 %s  dynamodb %s  state %s  (Ctrl-C stops)",
		s.apiURL, s.objects.url, s.db.url, s.opts.StateDir)
}

// Close snapshots the table and stops every child process.
func (s *Stack) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	if s.sched != nil {
		s.sched.stop()
	}
	if s.stopSandbox != nil {
		close(s.stopSandbox)
	}
	if s.apiSrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = s.apiSrv.Shutdown(ctx)
		cancel()
	}
	if s.s3ev != nil {
		s.s3ev.stop()
	}
	if s.db != nil {
		// Not needed for durability (the journal has every write): it keeps
		// the next start from replaying this run's journal.
		n, err := s.db.checkpoint()
		if err != nil {
			errs = append(errs, fmt.Errorf("dynamodb snapshot: %w", err))
		} else {
			s.logger.Info("dynamodb snapshot written", "file", s.db.snapshot, "items", n)
		}
	}
	s.stopAll()
	removeRunInfo(s.opts.StateDir)
	return errors.Join(errs...)
}

// stopAll stops the children and servers (no snapshot).
func (s *Stack) stopAll() {
	var wg sync.WaitGroup
	for _, fn := range s.fns {
		wg.Go(fn.stop)
	}
	wg.Go(func() { s.objects.stop() })
	wg.Wait()
	if s.hookSrv != nil {
		_ = s.hookSrv.Close()
	}
	if s.apiSrv != nil {
		_ = s.apiSrv.Close()
	}
	if s.lambdaSrv != nil {
		_ = s.lambdaSrv.Close()
	}
	if s.db != nil {
		_ = s.db.close()
	}
	for _, l := range s.fnLogs {
		_ = l.close()
	}
	if s.vgwLog != nil {
		_ = s.vgwLog.close()
	}
}
