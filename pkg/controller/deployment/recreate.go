package deployment

import (
	"context"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
)

// rolloutRecreate makes one step of a Recreate rollout: scale every old
// ReplicaSet to 0; once none of their pods is left (terminating ones
// included), create or grow the new ReplicaSet to full size.
func (c *Controller) rolloutRecreate(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet, sel meta.Selector) error {
	newRS, olds, err := c.getAll(ctx, d, rsList, false)
	if err != nil {
		return err
	}
	newRS, olds = c.refreshOne(newRS), c.refresh(olds)
	scaledDown := false
	for _, rs := range activeReplicaSets(olds) {
		scaled, _, err := c.scaleAndRecord(ctx, rs, 0, d)
		if err != nil {
			return err
		}
		scaledDown = scaledDown || scaled
	}
	if scaledDown {
		return c.syncRolloutStatus(ctx, withNew(olds, newRS), newRS, d)
	}
	olds = c.refresh(olds)
	if c.oldPodsRunning(d, newRS, olds, sel) {
		return c.syncRolloutStatus(ctx, withNew(olds, newRS), newRS, d)
	}
	if newRS == nil {
		if newRS, olds, err = c.getAll(ctx, d, rsList, true); err != nil {
			return err
		}
		newRS, olds = c.refreshOne(newRS), c.refresh(olds)
	}
	if _, _, err := c.scaleAndRecord(ctx, newRS, deploymentReplicas(d), d); err != nil {
		return err
	}
	if deploymentComplete(d, &d.Status) {
		if err := c.cleanup(ctx, olds, d); err != nil {
			return err
		}
	}
	return c.syncRolloutStatus(ctx, withNew(olds, c.refreshOne(newRS)), c.refreshOne(newRS), d)
}

// oldPodsRunning reports whether any pod of an old ReplicaSet is left
// that has not finished (Succeeded or Failed), terminating ones included.
func (c *Controller) oldPodsRunning(d *appsv1.Deployment, newRS *appsv1.ReplicaSet, olds []*appsv1.ReplicaSet, sel meta.Selector) bool {
	if sumStatus(olds) > 0 {
		return true
	}
	old := map[string]bool{}
	for _, rs := range olds {
		old[rs.UID] = true
	}
	for _, p := range c.pods.ListNamespace(d.Namespace, sel) {
		ref := meta.GetControllerOf(&p.ObjectMeta)
		if ref == nil || !old[ref.UID] || (newRS != nil && ref.UID == newRS.UID) {
			continue
		}
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		return true
	}
	return false
}
