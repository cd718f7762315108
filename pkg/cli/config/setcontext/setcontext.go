// Package setcontext implements `kl config set-context`.
package setcontext

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kl-dev/kl/pkg/cli/clientconfig"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/config/internal/configcmd"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
)

// Options are the inputs of `kl config set-context`.
type Options struct {
	IO         *iostreams.IOStreams
	ConfigPath func() (string, error)

	// Name is the context to create or modify ("" with Current: the
	// current context).
	Name string
	// Current modifies the current context (without Name), or makes Name
	// the current context (with Name).
	Current bool
	// Cluster, User and Namespace are the fields to set; nil leaves a
	// field as it is.
	Cluster, User, Namespace *string
}

// NewCmdSetContext returns the `kl config set-context` command. runF, if
// not nil, replaces the command's action.
func NewCmdSetContext(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, ConfigPath: f.ConfigPath}
	var cluster, user, namespace string
	cmd := &cobra.Command{
		Use:   "set-context [NAME | --current] [--cluster CLUSTER] [--user USER] [--namespace NS]",
		Short: "Create or modify a context",
		Long: `Create a context, or modify the fields given of an existing one. A context
names a cluster (kl config set-cluster), a user (kl config set-credentials)
and the namespace commands work in when -n is not given.

--current without NAME modifies the current context, as kubectl does; with
NAME it also makes NAME the current context.`,
		Example: `  kl config set-context dev --cluster local --namespace team
  kl config set-context prod --cluster prod --user admin --current
  kl config set-context --current --namespace other`,
		Args:              cmdutil.UsageArgs(cobra.MaximumNArgs(1)),
		ValidArgsFunction: configcmd.CompleteContexts(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Name = args[0]
			}
			if opts.Name == "" && !opts.Current {
				return cmdutil.FlagErrorf("give a context NAME, or --current to modify the current context")
			}
			fs := cmd.Flags()
			if fs.Changed("cluster") {
				opts.Cluster = &cluster
			}
			if fs.Changed("user") {
				opts.User = &user
			}
			if fs.Changed("namespace") {
				opts.Namespace = &namespace
			}
			if runF != nil {
				return runF(opts)
			}
			return runSetContext(opts)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&cluster, "cluster", "", "cluster of the context (kl config set-cluster defines clusters)")
	fs.StringVar(&user, "user", "", "user of the context (kl config set-credentials defines users)")
	fs.StringVarP(&namespace, "namespace", "n", "", "namespace commands work in by default")
	fs.BoolVar(&opts.Current, "current", false, "modify the current context; with NAME, make NAME the current context")
	configcmd.MarkNoBind(cmd, "cluster", "user", "namespace", "current")
	return cmd
}

func runSetContext(opts *Options) error {
	file, path, err := configcmd.Load(opts.ConfigPath)
	if err != nil {
		return err
	}
	name, switchTo := opts.Name, opts.Current && opts.Name != ""
	if name == "" {
		if file.CurrentContext == "" {
			return fmt.Errorf("--current: %s has no current-context (kl config use-context NAME sets one)", path)
		}
		name = file.CurrentContext
	}
	c := clientconfig.Context{Name: name}
	cur, exists := file.Context(name)
	if exists {
		c = *cur
	} else if opts.Name == "" {
		return fmt.Errorf("--current: the current-context %q is not in %s (kl config use-context NAME picks another)", name, path)
	}
	if opts.Cluster != nil {
		c.Cluster = *opts.Cluster
	}
	if opts.User != nil {
		c.User = *opts.User
	}
	if opts.Namespace != nil {
		c.Namespace = *opts.Namespace
	}
	file.SetContext(c)
	if switchTo {
		file.CurrentContext = name
	}
	if err := file.Save(path); err != nil {
		return err
	}

	if _, ok := file.Cluster(c.Cluster); !ok {
		if c.Cluster == "" {
			fmt.Fprintf(opts.IO.ErrOut, "warning: context %q names no cluster (--cluster NAME sets one)\n", name)
		} else {
			fmt.Fprintf(opts.IO.ErrOut, "warning: cluster %q is not defined yet (kl config set-cluster %s --server URL defines it)\n", c.Cluster, c.Cluster)
		}
	}
	if _, ok := file.User(c.User); !ok && c.User != "" {
		fmt.Fprintf(opts.IO.ErrOut, "warning: user %q is not defined yet (kl config set-credentials %s --client-certificate F --client-key F defines it)\n", c.User, c.User)
	}
	verb := "modified"
	if !exists {
		verb = "created"
	}
	fmt.Fprintf(opts.IO.Out, "Context %q %s.\n", name, verb)
	if switchTo {
		fmt.Fprintf(opts.IO.Out, "Switched to context %q.\n", name)
	}
	return nil
}
