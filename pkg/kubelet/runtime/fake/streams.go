package fake

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kl-dev/kl/pkg/kubelet/prober"
	"github.com/kl-dev/kl/pkg/kubelet/runtime"
)

var _ prober.Prober = (*Runtime)(nil)

// ContainerLogs implements runtime.Runtime.
func (r *Runtime) ContainerLogs(ctx context.Context, id string, opts runtime.LogOptions) (io.ReadCloser, error) {
	r.mu.Lock()
	c, ok := r.containers[id]
	if !ok {
		r.mu.Unlock()
		return nil, fmt.Errorf("logs of container %s: %w", short(id), runtime.ErrNotFound)
	}
	lines := selectLines(c.Logs, opts)
	next := len(c.Logs)
	r.mu.Unlock()

	var first bytes.Buffer
	for _, l := range lines {
		writeLine(&first, l, opts.Timestamps)
	}
	if !opts.Follow {
		data := first.Bytes()
		if opts.LimitBytes > 0 && int64(len(data)) > opts.LimitBytes {
			data = data[:opts.LimitBytes]
		}
		return io.NopCloser(bytes.NewReader(data)), nil
	}

	pr, pw := io.Pipe()
	stop := make(chan struct{})
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		defer cancel()
		w := io.Writer(pw)
		if opts.LimitBytes > 0 {
			w = &limitWriter{w: pw, n: opts.LimitBytes}
		}
		if _, err := w.Write(first.Bytes()); err != nil {
			pw.CloseWithError(err)
			return
		}
		for {
			r.mu.Lock()
			c, ok := r.containers[id]
			if !ok {
				r.mu.Unlock()
				pw.Close()
				return
			}
			// Lines dropped from the front since the last read shift
			// the index; never go backwards.
			if next > len(c.Logs) {
				next = len(c.Logs)
			}
			var buf bytes.Buffer
			for _, l := range c.Logs[next:] {
				writeLine(&buf, l, opts.Timestamps)
			}
			next = len(c.Logs)
			exited := c.State == runtime.ContainerExited
			changed := c.changedLocked()
			r.mu.Unlock()
			if buf.Len() > 0 {
				if _, err := w.Write(buf.Bytes()); err != nil {
					pw.CloseWithError(err)
					return
				}
			}
			if exited {
				pw.Close()
				return
			}
			select {
			case <-changed:
			case <-ctx.Done():
				pw.CloseWithError(ctx.Err())
				return
			case <-stop:
				pw.Close()
				return
			case <-r.done:
				pw.Close()
				return
			}
		}
	}()
	return &followReader{PipeReader: pr, stop: stop}, nil
}

// WriteLog appends text (one or more lines) to the log of container id, as
// if the container had written it to stream ("stdout" or "stderr") now;
// followers of the log receive it. Tests of log streaming use it.
func (r *Runtime) WriteLog(id, stream, text string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.containers[id]
	if !ok {
		return fmt.Errorf("write log of container %s: %w", short(id), runtime.ErrNotFound)
	}
	r.appendLogLocked(c, time.Now(), stream, text)
	r.markDirtyLocked()
	return nil
}

// followReader stops its writer goroutine when closed.
type followReader struct {
	*io.PipeReader
	stop chan struct{}
	once sync.Once
}

func (f *followReader) Close() error {
	f.once.Do(func() { close(f.stop) })
	return f.PipeReader.Close()
}

// limitWriter fails once n bytes have been written.
type limitWriter struct {
	w io.Writer
	n int64
}

var errLimit = errors.New("log limit reached")

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errLimit
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.w.Write(p)
	l.n -= int64(n)
	if err == nil && l.n <= 0 {
		return n, io.EOF
	}
	return n, err
}

func selectLines(all []logLine, opts runtime.LogOptions) []logLine {
	lines := all
	if !opts.Since.IsZero() {
		i := 0
		for i < len(lines) && !lines[i].Time.After(opts.Since) {
			i++
		}
		lines = lines[i:]
	}
	if opts.TailLines != nil {
		n := int(max(*opts.TailLines, 0))
		if n < len(lines) {
			lines = lines[len(lines)-n:]
		}
	}
	return append([]logLine(nil), lines...)
}

func writeLine(buf *bytes.Buffer, l logLine, timestamps bool) {
	if timestamps {
		buf.WriteString(l.Time.UTC().Format(time.RFC3339Nano))
		buf.WriteByte(' ')
	}
	buf.WriteString(l.Text)
}

// ExecSync implements runtime.Runtime.
func (r *Runtime) ExecSync(ctx context.Context, id string, cmd []string, timeout time.Duration) ([]byte, []byte, int, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	var stdout, stderr bytes.Buffer
	code, err := r.Exec(ctx, id, runtime.ExecOptions{Cmd: cmd, Stdout: &stdout, Stderr: &stderr})
	return stdout.Bytes(), stderr.Bytes(), code, err
}

// Exec implements runtime.Runtime with the commands the package doc lists.
func (r *Runtime) Exec(ctx context.Context, id string, opts runtime.ExecOptions) (int, error) {
	if len(opts.Cmd) == 0 {
		return 0, errors.New("exec: no command given")
	}
	r.mu.Lock()
	c, ok := r.containers[id]
	if !ok {
		r.mu.Unlock()
		return 0, fmt.Errorf("exec in container %s: %w", short(id), runtime.ErrNotFound)
	}
	if c.State != runtime.ContainerRunning {
		r.mu.Unlock()
		return 0, fmt.Errorf("exec in container %s: container is not running (%s)", short(id), c.State)
	}
	env := append([]runtime.KeyValue(nil), c.Env...)
	hostname := c.PodName
	if s, ok := r.sandboxes[c.SandboxID]; ok {
		hostname = s.Hostname
	}
	r.mu.Unlock()

	stdout, stderr := opts.Stdout, opts.Stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	argv := opts.Cmd
	switch path.Base(argv[0]) {
	case "echo":
		fmt.Fprintln(stdout, strings.Join(argv[1:], " "))
		return 0, nil
	case "true":
		return 0, nil
	case "false":
		return 1, nil
	case "exit":
		return int(argCode(argv)), nil
	case "sh", "bash":
		if len(argv) == 3 && argv[1] == "-c" {
			if f := strings.Fields(argv[2]); len(f) == 2 && f[0] == "exit" {
				if n, err := strconv.Atoi(f[1]); err == nil {
					return n, nil
				}
			}
		}
		return 0, nil
	case "hostname":
		fmt.Fprintln(stdout, hostname)
		return 0, nil
	case "env":
		for _, kv := range env {
			fmt.Fprintf(stdout, "%s=%s\n", kv.Key, kv.Value)
		}
		return 0, nil
	case "cat":
		if opts.Stdin != nil {
			if _, err := io.Copy(stdout, opts.Stdin); err != nil {
				return 1, fmt.Errorf("exec cat: %w", err)
			}
		}
		return 0, nil
	case "sleep":
		if len(argv) < 2 {
			fmt.Fprintln(stderr, "sleep: missing operand")
			return 1, nil
		}
		d, finite := parseSleep(argv[1])
		var wait <-chan time.Time
		if finite {
			t := time.NewTimer(d)
			defer t.Stop()
			wait = t.C
		}
		select {
		case <-wait:
			return 0, nil
		case <-ctx.Done():
			return 0, fmt.Errorf("exec %q in container %s: %w", strings.Join(argv, " "), short(id), ctx.Err())
		}
	}
	return 0, nil
}

// Probe implements prober.Prober for the fake's containers: success unless
// the container's image is a kl.test/fail-* image for this probe type, or
// the container is not running.
func (r *Runtime) Probe(ctx context.Context, req prober.Request) (prober.Result, string, error) {
	if err := ctx.Err(); err != nil {
		return prober.Failure, "", err
	}
	r.mu.Lock()
	c, ok := r.containers[req.ContainerID]
	var state runtime.ContainerState
	var image string
	if ok {
		state, image = c.State, c.Image
	}
	r.mu.Unlock()
	if !ok || state != runtime.ContainerRunning {
		return prober.Failure, "container is not running", nil
	}
	repo, _ := splitImage(image)
	fail := (repo == ImageFailReadiness && req.Type == prober.Readiness) ||
		(repo == ImageFailLiveness && req.Type == prober.Liveness) ||
		(repo == ImageFailStartup && req.Type == prober.Startup)
	if !fail {
		return prober.Success, "", nil
	}
	return prober.Failure, failureMessage(req), nil
}

// failureMessage words a failed probe as the real prober would.
func failureMessage(req prober.Request) string {
	p := req.Probe
	switch {
	case p == nil:
		return "probe failed"
	case p.HTTPGet != nil:
		return "HTTP probe failed with statuscode: 503"
	case p.TCPSocket != nil:
		return fmt.Sprintf("dial tcp %s:%s: connect: connection refused", req.PodIP, p.TCPSocket.Port.String())
	case p.Exec != nil:
		return fmt.Sprintf("command %q exited with 1", strings.Join(p.Exec.Command, " "))
	}
	return "probe failed"
}
