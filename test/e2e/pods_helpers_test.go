package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/api/resource"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/test/e2e/framework"
)

// This file holds what the pod tests (pods_test.go) share: a cluster made
// of `kl server --runtime fake` and `kl agent` processes, and readers of
// its pods, nodes and events.

// Deadlines of the pod tests: generous, for a loaded 2-core machine. The
// polls end as soon as their condition holds.
const (
	podsStartTimeout = 90 * time.Second
	podsPollInterval = 250 * time.Millisecond
)

// podsClusterConfig describes a podsCluster.
type podsClusterConfig struct {
	// noServerNode runs the server with --no-agent (control plane only).
	noServerNode bool
	// serverCapacity is the --capacity of the server's own node, named
	// "server".
	serverCapacity string
	// leaseDuration, if set, is every node's --node-lease-duration.
	leaseDuration time.Duration
	// serverArgs are more flags of `kl server`.
	serverArgs []string
}

// podsCluster is one `kl server --insecure --runtime fake` process
// (apiserver, controllers, scheduler and, unless noServerNode, a node
// named "server") and the `kl agent` processes that joined it. Every
// process is killed when the test ends.
type podsCluster struct {
	t      *testing.T
	cfg    podsClusterConfig
	url    string
	server *framework.Process
	cli    *framework.CLI
	pods   *client.Resource[corev1.Pod, *corev1.Pod]
	nodes  *client.Resource[corev1.Node, *corev1.Node]
	events *client.Resource[corev1.Event, *corev1.Event]
}

// podsAgent is a `kl agent` process and what it takes to start it again.
type podsAgent struct {
	name string
	args []string
	proc *framework.Process
}

// startPodsCluster starts the server and waits until its node (if any) is
// Ready.
func startPodsCluster(t *testing.T, cfg podsClusterConfig) *podsCluster {
	t.Helper()
	args := []string{"--runtime", "fake", "--node-name", "server"}
	if cfg.noServerNode {
		args = append(args, "--no-agent")
	}
	if cfg.serverCapacity != "" {
		args = append(args, "--capacity", cfg.serverCapacity)
	}
	if cfg.leaseDuration > 0 {
		args = append(args, "--node-lease-duration", cfg.leaseDuration.String())
	}
	proc, url := framework.Server(t, klBinary, t.TempDir(), append(args, cfg.serverArgs...)...)
	c, err := client.New(client.Config{Servers: []string{url}, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	pc := &podsCluster{
		t: t, cfg: cfg, url: url, server: proc, cli: framework.NewCLI(t, klBinary, url),
		pods:   client.NewResource[corev1.Pod](c, meta.GroupVersionResource{Version: "v1", Resource: "pods"}, true).Namespace("default"),
		nodes:  client.NewResource[corev1.Node](c, meta.GroupVersionResource{Version: "v1", Resource: "nodes"}, false),
		events: client.NewResource[corev1.Event](c, meta.GroupVersionResource{Version: "v1", Resource: "events"}, true).Namespace("default"),
	}
	if !cfg.noServerNode {
		pc.waitNodeReady("server")
	}
	return pc
}

// startAgent starts `kl agent` for node name with the given --capacity and
// waits until its node is Ready.
func (pc *podsCluster) startAgent(name, capacity string) *podsAgent {
	pc.t.Helper()
	a := &podsAgent{name: name, args: []string{
		"agent", "--server", pc.url, "--node-name", name, "--runtime", "fake",
		"--data-dir", pc.t.TempDir(), "--kubelet-port", "0", "--capacity", capacity,
	}}
	if pc.cfg.leaseDuration > 0 {
		a.args = append(a.args, "--node-lease-duration", pc.cfg.leaseDuration.String())
	}
	pc.restartAgent(a)
	return a
}

// restartAgent starts the agent's process (again: same node name, same
// data directory) and waits until its node is Ready.
func (pc *podsCluster) restartAgent(a *podsAgent) {
	pc.t.Helper()
	a.proc = framework.Start(pc.t, klBinary, "agent-"+a.name, a.args...)
	pc.waitNodeReady(a.name)
}

// dataDir is the agent's --data-dir.
func (a *podsAgent) dataDir() string {
	for i, arg := range a.args {
		if arg == "--data-dir" {
			return a.args[i+1]
		}
	}
	return ""
}

// waitNodeReady waits until node name reports Ready=True.
func (pc *podsCluster) waitNodeReady(name string) {
	pc.t.Helper()
	framework.Eventually(pc.t, podsStartTimeout, podsPollInterval, "node "+name+" Ready", func() (bool, string) {
		n, err := pc.nodes.Get(context.Background(), name)
		if err != nil {
			return false, err.Error()
		}
		return corev1.IsNodeReady(n), "Ready is " + nodeReadyStatus(n)
	})
}

// nodeReadyStatus returns the status of the node's Ready condition
// ("missing" if it has none).
func nodeReadyStatus(n *corev1.Node) string {
	if _, c := corev1.GetNodeCondition(&n.Status, corev1.NodeReady); c != nil {
		return string(c.Status)
	}
	return "missing"
}

// apply writes text into a file and runs `kl apply -f` on it.
func (pc *podsCluster) apply(name, text string) {
	pc.t.Helper()
	path := filepath.Join(pc.t.TempDir(), name+".yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		pc.t.Fatal(err)
	}
	pc.cli.Must("apply", "-f", path)
}

// listPods lists the pods of namespace default matching selector ("" for
// all) through the API.
func (pc *podsCluster) listPods(selector string) ([]*corev1.Pod, error) {
	pods, _, err := pc.pods.List(context.Background(), client.ListOptions{LabelSelector: selector})
	return pods, err
}

// getPodsCLI reads the pods of namespace default matching selector with
// `kl get pods -o json`, as a user would.
func (pc *podsCluster) getPodsCLI(selector string) []corev1.Pod {
	pc.t.Helper()
	args := []string{"get", "pods", "-o", "json"}
	if selector != "" {
		args = append(args, "-l", selector)
	}
	out := pc.cli.Must(args...)
	var list corev1.PodList
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		pc.t.Fatalf("kl get pods -o json: %v\n%s", err, out)
	}
	return list.Items
}

// waitPodsRunning waits until exactly n pods match selector, none of them
// being deleted, all Running; it returns them.
func (pc *podsCluster) waitPodsRunning(selector string, n int, timeout time.Duration) []*corev1.Pod {
	pc.t.Helper()
	var pods []*corev1.Pod
	framework.Eventually(pc.t, timeout, podsPollInterval, fmt.Sprintf("%d pods %s Running", n, selector), func() (bool, string) {
		var err error
		pods, err = pc.listPods(selector)
		if err != nil {
			return false, err.Error()
		}
		return len(pods) == n && countPods(pods, isRunning) == n, summarizePods(pods)
	})
	return pods
}

// isRunning reports whether the pod is Running and not being deleted.
func isRunning(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil
}

func countPods(pods []*corev1.Pod, pred func(*corev1.Pod) bool) int {
	n := 0
	for _, p := range pods {
		if pred(p) {
			n++
		}
	}
	return n
}

// summarizePods says how many pods there are per node and phase, e.g.
// "12 pods: a1/Running=4 server/Pending=8", for failure messages.
func summarizePods(pods []*corev1.Pod) string {
	count := map[string]int{}
	for _, p := range pods {
		node := p.Spec.NodeName
		if node == "" {
			node = "(unbound)"
		}
		phase := string(p.Status.Phase)
		if p.DeletionTimestamp != nil {
			phase += "(deleting)"
		}
		count[node+"/"+phase]++
	}
	keys := make([]string, 0, len(count))
	for k := range count {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "%d pods:", len(pods))
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%d", k, count[k])
	}
	return b.String()
}

// podsByNode groups pods by spec.nodeName.
func podsByNode(pods []*corev1.Pod) map[string][]*corev1.Pod {
	by := map[string][]*corev1.Pod{}
	for _, p := range pods {
		by[p.Spec.NodeName] = append(by[p.Spec.NodeName], p)
	}
	return by
}

// podRequests sums the requests of the pod's containers (the pods of these
// tests have no init containers), as the scheduler counts them.
func podRequests(p *corev1.Pod) corev1.ResourceList {
	sum := corev1.ResourceList{}
	for _, c := range p.Spec.Containers {
		for name, q := range c.Resources.Requests {
			cur := sum[name]
			cur.Add(q)
			sum[name] = cur
		}
	}
	return sum
}

// checkWithinAllocatable fails the test if the pods bound to a node
// request more cpu or memory than its allocatable, or are more than its
// pods allocatable.
func checkWithinAllocatable(t *testing.T, nodes []*corev1.Node, pods []*corev1.Pod) {
	t.Helper()
	by := podsByNode(pods)
	for _, n := range nodes {
		used := corev1.ResourceList{}
		for _, p := range by[n.Name] {
			for name, q := range podRequests(p) {
				cur := used[name]
				cur.Add(q)
				used[name] = cur
			}
		}
		alloc := n.Status.Allocatable
		for _, name := range []resource.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			u, a := used[name], alloc[name]
			if u.Cmp(a) > 0 {
				t.Errorf("node %s: its %d pods request %s %s, more than its allocatable %s", n.Name, len(by[n.Name]), u.String(), name, a.String())
			}
		}
		maxPods := alloc[corev1.ResourcePods]
		if maxPods.CmpInt64(int64(len(by[n.Name]))) < 0 {
			t.Errorf("node %s holds %d pods, more than its allocatable %s", n.Name, len(by[n.Name]), maxPods.String())
		}
	}
}

// podState is what a kubelet restart must not change in a running pod.
type podState struct {
	Node, IP    string
	ContainerID string
	Restarts    int32
	StartedAt   string
}

// stateOf returns the pod's podState (of its first container).
func stateOf(p *corev1.Pod) podState {
	s := podState{Node: p.Spec.NodeName, IP: p.Status.PodIP}
	if len(p.Status.ContainerStatuses) > 0 {
		cs := p.Status.ContainerStatuses[0]
		s.ContainerID, s.Restarts = cs.ContainerID, cs.RestartCount
		if cs.State.Running != nil {
			s.StartedAt = cs.State.Running.StartedAt.UTC().Format(time.RFC3339)
		}
	}
	return s
}

// podEvents returns the events about the pod called name.
func (pc *podsCluster) podEvents(name string) ([]*corev1.Event, error) {
	evs, _, err := pc.events.List(context.Background(), client.ListOptions{FieldSelector: "involvedObject.kind=Pod,involvedObject.name=" + name})
	return evs, err
}

// deploymentYAML is a Deployment of replicas pods of image nginx, each
// requesting cpu and 64Mi of memory.
func deploymentYAML(name string, replicas int, cpu string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
spec:
  replicas: %[2]d
  selector:
    matchLabels: {app: %[1]s}
  template:
    metadata:
      labels: {app: %[1]s}
    spec:
      containers:
      - name: app
        image: nginx:1.27
        resources:
          requests: {cpu: %[3]s, memory: 64Mi}
`, name, replicas, cpu)
}

// checkMemoryTarget checks that the server runs with Go's memory limit at
// its default --memory-target, as its own metrics report it.
func checkMemoryTarget(t *testing.T, url string, want int64) {
	t.Helper()
	if os.Getenv("GOMEMLIMIT") != "" {
		return // the user's limit wins, by design
	}
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(line, "go_gc_gomemlimit_bytes "); ok {
			got, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			// At least the target (the limit follows live data beyond it),
			// and a limit at all (Go's default is math.MaxInt64).
			if err != nil || int64(got) < want || got > 1<<40 {
				t.Errorf("kl server's memory limit is %s, want the default target %d or a little more", strings.TrimSpace(v), want)
			}
			return
		}
	}
	t.Errorf("kl server's /metrics has no go_gc_gomemlimit_bytes")
}
