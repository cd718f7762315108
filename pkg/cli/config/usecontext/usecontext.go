// Package usecontext implements `kl config use-context`.
package usecontext

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/config/internal/configcmd"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
)

// Options are the inputs of `kl config use-context`.
type Options struct {
	IO         *iostreams.IOStreams
	ConfigPath func() (string, error)

	// Name is the context to make current.
	Name string
}

// NewCmdUseContext returns the `kl config use-context` command. runF, if
// not nil, replaces the command's action.
func NewCmdUseContext(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, ConfigPath: f.ConfigPath}
	return &cobra.Command{
		Use:               "use-context NAME",
		Short:             "Make a context the current one",
		Example:           `  kl config use-context dev`,
		Args:              cmdutil.UsageArgs(cobra.ExactArgs(1)),
		ValidArgsFunction: configcmd.CompleteContexts(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runUseContext(opts)
		},
	}
}

func runUseContext(opts *Options) error {
	file, path, err := configcmd.Load(opts.ConfigPath)
	if err != nil {
		return err
	}
	if _, err := file.LookupContext(opts.Name, path); err != nil {
		return err
	}
	file.CurrentContext = opts.Name
	if err := file.Save(path); err != nil {
		return err
	}
	_, err = fmt.Fprintf(opts.IO.Out, "Switched to context %q.\n", opts.Name)
	return err
}
