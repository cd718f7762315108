// Package history implements `kl rollout history`: the revisions of a
// Deployment, read from the ReplicaSets it owns, and the pod template of
// one of them.
package history

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/cli/resource"
	"github.com/kl-dev/kl/pkg/cli/rollout/internal/deployutil"
	"github.com/kl-dev/kl/pkg/client"
)

// Options are the inputs of `kl rollout history`.
type Options struct {
	IO        *iostreams.IOStreams
	Client    func() (*client.Client, error)
	Namespace func() (string, bool, error)

	// Args name the deployment: deployment/NAME or deployment NAME.
	Args []string
	// Revision, when positive, selects the revision whose pod template is
	// shown.
	Revision int64
	// Output is "" (a description), "yaml" or "json"; only with Revision.
	Output string
}

// NewCmdHistory returns the `kl rollout history` command. runF, if not nil,
// replaces the command's action.
func NewCmdHistory(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Client: f.Client, Namespace: f.Namespace}
	cmd := &cobra.Command{
		Use:   "history (TYPE NAME | TYPE/NAME) [--revision N]",
		Short: "Show the revisions of a deployment",
		Long: `Show the revisions of a deployment: one line per ReplicaSet it owns, with
the change cause recorded in its kubernetes.io/change-cause annotation.
With --revision, show that revision's pod template.`,
		Example: `  kl rollout history deployment/web
  kl rollout history deployment/web --revision 3
  kl rollout history deployment/web --revision 3 -o yaml`,
		Args: cmdutil.UsageArgs(cobra.RangeArgs(1, 2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case opts.Revision < 0:
				return cmdutil.FlagErrorf("--revision must not be negative")
			case opts.Output != "" && opts.Output != "yaml" && opts.Output != "json":
				return cmdutil.FlagErrorf("unknown output format %q for -o: want yaml or json", opts.Output)
			case opts.Output != "" && opts.Revision == 0:
				return cmdutil.FlagErrorf("-o needs --revision: it prints one revision's pod template")
			}
			opts.Args = args
			if runF != nil {
				return runF(opts)
			}
			return runHistory(cmd.Context(), opts)
		},
	}
	cmd.Flags().Int64Var(&opts.Revision, "revision", 0, "show the pod template of this revision")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "with --revision: print the pod template as yaml or json")
	return cmd
}

func runHistory(ctx context.Context, opts *Options) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	ns, _, err := opts.Namespace()
	if err != nil {
		return err
	}
	name, err := deployutil.ResolveName(ctx, c, opts.Args)
	if err != nil {
		return resource.ServerError(opts.IO.ErrOut, err)
	}
	d, err := deployutil.Deployments(c, ns).Get(ctx, name)
	if err != nil {
		return resource.ServerError(opts.IO.ErrOut, err)
	}
	rss, err := deployutil.ListOwned(ctx, c, d)
	if err != nil {
		return resource.ServerError(opts.IO.ErrOut, err)
	}
	revs := deployutil.Revisions(rss)
	if opts.Revision > 0 {
		rs, ok := revs[opts.Revision]
		if !ok {
			return fmt.Errorf("unable to find revision %d of %s", opts.Revision, deployutil.Ref(name))
		}
		return printTemplate(opts.IO.Out, opts.Output, name, opts.Revision, &rs.Spec.Template)
	}
	return printHistory(opts.IO.Out, name, revs)
}

// printHistory prints the REVISION CHANGE-CAUSE table, oldest revision
// first.
func printHistory(w io.Writer, name string, revs map[int64]*appsv1.ReplicaSet) error {
	if len(revs) == 0 {
		_, err := fmt.Fprintf(w, "No rollout history found for %s.\n", deployutil.Ref(name))
		return err
	}
	fmt.Fprintln(w, deployutil.Ref(name))
	tw := resource.NewTabWriter(w)
	fmt.Fprintln(tw, "REVISION\tCHANGE-CAUSE")
	for _, r := range deployutil.SortedRevisions(revs) {
		cause := revs[r].Annotations[appsv1.ChangeCauseAnnotation]
		if cause == "" {
			cause = "<none>"
		}
		fmt.Fprintf(tw, "%d\t%s\n", r, cause)
	}
	return tw.Flush()
}

// printTemplate prints one revision's pod template: described, or as YAML
// or JSON.
func printTemplate(w io.Writer, output, name string, rev int64, t *corev1.PodTemplateSpec) error {
	switch output {
	case "json":
		b, err := json.MarshalIndent(t, "", "    ")
		if err != nil {
			return fmt.Errorf("encode pod template: %w", err)
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	case "yaml":
		b, err := yaml.Marshal(t)
		if err != nil {
			return fmt.Errorf("encode pod template: %w", err)
		}
		_, err = w.Write(b)
		return err
	}
	fmt.Fprintf(w, "%s with revision #%d\n", deployutil.Ref(name), rev)
	return describeTemplate(w, t)
}
