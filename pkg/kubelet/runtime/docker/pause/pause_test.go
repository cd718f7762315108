package pause_test

import (
	"context"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/kubelet/runtime/docker/pause"
)

// Run blocks until it is told to stop, then returns exit code 0. (Its
// signal handling is tested in containers: a sandbox stopped with
// SIGTERM exits 0 at once, see the docker package's tests.)
func TestRunReturnsZeroWhenStopped(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int, 1)
	go func() { done <- pause.Run(ctx) }()
	select {
	case code := <-done:
		t.Fatalf("Run returned %d before it was stopped", code)
	case <-time.After(20 * time.Millisecond):
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("Run = %d, want 0", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}
