package v1

import (
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/api/resource"
)

func rl(pairs ...string) ResourceList {
	out := ResourceList{}
	for i := 0; i < len(pairs); i += 2 {
		out[ResourceName(pairs[i])] = resource.MustParse(pairs[i+1])
	}
	return out
}

func TestPodRequestsSumsContainersAndTakesMaxOfInitContainers(t *testing.T) {
	pod := &Pod{Spec: PodSpec{
		InitContainers: []Container{
			{Resources: ResourceRequirements{Requests: rl("cpu", "2", "memory", "64Mi")}},
			{Resources: ResourceRequirements{Requests: rl("memory", "1Gi", "ephemeral-storage", "1Gi")}},
		},
		Containers: []Container{
			{Resources: ResourceRequirements{Requests: rl("cpu", "500m", "memory", "256Mi")}},
			{Resources: ResourceRequirements{Requests: rl("cpu", "250m", "memory", "256Mi")}},
			{},
		},
	}}
	got := PodRequests(pod)
	want := rl("cpu", "2", "memory", "1Gi", "ephemeral-storage", "1Gi")
	if !got.Equal(want) {
		t.Errorf("PodRequests = %v, want %v", got, want)
	}
	// Without init containers: the plain sum.
	pod.Spec.InitContainers = nil
	if got := PodRequests(pod); !got.Equal(rl("cpu", "750m", "memory", "512Mi")) {
		t.Errorf("PodRequests = %v", got)
	}
	if got := PodRequests(pod)[ResourceMemory]; got.String() != "512Mi" {
		t.Errorf("memory prints as %s", got.String())
	}
	// The pod's own lists are not modified.
	if pod.Spec.Containers[0].Resources.Requests.Cpu().String() != "500m" {
		t.Error("container requests modified")
	}
	if got := PodLimits(&Pod{}); len(got) != 0 {
		t.Errorf("PodLimits of empty pod = %v", got)
	}
}

func TestComputePodQOS(t *testing.T) {
	c := func(req, lim ResourceList) Container {
		return Container{Resources: ResourceRequirements{Requests: req, Limits: lim}}
	}
	tests := []struct {
		name       string
		containers []Container
		init       []Container
		want       PodQOSClass
	}{
		{"no resources", []Container{c(nil, nil)}, nil, PodQOSBestEffort},
		{"only other resources", []Container{c(rl("ephemeral-storage", "1Gi"), nil)}, nil, PodQOSBestEffort},
		{"requests equal limits", []Container{c(rl("cpu", "1", "memory", "1Gi"), rl("cpu", "1", "memory", "1Gi"))}, nil, PodQOSGuaranteed},
		{"equal in different forms", []Container{c(rl("cpu", "1000m", "memory", "1024Mi"), rl("cpu", "1", "memory", "1Gi"))}, nil, PodQOSGuaranteed},
		{"requests below limits", []Container{c(rl("cpu", "500m", "memory", "1Gi"), rl("cpu", "1", "memory", "1Gi"))}, nil, PodQOSBurstable},
		{"only a cpu limit", []Container{c(rl("cpu", "1"), rl("cpu", "1"))}, nil, PodQOSBurstable},
		{"one container without limits", []Container{c(rl("cpu", "1", "memory", "1Gi"), rl("cpu", "1", "memory", "1Gi")), c(nil, nil)}, nil, PodQOSBurstable},
		{"init container counts", []Container{c(rl("cpu", "1", "memory", "1Gi"), rl("cpu", "1", "memory", "1Gi"))}, []Container{c(rl("cpu", "1"), nil)}, PodQOSBurstable},
		{"zero quantities do not count", []Container{c(rl("cpu", "0"), rl("memory", "0"))}, nil, PodQOSBestEffort},
	}
	for _, tt := range tests {
		pod := &Pod{Spec: PodSpec{Containers: tt.containers, InitContainers: tt.init}}
		if got := ComputePodQOS(pod); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestPodPredicates(t *testing.T) {
	now := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	ready := func(status ConditionStatus, since time.Duration) *Pod {
		return &Pod{
			ObjectMeta: meta.ObjectMeta{Namespace: "ns", Name: "p"},
			Status: PodStatus{Phase: PodRunning, Conditions: []PodCondition{
				{Type: PodScheduled, Status: ConditionTrue},
				{Type: PodReady, Status: status, LastTransitionTime: meta.NewTime(now.Add(-since))},
			}},
		}
	}
	if PodKey(ready(ConditionTrue, 0)) != "ns/p" {
		t.Error("PodKey")
	}
	if !IsPodReady(ready(ConditionTrue, 0)) || IsPodReady(ready(ConditionFalse, 0)) || IsPodReady(&Pod{}) {
		t.Error("IsPodReady")
	}
	tests := []struct {
		pod      *Pod
		minReady int32
		want     bool
	}{
		{ready(ConditionTrue, 0), 0, true},
		{ready(ConditionTrue, 10*time.Second), 5, true},
		{ready(ConditionTrue, 5*time.Second), 5, false}, // must be strictly longer
		{ready(ConditionTrue, 3*time.Second), 5, false},
		{ready(ConditionFalse, time.Hour), 5, false},
	}
	for i, tt := range tests {
		if got := IsPodAvailable(tt.pod, tt.minReady, now); got != tt.want {
			t.Errorf("case %d: IsPodAvailable = %v, want %v", i, got, tt.want)
		}
	}
	for _, phase := range []PodPhase{PodSucceeded, PodFailed} {
		p := &Pod{Status: PodStatus{Phase: phase}}
		if !IsPodTerminal(p) || IsPodActive(p) {
			t.Errorf("%s: terminal/active wrong", phase)
		}
	}
	deleting := ready(ConditionTrue, 0)
	ts := meta.NewTime(now)
	deleting.DeletionTimestamp = &ts
	if IsPodTerminal(deleting) || IsPodActive(deleting) || !IsPodActive(ready(ConditionTrue, 0)) {
		t.Error("IsPodActive")
	}
	if i, c := GetPodCondition(&ready(ConditionTrue, 0).Status, PodScheduled); i != 0 || c == nil {
		t.Error("GetPodCondition")
	}
	if i, c := GetPodCondition(nil, PodScheduled); i != -1 || c != nil {
		t.Error("GetPodCondition(nil)")
	}
}

func TestUpdatePodCondition(t *testing.T) {
	t0 := meta.NewTime(time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC))
	t1 := meta.NewTime(t0.Add(time.Minute))
	var st PodStatus
	if !UpdatePodCondition(&st, &PodCondition{Type: PodReady, Status: ConditionFalse, LastTransitionTime: t0}) {
		t.Error("adding a condition reported no change")
	}
	// Same status: no change, transition time kept.
	if UpdatePodCondition(&st, &PodCondition{Type: PodReady, Status: ConditionFalse, LastTransitionTime: t1}) {
		t.Error("identical condition reported a change")
	}
	if !st.Conditions[0].LastTransitionTime.Equal(t0.Time) {
		t.Error("transition time moved without a transition")
	}
	if !UpdatePodCondition(&st, &PodCondition{Type: PodReady, Status: ConditionTrue, LastTransitionTime: t1}) {
		t.Error("status change reported no change")
	}
	if len(st.Conditions) != 1 || st.Conditions[0].Status != ConditionTrue || !st.Conditions[0].LastTransitionTime.Equal(t1.Time) {
		t.Errorf("conditions = %+v", st.Conditions)
	}
}

func TestTolerations(t *testing.T) {
	noExec := &Taint{Key: TaintNodeUnreachable, Effect: TaintEffectNoExecute}
	dedicated := &Taint{Key: "dedicated", Value: "gpu", Effect: TaintEffectNoSchedule}
	tests := []struct {
		name string
		tol  Toleration
		t    *Taint
		want bool
	}{
		{"exists on key", Toleration{Key: TaintNodeUnreachable, Operator: TolerationOpExists}, noExec, true},
		{"exists on key and effect", Toleration{Key: TaintNodeUnreachable, Operator: TolerationOpExists, Effect: TaintEffectNoExecute}, noExec, true},
		{"wrong effect", Toleration{Key: TaintNodeUnreachable, Operator: TolerationOpExists, Effect: TaintEffectNoSchedule}, noExec, false},
		{"empty key with Exists tolerates everything", Toleration{Operator: TolerationOpExists}, dedicated, true},
		{"empty key with Equal tolerates nothing", Toleration{Operator: TolerationOpEqual}, dedicated, false},
		{"equal value", Toleration{Key: "dedicated", Operator: TolerationOpEqual, Value: "gpu"}, dedicated, true},
		{"default operator is Equal", Toleration{Key: "dedicated", Value: "gpu"}, dedicated, true},
		{"different value", Toleration{Key: "dedicated", Value: "cpu"}, dedicated, false},
		{"different key", Toleration{Key: "other", Operator: TolerationOpExists}, dedicated, false},
		{"unknown operator", Toleration{Key: "dedicated", Operator: "Gt"}, dedicated, false},
	}
	for _, tt := range tests {
		if got := tt.tol.ToleratesTaint(tt.t); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	taints := []Taint{*dedicated, *noExec}
	tols := []Toleration{{Key: "dedicated", Operator: TolerationOpExists}}
	got, found := FindUntoleratedTaint(taints, tols, nil)
	if !found || got.Key != TaintNodeUnreachable {
		t.Errorf("FindUntoleratedTaint = %v, %v", got, found)
	}
	onlySchedule := func(t *Taint) bool { return t.Effect == TaintEffectNoSchedule }
	if _, found := FindUntoleratedTaint(taints, tols, onlySchedule); found {
		t.Error("filtered taint reported")
	}
	if !dedicated.MatchTaint(&Taint{Key: "dedicated", Value: "other", Effect: TaintEffectNoSchedule}) || dedicated.MatchTaint(noExec) {
		t.Error("MatchTaint")
	}
	for _, tt := range []struct {
		t    Taint
		want string
	}{
		{*dedicated, "dedicated=gpu:NoSchedule"},
		{*noExec, TaintNodeUnreachable + ":NoExecute"},
		{Taint{Key: "k", Value: "v"}, "k=v"},
		{Taint{Key: "k"}, "k"},
	} {
		if got := tt.t.ToString(); got != tt.want {
			t.Errorf("ToString = %q, want %q", got, tt.want)
		}
	}
}

func TestNodeHelpers(t *testing.T) {
	n := &Node{Status: NodeStatus{
		Conditions: []NodeCondition{{Type: NodeMemoryPressure, Status: ConditionFalse}, {Type: NodeReady, Status: ConditionTrue}},
		Addresses:  []NodeAddress{{Type: NodeHostName, Address: "n1"}, {Type: NodeInternalIP, Address: "10.0.0.1"}},
	}}
	if !IsNodeReady(n) || IsNodeReady(&Node{}) {
		t.Error("IsNodeReady")
	}
	if i, c := GetNodeCondition(&n.Status, NodeReady); i != 1 || c.Status != ConditionTrue {
		t.Error("GetNodeCondition")
	}
	if GetNodeAddress(n, NodeInternalIP) != "10.0.0.1" || GetNodeAddress(n, NodeExternalIP) != "" {
		t.Error("GetNodeAddress")
	}
}
