package meta

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// LabelSelector selects objects by their labels, as the selectors of
// Deployments and ReplicaSets do. The requirements of matchLabels and
// matchExpressions are ANDed. An empty selector matches every object; a
// null one matches none.
type LabelSelector struct {
	// MatchLabels is a map of {key: value} pairs. Each pair is equivalent
	// to an element of matchExpressions with that key, the operator In and
	// the value as the only element of values.
	MatchLabels map[string]string `json:"matchLabels,omitempty"`
	// MatchExpressions is a list of label selector requirements. The
	// requirements are ANDed.
	MatchExpressions []LabelSelectorRequirement `json:"matchExpressions,omitempty"`
}

// LabelSelectorRequirement is one expression of a LabelSelector: a key,
// an operator and values.
type LabelSelectorRequirement struct {
	// Key is the label key the requirement applies to.
	Key string `json:"key"`
	// Operator is the key's relationship to the values: In, NotIn, Exists
	// or DoesNotExist.
	Operator string `json:"operator"`
	// Values is the set of values. It must be non-empty for In and NotIn
	// and empty for Exists and DoesNotExist.
	Values []string `json:"values,omitempty"`
}

// Selector operators.
const (
	OpIn           = "In"
	OpNotIn        = "NotIn"
	OpExists       = "Exists"
	OpDoesNotExist = "DoesNotExist"
	OpEquals       = "="
	OpNotEquals    = "!="
)

// Requirement is one term of a parsed selector.
type Requirement struct {
	// Key is the label (or field) key the term tests.
	Key string
	// Operator is In, NotIn, Exists, DoesNotExist, = or !=.
	Operator string
	// Values are the values of In and NotIn, or the one value of = and !=.
	Values []string
}

// Selector matches label (or field) sets. The zero Selector matches
// everything.
type Selector struct {
	reqs    []Requirement
	nothing bool
}

// Everything returns a selector that matches all sets.
func Everything() Selector { return Selector{} }

// Nothing returns a selector that matches no set.
func Nothing() Selector { return Selector{nothing: true} }

// Empty reports whether the selector matches everything.
func (s Selector) Empty() bool { return !s.nothing && len(s.reqs) == 0 }

// Requirements returns the selector's terms.
func (s Selector) Requirements() []Requirement { return s.reqs }

// Matches reports whether the set satisfies every requirement.
func (s Selector) Matches(set map[string]string) bool {
	return s.MatchesFunc(func(k string) (string, bool) {
		v, ok := set[k]
		return v, ok
	})
}

// MatchesFunc is Matches on a set read through get (for sets that are not
// maps, such as a cached object's fields).
func (s Selector) MatchesFunc(get func(key string) (string, bool)) bool {
	if s.nothing {
		return false
	}
	for _, r := range s.reqs {
		v, ok := get(r.Key)
		if !r.matchesValue(v, ok) {
			return false
		}
	}
	return true
}

// RequiresExactMatch returns the value the selector requires for key with =,
// if any (used to narrow lookups with indexes).
func (s Selector) RequiresExactMatch(key string) (string, bool) {
	for _, r := range s.reqs {
		if r.Key == key && (r.Operator == OpEquals || (r.Operator == OpIn && len(r.Values) == 1)) {
			return r.Values[0], true
		}
	}
	return "", false
}

// Matches reports whether set satisfies r.
func (r Requirement) Matches(set map[string]string) bool {
	v, ok := set[r.Key]
	return r.matchesValue(v, ok)
}

// matchesValue reports whether r accepts the value v of its key (ok: the
// key is present).
func (r Requirement) matchesValue(v string, ok bool) bool {
	switch r.Operator {
	case OpEquals:
		return ok && v == r.Values[0]
	case OpNotEquals:
		return !ok || v != r.Values[0]
	case OpIn:
		return ok && slices.Contains(r.Values, v)
	case OpNotIn:
		return !ok || !slices.Contains(r.Values, v)
	case OpExists:
		return ok
	case OpDoesNotExist:
		return !ok
	}
	return false
}

func (r Requirement) String() string {
	switch r.Operator {
	case OpEquals, OpNotEquals:
		return r.Key + r.Operator + r.Values[0]
	case OpIn:
		return r.Key + " in (" + strings.Join(r.Values, ",") + ")"
	case OpNotIn:
		return r.Key + " notin (" + strings.Join(r.Values, ",") + ")"
	case OpExists:
		return r.Key
	case OpDoesNotExist:
		return "!" + r.Key
	}
	return ""
}

// String renders the selector in the string form ParseSelector reads.
func (s Selector) String() string {
	parts := make([]string, len(s.reqs))
	for i, r := range s.reqs {
		parts[i] = r.String()
	}
	return strings.Join(parts, ",")
}

// SelectorFromSet builds an equality selector from a map.
func SelectorFromSet(set map[string]string) Selector {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var s Selector
	for _, k := range keys {
		s.reqs = append(s.reqs, Requirement{Key: k, Operator: OpEquals, Values: []string{set[k]}})
	}
	return s
}

// LabelSelectorAsSelector converts a structured selector. A nil selector
// matches nothing and an empty one matches everything, as in Kubernetes.
func LabelSelectorAsSelector(ls *LabelSelector) (Selector, error) {
	if ls == nil {
		return Nothing(), nil
	}
	s := SelectorFromSet(ls.MatchLabels)
	for i, e := range ls.MatchExpressions {
		r := Requirement{Key: e.Key, Values: append([]string(nil), e.Values...)}
		switch e.Operator {
		case OpIn, OpNotIn:
			if len(e.Values) == 0 {
				return Selector{}, fmt.Errorf("matchExpressions[%d].values: must be non-empty for operator %s", i, e.Operator)
			}
			r.Operator = e.Operator
		case OpExists, OpDoesNotExist:
			if len(e.Values) != 0 {
				return Selector{}, fmt.Errorf("matchExpressions[%d].values: must be empty for operator %s", i, e.Operator)
			}
			r.Operator = e.Operator
		default:
			return Selector{}, fmt.Errorf("matchExpressions[%d].operator: %q is not a valid selector operator", i, e.Operator)
		}
		sort.Strings(r.Values)
		s.reqs = append(s.reqs, r)
	}
	return s, nil
}

// ParseSelector parses the string form of a label selector:
// "a=b,c!=d,e in (f,g),h notin (i),j,!k". Both = and == mean equality.
func ParseSelector(in string) (Selector, error) {
	p := &selParser{in: in}
	var s Selector
	p.skipSpace()
	if p.pos == len(p.in) {
		return s, nil
	}
	for {
		r, err := p.requirement()
		if err != nil {
			return Selector{}, fmt.Errorf("unable to parse selector %q: %w", in, err)
		}
		s.reqs = append(s.reqs, r)
		p.skipSpace()
		if p.pos == len(p.in) {
			return s, nil
		}
		if p.in[p.pos] != ',' {
			return Selector{}, fmt.Errorf("unable to parse selector %q: expected ',' at offset %d", in, p.pos)
		}
		p.pos++
	}
}

// ParseFieldSelector parses a field selector ("spec.nodeName=n1,status.phase!=Failed");
// only =, == and != are allowed, as in Kubernetes.
func ParseFieldSelector(in string) (Selector, error) {
	s, err := ParseSelector(in)
	if err != nil {
		return Selector{}, err
	}
	for _, r := range s.reqs {
		if r.Operator != OpEquals && r.Operator != OpNotEquals {
			return Selector{}, fmt.Errorf("invalid field selector %q: only =, == and != are supported", in)
		}
	}
	return s, nil
}

type selParser struct {
	in  string
	pos int
}

func (p *selParser) skipSpace() {
	for p.pos < len(p.in) && (p.in[p.pos] == ' ' || p.in[p.pos] == '\t') {
		p.pos++
	}
}

func isKeyChar(c byte) bool {
	return c != ' ' && c != '\t' && c != ',' && c != '=' && c != '!' && c != '(' && c != ')'
}

func (p *selParser) word() string {
	start := p.pos
	for p.pos < len(p.in) && isKeyChar(p.in[p.pos]) {
		p.pos++
	}
	return p.in[start:p.pos]
}

func (p *selParser) requirement() (Requirement, error) {
	p.skipSpace()
	if p.pos < len(p.in) && p.in[p.pos] == '!' {
		p.pos++
		p.skipSpace()
		k := p.word()
		if k == "" {
			return Requirement{}, fmt.Errorf("expected a key after '!'")
		}
		return Requirement{Key: k, Operator: OpDoesNotExist}, nil
	}
	k := p.word()
	if k == "" {
		return Requirement{}, fmt.Errorf("expected a key at offset %d", p.pos)
	}
	p.skipSpace()
	if p.pos == len(p.in) || p.in[p.pos] == ',' {
		return Requirement{Key: k, Operator: OpExists}, nil
	}
	rest := p.in[p.pos:]
	switch {
	case strings.HasPrefix(rest, "=="):
		p.pos += 2
		return p.single(k, OpEquals)
	case strings.HasPrefix(rest, "!="):
		p.pos += 2
		return p.single(k, OpNotEquals)
	case strings.HasPrefix(rest, "="):
		p.pos++
		return p.single(k, OpEquals)
	}
	op := p.word()
	switch op {
	case "in":
		return p.set(k, OpIn)
	case "notin":
		return p.set(k, OpNotIn)
	}
	return Requirement{}, fmt.Errorf("unknown operator %q after key %q", op, k)
}

func (p *selParser) single(k, op string) (Requirement, error) {
	p.skipSpace()
	v := p.word()
	return Requirement{Key: k, Operator: op, Values: []string{v}}, nil
}

func (p *selParser) set(k, op string) (Requirement, error) {
	p.skipSpace()
	if p.pos == len(p.in) || p.in[p.pos] != '(' {
		return Requirement{}, fmt.Errorf("expected '(' after %q", op)
	}
	p.pos++
	var vals []string
	for {
		p.skipSpace()
		v := p.word()
		p.skipSpace()
		if v != "" {
			vals = append(vals, v)
		}
		if p.pos == len(p.in) {
			return Requirement{}, fmt.Errorf("missing ')'")
		}
		switch p.in[p.pos] {
		case ',':
			p.pos++
		case ')':
			p.pos++
			if len(vals) == 0 {
				return Requirement{}, fmt.Errorf("empty value set for key %q", k)
			}
			sort.Strings(vals)
			opName := OpIn
			if op == OpNotIn {
				opName = OpNotIn
			}
			return Requirement{Key: k, Operator: opName, Values: vals}, nil
		default:
			return Requirement{}, fmt.Errorf("unexpected %q in value set", p.in[p.pos])
		}
	}
}
