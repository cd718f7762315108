// Package manifest reads Kubernetes manifests (YAML and JSON files,
// directories, standard input) into objects that remember where each of
// their fields was written, so that errors can name file:line:column.
//
// What Read accepts, as kubectl does: multi-document YAML (---), JSON, flow
// style, comments anywhere, anchors, aliases and merge keys; List and
// typed lists (ConfigMapList) expanded into their items; map keys that
// YAML reads as numbers or booleans (5:, true:) turned into strings. Values
// are JSON values: strings, int64 for integers, float64 for other numbers,
// bools, nil, []any and map[string]any. Timestamps stay strings as written.
// Unlike kubectl (YAML 1.1), yes/no/on/off are strings (YAML 1.2).
//
// What it rejects, with the file and line: YAML syntax errors, duplicate
// keys, documents without apiVersion or kind, documents nested deeper than
// MaxDepth or expanding through aliases to more than max(100,000, 10 x
// size) values, files without objects, directories without manifests, and
// the same object (group, kind, namespace, name) given twice.
//
// Speed: most documents are read by a small parser for the YAML that
// manifests are written in (fastparse.go), which records no positions; the
// positions of an object are computed with go.yaml.in/yaml/v3 when first
// asked for, which only happens for invalid objects. Everything else goes
// through yaml/v3. Files, and documents within a file, are parsed in
// parallel.
package manifest

import (
	"bytes"
	"io"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// Source is a position in a manifest file ("-" for stdin).
type Source struct {
	File         string
	Line, Column int
}

// String returns "FILE:LINE:COLUMN", or FILE alone when Line is 0.
// A Column of 0 (unknown) is left out: "FILE:LINE".
func (s Source) String() string {
	switch {
	case s.Line == 0:
		return s.File
	case s.Column == 0:
		return s.File + ":" + strconv.Itoa(s.Line)
	}
	return s.File + ":" + strconv.Itoa(s.Line) + ":" + strconv.Itoa(s.Column)
}

// Object is one document read from a manifest.
type Object struct {
	// Source is where the document (its first key) starts.
	Source Source
	// Object is the document as JSON values (strings, float64 or int64
	// numbers, bools, nil, []any, map[string]any). status and
	// metadata.creationTimestamp: null are removed.
	Object map[string]any
	// JSON is Object encoded as JSON.
	JSON []byte
	// APIVersion, Kind, Name and Namespace are copied from Object.
	APIVersion, Kind, Name, Namespace string

	pos *positions
}

// positions finds the nodes of an object's fields. Objects read by the
// fast parser keep their document's text and parse it with yaml/v3 the
// first time a position is asked for.
type positions struct {
	once       sync.Once
	doc        []byte
	root       *yaml.Node
	lineOffset int
}

// node returns the object's root node, or nil.
func (p *positions) node() *yaml.Node {
	p.once.Do(func() {
		if p.root != nil || p.doc == nil {
			return
		}
		var doc yaml.Node
		if err := decode(yaml.NewDecoder(bytes.NewReader(p.doc)), &doc); err == nil && len(doc.Content) > 0 {
			p.root = doc.Content[0]
		}
		p.doc = nil
	})
	return p.root
}

// Position returns the source position of a field path (segments as in a
// JSON pointer: "spec", "template", "spec", "containers", "0", "image"), or
// of its nearest ancestor that exists.
//
// A mapping entry's position is its key's; a list item's is the item's.
func (o *Object) Position(path []string) Source {
	src := o.Source
	if o.pos == nil {
		return src
	}
	n := o.pos.node()
	if n == nil {
		return src
	}
	for _, seg := range path {
		n = resolveAlias(n)
		switch n.Kind {
		case yaml.MappingNode:
			k, v := findKey(n, seg, 0)
			if k == nil {
				return src
			}
			src = o.sourceOf(k)
			n = v
		case yaml.SequenceNode:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(n.Content) {
				return src
			}
			n = n.Content[i]
			src = o.sourceOf(n)
		default:
			return src
		}
	}
	return src
}

func (o *Object) sourceOf(n *yaml.Node) Source {
	return Source{File: o.Source.File, Line: n.Line + o.pos.lineOffset, Column: n.Column}
}

// findKey returns the key and value nodes of key k in mapping n, looking
// at explicit keys first and then at merged mappings (<<).
func findKey(n *yaml.Node, k string, depth int) (key, value *yaml.Node) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn := n.Content[i]
		if isMerge(kn) {
			continue
		}
		if s, err := keyString(kn); err == nil && s == k {
			return kn, n.Content[i+1]
		}
	}
	if depth >= MaxDepth {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if !isMerge(n.Content[i]) {
			continue
		}
		for _, src := range mergeSources(n.Content[i+1]) {
			if src.Kind == yaml.MappingNode {
				if kn, vn := findKey(src, k, depth+1); kn != nil {
					return kn, vn
				}
			}
		}
	}
	return nil, nil
}

// String returns "Kind namespace/name", or "Kind name" without namespace.
func (o *Object) String() string {
	return describe(o.Kind, o.Namespace, o.Name)
}

func describe(kind, ns, name string) string {
	switch {
	case ns != "":
		return kind + " " + ns + "/" + name
	case name != "":
		return kind + " " + name
	default:
		return kind
	}
}

// Options for Read.
type Options struct {
	// Recursive makes Read descend into subdirectories.
	Recursive bool
	// Stdin is read for the path "-".
	Stdin io.Reader
}

// Error is one problem found while reading manifests.
type Error struct {
	Source Source
	// Object is "Deployment shop/web" or "" when not known.
	Object string
	Msg    string
}

// Error returns "FILE:LINE:COL: OBJECT: MSG".
func (e *Error) Error() string {
	var b strings.Builder
	if s := e.Source.String(); s != "" {
		b.WriteString(s)
		b.WriteString(": ")
	}
	if e.Object != "" {
		b.WriteString(e.Object)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList is every problem found by one Read.
type ErrorList []*Error

// Error joins the errors, one a line.
func (l ErrorList) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}
