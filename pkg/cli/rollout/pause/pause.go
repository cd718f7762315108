// Package pause implements `kl rollout pause` and `kl rollout resume`,
// which set and clear a Deployment's spec.paused. While a Deployment is
// paused, changes to its template start no rollout.
package pause

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/cli/resource"
	"github.com/kl-dev/kl/pkg/cli/rollout/internal/deployutil"
	"github.com/kl-dev/kl/pkg/client"
)

// Options are the inputs of `kl rollout pause` and `kl rollout resume`.
type Options struct {
	IO        *iostreams.IOStreams
	Client    func() (*client.Client, error)
	Namespace func() (string, bool, error)

	// Pause is true for pause, false for resume.
	Pause bool
	// Args name the deployments: deployment/NAME... or deployment NAME...
	Args []string
}

// NewCmdPause returns the `kl rollout pause` command. runF, if not nil,
// replaces the command's action.
func NewCmdPause(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	return newCmd(f, true, runF)
}

// NewCmdResume returns the `kl rollout resume` command. runF, if not nil,
// replaces the command's action.
func NewCmdResume(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	return newCmd(f, false, runF)
}

func newCmd(f *cmdutil.Factory, pause bool, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Client: f.Client, Namespace: f.Namespace, Pause: pause}
	cmd := &cobra.Command{
		Use:   "pause (TYPE NAME... | TYPE/NAME...)",
		Short: "Pause a deployment: template changes start no rollout until it is resumed",
		Long: `Pause a deployment: while paused, changes to its pod template start no
rollout, so several can be made and rolled out at once with kl rollout resume.`,
		Example: `  kl rollout pause deployment/web`,
		Args:    cmdutil.UsageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			if runF != nil {
				return runF(opts)
			}
			return runPause(cmd.Context(), opts)
		},
	}
	if !pause {
		cmd.Use = "resume (TYPE NAME... | TYPE/NAME...)"
		cmd.Short = "Resume a paused deployment"
		cmd.Long = `Resume a paused deployment: the changes made to its pod template while it
was paused roll out.`
		cmd.Example = `  kl rollout resume deployment/web`
	}
	return cmd
}

func runPause(ctx context.Context, opts *Options) error {
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
	done, already := "paused", "is already paused"
	if !opts.Pause {
		done, already = "resumed", "is not paused"
	}
	failed := false
	for _, name := range names {
		_, err := deployutil.Update(ctx, c, ns, name, func(d *appsv1.Deployment) (*deployutil.Patch, error) {
			if d.Spec.Paused == opts.Pause {
				return nil, fmt.Errorf("%s %s", deployutil.Quoted(name), already)
			}
			// paused is omitempty: resuming must say false, not leave it out.
			return deployutil.MergePatch(d.ResourceVersion, map[string]any{
				"spec": map[string]any{"paused": opts.Pause},
			})
		})
		if err != nil {
			failed = true
			fmt.Fprintln(opts.IO.ErrOut, resource.FormatError(err))
			continue
		}
		fmt.Fprintf(opts.IO.Out, "%s %s\n", deployutil.Ref(name), done)
	}
	if failed {
		return &cmdutil.ExitError{Code: 1}
	}
	return nil
}
