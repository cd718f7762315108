package plugins

import (
	"context"
	"reflect"
	"testing"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/api/resource"
	"github.com/kl-dev/kl/pkg/scheduler/framework"
)

// node returns a Ready node with the given allocatable cpu, memory and
// pods, changed by opts.
func node(name, cpu, mem string, pods int, opts ...func(*corev1.Node)) *corev1.Node {
	n := &corev1.Node{
		ObjectMeta: meta.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelHostname: name}},
		Status: corev1.NodeStatus{
			Allocatable: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse(cpu),
				corev1.ResourceMemory: resource.MustParse(mem),
				corev1.ResourcePods:   *resource.NewQuantity(int64(pods), resource.DecimalSI),
			},
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
		},
	}
	for _, o := range opts {
		o(n)
	}
	return n
}

// pod returns a pod whose one container requests cpu and memory ("" for
// none), changed by opts.
func pod(name, cpu, mem string, opts ...func(*corev1.Pod)) *corev1.Pod {
	req := corev1.ResourceList{}
	if cpu != "" {
		req[corev1.ResourceCPU] = resource.MustParse(cpu)
	}
	if mem != "" {
		req[corev1.ResourceMemory] = resource.MustParse(mem)
	}
	p := &corev1.Pod{
		ObjectMeta: meta.ObjectMeta{Name: name, Namespace: "default", UID: "uid-" + name},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "c", Image: "img", Resources: corev1.ResourceRequirements{Requests: req},
		}}},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func withHostPort(port int32, proto corev1.Protocol, ip string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		c := &p.Spec.Containers[0]
		c.Ports = append(c.Ports, corev1.ContainerPort{ContainerPort: port, HostPort: port, Protocol: proto, HostIP: ip})
	}
}

func ownedBy(uid string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.OwnerReferences = []meta.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs", UID: uid, Controller: meta.Boolp(true)}}
	}
}

func status(code framework.Code, reasons ...string) *framework.Status {
	return framework.NewStatus(code, reasons...)
}

// sameStatus compares code and reasons (nil and Success are the same).
func sameStatus(got, want *framework.Status) bool {
	return got.Code() == want.Code() && reflect.DeepEqual(got.Reasons(), want.Reasons())
}

// runFilter runs the plugin's PreFilter, if any, then its Filter.
func runFilter(t *testing.T, p framework.FilterPlugin, pd *corev1.Pod, ni *framework.NodeInfo) *framework.Status {
	t.Helper()
	state := framework.NewCycleState(framework.NewPodInfo(pd))
	if pf, ok := p.(framework.PreFilterPlugin); ok {
		if st := pf.PreFilter(context.Background(), state, pd); !st.IsSuccess() {
			t.Fatalf("PreFilter: %v", st.Message())
		}
	}
	return p.Filter(context.Background(), state, pd, ni)
}

func TestNodeResourcesFit_RequestsAgainstAllocatableMinusRequested(t *testing.T) {
	n := node("n1", "2", "4Gi", 3)
	tests := []struct {
		name string
		pod  *corev1.Pod
		on   []*corev1.Pod
		want *framework.Status
	}{
		{"fits on an empty node", pod("p", "1", "1Gi"), nil, nil},
		{"fits exactly", pod("p", "1", "3Gi"), []*corev1.Pod{pod("a", "1", "1Gi")}, nil},
		{"cpu taken by pods on the node", pod("p", "1500m", ""), []*corev1.Pod{pod("a", "1", "")},
			status(framework.Unschedulable, ReasonInsufficientCPU)},
		{"memory", pod("p", "", "5Gi"), nil, status(framework.Unschedulable, ReasonInsufficientMemory)},
		{"cpu and memory", pod("p", "3", "5Gi"), nil,
			status(framework.Unschedulable, ReasonInsufficientCPU, ReasonInsufficientMemory)},
		{"ephemeral-storage not allocatable", pod("p", "", "", func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Requests[corev1.ResourceEphemeralStorage] = resource.MustParse("1Gi")
		}), nil, status(framework.Unschedulable, ReasonInsufficientStorage)},
		{"pod count", pod("p", "", ""), []*corev1.Pod{pod("a", "", ""), pod("b", "", ""), pod("c", "", "")},
			status(framework.Unschedulable, ReasonTooManyPods)},
		{"best-effort pod fits a full node", pod("p", "", ""), []*corev1.Pod{pod("a", "2", "4Gi")}, nil},
		{"init container request counts", pod("p", "1", "", func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "img", Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("3")},
			}}}
		}), nil, status(framework.Unschedulable, ReasonInsufficientCPU)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runFilter(t, NodeResourcesFit{}, tt.pod, framework.NewNodeInfo(n, tt.on...))
			if !sameStatus(got, tt.want) {
				t.Errorf("Filter = %v %q, want %v %q", got.Code(), got.Reasons(), tt.want.Code(), tt.want.Reasons())
			}
		})
	}
}

func TestNodeFilters_SchedulabilityReadinessSelectorTaints(t *testing.T) {
	cordoned := func(n *corev1.Node) { n.Spec.Unschedulable = true }
	notReady := func(n *corev1.Node) { n.Status.Conditions[0].Status = corev1.ConditionFalse }
	noCondition := func(n *corev1.Node) { n.Status.Conditions = nil }
	labelled := func(k, v string) func(*corev1.Node) { return func(n *corev1.Node) { n.Labels[k] = v } }
	tainted := func(key, value string, effect corev1.TaintEffect) func(*corev1.Node) {
		return func(n *corev1.Node) {
			n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: key, Value: value, Effect: effect})
		}
	}
	tolerating := func(tol corev1.Toleration) func(*corev1.Pod) {
		return func(p *corev1.Pod) { p.Spec.Tolerations = append(p.Spec.Tolerations, tol) }
	}
	selecting := func(k, v string) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			if p.Spec.NodeSelector == nil {
				p.Spec.NodeSelector = map[string]string{}
			}
			p.Spec.NodeSelector[k] = v
		}
	}
	unresolvable := framework.UnschedulableAndUnresolvable
	tests := []struct {
		name   string
		plugin framework.FilterPlugin
		node   *corev1.Node
		pod    *corev1.Pod
		want   *framework.Status
	}{
		{"schedulable node", NodeUnschedulable{}, node("n", "1", "1Gi", 10), pod("p", "", ""), nil},
		{"cordoned node", NodeUnschedulable{}, node("n", "1", "1Gi", 10, cordoned), pod("p", "", ""),
			status(unresolvable, ReasonUnschedulable)},
		{"cordoned node, pod tolerates unschedulable", NodeUnschedulable{}, node("n", "1", "1Gi", 10, cordoned),
			pod("p", "", "", tolerating(corev1.Toleration{Key: corev1.TaintNodeUnschedulable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule})), nil},

		{"ready node", NodeReady{}, node("n", "1", "1Gi", 10), pod("p", "", ""), nil},
		{"not ready node", NodeReady{}, node("n", "1", "1Gi", 10, notReady), pod("p", "", ""),
			status(framework.Unschedulable, ReasonNotReady)},
		{"node without a Ready condition", NodeReady{}, node("n", "1", "1Gi", 10, noCondition), pod("p", "", ""),
			status(framework.Unschedulable, ReasonNotReady)},
		{"not ready node, pod tolerates not-ready", NodeReady{}, node("n", "1", "1Gi", 10, notReady),
			pod("p", "", "", tolerating(corev1.Toleration{Operator: corev1.TolerationOpExists})), nil},
		{"not ready node, pod tolerates not-ready only for NoExecute", NodeReady{}, node("n", "1", "1Gi", 10, notReady),
			pod("p", "", "", tolerating(corev1.Toleration{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute})),
			status(framework.Unschedulable, ReasonNotReady)},

		{"no selector", NodeSelector{}, node("n", "1", "1Gi", 10), pod("p", "", ""), nil},
		{"selector matches", NodeSelector{}, node("n", "1", "1Gi", 10, labelled("disk", "ssd")),
			pod("p", "", "", selecting("disk", "ssd"), selecting(corev1.LabelHostname, "n")), nil},
		{"selector value differs", NodeSelector{}, node("n", "1", "1Gi", 10, labelled("disk", "hdd")),
			pod("p", "", "", selecting("disk", "ssd")), status(unresolvable, ReasonNodeSelector)},
		{"selector label missing", NodeSelector{}, node("n", "1", "1Gi", 10),
			pod("p", "", "", selecting("disk", "ssd")), status(unresolvable, ReasonNodeSelector)},

		{"untainted", TaintToleration{}, node("n", "1", "1Gi", 10), pod("p", "", ""), nil},
		{"NoSchedule taint", TaintToleration{}, node("n", "1", "1Gi", 10, tainted("dedicated", "gpu", corev1.TaintEffectNoSchedule)),
			pod("p", "", ""), status(unresolvable, "node(s) had untolerated taint {dedicated: gpu}")},
		{"NoExecute taint without value", TaintToleration{}, node("n", "1", "1Gi", 10, tainted("maintenance", "", corev1.TaintEffectNoExecute)),
			pod("p", "", ""), status(unresolvable, "node(s) had untolerated taint {maintenance: }")},
		{"PreferNoSchedule taint does not filter", TaintToleration{}, node("n", "1", "1Gi", 10, tainted("spot", "true", corev1.TaintEffectPreferNoSchedule)),
			pod("p", "", ""), nil},
		{"tolerated taint", TaintToleration{}, node("n", "1", "1Gi", 10, tainted("dedicated", "gpu", corev1.TaintEffectNoSchedule)),
			pod("p", "", "", tolerating(corev1.Toleration{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule})), nil},
		{"second taint untolerated", TaintToleration{}, node("n", "1", "1Gi", 10,
			tainted("dedicated", "gpu", corev1.TaintEffectNoSchedule), tainted("zone", "b", corev1.TaintEffectNoSchedule)),
			pod("p", "", "", tolerating(corev1.Toleration{Key: "dedicated", Operator: corev1.TolerationOpExists})),
			status(unresolvable, "node(s) had untolerated taint {zone: b}")},
	}
	for _, tt := range tests {
		t.Run(tt.plugin.Name()+"/"+tt.name, func(t *testing.T) {
			got := runFilter(t, tt.plugin, tt.pod, framework.NewNodeInfo(tt.node))
			if !sameStatus(got, tt.want) {
				t.Errorf("Filter = %v %q, want %v %q", got.Code(), got.Reasons(), tt.want.Code(), tt.want.Reasons())
			}
		})
	}
}

func TestNodePorts_HostPortConflicts(t *testing.T) {
	n := node("n", "1", "1Gi", 10)
	conflict := status(framework.Unschedulable, ReasonPortsInUse)
	tests := []struct {
		name string
		pod  *corev1.Pod
		on   []*corev1.Pod
		want *framework.Status
	}{
		{"no host ports", pod("p", "", ""), []*corev1.Pod{pod("a", "", "", withHostPort(80, "", ""))}, nil},
		{"free port", pod("p", "", "", withHostPort(81, "", "")), []*corev1.Pod{pod("a", "", "", withHostPort(80, "", ""))}, nil},
		{"same port, defaults TCP and every address", pod("p", "", "", withHostPort(80, "", "")),
			[]*corev1.Pod{pod("a", "", "", withHostPort(80, corev1.ProtocolTCP, "0.0.0.0"))}, conflict},
		{"same port, other protocol", pod("p", "", "", withHostPort(53, corev1.ProtocolUDP, "")),
			[]*corev1.Pod{pod("a", "", "", withHostPort(53, corev1.ProtocolTCP, ""))}, nil},
		{"same port, different addresses", pod("p", "", "", withHostPort(80, "", "10.0.0.1")),
			[]*corev1.Pod{pod("a", "", "", withHostPort(80, "", "10.0.0.2"))}, nil},
		{"same port, one on every address", pod("p", "", "", withHostPort(80, "", "10.0.0.1")),
			[]*corev1.Pod{pod("a", "", "", withHostPort(80, "", ""))}, conflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runFilter(t, NodePorts{}, tt.pod, framework.NewNodeInfo(n, tt.on...))
			if !sameStatus(got, tt.want) {
				t.Errorf("Filter = %v %q, want %v %q", got.Code(), got.Reasons(), tt.want.Code(), tt.want.Reasons())
			}
		})
	}
}

func TestNodeInfo_RemovePodFreesItsPorts(t *testing.T) {
	a := pod("a", "1", "", withHostPort(80, "", ""))
	ni := framework.NewNodeInfo(node("n", "2", "1Gi", 10), a)
	if !ni.RemovePod(a) {
		t.Fatal("RemovePod: pod not found")
	}
	if got := runFilter(t, NodePorts{}, pod("p", "", "", withHostPort(80, "", "")), ni); !got.IsSuccess() {
		t.Errorf("port still in use after the pod was removed: %v", got.Message())
	}
	if ni.Requested != (framework.Resource{}) {
		t.Errorf("Requested after removing the only pod = %+v, want zero", ni.Requested)
	}
}

// scoreAll runs a score plugin (PreScore, Score, NormalizeScore) over nodes.
func scoreAll(t *testing.T, p framework.ScorePlugin, pd *corev1.Pod, nodes ...*framework.NodeInfo) []int64 {
	t.Helper()
	ctx, state := context.Background(), framework.NewCycleState(framework.NewPodInfo(pd))
	if ps, ok := p.(framework.PreScorePlugin); ok {
		if st := ps.PreScore(ctx, state, pd, nodes); !st.IsSuccess() {
			t.Fatal(st.Message())
		}
	}
	scores := make([]int64, len(nodes))
	for i, n := range nodes {
		s, st := p.Score(ctx, state, pd, n)
		if !st.IsSuccess() {
			t.Fatal(st.Message())
		}
		scores[i] = s
	}
	if norm, ok := p.(framework.ScoreNormalizer); ok {
		if st := norm.NormalizeScore(ctx, state, pd, scores); !st.IsSuccess() {
			t.Fatal(st.Message())
		}
	}
	return scores
}

func TestScores(t *testing.T) {
	empty := framework.NewNodeInfo(node("empty", "4", "8Gi", 110))
	half := framework.NewNodeInfo(node("half", "4", "8Gi", 110), pod("a", "2", "4Gi"))
	cpuHeavy := framework.NewNodeInfo(node("cpu-heavy", "4", "8Gi", 110), pod("a", "3", "1Gi"))
	tests := []struct {
		name   string
		plugin framework.ScorePlugin
		pod    *corev1.Pod
		nodes  []*framework.NodeInfo
		want   []int64
	}{
		// (4-1)/4 = 75 cpu, (8-2)/8 = 75 memory -> 75; half: (4-3)/4 = 25, (8-6)/8 = 25.
		{"LeastAllocated prefers free nodes", LeastAllocated{}, pod("p", "1", "2Gi"),
			[]*framework.NodeInfo{empty, half}, []int64{75, 25}},
		// No requests: counted as 100m and 200Mi. (4000-100)/4000 = 97.5 -> 97; (8192-200)/8192 = 97.56 -> 97.
		{"LeastAllocated counts best-effort pods", LeastAllocated{}, pod("p", "", ""),
			[]*framework.NodeInfo{empty}, []int64{97}},
		// empty: cpu 1/4 = .25, mem 2/8 = .25 -> 100. cpu-heavy: cpu 4/4 = 1, mem 3/8 = .375 -> 100*(1-.3125) = 68.
		{"BalancedAllocation prefers even use", BalancedAllocation{}, pod("p", "1", "2Gi"),
			[]*framework.NodeInfo{empty, cpuHeavy}, []int64{100, 68}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := scoreAll(t, tt.plugin, tt.pod, tt.nodes...); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("scores = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestSelectorSpread_PrefersNodesWithFewerPodsOfTheSameController: pods
// being deleted do not count.
func TestSelectorSpread_PrefersNodesWithFewerPodsOfTheSameController(t *testing.T) {
	n := func(name string, pods ...*corev1.Pod) *framework.NodeInfo {
		return framework.NewNodeInfo(node(name, "4", "8Gi", 110), pods...)
	}
	rs := ownedBy("rs-1")
	terminating := pod("t", "", "", rs, func(p *corev1.Pod) { p.DeletionTimestamp = &meta.Time{} })
	nodes := []*framework.NodeInfo{
		n("none", terminating),
		n("one", pod("a", "", "", rs)),
		n("two", pod("b", "", "", rs), pod("c", "", "", rs)),
		n("others", pod("d", "", "", ownedBy("rs-2")), pod("e", "", "")),
	}
	if got, want := scoreAll(t, SelectorSpread{}, pod("p", "", "", rs), nodes...), []int64{100, 50, 0, 100}; !reflect.DeepEqual(got, want) {
		t.Errorf("scores = %v, want %v", got, want)
	}
	if got, want := scoreAll(t, SelectorSpread{}, pod("p", "", ""), nodes...), []int64{100, 100, 100, 100}; !reflect.DeepEqual(got, want) {
		t.Errorf("scores of a pod without a controller = %v, want all equal %v", got, want)
	}
}
