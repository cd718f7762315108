package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/test/e2e/framework"
)

// The pod tests run `kl server --runtime fake` (control plane and a node)
// and `kl agent` processes (more nodes) on loopback, and check what a user
// sees of pods: scheduling within the nodes' resources, unschedulable
// pods, graceful deletion, a lost node's pods moving away, and a kubelet
// restart that keeps its pods running.

// nodeCapacity is the capacity of the small nodes: 1 CPU holds 10 pods of
// 100m, so a 3-node cluster holds exactly 30.
const nodeCapacity = "cpu=1,memory=2Gi,pods=15"

// TestPodsScheduledWithinNodeResourcesAndRunning: 30 pods of a Deployment
// on 3 nodes (the server's and two agents) whose CPUs they fill exactly
// are all bound, none beyond a node's allocatable, and all Running, each
// with its own pod IP.
func TestPodsScheduledWithinNodeResourcesAndRunning(t *testing.T) {
	pc := startPodsCluster(t, podsClusterConfig{serverCapacity: nodeCapacity})
	pc.startAgent("agent-1", nodeCapacity)
	pc.startAgent("agent-2", nodeCapacity)

	pc.apply("web", deploymentYAML("web", 30, "100m"))
	pods := pc.waitPodsRunning("app=web", 30, podsStartTimeout)

	nodes, _, err := pc.nodes.List(context.Background(), client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 3 {
		t.Fatalf("the cluster has %d nodes, want 3", len(nodes))
	}
	checkWithinAllocatable(t, nodes, pods)
	checkMemoryTarget(t, pc.url, 240<<20)
	for node, on := range podsByNode(pods) {
		if len(on) != 10 {
			t.Errorf("node %s holds %d pods of 100m; 1 CPU holds 10 and the 30 fill the 3 nodes exactly", node, len(on))
		}
	}

	// What `kl get pods -o json` shows a user.
	ips := map[string]string{}
	for _, p := range pc.getPodsCLI("app=web") {
		if p.Status.Phase != corev1.PodRunning || p.Spec.NodeName == "" || p.Status.PodIP == "" {
			t.Errorf("kl get pods: %s is %s on node %q with IP %q, want Running on a node with an IP", p.Name, p.Status.Phase, p.Spec.NodeName, p.Status.PodIP)
			continue
		}
		if other, ok := ips[p.Status.PodIP]; ok {
			t.Errorf("pods %s and %s have the same IP %s", other, p.Name, p.Status.PodIP)
		}
		ips[p.Status.PodIP] = p.Name
		if _, c := corev1.GetPodCondition(&p.Status, corev1.PodScheduled); c == nil || c.Status != corev1.ConditionTrue {
			t.Errorf("pod %s has no PodScheduled=True condition", p.Name)
		}
	}
}

// TestUnschedulablePodWaitsForANodeThatFits: a pod that requests more CPU
// than any node has stays Pending with PodScheduled=False, reason
// Unschedulable, and kube-scheduler's FailedScheduling event; it is bound
// to the first node that fits as soon as that node joins.
func TestUnschedulablePodWaitsForANodeThatFits(t *testing.T) {
	pc := startPodsCluster(t, podsClusterConfig{serverCapacity: nodeCapacity})
	pc.startAgent("agent-1", nodeCapacity)
	pc.startAgent("agent-2", nodeCapacity)

	pc.apply("huge", `apiVersion: v1
kind: Pod
metadata:
  name: huge
spec:
  containers:
  - name: app
    image: nginx:1.27
    resources:
      requests: {cpu: "64"}
`)
	const want = "0/3 nodes are available: 3 Insufficient cpu."
	framework.Eventually(t, podsStartTimeout, podsPollInterval, "pod huge marked Unschedulable with event "+want, func() (bool, string) {
		p, err := pc.pods.Get(context.Background(), "huge")
		if err != nil {
			return false, err.Error()
		}
		_, c := corev1.GetPodCondition(&p.Status, corev1.PodScheduled)
		if c == nil || c.Status != corev1.ConditionFalse || c.Reason != "Unschedulable" {
			return false, fmt.Sprintf("PodScheduled condition %+v", c)
		}
		if c.Message != want {
			return false, fmt.Sprintf("PodScheduled message %q, want %q", c.Message, want)
		}
		evs, err := pc.podEvents("huge")
		if err != nil {
			return false, err.Error()
		}
		var seen []string
		for _, e := range evs {
			if e.Reason == "FailedScheduling" && e.Type == "Warning" && e.Message == want {
				return true, ""
			}
			seen = append(seen, e.Type+" "+e.Reason+": "+e.Message)
		}
		return false, fmt.Sprintf("events %q", seen)
	})
	p, err := pc.pods.Get(context.Background(), "huge")
	if err != nil {
		t.Fatal(err)
	}
	if p.Status.Phase != corev1.PodPending || p.Spec.NodeName != "" {
		t.Fatalf("pod huge is %s on node %q, want Pending and unbound", p.Status.Phase, p.Spec.NodeName)
	}

	pc.startAgent("big", "cpu=128,memory=2Gi,pods=15")
	joined := time.Now()
	framework.Eventually(t, podsStartTimeout, podsPollInterval, "pod huge Running on node big", func() (bool, string) {
		p, err := pc.pods.Get(context.Background(), "huge")
		if err != nil {
			return false, err.Error()
		}
		return p.Spec.NodeName == "big" && isRunning(p), fmt.Sprintf("%s on node %q", p.Status.Phase, p.Spec.NodeName)
	})
	took := time.Since(joined)
	t.Logf("pod huge Running %s after node big turned Ready", took.Round(time.Millisecond))
	// The scheduler retries unschedulable pods when a node is added, not
	// only every 30s (its unschedulable timeout, which would come some
	// 25s after the node joined here).
	if took > 20*time.Second {
		t.Errorf("pod huge took %s to run on node big after it joined: the scheduler did not retry it when the node was added", took)
	}
}

// TestDeletedPodStoppedByItsKubeletThenRemoved: a deleted pod first shows
// a deletionTimestamp, its kubelet stops its container (SIGTERM, then
// SIGKILL at the end of the grace period for one that ignores SIGTERM) and
// only then is the pod removed from the API.
func TestDeletedPodStoppedByItsKubeletThenRemoved(t *testing.T) {
	pc := startPodsCluster(t, podsClusterConfig{})
	tests := []struct {
		name  string
		image string
		grace int64
		// The pod must be gone at least min and less than max after
		// the delete.
		min, max time.Duration
	}{
		// Stops at SIGTERM: gone long before its grace period ends.
		{name: "stops-at-sigterm", image: "nginx:1.27", grace: 60, max: 45 * time.Second},
		// Ignores SIGTERM: killed when its 3s of grace are over.
		{name: "ignores-sigterm", image: "kl.test/ignore-sigterm", grace: 3, min: 3 * time.Second, max: 90 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pc.apply(tc.name, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: %s
  labels: {test: %[1]s}
spec:
  terminationGracePeriodSeconds: %d
  containers:
  - name: app
    image: %s
`, tc.name, tc.grace, tc.image))
			running := pc.waitPodsRunning("test="+tc.name, 1, podsStartTimeout)[0]

			ctx, cancel := context.WithTimeout(context.Background(), tc.max+30*time.Second)
			defer cancel()
			events, err := pc.pods.Watch(ctx, client.ListOptions{FieldSelector: "metadata.name=" + tc.name, ResourceVersion: running.ResourceVersion})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			pc.cli.Must("delete", "pod", tc.name)

			var marked time.Duration // when the deletionTimestamp showed
			var gone time.Duration
			for gone == 0 {
				var ev client.Event[*corev1.Pod]
				var ok bool
				select {
				case ev, ok = <-events:
				case <-ctx.Done():
				}
				if !ok {
					t.Fatalf("pod %s: the watch ended before the pod was deleted (deletionTimestamp seen after %s)", tc.name, marked)
				}
				switch ev.Type {
				case meta.Modified:
					if ev.Object.DeletionTimestamp != nil && marked == 0 {
						marked = time.Since(start)
						if g := ev.Object.DeletionGracePeriodSeconds; g == nil || *g != tc.grace {
							t.Errorf("pod %s: deletionGracePeriodSeconds %v, want %d", tc.name, g, tc.grace)
						}
					}
				case meta.Deleted:
					gone = time.Since(start)
				}
			}
			t.Logf("pod %s: deletionTimestamp after %s, gone after %s", tc.name, marked.Round(time.Millisecond), gone.Round(time.Millisecond))
			if marked == 0 {
				t.Errorf("pod %s was removed without first showing a deletionTimestamp", tc.name)
			}
			if gone < tc.min || gone >= tc.max {
				t.Errorf("pod %s gone %s after the delete, want within [%s, %s) (grace period %ds)", tc.name, gone, tc.min, tc.max, tc.grace)
			}
			if _, _, err := pc.cli.Run("get", "pod", tc.name); err == nil {
				t.Errorf("kl get pod %s still finds it", tc.name)
			}
			framework.Eventually(t, 30*time.Second, podsPollInterval, "a Killing event for pod "+tc.name, func() (bool, string) {
				evs, err := pc.podEvents(tc.name)
				if err != nil {
					return false, err.Error()
				}
				var seen []string
				for _, e := range evs {
					if e.Reason == "Killing" && e.Source.Component == "kubelet" && e.Message == "Stopping container app" {
						return true, ""
					}
					seen = append(seen, e.Reason+": "+e.Message)
				}
				return false, fmt.Sprintf("events %q", seen)
			})
		})
	}
}

// TestLostNodeTurnsNotReadyAndItsPodsMove: when an agent is killed
// (SIGKILL) its node's Ready condition turns Unknown after the node
// monitor grace period, its pods are deleted after the eviction timeout,
// and their Deployment recreates them on the other nodes; the pods of the
// healthy nodes are left alone.
func TestLostNodeTurnsNotReadyAndItsPodsMove(t *testing.T) {
	const grace, eviction = 4 * time.Second, 5 * time.Second
	pc := startPodsCluster(t, podsClusterConfig{
		serverCapacity: nodeCapacity,
		// Lease renewed every 500ms: a healthy node never stays silent
		// for the grace period.
		leaseDuration: 2 * time.Second,
		serverArgs:    []string{"--node-monitor-grace-period", grace.String(), "--pod-eviction-timeout", eviction.String()},
	})
	agents := map[string]*podsAgent{}
	for _, name := range []string{"agent-1", "agent-2"} {
		agents[name] = pc.startAgent(name, nodeCapacity)
	}

	pc.apply("web", deploymentYAML("web", 12, "100m"))
	pods := pc.waitPodsRunning("app=web", 12, podsStartTimeout)
	by := podsByNode(pods)
	victim := "agent-1"
	if len(by["agent-2"]) > len(by[victim]) {
		victim = "agent-2"
	}
	if len(by[victim]) == 0 {
		t.Fatalf("no pod on either agent: %s", summarizePods(pods))
	}
	lost := map[string]string{} // UID -> name of the pods on the victim
	kept := map[string]string{} // UID -> name of the others
	for _, p := range pods {
		if p.Spec.NodeName == victim {
			lost[p.UID] = p.Name
		} else {
			kept[p.UID] = p.Name
		}
	}

	killed := time.Now()
	agents[victim].proc.Kill()

	framework.Eventually(t, 60*time.Second, podsPollInterval, "node "+victim+" Ready=Unknown", func() (bool, string) {
		n, err := pc.nodes.Get(context.Background(), victim)
		if err != nil {
			return false, err.Error()
		}
		return nodeReadyStatus(n) == string(corev1.ConditionUnknown), "Ready is " + nodeReadyStatus(n)
	})
	notReady := time.Since(killed)
	// The controller counts the grace period from the last lease renewal
	// it saw, at most a renewal interval (500ms) before the kill.
	if notReady < grace-time.Second {
		t.Errorf("node %s turned Ready=Unknown %s after its agent died, before the %s grace period", victim, notReady, grace)
	}
	out := pc.cli.Must("get", "nodes")
	shown := false
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == victim && f[1] == "Unknown" {
			shown = true
		}
	}
	if !shown {
		t.Errorf("kl get nodes does not show %s as Unknown:\n%s", victim, out)
	}

	framework.Eventually(t, 90*time.Second, podsPollInterval, fmt.Sprintf("the %d pods of %s deleted", len(lost), victim), func() (bool, string) {
		pods, err := pc.listPods("app=web")
		if err != nil {
			return false, err.Error()
		}
		var left []string
		for _, p := range pods {
			if name, ok := lost[p.UID]; ok {
				left = append(left, name)
			}
		}
		return len(left) == 0, fmt.Sprintf("still there: %v", left)
	})
	evicted := time.Since(killed)
	// Eviction counts from the NoExecute taint's timeAdded, which has
	// whole seconds (as in Kubernetes): up to a second early.
	if evicted < grace+eviction-2*time.Second {
		t.Errorf("the pods of %s were deleted %s after its agent died, before the grace period (%s) and the eviction timeout (%s)", victim, evicted, grace, eviction)
	}

	pods = pc.waitPodsRunning("app=web", 12, podsStartTimeout)
	t.Logf("node %s: Ready=Unknown after %s, its %d pods deleted after %s, all 12 Running again after %s",
		victim, notReady.Round(time.Millisecond), len(lost), evicted.Round(time.Millisecond), time.Since(killed).Round(time.Millisecond))
	for _, p := range pods {
		if p.Spec.NodeName == victim {
			t.Errorf("pod %s is on the lost node %s", p.Name, victim)
		}
		delete(kept, p.UID)
	}
	for uid, name := range kept {
		t.Errorf("pod %s (%s) of a healthy node was replaced", name, uid)
	}
	nodes, _, err := pc.nodes.List(context.Background(), client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkWithinAllocatable(t, nodes, pods)
}

// TestKubeletRestartKeepsRunningPods: an agent stopped (SIGTERM) or killed
// (SIGKILL) and started again with the same data directory and node name
// adopts the pods it ran: the same pods, the same containers (restart
// count, container ID, start time) and the same pod IPs.
func TestKubeletRestartKeepsRunningPods(t *testing.T) {
	tests := []struct {
		name string
		stop func(t *testing.T, pc *podsCluster, a *podsAgent, pods []*corev1.Pod)
	}{
		{name: "SIGTERM", stop: func(t *testing.T, _ *podsCluster, a *podsAgent, _ []*corev1.Pod) {
			if err := a.proc.Stop(60 * time.Second); err != nil {
				t.Fatalf("kl agent on SIGTERM: %v", err)
			}
		}},
		{name: "SIGKILL", stop: func(t *testing.T, _ *podsCluster, a *podsAgent, pods []*corev1.Pod) {
			// The fake runtime writes its state (the node's "docker
			// ps") at most a second after a change: kill the agent
			// once it holds every container, as Docker would.
			waitRuntimeState(t, a, pods)
			a.proc.Kill()
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pc := startPodsCluster(t, podsClusterConfig{noServerNode: true})
			a := pc.startAgent("agent-1", nodeCapacity)
			pc.apply("web", deploymentYAML("web", 5, "100m"))
			pods := pc.waitPodsRunning("app=web", 5, podsStartTimeout)
			before := map[string]podState{}
			for _, p := range pods {
				before[p.UID] = stateOf(p)
			}

			tc.stop(t, pc, a, pods)
			pc.restartAgent(a)

			// A pod created after the restart is started by the new
			// kubelet, whose workers took over the old pods first.
			pc.apply("probe", `apiVersion: v1
kind: Pod
metadata:
  name: probe
  labels: {test: probe}
spec:
  containers:
  - name: app
    image: nginx:1.27
`)
			pc.waitPodsRunning("test=probe", 1, podsStartTimeout)

			// Then the old pods must stay as they were, not merely
			// come back to it.
			check := func() (bool, string) {
				pods, err := pc.listPods("app=web")
				if err != nil {
					return false, err.Error()
				}
				if len(pods) != len(before) {
					return false, fmt.Sprintf("%d pods, want %d: %s", len(pods), len(before), summarizePods(pods))
				}
				for _, p := range pods {
					want, ok := before[p.UID]
					if !ok {
						return false, fmt.Sprintf("pod %s (%s) is new", p.Name, p.UID)
					}
					if got := stateOf(p); !isRunning(p) || got != want {
						return false, fmt.Sprintf("pod %s is %s %+v, was Running %+v", p.Name, p.Status.Phase, got, want)
					}
				}
				return true, ""
			}
			for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(podsPollInterval) {
				if ok, why := check(); !ok {
					t.Fatalf("after the kubelet restart: %s", why)
				}
			}
			for _, p := range pc.getPodsCLI("app=web") {
				if got, want := stateOf(&p), before[p.UID]; p.Status.Phase != corev1.PodRunning || got != want {
					t.Errorf("kl get pods: %s is %s %+v, was Running %+v", p.Name, p.Status.Phase, got, want)
				}
			}
		})
	}
}

// waitRuntimeState waits until the agent's fake runtime state file names
// the container of every pod.
func waitRuntimeState(t *testing.T, a *podsAgent, pods []*corev1.Pod) {
	t.Helper()
	path := filepath.Join(a.dataDir(), "fake", a.name+".json")
	framework.Eventually(t, 30*time.Second, podsPollInterval, "the fake runtime's state file holds every container", func() (bool, string) {
		data, err := os.ReadFile(path)
		if err != nil {
			return false, err.Error()
		}
		for _, p := range pods {
			id := stateOf(p).ContainerID
			if i := strings.Index(id, "://"); i >= 0 {
				id = id[i+3:]
			}
			if id == "" || !strings.Contains(string(data), id) {
				return false, fmt.Sprintf("no container %q of pod %s in %s", id, p.Name, path)
			}
		}
		return true, ""
	})
}
