// Package describe implements `kl describe`: a readable, kubectl-like
// account of objects, ending with their Events.
package describe

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/cli/resource"
	"github.com/kl-dev/kl/pkg/client"
)

// Options are the inputs of `kl describe`.
type Options struct {
	IO        *iostreams.IOStreams
	Client    func() (*client.Client, error)
	Namespace func() (string, bool, error)
	// Now is the clock for ages.
	Now func() time.Time

	Args          []string
	Selector      string
	AllNamespaces bool
	ShowEvents    bool
}

// NewCmdDescribe returns the `kl describe` command. runF, if not nil,
// replaces the command's action.
func NewCmdDescribe(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Client: f.Client, Namespace: f.Namespace, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "describe TYPE [NAME...] | TYPE/NAME... | TYPE -l SELECTOR",
		Short: "Show details of resources, with their events",
		Long: `Show the details of resources, with related objects and recent events.

Without a name, every object of the type in the namespace is described (or
those matching -l).`,
		Example: `  kl describe pod web-1
  kl describe deployment/web
  kl describe pods -l app=web
  kl describe node node-1`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmdutil.FlagErrorf(`you must specify the type of resource to describe, e.g. "kl describe pod web-1"`)
			}
			opts.Args = args
			if runF != nil {
				return runF(opts)
			}
			return runDescribe(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.Selector, "selector", "l", "", "describe the objects matching this label selector")
	fl.BoolVarP(&opts.AllNamespaces, "all-namespaces", "A", false, "describe objects of all namespaces")
	fl.BoolVar(&opts.ShowEvents, "show-events", true, "show the events of each object")
	return cmd
}

func runDescribe(ctx context.Context, opts *Options) error {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c, err := opts.Client()
	if err != nil {
		return err
	}
	ns, _, err := opts.Namespace()
	if err != nil {
		return err
	}
	targets, err := resource.NewResolver(c).ResolveArgs(ctx, opts.Args)
	if err != nil {
		return err
	}
	named := false
	for _, t := range targets {
		named = named || len(t.Names) > 0
	}
	switch {
	case named && opts.Selector != "":
		return cmdutil.FlagErrorf("names cannot be combined with --selector")
	case named && opts.AllNamespaces:
		return cmdutil.FlagErrorf("a resource cannot be retrieved by name across all namespaces")
	}
	if opts.AllNamespaces {
		ns = ""
	}
	d := &describer{c: c, dyn: c.Dynamic(), now: opts.Now(), events: opts.ShowEvents}
	failed := false
	fail := func(err error) {
		failed = true
		fmt.Fprintln(opts.IO.ErrOut, resource.FormatError(err))
	}
	first := true
	found := 0
	for _, t := range targets {
		objNS := ""
		if t.Mapping.Namespaced {
			objNS = ns
		}
		var objs []resource.Object
		if named {
			for _, name := range t.Names {
				body, err := d.dyn.Get(ctx, t.Mapping.GVR, objNS, name)
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
			body, err := d.dyn.List(ctx, t.Mapping.GVR, objNS, client.ListOptions{LabelSelector: opts.Selector})
			if err != nil {
				fail(err)
				continue
			}
			if objs, _, err = resource.DecodeList(t.Mapping, body); err != nil {
				return err
			}
		}
		for _, o := range objs {
			found++
			var b bytes.Buffer
			if err := d.describe(ctx, &b, o); err != nil {
				fail(err)
				continue
			}
			if !first {
				fmt.Fprint(opts.IO.Out, "\n\n")
			}
			first = false
			if _, err := opts.IO.Out.Write(b.Bytes()); err != nil {
				return err
			}
		}
	}
	if !named && found == 0 && !failed {
		if ns == "" || !targets[0].Mapping.Namespaced {
			fmt.Fprintln(opts.IO.ErrOut, "No resources found")
		} else {
			fmt.Fprintf(opts.IO.ErrOut, "No resources found in %s namespace.\n", ns)
		}
	}
	if failed {
		return &cmdutil.ExitError{Code: 1}
	}
	return nil
}
