// Package rollout implements `kl rollout`, the command group that manages
// the rollouts of Deployments, in the spirit of `kubectl rollout`:
//
//	status   follow a rollout until it finishes or fails (fast, on stuck pods)
//	history  list revisions, or show one revision's pod template
//	undo     go back to an earlier revision's pod template
//	restart  roll out the same template again (new pods)
//	pause    stop template changes from rolling out
//	resume   roll out what changed while paused
//
// Each subcommand is its own package; internal/deployutil holds what they
// share (the DEPLOYMENT argument, ReplicaSet revisions, patching).
package rollout

import (
	"github.com/spf13/cobra"

	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/rollout/history"
	"github.com/kl-dev/kl/pkg/cli/rollout/pause"
	"github.com/kl-dev/kl/pkg/cli/rollout/restart"
	"github.com/kl-dev/kl/pkg/cli/rollout/status"
	"github.com/kl-dev/kl/pkg/cli/rollout/undo"
)

// NewCmdRollout returns the `kl rollout` command group.
func NewCmdRollout(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rollout SUBCOMMAND",
		Short: "Manage the rollout of a deployment",
		Long: `Manage the rollout of a deployment: follow it, list and inspect its
revisions, roll back, restart its pods, pause and resume it.

The deployment is named as deployment/NAME or deployment NAME (also deploy,
deployments, deployments.apps).`,
		Example: `  kl rollout status deployment/web
  kl rollout history deployment/web
  kl rollout undo deployment/web --to-revision 2
  kl rollout restart deployment/web
  kl rollout pause deployment/web
  kl rollout resume deployment/web`,
		Args: cmdutil.UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(
		status.NewCmdStatus(f, nil),
		history.NewCmdHistory(f, nil),
		undo.NewCmdUndo(f, nil),
		restart.NewCmdRestart(f, nil),
		pause.NewCmdPause(f, nil),
		pause.NewCmdResume(f, nil),
	)
	return cmd
}
