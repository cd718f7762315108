package fieldmanager_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/apiserver/fieldmanager"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// obj parses YAML into a JSON-like object, numbers as json.Number, the way
// the apiserver decodes request bodies.
func obj(t testing.TB, s string) map[string]any {
	t.Helper()
	if s == "" {
		return nil
	}
	j, err := yaml.YAMLToJSON([]byte(s))
	if err != nil {
		t.Fatalf("bad YAML %q: %v", s, err)
	}
	d := json.NewDecoder(bytes.NewReader(j))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("bad object %s: %v", j, err)
	}
	return m
}

func toJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// mergePatch applies an RFC 7386 JSON merge patch to a copy of o: the write
// an Update manager makes in the scenarios.
func mergePatch(o, patch map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range o {
		out[k] = v
	}
	for k, v := range patch {
		switch pv := v.(type) {
		case nil:
			delete(out, k)
		case map[string]any:
			cur, _ := out[k].(map[string]any)
			out[k] = mergePatch(cur, pv)
		default:
			out[k] = v
		}
	}
	return out
}

// owners returns, per "manager/Operation", the paths the entry owns.
func owners(t testing.TB, managed []meta.ManagedFieldsEntry) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, e := range managed {
		if e.FieldsType != fieldmanager.FieldsTypeV1 || e.FieldsV1 == nil {
			t.Fatalf("entry %s/%s has no FieldsV1", e.Manager, e.Operation)
		}
		s, err := fieldmanager.DecodeFieldsV1(*e.FieldsV1)
		if err != nil {
			t.Fatalf("entry %s/%s: %v", e.Manager, e.Operation, err)
		}
		key := e.Manager + "/" + e.Operation
		if _, dup := out[key]; dup {
			t.Fatalf("two entries for %s", key)
		}
		out[key] = []string{}
		for _, p := range s.Leaves() {
			out[key] = append(out[key], p.String())
		}
	}
	return out
}
