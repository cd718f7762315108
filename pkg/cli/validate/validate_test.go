package validate

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/validation"
)

// chdirTree writes files (path -> content) into a temp dir and makes it
// the working directory, so that output shows short relative paths.
func chdirTree(t *testing.T, files map[string]string) {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
}

const validDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
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
        image: nginx:1.27
`

const invalidDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
spec:
  replicas: "3"
  replica: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx
        imagePullPolicy: Sometimes
---
apiVersion: v1
kind: Service
metadata: {name: Web, namespace: shop}
spec:
  ports: [{port: 80}]
---
apiVersion: v1
kind: Gizmo
metadata: {name: g}
`

func run(t *testing.T, opts *Options) (string, error) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	opts.IO = ios
	if opts.Validator == nil {
		opts.Validator = sharedValidator
	}
	if opts.Output == "" {
		opts.Output = "text"
	}
	err := runValidate(context.Background(), opts)
	if errOut.Len() > 0 {
		t.Errorf("stderr: %s", errOut)
	}
	return out.String(), err
}

func wantExit1(t *testing.T, err error) {
	t.Helper()
	var exit *cmdutil.ExitError
	if !errors.As(err, &exit) || exit.Code != 1 || exit.Err != nil {
		t.Errorf("error = %#v, want a silent exit code 1", err)
	}
}

func TestRunValidate_ReportsEveryProblemWithPosition(t *testing.T) {
	chdirTree(t, map[string]string{
		"deploy/a-web.yaml":    validDeployment,
		"deploy/b-bad.yaml":    invalidDeployment,
		"deploy/c-ns.yaml":     "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n",
		"deploy/d-broken.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [oops\n",
	})
	out, err := run(t, &Options{Filenames: []string{"deploy"}})
	wantExit1(t, err)
	want := `deploy/b-bad.yaml:7:3: Deployment shop/api: spec.replicas: Invalid value: "3": expected integer, got string
deploy/b-bad.yaml:8:3: Deployment shop/api: spec.replica: unknown field "replica" (did you mean "replicas"?)
deploy/b-bad.yaml:18:9: Deployment shop/api: spec.template.spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": must be one of "Always", "Never", "IfNotPresent"
deploy/b-bad.yaml:22:12: Service shop/Web: metadata.name: Invalid value: "Web": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')
deploy/b-bad.yaml:27:1: Gizmo g: kind: unknown kind "Gizmo" for apiVersion "v1"; supported kinds: Binding, ConfigMap, Deployment, Endpoints, Event, Lease, Namespace, Node, Pod, ReplicaSet, Scale, Secret, Service, ServiceAccount
deploy/d-broken.yaml:4: invalid YAML: did not find expected ',' or ']'
2 valid, 4 invalid
`
	if out != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
}

func TestRunValidate_AllValid(t *testing.T) {
	chdirTree(t, map[string]string{
		"web.yaml": validDeployment,
		"ns.yaml":  "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n",
	})
	out, err := run(t, &Options{Filenames: []string{"web.yaml", "ns.yaml"}})
	if err != nil {
		t.Fatalf("err = %v", err)
	}
	if out != "2 valid, 0 invalid\n" {
		t.Errorf("output = %q", out)
	}
}

func TestRunValidate_JSON(t *testing.T) {
	chdirTree(t, map[string]string{"bad.yaml": invalidDeployment, "ok.yaml": validDeployment})
	out, err := run(t, &Options{Filenames: []string{"bad.yaml"}, Output: "json"})
	wantExit1(t, err)
	var rep struct {
		Valid    int              `json:"valid"`
		Invalid  int              `json:"invalid"`
		Problems []map[string]any `json:"problems"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if rep.Valid != 0 || rep.Invalid != 3 || len(rep.Problems) != 5 {
		t.Errorf("got %d valid, %d invalid, %d problems", rep.Valid, rep.Invalid, len(rep.Problems))
	}
	want := map[string]any{"file": "bad.yaml", "line": 7.0, "column": 3.0, "object": "Deployment shop/api",
		"field": "spec.replicas", "message": `Invalid value: "3": expected integer, got string`}
	if !reflect.DeepEqual(rep.Problems[0], want) {
		t.Errorf("first problem = %v, want %v", rep.Problems[0], want)
	}

	out, err = run(t, &Options{Filenames: []string{"ok.yaml"}, Output: "json"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "{\n  \"valid\": 1,\n  \"invalid\": 0,\n  \"problems\": []\n}\n"; out != want {
		t.Errorf("valid JSON report = %q, want %q", out, want)
	}
}

func TestRunValidate_Stdin(t *testing.T) {
	ios, in, out, _ := iostreams.Test()
	in.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  n: 1\n")
	err := runValidate(context.Background(), &Options{IO: ios, Filenames: []string{"-"}, Output: "text", Validator: sharedValidator})
	wantExit1(t, err)
	want := "-:6:3: ConfigMap c: data.n: Invalid value: 1: expected string, got number\n0 valid, 1 invalid\n"
	if out.String() != want {
		t.Errorf("output = %q, want %q", out, want)
	}
}

func TestRunValidate_UnreadableInputs(t *testing.T) {
	chdirTree(t, map[string]string{"empty.yaml": "", "dir/README": "x"})
	out, err := run(t, &Options{Filenames: []string{"missing.yaml", "empty.yaml", "dir"}})
	wantExit1(t, err)
	want := `dir: no manifests (.yaml, .yml, .json) found in directory (use -R to read subdirectories)
empty.yaml: no objects found
missing.yaml: no such file or directory
0 valid, 3 invalid
`
	if out != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
}

func TestRunValidate_SchemaLoadFailure(t *testing.T) {
	_, err := run(t, &Options{Filenames: []string{"x"}, Validator: func() (*validation.Validator, error) {
		return nil, errors.New("boom")
	}})
	if err == nil || err.Error() != "load schemas: boom" {
		t.Errorf("err = %v", err)
	}
}

func TestValidate_NotStricterThanKubectl(t *testing.T) {
	chdirTree(t, map[string]string{"a.yaml": `apiVersion: v1
kind: Namespace
metadata: {name: shop, namespace: ignored}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: no-namespace}
data: {a: b}
---
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers: [{name: c, image: busybox}]
`})
	rep, err := Validate(context.Background(), validator(t), []string{"a.yaml"}, manifestOptions())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Valid != 3 || rep.Invalid != 0 {
		t.Errorf("got %d valid, %d invalid: %v", rep.Valid, rep.Invalid, problemLines(rep))
	}
}

func TestValidate_ReadProblemsCountOncePerDocument(t *testing.T) {
	chdirTree(t, map[string]string{"a.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {name: c}
data:
  a: "1"
  a: "2"
  b: "1"
  b: "2"
`})
	rep, err := Validate(context.Background(), validator(t), []string{"a.yaml"}, manifestOptions())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Invalid != 1 || len(rep.Problems) != 2 {
		t.Errorf("got %d invalid, problems %v", rep.Invalid, problemLines(rep))
	}
}

func TestValidate_Cancelled(t *testing.T) {
	chdirTree(t, map[string]string{"a.yaml": validDeployment})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Validate(ctx, validator(t), []string{"a.yaml"}, manifestOptions()); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func problemLines(rep *Report) []string {
	var out []string
	for _, p := range rep.Problems {
		out = append(out, p.String())
	}
	return out
}

func TestNewCmdValidate_Flags(t *testing.T) {
	tests := []struct {
		args      []string
		wantFiles []string
		wantR     bool
		wantOut   string
		wantErr   string
	}{
		{args: []string{"-f", "a.yaml"}, wantFiles: []string{"a.yaml"}, wantOut: "text"},
		{args: []string{"-f", "a.yaml,b.yaml", "-f", "dir", "-R", "-o", "json"}, wantFiles: []string{"a.yaml", "b.yaml", "dir"}, wantR: true, wantOut: "json"},
		{args: []string{"--filename", "-", "--recursive"}, wantFiles: []string{"-"}, wantR: true, wantOut: "text"},
		{args: []string{"deploy/"}, wantFiles: []string{"deploy/"}, wantOut: "text"},
		{args: nil, wantErr: "must specify one or more files or directories with -f"},
		{args: []string{"-f", "a", "-o", "yaml"}, wantErr: `unknown output format "yaml" for -o: want text or json`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			var got *Options
			cmd := NewCmdValidate(&cmdutil.Factory{IOStreams: ios}, func(o *Options) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(ios.Out)
			cmd.SetErr(ios.ErrOut)
			err := cmd.Execute()
			if tt.wantErr != "" {
				var fe *cmdutil.FlagError
				if !errors.As(err, &fe) || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want FlagError %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Filenames, tt.wantFiles) || got.Recursive != tt.wantR || got.Output != tt.wantOut {
				t.Errorf("got files %v recursive %v output %q", got.Filenames, got.Recursive, got.Output)
			}
		})
	}
}
