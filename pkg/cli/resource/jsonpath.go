package resource

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// JSONPath is a parsed kubectl JSONPath template: text with actions in
// braces. Supported, as in kubectl:
//
//	{.metadata.name}                 a field; {.} or {@} is the current object
//	{.metadata.labels.app\.kubernetes\.io/name} or {.metadata.labels['app.kubernetes.io/name']}
//	{.items[0]} {.items[-1]} {.items[1:3]} {.items[*]} {.*}  index, slice, wildcard
//	{.items[0,2]} {['a','b']}        unions
//	{..name}                         recursive descent
//	{.status.conditions[?(@.type=="Ready")].status}   filters: == != < <= > >=, or @.field alone
//	{range .items[*]}...{end}        iteration; paths inside are relative to the element
//	{"\n"}                           a string literal (Go escapes)
//
// Missing fields select nothing and print nothing (kubectl's
// --allow-missing-template-keys=true). Several values selected by one
// action are separated by a space; maps and lists print as JSON.
type JSONPath struct {
	template string
	nodes    []jpNode
}

type jpNode struct {
	text    string   // text or literal (when path == nil and body == nil)
	path    []jpStep // an expression
	isRange bool
	body    []jpNode // range body
}

type stepKind int

const (
	stepField stepKind = iota
	stepWildcard
	stepIndex
	stepSlice
	stepFilter
	stepUnion
	stepSelf
)

type jpStep struct {
	kind      stepKind
	recursive bool // preceded by ".."
	name      string
	index     int
	slice     [3]*int
	filter    *jpFilter
	union     []jpStep
}

type jpFilter struct {
	left, right jpOperand
	op          string // "" means: left exists
}

type jpOperand struct {
	path    []jpStep
	rooted  bool // $ rather than @
	literal any  // string, float64 or bool when path is nil
}

// ParseJSONPath parses a kubectl JSONPath template.
func ParseJSONPath(template string) (*JSONPath, error) {
	nodes, rest, err := parseNodes(template, false)
	if err != nil {
		return nil, fmt.Errorf("error parsing jsonpath %s: %w", template, err)
	}
	if rest != "" {
		return nil, fmt.Errorf("error parsing jsonpath %s: unexpected {end}", template)
	}
	return &JSONPath{template: template, nodes: nodes}, nil
}

// parseNodes parses until the end of s or, inRange, an {end}; it returns
// the unparsed rest after {end}.
func parseNodes(s string, inRange bool) ([]jpNode, string, error) {
	var nodes []jpNode
	for len(s) > 0 {
		open := strings.IndexByte(s, '{')
		if open < 0 {
			nodes = append(nodes, jpNode{text: s})
			s = ""
			break
		}
		if open > 0 {
			nodes = append(nodes, jpNode{text: s[:open]})
		}
		end, err := actionEnd(s, open)
		if err != nil {
			return nil, "", err
		}
		action := strings.TrimSpace(s[open+1 : end])
		s = s[end+1:]
		switch {
		case action == "end":
			if !inRange {
				return nil, "", fmt.Errorf("not in range, nothing to end")
			}
			return nodes, s, nil
		case isRange(action):
			path, err := parsePath(strings.TrimSpace(action[len("range"):]))
			if err != nil {
				return nil, "", err
			}
			body, rest, err := parseNodes(s, true)
			if err != nil {
				return nil, "", err
			}
			nodes = append(nodes, jpNode{isRange: true, path: path, body: body})
			s = rest
			continue
		case len(action) >= 2 && (action[0] == '"' || action[0] == '\'') && action[len(action)-1] == action[0]:
			lit, err := unquote(action)
			if err != nil {
				return nil, "", fmt.Errorf("invalid string literal %s: %w", action, err)
			}
			nodes = append(nodes, jpNode{text: lit})
		case action == "":
			return nil, "", fmt.Errorf("empty action {}")
		default:
			path, err := parsePath(action)
			if err != nil {
				return nil, "", err
			}
			nodes = append(nodes, jpNode{path: path})
		}
	}
	if inRange {
		return nil, "", fmt.Errorf("unclosed range: missing {end}")
	}
	return nodes, "", nil
}

// actionEnd returns the index of the '}' closing the action opened at
// s[open], skipping quoted strings.
func actionEnd(s string, open int) (int, error) {
	var quote byte
	for i := open + 1; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '}':
			return i, nil
		}
	}
	return 0, fmt.Errorf("unclosed action %s", s[open:])
}

// isRange reports whether an action is "range EXPR" (the space may be
// left out before a path: "range.items[*]").
func isRange(action string) bool {
	rest, ok := strings.CutPrefix(action, "range")
	return ok && rest != "" && strings.IndexByte(" \t.$@[", rest[0]) >= 0
}

func unquote(s string) (string, error) {
	if s[0] == '\'' {
		s = `"` + strings.ReplaceAll(strings.ReplaceAll(s[1:len(s)-1], `"`, `\"`), `\'`, `'`) + `"`
	}
	return strconv.Unquote(s)
}

// parsePath parses a path expression such as .items[*].metadata.name.
func parsePath(s string) ([]jpStep, error) {
	p := &pathParser{s: s}
	steps, err := p.steps()
	if err != nil {
		return nil, err
	}
	if p.i < len(s) {
		return nil, fmt.Errorf("unexpected %q in %q", s[p.i:], s)
	}
	return steps, nil
}

type pathParser struct {
	s string
	i int
}

// steps parses steps until the end or a character that cannot continue a
// path (an operator or ')' inside a filter).
func (p *pathParser) steps() ([]jpStep, error) {
	var steps []jpStep
	if p.i < len(p.s) && (p.s[p.i] == '$' || p.s[p.i] == '@') {
		p.i++
	}
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '.':
			p.i++
			recursive := false
			if p.i < len(p.s) && p.s[p.i] == '.' {
				recursive = true
				p.i++
			}
			if p.i < len(p.s) && p.s[p.i] == '[' {
				st, err := p.subscript()
				if err != nil {
					return nil, err
				}
				st.recursive = recursive
				steps = append(steps, st)
				continue
			}
			if p.i < len(p.s) && p.s[p.i] == '*' {
				p.i++
				steps = append(steps, jpStep{kind: stepWildcard, recursive: recursive})
				continue
			}
			name := p.ident()
			if name == "" {
				if recursive {
					return nil, fmt.Errorf("missing field name after '..' in %q", p.s)
				}
				steps = append(steps, jpStep{kind: stepSelf})
				continue
			}
			steps = append(steps, jpStep{kind: stepField, name: name, recursive: recursive})
		case c == '[':
			st, err := p.subscript()
			if err != nil {
				return nil, err
			}
			steps = append(steps, st)
		default:
			if len(steps) == 0 && isIdentChar(c) {
				// A bare first field ("metadata.name") as in relaxed paths.
				steps = append(steps, jpStep{kind: stepField, name: p.ident()})
				continue
			}
			return steps, nil
		}
	}
	return steps, nil
}

func isIdentChar(c byte) bool {
	switch c {
	case '.', '[', ']', '(', ')', ',', '=', '!', '<', '>', ' ', '\t', '\'', '"', '{', '}':
		return false
	}
	return true
}

// ident reads a field name; a backslash escapes the next character
// ("app\.kubernetes\.io/name").
func (p *pathParser) ident() string {
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '\\' && p.i+1 < len(p.s) {
			b.WriteByte(p.s[p.i+1])
			p.i += 2
			continue
		}
		if !isIdentChar(c) {
			break
		}
		b.WriteByte(c)
		p.i++
	}
	return b.String()
}

// subscript parses [...] at p.i.
func (p *pathParser) subscript() (jpStep, error) {
	start := p.i
	depth := 0
	var quote byte
	end := -1
	for i := p.i; i < len(p.s) && end < 0; i++ {
		c := p.s[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '[' || c == '(':
			depth++
		case c == ']' || c == ')':
			depth--
			if depth == 0 && c == ']' {
				end = i
			}
		}
	}
	if end < 0 {
		return jpStep{}, fmt.Errorf("unterminated [ in %q", p.s[start:])
	}
	inner := strings.TrimSpace(p.s[start+1 : end])
	p.i = end + 1
	switch {
	case inner == "*":
		return jpStep{kind: stepWildcard}, nil
	case strings.HasPrefix(inner, "?(") && strings.HasSuffix(inner, ")"):
		f, err := parseFilter(strings.TrimSpace(inner[2 : len(inner)-1]))
		if err != nil {
			return jpStep{}, err
		}
		return jpStep{kind: stepFilter, filter: f}, nil
	}
	parts := splitTopLevel(inner, ',')
	if len(parts) > 1 {
		st := jpStep{kind: stepUnion}
		for _, part := range parts {
			sub, err := parseSubscriptItem(strings.TrimSpace(part))
			if err != nil {
				return jpStep{}, err
			}
			st.union = append(st.union, sub)
		}
		return st, nil
	}
	return parseSubscriptItem(inner)
}

func parseSubscriptItem(s string) (jpStep, error) {
	if s == "" {
		return jpStep{}, fmt.Errorf("empty subscript []")
	}
	if s[0] == '\'' || s[0] == '"' {
		if len(s) < 2 || s[len(s)-1] != s[0] {
			return jpStep{}, fmt.Errorf("unterminated string %s", s)
		}
		name, err := unquote(s)
		if err != nil {
			return jpStep{}, fmt.Errorf("invalid string %s: %w", s, err)
		}
		return jpStep{kind: stepField, name: name}, nil
	}
	if strings.Contains(s, ":") {
		parts := strings.Split(s, ":")
		if len(parts) > 3 {
			return jpStep{}, fmt.Errorf("invalid slice [%s]", s)
		}
		st := jpStep{kind: stepSlice}
		for i, part := range parts {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			n, err := strconv.Atoi(part)
			if err != nil {
				return jpStep{}, fmt.Errorf("invalid slice [%s]: %w", s, err)
			}
			st.slice[i] = &n
		}
		if st.slice[2] != nil && *st.slice[2] == 0 {
			return jpStep{}, fmt.Errorf("invalid slice [%s]: step must not be 0", s)
		}
		return st, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return jpStep{}, fmt.Errorf("invalid array index [%s]", s)
	}
	return jpStep{kind: stepIndex, index: n}, nil
}

// splitTopLevel splits s at sep outside quotes and brackets.
func splitTopLevel(s string, sep byte) []string {
	var parts []string
	depth, last := 0, 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '[' || c == '(' || c == '{':
			depth++
		case c == ']' || c == ')' || c == '}':
			depth--
		case c == sep && depth == 0:
			parts = append(parts, s[last:i])
			last = i + 1
		}
	}
	return append(parts, s[last:])
}

var filterOps = []string{"==", "!=", "<=", ">=", "<", ">"}

func parseFilter(s string) (*jpFilter, error) {
	left, rest, err := parseOperand(s)
	if err != nil {
		return nil, fmt.Errorf("invalid filter %q: %w", s, err)
	}
	rest = strings.TrimSpace(rest)
	if rest == "" {
		if left.path == nil {
			return nil, fmt.Errorf("invalid filter %q: a literal alone is not a condition", s)
		}
		return &jpFilter{left: left}, nil
	}
	f := &jpFilter{left: left}
	for _, op := range filterOps {
		if strings.HasPrefix(rest, op) {
			f.op = op
			rest = strings.TrimSpace(rest[len(op):])
			break
		}
	}
	if f.op == "" {
		return nil, fmt.Errorf("invalid filter %q: unknown operator at %q", s, rest)
	}
	right, rest, err := parseOperand(rest)
	if err != nil {
		return nil, fmt.Errorf("invalid filter %q: %w", s, err)
	}
	if strings.TrimSpace(rest) != "" {
		return nil, fmt.Errorf("invalid filter %q: unexpected %q", s, rest)
	}
	f.right = right
	return f, nil
}

// parseOperand parses a path (@... or $...) or a literal at the start of s
// and returns the rest.
func parseOperand(s string) (jpOperand, string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return jpOperand{}, "", fmt.Errorf("missing operand")
	}
	switch c := s[0]; {
	case c == '@' || c == '$':
		p := &pathParser{s: s}
		steps, err := p.steps()
		if err != nil {
			return jpOperand{}, "", err
		}
		if steps == nil {
			steps = []jpStep{{kind: stepSelf}}
		}
		return jpOperand{path: steps, rooted: c == '$'}, s[p.i:], nil
	case c == '"' || c == '\'':
		for i := 1; i < len(s); i++ {
			if s[i] == '\\' {
				i++
				continue
			}
			if s[i] == c {
				lit, err := unquote(s[:i+1])
				if err != nil {
					return jpOperand{}, "", err
				}
				return jpOperand{literal: lit}, s[i+1:], nil
			}
		}
		return jpOperand{}, "", fmt.Errorf("unterminated string %s", s)
	default:
		i := 0
		for i < len(s) && strings.IndexByte(" \t=!<>)", s[i]) < 0 {
			i++
		}
		word := s[:i]
		switch word {
		case "true", "false":
			return jpOperand{literal: word == "true"}, s[i:], nil
		}
		f, err := strconv.ParseFloat(word, 64)
		if err != nil {
			return jpOperand{}, "", fmt.Errorf("unrecognized operand %q", word)
		}
		return jpOperand{literal: f}, s[i:], nil
	}
}

// Execute writes the template's output for data, a JSON value as
// encoding/json decodes it (map[string]any, []any, string, float64 or
// json.Number, bool, nil).
func (j *JSONPath) Execute(w io.Writer, data any) error {
	var b bytes.Buffer
	if err := execNodes(&b, j.nodes, data, data); err != nil {
		return fmt.Errorf("error executing jsonpath %s: %w", j.template, err)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// Find returns the values each expression of the template selects, one
// slice per expression (custom-columns uses it with one expression).
func (j *JSONPath) Find(data any) [][]any {
	var out [][]any
	for _, n := range j.nodes {
		if n.path != nil && !n.isRange {
			out = append(out, evalPath(n.path, data, data))
		}
	}
	return out
}

func execNodes(b *bytes.Buffer, nodes []jpNode, root, cur any) error {
	for _, n := range nodes {
		switch {
		case n.isRange:
			for _, v := range evalPath(n.path, root, cur) {
				items := []any{v}
				if l, ok := v.([]any); ok {
					items = l
				}
				for _, item := range items {
					if err := execNodes(b, n.body, root, item); err != nil {
						return err
					}
				}
			}
		case n.path != nil:
			for i, v := range evalPath(n.path, root, cur) {
				if i > 0 {
					b.WriteByte(' ')
				}
				s, err := formatValue(v)
				if err != nil {
					return err
				}
				b.WriteString(s)
			}
		default:
			b.WriteString(n.text)
		}
	}
	return nil
}

// formatValue prints a scalar as text and maps and lists as JSON.
func formatValue(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case json.Number:
		return v.String(), nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(v), nil
	default:
		out, err := json.Marshal(v)
		if err != nil {
			return "", err
		}
		return string(out), nil
	}
}

func evalPath(steps []jpStep, root, cur any) []any {
	vals := []any{cur}
	for _, st := range steps {
		var next []any
		for _, v := range vals {
			if st.recursive {
				for _, d := range descendants(v) {
					next = append(next, evalStep(st, root, d)...)
				}
				continue
			}
			next = append(next, evalStep(st, root, v)...)
		}
		vals = next
		if len(vals) == 0 {
			break
		}
	}
	return vals
}

// descendants returns v and every value nested in it, depth first, map keys
// in sorted order.
func descendants(v any) []any {
	out := []any{v}
	switch v := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(v) {
			out = append(out, descendants(v[k])...)
		}
	case []any:
		for _, e := range v {
			out = append(out, descendants(e)...)
		}
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func evalStep(st jpStep, root, v any) []any {
	switch st.kind {
	case stepSelf:
		return []any{v}
	case stepField:
		if m, ok := v.(map[string]any); ok {
			if x, ok := m[st.name]; ok {
				return []any{x}
			}
		}
		return nil
	case stepWildcard:
		switch v := v.(type) {
		case map[string]any:
			out := make([]any, 0, len(v))
			for _, k := range sortedKeys(v) {
				out = append(out, v[k])
			}
			return out
		case []any:
			return append([]any(nil), v...)
		}
		return nil
	case stepIndex:
		l, ok := v.([]any)
		if !ok {
			return nil
		}
		i := st.index
		if i < 0 {
			i += len(l)
		}
		if i < 0 || i >= len(l) {
			return nil
		}
		return []any{l[i]}
	case stepSlice:
		l, ok := v.([]any)
		if !ok {
			return nil
		}
		return sliceOf(l, st.slice)
	case stepFilter:
		l, ok := v.([]any)
		if !ok {
			l = []any{v}
		}
		var out []any
		for _, e := range l {
			if st.filter.matches(root, e) {
				out = append(out, e)
			}
		}
		return out
	case stepUnion:
		var out []any
		for _, sub := range st.union {
			out = append(out, evalStep(sub, root, v)...)
		}
		return out
	}
	return nil
}

func sliceOf(l []any, s [3]*int) []any {
	n := len(l)
	step := 1
	if s[2] != nil {
		step = *s[2]
	}
	norm := func(p *int, def int) int {
		if p == nil {
			return def
		}
		i := *p
		if i < 0 {
			i += n
		}
		return max(0, min(i, n))
	}
	var out []any
	if step > 0 {
		for i := norm(s[0], 0); i < norm(s[1], n); i += step {
			out = append(out, l[i])
		}
		return out
	}
	start := n - 1
	if s[0] != nil {
		start = min(norm(s[0], 0), n-1)
	}
	stop := -1
	if s[1] != nil {
		stop = norm(s[1], 0)
	}
	for i := start; i > stop; i += step {
		out = append(out, l[i])
	}
	return out
}

func (o jpOperand) values(root, cur any) []any {
	if o.path == nil {
		return []any{o.literal}
	}
	if o.rooted {
		return evalPath(o.path, root, root)
	}
	return evalPath(o.path, root, cur)
}

func (f *jpFilter) matches(root, cur any) bool {
	lefts := f.left.values(root, cur)
	if f.op == "" {
		for _, l := range lefts {
			if l != nil && l != false {
				return true
			}
		}
		return false
	}
	for _, l := range lefts {
		for _, r := range f.right.values(root, cur) {
			if compare(l, f.op, r) {
				return true
			}
		}
	}
	return false
}

func toFloat(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	}
	return math.NaN(), false
}

func compare(l any, op string, r any) bool {
	if lf, ok := toFloat(l); ok {
		if rf, ok := toFloat(r); ok {
			switch op {
			case "==":
				return lf == rf
			case "!=":
				return lf != rf
			case "<":
				return lf < rf
			case "<=":
				return lf <= rf
			case ">":
				return lf > rf
			case ">=":
				return lf >= rf
			}
		}
	}
	ls, lerr := formatValue(l)
	rs, rerr := formatValue(r)
	if lerr != nil || rerr != nil {
		return false
	}
	_, lstr := l.(string)
	_, rstr := r.(string)
	switch op {
	case "==":
		return ls == rs && lstr == rstr
	case "!=":
		return ls != rs || lstr != rstr
	case "<":
		return lstr && rstr && ls < rs
	case "<=":
		return lstr && rstr && ls <= rs
	case ">":
		return lstr && rstr && ls > rs
	case ">=":
		return lstr && rstr && ls >= rs
	}
	return false
}
