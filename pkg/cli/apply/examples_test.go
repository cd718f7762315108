package apply

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

// TestGitOpsScriptMatchesTheExample keeps the copy of the manifests of
// examples/gitops in the GitOps-cycle CLI script equal to the example, so
// that the script tests the directory users are shown.
func TestGitOpsScriptMatchesTheExample(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	ar, err := txtar.ParseFile(filepath.Join(root, "test", "cli", "testdata", "gitops_cycle.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	inScript := map[string]string{}
	for _, f := range ar.Files {
		if name, ok := strings.CutPrefix(f.Name, "gitops/"); ok {
			inScript[name] = string(f.Data)
		}
	}
	example := filepath.Join(root, "examples", "gitops")
	inExample := map[string]string{}
	err = filepath.WalkDir(example, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch filepath.Ext(path) {
		case ".yaml", ".yml", ".json":
		default:
			return nil // documentation
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(example, path)
		inExample[filepath.ToSlash(rel)] = string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range inExample {
		if got, ok := inScript[name]; !ok {
			t.Errorf("examples/gitops/%s is not in the script", name)
		} else if got != data {
			t.Errorf("gitops/%s in the script differs from examples/gitops/%s", name, name)
		}
	}
	for name := range inScript {
		if _, ok := inExample[name]; !ok {
			t.Errorf("gitops/%s in the script is not in examples/gitops", name)
		}
	}
}
