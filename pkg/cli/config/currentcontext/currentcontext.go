// Package currentcontext implements `kl config current-context`.
package currentcontext

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/config/internal/configcmd"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
)

// Options are the inputs of `kl config current-context`.
type Options struct {
	IO         *iostreams.IOStreams
	ConfigPath func() (string, error)
}

// NewCmdCurrentContext returns the `kl config current-context` command.
// runF, if not nil, replaces the command's action.
func NewCmdCurrentContext(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, ConfigPath: f.ConfigPath}
	return &cobra.Command{
		Use:     "current-context",
		Short:   "Print the current context",
		Example: `  kl config current-context`,
		Args:    cmdutil.UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runCurrentContext(opts)
		},
	}
}

func runCurrentContext(opts *Options) error {
	file, path, err := configcmd.Load(opts.ConfigPath)
	if err != nil {
		return err
	}
	if file.CurrentContext == "" {
		return fmt.Errorf("current-context is not set in %s (kl config use-context NAME sets it)", path)
	}
	_, err = fmt.Fprintln(opts.IO.Out, file.CurrentContext)
	return err
}
