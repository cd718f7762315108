// Package version implements `kl version`.
package version

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/version"
)

// Options are the inputs of `kl version`.
type Options struct {
	IO *iostreams.IOStreams
	// Output is "" (text), "json" or "yaml".
	Output string
	// Info is the build to report.
	Info version.Info
}

// NewCmdVersion returns the `kl version` command. runF, if not nil, replaces
// the command's action (tests use it to check flag parsing alone).
func NewCmdVersion(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version of kl",
		Example: `  kl version
  kl version -o json`,
		Args: cmdutil.UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch opts.Output {
			case "", "json", "yaml":
			default:
				return cmdutil.FlagErrorf("unknown output format %q for -o: want json or yaml", opts.Output)
			}
			opts.Info = version.Get()
			if runF != nil {
				return runF(opts)
			}
			return runVersion(opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "output format: json or yaml (default: one line of text)")
	return cmd
}

func runVersion(opts *Options) error {
	var out []byte
	switch opts.Output {
	case "json":
		b, err := json.MarshalIndent(opts.Info, "", "  ")
		if err != nil {
			return fmt.Errorf("encode version: %w", err)
		}
		out = append(b, '\n')
	case "yaml":
		b, err := yaml.Marshal(opts.Info)
		if err != nil {
			return fmt.Errorf("encode version: %w", err)
		}
		out = b
	default:
		i := opts.Info
		out = fmt.Appendf(nil, "kl version %s (commit %s, %s, %s)\n", i.Version, shortCommit(i.GitCommit), i.GoVersion, i.Platform)
	}
	if _, err := opts.IO.Out.Write(out); err != nil {
		return fmt.Errorf("write version: %w", err)
	}
	return nil
}

// shortCommit abbreviates a full commit hash to 12 characters, keeping a
// "-dirty" suffix.
func shortCommit(c string) string {
	const n = 12
	hash, suffix := c, ""
	if len(c) > 6 && c[len(c)-6:] == "-dirty" {
		hash, suffix = c[:len(c)-6], "-dirty"
	}
	if len(hash) > n {
		hash = hash[:n]
	}
	return hash + suffix
}
