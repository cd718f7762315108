package scheduler

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/client/informer"
	"github.com/kl-dev/kl/pkg/scheduler/framework"
)

// TestScheduler_BindsPodsWithinNodeResources_ReportsAndRetriesThoseThatFitNowhere
// is the end-to-end story against a real apiserver: 30 pods spread over 3
// nodes within their allocatable resources; a pod that fits nowhere gets
// PodScheduled=False and one FailedScheduling event in kube-scheduler's
// words (counted, not repeated, when it fails again the same way); once a
// node it fits on joins, it is bound there.
func TestScheduler_BindsPodsWithinNodeResources_ReportsAndRetriesThoseThatFitNowhere(t *testing.T) {
	c := startCluster(t)
	c.createNode(newNode("n1", "4", "8Gi", 110))
	c.createNode(newNode("n2", "4", "8Gi", 110))
	c.createNode(newNode("n3", "4", "8Gi", 110, taint("dedicated", "infra")))
	for i := range 30 {
		var opts []podOpt
		if i%3 == 0 {
			opts = append(opts, tolerate("dedicated"))
		}
		c.createPod(newPod(fmt.Sprintf("web-%d", i), "300m", "512Mi", opts...))
	}
	big := c.createPod(newPod("big", "6", "1Gi"))

	s := c.runScheduler(Config{})

	// Every small pod is bound, and no node holds more than it allocates.
	eventually(t, 30*time.Second, func() string {
		pods, _, err := c.pods.Namespace("default").List(context.Background(), client.ListOptions{})
		if err != nil {
			return err.Error()
		}
		used := map[string]framework.Resource{}
		bound := 0
		for _, p := range pods {
			if p.Name == "big" || p.Spec.NodeName == "" {
				continue
			}
			bound++
			r := used[p.Spec.NodeName]
			r.Add(framework.NewPodInfo(p).Requests)
			used[p.Spec.NodeName] = r
			if p.Spec.NodeName == "n3" && len(p.Spec.Tolerations) == 0 {
				t.Fatalf("pod %s without a toleration was bound to the tainted node n3", p.Name)
			}
		}
		for node, r := range used {
			if r.MilliCPU > 4000 || r.Memory > 8<<30 {
				t.Fatalf("node %s overcommitted: %dm cpu, %d bytes memory requested", node, r.MilliCPU, r.Memory)
			}
		}
		if bound != 30 {
			return fmt.Sprintf("%d of 30 pods bound", bound)
		}
		return ""
	})

	// The big pod fits nowhere: condition and event in Kubernetes' words.
	const wantMsg = "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: infra}, 2 Insufficient cpu."
	eventually(t, 30*time.Second, func() string {
		p := c.getPod("big")
		_, cond := corev1.GetPodCondition(&p.Status, corev1.PodScheduled)
		if cond == nil {
			return "big has no PodScheduled condition"
		}
		if cond.Status != corev1.ConditionFalse || cond.Reason != corev1.PodReasonUnschedulable || cond.Message != wantMsg {
			return fmt.Sprintf("PodScheduled = %s %s %q, want False Unschedulable %q", cond.Status, cond.Reason, cond.Message, wantMsg)
		}
		return ""
	})
	var failed *corev1.Event
	eventually(t, 30*time.Second, func() string {
		evs := c.podEvents(big, "FailedScheduling")
		if len(evs) != 1 {
			return fmt.Sprintf("%d FailedScheduling events, want 1", len(evs))
		}
		failed = evs[0]
		return ""
	})
	want := corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: "default", Name: "big", UID: big.UID}
	got := failed.InvolvedObject
	got.ResourceVersion = ""
	if got != want || failed.Type != corev1.EventTypeWarning || failed.Message != wantMsg ||
		failed.Source.Component != "default-scheduler" || failed.ReportingController != "default-scheduler" || failed.Count != 1 {
		t.Errorf("FailedScheduling event = %+v %s %q source %q reporting %q count %d; want %+v Warning %q from default-scheduler, count 1",
			got, failed.Type, failed.Message, failed.Source.Component, failed.ReportingController, failed.Count, want, wantMsg)
	}

	// A cluster change that does not help: the pod is retried, fails the
	// same way, and the event is counted instead of repeated.
	n1, err := c.nodes.Get(context.Background(), "n1")
	if err != nil {
		t.Fatal(err)
	}
	n1.Labels["disk"] = "ssd"
	if _, err := c.nodes.Update(context.Background(), n1, client.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, func() string {
		evs := c.podEvents(big, "FailedScheduling")
		if len(evs) != 1 {
			return fmt.Sprintf("%d FailedScheduling events, want 1", len(evs))
		}
		if evs[0].Count < 2 {
			return fmt.Sprintf("FailedScheduling count %d, want at least 2", evs[0].Count)
		}
		if evs[0].LastTimestamp.Before(evs[0].FirstTimestamp.Time) {
			t.Errorf("lastTimestamp %v before firstTimestamp %v", evs[0].LastTimestamp, evs[0].FirstTimestamp)
		}
		return ""
	})

	// A node it fits on joins: the pod is bound there.
	c.createNode(newNode("n4", "8", "16Gi", 110))
	eventually(t, 30*time.Second, func() string {
		if p := c.getPod("big"); p.Spec.NodeName != "n4" {
			return fmt.Sprintf("big bound to %q, want n4", p.Spec.NodeName)
		}
		return ""
	})
	eventually(t, 30*time.Second, func() string {
		evs := c.podEvents(big, "Scheduled")
		if len(evs) != 1 || evs[0].Message != "Successfully assigned default/big to n4" || evs[0].Type != corev1.EventTypeNormal {
			return fmt.Sprintf("Scheduled events %v, want one \"Successfully assigned default/big to n4\"", evs)
		}
		return ""
	})
	if got := attempts(t, s, resultScheduled); got != 31 {
		t.Errorf("scheduled attempts = %v, want 31", got)
	}
	if got := attempts(t, s, resultUnschedulable); got < 2 {
		t.Errorf("unschedulable attempts = %v, want at least 2", got)
	}
}

// TestScheduler_DeletedPodFreesItsNodeForAWaitingPod: re-activation when a
// bound pod goes away.
func TestScheduler_DeletedPodFreesItsNodeForAWaitingPod(t *testing.T) {
	c := startCluster(t)
	deletedPodFreesItsNode(t, c, func() Config { return Config{} })
}

// deletedPodFreesItsNode: one node fits one pod; the first pod is bound,
// the second is marked unschedulable with kube-scheduler's message, and is
// bound once the first is deleted. cfg gives the scheduler's config once
// the node and the first pod exist.
func deletedPodFreesItsNode(t *testing.T, c *cluster, cfg func() Config) {
	t.Helper()
	c.createNode(newNode("n1", "1", "1Gi", 110))
	c.createPod(newPod("first", "1", "100Mi"))
	c.runScheduler(cfg())
	eventually(t, 30*time.Second, func() string {
		if c.getPod("first").Spec.NodeName != "n1" {
			return "first not bound"
		}
		return ""
	})
	c.createPod(newPod("second", "1", "100Mi"))
	eventually(t, 30*time.Second, func() string {
		_, cond := corev1.GetPodCondition(&c.getPod("second").Status, corev1.PodScheduled)
		if cond == nil || cond.Status != corev1.ConditionFalse {
			return "second not marked unschedulable"
		}
		if want := "0/1 nodes are available: 1 Insufficient cpu."; cond.Message != want {
			t.Fatalf("message %q, want %q", cond.Message, want)
		}
		return ""
	})
	if err := c.pods.Namespace("default").Delete(context.Background(), "first", meta.DeleteOptions{GracePeriodSeconds: meta.Int64p(0)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, func() string {
		if c.getPod("second").Spec.NodeName != "n1" {
			return "second not bound after first was deleted"
		}
		return ""
	})
}

// TestScheduler_FinishedPodFreesItsNode: a pod that Succeeded no longer
// counts against its node.
func TestScheduler_FinishedPodFreesItsNode(t *testing.T) {
	c := startCluster(t)
	c.createNode(newNode("n1", "1", "1Gi", 110))
	c.createPod(newPod("job", "1", "100Mi"))
	c.createPod(newPod("next", "1", "100Mi", func(p *corev1.Pod) { p.Spec.Priority = meta.Int32p(-1) }))
	c.runScheduler(Config{})
	eventually(t, 30*time.Second, func() string {
		if c.getPod("job").Spec.NodeName != "n1" {
			return "job not bound"
		}
		_, cond := corev1.GetPodCondition(&c.getPod("next").Status, corev1.PodScheduled)
		if cond == nil || cond.Status != corev1.ConditionFalse {
			return "next not marked unschedulable"
		}
		return ""
	})
	job := c.getPod("job")
	job.Status.Phase = corev1.PodSucceeded
	if _, err := c.pods.UpdateStatus(context.Background(), job, client.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, func() string {
		if c.getPod("next").Spec.NodeName != "n1" {
			return "next not bound after job finished"
		}
		return ""
	})
}

// TestScheduler_LeavesPodsOfOtherSchedulersAlone.
func TestScheduler_LeavesPodsOfOtherSchedulersAlone(t *testing.T) {
	c := startCluster(t)
	c.createNode(newNode("n1", "4", "8Gi", 110))
	c.createPod(newPod("other", "100m", "10Mi", func(p *corev1.Pod) { p.Spec.SchedulerName = "custom" }))
	c.createPod(newPod("mine", "100m", "10Mi"))
	c.runScheduler(Config{})
	eventually(t, 30*time.Second, func() string {
		if c.getPod("mine").Spec.NodeName == "" {
			return "mine not bound"
		}
		return ""
	})
	if p := c.getPod("other"); p.Spec.NodeName != "" || len(c.podEvents(p, "FailedScheduling")) != 0 {
		t.Errorf("pod of scheduler custom was touched: nodeName %q", p.Spec.NodeName)
	}
}

// TestScheduler_LeaderElection_OnlyTheLeaderSchedulesThenHandsOver: two
// schedulers share the lease; the leader binds, the other waits; when the
// leader stops (and releases the lease) the other takes over at once.
func TestScheduler_LeaderElection_OnlyTheLeaderSchedulesThenHandsOver(t *testing.T) {
	c := startCluster(t)
	c.createNode(newNode("n1", "8", "16Gi", 110))
	cfg := Config{LeaderElect: true, RetryPeriod: 100 * time.Millisecond}
	a, stopA := c.startScheduler(cfg)
	b, stopB := c.startScheduler(cfg)
	eventually(t, 30*time.Second, func() string {
		if !a.IsLeader() && !b.IsLeader() {
			return "no leader"
		}
		return ""
	})
	leader, follower, stopLeader := a, b, stopA
	if b.IsLeader() {
		leader, follower, stopLeader = b, a, stopB
	}
	if follower.IsLeader() {
		t.Fatal("both schedulers lead")
	}

	c.createPod(newPod("first", "100m", "10Mi"))
	eventually(t, 30*time.Second, func() string {
		if c.getPod("first").Spec.NodeName == "" {
			return "first not bound"
		}
		return ""
	})
	if got := attemptsNow(follower, resultScheduled) + attemptsNow(follower, resultUnschedulable); got != 0 {
		t.Errorf("the follower made %v scheduling attempts, want 0", got)
	}

	stopLeader()
	released := time.Now()
	eventually(t, 30*time.Second, func() string {
		if !follower.IsLeader() {
			return "the follower did not take over"
		}
		return ""
	})
	if d := time.Since(released); d > 10*time.Second {
		t.Errorf("takeover took %v; a released lease is taken at the next retry", d)
	}
	c.createPod(newPod("second", "100m", "10Mi"))
	eventually(t, 30*time.Second, func() string {
		if c.getPod("second").Spec.NodeName == "" {
			return "second not bound by the new leader"
		}
		return ""
	})
	if got := attemptsNow(leader, resultScheduled); got != 1 {
		t.Errorf("the first leader bound %v pods, want 1", got)
	}
}

// TestNew_RejectsAnUnknownPlugin: configuration errors surface at New.
func TestNew_RejectsAnUnknownPlugin(t *testing.T) {
	c := startCluster(t)
	_, err := New(Config{Client: c.client, Plugins: framework.Plugins{Filter: framework.PluginSet{Disabled: []framework.PluginRef{{Name: "NodeAffinity"}}}}})
	if err == nil {
		t.Fatal("no error for an unknown plugin")
	}
}

// attempts reads scheduler_schedule_attempts_total{result} from the
// scheduler's registry, as /metrics would show it.
func attempts(t *testing.T, s *Scheduler, result string) float64 {
	t.Helper()
	return attemptsNow(s, result)
}

// TestScheduler_SharedInformers: given informers its process shares (kl
// server's), the scheduler adds its handlers to them instead of making its
// own, and schedules as before: a pod that fits nowhere waits until a pod
// deletion, seen through the shared cache, frees a node. The shared pod
// informer here sees namespace default only, so a pod elsewhere stays
// unscheduled: the scheduler watched nothing of its own.
func TestScheduler_SharedInformers(t *testing.T) {
	c := startCluster(t)
	deletedPodFreesItsNode(t, c, func() Config {
		pods := informer.New(client.NewResource[corev1.Pod](c.client, podsGVR, true).Namespace("default"), informer.Options[*corev1.Pod]{})
		nodes := informer.New(client.NewResource[corev1.Node](c.client, nodesGVR, false), informer.Options[*corev1.Node]{})
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() { _ = pods.Run(ctx) })
		wg.Go(func() { _ = nodes.Run(ctx) })
		t.Cleanup(func() { cancel(); wg.Wait() })
		return Config{Pods: pods, Nodes: nodes}
	})
	c.createNode(newNode("n2", "4", "8Gi", 110))
	c.createPod(newPod("elsewhere", "100m", "10Mi", func(p *corev1.Pod) { p.Namespace = "kube-system" }))
	c.createPod(newPod("third", "100m", "10Mi"))
	eventually(t, 30*time.Second, func() string {
		if c.getPod("third").Spec.NodeName == "" {
			return "third not bound"
		}
		return ""
	})
	time.Sleep(200 * time.Millisecond) // a scheduler with its own pod informer binds within this
	p, err := c.pods.Namespace("kube-system").Get(context.Background(), "elsewhere")
	if err != nil {
		t.Fatal(err)
	}
	if p.Spec.NodeName != "" {
		t.Errorf("pod kube-system/elsewhere was bound to %s: the scheduler watched pods beyond the shared informer", p.Spec.NodeName)
	}
}

// TestNew_RejectsHalfSharedInformersAndSharingWithLeaderElection.
func TestNew_RejectsHalfSharedInformersAndSharingWithLeaderElection(t *testing.T) {
	c := startCluster(t)
	pods := informer.New(client.NewResource[corev1.Pod](c.client, podsGVR, true), informer.Options[*corev1.Pod]{})
	nodes := informer.New(client.NewResource[corev1.Node](c.client, nodesGVR, false), informer.Options[*corev1.Node]{})
	for name, cfg := range map[string]Config{
		"pods only":       {Client: c.client, Pods: pods},
		"leader election": {Client: c.client, Pods: pods, Nodes: nodes, LeaderElect: true},
	} {
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "shared informers") {
			t.Errorf("%s: error %v, want one about shared informers", name, err)
		}
	}
}
