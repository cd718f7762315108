package fieldmanager_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/kl-dev/kl/pkg/apiserver/fieldmanager"
)

func TestDefaultListKeys(t *testing.T) {
	tests := []struct {
		path string
		want []string
	}{
		{"spec.template.spec.containers", []string{"name"}},
		{"spec.initContainers", []string{"name"}},
		{"spec.containers.env", []string{"name"}},
		{"spec.volumes", []string{"name"}},
		{"spec.imagePullSecrets", []string{"name"}},
		{"spec.containers.volumeMounts", []string{"mountPath"}},
		{"spec.template.spec.containers.ports", []string{"containerPort", "protocol=TCP"}},
		{"spec.initContainers.ports", []string{"containerPort", "protocol=TCP"}},
		{"spec.ports", []string{"port", "protocol=TCP"}},
		{"status.conditions", []string{"type"}},
		{"metadata.ownerReferences", []string{"uid"}},
		{"spec.containers.envFrom", nil},
		{"spec.containers.args", nil},
		{"spec.tolerations", nil},
		{"spec.hostAliases", nil},
		{"metadata.finalizers", nil},
		{"subsets.ports", nil},
		{"", nil},
	}
	for _, tt := range tests {
		var path []string
		if tt.path != "" {
			path = strings.Split(tt.path, ".")
		}
		if got := fieldmanager.DefaultListKeys(path, nil); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %q, want %q", tt.path, got, tt.want)
		}
	}
}

func TestCustomListKeys(t *testing.T) {
	// A custom ListKeyFunc: "rules" keyed by "host", everything else atomic.
	m := &fieldmanager.Manager{ListKeys: func(path []string, _ map[string]any) []string {
		if path[len(path)-1] == "rules" {
			return []string{"host"}
		}
		return nil
	}}
	live, mf, err := m.Apply(nil, nil, obj(t, `{metadata: {name: i}, spec: {rules: [{host: a, path: /}], tls: [{hosts: [a]}]}}`), "kl", "v1", false)
	if err != nil {
		t.Fatal(err)
	}
	mf = m.Update(live, mergePatch(live, obj(t, `{spec: {rules: [{host: a, path: /}, {host: b}]}}`)), mf, "other", "v1")
	live = mergePatch(live, obj(t, `{spec: {rules: [{host: a, path: /}, {host: b}]}}`))
	merged, _, err := m.Apply(live, mf, obj(t, `{metadata: {name: i}, spec: {rules: [{host: a, path: /x}], tls: [{hosts: [b]}]}}`), "kl", "v1", false)
	if err != nil {
		t.Fatal(err)
	}
	want := obj(t, `{metadata: {name: i}, spec: {rules: [{host: a, path: /x}, {host: b}], tls: [{hosts: [b]}]}}`)
	if !fieldmanager.Equal(merged, want) {
		t.Errorf("got %s, want %s", toJSON(t, merged), toJSON(t, want))
	}
}
