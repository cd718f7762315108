package plugins

import (
	"context"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/scheduler/framework"
)

// SelectorSpread spreads the pods of one controller (a ReplicaSet, say)
// across nodes: a node scores higher the fewer pods of the pod's
// controller it already runs (assumed pods included). It is Kubernetes'
// SelectorSpread / PodTopologySpread in small: one topology, the node, and
// pods grouped by their controller owner rather than by label selectors.
// Pods without a controller are not spread (every node scores the same).
type SelectorSpread struct{}

// Name implements framework.Plugin.
func (SelectorSpread) Name() string { return SelectorSpreadName }

// Score implements framework.ScorePlugin: the raw score is the number of
// the controller's pods on the node (not being deleted); NormalizeScore
// turns it around.
func (SelectorSpread) Score(_ context.Context, state *framework.CycleState, _ *corev1.Pod, ni *framework.NodeInfo) (int64, *framework.Status) {
	pi := state.PodInfo()
	if pi.ControllerUID == "" {
		return 0, nil
	}
	return int64(ni.PodsOfController(pi)), nil
}

// NormalizeScore implements framework.ScoreNormalizer: the nodes with the
// fewest of the controller's pods score 100, the one with the most 0.
func (SelectorSpread) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *corev1.Pod, scores []int64) *framework.Status {
	var most int64
	for _, s := range scores {
		most = max(most, s)
	}
	for i, s := range scores {
		if most == 0 {
			scores[i] = framework.MaxNodeScore
			continue
		}
		scores[i] = framework.MaxNodeScore * (most - s) / most
	}
	return nil
}
