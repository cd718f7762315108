// Package apitest starts an in-process kl apiserver (memory storage, a
// loopback port, no authentication) for the controllers' integration tests,
// and offers small helpers to wait for what a controller writes.
package apitest

import (
	"context"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/apiserver/apiservertest"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/controller"
)

// Start runs an apiserver for the test and returns a client of it. The
// server stops when the test ends.
func Start(t testing.TB) *client.Client {
	t.Helper()
	return apiservertest.StartClient(t)
}

// Timeout bounds every Eventually.
const Timeout = 15 * time.Second

// Eventually polls cond until it returns nil, failing the test with the
// last error after Timeout.
func Eventually(t testing.TB, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(Timeout)
	delay := 5 * time.Millisecond
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after %v: %v", what, Timeout, err)
		}
		time.Sleep(delay)
		delay = min(delay*2, 100*time.Millisecond)
	}
}

// Context returns a context cancelled when the test ends.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx
}

// Run starts the informers and the controller until the test ends, and
// waits for the controller to return then.
func Run(t testing.TB, inf *controller.Informers, ctrl controller.Controller) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	inf.Start(ctx)
	done := make(chan error, 1)
	go func() { done <- ctrl.Run(ctx, 2) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil && ctx.Err() == nil {
				t.Errorf("%s: %v", ctrl.Name(), err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("%s did not stop within 10s", ctrl.Name())
		}
	})
}
