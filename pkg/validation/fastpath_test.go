package validation

import (
	"encoding/json"
	"sort"
	"testing"
)

// deepCopy copies a decoded JSON value.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = deepCopy(e)
		}
		return a
	}
	return v
}

// variants returns copies of doc with one node changed each: replaced by
// values of every JSON type (and edge numbers), removed, or (objects) given
// an unknown key.
func variants(doc map[string]any) []map[string]any {
	replacements := []any{nil, true, "x", "1.2.3", json.Number("3"), 3.5, -1.0, 3e9, map[string]any{}, []any{}, "2024-01-01T00:00:00Z"}
	var out []map[string]any
	var walk func(path []any, v any)
	walk = func(path []any, v any) {
		if len(path) > 0 {
			for _, r := range replacements {
				out = append(out, withValue(doc, path, r, false))
			}
			out = append(out, withValue(doc, path, nil, true))
		}
		switch x := v.(type) {
		case map[string]any:
			out = append(out, withValue(doc, append(append([]any(nil), path...), "zzUnknown"), "v", false))
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(append(append([]any(nil), path...), k), x[k])
			}
		case []any:
			for i, e := range x {
				walk(append(append([]any(nil), path...), i), e)
			}
		}
	}
	walk(nil, doc)
	return out
}

// withValue returns a copy of doc with the node at path set to v (or
// deleted).
func withValue(doc map[string]any, path []any, v any, remove bool) map[string]any {
	c := deepCopy(doc).(map[string]any)
	var cur any = c
	for i, seg := range path {
		last := i == len(path)-1
		switch s := seg.(type) {
		case string:
			m := cur.(map[string]any)
			if last {
				if remove {
					delete(m, s)
				} else {
					m[s] = v
				}
				return c
			}
			cur = m[s]
		case int:
			a := cur.([]any)
			if last {
				if remove {
					a[s] = nil
				} else {
					a[s] = v
				}
				return c
			}
			cur = a[s]
		}
	}
	return c
}

// The fast walk must never call valid what the library rejects, and
// should accept what the library accepts (else it only costs time).
func TestFastPathAgreesWithLibrary(t *testing.T) {
	v := validator(t)
	names := []string{"deployment", "service", "pod", "configmap"}
	docs := []map[string]any{manifest(t, "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {a: YWJj}\ntype: Opaque")}
	for _, n := range names {
		docs = append(docs, manifest(t, realisticManifests[n]))
	}
	checked := 0
	for _, doc := range docs {
		ks, errs := v.lookup(doc)
		if errs != nil {
			t.Fatal(errs)
		}
		for _, variant := range variants(doc) {
			if _, errs := v.lookup(variant); errs != nil {
				continue // apiVersion/kind changed: not this schema
			}
			fast := ks.fast.valid(variant)
			lib := ks.schema.Validate(variant) == nil
			if fast != lib {
				b, _ := json.Marshal(variant)
				t.Fatalf("fast path says valid=%v, library says valid=%v for\n%s", fast, lib, b)
			}
			checked++
		}
	}
	if checked < 1000 {
		t.Fatalf("only %d variants checked", checked)
	}
}
