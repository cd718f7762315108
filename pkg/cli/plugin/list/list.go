// Package list implements `kl plugin list`.
package list

import (
	"errors"
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/plugin"
)

// Options are the inputs of `kl plugin list`.
type Options struct {
	IO *iostreams.IOStreams
	// Dirs are the directories searched, in order.
	Dirs []string
	// IsBuiltin tells whether a command name is built into kl.
	IsBuiltin func(name string) bool
	// NameOnly prints file names instead of paths.
	NameOnly bool
}

// NewCmdList returns the `kl plugin list` command. runF, if not nil,
// replaces the command's action.
func NewCmdList(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the plugins kl finds",
		Long: `List every kl-* file in ~/.kl/plugins and in the directories of PATH, in
search order, and warn about those that never run: not executable, shadowed
by an earlier plugin of the same name, or by a built-in command.

Exits 1 when no plugin is found or when there are warnings.`,
		Example: `  kl plugin list
  kl plugin list --name-only`,
		Args: cmdutil.UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dirs = plugin.DefaultDirs()
			opts.IsBuiltin = builtins(cmd.Root())
			if runF != nil {
				return runF(opts)
			}
			return runList(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.NameOnly, "name-only", false, "print the plugins' file names, not their paths")
	return cmd
}

// builtins returns whether a name is one of root's commands (or aliases).
func builtins(root *cobra.Command) func(string) bool {
	return func(name string) bool {
		if name == "help" {
			return true // cobra adds it when the command runs
		}
		for _, c := range root.Commands() {
			if c.Name() == name || slices.Contains(c.Aliases, name) {
				return true
			}
		}
		return false
	}
}

func runList(opts *Options) error {
	entries := plugin.Finder{Dirs: opts.Dirs}.List(opts.IsBuiltin)
	if len(entries) == 0 {
		return errors.New("unable to find any kl plugins in your PATH")
	}
	fmt.Fprint(opts.IO.Out, "The following compatible plugins are available:\n\n")
	warnings := 0
	for _, e := range entries {
		if opts.NameOnly {
			fmt.Fprintln(opts.IO.Out, e.Name)
		} else {
			fmt.Fprintln(opts.IO.Out, e.Path)
		}
		for _, w := range e.Warnings() {
			fmt.Fprintf(opts.IO.ErrOut, "  - %s\n", w)
			warnings++
		}
	}
	switch warnings {
	case 0:
		return nil
	case 1:
		return errors.New("one plugin warning was found")
	default:
		return fmt.Errorf("%d plugin warnings were found", warnings)
	}
}
