package localstack

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSpawnRetriesATakenPort: the port chosen for an emulator is taken by
// another process before the emulator binds it (as when two stacks start at
// once). The emulator must not mistake the other listener for itself, and
// must come up on other ports.
func TestSpawnRetriesATakenPort(t *testing.T) {
	rie := filepath.Join(repoRoot, "bin", "aws-lambda-rie")
	if _, err := os.Stat(rie); err != nil {
		t.Skip("aws-lambda-rie is not installed (make tools)")
	}
	thief, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer thief.Close()
	go func() { // answers like a listener would
		for {
			c, err := thief.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	taken := thief.Addr().String()

	logs, err := openLineLog(filepath.Join(t.TempDir(), "fn.log"), 100)
	if err != nil {
		t.Fatal(err)
	}
	defer logs.close()
	picks := 0
	f := newFunction("TestFunction", rie, t.TempDir(), []string{"PATH=" + os.Getenv("PATH")}, 3*time.Second, 1, logs,
		slog.New(slog.NewJSONHandler(io.Discard, nil)))
	f.pickAddrs = func() ([]string, error) {
		picks++
		if picks == 1 {
			free, err := freeAddr()
			return []string{taken, free}, err
		}
		return freeAddrs(2)
	}
	w, err := f.spawn(context.Background())
	if err != nil {
		t.Fatalf("spawn: %v", err)
	}
	defer f.stop()
	if picks < 2 {
		t.Fatalf("picked ports %d times; the first pick was taken", picks)
	}
	if strings.Contains(w.url, taken) {
		t.Fatalf("worker %s is the other process's listener", w.url)
	}
	if ok, err := listensOn(w.child.cmd.Process.Pid, portOf(t, w.url)); err != nil || !ok {
		t.Fatalf("the emulator does not listen on its own address %s: %v %v", w.url, ok, err)
	}
}

func portOf(t *testing.T, url string) int {
	t.Helper()
	host := strings.TrimPrefix(url, "http://")
	host, _, _ = strings.Cut(host, "/")
	_, p, err := net.SplitHostPort(host)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range p {
		n = n*10 + int(c-'0')
	}
	return n
}

// TestListensOn tells this process's listener from another process's.
func TestListensOn(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	mine, err := listensOn(os.Getpid(), port)
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	if !mine {
		t.Errorf("this process's listener on %d not found", port)
	}
	other, err := listensOn(os.Getppid(), port)
	if err != nil || other {
		t.Errorf("the parent process listens on %d: %v %v", port, other, err)
	}
	free, _ := freeAddr()
	_, p, _ := net.SplitHostPort(free)
	if got, err := listensOn(os.Getpid(), portOf(t, "http://"+free)); err != nil || got {
		t.Errorf("nobody listens on %s, got %v %v", p, got, err)
	}
}
