package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// slowParse is the full path for one document: yaml/v3 and the converter.
// ok is false when the document has an error or is not one mapping.
func slowParse(data []byte) (m map[string]any, line, col int, empty, ok bool) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := decode(dec, &doc)
	if errors.Is(err, io.EOF) {
		return nil, 0, 0, true, true
	}
	if err != nil {
		return nil, 0, 0, false, false
	}
	var extra yaml.Node
	if err := decode(dec, &extra); !errors.Is(err, io.EOF) {
		return nil, 0, 0, false, false // more than one document
	}
	if len(doc.Content) == 0 {
		return nil, 0, 0, true, true
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, 0, 0, true, true
	}
	c := &converter{budget: budgetFor(len(data))}
	c.budgetStart = c.budget
	v := c.value(&doc, 0)
	m, isMap := v.(map[string]any)
	if len(c.errs) > 0 || !isMap {
		return nil, 0, 0, false, false
	}
	return m, root.Line, root.Column, false, true
}

// checkFastMatchesSlow fails when the fast parser accepts a document and
// reads it differently from yaml/v3 (or accepts what yaml/v3 rejects).
func checkFastMatchesSlow(t *testing.T, doc string) (fastOK bool) {
	t.Helper()
	fm, fl, fc, fe, fok := fastParse([]byte(doc), budgetFor(len(doc)))
	if !fok {
		return false
	}
	sm, sl, sc, se, sok := slowParse([]byte(doc))
	if !sok {
		t.Errorf("fast parser accepted a document yaml/v3 rejects:\n%s\nfast: %#v", doc, fm)
		return true
	}
	if fe != se {
		t.Errorf("empty: fast %v, yaml/v3 %v for:\n%s", fe, se, doc)
		return true
	}
	if fe {
		return true
	}
	if !reflect.DeepEqual(fm, sm) {
		t.Errorf("fast parser and yaml/v3 disagree on:\n%s\nfast: %#v\nyaml: %#v", doc, fm, sm)
	}
	checkJSON(t, fm)
	if fl != sl || fc != sc {
		t.Errorf("root position: fast %d:%d, yaml/v3 %d:%d for:\n%s", fl, fc, sl, sc, doc)
	}
	return true
}

// fastCorpus are documents the fast parser must read exactly as yaml/v3
// does (want true: it must not give up on them) or must give up on (want
// false).
var fastCorpus = []struct {
	name string
	doc  string
	fast bool
}{
	{"deployment", `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web, "tier": frontend}
  annotations:
    note: "a \"quoted\" \u00e9 value"
    other: 'it''s'
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:1.27 # a comment
        args: ["--port", "80", --verbose]
        ports:
        - containerPort: 80
          protocol: TCP
        resources:
          limits: {cpu: 500m, memory: 256Mi}
      -   name: sidecar
          image: busybox
`, true},
	{"scalars", `a: 1
b: -2
c: 0x1F
d: 0o17
e: 0777
f: 1_000
g: 1.5
h: 1e3
i: .5
j: true
k: False
l: null
m: ~
n:
o: yes
p: on
q: 2024-01-01
r: 2024-01-01T10:00:00Z
s: 08
t: +12
u: 1.
v: 12:30
w: 9223372036854775808
y: a b  c
z: "multi word"
`, true},
	{"keys", `5: five
true: t
1.5: x
0x10: hex
"quoted key": q
'single': s
key with spaces: v
url://x: y
a.b/c-d_e: z
`, true},
	{"nested sequences", `a:
- - x
`, false},
	{"sequence of scalars and nulls", `a:
  - x
  -
  - # comment
  - "y"
b:
- 1
- [2, 3]
- {c: 4}
`, true},
	{"indented root", `  a: 1
  b:
    c: 2
`, true},
	{"comments everywhere", `# head
a: 1 # one
# between
b:   # nested
  # inside
  c: 2
  d: "x" # q
# tail
`, true},
	{"document start", `--- # first
a: 1
`, true},
	{"document start with content", `--- {a: 1}
`, false},
	{"literal", `data:
  script: |
    #!/bin/sh
    echo "hi"

    exit 0

  stripped: |-
    line one
      indented
  after: x
`, true},
	{"literal in a sequence", `args:
- |
  set -e
  echo hi
- |-
    two
- x
`, true},
	{"literal at end without newline", "a: |\n  x", false},
	{"literal keep", "a: |+\n  x\n\n", false},
	{"folded", "a: >\n  x\n  y\n", false},
	{"anchors", "a: &x 1\nb: *x\n", false},
	{"merge", "a: &x {b: 1}\nc:\n  <<: *x\n", false},
	{"tag", "a: !!str 5\n", false},
	{"multi-line plain", "a: one\n  two\n", false},
	{"multi-line quoted", "a: \"one\n  two\"\n", false},
	{"multi-line flow", "a: [1,\n  2]\n", false},
	{"json", `{"apiVersion": "v1", "kind": "Pod"}`, false},
	{"duplicate key", "a: 1\na: 2\n", false},
	{"bad indentation", "a:\n    b: 1\n  c: 2\n", false},
	{"tab indentation", "a:\n\tb: 1\n", false},
	{"syntax error", "a: [1, 2\n", false},
	{"mapping in plain value", "a: b: c\n", false},
	{"root sequence", "- a\n- b\n", false},
	{"root scalar", "hello\n", false},
	{"empty", "", true},
	{"only comments", "# nothing\n\n  # here\n", true},
	{"crlf", "a: 1\r\nb:\r\n  c: x\r\n", true},
	{"escapes", `a: "tab\there\x41\u00e9\U0001F600\\\'\ "` + "\n", true},
	{"flow details", `a: {"k":1, 'q': 'v', n: null, e: {}, l: []}
b: [a b, "c", 'd', 1.5, true, ~]
c: [ x , y ]
`, true},
	{"flow trailing comma", "a: [1, 2, ]\n", false},
	{"flow one-pair mapping", "a: [b: c]\n", false},
	{"control character", "a: \x01\n", false},
	{"comment needs a blank", "a: x#y\nb: 'q'#z\n", false},
	{"colon in value", "a: http://example.com:8080/x\nb: x:y\n", true},
	{"special floats", "a: .inf\n", false},
	{"null key", "~: x\n", false},
	{"empty value then dedent", "a:\n  b:\nc: 1\n", true},
	{"key after sequence at same indent", "a:\n- 1\nb: 2\n", true},
	{"unicode", "name: \"日本語\"\nplain: café ☕\n", true},
	{"nbsp", "a: \u0085x\n", false},
}

func TestFastParseMatchesYAML(t *testing.T) {
	for _, tt := range fastCorpus {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkFastMatchesSlow(t, tt.doc); got != tt.fast {
				t.Errorf("fast parser took the document: %v, want %v", got, tt.fast)
			}
		})
	}
}

// FuzzFastParse checks that whatever the fast parser accepts, yaml/v3 reads
// the same way.
func FuzzFastParse(f *testing.F) {
	for _, tt := range fastCorpus {
		f.Add(tt.doc)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		// An input a parser loops on would stall the fuzzer silently; this
		// names it.
		done := make(chan struct{})
		go func() {
			select {
			case <-done:
			case <-time.After(time.Minute):
				panic(fmt.Sprintf("HANG on %q", doc))
			}
		}()
		checkFastMatchesSlow(t, doc)
		close(done)
	})
}

// TestFastParseTypicalManifests checks that typical manifests take the fast
// path (the speed of kl validate depends on it).
func TestFastParseTypicalManifests(t *testing.T) {
	for _, doc := range []string{fastCorpus[0].doc, strings.ReplaceAll(fastCorpus[0].doc, "\n", "\r\n")} {
		if !checkFastMatchesSlow(t, doc) {
			t.Errorf("fast parser gave up on:\n%s", doc)
		}
	}
}

// checkJSON fails when appendJSON and json.Marshal encode v differently.
func checkJSON(t *testing.T, v any) {
	t.Helper()
	want, wantErr := json.Marshal(v)
	got, err := appendJSON(nil, v)
	if (err != nil) != (wantErr != nil) || (err == nil && !bytes.Equal(got, want)) {
		t.Errorf("appendJSON(%#v) = %s, %v; json.Marshal: %s, %v", v, got, err, want, wantErr)
	}
}

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	for _, v := range []any{
		nil, true, false, "", "plain", "quote\" and \\ backslash", "<html> & 'x'", "\x00\x01\b\f\n\r\t\x1f\x7f",
		"é ☕ 😀", "\u2028\u2029", "bad \xff utf8", int64(0), int64(-12), int64(math.MaxInt64), int64(math.MinInt64),
		0.0, 1.5, -2.25, 1e20, 1e21, 1e-6, 1e-7, 123456789.125, 5e-324, math.MaxFloat64, math.Inf(1), math.NaN(),
		[]any{}, []any{int64(1), "a", nil, []any{true}}, map[string]any{}, map[string]any{"b": int64(1), "a": map[string]any{"<": ">"}, "": nil},
	} {
		checkJSON(t, v)
	}
}

// BenchmarkParseDocument compares the two paths on a typical Deployment.
//
//	go test -run '^$' -bench ParseDocument ./pkg/manifest/
func BenchmarkParseDocument(b *testing.B) {
	doc := []byte(fastCorpus[0].doc)
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, _, _, _, ok := fastParse(doc, budgetFor(len(doc))); !ok {
				b.Fatal("fast parser gave up")
			}
		}
	})
	b.Run("yaml.v3", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, _, _, _, ok := slowParse(doc); !ok {
				b.Fatal("yaml/v3 failed")
			}
		}
	})
}
