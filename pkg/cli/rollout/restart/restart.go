// Package restart implements `kl rollout restart`: it starts a new rollout
// of a Deployment's unchanged pod template by stamping the template with
// the kubectl.kubernetes.io/restartedAt annotation, as kubectl does.
package restart

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/cli/resource"
	"github.com/kl-dev/kl/pkg/cli/rollout/internal/deployutil"
	"github.com/kl-dev/kl/pkg/client"
)

// RestartedAtAnnotation is the pod template annotation a restart sets to
// the time, in RFC 3339 (kubectl's name, so both tools restart alike).
const RestartedAtAnnotation = "kubectl.kubernetes.io/restartedAt"

// Options are the inputs of `kl rollout restart`.
type Options struct {
	IO        *iostreams.IOStreams
	Client    func() (*client.Client, error)
	Namespace func() (string, bool, error)
	// Now is the clock (time.Now outside tests).
	Now func() time.Time

	// Args name the deployments: deployment/NAME... or deployment NAME...
	Args []string
}

// NewCmdRestart returns the `kl rollout restart` command. runF, if not nil,
// replaces the command's action.
func NewCmdRestart(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Client: f.Client, Namespace: f.Namespace, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "restart (TYPE NAME... | TYPE/NAME...)",
		Short: "Restart the pods of a deployment with a new rollout",
		Long: `Restart a deployment's pods with a rolling update of its unchanged template:
the template gets the annotation kubectl.kubernetes.io/restartedAt set to the
current time. A paused deployment cannot be restarted.`,
		Example: `  kl rollout restart deployment/web
  kl rollout restart deployment web api`,
		Args: cmdutil.UsageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			if runF != nil {
				return runF(opts)
			}
			return runRestart(cmd.Context(), opts)
		},
	}
	return cmd
}

func runRestart(ctx context.Context, opts *Options) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	ns, _, err := opts.Namespace()
	if err != nil {
		return err
	}
	names, err := deployutil.ResolveNames(ctx, c, opts.Args)
	if err != nil {
		return resource.ServerError(opts.IO.ErrOut, err)
	}
	failed := false
	for _, name := range names {
		now := opts.Now().Format(time.RFC3339)
		_, err := deployutil.Update(ctx, c, ns, name, func(d *appsv1.Deployment) (*deployutil.Patch, error) {
			if d.Spec.Paused {
				return nil, fmt.Errorf("%s can't restart paused deployment (run 'kl rollout resume %s' first)", deployutil.Quoted(name), deployutil.Arg(name))
			}
			return deployutil.MergePatch(d.ResourceVersion, map[string]any{
				"spec": map[string]any{"template": map[string]any{"metadata": map[string]any{
					"annotations": map[string]string{RestartedAtAnnotation: now},
				}}},
			})
		})
		if err != nil {
			failed = true
			fmt.Fprintln(opts.IO.ErrOut, resource.FormatError(err))
			continue
		}
		fmt.Fprintf(opts.IO.Out, "%s restarted\n", deployutil.Ref(name))
	}
	if failed {
		return &cmdutil.ExitError{Code: 1}
	}
	return nil
}
