// Package view implements `kl config view`.
package view

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/config/internal/configcmd"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
)

// Options are the inputs of `kl config view`.
type Options struct {
	IO         *iostreams.IOStreams
	ConfigPath func() (string, error)

	// Minify keeps only the context in use, its cluster and its user.
	Minify bool
	// Context is the global --context: the context --minify keeps.
	Context string
	// Output is "yaml" or "json".
	Output string
}

// NewCmdView returns the `kl config view` command. runF, if not nil,
// replaces the command's action (tests use it to check flag parsing alone).
func NewCmdView(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, ConfigPath: f.ConfigPath}
	cmd := &cobra.Command{
		Use:   "view",
		Short: "Show the client config file",
		Long: `Show the client config file (~/.kl/config.yaml, --config or KL_CONFIG).

With --minify only the context in use (--context, or the current-context),
its cluster and its user are shown.`,
		Example: `  kl config view
  kl config view --minify -o json`,
		Args: cmdutil.UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Output != "yaml" && opts.Output != "json" {
				return cmdutil.FlagErrorf("unknown output format %q for -o: want yaml or json", opts.Output)
			}
			opts.Context = f.Global.Context
			if runF != nil {
				return runF(opts)
			}
			return runView(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Minify, "minify", false, "show only the context in use, its cluster and its user")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "yaml", "output format: yaml or json")
	return cmd
}

func runView(opts *Options) error {
	file, path, err := configcmd.Load(opts.ConfigPath)
	if err != nil {
		return err
	}
	if opts.Minify {
		if file, err = file.Minify(opts.Context, path); err != nil {
			return err
		}
	}
	if file.APIVersion == "" {
		file.APIVersion, file.Kind = "kl/v1", "Config"
	}
	var out []byte
	if opts.Output == "json" {
		b, err := json.MarshalIndent(file, "", "  ")
		if err != nil {
			return fmt.Errorf("encode client config: %w", err)
		}
		out = append(b, '\n')
	} else if out, err = yaml.Marshal(file); err != nil {
		return fmt.Errorf("encode client config: %w", err)
	}
	if _, err := opts.IO.Out.Write(out); err != nil {
		return fmt.Errorf("write client config: %w", err)
	}
	return nil
}
