package manifest

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Limits that protect against hostile documents ("YAML bombs").
const (
	// MaxDepth is how deeply a document may nest mappings and sequences.
	MaxDepth = 100
	// minNodeBudget is the node budget of a small document: a document may
	// expand (through aliases) to max(minNodeBudget, nodesPerByte*size)
	// values.
	minNodeBudget = 100_000
	// nodesPerByte bounds the expansion of larger documents: without
	// aliases a document has fewer values than bytes.
	nodesPerByte = 10
)

// converter turns the yaml.Node tree of one document into JSON values
// (map[string]any, []any, string, int64, float64, bool, nil).
type converter struct {
	file       string
	lineOffset int
	// budget is how many more values the document may produce, out of
	// budgetStart.
	budget, budgetStart int
	errs                []*Error
	// expanding holds the aliased nodes being converted, to catch an alias
	// inside its own anchor.
	expanding []*yaml.Node
	// fatal is set when a limit was hit; conversion stops.
	fatal bool
}

// budgetFor returns the node budget of a document of size bytes.
func budgetFor(size int) int {
	return max(minNodeBudget, nodesPerByte*size)
}

func (c *converter) src(n *yaml.Node) Source {
	return Source{File: c.file, Line: n.Line + c.lineOffset, Column: n.Column}
}

func (c *converter) errorf(n *yaml.Node, format string, args ...any) {
	c.errs = append(c.errs, &Error{Source: c.src(n), Msg: fmt.Sprintf(format, args...)})
}

// value converts n at nesting depth depth.
func (c *converter) value(n *yaml.Node, depth int) any {
	if c.fatal {
		return nil
	}
	if depth > MaxDepth {
		c.errorf(n, "document nested more than %d levels deep", MaxDepth)
		c.fatal = true
		return nil
	}
	c.budget--
	if c.budget < 0 {
		c.errorf(n, "document expands to more than %d values (too many aliases?)", c.budgetStart)
		c.fatal = true
		return nil
	}
	switch n.Kind {
	case yaml.AliasNode:
		c.budget++ // the alias itself is not a value
		if n.Alias == nil {
			c.errorf(n, "unknown anchor %q", n.Value)
			return nil
		}
		if slices.Contains(c.expanding, n.Alias) {
			c.errorf(n, "alias *%s refers to itself", n.Value)
			c.fatal = true
			return nil
		}
		c.expanding = append(c.expanding, n.Alias)
		v := c.value(n.Alias, depth)
		c.expanding = c.expanding[:len(c.expanding)-1]
		return v
	case yaml.ScalarNode:
		return c.scalar(n)
	case yaml.SequenceNode:
		out := make([]any, len(n.Content))
		for i, item := range n.Content {
			out[i] = c.value(item, depth+1)
		}
		return out
	case yaml.MappingNode:
		return c.mapping(n, depth)
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil
		}
		return c.value(n.Content[0], depth)
	}
	c.errorf(n, "unexpected YAML node")
	return nil
}

func (c *converter) mapping(n *yaml.Node, depth int) map[string]any {
	out := make(map[string]any, len(n.Content)/2)
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		if isMerge(kn) {
			merges = append(merges, vn)
			continue
		}
		k, ok := c.key(kn)
		if !ok {
			continue
		}
		if _, dup := out[k]; dup {
			first := c.firstKey(n, k, i)
			c.errorf(kn, "duplicate key %q (first defined at line %d)", k, first.Line+c.lineOffset)
			continue
		}
		out[k] = c.value(vn, depth+1)
		if c.fatal {
			return out
		}
	}
	// Merge keys (<<: *base, or <<: [*a, *b]): explicit keys win, then
	// earlier sources over later ones.
	for _, m := range merges {
		for _, src := range mergeSources(m) {
			if src.Kind != yaml.MappingNode {
				c.errorf(m, "merge key << needs a mapping or a list of mappings")
				continue
			}
			if slices.Contains(c.expanding, src) || depth >= MaxDepth {
				c.errorf(m, "merge key << refers to its own mapping")
				c.fatal = true
				return out
			}
			c.expanding = append(c.expanding, src)
			merged := c.mapping(src, depth+1)
			c.expanding = c.expanding[:len(c.expanding)-1]
			if c.fatal {
				return out
			}
			for k, v := range merged {
				if _, ok := out[k]; !ok {
					out[k] = v
				}
			}
		}
	}
	return out
}

// firstKey returns the key node of the first entry of mapping n (before
// index end) whose key is k.
func (c *converter) firstKey(n *yaml.Node, k string, end int) *yaml.Node {
	for i := 0; i < end; i += 2 {
		if isMerge(n.Content[i]) {
			continue
		}
		if s, err := keyString(n.Content[i]); err == nil && s == k {
			return n.Content[i]
		}
	}
	return n.Content[end]
}

func isMerge(kn *yaml.Node) bool {
	return kn.Kind == yaml.ScalarNode && kn.Tag == "!!merge"
}

// mergeSources returns the mappings a merge key's value names.
func mergeSources(v *yaml.Node) []*yaml.Node {
	v = resolveAlias(v)
	if v.Kind != yaml.SequenceNode {
		return []*yaml.Node{v}
	}
	out := make([]*yaml.Node, len(v.Content))
	for i, item := range v.Content {
		out[i] = resolveAlias(item)
	}
	return out
}

// resolveAlias follows aliases to the node they name (bounded: the parser
// rejects an anchor that contains itself).
func resolveAlias(n *yaml.Node) *yaml.Node {
	for i := 0; i < MaxDepth && n.Kind == yaml.AliasNode && n.Alias != nil; i++ {
		n = n.Alias
	}
	return n
}

func (c *converter) key(kn *yaml.Node) (string, bool) {
	s, err := keyString(kn)
	if err != nil {
		c.errorf(kn, "%v", err)
		return "", false
	}
	return s, true
}

// keyString converts a mapping key to the string JSON uses, as
// sigs.k8s.io/yaml (and so kubectl) does: keys that YAML reads as numbers or
// booleans become their decimal or "true"/"false" spelling.
func keyString(kn *yaml.Node) (string, error) {
	kn = resolveAlias(kn)
	if kn.Kind != yaml.ScalarNode {
		return "", fmt.Errorf("mapping keys must be strings, not a %s", kindName(kn))
	}
	return keyFromTag(kn.Tag, kn.Value)
}

// keyFromTag converts a scalar key with the given tag.
func keyFromTag(tag, value string) (string, error) {
	switch tag {
	case "!!int":
		v, err := parseInt(value)
		if err != nil {
			return "", fmt.Errorf("invalid integer key %q", value)
		}
		switch x := v.(type) {
		case int64:
			return strconv.FormatInt(x, 10), nil
		case float64:
			return strconv.FormatFloat(x, 'g', -1, 64), nil
		}
	case "!!float":
		f, err := parseFloat(value)
		if err != nil {
			return "", fmt.Errorf("invalid number key %q", value)
		}
		switch {
		case math.IsInf(f, 1):
			return ".inf", nil
		case math.IsInf(f, -1):
			return "-.inf", nil
		case math.IsNaN(f):
			return ".nan", nil
		}
		return strconv.FormatFloat(f, 'g', -1, 32), nil
	case "!!bool":
		b, err := parseBool(value)
		if err != nil {
			return "", err
		}
		return strconv.FormatBool(b), nil
	case "!!null":
		return "", fmt.Errorf("mapping keys must be strings, not null")
	}
	return value, nil
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return "scalar"
	case yaml.AliasNode:
		return "alias"
	case yaml.DocumentNode:
		return "document"
	}
	return "node"
}

// scalar converts a scalar by its (resolved or explicit) tag.
func (c *converter) scalar(n *yaml.Node) any {
	v, err := scalarValue(n.Tag, n.Value)
	if err != nil {
		c.errorf(n, "%v", err)
		return nil
	}
	return v
}

// scalarValue converts a scalar's value by its (resolved or explicit)
// tag. !!str, !!binary, !!timestamp (kept as written, as kubectl does) and
// custom tags give the string itself.
func scalarValue(tag, value string) (any, error) {
	switch tag {
	case "!!null":
		return nil, nil
	case "!!bool":
		return parseBool(value)
	case "!!int":
		v, err := parseInt(value)
		if err != nil {
			return nil, err
		}
		return v, nil
	case "!!float":
		f, err := parseFloat(value)
		if err != nil {
			return nil, fmt.Errorf("invalid number %q", value)
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("%s is not a valid JSON number (quote it to make it a string)", value)
		}
		return f, nil
	}
	return value, nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("invalid boolean %q", s)
}

// parseInt parses a YAML integer (decimal, 0x, 0o, 0b, 0777 octal,
// underscores) as int64, or as float64 when it does not fit.
func parseInt(s string) (any, error) {
	plain := strings.ReplaceAll(s, "_", "")
	if i, err := strconv.ParseInt(plain, 0, 64); err == nil {
		return i, nil
	}
	if u, err := strconv.ParseUint(strings.TrimPrefix(plain, "+"), 0, 64); err == nil {
		return float64(u), nil
	}
	if f, err := strconv.ParseFloat(plain, 64); err == nil {
		return f, nil
	}
	return nil, fmt.Errorf("invalid integer %q", s)
}

func parseFloat(s string) (float64, error) {
	switch s {
	case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF":
		return math.Inf(1), nil
	case "-.inf", "-.Inf", "-.INF":
		return math.Inf(-1), nil
	case ".nan", ".NaN", ".NAN":
		return math.NaN(), nil
	}
	return strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
}
