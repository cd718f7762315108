// Package exec implements `kl exec`: it runs a command in a container of a
// pod through the apiserver's pods/exec, which the pod's kubelet serves,
// prints what the command wrote and exits with its exit code.
//
// kl's exec is not interactive: the command runs without a terminal or
// standard input, and its output is printed once it has ended.
package exec

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/cli/logs"
	"github.com/kl-dev/kl/pkg/cli/resource"
	"github.com/kl-dev/kl/pkg/client"
)

// Options are the inputs of `kl exec`.
type Options struct {
	IO        *iostreams.IOStreams
	Client    func() (*client.Client, error)
	Namespace func() (string, bool, error)

	// Target is POD or TYPE/NAME.
	Target string
	// Container names the container ("": the default one).
	Container string
	// Command is the command and its arguments.
	Command []string
	// Quiet prints only the command's output, no notices.
	Quiet bool
}

// Result is the answer of pods/exec (the kubelet's ExecResult).
type Result struct {
	Stdout    string `json:"stdout"`
	Stderr    string `json:"stderr"`
	ExitCode  int    `json:"exitCode"`
	Truncated bool   `json:"truncated,omitempty"`
}

// NewCmdExec returns the `kl exec` command. runF, if not nil, replaces the
// command's action.
func NewCmdExec(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Client: f.Client, Namespace: f.Namespace}
	var stdin, tty bool
	cmd := &cobra.Command{
		Use:   "exec (POD | TYPE/NAME) [-c CONTAINER] -- COMMAND [ARGS...]",
		Short: "Run a command in a container",
		Long: `Run a command in a container of a pod, print what it wrote to stdout and
stderr, and exit with its exit code.

The command runs without a terminal or standard input, to its end; its
output is printed then. TYPE/NAME picks one pod of a deployment, replica
set or service, as kl logs does. When the pod has several containers and
none is named with -c, the first is used.`,
		Example: `  kl exec web-7d4b9c-x2x -- env
  kl exec deployment/web -c app -- cat /etc/app/app.yaml
  kl exec web-7d4b9c-x2x -- sh -c 'test -f /ready'`,
		Args: cmdutil.UsageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if stdin || tty {
				return cmdutil.FlagErrorf("kl exec is not interactive: -i/--stdin and -t/--tty are not supported")
			}
			dash := cmd.ArgsLenAtDash()
			switch {
			case dash == 0:
				return cmdutil.FlagErrorf("a pod name or TYPE/NAME is required before --")
			case dash > 1:
				return cmdutil.FlagErrorf("only one pod may be given before --, got %d arguments", dash)
			case dash < 0 && len(args) > 1:
				return cmdutil.FlagErrorf("put the command after --: kl exec %s -- %s", args[0], shellJoin(args[1:]))
			case len(args) < 2:
				return cmdutil.FlagErrorf("you must specify at least one command for the container: kl exec %s -- COMMAND [ARGS...]", args[0])
			}
			opts.Target, opts.Command = args[0], args[1:]
			if runF != nil {
				return runF(opts)
			}
			return runExec(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.Container, "container", "c", "", "container to run the command in (default: the pod's only or first container)")
	fl.BoolVarP(&opts.Quiet, "quiet", "q", false, "print only the command's output, no notices")
	fl.BoolVarP(&stdin, "stdin", "i", false, "not supported: kl exec is not interactive")
	fl.BoolVarP(&tty, "tty", "t", false, "not supported: kl exec is not interactive")
	_ = fl.MarkHidden("stdin")
	_ = fl.MarkHidden("tty")
	return cmd
}

func runExec(ctx context.Context, opts *Options) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	ns, _, err := opts.Namespace()
	if err != nil {
		return err
	}
	pod, note, err := logs.AttachablePod(ctx, c, ns, opts.Target)
	if err != nil {
		return resource.ServerError(opts.IO.ErrOut, err)
	}
	if corev1.IsPodTerminal(pod) {
		return fmt.Errorf("cannot exec into a container in a completed pod; current phase is %s", pod.Status.Phase)
	}
	container := opts.Container
	notice := ""
	if container == "" {
		container, notice = logs.DefaultContainer(pod)
	}
	if !opts.Quiet {
		for _, n := range []string{note, notice} {
			if n != "" {
				fmt.Fprintln(opts.IO.ErrOut, n)
			}
		}
	}
	q := url.Values{"container": {container}, "command": opts.Command}
	// A stream, not a plain request: the command may run for longer than
	// the client's request timeout.
	rc, err := c.Stream(ctx, "POST", logs.PodPath(ns, pod.Name, "exec"), q)
	if err != nil {
		return resource.ServerError(opts.IO.ErrOut, err)
	}
	defer rc.Close()
	var res Result
	if err := json.NewDecoder(rc).Decode(&res); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("reading the result of the command: %w", err)
	}
	if _, err := fmt.Fprint(opts.IO.Out, res.Stdout); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	fmt.Fprint(opts.IO.ErrOut, res.Stderr)
	if res.Truncated && !opts.Quiet {
		fmt.Fprintln(opts.IO.ErrOut, "warning: the command's output was cut: an exec returns at most 4 MiB of stdout and of stderr")
	}
	if res.ExitCode != 0 {
		if !opts.Quiet {
			fmt.Fprintf(opts.IO.ErrOut, "command terminated with exit code %d\n", res.ExitCode)
		}
		return &cmdutil.ExitError{Code: res.ExitCode}
	}
	return nil
}

// shellJoin quotes args for a message the user can copy.
func shellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"$`\\|&;<>()*?[]#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}
