// Package pause is the program of a pod sandbox's container: it holds the
// pod's network (and IPC) namespace and does nothing else. `kl pause` runs
// it; the Docker runtime builds its sandbox image from the kl binary with
// the entrypoint ["/kl", "pause"], so no registry is needed.
//
// It imports only the standard library, so that small static test
// binaries can embed it too.
package pause

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// Run blocks until ctx is cancelled or the process receives SIGTERM,
// SIGINT or SIGHUP, then returns 0 (the exit code). As PID 1 of a
// container a process gets no default signal handling, so the signals are
// trapped explicitly: `docker stop` ends a sandbox at once instead of
// waiting for SIGKILL.
func Run(ctx context.Context) int {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer stop()
	<-ctx.Done()
	return 0
}

// Main is Run for a command: it returns the process's exit code.
func Main() int {
	// Nothing to read or write: close stdin so nothing blocks on it.
	_ = os.Stdin.Close()
	return Run(context.Background())
}
