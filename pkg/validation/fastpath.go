package validation

import (
	"encoding/json"
	"math"
	"math/big"
	"strconv"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// fastNode is a compiled schema reduced to the keywords kl's generated
// schemas use, for a quick "is this valid?" walk that allocates nothing.
// The walk is conservative: it answers true only when the library would
// find no error; on false (or for any keyword it does not know, see
// supported) the library validates again and explains the errors. Most
// manifests are valid, so most never pay for the library's bookkeeping.
type fastNode struct {
	supported bool
	ref       *fastNode
	types     uint8 // jsonType bits; 0: any type
	constStr  *string
	enum      map[string]bool // string members
	enumNull  bool
	hasEnum   bool
	format    func(any) error
	pattern   jsonschema.Regexp
	decode    func(string) ([]byte, error)
	min, max  *float64
	props     map[string]*fastNode
	required  []string
	addlFalse bool
	addl      *fastNode
	items     *fastNode
}

const (
	ftNull uint8 = 1 << iota
	ftBool
	ftNumber
	ftInteger
	ftString
	ftArray
	ftObject
)

// compileFast converts a compiled schema; memo breaks $ref cycles.
func compileFast(s *jsonschema.Schema, memo map[*jsonschema.Schema]*fastNode) *fastNode {
	if n, ok := memo[s]; ok {
		return n
	}
	n := &fastNode{}
	memo[s] = n
	if !fastSupported(s) {
		return n
	}
	n.supported = true
	if s.Ref != nil {
		n.ref = compileFast(s.Ref, memo)
	}
	if s.Types != nil {
		for _, t := range s.Types.ToStrings() {
			switch t {
			case "null":
				n.types |= ftNull
			case "boolean":
				n.types |= ftBool
			case "number":
				n.types |= ftNumber
			case "integer":
				n.types |= ftInteger
			case "string":
				n.types |= ftString
			case "array":
				n.types |= ftArray
			case "object":
				n.types |= ftObject
			}
		}
	}
	if s.Const != nil {
		str, ok := (*s.Const).(string)
		if !ok {
			n.supported = false
			return n
		}
		n.constStr = &str
	}
	if s.Enum != nil {
		n.hasEnum = true
		n.enum = map[string]bool{}
		for _, v := range s.Enum.Values {
			switch x := v.(type) {
			case nil:
				n.enumNull = true
			case string:
				n.enum[x] = true
			default:
				n.supported = false
				return n
			}
		}
	}
	if s.Format != nil {
		n.format = s.Format.Validate
	}
	n.pattern = s.Pattern
	if s.ContentEncoding != nil {
		n.decode = s.ContentEncoding.Decode
	}
	for _, b := range []struct {
		r   *big.Rat
		dst **float64
	}{{s.Minimum, &n.min}, {s.Maximum, &n.max}} {
		if b.r == nil {
			continue
		}
		f, exact := b.r.Float64()
		if !exact {
			n.supported = false
			return n
		}
		*b.dst = &f
	}
	if len(s.Properties) > 0 {
		n.props = make(map[string]*fastNode, len(s.Properties))
		for name, ps := range s.Properties {
			n.props[name] = compileFast(ps, memo)
		}
	}
	n.required = s.Required
	switch a := s.AdditionalProperties.(type) {
	case bool:
		n.addlFalse = !a
	case *jsonschema.Schema:
		n.addl = compileFast(a, memo)
	}
	items := s.Items2020
	if it, ok := s.Items.(*jsonschema.Schema); ok {
		items = it
	}
	if items != nil {
		n.items = compileFast(items, memo)
	}
	return n
}

// fastSupported reports whether s uses only keywords the fast walk knows.
func fastSupported(s *jsonschema.Schema) bool {
	if s.Bool != nil || s.RecursiveRef != nil || s.DynamicRef != nil || s.Not != nil ||
		len(s.AllOf) > 0 || len(s.AnyOf) > 0 || len(s.OneOf) > 0 || s.If != nil || s.Then != nil || s.Else != nil ||
		s.MaxProperties != nil || s.MinProperties != nil || s.PropertyNames != nil || len(s.PatternProperties) > 0 ||
		len(s.Dependencies) > 0 || len(s.DependentRequired) > 0 || len(s.DependentSchemas) > 0 || s.UnevaluatedProperties != nil ||
		s.MinItems != nil || s.MaxItems != nil || s.UniqueItems || s.Contains != nil || s.MinContains != nil || s.MaxContains != nil ||
		s.AdditionalItems != nil || len(s.PrefixItems) > 0 || s.UnevaluatedItems != nil ||
		s.MinLength != nil || s.MaxLength != nil || s.ContentMediaType != nil || s.ContentSchema != nil ||
		s.ExclusiveMaximum != nil || s.ExclusiveMinimum != nil || s.MultipleOf != nil || len(s.Extensions) > 0 {
		return false
	}
	if s.Items != nil {
		if _, ok := s.Items.(*jsonschema.Schema); !ok {
			return false
		}
	}
	return true
}

// valid reports whether v certainly satisfies the schema.
func (n *fastNode) valid(v any) bool {
	if !n.supported {
		return false
	}
	var t uint8
	switch x := v.(type) {
	case nil:
		t = ftNull
	case bool:
		t = ftBool
	case string:
		t = ftString
	case []any:
		t = ftArray
	case map[string]any:
		t = ftObject
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
		t = ftNumber
	case float32:
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return false
		}
		t = ftNumber
	case json.Number, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		t = ftNumber
	default:
		return false
	}
	if n.types != 0 && n.types&t == 0 {
		if !(t == ftNumber && n.types&ftInteger != 0 && isIntegral(v)) {
			return false
		}
	}
	if n.constStr != nil {
		if s, ok := v.(string); !ok || s != *n.constStr {
			return false
		}
	}
	if n.hasEnum {
		switch x := v.(type) {
		case nil:
			if !n.enumNull {
				return false
			}
		case string:
			if !n.enum[x] {
				return false
			}
		default:
			return false
		}
	}
	if n.format != nil && n.format(v) != nil {
		return false
	}
	if n.ref != nil && !n.ref.valid(v) {
		return false
	}
	switch x := v.(type) {
	case map[string]any:
		for _, r := range n.required {
			if _, ok := x[r]; !ok {
				return false
			}
		}
		for k, val := range x {
			if p, ok := n.props[k]; ok {
				if !p.valid(val) {
					return false
				}
				continue
			}
			if n.addlFalse {
				return false
			}
			if n.addl != nil && !n.addl.valid(val) {
				return false
			}
		}
	case []any:
		if n.items != nil {
			for _, it := range x {
				if !n.items.valid(it) {
					return false
				}
			}
		}
	case string:
		if n.pattern != nil && !n.pattern.MatchString(x) {
			return false
		}
		if n.decode != nil {
			if _, err := n.decode(x); err != nil {
				return false
			}
		}
	default:
		if t == ftNumber && (n.min != nil || n.max != nil) {
			f, ok := numberValue(v)
			if !ok || (n.min != nil && f < *n.min) || (n.max != nil && f > *n.max) {
				return false
			}
		}
	}
	return true
}

// isIntegral reports whether a JSON number is an integer, as the library
// decides it (exactly, by its decimal value).
func isIntegral(v any) bool {
	switch x := v.(type) {
	case float64:
		return !math.IsInf(x, 0) && !math.IsNaN(x) && x == math.Trunc(x)
	case float32:
		f := float64(x)
		return !math.IsInf(f, 0) && !math.IsNaN(f) && f == math.Trunc(f)
	case json.Number:
		if _, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return true
		}
		r, ok := new(big.Rat).SetString(string(x))
		return ok && r.IsInt()
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return true
	}
	return false
}

// numberValue returns v as a float64 when that is exact enough to compare
// with kl's integer bounds (false: let the library decide).
func numberValue(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case json.Number:
		i, err := strconv.ParseInt(string(x), 10, 64)
		return float64(i), err == nil
	case int:
		return float64(x), true
	case int8:
		return float64(x), true
	case int16:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint8:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint64:
		return float64(x), true
	}
	return 0, false
}
