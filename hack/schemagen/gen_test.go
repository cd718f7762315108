package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func testRules() *Rules {
	r := DefaultRules()
	r.Kinds["/Widget"] = kindInfo{Resource: "widgets", Namespaced: true, ShortNames: []string{"wd"}}
	r.Kinds["shop.example.com/Gadget"] = kindInfo{Resource: "gadgets"}
	r.ClosedEnums["pkg/api/core/v1.RestartPolicy"] = []any{"Always", "Never"}
	r.FieldEnums["pkg/api/core/v1.WidgetSpec.mode"] = []any{"Fast", "Slow"}
	r.MergeKeys["pkg/api/meta.Condition"] = "type"
	r.UnknownFieldFormats["pkg/api/core/v1.Volume"] = UnknownField{
		Format:    "volume source %q is not supported by kl (supported: {supported})",
		Supported: []string{"hostPath", "emptyDir"},
	}
	return r
}

func generateTestModule(t *testing.T, r *Rules) (Output, *Generator) {
	t.Helper()
	g := &Generator{Root: "testdata/mod", Rules: r}
	out, err := g.Generate()
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return out, g
}

// get walks a decoded JSON document along keys.
func get(t *testing.T, doc any, keys ...string) any {
	t.Helper()
	cur := doc
	for _, k := range keys {
		m, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("%v: at %q: not an object: %v", keys, k, cur)
		}
		if cur, ok = m[k]; !ok {
			t.Fatalf("%v: key %q missing", keys, k)
		}
	}
	return cur
}

func decodeJSON(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestGenerateMapsGoTypesToSchema(t *testing.T) {
	out, _ := generateTestModule(t, testRules())
	w := decodeJSON(t, out["core/v1/widget.json"])
	spec := []string{"$defs", "WidgetSpec", "properties"}
	at := func(keys ...string) []string { return append(append([]string(nil), spec...), keys...) }
	tests := []struct {
		name string
		keys []string
		want any
	}{
		{"draft", []string{"$schema"}, "https://json-schema.org/draft/2020-12/schema"},
		{"apiVersion const", []string{"properties", "apiVersion", "const"}, "v1"},
		{"kind const", []string{"properties", "kind", "const"}, "Widget"},
		{"kind required", []string{"required"}, []any{"apiVersion", "kind"}},
		{"root strict", []string{"additionalProperties"}, false},
		{"root not nullable", []string{"type"}, "object"},
		{"type doc keeps paragraphs", []string{"description"}, "Widget is a test kind.\n\nIt has two paragraphs."},
		{"field doc, marker dropped", []string{"properties", "spec", "description"}, "Spec is the desired state."},
		{"struct ref", []string{"properties", "spec", "$ref"}, "#/$defs/WidgetSpec"},
		{"nested struct strict", []string{"$defs", "WidgetSpec", "additionalProperties"}, false},
		{"line comment doc", at("replicas", "description"), "Replicas is a count."},
		{"pointer int32 nullable", at("replicas", "type"), []any{"integer", "null"}},
		{"int32 range", at("replicas", "maximum"), float64(1<<31 - 1)},
		{"int64", at("deadline", "type"), []any{"integer", "null"}},
		{"float", at("weight", "type"), "number"},
		{"closed enum type", at("restartPolicy", "enum"), []any{"Always", "Never"}},
		{"field enum", at("mode", "enum"), []any{"Fast", "Slow"}},
		{"IntOrString", at("port", "type"), []any{"integer", "string"}},
		{"Quantity", at("limits", "additionalProperties", "type"), []any{"string", "number"}},
		{"Quantity pattern", at("limits", "additionalProperties", "pattern"), QuantityPattern},
		{"meta.Time", at("started", "format"), "date-time"},
		{"meta.Time nullable", at("started", "type"), []any{"string", "null"}},
		{"recursive ref", at("next", "$ref"), "#/$defs/WidgetSpec"},
		{"list merge key", at("containers", "x-kl-merge-key"), "name"},
		{"list nullable", at("containers", "type"), []any{"array", "null"}},
		{"required from rules", []string{"$defs", "Container", "required"}, []any{"name"}},
		{"[]byte is base64", []string{"properties", "data", "additionalProperties", "contentEncoding"}, "base64"},
		{"map of string", []string{"$defs", "ObjectMeta", "properties", "labels", "additionalProperties", "type"}, "string"},
		{"fallback doc for meta", []string{"$defs", "ObjectMeta", "properties", "labels", "description"}, "Map of string keys and values that can be used to organize and categorize (scope and select) objects."},
		{"clashing names qualified", []string{"properties", "conditions", "items", "$ref"}, "#/$defs/meta.Condition"},
		{"clashing names qualified (local)", []string{"properties", "localConditions", "items", "$ref"}, "#/$defs/v1.Condition"},
		{"unknown volume source hint", []string{"$defs", "Volume", "x-kl-unknown-field-format"}, "volume source %q is not supported by kl (supported: hostPath, emptyDir)"},
		{"inline required", []string{"$defs", "Volume", "required"}, []any{"name"}},
		{"gvk", []string{"x-kl-group-version-kind", "kind"}, "Widget"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := get(t, w, tt.keys...); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%v = %#v, want %#v", tt.keys, got, tt.want)
			}
		})
	}

	props := get(t, w, spec...).(map[string]any)
	for _, hidden := range []string{"Ignored", "private", "-"} {
		if _, ok := props[hidden]; ok {
			t.Errorf("field %q should not be in the schema", hidden)
		}
	}
	// Volume.Name (direct, no comment) shadows the inlined VolumeSource.Name.
	if d, ok := get(t, w, "$defs", "Volume", "properties", "name").(map[string]any)["description"]; ok {
		t.Errorf("Volume.name = %q, want the direct field, not the inlined one", d)
	}
}

func TestGenerateKeepsGoFieldOrder(t *testing.T) {
	out, _ := generateTestModule(t, testRules())
	s := string(out["core/v1/widget.json"])
	order := []string{`"kind": {`, `"apiVersion": {`, `"metadata": {`, `"spec": {`, `"data": {`}
	last := -1
	for _, k := range order {
		i := strings.Index(s, k)
		if i < last {
			t.Fatalf("%s is out of Go declaration order", k)
		}
		last = i
	}
}

func TestGenerateIndex(t *testing.T) {
	out, _ := generateTestModule(t, testRules())
	var idx Index
	if err := json.Unmarshal(out["index.json"], &idx); err != nil {
		t.Fatal(err)
	}
	want := []IndexEntry{
		{Group: "", Version: "v1", Kind: "Widget", Resource: "widgets", Namespaced: true, ShortNames: []string{"wd"}, Schema: "core/v1/widget.json"},
		{Group: "shop.example.com", Version: "v1", Kind: "Gadget", Resource: "gadgets", Schema: "shop.example.com/v1/gadget.json"},
	}
	if !reflect.DeepEqual(idx.Kinds, want) {
		t.Errorf("index = %+v\nwant %+v", idx.Kinds, want)
	}
	if _, ok := out["core/v1/widgetlist.json"]; ok {
		t.Error("list types are not kinds")
	}
}

func TestGenerateWarnsAboutConstantsOutsideClosedEnum(t *testing.T) {
	_, g := generateTestModule(t, testRules())
	want := `pkg/api/core/v1.RestartPolicy: constant "Sometimes" is not in the closed enum [Always Never]`
	if !reflect.DeepEqual(g.Warnings, []string{want}) {
		t.Errorf("warnings = %q, want [%q]", g.Warnings, want)
	}
}

func TestGenerateFailures(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(r *Rules)
		want   string
	}{
		{"kind without REST names", func(r *Rules) { delete(r.Kinds, "/Widget") }, `no Kinds rule for "/Widget"`},
		{"custom marshaler not described", func(r *Rules) { delete(r.Special, "pkg/api/resource.Quantity") }, "custom MarshalJSON"},
		{"required field that does not exist", func(r *Rules) { r.Required["pkg/api/core/v1.Container"] = []string{"nmae"} }, "required field pkg/api/core/v1.Container.nmae does not exist"},
		{"unknown-field rule out of date", func(r *Rules) {
			r.UnknownFieldFormats["pkg/api/core/v1.Volume"] = UnknownField{Format: "%q", Supported: []string{"emptyDir"}}
		}, "UnknownFieldFormats lists [emptyDir], the struct has [emptyDir hostPath]"},
		{"enum on a non-string", func(r *Rules) { r.FieldEnums["pkg/api/core/v1.WidgetSpec.weight"] = []any{"x"} }, "enum rule on a non-string field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := testRules()
			tt.mutate(r)
			_, err := (&Generator{Root: "testdata/mod", Rules: r}).Generate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestWriteOutputRemovesStaleSchemas(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "core", "v1"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"core/v1/gone.json", "embed.go"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := writeOutput(dir, Output{"core/v1/pod.json": []byte("{}\n")}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "core/v1/gone.json")); !os.IsNotExist(err) {
		t.Errorf("stale schema not removed: %v", err)
	}
	for _, keep := range []string{"embed.go", "core/v1/pod.json"} {
		if _, err := os.Stat(filepath.Join(dir, keep)); err != nil {
			t.Errorf("%s: %v", keep, err)
		}
	}
}

func TestUnusedRulesNameRulesThatMatchNothing(t *testing.T) {
	_, g := generateTestModule(t, testRules())
	unused := map[string]bool{}
	for _, u := range g.UnusedRules() {
		unused[u] = true
	}
	for _, want := range []string{"Kinds: /Pod", "ClosedEnums: pkg/api/core/v1.PullPolicy", "Required: pkg/api/core/v1.EnvVar"} {
		if !unused[want] {
			t.Errorf("UnusedRules lacks %q: %v", want, g.UnusedRules())
		}
	}
	for _, used := range []string{"Kinds: /Widget", "ClosedEnums: pkg/api/core/v1.RestartPolicy", "Required: pkg/api/core/v1.Container", "MergeKeys: pkg/api/meta.Condition", "UnknownFieldFormats: pkg/api/core/v1.Volume"} {
		if unused[used] {
			t.Errorf("UnusedRules names %q, which is used", used)
		}
	}
}
