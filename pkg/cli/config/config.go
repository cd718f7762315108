// Package config implements `kl config`, the command group that reads and
// edits the client config file (~/.kl/config.yaml, or --config / KL_CONFIG):
// clusters (apiservers), users (client certificates) and contexts (a
// cluster, a user and a namespace), in the spirit of `kubectl config`.
//
// Each subcommand is its own package; they change only the file and never
// contact an apiserver.
package config

import (
	"github.com/spf13/cobra"

	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/config/currentcontext"
	"github.com/kl-dev/kl/pkg/cli/config/deletecontext"
	"github.com/kl-dev/kl/pkg/cli/config/getcontexts"
	"github.com/kl-dev/kl/pkg/cli/config/setcluster"
	"github.com/kl-dev/kl/pkg/cli/config/setcontext"
	"github.com/kl-dev/kl/pkg/cli/config/setcredentials"
	"github.com/kl-dev/kl/pkg/cli/config/usecontext"
	"github.com/kl-dev/kl/pkg/cli/config/view"
)

// NewCmdConfig returns the `kl config` command group.
func NewCmdConfig(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config SUBCOMMAND",
		Short: "Show and edit the client config file (contexts, clusters, users)",
		Long: `Show and edit kl's client config file: clusters (apiserver URLs and CA),
users (client certificates) and contexts (a cluster, a user and a default
namespace), and which context is current.

The file is ~/.kl/config.yaml, or the one named by --config or KL_CONFIG.
Commands connect to an apiserver chosen, in order of precedence, by --server,
KL_SERVER, --context, then the file's current-context.`,
		Example: `  kl config set-cluster local --server http://127.0.0.1:6443
  kl config set-context dev --cluster local --namespace team
  kl config use-context dev
  kl config get-contexts
  kl config set-context --current --namespace other`,
		Args: cmdutil.UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(
		view.NewCmdView(f, nil),
		getcontexts.NewCmdGetContexts(f, nil),
		currentcontext.NewCmdCurrentContext(f, nil),
		usecontext.NewCmdUseContext(f, nil),
		setcontext.NewCmdSetContext(f, nil),
		setcluster.NewCmdSetCluster(f, nil),
		setcredentials.NewCmdSetCredentials(f, nil),
		deletecontext.NewCmdDeleteContext(f, nil),
	)
	return cmd
}
