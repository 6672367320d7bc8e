package stacktest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"microcert/infra/localstack"
)

// childEnv carries a child's options: set, the test binary serves a stack
// instead of running tests (see ServeIfChild).
const childEnv = "MICROCERT_STACKTEST_CHILD"

type childOptions struct {
	RepoRoot string `json:"repoRoot"`
	StateDir string `json:"stateDir"`
	BinDir   string `json:"binDir"`
}

// ServeIfChild must be the first thing TestMain does in a package that uses
// StartProcess. In a process started by StartProcess it serves a stack until
// SIGTERM (a clean stop) or SIGKILL and exits; elsewhere it returns at once.
func ServeIfChild() {
	raw := os.Getenv(childEnv)
	if raw == "" {
		return
	}
	var o childOptions
	if err := json.Unmarshal([]byte(raw), &o); err != nil {
		fmt.Fprintln(os.Stderr, "stacktest child:", err)
		os.Exit(2)
	}
	logFile, err := os.OpenFile(filepath.Join(o.StateDir, "child.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, "stacktest child:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	st, err := localstack.Start(ctx, localstack.Options{
		RepoRoot:         o.RepoRoot,
		StateDir:         o.StateDir,
		BinDir:           o.BinDir,
		APIAddr:          "127.0.0.1:0",
		PoolSize:         1,
		DisableSchedules: true,
		RetryBackoff:     []time.Duration{200 * time.Millisecond, 400 * time.Millisecond},
		Logger:           slog.New(slog.NewJSONHandler(logFile, nil)),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "stacktest child: start:", err)
		os.Exit(1)
	}
	<-ctx.Done()
	code := 0
	if err := st.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "stacktest child: close:", err)
		code = 1
	}
	os.Exit(code)
}

// Process is a stack running in a process of its own, which a test can kill
// the way an operator's kill -9 (or a crash) does.
type Process struct {
	Info     localstack.RunInfo // its addresses, once it serves
	StateDir string
	cmd      *exec.Cmd
	exited   chan struct{}
	output   string
}

// StartProcess starts a stack on stateDir in a new process (this test binary
// again; its TestMain calls ServeIfChild) and returns once it serves. The
// process is killed at cleanup if it still runs.
func StartProcess(t testing.TB, stateDir string) *Process {
	t.Helper()
	root := build(t)
	opts, _ := json.Marshal(childOptions{RepoRoot: root, StateDir: stateDir, BinDir: BinDir(root)})
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := &Process{StateDir: stateDir, exited: make(chan struct{}), output: filepath.Join(stateDir, "child.out")}
	out, err := os.Create(p.output)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(os.Args[0], "-test.run=^$")
	p.cmd.Env = append(os.Environ(), childEnv+"="+string(opts))
	p.cmd.Stdout, p.cmd.Stderr = out, out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = p.cmd.Wait()
		out.Close()
		close(p.exited)
	}()
	t.Cleanup(func() { p.signal(t, syscall.SIGKILL) })

	deadline := time.After(2 * time.Minute)
	for {
		if ri, ok := localstack.Running(stateDir); ok && ri.PID == p.cmd.Process.Pid {
			p.Info = ri
			return p
		}
		select {
		case <-p.exited:
			t.Fatalf("stack process exited before serving:\n%s", p.Output())
		case <-deadline:
			t.Fatalf("stack process not serving after 2 minutes:\n%s", p.Output())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Kill sends SIGKILL: nothing runs after it, as in a crash.
func (p *Process) Kill(t testing.TB) { t.Helper(); p.signal(t, syscall.SIGKILL) }

// Stop sends SIGTERM: the stack stops cleanly, as on Ctrl-C.
func (p *Process) Stop(t testing.TB) { t.Helper(); p.signal(t, syscall.SIGTERM) }

// signal sends sig and waits for the process and its children to be gone.
func (p *Process) signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
	case <-time.After(time.Minute):
		t.Errorf("stack process did not exit a minute after %v", sig)
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	// Its children (versitygw, the emulators) get SIGKILL from the kernel as
	// it dies (Pdeathsig).
}

// Output is what the process printed (a start failure).
func (p *Process) Output() string {
	f, err := os.Open(p.output)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	return string(b)
}

// Token returns a bearer token of the stack's issuer (kept in the state
// folder, so it stays valid across restarts on it).
func (p *Process) Token(t testing.TB, role, user string) string {
	t.Helper()
	iss, err := localstack.OpenIssuer(p.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := iss.Token(role, user)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
