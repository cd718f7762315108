package nodelifecycle

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	coordinationv1 "github.com/kl-dev/kl/pkg/api/coordination/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/client/clock/clocktest"
	"github.com/kl-dev/kl/pkg/client/informer"
	"github.com/kl-dev/kl/pkg/controller"
)

var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func readyNode(name string, status corev1.ConditionStatus, heartbeat time.Time) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: meta.ObjectMeta{Name: name},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{
			{Type: corev1.NodeReady, Status: status, LastHeartbeatTime: meta.NewTime(heartbeat)},
		}},
	}
}

func lease(name string, renew time.Time) *coordinationv1.Lease {
	rt := meta.MicroTime{Time: renew}
	return &coordinationv1.Lease{
		ObjectMeta: meta.ObjectMeta{Name: name, Namespace: meta.NamespaceNodeLease},
		Spec:       coordinationv1.LeaseSpec{RenewTime: &rt},
	}
}

// The controller judges a kubelet by when it saw the lease or heartbeat
// change, on its own clock: a kubelet whose clock is far off (here, a
// renewTime a year in the past) is still alive while it keeps renewing.
func TestTrackerCountsFromObservedRenewals(t *testing.T) {
	clk := clocktest.NewFake(t0)
	grace := 40 * time.Second
	tr := newTracker()
	kubeletClock := t0.AddDate(-1, 0, 0)
	node := readyNode("n1", corev1.ConditionTrue, kubeletClock)

	step := func(d time.Duration, n *corev1.Node, l *coordinationv1.Lease) nodeState {
		clk.Step(d)
		return judge(n, tr.observe(n, l, clk.Now()), clk.Now(), grace)
	}
	if s := step(0, node, lease("n1", kubeletClock)); s != healthy {
		t.Fatalf("first sight: %v, want healthy (a full grace period)", s)
	}
	if s := step(39*time.Second, node, lease("n1", kubeletClock)); s != healthy {
		t.Fatalf("at 39s without renewal: %v, want healthy", s)
	}
	if s := step(time.Second, node, lease("n1", kubeletClock)); s != unreachable {
		t.Fatalf("at 40s without renewal: %v, want unreachable", s)
	}
	// A renewal brings it back, whatever time the kubelet wrote.
	if s := step(time.Hour, node, lease("n1", kubeletClock.Add(time.Second))); s != healthy {
		t.Fatalf("after a renewal: %v, want healthy", s)
	}
	if s := step(39*time.Second, node, lease("n1", kubeletClock.Add(time.Second))); s != healthy {
		t.Fatalf("39s after the renewal: %v, want healthy", s)
	}
	// A status heartbeat counts as well.
	beat := readyNode("n1", corev1.ConditionTrue, kubeletClock.Add(time.Minute))
	if s := step(39*time.Second, beat, lease("n1", kubeletClock.Add(time.Second))); s != healthy {
		t.Fatalf("after a heartbeat: %v, want healthy", s)
	}
	// The controller's own Unknown write keeps the heartbeat: no renewal.
	unknown := beat.DeepCopy()
	unknownConditions(&unknown.Status, t0, clk.Now())
	if s := step(40*time.Second, unknown, lease("n1", kubeletClock.Add(time.Second))); s != unreachable {
		t.Fatalf("after the controller's own write: %v, want unreachable", s)
	}
	// A kubelet reporting Ready=False is alive but not ready.
	notReadyNode := readyNode("n1", corev1.ConditionFalse, kubeletClock.Add(2*time.Minute))
	if s := step(time.Second, notReadyNode, lease("n1", kubeletClock.Add(time.Second))); s != notReady {
		t.Fatalf("kubelet says not ready: %v, want notReady", s)
	}
	tr.forget("n1")
	if _, ok := tr.probe("n1"); ok {
		t.Fatal("forget kept the node")
	}
}

// A controller that starts (or restarts, or takes over leadership) and
// finds a node already marked Ready=Unknown keeps it unreachable, taints
// and all, until its kubelet is heard from.
func TestNodeAlreadyUnknownStaysUnreachableUntilRenewed(t *testing.T) {
	clk := clocktest.NewFake(t0)
	tr := newTracker()
	node := readyNode("n1", corev1.ConditionTrue, t0)
	unknownConditions(&node.Status, t0, t0)
	// The node is seen before its lease (informers fill in any order);
	// seeing the lease then is no renewal.
	if s := judge(node, tr.observe(node, nil, clk.Now()), clk.Now(), time.Minute); s != unreachable {
		t.Fatalf("at first sight: %v, want unreachable", s)
	}
	if s := judge(node, tr.observe(node, lease("n1", t0), clk.Now()), clk.Now(), time.Minute); s != unreachable {
		t.Fatalf("when its lease is first seen: %v, want unreachable", s)
	}
	clk.Step(time.Second)
	if s := judge(node, tr.observe(node, lease("n1", t0.Add(time.Second)), clk.Now()), clk.Now(), time.Minute); s != healthy {
		t.Fatalf("after a renewal: %v, want healthy", s)
	}
}

func taintString(ts []corev1.Taint) string {
	var out []string
	for _, t := range ts {
		s := t.ToString()
		if t.TimeAdded != nil {
			s += "@" + t.TimeAdded.Sub(t0).String()
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

func TestDesiredTaints(t *testing.T) {
	at := func(d time.Duration) *meta.Time { m := meta.NewTime(t0.Add(d)); return &m }
	other := corev1.Taint{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}
	tests := []struct {
		name        string
		taints      []corev1.Taint
		state       nodeState
		want        string
		wantChanged bool
	}{{
		name:        "unreachable adds both taints, timeAdded on NoExecute only",
		taints:      []corev1.Taint{other},
		state:       unreachable,
		want:        "dedicated=gpu:NoSchedule node.kubernetes.io/unreachable:NoSchedule node.kubernetes.io/unreachable:NoExecute@1m0s",
		wantChanged: true,
	}, {
		name: "already tainted: nothing changes, timeAdded kept",
		taints: []corev1.Taint{
			{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoSchedule},
			{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute, TimeAdded: at(10 * time.Second)},
		},
		state: unreachable,
		want:  "node.kubernetes.io/unreachable:NoSchedule node.kubernetes.io/unreachable:NoExecute@10s",
	}, {
		name: "not ready replaces unreachable",
		taints: []corev1.Taint{
			{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoSchedule},
			{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute, TimeAdded: at(10 * time.Second)},
		},
		state:       notReady,
		want:        "node.kubernetes.io/not-ready:NoSchedule node.kubernetes.io/not-ready:NoExecute@1m0s",
		wantChanged: true,
	}, {
		name: "healthy removes the managed taints and keeps others",
		taints: []corev1.Taint{
			other,
			{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoSchedule},
			{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute, TimeAdded: at(10 * time.Second)},
			{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectPreferNoSchedule},
		},
		state:       healthy,
		want:        "dedicated=gpu:NoSchedule node.kubernetes.io/unreachable:PreferNoSchedule",
		wantChanged: true,
	}, {
		name:   "healthy untainted node: no change",
		taints: []corev1.Taint{other},
		state:  healthy,
		want:   "dedicated=gpu:NoSchedule",
	}, {
		name: "a NoExecute taint without timeAdded gets one",
		taints: []corev1.Taint{
			{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoSchedule},
			{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute},
		},
		state:       unreachable,
		want:        "node.kubernetes.io/unreachable:NoSchedule node.kubernetes.io/unreachable:NoExecute@1m0s",
		wantChanged: true,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed := desiredTaints(tt.taints, tt.state, t0.Add(time.Minute))
			if s := taintString(got); s != tt.want || changed != tt.wantChanged {
				t.Errorf("got %q changed=%v, want %q changed=%v", s, changed, tt.want, tt.wantChanged)
			}
		})
	}
}

func TestEvictionDelay(t *testing.T) {
	taint := &corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute}
	secs := func(s int64) *int64 { return &s }
	timeout := 5 * time.Minute
	tests := []struct {
		name   string
		tols   []corev1.Toleration
		want   time.Duration
		wantOK bool
	}{
		{"no toleration: the eviction timeout", nil, timeout, true},
		{"a toleration for another taint does not count", []corev1.Toleration{{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, TolerationSeconds: secs(10)}}, timeout, true},
		{"tolerationSeconds", []corev1.Toleration{{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: secs(600)}}, 600 * time.Second, true},
		{"the smallest tolerationSeconds wins", []corev1.Toleration{
			{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, TolerationSeconds: secs(600)},
			{Operator: corev1.TolerationOpExists, TolerationSeconds: secs(30)},
		}, 30 * time.Second, true},
		{"negative tolerationSeconds: at once", []corev1.Toleration{{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, TolerationSeconds: secs(-1)}}, 0, true},
		{"tolerated without tolerationSeconds: for ever", []corev1.Toleration{{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists}}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: corev1.PodSpec{Tolerations: tt.tols}}
			got, ok := evictionDelay(pod, taint, timeout)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("evictionDelay = %v, %v; want %v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestUnknownConditionsKeepHeartbeat(t *testing.T) {
	beat := t0.Add(-time.Minute)
	st := corev1.NodeStatus{Conditions: []corev1.NodeCondition{
		{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", LastHeartbeatTime: meta.NewTime(beat)},
		{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse},
		{Type: corev1.NodeNetworkUnavailable, Status: corev1.ConditionFalse},
	}}
	if !unknownConditions(&st, t0.Add(-time.Hour), t0) {
		t.Fatal("no change reported")
	}
	_, ready := corev1.GetNodeCondition(&st, corev1.NodeReady)
	if ready.Status != corev1.ConditionUnknown || ready.Reason != "NodeStatusUnknown" || ready.Message != "Kubelet stopped posting node status." {
		t.Errorf("Ready = %+v", ready)
	}
	if !ready.LastHeartbeatTime.Equal(beat) || !ready.LastTransitionTime.Equal(t0) {
		t.Errorf("Ready times = heartbeat %v transition %v", ready.LastHeartbeatTime, ready.LastTransitionTime)
	}
	if _, c := corev1.GetNodeCondition(&st, corev1.NodeMemoryPressure); c.Status != corev1.ConditionUnknown {
		t.Errorf("MemoryPressure = %v, want Unknown", c.Status)
	}
	if _, c := corev1.GetNodeCondition(&st, corev1.NodeNetworkUnavailable); c.Status != corev1.ConditionFalse {
		t.Errorf("NetworkUnavailable = %v, want untouched", c.Status)
	}
	if unknownConditions(&st, t0.Add(-time.Hour), t0.Add(time.Minute)) {
		t.Error("second call changed something")
	}

	var never corev1.NodeStatus
	unknownConditions(&never, t0.Add(-time.Hour), t0)
	if _, c := corev1.GetNodeCondition(&never, corev1.NodeReady); c == nil || c.Reason != "NodeStatusNeverUpdated" {
		t.Errorf("a node that never posted: Ready = %+v", c)
	}
}

// staticSource lists fixed objects and never reports a change.
type staticSource[PT meta.Object] []PT

func (s staticSource[PT]) List(context.Context, client.ListOptions) ([]PT, meta.ListMeta, error) {
	return s, meta.ListMeta{ResourceVersion: "1"}, nil
}

func (s staticSource[PT]) Watch(ctx context.Context, _ client.ListOptions) (<-chan client.Event[PT], error) {
	ch := make(chan client.Event[PT])
	go func() {
		<-ctx.Done()
		close(ch)
	}()
	return ch, nil
}

func TestMonitorQueuesEveryNodeEachPeriod(t *testing.T) {
	clk := clocktest.NewFake(t0)
	nodes := informer.New[*corev1.Node](staticSource[*corev1.Node]{readyNode("a", corev1.ConditionTrue, t0), readyNode("b", corev1.ConditionTrue, t0)}, informer.Options[*corev1.Node]{})
	leases := informer.New[*coordinationv1.Lease](staticSource[*coordinationv1.Lease]{}, informer.Options[*coordinationv1.Lease]{})
	pods := informer.New[*corev1.Pod](staticSource[*corev1.Pod]{}, informer.Options[*corev1.Pod]{})
	cl, err := client.New(client.Config{Servers: []string{"http://127.0.0.1:1"}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{Client: cl, Nodes: nodes, Leases: leases, Pods: pods, Clock: clk, NodeMonitorPeriod: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// Count the keys reconciled instead of reconciling them.
	var mu sync.Mutex
	counts := map[string]int{}
	c.loop = controller.NewLoop("count", clk, func(_ context.Context, key string) error {
		mu.Lock()
		defer mu.Unlock()
		counts[key]++
		return nil
	}, nil, nodes)
	count := func() string {
		mu.Lock()
		defer mu.Unlock()
		return fmt.Sprintf("a=%d b=%d", counts["a"], counts["b"])
	}

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = nodes.Run(ctx) })
	wg.Go(func() { c.monitor(ctx) })
	wg.Go(func() { _ = c.loop.Run(ctx, 1) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})

	// The nodes' add events queue each once.
	waitFor(t, func() bool { return count() == "a=1 b=1" })
	for i := 2; i <= 4; i++ {
		// The monitor is waiting on its timer before the clock moves.
		waitFor(t, func() bool { return clk.Waiters() == 1 })
		clk.Step(5 * time.Second)
		want := fmt.Sprintf("a=%d b=%d", i, i)
		waitFor(t, func() bool { return count() == want })
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(time.Millisecond)
	}
}
