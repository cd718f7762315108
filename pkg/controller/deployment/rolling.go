package deployment

import (
	"context"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
)

// rolloutRolling makes one step of a rolling update: grow the new
// ReplicaSet if there is room, else shrink old ones if availability
// allows, else clean up; then update status.
func (c *Controller) rolloutRolling(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) error {
	newRS, olds, err := c.getAll(ctx, d, rsList, true)
	if err != nil {
		return err
	}
	newRS, olds = c.refreshOne(newRS), c.refresh(olds)
	scaledUp, err := c.reconcileNewReplicaSet(ctx, withNew(olds, newRS), newRS, d)
	if err != nil {
		return err
	}
	if scaledUp {
		return c.syncRolloutStatus(ctx, withNew(olds, newRS), newRS, d)
	}
	newRS, olds = c.refreshOne(newRS), c.refresh(olds)
	scaledDown, err := c.reconcileOldReplicaSets(ctx, withNew(olds, newRS), activeReplicaSets(olds), newRS, d)
	if err != nil {
		return err
	}
	if scaledDown {
		return c.syncRolloutStatus(ctx, withNew(olds, newRS), newRS, d)
	}
	if deploymentComplete(d, &d.Status) {
		if err := c.cleanup(ctx, olds, d); err != nil {
			return err
		}
	}
	return c.syncRolloutStatus(ctx, withNew(olds, newRS), newRS, d)
}

// reconcileNewReplicaSet grows the new ReplicaSet as far as maxSurge
// allows (or shrinks it to replicas); it reports whether it scaled.
func (c *Controller) reconcileNewReplicaSet(ctx context.Context, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, d *appsv1.Deployment) (bool, error) {
	want := deploymentReplicas(d)
	switch cur := specReplicas(newRS); {
	case cur == want:
		return false, nil
	case cur > want:
		scaled, _, err := c.scaleAndRecord(ctx, newRS, want, d)
		return scaled, err
	}
	scaled, _, err := c.scaleAndRecord(ctx, newRS, newRSNewReplicas(d, all, newRS), d)
	return scaled, err
}

// reconcileOldReplicaSets shrinks old ReplicaSets as far as maxUnavailable
// allows: first their unavailable pods, then available ones; it reports
// whether it scaled.
func (c *Controller) reconcileOldReplicaSets(ctx context.Context, all, olds []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, d *appsv1.Deployment) (bool, error) {
	if sumSpec(olds) == 0 {
		return false, nil
	}
	minAvailable := deploymentReplicas(d) - maxUnavailable(d)
	newUnavailable := specReplicas(newRS) - newRS.Status.AvailableReplicas
	maxScaledDown := sumSpec(all) - minAvailable - newUnavailable
	if maxScaledDown <= 0 {
		return false, nil
	}
	// Unhealthy replicas first: removing them costs no availability, and
	// they may be what blocks the rollout.
	cleaned, err := c.cleanupUnhealthyReplicas(ctx, olds, d, maxScaledDown)
	if err != nil {
		return false, err
	}
	olds = c.refresh(olds)
	scaled, err := c.scaleDownOldReplicaSetsForRollingUpdate(ctx, withNew(olds, c.refreshOne(newRS)), olds, d)
	if err != nil {
		return false, err
	}
	return cleaned+scaled > 0, nil
}

// cleanupUnhealthyReplicas scales old ReplicaSets down by their
// unavailable pods, oldest first, at most maxCleanup in all.
func (c *Controller) cleanupUnhealthyReplicas(ctx context.Context, olds []*appsv1.ReplicaSet, d *appsv1.Deployment, maxCleanup int32) (int32, error) {
	olds = append([]*appsv1.ReplicaSet(nil), olds...)
	sortByCreation(olds)
	var total int32
	for _, rs := range olds {
		if total >= maxCleanup {
			break
		}
		spec := specReplicas(rs)
		if spec == 0 || spec <= rs.Status.AvailableReplicas {
			continue
		}
		n := min(maxCleanup-total, spec-rs.Status.AvailableReplicas)
		if _, _, err := c.scaleAndRecord(ctx, rs, spec-n, d); err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// scaleDownOldReplicaSetsForRollingUpdate scales old ReplicaSets down,
// oldest first, by as many pods as are available beyond replicas -
// maxUnavailable.
func (c *Controller) scaleDownOldReplicaSetsForRollingUpdate(ctx context.Context, all, olds []*appsv1.ReplicaSet, d *appsv1.Deployment) (int32, error) {
	minAvailable := deploymentReplicas(d) - maxUnavailable(d)
	available := sumAvailableAfterScaleDown(all)
	if available <= minAvailable {
		return 0, nil
	}
	olds = append([]*appsv1.ReplicaSet(nil), olds...)
	sortByCreation(olds)
	want := available - minAvailable
	var total int32
	for _, rs := range olds {
		if total >= want {
			break
		}
		spec := specReplicas(rs)
		if spec == 0 {
			continue
		}
		n := min(spec, want-total)
		if _, _, err := c.scaleAndRecord(ctx, rs, spec-n, d); err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}
