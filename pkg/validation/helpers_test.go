package validation

import (
	"encoding/json"
	"sync"
	"testing"

	"sigs.k8s.io/yaml"
)

// sharedValidator compiles the embedded schemas once per test binary.
var sharedValidator = sync.OnceValues(NewValidator)

func validator(t testing.TB) *Validator {
	t.Helper()
	v, err := sharedValidator()
	if err != nil {
		t.Fatalf("NewValidator: %v", err)
	}
	return v
}

// manifest decodes a YAML document the way the CLI does (YAML -> JSON ->
// map).
func manifest(t testing.TB, doc string) map[string]any {
	t.Helper()
	var obj map[string]any
	if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
		t.Fatalf("decode manifest: %v", err)
	}
	return obj
}

// toMap encodes a typed object to its decoded JSON form.
func toMap(t testing.TB, obj any) map[string]any {
	t.Helper()
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func errorStrings(l ErrorList) []string {
	out := make([]string, len(l))
	for i, e := range l {
		out[i] = e.Error()
	}
	return out
}
