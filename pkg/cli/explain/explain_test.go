package explain

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/schemas"
)

// fixture is a small schema set: a core kind and a grouped kind whose
// types cover refs, lists, maps, enums, required fields, int-or-string,
// quantities and a recursive type.
var fixture = fstest.MapFS{
	"index.json": {Data: []byte(`{"kinds": [
  {"group": "", "version": "v1", "kind": "Widget", "resource": "widgets", "namespaced": true, "shortNames": ["wd"], "schema": "core/v1/widget.json"},
  {"group": "things.example.com", "version": "v2", "kind": "Gadget", "resource": "gadgets", "namespaced": false, "schema": "things.example.com/v2/gadget.json"}
]}`)},
	"core/v1/widget.json": {Data: []byte(`{
  "title": "Widget",
  "description": "Widget is a thing with parts. It has a long description so that the wrapping of descriptions at eighty columns shows in the output.",
  "type": "object",
  "required": ["apiVersion", "kind"],
  "properties": {
    "apiVersion": {"type": "string", "description": "APIVersion of the object."},
    "kind": {"type": "string"},
    "spec": {"$ref": "#/$defs/WidgetSpec", "description": "Spec is what the widget should be."}
  },
  "$defs": {
    "WidgetSpec": {
      "description": "WidgetSpec is the desired state.",
      "type": ["object", "null"],
      "required": ["parts"],
      "properties": {
        "parts": {"type": ["array", "null"], "items": {"$ref": "#/$defs/Part"}},
        "labels": {"type": ["object", "null"], "additionalProperties": {"type": "string"}},
        "port": {"type": ["integer", "string", "null"], "description": "Port is a number or a name."},
        "size": {"type": ["string", "number"], "format": "quantity"},
        "mode": {"type": "string", "enum": ["Fast", "Slow"]},
        "tree": {"$ref": "#/$defs/Node"}
      }
    },
    "Part": {
      "description": "Part is one part.",
      "type": ["object", "null"],
      "properties": {"name": {"type": "string"}, "count": {"type": "integer"}}
    },
    "Node": {
      "description": "Node is a tree.",
      "type": ["object", "null"],
      "properties": {"value": {"type": "string"}, "children": {"type": ["array", "null"], "items": {"$ref": "#/$defs/Node"}}}
    }
  }
}`)},
	"things.example.com/v2/gadget.json": {Data: []byte(`{
  "description": "Gadget is cluster-wide.",
  "type": "object",
  "properties": {"kind": {"type": "string"}, "enabled": {"type": "boolean"}}
}`)},
}

func explainFixture(t *testing.T, opts Options) (string, error) {
	t.Helper()
	ios, _, out, _ := iostreams.Test()
	opts.IO = ios
	if opts.Schemas == nil {
		opts.Schemas = fixture
	}
	err := runExplain(&opts)
	return out.String(), err
}

func TestExplain_Kind(t *testing.T) {
	got, err := explainFixture(t, Options{Resource: "widgets"})
	if err != nil {
		t.Fatal(err)
	}
	want := `KIND:       Widget
VERSION:    v1

DESCRIPTION:
    Widget is a thing with parts. It has a long description so that the wrapping
    of descriptions at eighty columns shows in the output.

FIELDS:
  apiVersion	<string> -required-
    APIVersion of the object.

  kind	<string> -required-

  spec	<WidgetSpec>
    Spec is what the widget should be.

`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestExplain_Field(t *testing.T) {
	got, err := explainFixture(t, Options{Resource: "wd.spec"})
	if err != nil {
		t.Fatal(err)
	}
	want := `KIND:       Widget
VERSION:    v1

FIELD: spec <WidgetSpec>

DESCRIPTION:
    Spec is what the widget should be.

FIELDS:
  labels	<map[string]string>

  mode	<string>
  enum: Fast, Slow

  parts	<[]Part> -required-
    Part is one part.

  port	<IntOrString>
    Port is a number or a name.

  size	<Quantity>

  tree	<Node>
    Node is a tree.

`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestExplain_FieldThroughListAndEnum(t *testing.T) {
	got, err := explainFixture(t, Options{Resource: "Widget.spec.parts.count"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "KIND:       Widget\nVERSION:    v1\n\nFIELD: count <integer>\n\nDESCRIPTION:\n    <empty>\n\n"; got != want {
		t.Errorf("got:\n%q\nwant:\n%q", got, want)
	}
	got, err = explainFixture(t, Options{Resource: "widget.spec.mode"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, "FIELD: mode <string>\nENUM:\n    Fast\n    Slow\n") {
		t.Errorf("enum missing:\n%s", got)
	}
}

func TestExplain_Recursive(t *testing.T) {
	got, err := explainFixture(t, Options{Resource: "widgets.spec", Recursive: true})
	if err != nil {
		t.Fatal(err)
	}
	want := `FIELDS:
  labels	<map[string]string>
  mode	<string>
  parts	<[]Part> -required-
    count	<integer>
    name	<string>
  port	<IntOrString>
  size	<Quantity>
  tree	<Node>
    children	<[]Node>
    value	<string>
`
	if !strings.HasSuffix(got, want) {
		t.Errorf("got:\n%s\nwant suffix:\n%s", got, want)
	}
}

func TestExplain_Names(t *testing.T) {
	for _, name := range []string{"widgets", "widget", "Widget", "WIDGETS", "wd", "widgets.v1",
		"gadgets", "gadget", "Gadget", "gadgets.things.example.com", "gadget.v2.things.example.com"} {
		got, err := explainFixture(t, Options{Resource: name})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		kind := "Widget"
		if strings.HasPrefix(strings.ToLower(name), "gadget") {
			kind = "Gadget"
		}
		if !strings.Contains(got, "KIND:       "+kind+"\n") {
			t.Errorf("%s: got\n%s", name, got)
		}
	}
	got, _ := explainFixture(t, Options{Resource: "gadgets.things.example.com.enabled"})
	if !strings.HasPrefix(got, "GROUP:      things.example.com\nKIND:       Gadget\nVERSION:    v2\n\nFIELD: enabled <boolean>\n") {
		t.Errorf("grouped field:\n%s", got)
	}
}

func TestExplain_Errors(t *testing.T) {
	for _, tt := range []struct {
		resource, apiVersion, want string
	}{
		{"widgets.spec.prts", "", `field "prts" does not exist in Widget.spec (did you mean "parts"?)`},
		{"widgets.spec.zzzzzz", "", `field "zzzzzz" does not exist in Widget.spec`},
		{"widgets.spec.mode.x", "", `field "x" does not exist in Widget.spec.mode`},
		{"widgts", "", `unknown resource type "widgts" (did you mean "widgets"?); kl knows: gadgets, widgets`},
		{"xyz", "", `unknown resource type "xyz"; kl knows: gadgets, widgets`},
		{"widgets", "apps/v1", `unknown resource type "widgets" in apiVersion "apps/v1"; kl knows: gadgets, widgets`},
		{"widgets..spec", "", `invalid resource "widgets..spec": empty part`},
	} {
		_, err := explainFixture(t, Options{Resource: tt.resource, APIVersion: tt.apiVersion})
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: err = %v, want %q", tt.resource, err, tt.want)
		}
	}
}

// TestExplain_EveryEmbeddedKind explains every kind kl serves, by each of
// its names, and every field two levels down.
func TestExplain_EveryEmbeddedKind(t *testing.T) {
	kinds, err := schemas.Index()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range kinds {
		for name := range kindNames(k) {
			got, err := explainFixture(t, Options{Resource: name, Schemas: schemas.FS})
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			if !strings.Contains(got, "KIND:       "+k.Kind+"\n") {
				t.Errorf("%s explained as\n%s", name, got)
			}
		}
		raw, _ := schemas.FS.ReadFile(k.Schema)
		root, err := parseSchema(raw)
		if err != nil {
			t.Fatalf("%s: %v", k.Schema, err)
		}
		for top, f := range root.Properties {
			paths := []string{top}
			if sub := root.fieldsOf(f); sub != nil {
				for name := range sub.Properties {
					paths = append(paths, top+"."+name)
				}
			}
			for _, p := range paths {
				var b strings.Builder
				if err := explain(&b, k, root, strings.Split(p, "."), false); err != nil {
					t.Errorf("%s.%s: %v", k.Kind, p, err)
				}
			}
		}
	}
}

func TestNewCmdExplain_Args(t *testing.T) {
	for _, tt := range []struct {
		args    []string
		want    Options
		wantErr string
	}{
		{args: []string{"pods.spec"}, want: Options{Resource: "pods.spec"}},
		{args: []string{"deploy", "--recursive", "--api-version", "apps/v1"}, want: Options{Resource: "deploy", Recursive: true, APIVersion: "apps/v1"}},
		{args: nil, wantErr: "you must specify the type of resource to explain; kl knows: bindings, configmaps, deployments"},
		{args: []string{"a", "b"}, wantErr: "accepts at most 1 arg(s), received 2"},
	} {
		ios, _, _, _ := iostreams.Test()
		var got *Options
		cmd := NewCmdExplain(&cmdutil.Factory{IOStreams: ios}, func(o *Options) error { got = o; return nil })
		cmd.SetArgs(tt.args)
		cmd.SetOut(ios.Out)
		cmd.SetErr(ios.ErrOut)
		err := cmd.Execute()
		if tt.wantErr != "" {
			var fe *cmdutil.FlagError
			if !errors.As(err, &fe) || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Errorf("%v: err = %v, want FlagError %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		if got.Resource != tt.want.Resource || got.Recursive != tt.want.Recursive || got.APIVersion != tt.want.APIVersion {
			t.Errorf("%v: got %+v", tt.args, got)
		}
	}
}
