package localstack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"microcert/infra/template"
)

// FunctionError is a function's own failure: its handler returned an error or
// panicked (Lambda's "Unhandled"), or it timed out.
type FunctionError struct {
	Function string
	Type     string // errorType, e.g. "errorString", or "Timeout"
	Message  string
	Payload  []byte // what the function answered
}

func (e *FunctionError) Error() string {
	return fmt.Sprintf("%s: function error %s: %s", e.Function, e.Type, e.Message)
}

// function runs one template function as a pool of aws-lambda-rie processes.
// One emulator serves one invoke at a time (a second concurrent one gets 400
// AlreadyReserved), so concurrent invokes take separate workers, as Lambda
// runs them in separate sandboxes; when all are busy the invoke waits.
type function struct {
	id        string
	rie       string
	bootstrap string
	env       []string
	timeout   time.Duration
	logs      *lineLog
	logger    *slog.Logger
	client    *http.Client

	idle chan *worker
	mu   sync.Mutex
	all  []*worker

	// pickAddrs chooses the emulator's and the runtime API's addresses
	// (default: two free loopback ports); tests make it collide.
	pickAddrs func() ([]string, error)
}

type worker struct {
	child *child
	url   string
	out   io.WriteCloser
}

func newFunction(id, rie, binDir string, env []string, timeout time.Duration, size int, logs *lineLog, logger *slog.Logger) *function {
	return &function{
		id:        id,
		rie:       rie,
		bootstrap: filepath.Join(binDir, id, "bootstrap"),
		env:       env,
		timeout:   timeout,
		logs:      logs,
		logger:    logger,
		client:    &http.Client{Timeout: timeout + 10*time.Second},
		idle:      make(chan *worker, size),
	}
}

// start launches size emulators in parallel and waits until each listens.
func (f *function) start(ctx context.Context, size int) error {
	var (
		wg   sync.WaitGroup
		errs = make([]error, size)
	)
	for i := range size {
		wg.Go(func() {
			w, err := f.spawn(ctx)
			if err != nil {
				errs[i] = err
				return
			}
			f.idle <- w
		})
	}
	wg.Wait()
	return errAll(errs...)
}

func (f *function) spawn(ctx context.Context) (*worker, error) {
	out := f.logs.writer()
	pick := f.pickAddrs
	if pick == nil {
		pick = func() ([]string, error) { return freeAddrs(2) }
	}
	c, addrs, err := startOnFreePorts(ctx, 5, pick, func(addrs []string) (*child, error) {
		cmd := exec.Command(f.rie,
			"--log-level", "warn",
			"--runtime-interface-emulator-address", addrs[0],
			"--runtime-api-address", addrs[1],
			f.bootstrap)
		cmd.Env = f.env
		cmd.Stdout, cmd.Stderr = out, out
		cmd.WaitDelay = 2 * time.Second
		return startChild("aws-lambda-rie "+f.id, cmd)
	}, 15*time.Second, f.logger)
	if err != nil {
		return nil, err
	}
	w := &worker{child: c, url: "http://" + addrs[0] + "/2015-03-31/functions/function/invocations", out: out}
	f.mu.Lock()
	f.all = append(f.all, w)
	f.mu.Unlock()
	return w, nil
}

// retire stops a worker whose sandbox is no longer trustworthy (timed out,
// crashed) and starts a fresh one in its place, as Lambda discards a sandbox.
func (f *function) retire(w *worker) {
	w.child.stop(time.Second)
	_ = w.out.Close()
	f.mu.Lock()
	for i, x := range f.all {
		if x == w {
			f.all = append(f.all[:i], f.all[i+1:]...)
			break
		}
	}
	f.mu.Unlock()
	nw, err := f.spawn(context.Background())
	if err != nil {
		f.logger.Error("restart emulator", "function", f.id, "err", err)
		// Keep the pool size: the next invoke tries again.
		f.idle <- w
		return
	}
	f.idle <- nw
}

// invoke runs one synchronous invoke and returns the function's answer.
func (f *function) invoke(ctx context.Context, requestID string, payload []byte) ([]byte, error) {
	var w *worker
	select {
	case w = <-f.idle:
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: no free emulator: %w", f.id, ctx.Err())
	}
	if w.child.exited() {
		f.retire(w)
		select {
		case w = <-f.idle:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	body, status, err := f.post(ctx, w, requestID, payload)
	if err != nil || status != http.StatusOK {
		go f.retire(w)
	} else {
		f.idle <- w
	}
	if err != nil {
		return nil, fmt.Errorf("%s: invoke: %w", f.id, err)
	}
	switch status {
	case http.StatusOK:
		if fe := functionError(f.id, body); fe != nil {
			return body, fe
		}
		return body, nil
	case http.StatusGatewayTimeout:
		return body, &FunctionError{Function: f.id, Type: "Timeout", Message: string(body), Payload: body}
	case http.StatusBadGateway:
		if fe := functionError(f.id, body); fe != nil {
			return body, fe
		}
		return body, &FunctionError{Function: f.id, Type: "Runtime.ExitError", Message: string(body), Payload: body}
	default:
		return body, fmt.Errorf("%s: emulator answered %d: %s", f.id, status, body)
	}
}

func (f *function) post(ctx context.Context, w *worker, requestID string, payload []byte) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(payload))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if requestID != "" {
		req.Header.Set("X-Amzn-RequestId", requestID)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return body, resp.StatusCode, err
}

// functionError recognizes the error document the Lambda runtime returns for
// a handler error: {"errorMessage": ..., "errorType": ...}.
func functionError(id string, body []byte) *FunctionError {
	var e struct {
		Message *string `json:"errorMessage"`
		Type    *string `json:"errorType"`
	}
	if json.Unmarshal(body, &e) != nil || e.Message == nil || e.Type == nil {
		return nil
	}
	return &FunctionError{Function: id, Type: *e.Type, Message: *e.Message, Payload: body}
}

func (f *function) stop() {
	f.mu.Lock()
	all := append([]*worker(nil), f.all...)
	f.mu.Unlock()
	var wg sync.WaitGroup
	for _, w := range all {
		wg.Go(func() {
			w.child.stop(2 * time.Second)
			_ = w.out.Close()
		})
	}
	wg.Wait()
}

// lambdaEnv is the environment Lambda gives the function (plus the template's
// variables). It is built from scratch: nothing of the host's environment
// (credentials, profiles) leaks into a function.
func lambdaEnv(f template.Function, vars map[string]string, path string) []string {
	timeout := f.Timeout
	if timeout == 0 {
		timeout = 3
	}
	mem := f.MemorySize
	if mem == 0 {
		mem = 128
	}
	env := map[string]string{
		"PATH":                            path,
		"TZ":                              "UTC",
		"LANG":                            "en_US.UTF-8",
		"AWS_LAMBDA_FUNCTION_NAME":        f.LogicalID,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(mem),
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     strconv.Itoa(timeout),
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + f.LogicalID,
		"AWS_LAMBDA_LOG_STREAM_NAME":      "local",
		"_HANDLER":                        f.Handler,
		"AWS_CONFIG_FILE":                 "/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE":     "/dev/null",
	}
	for k, v := range vars {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}
