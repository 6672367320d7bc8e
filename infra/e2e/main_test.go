// Package e2e drives the local stack over HTTP the way the mobile apps,
// reviewers' consoles and providers do. Most tests share one stack started
// in TestMain (each test makes its own enterprises and users, so they do not
// see each other's data); tests about the stack itself start their own.
//
// Every test says first which it is (TestEveryTestSaysItsStack checks it):
// onShared(t), ownStack(t) or noStack(t). The shared stack's tests run one
// at a time: on two cores that stack is CPU-bound, and side by side they
// only slow each other down. Beside them run the tests with stacks of their
// own, two at a time: those mostly wait (for retries, leases, restarts,
// injected timeouts), so the waits overlap the shared stack's work instead
// of adding to it.
package e2e

import (
	"context"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"microcert/infra/localstack"
	"microcert/infra/localstack/stacktest"
	"microcert/infra/template"
)

// shared is the stack most tests use.
var shared *localstack.Stack

func TestMain(m *testing.M) {
	stacktest.ServeIfChild() // a stack process of TestKilledStack...: serves, never returns
	os.Exit(run(m))
}

func run(m *testing.M) int {
	// The turns below bound how many tests run at once; go test's own
	// -parallel (GOMAXPROCS by default) would otherwise let tests waiting
	// for the shared stack's turn hold every slot. An explicit -parallel
	// still wins.
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		_ = flag.Set("test.parallel", "1000")
	}
	root, err := template.RepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin := filepath.Join(root, "bin", "lambda-test")
	if err := localstack.Build(ctx, root, bin); err != nil {
		fmt.Fprintln(os.Stderr, "build bootstraps:", err)
		return 1
	}
	state, err := os.MkdirTemp("", "microcert-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(state)
	shared, err = localstack.Start(ctx, localstack.Options{
		RepoRoot:         root,
		StateDir:         state,
		BinDir:           bin,
		APIAddr:          "127.0.0.1:0",
		PoolSize:         2,
		PoolSizes:        map[string]int{"ApiFunction": 4},
		DisableSchedules: true,
		RetryBackoff:     []time.Duration{200 * time.Millisecond, 400 * time.Millisecond},
		Logger:           slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start local stack:", err)
		return 1
	}
	code := m.Run()
	if err := shared.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "close local stack:", err)
	}
	return code
}

var (
	// sharedTurn lets one test at a time drive the shared stack.
	sharedTurn sync.Mutex
	// ownTurns lets two tests at a time run stacks of their own.
	ownTurns = make(chan struct{}, 2)
)

// onShared marks a test that drives the shared stack: it waits for its
// turn, and holds it until it and its subtests are done. Each turn starts
// with an empty table (localstack.Stack.ResetData says why).
func onShared(t *testing.T) {
	t.Parallel()
	sharedTurn.Lock()
	t.Cleanup(sharedTurn.Unlock)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := shared.ResetData(ctx); err != nil {
		t.Fatal("empty the shared stack's table: ", err)
	}
}

// ownStack marks a test that starts stacks of its own: it runs beside the
// shared stack's tests, with at most one other such test.
func ownStack(t *testing.T) {
	t.Parallel()
	ownTurns <- struct{}{}
	t.Cleanup(func() { <-ownTurns })
}

// noStack marks a test that starts no stack and drives none (it reads
// the repository's files): it runs whenever it likes.
func noStack(t *testing.T) { t.Parallel() }

var users atomic.Int64

// newApp is a client of the shared stack with a token for role. An empty
// user gets a fresh user id, so tests never share an owner by accident.
func newApp(t testing.TB, role, user string) *app {
	t.Helper()
	if user == "" {
		user = fmt.Sprintf("%s-%d-%d", role, time.Now().UnixNano()%1e9, users.Add(1))
	}
	tok, err := shared.Token(role, user)
	if err != nil {
		t.Fatal(err)
	}
	return &app{t: t, base: shared.APIURL(), token: tok, user: user}
}

// TestEveryTestSaysItsStack: a test that forgot to say which stack it
// drives would run on its own before all the others, or drive the shared
// stack beside another test.
func TestEveryTestSaysItsStack(t *testing.T) {
	noStack(t)
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || !strings.HasPrefix(fn.Name.Name, "Test") || fn.Name.Name == "TestMain" {
				continue
			}
			if !saysItsStack(fn) {
				t.Errorf("%s: %s must begin with onShared(t), ownStack(t) or noStack(t)", fset.Position(fn.Pos()), fn.Name.Name)
			}
		}
	}
}

func saysItsStack(fn *ast.FuncDecl) bool {
	if fn.Body == nil || len(fn.Body.List) == 0 {
		return false
	}
	st, ok := fn.Body.List[0].(*ast.ExprStmt)
	if !ok {
		return false
	}
	call, ok := st.X.(*ast.CallExpr)
	if !ok {
		return false
	}
	id, ok := call.Fun.(*ast.Ident)
	return ok && (id.Name == "onShared" || id.Name == "ownStack" || id.Name == "noStack")
}
