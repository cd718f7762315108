package kubelet

import (
	"errors"
	"strings"
	"testing"
	"time"

	coordinationv1 "github.com/kl-dev/kl/pkg/api/coordination/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/intstr"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/kubelet/runtime"
)

func TestNodeRegistersWithCapacityConditionsAndLease(t *testing.T) {
	c := startCluster(t)
	rk := c.startKubelet(c.testConfig("n1"))

	var node *corev1.Node
	deadline := time.Now().Add(waitTimeout)
	for {
		n, err := c.nodes.Get(t.Context(), "n1")
		if err == nil && corev1.IsNodeReady(n) {
			node = n
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node n1 not Ready within %v: %v %+v", waitTimeout, err, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourcePods} {
		want := c.testConfig("x").Capacity[r]
		if got := node.Status.Capacity[r]; got.Cmp(want) != 0 {
			t.Errorf("capacity %s = %s, want %s", r, got.String(), want.String())
		}
		if got := node.Status.Allocatable[r]; got.Cmp(want) != 0 {
			t.Errorf("allocatable %s = %s, want %s", r, got.String(), want.String())
		}
	}
	wantConds := map[corev1.NodeConditionType][2]string{
		corev1.NodeReady:          {"True", "KubeletReady"},
		corev1.NodeMemoryPressure: {"False", "KubeletHasSufficientMemory"},
		corev1.NodeDiskPressure:   {"False", "KubeletHasNoDiskPressure"},
		corev1.NodePIDPressure:    {"False", "KubeletHasSufficientPID"},
	}
	for typ, want := range wantConds {
		_, cond := corev1.GetNodeCondition(&node.Status, typ)
		if cond == nil || string(cond.Status) != want[0] || cond.Reason != want[1] || cond.LastHeartbeatTime.IsZero() || cond.LastTransitionTime.IsZero() {
			t.Errorf("condition %s = %+v, want %s %s with heartbeat and transition times", typ, cond, want[0], want[1])
		}
	}
	if ip := corev1.GetNodeAddress(node, corev1.NodeInternalIP); ip != "192.168.56.10" {
		t.Errorf("InternalIP = %q, want the --node-ip", ip)
	}
	if h := corev1.GetNodeAddress(node, corev1.NodeHostName); h != "n1" {
		t.Errorf("Hostname address = %q, want n1", h)
	}
	info := node.Status.NodeInfo
	if info.ContainerRuntimeVersion != "fake://0.1" || info.KubeletVersion == "" || info.OperatingSystem == "" || info.Architecture == "" {
		t.Errorf("nodeInfo = %+v, want runtime fake://0.1, a kubelet version, OS and arch", info)
	}
	if node.Labels[corev1.LabelHostname] != "n1" || node.Labels[corev1.LabelOSStable] == "" {
		t.Errorf("labels = %v, want hostname and os", node.Labels)
	}
	if node.Spec.PodCIDR == "" {
		t.Errorf("spec.podCIDR is empty, want the fake runtime's pod range")
	}

	leases := client.NewResource[coordinationv1.Lease](c.client, leasesGVR, true).Namespace(meta.NamespaceNodeLease)
	var first *coordinationv1.Lease
	for {
		l, err := leases.Get(t.Context(), "n1")
		if err == nil {
			first = l
			break
		}
		if !meta.IsNotFound(err) || time.Now().After(deadline) {
			t.Fatalf("lease kube-node-lease/n1: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if first.Holder() != "n1" || first.Spec.LeaseDurationSeconds == nil || first.Spec.RenewTime == nil {
		t.Fatalf("lease spec = %+v, want holder n1 with a duration and a renew time", first.Spec)
	}
	if len(first.OwnerReferences) != 1 || first.OwnerReferences[0].Kind != "Node" || first.OwnerReferences[0].UID != node.UID {
		t.Errorf("lease owner references = %+v, want the node", first.OwnerReferences)
	}
	// The lease is renewed every quarter of its duration (100ms here).
	for {
		l, err := leases.Get(t.Context(), "n1")
		if err == nil && l.Spec.RenewTime.After(first.Spec.RenewTime.Time) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lease not renewed within %v", waitTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A runtime that goes down makes the node NotReady, and back.
	rk.fake("n1").SetStatus(errors.New("disk on fire"))
	waitNode(t, c, "n1", func(n *corev1.Node) bool {
		_, cond := corev1.GetNodeCondition(&n.Status, corev1.NodeReady)
		return cond.Status == corev1.ConditionFalse && cond.Reason == "KubeletNotReady" && strings.Contains(cond.Message, "disk on fire")
	})
	rk.fake("n1").SetStatus(nil)
	waitNode(t, c, "n1", corev1.IsNodeReady)
}

func waitNode(t *testing.T, c *cluster, name string, cond func(*corev1.Node) bool) *corev1.Node {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for time.Now().Before(deadline) {
		n, err := c.nodes.Get(t.Context(), name)
		if err == nil && cond(n) {
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("node %s: condition not reached within %v", name, waitTimeout)
	return nil
}

func TestExistingNodeIsUpdatedNotDuplicated(t *testing.T) {
	c := startCluster(t)
	if _, err := c.nodes.Create(t.Context(), &corev1.Node{
		ObjectMeta: meta.ObjectMeta{Name: "n1", Labels: map[string]string{"team": "blue"}},
	}, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	c.startKubelet(c.testConfig("n1"))
	n := waitNode(t, c, "n1", corev1.IsNodeReady)
	if n.Labels["team"] != "blue" || n.Labels[corev1.LabelHostname] != "n1" {
		t.Errorf("labels = %v, want the existing ones plus the kubelet's", n.Labels)
	}
}

func TestPodBoundToTheNodeReachesRunning(t *testing.T) {
	c := startCluster(t)
	rk := c.startKubelet(c.testConfig("n1"))
	created := c.create(pod("web", "n1", "nginx:1.27", "redis:7"))

	p := c.waitPod("web", "Running and Ready", runningAndReady)
	if !strings.HasPrefix(p.Status.PodIP, "10.244.") || len(p.Status.PodIPs) != 1 || p.Status.PodIPs[0].IP != p.Status.PodIP {
		t.Errorf("podIP %q podIPs %v, want one IP from the 10.244.0.0/16 pod ranges", p.Status.PodIP, p.Status.PodIPs)
	}
	if p.Status.HostIP != "192.168.56.10" || len(p.Status.HostIPs) != 1 {
		t.Errorf("hostIP %q hostIPs %v, want the node IP", p.Status.HostIP, p.Status.HostIPs)
	}
	if p.Status.StartTime == nil || p.Status.QOSClass != corev1.PodQOSBestEffort {
		t.Errorf("startTime %v qosClass %q, want a start time and BestEffort", p.Status.StartTime, p.Status.QOSClass)
	}
	for _, typ := range []corev1.PodConditionType{corev1.PodScheduled, corev1.PodReadyToStartContainers, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady} {
		if cond := condition(p, typ); cond.Status != corev1.ConditionTrue || cond.LastTransitionTime.IsZero() {
			t.Errorf("condition %s = %+v, want True with a transition time", typ, cond)
		}
	}
	for _, name := range []string{"app", "app2"} {
		cs := containerStatus(p, name)
		if cs.State.Running == nil || cs.State.Running.StartedAt.IsZero() || !cs.Ready || cs.Started == nil || !*cs.Started ||
			cs.RestartCount != 0 || !strings.HasPrefix(cs.ContainerID, "fake://") || cs.ImageID == "" {
			t.Errorf("container %s status = %+v, want running, ready, started, 0 restarts, fake:// ID and an image ID", name, cs)
		}
	}
	if got := containerStatus(p, "app").Image; got != "nginx:1.27" {
		t.Errorf("image = %q, want nginx:1.27", got)
	}
	containers := containersOf(t, rk.fake("n1"), created.UID)
	if len(containers) != 2 {
		t.Errorf("runtime has %d containers for the pod, want 2", len(containers))
	}
	c.waitEvent(p, "Created: Created container app")
	c.waitEvent(p, "Started: Started container app2")
	c.waitEvent(p, `Pulling: Pulling image "nginx:1.27"`)
	c.waitEvent(p, `Pulled: Successfully pulled image "nginx:1.27"`)

	// Nothing changes, so nothing is written: several resyncs later the
	// pod has the same resourceVersion.
	rv := p.ResourceVersion
	time.Sleep(3 * c.testConfig("x").ResyncInterval)
	if again := c.get("web"); again.ResourceVersion != rv {
		t.Errorf("pod written again without a change: resourceVersion %s -> %s\n%s", rv, again.ResourceVersion, describe(again))
	}
}

func TestPodsOfOtherNodesAreIgnored(t *testing.T) {
	c := startCluster(t)
	rk := c.startKubelet(c.testConfig("n1"))
	c.create(pod("mine", "n1", "nginx"))
	other := c.create(pod("theirs", "n2", "nginx"))
	c.waitPod("mine", "Running", running)
	if p := c.get("theirs"); p.Status.Phase != corev1.PodPending || len(p.Status.ContainerStatuses) != 0 {
		t.Errorf("pod of node n2 was touched:\n%s", describe(p))
	}
	if got := containersOf(t, rk.fake("n1"), other.UID); len(got) != 0 {
		t.Errorf("runtime of n1 runs %d containers of a pod bound to n2", len(got))
	}
}

func TestInitContainersRunOneAfterAnotherFirst(t *testing.T) {
	c := startCluster(t)
	rk := c.startKubelet(c.testConfig("n1"))
	p := pod("init", "n1", "nginx")
	p.Spec.InitContainers = []corev1.Container{
		{Name: "first", Image: "busybox", Command: []string{"echo", "one"}},
		{Name: "second", Image: "busybox", Command: []string{"sleep", "0.1"}},
	}
	created := c.create(p)
	got := c.waitPod("init", "Running and Ready", runningAndReady)
	for _, name := range []string{"first", "second"} {
		cs := containerStatus(got, name)
		if cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 0 || cs.State.Terminated.Reason != "Completed" || !cs.Ready {
			t.Errorf("init container %s = %+v, want terminated 0 Completed and ready", name, cs)
		}
	}
	if len(got.Status.InitContainerStatuses) != 2 || got.Status.InitContainerStatuses[0].Name != "first" {
		t.Errorf("initContainerStatuses = %+v, want first and second in order", got.Status.InitContainerStatuses)
	}
	if cond := condition(got, corev1.PodInitialized); cond.Status != corev1.ConditionTrue {
		t.Errorf("Initialized = %+v, want True", cond)
	}
	// The runtime's records (nanosecond times) show the order.
	at := map[string]*runtime.Container{}
	for _, ctr := range containersOf(t, rk.fake("n1"), created.UID) {
		at[ctr.Name] = ctr
	}
	if !at["second"].StartedAt.After(at["first"].FinishedAt) || !at["app"].StartedAt.After(at["second"].FinishedAt) {
		t.Errorf("start order wrong: first %v-%v, second %v-%v, app %v",
			at["first"].StartedAt, at["first"].FinishedAt, at["second"].StartedAt, at["second"].FinishedAt, at["app"].StartedAt)
	}
}

func TestFailedInitContainerWithRestartNeverFailsThePod(t *testing.T) {
	c := startCluster(t)
	rk := c.startKubelet(c.testConfig("n1"))
	p := pod("badinit", "n1", "nginx")
	p.Spec.RestartPolicy = corev1.RestartPolicyNever
	p.Spec.InitContainers = []corev1.Container{{Name: "setup", Image: "kl.test/exit:4"}}
	created := c.create(p)
	got := c.waitPod("badinit", "Failed", phase(corev1.PodFailed))
	if cs := containerStatus(got, "setup"); cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 4 {
		t.Errorf("init container = %+v, want terminated with 4", cs)
	}
	if cs := containerStatus(got, "app"); cs.State.Waiting == nil || cs.State.Waiting.Reason != "PodInitializing" {
		t.Errorf("app container = %+v, want waiting PodInitializing", cs)
	}
	for _, ctr := range containersOf(t, rk.fake("n1"), created.UID) {
		if ctr.Name == "app" {
			t.Errorf("the app container was created after its init container failed")
		}
	}
}

func TestRestartPolicies(t *testing.T) {
	tests := []struct {
		name        string
		policy      corev1.RestartPolicy
		image       string
		wantPhase   corev1.PodPhase
		wantExit    int32
		wantReason  string
		wantRestart bool
	}{
		{name: "Never, exit 0: Succeeded", policy: corev1.RestartPolicyNever, image: "kl.test/exit:0", wantPhase: corev1.PodSucceeded, wantExit: 0, wantReason: "Completed"},
		{name: "Never, exit 3: Failed", policy: corev1.RestartPolicyNever, image: "kl.test/exit:3", wantPhase: corev1.PodFailed, wantExit: 3, wantReason: "Error"},
		{name: "OnFailure, exit 0: Succeeded", policy: corev1.RestartPolicyOnFailure, image: "kl.test/exit:0", wantPhase: corev1.PodSucceeded, wantExit: 0, wantReason: "Completed"},
		{name: "OnFailure, exit 2: restarted", policy: corev1.RestartPolicyOnFailure, image: "kl.test/exit:2", wantPhase: corev1.PodRunning, wantExit: 2, wantRestart: true},
		{name: "Always, exit 0: restarted", policy: corev1.RestartPolicyAlways, image: "kl.test/exit:0", wantPhase: corev1.PodRunning, wantExit: 0, wantRestart: true},
		{name: "Always, crash: restarted", policy: corev1.RestartPolicyAlways, image: "kl.test/crash", wantPhase: corev1.PodRunning, wantExit: 1, wantRestart: true},
	}
	c := startCluster(t)
	c.startKubelet(c.testConfig("n1"))
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "policy-" + string(rune('a'+i))
			p := pod(name, "n1", tt.image)
			p.Spec.RestartPolicy = tt.policy
			c.create(p)
			if !tt.wantRestart {
				got := c.waitPod(name, string(tt.wantPhase), phase(tt.wantPhase))
				cs := containerStatus(got, "app")
				if cs.State.Terminated == nil || cs.State.Terminated.ExitCode != tt.wantExit || cs.State.Terminated.Reason != tt.wantReason || cs.RestartCount != 0 {
					t.Errorf("container = %+v, want terminated %d %s without restarts", cs, tt.wantExit, tt.wantReason)
				}
				if ready := condition(got, corev1.PodReady); ready.Status != corev1.ConditionFalse || ready.Reason != "PodCompleted" {
					t.Errorf("Ready = %+v, want False PodCompleted", ready)
				}
				return
			}
			got := c.waitPod(name, "restarted twice", func(p *corev1.Pod) bool {
				return containerStatus(p, "app").RestartCount >= 2
			})
			if got.Status.Phase != tt.wantPhase {
				t.Errorf("phase = %s, want %s", got.Status.Phase, tt.wantPhase)
			}
			last := containerStatus(got, "app").LastTerminationState.Terminated
			if last == nil || last.ExitCode != tt.wantExit {
				t.Errorf("lastState = %+v, want terminated with %d", last, tt.wantExit)
			}
		})
	}
}

func TestCrashLoopBackOffDoublesAndIsReported(t *testing.T) {
	c := startCluster(t)
	cfg := c.testConfig("n1")
	// A long maximum: a back-off resets after 2*max without failures, which
	// a slow machine must not reach between two crashes.
	cfg.CrashLoopBackOffMax = 10 * time.Second
	rk := c.startKubelet(cfg)
	created := c.create(pod("crashy", "n1", "kl.test/crash"))

	// A watch sees every status the kubelet writes.
	w, err := c.pods.Namespace("default").Watch(t.Context(), client.ListOptions{FieldSelector: "metadata.name=crashy", ResourceVersion: created.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	sawBackOff := false
	deadline := time.After(waitTimeout)
	for !sawBackOff {
		select {
		case ev, ok := <-w:
			if !ok {
				t.Fatal("watch ended")
			}
			if ev.Object == nil {
				continue
			}
			cs := containerStatus(ev.Object, "app")
			if wt := cs.State.Waiting; wt != nil && wt.Reason == "CrashLoopBackOff" {
				sawBackOff = true
				if !strings.Contains(wt.Message, "restarting failed container=app pod=crashy_default(") || cs.LastTerminationState.Terminated == nil {
					t.Errorf("CrashLoopBackOff status = %+v", cs)
				}
				if ev.Object.Status.Phase != corev1.PodRunning {
					t.Errorf("phase while crash-looping = %s, want Running", ev.Object.Status.Phase)
				}
			}
		case <-deadline:
			t.Fatalf("no CrashLoopBackOff status within %v", waitTimeout)
		}
	}
	c.waitEvent(created, "BackOff: Back-off restarting failed container app in pod crashy_default("+created.UID+")")
	c.waitPod("crashy", "4 restarts", func(p *corev1.Pod) bool { return containerStatus(p, "app").RestartCount >= 4 })

	// Attempt 1 starts at once; each later one waits twice as long as the
	// one before (100ms, 200ms, 400ms).
	start := map[uint32]time.Time{}
	finish := map[uint32]time.Time{}
	for _, ctr := range containersOf(t, rk.fake("n1"), created.UID) {
		start[ctr.Attempt], finish[ctr.Attempt] = ctr.StartedAt, ctr.FinishedAt
	}
	for attempt, wantGap := range map[uint32]time.Duration{3: 200 * time.Millisecond, 4: 400 * time.Millisecond} {
		if s, f := start[attempt], finish[attempt-1]; !s.IsZero() && !f.IsZero() && s.Sub(f) < wantGap-20*time.Millisecond {
			t.Errorf("attempt %d started %v after attempt %d exited, want at least %v of back-off", attempt, s.Sub(f), attempt-1, wantGap)
		}
	}
	// Old attempts are garbage-collected: the latest two remain (three
	// while a new attempt is being started).
	if n := len(containersOf(t, rk.fake("n1"), created.UID)); n > 3 {
		t.Errorf("runtime keeps %d containers of a crash-looping container, want the latest two", n)
	}
}

func TestReadinessProbeFailureKeepsThePodNotReady(t *testing.T) {
	c := startCluster(t)
	c.startKubelet(c.testConfig("n1"))
	probe := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/ready", Port: intstr.FromInt(8080)}}, PeriodSeconds: 1, FailureThreshold: 1, SuccessThreshold: 1, TimeoutSeconds: 1}
	bad := pod("unready", "n1", "kl.test/fail-readiness")
	bad.Spec.Containers[0].ReadinessProbe = probe
	good := pod("ready", "n1", "nginx")
	good.Spec.Containers[0].ReadinessProbe = probe
	createdBad := c.create(bad)
	c.create(good)

	c.waitPod("ready", "Ready", runningAndReady)
	c.waitEvent(createdBad, "Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: 503")
	got := c.get("unready")
	if got.Status.Phase != corev1.PodRunning || corev1.IsPodReady(got) {
		t.Fatalf("pod failing readiness:\n%s\nwant Running and not Ready", describe(got))
	}
	for _, typ := range []corev1.PodConditionType{corev1.PodReady, corev1.ContainersReady} {
		if cond := condition(got, typ); cond.Status != corev1.ConditionFalse || cond.Reason != "ContainersNotReady" || cond.Message != "containers with unready status: [app]" {
			t.Errorf("condition %s = %+v, want False ContainersNotReady naming app", typ, cond)
		}
	}
	if cs := containerStatus(got, "app"); cs.Ready || cs.RestartCount != 0 || cs.State.Running == nil {
		t.Errorf("container = %+v, want running, not ready, never restarted", cs)
	}
}

func TestLivenessProbeFailureRestartsTheContainer(t *testing.T) {
	c := startCluster(t)
	c.startKubelet(c.testConfig("n1"))
	p := pod("sick", "n1", "kl.test/fail-liveness")
	p.Spec.Containers[0].LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt(6379)}}, PeriodSeconds: 1, FailureThreshold: 1, TimeoutSeconds: 1, SuccessThreshold: 1}
	created := c.create(p)
	got := c.waitPod("sick", "restarted", func(p *corev1.Pod) bool { return containerStatus(p, "app").RestartCount >= 1 })
	if last := containerStatus(got, "app").LastTerminationState.Terminated; last == nil {
		t.Errorf("lastState after a liveness restart = %+v, want terminated", containerStatus(got, "app").LastTerminationState)
	}
	c.waitEvent(created, "Killing: Container app failed liveness probe, will be restarted")
	c.waitEvent(created, "Unhealthy: Liveness probe failed")
}

func TestStartupProbeHoldsLivenessAndReadiness(t *testing.T) {
	c := startCluster(t)
	c.startKubelet(c.testConfig("n1"))
	p := pod("slow", "n1", "kl.test/fail-startup")
	fast := corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}, PeriodSeconds: 1, FailureThreshold: 30, SuccessThreshold: 1, TimeoutSeconds: 1}
	p.Spec.Containers[0].StartupProbe = &fast
	ready := fast
	p.Spec.Containers[0].ReadinessProbe = &ready
	c.create(p)
	got := c.waitPod("slow", "Running", running)
	time.Sleep(1500 * time.Millisecond) // a readiness probe would have passed by now
	got = c.get("slow")
	cs := containerStatus(got, "app")
	if cs.Started == nil || *cs.Started || cs.Ready || corev1.IsPodReady(got) {
		t.Errorf("container failing its startup probe = started %v ready %v; want neither", cs.Started, cs.Ready)
	}
}

func TestImagePullErrorShowsErrImagePullThenImagePullBackOff(t *testing.T) {
	c := startCluster(t)
	c.startKubelet(c.testConfig("n1"))
	p := pod("nopull", "n1", "kl.test/pull-error:1")
	created := c.create(p)
	w, err := c.pods.Namespace("default").Watch(t.Context(), client.ListOptions{FieldSelector: "metadata.name=nopull", ResourceVersion: created.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	deadline := time.After(waitTimeout)
	for !seen["ErrImagePull"] || !seen["ImagePullBackOff"] {
		select {
		case ev, ok := <-w:
			if !ok {
				t.Fatal("watch ended")
			}
			if ev.Object == nil {
				continue
			}
			cs := containerStatus(ev.Object, "app")
			if wt := cs.State.Waiting; wt != nil {
				seen[wt.Reason] = true
			}
			if ev.Object.Status.Phase != corev1.PodPending {
				t.Errorf("phase = %s, want Pending", ev.Object.Status.Phase)
			}
		case <-deadline:
			t.Fatalf("saw waiting reasons %v within %v, want ErrImagePull and ImagePullBackOff", seen, waitTimeout)
		}
	}
	c.waitEvent(created, `Failed: Failed to pull image "kl.test/pull-error:1": pull access denied`)
	c.waitEvent(created, `BackOff: Back-off pulling image "kl.test/pull-error:1"`)
}

func TestGracefulDeletionStopsThenDeletesThePod(t *testing.T) {
	c := startCluster(t)
	rk := c.startKubelet(c.testConfig("n1"))
	p := pod("bye", "n1", "nginx", "kl.test/ignore-sigterm")
	p.Spec.TerminationGracePeriodSeconds = meta.Int64p(1)
	created := c.create(p)
	c.waitPod("bye", "Running", runningAndReady)

	start := time.Now()
	if err := c.pods.Namespace("default").Delete(t.Context(), "bye", meta.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// The apiserver only marks a bound pod; it stays until the kubelet
	// has stopped its containers.
	if marked := c.get("bye"); marked.DeletionTimestamp == nil || marked.DeletionGracePeriodSeconds == nil {
		t.Fatalf("pod after DELETE: deletionTimestamp %v, want set", marked.DeletionTimestamp)
	}
	c.waitGone("bye")
	if took := time.Since(start); took < 900*time.Millisecond {
		t.Errorf("pod gone after %v; a container ignoring SIGTERM must get its 1s grace period", took)
	}
	if left := containersOf(t, rk.fake("n1"), created.UID); len(left) != 0 {
		t.Errorf("runtime still has %d containers of the deleted pod", len(left))
	}
	sbs, _ := rk.fake("n1").ListPodSandboxes(t.Context(), runtime.SandboxFilter{PodUID: created.UID})
	if len(sbs) != 0 {
		t.Errorf("runtime still has %d sandboxes of the deleted pod", len(sbs))
	}
	c.waitEvent(created, "Killing: Stopping container app2")
}

func TestForceDeletedPodHasItsContainersKilled(t *testing.T) {
	c := startCluster(t)
	rk := c.startKubelet(c.testConfig("n1"))
	created := c.create(pod("gone", "n1", "nginx"))
	c.waitPod("gone", "Running", running)
	if err := c.pods.Namespace("default").Delete(t.Context(), "gone", meta.DeleteOptions{GracePeriodSeconds: meta.Int64p(0)}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(waitTimeout)
	for len(containersOf(t, rk.fake("n1"), created.UID)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("containers of a force-deleted pod still exist after %v", waitTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSimulatedNodesEachRunTheirPods(t *testing.T) {
	c := startCluster(t)
	cfg := c.testConfig("sim")
	cfg.SimulateNodes = 3
	c.startKubelet(cfg)
	for i := range 3 {
		node := "sim-" + string(rune('0'+i))
		for j := range 2 {
			c.create(pod(node+"-p"+string(rune('0'+j)), node, "nginx"))
		}
	}
	for i := range 3 {
		node := "sim-" + string(rune('0'+i))
		waitNode(t, c, node, corev1.IsNodeReady)
		for j := range 2 {
			p := c.waitPod(node+"-p"+string(rune('0'+j)), "Running", running)
			wantPrefix := "10.244." + string(rune('0'+i)) + "."
			if !strings.HasPrefix(p.Status.PodIP, wantPrefix) {
				t.Errorf("pod on %s has IP %s, want one from %s0/24", node, p.Status.PodIP, wantPrefix)
			}
		}
	}
}
