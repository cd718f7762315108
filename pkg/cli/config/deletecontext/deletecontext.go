// Package deletecontext implements `kl config delete-context`.
package deletecontext

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/config/internal/configcmd"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
)

// Options are the inputs of `kl config delete-context`.
type Options struct {
	IO         *iostreams.IOStreams
	ConfigPath func() (string, error)

	// Name is the context to delete.
	Name string
}

// NewCmdDeleteContext returns the `kl config delete-context` command. runF,
// if not nil, replaces the command's action.
func NewCmdDeleteContext(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, ConfigPath: f.ConfigPath}
	return &cobra.Command{
		Use:   "delete-context NAME",
		Short: "Delete a context from the client config file",
		Long: `Delete a context from the client config file. Its cluster and user stay.
Deleting the current context leaves no context current.`,
		Example:           `  kl config delete-context old`,
		Args:              cmdutil.UsageArgs(cobra.ExactArgs(1)),
		ValidArgsFunction: configcmd.CompleteContexts(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runDeleteContext(opts)
		},
	}
}

func runDeleteContext(opts *Options) error {
	file, path, err := configcmd.Load(opts.ConfigPath)
	if err != nil {
		return err
	}
	if _, err := file.LookupContext(opts.Name, path); err != nil {
		return err
	}
	wasCurrent := file.CurrentContext == opts.Name
	file.DeleteContext(opts.Name)
	if err := file.Save(path); err != nil {
		return err
	}
	if wasCurrent {
		fmt.Fprintf(opts.IO.ErrOut, "warning: %q was the current context; kl config use-context NAME selects another\n", opts.Name)
	}
	_, err = fmt.Fprintf(opts.IO.Out, "deleted context %s from %s\n", opts.Name, path)
	return err
}
