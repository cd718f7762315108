// Package kubelettest runs a small cluster in the test's process for tests
// of what needs a node: an apiserver (memory storage, plain HTTP on a
// loopback port) and a kubelet on the fake runtime whose node the
// apiserver reaches on 127.0.0.1, so pods run, kl logs and kl exec work.
// No controllers or scheduler run: tests create pods bound to the node
// (spec.nodeName).
package kubelettest

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/api/resource"
	"github.com/kl-dev/kl/pkg/apiserver"
	"github.com/kl-dev/kl/pkg/apiserver/apiservertest"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/kubelet"
	"github.com/kl-dev/kl/pkg/kubelet/runtime"
	"github.com/kl-dev/kl/pkg/kubelet/runtime/fake"
)

// WaitTimeout bounds every wait of the package.
const WaitTimeout = 15 * time.Second

// Cluster is an apiserver and one node.
type Cluster struct {
	// URL is the apiserver's URL (http://127.0.0.1:PORT).
	URL string
	// Client talks to the apiserver.
	Client *client.Client
	// Node is the node's name.
	Node string
	// Runtime is the node's fake runtime (tests write container logs
	// with Runtime.WriteLog).
	Runtime *fake.Runtime
	// Pods is the typed client of pods.
	Pods *client.Resource[corev1.Pod, *corev1.Pod]
}

// Start runs an apiserver and a kubelet for node "n1" until the test ends.
// mutate, if given, changes the kubelet's config first.
func Start(t testing.TB, mutate ...func(*kubelet.Config)) *Cluster {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	if os.Getenv("KL_TEST_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	url := apiservertest.Start(t, func(c *apiserver.Config) { c.Logger = logger })
	c := apiservertest.Client(t, url)
	cl := &Cluster{
		URL: url, Client: c, Node: "n1",
		Pods: client.NewResource[corev1.Pod](c, meta.GroupVersionResource{Version: "v1", Resource: "pods"}, true),
	}
	cfg := kubelet.Config{
		Client: c, NodeName: cl.Node, Runtime: kubelet.RuntimeFake, NodeIP: "127.0.0.1",
		DataDir:       t.TempDir(),
		Capacity:      corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi"), corev1.ResourcePods: resource.MustParse("110")},
		FakeExitDelay: 20 * time.Millisecond, CrashLoopBackOffBase: 100 * time.Millisecond, CrashLoopBackOffMax: 800 * time.Millisecond,
		NodeStatusUpdateFrequency: 100 * time.Millisecond, NodeStatusReportFrequency: time.Second,
		NodeLeaseDuration: 400 * time.Millisecond, ResyncInterval: 500 * time.Millisecond, ObjectSyncPeriod: 100 * time.Millisecond,
		EventQPS: 1000, EventBurst: 1000, Logger: logger,
	}
	cfg.NewRuntime = func(node string, _ int, cidr string) (runtime.Runtime, error) {
		rt, err := fake.New(fake.Config{PodCIDR: cidr, NodeIP: cfg.NodeIP, ExitDelay: cfg.FakeExitDelay, Logger: logger})
		cl.Runtime = rt
		return rt, err
	}
	for _, m := range mutate {
		m(&cfg)
	}
	k, err := kubelet.New(cfg)
	if err != nil {
		t.Fatalf("kubelet.New: %v", err)
	}
	kctx, kcancel := context.WithCancel(context.Background())
	kdone := make(chan error, 1)
	go func() { kdone <- k.Run(kctx) }()
	// Registered after the apiserver's: runs first, so the kubelet stops
	// while the apiserver still answers.
	t.Cleanup(func() {
		kcancel()
		select {
		case err := <-kdone:
			if err != nil {
				t.Errorf("kubelet run: %v", err)
			}
		case <-time.After(WaitTimeout):
			t.Errorf("kubelet did not stop within %v", WaitTimeout)
		}
	})
	return cl
}

// Pod returns a pod in namespace default bound to the node, with one
// container per name (image nginx: it runs until stopped).
func (c *Cluster) Pod(name string, containers ...string) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: meta.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": name}},
		Spec:       corev1.PodSpec{NodeName: c.Node, TerminationGracePeriodSeconds: meta.Int64p(1)},
	}
	for _, n := range containers {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: n, Image: "nginx"})
	}
	return p
}

// Create creates the pod.
func (c *Cluster) Create(t testing.TB, p *corev1.Pod) *corev1.Pod {
	t.Helper()
	out, err := c.Pods.Create(t.Context(), p, client.CreateOptions{})
	if err != nil {
		t.Fatalf("create pod %s: %v", p.Name, err)
	}
	return out
}

// WaitRunning waits until the pod is Running with every container
// running, and returns it.
func (c *Cluster) WaitRunning(t testing.TB, name string) *corev1.Pod {
	t.Helper()
	return c.WaitPod(t, name, "Running", func(p *corev1.Pod) bool {
		if p.Status.Phase != corev1.PodRunning {
			return false
		}
		for _, cs := range p.Status.ContainerStatuses {
			if cs.State.Running == nil {
				return false
			}
		}
		return true
	})
}

// WaitPod polls pod name in default until cond holds.
func (c *Cluster) WaitPod(t testing.TB, name, what string, cond func(*corev1.Pod) bool) *corev1.Pod {
	t.Helper()
	deadline := time.Now().Add(WaitTimeout)
	var last *corev1.Pod
	for time.Now().Before(deadline) {
		p, err := c.Pods.Namespace("default").Get(t.Context(), name)
		if err == nil {
			last = p
			if cond(p) {
				return p
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("pod %s not %s within %v: %+v", name, what, WaitTimeout, last)
	return nil
}

// ContainerID returns the runtime ID of a container of the pod (from its
// status), for Runtime.WriteLog.
func ContainerID(p *corev1.Pod, container string) string {
	for _, cs := range append(p.Status.ContainerStatuses, p.Status.InitContainerStatuses...) {
		if cs.Name == container {
			_, id, _ := strings.Cut(cs.ContainerID, "://")
			return id
		}
	}
	return ""
}

// WriteLog appends lines to a container's log.
func (c *Cluster) WriteLog(t testing.TB, p *corev1.Pod, container string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if err := c.Runtime.WriteLog(ContainerID(p, container), "stdout", l+"\n"); err != nil {
			t.Fatalf("write log of %s/%s: %v", p.Name, container, err)
		}
	}
}
