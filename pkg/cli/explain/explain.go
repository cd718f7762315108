// Package explain implements `kl explain`: documentation of kinds and
// their fields, offline, from the JSON Schemas embedded in kl (package
// schemas; the descriptions are the Go doc comments of pkg/api).
//
// The output follows kubectl explain:
//
//	GROUP:      apps
//	KIND:       Deployment
//	VERSION:    v1
//
//	FIELD: replicas <integer>
//
//	DESCRIPTION:
//	    Replicas defaults to 1.
package explain

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/kl-dev/kl/pkg/suggest"
	"io"
	"io/fs"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/schemas"
)

// Options are the inputs of `kl explain`.
type Options struct {
	IO *iostreams.IOStreams
	// Resource is the argument: KIND[.field.path], where KIND is a kind,
	// plural, short name, or any of them followed by .group or
	// .version.group.
	Resource string
	// Recursive prints every field below, as a tree, without descriptions.
	Recursive bool
	// APIVersion picks the version when a kind has several ("apps/v1").
	APIVersion string
	// Schemas holds index.json and the schemas, laid out as schemas.FS.
	Schemas fs.FS
}

// NewCmdExplain returns the `kl explain` command. runF, if not nil,
// replaces the command's action (tests use it to check flag parsing alone).
func NewCmdExplain(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Schemas: schemas.FS}
	cmd := &cobra.Command{
		Use:   "explain TYPE[.FIELD.PATH]",
		Short: "Describe the fields of a kind, offline",
		Long: `Describe a kind and its fields: type, whether required, and documentation.

TYPE is a kind (Deployment), its plural (deployments), singular or short name
(deploy), optionally followed by its group (deployments.apps). Fields are
named by their JSON path, through lists (pods.spec.containers.image).
Works offline, from the schemas built into kl.`,
		Example: `  kl explain pods
  kl explain deploy.spec.strategy
  kl explain deployments.apps.spec.template.spec.containers
  kl explain svc --recursive`,
		Args: cmdutil.UsageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				names, err := resourceNames(opts.Schemas)
				if err != nil {
					return err
				}
				return cmdutil.FlagErrorf("you must specify the type of resource to explain; kl knows: %s", strings.Join(names, ", "))
			}
			opts.Resource = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runExplain(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Recursive, "recursive", false, "print the fields of fields, as a tree (without descriptions)")
	cmd.Flags().StringVar(&opts.APIVersion, "api-version", "", "apiVersion of the kind to explain (e.g. apps/v1), when it has several")
	return cmd
}

func runExplain(opts *Options) error {
	kinds, err := schemas.ReadIndex(opts.Schemas)
	if err != nil {
		return err
	}
	kind, fields, err := resolve(kinds, opts.Resource, opts.APIVersion)
	if err != nil {
		return err
	}
	raw, err := fs.ReadFile(opts.Schemas, kind.Schema)
	if err != nil {
		return fmt.Errorf("read schema of %s: %w", kind.Kind, err)
	}
	root, err := parseSchema(raw)
	if err != nil {
		return fmt.Errorf("read schema of %s: %w", kind.Kind, err)
	}
	var b strings.Builder
	if err := explain(&b, kind, root, fields, opts.Recursive); err != nil {
		return err
	}
	_, err = io.WriteString(opts.IO.Out, b.String())
	return err
}

// resolve finds the kind named by the start of arg and returns it with
// the field path after it.
func resolve(kinds []schemas.Kind, arg, apiVersion string) (schemas.Kind, []string, error) {
	tokens := strings.Split(arg, ".")
	for _, t := range tokens {
		if t == "" {
			return schemas.Kind{}, nil, cmdutil.FlagErrorf("invalid resource %q: empty part", arg)
		}
	}
	for j := len(tokens); j >= 1; j-- {
		name := strings.ToLower(strings.Join(tokens[:j], "."))
		var found []schemas.Kind
		for _, k := range kinds {
			if apiVersion != "" && k.APIVersion() != apiVersion {
				continue
			}
			if kindNames(k)[name] {
				found = append(found, k)
			}
		}
		if len(found) > 0 {
			// Several versions of one kind: index.json order, the first.
			return found[0], tokens[j:], nil
		}
	}
	names := allNames(kinds)
	msg := fmt.Sprintf("unknown resource type %q", tokens[0])
	if apiVersion != "" {
		msg = fmt.Sprintf("unknown resource type %q in apiVersion %q", tokens[0], apiVersion)
	}
	if s := suggest.Closest(strings.ToLower(tokens[0]), names); s != "" && s != strings.ToLower(tokens[0]) {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	msg += "; kl knows: " + strings.Join(pluralNames(kinds), ", ")
	return schemas.Kind{}, nil, errors.New(msg)
}

// kindNames returns every lower-case name a kind answers to.
func kindNames(k schemas.Kind) map[string]bool {
	base := []string{strings.ToLower(k.Kind)}
	if k.Resource != "" {
		base = append(base, k.Resource)
	}
	base = append(base, k.ShortNames...)
	out := map[string]bool{}
	for _, b := range base {
		out[b] = true
		if k.Group != "" {
			out[b+"."+k.Group] = true
			out[b+"."+k.Version+"."+k.Group] = true
		} else {
			out[b+"."+k.Version] = true
		}
	}
	return out
}

// allNames lists the kinds' plain names (no groups) for suggestions.
func allNames(kinds []schemas.Kind) []string {
	var out []string
	for _, k := range kinds {
		out = append(out, strings.ToLower(k.Kind))
		if k.Resource != "" {
			out = append(out, k.Resource)
		}
		out = append(out, k.ShortNames...)
	}
	return out
}

// resourceNames lists the kinds of the index in fsys for the "kl knows"
// hint.
func resourceNames(fsys fs.FS) ([]string, error) {
	kinds, err := schemas.ReadIndex(fsys)
	if err != nil {
		return nil, err
	}
	return pluralNames(kinds), nil
}

// pluralNames returns the kinds' plural names (kind names for kinds
// without a resource), sorted.
func pluralNames(kinds []schemas.Kind) []string {
	var out []string
	for _, k := range kinds {
		n := k.Resource
		if n == "" {
			n = strings.ToLower(k.Kind)
		}
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// schema is the part of a JSON Schema that explain reads.
type schema struct {
	Ref                  string             `json:"$ref"`
	Description          string             `json:"description"`
	Type                 typeList           `json:"type"`
	Format               string             `json:"format"`
	Properties           map[string]*schema `json:"properties"`
	Required             []string           `json:"required"`
	Items                *schema            `json:"items"`
	AdditionalProperties json.RawMessage    `json:"additionalProperties"`
	Enum                 []any              `json:"enum"`
	Defs                 map[string]*schema `json:"$defs"`

	// addl is AdditionalProperties when it is a schema (a map's values).
	addl *schema
}

// typeList is "type": a string or a list of strings.
type typeList []string

func (t *typeList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*t = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*t = many
	return nil
}

func parseSchema(raw []byte) (*schema, error) {
	var s schema
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	var fill func(*schema)
	seen := map[*schema]bool{}
	fill = func(x *schema) {
		if x == nil || seen[x] {
			return
		}
		seen[x] = true
		if len(x.AdditionalProperties) > 0 && x.AdditionalProperties[0] == '{' {
			var a schema
			if err := json.Unmarshal(x.AdditionalProperties, &a); err == nil {
				x.addl = &a
			}
		}
		for _, p := range x.Properties {
			fill(p)
		}
		fill(x.Items)
		fill(x.addl)
		for _, d := range x.Defs {
			fill(d)
		}
	}
	fill(&s)
	return &s, nil
}

// deref follows a local $ref ("#/$defs/Name") and returns the schema and
// the name of its definition ("" when there was no $ref).
func (root *schema) deref(s *schema) (*schema, string) {
	name := ""
	for i := 0; i < 10 && s != nil && s.Ref != ""; i++ {
		n, ok := strings.CutPrefix(s.Ref, "#/$defs/")
		if !ok || root.Defs[n] == nil {
			break
		}
		if name == "" {
			name = n
		}
		s = root.Defs[n]
	}
	return s, name
}

// typeName is the <type> kubectl explain shows: a definition name
// (<ObjectMeta>), a list (<[]Container>), a map (<map[string]string>), or
// a JSON type.
func (root *schema) typeName(s *schema) string {
	if s == nil {
		return "Object"
	}
	t, def := root.deref(s)
	if def != "" {
		return def
	}
	types := t.nonNullTypes()
	switch {
	case len(types) == 2 && has(types, "integer") && has(types, "string"):
		return "IntOrString"
	case t.Format == "quantity":
		return "Quantity"
	case len(types) == 1 && types[0] == "array":
		return "[]" + root.typeName(t.Items)
	case len(types) == 1 && types[0] == "object":
		if t.addl != nil {
			return "map[string]" + root.typeName(t.addl)
		}
		return "Object"
	case len(types) == 1:
		return types[0]
	case len(types) == 0:
		return "Object"
	}
	return strings.Join(types, "|")
}

func (s *schema) nonNullTypes() []string {
	var out []string
	for _, t := range s.Type {
		if t != "null" {
			out = append(out, t)
		}
	}
	return out
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// fieldsOf returns the object schema whose properties are the fields of
// s: s itself, its $ref, or (for lists) its items'.
func (root *schema) fieldsOf(s *schema) *schema {
	for i := 0; i < 10 && s != nil; i++ {
		t, _ := root.deref(s)
		if t.Items != nil && has(t.nonNullTypes(), "array") {
			s = t.Items
			continue
		}
		return t
	}
	return nil
}

// explain writes the explanation of kind (schema root) or of the field at
// path below it.
func explain(b *strings.Builder, kind schemas.Kind, root *schema, path []string, recursive bool) error {
	cur := root
	var field *schema
	walked := kind.Kind
	for _, name := range path {
		obj := root.fieldsOf(cur)
		if obj == nil || obj.Properties[name] == nil {
			msg := fmt.Sprintf("field %q does not exist in %s", name, walked)
			if obj != nil {
				if s := suggest.Closest(strings.ToLower(name), sortedKeys(obj.Properties)); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
			}
			return errors.New(msg)
		}
		field = obj.Properties[name]
		cur = field
		walked += "." + name
	}

	if kind.Group != "" {
		fmt.Fprintf(b, "GROUP:      %s\n", kind.Group)
	}
	fmt.Fprintf(b, "KIND:       %s\n", kind.Kind)
	fmt.Fprintf(b, "VERSION:    %s\n\n", kind.Version)
	desc := root.Description
	if field != nil {
		fmt.Fprintf(b, "FIELD: %s <%s>\n", path[len(path)-1], root.typeName(field))
		if enum := enumOf(root, field); enum != "" {
			b.WriteString("ENUM:\n")
			for _, v := range strings.Split(enum, ", ") {
				fmt.Fprintf(b, "    %s\n", v)
			}
		}
		b.WriteString("\n")
		desc = describeField(root, field)
	}
	b.WriteString("DESCRIPTION:\n")
	if desc == "" {
		desc = "<empty>"
	}
	wrap(b, desc, 4)
	b.WriteString("\n")

	obj := root.fieldsOf(cur)
	if obj == nil || len(obj.Properties) == 0 {
		return nil
	}
	b.WriteString("FIELDS:\n")
	onPath := map[*schema]bool{obj: true}
	writeFields(b, root, obj, 2, recursive, onPath)
	return nil
}

// describeField is a field's own description, else its type's.
func describeField(root, field *schema) string {
	if field.Description != "" {
		return field.Description
	}
	t, _ := root.deref(field)
	if t.Items != nil {
		if it, _ := root.deref(t.Items); it.Description != "" {
			return it.Description
		}
	}
	return t.Description
}

func enumOf(root, field *schema) string {
	t, _ := root.deref(field)
	if len(t.Enum) == 0 {
		return ""
	}
	var vals []string
	for _, v := range t.Enum {
		if v != nil {
			vals = append(vals, fmt.Sprint(v))
		}
	}
	return strings.Join(vals, ", ")
}

// writeFields lists the fields of obj, sorted, at indent; recursively
// (without descriptions) or with descriptions.
func writeFields(b *strings.Builder, root, obj *schema, indent int, recursive bool, onPath map[*schema]bool) {
	required := map[string]bool{}
	for _, r := range obj.Required {
		required[r] = true
	}
	pad := strings.Repeat(" ", indent)
	for _, name := range sortedKeys(obj.Properties) {
		f := obj.Properties[name]
		fmt.Fprintf(b, "%s%s\t<%s>", pad, name, root.typeName(f))
		if required[name] {
			b.WriteString(" -required-")
		}
		b.WriteString("\n")
		if recursive {
			sub := root.fieldsOf(f)
			if sub != nil && len(sub.Properties) > 0 && !onPath[sub] {
				onPath[sub] = true
				writeFields(b, root, sub, indent+2, true, onPath)
				delete(onPath, sub)
			}
			continue
		}
		if enum := enumOf(root, f); enum != "" {
			fmt.Fprintf(b, "%senum: %s\n", pad, enum)
		}
		if d := describeField(root, f); d != "" {
			wrap(b, d, indent+2)
		}
		b.WriteString("\n")
	}
}

func sortedKeys(m map[string]*schema) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// wrap writes text word-wrapped to 80 columns at indent.
func wrap(b *strings.Builder, text string, indent int) {
	const width = 80
	pad := strings.Repeat(" ", indent)
	for _, para := range strings.Split(text, "\n") {
		words := strings.Fields(para)
		if len(words) == 0 {
			b.WriteString(pad + "\n")
			continue
		}
		line := pad + words[0]
		for _, w := range words[1:] {
			if len(line)+1+len(w) > width {
				b.WriteString(line + "\n")
				line = pad + w
				continue
			}
			line += " " + w
		}
		b.WriteString(line + "\n")
	}
}
