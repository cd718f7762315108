package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"
)

// forwarded are the signals kl passes on to a running plugin.
var forwarded = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

// DefaultGracePeriod is how long Run waits, after ctx is cancelled and the
// plugin was asked to stop, before it kills the plugin.
const DefaultGracePeriod = 10 * time.Second

// Cmd is a plugin invocation.
type Cmd struct {
	// Path is the plugin executable; Args its arguments (without argv[0]).
	Path string
	Args []string
	// Env is the plugin's environment (see Env.Apply).
	Env []string
	// Stdin, Stdout and Stderr are the plugin's standard streams.
	Stdin          io.Reader
	Stdout, Stderr io.Writer

	// Foreground says the plugin shares kl's terminal: the keyboard's
	// SIGINT and SIGQUIT (Ctrl-C, Ctrl-\) reach it from the terminal
	// directly, so kl does not forward them a second time (a second
	// interrupt often means "stop now" to the plugin). kl still waits for
	// the plugin, so its exit code is kl's.
	Foreground bool
	// Signals, if not nil, replaces the process's signals as the source of
	// the signals to forward (tests). When nil, Run subscribes to SIGINT,
	// SIGTERM, SIGHUP and SIGQUIT while the plugin runs.
	Signals <-chan os.Signal
	// GracePeriod replaces DefaultGracePeriod when positive.
	GracePeriod time.Duration
}

// Run runs the plugin, forwarding the signals kl receives, and returns its
// exit code: the code it exited with, or 128+N when signal N ended it. The
// error is set only when the plugin could not be run.
//
// Cancelling ctx sends the plugin SIGTERM and, if it has not exited after
// the grace period, kills it. kl's command line cancels nothing itself
// (the signals that would are forwarded instead), so the plugin decides
// when it is done, as if kl had become the plugin.
func Run(ctx context.Context, c Cmd) (int, error) {
	cmd := exec.Command(c.Path, c.Args...)
	cmd.Env = c.Env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = c.Stdin, c.Stdout, c.Stderr

	sigs := c.Signals
	if sigs == nil {
		ch := make(chan os.Signal, len(forwarded))
		// Subscribe before starting, so that no signal in between ends kl
		// and orphans the plugin.
		signal.Notify(ch, forwarded...)
		defer signal.Stop(ch)
		sigs = ch
	}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("run plugin %s: %w", c.Path, err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()

	grace := c.GracePeriod
	if grace <= 0 {
		grace = DefaultGracePeriod
	}
	done := ctx.Done()
	var kill <-chan time.Time
	for {
		select {
		case err := <-waited:
			return exitCode(cmd.ProcessState, err, c.Path)
		case s := <-sigs:
			if c.Foreground && (s == os.Interrupt || s == syscall.SIGQUIT) {
				continue
			}
			_ = cmd.Process.Signal(s) // it may have exited just now
		case <-done:
			done = nil
			_ = cmd.Process.Signal(syscall.SIGTERM)
			timer := time.NewTimer(grace)
			defer timer.Stop()
			kill = timer.C
		case <-kill:
			kill = nil
			_ = cmd.Process.Kill()
		}
	}
}

// exitCode turns the result of Wait into an exit code, as shells do.
func exitCode(ps *os.ProcessState, err error, path string) (int, error) {
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return 0, fmt.Errorf("run plugin %s: %w", path, err)
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return ps.ExitCode(), nil
}
