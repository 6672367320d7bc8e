package localstack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// child is a process the stack started. Each runs in its own process group so
// that stopping it also stops what it started (aws-lambda-rie's bootstrap).
type child struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error // set before done closes
}

func startChild(name string, cmd *exec.Cmd) (*child, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid: true,
		// If this process dies without Close (a killed test binary), the
		// kernel stops the children too.
		Pdeathsig: syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

// exited reports whether the process has ended.
func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the process group, then SIGKILL after grace.
func (c *child) stop(grace time.Duration) {
	if c == nil || c.exited() {
		return
	}
	pgid := -c.cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(grace):
		_ = syscall.Kill(pgid, syscall.SIGKILL)
		<-c.done
	}
	// The group may outlive its leader (a bootstrap that ignores SIGTERM).
	_ = syscall.Kill(pgid, syscall.SIGKILL)
}

// freeAddr returns a loopback address with a port free right now, for child
// processes that must be told their port before they listen.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// errExitedEarly: the child ended before it listened, most likely because
// another process took its port between freeAddr and the child's bind.
var errExitedEarly = errors.New("exited before listening")

// waitListening waits until the child itself listens on addr. Something else
// answering there (another stack's child that won the port) does not count:
// our child will fail its bind and exit, and the caller retries elsewhere.
func waitListening(ctx context.Context, addr string, c *child, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return err
	}
	for {
		// A connection first (cheap), and only when something answers the
		// ownership from /proc: reading /proc/net/tcp is a walk of every
		// socket of the machine, and polling it cost a test run seconds
		// of CPU.
		owned := false
		if conn, derr := net.DialTimeout("tcp", addr, 200*time.Millisecond); derr == nil {
			conn.Close()
			var err error
			if owned, err = listensOn(c.cmd.Process.Pid, port); err != nil {
				owned = true // no /proc to tell whose socket it is: any listener will do
			}
		}
		if owned && !c.exited() {
			return nil
		}
		if c.exited() {
			return fmt.Errorf("%s %w on %s: %v", c.name, errExitedEarly, addr, c.err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: not listening on %s after %s", c.name, addr, timeout)
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// startOnFreePorts starts a child on ports chosen for it (pick) and waits
// until it listens on the first. Choosing a free port and the child binding
// it cannot be one step, so another process may take the port in between
// (two stacks, tests in parallel); then the child exits, and it is started
// again on fresh ports, up to attempts times.
func startOnFreePorts(ctx context.Context, attempts int, pick func() ([]string, error),
	start func(addrs []string) (*child, error), timeout time.Duration, logger *slog.Logger,
) (*child, []string, error) {
	var last error
	for range attempts {
		addrs, err := pick()
		if err != nil {
			return nil, nil, err
		}
		c, err := start(addrs)
		if err != nil {
			return nil, nil, err
		}
		err = waitListening(ctx, addrs[0], c, timeout)
		if err == nil {
			return c, addrs, nil
		}
		c.stop(time.Second)
		if !errors.Is(err, errExitedEarly) {
			return nil, nil, err
		}
		logger.Warn("port taken before the child bound it: retrying on other ports", "child", c.name, "addrs", addrs, "err", err)
		last = err
	}
	return nil, nil, fmt.Errorf("after %d attempts: %w", attempts, last)
}

// freeAddrs returns n loopback addresses free right now.
func freeAddrs(n int) ([]string, error) {
	out := make([]string, 0, n)
	for range n {
		a, err := freeAddr()
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// listensOn reports whether process pid holds a listening TCP socket on port,
// from Linux's /proc (an error where there is none).
func listensOn(pid, port int) (bool, error) {
	inodes := map[string]bool{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(table)
		if err != nil {
			if table == "/proc/net/tcp" {
				return false, err
			}
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 10 || f[3] != "0A" { // 0A: LISTEN
				continue
			}
			_, hexPort, _ := strings.Cut(f[1], ":")
			if p, err := strconv.ParseUint(hexPort, 16, 32); err == nil && int(p) == port {
				inodes["socket:["+f[9]+"]"] = true
			}
		}
	}
	if len(inodes) == 0 {
		return false, nil
	}
	fdDir := fmt.Sprintf("/proc/%d/fd", pid)
	fds, err := os.ReadDir(fdDir)
	if err != nil {
		return false, err
	}
	for _, fd := range fds {
		if link, err := os.Readlink(fdDir + "/" + fd.Name()); err == nil && inodes[link] {
			return true, nil
		}
	}
	return false, nil
}

// lineLog collects whole lines from several processes into one file (and
// memory for tests): each process gets its own writer so that concurrent
// output never interleaves within a line.
type lineLog struct {
	mu    sync.Mutex
	file  *os.File
	lines []string
	max   int
}

func openLineLog(path string, max int) (*lineLog, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &lineLog{file: f, max: max}, nil
}

func (l *lineLog) add(line []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = l.file.Write(append(line, '\n'))
	if len(l.lines) >= l.max {
		l.lines = l.lines[len(l.lines)-l.max/2:]
	}
	l.lines = append(l.lines, string(line))
}

func (l *lineLog) snapshot() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

func (l *lineLog) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.file.Close()
}

// writer returns an io.Writer for one process.
func (l *lineLog) writer() io.WriteCloser { return &lineWriter{log: l} }

type lineWriter struct {
	log *lineLog
	buf []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.log.add(bytes.TrimRight(w.buf[:i], "\r"))
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

func (w *lineWriter) Close() error {
	if len(w.buf) > 0 {
		w.log.add(w.buf)
		w.buf = nil
	}
	return nil
}

// errAll joins errors, skipping nils.
func errAll(errs ...error) error { return errors.Join(errs...) }
