// Package plugin implements `kl plugin`, the command group about plugins:
// executables named kl-NAME that extend kl with commands (see pkg/plugin).
package plugin

import (
	"github.com/spf13/cobra"

	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/plugin/list"
)

// NewCmdPlugin returns the `kl plugin` command group.
func NewCmdPlugin(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plugin SUBCOMMAND",
		Short: "Work with plugins (kl-NAME executables that add commands)",
		Long: `Plugins extend kl with commands. A plugin is an executable file named
kl-NAME in ~/.kl/plugins or in a directory of PATH; kl runs it for
"kl NAME ARGS...". kl-foo-bar runs as "kl foo bar" (the longest matching name
wins) and kl-foo_bar as "kl foo-bar". Built-in commands always win over
plugins.

A plugin gets kl's connection in its environment: KL_SERVER (the apiserver
URLs, comma separated), KL_CONFIG, KL_CONTEXT and KL_NAMESPACE; kl exits
with the plugin's exit code.`,
		Example: `  kl plugin list
  kl tree deployment web     # runs kl-tree deployment web`,
		Args: cmdutil.UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(list.NewCmdList(f, nil))
	return cmd
}
