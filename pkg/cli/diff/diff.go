// Package diff implements `kl diff`: what `kl apply` would change, as a
// unified diff of the live and the would-be YAML of each object, computed
// by the server (a server-side apply with dryRun=All).
package diff

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aymanbagabas/go-udiff"
	"github.com/fatih/color"
	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/applyset"
	"github.com/kl-dev/kl/pkg/cli/apply"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/cli/resource"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/validation"
)

// Exit codes, as kubectl diff's.
const (
	exitDifferent = 1
	exitError     = 2
)

// Options are the inputs of `kl diff`.
type Options struct {
	IO        *iostreams.IOStreams
	Client    func() (*client.Client, error)
	Namespace func() (string, bool, error)
	Validator func() (*validation.Validator, error)

	Filenames      []string
	Recursive      bool
	Prune          bool
	Summary        bool
	Selector       string
	ApplySet       string
	FieldManager   string
	ForceConflicts bool
	// Concurrency bounds the requests in flight (default 16).
	Concurrency int
}

// NewCmdDiff returns the `kl diff` command. runF, if not nil, replaces the
// command's action (tests use it to check flag parsing alone).
func NewCmdDiff(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Client: f.Client, Namespace: f.Namespace, Validator: validation.NewValidator}
	cmd := &cobra.Command{
		Use:   "diff -f PATH... [-R] [--prune] [--summary]",
		Short: "Show what kl apply would change",
		Long: `Show what kl apply would change in the cluster.

Every object is applied with dryRun=All (the server merges it exactly as
kl apply would, and stores nothing), and the live object is compared with
the would-be one as a unified diff of their YAML:

  --- live/apps.v1.Deployment.shop.web
  +++ merged/apps.v1.Deployment.shop.web

New objects are shown whole as added ("--- /dev/null", "+++ merged/... (new)"),
and with --prune the objects kl apply --prune would delete whole as removed
("--- live/...", "+++ /dev/null (pruned)"). Objects in a namespace that the
same manifests create are shown as new, from the manifest, although the
server cannot dry-run them before the namespace exists.

Fields the server manages are left out: metadata.uid, resourceVersion,
generation, creationTimestamp, managedFields, and status. The apply-set
label (applyset.kl.dev/part-of) is a real change and is shown: an object
first applied by other means gains it on its first kl apply.

--summary prints one line per object instead ("+ create", "~ update",
"- prune", "= same") and a total.

Exit status: 0 no differences, 1 differences found, 2 an error (invalid
manifests, an object the server refused, ...).`,
		Example: `  kl diff -f web.yaml
  kl diff -R -f deploy/
  kl diff -R -f deploy/ --prune --summary`,
		Args: cmdutil.UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.validate(); err != nil {
				return &cmdutil.ExitError{Code: exitError, Err: &cmdutil.FlagError{Err: err}}
			}
			if runF != nil {
				return runF(opts)
			}
			if err := runDiff(cmd.Context(), opts); err != nil {
				var exitErr *cmdutil.ExitError
				if errors.As(err, &exitErr) || errors.Is(err, context.Canceled) {
					return err
				}
				return &cmdutil.ExitError{Code: exitError, Err: err}
			}
			return nil
		},
	}
	// Usage errors exit 2 too, as every error of kubectl diff does.
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &cmdutil.ExitError{Code: exitError, Err: &cmdutil.FlagError{Err: err}}
	})
	fl := cmd.Flags()
	fl.StringSliceVarP(&opts.Filenames, "filename", "f", nil, "file or directory with manifests, or - for standard input (repeatable)")
	fl.BoolVarP(&opts.Recursive, "recursive", "R", false, "read directories given with -f recursively")
	fl.BoolVar(&opts.Prune, "prune", false, "also show the objects kl apply --prune would delete")
	fl.BoolVar(&opts.Summary, "summary", false, "print one line per object and a total instead of the diffs")
	fl.StringVarP(&opts.Selector, "selector", "l", "", "compare (and prune) only objects matching this label selector")
	fl.StringVar(&opts.ApplySet, "applyset", "", "name of the apply set, as given to kl apply (default: derived from the -f paths and the namespace)")
	fl.StringVar(&opts.FieldManager, "field-manager", applyset.DefaultFieldManager, "name of the manager owning the applied fields")
	fl.BoolVar(&opts.ForceConflicts, "force-conflicts", false, "compare as kl apply --force-conflicts would apply")
	return cmd
}

func (opts *Options) validate() error {
	switch {
	case len(opts.Filenames) == 0:
		return fmt.Errorf("must specify one or more files or directories with -f")
	case opts.FieldManager == "":
		return fmt.Errorf("--field-manager must not be empty")
	}
	if _, err := meta.ParseSelector(opts.Selector); err != nil {
		return err
	}
	return nil
}

// change is what applying would do to one object.
type change int

const (
	same change = iota
	create
	update
	prune
)

// entry is one object's comparison.
type entry struct {
	ref          string // "deployment.apps/web"
	name         string // "apps.v1.Deployment.shop.web"
	change       change
	live, merged []byte // YAML; nil when the object does not exist on that side
}

func runDiff(ctx context.Context, opts *Options) error {
	in, err := apply.Load(ctx, apply.LoadOptions{
		Filenames: opts.Filenames, Recursive: opts.Recursive, Stdin: opts.IO.In, ErrOut: opts.IO.ErrOut,
		Namespace: opts.Namespace, Client: opts.Client, Validator: opts.Validator,
		ApplySet: opts.ApplySet, Selector: opts.Selector,
	})
	if err != nil {
		return err
	}
	var plan *applyset.Plan
	if opts.Prune {
		if in.Set == nil {
			return fmt.Errorf("--prune needs --applyset NAME for manifests read from standard input")
		}
		plan, err = applyset.PlanPrune(ctx, in.API, in.Mapper, *in.Set, in.Record, in.Members(), in.Selector)
		if err != nil {
			return err
		}
	}

	results := applyset.Apply(ctx, in.API, in.Selected, applyset.ApplyOptions{
		FieldManager: opts.FieldManager, Force: opts.ForceConflicts, DryRun: applyset.DryRunServer,
		Concurrency: opts.Concurrency,
	})
	if err := ctx.Err(); err != nil {
		return err
	}
	entries := make([]*entry, len(results))
	errs := make([]error, len(results))
	applyset.ForEach(ctx, len(results), cmp.Or(opts.Concurrency, applyset.DefaultConcurrency), func(i int) {
		entries[i], errs[i] = compare(ctx, in.API, in.Selected[i], results[i])
	})
	failed := 0
	for i, err := range errs {
		if err != nil {
			failed++
			fmt.Fprintln(opts.IO.ErrOut, apply.ObjectError("comparing", in.Selected[i], err))
		}
	}
	if plan != nil {
		for _, c := range plan.Prune {
			live, err := cleanYAML(c.Object)
			if err != nil {
				return fmt.Errorf("%s: %w", c.Ref(), err)
			}
			entries = append(entries, &entry{ref: c.Ref(), name: diffName(c.Mapping, c.Member.Namespace, c.Member.Name), change: prune, live: live})
		}
		for _, m := range plan.Unknown {
			fmt.Fprintf(opts.IO.ErrOut, "warning: kl apply --prune would not prune %s: the server has no such kind\n", m)
		}
		if err := plan.CheckSafe(len(in.Selected)); err != nil {
			fmt.Fprintf(opts.IO.ErrOut, "note: kl apply --prune would refuse this without --force: %v\n", err)
		}
	}

	var out bytes.Buffer
	w := &writer{out: &out, color: opts.IO.StdoutIsTTY}
	differ := false
	if opts.Summary {
		differ = w.summary(entries)
	} else {
		differ = w.diffs(entries)
	}
	if _, err := opts.IO.Out.Write(out.Bytes()); err != nil {
		return err
	}
	switch {
	case failed > 0:
		return &cmdutil.ExitError{Code: exitError}
	case differ:
		return &cmdutil.ExitError{Code: exitDifferent}
	}
	return nil
}

// compare turns the result of a dry-run apply into an entry, reading the
// live object when the apply would change it. nil, nil: the object failed
// to apply (reported by the caller).
func compare(ctx context.Context, api *client.Dynamic, o *applyset.Object, r *applyset.Result) (*entry, error) {
	if r.Err != nil {
		return nil, r.Err
	}
	e := &entry{ref: o.Ref(), name: diffName(o.Mapping, o.Namespace, o.Name)}
	merged, err := cleanYAML(r.Object)
	if err != nil {
		return nil, err
	}
	switch r.Action {
	case applyset.Unchanged:
		e.change = same
		return e, nil
	case applyset.Created:
		e.change, e.merged = create, merged
		return e, nil
	}
	raw, err := api.Get(ctx, o.Mapping.GVR, o.Namespace, o.Name)
	if meta.IsNotFound(err) { // deleted since: applying creates it
		e.change, e.merged = create, merged
		return e, nil
	}
	if err != nil {
		return nil, err
	}
	live, err := cleanYAML(raw)
	if err != nil {
		return nil, err
	}
	e.live, e.merged = live, merged
	e.change = update
	if bytes.Equal(live, merged) {
		e.change = same // only server-managed fields would change
	}
	return e, nil
}

// diffName names an object in diff headers as kubectl diff does:
// "apps.v1.Deployment.shop.web", "v1.Namespace.shop".
func diffName(m resource.Mapping, ns, name string) string {
	parts := []string{m.GVR.Version, m.Kind}
	if m.GVR.Group != "" {
		parts = append([]string{m.GVR.Group}, parts...)
	}
	if ns != "" {
		parts = append(parts, ns)
	}
	return strings.Join(append(parts, name), ".")
}

// cleanYAML returns an object as YAML (sorted keys) without the fields the
// server manages.
func cleanYAML(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, fmt.Errorf("decode object: %w", err)
	}
	delete(obj, "status")
	if md, ok := obj["metadata"].(map[string]any); ok {
		for _, f := range []string{"uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink"} {
			delete(md, f)
		}
	}
	j, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encode object: %w", err)
	}
	y, err := yaml.JSONToYAML(j)
	if err != nil {
		return nil, fmt.Errorf("encode object as YAML: %w", err)
	}
	return y, nil
}

// writer prints diffs and summaries, coloured on a terminal.
type writer struct {
	out   io.Writer
	color bool
}

func (w *writer) paint(attr color.Attribute, s string) string {
	if !w.color {
		return s
	}
	c := color.New(attr)
	c.EnableColor()
	return c.Sprint(s)
}

// diffs prints a unified diff per changed object and reports whether there
// was any.
func (w *writer) diffs(entries []*entry) bool {
	differ := false
	for _, e := range entries {
		if e == nil || e.change == same {
			continue
		}
		differ = true
		from, to := "live/"+e.name, "merged/"+e.name
		switch e.change {
		case create:
			from, to = "/dev/null", to+" (new)"
		case prune:
			to = "/dev/null (pruned)"
		}
		text := udiff.Unified(from, to, string(e.live), string(e.merged))
		for _, line := range strings.SplitAfter(text, "\n") {
			if line == "" {
				continue
			}
			body := strings.TrimSuffix(line, "\n")
			switch {
			case strings.HasPrefix(line, "--- "), strings.HasPrefix(line, "+++ "):
				body = w.paint(color.Bold, body)
			case strings.HasPrefix(line, "@@"):
				body = w.paint(color.FgCyan, body)
			case strings.HasPrefix(line, "-"):
				body = w.paint(color.FgRed, body)
			case strings.HasPrefix(line, "+"):
				body = w.paint(color.FgGreen, body)
			}
			fmt.Fprintln(w.out, body)
		}
	}
	return differ
}

// summary prints one line per object and the totals, and reports whether
// anything would change.
func (w *writer) summary(entries []*entry) bool {
	var n [4]int
	for _, e := range entries {
		if e == nil {
			continue
		}
		n[e.change]++
		switch e.change {
		case create:
			fmt.Fprintln(w.out, w.paint(color.FgGreen, "+ create "+e.ref))
		case update:
			fmt.Fprintln(w.out, w.paint(color.FgYellow, "~ update "+e.ref))
		case prune:
			fmt.Fprintln(w.out, w.paint(color.FgRed, "- prune "+e.ref))
		default:
			fmt.Fprintln(w.out, "= same "+e.ref)
		}
	}
	fmt.Fprintf(w.out, "%d to create, %d to update, %d to prune, %d unchanged\n", n[create], n[update], n[prune], n[same])
	return n[create]+n[update]+n[prune] > 0
}
