package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/sync/errgroup"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/cli/resource"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/plugin"
	"github.com/kl-dev/kl/pkg/version"
)

const usage = `Show an object and everything it owns, as a tree.

Usage:
  kl tree KIND NAME [flags]
  kl tree KIND/NAME [flags]

Examples:
  kl tree deployment web
  kl tree deploy/web -n shop

Flags:
`

// run is the whole program; it returns the exit code: 0, or 1 after an
// error.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, now func() time.Time) int {
	var cf plugin.ClientFlags
	fs := pflag.NewFlagSet("kl tree", pflag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported below, as kl does
	fs.Usage = func() {}
	cf.AddFlags(fs)
	err := fs.Parse(args)
	if errors.Is(err, pflag.ErrHelp) {
		fmt.Fprint(stdout, usage+fs.FlagUsages())
		return 0
	}
	var kind, name string
	if err == nil {
		kind, name, err = parseArgs(fs.Args())
	}
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\nRun 'kl tree --help' for usage.\n", err)
		return 1
	}
	if err := tree(ctx, &cf, getenv, kind, name, stdout, now); err != nil {
		msg := err.Error()
		if client.IsUnreachable(err) {
			msg += " (is the apiserver running? use --server URL, KL_SERVER or kl config use-context)"
		}
		fmt.Fprintf(stderr, "error: %s\n", msg)
		return 1
	}
	return 0
}

// parseArgs accepts "KIND NAME" and "KIND/NAME".
func parseArgs(args []string) (kind, name string, err error) {
	switch {
	case len(args) == 1 && strings.Count(args[0], "/") == 1:
		kind, name, _ = strings.Cut(args[0], "/")
	case len(args) == 2 && !strings.Contains(args[0], "/"):
		kind, name = args[0], args[1]
	default:
		return "", "", errors.New("want KIND NAME or KIND/NAME, e.g. kl tree deployment web")
	}
	if kind == "" || name == "" {
		return "", "", fmt.Errorf("want KIND NAME or KIND/NAME, got %q", strings.Join(args, " "))
	}
	return kind, name, nil
}

// tree prints the ownership tree of the object kind/name.
func tree(ctx context.Context, cf *plugin.ClientFlags, getenv func(string) string, kind, name string, out io.Writer, now func() time.Time) error {
	conn, err := cf.Connection(getenv)
	if err != nil {
		return err
	}
	c, err := client.New(client.Config{
		Servers: conn.Servers, TLSClientConfig: conn.TLS,
		UserAgent: "kl-tree/" + version.Get().Version, Timeout: 30 * time.Second,
	})
	if err != nil {
		return err
	}
	resolver := resource.NewResolver(c)
	m, err := resolver.Resolve(ctx, kind)
	if err != nil {
		return err
	}
	ns := conn.Namespace
	if !m.Namespaced {
		ns = "" // dependents may be anywhere
	}
	raw, err := c.Dynamic().Get(ctx, m.GVR, ns, name)
	if err != nil {
		return err
	}
	root, err := decode(raw, m.Kind)
	if err != nil {
		return err
	}
	all, err := listAll(ctx, c, resolver, ns)
	if err != nil {
		return err
	}
	return printTree(out, root, dependents(all), now())
}

// object is what the tree shows of an object.
type object struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name              string `json:"name"`
		Namespace         string `json:"namespace"`
		UID               string `json:"uid"`
		CreationTimestamp string `json:"creationTimestamp"`
		OwnerReferences   []struct {
			UID string `json:"uid"`
		} `json:"ownerReferences"`
	} `json:"metadata"`
	Status struct {
		Conditions []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
			Reason string `json:"reason"`
		} `json:"conditions"`
		InitContainerStatuses []containerStatus `json:"initContainerStatuses"`
		ContainerStatuses     []containerStatus `json:"containerStatuses"`
	} `json:"status"`
}

type containerStatus struct {
	State struct {
		Waiting *struct {
			Reason string `json:"reason"`
		} `json:"waiting"`
		Terminated *struct {
			Reason string `json:"reason"`
		} `json:"terminated"`
	} `json:"state"`
}

func decode(raw []byte, kind string) (*object, error) {
	var o object
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, fmt.Errorf("decode %s: %w", kind, err)
	}
	o.Kind = kind // list items may not carry it
	return &o, nil
}

// skipped are resources whose objects are never owned.
var skipped = map[string]bool{"events": true}

// listAll lists the objects of every resource in namespace ns ("" for all
// namespaces and the cluster-scoped resources too).
func listAll(ctx context.Context, c *client.Client, r *resource.Resolver, ns string) ([]*object, error) {
	mappings, err := r.Mappings(ctx)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	var all []*object
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for _, m := range mappings {
		if skipped[m.GVR.Resource] || (ns != "" && !m.Namespaced) {
			continue
		}
		g.Go(func() error {
			raw, err := c.Dynamic().List(ctx, m.GVR, ns, client.ListOptions{})
			if meta.IsNotFound(err) || meta.ReasonOf(err) == meta.StatusReasonMethodNotAllowed || meta.IsForbidden(err) {
				return nil // not listable here: it owns nothing we may see
			}
			if err != nil {
				return fmt.Errorf("list %s: %w", m.GVR.Resource, err)
			}
			var l struct {
				Items []json.RawMessage `json:"items"`
			}
			if err := json.Unmarshal(raw, &l); err != nil {
				return fmt.Errorf("decode %s: %w", m.GVR.Resource, err)
			}
			objs := make([]*object, 0, len(l.Items))
			for _, item := range l.Items {
				o, err := decode(item, m.Kind)
				if err != nil {
					return err
				}
				objs = append(objs, o)
			}
			mu.Lock()
			all = append(all, objs...)
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return all, nil
}

// dependents maps an owner's UID to the objects it owns, sorted by kind
// and name.
func dependents(all []*object) map[string][]*object {
	deps := map[string][]*object{}
	for _, o := range all {
		for _, ref := range o.Metadata.OwnerReferences {
			deps[ref.UID] = append(deps[ref.UID], o)
		}
	}
	for _, objs := range deps {
		slices.SortFunc(objs, func(a, b *object) int {
			return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Metadata.Namespace, b.Metadata.Namespace), cmp.Compare(a.Metadata.Name, b.Metadata.Name))
		})
	}
	return deps
}

// printTree writes the tree under root as a table.
func printTree(out io.Writer, root *object, deps map[string][]*object, now time.Time) error {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "NAMESPACE\tNAME\tREADY\tREASON\tAGE")
	seen := map[string]bool{}
	var walk func(o *object, prefix, branch string)
	walk = func(o *object, prefix, branch string) {
		ready, reason := status(o)
		fmt.Fprintf(w, "%s\t%s%s/%s\t%s\t%s\t%s\n", o.Metadata.Namespace, prefix, branch+o.Kind, o.Metadata.Name, ready, reason, age(o, now))
		if seen[o.Metadata.UID] {
			return // an ownership cycle: show it once
		}
		seen[o.Metadata.UID] = true
		children := deps[o.Metadata.UID]
		next := prefix
		switch branch {
		case "├─":
			next += "│ "
		case "└─":
			next += "  "
		}
		for i, child := range children {
			b := "├─"
			if i == len(children)-1 {
				b = "└─"
			}
			walk(child, next, b)
		}
	}
	walk(root, "", "")
	return w.Flush()
}

// status returns the READY and REASON columns of o.
func status(o *object) (ready, reason string) {
	ready = "-"
	var readyReason, scheduledReason string
	for _, c := range o.Status.Conditions {
		switch c.Type {
		case "Ready":
			ready = c.Status
			if c.Status != "True" {
				readyReason = c.Reason
			}
		case "PodScheduled":
			if c.Status == "False" {
				scheduledReason = c.Reason
			}
		}
	}
	if ready == "True" {
		return ready, ""
	}
	for _, cs := range slices.Concat(o.Status.InitContainerStatuses, o.Status.ContainerStatuses) {
		if w := cs.State.Waiting; w != nil && w.Reason != "" {
			return ready, w.Reason
		}
	}
	for _, cs := range slices.Concat(o.Status.InitContainerStatuses, o.Status.ContainerStatuses) {
		if t := cs.State.Terminated; t != nil && t.Reason != "" {
			return ready, t.Reason
		}
	}
	return ready, cmp.Or(readyReason, scheduledReason)
}

// age returns the AGE column of o.
func age(o *object, now time.Time) string {
	t, err := time.Parse(time.RFC3339, o.Metadata.CreationTimestamp)
	if err != nil {
		return "<unknown>"
	}
	return resource.Age(t, now)
}
