package apiserver

import (
	"bytes"
	"fmt"
	"io/fs"
	"sort"

	"sigs.k8s.io/yaml"

	"github.com/kl-dev/kl/manifests"
)

// bootstrapObjects returns the embedded manifests/ documents as JSON, in
// file order.
func bootstrapObjects() ([][]byte, error) {
	names, err := fs.Glob(manifests.FS, "*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out [][]byte
	for _, n := range names {
		data, err := fs.ReadFile(manifests.FS, n)
		if err != nil {
			return nil, err
		}
		for i, doc := range bytes.Split(data, []byte("\n---")) {
			if len(bytes.TrimSpace(doc)) == 0 {
				continue
			}
			j, err := yaml.YAMLToJSON(doc)
			if err != nil {
				return nil, fmt.Errorf("manifests/%s document %d: %w", n, i+1, err)
			}
			if string(j) == "null" {
				continue
			}
			out = append(out, j)
		}
	}
	return out, nil
}
