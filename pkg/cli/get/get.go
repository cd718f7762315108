// Package get implements `kl get`.
package get

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/cli/resource"
	"github.com/kl-dev/kl/pkg/client"
)

// Options are the inputs of `kl get`.
type Options struct {
	IO        *iostreams.IOStreams
	Client    func() (*client.Client, error)
	Namespace func() (string, bool, error)
	// Now is the clock of AGE columns.
	Now func() time.Time

	Args           []string
	AllNamespaces  bool
	LabelSelector  string
	FieldSelector  string
	Output         string
	NoHeaders      bool
	ShowLabels     bool
	Watch          bool
	WatchOnly      bool
	IgnoreNotFound bool
	// ShowManagedFields keeps metadata.managedFields in yaml/json output.
	ShowManagedFields bool
}

// NewCmdGet returns the `kl get` command. runF, if not nil, replaces the
// command's action (tests use it to check flag parsing alone).
func NewCmdGet(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Client: f.Client, Namespace: f.Namespace, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "get TYPE[,TYPE...] [NAME...] | TYPE/NAME...",
		Short: "Display one or many resources",
		Long: `Display one or many resources as a table, or in the format chosen with -o.

TYPE is a kind, its plural, singular or short name (pods, pod, po), optionally
qualified by its group (deployments.apps). Several types separated by commas
print one table per type.`,
		Example: `  kl get pods
  kl get pods -A -o wide
  kl get deploy,svc -l app=web
  kl get pod web-1 -o yaml
  kl get pods -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}'
  kl get pods -o custom-columns=NAME:.metadata.name,IMAGE:.spec.containers[*].image
  kl get pods -w`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmdutil.FlagErrorf(`you must specify the type of resource to get, e.g. "kl get pods"`)
			}
			opts.Args = args
			if opts.WatchOnly {
				opts.Watch = true
			}
			if runF != nil {
				return runF(opts)
			}
			return runGet(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&opts.AllNamespaces, "all-namespaces", "A", false, "list the objects of all namespaces")
	fl.StringVarP(&opts.LabelSelector, "selector", "l", "", "label selector (app=web,tier!=db)")
	fl.StringVar(&opts.FieldSelector, "field-selector", "", "field selector (status.phase=Running)")
	fl.StringVarP(&opts.Output, "output", "o", "", resource.OutputHelp)
	fl.BoolVar(&opts.NoHeaders, "no-headers", false, "print tables without headers")
	fl.BoolVar(&opts.ShowLabels, "show-labels", false, "add a LABELS column to tables")
	fl.BoolVarP(&opts.Watch, "watch", "w", false, "after listing, watch for changes and print each one until interrupted")
	fl.BoolVar(&opts.WatchOnly, "watch-only", false, "watch for changes without listing first")
	fl.BoolVar(&opts.IgnoreNotFound, "ignore-not-found", false, "say nothing about named objects that do not exist")
	fl.BoolVar(&opts.ShowManagedFields, "show-managed-fields", false, "keep metadata.managedFields in yaml, json and jsonpath output")
	return cmd
}

// request is everything runGet has worked out from the options.
type request struct {
	opts      *Options
	c         *client.Client
	namespace string // "" with -A
	targets   []resource.Target
	printer   *resource.Printer
	single    bool
}

func runGet(ctx context.Context, opts *Options) error {
	req, err := prepare(ctx, opts)
	if err != nil {
		return err
	}
	if opts.Watch {
		return req.watch(ctx)
	}
	objs, errs := req.fetch(ctx)
	switch {
	case len(objs) > 0:
		if err := req.printer.Print(opts.IO.Out, objs, req.single); err != nil {
			return err
		}
	case len(errs) > 0 || req.named():
		// Nothing to print; the errors (if any) follow.
	case req.printer.IsHumanReadable():
		fmt.Fprintln(opts.IO.ErrOut, req.noneFound())
	default:
		// An empty List for yaml, json and jsonpath; nothing for name.
		if err := req.printer.Print(opts.IO.Out, nil, false); err != nil {
			return err
		}
	}
	return reportErrors(opts.IO.ErrOut, errs)
}

func prepare(ctx context.Context, opts *Options) (*request, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c, err := opts.Client()
	if err != nil {
		return nil, err
	}
	ns, _, err := opts.Namespace()
	if err != nil {
		return nil, err
	}
	if opts.AllNamespaces {
		ns = ""
	}
	targets, err := resource.NewResolver(c).ResolveArgs(ctx, opts.Args)
	if err != nil {
		return nil, err
	}
	req := &request{opts: opts, c: c, namespace: ns, targets: targets}
	if req.named() {
		if opts.AllNamespaces {
			return nil, cmdutil.FlagErrorf("a resource cannot be retrieved by name across all namespaces")
		}
		if opts.LabelSelector != "" || opts.FieldSelector != "" {
			return nil, cmdutil.FlagErrorf("selectors (-l, --field-selector) cannot be combined with resource names")
		}
	}
	if opts.Watch {
		if len(targets) != 1 {
			return nil, cmdutil.FlagErrorf("you may only specify a single resource type with --watch")
		}
		if len(targets[0].Names) > 1 {
			return nil, cmdutil.FlagErrorf("you may only watch a single object by name")
		}
	}
	names := 0
	for _, t := range targets {
		names += len(t.Names)
	}
	req.single = len(targets) == 1 && names == 1
	req.printer, err = resource.NewPrinter(resource.PrintOptions{
		Output:        opts.Output,
		NoHeaders:     opts.NoHeaders,
		ShowLabels:    opts.ShowLabels,
		WithNamespace: opts.AllNamespaces,
		WithKind:      len(targets) > 1,
		Now:           opts.Now,

		ShowManagedFields: opts.ShowManagedFields,
	})
	if err != nil {
		return nil, cmdutil.FlagErrorf("%v", err)
	}
	return req, nil
}

// named reports whether objects were asked for by name.
func (r *request) named() bool {
	for _, t := range r.targets {
		if len(t.Names) > 0 {
			return true
		}
	}
	return false
}

// nsFor returns the namespace to address objects of m in.
func (r *request) nsFor(m resource.Mapping) string {
	if !m.Namespaced {
		return ""
	}
	return r.namespace
}

func (r *request) listOptions() client.ListOptions {
	return client.ListOptions{LabelSelector: r.opts.LabelSelector, FieldSelector: r.opts.FieldSelector}
}

// fetch gets the named objects and lists the others; errs are the objects
// that could not be read, to report after printing the rest.
func (r *request) fetch(ctx context.Context) (objs []resource.Object, errs []error) {
	dyn := r.c.Dynamic()
	for _, t := range r.targets {
		ns := r.nsFor(t.Mapping)
		if len(t.Names) == 0 {
			body, err := dyn.List(ctx, t.Mapping.GVR, ns, r.listOptions())
			if err != nil {
				errs = append(errs, err)
				continue
			}
			items, _, err := resource.DecodeList(t.Mapping, body)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			objs = append(objs, items...)
			continue
		}
		for _, name := range t.Names {
			body, err := dyn.Get(ctx, t.Mapping.GVR, ns, name)
			if err != nil {
				if !(r.opts.IgnoreNotFound && meta.IsNotFound(err)) {
					errs = append(errs, err)
				}
				continue
			}
			o, err := resource.NewObject(t.Mapping, body)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			objs = append(objs, o)
		}
	}
	return objs, errs
}

func (r *request) noneFound() string {
	if r.namespace == "" {
		return "No resources found"
	}
	for _, t := range r.targets {
		if t.Mapping.Namespaced {
			return fmt.Sprintf("No resources found in %s namespace.", r.namespace)
		}
	}
	return "No resources found"
}

// reportErrors prints each error kubectl-style and returns an exit error
// when there was any; a lone non-API error is returned for the root command
// to print.
func reportErrors(errOut io.Writer, errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	var apiErr *meta.APIError
	if len(errs) == 1 && !errors.As(errs[0], &apiErr) {
		return errs[0]
	}
	for _, err := range errs {
		fmt.Fprintln(errOut, resource.FormatError(err))
	}
	return &cmdutil.ExitError{Code: 1}
}
