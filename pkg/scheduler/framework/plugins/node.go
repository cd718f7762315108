package plugins

import (
	"context"
	"fmt"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/scheduler/framework"
)

// Reasons of the node filters, in kube-scheduler's words.
const (
	ReasonUnschedulable     = "node(s) were unschedulable"
	ReasonNotReady          = "node(s) were not ready"
	ReasonNodeSelector      = "node(s) didn't match Pod's node affinity/selector"
	reasonUntoleratedFormat = "node(s) had untolerated taint {%s: %s}"
)

// errNoNode is the status for a NodeInfo without a node; the scheduler
// never filters those.
func errNoNode() *framework.Status {
	return framework.NewStatus(framework.Error, "node not found")
}

// NodeUnschedulable rules out nodes marked spec.unschedulable (kubectl
// cordon), unless the pod tolerates the node.kubernetes.io/unschedulable
// NoSchedule taint.
type NodeUnschedulable struct{}

// Name implements framework.Plugin.
func (NodeUnschedulable) Name() string { return NodeUnschedulableName }

// Filter implements framework.FilterPlugin.
func (NodeUnschedulable) Filter(_ context.Context, _ *framework.CycleState, pod *corev1.Pod, ni *framework.NodeInfo) *framework.Status {
	node := ni.Node()
	if node == nil {
		return errNoNode()
	}
	if !node.Spec.Unschedulable {
		return nil
	}
	taint := corev1.Taint{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule}
	if corev1.TolerationsTolerateTaint(pod.Spec.Tolerations, &taint) {
		return nil
	}
	return framework.NewStatus(framework.UnschedulableAndUnresolvable, ReasonUnschedulable)
}

// NodeReady rules out nodes whose Ready condition is not True, unless the
// pod tolerates the node.kubernetes.io/not-ready NoSchedule taint. (In
// Kubernetes the node lifecycle controller taints such nodes; kl checks the
// condition directly so a cluster without that controller behaves the same.)
type NodeReady struct{}

// Name implements framework.Plugin.
func (NodeReady) Name() string { return NodeReadyName }

// Filter implements framework.FilterPlugin.
func (NodeReady) Filter(_ context.Context, _ *framework.CycleState, pod *corev1.Pod, ni *framework.NodeInfo) *framework.Status {
	node := ni.Node()
	if node == nil {
		return errNoNode()
	}
	if corev1.IsNodeReady(node) {
		return nil
	}
	taint := corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule}
	if corev1.TolerationsTolerateTaint(pod.Spec.Tolerations, &taint) {
		return nil
	}
	return framework.NewStatus(framework.Unschedulable, ReasonNotReady)
}

// NodeSelector rules out nodes that lack a label of the pod's
// spec.nodeSelector.
type NodeSelector struct{}

// Name implements framework.Plugin.
func (NodeSelector) Name() string { return NodeSelectorName }

// Filter implements framework.FilterPlugin.
func (NodeSelector) Filter(_ context.Context, _ *framework.CycleState, pod *corev1.Pod, ni *framework.NodeInfo) *framework.Status {
	node := ni.Node()
	if node == nil {
		return errNoNode()
	}
	for k, v := range pod.Spec.NodeSelector {
		if got, ok := node.Labels[k]; !ok || got != v {
			return framework.NewStatus(framework.UnschedulableAndUnresolvable, ReasonNodeSelector)
		}
	}
	return nil
}

// TaintToleration rules out nodes with a NoSchedule or NoExecute taint the
// pod does not tolerate.
type TaintToleration struct{}

// Name implements framework.Plugin.
func (TaintToleration) Name() string { return TaintTolerationName }

// Filter implements framework.FilterPlugin.
func (TaintToleration) Filter(_ context.Context, _ *framework.CycleState, pod *corev1.Pod, ni *framework.NodeInfo) *framework.Status {
	node := ni.Node()
	if node == nil {
		return errNoNode()
	}
	taint, found := corev1.FindUntoleratedTaint(node.Spec.Taints, pod.Spec.Tolerations, func(t *corev1.Taint) bool {
		return t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute
	})
	if !found {
		return nil
	}
	return framework.NewStatus(framework.UnschedulableAndUnresolvable, fmt.Sprintf(reasonUntoleratedFormat, taint.Key, taint.Value))
}
