package localstack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
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

// errExitedEarly is waitTCP's error for a child that exited before it
// listened, typically because another process took the port freeAddr chose
// in the meantime: the caller starts it again on another port.
var errExitedEarly = errors.New("exited before listening")

// waitTCP waits until something accepts connections at addr, or the child exits.
func waitTCP(ctx context.Context, addr string, c *child, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			conn.Close()
			return nil
		}
		if c != nil && c.exited() {
			return fmt.Errorf("%s %w on %s: %v", c.name, errExitedEarly, addr, c.err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: nothing listens on %s after %s", c.name, addr, timeout)
		case <-time.After(25 * time.Millisecond):
		}
	}
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
