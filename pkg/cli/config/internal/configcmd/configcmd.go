// Package configcmd holds what the `kl config` subcommands share.
package configcmd

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/kl-dev/kl/pkg/cli/clientconfig"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
)

// Load reads the client config file at the path configPath returns; a
// missing file is an empty config.
func Load(configPath func() (string, error)) (*clientconfig.File, string, error) {
	path, err := configPath()
	if err != nil {
		return nil, "", err
	}
	file, err := clientconfig.Load(path)
	if err != nil {
		return nil, "", err
	}
	return file, path, nil
}

// CompleteContexts completes the first argument with the context names of
// the client config file.
func CompleteContexts(f *cmdutil.Factory) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		file, _, err := Load(f.ConfigPath)
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		return file.ContextNames(), cobra.ShellCompDirectiveNoFileComp
	}
}

// MarkNoBind makes the named flags of cmd command-line only. The `kl config`
// commands that write the file take values only from their own flags: a
// KL_SERVER or KL_NAMESPACE meant for connecting must never end up in the
// file (set-cluster's --server and set-context's --namespace shadow the
// global flags of the same names).
func MarkNoBind(cmd *cobra.Command, names ...string) {
	for _, n := range names {
		if err := cmdutil.MarkFlagNoBind(cmd.Flags(), n); err != nil {
			panic(err) // a programming error: the flag is not defined
		}
	}
}

// AbsFile returns the absolute form of path (a leading ~ is the home
// directory), which must be an existing file; "" stays "" (it clears the
// field).
func AbsFile(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	p, err := cmdutil.ExpandHome(path)
	if err != nil {
		return "", err
	}
	if p, err = filepath.Abs(p); err != nil {
		return "", err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return "", err
	}
	if fi.IsDir() {
		return "", fmt.Errorf("%s is a directory, want a PEM file", p)
	}
	return p, nil
}
