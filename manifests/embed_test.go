package manifests

import (
	"errors"
	"io"
	"io/fs"
	"slices"
	"testing"

	"go.yaml.in/yaml/v3"
)

type object struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name      string `yaml:"name"`
		Namespace string `yaml:"namespace"`
	} `yaml:"metadata"`
}

func TestFS_HoldsTheBootstrapNamespaces(t *testing.T) {
	files, err := fs.Glob(FS, "*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no embedded manifests: %v", err)
	}
	var namespaces []string
	for _, name := range files {
		f, err := FS.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(f)
		for i := 0; ; i++ {
			var obj object
			if err := dec.Decode(&obj); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s document %d: %v", name, i, err)
			}
			if obj.APIVersion == "" || obj.Kind == "" || obj.Metadata.Name == "" {
				t.Errorf("%s document %d lacks apiVersion, kind or metadata.name: %+v", name, i, obj)
			}
			if obj.APIVersion == "v1" && obj.Kind == "Namespace" {
				namespaces = append(namespaces, obj.Metadata.Name)
			}
		}
		f.Close()
	}
	slices.Sort(namespaces)
	if want := []string{"default", "kube-node-lease", "kube-system"}; !slices.Equal(namespaces, want) {
		t.Errorf("namespaces = %q, want %q", namespaces, want)
	}
}
