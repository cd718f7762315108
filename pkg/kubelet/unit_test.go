package kubelet

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/api/resource"
	"github.com/kl-dev/kl/pkg/client"
)

func runningState() corev1.ContainerState {
	return corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
}

func exited(code int32) corev1.ContainerState {
	return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code}}
}

func waitingFor(reason string) corev1.ContainerState {
	return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}
}

// Kubernetes' getPhase (pkg/kubelet/kubelet_pods.go) decides the phase
// from the container statuses and the restart policy.
func TestPodPhaseFollowsKubernetesGetPhase(t *testing.T) {
	crashLooping := corev1.ContainerStatus{State: waitingFor("CrashLoopBackOff"), LastTerminationState: exited(1)}
	tests := []struct {
		name   string
		policy corev1.RestartPolicy
		init   []corev1.ContainerStatus
		app    []corev1.ContainerStatus
		want   corev1.PodPhase
	}{
		{"all running", corev1.RestartPolicyAlways, nil, []corev1.ContainerStatus{{State: runningState()}, {State: runningState()}}, corev1.PodRunning},
		{"one still creating", corev1.RestartPolicyAlways, nil, []corev1.ContainerStatus{{State: runningState()}, {State: waitingFor("ContainerCreating")}}, corev1.PodPending},
		{"crash loop is Running", corev1.RestartPolicyAlways, nil, []corev1.ContainerStatus{crashLooping}, corev1.PodRunning},
		{"init running", corev1.RestartPolicyAlways, []corev1.ContainerStatus{{State: runningState()}}, []corev1.ContainerStatus{{State: waitingFor("PodInitializing")}}, corev1.PodPending},
		{"init failed, Never", corev1.RestartPolicyNever, []corev1.ContainerStatus{{State: exited(1)}}, []corev1.ContainerStatus{{State: waitingFor("PodInitializing")}}, corev1.PodFailed},
		{"init failed, OnFailure", corev1.RestartPolicyOnFailure, []corev1.ContainerStatus{{State: exited(1)}}, []corev1.ContainerStatus{{State: waitingFor("PodInitializing")}}, corev1.PodPending},
		{"all exited 0, Never", corev1.RestartPolicyNever, nil, []corev1.ContainerStatus{{State: exited(0)}, {State: exited(0)}}, corev1.PodSucceeded},
		{"one exited 1, Never", corev1.RestartPolicyNever, nil, []corev1.ContainerStatus{{State: exited(0)}, {State: exited(1)}}, corev1.PodFailed},
		{"exited 0, OnFailure", corev1.RestartPolicyOnFailure, nil, []corev1.ContainerStatus{{State: exited(0)}}, corev1.PodSucceeded},
		{"exited 1, OnFailure restarts", corev1.RestartPolicyOnFailure, nil, []corev1.ContainerStatus{{State: exited(1)}}, corev1.PodRunning},
		{"exited, Always restarts", corev1.RestartPolicyAlways, nil, []corev1.ContainerStatus{{State: exited(0)}}, corev1.PodRunning},
		{"one running one done, Never", corev1.RestartPolicyNever, nil, []corev1.ContainerStatus{{State: runningState()}, {State: exited(0)}}, corev1.PodRunning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: corev1.PodSpec{RestartPolicy: tt.policy}}
			st := &corev1.PodStatus{InitContainerStatuses: tt.init, ContainerStatuses: tt.app}
			if got := podPhase(pod, st); got != tt.want {
				t.Errorf("phase = %s, want %s", got, tt.want)
			}
		})
	}
	// A terminal phase never changes.
	done := &corev1.Pod{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyAlways}, Status: corev1.PodStatus{Phase: corev1.PodSucceeded}}
	if got := podPhase(done, &corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{State: runningState()}}}); got != corev1.PodSucceeded {
		t.Errorf("phase of a Succeeded pod became %s", got)
	}
}

// Kubernetes' flowcontrol.Backoff as the kubelet uses it for restarts: the
// first failure restarts at once, then 10s, 20s, ... up to the maximum.
func TestBackoffDoublesUpToTheMaximumAndResetsAfterQuiet(t *testing.T) {
	now := time.Unix(1000, 0)
	b := newBackoff(10*time.Second, 40*time.Second)
	b.now = func() time.Time { return now }
	if in, _ := b.inBackOffSince("c", now); in {
		t.Fatal("backing off before any failure")
	}
	var delays []time.Duration
	for range 5 {
		delays = append(delays, b.next("c", now))
	}
	if got := delays; got[0] != 10*time.Second || got[1] != 20*time.Second || got[2] != 40*time.Second || got[4] != 40*time.Second {
		t.Errorf("delays = %v, want 10s 20s 40s 40s 40s", got)
	}
	if in, until := b.inBackOffSince("c", now); !in || !until.Equal(now.Add(40*time.Second)) {
		t.Errorf("inBackOffSince = %v until %v, want true until +40s", in, until)
	}
	now = now.Add(41 * time.Second)
	if in, _ := b.inBackOffSince("c", now.Add(-41*time.Second)); in {
		t.Errorf("still backing off after the delay")
	}
	// Quiet for more than twice the maximum: the next failure starts over.
	if d := b.next("c", now.Add(2*time.Minute)); d != 10*time.Second {
		t.Errorf("delay after a quiet period = %v, want 10s", d)
	}
	b.forget("c")
	if d := b.delay("c"); d != 0 {
		t.Errorf("delay after forget = %v, want 0", d)
	}
}

func TestExpandFollowsKubernetesVariableReferences(t *testing.T) {
	vars := map[string]string{"NAME": "web", "PORT": "80"}
	tests := map[string]string{
		"$(NAME):$(PORT)":   "web:80",
		"$$(NAME)":          "$(NAME)",
		"$(MISSING)":        "$(MISSING)",
		"cost $5":           "cost $5",
		"$(NAME":            "$(NAME",
		"no refs":           "no refs",
		"trailing $":        "trailing $",
		"--name=$(NAME)-x":  "--name=web-x",
		"$(NAME)$(NAME)$$$": "webweb$$",
	}
	for in, want := range tests {
		if got := expand(in, vars); got != want {
			t.Errorf("expand(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMachineFacts(t *testing.T) {
	if got := parseMemTotal([]byte("MemTotal:       16314340 kB\nMemFree: 1 kB\n")); got != 16314340*1024 {
		t.Errorf("parseMemTotal = %d", got)
	}
	if got := osPrettyName([]byte("NAME=x\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n")); got != "Debian GNU/Linux 12 (bookworm)" {
		t.Errorf("osPrettyName = %q", got)
	}
	rl := machineCapacity(t.TempDir())
	if cpu := rl[corev1.ResourceCPU]; cpu.Value() != int64(runtime.NumCPU()) {
		t.Errorf("cpu capacity = %s, want %d", cpu.String(), runtime.NumCPU())
	}
	if pods := rl[corev1.ResourcePods]; pods.Value() != 110 {
		t.Errorf("pods capacity = %s, want 110", pods.String())
	}
}

func TestPodCIDRs(t *testing.T) {
	single := &Config{NodeName: "node-a"}
	a, _ := podCIDRFor(single, "node-a", 0)
	b, _ := podCIDRFor(single, "node-a", 0)
	if a != b || !strings.HasPrefix(a, "10.244.") || !strings.HasSuffix(a, ".0/24") {
		t.Errorf("single node CIDR = %q then %q, want a stable 10.244.X.0/24", a, b)
	}
	sim := &Config{NodeName: "sim", SimulateNodes: 300}
	for i, want := range map[int]string{0: "10.244.0.0/24", 7: "10.244.7.0/24", 256: "10.245.0.0/24", 299: "10.245.43.0/24"} {
		if got, err := podCIDRFor(sim, "", i); err != nil || got != want {
			t.Errorf("simulated node %d: %q, %v; want %s", i, got, err, want)
		}
	}
	explicit := &Config{NodeName: "n", PodCIDR: "10.99.0.0/24"}
	if got, _ := podCIDRFor(explicit, "n", 0); got != "10.99.0.0/24" {
		t.Errorf("explicit --pod-cidr ignored: %s", got)
	}
}

func TestNodeStatusComparisonIgnoresHeartbeats(t *testing.T) {
	st := func(hb int64, ready corev1.ConditionStatus) *corev1.NodeStatus {
		return &corev1.NodeStatus{
			Capacity:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")},
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: ready, LastHeartbeatTime: meta.NewTime(time.Unix(hb, 0))}},
		}
	}
	if !sameNodeStatus(st(1, "True"), st(2, "True")) {
		t.Error("statuses differing in heartbeat only compare different")
	}
	if sameNodeStatus(st(1, "True"), st(1, "False")) {
		t.Error("statuses differing in Ready compare equal")
	}
}

// Run returns only once every goroutine it started has ended: none is left
// in the kubelet's code, whatever it was doing (probes, back-offs, pod
// workers, watches).
func TestRunLeavesNoGoroutinesBehind(t *testing.T) {
	c := startCluster(t)
	rk := c.startKubelet(c.testConfig("n1"))
	probed := pod("probed", "n1", "nginx")
	probed.Spec.Containers[0].LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}, PeriodSeconds: 1, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3}
	c.create(probed)
	c.create(pod("crashing", "n1", "kl.test/crash"))
	c.waitPod("probed", "Running", running)
	c.waitPod("crashing", "restarted", func(p *corev1.Pod) bool { return containerStatus(p, "app").RestartCount >= 2 })
	rk.stop(t)

	deadline := time.Now().Add(5 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		var leaked []string
		for _, g := range strings.Split(stacks, "\n\n") {
			if strings.Contains(g, "kl/pkg/kubelet.") && !strings.Contains(g, "kubelet.TestRunLeavesNoGoroutinesBehind") &&
				!strings.Contains(g, "kubelet.(*cluster)") && !strings.Contains(g, "kubelet.startCluster") && !strings.Contains(g, "testing.tRunner") {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines of the kubelet still running after Run returned:\n%s", len(leaked), strings.Join(leaked, "\n\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestEventsOfRepeatsAreCountedOnOneEvent(t *testing.T) {
	c := startCluster(t)
	c.startKubelet(c.testConfig("n1"))
	created := c.create(pod("repeat", "n1", "kl.test/crash"))
	c.waitPod("repeat", "4 restarts", func(p *corev1.Pod) bool { return containerStatus(p, "app").RestartCount >= 4 })
	deadline := time.Now().Add(waitTimeout)
	for {
		var backOffs []corev1.Event
		evs, _, err := c.eventsClient().Namespace("default").List(context.Background(), client.ListOptions{FieldSelector: "involvedObject.uid=" + created.UID})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.Reason == "BackOff" {
				backOffs = append(backOffs, *e)
			}
		}
		if len(backOffs) == 1 && backOffs[0].Count >= 2 {
			if backOffs[0].InvolvedObject.FieldPath != "spec.containers{app}" || backOffs[0].Type != corev1.EventTypeWarning {
				t.Errorf("BackOff event = %+v", backOffs[0])
			}
			return
		}
		if len(backOffs) > 1 {
			t.Fatalf("%d BackOff events for one container, want one with a count", len(backOffs))
		}
		if time.Now().After(deadline) {
			t.Fatalf("BackOff events = %+v, want one counted at least twice", backOffs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
