package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"

	"github.com/kl-dev/kl/pkg/kubelet/runtime"
)

// ContainerLogs implements runtime.Runtime: the engine's logs API, with
// stdout and stderr merged in the order they were written.
func (r *Runtime) ContainerLogs(ctx context.Context, id string, opts runtime.LogOptions) (io.ReadCloser, error) {
	c, err := r.inspectOwned(ctx, id, TypeContainer)
	if err != nil {
		return nil, fmt.Errorf("logs of container: %w", err)
	}
	lo := client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Follow: opts.Follow, Timestamps: opts.Timestamps}
	if opts.TailLines != nil && *opts.TailLines >= 0 {
		lo.Tail = strconv.FormatInt(*opts.TailLines, 10)
	}
	if !opts.Since.IsZero() {
		lo.Since = fmt.Sprintf("%d.%09d", opts.Since.Unix(), opts.Since.Nanosecond())
	}
	rc, err := r.cli.ContainerLogs(ctx, c.ID, lo)
	if err != nil {
		return nil, fmt.Errorf("logs of container %s: %w", short(id), notFound(err))
	}
	tty := c.Config != nil && c.Config.Tty
	pr, pw := io.Pipe()
	go func() {
		var err error
		if tty {
			_, err = io.Copy(pw, rc)
		} else {
			// Both streams into one writer: frames stay whole and in order.
			_, err = stdcopy.StdCopy(pw, pw, rc)
		}
		pw.CloseWithError(err)
	}()
	var out io.Reader = pr
	if opts.LimitBytes > 0 {
		out = io.LimitReader(pr, opts.LimitBytes)
	}
	return &logStream{Reader: out, closers: []io.Closer{rc, pr}}, nil
}

// logStream is a log reader whose Close ends the engine's stream.
type logStream struct {
	io.Reader
	closers []io.Closer
	once    sync.Once
}

func (l *logStream) Close() error {
	l.once.Do(func() {
		for _, c := range l.closers {
			_ = c.Close()
		}
	})
	return nil
}

// ExecSync implements runtime.Runtime.
func (r *Runtime) ExecSync(ctx context.Context, id string, cmd []string, timeout time.Duration) ([]byte, []byte, int, error) {
	c, err := r.inspectOwned(ctx, id, TypeContainer)
	if err != nil {
		return nil, nil, -1, fmt.Errorf("exec in container: %w", err)
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	var stdout, stderr bytes.Buffer
	code, err := r.exec(ctx, c.ID, runtime.ExecOptions{Cmd: cmd, Stdout: &stdout, Stderr: &stderr})
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && timeout > 0 {
			return stdout.Bytes(), stderr.Bytes(), -1, fmt.Errorf("exec %q in container %s: still running after %v: %w", strings.Join(cmd, " "), short(id), timeout, err)
		}
		return stdout.Bytes(), stderr.Bytes(), -1, err
	}
	return stdout.Bytes(), stderr.Bytes(), code, nil
}

// Exec implements runtime.Runtime.
func (r *Runtime) Exec(ctx context.Context, id string, opts runtime.ExecOptions) (int, error) {
	c, err := r.inspectOwned(ctx, id, TypeContainer)
	if err != nil {
		return -1, fmt.Errorf("exec in container: %w", err)
	}
	return r.exec(ctx, c.ID, opts)
}

// exec runs a command in a container with the given streams and returns
// its exit code. When ctx ends first the streams are cut and ctx's error
// returned; the engine cannot kill an exec'd process, which ends with the
// container.
func (r *Runtime) exec(ctx context.Context, id string, opts runtime.ExecOptions) (int, error) {
	what := fmt.Sprintf("exec %q in container %s", strings.Join(opts.Cmd, " "), short(id))
	if len(opts.Cmd) == 0 {
		return -1, fmt.Errorf("%s: no command", what)
	}
	stdout, stderr := opts.Stdout, opts.Stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	cr, err := r.cli.ExecCreate(ctx, id, client.ExecCreateOptions{
		Cmd: opts.Cmd, TTY: opts.TTY, AttachStdin: opts.Stdin != nil, AttachStdout: true, AttachStderr: true,
	})
	if err != nil {
		return -1, fmt.Errorf("%s: %w", what, notFound(err))
	}
	att, err := r.cli.ExecAttach(ctx, cr.ID, client.ExecAttachOptions{TTY: opts.TTY})
	if err != nil {
		return -1, fmt.Errorf("%s: attach: %w", what, err)
	}
	defer att.Close()
	if opts.Stdin != nil {
		// Ends with the input (then the command sees EOF), or on its next
		// read after the connection closed.
		go func() {
			_, _ = io.Copy(att.Conn, opts.Stdin)
			_ = att.CloseWrite()
		}()
	}
	done := make(chan error, 1)
	go func() {
		var err error
		if opts.TTY {
			_, err = io.Copy(stdout, att.Reader)
		} else {
			_, err = stdcopy.StdCopy(stdout, stderr, att.Reader)
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil && ctx.Err() == nil {
			return -1, fmt.Errorf("%s: output: %w", what, err)
		}
	case <-ctx.Done():
		att.Close()
		<-done
		return -1, fmt.Errorf("%s: %w", what, ctx.Err())
	}
	if err := ctx.Err(); err != nil {
		return -1, fmt.Errorf("%s: %w", what, err)
	}
	// The output ends a moment before the engine records the exit code.
	for delay := time.Millisecond; ; delay = min(2*delay, 50*time.Millisecond) {
		ins, err := r.cli.ExecInspect(ctx, cr.ID, client.ExecInspectOptions{})
		if err != nil {
			return -1, fmt.Errorf("%s: exit code: %w", what, err)
		}
		if !ins.Running {
			return ins.ExitCode, nil
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return -1, fmt.Errorf("%s: exit code: %w", what, ctx.Err())
		case <-t.C:
		}
	}
}
