package manifest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// writeTree writes files (path -> content) under a new temp dir and
// returns it.
func writeTree(t *testing.T, files map[string]string) string {
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
	return dir
}

// readIn reads paths relative to dir and returns the objects and the
// error lines with dir stripped.
func readIn(t *testing.T, dir string, paths []string, opts Options) ([]*Object, []string) {
	t.Helper()
	abs := make([]string, len(paths))
	for i, p := range paths {
		abs[i] = p
		if p != "-" {
			abs[i] = filepath.Join(dir, p)
		}
	}
	objs, err := Read(abs, opts)
	var lines []string
	if err != nil {
		var list ErrorList
		if !errors.As(err, &list) {
			t.Fatalf("Read error is %T, want ErrorList: %v", err, err)
		}
		for _, e := range list {
			lines = append(lines, strings.ReplaceAll(e.Error(), dir+string(filepath.Separator), ""))
		}
	}
	return objs, lines
}

func rel(dir string, s Source) string {
	return strings.ReplaceAll(s.String(), dir+string(filepath.Separator), "")
}

func names(objs []*Object) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o.String()
	}
	return out
}

func equalLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\ngot\n  %s\nwant\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

const multiDoc = `# web application
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  creationTimestamp: null
spec:
  replicas: 3
  template:
    spec:
      containers:
      - name: web
        image: nginx
status:
  replicas: 0
---
---
# an empty document above
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  ports: [{port: 80}]
`

func TestRead_MultiDocumentPositions(t *testing.T) {
	dir := writeTree(t, map[string]string{"app.yaml": multiDoc})
	objs, errs := readIn(t, dir, []string{"app.yaml"}, Options{})
	equalLines(t, "errors", errs, nil)
	equalLines(t, "objects", names(objs), []string{"Deployment shop/web", "Service shop/web"})
	if len(objs) != 2 {
		t.FailNow()
	}
	d, s := objs[0], objs[1]
	for _, tt := range []struct {
		obj  *Object
		path []string
		want string
	}{
		{d, nil, "app.yaml:2:1"},
		{d, []string{"spec", "replicas"}, "app.yaml:9:3"},
		{d, []string{"spec", "template", "spec", "containers", "0"}, "app.yaml:13:9"},
		{d, []string{"spec", "template", "spec", "containers", "0", "image"}, "app.yaml:14:9"},
		// Missing fields: the nearest ancestor that exists.
		{d, []string{"spec", "template", "spec", "containers", "0", "ports", "0"}, "app.yaml:13:9"},
		{d, []string{"spec", "template", "spec", "containers", "7"}, "app.yaml:12:7"},
		{d, []string{"nope"}, "app.yaml:2:1"},
		{s, nil, "app.yaml:20:1"},
		{s, []string{"metadata", "namespace"}, "app.yaml:22:23"},
		{s, []string{"spec", "ports", "0", "port"}, "app.yaml:24:12"},
	} {
		if got := rel(dir, tt.obj.Position(tt.path)); got != tt.want {
			t.Errorf("%s Position(%v) = %s, want %s", tt.obj, tt.path, got, tt.want)
		}
	}
	if got := rel(dir, d.Source); got != "app.yaml:2:1" {
		t.Errorf("Source = %s", got)
	}
	if d.APIVersion != "apps/v1" || d.Kind != "Deployment" || d.Name != "web" || d.Namespace != "shop" {
		t.Errorf("identity: %q %q %q %q", d.APIVersion, d.Kind, d.Name, d.Namespace)
	}
}

func TestRead_DropsStatusAndNullCreationTimestamp(t *testing.T) {
	dir := writeTree(t, map[string]string{"a.yaml": multiDoc, "b.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: kept
  creationTimestamp: "2024-01-01T00:00:00Z"
`})
	objs, errs := readIn(t, dir, []string{"a.yaml", "b.yaml"}, Options{})
	equalLines(t, "errors", errs, nil)
	want := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"shop"},` +
		`"spec":{"replicas":3,"template":{"spec":{"containers":[{"image":"nginx","name":"web"}]}}}}`
	if string(objs[0].JSON) != want {
		t.Errorf("JSON =\n%s\nwant\n%s", objs[0].JSON, want)
	}
	md := objs[2].Object["metadata"].(map[string]any)
	if md["creationTimestamp"] != "2024-01-01T00:00:00Z" {
		t.Errorf("a set creationTimestamp must stay: %v", md)
	}
}

func TestRead_ValuesAsJSON(t *testing.T) {
	dir := writeTree(t, map[string]string{"cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
data:
  5: five
  true: "yes"
  1.5: x
  0x10: hex
  plain: on
binaryData: {}
spec:
  int: 3
  big: 9007199254740993
  octal: 0644
  float: 2.5
  exp: 1e3
  bool: true
  nil: ~
  date: 2024-01-01
  list: [1, "2", three]
`})
	objs, errs := readIn(t, dir, []string{"cm.yaml"}, Options{})
	equalLines(t, "errors", errs, nil)
	got := objs[0].Object
	wantData := map[string]any{"5": "five", "true": "yes", "1.5": "x", "16": "hex", "plain": "on"}
	if !reflect.DeepEqual(got["data"], wantData) {
		t.Errorf("data = %#v, want %#v", got["data"], wantData)
	}
	wantSpec := map[string]any{"int": int64(3), "big": int64(9007199254740993), "octal": int64(420),
		"float": 2.5, "exp": 1000.0, "bool": true, "nil": nil, "date": "2024-01-01",
		"list": []any{int64(1), "2", "three"}}
	if !reflect.DeepEqual(got["spec"], wantSpec) {
		t.Errorf("spec = %#v, want %#v", got["spec"], wantSpec)
	}
	b, err := json.Marshal(got)
	if err != nil || string(b) != string(objs[0].JSON) {
		t.Errorf("JSON differs from the encoded Object:\n%s\n%s", objs[0].JSON, b)
	}
}

func TestRead_JSONFiles(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"pod.json": "{\n\t\"apiVersion\": \"v1\",\n\t\"kind\": \"Pod\",\n\t\"metadata\": {\"name\": \"p\"},\n\t\"spec\": {\"containers\": [{\"name\": \"c\", \"image\": \"busybox\"}]}\n}\n",
		"list.json": `{"apiVersion": "v1", "kind": "List", "items": [
  {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}},
  {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "b"}}
]}`,
	})
	objs, errs := readIn(t, dir, []string{"pod.json", "list.json"}, Options{})
	equalLines(t, "errors", errs, nil)
	equalLines(t, "objects", names(objs), []string{"Pod p", "Namespace a", "Namespace b"})
	var gotPos []string
	for _, o := range objs {
		gotPos = append(gotPos, rel(dir, o.Source))
	}
	equalLines(t, "sources", gotPos, []string{"pod.json:1:1", "list.json:2:3", "list.json:3:3"})
	if got := rel(dir, objs[0].Position([]string{"spec", "containers", "0", "image"})); got != "pod.json:5:40" {
		t.Errorf("image position = %s", got)
	}
	if got := rel(dir, objs[2].Position([]string{"metadata", "name"})); got != "list.json:3:58" {
		t.Errorf("item field position = %s", got)
	}
}

func TestRead_ListKinds(t *testing.T) {
	dir := writeTree(t, map[string]string{"l.yaml": `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: one}
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: two
---
apiVersion: v1
kind: ConfigMapList
items:
- metadata: {name: three}
  data: {k: v}
`})
	objs, errs := readIn(t, dir, []string{"l.yaml"}, Options{})
	equalLines(t, "errors", errs, nil)
	equalLines(t, "objects", names(objs), []string{"ConfigMap one", "ConfigMap two", "ConfigMap three"})
	var pos []string
	for _, o := range objs {
		pos = append(pos, rel(dir, o.Source)+" "+rel(dir, o.Position([]string{"metadata", "name"})))
	}
	equalLines(t, "positions", pos, []string{"l.yaml:4:3 l.yaml:6:14", "l.yaml:7:3 l.yaml:10:5", "l.yaml:15:3 l.yaml:15:14"})
	if objs[2].APIVersion != "v1" {
		t.Errorf("typed list item apiVersion = %q", objs[2].APIVersion)
	}
}

func TestRead_AnchorsAndMerges(t *testing.T) {
	dir := writeTree(t, map[string]string{"a.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: m
  labels: &labels
    app: web
  annotations:
    <<: *labels
    extra: "1"
data: {copy: &v value, again: *v}
`})
	objs, errs := readIn(t, dir, []string{"a.yaml"}, Options{})
	equalLines(t, "errors", errs, nil)
	md := objs[0].Object["metadata"].(map[string]any)
	if !reflect.DeepEqual(md["annotations"], map[string]any{"app": "web", "extra": "1"}) {
		t.Errorf("merged annotations = %v", md["annotations"])
	}
	if got := rel(dir, objs[0].Position([]string{"metadata", "annotations", "app"})); got != "a.yaml:6:5" {
		t.Errorf("merged key position = %s, want the anchor's key", got)
	}
}

func TestRead_Errors(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"dupkey.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: c
data:
  a: "1"
  b: "2"
  a: "3"
`,
		"syntax.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: ok-before
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: [broken
---
apiVersion: v1
kind: Namespace
metadata: {name: ok-after}
`,
		"nokind.yaml": `metadata:
  name: x
---
apiVersion: v1
metadata: {name: y}
---
apiVersion: 1
kind: Pod
`,
		"notobject.yaml": "- a\n- b\n",
		"empty.yaml":     "",
		"comments.yaml":  "# nothing here\n---\n",
		"dup.yaml": `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
`,
		"emptydir/README.md": "not a manifest",
		"inf.yaml":           "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: i}\ndata: {a: .inf}\n",
	})
	objs, errs := readIn(t, dir, []string{"dupkey.yaml", "syntax.yaml", "nokind.yaml", "notobject.yaml",
		"empty.yaml", "comments.yaml", "dup.yaml", "missing.yaml", "emptydir", "inf.yaml"}, Options{})
	equalLines(t, "objects", names(objs), []string{"ConfigMap ok-before", "Namespace ok-after", "Namespace shop"})
	equalLines(t, "errors", errs, []string{
		`dupkey.yaml:8:3: ConfigMap c: duplicate key "a" (first defined at line 6)`,
		`syntax.yaml:9: invalid YAML: did not find expected ',' or ']'`,
		`nokind.yaml:1:1: apiVersion and kind not set`,
		`nokind.yaml:4:1: kind not set`,
		`nokind.yaml:7:1: Pod: apiVersion must be a string, got integer`,
		`notobject.yaml:1:1: expected an object (a mapping), got a list`,
		`empty.yaml: no objects found`,
		`comments.yaml: no objects found`,
		`dup.yaml:5:1: Namespace shop: duplicate object: also defined at dup.yaml:1:1`,
		`missing.yaml: no such file or directory`,
		`emptydir: no manifests (.yaml, .yml, .json) found in directory (use -R to read subdirectories)`,
		`inf.yaml:4:11: ConfigMap i: .inf is not a valid JSON number (quote it to make it a string)`,
	})
}

func TestRead_SyntaxErrorLines(t *testing.T) {
	for _, tt := range []struct {
		doc  string
		want string
	}{
		{"a: 1\nb: [1, 2\n", "f.yaml:2: invalid YAML: did not find expected ',' or ']'"},
		{"a: 1\nb: 1\n  c: 2\n", "f.yaml:3: invalid YAML: mapping values are not allowed in this context"},
		{"a: 1\n- b\n", "f.yaml:2: invalid YAML: did not find expected key"},
		{"x: 1\n---\na: 1\nb: \"open\n", "f.yaml:4: invalid YAML: found unexpected end of stream"},
		{"a: *nope\n", "f.yaml:1: invalid YAML: unknown anchor 'nope' referenced"},
		{"a:\n\tb: 1\n", "f.yaml:2: invalid YAML: found character that cannot start any token"},
	} {
		dir := writeTree(t, map[string]string{"f.yaml": tt.doc})
		_, errs := readIn(t, dir, []string{"f.yaml"}, Options{})
		if len(errs) == 0 || errs[len(errs)-1] != tt.want {
			t.Errorf("%q: got %q, want %q", tt.doc, errs, tt.want)
		}
	}
}

func TestRead_Bombs(t *testing.T) {
	laughs := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	for i := 'b'; i <= 'k'; i++ {
		laughs += fmt.Sprintf("%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	deep := "apiVersion: v1\nkind: ConfigMap\ndata: " + strings.Repeat("[", 150) + strings.Repeat("]", 150) + "\n"
	deepBlock := "apiVersion: v1\nkind: ConfigMap\ndata:\n"
	for i := range 120 {
		deepBlock += strings.Repeat(" ", i+2) + "a:\n"
	}
	dir := writeTree(t, map[string]string{
		"laughs.yaml":  laughs,
		"deep.yaml":    deep,
		"block.yaml":   deepBlock,
		"self.yaml":    "a: &a [1, *a]\n",
		"merge.yaml":   "a: &a\n  b: 1\n  c:\n    <<: *a\n",
		"fine.yaml":    "apiVersion: v1\nkind: Namespace\nmetadata: {name: fine}\n",
		"manyrefs.yml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: r}\nx: &x {a: 1}\ny: [*x, *x, *x, *x]\n",
	})
	objs, errs := readIn(t, dir, []string{"laughs.yaml", "deep.yaml", "block.yaml", "self.yaml", "merge.yaml", "fine.yaml", "manyrefs.yml"}, Options{})
	equalLines(t, "objects", names(objs), []string{"Namespace fine", "ConfigMap r"})
	want := []string{
		`laughs.yaml:\d+:\d+: document expands to more than 100000 values \(too many aliases\?\)`,
		`deep.yaml:3:\d+: ConfigMap: document nested more than 100 levels deep`,
		`block.yaml:\d+:\d+: ConfigMap: document nested more than 100 levels deep`,
		`self.yaml:1:\d+: alias \*a refers to itself`,
		`merge.yaml:4:\d+: merge key << refers to its own mapping`,
	}
	if len(errs) != len(want) {
		t.Fatalf("errors:\n%s", strings.Join(errs, "\n"))
	}
	for i := range want {
		if !matches(want[i], errs[i]) {
			t.Errorf("error %d = %q, want match for %q", i, errs[i], want[i])
		}
	}
}

func TestRead_Directories(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"deploy/b.yaml":           "apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n",
		"deploy/a.yml":            "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n",
		"deploy/c.json":           `{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "c"}}`,
		"deploy/notes.txt":        "not: read\n",
		"deploy/sub/d.yaml":       "apiVersion: v1\nkind: Namespace\nmetadata: {name: d}\n",
		"deploy/sub/deeper/e.YML": "apiVersion: v1\nkind: Namespace\nmetadata: {name: e}\n",
		"deploy/sub2/f.yaml":      "apiVersion: v1\nkind: Namespace\nmetadata: {name: f}\n",
		"only/sub/g.yaml":         "apiVersion: v1\nkind: Namespace\nmetadata: {name: g}\n",
	})
	objs, errs := readIn(t, dir, []string{"deploy"}, Options{})
	equalLines(t, "errors", errs, nil)
	equalLines(t, "flat", names(objs), []string{"Namespace a", "Namespace b", "Namespace c"})

	objs, errs = readIn(t, dir, []string{"deploy"}, Options{Recursive: true})
	equalLines(t, "errors", errs, nil)
	equalLines(t, "recursive", names(objs), []string{"Namespace a", "Namespace b", "Namespace c", "Namespace d", "Namespace e", "Namespace f"})

	_, errs = readIn(t, dir, []string{"only"}, Options{})
	equalLines(t, "subdirectories only", errs, []string{"only: no manifests (.yaml, .yml, .json) found in directory (use -R to read subdirectories)"})
	objs, _ = readIn(t, dir, []string{"only"}, Options{Recursive: true})
	equalLines(t, "subdirectories only, -R", names(objs), []string{"Namespace g"})

	// An explicitly named file is read whatever its extension.
	objs, errs = readIn(t, dir, []string{"deploy/notes.txt"}, Options{})
	equalLines(t, "named file", errs, []string{"deploy/notes.txt:1:1: apiVersion and kind not set"})
	if len(objs) != 0 {
		t.Errorf("objects from notes.txt: %v", names(objs))
	}
}

func TestRead_UnreadableDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root can read any directory")
	}
	dir := writeTree(t, map[string]string{"d/sub/a.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"})
	sub := filepath.Join(dir, "d", "sub")
	if err := os.Chmod(sub, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(sub, 0o755) })
	_, errs := readIn(t, dir, []string{"d"}, Options{Recursive: true})
	equalLines(t, "errors", errs, []string{"d/sub: cannot read directory: permission denied"})
}

func TestRead_BrokenEntries(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"d/a.yaml":    "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n",
		"file.yaml":   "apiVersion: v1\nkind: Namespace\nmetadata: {name: f}\n",
		"d/sub/.keep": "",
	})
	if err := os.Symlink(filepath.Join(dir, "nowhere.yaml"), filepath.Join(dir, "d", "dangling.yaml")); err != nil {
		t.Skipf("symlinks: %v", err)
	}
	if err := os.Symlink(filepath.Join(dir, "file.yaml"), filepath.Join(dir, "d", "link.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "d", "sub"), filepath.Join(dir, "d", "dirlink.yaml")); err != nil {
		t.Fatal(err)
	}
	objs, errs := readIn(t, dir, []string{"d", "file.yaml/x"}, Options{Recursive: true})
	equalLines(t, "objects", names(objs), []string{"Namespace a", "Namespace f"})
	equalLines(t, "errors", errs, []string{
		"d/dangling.yaml: no such file or directory",
		"file.yaml/x: not a directory",
	})
}

func TestRead_Stdin(t *testing.T) {
	in := strings.NewReader("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: from-stdin\n")
	objs, err := Read([]string{"-"}, Options{Stdin: in})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 || objs[0].String() != "Namespace from-stdin" {
		t.Fatalf("objects: %v", names(objs))
	}
	if got := objs[0].Position([]string{"metadata", "name"}).String(); got != "-:4:3" {
		t.Errorf("position = %s, want -:4:3", got)
	}
	_, err = Read([]string{"-"}, Options{Stdin: strings.NewReader("")})
	if err == nil || err.Error() != "-: no objects found" {
		t.Errorf("empty stdin: %v", err)
	}
	_, err = Read([]string{"-"}, Options{})
	if err == nil || err.Error() != "-: no standard input to read" {
		t.Errorf("nil Stdin: %v", err)
	}
	_, err = Read([]string{"-", "-"}, Options{Stdin: strings.NewReader("apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n")})
	if err == nil || !strings.Contains(err.Error(), "-: standard input given more than once") {
		t.Errorf("stdin twice: %v", err)
	}
}

func TestRead_EveryProblemReported(t *testing.T) {
	files := map[string]string{}
	var paths []string
	for i := range 5 {
		name := fmt.Sprintf("f%d.yaml", i)
		files[name] = fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata: {name: ns%d}\n---\nkind: Broken\n", i)
		paths = append(paths, name)
	}
	dir := writeTree(t, files)
	objs, errs := readIn(t, dir, paths, Options{})
	if len(objs) != 5 || len(errs) != 5 {
		t.Errorf("got %d objects and %d errors, want 5 and 5: %v", len(objs), len(errs), errs)
	}
	for i, e := range errs {
		if want := fmt.Sprintf("f%d.yaml:5:1: Broken: apiVersion not set", i); e != want {
			t.Errorf("error %d = %q, want %q", i, e, want)
		}
	}
}

func TestSourceAndErrorStrings(t *testing.T) {
	for _, tt := range []struct {
		got, want string
	}{
		{Source{File: "a.yaml", Line: 14, Column: 7}.String(), "a.yaml:14:7"},
		{Source{File: "a.yaml", Line: 14}.String(), "a.yaml:14"},
		{Source{File: "a.yaml"}.String(), "a.yaml"},
		{(&Error{Source: Source{File: "deploy/web.yaml", Line: 14, Column: 7}, Object: "Deployment shop/web",
			Msg: "spec.replicas: expected integer, got string"}).Error(),
			"deploy/web.yaml:14:7: Deployment shop/web: spec.replicas: expected integer, got string"},
		{(&Error{Source: Source{File: "x.yaml"}, Msg: "no objects found"}).Error(), "x.yaml: no objects found"},
		{ErrorList{{Msg: "a"}, {Msg: "b"}}.Error(), "a\nb"},
		{(&Object{Kind: "Deployment", Namespace: "shop", Name: "web"}).String(), "Deployment shop/web"},
		{(&Object{Kind: "Namespace", Name: "shop"}).String(), "Namespace shop"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestApplyOrder(t *testing.T) {
	var objs []*Object
	for _, k := range []string{"Lease", "Deployment", "Service", "ConfigMap", "Namespace", "Pod", "Secret",
		"Endpoints", "ServiceAccount", "ReplicaSet", "Namespace", "Node", "ConfigMap"} {
		objs = append(objs, &Object{Kind: k, Name: fmt.Sprint(len(objs))})
	}
	got := names(ApplyOrder(objs))
	want := []string{"Namespace 4", "Namespace 10", "ConfigMap 3", "Secret 6", "ServiceAccount 8", "ConfigMap 12",
		"Service 2", "Endpoints 7", "Deployment 1", "Pod 5", "ReplicaSet 9", "Lease 0", "Node 11"}
	equalLines(t, "order", got, want)
	if objs[0].Kind != "Lease" {
		t.Error("ApplyOrder changed its argument")
	}
}

func matches(pattern, s string) bool {
	return regexp.MustCompile("^" + pattern + "$").MatchString(s)
}

// FuzzParse feeds arbitrary text to the whole reading path (splitting,
// both parsers, conversion, List expansion): it must not panic, every
// error must have a line, and every object valid JSON and positions.
func FuzzParse(f *testing.F) {
	f.Add(multiDoc)
	f.Add("apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Namespace, metadata: {name: a}}\n")
	f.Add("a: &a [*a]\n")
	f.Add("{\"apiVersion\": \"v1\", \"kind\": \"Pod\"}")
	f.Fuzz(func(t *testing.T, data string) {
		for _, c := range splitDocuments("f.yaml", []byte(data)) {
			objs, errs := parseChunk("f.yaml", c.data, c.lineOffset)
			for _, e := range errs {
				if e.Source.Line < 1 || e.Msg == "" {
					t.Errorf("error without line or message: %#v", e)
				}
			}
			for _, o := range objs {
				if !json.Valid(o.JSON) {
					t.Errorf("invalid JSON %q", o.JSON)
				}
				if p := o.Position([]string{"metadata", "name"}); p.Line < 1 {
					t.Errorf("position %v", p)
				}
			}
		}
	})
}
