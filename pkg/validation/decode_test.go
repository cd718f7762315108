package validation

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
)

// The direct map decoder must produce exactly what encoding/json produces
// from the same document.
func TestMapDecoderMatchesEncodingJSON(t *testing.T) {
	v := validator(t)
	docs := map[string]map[string]any{}
	for name, doc := range realisticManifests {
		docs[name] = manifest(t, doc)
	}
	files, _ := filepath.Glob("../api/*/*/testdata/*.json")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		docs[f] = m
	}
	docs["nulls"] = manifest(t, `
apiVersion: v1
kind: Pod
metadata: {name: p, labels: null, creationTimestamp: null}
spec:
  nodeSelector: null
  activeDeadlineSeconds: null
  containers:
  - {name: c, image: i, resources: {limits: {cpu: 2, memory: 1.5Gi}}}
  volumes:
  - {name: v, nfs: {server: x}, emptyDir: {}}
`)
	for name, m := range docs {
		t.Run(name, func(t *testing.T) {
			av, k := m["apiVersion"].(string), m["kind"].(string)
			want := NewObject(av, k)
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, want); err != nil {
				t.Fatal(err)
			}
			got := NewObject(av, k)
			if err := v.dec.decode(reflect.ValueOf(got).Elem(), m); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				gj, _ := json.Marshal(got)
				wj, _ := json.Marshal(want)
				t.Errorf("decoded\n%s\nwant\n%s", gj, wj)
			}
		})
	}
	// Volume's own decoder keeps the unsupported sources.
	var pod corev1.Pod
	if err := v.dec.decode(reflect.ValueOf(&pod).Elem(), docs["nulls"]); err != nil {
		t.Fatal(err)
	}
	if got := pod.Spec.Volumes[0].UnsupportedSources(); !reflect.DeepEqual(got, []string{"nfs"}) {
		t.Errorf("UnsupportedSources = %q", got)
	}
}

func TestMapDecoderReportsTypeErrors(t *testing.T) {
	v := validator(t)
	var pod corev1.Pod
	err := v.dec.decode(reflect.ValueOf(&pod).Elem(), map[string]any{"spec": map[string]any{"activeDeadlineSeconds": "x"}})
	if err == nil || err.Error() != "spec.activeDeadlineSeconds: cannot decode string into Go value of type int64" {
		t.Errorf("err = %v", err)
	}
	err = v.dec.decode(reflect.ValueOf(&pod).Elem(), map[string]any{"spec": map[string]any{"containers": []any{
		map[string]any{"resources": map[string]any{"limits": map[string]any{"cpu": "1.2.3"}}},
	}}})
	if err == nil || !strings.HasPrefix(err.Error(), `spec.containers[0].resources.limits.cpu: quantity "1.2.3"`) {
		t.Errorf("err = %v", err)
	}
}
