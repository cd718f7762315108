// Package plugins holds kl's in-tree scheduler plugins, each a small type
// implementing framework.FilterPlugin or framework.ScorePlugin:
//
//	filter  NodeUnschedulable  spec.unschedulable nodes, unless tolerated
//	        NodeReady          nodes whose Ready condition is not True, unless tolerated
//	        NodeResourcesFit   cpu, memory, ephemeral-storage and pod count
//	        NodeSelector       spec.nodeSelector
//	        TaintToleration    NoSchedule and NoExecute taints
//	        NodePorts          host port conflicts
//	score   LeastAllocated     prefer nodes with more free cpu and memory
//	        BalancedAllocation prefer nodes whose cpu and memory use stay even
//	        SelectorSpread     spread the pods of one controller across nodes
//
// Reasons are worded as kube-scheduler words them, so users and tools see
// the same "0/3 nodes are available: ..." messages.
package plugins

import "github.com/kl-dev/kl/pkg/scheduler/framework"

// Plugin names, as used in the --config file.
const (
	NodeUnschedulableName  = "NodeUnschedulable"
	NodeReadyName          = "NodeReady"
	NodeResourcesFitName   = "NodeResourcesFit"
	NodeSelectorName       = "NodeSelector"
	TaintTolerationName    = "TaintToleration"
	NodePortsName          = "NodePorts"
	LeastAllocatedName     = "LeastAllocated"
	BalancedAllocationName = "BalancedAllocation"
	SelectorSpreadName     = "SelectorSpread"
)

// NewInTreeRegistry returns a registry of kl's plugins. Adding a plugin is
// one line here.
func NewInTreeRegistry() framework.Registry {
	r := framework.Registry{}
	r.Register(NodeUnschedulableName, stateless(NodeUnschedulable{}))
	r.Register(NodeReadyName, stateless(NodeReady{}))
	r.Register(NodeResourcesFitName, stateless(NodeResourcesFit{}))
	r.Register(NodeSelectorName, stateless(NodeSelector{}))
	r.Register(TaintTolerationName, stateless(TaintToleration{}))
	r.Register(NodePortsName, stateless(NodePorts{}))
	r.Register(LeastAllocatedName, stateless(LeastAllocated{}))
	r.Register(BalancedAllocationName, stateless(BalancedAllocation{}))
	r.Register(SelectorSpreadName, stateless(SelectorSpread{}))
	return r
}

// DefaultPlugins is the default profile: every filter, in the order that
// rules nodes out cheapest first, and the scores with their weights.
func DefaultPlugins() framework.Plugins {
	return framework.Plugins{
		Filter: framework.PluginSet{Enabled: []framework.PluginRef{
			{Name: NodeUnschedulableName},
			{Name: NodeReadyName},
			{Name: NodeSelectorName},
			{Name: TaintTolerationName},
			{Name: NodeResourcesFitName},
			{Name: NodePortsName},
		}},
		Score: framework.PluginSet{Enabled: []framework.PluginRef{
			{Name: LeastAllocatedName, Weight: 1},
			{Name: BalancedAllocationName, Weight: 1},
			{Name: SelectorSpreadName, Weight: 2},
		}},
	}
}

func stateless(p framework.Plugin) framework.Factory {
	return func() (framework.Plugin, error) { return p, nil }
}

// The plugins implement the interfaces their extension points need.
var (
	_ framework.FilterPlugin    = NodeUnschedulable{}
	_ framework.FilterPlugin    = NodeReady{}
	_ framework.FilterPlugin    = NodeSelector{}
	_ framework.FilterPlugin    = TaintToleration{}
	_ framework.FilterPlugin    = NodeResourcesFit{}
	_ framework.FilterPlugin    = NodePorts{}
	_ framework.ScorePlugin     = LeastAllocated{}
	_ framework.ScorePlugin     = BalancedAllocation{}
	_ framework.ScorePlugin     = SelectorSpread{}
	_ framework.ScoreNormalizer = SelectorSpread{}
)
