// Package cli is kl's command line: the root command, the list of commands
// and the single place where errors become exit codes.
//
// Exit codes:
//
//	0    success
//	1    failure (the error is printed once as "error: ..." on stderr)
//	N    a command returned *cmdutil.ExitError{Code: N} (kl diff: 1 = differences)
//	130  interrupted by SIGINT/SIGTERM while the command was failing on it
//
// Each command lives in its own package (pkg/cli/<verb>) built by
// NewCmdX(f *cmdutil.Factory, ...); shared pieces are in pkg/cli/cmdutil and
// pkg/cli/iostreams.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/kl-dev/kl/pkg/cli/annotate"
	"github.com/kl-dev/kl/pkg/cli/apiserver"
	"github.com/kl-dev/kl/pkg/cli/apply"
	certscmd "github.com/kl-dev/kl/pkg/cli/certs"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/completion"
	clconfig "github.com/kl-dev/kl/pkg/cli/config"
	"github.com/kl-dev/kl/pkg/cli/controllermanager"
	"github.com/kl-dev/kl/pkg/cli/create"
	deletecmd "github.com/kl-dev/kl/pkg/cli/delete"
	"github.com/kl-dev/kl/pkg/cli/describe"
	"github.com/kl-dev/kl/pkg/cli/diff"
	execcmd "github.com/kl-dev/kl/pkg/cli/exec"
	"github.com/kl-dev/kl/pkg/cli/explain"
	"github.com/kl-dev/kl/pkg/cli/get"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/cli/kubelet"
	"github.com/kl-dev/kl/pkg/cli/label"
	"github.com/kl-dev/kl/pkg/cli/logs"
	pausecmd "github.com/kl-dev/kl/pkg/cli/pause"
	plugincmd "github.com/kl-dev/kl/pkg/cli/plugin"
	"github.com/kl-dev/kl/pkg/cli/proxy"
	"github.com/kl-dev/kl/pkg/cli/rollout"
	"github.com/kl-dev/kl/pkg/cli/scale"
	"github.com/kl-dev/kl/pkg/cli/scheduler"
	servercmd "github.com/kl-dev/kl/pkg/cli/server"
	"github.com/kl-dev/kl/pkg/cli/validate"
	"github.com/kl-dev/kl/pkg/cli/version"
	"github.com/kl-dev/kl/pkg/client"
)

// Help groups of `kl --help`, in the order they are shown.
const (
	groupBasic           = "basic"
	groupDeploy          = "deploy"
	groupTroubleshooting = "troubleshooting"
	groupCluster         = "cluster"
	groupSettings        = "settings"
	groupOther           = "other"
)

func commandGroups() []*cobra.Group {
	return []*cobra.Group{
		{ID: groupBasic, Title: "Basic Commands:"},                                   // get describe delete explain create label annotate
		{ID: groupDeploy, Title: "Deploy Commands:"},                                 // apply diff validate rollout scale
		{ID: groupTroubleshooting, Title: "Troubleshooting and Debugging Commands:"}, // logs exec
		{ID: groupCluster, Title: "Cluster Components:"},                             // apiserver controller-manager scheduler kubelet proxy server agent certs
		{ID: groupSettings, Title: "Settings Commands:"},                             // config completion plugin
		{ID: groupOther, Title: "Other Commands:"},                                   // version help
	}
}

// entry is a top-level command and its help group.
type entry struct {
	group string
	cmd   *cobra.Command
}

// commands lists kl's top-level commands. Adding a command is one line here.
func commands(f *cmdutil.Factory) []entry {
	return []entry{
		{groupBasic, get.NewCmdGet(f, nil)},
		{groupBasic, describe.NewCmdDescribe(f, nil)},
		{groupBasic, explain.NewCmdExplain(f, nil)},
		{groupBasic, deletecmd.NewCmdDelete(f, nil)},
		{groupBasic, create.NewCmdCreate(f)},
		{groupBasic, label.NewCmdLabel(f, nil)},
		{groupBasic, annotate.NewCmdAnnotate(f, nil)},
		{groupDeploy, apply.NewCmdApply(f, nil)},
		{groupDeploy, diff.NewCmdDiff(f, nil)},
		{groupDeploy, validate.NewCmdValidate(f, nil)},
		{groupDeploy, rollout.NewCmdRollout(f)},
		{groupDeploy, scale.NewCmdScale(f, nil)},
		{groupTroubleshooting, logs.NewCmdLogs(f, nil)},
		{groupTroubleshooting, execcmd.NewCmdExec(f, nil)},
		{groupCluster, apiserver.NewCmdAPIServer(f, nil)},
		{groupCluster, scheduler.NewCmdScheduler(f, nil)},
		{groupCluster, controllermanager.NewCmdControllerManager(f, nil)},
		{groupCluster, kubelet.NewCmdKubelet(f, nil)},
		{groupCluster, proxy.NewCmdProxy(f, nil)},
		{groupCluster, servercmd.NewCmdServer(f, nil)},
		{groupCluster, servercmd.NewCmdAgent(f, nil)},
		{groupCluster, certscmd.NewCmdCerts(f)},
		{groupSettings, completion.NewCmdCompletion(f)},
		{groupSettings, clconfig.NewCmdConfig(f)},
		{groupSettings, plugincmd.NewCmdPlugin(f)},
		{groupOther, version.NewCmdVersion(f, nil)},
		{groupOther, pausecmd.NewCmdPause()},
	}
}

// NewRootCmd returns the `kl` command with every command registered. Its
// global flags are bound to f.Global.
func NewRootCmd(f *cmdutil.Factory) *cobra.Command {
	return newRootCmd(f, commands(f))
}

func newRootCmd(f *cmdutil.Factory, entries []entry) *cobra.Command {
	root := &cobra.Command{
		Use:   "kl",
		Short: "kl: a Kubernetes-shaped cluster and a kubectl-like CLI in one binary",
		Long: `kl is a Kubernetes-shaped cluster and a kubectl-like CLI in one binary.

Each cluster component is a command (kl apiserver, ...); the other commands
talk to a running apiserver.`,
		// Main prints errors, once; usage is only pointed to.
		SilenceErrors:     true,
		SilenceUsage:      true,
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
		// Commands get global flags (and their own) from KL_* variables when
		// not given on the command line. A subcommand defining its own
		// PersistentPreRunE replaces this one and must call BindFlags itself.
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return cmdutil.BindFlags(cmd, cmdutil.EnvPrefix, "")
		},
	}
	root.SetIn(f.IOStreams.In)
	root.SetOut(f.IOStreams.Out)
	root.SetErr(f.IOStreams.ErrOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &cmdutil.FlagError{Err: err}
	})

	g := &f.Global
	pf := root.PersistentFlags()
	pf.StringVar(&g.Server, "server", "", "URL of the kl API server (env KL_SERVER)")
	pf.StringVar(&g.Config, "config", cmdutil.DefaultClientConfig, "client config file (env KL_CONFIG)")
	pf.StringVar(&g.Context, "context", "", "context of the client config file to use")
	pf.StringVarP(&g.Namespace, "namespace", "n", "", "namespace to work in (env KL_NAMESPACE)")
	pf.IntVarP(&g.Verbosity, "v", "v", 0, "log verbosity: 0 info, 4 debug, higher for more detail")

	// Show only groups that have commands; "other" always has help.
	used := map[string]bool{groupOther: true}
	for _, e := range entries {
		used[e.group] = true
	}
	for _, grp := range commandGroups() {
		if used[grp.ID] {
			root.AddGroup(grp)
		}
	}
	for _, e := range entries {
		e.cmd.GroupID = e.group
		root.AddCommand(e.cmd)
	}
	root.SetHelpCommandGroupID(groupOther)
	return root
}

// Main runs kl with the process's arguments and streams and returns its exit
// code. SIGINT and SIGTERM cancel the command's context; a second signal
// ends the process at once.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Once the first signal has cancelled ctx, restore the default handling.
	context.AfterFunc(ctx, stop)
	return Run(ctx, cmdutil.NewFactory(iostreams.System()), os.Args[1:])
}

// Run runs kl with args and f's streams and returns the exit code. Tests
// call it with iostreams.Test().
func Run(ctx context.Context, f *cmdutil.Factory, args []string) int {
	return execute(ctx, f, NewRootCmd(f), args)
}

func execute(ctx context.Context, f *cmdutil.Factory, root *cobra.Command, args []string) int {
	if args == nil {
		args = []string{} // nil would make cobra read os.Args
	}
	if handled, err := runPlugin(ctx, f, root, args); handled {
		return exitCode(ctx, f.IOStreams.ErrOut, root, err)
	}
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	return exitCode(ctx, f.IOStreams.ErrOut, cmd, err)
}

// exitCode prints err, once, and returns the exit code for it. It is the
// only place where errors become exit codes.
func exitCode(ctx context.Context, errOut io.Writer, cmd *cobra.Command, err error) int {
	if err == nil {
		return 0
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return 130 // interrupted: the user knows, say nothing
	}
	code := 1
	var exitErr *cmdutil.ExitError
	if errors.As(err, &exitErr) {
		code = max(exitErr.Code, 1)
		if exitErr.Err == nil {
			return code // the command has already explained
		}
	}
	msg := strings.TrimRight(err.Error(), "\n")
	var unreachable *client.UnreachableError
	if errors.As(err, &unreachable) {
		msg += " (is the apiserver running? use --server URL, KL_SERVER or kl config use-context)"
	}
	fmt.Fprintf(errOut, "error: %s\n", msg)
	var flagErr *cmdutil.FlagError
	if errors.As(err, &flagErr) || strings.HasPrefix(msg, "unknown command ") {
		path := "kl"
		if cmd != nil {
			path = cmd.CommandPath()
		}
		fmt.Fprintf(errOut, "Run '%s --help' for usage.\n", path)
	}
	return code
}
