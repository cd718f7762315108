package describe

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
)

// prefixWriter writes indented lines to a tab writer, as kubectl's
// describe does: tabs separate a label from its value and consecutive
// lines with tabs are aligned.
type prefixWriter struct {
	tw *tabwriter.Writer
}

func newPrefixWriter(w io.Writer) *prefixWriter {
	return &prefixWriter{tw: tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)}
}

// Indentation levels.
const (
	level0 = iota
	level1
	level2
	level3
	level4
)

func (p *prefixWriter) write(level int, format string, args ...any) {
	fmt.Fprintf(p.tw, strings.Repeat("  ", level)+format, args...)
}

func (p *prefixWriter) flush() error { return p.tw.Flush() }

// stringMap writes "Title:\tk=v" with one entry a line (labels, selectors),
// or "<none>".
func (p *prefixWriter) stringMap(level int, title string, m map[string]string, sep string) {
	p.write(level, "%s:\t", title)
	if len(m) == 0 {
		p.write(level0, "<none>\n")
		return
	}
	for i, k := range sortedKeys(m) {
		if i > 0 {
			p.write(level, "\t")
		}
		p.write(level0, "%s%s%s\n", k, sep, m[k])
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// timestamp formats t as kubectl's describe does (RFC 1123 with a
// numeric zone), or "<unset>".
func timestamp(t time.Time) string {
	if t.IsZero() {
		return "<unset>"
	}
	return t.Format(time.RFC1123Z)
}

// smartLabel turns a JSON field name into a describe label:
// "holderIdentity" -> "Holder Identity", "podIP" -> "Pod IP".
func smartLabel(field string) string {
	var words []string
	runes := []rune(field)
	start := 0
	for i := 1; i <= len(runes); i++ {
		if i == len(runes) || unicode.IsUpper(runes[i]) && (unicode.IsLower(runes[i-1]) || i+1 < len(runes) && unicode.IsLower(runes[i+1])) {
			words = append(words, string(runes[start:i]))
			start = i
		}
	}
	for i, w := range words {
		r := []rune(w)
		r[0] = unicode.ToUpper(r[0])
		words[i] = string(r)
	}
	return strings.Join(words, " ")
}
