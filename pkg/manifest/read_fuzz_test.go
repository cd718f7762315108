package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// FuzzRead feeds arbitrary text to Read as standard input ("-"), the path
// `kl apply -f -` takes. Read must not panic; every object must have an
// apiVersion, a kind, JSON that decodes to its Object and a source line;
// every error must be an *Error with a message; reading the same input
// twice gives the same result; and ApplyOrder returns a permutation.
func FuzzRead(f *testing.F) {
	for _, s := range []string{
		multiDoc,
		"apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Namespace, metadata: {name: a}}\n- {apiVersion: v1, kind: Namespace, metadata: {name: a}}\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  creationTimestamp: null\ndata:\n  k: v\nstatus: {}\n",
		"---\n---\n", "", "\xef\xbb\xbfapiVersion: v1\nkind: Pod\n", "apiVersion: v1\r\nkind: Pod\r\nmetadata: {name: p}\r\n",
		"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"}}\n---\n[1, 2]\n",
		"kind: Pod\n", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [x]\n", "a: &a [*a]\n", "apiVersion: v1\nkind: Pod\nx: 1e400\ny: 0x1F\nz: .inf\n",
		"apiVersion: v1\nkind: PodList\nitems:\n- apiVersion: v1\n  kind: List\n  items: []\n", "apiVersion: v1\nkind: Pod\n? [a]\n: b\n",
		"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: {a: !!binary aGk=}\n", "%YAML 1.2\n---\napiVersion: v1\nkind: Pod\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		objs, err := Read([]string{"-"}, Options{Stdin: strings.NewReader(data)})
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("Read error is not a non-empty ErrorList: %T %v", err, err)
			}
			for _, e := range list {
				if e == nil || e.Msg == "" {
					t.Fatalf("error without a message: %#v", e)
				}
			}
		}
		for _, o := range objs {
			if o.APIVersion == "" || o.Kind == "" {
				t.Fatalf("object without apiVersion or kind: %s", o.JSON)
			}
			if o.Source.Line < 1 {
				t.Fatalf("object without a line: %#v", o.Source)
			}
			var back map[string]any
			dec := json.NewDecoder(bytes.NewReader(o.JSON))
			if err := dec.Decode(&back); err != nil {
				t.Fatalf("object JSON does not decode: %v: %s", err, o.JSON)
			}
		}
		again, err2 := Read([]string{"-"}, Options{Stdin: strings.NewReader(data)})
		if (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) {
			t.Fatalf("reading twice gave different errors: %v / %v", err, err2)
		}
		if len(again) != len(objs) {
			t.Fatalf("reading twice gave %d and %d objects", len(objs), len(again))
		}
		for i := range objs {
			if !bytes.Equal(objs[i].JSON, again[i].JSON) || !reflect.DeepEqual(objs[i].Source, again[i].Source) {
				t.Fatalf("reading twice gave different object %d: %s / %s", i, objs[i].JSON, again[i].JSON)
			}
		}
		ordered := ApplyOrder(objs)
		if len(ordered) != len(objs) {
			t.Fatalf("ApplyOrder returned %d of %d objects", len(ordered), len(objs))
		}
		seen := map[*Object]bool{}
		for _, o := range ordered {
			if seen[o] {
				t.Fatalf("ApplyOrder returned an object twice")
			}
			seen[o] = true
		}
	})
}
