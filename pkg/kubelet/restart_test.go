package kubelet

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/kubelet/runtime"
)

// phaseRecorder watches pods and remembers every write that shows a pod
// not Running (or, with ready, not Ready).
type phaseRecorder struct {
	mu     sync.Mutex
	bad    []string
	writes int
}

func (c *cluster) recordPhases(t *testing.T, names map[string]bool, ready bool) *phaseRecorder {
	t.Helper()
	_, lm, err := c.pods.Namespace("default").List(t.Context(), client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	ch, err := c.pods.Namespace("default").Watch(ctx, client.ListOptions{ResourceVersion: lm.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	pr := &phaseRecorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range ch {
			if ev.Object == nil || !names[ev.Object.Name] || ev.Type == meta.Deleted {
				continue
			}
			pr.mu.Lock()
			pr.writes++
			if ev.Object.Status.Phase != corev1.PodRunning || (ready && !corev1.IsPodReady(ev.Object)) {
				pr.bad = append(pr.bad, ev.Object.Name+": "+describe(ev.Object))
			}
			pr.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return pr
}

func (pr *phaseRecorder) check(t *testing.T) int {
	t.Helper()
	pr.mu.Lock()
	defer pr.mu.Unlock()
	for _, b := range pr.bad {
		t.Errorf("a running pod left Running (or Ready) while the kubelet restarted: %s", b)
	}
	return pr.writes
}

// restartFixture runs pods on a kubelet, then stops it.
func restartFixture(t *testing.T) (*cluster, Config, map[string]*corev1.Pod, *corev1.Pod) {
	c := startCluster(t)
	cfg := c.testConfig("n1")
	rk := c.startKubelet(cfg)
	single := pod("single", "n1", "nginx")
	double := pod("double", "n1", "nginx", "redis")
	// Probe verdicts are not kept across restarts; the pod must not flap.
	double.Spec.Containers[0].ReadinessProbe = &corev1.Probe{
		ProbeHandler:  corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}},
		PeriodSeconds: 1, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 1,
	}
	withInit := pod("withinit", "n1", "nginx")
	withInit.Spec.InitContainers = []corev1.Container{{Name: "setup", Image: "busybox", Command: []string{"true"}}}
	pods := map[string]*corev1.Pod{}
	for _, p := range []*corev1.Pod{single, double, withInit} {
		c.create(p)
	}
	doomed := c.create(pod("doomed", "n1", "nginx"))
	for name := range map[string]bool{"single": true, "double": true, "withinit": true, "doomed": true} {
		p := c.waitPod(name, "Running and Ready", runningAndReady)
		if name != "doomed" {
			pods[name] = p
		}
	}
	rk.stop(t)
	// While the kubelet is down, one pod is force-deleted.
	if err := c.pods.Namespace("default").Delete(t.Context(), "doomed", meta.DeleteOptions{GracePeriodSeconds: meta.Int64p(0)}); err != nil {
		t.Fatal(err)
	}
	return c, cfg, pods, doomed
}

// checkNoDuplicates checks that the runtime holds exactly one container per
// container name of each pod, and one sandbox.
func checkNoDuplicates(t *testing.T, rk *runningKubelet, pods map[string]*corev1.Pod, wantInit bool) {
	t.Helper()
	rt := rk.fake("n1")
	for name, p := range pods {
		count := map[string]int{}
		for _, ctr := range containersOf(t, rt, p.UID) {
			count[ctr.Name]++
		}
		want := map[string]int{}
		for _, ctr := range p.Spec.Containers {
			want[ctr.Name] = 1
		}
		if wantInit {
			for _, ctr := range p.Spec.InitContainers {
				want[ctr.Name] = 1
			}
		}
		if len(count) != len(want) {
			t.Errorf("pod %s: runtime containers by name %v, want %v", name, count, want)
		}
		for n, k := range count {
			if k != want[n] {
				t.Errorf("pod %s: %d containers named %s, want %d", name, k, n, want[n])
			}
		}
		sbs, err := rt.ListPodSandboxes(t.Context(), runtime.SandboxFilter{PodUID: p.UID})
		if err != nil || len(sbs) != 1 {
			t.Errorf("pod %s: %d sandboxes (%v), want 1", name, len(sbs), err)
		}
	}
}

// waitOrphansGone waits until the runtime holds nothing of the pod.
func waitOrphansGone(t *testing.T, rk *runningKubelet, uid string) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		cs := containersOf(t, rk.fake("n1"), uid)
		sbs, _ := rk.fake("n1").ListPodSandboxes(t.Context(), runtime.SandboxFilter{PodUID: uid})
		if len(cs) == 0 && len(sbs) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("containers (%d) and sandboxes (%d) of a pod deleted while the kubelet was down are still there", len(cs), len(sbs))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestKubeletRestartAdoptsRunningPodsWithoutDuplicates(t *testing.T) {
	c, cfg, pods, doomed := restartFixture(t)
	names := map[string]bool{}
	for n := range pods {
		names[n] = true
	}
	phases := c.recordPhases(t, names, true)

	rk := c.startKubelet(cfg) // same data dir: the fake runtime's state file
	waitOrphansGone(t, rk, doomed.UID)
	// Let every pod sync a few times.
	time.Sleep(3 * cfg.ResyncInterval)

	for name, before := range pods {
		after := c.get(name)
		if !runningAndReady(after) {
			t.Errorf("pod %s after the restart:\n%s", name, describe(after))
		}
		for _, cs := range before.Status.ContainerStatuses {
			got := containerStatus(after, cs.Name)
			if got.ContainerID != cs.ContainerID || got.RestartCount != 0 {
				t.Errorf("pod %s container %s: ID %s restarts %d after the restart, want the adopted %s with 0 restarts",
					name, cs.Name, got.ContainerID, got.RestartCount, cs.ContainerID)
			}
		}
		if after.ResourceVersion != before.ResourceVersion {
			b, _ := json.MarshalIndent(before.Status, "", " ")
			a, _ := json.MarshalIndent(after.Status, "", " ")
			t.Errorf("pod %s was written after the restart although nothing changed:\nbefore %s\nafter %s", name, b, a)
		}
	}
	checkNoDuplicates(t, rk, pods, true)
	if writes := phases.check(t); writes != 0 {
		t.Errorf("%d pod writes after a restart that changed nothing, want none", writes)
	}
}

func TestKubeletRestartWithLostRuntimeStateRecreatesContainersOnce(t *testing.T) {
	c, cfg, pods, _ := restartFixture(t)
	// The fake runtime's state is gone: the containers "died" with the
	// process. The new kubelet starts them again, once, and the pods stay
	// Running, with their restart counts.
	if err := os.Remove(filepath.Join(cfg.DataDir, "fake", "n1.json")); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for n := range pods {
		names[n] = true
	}
	// The containers really are new: one with a readiness probe is not
	// Ready until the probe passes, but no pod leaves Running.
	phases := c.recordPhases(t, names, false)
	rk := c.startKubelet(cfg)
	for name := range pods {
		c.waitPod(name, "a new container", func(p *corev1.Pod) bool {
			return runningAndReady(p) && containerStatus(p, "app").ContainerID != pods[name].Status.ContainerStatuses[0].ContainerID
		})
	}
	time.Sleep(3 * cfg.ResyncInterval)
	for name := range pods {
		after := c.get(name)
		for _, cs := range after.Status.ContainerStatuses {
			if cs.RestartCount != 0 || cs.State.Running == nil {
				t.Errorf("pod %s container %s = %s restarts %d, want running with 0 restarts", name, cs.Name, stateString(cs.State), cs.RestartCount)
			}
		}
		if cs := containerStatus(after, "setup"); name == "withinit" && (cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 0) {
			t.Errorf("init container after the restart = %s, want still completed", stateString(cs.State))
		}
	}
	// The completed init container is not run again.
	checkNoDuplicates(t, rk, pods, false)
	phases.check(t)
}

func TestMetricsAndHealthz(t *testing.T) {
	c := startCluster(t)
	cfg := c.testConfig("n1")
	cfg.MetricsAddress = "127.0.0.1:0"
	rk := c.startKubelet(cfg)
	c.create(pod("measured", "n1", "nginx"))
	c.waitPod("measured", "Running", running)
	base := "http://" + rk.MetricsAddr().String()
	get := func(path string) string {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, data)
		}
		return string(data)
	}
	if got := get("/healthz"); got != "ok" {
		t.Errorf("/healthz = %q, want ok", got)
	}
	deadline := time.Now().Add(waitTimeout)
	for {
		m := get("/metrics")
		ok := strings.Contains(m, `kubelet_running_pods{node="n1"} 1`) &&
			strings.Contains(m, `kubelet_running_containers{node="n1"} 1`) &&
			strings.Contains(m, "kubelet_pod_start_duration_seconds_count 1") &&
			strings.Contains(m, `kubelet_sync_errors_total{kind="pod"} 0`)
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics lack the running pod and its start latency:\n%s", m)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
