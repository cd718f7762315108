// Package status implements `kl rollout status`: it follows a Deployment's
// rollout, printing a line each time its progress changes, until the
// rollout is complete (exit 0) or has failed (exit 1).
package status

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/spf13/cobra"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/cli/resource"
	"github.com/kl-dev/kl/pkg/cli/rollout/internal/deployutil"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/client/informer"
)

// DefaultTimeout is how long `kl rollout status` waits by default. kubectl
// waits forever; kl stops after ten minutes, Kubernetes' default progress
// deadline, so that a forgotten CI step ends. --timeout 0 waits forever.
const DefaultTimeout = 10 * time.Minute

// Options are the inputs of `kl rollout status`.
type Options struct {
	IO        *iostreams.IOStreams
	Client    func() (*client.Client, error)
	Namespace func() (string, bool, error)

	// Args name the deployment: deployment/NAME or deployment NAME.
	Args []string
	// Timeout bounds the wait (0: no bound).
	Timeout time.Duration
	// Watch follows the rollout; false prints the status once.
	Watch bool
	// Revision, when positive, is the revision the deployment must be at.
	Revision int64
}

// NewCmdStatus returns the `kl rollout status` command. runF, if not nil,
// replaces the command's action.
func NewCmdStatus(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Client: f.Client, Namespace: f.Namespace}
	cmd := &cobra.Command{
		Use:   "status (TYPE NAME | TYPE/NAME)",
		Short: "Show the status of a rollout and wait for it to finish",
		Long: `Show the status of a deployment's rollout and, unless --watch=false, wait
for it to finish.

It prints a line each time the rollout's progress changes and exits 0 once
every replica runs the current pod template and is ready and available, and
no old replica is left. It exits 1 when the rollout failed:

  - the deployment's Progressing condition says ProgressDeadlineExceeded;
  - a pod of the new ReplicaSet cannot start: a container in
    CrashLoopBackOff after 2 restarts, in ImagePullBackOff, or with an image
    that can never be pulled; or the pod is unschedulable while the rollout
    is not freeing room for it;
  - --timeout passed (default 10m; 0 waits forever).`,
		Example: `  kl rollout status deployment/web
  kl rollout status deploy web --timeout 2m
  kl rollout status deployment/web --watch=false`,
		Args: cmdutil.UsageArgs(cobra.RangeArgs(1, 2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Timeout < 0 {
				return cmdutil.FlagErrorf("--timeout must not be negative")
			}
			if opts.Revision < 0 {
				return cmdutil.FlagErrorf("--revision must not be negative")
			}
			opts.Args = args
			if runF != nil {
				return runF(opts)
			}
			return runStatus(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.DurationVar(&opts.Timeout, "timeout", DefaultTimeout, "how long to wait for the rollout (0: forever)")
	fl.BoolVarP(&opts.Watch, "watch", "w", true, "wait for the rollout to finish")
	fl.Int64Var(&opts.Revision, "revision", 0, "fail unless the deployment is at this revision")
	return cmd
}

var errTimedOut = errors.New("timed out")

func runStatus(ctx context.Context, opts *Options) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	ns, _, err := opts.Namespace()
	if err != nil {
		return err
	}
	name, err := deployutil.ResolveName(ctx, c, opts.Args)
	if err != nil {
		return resource.ServerError(opts.IO.ErrOut, err)
	}
	d, err := deployutil.Deployments(c, ns).Get(ctx, name)
	if err != nil {
		return resource.ServerError(opts.IO.ErrOut, err)
	}
	if !opts.Watch {
		s, err := current(ctx, c, d)
		if err != nil {
			return resource.ServerError(opts.IO.ErrOut, err)
		}
		v := evaluate(s, opts.Revision)
		if v.Err != nil {
			return v.Err
		}
		_, err = fmt.Fprintln(opts.IO.Out, v.Message)
		return err
	}
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, opts.Timeout, errTimedOut)
		defer cancel()
	}
	err = follow(ctx, c, d, opts)
	if ctx.Err() != nil && errors.Is(context.Cause(ctx), errTimedOut) {
		return fmt.Errorf("timed out after %s waiting for deployment %q rollout to finish", opts.Timeout, name)
	}
	return err
}

// current reads the state of d's rollout once.
func current(ctx context.Context, c *client.Client, d *appsv1.Deployment) (state, error) {
	rss, err := deployutil.ListOwned(ctx, c, d)
	if err != nil {
		return state{}, err
	}
	sel, err := deployutil.Selector(d)
	if err != nil {
		return state{}, err
	}
	pods, _, err := deployutil.Pods(c, d.Namespace).ListAll(ctx, client.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return state{}, err
	}
	return state{Deployment: d, ReplicaSets: rss, Pods: pods}, nil
}

// follow watches the Deployment, its ReplicaSets and its pods (one
// list+watch cache each) and evaluates the rollout after every change,
// printing the message when it differs from the last one, until the
// rollout is over or ctx ends.
func follow(ctx context.Context, c *client.Client, d *appsv1.Deployment, opts *Options) error {
	sel, err := deployutil.Selector(d)
	if err != nil {
		return err
	}
	ns, name := d.Namespace, d.Name
	changed := make(chan struct{}, 1)
	poke := func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	deps := informer.New(deployutil.Deployments(c, ns), informer.Options[*appsv1.Deployment]{
		FieldSelector: "metadata.name=" + name, PageSize: -1,
	})
	rss := informer.New(deployutil.ReplicaSets(c, ns), informer.Options[*appsv1.ReplicaSet]{
		LabelSelector: sel.String(), PageSize: -1,
	})
	pods := informer.New(deployutil.Pods(c, ns), informer.Options[*corev1.Pod]{
		LabelSelector: sel.String(), PageSize: -1,
	})
	deps.AddEventHandler(handler[*appsv1.Deployment](poke))
	rss.AddEventHandler(handler[*appsv1.ReplicaSet](poke))
	pods.AddEventHandler(handler[*corev1.Pod](poke))

	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		stop()
		wg.Wait()
	}()
	wg.Go(func() { _ = deps.Run(wctx) })
	wg.Go(func() { _ = rss.Run(wctx) })
	wg.Go(func() { _ = pods.Run(wctx) })
	if !informer.WaitForCacheSync(ctx, deps, rss, pods) {
		return ctx.Err()
	}

	last := ""
	for {
		cur, ok := deps.Lister().Get(ns, name)
		if !ok {
			return fmt.Errorf("deployment %q was deleted", name)
		}
		v := evaluate(state{
			Deployment:  cur,
			ReplicaSets: deployutil.Owned(cur, rss.Lister().List(meta.Everything())),
			Pods:        pods.Lister().List(meta.Everything()),
		}, opts.Revision)
		if v.Err != nil {
			return v.Err
		}
		if v.Message != last {
			last = v.Message
			if _, err := fmt.Fprintln(opts.IO.Out, v.Message); err != nil {
				return err
			}
		}
		if v.Done {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

// handler returns an informer handler calling poke on every change.
func handler[PT meta.Object](poke func()) informer.HandlerFuncs[PT] {
	return informer.HandlerFuncs[PT]{
		AddFunc:    func(PT) { poke() },
		UpdateFunc: func(_, _ PT) { poke() },
		DeleteFunc: func(PT, bool) { poke() },
	}
}
