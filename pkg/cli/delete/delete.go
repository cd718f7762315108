// Package delete implements `kl delete`.
package delete

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/cli/resource"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/manifest"
)

// Options are the inputs of `kl delete`.
type Options struct {
	IO        *iostreams.IOStreams
	Client    func() (*client.Client, error)
	Namespace func() (string, bool, error)
	// ReadManifests reads the objects of -f (manifest.Read).
	ReadManifests func(paths []string, opts manifest.Options) ([]*manifest.Object, error)

	Args           []string
	Filenames      []string
	Recursive      bool
	Selector       string
	All            bool
	AllNamespaces  bool
	Cascade        string
	GracePeriod    int
	Wait           bool
	Timeout        time.Duration
	IgnoreNotFound bool
	// PollInterval is how often --wait checks whether objects are gone
	// (default 200ms).
	PollInterval time.Duration
}

// NewCmdDelete returns the `kl delete` command. runF, if not nil, replaces
// the command's action.
func NewCmdDelete(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Client: f.Client, Namespace: f.Namespace, ReadManifests: manifest.Read}
	cmd := &cobra.Command{
		Use:   "delete (-f PATH... | TYPE NAME... | TYPE/NAME... | TYPE -l SELECTOR | TYPE --all)",
		Short: "Delete resources by file, by name or by label selector",
		Long: `Delete resources by file, by name or by label selector.

Dependents (the ReplicaSets of a Deployment, the Pods of a ReplicaSet) are
deleted by the garbage collector in the background; --cascade=foreground
waits for them before the owner goes, --cascade=orphan keeps them.`,
		Example: `  kl delete pod web-1
  kl delete deployment/web service/web
  kl delete -f app/ -R
  kl delete pods -l app=web --wait --timeout 1m
  kl delete replicaset web-5d9c --cascade=orphan`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			if err := opts.validate(); err != nil {
				return &cmdutil.FlagError{Err: err}
			}
			if runF != nil {
				return runF(opts)
			}
			return runDelete(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVarP(&opts.Filenames, "filename", "f", nil, "manifest file or directory of the objects to delete (- for stdin); repeatable")
	fl.BoolVarP(&opts.Recursive, "recursive", "R", false, "with -f, read directories recursively")
	fl.StringVarP(&opts.Selector, "selector", "l", "", "delete the objects matching this label selector")
	fl.BoolVar(&opts.All, "all", false, "delete every object of the type in the namespace")
	fl.BoolVarP(&opts.AllNamespaces, "all-namespaces", "A", false, "with -l or --all, in every namespace")
	fl.StringVar(&opts.Cascade, "cascade", "background", "what happens to dependents: background, foreground or orphan")
	fl.IntVar(&opts.GracePeriod, "grace-period", -1, "seconds a pod gets to stop (-1: the pod's own setting)")
	fl.BoolVar(&opts.Wait, "wait", false, "wait until the objects are gone")
	fl.DurationVar(&opts.Timeout, "timeout", 0, "with --wait, give up after this long (0: no limit)")
	fl.BoolVar(&opts.IgnoreNotFound, "ignore-not-found", false, "treat objects that do not exist as deleted")
	return cmd
}

func (opts *Options) validate() error {
	switch {
	case len(opts.Filenames) > 0 && len(opts.Args) > 0:
		return fmt.Errorf("cannot combine -f with resource arguments")
	case len(opts.Filenames) == 0 && len(opts.Args) == 0:
		return fmt.Errorf(`you must specify the objects to delete: -f PATH, TYPE NAME, TYPE/NAME, TYPE -l SELECTOR or TYPE --all`)
	case opts.All && opts.Selector != "":
		return fmt.Errorf("cannot combine --all with --selector")
	case opts.Timeout < 0:
		return fmt.Errorf("--timeout must not be negative")
	}
	if _, err := propagation(opts.Cascade); err != nil {
		return err
	}
	return nil
}

// propagation maps --cascade to a deletion propagation policy.
func propagation(cascade string) (meta.DeletionPropagation, error) {
	switch strings.ToLower(cascade) {
	case "background", "true", "":
		return meta.DeletePropagationBackground, nil
	case "foreground":
		return meta.DeletePropagationForeground, nil
	case "orphan", "false":
		return meta.DeletePropagationOrphan, nil
	}
	return "", fmt.Errorf("invalid --cascade %q: want background, foreground or orphan", cascade)
}

// victim is one object to delete.
type victim struct {
	m         resource.Mapping
	namespace string
	name      string
	uid       string // set once deleted, for --wait
}

func (v *victim) String() string { return v.m.GVR.Resource + "/" + v.name }

func runDelete(ctx context.Context, opts *Options) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	ns, explicitNS, err := opts.Namespace()
	if err != nil {
		return err
	}
	policy, err := propagation(opts.Cascade)
	if err != nil {
		return err
	}
	r := resource.NewResolver(c)
	dyn := c.Dynamic()
	failed := false
	report := func(err error) {
		failed = true
		fmt.Fprintln(opts.IO.ErrOut, resource.FormatError(err))
	}

	var victims []*victim
	if len(opts.Filenames) > 0 {
		victims, err = opts.fromManifests(ctx, r, ns, explicitNS)
		if err != nil {
			return err
		}
	} else {
		var listed bool
		victims, listed, err = opts.fromArgs(ctx, r, dyn, ns, report)
		if err != nil {
			return err
		}
		if listed && len(victims) == 0 && !failed {
			where := "No resources found"
			if !opts.AllNamespaces {
				where = fmt.Sprintf("No resources found in %s namespace.", ns)
			}
			fmt.Fprintln(opts.IO.ErrOut, where)
			return nil
		}
	}

	dopts := meta.DeleteOptions{PropagationPolicy: &policy}
	if opts.GracePeriod >= 0 {
		dopts.GracePeriodSeconds = meta.Int64p(int64(opts.GracePeriod))
	}
	var deleted []*victim
	for _, v := range victims {
		body, err := dyn.Delete(ctx, v.m.GVR, v.namespace, v.name, dopts)
		if err != nil {
			if meta.IsNotFound(err) && opts.IgnoreNotFound {
				continue
			}
			report(err)
			continue
		}
		if o, err := resource.NewObject(v.m, body); err == nil {
			if m, err := o.Meta(); err == nil {
				v.uid = m.UID
			}
		}
		fmt.Fprintf(opts.IO.Out, "%s %q deleted\n", v.m.Type(), v.name)
		deleted = append(deleted, v)
	}
	if opts.Wait && len(deleted) > 0 {
		if err := opts.waitGone(ctx, dyn, deleted); err != nil {
			return err
		}
	}
	if failed {
		return &cmdutil.ExitError{Code: 1}
	}
	return nil
}

// fromManifests returns the objects of the -f files.
func (opts *Options) fromManifests(ctx context.Context, r *resource.Resolver, ns string, explicitNS bool) ([]*victim, error) {
	objs, err := opts.ReadManifests(opts.Filenames, manifest.Options{Recursive: opts.Recursive, Stdin: opts.IO.In})
	if err != nil {
		return nil, err
	}
	if len(objs) == 0 {
		return nil, fmt.Errorf("no objects passed to delete")
	}
	var out []*victim
	for _, o := range objs {
		if o.Name == "" {
			return nil, fmt.Errorf("%s: %s has no metadata.name", o.Source, o.Kind)
		}
		m, err := r.ForKind(ctx, o.APIVersion, o.Kind)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o.Source, err)
		}
		v := &victim{m: m, name: o.Name}
		if m.Namespaced {
			v.namespace = ns
			if o.Namespace != "" {
				if explicitNS && o.Namespace != ns {
					return nil, fmt.Errorf("%s: the namespace from the provided object %q does not match the namespace %q. You must pass '--namespace=%s' to perform this operation",
						o.Source, o.Namespace, ns, o.Namespace)
				}
				v.namespace = o.Namespace
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// fromArgs returns the objects the arguments name, or list with -l/--all
// (listed is then true).
func (opts *Options) fromArgs(ctx context.Context, r *resource.Resolver, dyn *client.Dynamic, ns string, report func(error)) (victims []*victim, listed bool, err error) {
	targets, err := r.ResolveArgs(ctx, opts.Args)
	if err != nil {
		return nil, false, err
	}
	named := false
	for _, t := range targets {
		named = named || len(t.Names) > 0
	}
	switch {
	case named && (opts.Selector != "" || opts.All):
		return nil, false, cmdutil.FlagErrorf("names cannot be combined with --selector or --all")
	case named && opts.AllNamespaces:
		return nil, false, cmdutil.FlagErrorf("a resource cannot be deleted by name across all namespaces")
	case !named && opts.Selector == "" && !opts.All:
		return nil, false, cmdutil.FlagErrorf("resource(s) were provided, but no name, label selector, or --all flag specified")
	}
	if opts.AllNamespaces {
		ns = ""
	}
	for _, t := range targets {
		objNS := ""
		if t.Mapping.Namespaced {
			objNS = ns
		}
		if named {
			for _, name := range t.Names {
				victims = append(victims, &victim{m: t.Mapping, namespace: objNS, name: name})
			}
			continue
		}
		body, err := dyn.List(ctx, t.Mapping.GVR, objNS, client.ListOptions{LabelSelector: opts.Selector})
		if err != nil {
			report(err)
			continue
		}
		objs, _, err := resource.DecodeList(t.Mapping, body)
		if err != nil {
			return nil, false, err
		}
		for _, o := range objs {
			m, err := o.Meta()
			if err != nil {
				return nil, false, err
			}
			vns := ""
			if t.Mapping.Namespaced {
				vns = m.Namespace
			}
			victims = append(victims, &victim{m: t.Mapping, namespace: vns, name: m.Name})
		}
	}
	return victims, !named, nil
}

// waitGone polls until every deleted object is gone (not found, or
// replaced by a new object with another uid), or the timeout passes.
func (opts *Options) waitGone(ctx context.Context, dyn *client.Dynamic, victims []*victim) error {
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
	}
	interval := opts.PollInterval
	if interval <= 0 {
		interval = 200 * time.Millisecond
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	pending := victims
	for {
		var still []*victim
		for _, v := range pending {
			body, err := dyn.Get(ctx, v.m.GVR, v.namespace, v.name)
			switch {
			case meta.IsNotFound(err):
				continue
			case err != nil && ctx.Err() != nil:
				still = append(still, v)
			case err != nil:
				return err
			default:
				if o, err := resource.NewObject(v.m, body); err == nil && v.uid != "" {
					if m, err := o.Meta(); err == nil && m.UID != v.uid {
						continue // a new object took the name
					}
				}
				still = append(still, v)
			}
		}
		if len(still) == 0 {
			return nil
		}
		pending = still
		select {
		case <-ctx.Done():
			if opts.Timeout > 0 && ctx.Err() == context.DeadlineExceeded {
				names := make([]string, len(pending))
				for i, v := range pending {
					names[i] = v.String()
				}
				return fmt.Errorf("timed out waiting for the condition on %s", strings.Join(names, ", "))
			}
			return ctx.Err()
		case <-ticker.C:
		}
	}
}
