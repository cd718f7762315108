package applyset

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// Labels and names of the apply-set machinery.
const (
	// PartOfLabel is carried by every object applied through a set; its
	// value is the set's ID.
	PartOfLabel = "applyset.kl.dev/part-of"
	// IDLabel is carried by a set's record; its value is the set's ID.
	IDLabel = "applyset.kl.dev/id"
	// RecordPrefix starts the name of a set's record ConfigMap.
	RecordPrefix = "kl-applyset-"
)

// maxIDLen keeps an ID a valid label value (63) and leaves room for the
// record's name prefix.
const maxIDLen = 63

// Set identifies an apply set.
type Set struct {
	// ID is the value of PartOfLabel on every member: the --applyset name,
	// or "<dir>-<hash>" derived from the paths and the namespace.
	ID string
	// Namespace is where the set's record lives.
	Namespace string
}

// Named returns the set called name (--applyset NAME) with its record in
// namespace. name must be a DNS label (lower-case letters, digits and
// '-', at most 63 characters), since it is a label value and part of the
// record's name.
func Named(name, namespace string) (Set, error) {
	if !isDNSLabel(name) {
		return Set{}, fmt.Errorf("invalid apply set name %q: must consist of lower case alphanumeric characters or '-', start and end with an alphanumeric character, and be at most %d characters", name, maxIDLen)
	}
	return Set{ID: name, Namespace: namespace}, nil
}

// FromPaths returns the set of the manifests at paths (as given with -f)
// applied in namespace. The ID is "<base>-<hash>": base is the name of the
// first path (for people reading labels), hash a digest of the sorted
// absolute paths and the namespace, so that the same files and namespace
// name the same set from any working directory. Standard input ("-") has
// no identity: use Named for it.
func FromPaths(paths []string, namespace string) (Set, error) {
	if len(paths) == 0 {
		return Set{}, fmt.Errorf("no paths given")
	}
	abs := make([]string, 0, len(paths))
	for _, p := range paths {
		if p == "-" {
			return Set{}, fmt.Errorf("manifests read from standard input have no stable identity: name the apply set with --applyset NAME")
		}
		a, err := filepath.Abs(p)
		if err != nil {
			return Set{}, fmt.Errorf("apply set of %s: %w", p, err)
		}
		abs = append(abs, filepath.Clean(a))
	}
	slices.Sort(abs)
	abs = slices.Compact(abs)
	h := sha256.New()
	h.Write([]byte(namespace))
	for _, a := range abs {
		h.Write([]byte{0})
		h.Write([]byte(filepath.ToSlash(a)))
	}
	sum := hex.EncodeToString(h.Sum(nil))[:10]
	base := sanitize(strings.TrimSuffix(filepath.Base(abs[0]), filepath.Ext(abs[0])))
	if base == "" {
		return Set{ID: "set-" + sum, Namespace: namespace}, nil
	}
	return Set{ID: base + "-" + sum, Namespace: namespace}, nil
}

// RecordName returns the name of the set's record ConfigMap.
func (s Set) RecordName() string { return RecordPrefix + s.ID }

// Selector returns the label selector of the set's members.
func (s Set) Selector() string { return PartOfLabel + "=" + s.ID }

// String returns the ID.
func (s Set) String() string { return s.ID }

// sanitize turns a file name into the start of an ID: lower case, runs of
// other characters as one '-', at most 40 characters.
func sanitize(s string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(s) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 40 {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}

func isDNSLabel(s string) bool {
	if s == "" || len(s) > maxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (c != '-' || i == 0 || i == len(s)-1) {
			return false
		}
	}
	return true
}

// Member is one object of an apply set.
type Member struct {
	Group, Kind, Namespace, Name string
}

// String returns the member as the record writes it: "Deployment.apps
// shop/web", "ConfigMap shop/cfg", "Namespace shop".
func (m Member) String() string {
	var b strings.Builder
	b.WriteString(m.Kind)
	if m.Group != "" {
		b.WriteByte('.')
		b.WriteString(m.Group)
	}
	b.WriteByte(' ')
	if m.Namespace != "" {
		b.WriteString(m.Namespace)
		b.WriteByte('/')
	}
	b.WriteString(m.Name)
	return b.String()
}

// compare orders members by kind, group, namespace and name.
func (m Member) compare(o Member) int {
	for _, p := range [][2]string{{m.Kind, o.Kind}, {m.Group, o.Group}, {m.Namespace, o.Namespace}, {m.Name, o.Name}} {
		if c := strings.Compare(p[0], p[1]); c != 0 {
			return c
		}
	}
	return 0
}

// ParseMember reads a member in the form String writes.
func ParseMember(s string) (Member, error) {
	kindGroup, ref, ok := strings.Cut(strings.TrimSpace(s), " ")
	if !ok || kindGroup == "" || ref == "" || strings.ContainsAny(ref, " \t") {
		return Member{}, fmt.Errorf("invalid apply set member %q: want \"KIND[.GROUP] [NAMESPACE/]NAME\"", s)
	}
	var m Member
	m.Kind, m.Group, _ = strings.Cut(kindGroup, ".")
	if ns, name, ok := strings.Cut(ref, "/"); ok {
		m.Namespace, m.Name = ns, name
	} else {
		m.Name = ref
	}
	if m.Kind == "" || m.Name == "" || strings.Contains(m.Name, "/") {
		return Member{}, fmt.Errorf("invalid apply set member %q: want \"KIND[.GROUP] [NAMESPACE/]NAME\"", s)
	}
	return m, nil
}
