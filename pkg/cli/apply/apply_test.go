package apply

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/apiserver/apiservertest"
	"github.com/kl-dev/kl/pkg/applyset"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/cli/resource"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/manifest"
	"github.com/kl-dev/kl/pkg/validation"
)

func parse(t *testing.T, args ...string) (*Options, error) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	var got *Options
	cmd := NewCmdApply(cmdutil.NewFactory(ios), func(o *Options) error { got = o; return nil })
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	return got, cmd.Execute()
}

func TestNewCmdApplyParsesFlags(t *testing.T) {
	o, err := parse(t, "-f", "a.yaml", "-f", "dir", "-R")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(o.Filenames, ",") != "a.yaml,dir" || !o.Recursive || o.DryRun != "none" || o.FieldManager != "kl" ||
		o.Timeout != 5*time.Minute || o.Prune || o.Wait || o.ForceConflicts || o.Output != "" {
		t.Errorf("defaults: %+v", o)
	}
	o, err = parse(t, "-f", "d", "--prune", "--force", "-l", "app=web", "--applyset", "shop", "--dry-run=server",
		"--field-manager", "ci", "--force-conflicts", "-o", "name")
	if err != nil {
		t.Fatal(err)
	}
	if !o.Prune || !o.Force || o.Selector != "app=web" || o.ApplySet != "shop" || o.DryRun != "server" ||
		o.FieldManager != "ci" || !o.ForceConflicts || o.Output != "name" {
		t.Errorf("options %+v", o)
	}
	o, err = parse(t, "-f", "d", "--wait", "--timeout", "30s")
	if err != nil || !o.Wait || o.Timeout != 30*time.Second {
		t.Errorf("options %+v, %v", o, err)
	}
}

func TestNewCmdApplyRejectsBadUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "must specify one or more files or directories with -f"},
		{[]string{"-f", "a", "extra"}, "unknown command"},
		{[]string{"-f", "a", "--dry-run", "maybe"}, `invalid --dry-run "maybe"`},
		{[]string{"-f", "a", "--force"}, "--force is only used with --prune"},
		{[]string{"-f", "a", "--wait", "--dry-run=client"}, "--wait cannot be used with --dry-run"},
		{[]string{"-f", "a", "--wait", "--timeout", "0s"}, "--timeout must be positive"},
		{[]string{"-f", "a", "--field-manager", ""}, "--field-manager must not be empty"},
		{[]string{"-f", "a", "-o", "wide"}, `unknown output format "wide"`},
		{[]string{"-f", "a", "-l", "a in (b"}, "unable to parse selector"},
	} {
		_, err := parse(t, tt.args...)
		var fe *cmdutil.FlagError
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: got %v, want %q", tt.args, err, tt.want)
		} else if !errors.As(err, &fe) {
			t.Errorf("%v: %v is not a usage error", tt.args, err)
		}
	}
}

func object(kind, group, name string) *applyset.Object {
	return &applyset.Object{
		Manifest: &manifest.Object{Source: manifest.Source{File: "app.yaml", Line: 1, Column: 1}, Kind: kind},
		Mapping:  resource.Mapping{GVR: meta.GroupVersionResource{Group: group, Version: "v1"}, Kind: kind},
		Name:     name,
	}
}

func TestReporterPrintsInInputOrderWhateverOrderResultsComeIn(t *testing.T) {
	objs := []*applyset.Object{object("Namespace", "", "shop"), object("Deployment", "apps", "web"), object("ConfigMap", "", "cfg")}
	var out, errOut bytes.Buffer
	r := newReporter(&out, &errOut, "", applyset.DryRunServer, objs)
	r.applied(2, &applyset.Result{Action: applyset.Unchanged})
	if out.Len() != 0 {
		t.Fatalf("printed %q before the first object's result", out.String())
	}
	r.applied(0, &applyset.Result{Action: applyset.Created})
	if out.String() != "namespace/shop created (server dry run)\n" {
		t.Fatalf("after the first result: %q", out.String())
	}
	conflict := meta.NewConflict("apps", "deployments", "web", "Apply failed")
	conflict.Status.Details.Causes = []meta.StatusCause{{Type: "FieldManagerConflict", Field: ".spec.replicas"}}
	r.applied(1, &applyset.Result{Err: conflict})
	r.pruned(&applyset.Candidate{Member: applyset.Member{Kind: "Service", Name: "old"}, Mapping: resource.Mapping{Kind: "Service"}})
	want := "namespace/shop created (server dry run)\nconfigmap/cfg unchanged (server dry run)\nservice/old pruned (server dry run)\n"
	if out.String() != want {
		t.Errorf("output %q, want %q", out.String(), want)
	}
	if !strings.HasPrefix(errOut.String(), "Error from server (Conflict): error when applying deployment.apps/web from app.yaml:1:1: ") ||
		!strings.Contains(errOut.String(), "\nhint: ") {
		t.Errorf("errors %q", errOut.String())
	}
}

func testOptions(t *testing.T, url string) (*Options, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	return &Options{
		IO: ios,
		Client: func() (*client.Client, error) {
			if url == "" {
				t.Error("the server was contacted")
				return nil, errors.New("no server")
			}
			return client.New(client.Config{Servers: []string{url}, Timeout: 10 * time.Second})
		},
		Namespace:    func() (string, bool, error) { return "default", false, nil },
		Validator:    validation.NewValidator,
		DryRun:       "none",
		FieldManager: "kl",
		Timeout:      time.Minute,
	}, out, errOut
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestRunApplySendsNothingWhenAManifestIsInvalid(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"ok.yaml":  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n",
		"bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name}\n",
	})
	opts, out, errOut := testOptions(t, "") // any request fails the test
	opts.Filenames = []string{dir}
	err := runApply(context.Background(), opts)
	if err == nil || err.Error() != "1 of 2 manifests invalid: nothing applied" {
		t.Errorf("err = %v", err)
	}
	if out.Len() != 0 || !strings.Contains(errOut.String(), "bad.yaml:3:") || !strings.Contains(errOut.String(), "metadata.name") {
		t.Errorf("stdout %q, stderr %q", out, errOut)
	}
}

func TestRunApplyThenPrune(t *testing.T) {
	url := apiservertest.Start(t)
	dir := writeFiles(t, map[string]string{
		"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
		"b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n",
	})
	opts, out, _ := testOptions(t, url)
	opts.Filenames = []string{dir}
	if err := runApply(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if out.String() != "configmap/a created\nconfigmap/b created\n" {
		t.Errorf("first apply: %q", out)
	}
	if err := os.Remove(filepath.Join(dir, "b.yaml")); err != nil {
		t.Fatal(err)
	}
	opts, out, _ = testOptions(t, url)
	opts.Filenames, opts.Prune = []string{dir}, true
	if err := runApply(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if out.String() != "configmap/a unchanged\nconfigmap/b pruned\n" {
		t.Errorf("prune: %q", out)
	}
}
