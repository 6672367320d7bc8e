// Package e2e drives the local stack over HTTP the way the mobile apps,
// reviewers' consoles and providers do. Most tests share one stack started
// in TestMain (each test makes its own enterprises and users, so they do not
// see each other's data); tests about the stack itself start their own.
package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
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
