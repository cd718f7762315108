package fieldmanager

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Path is the path of one field, each element spelled as in FieldsV1:
// "f:name" (a map field), `k:{"name":"web"}` (a list item by its key
// fields), `v:"x"` (a set item by value) or "i:3" (a list item by index).
// kl writes only "f:" and "k:" elements but reads all four.
type Path []string

// Field returns the path element of the map field name.
func Field(name string) string { return "f:" + name }

// Key returns the path element of the list item whose key fields are fields,
// e.g. Key(map[string]any{"name": "web"}) is `k:{"name":"web"}`.
func Key(fields map[string]any) string {
	return "k:" + string(appendCanonicalJSON(nil, fields))
}

// String spells the path as Kubernetes does in conflict messages:
// `.spec.template.spec.containers[name="web"].image`.
func (p Path) String() string {
	var b strings.Builder
	for _, e := range p {
		prefix, rest := e[:min(2, len(e))], e[min(2, len(e)):]
		switch prefix {
		case "f:":
			b.WriteString("." + rest)
		case "k:":
			var fields map[string]any
			if err := unmarshalNumber([]byte(rest), &fields); err != nil {
				b.WriteString("[" + rest + "]")
				continue
			}
			names := make([]string, 0, len(fields))
			for n := range fields {
				names = append(names, n)
			}
			sort.Strings(names)
			b.WriteByte('[')
			for i, n := range names {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(n + "=")
				b.Write(appendCanonicalJSON(nil, fields[n]))
			}
			b.WriteByte(']')
		case "v:":
			b.WriteString("[=" + rest + "]")
		case "i:":
			b.WriteString("[" + rest + "]")
		default:
			b.WriteString("." + e)
		}
	}
	return b.String()
}

// FieldSet is a set of field paths kept as a tree, the in-memory form of a
// managedFields entry's fieldsV1. A path is in the set when its node is a
// member; intermediate nodes that are not members only lead to members.
// The nil *FieldSet is a valid empty set for every read-only method.
type FieldSet struct {
	member   bool
	children map[string]*FieldSet
}

// NewFieldSet returns a set holding paths.
func NewFieldSet(paths ...Path) *FieldSet {
	s := &FieldSet{}
	for _, p := range paths {
		s.Insert(p)
	}
	return s
}

// Insert adds p to the set.
func (s *FieldSet) Insert(p Path) {
	n := s
	for _, e := range p {
		n = n.ensureChild(e)
	}
	n.member = true
}

func (s *FieldSet) ensureChild(e string) *FieldSet {
	if s.children == nil {
		s.children = map[string]*FieldSet{}
	}
	c := s.children[e]
	if c == nil {
		c = &FieldSet{}
		s.children[e] = c
	}
	return c
}

// child returns the subtree under element e, or nil.
func (s *FieldSet) child(e string) *FieldSet {
	if s == nil {
		return nil
	}
	return s.children[e]
}

func (s *FieldSet) isMember() bool { return s != nil && s.member }

// Has reports whether p is in the set.
func (s *FieldSet) Has(p Path) bool {
	n := s
	for _, e := range p {
		n = n.child(e)
	}
	return n.isMember()
}

// Empty reports whether the set holds no path.
func (s *FieldSet) Empty() bool {
	if s == nil {
		return true
	}
	if s.member {
		return false
	}
	for _, c := range s.children {
		if !c.Empty() {
			return false
		}
	}
	return true
}

// Equal reports whether both sets hold the same paths.
func (s *FieldSet) Equal(o *FieldSet) bool {
	if s.Empty() || o.Empty() {
		return s.Empty() && o.Empty()
	}
	if s.member != o.member {
		return false
	}
	for e, c := range s.children {
		if !c.Equal(o.child(e)) {
			return false
		}
	}
	for e, c := range o.children {
		if s.child(e) == nil && !c.Empty() {
			return false
		}
	}
	return true
}

// Union returns the paths in s or o.
func (s *FieldSet) Union(o *FieldSet) *FieldSet {
	out := &FieldSet{member: s.isMember() || o.isMember()}
	for _, src := range []*FieldSet{s, o} {
		if src == nil {
			continue
		}
		for e, c := range src.children {
			if u := c.Union(out.child(e)); !u.Empty() {
				out.setChild(e, u)
			}
		}
	}
	return out
}

// Intersection returns the paths in both s and o.
func (s *FieldSet) Intersection(o *FieldSet) *FieldSet {
	out := &FieldSet{member: s.isMember() && o.isMember()}
	if s != nil {
		for e, c := range s.children {
			if i := c.Intersection(o.child(e)); !i.Empty() {
				out.setChild(e, i)
			}
		}
	}
	return out
}

// Difference returns the paths in s that are not in o.
func (s *FieldSet) Difference(o *FieldSet) *FieldSet {
	if s == nil {
		return &FieldSet{}
	}
	out := &FieldSet{member: s.member && !o.isMember()}
	for e, c := range s.children {
		if d := c.Difference(o.child(e)); !d.Empty() {
			out.setChild(e, d)
		}
	}
	return out
}

func (s *FieldSet) setChild(e string, c *FieldSet) {
	if s.children == nil {
		s.children = map[string]*FieldSet{}
	}
	s.children[e] = c
}

// Leaves returns every path of the set, in FieldsV1 order.
func (s *FieldSet) Leaves() []Path {
	var out []Path
	s.walk(nil, func(p Path) { out = append(out, slices.Clone(p)) })
	return out
}

func (s *FieldSet) walk(prefix Path, fn func(Path)) {
	if s == nil {
		return
	}
	if s.member {
		fn(prefix)
	}
	for _, e := range s.sortedElems() {
		s.children[e].walk(append(prefix, e), fn)
	}
}

// String lists the set's paths, one per line, for test failures and logs.
func (s *FieldSet) String() string {
	var lines []string
	for _, p := range s.Leaves() {
		lines = append(lines, p.String())
	}
	return strings.Join(lines, "\n")
}

func (s *FieldSet) sortedElems() []string {
	elems := make([]string, 0, len(s.children))
	for e, c := range s.children {
		if !c.Empty() {
			elems = append(elems, e)
		}
	}
	sort.Slice(elems, func(i, j int) bool { return compareElems(elems[i], elems[j]) < 0 })
	return elems
}

// compareElems orders path elements as Kubernetes does: fields (by name),
// then keyed items (by key values), then set values, then indexes.
func compareElems(a, b string) int {
	ra, rb := elemRank(a), elemRank(b)
	if ra != rb {
		return ra - rb
	}
	switch ra {
	case 1:
		var fa, fb map[string]any
		if unmarshalNumber([]byte(a[2:]), &fa) == nil && unmarshalNumber([]byte(b[2:]), &fb) == nil {
			if c := compareKeyFields(fa, fb); c != 0 {
				return c
			}
		}
	case 2:
		var va, vb any
		if unmarshalNumber([]byte(a[2:]), &va) == nil && unmarshalNumber([]byte(b[2:]), &vb) == nil {
			if c := compareValues(va, vb); c != 0 {
				return c
			}
		}
	case 3:
		ia, erra := strconv.Atoi(a[2:])
		ib, errb := strconv.Atoi(b[2:])
		if erra == nil && errb == nil && ia != ib {
			return ia - ib
		}
	}
	return compareStrings(a, b)
}

func elemRank(e string) int {
	switch {
	case strings.HasPrefix(e, "f:"):
		return 0
	case strings.HasPrefix(e, "k:"):
		return 1
	case strings.HasPrefix(e, "v:"):
		return 2
	}
	return 3
}

func compareKeyFields(a, b map[string]any) int {
	na, nb := sortedKeys(a), sortedKeys(b)
	for i := 0; i < len(na) && i < len(nb); i++ {
		if c := compareStrings(na[i], nb[i]); c != 0 {
			return c
		}
		if c := compareValues(a[na[i]], b[nb[i]]); c != 0 {
			return c
		}
	}
	return len(na) - len(nb)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// MarshalJSON encodes the set in Kubernetes' FieldsV1 format: every element
// is an object key; a member without children is {}, a member with children
// carries a "." key; object keys are in Kubernetes' order.
func (s *FieldSet) MarshalJSON() ([]byte, error) {
	if s == nil {
		return []byte("{}"), nil
	}
	return s.appendJSON(nil, s.member), nil
}

func (s *FieldSet) appendJSON(buf []byte, self bool) []byte {
	buf = append(buf, '{')
	first := true
	if self {
		buf = append(buf, `".":{}`...)
		first = false
	}
	for _, e := range s.sortedElems() {
		if !first {
			buf = append(buf, ',')
		}
		first = false
		buf = appendJSONString(buf, e)
		buf = append(buf, ':')
		c := s.children[e]
		if c.Empty() || len(c.sortedElems()) == 0 {
			buf = append(buf, "{}"...)
		} else {
			buf = c.appendJSON(buf, c.member)
		}
	}
	return append(buf, '}')
}

// UnmarshalJSON decodes FieldsV1 JSON into s.
func (s *FieldSet) UnmarshalJSON(b []byte) error {
	d, err := DecodeFieldsV1(b)
	if err != nil {
		return err
	}
	*s = *d
	return nil
}

// DecodeFieldsV1 parses a managedFields entry's fieldsV1. Key and value
// elements are re-spelled canonically, so `k:{"b":1,"a":"x"}` and
// `k:{"a":"x","b":1.0}` name the same item.
func DecodeFieldsV1(raw []byte) (*FieldSet, error) {
	var tree map[string]any
	if err := unmarshalNumber(raw, &tree); err != nil {
		return nil, fmt.Errorf("decode fieldsV1: %w", err)
	}
	s := &FieldSet{}
	if err := s.decode(tree); err != nil {
		return nil, fmt.Errorf("decode fieldsV1: %w", err)
	}
	return s, nil
}

func (s *FieldSet) decode(tree map[string]any) error {
	for k, v := range tree {
		sub, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("value of %q is not an object", k)
		}
		if k == "." {
			s.member = true
			continue
		}
		e, err := canonicalElem(k)
		if err != nil {
			return err
		}
		c := &FieldSet{member: len(sub) == 0}
		if err := c.decode(sub); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		if !c.Empty() {
			s.setChild(e, c.Union(s.child(e)))
		}
	}
	return nil
}

// canonicalElem validates a FieldsV1 path element and re-spells it
// canonically.
func canonicalElem(e string) (string, error) {
	if len(e) < 2 || e[1] != ':' {
		return "", fmt.Errorf("path element %q has no f:, k:, v: or i: prefix", e)
	}
	rest := e[2:]
	switch e[0] {
	case 'f':
		return e, nil
	case 'k':
		var fields map[string]any
		if err := unmarshalNumber([]byte(rest), &fields); err != nil || fields == nil {
			return "", fmt.Errorf("key element %q is not a JSON object", e)
		}
		return Key(fields), nil
	case 'v':
		var v any
		if err := unmarshalNumber([]byte(rest), &v); err != nil {
			return "", fmt.Errorf("value element %q is not JSON", e)
		}
		return "v:" + string(appendCanonicalJSON(nil, v)), nil
	case 'i':
		i, err := strconv.Atoi(rest)
		if err != nil || i < 0 {
			return "", fmt.Errorf("index element %q is not a non-negative integer", e)
		}
		return "i:" + strconv.Itoa(i), nil
	}
	return "", fmt.Errorf("path element %q has no f:, k:, v: or i: prefix", e)
}

// unmarshalNumber decodes one JSON value, numbers as json.Number.
func unmarshalNumber(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return err
	}
	if len(bytes.TrimSpace(b[d.InputOffset():])) > 0 {
		return fmt.Errorf("trailing data after JSON value")
	}
	return nil
}

// FromValue returns the set of fields that obj sets, the way an applied
// configuration claims them: every scalar, atomic list, empty map and
// keyed list item (with its fields); not the maps and keyed lists that only
// lead to them (an empty keyed list claims nothing).
// Fields set to null are left out. obj is walked as given: call it on a
// configuration whose identity fields and status are already removed.
func FromValue(obj map[string]any, keys ListKeyFunc) *FieldSet {
	if keys == nil {
		keys = DefaultListKeys
	}
	s := &FieldSet{}
	fromMap(s, keys, nil, obj)
	return s
}

func fromMap(s *FieldSet, keys ListKeyFunc, path []string, m map[string]any) {
	for name, v := range m {
		if v == nil {
			continue
		}
		c := &FieldSet{}
		fromField(c, keys, childPath(path, name), v)
		if !c.Empty() {
			s.setChild(Field(name), c)
		}
	}
}

func fromField(s *FieldSet, keys ListKeyFunc, path []string, v any) {
	switch t := v.(type) {
	case map[string]any:
		if len(t) == 0 {
			s.member = true
			return
		}
		fromMap(s, keys, path, t)
	case []any:
		elems, keyed := listElems(keys, path, t)
		if !keyed {
			s.member = true
			return
		}
		// A keyed list is owned item by item: an empty one claims nothing
		// (as in Kubernetes), so dropping it later cannot delete the items
		// other managers added.
		for i, e := range elems {
			item := &FieldSet{member: true}
			fromMap(item, keys, path, t[i].(map[string]any))
			s.setChild(e, item)
		}
	default:
		s.member = true
	}
}

// childPath returns path+name without sharing path's backing array.
func childPath(path []string, name string) []string {
	return append(path[:len(path):len(path)], name)
}
