// Package coldstart measures each function's cold start under
// aws-lambda-rie against a hello-world aws-lambda-go bootstrap built the same
// way (infra/bench/hello), and the size of the stripped arm64 binaries that
// are deployed.
//
// Every run is a fresh emulator process, so every run is a cold start. The
// emulator starts the bootstrap on the first invoke and logs
// "INIT REPORT(durationMs: X)": the time from exec to the runtime's first
// call to /next, i.e. process start + Go runtime + package inits + main()
// up to lambda.Start. That is Lambda's Init Duration, and it is what is
// compared. (The emulator's REPORT line prints a meaningless
// "Init Duration: 0.0x ms"; it is not used.) The client-side time from the
// invoke to its answer is recorded beside it.
//
// The functions run with the environment the local stack gives them, but
// their AWS endpoints point at a listener that only counts connections: the
// trivial invokes below make no AWS call, so any connection means init
// talked to AWS, which it must not.
package coldstart

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"microcert/infra/localstack"
	"microcert/infra/template"
)

// Hello is the name of the baseline in results.
const Hello = "hello"

// HelloPackage is the baseline's source folder (in the repository).
const HelloPackage = "infra/bench/hello"

// benchModule is the folder of the benchmarks' own Go module.
const benchModule = "infra/bench"

// Budgets of the cold start (BENCHMARKS.md judges them).
const (
	MaxInitRatio  = 1.5
	MaxArm64Bytes = 12 << 20
)

// Options configure a measurement.
type Options struct {
	RepoRoot string // module root with template.yaml
	RIE      string // aws-lambda-rie binary (default <RepoRoot>/bin/aws-lambda-rie)
	WorkDir  string // where binaries are built (default a temporary folder)
	Rounds   int    // alternating rounds after one warm-up round (default 15)
	// InitTrace runs every bootstrap this many extra times with
	// GODEBUG=inittrace=1 and keeps the package init costs (default 3;
	// negative: none).
	InitTrace int
	// SkipArm64 skips the arm64 build (sizes stay 0).
	SkipArm64 bool
	// Probes are extra bootstrap packages ("./infra/bench/probes/sdk")
	// measured in the same rounds, with hello's environment; their results
	// have Probe set and no budget.
	Probes []string
	Log    io.Writer // progress (default discard)
}

// Result is a whole measurement.
type Result struct {
	Rounds    int
	Functions []Function // Hello first, then the template's functions
}

// Function is one bootstrap's figures.
type Function struct {
	Name        string // logical id, or Hello
	Package     string // ./functions/api ...
	Probe       bool   // a dependency probe (Options.Probes)
	Event       string // the trivial invoke's payload
	InitMs      []float64
	FirstRespMs []float64 // client: invoke sent -> answer, fresh emulator
	HostBytes   int64
	Arm64Bytes  int64
	// AWSConnections counts connections to the AWS endpoints during all
	// runs (must be 0: init does not call AWS, the trivial invoke neither).
	AWSConnections int64
	// InitTrace holds, per package, the median clock ms of its init.
	InitTrace        []PackageInit
	InitTraceTotalMs float64 // sum of the medians
	Errors           []string
}

// PackageInit is one line of GODEBUG=inittrace=1.
type PackageInit struct {
	Package string
	ClockMs float64
	Bytes   int64
	Allocs  int64
}

// Median of the init durations.
func (f *Function) MedianInit() float64 { return median(f.InitMs) }

// MinInit is the fastest init.
func (f *Function) MinInit() float64 { return minOf(f.InitMs) }

// MedianFirstResponse is the median client-side first response.
func (f *Function) MedianFirstResponse() float64 { return median(f.FirstRespMs) }

// Get returns the function called name.
func (r *Result) Get(name string) *Function {
	for i := range r.Functions {
		if r.Functions[i].Name == name {
			return &r.Functions[i]
		}
	}
	return nil
}

// Ratio is median init of name over hello's.
func (r *Result) Ratio(name string) float64 {
	f, h := r.Get(name), r.Get(Hello)
	if f == nil || h == nil || h.MedianInit() == 0 {
		return 0
	}
	return f.MedianInit() / h.MedianInit()
}

// trivialEvent is an invoke that makes no AWS call: health for the API, an
// event outside uploads/ for the document check, a malformed time for the
// jobs (they refuse it before touching the table).
func trivialEvent(f template.Function) string {
	switch {
	case len(f.Routes) > 0:
		return `{"version":"2.0","routeKey":"GET /v1/health","rawPath":"/v1/health","headers":{},` +
			`"requestContext":{"routeKey":"GET /v1/health","requestId":"coldstart","http":{"method":"GET","path":"/v1/health"}}}`
	case len(f.S3Events) > 0:
		return `{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"not-an-upload","sequencer":"01"}}}]}`
	case len(f.Schedules) > 0:
		return `{"time":"not-a-time"}`
	}
	return `{}`
}

// Run builds the bootstraps and measures them.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.RepoRoot == "" {
		o.RepoRoot = "."
	}
	if o.RIE == "" {
		o.RIE = filepath.Join(o.RepoRoot, "bin", "aws-lambda-rie")
	}
	if o.Rounds <= 0 {
		o.Rounds = 15
	}
	if o.InitTrace == 0 {
		o.InitTrace = 3
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if _, err := os.Stat(o.RIE); err != nil {
		return nil, fmt.Errorf("aws-lambda-rie not found (run `make tools`): %w", err)
	}
	// The emulator runs in the binaries' folder: the paths must be absolute.
	var err error
	if o.RIE, err = filepath.Abs(o.RIE); err != nil {
		return nil, err
	}
	if o.RepoRoot, err = filepath.Abs(o.RepoRoot); err != nil {
		return nil, err
	}
	tpl, err := template.LoadRepo(o.RepoRoot)
	if err != nil {
		return nil, err
	}
	if o.WorkDir != "" {
		if o.WorkDir, err = filepath.Abs(o.WorkDir); err != nil {
			return nil, err
		}
	}
	if o.WorkDir == "" {
		dir, err := os.MkdirTemp("", "coldstart-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		o.WorkDir = dir
	}

	// The AWS endpoints: a listener that counts connections and closes them.
	aws, err := newConnCounter()
	if err != nil {
		return nil, err
	}
	defer aws.close()

	type target struct {
		fn  *Function
		bin string
		env []string
	}
	res := &Result{Rounds: o.Rounds}
	res.Functions = append(res.Functions, Function{Name: Hello, Package: "./" + HelloPackage, Event: `{}`})
	var fnDefs []template.Function
	for _, f := range tpl.Functions {
		fnDefs = append(fnDefs, f)
		res.Functions = append(res.Functions, Function{Name: f.LogicalID, Package: "./" + f.Folder, Event: trivialEvent(f)})
	}
	for _, p := range o.Probes {
		res.Functions = append(res.Functions, Function{Name: "probe " + filepath.Base(p), Package: p, Probe: true, Event: `{}`})
	}
	pkgs := make([]string, len(res.Functions))
	for i, f := range res.Functions {
		pkgs[i] = f.Package
	}
	fmt.Fprintf(o.Log, "coldstart: building %d bootstraps for the host and linux/arm64\n", len(pkgs))
	hostDir := filepath.Join(o.WorkDir, "host")
	if err := Build(ctx, o.RepoRoot, hostDir, "", "", pkgs); err != nil {
		return nil, err
	}
	if !o.SkipArm64 {
		if err := Build(ctx, o.RepoRoot, filepath.Join(o.WorkDir, "arm64"), "linux", "arm64", pkgs); err != nil {
			return nil, err
		}
	}
	targets := make([]target, len(res.Functions))
	for i := range res.Functions {
		f := &res.Functions[i]
		base := filepath.Base(f.Package)
		bin := filepath.Join(hostDir, base)
		if st, err := os.Stat(bin); err == nil {
			f.HostBytes = st.Size()
		} else {
			return nil, err
		}
		if !o.SkipArm64 {
			if st, err := os.Stat(filepath.Join(o.WorkDir, "arm64", base)); err == nil {
				f.Arm64Bytes = st.Size()
			}
		}
		// The hello baseline gets the same environment as the API, so
		// that the only difference is the code.
		def := template.Function{LogicalID: f.Name, Handler: "bootstrap", Timeout: 10, MemorySize: 128}
		if i > 0 && !f.Probe {
			def = fnDefs[i-1]
		} else if len(fnDefs) > 0 {
			def.Env = fnDefs[0].Env
		}
		targets[i] = target{fn: f, bin: bin, env: Env(def, aws.url)}
	}

	once := func(t target, trace bool) (run, error) {
		before := aws.count.Load()
		r, err := runOnce(ctx, o.RIE, t.bin, t.env, t.fn.Event, trace)
		t.fn.AWSConnections += aws.count.Load() - before
		return r, err
	}
	// Warm-up: page cache, first exec of a new file.
	for _, t := range targets {
		if _, err := once(t, false); err != nil {
			return nil, fmt.Errorf("%s: warm-up: %w", t.fn.Name, err)
		}
	}
	for round := range o.Rounds {
		// Rotate the order so that no function always follows another.
		for k := range targets {
			t := targets[(k+round)%len(targets)]
			r, err := once(t, false)
			if err != nil {
				t.fn.Errors = append(t.fn.Errors, err.Error())
				continue
			}
			t.fn.InitMs = append(t.fn.InitMs, r.initMs)
			t.fn.FirstRespMs = append(t.fn.FirstRespMs, r.firstMs)
		}
		fmt.Fprintf(o.Log, "coldstart: round %d/%d done\n", round+1, o.Rounds)
	}
	if o.InitTrace > 0 {
		for _, t := range targets {
			per := map[string][]PackageInit{}
			for range o.InitTrace {
				r, err := once(t, true)
				if err != nil {
					t.fn.Errors = append(t.fn.Errors, "inittrace: "+err.Error())
					continue
				}
				for _, p := range r.trace {
					per[p.Package] = append(per[p.Package], p)
				}
			}
			for pkg, ps := range per {
				ms := make([]float64, len(ps))
				for i, p := range ps {
					ms[i] = p.ClockMs
				}
				pi := PackageInit{Package: pkg, ClockMs: median(ms), Bytes: ps[0].Bytes, Allocs: ps[0].Allocs}
				t.fn.InitTrace = append(t.fn.InitTrace, pi)
				t.fn.InitTraceTotalMs += pi.ClockMs
			}
			sort.Slice(t.fn.InitTrace, func(i, j int) bool { return t.fn.InitTrace[i].ClockMs > t.fn.InitTrace[j].ClockMs })
		}
	}
	return res, nil
}

// Build compiles pkgs (folders relative to the repository root, "./...")
// into dir (one binary per package, named after its folder) with the
// Lambda flags: CGO off, -tags lambda.norpc, -trimpath, -ldflags='-s -w'.
// goos/goarch "" build for the host. The functions are built in the
// product's module, the baseline and the probes in the benchmarks' module
// (infra/bench): one go build each.
func Build(ctx context.Context, repoRoot, dir, goos, goarch string, pkgs []string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	byModule := map[string][]string{}
	for _, p := range pkgs {
		if rest, ok := strings.CutPrefix(p, "./"+benchModule+"/"); ok {
			byModule[benchModule] = append(byModule[benchModule], "./"+rest)
		} else {
			byModule["."] = append(byModule["."], p)
		}
	}
	for mod, ps := range byModule {
		args := append([]string{"build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", dir + "/"}, ps...)
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = filepath.Join(repoRoot, mod)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if goos != "" {
			cmd.Env = append(cmd.Env, "GOOS="+goos, "GOARCH="+goarch)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s/%s in %s: %w\n%s", goos, goarch, mod, err, out)
		}
	}
	return nil
}

// Env is the environment of f as the local stack gives it (Lambda's
// variables, the template's, the local secrets and endpoints), with both
// AWS endpoints at endpoint.
func Env(f template.Function, endpoint string) []string {
	env := map[string]string{
		"PATH":                            "/usr/local/bin:/usr/bin:/bin",
		"TZ":                              "UTC",
		"LANG":                            "en_US.UTF-8",
		"AWS_LAMBDA_FUNCTION_NAME":        f.LogicalID,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(max(f.MemorySize, 128)),
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     strconv.Itoa(max(f.Timeout, 3)),
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + f.LogicalID,
		"AWS_LAMBDA_LOG_STREAM_NAME":      "coldstart",
		"_HANDLER":                        f.Handler,
		"AWS_CONFIG_FILE":                 "/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE":     "/dev/null",
	}
	for k, v := range localstack.LocalVars(f, endpoint, endpoint, "", nil) {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

type run struct {
	initMs  float64
	firstMs float64
	trace   []PackageInit
}

var (
	initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)
	// init microcert/shared/logging @1.2 ms, 0.031 ms clock, 12345 bytes, 67 allocs
	initTrace = regexp.MustCompile(`^init (\S+) @[0-9.]+ ms, ([0-9.]+) ms clock, ([0-9]+) bytes, ([0-9]+) allocs`)
)

// runOnce starts a fresh emulator, invokes once and stops it.
func runOnce(ctx context.Context, rie, bin string, env []string, event string, trace bool) (run, error) {
	emu, err := freeAddr()
	if err != nil {
		return run{}, err
	}
	rapi, err := freeAddr()
	if err != nil {
		return run{}, err
	}
	cmd := exec.Command(rie, "--log-level", "info",
		"--runtime-interface-emulator-address", emu, "--runtime-api-address", rapi, bin)
	cmd.Env = env
	if trace {
		cmd.Env = append(append([]string(nil), env...), "GODEBUG=inittrace=1")
	}
	cmd.Dir = filepath.Dir(bin)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return run{}, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}()
	if err := waitListen(ctx, emu, done, 10*time.Second); err != nil {
		return run{}, fmt.Errorf("%w\n%s", err, out.String())
	}
	ictx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ictx, http.MethodPost,
		"http://"+emu+"/2015-03-31/functions/function/invocations", strings.NewReader(event))
	// The emulator runs with the same GODEBUG; its own inittrace lines come
	// before the invoke, the bootstrap's after (it starts on the invoke).
	offset := len(out.String())
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return run{}, fmt.Errorf("invoke: %w\n%s", err, out.String())
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	first := time.Since(start)
	if resp.StatusCode != http.StatusOK {
		return run{}, fmt.Errorf("invoke: status %d: %s\n%s", resp.StatusCode, body, out.String())
	}
	// The INIT REPORT line is written before the invoke's answer; give the
	// pipe a moment if it is not there yet.
	var r run
	r.firstMs = float64(first.Microseconds()) / 1000
	deadline := time.Now().Add(2 * time.Second)
	for {
		if m := initReport.FindStringSubmatch(out.String()); m != nil {
			r.initMs, _ = strconv.ParseFloat(m[1], 64)
			break
		}
		if time.Now().After(deadline) {
			return run{}, fmt.Errorf("no INIT REPORT line from the emulator:\n%s", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if trace {
		sc := bufio.NewScanner(strings.NewReader(out.String()[offset:]))
		for sc.Scan() {
			m := initTrace.FindStringSubmatch(strings.TrimSpace(sc.Text()))
			if m == nil {
				continue
			}
			ms, _ := strconv.ParseFloat(m[2], 64)
			b, _ := strconv.ParseInt(m[3], 10, 64)
			a, _ := strconv.ParseInt(m[4], 10, 64)
			r.trace = append(r.trace, PackageInit{Package: m[1], ClockMs: ms, Bytes: b, Allocs: a})
		}
	}
	return r, nil
}

func waitListen(ctx context.Context, addr string, done <-chan error, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case err := <-done:
			return fmt.Errorf("emulator exited before listening: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if time.Now().After(deadline) {
			return errors.New("emulator does not listen on " + addr)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// connCounter is a loopback listener that counts and closes connections.
type connCounter struct {
	ln    net.Listener
	url   string
	count atomic.Int64
	wg    sync.WaitGroup
}

func newConnCounter() (*connCounter, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c := &connCounter{ln: ln, url: "http://" + ln.Addr().String()}
	c.wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			c.count.Add(1)
			conn.Close()
		}
	})
	return c, nil
}

func (c *connCounter) close() {
	c.ln.Close()
	c.wg.Wait()
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func minOf(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	m := xs[0]
	for _, x := range xs[1:] {
		m = min(m, x)
	}
	return m
}

// SizeGroup is the code size of one module or package group.
type SizeGroup struct {
	Group string
	Bytes int64
}

// sizeGroups are the prefixes code is grouped by; anything else is grouped
// by its first path element (the standard library by package).
var sizeGroups = []string{
	"github.com/aws/aws-sdk-go-v2/service/ssm", "github.com/aws/aws-sdk-go-v2/service/dynamodb",
	"github.com/aws/aws-sdk-go-v2/service/s3", "github.com/aws/aws-sdk-go-v2/service/sts",
	"github.com/aws/aws-sdk-go-v2/service/ssooidc", "github.com/aws/aws-sdk-go-v2/service/sso",
	"github.com/aws/aws-sdk-go-v2/service/signin", "github.com/aws/aws-sdk-go-v2/service/internal",
	"github.com/aws/aws-sdk-go-v2/feature", "github.com/aws/aws-sdk-go-v2/config", "github.com/aws/aws-sdk-go-v2/credentials",
	"github.com/aws/aws-sdk-go-v2", "github.com/aws/smithy-go", "github.com/aws/aws-lambda-go",
	"microcert/shared/doccheck", "microcert", "golang.org/x", "github.com/6tail",
	"crypto", "net", "image", "encoding", "runtime", "reflect", "internal", "vendor",
}

var symPkg = regexp.MustCompile(`^((?:[^/]*/)*[^.]*)`)

// SizeProfile builds pkg for linux/arm64 without -s (symbols kept, DWARF
// dropped) and sums the sizes of its text symbols by module, largest first.
func SizeProfile(ctx context.Context, repoRoot, pkg string) ([]SizeGroup, error) {
	dir, err := os.MkdirTemp("", "sizeprofile-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "bootstrap")
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-w", "-o", bin, pkg)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build: %w\n%s", err, out)
	}
	out, err := exec.CommandContext(ctx, "go", "tool", "nm", "-size", bin).Output()
	if err != nil {
		return nil, fmt.Errorf("go tool nm: %w", err)
	}
	sums := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || (f[2] != "T" && f[2] != "t") {
			continue
		}
		size, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		name := strings.Join(f[3:], " ")
		name = strings.TrimLeft(strings.TrimPrefix(strings.TrimPrefix(name, "type:"), "go:"), "(*")
		p := name
		if m := symPkg.FindStringSubmatch(name); m != nil {
			p = m[1]
		}
		g := ""
		for _, pre := range sizeGroups {
			if p == pre || strings.HasPrefix(p, pre+"/") {
				g = pre
				break
			}
		}
		if g == "" {
			g, _, _ = strings.Cut(p, "/")
		}
		sums[g] += size
	}
	var groups []SizeGroup
	for g, n := range sums {
		groups = append(groups, SizeGroup{g, n})
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].Bytes > groups[j].Bytes })
	return groups, nil
}
