package diff

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/cli/resource"
)

func parse(t *testing.T, args ...string) (*Options, error) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	var got *Options
	cmd := NewCmdDiff(cmdutil.NewFactory(ios), func(o *Options) error { got = o; return nil })
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	return got, cmd.Execute()
}

func TestNewCmdDiffParsesFlags(t *testing.T) {
	o, err := parse(t, "-f", "a.yaml", "-R", "--prune", "--summary", "-l", "app=web", "--applyset", "shop", "--force-conflicts")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(o.Filenames, ",") != "a.yaml" || !o.Recursive || !o.Prune || !o.Summary || o.Selector != "app=web" ||
		o.ApplySet != "shop" || !o.ForceConflicts || o.FieldManager != "kl" {
		t.Errorf("options %+v", o)
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	for _, args := range [][]string{nil, {"-f", "a", "--bogus"}, {"-f", "a", "-l", "a in (b"}, {"-f", "a", "--field-manager="}} {
		_, err := parse(t, args...)
		var exitErr *cmdutil.ExitError
		var flagErr *cmdutil.FlagError
		if !errors.As(err, &exitErr) || exitErr.Code != 2 || !errors.As(err, &flagErr) {
			t.Errorf("%v: %#v, want exit code 2 and a usage error", args, err)
		}
	}
}

func TestCleanYAMLLeavesOutServerManagedFields(t *testing.T) {
	raw := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg","namespace":"shop","uid":"u","resourceVersion":"7",
"generation":2,"creationTimestamp":"2026-01-01T00:00:00Z","managedFields":[{"manager":"kl"}],"labels":{"a":"b"}},
"data":{"big":12345678901234567890},"status":{"x":1}}`
	got, err := cleanYAML([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	want := "apiVersion: v1\ndata:\n  big: 12345678901234567890\nkind: ConfigMap\nmetadata:\n  labels:\n    a: b\n  name: cfg\n  namespace: shop\n"
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestDiffNameIsKubectls(t *testing.T) {
	for _, tt := range []struct {
		m        resource.Mapping
		ns, name string
		want     string
	}{
		{resource.Mapping{GVR: meta.GroupVersionResource{Group: "apps", Version: "v1"}, Kind: "Deployment"}, "shop", "web", "apps.v1.Deployment.shop.web"},
		{resource.Mapping{GVR: meta.GroupVersionResource{Version: "v1"}, Kind: "ConfigMap"}, "shop", "cfg", "v1.ConfigMap.shop.cfg"},
		{resource.Mapping{GVR: meta.GroupVersionResource{Version: "v1"}, Kind: "Namespace"}, "", "shop", "v1.Namespace.shop"},
	} {
		if got := diffName(tt.m, tt.ns, tt.name); got != tt.want {
			t.Errorf("diffName = %q, want %q", got, tt.want)
		}
	}
}

var entries = []*entry{
	{ref: "configmap/cfg", name: "v1.ConfigMap.shop.cfg", change: update, live: []byte("a: 1\nb: 2\n"), merged: []byte("a: 1\nb: 3\n")},
	{ref: "namespace/shop", name: "v1.Namespace.shop", change: same},
	nil, // failed: reported elsewhere
	{ref: "service/web", name: "v1.Service.shop.web", change: create, merged: []byte("kind: Service\n")},
	{ref: "service/old", name: "v1.Service.shop.old", change: prune, live: []byte("kind: Service\n")},
}

func TestDiffsArePlainOffATerminal(t *testing.T) {
	var b bytes.Buffer
	if !(&writer{out: &b}).diffs(entries) {
		t.Error("no differences reported")
	}
	want := `--- live/v1.ConfigMap.shop.cfg
+++ merged/v1.ConfigMap.shop.cfg
@@ -1,2 +1,2 @@
 a: 1
-b: 2
+b: 3
--- /dev/null
+++ merged/v1.Service.shop.web (new)
@@ -0,0 +1 @@
+kind: Service
--- live/v1.Service.shop.old
+++ /dev/null (pruned)
@@ -1 +0,0 @@
-kind: Service
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	if (&writer{out: &b}).diffs(entries[1:3]) {
		t.Error("differences reported for unchanged objects")
	}
}

func TestDiffsAreColouredOnATerminal(t *testing.T) {
	var b bytes.Buffer
	(&writer{out: &b, color: true}).diffs(entries[:1])
	for _, want := range []string{"\x1b[1m--- live/v1.ConfigMap.shop.cfg\x1b[22m", "\x1b[36m@@ -1,2 +1,2 @@\x1b[0m", "\x1b[31m-b: 2\x1b[0m", "\x1b[32m+b: 3\x1b[0m", "\n a: 1\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output %q lacks %q", b.String(), want)
		}
	}
}

func TestSummaryCountsEachChange(t *testing.T) {
	var b bytes.Buffer
	if !(&writer{out: &b}).summary(entries) {
		t.Error("no differences reported")
	}
	want := "~ update configmap/cfg\n= same namespace/shop\n+ create service/web\n- prune service/old\n1 to create, 1 to update, 1 to prune, 1 unchanged\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	if (&writer{out: &b}).summary(entries[1:2]) || b.String() != "= same namespace/shop\n0 to create, 0 to update, 0 to prune, 1 unchanged\n" {
		t.Errorf("all same: %q", b.String())
	}
}
