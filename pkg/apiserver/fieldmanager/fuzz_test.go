package fieldmanager_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/apiserver/fieldmanager"
)

func fuzzObject(b string) (map[string]any, bool) {
	d := json.NewDecoder(bytes.NewReader([]byte(b)))
	d.UseNumber()
	var m map[string]any
	if d.Decode(&m) != nil || m == nil {
		return nil, false
	}
	return m, true
}

// FuzzApply checks that Apply never panics, never modifies its arguments,
// writes managedFields that decode, and is idempotent: applying the same
// configuration again returns an Equal object and identical entries. live
// is first applied by "a" (config a), then "b" applies config b with
// force, then "b" applies b again.
func FuzzApply(f *testing.F) {
	f.Add(`{"metadata":{"name":"x"},"spec":{"replicas":1}}`,
		`{"metadata":{"name":"x","labels":{"app":"x"}},"spec":{"replicas":2}}`,
		`{"metadata":{"name":"x"},"spec":{"replicas":3,"paused":null}}`)
	f.Fuzz(func(t *testing.T, liveJSON, aJSON, bJSON string) {
		live, ok1 := fuzzObject(liveJSON)
		a, ok2 := fuzzObject(aJSON)
		b, ok3 := fuzzObject(bJSON)
		if !ok1 || !ok2 || !ok3 {
			t.Skip()
		}
		m := &fieldmanager.Manager{Now: func() time.Time { return t0 }}
		before := toJSON(t, []any{live, a, b})

		o1, mf1, err := m.Apply(live, nil, a, "a", "v1", false)
		if err != nil {
			t.Fatalf("first apply (nobody else owns anything): %v", err)
		}
		if toJSON(t, []any{live, a, b}) != before {
			t.Fatal("Apply modified its arguments")
		}
		checkIdempotent(t, m, o1, mf1, a, "a")

		o2, mf2, err := m.Apply(o1, mf1, b, "b", "v1", true)
		if err != nil {
			t.Fatalf("forced apply: %v", err)
		}
		checkIdempotent(t, m, o2, mf2, b, "b")

		// An update that changes nothing keeps every entry.
		if got := m.Update(o2, o2, mf2, "c", "v1"); toJSON(t, got) != toJSON(t, mf2) {
			t.Fatalf("no-op update changed managedFields:\n%s\n%s", toJSON(t, got), toJSON(t, mf2))
		}
	})
}

func checkIdempotent(t *testing.T, m *fieldmanager.Manager, live map[string]any, managed []meta.ManagedFieldsEntry, config map[string]any, manager string) {
	t.Helper()
	if err := fieldmanager.ValidateManagedFields(managed); err != nil {
		t.Fatalf("Apply wrote invalid managedFields: %v", err)
	}
	again, mf, err := m.Apply(live, managed, config, manager, "v1", false)
	if err != nil {
		t.Fatalf("re-apply by %s: %v", manager, err)
	}
	if !fieldmanager.Equal(again, live) {
		t.Fatalf("re-apply by %s changed the object:\n%s\nwas\n%s", manager, toJSON(t, again), toJSON(t, live))
	}
	if toJSON(t, mf) != toJSON(t, managed) {
		t.Fatalf("re-apply by %s changed managedFields:\n%s\nwas\n%s", manager, toJSON(t, mf), toJSON(t, managed))
	}
}
