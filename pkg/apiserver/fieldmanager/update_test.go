package fieldmanager_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/apiserver/fieldmanager"
)

func applied(t *testing.T, m *fieldmanager.Manager, config string) (map[string]any, []meta.ManagedFieldsEntry) {
	t.Helper()
	o, mf, err := m.Apply(nil, nil, obj(t, config), "kl", "apps/v1", false)
	if err != nil {
		t.Fatal(err)
	}
	return o, mf
}

func TestUpdateKeepsNoBookkeepingForObjectsNobodyApplied(t *testing.T) {
	m := &fieldmanager.Manager{}
	old := obj(t, `{metadata: {name: rs}, spec: {replicas: 1}}`)
	if got := m.Update(old, mergePatch(old, obj(t, `{spec: {replicas: 2}}`)), nil, "replicaset-controller", "apps/v1"); got != nil {
		t.Errorf("got %v, want nil", got)
	}
}

func TestUpdateRecordsChangedFields(t *testing.T) {
	later := t0.Add(time.Hour)
	m := &fieldmanager.Manager{Now: func() time.Time { return t0 }}
	live, mf := applied(t, m, `{metadata: {name: web, labels: {app: web}}, spec: {replicas: 3}}`)
	m.Now = func() time.Time { return later }

	next := mergePatch(live, obj(t, `{metadata: {annotations: {note: hi}}, spec: {replicas: 5}}`))
	got := m.Update(live, next, mf, "kl-edit", "apps/v1")
	if len(got) != 2 {
		t.Fatalf("want 2 entries, got %s", toJSON(t, got))
	}
	if !reflect.DeepEqual(got[0].Time, mf[0].Time) {
		t.Errorf("the applier's entry time moved: %v -> %v", mf[0].Time, got[0].Time)
	}
	e := got[1]
	if e.Manager != "kl-edit" || e.Operation != "Update" || e.APIVersion != "apps/v1" || e.FieldsType != "FieldsV1" || !e.Time.Time.Equal(later) {
		t.Errorf("new entry %s", toJSON(t, e))
	}
	// A map the write created is owned as a whole ("."), as in Kubernetes.
	if want := `{"f:metadata":{"f:annotations":{".":{},"f:note":{}}},"f:spec":{"f:replicas":{}}}`; string(*e.FieldsV1) != want {
		t.Errorf("fieldsV1 %s, want %s", *e.FieldsV1, want)
	}
	if want := `{"f:metadata":{"f:labels":{"f:app":{}}}}`; string(*got[0].FieldsV1) != want {
		t.Errorf("applier fieldsV1 %s, want %s", *got[0].FieldsV1, want)
	}

	// A second write by the same manager extends its entry.
	next2 := mergePatch(next, obj(t, `{spec: {paused: true}}`))
	got2 := m.Update(next, next2, got, "kl-edit", "apps/v1")
	if want := `{"f:metadata":{"f:annotations":{".":{},"f:note":{}}},"f:spec":{"f:paused":{},"f:replicas":{}}}`; len(got2) != 2 || string(*got2[1].FieldsV1) != want {
		t.Errorf("entries %s, want kl-edit to own %s", toJSON(t, got2), want)
	}
}

func TestUpdateWithoutChangesKeepsEntries(t *testing.T) {
	m := &fieldmanager.Manager{Now: func() time.Time { return t0 }}
	live, mf := applied(t, m, `{metadata: {name: web}, spec: {replicas: 3}}`)
	m.Now = func() time.Time { return t0.Add(time.Hour) }
	tests := map[string]map[string]any{
		"same object":             live,
		"status only":             mergePatch(live, obj(t, `{status: {replicas: 3}}`)),
		"identity and system":     mergePatch(live, obj(t, `{metadata: {resourceVersion: "9", generation: 2, uid: x}}`)),
		"numbers spelled another": mergePatch(live, map[string]any{"spec": map[string]any{"replicas": float64(3)}}),
	}
	for name, next := range tests {
		t.Run(name, func(t *testing.T) {
			if got := m.Update(live, next, mf, "kl-edit", "apps/v1"); !reflect.DeepEqual(got, mf) {
				t.Errorf("entries changed:\n%s\nwant\n%s", toJSON(t, got), toJSON(t, mf))
			}
		})
	}
}

func TestUpdateDropsUndecodableEntries(t *testing.T) {
	m := &fieldmanager.Manager{Now: func() time.Time { return t0 }}
	live, mf := applied(t, m, `{metadata: {name: web}, spec: {replicas: 3}}`)
	bad := meta.RawJSON(`{"nope":{}}`)
	mf = append(mf, meta.ManagedFieldsEntry{Manager: "broken", Operation: "Update", FieldsType: "FieldsV1", FieldsV1: &bad})
	got := m.Update(live, mergePatch(live, obj(t, `{spec: {paused: true}}`)), mf, "kl-edit", "apps/v1")
	if o := owners(t, got); !reflect.DeepEqual(o, map[string][]string{"kl/Apply": {".spec.replicas"}, "kl-edit/Update": {".spec.paused"}}) {
		t.Errorf("owners %v", o)
	}
	if _, _, err := m.Apply(live, mf, obj(t, `{metadata: {name: web}}`), "kl", "apps/v1", false); err == nil {
		t.Error("Apply accepted an undecodable managedFields entry")
	}
}

func TestApplyFoldsDuplicateEntries(t *testing.T) {
	m := &fieldmanager.Manager{Now: func() time.Time { return t0 }}
	live := obj(t, `{metadata: {name: web}, spec: {replicas: 3, paused: true}}`)
	a, b := meta.RawJSON(`{"f:spec":{"f:replicas":{}}}`), meta.RawJSON(`{"f:spec":{"f:paused":{}}}`)
	mf := []meta.ManagedFieldsEntry{
		{Manager: "x", Operation: "Update", APIVersion: "apps/v1", FieldsType: "FieldsV1", FieldsV1: &a},
		{Manager: "x", Operation: "Update", APIVersion: "apps/v1", FieldsType: "FieldsV1", FieldsV1: &b},
	}
	_, got, err := m.Apply(live, mf, obj(t, `{metadata: {name: web}, spec: {replicas: 3}}`), "kl", "apps/v1", false)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"x/Update": {".spec.paused", ".spec.replicas"}, "kl/Apply": {".spec.replicas"}}
	if o := owners(t, got); !reflect.DeepEqual(o, want) {
		t.Errorf("owners %v, want %v", o, want)
	}
}

func TestApplyComparesNumbersByValue(t *testing.T) {
	m := &fieldmanager.Manager{Now: func() time.Time { return t0 }}
	live, mf := applied(t, m, `{metadata: {name: web}, spec: {replicas: 3, template: {spec: {containers: [{name: web, ports: [{containerPort: 80}]}]}}}}`)
	mf = m.Update(live, mergePatch(live, obj(t, `{spec: {minReadySeconds: 10}}`)), mf, "kl-edit", "apps/v1")
	live = mergePatch(live, obj(t, `{spec: {minReadySeconds: 10}}`))

	// The same configuration decoded without UseNumber: float64 everywhere.
	var config map[string]any
	if err := json.Unmarshal([]byte(`{"metadata":{"name":"web"},"spec":{"replicas":3.0,"minReadySeconds":10,"template":{"spec":{"containers":[{"name":"web","ports":[{"containerPort":80}]}]}}}}`), &config); err != nil {
		t.Fatal(err)
	}
	merged, got, err := m.Apply(live, mf, config, "kl", "apps/v1", false)
	if err != nil {
		t.Fatalf("equal numbers conflicted: %v", err)
	}
	if !reflect.DeepEqual(merged, live) {
		t.Errorf("merged object is not exactly live:\n%s\n%s", toJSON(t, merged), toJSON(t, live))
	}
	if o := owners(t, got); !reflect.DeepEqual(o["kl-edit/Update"], []string{".spec.minReadySeconds"}) {
		t.Errorf("setting the same value must share ownership, owners %v", o)
	}
}

func TestApplyEntryTimeMovesOnlyWhenSomethingChanged(t *testing.T) {
	now := t0
	m := &fieldmanager.Manager{Now: func() time.Time { return now }}
	live, mf := applied(t, m, deployment)
	tests := []struct {
		name     string
		config   string
		wantTime time.Time
	}{
		{"unchanged config keeps the time", deployment, t0},
		{"a changed value moves it", strings.Replace(deployment, "nginx:1.25", "nginx:1.26", 1), t0.Add(time.Hour)},
		{"a changed field set moves it", strings.Replace(deployment, "replicas: 3", "paused: false", 1), t0.Add(2 * time.Hour)},
		{"unchanged again keeps it", strings.Replace(deployment, "replicas: 3", "paused: false", 1), t0.Add(2 * time.Hour)},
	}
	for i, tt := range tests {
		now = t0.Add(time.Duration(i) * time.Hour)
		var err error
		live, mf, err = m.Apply(live, mf, obj(t, tt.config), "kl", "apps/v1", false)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := mf[0].Time.Time; !got.Equal(tt.wantTime) {
			t.Errorf("%s: time %v, want %v", tt.name, got, tt.wantTime)
		}
	}
}
