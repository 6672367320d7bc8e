// Package load is the load generator of make bench: simulated mobile apps doing
// the applicant flow over HTTP against the local stack (loopback only),
// bounded in count and time. It reports throughput, client-side p50/p99 per
// route, the error count (must be 0), and, from ApiFunction's own `request`
// log lines (joined by X-Request-Id), the handler's time beside the raw
// store round trip of the same reads timed directly against the local
// DynamoDB.
//
// The flow of one app: create enterprise -> open case -> read the case
// (requirements) -> request a presigned POST -> upload the scan to S3 ->
// poll the documents until the check has run -> start face verification ->
// the provider sandbox passes it -> read the case.
package load

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"microcert/infra/localstack"
	"microcert/infra/template"
	"microcert/shared/doccheck/doccheckfixtures"
	"microcert/shared/domain"
)

// MaxHandlerOverheadMs is the budget: handler time minus the raw store round
// trip of the same reads, at p50.
const MaxHandlerOverheadMs = 0.5

// Options configure a run.
type Options struct {
	RepoRoot string // module root (default ".")
	// URL of a running stack (`make run`); "" starts one on free ports.
	URL string
	// StateDir of the running stack (default <RepoRoot>/.local): its
	// issuer key, its logs and stack.json (for the DynamoDB address).
	StateDir string

	Apps     int           // concurrent simulated apps (default 50)
	Flows    int           // total flows, all apps together (default 150)
	Duration time.Duration // no new flow after this (default 3m)
	// ApiPool and DocCheckPool size the emulator pools of a stack this run
	// starts (default 8 and 3). Lambda would run one sandbox per
	// concurrent request; on 2 cores more processes only add contention.
	ApiPool, DocCheckPool int
	// Quiet is the number of sequential GET case requests, alternated with
	// the same reads straight against DynamoDB, before and after the load
	// (default 150).
	Quiet int
	Log   io.Writer // progress (default discard)
}

// Result of a run.
type Result struct {
	Apps, FlowsDone, Requests, Errors int
	ErrorSamples                      []string
	Elapsed                           time.Duration
	RequestsPerSec, FlowsPerSec       float64
	ApiPool, DocCheckPool             int // 0: a running stack's own
	Routes                            []RouteStats
	// Handler ms of every API request of the load (from the function's log).
	HandlerP50, HandlerP99 float64
	Before, After          Overhead // quiet phases around the load
	TableItemsAfter        int
}

// RouteStats is one route under load.
type RouteStats struct {
	Route                  string
	N                      int
	P50, P99, Max          float64 // client ms
	HandlerN               int
	HandlerP50, HandlerP99 float64 // function's own ms
}

// Overhead compares, request by request, GET /v1/cases/{caseId} as the
// handler timed it with the same two reads (GetCaseBundle, GetEnterprise)
// timed straight against the local DynamoDB from this process.
type Overhead struct {
	N                int
	HandlerP50       float64 // function's `ms`
	RawStoreP50      float64 // the route's reads, direct, client built like the functions'
	RawStoreNoCRCP50 float64 // the same with the response CRC32 check off (see rawstore)
	DiffP50          float64 // p50 of per-pair handler - raw
	RawGetItemP50    float64 // one GetItem of the case item
	ClientP50        float64 // client-side, through gateway and emulator
	TableItems       int

	phase string // the quiet phase's samples (fillOverhead)
}

// OverheadP50 is the handler's own time at p50: handler minus raw store.
func (o Overhead) OverheadP50() float64 { return o.HandlerP50 - o.RawStoreP50 }

type target struct {
	api     string
	issuer  *localstack.LocalIssuer
	db      *dynamodb.Client
	dbURL   string
	table   string
	logFile string
	stop    func()
}

// Run runs the quiet phase, the load and the second quiet phase.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.RepoRoot == "" {
		o.RepoRoot = "."
	}
	if o.Apps <= 0 {
		o.Apps = 50
	}
	if o.Flows <= 0 {
		o.Flows = 150
	}
	if o.Duration <= 0 {
		o.Duration = 3 * time.Minute
	}
	if o.ApiPool <= 0 {
		o.ApiPool = 8
	}
	if o.DocCheckPool <= 0 {
		o.DocCheckPool = 3
	}
	if o.Quiet <= 0 {
		o.Quiet = 150
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	tg, err := connect(ctx, o)
	if err != nil {
		return nil, err
	}
	defer tg.stop()
	res := &Result{Apps: o.Apps}
	if o.URL == "" {
		res.ApiPool, res.DocCheckPool = o.ApiPool, o.DocCheckPool
	}
	g := &gen{tg: tg, client: &http.Client{Timeout: 60 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 2 * o.Apps, MaxConnsPerHost: 4 * o.Apps}}}
	g.root = o.RepoRoot
	defer func() {
		for _, f := range g.cleanup {
			f()
		}
	}()
	g.seed = time.Now().UnixNano() % 100_000 * 1000
	g.scans = make([][]byte, 32)
	for i := range g.scans {
		g.scans[i] = doccheckfixtures.ScanJPEG(1000+7*i, 750)
	}

	fmt.Fprintf(o.Log, "load: quiet phase (%d GET case, alternated with raw reads)\n", o.Quiet)
	if res.Before, err = g.quiet(ctx, o.Quiet); err != nil {
		return nil, fmt.Errorf("quiet phase: %w", err)
	}

	fmt.Fprintf(o.Log, "load: %d apps, at most %d flows or %s\n", o.Apps, o.Flows, o.Duration)
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		deadline = time.Now().Add(o.Duration)
		start    = time.Now()
	)
	for i := range o.Apps {
		wg.Go(func() {
			for {
				n := next.Add(1)
				if n > int64(o.Flows) || time.Now().After(deadline) || ctx.Err() != nil {
					return
				}
				g.flow(ctx, i, int(n))
			}
		})
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.FlowsDone = int(g.flows.Load())

	fmt.Fprintf(o.Log, "load: second quiet phase\n")
	if res.After, err = g.quiet(ctx, o.Quiet); err != nil {
		return nil, fmt.Errorf("quiet phase after load: %w", err)
	}
	res.TableItemsAfter = res.After.TableItems

	// Join the client's samples with the handler's log lines.
	handler, err := readHandlerLog(tg.logFile)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	res.Errors = g.errors
	res.ErrorSamples = g.errSamples
	byRoute := map[string]*RouteStats{}
	clientMs := map[string][]float64{}
	handlerMs := map[string][]float64{}
	var allHandler []float64
	for _, s := range g.samples {
		if s.phase != "load" {
			continue
		}
		res.Requests++
		if byRoute[s.route] == nil {
			byRoute[s.route] = &RouteStats{Route: s.route}
		}
		clientMs[s.route] = append(clientMs[s.route], s.ms)
		if h, ok := handler[s.requestID]; ok {
			handlerMs[s.route] = append(handlerMs[s.route], h)
			allHandler = append(allHandler, h)
		}
	}
	for route, rs := range byRoute {
		c := clientMs[route]
		rs.N, rs.P50, rs.P99, rs.Max = len(c), pct(c, 50), pct(c, 99), pct(c, 100)
		h := handlerMs[route]
		rs.HandlerN, rs.HandlerP50, rs.HandlerP99 = len(h), pct(h, 50), pct(h, 99)
		res.Routes = append(res.Routes, *rs)
	}
	sort.Slice(res.Routes, func(i, j int) bool { return res.Routes[i].Route < res.Routes[j].Route })
	res.HandlerP50, res.HandlerP99 = pct(allHandler, 50), pct(allHandler, 99)
	if secs := res.Elapsed.Seconds(); secs > 0 {
		res.RequestsPerSec = float64(res.Requests) / secs
		res.FlowsPerSec = float64(res.FlowsDone) / secs
	}
	for _, ov := range []*Overhead{&res.Before, &res.After} {
		g.fillOverhead(ov, handler)
	}
	return res, nil
}

// connect starts a stack or attaches to a running one.
func connect(ctx context.Context, o Options) (*target, error) {
	tpl, err := template.LoadRepo(o.RepoRoot)
	if err != nil {
		return nil, err
	}
	dbClient := func(u string) *dynamodb.Client {
		return dynamodb.New(dynamodb.Options{
			Region: localstack.Region, BaseEndpoint: aws.String(u),
			Credentials:                     credentials.NewStaticCredentialsProvider(localstack.AccessKeyID, localstack.SecretAccessKey, ""),
			DisableValidateResponseChecksum: true,
		})
	}
	if o.URL != "" {
		if u, err := url.Parse(o.URL); err != nil || !loopback(u.Hostname()) {
			return nil, fmt.Errorf("-url %q: the load generator only targets loopback addresses", o.URL)
		}
		state := o.StateDir
		if state == "" {
			state = filepath.Join(o.RepoRoot, ".local")
		}
		ri, ok := localstack.Running(state)
		if !ok {
			return nil, fmt.Errorf("no running stack in %s (start `make run`, or leave -url empty)", state)
		}
		iss, err := localstack.OpenIssuer(state)
		if err != nil {
			return nil, err
		}
		return &target{api: strings.TrimRight(o.URL, "/"), issuer: iss, db: dbClient(ri.DynamoDB), dbURL: ri.DynamoDB, table: tpl.Table.Name,
			logFile: filepath.Join(state, "logs", "ApiFunction.log"), stop: func() {}}, nil
	}
	work, err := os.MkdirTemp("", "microcert-load-")
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(work, "bin")
	fmt.Fprintf(o.Log, "load: building the bootstraps\n")
	if err := localstack.Build(ctx, o.RepoRoot, bin); err != nil {
		os.RemoveAll(work)
		return nil, err
	}
	sctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	st, err := localstack.Start(sctx, localstack.Options{
		RepoRoot:         o.RepoRoot,
		StateDir:         filepath.Join(work, "state"),
		BinDir:           bin,
		APIAddr:          "127.0.0.1:0",
		PoolSize:         1,
		PoolSizes:        map[string]int{"ApiFunction": o.ApiPool, "DocCheckFunction": o.DocCheckPool},
		DisableSchedules: true,
		Logger:           slog.New(slog.NewTextHandler(o.Log, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		os.RemoveAll(work)
		return nil, err
	}
	iss, err := localstack.OpenIssuer(st.StateDir()) // the key the stack signs with
	if err != nil {
		_ = st.Close()
		os.RemoveAll(work)
		return nil, err
	}
	return &target{api: st.APIURL(), issuer: iss, db: st.DynamoDB(), dbURL: st.DynamoDBURL(), table: st.TableName(),
		logFile: filepath.Join(st.StateDir(), "logs", "ApiFunction.log"),
		stop: func() {
			_ = st.Close()
			os.RemoveAll(work)
		}}, nil
}

func loopback(host string) bool {
	return host == "localhost" || strings.HasPrefix(host, "127.") || host == "::1"
}

type sample struct {
	phase     string
	route     string
	requestID string
	ms        float64
}

type gen struct {
	tg     *target
	client *http.Client
	seed   int64
	ids    atomic.Int64
	scans  [][]byte
	flows  atomic.Int64
	root   string
	rawBin string
	// cleanup runs when the run ends.
	cleanup []func()

	mu         sync.Mutex
	samples    []sample
	errors     int
	errSamples []string
	pairs      []pair // quiet phases
}

type pair struct {
	phase      string
	requestID  string
	clientMs   float64
	rawMs      float64
	rawNoCRCMs float64
	getItemMs  float64
}

func (g *gen) fail(format string, a ...any) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.errors++
	if len(g.errSamples) < 10 {
		g.errSamples = append(g.errSamples, fmt.Sprintf(format, a...))
	}
}

// call sends one request and records it under route; it returns the
// status and body (nil body on transport errors, which count as errors).
func (g *gen) call(ctx context.Context, phase, route, method, path, token string, body any, want int) (map[string]any, string, bool) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, g.tg.api+path, rd)
	if err != nil {
		g.fail("%s: %v", route, err)
		return nil, "", false
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	start := time.Now()
	resp, err := g.client.Do(req)
	if err != nil {
		g.fail("%s: %v", route, err)
		return nil, "", false
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	ms := float64(time.Since(start).Microseconds()) / 1000
	rid := resp.Header.Get("X-Request-Id")
	g.mu.Lock()
	g.samples = append(g.samples, sample{phase: phase, route: route, requestID: rid, ms: ms})
	g.mu.Unlock()
	if resp.StatusCode != want {
		g.fail("%s: status %d, want %d: %.300s", route, resp.StatusCode, want, b)
		return nil, rid, false
	}
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out, rid, true
}

func (g *gen) enterpriseBody() map[string]any {
	n := int(g.seed + g.ids.Add(1))
	return map[string]any{
		"name": "深圳市压测科技有限公司", "uscc": domain.SampleUSCC(n),
		"legalRep":          map[string]any{"name": "张三", "idNumber": domain.SampleIDNumber(n), "phone": "13812345678"},
		"registeredAddress": "广东省深圳市南山区科技园路1号", "operatingAddress": "广东省深圳市南山区科技园路1号",
		"regionCode": "440300", "hasCorporateAccount": true,
	}
}

func s(m map[string]any, k string) string { v, _ := m[k].(string); return v }

// flow is one applicant's first application, up to a verified face.
func (g *gen) flow(ctx context.Context, app, n int) {
	tok, err := g.tg.issuer.Token("applicant", fmt.Sprintf("load-app-%d", app))
	if err != nil {
		g.fail("token: %v", err)
		return
	}
	const ph = "load"
	ent, _, ok := g.call(ctx, ph, "POST /v1/enterprises", "POST", "/v1/enterprises", tok, g.enterpriseBody(), 201)
	if !ok {
		return
	}
	cs, _, ok := g.call(ctx, ph, "POST /v1/cases", "POST", "/v1/cases", tok,
		map[string]any{"enterpriseId": s(ent, "id"), "kind": "initial", "types": []string{"wecom"}}, 201)
	if !ok {
		return
	}
	caseID := s(cs, "id")
	if _, _, ok := g.call(ctx, ph, "GET /v1/cases/{caseId}", "GET", "/v1/cases/"+caseID, tok, nil, 200); !ok {
		return
	}
	scan := g.scans[n%len(g.scans)]
	up, _, ok := g.call(ctx, ph, "POST /v1/cases/{caseId}/documents", "POST", "/v1/cases/"+caseID+"/documents", tok,
		map[string]any{"docType": "business_license", "contentType": "image/jpeg", "contentLength": len(scan)}, 201)
	if !ok {
		return
	}
	if !g.postFile(ctx, up, scan) {
		return
	}
	docID := s(up, "documentId")
	deadline := time.Now().Add(60 * time.Second)
	for {
		var page struct {
			Items []struct {
				ID    string `json:"id"`
				Check struct {
					Status string `json:"status"`
				} `json:"check"`
			} `json:"items"`
		}
		out, _, ok := g.call(ctx, ph, "GET /v1/cases/{caseId}/documents", "GET", "/v1/cases/"+caseID+"/documents", tok, nil, 200)
		if !ok {
			return
		}
		b, _ := json.Marshal(out)
		_ = json.Unmarshal(b, &page)
		done := false
		for _, d := range page.Items {
			if d.ID == docID && d.Check.Status != "" && d.Check.Status != "pending" {
				done = true
			}
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			g.fail("document %s not checked within 60s", docID)
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	face, _, ok := g.call(ctx, ph, "POST /v1/cases/{caseId}/face-verification", "POST", "/v1/cases/"+caseID+"/face-verification", tok, nil, 201)
	if !ok {
		return
	}
	if _, _, ok := g.call(ctx, ph, "POST /_sandbox/face (-> POST /v1/callbacks/face)", "POST", "/_sandbox/face", "",
		map[string]any{"sessionId": s(face, "sessionId"), "result": "pass", "phoneMatchesRegistration": true}, 200); !ok {
		return
	}
	if _, _, ok := g.call(ctx, ph, "GET /v1/cases/{caseId}", "GET", "/v1/cases/"+caseID, tok, nil, 200); !ok {
		return
	}
	g.flows.Add(1)
}

// postFile sends the scan with the presigned POST, as the app does.
func (g *gen) postFile(ctx context.Context, up map[string]any, content []byte) bool {
	u := s(up, "url")
	if pu, err := url.Parse(u); err != nil || !loopback(pu.Hostname()) {
		g.fail("presigned POST url %q is not on loopback", u)
		return false
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fields, _ := up["fields"].(map[string]any)
	for k, v := range fields {
		_ = w.WriteField(k, fmt.Sprint(v))
	}
	fw, _ := w.CreateFormFile("file", "scan.jpg")
	_, _ = fw.Write(content)
	_ = w.Close()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	start := time.Now()
	resp, err := g.client.Do(req)
	if err != nil {
		g.fail("presigned POST: %v", err)
		return false
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	ms := float64(time.Since(start).Microseconds()) / 1000
	g.mu.Lock()
	g.samples = append(g.samples, sample{phase: "load", route: "S3 presigned POST (versitygw)", ms: ms})
	g.mu.Unlock()
	if resp.StatusCode/100 != 2 {
		g.fail("presigned POST: %d %.300s", resp.StatusCode, b)
		return false
	}
	return true
}

// quiet times GET case through the whole stack and the same reads straight
// against DynamoDB from a separate process (rawstore), alternately, one at
// a time.
func (g *gen) quiet(ctx context.Context, n int) (Overhead, error) {
	phase := fmt.Sprintf("quiet-%d", time.Now().UnixNano())
	tok, err := g.tg.issuer.Token("applicant", "load-quiet")
	if err != nil {
		return Overhead{}, err
	}
	ent, _, ok := g.call(ctx, phase, "POST /v1/enterprises", "POST", "/v1/enterprises", tok, g.enterpriseBody(), 201)
	if !ok {
		return Overhead{}, fmt.Errorf("create enterprise: %v", g.errSamples)
	}
	cs, _, ok := g.call(ctx, phase, "POST /v1/cases", "POST", "/v1/cases", tok,
		map[string]any{"enterpriseId": s(ent, "id"), "kind": "initial", "types": []string{"wecom"}}, 201)
	if !ok {
		return Overhead{}, fmt.Errorf("open case: %v", g.errSamples)
	}
	caseID := s(cs, "id")
	raw, stopRaw, err := g.rawStore(ctx)
	if err != nil {
		return Overhead{}, err
	}
	defer stopRaw()
	// Warm both paths (connections, the emulators' first invokes).
	for range 10 {
		g.call(ctx, phase+"-warm", "GET /v1/cases/{caseId}", "GET", "/v1/cases/"+caseID, tok, nil, 200)
		if _, err := raw(caseID); err != nil {
			return Overhead{}, err
		}
	}
	for range n {
		_, rid, ok := g.call(ctx, phase, "GET /v1/cases/{caseId}", "GET", "/v1/cases/"+caseID, tok, nil, 200)
		if !ok {
			continue
		}
		rt, err := raw(caseID)
		if err != nil {
			return Overhead{}, err
		}
		g.mu.Lock()
		cms := g.samples[len(g.samples)-1].ms
		g.pairs = append(g.pairs, pair{phase: phase, requestID: rid, clientMs: cms, rawMs: rt.reads, rawNoCRCMs: rt.readsNoCRC, getItemMs: rt.getItem})
		g.mu.Unlock()
	}
	items, err := countItems(ctx, g.tg.db, g.tg.table)
	if err != nil {
		return Overhead{}, err
	}
	return Overhead{TableItems: items, phase: phase}, nil
}

// rawStore starts infra/bench/load/rawstore (built once) against the
// stack's DynamoDB and returns a function that times one case's reads.
// rawTimes is one answer of rawstore, in ms.
type rawTimes struct{ reads, readsNoCRC, getItem float64 }

func (g *gen) rawStore(ctx context.Context) (func(caseID string) (rawTimes, error), func(), error) {
	if g.rawBin == "" {
		dir, err := os.MkdirTemp("", "rawstore-")
		if err != nil {
			return nil, nil, err
		}
		g.cleanup = append(g.cleanup, func() { os.RemoveAll(dir) })
		bin := filepath.Join(dir, "rawstore")
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, "./load/rawstore")
		cmd.Dir = filepath.Join(g.root, "infra", "bench") // the benchmarks' module
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, nil, fmt.Errorf("build rawstore: %w\n%s", err, out)
		}
		g.rawBin = bin
	}
	cmd := exec.Command(g.rawBin)
	// The functions' environment for their SDK client: endpoint, region,
	// dummy credentials, no shared config files.
	cmd.Env = []string{"PATH=/usr/bin:/bin", "TZ=UTC", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_REGION=" + localstack.Region, "AWS_DEFAULT_REGION=" + localstack.Region,
		"AWS_ACCESS_KEY_ID=" + localstack.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + localstack.SecretAccessKey,
		"AWS_ENDPOINT_URL_DYNAMODB=" + g.tg.dbURL, "TABLE_NAME=" + g.tg.table}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	// Its SDK warnings (the stand-in's missing CRC32) go nowhere; the
	// functions' go to their log through the emulator.
	cmd.Stderr = nil
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	rd := bufio.NewScanner(stdout)
	stop := func() {
		stdin.Close()
		_ = cmd.Wait()
	}
	return func(caseID string) (rawTimes, error) {
		if _, err := fmt.Fprintln(stdin, caseID); err != nil {
			return rawTimes{}, err
		}
		if !rd.Scan() {
			return rawTimes{}, fmt.Errorf("rawstore: no answer: %v", rd.Err())
		}
		var t rawTimes
		if _, err := fmt.Sscanf(rd.Text(), "%f %f %f", &t.reads, &t.readsNoCRC, &t.getItem); err != nil {
			return rawTimes{}, fmt.Errorf("rawstore: %s", rd.Text())
		}
		return t, nil
	}, stop, nil
}

func (g *gen) fillOverhead(o *Overhead, handler map[string]float64) {
	var hs, rs, ds, gs, cs, ns []float64
	for _, p := range g.pairs {
		if p.phase != o.phase {
			continue
		}
		h, ok := handler[p.requestID]
		if !ok {
			continue
		}
		hs, rs, ds, gs, cs = append(hs, h), append(rs, p.rawMs), append(ds, h-p.rawMs), append(gs, p.getItemMs), append(cs, p.clientMs)
		ns = append(ns, p.rawNoCRCMs)
	}
	o.RawStoreNoCRCP50 = pct(ns, 50)
	o.N = len(hs)
	o.HandlerP50, o.RawStoreP50, o.DiffP50, o.RawGetItemP50, o.ClientP50 = pct(hs, 50), pct(rs, 50), pct(ds, 50), pct(gs, 50), pct(cs, 50)
}

// countItems counts the table's items (a Scan: only the benchmark does it,
// to say how large the table was).
func countItems(ctx context.Context, db *dynamodb.Client, table string) (int, error) {
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table), Select: types.SelectCount})
	n := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return 0, err
		}
		n += int(out.Count)
	}
	return n, nil
}

// readHandlerLog maps requestId -> ms from ApiFunction's `request` lines.
func readHandlerLog(path string) (map[string]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("function log: %w", err)
	}
	defer f.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.Contains(line, []byte(`"msg":"request"`)) {
			continue
		}
		var l struct {
			RequestID string   `json:"requestId"`
			Ms        *float64 `json:"ms"`
		}
		if json.Unmarshal(line, &l) != nil || l.Ms == nil || l.RequestID == "" {
			continue
		}
		out[l.RequestID] = *l.Ms
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("no `request` lines with ms in " + path)
	}
	return out, nil
}

// pct is the p-th percentile (nearest rank); 0 for no data.
func pct(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	i := int(p/100*float64(len(s))+0.5) - 1
	i = max(0, min(i, len(s)-1))
	return s[i]
}

// Format renders a result as Markdown.
func Format(r *Result) string {
	var b strings.Builder
	pool := "the running stack's"
	if r.ApiPool > 0 {
		pool = fmt.Sprintf("ApiFunction %d, DocCheckFunction %d", r.ApiPool, r.DocCheckPool)
	}
	fmt.Fprintf(&b, "%d apps, %d flows in %.1f s: %.1f requests/s (%.2f flows/s), %d requests, **%d errors**; emulator pools: %s.\n\n",
		r.Apps, r.FlowsDone, r.Elapsed.Seconds(), r.RequestsPerSec, r.FlowsPerSec, r.Requests, r.Errors, pool)
	for _, e := range r.ErrorSamples {
		fmt.Fprintf(&b, "- error: `%s`\n", e)
	}
	if len(r.ErrorSamples) > 0 {
		b.WriteString("\n")
	}
	b.WriteString("| route | n | client p50 ms | client p99 ms | handler p50 ms | handler p99 ms | handler / client at p50 |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|\n")
	for _, rs := range r.Routes {
		h50, h99, share := "-", "-", "-"
		if rs.HandlerN > 0 {
			h50, h99 = fmt.Sprintf("%.2f", rs.HandlerP50), fmt.Sprintf("%.2f", rs.HandlerP99)
			if rs.P50 > 0 {
				share = fmt.Sprintf("%.0f%%", 100*rs.HandlerP50/rs.P50)
			}
		}
		fmt.Fprintf(&b, "| `%s` | %d | %.1f | %.1f | %s | %s | %s |\n", rs.Route, rs.N, rs.P50, rs.P99, h50, h99, share)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "Handler time of all API requests under load: p50 %.2f ms, p99 %.2f ms.\n\n", r.HandlerP50, r.HandlerP99)
	b.WriteString("Handler vs raw store round trip, `GET /v1/cases/{caseId}` one request at a time: the handler's own `ms` (ApiFunction's log) beside its two reads (GetCaseBundle + GetEnterprise) timed straight against the local DynamoDB right after each request by a separate process (infra/bench/load/rawstore) whose client is built by `shared/config` from the functions' environment, i.e. exactly like the handler's:\n\n")
	b.WriteString("| phase | table items | n | handler p50 ms | raw store p50 ms | handler / raw | **overhead p50 ms** (handler - raw) | p50 of per-pair difference ms | raw store, CRC32 check off, p50 ms | one GetItem p50 ms | client p50 ms | budget <= 0.5 ms |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, ph := range []struct {
		name string
		o    Overhead
	}{{"before load", r.Before}, {"after load", r.After}} {
		o := ph.o
		ratio := 0.0
		if o.RawStoreP50 > 0 {
			ratio = o.HandlerP50 / o.RawStoreP50
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %.2f | %.2f | %.2fx | **%.2f** | %.2f | %.2f | %.2f | %.1f | %s |\n", ph.name, o.TableItems, o.N,
			o.HandlerP50, o.RawStoreP50, ratio, o.OverheadP50(), o.DiffP50, o.RawStoreNoCRCP50, o.RawGetItemP50, o.ClientP50, verdict(o.OverheadP50() <= MaxHandlerOverheadMs))
	}
	return b.String()
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}
