package cli

import (
	"context"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/plugin"
)

// runPlugin runs the plugin args name, if they name no built-in command but
// a kl-NAME executable (pkg/plugin has the rules). handled is false when
// args are not a plugin's: cobra then runs them (or reports an unknown
// command).
// Global flags may come before the plugin's name (kl -n web tree ...); the
// plugin gets the connection they resolve to in its environment, and its
// exit code becomes kl's.
func runPlugin(ctx context.Context, f *cmdutil.Factory, root *cobra.Command, args []string) (handled bool, err error) {
	globals, rest, ok := splitGlobalFlags(root.PersistentFlags(), args)
	if !ok || len(rest) == 0 || isBuiltin(root, rest[0]) {
		return false, nil
	}
	p, pargs, ok := plugin.Finder{Dirs: plugin.DefaultDirs()}.Find(rest)
	if !ok {
		return false, nil
	}
	// Set the global flags as cobra would: command line, then KL_*.
	if err := root.ParseFlags(globals); err != nil {
		return true, &cmdutil.FlagError{Err: err}
	}
	if err := cmdutil.BindFlags(root, cmdutil.EnvPrefix, ""); err != nil {
		return true, err
	}
	ios := f.IOStreams
	code, err := plugin.Run(
		// Signals reach the plugin by forwarding; cancelling it too would
		// signal it twice.
		context.WithoutCancel(ctx),
		plugin.Cmd{
			Path: p.Path, Args: pargs, Env: pluginEnv(f).Apply(os.Environ()),
			Stdin: ios.In, Stdout: ios.Out, Stderr: ios.ErrOut,
			Foreground: ios.StdinIsTTY || ios.StdoutIsTTY || ios.StderrIsTTY,
		})
	if err != nil {
		return true, err
	}
	if code != 0 {
		return true, &cmdutil.ExitError{Code: code} // the plugin has spoken
	}
	return true, nil
}

// pluginEnv is the connection a plugin is told about: the resolved one, or
// when it cannot be resolved (a plugin may need no apiserver), the global
// flags as given.
func pluginEnv(f *cmdutil.Factory) plugin.Env {
	conn, err := f.Connection()
	if err == nil {
		return plugin.Env{
			Server: strings.Join(conn.Servers, ","), Config: conn.ConfigPath,
			Context: conn.Context, Namespace: conn.Namespace,
		}
	}
	f.Logger().Debug("plugin: connection not resolved", "err", err)
	path, _ := f.ConfigPath()
	g := f.Global
	return plugin.Env{Server: g.Server, Config: path, Context: g.Context, Namespace: g.Namespace}
}

// splitGlobalFlags splits the global flags (fs) that lead args from the
// rest. ok is false for a flag fs does not know, or "--".
func splitGlobalFlags(fs *pflag.FlagSet, args []string) (globals, rest []string, ok bool) {
	i := 0
	for i < len(args) {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") || a == "-" {
			break
		}
		var fl *pflag.Flag
		inline := strings.Contains(a, "=")
		if name, found := strings.CutPrefix(a, "--"); found {
			name, _, _ = strings.Cut(name, "=")
			fl = fs.Lookup(name)
		} else {
			fl = fs.ShorthandLookup(a[1:2])
			inline = len(a) > 2
		}
		if fl == nil {
			return nil, nil, false
		}
		i++
		if !inline && fl.NoOptDefVal == "" { // the value is the next argument
			if i == len(args) {
				return nil, nil, false
			}
			i++
		}
	}
	if i < len(args) && args[i] == "--" {
		return nil, nil, false
	}
	return args[:i], args[i:], true
}

// isBuiltin reports whether name is a command of root (cobra adds help and
// its completion commands when it runs).
func isBuiltin(root *cobra.Command, name string) bool {
	if name == "help" || strings.HasPrefix(name, "__complete") {
		return true
	}
	return slices.ContainsFunc(root.Commands(), func(c *cobra.Command) bool {
		return c.Name() == name || c.HasAlias(name)
	})
}
