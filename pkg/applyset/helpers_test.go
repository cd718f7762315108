package applyset_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/applyset"
	"github.com/kl-dev/kl/pkg/cli/resource"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/manifest"
)

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
