// Package undo implements `kl rollout undo`: it rolls a Deployment back to
// an earlier revision by copying that revision's pod template (from the
// ReplicaSet holding it) back into the Deployment, as kubectl does. The
// deployment controller then rolls out the old template as a new revision.
package undo

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/cli/resource"
	"github.com/kl-dev/kl/pkg/cli/rollout/internal/deployutil"
	"github.com/kl-dev/kl/pkg/client"
)

// Options are the inputs of `kl rollout undo`.
type Options struct {
	IO        *iostreams.IOStreams
	Client    func() (*client.Client, error)
	Namespace func() (string, bool, error)

	// Args name the deployment: deployment/NAME or deployment NAME.
	Args []string
	// ToRevision is the revision to go back to; 0 means the previous one.
	ToRevision int64
}

// NewCmdUndo returns the `kl rollout undo` command. runF, if not nil,
// replaces the command's action.
func NewCmdUndo(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Client: f.Client, Namespace: f.Namespace}
	cmd := &cobra.Command{
		Use:   "undo (TYPE NAME | TYPE/NAME) [--to-revision N]",
		Short: "Roll a deployment back to an earlier revision",
		Long: `Roll a deployment back to the previous revision, or to the one --to-revision
names (see kl rollout history), by putting that revision's pod template back
into the deployment. A paused deployment cannot be rolled back.`,
		Example: `  kl rollout undo deployment/web
  kl rollout undo deployment/web --to-revision 2`,
		Args: cmdutil.UsageArgs(cobra.RangeArgs(1, 2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.ToRevision < 0 {
				return cmdutil.FlagErrorf("--to-revision must not be negative")
			}
			opts.Args = args
			if runF != nil {
				return runF(opts)
			}
			return runUndo(cmd.Context(), opts)
		},
	}
	cmd.Flags().Int64Var(&opts.ToRevision, "to-revision", 0, "the revision to roll back to (default: the previous one)")
	return cmd
}

// annotationsKept are the Deployment annotations a rollback keeps rather
// than taking them from the ReplicaSet: the controller's bookkeeping and
// the last applied configuration.
var annotationsKept = map[string]bool{
	"kubectl.kubernetes.io/last-applied-configuration": true,
	appsv1.RevisionAnnotation:                          true,
	appsv1.RevisionHistoryAnnotation:                   true,
	appsv1.DesiredReplicasAnnotation:                   true,
	appsv1.MaxReplicasAnnotation:                       true,
	"deprecated.deployment.rollback.to":                true,
}

func runUndo(ctx context.Context, opts *Options) error {
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
	var skipped int64
	_, err = deployutil.Update(ctx, c, ns, name, func(d *appsv1.Deployment) (*deployutil.Patch, error) {
		skipped = 0
		if d.Spec.Paused {
			return nil, fmt.Errorf("you cannot rollback a paused deployment; resume it first with 'kl rollout resume %s' and try again", deployutil.Arg(name))
		}
		rss, err := deployutil.ListOwned(ctx, c, d)
		if err != nil {
			return nil, err
		}
		rs, rev, err := target(d, rss, opts.ToRevision)
		if err != nil {
			return nil, err
		}
		if deployutil.EqualIgnoreHash(&rs.Spec.Template, &d.Spec.Template) {
			skipped = rev
			return nil, nil
		}
		return rollbackPatch(d, rs)
	})
	if err != nil {
		return resource.ServerError(opts.IO.ErrOut, err)
	}
	if skipped > 0 {
		_, err = fmt.Fprintf(opts.IO.Out, "%s skipped rollback (current template already matches revision %d)\n", deployutil.Ref(name), skipped)
		return err
	}
	_, err = fmt.Fprintf(opts.IO.Out, "%s rolled back\n", deployutil.Ref(name))
	return err
}

// errNoHistory is returned when a Deployment has no revision to go back to.
var errNoHistory = errors.New("no rollout history found")

// target returns the ReplicaSet to roll back to and its revision:
// toRevision's, or when toRevision is 0 the one with the second-highest
// revision (the highest is the current one), as kubectl chooses.
func target(d *appsv1.Deployment, rss []*appsv1.ReplicaSet, toRevision int64) (*appsv1.ReplicaSet, int64, error) {
	revs := deployutil.Revisions(rss)
	if toRevision > 0 {
		rs, ok := revs[toRevision]
		if !ok {
			return nil, 0, fmt.Errorf("unable to find revision %d of %s in its history", toRevision, deployutil.Ref(d.Name))
		}
		return rs, toRevision, nil
	}
	sorted := deployutil.SortedRevisions(revs)
	if len(sorted) < 2 {
		return nil, 0, fmt.Errorf("%w for deployment %q", errNoHistory, d.Name)
	}
	prev := sorted[len(sorted)-2]
	return revs[prev], prev, nil
}

// rollbackPatch returns the patch putting rs's pod template (without its
// pod-template-hash label) into d, with rs's annotations (but d's own
// bookkeeping ones), as kubectl's rollback does.
func rollbackPatch(d *appsv1.Deployment, rs *appsv1.ReplicaSet) (*deployutil.Patch, error) {
	tmpl := deployutil.StripHash(&rs.Spec.Template)
	annotations := map[string]string{}
	for k, v := range d.Annotations {
		if annotationsKept[k] {
			annotations[k] = v
		}
	}
	for k, v := range rs.Annotations {
		if !annotationsKept[k] {
			annotations[k] = v
		}
	}
	return deployutil.JSONPatch(d.ResourceVersion,
		deployutil.JSONPatchOp{Op: "replace", Path: "/spec/template", Value: tmpl},
		deployutil.JSONPatchOp{Op: "add", Path: "/metadata/annotations", Value: annotations},
	)
}
