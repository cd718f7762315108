package fieldmanager_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/kl-dev/kl/pkg/apiserver/fieldmanager"
)

// Real managedFields entries of a Deployment as Kubernetes writes them: the
// Apply entry of `kubectl apply --server-side` and the Update entry of the
// deployment controller.
const (
	k8sApplyFields  = `{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:image":{},"f:name":{},"f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}}}`
	k8sUpdateFields = `{"f:metadata":{"f:annotations":{".":{},"f:deployment.kubernetes.io/revision":{}}},"f:status":{"f:availableReplicas":{},"f:conditions":{".":{},"k:{\"type\":\"Available\"}":{".":{},"f:lastTransitionTime":{},"f:lastUpdateTime":{},"f:message":{},"f:reason":{},"f:status":{},"f:type":{}},"k:{\"type\":\"Progressing\"}":{".":{},"f:lastTransitionTime":{},"f:lastUpdateTime":{},"f:message":{},"f:reason":{},"f:status":{},"f:type":{}}},"f:observedGeneration":{},"f:readyReplicas":{},"f:replicas":{},"f:updatedReplicas":{}}}`
)

func TestFieldsV1RoundTripsKubernetesEntries(t *testing.T) {
	for _, raw := range []string{k8sApplyFields, k8sUpdateFields, `{}`} {
		s, err := fieldmanager.DecodeFieldsV1([]byte(raw))
		if err != nil {
			t.Fatalf("decode %s: %v", raw, err)
		}
		got, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != raw {
			t.Errorf("round trip changed the bytes:\n%s\nwant\n%s", got, raw)
		}
	}
}

func TestFromValueMatchesKubernetesApplySet(t *testing.T) {
	config := obj(t, `
apiVersion: apps/v1
kind: Deployment
metadata: {labels: {app: web}}
spec:
  replicas: 3
  template:
    spec:
      containers:
      - {name: web, image: nginx, ports: [{containerPort: 80}]}
`)
	delete(config, "apiVersion")
	delete(config, "kind")
	got, _ := json.Marshal(fieldmanager.FromValue(config, nil))
	want := `{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{},"f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}}}`
	if string(got) != want {
		t.Errorf("FieldsV1\n%s\nwant\n%s", got, want)
	}
}

func TestFromValue(t *testing.T) {
	tests := []struct {
		name, value string
		want        []string
	}{
		{"scalars and nested maps", `{a: 1, b: {c: x, d: {e: true}}}`, []string{".a", ".b.c", ".b.d.e"}},
		{"null fields are not owned", `{a: null, b: {c: null}}`, nil},
		{"an empty map is owned as a whole", `{a: {}}`, []string{".a"}},
		{"atomic lists are owned as a whole", `{args: [a, b], tolerations: [{key: k}]}`, []string{".args", ".tolerations"}},
		{"an empty keyed list claims nothing", `{spec: {containers: []}}`, nil},
		{"keyed items own themselves and their fields", `{volumes: [{name: v, emptyDir: {}}]}`,
			[]string{`.volumes[name="v"]`, `.volumes[name="v"].emptyDir`, `.volumes[name="v"].name`}},
		{"a list with a repeated key is atomic", `{env: [{name: A}, {name: A}]}`, []string{".env"}},
		{"a list with an item lacking its key is atomic", `{env: [{name: A}, {value: x}]}`, []string{".env"}},
		{"a list of scalars under a keyed name is atomic", `{env: [a, b]}`, []string{".env"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, p := range fieldmanager.FromValue(obj(t, tt.value), nil).Leaves() {
				got = append(got, p.String())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPathString(t *testing.T) {
	tests := []struct {
		path fieldmanager.Path
		want string
	}{
		{fieldmanager.Path{"f:spec", "f:replicas"}, ".spec.replicas"},
		{fieldmanager.Path{"f:spec", "f:containers", fieldmanager.Key(map[string]any{"name": "web"}), "f:image"},
			`.spec.containers[name="web"].image`},
		{fieldmanager.Path{"f:spec", "f:ports", `k:{"protocol":"TCP","port":80}`}, `.spec.ports[port=80,protocol="TCP"]`},
		{fieldmanager.Path{"f:finalizers", `v:"kl.dev/x"`}, `.finalizers[="kl.dev/x"]`},
		{fieldmanager.Path{"f:items", "i:2"}, ".items[2]"},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := tt.path.String(); got != tt.want {
			t.Errorf("%q: got %s, want %s", []string(tt.path), got, tt.want)
		}
	}
}

func TestDecodeFieldsV1(t *testing.T) {
	tests := []struct {
		name, raw string
		want      []string // leaves, or nil
		wantErr   string
	}{
		{"keys are re-spelled canonically", `{"f:ports":{"k:{\"protocol\":\"TCP\",\"port\":80.0}":{}}}`,
			[]string{`.ports[port=80,protocol="TCP"]`}, ""},
		{"a dot marks the parent itself", `{"f:labels":{".":{},"f:app":{}}}`, []string{".labels", ".labels.app"}, ""},
		{"set and index items are read", `{"f:finalizers":{"v:\"a\"":{}},"f:x":{"i:0":{}}}`, []string{`.finalizers[="a"]`, ".x[0]"}, ""},
		{"an element without a known prefix is an error", `{"spec":{}}`, nil, "no f:, k:, v: or i: prefix"},
		{"a non-object value is an error", `{"f:a":1}`, nil, "is not an object"},
		{"a key element that is not an object is an error", `{"k:[1]":{}}`, nil, "is not a JSON object"},
		{"a negative index is an error", `{"i:-1":{}}`, nil, "non-negative"},
		{"trailing data is an error", `{}}`, nil, "trailing data"},
		{"not JSON is an error", `{`, nil, "decode fieldsV1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := fieldmanager.DecodeFieldsV1([]byte(tt.raw))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range s.Leaves() {
				got = append(got, p.String())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFieldsV1OrdersKeysLikeKubernetes(t *testing.T) {
	// Fields sort by name before keyed items; keyed items by key value,
	// numbers numerically (80 before 443 before 8080).
	s := fieldmanager.NewFieldSet(
		fieldmanager.Path{"f:ports", `k:{"port":8080}`},
		fieldmanager.Path{"f:ports", `k:{"port":443}`},
		fieldmanager.Path{"f:ports", `k:{"port":80}`},
		fieldmanager.Path{"f:ports", "f:b"},
		fieldmanager.Path{"f:a"},
	)
	got, _ := json.Marshal(s)
	want := `{"f:a":{},"f:ports":{"f:b":{},"k:{\"port\":80}":{},"k:{\"port\":443}":{},"k:{\"port\":8080}":{}}}`
	if string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestFieldSetAlgebra(t *testing.T) {
	p := func(s ...string) fieldmanager.Path { return fieldmanager.Path(s) }
	a := fieldmanager.NewFieldSet(p("f:spec", "f:replicas"), p("f:spec", "f:paused"), p("f:metadata"), p("f:metadata", "f:labels", "f:app"))
	b := fieldmanager.NewFieldSet(p("f:spec", "f:replicas"), p("f:metadata", "f:labels", "f:app"), p("f:status"))
	tests := []struct {
		name string
		got  *fieldmanager.FieldSet
		want []string
	}{
		{"union", a.Union(b), []string{".metadata", ".metadata.labels.app", ".spec.paused", ".spec.replicas", ".status"}},
		{"intersection", a.Intersection(b), []string{".metadata.labels.app", ".spec.replicas"}},
		{"difference", a.Difference(b), []string{".metadata", ".spec.paused"}},
		{"difference with nil", a.Difference(nil), []string{".metadata", ".metadata.labels.app", ".spec.paused", ".spec.replicas"}},
		{"difference with itself", a.Difference(a), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, p := range tt.got.Leaves() {
				got = append(got, p.String())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if !a.Has(p("f:metadata")) || a.Has(p("f:metadata", "f:labels")) || !a.Has(p("f:metadata", "f:labels", "f:app")) {
		t.Error("Has: a parent is in the set only when inserted itself")
	}
	if !a.Difference(a).Empty() || a.Empty() || !(*fieldmanager.FieldSet)(nil).Empty() {
		t.Error("Empty is wrong")
	}
	if !a.Union(b).Equal(b.Union(a)) || a.Equal(b) || !a.Difference(a).Equal(nil) {
		t.Error("Equal is wrong")
	}
	var decoded fieldmanager.FieldSet
	raw, _ := json.Marshal(a)
	if err := json.Unmarshal(raw, &decoded); err != nil || !decoded.Equal(a) {
		t.Errorf("JSON round trip: %v, %s", err, raw)
	}
}

func TestEqualComparesNumbersByValue(t *testing.T) {
	tests := []struct {
		a, b any
		want bool
	}{
		{json.Number("3"), float64(3), true},
		{json.Number("3"), json.Number("3.0"), true},
		{json.Number("3"), 3, true},
		{json.Number("3.5"), float64(3.5), true},
		{json.Number("3"), json.Number("4"), false},
		{json.Number("3"), "3", false},
		{map[string]any{"a": []any{json.Number("1")}}, map[string]any{"a": []any{float64(1)}}, true},
		{map[string]any{"a": nil}, map[string]any{}, false},
		{[]any{"a"}, []any{"a", "b"}, false},
		{nil, nil, true},
		{true, false, false},
	}
	for _, tt := range tests {
		if got := fieldmanager.Equal(tt.a, tt.b); got != tt.want {
			t.Errorf("Equal(%#v, %#v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
