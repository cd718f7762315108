// Package apiservertest runs an in-process apiserver for tests: in-memory
// storage, plain HTTP on a loopback port, stopped when the test ends.
package apiservertest

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/apiserver"
	"github.com/kl-dev/kl/pkg/client"
)

// Start runs an apiserver until the test ends and returns its URL.
// mutate may change its configuration before it starts.
func Start(t testing.TB, mutate ...func(*apiserver.Config)) string {
	t.Helper()
	cfg := apiserver.Config{
		ListenAddress: "127.0.0.1:0", Insecure: true, Storage: "memory",
		Logger: slog.New(slog.DiscardHandler),
	}
	for _, m := range mutate {
		m(&cfg)
	}
	srv, err := apiserver.New(cfg)
	if err != nil {
		t.Fatalf("new apiserver: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("apiserver: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("apiserver did not stop within 10s")
		}
	})
	select {
	case <-srv.Ready():
	case err := <-done:
		t.Fatalf("apiserver stopped: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("apiserver not ready after 10s")
	}
	return srv.URL()
}

// Client returns a client of the apiserver at url (no rate limiting, 30s
// timeout). Its idle connections are closed when the test ends, before an
// apiserver started earlier stops: its shutdown waits for connections
// that were dialed but never used.
func Client(t testing.TB, url string) *client.Client {
	t.Helper()
	transport := &http.Transport{MaxIdleConnsPerHost: 128}
	t.Cleanup(transport.CloseIdleConnections)
	c, err := client.New(client.Config{Servers: []string{url}, Timeout: 30 * time.Second, Transport: transport})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// StartClient is Start followed by Client.
func StartClient(t testing.TB) *client.Client {
	t.Helper()
	return Client(t, Start(t))
}
