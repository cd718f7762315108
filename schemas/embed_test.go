package schemas

import (
	"encoding/json"
	"errors"
	"io/fs"
	"testing"
)

func TestIndexListsEveryEmbeddedSchema(t *testing.T) {
	kinds, err := Index()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Kind{
		"v1/Pod":                       {Resource: "pods", Namespaced: true, ShortNames: []string{"po"}},
		"v1/Namespace":                 {Resource: "namespaces", ShortNames: []string{"ns"}},
		"apps/v1/Deployment":           {Resource: "deployments", Namespaced: true, ShortNames: []string{"deploy"}},
		"coordination.k8s.io/v1/Lease": {Resource: "leases", Namespaced: true},
		"autoscaling/v1/Scale":         {Namespaced: true, Subresource: "scale"},
	}
	seen := map[string]bool{}
	for _, k := range kinds {
		key := k.APIVersion() + "/" + k.Kind
		seen[key] = true
		if w, ok := want[key]; ok {
			if k.Resource != w.Resource || k.Namespaced != w.Namespaced || k.Subresource != w.Subresource || len(k.ShortNames) != len(w.ShortNames) {
				t.Errorf("%s = %+v, want %+v", key, k, w)
			}
		}
		if k.Schema != Path(k.APIVersion(), k.Kind) {
			t.Errorf("%s: schema %q, Path says %q", key, k.Schema, Path(k.APIVersion(), k.Kind))
		}
		b, err := fs.ReadFile(FS, k.Schema)
		if err != nil {
			t.Errorf("%s: %v", key, err)
			continue
		}
		var doc struct {
			Schema string                                `json:"$schema"`
			GVK    struct{ Group, Version, Kind string } `json:"x-kl-group-version-kind"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Errorf("%s: %v", k.Schema, err)
		}
		if doc.Schema != "https://json-schema.org/draft/2020-12/schema" || doc.GVK.Kind != k.Kind || doc.GVK.Group != k.Group {
			t.Errorf("%s: header %+v", k.Schema, doc)
		}
	}
	for key := range want {
		if !seen[key] {
			t.Errorf("index lacks %s", key)
		}
	}
}

func TestLookup(t *testing.T) {
	k, b, err := Lookup("apps/v1", "Deployment")
	if err != nil || k.Resource != "deployments" || len(b) == 0 {
		t.Fatalf("Lookup(apps/v1, Deployment) = %+v, %d bytes, %v", k, len(b), err)
	}
	if _, _, err := Lookup("v1", "Deployment"); !errors.Is(err, ErrUnknownKind) {
		t.Errorf("Lookup(v1, Deployment) err = %v, want ErrUnknownKind", err)
	}
	if got := Path("v1", "ConfigMap"); got != "core/v1/configmap.json" {
		t.Errorf("Path = %q", got)
	}
}
