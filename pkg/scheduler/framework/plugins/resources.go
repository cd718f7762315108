package plugins

import (
	"context"
	"math"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/scheduler/framework"
)

// Reasons of NodeResourcesFit, in kube-scheduler's words.
const (
	ReasonInsufficientCPU     = "Insufficient cpu"
	ReasonInsufficientMemory  = "Insufficient memory"
	ReasonInsufficientStorage = "Insufficient ephemeral-storage"
	ReasonTooManyPods         = "Too many pods"
)

// NodeResourcesFit rules out nodes without room for the pod's requests:
// cpu, memory and ephemeral-storage requests must fit in allocatable minus
// what the node's pods (assigned and assumed) request, and the node must
// allow one more pod.
type NodeResourcesFit struct{}

// Name implements framework.Plugin.
func (NodeResourcesFit) Name() string { return NodeResourcesFitName }

// Filter implements framework.FilterPlugin.
func (NodeResourcesFit) Filter(_ context.Context, state *framework.CycleState, _ *corev1.Pod, ni *framework.NodeInfo) *framework.Status {
	req := state.PodInfo().Requests
	alloc, used := ni.Allocatable, ni.Requested
	var reasons []string
	if int64(len(ni.Pods))+1 > alloc.AllowedPodNumber {
		reasons = append(reasons, ReasonTooManyPods)
	}
	if req.MilliCPU > 0 && req.MilliCPU > alloc.MilliCPU-used.MilliCPU {
		reasons = append(reasons, ReasonInsufficientCPU)
	}
	if req.Memory > 0 && req.Memory > alloc.Memory-used.Memory {
		reasons = append(reasons, ReasonInsufficientMemory)
	}
	if req.EphemeralStorage > 0 && req.EphemeralStorage > alloc.EphemeralStorage-used.EphemeralStorage {
		reasons = append(reasons, ReasonInsufficientStorage)
	}
	if len(reasons) > 0 {
		return framework.NewStatus(framework.Unschedulable, reasons...)
	}
	return nil
}

// LeastAllocated prefers nodes with the most cpu and memory left once the
// pod is placed: the mean over cpu and memory of free/allocatable, 0..100.
// Pods without requests count as DefaultMilliCPURequest and
// DefaultMemoryRequest, so they spread too.
type LeastAllocated struct{}

// Name implements framework.Plugin.
func (LeastAllocated) Name() string { return LeastAllocatedName }

// Score implements framework.ScorePlugin.
func (LeastAllocated) Score(_ context.Context, state *framework.CycleState, _ *corev1.Pod, ni *framework.NodeInfo) (int64, *framework.Status) {
	req := state.PodInfo().NonZeroRequests
	cpu := leastRequested(ni.NonZeroRequested.MilliCPU+req.MilliCPU, ni.Allocatable.MilliCPU)
	mem := leastRequested(ni.NonZeroRequested.Memory+req.Memory, ni.Allocatable.Memory)
	return (cpu + mem) / 2, nil
}

func leastRequested(requested, capacity int64) int64 {
	if capacity <= 0 || requested > capacity {
		return 0
	}
	return (capacity - requested) * framework.MaxNodeScore / capacity
}

// BalancedAllocation prefers nodes whose cpu and memory would be used in
// the same proportion once the pod is placed, so that neither runs out
// while the other sits idle: 100 * (1 - |cpu fraction - memory fraction| / 2).
type BalancedAllocation struct{}

// Name implements framework.Plugin.
func (BalancedAllocation) Name() string { return BalancedAllocationName }

// Score implements framework.ScorePlugin.
func (BalancedAllocation) Score(_ context.Context, state *framework.CycleState, _ *corev1.Pod, ni *framework.NodeInfo) (int64, *framework.Status) {
	req := state.PodInfo().NonZeroRequests
	cpu := fraction(ni.NonZeroRequested.MilliCPU+req.MilliCPU, ni.Allocatable.MilliCPU)
	mem := fraction(ni.NonZeroRequested.Memory+req.Memory, ni.Allocatable.Memory)
	std := math.Abs(cpu-mem) / 2
	return int64((1 - std) * float64(framework.MaxNodeScore)), nil
}

// fraction is requested/capacity, capped at 1.
func fraction(requested, capacity int64) float64 {
	if capacity <= 0 {
		return 1
	}
	return min(float64(requested)/float64(capacity), 1)
}
