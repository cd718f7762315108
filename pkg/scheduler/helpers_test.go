package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/api/resource"
	"github.com/kl-dev/kl/pkg/apiserver"
	"github.com/kl-dev/kl/pkg/apiserver/apiservertest"
	"github.com/kl-dev/kl/pkg/client"
)

// cluster is an in-memory apiserver on a loopback port, for one test or
// benchmark.
type cluster struct {
	tb     testing.TB
	client *client.Client
	pods   *client.Resource[corev1.Pod, *corev1.Pod]
	nodes  *client.Resource[corev1.Node, *corev1.Node]
	events *client.Resource[corev1.Event, *corev1.Event]
}

func startCluster(tb testing.TB) *cluster {
	tb.Helper()
	c := apiservertest.Client(tb, apiservertest.Start(tb, func(cfg *apiserver.Config) { cfg.WatchCacheSize = 100000 }))
	return &cluster{
		tb: tb, client: c,
		pods:   client.NewResource[corev1.Pod](c, podsGVR, true),
		nodes:  client.NewResource[corev1.Node](c, nodesGVR, false),
		events: client.NewResource[corev1.Event](c, eventsGVR, true),
	}
}

// testLogger logs to stderr when KL_TEST_LOG is set, else nowhere.
func testLogger() *slog.Logger {
	if os.Getenv("KL_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// runScheduler starts a scheduler on the cluster; it stops with the test.
func (c *cluster) runScheduler(cfg Config) *Scheduler {
	c.tb.Helper()
	s, _ := c.startScheduler(cfg)
	return s
}

// startScheduler starts a scheduler on the cluster and returns it with a
// function that stops it (SIGTERM) and waits for Run to return; it is also
// stopped with the test.
func (c *cluster) startScheduler(cfg Config) (*Scheduler, func()) {
	c.tb.Helper()
	cfg.Client = c.client
	if cfg.PodInitialBackoff == 0 {
		// Quick retries keep the tests short; the queue's tests cover the
		// default back-off.
		cfg.PodInitialBackoff, cfg.PodMaxBackoff = 100*time.Millisecond, time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger()
	}
	s, err := New(cfg)
	if err != nil {
		c.tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					c.tb.Errorf("scheduler Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				c.tb.Error("scheduler did not stop within 10s")
			}
		})
	}
	c.tb.Cleanup(stop)
	return s, stop
}

type nodeOpt func(*corev1.Node)

func taint(key, value string) nodeOpt {
	return func(n *corev1.Node) {
		n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: key, Value: value, Effect: corev1.TaintEffectNoSchedule})
	}
}

// newNode returns a Ready node with the given allocatable resources.
func newNode(name, cpu, mem string, pods int, opts ...nodeOpt) *corev1.Node {
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
	n.Status.Capacity = n.Status.Allocatable
	for _, o := range opts {
		o(n)
	}
	return n
}

func (c *cluster) createNode(n *corev1.Node) {
	c.tb.Helper()
	if _, err := c.nodes.Create(context.Background(), n, client.CreateOptions{}); err != nil {
		c.tb.Fatalf("create node %s: %v", n.Name, err)
	}
}

type podOpt func(*corev1.Pod)

func tolerate(key string) podOpt {
	return func(p *corev1.Pod) {
		p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists})
	}
}

// newPod returns a pending pod in default requesting cpu and memory.
func newPod(name, cpu, mem string, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: meta.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "app", Image: "registry.local/app:1",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse(cpu),
				corev1.ResourceMemory: resource.MustParse(mem),
			}},
		}}},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func (c *cluster) createPod(p *corev1.Pod) *corev1.Pod {
	c.tb.Helper()
	out, err := c.pods.Create(context.Background(), p, client.CreateOptions{})
	if err != nil {
		c.tb.Fatalf("create pod %s: %v", p.Name, err)
	}
	return out
}

func (c *cluster) getPod(name string) *corev1.Pod {
	c.tb.Helper()
	p, err := c.pods.Namespace("default").Get(context.Background(), name)
	if err != nil {
		c.tb.Fatalf("get pod %s: %v", name, err)
	}
	return p
}

// eventually polls cond until it returns "" (done) or timeout passes, then
// fails with cond's last answer.
func eventually(tb testing.TB, timeout time.Duration, cond func() string) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msg := cond()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("after %v: %s", timeout, msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *cluster) podEvents(pod *corev1.Pod, reason string) []*corev1.Event {
	c.tb.Helper()
	evs, _, err := c.events.Namespace(pod.Namespace).List(context.Background(), client.ListOptions{
		FieldSelector: fmt.Sprintf("involvedObject.name=%s,reason=%s", pod.Name, reason),
	})
	if err != nil {
		c.tb.Fatalf("list events: %v", err)
	}
	return evs
}
