// Command schemagen writes the JSON Schemas of kl's API kinds from the Go
// types in pkg/api, which are their single source of truth:
//
//	go run ./hack/schemagen -out schemas
//
// It writes schemas/<group or core>/<version>/<kind>.json (draft 2020-12,
// self-contained, strict: unknown fields are errors) and schemas/index.json,
// and removes JSON files of kinds that no longer exist. Doc comments of the
// Go fields become the schemas' descriptions, which `kl explain` shows.
package main

import (
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "schemagen:", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer) error {
	fl := flag.NewFlagSet("schemagen", flag.ContinueOnError)
	fl.SetOutput(stderr)
	root := fl.String("root", ".", "module root (where go.mod is)")
	out := fl.String("out", "schemas", "output directory")
	if err := fl.Parse(args); err != nil {
		return err
	}
	g := &Generator{Root: *root, Rules: DefaultRules()}
	files, err := g.Generate()
	if err != nil {
		return err
	}
	for _, w := range g.Warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	if unused := g.UnusedRules(); len(unused) > 0 {
		return fmt.Errorf("rules in hack/schemagen/rules.go match nothing in pkg/api (renamed or removed?):\n  %s",
			strings.Join(unused, "\n  "))
	}
	return writeOutput(*out, files)
}

// writeOutput writes files under dir and deletes the .json files there that
// are not part of files; other files (embed.go, tests) are left alone.
func writeOutput(dir string, files Output) error {
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
		if old, err := os.ReadFile(p); err == nil && string(old) == string(b) {
			continue
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
	}
	stale, err := extraFiles(dir, files)
	if err != nil {
		return err
	}
	for _, name := range stale {
		if err := os.Remove(filepath.Join(dir, filepath.FromSlash(name))); err != nil {
			return fmt.Errorf("remove stale schema: %w", err)
		}
	}
	return nil
}

// extraFiles lists the .json files under dir that files does not hold.
func extraFiles(dir string, files Output) ([]string, error) {
	var extra []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, ".json") {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if _, ok := files[rel]; !ok {
			extra = append(extra, rel)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	return extra, nil
}
