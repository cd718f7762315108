package manifest

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// The fast parser reads the YAML that manifests are almost always written
// in — block mappings and sequences, one-line plain and quoted scalars,
// one-line flow collections, literal block scalars (|, |-), comments — a
// few times faster than go.yaml.in/yaml/v3 and without building a node
// tree. Anything else (anchors, tags, multi-line plain or quoted scalars,
// folded scalars, JSON spread over lines, and every error) makes it give
// up, and the caller parses the document with yaml/v3, which also explains
// errors. Positions are not recorded: Object.Position parses the document
// with yaml/v3 when it is first asked, which only happens for invalid
// objects.
//
// Whenever it does not give up it must produce exactly what the full path
// produces; TestFastParseMatchesYAML and FuzzFastParse check that.

// bailout is panicked to give up; fastParse recovers it.
type bailout struct{}

func bail() { panic(bailout{}) }

type fline struct {
	num    int    // 1-based line number within the document
	indent int    // leading spaces
	text   string // the line after its indentation, without line break
	raw    string // the whole line, without line break
	blank  bool   // empty, only whitespace, or only a comment
}

type fastParser struct {
	lines  []fline
	pos    int
	budget int
	// lastNewline is whether the document ends with a line break.
	lastNewline bool
}

// fastParse parses one document. It returns ok=false when it gives up. For
// a document with only comments and blank lines it returns empty=true.
// line and col are the position (within data) of the root mapping.
func fastParse(data []byte, budget int) (root map[string]any, line, col int, empty, ok bool) {
	if !plainText(data) {
		return nil, 0, 0, false, false
	}
	p := &fastParser{budget: budget, lastNewline: len(data) > 0 && data[len(data)-1] == '\n'}
	if !p.splitLines(data) {
		return nil, 0, 0, false, false
	}
	defer func() {
		if r := recover(); r != nil {
			if _, isBail := r.(bailout); !isBail {
				panic(r)
			}
			root, line, col, empty, ok = nil, 0, 0, false, false
		}
	}()
	p.skipBlank()
	if p.pos < len(p.lines) && strings.HasPrefix(p.lines[p.pos].raw, "---") {
		raw := p.lines[p.pos].raw
		if len(raw) > 3 && raw[3] != ' ' {
			bail()
		}
		rest := strings.TrimLeft(raw[3:], " ")
		if rest != "" && rest[0] != '#' {
			bail()
		}
		p.pos++
		p.skipBlank()
	}
	if p.pos >= len(p.lines) {
		return nil, 0, 0, true, true
	}
	first := p.lines[p.pos]
	if isSeqItem(first.text) {
		bail() // not an object: the full parser explains
	}
	m := p.mapping(first.indent, 0)
	p.skipBlank()
	if p.pos < len(p.lines) {
		bail()
	}
	return m, first.num, first.indent + 1, false, true
}

// plainText reports whether data is UTF-8 without the characters YAML
// forbids (controls other than tab and line breaks, BOMs, surrogates).
func plainText(data []byte) bool {
	for i := 0; i < len(data); {
		c := data[i]
		if c < utf8.RuneSelf {
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError || r < 0xA0 || (r > 0xD7FF && r < 0xE000) || r == 0xFEFF || r == 0xFFFE || r == 0xFFFF {
			return false
		}
		i += size
	}
	return true
}

// splitLines fills p.lines; it refuses lines with a lone carriage return,
// document markers other than a leading "---", and directives.
func (p *fastParser) splitLines(data []byte) bool {
	s := string(data)
	n := strings.Count(s, "\n") + 1
	p.lines = make([]fline, 0, n)
	for num := 1; len(s) > 0; num++ {
		var raw string
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			raw, s = s[:i], s[i+1:]
		} else {
			raw, s = s, ""
		}
		raw = strings.TrimSuffix(raw, "\r")
		if strings.IndexByte(raw, '\r') >= 0 {
			return false
		}
		if num > 1 && (strings.HasPrefix(raw, "---") || strings.HasPrefix(raw, "...")) {
			return false
		}
		if strings.HasPrefix(raw, "%") {
			return false
		}
		indent := 0
		for indent < len(raw) && raw[indent] == ' ' {
			indent++
		}
		text := raw[indent:]
		blank := text == "" || text[0] == '#'
		if !blank && strings.TrimLeft(text, " \t") == "" || strings.HasPrefix(text, "\t#") {
			return false // tabs where yaml/v3 may want indentation
		}
		p.lines = append(p.lines, fline{num: num, indent: indent, text: text, raw: raw, blank: blank})
	}
	return true
}

func (p *fastParser) skipBlank() {
	for p.pos < len(p.lines) && p.lines[p.pos].blank {
		p.pos++
	}
}

func (p *fastParser) count(depth int) {
	p.budget--
	if p.budget < 0 || depth > MaxDepth {
		bail()
	}
}

func isSeqItem(text string) bool {
	return text == "-" || strings.HasPrefix(text, "- ")
}

// next returns the next non-blank line, or nil at the end.
func (p *fastParser) next() *fline {
	p.skipBlank()
	if p.pos >= len(p.lines) {
		return nil
	}
	return &p.lines[p.pos]
}

// checkText refuses a structural line that starts with a tab.
func checkText(l *fline) {
	if l.text != "" && l.text[0] == '\t' {
		bail()
	}
}

// mapping parses a block mapping whose keys are at indent ind.
func (p *fastParser) mapping(ind, depth int) map[string]any {
	p.count(depth)
	m := make(map[string]any, 8)
	for {
		l := p.next()
		if l == nil || l.indent < ind {
			return m
		}
		if l.indent > ind || isSeqItem(l.text) {
			bail()
		}
		checkText(l)
		key, rest := splitKey(l.text)
		if _, dup := m[key]; dup {
			bail()
		}
		m[key] = p.entryValue(ind, rest, depth)
	}
}

// entryValue parses the value of a mapping entry at indent ind whose text
// after "key:" is rest, and moves past it.
func (p *fastParser) entryValue(ind int, rest string, depth int) any {
	rest = strings.TrimLeft(rest, " \t")
	switch {
	case rest == "" || rest[0] == '#':
		p.pos++
		l := p.next()
		switch {
		case l == nil || l.indent < ind:
			p.count(depth + 1)
			return nil
		case l.indent > ind:
			return p.block(l, depth+1)
		case isSeqItem(l.text):
			return p.sequence(ind, depth+1)
		}
		p.count(depth + 1)
		return nil
	case rest[0] == '|':
		return p.literal(ind, rest, depth+1)
	}
	v := inlineValue(rest, depth+1, p)
	p.pos++
	if l := p.next(); l != nil && l.indent > ind {
		bail() // a continuation line
	}
	return v
}

// block parses the block node that starts at line l.
func (p *fastParser) block(l *fline, depth int) any {
	checkText(l)
	if isSeqItem(l.text) {
		return p.sequence(l.indent, depth)
	}
	return p.mapping(l.indent, depth)
}

// sequence parses a block sequence whose dashes are at indent ind.
func (p *fastParser) sequence(ind, depth int) []any {
	p.count(depth)
	out := make([]any, 0, 4)
	for {
		l := p.next()
		if l == nil || l.indent < ind {
			return out
		}
		if l.indent > ind {
			bail()
		}
		if !isSeqItem(l.text) {
			return out // the parent mapping's next key
		}
		rest := l.text[1:]
		content := strings.TrimLeft(rest, " ")
		switch {
		case content == "" || content[0] == '#':
			p.pos++
			if n := p.next(); n != nil && n.indent > ind {
				out = append(out, p.block(n, depth+1))
			} else {
				p.count(depth + 1)
				out = append(out, nil)
			}
		case content[0] == '\t' || isSeqItem(content):
			bail()
		case content[0] == '|':
			out = append(out, p.literal(ind, content, depth+1))
		case isKeyText(content):
			// "- key: value": a mapping indented to its first key.
			l.indent += 1 + len(rest) - len(content)
			l.text = content
			out = append(out, p.mapping(l.indent, depth+1))
		default:
			v := inlineValue(content, depth+1, p)
			p.pos++
			if n := p.next(); n != nil && n.indent > ind {
				bail()
			}
			out = append(out, v)
		}
	}
}

// isKeyText reports whether text starts a mapping entry ("key: ...").
func isKeyText(text string) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			if _, isBail := r.(bailout); !isBail {
				panic(r)
			}
			ok = false
		}
	}()
	if text == "" {
		return false
	}
	switch text[0] {
	case '"', '\'':
		_, end := quoted(text, 0)
		rest := strings.TrimLeft(text[end:], " ")
		return strings.HasPrefix(rest, ":") && (len(rest) == 1 || rest[1] == ' ')
	}
	if isIndicator(text) {
		return false
	}
	return plainKeyEnd(text) >= 0
}

// plainKeyEnd returns the index of the ':' that ends a plain key at the
// start of text, or -1.
func plainKeyEnd(text string) int {
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case ':':
			if i+1 == len(text) || text[i+1] == ' ' {
				return i
			}
		case '#':
			if i > 0 && (text[i-1] == ' ' || text[i-1] == '\t') {
				return -1
			}
		}
	}
	return -1
}

// maxKeyLen is below YAML's limit of 1024 characters for an implicit key.
const maxKeyLen = 1000

// splitKey splits "key: rest" and returns the key as JSON spells it.
func splitKey(text string) (key, rest string) {
	switch text[0] {
	case '"', '\'':
		k, end := quoted(text, 0)
		if end > maxKeyLen {
			bail()
		}
		rest = strings.TrimLeft(text[end:], " ")
		if !strings.HasPrefix(rest, ":") || (len(rest) > 1 && rest[1] != ' ') {
			bail()
		}
		return k, rest[1:]
	}
	if isIndicator(text) {
		bail()
	}
	i := plainKeyEnd(text)
	if i < 0 || i > maxKeyLen {
		bail()
	}
	raw := strings.TrimRight(text[:i], " ")
	if raw == "" || strings.IndexByte(raw, '\t') >= 0 {
		bail()
	}
	tag := resolvePlain(raw)
	if tag == "!!merge" || tag == "!!null" {
		bail()
	}
	k, err := keyFromTag(tag, raw)
	if err != nil {
		bail()
	}
	return k, text[i+1:]
}

// isIndicator reports whether a plain scalar may not start text.
func isIndicator(text string) bool {
	switch text[0] {
	case '-', '?', ':':
		return len(text) == 1 || text[1] == ' ' || text[1] == '\t'
	case ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
		return true
	}
	return false
}

// inlineValue parses a value that fills the rest of a line.
func inlineValue(s string, depth int, p *fastParser) any {
	var v any
	var end int
	switch s[0] {
	case '"', '\'':
		p.count(depth)
		v, end = quoted(s, 0)
	case '[', '{':
		v, end = p.flow(s, 0, depth)
	default:
		if isIndicator(s) {
			bail()
		}
		p.count(depth)
		end = len(s)
		for i := 1; i < len(s); i++ {
			if s[i] == '#' && (s[i-1] == ' ' || s[i-1] == '\t') {
				end = i
				break
			}
		}
		raw := strings.TrimRight(s[:end], " \t")
		if strings.Contains(raw, ": ") || strings.Contains(raw, ":\t") || strings.HasSuffix(raw, ":") {
			bail()
		}
		val, err := scalarValue(resolvePlain(raw), raw)
		if err != nil {
			bail()
		}
		return val
	}
	checkLineEnd(s[end:])
	return v
}

// checkLineEnd refuses anything but blanks and a comment after a value.
func checkLineEnd(rest string) {
	t := strings.TrimLeft(rest, " \t")
	if t == "" {
		return
	}
	if t[0] != '#' || len(t) == len(rest) {
		bail() // text after the value, or a comment not after a blank
	}
}

// quoted parses the single- or double-quoted scalar at s[i] and returns it
// and the index after its closing quote. It must end on the same line.
func quoted(s string, i int) (string, int) {
	q := s[i]
	i++
	start := i
	var b *strings.Builder
	for i < len(s) {
		c := s[i]
		switch {
		case c == q && q == '\'' && i+1 < len(s) && s[i+1] == '\'':
			if b == nil {
				b = &strings.Builder{}
			}
			b.WriteString(s[start : i+1])
			i += 2
			start = i
		case c == q:
			if b == nil {
				return s[start:i], i + 1
			}
			b.WriteString(s[start:i])
			return b.String(), i + 1
		case c == '\\' && q == '"':
			if b == nil {
				b = &strings.Builder{}
			}
			b.WriteString(s[start:i])
			i = unescape(s, i, b)
			start = i
		default:
			i++
		}
	}
	bail() // not closed on this line
	return "", 0
}

// unescape writes the escape sequence at s[i] ('\\') to b and returns the
// index after it.
func unescape(s string, i int, b *strings.Builder) int {
	if i+1 >= len(s) {
		bail() // a line continuation
	}
	c := s[i+1]
	if r, ok := simpleEscape(c); ok {
		b.WriteString(r)
		return i + 2
	}
	n := 0
	switch c {
	case 'x':
		n = 2
	case 'u':
		n = 4
	case 'U':
		n = 8
	default:
		bail()
	}
	if i+2+n > len(s) {
		bail()
	}
	v, err := strconv.ParseUint(s[i+2:i+2+n], 16, 32)
	if err != nil || (v >= 0xD800 && v <= 0xDFFF) || v > utf8.MaxRune {
		bail()
	}
	b.WriteRune(rune(v))
	return i + 2 + n
}

// flow parses a one-line flow collection at s[i] and returns it and the
// index after it.
func (p *fastParser) flow(s string, i, depth int) (any, int) {
	p.count(depth)
	open := s[i]
	i = skipSpaces(s, i+1)
	if open == '{' {
		m := map[string]any{}
		if i < len(s) && s[i] == '}' {
			return m, i + 1
		}
		for {
			var key string
			if i >= len(s) {
				bail()
			}
			switch s[i] {
			case '"', '\'':
				start := i
				key, i = quoted(s, i)
				if i-start > maxKeyLen {
					bail()
				}
				i = skipSpaces(s, i)
				if i >= len(s) || s[i] != ':' {
					bail()
				}
				i++
			default:
				var raw string
				start := i
				raw, i = flowPlain(s, i)
				if i-start > maxKeyLen {
					bail()
				}
				if i >= len(s) || s[i] != ':' || i+1 >= len(s) || s[i+1] != ' ' {
					bail()
				}
				i++
				tag := resolvePlain(raw)
				if tag == "!!merge" || tag == "!!null" {
					bail()
				}
				k, err := keyFromTag(tag, raw)
				if err != nil {
					bail()
				}
				key = k
			}
			if _, dup := m[key]; dup {
				bail()
			}
			var v any
			v, i = p.flowValue(s, skipSpaces(s, i), depth+1)
			m[key] = v
			i = skipSpaces(s, i)
			if i >= len(s) {
				bail()
			}
			switch s[i] {
			case '}':
				return m, i + 1
			case ',':
				i = skipSpaces(s, i+1)
				if i < len(s) && s[i] == '}' {
					bail() // trailing comma
				}
			default:
				bail()
			}
		}
	}
	out := []any{}
	if i < len(s) && s[i] == ']' {
		return out, i + 1
	}
	for {
		var v any
		v, i = p.flowValue(s, i, depth+1)
		out = append(out, v)
		i = skipSpaces(s, i)
		if i >= len(s) {
			bail()
		}
		switch s[i] {
		case ']':
			return out, i + 1
		case ',':
			i = skipSpaces(s, i+1)
			if i < len(s) && s[i] == ']' {
				bail()
			}
		default:
			bail() // ':' (a one-pair mapping) or junk
		}
	}
}

// flowValue parses a value inside a flow collection.
func (p *fastParser) flowValue(s string, i, depth int) (any, int) {
	if i >= len(s) {
		bail()
	}
	switch s[i] {
	case '{', '[':
		return p.flow(s, i, depth)
	case '"', '\'':
		p.count(depth)
		return quoted(s, i)
	}
	p.count(depth)
	raw, end := flowPlain(s, i)
	v, err := scalarValue(resolvePlain(raw), raw)
	if err != nil {
		bail()
	}
	return v, end
}

// flowPlain scans a plain scalar in a flow collection; it ends before
// ",", "[", "]", "{", "}", or ":" followed by a blank or "," "]" "}".
func flowPlain(s string, i int) (string, int) {
	if i >= len(s) || isIndicator(s[i:]) || s[i] == ':' || s[i] == '?' {
		bail()
	}
	start := i
	for ; i < len(s); i++ {
		switch s[i] {
		case ',', '[', ']', '{', '}', '?':
			goto done
		case ':':
			if i+1 == len(s) || strings.IndexByte(" \t,[]{}", s[i+1]) >= 0 {
				goto done
			}
		case '#':
			if s[i-1] == ' ' || s[i-1] == '\t' {
				bail()
			}
		}
	}
done:
	raw := strings.TrimRight(s[start:i], " \t")
	if raw == "" {
		bail()
	}
	return raw, i
}

func skipSpaces(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// literal parses a literal block scalar ("|" or "|-") that is the value of
// an entry at indent ind; header is the text from "|".
func (p *fastParser) literal(ind int, header string, depth int) string {
	p.count(depth)
	strip := false
	h := header[1:]
	if strings.HasPrefix(h, "-") {
		strip = true
		h = h[1:]
	}
	if h != "" && h[0] != ' ' {
		bail() // "+", indentation indicators, junk
	}
	checkLineEnd(h)
	p.pos++
	// The first line that is not only spaces sets the indentation.
	contentIndent := -1
	maxLeading := 0
	for j := p.pos; j < len(p.lines); j++ {
		l := p.lines[j]
		if strings.TrimLeft(l.raw, " ") == "" {
			maxLeading = max(maxLeading, len(l.raw))
			continue
		}
		if l.text[0] == '\t' {
			bail() // yaml/v3: a tab where indentation is expected
		}
		contentIndent = l.indent
		break
	}
	if contentIndent <= ind || maxLeading > contentIndent {
		bail() // empty scalars and odd leading lines: leave to yaml/v3
	}
	var b strings.Builder
	pendingBreaks := 0
	for p.pos < len(p.lines) {
		l := p.lines[p.pos]
		if strings.TrimLeft(l.raw, " ") == "" {
			if len(l.raw) > contentIndent {
				bail()
			}
			pendingBreaks++
			p.pos++
			continue
		}
		if l.indent < contentIndent {
			if l.text[0] == '\t' {
				bail()
			}
			break
		}
		for ; pendingBreaks > 0; pendingBreaks-- {
			b.WriteByte('\n')
		}
		b.WriteString(l.raw[contentIndent:])
		pendingBreaks = 1
		p.pos++
		if p.pos == len(p.lines) && !p.lastNewline {
			bail() // no final line break: leave to yaml/v3
		}
	}
	if !strip {
		b.WriteByte('\n')
	}
	return b.String()
}

// simpleEscape returns what a one-character escape ("\n") stands for.
func simpleEscape(c byte) (string, bool) {
	switch c {
	case '0':
		return "\x00", true
	case 'a':
		return "\a", true
	case 'b':
		return "\b", true
	case 't', '\t':
		return "\t", true
	case 'n':
		return "\n", true
	case 'v':
		return "\v", true
	case 'f':
		return "\f", true
	case 'r':
		return "\r", true
	case 'e':
		return "\x1b", true
	case ' ':
		return " ", true
	case '"':
		return "\"", true
	case '\'':
		return "'", true
	case '\\':
		return "\\", true
	case 'N':
		return "\u0085", true
	case '_':
		return "\u00a0", true
	case 'L':
		return "\u2028", true
	case 'P':
		return "\u2029", true
	}
	return "", false
}
