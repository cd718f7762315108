package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	coordinationv1 "github.com/kl-dev/kl/pkg/api/coordination/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/test/e2e/framework"
)

// The workload tests run every component as its own process on loopback:
// `kl apiserver`, `kl scheduler`, two `kl controller-manager` (leader
// elected, short lease timings) and two `kl kubelet --runtime fake` nodes,
// and drive them with the kl CLI as a user would. Invariants are checked on
// every state a watch delivers, not on samples: a watch event carries the
// revision of its change, so the state after each event is a state the
// cluster was really in.

// webDeployment is the Deployment of the rolling update test: 6 replicas,
// maxSurge 2, maxUnavailable 1, a readiness probe (the fake runtime answers
// it) and minReadySeconds 1, so that each step of a rollout waits for
// availability that is real.
func webDeployment(ns, image string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: %s
spec:
  replicas: 6
  minReadySeconds: 1
  selector:
    matchLabels: {app: web}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 2, maxUnavailable: 1}
  template:
    metadata:
      labels: {app: web, svc: web}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: web
        image: %s
        ports: [{containerPort: 80}]
        resources:
          requests: {cpu: 10m, memory: 16Mi}
        readinessProbe:
          httpGet: {path: /healthz, port: 80}
          periodSeconds: 1
`, ns, image)
}

// rolloutBounds checks, on every observed state while armed, Kubernetes'
// promise for a RollingUpdate Deployment: live (non-terminating) pods never
// exceed replicas + maxSurge and available pods (Ready for minReadySeconds)
// never drop below replicas - maxUnavailable.
//
// Availability is computed at the time the test received the event. That
// is never earlier than the time the controllers decided on the change the
// event shows, and availability only grows with time while no pod turns
// unready, so a pod the controllers counted as available is counted here
// too: the check cannot report a violation the controllers did not cause.
type rolloutBounds struct {
	app                       string
	replicas, surge, unavail  int
	minReadySeconds           int32
	armed                     bool
	states, maxLive, minAvail int
	mixedStates               int // states with live pods of two templates
	violations                []string
}

// counts returns the live and available pods of the Deployment and the
// pod-template-hashes of the live ones.
func (b *rolloutBounds) counts(objs map[string]*corev1.Pod, now time.Time) (live, avail int, hashes map[string]int) {
	hashes = map[string]int{}
	for _, p := range objs {
		if p.Labels["app"] != b.app || !isLive(p) {
			continue
		}
		live++
		hashes[p.Labels["pod-template-hash"]]++
		if corev1.IsPodAvailable(p, b.minReadySeconds, now) {
			avail++
		}
	}
	return live, avail, hashes
}

// observe is the pod recorder's hook.
func (b *rolloutBounds) observe(ev watchEvent[*corev1.Pod], objs map[string]*corev1.Pod) {
	if !b.armed || ev.Obj.Labels["app"] != b.app {
		return
	}
	live, avail, hashes := b.counts(objs, ev.At)
	b.states++
	b.maxLive = max(b.maxLive, live)
	b.minAvail = min(b.minAvail, avail)
	if len(hashes) > 1 {
		b.mixedStates++
	}
	if live > b.replicas+b.surge {
		b.violations = append(b.violations, fmt.Sprintf("revision %d (%s %s): %d live pods > replicas %d + maxSurge %d; per template: %v",
			ev.RV, ev.Type, ev.Obj.Name, live, b.replicas, b.surge, hashes))
	}
	if avail < b.replicas-b.unavail {
		b.violations = append(b.violations, fmt.Sprintf("revision %d (%s %s): %d available pods < replicas %d - maxUnavailable %d; per template: %v",
			ev.RV, ev.Type, ev.Obj.Name, avail, b.replicas, b.unavail, hashes))
	}
}

// settled returns a waitFor condition: exactly replicas pods of the
// Deployment, all live, available and running image, none terminating.
// With arm set it arms (true) or disarms (false) the check in the same
// critical section, so that arming happens on a state known to be settled.
func (b *rolloutBounds) settled(replicas int, image string, arm *bool) func(map[string]*corev1.Pod) (bool, string) {
	return func(objs map[string]*corev1.Pod) (bool, string) {
		now := time.Now()
		total, ok := 0, 0
		for _, p := range objs {
			if p.Labels["app"] != b.app {
				continue
			}
			total++
			if isLive(p) && corev1.IsPodAvailable(p, b.minReadySeconds, now) && p.Spec.Containers[0].Image == image {
				ok++
			}
		}
		if total != replicas || ok != replicas {
			return false, fmt.Sprintf("%d pods of app=%s, %d of them live, available and running %s; want %d", total, b.app, ok, image, replicas)
		}
		if arm != nil {
			b.armed = *arm
			if b.armed {
				b.states, b.mixedStates = 0, 0
				b.maxLive, b.minAvail = total, total
			}
		}
		return true, ""
	}
}

func (b *rolloutBounds) report(t *testing.T) {
	t.Helper()
	t.Logf("rollout bounds: %d states observed, %d with pods of two templates; live pods at most %d (limit %d), available at least %d (limit %d)",
		b.states, b.mixedStates, b.maxLive, b.replicas+b.surge, b.minAvail, b.replicas-b.unavail)
	if len(b.violations) > 0 {
		t.Errorf("%d observed states broke the rolling update bounds:\n%s", len(b.violations), strings.Join(b.violations, "\n"))
	}
	if b.mixedStates == 0 {
		t.Errorf("no observed state had pods of both templates: the rollout was not seen step by step")
	}
}

// TestWorkloadsOnSeparateProcesses drives a Deployment through its life on
// a cluster of separate processes: a rolling update that keeps the
// maxSurge/maxUnavailable bounds on every observed state, rollout status,
// undo (the old ReplicaSet comes back), scaling both ways, Endpoints that
// list exactly the ready pods, cascading and orphaning deletes, and the
// deletion of a namespace.
func TestWorkloadsOnSeparateProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster of processes")
	}
	cl := startWorkloadCluster(t, workloadClusterConfig{nodes: []string{"node-a", "node-b"}, managers: 2, fakeStartDelay: 300 * time.Millisecond})
	ctx := context.Background()
	const ns = "workloads"
	if _, err := cl.namespaces.Create(ctx, &corev1.Namespace{ObjectMeta: meta.ObjectMeta{Name: ns}}, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	bounds := &rolloutBounds{app: "web", replicas: 6, surge: 2, unavail: 1, minReadySeconds: 1}
	pods := recordWatch(t, "pods", cl.pods.Namespace(ns), listRV(t, cl.pods.Namespace(ns)), bounds.observe)
	deployments := cl.deployments.Namespace(ns)
	replicaSets := cl.replicaSets.Namespace(ns)
	dir := t.TempDir()
	manifest := writeWorkloadManifest(t, dir, "web.yaml", webDeployment(ns, "nginx:1.27"))
	armed, disarmed := true, false

	var firstRS *appsv1.ReplicaSet
	scenarioStep(t, "rolling update keeps live pods <= replicas+maxSurge and available >= replicas-maxUnavailable", func(t *testing.T) {
		cl.cli.Must("apply", "-f", manifest)
		cl.cli.Must("-n", ns, "rollout", "status", "deployment/web", "--timeout", "2m")
		rss := listReplicaSets(t, replicaSets, "app=web")
		if len(rss) != 1 {
			t.Fatalf("%d ReplicaSets after the first rollout, want 1", len(rss))
		}
		firstRS = rss[0]
		pods.waitFor(t, time.Minute, "6 available pods of nginx:1.27", bounds.settled(6, "nginx:1.27", &armed))

		writeWorkloadManifest(t, dir, "web.yaml", webDeployment(ns, "nginx:1.28"))
		start := time.Now()
		cl.cli.Must("apply", "-f", manifest)
		out := cl.cli.Must("-n", ns, "rollout", "status", "deployment/web", "--timeout", "2m")
		if !strings.Contains(out, `deployment "web" successfully rolled out`) {
			t.Errorf("kl rollout status printed:\n%s", out)
		}
		pods.waitFor(t, time.Minute, "6 available pods of nginx:1.28, the old ones gone", bounds.settled(6, "nginx:1.28", nil))
		t.Logf("rollout to nginx:1.28 took %s", time.Since(start).Round(time.Millisecond))
		hist := cl.cli.Must("-n", ns, "rollout", "history", "deployment/web")
		for _, rev := range []string{"1", "2"} {
			if !hasLineWithFields(hist, []string{rev}) {
				t.Errorf("kl rollout history has no revision %s:\n%s", rev, hist)
			}
		}
	})

	scenarioStep(t, "rollout undo brings the previous template back on its old ReplicaSet", func(t *testing.T) {
		cl.cli.Must("-n", ns, "rollout", "undo", "deployment/web")
		cl.cli.Must("-n", ns, "rollout", "status", "deployment/web", "--timeout", "2m")
		pods.waitFor(t, time.Minute, "6 available pods of nginx:1.27 again", bounds.settled(6, "nginx:1.27", &disarmed))
		func() {
			pods.mu.Lock()
			defer pods.mu.Unlock()
			bounds.report(t)
		}()

		d, err := deployments.Get(ctx, "web")
		if err != nil {
			t.Fatal(err)
		}
		if img := d.Spec.Template.Spec.Containers[0].Image; img != "nginx:1.27" {
			t.Errorf("after undo the Deployment's image is %s, want nginx:1.27", img)
		}
		if rev := d.Annotations[appsv1.RevisionAnnotation]; rev != "3" {
			t.Errorf("after undo the Deployment is at revision %q, want 3", rev)
		}
		rss := listReplicaSets(t, replicaSets, "app=web")
		if len(rss) != 2 {
			t.Fatalf("%d ReplicaSets after undo, want 2 (the first one reused): %v", len(rss), rsNames(rss))
		}
		for _, rs := range rss {
			switch {
			case rs.UID == firstRS.UID:
				if got := replicasOf(rs); got != 6 {
					t.Errorf("the first ReplicaSet %s wants %d replicas after undo, want 6", rs.Name, got)
				}
				if rev := rs.Annotations[appsv1.RevisionAnnotation]; rev != "3" {
					t.Errorf("the reused ReplicaSet %s is at revision %q, want 3", rs.Name, rev)
				}
			default:
				if got := replicasOf(rs); got != 0 {
					t.Errorf("the nginx:1.28 ReplicaSet %s wants %d replicas after undo, want 0", rs.Name, got)
				}
			}
		}
	})

	scenarioStep(t, "kl scale grows and shrinks the Deployment", func(t *testing.T) {
		for _, n := range []int{9, 3} {
			cl.cli.Must("-n", ns, "scale", "deployment/web", "--replicas", fmt.Sprint(n))
			cl.cli.Must("-n", ns, "rollout", "status", "deployment/web", "--timeout", "2m")
			pods.waitFor(t, time.Minute, fmt.Sprintf("%d available pods", n), bounds.settled(n, "nginx:1.27", nil))
			framework.Eventually(t, time.Minute, 100*time.Millisecond, fmt.Sprintf("Deployment status at %d replicas", n), func() (bool, string) {
				d, err := deployments.Get(ctx, "web")
				if err != nil {
					return false, err.Error()
				}
				st := d.Status
				return int(st.Replicas) == n && int(st.AvailableReplicas) == n && int(st.UpdatedReplicas) == n,
					fmt.Sprintf("status replicas=%d available=%d updated=%d", st.Replicas, st.AvailableReplicas, st.UpdatedReplicas)
			})
		}
	})

	scenarioStep(t, "Endpoints list exactly the ready pods", func(t *testing.T) {
		// A pod the Service selects that the fake runtime keeps unready
		// (kl.test/fail-readiness fails its readiness probe).
		cl.cli.Must("apply", "-f", writeWorkloadManifest(t, dir, "svc.yaml", fmt.Sprintf(`apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: %[1]s
spec:
  selector: {svc: web}
  ports: [{port: 80, targetPort: 80}]
---
apiVersion: v1
kind: Pod
metadata:
  name: unready
  namespace: %[1]s
  labels: {svc: web, app: extra}
spec:
  containers:
  - name: web
    image: kl.test/fail-readiness
    readinessProbe:
      httpGet: {path: /healthz, port: 80}
      periodSeconds: 1
`, ns)))
		waitEndpoints(t, cl, ns, "web", 3, 1)
	})

	scenarioStep(t, "deleting the Deployment removes its ReplicaSets and pods", func(t *testing.T) {
		cl.cli.Must("-n", ns, "delete", "deployment", "web")
		pods.waitFor(t, time.Minute, "no pods of app=web", func(objs map[string]*corev1.Pod) (bool, string) {
			n := 0
			for _, p := range objs {
				if p.Labels["app"] == "web" {
					n++
				}
			}
			return n == 0, fmt.Sprintf("%d pods of app=web remain", n)
		})
		framework.Eventually(t, time.Minute, 100*time.Millisecond, "no ReplicaSets of app=web", func() (bool, string) {
			rss := listReplicaSets(t, replicaSets, "app=web")
			return len(rss) == 0, fmt.Sprintf("ReplicaSets remain: %v", rsNames(rss))
		})
		waitEndpoints(t, cl, ns, "web", 0, 1)
	})

	scenarioStep(t, "kl delete --cascade=orphan keeps the dependents and drops their owner references", func(t *testing.T) {
		cl.cli.Must("apply", "-f", writeWorkloadManifest(t, dir, "keep.yaml", fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: keep
  namespace: %s
spec:
  replicas: 2
  selector:
    matchLabels: {app: keep}
  template:
    metadata:
      labels: {app: keep}
    spec:
      containers:
      - name: keep
        image: nginx:1.27
`, ns)))
		cl.cli.Must("-n", ns, "rollout", "status", "deployment/keep", "--timeout", "2m")
		rss := listReplicaSets(t, replicaSets, "app=keep")
		if len(rss) != 1 {
			t.Fatalf("%d ReplicaSets of keep, want 1", len(rss))
		}
		rs := rss[0]
		before := livePodUIDs(t, cl, ns, "app=keep")
		if len(before) != 2 {
			t.Fatalf("%d live pods of keep, want 2", len(before))
		}

		cl.cli.Must("-n", ns, "delete", "deployment", "keep", "--cascade=orphan")
		framework.Eventually(t, time.Minute, 100*time.Millisecond, "Deployment keep gone, its ReplicaSet kept without owner", func() (bool, string) {
			if _, err := deployments.Get(ctx, "keep"); !meta.IsNotFound(err) {
				return false, fmt.Sprintf("the Deployment is still there (%v)", err)
			}
			got, err := replicaSets.Get(ctx, rs.Name)
			if err != nil {
				return false, err.Error()
			}
			if got.UID != rs.UID {
				return false, "the ReplicaSet was replaced"
			}
			return len(got.OwnerReferences) == 0, fmt.Sprintf("ownerReferences %v", got.OwnerReferences)
		})

		cl.cli.Must("-n", ns, "delete", "replicaset", rs.Name, "--cascade=orphan")
		framework.Eventually(t, time.Minute, 100*time.Millisecond, "ReplicaSet gone, its pods kept without owner", func() (bool, string) {
			if _, err := replicaSets.Get(ctx, rs.Name); !meta.IsNotFound(err) {
				return false, fmt.Sprintf("the ReplicaSet is still there (%v)", err)
			}
			list, _, err := cl.pods.Namespace(ns).List(ctx, client.ListOptions{LabelSelector: "app=keep"})
			if err != nil {
				return false, err.Error()
			}
			for _, p := range list {
				if len(p.OwnerReferences) > 0 {
					return false, fmt.Sprintf("pod %s still has ownerReferences %v", p.Name, p.OwnerReferences)
				}
			}
			return true, ""
		})
		after := livePodUIDs(t, cl, ns, "app=keep")
		if strings.Join(after, ",") != strings.Join(before, ",") {
			t.Errorf("orphaned pods changed: before %v, after %v", before, after)
		}
	})

	scenarioStep(t, "deleting the namespace empties it, then removes it", func(t *testing.T) {
		namespaces := recordWatch(t, "namespaces", cl.namespaces, listRV(t, cl.namespaces), nil)
		cl.cli.Must("delete", "namespace", ns)
		var nsGoneRV int64
		namespaces.waitFor(t, 2*time.Minute, "namespace deleted", func(map[string]*corev1.Namespace) (bool, string) {
			for _, ev := range namespaces.events {
				if ev.Type == meta.Deleted && ev.Obj.Name == ns {
					nsGoneRV = ev.RV
					return true, ""
				}
			}
			return false, "no DELETED event for the namespace yet"
		})
		if _, err := cl.namespaces.Get(ctx, ns); !meta.IsNotFound(err) {
			t.Errorf("GET namespace %s after its deletion: %v, want NotFound", ns, err)
		}
		pods.waitFor(t, time.Minute, "every pod's deletion seen", func(objs map[string]*corev1.Pod) (bool, string) {
			return len(objs) == 0, fmt.Sprintf("%d pods left", len(objs))
		})
		events, _ := pods.snapshot()
		for _, ev := range events {
			if ev.Type == meta.Deleted && ev.RV > nsGoneRV {
				t.Errorf("pod %s was deleted at revision %d, after its namespace (revision %d)", ev.Obj.Name, ev.RV, nsGoneRV)
			}
		}
		for what, n := range map[string]int{
			"deployments": countList(t, cl.deployments.Namespace(ns)),
			"replicasets": countList(t, replicaSets),
			"services":    countList(t, cl.services.Namespace(ns)),
			"endpoints":   countList(t, cl.endpoints.Namespace(ns)),
			"pods":        countList(t, cl.pods.Namespace(ns)),
		} {
			if n != 0 {
				t.Errorf("%d %s left in the deleted namespace", n, what)
			}
		}
	})
}

// TestControllerManagerFailover kills the leading controller-manager with
// SIGKILL while it has work to do (a scale-up just written; then, while no
// one leads, another scale-up and two pods deleted) and checks that the
// other one takes the Lease over once it expires and finishes the work, and
// that at no observed revision does a ReplicaSet own more live pods than
// its spec.replicas.
func TestControllerManagerFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster of processes")
	}
	cl := startWorkloadCluster(t, workloadClusterConfig{nodes: []string{"node-a", "node-b"}, managers: 2, fakeStartDelay: 200 * time.Millisecond})
	ctx := context.Background()
	const ns = "failover"
	const finalReplicas = 16
	if _, err := cl.namespaces.Create(ctx, &corev1.Namespace{ObjectMeta: meta.ObjectMeta{Name: ns}}, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Both watches start at the same revision, when the namespace is
	// empty, so that replaying their events in revision order gives every
	// state the namespace went through.
	rv := listRV(t, cl.pods.Namespace(ns))
	pods := recordWatch(t, "pods", cl.pods.Namespace(ns), rv, nil)
	replicaSets := recordWatch(t, "replicasets", cl.replicaSets.Namespace(ns), rv, nil)

	cl.cli.Must("apply", "-f", writeWorkloadManifest(t, t.TempDir(), "app.yaml", fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  namespace: %s
spec:
  replicas: 6
  selector:
    matchLabels: {app: app}
  strategy:
    rollingUpdate: {maxSurge: 2, maxUnavailable: 1}
  template:
    metadata:
      labels: {app: app}
    spec:
      containers:
      - name: app
        image: nginx:1.27
        readinessProbe:
          tcpSocket: {port: 80}
          periodSeconds: 1
`, ns)))
	cl.cli.Must("-n", ns, "rollout", "status", "deployment/app", "--timeout", "2m")

	holder, leader := cl.leader()
	leases := recordWatch(t, "leases", cl.leases, listRV(t, cl.leases), nil)
	// A renewal seen before the kill bounds the takeover from below.
	leases.waitFor(t, 30*time.Second, "a renewal of the lease", func(objs map[string]*coordinationv1.Lease) (bool, string) {
		for _, ev := range leases.events {
			if ev.Obj.Name == "kl-controller-manager" && ev.Obj.Holder() == holder {
				return true, ""
			}
		}
		return false, "no renewal by " + holder
	})

	// Give the leader work (a patch is quicker than the CLI) and kill it
	// while it does it: the kill may land before, during or after its pod
	// creations.
	if _, err := cl.deployments.Namespace(ns).Patch(ctx, "app", client.MergePatchType, []byte(`{"spec":{"replicas":12}}`), client.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	killedAt := time.Now()
	leader.Kill()
	pods.mu.Lock()
	atKill := len(pods.objs)
	pods.mu.Unlock()
	t.Logf("killed the leading %s (%s) with %d pods seen (the scale-up asks for 12)", leader.Name, holder, atKill)

	// While no one leads: more work for the next leader, a scale-up and two
	// pods to replace.
	cl.cli.Must("-n", ns, "scale", "deployment/app", "--replicas", fmt.Sprint(finalReplicas))
	list, _, err := cl.pods.Namespace(ns).List(ctx, client.ListOptions{LabelSelector: "app=app"})
	if err != nil {
		t.Fatal(err)
	}
	deleted := 0
	for _, p := range list {
		if deleted == 2 {
			break
		}
		if isLive(p) {
			if err := cl.pods.Namespace(ns).Delete(ctx, p.Name, meta.DeleteOptions{}); err != nil {
				t.Fatalf("delete pod %s: %v", p.Name, err)
			}
			deleted++
		}
	}

	// The takeover: the first event of the Lease with another holder; the
	// last renewal: the last event of the old holder before the kill.
	var newHolder string
	var takeoverAt, lastRenewal time.Time
	leases.waitFor(t, time.Minute, "another controller-manager takes the lease", func(map[string]*coordinationv1.Lease) (bool, string) {
		for _, ev := range leases.events {
			if ev.Obj.Name != "kl-controller-manager" {
				continue
			}
			h := ev.Obj.Holder()
			if h == holder && !ev.At.After(killedAt) {
				lastRenewal = ev.At
			}
			if h != "" && h != holder {
				newHolder, takeoverAt = h, ev.At
				return true, ""
			}
		}
		return false, "the lease is still held by " + holder
	})
	takeover := takeoverAt.Sub(killedAt)
	t.Logf("the lease passed from %s to %s %s after the SIGKILL, %s after the last renewal seen (lease duration %s, retry period %s)",
		holder, newHolder, takeover.Round(time.Millisecond), takeoverAt.Sub(lastRenewal).Round(time.Millisecond), leaseDuration, retryPeriod)
	// The survivor polls every retryPeriod (plus jitter); it sees the last
	// renewal at most one poll after it was written, waits leaseDuration
	// from then on its own clock and takes over at its next poll. The
	// margin is for a loaded machine.
	if maxTakeover := leaseDuration + 2*time.Duration(float64(retryPeriod)*(1+electionJitter)) + 3*time.Second; takeover > maxTakeover {
		t.Errorf("takeover %s after the kill, want at most %s", takeover.Round(time.Millisecond), maxTakeover)
	}
	// Nor may it take over sooner than leaseDuration after the last
	// renewal (less a second for the latency of the test's watch and of
	// the survivor's reads): that would ignore a live lease.
	if lastRenewal.IsZero() {
		t.Logf("no renewal seen before the kill; the lower bound is not checked")
	} else if early := lastRenewal.Add(leaseDuration - time.Second); takeoverAt.Before(early) {
		t.Errorf("takeover %s after the last renewal seen, want at least %s: a live lease was taken",
			takeoverAt.Sub(lastRenewal).Round(time.Millisecond), leaseDuration-time.Second)
	}
	if h, p := cl.leader(); h != newHolder || p == leader {
		t.Errorf("the lease is held by %s (process %v), want the surviving controller-manager", h, p.Name)
	}

	// The new leader finishes the work.
	cl.cli.Must("-n", ns, "rollout", "status", "deployment/app", "--timeout", "2m")
	pods.waitFor(t, time.Minute, "all pods of app live and ready, none terminating", func(objs map[string]*corev1.Pod) (bool, string) {
		live, total := 0, 0
		for _, p := range objs {
			total++
			if isLive(p) && corev1.IsPodReady(p) {
				live++
			}
		}
		return live == finalReplicas && total == finalReplicas, fmt.Sprintf("%d pods, %d live and ready; want %d", total, live, finalReplicas)
	})
	replicaSets.waitFor(t, time.Minute, "one ReplicaSet with all the replicas", func(objs map[string]*appsv1.ReplicaSet) (bool, string) {
		for _, rs := range objs {
			if replicasOf(rs) != finalReplicas || rs.Status.Replicas != finalReplicas {
				return false, fmt.Sprintf("%s: spec.replicas %d, status.replicas %d", rs.Name, replicasOf(rs), rs.Status.Replicas)
			}
		}
		return len(objs) == 1, fmt.Sprintf("%d ReplicaSets", len(objs))
	})

	podEvents, err := pods.snapshot()
	if err != nil {
		t.Fatal(err)
	}
	rsEvents, err := replicaSets.snapshot()
	if err != nil {
		t.Fatal(err)
	}
	states, most, violations := replayReplicaSetBounds(podEvents, rsEvents)
	t.Logf("replayed %d states (%d pod and %d ReplicaSet events); a ReplicaSet owned at most %d live pods",
		states, len(podEvents), len(rsEvents), most)
	if len(violations) > 0 {
		t.Errorf("%d states had a ReplicaSet owning more live pods than its spec.replicas:\n%s", len(violations), strings.Join(violations, "\n"))
	}
}

// replayReplicaSetBounds replays pod and ReplicaSet events in revision
// order (every write has its own revision) from an empty namespace and
// checks after each one that no ReplicaSet controls more live pods than its
// spec.replicas. It returns the number of states checked, the largest
// number of live pods a ReplicaSet had, and the violations.
func replayReplicaSetBounds(podEvents []watchEvent[*corev1.Pod], rsEvents []watchEvent[*appsv1.ReplicaSet]) (int, int, []string) {
	type change struct {
		rv  int64
		pod *watchEvent[*corev1.Pod]
		rs  *watchEvent[*appsv1.ReplicaSet]
	}
	var changes []change
	for i := range podEvents {
		changes = append(changes, change{rv: podEvents[i].RV, pod: &podEvents[i]})
	}
	for i := range rsEvents {
		changes = append(changes, change{rv: rsEvents[i].RV, rs: &rsEvents[i]})
	}
	sort.SliceStable(changes, func(i, j int) bool { return changes[i].rv < changes[j].rv })

	pods := map[string]*corev1.Pod{}
	rss := map[string]*appsv1.ReplicaSet{}
	most := 0
	var violations []string
	for _, c := range changes {
		switch {
		case c.pod != nil && c.pod.Type == meta.Deleted:
			delete(pods, c.pod.Obj.UID)
		case c.pod != nil:
			pods[c.pod.Obj.UID] = c.pod.Obj
		case c.rs.Type == meta.Deleted:
			delete(rss, c.rs.Obj.UID)
		default:
			rss[c.rs.Obj.UID] = c.rs.Obj
		}
		owned := map[string]int{}
		for _, p := range pods {
			if isLive(p) {
				owned[controllerUID(&p.ObjectMeta)]++
			}
		}
		for uid, rs := range rss {
			most = max(most, owned[uid])
			if owned[uid] > int(replicasOf(rs)) {
				violations = append(violations, fmt.Sprintf("revision %d: ReplicaSet %s owns %d live pods, spec.replicas %d",
					c.rv, rs.Name, owned[uid], replicasOf(rs)))
			}
		}
	}
	return len(changes), most, violations
}

// scenarioStep runs one step of a scenario as a subtest and stops the scenario at
// the first step that fails: the later ones build on it.
func scenarioStep(t *testing.T, name string, f func(t *testing.T)) {
	t.Helper()
	if !t.Run(name, f) {
		t.FailNow()
	}
}

// waitEndpoints waits until the Endpoints ns/name list exactly the ready
// pods the Service selects as addresses and the live unready ones as
// notReadyAddresses, with ready and unready of each.
func waitEndpoints(t *testing.T, cl *workloadCluster, ns, name string, ready, unready int) {
	t.Helper()
	ctx := context.Background()
	framework.Eventually(t, time.Minute, 100*time.Millisecond, fmt.Sprintf("Endpoints %s list the %d ready pods and %d unready", name, ready, unready), func() (bool, string) {
		svc, err := cl.services.Namespace(ns).Get(ctx, name)
		if err != nil {
			return false, err.Error()
		}
		list, _, err := cl.pods.Namespace(ns).List(ctx, client.ListOptions{LabelSelector: meta.SelectorFromSet(svc.Spec.Selector).String()})
		if err != nil {
			return false, err.Error()
		}
		var wantReady, wantUnready []string
		for _, p := range list {
			if p.DeletionTimestamp != nil || p.Status.PodIP == "" {
				continue
			}
			addr := p.Status.PodIP + "=" + p.Name
			if corev1.IsPodReady(p) {
				wantReady = append(wantReady, addr)
			} else {
				wantUnready = append(wantUnready, addr)
			}
		}
		if len(wantReady) != ready || len(wantUnready) != unready {
			return false, fmt.Sprintf("the Service selects %d ready pods %v and %d unready %v", len(wantReady), wantReady, len(wantUnready), wantUnready)
		}
		ep, err := cl.endpoints.Namespace(ns).Get(ctx, name)
		if err != nil {
			return false, err.Error()
		}
		var gotReady, gotUnready []string
		for _, s := range ep.Subsets {
			for _, a := range s.Addresses {
				gotReady = append(gotReady, endpointAddr(a))
			}
			for _, a := range s.NotReadyAddresses {
				gotUnready = append(gotUnready, endpointAddr(a))
			}
		}
		for _, l := range [][]string{wantReady, wantUnready, gotReady, gotUnready} {
			sort.Strings(l)
		}
		same := strings.Join(gotReady, ",") == strings.Join(wantReady, ",") && strings.Join(gotUnready, ",") == strings.Join(wantUnready, ",")
		return same, fmt.Sprintf("Endpoints addresses %v notReadyAddresses %v; ready pods %v, unready %v", gotReady, gotUnready, wantReady, wantUnready)
	})
}

func endpointAddr(a corev1.EndpointAddress) string {
	if a.TargetRef == nil {
		return a.IP + "=?"
	}
	return a.IP + "=" + a.TargetRef.Name
}

func listReplicaSets(t *testing.T, res *client.Resource[appsv1.ReplicaSet, *appsv1.ReplicaSet], selector string) []*appsv1.ReplicaSet {
	t.Helper()
	rss, _, err := res.List(context.Background(), client.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatalf("list ReplicaSets: %v", err)
	}
	return rss
}

func rsNames(rss []*appsv1.ReplicaSet) []string {
	var names []string
	for _, rs := range rss {
		names = append(names, fmt.Sprintf("%s(%d)", rs.Name, replicasOf(rs)))
	}
	return names
}

func replicasOf(rs *appsv1.ReplicaSet) int32 {
	if rs.Spec.Replicas == nil {
		return 1
	}
	return *rs.Spec.Replicas
}

// livePodUIDs returns the sorted UIDs of the live pods matching selector.
func livePodUIDs(t *testing.T, cl *workloadCluster, ns, selector string) []string {
	t.Helper()
	list, _, err := cl.pods.Namespace(ns).List(context.Background(), client.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatal(err)
	}
	var uids []string
	for _, p := range list {
		if isLive(p) {
			uids = append(uids, p.UID)
		}
	}
	sort.Strings(uids)
	return uids
}

func countList[T any, PT client.Object[T]](t *testing.T, res *client.Resource[T, PT]) int {
	t.Helper()
	items, _, err := res.List(context.Background(), client.ListOptions{})
	if err != nil {
		t.Fatalf("list %s: %v", res.GVR().Resource, err)
	}
	return len(items)
}
