// Package scale implements `kl scale`: it sets the replicas of Deployments
// and ReplicaSets through their scale subresource, optionally only if
// they have a given number now (--current-replicas), and optionally waits
// until the replicas exist (--timeout).
package scale

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/cli/resource"
	"github.com/kl-dev/kl/pkg/client"
)

// FieldManager is the field manager of kl scale's writes.
const FieldManager = "kl-scale"

// maxConflicts bounds the attempts of a --current-replicas scale.
const maxConflicts = 5

// Options are the inputs of `kl scale`.
type Options struct {
	IO        *iostreams.IOStreams
	Client    func() (*client.Client, error)
	Namespace func() (string, bool, error)

	// Args name the objects: TYPE NAME... or TYPE/NAME...
	Args []string
	// Replicas is the number to scale to.
	Replicas int32
	// CurrentReplicas, when not negative, is a precondition: an object is
	// scaled only if it wants this many replicas now.
	CurrentReplicas int32
	// Timeout, when positive, waits this long for the objects' replicas
	// to reach Replicas.
	Timeout time.Duration
}

// NewCmdScale returns the `kl scale` command. runF, if not nil, replaces
// the command's action.
func NewCmdScale(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Client: f.Client, Namespace: f.Namespace}
	var replicas, current int
	cmd := &cobra.Command{
		Use:   "scale (TYPE NAME... | TYPE/NAME...) --replicas N",
		Short: "Set the number of replicas of a deployment or replica set",
		Long: `Set the number of replicas of deployments and replica sets, through their
scale subresource.

With --current-replicas, an object is scaled only if it wants that many
replicas now. With --timeout, kl waits until the objects report that many
replicas (0, the default, does not wait).`,
		Example: `  kl scale deployment/web --replicas 3
  kl scale deployment web --replicas 5 --current-replicas 3
  kl scale rs/web-7d4b9c --replicas 0 --timeout 1m`,
		Args: cmdutil.UsageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case !cmd.Flags().Changed("replicas"):
				return cmdutil.FlagErrorf("--replicas is required")
			case replicas < 0 || replicas > maxInt32:
				return cmdutil.FlagErrorf("--replicas must be between 0 and %d", maxInt32)
			case current < -1 || current > maxInt32:
				return cmdutil.FlagErrorf("--current-replicas must be between 0 and %d", maxInt32)
			case opts.Timeout < 0:
				return cmdutil.FlagErrorf("--timeout must not be negative")
			}
			opts.Args = args
			opts.Replicas, opts.CurrentReplicas = int32(replicas), int32(current)
			if runF != nil {
				return runF(opts)
			}
			return runScale(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&replicas, "replicas", 0, "the number of replicas wanted (required)")
	fl.IntVar(&current, "current-replicas", -1, "scale only objects that want this many replicas now (-1: any)")
	fl.DurationVar(&opts.Timeout, "timeout", 0, "wait this long for the replicas to exist (0: do not wait)")
	return cmd
}

const maxInt32 = 1<<31 - 1

// scalable reports whether kl scale handles a resource.
func scalable(gvr meta.GroupVersionResource) bool {
	return gvr.Group == appsv1.GroupName && (gvr.Resource == "deployments" || gvr.Resource == "replicasets")
}

func runScale(ctx context.Context, opts *Options) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	ns, _, err := opts.Namespace()
	if err != nil {
		return err
	}
	targets, err := resource.NewResolver(c).ResolveArgs(ctx, opts.Args)
	if err != nil {
		return resource.ServerError(opts.IO.ErrOut, err)
	}
	for _, t := range targets {
		if !scalable(t.Mapping.GVR) {
			return fmt.Errorf("cannot scale %s: kl scale works on deployments and replicasets", t.Mapping.GVR.Resource)
		}
		if len(t.Names) == 0 {
			kind := strings.ToLower(t.Mapping.Kind)
			return cmdutil.FlagErrorf("a name is required: %s/NAME or %s NAME", kind, kind)
		}
	}
	failed := false
	type scaled struct {
		m    resource.Mapping
		name string
	}
	var done []scaled
	dyn := c.Dynamic()
	for _, t := range targets {
		for _, name := range t.Names {
			if err := scaleOne(ctx, dyn, t.Mapping.GVR, ns, name, opts); err != nil {
				failed = true
				fmt.Fprintln(opts.IO.ErrOut, resource.FormatError(err))
				continue
			}
			fmt.Fprintf(opts.IO.Out, "%s scaled\n", t.Mapping.Ref(name))
			done = append(done, scaled{t.Mapping, name})
		}
	}
	if opts.Timeout > 0 && len(done) > 0 {
		wctx, cancel := context.WithTimeoutCause(ctx, opts.Timeout, errTimedOut)
		defer cancel()
		for _, s := range done {
			if err := waitForReplicas(wctx, dyn, s.m, ns, s.name, opts.Replicas); err != nil {
				if errors.Is(context.Cause(wctx), errTimedOut) && ctx.Err() == nil {
					return fmt.Errorf("timed out after %s waiting for %s to have %d replicas", opts.Timeout, s.m.Ref(s.name), opts.Replicas)
				}
				return resource.ServerError(opts.IO.ErrOut, err)
			}
		}
	}
	if failed {
		return &cmdutil.ExitError{Code: 1}
	}
	return nil
}

var errTimedOut = errors.New("timed out")

// PreconditionError says that --current-replicas did not match.
type PreconditionError struct {
	Want, Got int32
}

func (e *PreconditionError) Error() string {
	return fmt.Sprintf("Expected replicas to be %d, was %d", e.Want, e.Got)
}

// scaleOne scales one object: a merge patch of the scale subresource's
// spec.replicas. With --current-replicas it reads the scale first and
// sends its resourceVersion in the patch, so that the apiserver refuses
// the patch (Conflict) if the object changed since; then it reads again.
func scaleOne(ctx context.Context, dyn *client.Dynamic, gvr meta.GroupVersionResource, ns, name string, opts *Options) error {
	patch := map[string]any{"spec": map[string]any{"replicas": opts.Replicas}}
	popts := client.PatchOptions{FieldManager: FieldManager, Subresource: "scale"}
	if opts.CurrentReplicas < 0 {
		data, err := json.Marshal(patch)
		if err != nil {
			return fmt.Errorf("encode scale patch: %w", err)
		}
		_, err = dyn.Patch(ctx, gvr, ns, name, client.MergePatchType, data, popts)
		return err
	}
	var err error
	for range maxConflicts {
		var body []byte
		if body, err = dyn.Subresource(ctx, "GET", gvr, ns, name, "scale", nil, nil); err != nil {
			return err
		}
		var sc appsv1.Scale
		if err := json.Unmarshal(body, &sc); err != nil {
			return fmt.Errorf("decode %s %s/scale: %w", gvr.Resource, name, err)
		}
		if sc.Spec.Replicas != opts.CurrentReplicas {
			return &PreconditionError{Want: opts.CurrentReplicas, Got: sc.Spec.Replicas}
		}
		patch["metadata"] = map[string]any{"resourceVersion": sc.ResourceVersion}
		data, merr := json.Marshal(patch)
		if merr != nil {
			return fmt.Errorf("encode scale patch: %w", merr)
		}
		if _, err = dyn.Patch(ctx, gvr, ns, name, client.MergePatchType, data, popts); !meta.IsConflict(err) {
			return err
		}
	}
	return err
}

// replicaState is the part of a Deployment or ReplicaSet waiting reads.
type replicaState struct {
	Metadata struct {
		Generation      int64  `json:"generation"`
		ResourceVersion string `json:"resourceVersion"`
	} `json:"metadata"`
	Status struct {
		Replicas           int32 `json:"replicas"`
		ObservedGeneration int64 `json:"observedGeneration"`
	} `json:"status"`
}

// reached reports whether the controller has seen the latest spec and
// status.replicas is want.
func (s *replicaState) reached(want int32) bool {
	return s.Status.ObservedGeneration >= s.Metadata.Generation && s.Status.Replicas == want
}

// waitForReplicas watches one object until it has want replicas, ctx ends
// or it is deleted.
func waitForReplicas(ctx context.Context, dyn *client.Dynamic, m resource.Mapping, ns, name string, want int32) error {
	decode := func(raw []byte) (*replicaState, error) {
		var s replicaState
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("decode %s: %w", m.Ref(name), err)
		}
		return &s, nil
	}
	for {
		body, err := dyn.Get(ctx, m.GVR, ns, name)
		if err != nil {
			return err
		}
		s, err := decode(body)
		if err != nil {
			return err
		}
		if s.reached(want) {
			return nil
		}
		events, err := dyn.RetryWatch(ctx, m.GVR, ns, client.ListOptions{
			FieldSelector: "metadata.name=" + name, ResourceVersion: s.Metadata.ResourceVersion,
		})
		if err != nil {
			return err
		}
		for ev := range events {
			switch ev.Type {
			case meta.Added, meta.Modified:
				s, err := decode(ev.Object)
				if err != nil {
					return err
				}
				if s.reached(want) {
					return nil
				}
			case meta.Deleted:
				return fmt.Errorf("%s was deleted", m.Ref(name))
			case meta.Error:
				if ev.Status != nil && ev.Status.Code != 410 && ev.Status.Reason != meta.StatusReasonGone && ev.Status.Reason != meta.StatusReasonExpired {
					return &meta.APIError{Status: *ev.Status}
				}
				// Gone: read the object again and watch from there.
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}
