package meta

import (
	"slices"
	"testing"
)

// selectorSeeds are label and field selectors of every shape ParseSelector
// reads, and some it must refuse.
var selectorSeeds = []string{
	"", "a", "!a", "a=b", "a==b", "a!=b", "a=", "a in (b,c)", "a notin (b)", "a in (b, c ,d)",
	"app=web,tier!=db,env in (prod,staging),!canary,track",
	"spec.nodeName=n1,status.phase!=Failed", "metadata.name==x",
	"example.com/key=value", "  a = b  ,  c  ", "a in ()", "a in (b", "a=b=c", "a b", "!", ",", "a,,b",
	"in in (in)", "notin", "a in(b)", "a\tin\t(b)", "k=v(", "!a=b", "a!b", "\xff=\xfe",
}

// FuzzParseSelector checks that ParseSelector never panics and that what
// it accepts prints (String) to a selector that parses back to the same
// requirements and prints identically.
func FuzzParseSelector(f *testing.F) {
	for _, s := range selectorSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseSelector(in)
		if err != nil {
			return
		}
		checkSelectorRoundTrip(t, in, s, ParseSelector)
		for _, r := range s.Requirements() {
			if r.Key == "" {
				t.Fatalf("%q: requirement without a key: %#v", in, r)
			}
			switch r.Operator {
			case OpEquals, OpNotEquals:
				if len(r.Values) != 1 {
					t.Fatalf("%q: %s with %d values", in, r.Operator, len(r.Values))
				}
			case OpIn, OpNotIn:
				if len(r.Values) == 0 {
					t.Fatalf("%q: %s without values", in, r.Operator)
				}
			case OpExists, OpDoesNotExist:
				if len(r.Values) != 0 {
					t.Fatalf("%q: %s with values %q", in, r.Operator, r.Values)
				}
			default:
				t.Fatalf("%q: unknown operator %q", in, r.Operator)
			}
			// Matching must not panic whatever the set holds.
			r.Matches(map[string]string{r.Key: "x"})
			r.Matches(nil)
		}
	})
}

// FuzzParseFieldSelector checks the same for field selectors, which take
// only =, == and !=.
func FuzzParseFieldSelector(f *testing.F) {
	for _, s := range selectorSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseFieldSelector(in)
		if err != nil {
			return
		}
		for _, r := range s.Requirements() {
			if r.Operator != OpEquals && r.Operator != OpNotEquals {
				t.Fatalf("%q: field selector with operator %q", in, r.Operator)
			}
		}
		checkSelectorRoundTrip(t, in, s, ParseFieldSelector)
	})
}

func checkSelectorRoundTrip(t *testing.T, in string, s Selector, parse func(string) (Selector, error)) {
	t.Helper()
	str := s.String()
	back, err := parse(str)
	if err != nil {
		t.Fatalf("%q parses, but its String() %q does not: %v", in, str, err)
	}
	if !slices.EqualFunc(s.Requirements(), back.Requirements(), func(a, b Requirement) bool {
		return a.Key == b.Key && a.Operator == b.Operator && slices.Equal(a.Values, b.Values)
	}) {
		t.Fatalf("%q: String() %q parses to other requirements:\n%#v\nwant\n%#v", in, str, back.Requirements(), s.Requirements())
	}
	if again := back.String(); again != str {
		t.Fatalf("%q: String() %q prints back as %q", in, str, again)
	}
}
