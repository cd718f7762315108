package nodelifecycle

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	coordinationv1 "github.com/kl-dev/kl/pkg/api/coordination/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/client/clock/clocktest"
	"github.com/kl-dev/kl/pkg/controller"
	"github.com/kl-dev/kl/pkg/controller/internal/apitest"
	"github.com/kl-dev/kl/pkg/record"
)

type cluster struct {
	t      *testing.T
	ctx    context.Context
	clk    *clocktest.Fake
	ctrl   *Controller
	nodes  *client.Resource[corev1.Node, *corev1.Node]
	leases *client.Resource[coordinationv1.Lease, *coordinationv1.Lease]
	pods   *client.Resource[corev1.Pod, *corev1.Pod]
}

// addNode registers a Ready node and its lease, as a kubelet does. The
// times written are the kubelet's (the real clock), unrelated to the
// controller's fake clock.
func (c *cluster) addNode(name string) {
	c.t.Helper()
	n, err := c.nodes.Create(c.ctx, &corev1.Node{ObjectMeta: meta.ObjectMeta{Name: name}}, client.CreateOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", LastHeartbeatTime: meta.Now()}}
	if _, err := c.nodes.UpdateStatus(c.ctx, n, client.UpdateOptions{}); err != nil {
		c.t.Fatal(err)
	}
	now := meta.NowMicro()
	if _, err := c.leases.Create(c.ctx, &coordinationv1.Lease{
		ObjectMeta: meta.ObjectMeta{Name: name, Namespace: meta.NamespaceNodeLease},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: &name, LeaseDurationSeconds: meta.Int32p(40), RenewTime: &now},
	}, client.CreateOptions{}); err != nil {
		c.t.Fatal(err)
	}
}

// renewLease renews the node's lease and waits until the controller has
// seen the renewal, at the current fake time.
func (c *cluster) renewLease(name string) {
	c.t.Helper()
	l, err := c.leases.Get(c.ctx, name)
	if err != nil {
		c.t.Fatal(err)
	}
	now := meta.MicroTime{Time: l.Spec.RenewTime.Add(time.Second)}
	l.Spec.RenewTime = &now
	if _, err := c.leases.Update(c.ctx, l, client.UpdateOptions{}); err != nil {
		c.t.Fatal(err)
	}
	apitest.Eventually(c.t, "renewal of "+name+" seen", func() error {
		if p, _ := c.ctrl.health.probe(name); !p.Equal(c.clk.Now()) {
			return fmt.Errorf("probe time %v, want %v", p, c.clk.Now())
		}
		return nil
	})
}

func (c *cluster) addPod(name, node string, tols ...corev1.Toleration) {
	c.t.Helper()
	if _, err := c.pods.Create(c.ctx, &corev1.Pod{
		ObjectMeta: meta.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{
			NodeName:    node,
			Containers:  []corev1.Container{{Name: "c", Image: "img"}},
			Tolerations: tols,
		},
	}, client.CreateOptions{}); err != nil {
		c.t.Fatal(err)
	}
}

// nodeState describes a node as "Ready=STATUS taints..." from the API.
func (c *cluster) nodeState(name string) string {
	c.t.Helper()
	n, err := c.nodes.Get(c.ctx, name)
	if err != nil {
		c.t.Fatal(err)
	}
	_, ready := corev1.GetNodeCondition(&n.Status, corev1.NodeReady)
	s := "Ready=" + string(ready.Status)
	for _, t := range n.Spec.Taints {
		s += " " + t.ToString()
		if t.TimeAdded != nil {
			s += "@" + t.TimeAdded.Sub(t0).String()
		}
	}
	return s
}

// eventually waits for cond, queueing node each time so that a reconcile
// runs at the current fake time whatever the timers did.
func (c *cluster) eventually(what, node string, cond func() error) {
	c.t.Helper()
	apitest.Eventually(c.t, what, func() error {
		c.ctrl.loop.Enqueue(node)
		return cond()
	})
}

func (c *cluster) podExists(name string) bool {
	c.t.Helper()
	_, err := c.pods.Get(c.ctx, name)
	if err != nil && !meta.IsNotFound(err) {
		c.t.Fatal(err)
	}
	return err == nil
}

func TestUnreachableNodeIsTaintedItsPodsEvictedAndItRecovers(t *testing.T) {
	cl := apitest.Start(t)
	clk := clocktest.NewFake(t0)
	inf := controller.NewInformers(cl, nil)
	events := &record.Fake{}
	ctrl, err := New(Config{
		Client: cl, Nodes: inf.Nodes(), Leases: inf.Leases(), Pods: inf.Pods(), Clock: clk, Recorder: events,
		NodeMonitorGracePeriod: 40 * time.Second, PodEvictionTimeout: 5 * time.Minute, NodeMonitorPeriod: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{
		t: t, ctx: apitest.Context(t), clk: clk, ctrl: ctrl,
		nodes:  client.NewResource[corev1.Node](cl, controller.NodesResource, false),
		leases: client.NewResource[coordinationv1.Lease](cl, controller.LeasesResource, true).Namespace(meta.NamespaceNodeLease),
		pods:   client.NewResource[corev1.Pod](cl, controller.PodsResource, true).Namespace("default"),
	}
	c.addNode("n1")
	c.addNode("n2")
	unreachable := func(secs *int64) corev1.Toleration {
		return corev1.Toleration{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: secs}
	}
	c.addPod("plain", "n1")
	c.addPod("tolerates-600s", "n1", unreachable(meta.Int64p(600)))
	c.addPod("tolerates-forever", "n1", unreachable(nil))
	c.addPod("elsewhere", "n2")
	apitest.Run(t, inf, ctrl)
	apitest.Eventually(t, "nodes and pods seen", func() error {
		for _, n := range []string{"n1", "n2"} {
			// Node and lease come from different informers: wait for both.
			ctrl.health.mu.Lock()
			var h health
			p, ok := ctrl.health.nodes[n]
			if ok {
				h = *p
			}
			ctrl.health.mu.Unlock()
			if !ok || h.renewTime.IsZero() || !h.probe.Equal(t0) {
				return fmt.Errorf("node %s and its lease not seen at t0", n)
			}
		}
		if n := ctrl.pods.Len(); n != 4 {
			return fmt.Errorf("%d pods cached, want 4", n)
		}
		return nil
	})

	// n2's kubelet renews its lease; n1's is silent.
	clk.Step(30 * time.Second)
	c.renewLease("n2")
	clk.Step(9 * time.Second)
	if err := ctrl.reconcile(c.ctx, "n1"); err != nil {
		t.Fatal(err)
	}
	if s := c.nodeState("n1"); s != "Ready=True" {
		t.Fatalf("n1 after 39s of silence: %s, want Ready=True untainted", s)
	}

	clk.Step(2 * time.Second) // 41s of silence
	const tainted = "Ready=Unknown node.kubernetes.io/unreachable:NoSchedule node.kubernetes.io/unreachable:NoExecute@41s"
	c.eventually("n1 unreachable", "n1", func() error {
		if s := c.nodeState("n1"); s != tainted {
			return fmt.Errorf("n1: %s", s)
		}
		return nil
	})
	n1, err := c.nodes.Get(c.ctx, "n1")
	if err != nil {
		t.Fatal(err)
	}
	if _, ready := corev1.GetNodeCondition(&n1.Status, corev1.NodeReady); ready.Reason != "NodeStatusUnknown" || ready.Message != "Kubelet stopped posting node status." {
		t.Errorf("n1 Ready condition = %+v", ready)
	}
	if err := ctrl.reconcile(c.ctx, "n2"); err != nil {
		t.Fatal(err)
	}
	if s := c.nodeState("n2"); s != "Ready=True" {
		t.Fatalf("n2, whose lease was renewed 11s ago: %s, want Ready=True untainted", s)
	}

	// The pod without a toleration goes after the eviction timeout.
	clk.Step(5*time.Minute - time.Second)
	if err := ctrl.reconcile(c.ctx, "n1"); err != nil {
		t.Fatal(err)
	}
	if !c.podExists("plain") {
		t.Fatal("plain was evicted before the eviction timeout")
	}
	clk.Step(time.Second)
	c.eventually("plain evicted", "n1", func() error {
		if c.podExists("plain") {
			return fmt.Errorf("pod plain still exists")
		}
		return nil
	})
	if !c.podExists("tolerates-600s") || !c.podExists("tolerates-forever") {
		t.Fatal("a tolerating pod was evicted at the eviction timeout")
	}

	// The pod tolerating 600s goes at 600s; the other stays.
	clk.Step(300 * time.Second)
	c.eventually("tolerates-600s evicted", "n1", func() error {
		if c.podExists("tolerates-600s") {
			return fmt.Errorf("pod tolerates-600s still exists")
		}
		return nil
	})
	if !c.podExists("tolerates-forever") {
		t.Fatal("tolerates-forever was evicted")
	}

	want := []string{
		"Normal NodeNotReady Node n1 status is now: NodeNotReady",
		"Normal TaintManagerEviction Marking for deletion Pod default/plain",
		"Normal TaintManagerEviction Marking for deletion Pod default/tolerates-600s",
	}
	// n2, silent since its renewal at 30s, went too; only n1 is followed.
	// Events are recorded right after the writes: wait for them.
	apitest.Eventually(t, "events", func() error {
		got := slices.DeleteFunc(events.List(), func(e string) bool {
			return strings.Contains(e, "n2") || strings.Contains(e, "elsewhere")
		})
		if !slices.Equal(got, want) {
			return fmt.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		return nil
	})

	// The kubelet comes back: the taints go as soon as its lease is renewed.
	c.renewLease("n1")
	apitest.Eventually(t, "n1 reachable again", func() error {
		if s := c.nodeState("n1"); s != "Ready=Unknown" {
			return fmt.Errorf("n1: %s", s)
		}
		return nil
	})
}

func TestConfigRejectsNegativeDurations(t *testing.T) {
	cl, err := client.New(client.Config{Servers: []string{"http://127.0.0.1:1"}})
	if err != nil {
		t.Fatal(err)
	}
	inf := controller.NewInformers(cl, nil)
	_, err = New(Config{Client: cl, Nodes: inf.Nodes(), Leases: inf.Leases(), Pods: inf.Pods(), PodEvictionTimeout: -time.Second})
	if err == nil {
		t.Fatal("a negative pod eviction timeout was accepted")
	}
	c, err := New(Config{Client: cl, Nodes: inf.Nodes(), Leases: inf.Leases(), Pods: inf.Pods()})
	if err != nil {
		t.Fatal(err)
	}
	if c.cfg.NodeMonitorGracePeriod != 40*time.Second || c.cfg.PodEvictionTimeout != 5*time.Minute || c.cfg.NodeMonitorPeriod != 5*time.Second {
		t.Errorf("defaults = %v %v %v", c.cfg.NodeMonitorGracePeriod, c.cfg.PodEvictionTimeout, c.cfg.NodeMonitorPeriod)
	}
}
