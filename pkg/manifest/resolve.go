package manifest

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// This file mirrors how go.yaml.in/yaml/v3 resolves the tag of a plain
// (unquoted, untagged) scalar, so that the fast parser reads every value
// exactly as the full parser does. TestFastParseMatchesYAML checks that
// they agree.

// resolvePlain returns the tag yaml/v3 gives the plain scalar s: "!!null",
// "!!bool", "!!int", "!!float", "!!timestamp", "!!merge" or "!!str".
func resolvePlain(s string) string {
	if s == "" {
		return "!!null"
	}
	c := s[0]
	var hint byte
	switch {
	case c == '+' || c == '-':
		hint = 'S'
	case c >= '0' && c <= '9':
		hint = 'D'
	case strings.IndexByte("yYnNtTfFoO~<", c) >= 0:
		hint = 'M'
	case c == '.':
		hint = '.'
	default:
		return "!!str"
	}
	switch s {
	case "true", "True", "TRUE", "false", "False", "FALSE":
		return "!!bool"
	case "~", "null", "Null", "NULL":
		return "!!null"
	case ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF",
		"+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF":
		return "!!float"
	case "<<":
		return "!!merge"
	}
	switch hint {
	case '.':
		if _, err := strconv.ParseFloat(s, 64); err == nil {
			return "!!float"
		}
	case 'D', 'S':
		if isTimestamp(s) {
			return "!!timestamp"
		}
		plain := strings.ReplaceAll(s, "_", "")
		if _, err := strconv.ParseInt(plain, 0, 64); err == nil {
			return "!!int"
		}
		if _, err := strconv.ParseUint(plain, 0, 64); err == nil {
			return "!!int"
		}
		if yamlStyleFloat.MatchString(plain) {
			if _, err := strconv.ParseFloat(plain, 64); err == nil {
				return "!!float"
			}
		}
		for _, p := range []struct {
			prefix string
			base   int
		}{{"0b", 2}, {"-0b", 2}, {"0o", 8}, {"-0o", 8}} {
			if rest, ok := strings.CutPrefix(plain, p.prefix); ok {
				if p.prefix[0] == '-' {
					rest = "-" + rest
				}
				if _, err := strconv.ParseInt(rest, p.base, 64); err == nil {
					return "!!int"
				}
				if p.prefix[0] != '-' {
					if _, err := strconv.ParseUint(rest, p.base, 64); err == nil {
						return "!!int"
					}
				}
			}
		}
	}
	return "!!str"
}

var yamlStyleFloat = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)

// timestampFormats are the layouts yaml/v3 accepts as timestamps.
var timestampFormats = []string{
	"2006-1-2T15:4:5.999999999Z07:00",
	"2006-1-2t15:4:5.999999999Z07:00",
	"2006-1-2 15:4:5.999999999",
	"2006-1-2",
}

// isTimestamp reports whether yaml/v3 reads s as a timestamp.
func isTimestamp(s string) bool {
	i := 0
	for ; i < len(s); i++ {
		if c := s[i]; c < '0' || c > '9' {
			break
		}
	}
	if i != 4 || i == len(s) || s[i] != '-' {
		return false
	}
	for _, f := range timestampFormats {
		if _, err := time.Parse(f, s); err == nil {
			return true
		}
	}
	return false
}
