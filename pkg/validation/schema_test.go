package validation

import (
	"encoding/json"
	"github.com/kl-dev/kl/pkg/suggest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const deploymentYAML = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.25
`

// deploymentWith returns deploymentYAML with the line `old` replaced.
func deploymentWith(old, new string) string {
	if !strings.Contains(deploymentYAML, old) {
		panic("no " + old)
	}
	return strings.Replace(deploymentYAML, old, new, 1)
}

func TestSchemaErrorMessages(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
		path [][]string // raw instance paths, one per error (optional)
	}{
		{
			name: "wrong type",
			doc:  deploymentWith("replicas: 2", `replicas: "2"`),
			want: []string{`spec.replicas: Invalid value: "2": expected integer, got string`},
			path: [][]string{{"spec", "replicas"}},
		},
		{
			name: "unknown field with suggestion",
			doc:  deploymentWith("replicas: 2", "replica: 2"),
			want: []string{`spec.replica: unknown field "replica" (did you mean "replicas"?)`},
			path: [][]string{{"spec", "replica"}},
		},
		{
			name: "unknown field differing in case",
			doc:  deploymentWith("image: nginx:1.25", "image: nginx:1.25\n        ImagePullPolicy: Always"),
			want: []string{`spec.template.spec.containers[0].ImagePullPolicy: unknown field "ImagePullPolicy" (did you mean "imagePullPolicy"?)`},
		},
		{
			name: "unknown field without a close match",
			doc:  deploymentWith("replicas: 2", "replicas: 2\n  colour: blue"),
			want: []string{`spec.colour: unknown field "colour"`},
		},
		{
			name: "enum",
			doc:  deploymentWith("      containers:", "      restartPolicy: Sometimes\n      containers:"),
			want: []string{`spec.template.spec.restartPolicy: Unsupported value: "Sometimes": must be one of "Always", "OnFailure", "Never"`},
		},
		{
			name: "missing required field",
			doc:  deploymentWith("- name: web\n        image", "- image"),
			want: []string{`spec.template.spec.containers[0].name: Required value: missing required field "name"`},
			path: [][]string{{"spec", "template", "spec", "containers", "0"}},
		},
		{
			name: "unsupported volume source",
			doc: deploymentWith("      containers:", `      volumes:
      - name: data
        persistentVolumeClaim: {claimName: data}
      containers:`),
			want: []string{`spec.template.spec.volumes[0].persistentVolumeClaim: volume source "persistentVolumeClaim" is not supported by kl (supported: emptyDir, configMap, secret, hostPath)`},
			path: [][]string{{"spec", "template", "spec", "volumes", "0", "persistentVolumeClaim"}},
		},
		{
			name: "int32 out of range",
			doc:  deploymentWith("replicas: 2", "replicas: 3000000000"),
			want: []string{`spec.replicas: Invalid value: 3000000000: must be less than or equal to 2147483647`},
		},
		{
			name: "quantity syntax",
			doc:  deploymentWith("image: nginx:1.25", "image: nginx:1.25\n        resources: {limits: {cpu: 1 core}}"),
			want: []string{`spec.template.spec.containers[0].resources.limits.cpu: Invalid value: "1 core": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`},
		},
		{
			name: "quantity the pattern allows but the parser rejects",
			doc:  deploymentWith("image: nginx:1.25", "image: nginx:1.25\n        resources: {limits: {cpu: 1.2.3, memory: 1e5000}}"),
			want: []string{
				`spec.template.spec.containers[0].resources.limits.cpu: Invalid value: "1.2.3": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
				`spec.template.spec.containers[0].resources.limits.memory: Invalid value: "1e5000": unable to parse quantity's suffix: exponent 5000 is out of range [-1024, 1024]`,
			},
		},
		{
			name: "numeric quantity",
			doc:  deploymentWith("image: nginx:1.25", "image: nginx:1.25\n        resources: {limits: {cpu: 2, memory: 1.5}}"),
			want: nil,
		},
		{
			name: "timestamp format",
			doc:  deploymentWith("name: web\nspec", "name: web\n  creationTimestamp: yesterday\nspec"),
			want: []string{`metadata.creationTimestamp: Invalid value: "yesterday": must be an RFC 3339 date-time (e.g. "2006-01-02T15:04:05Z")`},
		},
		{
			name: "object where a list is expected",
			doc:  deploymentWith("      containers:\n      - name: web\n        image: nginx:1.25", "      containers: {name: web}"),
			want: []string{`spec.template.spec.containers: Invalid value: expected array, got object`},
		},
		{
			name: "label keys render in brackets",
			doc:  deploymentWith("name: web\nspec", "name: web\n  labels: {app.kubernetes.io/name: 3}\nspec"),
			want: []string{`metadata.labels[app.kubernetes.io/name]: Invalid value: 3: expected string, got number`},
		},
		{
			name: "several errors sorted by field",
			doc:  deploymentWith("replicas: 2", "replicas: -x\n  paused: maybe"),
			want: []string{
				`spec.paused: Invalid value: "maybe": expected boolean, got string`,
				`spec.replicas: Invalid value: "-x": expected integer, got string`,
			},
		},
		{
			name: "null is accepted for optional values",
			doc:  deploymentWith("replicas: 2", "replicas:\n  strategy:"),
			want: nil,
		},
	}
	v := validator(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := v.ValidateSchema(manifest(t, tt.doc))
			if got := errorStrings(errs); !reflect.DeepEqual(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Fatalf("errors =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			for i, p := range tt.path {
				if !reflect.DeepEqual(errs[i].Path, p) {
					t.Errorf("error %d Path = %q, want %q", i, errs[i].Path, p)
				}
			}
		})
	}
}

func TestSchemaUnknownKinds(t *testing.T) {
	tests := []struct {
		name, doc string
		want      []string
	}{
		{"unknown kind", "apiVersion: v1\nkind: Foo\nmetadata: {name: x}",
			[]string{`kind: unknown kind "Foo" for apiVersion "v1"; supported kinds: Binding, ConfigMap, Deployment, Endpoints, Event, Lease, Namespace, Node, Pod, ReplicaSet, Scale, Secret, Service, ServiceAccount`}},
		{"known kind, wrong apiVersion", "apiVersion: v1\nkind: Deployment\nmetadata: {name: x}",
			[]string{`kind: unknown kind "Deployment" for apiVersion "v1" (did you mean apiVersion "apps/v1"?)`}},
		{"missing apiVersion and kind", "metadata: {name: x}",
			[]string{`apiVersion: Required value: missing required field "apiVersion"`, `kind: Required value: missing required field "kind"`}},
		{"kind not a string", "apiVersion: v1\nkind: 3",
			[]string{`kind: Invalid value: 3: expected string, got number`}},
	}
	v := validator(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errorStrings(v.ValidateSchema(manifest(t, tt.doc))); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestSchemaSecretDataMustBeBase64(t *testing.T) {
	v := validator(t)
	errs := v.ValidateSchema(manifest(t, "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {password: 'not base64!'}"))
	want := []string{`data.password: Invalid value: must be base64-encoded`}
	if got := errorStrings(errs); !reflect.DeepEqual(got, want) {
		t.Errorf("errors = %q, want %q", got, want)
	}
}

// Every object encoded by the Go types must pass the schema: controllers
// write what they decode. Empty objects exercise null lists and zero
// values.
func TestSchemaAcceptsGoEncodedObjects(t *testing.T) {
	v := validator(t)
	for _, k := range v.Kinds() {
		obj := NewObject(k.APIVersion(), k.Kind)
		if obj == nil {
			t.Errorf("%s %s: no Go type", k.APIVersion(), k.Kind)
			continue
		}
		if errs := v.ValidateSchema(toMap(t, obj)); errs != nil {
			t.Errorf("empty %s: %v", k.Kind, errs)
		}
	}
}

// The API packages keep Kubernetes-written JSON fixtures; every one must
// pass the schema, so manifests written for Kubernetes apply unchanged.
func TestSchemaAcceptsKubernetesFixtures(t *testing.T) {
	files, err := filepath.Glob("../api/*/*/testdata/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skip("no fixtures in pkg/api/*/*/testdata")
	}
	v := validator(t)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var obj map[string]any
		if err := json.Unmarshal(b, &obj); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if errs := v.ValidateSchema(obj); errs != nil {
			t.Errorf("%s: %v", f, errs)
		}
	}
}

func TestSuggest(t *testing.T) {
	cands := []string{"replicas", "selector", "template", "strategy", "minReadySeconds"}
	tests := map[string]string{
		"replica":        "replicas",
		"Replicas":       "replicas",
		"selecter":       "selector",
		"minReadySecond": "minReadySeconds",
		"colour":         "",
		"x":              "",
	}
	for in, want := range tests {
		if got := suggest.Closest(in, cands); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}
