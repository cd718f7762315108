package main

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// TestSchemasUpToDate fails when schemas/ differs from what the Go types in
// pkg/api produce, so that the committed schemas never drift from the types.
func TestSchemasUpToDate(t *testing.T) {
	const fix = "run `go run ./hack/schemagen` to regenerate"
	root := filepath.Join("..", "..")
	g := &Generator{Root: root, Rules: DefaultRules()}
	files, err := g.Generate()
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	for _, u := range g.UnusedRules() {
		t.Errorf("rule matches nothing in pkg/api: %s", u)
	}
	committed := filepath.Join(root, "schemas")
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		got, err := os.ReadFile(filepath.Join(committed, filepath.FromSlash(n)))
		if err != nil {
			t.Errorf("schemas/%s is missing: %s", n, fix)
			continue
		}
		if !bytes.Equal(got, files[n]) {
			t.Errorf("schemas/%s is out of date: %s", n, fix)
		}
	}
	extra, err := extraFiles(committed, files)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range extra {
		t.Errorf("schemas/%s belongs to no kind: %s", n, fix)
	}
}
