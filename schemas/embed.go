// Package schemas embeds the JSON Schemas (draft 2020-12) of every kind kl
// serves, one file per group/version/kind, plus index.json which lists the
// kinds with their REST names.
//
// The files are generated from the Go types in pkg/api; do not edit them by
// hand. Regenerate with:
//
//	go run ./hack/schemagen -out schemas
package schemas

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// FS holds index.json and <group or "core">/<version>/<kind>.json.
//
//go:embed index.json */*/*.json
var FS embed.FS

// IndexFile is the name of the index in FS.
const IndexFile = "index.json"

// Kind is one entry of index.json.
type Kind struct {
	Group   string `json:"group"`
	Version string `json:"version"`
	Kind    string `json:"kind"`
	// Resource is the plural REST name ("deployments"); empty for kinds that
	// only exist as a subresource body (Scale).
	Resource string `json:"resource,omitempty"`
	// Subresource names the subresource a Resource-less kind is the body of.
	Subresource string   `json:"subresource,omitempty"`
	Namespaced  bool     `json:"namespaced"`
	ShortNames  []string `json:"shortNames,omitempty"`
	// Schema is the path of the kind's schema in FS.
	Schema string `json:"schema"`
}

// APIVersion returns "v1" or "apps/v1".
func (k Kind) APIVersion() string {
	if k.Group == "" {
		return k.Version
	}
	return k.Group + "/" + k.Version
}

// ErrUnknownKind is returned by Lookup for an apiVersion/kind that has no
// schema.
var ErrUnknownKind = errors.New("unknown kind")

// Index returns the kinds of index.json in its order (group, version,
// kind).
func Index() ([]Kind, error) { return ReadIndex(FS) }

// ReadIndex reads index.json from fsys (FS, or a test copy).
func ReadIndex(fsys fs.FS) ([]Kind, error) {
	b, err := fs.ReadFile(fsys, IndexFile)
	if err != nil {
		return nil, fmt.Errorf("read schema index: %w", err)
	}
	var idx struct {
		Kinds []Kind `json:"kinds"`
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("decode schema index: %w", err)
	}
	return idx.Kinds, nil
}

// Lookup returns the index entry and the schema document (JSON) of the
// kind with the given apiVersion ("apps/v1") and kind ("Deployment").
func Lookup(apiVersion, kind string) (Kind, []byte, error) {
	kinds, err := Index()
	if err != nil {
		return Kind{}, nil, err
	}
	for _, k := range kinds {
		if k.Kind == kind && k.APIVersion() == apiVersion {
			b, err := fs.ReadFile(FS, k.Schema)
			if err != nil {
				return Kind{}, nil, fmt.Errorf("read schema of %s %s: %w", apiVersion, kind, err)
			}
			return k, b, nil
		}
	}
	return Kind{}, nil, fmt.Errorf("%w %q for apiVersion %q", ErrUnknownKind, kind, apiVersion)
}

// Path returns the path in FS of a kind's schema, as index.json names it:
// "core/v1/pod.json" for v1 Pod.
func Path(apiVersion, kind string) string {
	group, version := "core", apiVersion
	if i := strings.IndexByte(apiVersion, '/'); i >= 0 {
		group, version = apiVersion[:i], apiVersion[i+1:]
	}
	return group + "/" + version + "/" + strings.ToLower(kind) + ".json"
}
