package plugins

import (
	"context"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/scheduler/framework"
)

// ReasonPortsInUse is NodePorts' reason, in kube-scheduler's words.
const ReasonPortsInUse = "node(s) didn't have free ports for the requested pod ports"

// NodePorts rules out nodes where a host port the pod asks for is already
// bound by another pod (same protocol and port, on the same address or
// either one on every address).
type NodePorts struct{}

// Name implements framework.Plugin.
func (NodePorts) Name() string { return NodePortsName }

// Filter implements framework.FilterPlugin.
func (NodePorts) Filter(_ context.Context, state *framework.CycleState, _ *corev1.Pod, ni *framework.NodeInfo) *framework.Status {
	want := state.PodInfo().HostPorts
	if len(want) == 0 {
		return nil
	}
	for _, w := range want {
		for _, used := range ni.UsedPorts {
			if w.Conflicts(used) {
				return framework.NewStatus(framework.Unschedulable, ReasonPortsInUse)
			}
		}
	}
	return nil
}
