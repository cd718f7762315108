// Package getcontexts implements `kl config get-contexts`.
package getcontexts

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kl-dev/kl/pkg/cli/clientconfig"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/config/internal/configcmd"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
)

// Options are the inputs of `kl config get-contexts`.
type Options struct {
	IO         *iostreams.IOStreams
	ConfigPath func() (string, error)

	// Names restricts the table to these contexts (all when empty).
	Names []string
	// Output is "" (the table) or "name" (one name per line).
	Output string
	// NoHeaders omits the table's header line.
	NoHeaders bool
}

// NewCmdGetContexts returns the `kl config get-contexts` command. runF, if
// not nil, replaces the command's action.
func NewCmdGetContexts(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, ConfigPath: f.ConfigPath}
	cmd := &cobra.Command{
		Use:   "get-contexts [NAME...]",
		Short: "List the contexts of the client config file",
		Long: `List the contexts of the client config file, sorted by name, as a table:
CURRENT (* marks the current context), NAME, CLUSTER, AUTHINFO (the user)
and NAMESPACE. Naming contexts shows only those.`,
		Example: `  kl config get-contexts
  kl config get-contexts -o name
  kl config get-contexts dev`,
		ValidArgsFunction: configcmd.CompleteContexts(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Output != "" && opts.Output != "name" {
				return cmdutil.FlagErrorf("unknown output format %q for -o: want name", opts.Output)
			}
			opts.Names = args
			if runF != nil {
				return runF(opts)
			}
			return runGetContexts(opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "output format: name (default: a table)")
	cmd.Flags().BoolVar(&opts.NoHeaders, "no-headers", false, "omit the header line of the table")
	return cmd
}

func runGetContexts(opts *Options) error {
	file, path, err := configcmd.Load(opts.ConfigPath)
	if err != nil {
		return err
	}
	var shown []clientconfig.Context
	var errs []error
	if len(opts.Names) == 0 {
		shown = slices.Clone(file.Contexts)
	}
	for _, name := range opts.Names {
		c, err := file.LookupContext(name, path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		shown = append(shown, *c)
	}
	slices.SortStableFunc(shown, func(a, b clientconfig.Context) int { return strings.Compare(a.Name, b.Name) })

	if opts.Output == "name" {
		for _, c := range shown {
			fmt.Fprintln(opts.IO.Out, c.Name)
		}
		return errors.Join(errs...)
	}
	// kubectl's table writer: at least 10 wide, 3 spaces between columns.
	var buf bytes.Buffer
	w := tabwriter.NewWriter(&buf, 10, 4, 3, ' ', 0)
	if !opts.NoHeaders && (len(shown) > 0 || len(errs) == 0) {
		fmt.Fprintln(w, "CURRENT\tNAME\tCLUSTER\tAUTHINFO\tNAMESPACE")
	}
	for _, c := range shown {
		current := ""
		if c.Name == file.CurrentContext {
			current = "*"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", current, c.Name, c.Cluster, c.User, c.Namespace)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write contexts: %w", err)
	}
	// Empty last columns would leave trailing blanks.
	for line := range strings.Lines(buf.String()) {
		fmt.Fprintln(opts.IO.Out, strings.TrimRight(line, " \n"))
	}
	return errors.Join(errs...)
}
