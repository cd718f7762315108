// Package label implements `kl label` and the machinery `kl annotate`
// shares with it: KEY=VALUE and KEY- arguments applied to objects' labels
// or annotations with a JSON merge patch.
package label

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/cli/resource"
	"github.com/kl-dev/kl/pkg/client"
)

// Field says which metadata map a command edits.
type Field string

// The metadata maps kl label and kl annotate edit.
const (
	Labels      Field = "labels"
	Annotations Field = "annotations"
)

// noun is "label" or "annotation", for messages.
func (f Field) noun() string { return strings.TrimSuffix(string(f), "s") }

// Options are the inputs of `kl label` and `kl annotate`.
type Options struct {
	IO        *iostreams.IOStreams
	Client    func() (*client.Client, error)
	Namespace func() (string, bool, error)

	// Field is Labels or Annotations.
	Field Field
	// ResourceArgs are the TYPE NAME... or TYPE/NAME... arguments.
	ResourceArgs []string
	// Set are the KEY=VALUE arguments, Remove the keys of KEY- arguments.
	Set    map[string]string
	Remove []string

	Overwrite     bool
	Selector      string
	All           bool
	AllNamespaces bool
}

// NewCmdLabel returns the `kl label` command. runF, if not nil, replaces
// the command's action.
func NewCmdLabel(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	return NewCmd(f, Labels, runF)
}

// NewCmd returns `kl label` (field Labels) or `kl annotate` (field
// Annotations).
func NewCmd(f *cmdutil.Factory, field Field, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Client: f.Client, Namespace: f.Namespace, Field: field}
	verb := "label"
	if field == Annotations {
		verb = "annotate"
	}
	cmd := &cobra.Command{
		Use:   verb + " (TYPE NAME... | TYPE/NAME... | TYPE -l SELECTOR | TYPE --all) KEY=VALUE... KEY-...",
		Short: fmt.Sprintf("Update the %s of resources", field),
		Long: fmt.Sprintf(`Update the %[1]s of resources.

KEY=VALUE sets a %[2]s, KEY- removes one. Changing the value of an existing
%[2]s requires --overwrite.`, field, field.noun()),
		Example: fmt.Sprintf(`  kl %[1]s pod web-1 tier=frontend
  kl %[1]s deployment/web tier=backend --overwrite
  kl %[1]s pods -l app=web tier-
  kl %[1]s nodes --all zone=a`, verb),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.parseArgs(args); err != nil {
				return &cmdutil.FlagError{Err: err}
			}
			if runF != nil {
				return runF(opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.Overwrite, "overwrite", false, fmt.Sprintf("allow changing the value of existing %s", field))
	fl.StringVarP(&opts.Selector, "selector", "l", "", "label selector choosing the objects (app=web)")
	fl.BoolVar(&opts.All, "all", false, "every object of the type in the namespace")
	fl.BoolVarP(&opts.AllNamespaces, "all-namespaces", "A", false, "with -l or --all, objects of all namespaces")
	return cmd
}

// parseArgs splits args into resource arguments and KEY=VALUE / KEY-
// changes, which must come after them.
func (opts *Options) parseArgs(args []string) error {
	opts.Set = map[string]string{}
	opts.Remove = nil
	changes := false
	for _, a := range args {
		isChange := strings.Contains(a, "=") || strings.HasSuffix(a, "-")
		switch {
		case isChange:
			changes = true
		case changes:
			return fmt.Errorf("%s updates must come after the resources: %q", opts.Field.noun(), a)
		default:
			opts.ResourceArgs = append(opts.ResourceArgs, a)
			continue
		}
		if key, ok := strings.CutSuffix(a, "-"); ok && !strings.Contains(a, "=") {
			if err := validateKey(key); err != nil {
				return err
			}
			opts.Remove = append(opts.Remove, key)
			continue
		}
		key, value, _ := strings.Cut(a, "=")
		if err := validateKey(key); err != nil {
			return err
		}
		if opts.Field == Labels {
			if err := validateLabelValue(value); err != nil {
				return fmt.Errorf("invalid label value %q for %q: %w", value, key, err)
			}
		}
		opts.Set[key] = value
	}
	if len(opts.ResourceArgs) == 0 {
		return fmt.Errorf("one or more resources must be specified as <resource> <name> or <resource>/<name>")
	}
	if len(opts.Set) == 0 && len(opts.Remove) == 0 {
		return fmt.Errorf("at least one %s update is required", opts.Field.noun())
	}
	for _, k := range opts.Remove {
		if _, ok := opts.Set[k]; ok {
			return fmt.Errorf("can not both modify and remove the %s %q in the same command", opts.Field.noun(), k)
		}
	}
	return nil
}

var (
	namePart   = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`)
	dnsSubdom  = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	labelValue = namePart
)

// validateKey checks a label or annotation key: [prefix/]name, as
// Kubernetes' qualified names.
func validateKey(key string) error {
	prefix, name, hasPrefix := strings.Cut(key, "/")
	if !hasPrefix {
		name, prefix = prefix, ""
	}
	switch {
	case key == "":
		return fmt.Errorf("invalid key %q: must not be empty", key)
	case hasPrefix && (prefix == "" || len(prefix) > 253 || !dnsSubdom.MatchString(prefix)):
		return fmt.Errorf("invalid key %q: the prefix must be a DNS subdomain (lower case, e.g. example.com)", key)
	case len(name) > 63 || !namePart.MatchString(name):
		return fmt.Errorf("invalid key %q: the name must be 63 characters or less, begin and end with a letter or digit, and contain only letters, digits, '-', '_' and '.'", key)
	}
	return nil
}

func validateLabelValue(v string) error {
	if v == "" {
		return nil
	}
	if len(v) > 63 || !labelValue.MatchString(v) {
		return fmt.Errorf("a label value must be 63 characters or less, begin and end with a letter or digit, and contain only letters, digits, '-', '_' and '.'")
	}
	return nil
}

// Run applies the changes to every object the options select.
func Run(ctx context.Context, opts *Options) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	ns, _, err := opts.Namespace()
	if err != nil {
		return err
	}
	targets, err := resource.NewResolver(c).ResolveArgs(ctx, opts.ResourceArgs)
	if err != nil {
		return err
	}
	named := false
	for _, t := range targets {
		named = named || len(t.Names) > 0
	}
	switch {
	case named && (opts.Selector != "" || opts.All):
		return cmdutil.FlagErrorf("names cannot be combined with --selector or --all")
	case !named && opts.Selector == "" && !opts.All:
		return cmdutil.FlagErrorf("resource(s) were provided, but no name, label selector, or --all flag specified")
	case named && opts.AllNamespaces:
		return cmdutil.FlagErrorf("a resource cannot be retrieved by name across all namespaces")
	}
	if opts.AllNamespaces {
		ns = ""
	}
	dyn := c.Dynamic()
	failed := false
	fail := func(err error) {
		failed = true
		fmt.Fprintln(opts.IO.ErrOut, resource.FormatError(err))
	}
	for _, t := range targets {
		objNS := ""
		if t.Mapping.Namespaced {
			objNS = ns
		}
		var objs []resource.Object
		if named {
			for _, name := range t.Names {
				body, err := dyn.Get(ctx, t.Mapping.GVR, objNS, name)
				if err != nil {
					fail(err)
					continue
				}
				o, err := resource.NewObject(t.Mapping, body)
				if err != nil {
					return err
				}
				objs = append(objs, o)
			}
		} else {
			body, err := dyn.List(ctx, t.Mapping.GVR, objNS, client.ListOptions{LabelSelector: opts.Selector})
			if err != nil {
				fail(err)
				continue
			}
			if objs, _, err = resource.DecodeList(t.Mapping, body); err != nil {
				return err
			}
		}
		for _, o := range objs {
			if err := opts.update(ctx, dyn, o); err != nil {
				fail(err)
			}
		}
	}
	if failed {
		return &cmdutil.ExitError{Code: 1}
	}
	return nil
}

// update changes one object and prints the outcome.
func (opts *Options) update(ctx context.Context, dyn *client.Dynamic, o resource.Object) error {
	m, err := o.Meta()
	if err != nil {
		return err
	}
	current := m.Labels
	if opts.Field == Annotations {
		current = m.Annotations
	}
	if !opts.Overwrite {
		var errs []string
		for _, k := range sortedKeys(opts.Set) {
			if old, ok := current[k]; ok && old != opts.Set[k] {
				errs = append(errs, fmt.Sprintf("'%s' already has a value (%s), and --overwrite is false", k, old))
			}
		}
		if len(errs) > 0 {
			return fmt.Errorf("%s", strings.Join(errs, "\n"))
		}
	}
	changes := map[string]any{}
	for k, v := range opts.Set {
		if old, ok := current[k]; !ok || old != v {
			changes[k] = v
		}
	}
	for _, k := range opts.Remove {
		if _, ok := current[k]; ok {
			changes[k] = nil
		} else {
			fmt.Fprintf(opts.IO.ErrOut, "%s %q not found.\n", opts.Field.noun(), k)
		}
	}
	ref := o.Mapping.Ref(m.Name)
	if len(changes) == 0 {
		if opts.Field == Labels {
			fmt.Fprintf(opts.IO.Out, "%s not labeled\n", ref)
		} else {
			fmt.Fprintf(opts.IO.Out, "%s annotated\n", ref)
		}
		return nil
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{string(opts.Field): changes}})
	if err != nil {
		return fmt.Errorf("encode patch: %w", err)
	}
	ns := ""
	if o.Mapping.Namespaced {
		ns = m.Namespace
	}
	if _, err := dyn.Patch(ctx, o.Mapping.GVR, ns, m.Name, client.MergePatchType, patch, client.PatchOptions{}); err != nil {
		return err
	}
	verb := "annotated"
	if opts.Field == Labels {
		verb = "labeled"
		removedOnly := true
		for _, v := range changes {
			removedOnly = removedOnly && v == nil
		}
		if removedOnly {
			verb = "unlabeled"
		}
	}
	fmt.Fprintf(opts.IO.Out, "%s %s\n", ref, verb)
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
