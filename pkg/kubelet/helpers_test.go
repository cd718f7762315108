package kubelet

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/api/resource"
	"github.com/kl-dev/kl/pkg/apiserver/apiservertest"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/kubelet/runtime"
	"github.com/kl-dev/kl/pkg/kubelet/runtime/fake"
)

// waitTimeout bounds every wait of these tests.
const waitTimeout = 15 * time.Second

// testLogger discards logs unless KL_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("KL_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// cluster is an in-process apiserver (memory storage, loopback port) and a
// client for it.
type cluster struct {
	t      testing.TB
	client *client.Client
	pods   *client.Resource[corev1.Pod, *corev1.Pod]
	nodes  *client.Resource[corev1.Node, *corev1.Node]
}

func startCluster(t testing.TB) *cluster {
	t.Helper()
	c := apiservertest.StartClient(t)
	return &cluster{
		t: t, client: c,
		pods:  client.NewResource[corev1.Pod](c, podsGVR, true),
		nodes: client.NewResource[corev1.Node](c, nodesGVR, false),
	}
}

// testConfig is a kubelet config with fast loops and short back-offs.
func (c *cluster) testConfig(node string) Config {
	return Config{
		Client:                    c.client,
		NodeName:                  node,
		Runtime:                   RuntimeFake,
		DataDir:                   c.t.TempDir(),
		NodeIP:                    "192.168.56.10",
		ServerAddress:             "127.0.0.1", // the node IP is made up: serve logs and exec on loopback
		ObjectSyncPeriod:          100 * time.Millisecond,
		Capacity:                  corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi"), corev1.ResourcePods: resource.MustParse("110")},
		FakeExitDelay:             20 * time.Millisecond,
		CrashLoopBackOffBase:      100 * time.Millisecond,
		CrashLoopBackOffMax:       800 * time.Millisecond,
		NodeStatusUpdateFrequency: 100 * time.Millisecond,
		NodeStatusReportFrequency: time.Second,
		NodeLeaseDuration:         400 * time.Millisecond,
		ResyncInterval:            500 * time.Millisecond,
		EventQPS:                  1000,
		EventBurst:                1000,
		Logger:                    testLogger(),
	}
}

// runningKubelet is a Kubelet running in the background.
type runningKubelet struct {
	*Kubelet
	cancel context.CancelFunc
	done   chan struct{} // closed when Run has returned
	err    error         // Run's result, once done is closed
}

// stop cancels the kubelet and waits for Run to return.
func (rk *runningKubelet) stop(t testing.TB) {
	t.Helper()
	rk.cancel()
	select {
	case <-rk.done:
		if rk.err != nil {
			t.Errorf("kubelet Run: %v", rk.err)
		}
	case <-time.After(waitTimeout):
		t.Fatalf("kubelet did not stop within %v", waitTimeout)
	}
}

// fake returns the fake runtime of node name.
func (rk *runningKubelet) fake(name string) *fake.Runtime {
	return rk.byName[name].rt.(*fake.Runtime)
}

func (c *cluster) startKubelet(cfg Config) *runningKubelet {
	c.t.Helper()
	k, err := New(cfg)
	if err != nil {
		c.t.Fatalf("kubelet.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rk := &runningKubelet{Kubelet: k, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(rk.done)
		rk.err = k.Run(ctx)
	}()
	c.t.Cleanup(func() { rk.stop(c.t) })
	return rk
}

// pod returns a pod bound to node with one container per image.
func pod(name, node string, images ...string) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: meta.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": name}},
		Spec:       corev1.PodSpec{NodeName: node, TerminationGracePeriodSeconds: meta.Int64p(5)},
	}
	for i, img := range images {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: containerName(i), Image: img})
	}
	return p
}

func containerName(i int) string {
	if i == 0 {
		return "app"
	}
	return fmt.Sprintf("app%d", i+1)
}

func (c *cluster) create(p *corev1.Pod) *corev1.Pod {
	c.t.Helper()
	out, err := c.pods.Create(c.t.Context(), p, client.CreateOptions{})
	if err != nil {
		c.t.Fatalf("create pod %s: %v", p.Name, err)
	}
	return out
}

func (c *cluster) get(name string) *corev1.Pod {
	c.t.Helper()
	p, err := c.pods.Namespace("default").Get(c.t.Context(), name)
	if err != nil {
		c.t.Fatalf("get pod %s: %v", name, err)
	}
	return p
}

// waitPod polls the pod until cond holds, failing after waitTimeout with
// the pod's last status.
func (c *cluster) waitPod(name, what string, cond func(*corev1.Pod) bool) *corev1.Pod {
	c.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	var last *corev1.Pod
	for time.Now().Before(deadline) {
		p, err := c.pods.Namespace("default").Get(c.t.Context(), name)
		if err == nil {
			last = p
			if cond(p) {
				return p
			}
		} else if !meta.IsNotFound(err) {
			c.t.Fatalf("get pod %s: %v", name, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.t.Fatalf("pod %s: %s not reached within %v; last status:\n%s", name, what, waitTimeout, describe(last))
	return nil
}

// waitGone waits until the pod no longer exists.
func (c *cluster) waitGone(name string) {
	c.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for time.Now().Before(deadline) {
		_, err := c.pods.Namespace("default").Get(c.t.Context(), name)
		if meta.IsNotFound(err) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.t.Fatalf("pod %s still exists after %v:\n%s", name, waitTimeout, describe(c.get(name)))
}

func running(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning }

func runningAndReady(p *corev1.Pod) bool { return running(p) && corev1.IsPodReady(p) }

func phase(ph corev1.PodPhase) func(*corev1.Pod) bool {
	return func(p *corev1.Pod) bool { return p.Status.Phase == ph }
}

// describe renders a pod's status for failure messages.
func describe(p *corev1.Pod) string {
	if p == nil {
		return "<no pod>"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "phase=%s podIP=%s deleting=%v\n", p.Status.Phase, p.Status.PodIP, p.DeletionTimestamp != nil)
	for _, c := range p.Status.Conditions {
		fmt.Fprintf(&b, "  condition %s=%s %s %s\n", c.Type, c.Status, c.Reason, c.Message)
	}
	for _, list := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
		for _, cs := range list {
			fmt.Fprintf(&b, "  container %s: %s ready=%v restarts=%d last=%s\n", cs.Name, stateString(cs.State), cs.Ready, cs.RestartCount, stateString(cs.LastTerminationState))
		}
	}
	return b.String()
}

func stateString(s corev1.ContainerState) string {
	switch {
	case s.Running != nil:
		return "running"
	case s.Waiting != nil:
		return "waiting(" + s.Waiting.Reason + ": " + s.Waiting.Message + ")"
	case s.Terminated != nil:
		return fmt.Sprintf("terminated(%d %s)", s.Terminated.ExitCode, s.Terminated.Reason)
	}
	return "none"
}

// containerStatus returns the status of container name.
func containerStatus(p *corev1.Pod, name string) corev1.ContainerStatus {
	for _, list := range [][]corev1.ContainerStatus{p.Status.ContainerStatuses, p.Status.InitContainerStatuses} {
		for _, cs := range list {
			if cs.Name == name {
				return cs
			}
		}
	}
	return corev1.ContainerStatus{}
}

func condition(p *corev1.Pod, t corev1.PodConditionType) corev1.PodCondition {
	if _, c := corev1.GetPodCondition(&p.Status, t); c != nil {
		return *c
	}
	return corev1.PodCondition{}
}

// events returns the events about the pod, as "Reason: message".
func (c *cluster) events(p *corev1.Pod) []string {
	c.t.Helper()
	evs, _, err := c.eventsClient().Namespace(p.Namespace).List(c.t.Context(), client.ListOptions{FieldSelector: "involvedObject.uid=" + p.UID})
	if err != nil {
		c.t.Fatalf("list events: %v", err)
	}
	var out []string
	for _, e := range evs {
		if e.Source.Component != "kubelet" || e.Source.Host != p.Spec.NodeName {
			c.t.Errorf("event %s has source %+v, want kubelet on %s", e.Name, e.Source, p.Spec.NodeName)
		}
		out = append(out, e.Reason+": "+e.Message)
	}
	return out
}

func (c *cluster) eventsClient() *client.Resource[corev1.Event, *corev1.Event] {
	return client.NewResource[corev1.Event](c.client, meta.GroupVersionResource{Version: "v1", Resource: "events"}, true)
}

// waitEvent waits for an event about the pod whose "Reason: message"
// contains want.
func (c *cluster) waitEvent(p *corev1.Pod, want string) {
	c.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	var got []string
	for time.Now().Before(deadline) {
		got = c.events(p)
		for _, e := range got {
			if strings.Contains(e, want) {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("no event %q about pod %s within %v; events:\n%s", want, p.Name, waitTimeout, strings.Join(got, "\n"))
}

// containersOf lists the fake runtime's containers of a pod.
func containersOf(t *testing.T, rt *fake.Runtime, uid string) []*runtime.Container {
	t.Helper()
	list, err := rt.ListContainers(t.Context(), runtime.ContainerFilter{PodUID: uid})
	if err != nil {
		t.Fatal(err)
	}
	return list
}
