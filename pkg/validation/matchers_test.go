package validation

import (
	"regexp"
	"testing"
)

// The hand-written matchers must agree with Kubernetes' regular
// expressions on every input.
func TestMatchersAgreeWithRegexps(t *testing.T) {
	matchers := []struct {
		format string
		match  func(string) bool
	}{
		{dns1123LabelFmt, matchDNS1123Label},
		{dns1123SubdomainFmt, matchDNS1123Subdomain},
		{qualifiedNameFmt, matchQualifiedName},
		{labelValueFmt, matchLabelValue},
		{configMapKeyFmt, matchConfigMapKey},
		{envVarNameFmt, matchEnvVarName},
	}
	inputs := []string{"", "a", "A", "0", "-", ".", "_", "a-", "-a", "a.b", "a..b", ".a", "a.", "a_b", "A_b", "a-b-c",
		"web.example.com", "Web", "1abc", "abc1", "my.env-name", "MY_ENV.NAME", "a b", "a/b", "é", "a\n", "..x", "x..",
		"a-.b", "a.-b", "ab_", "_ab", "a.b.c-d", "0.0.0", "x_Y-z.9"}
	// Every string of up to three characters over an alphabet with one
	// member of each character class.
	alphabet := []string{"a", "Z", "0", "-", "_", ".", "/", " "}
	var gen func(prefix string, n int)
	gen = func(prefix string, n int) {
		inputs = append(inputs, prefix)
		if n == 0 {
			return
		}
		for _, c := range alphabet {
			gen(prefix+c, n-1)
		}
	}
	gen("", 3)
	for _, m := range matchers {
		re := regexp.MustCompile("^" + m.format + "$")
		for _, in := range inputs {
			if got, want := m.match(in), re.MatchString(in); got != want {
				t.Errorf("%s: match(%q) = %v, regexp says %v", m.format, in, got, want)
			}
		}
	}
}
