package applyset_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/apiserver"
	"github.com/kl-dev/kl/pkg/applyset"
	"github.com/kl-dev/kl/pkg/cli/resource"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/manifest"
)

// startServer runs an in-process apiserver (memory storage) for the test
// and returns a client of it.
func startServer(t *testing.T) *client.Client {
	t.Helper()
	srv, err := apiserver.New(apiserver.Config{
		ListenAddress: "127.0.0.1:0", Insecure: true, Storage: "memory",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("apiserver did not stop")
		}
	})
	select {
	case <-srv.Ready():
	case err := <-done:
		t.Fatal(err)
	case <-time.After(10 * time.Second):
		t.Fatal("apiserver not ready")
	}
	c, err := client.New(client.Config{Servers: []string{srv.URL()}, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// readManifests writes files (name -> content) into a temp dir and reads
// them back.
func readManifests(t *testing.T, files map[string]string) []*manifest.Object {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	objs, err := manifest.Read([]string{dir}, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// prepare reads files and prepares their objects for set in namespace
// "default".
func prepare(t *testing.T, c *client.Client, set *applyset.Set, files map[string]string) []*applyset.Object {
	t.Helper()
	objs, err := applyset.Prepare(ctxT(t), resource.NewResolver(c), readManifests(t, files), applyset.PrepareOptions{Namespace: "default", Set: set})
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// labelsOf returns an object's metadata.labels.
func labelsOf(t *testing.T, raw []byte) map[string]string {
	t.Helper()
	var o struct {
		Metadata struct {
			Labels map[string]string `json:"labels"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(raw, &o); err != nil {
		t.Fatal(err)
	}
	return o.Metadata.Labels
}
