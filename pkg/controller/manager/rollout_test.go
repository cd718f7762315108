package manager_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/cli/rollout/undo"
	"github.com/kl-dev/kl/pkg/controller/controllertest"
	"github.com/kl-dev/kl/pkg/controller/manager"
)

// The rolling update guarantees of Kubernetes' Deployment, checked at
// every state a watch on the pods observes, not only at the end: live pods
// never exceed replicas + maxSurge, available pods never drop below
// replicas - maxUnavailable.
func TestRollingUpdateStaysWithinSurgeAndUnavailability(t *testing.T) {
	tests := []struct {
		surge, unavailable string
		maxLive, minAvail  int // for 5 replicas
	}{
		{"25%", "25%", 7, 4}, // surge rounds up (2), unavailable down (1)
		{"1", "0", 6, 5},
		{"0", "1", 5, 4},
		{"3", "2", 8, 3},
		{"0%", "10%", 5, 4}, // both resolve to 0: maxUnavailable becomes 1
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("maxSurge=%s,maxUnavailable=%s", tt.surge, tt.unavailable), func(t *testing.T) {
			c := controllertest.StartAPIServer(t)
			e := newEnv(t, c)
			controllertest.StartFakeKubelet(t, c, controllertest.KubeletConfig{Delay: 20 * time.Millisecond})
			startManager(t, manager.Config{Client: c})

			e.create(rolling(deploymentSpec("web", 5, "nginx:1"), tt.surge, tt.unavailable))
			e.rolledOut("web")
			w := e.watchPods("web", func(pods []*corev1.Pod) string {
				live, avail := liveAndAvailable(pods)
				switch {
				case live > tt.maxLive:
					return fmt.Sprintf("%d live pods, more than replicas + maxSurge = %d", live, tt.maxLive)
				case avail < tt.minAvail:
					return fmt.Sprintf("%d available pods, fewer than replicas - maxUnavailable = %d", avail, tt.minAvail)
				}
				return ""
			})
			e.patch("web", `{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:2"}]}}}}`)
			d := e.rolledOut("web")
			violations, events := w.result()
			for _, v := range violations {
				t.Error(v)
			}
			if events < 15 {
				t.Errorf("the watch saw %d events; a rollout of 5 pods makes at least 15", events)
			}
			pods, err := e.podsOf("web")
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range pods {
				if img := p.Spec.Containers[0].Image; img != "nginx:2" {
					t.Errorf("pod %s runs %s after the rollout", p.Name, img)
				}
			}
			if d.Annotations[appsv1.RevisionAnnotation] != "2" {
				t.Errorf("revision = %q, want 2", d.Annotations[appsv1.RevisionAnnotation])
			}
			if got := condition(d, appsv1.DeploymentProgressing); got != "True/NewReplicaSetAvailable" {
				t.Errorf("Progressing = %s", got)
			}
		})
	}
}

// Restoring an old template (what `kl rollout undo` does) scales the old
// ReplicaSet back up instead of making a new one; its revision becomes the
// newest and the revision it had is kept in revision-history.
func TestRollbackReusesTheOldReplicaSet(t *testing.T) {
	c := controllertest.StartAPIServer(t)
	e := newEnv(t, c)
	controllertest.StartFakeKubelet(t, c, controllertest.KubeletConfig{})
	startManager(t, manager.Config{Client: c})

	e.create(deploymentSpec("web", 3, "nginx:1"))
	e.rolledOut("web")
	first := e.onlyActiveReplicaSet("web")
	e.patch("web", `{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:2"}]}}}}`)
	e.rolledOut("web")
	second := e.onlyActiveReplicaSet("web")
	if second.Name == first.Name {
		t.Fatalf("a new template kept ReplicaSet %s", first.Name)
	}

	e.patch("web", `{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:1"}]}}}}`)
	d := e.rolledOut("web")
	back := e.onlyActiveReplicaSet("web")
	if back.Name != first.Name || back.UID != first.UID {
		t.Fatalf("rollback runs ReplicaSet %s, want the first one, %s", back.Name, first.Name)
	}
	if got := back.Annotations[appsv1.RevisionAnnotation]; got != "3" {
		t.Errorf("revision of the restored ReplicaSet = %q, want 3", got)
	}
	if got := back.Annotations[appsv1.RevisionHistoryAnnotation]; got != "1" {
		t.Errorf("revision-history = %q, want 1", got)
	}
	if got := d.Annotations[appsv1.RevisionAnnotation]; got != "3" {
		t.Errorf("Deployment revision = %q, want 3", got)
	}
	rss, err := e.replicaSetsOf("web")
	if err != nil {
		t.Fatal(err)
	}
	if len(rss) != 2 {
		t.Errorf("%d ReplicaSets, want 2", len(rss))
	}
}

// Recreate: the old pods are all gone before any new one exists.
func TestRecreateStopsOldPodsBeforeStartingNewOnes(t *testing.T) {
	c := controllertest.StartAPIServer(t)
	e := newEnv(t, c)
	controllertest.StartFakeKubelet(t, c, controllertest.KubeletConfig{Delay: 10 * time.Millisecond})
	startManager(t, manager.Config{Client: c})

	d := deploymentSpec("db", 3, "postgres:16")
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	e.create(d)
	e.rolledOut("db")
	w := e.watchPods("db", func(pods []*corev1.Pod) string {
		images := map[string]int{}
		for _, p := range pods {
			images[p.Spec.Containers[0].Image]++
		}
		if len(images) > 1 {
			return fmt.Sprintf("old and new pods at once: %v", images)
		}
		return ""
	})
	e.patch("db", `{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"postgres:17"}]}}}}`)
	e.rolledOut("db")
	violations, _ := w.result()
	for _, v := range violations {
		t.Error(v)
	}
}

// A paused Deployment does not roll out a new template, but still scales;
// resuming rolls the template out.
func TestPausedDeploymentScalesButDoesNotRollOut(t *testing.T) {
	c := controllertest.StartAPIServer(t)
	e := newEnv(t, c)
	controllertest.StartFakeKubelet(t, c, controllertest.KubeletConfig{})
	startManager(t, manager.Config{Client: c})

	e.create(deploymentSpec("web", 2, "nginx:1"))
	e.rolledOut("web")
	first := e.onlyActiveReplicaSet("web")
	e.patch("web", `{"spec":{"paused":true}}`)
	e.eventually("Progressing=Unknown/DeploymentPaused", func() error {
		if got := condition(e.deployment("web"), appsv1.DeploymentProgressing); got != "Unknown/DeploymentPaused" {
			return fmt.Errorf("Progressing = %s", got)
		}
		return nil
	})
	e.patch("web", `{"spec":{"replicas":4,"template":{"spec":{"containers":[{"name":"app","image":"nginx:2"}]}}}}`)
	e.eventually("the paused Deployment scaled to 4", func() error {
		d := e.deployment("web")
		if d.Status.ObservedGeneration < d.Generation || d.Status.AvailableReplicas != 4 {
			return fmt.Errorf("status %+v", d.Status)
		}
		return nil
	})
	rss, err := e.replicaSetsOf("web")
	if err != nil {
		t.Fatal(err)
	}
	if len(rss) != 1 || rss[0].Name != first.Name || *rss[0].Spec.Replicas != 4 {
		t.Fatalf("while paused: ReplicaSets %v, want only %s scaled to 4", names(rss), first.Name)
	}
	e.patch("web", `{"spec":{"paused":false}}`)
	e.rolledOut("web")
	if rs := e.onlyActiveReplicaSet("web"); rs.Name == first.Name || rs.Spec.Template.Spec.Containers[0].Image != "nginx:2" {
		t.Errorf("after resuming, %s runs %s", rs.Name, rs.Spec.Template.Spec.Containers[0].Image)
	}
}

// A rollout whose pods never become ready reports
// Progressing=False/ProgressDeadlineExceeded once the deadline passes.
func TestProgressDeadlineExceeded(t *testing.T) {
	c := controllertest.StartAPIServer(t)
	e := newEnv(t, c)
	controllertest.StartFakeKubelet(t, c, controllertest.KubeletConfig{Ready: func(p *corev1.Pod) bool {
		return p.Spec.Containers[0].Image != "broken:1"
	}})
	startManager(t, manager.Config{Client: c})

	d := deploymentSpec("web", 2, "nginx:1")
	d.Spec.ProgressDeadlineSeconds = ptr(int32(2))
	e.create(d)
	e.rolledOut("web")
	e.patch("web", `{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"broken:1"}]}}}}`)
	e.eventually("Progressing=True/ReplicaSetUpdated", func() error {
		if got := condition(e.deployment("web"), appsv1.DeploymentProgressing); got != "True/ReplicaSetUpdated" && got != "True/NewReplicaSetCreated" {
			return fmt.Errorf("Progressing = %s", got)
		}
		return nil
	})
	// Nothing happens to the stuck pods: only the controller's own
	// requeue at the deadline can report it.
	e.eventually("Progressing=False/ProgressDeadlineExceeded", func() error {
		got := e.deployment("web")
		if c := condition(got, appsv1.DeploymentProgressing); c != "False/ProgressDeadlineExceeded" {
			return fmt.Errorf("Progressing = %s", c)
		}
		return nil
	})
	got := e.deployment("web")
	if c := condition(got, appsv1.DeploymentAvailable); c != "True/MinimumReplicasAvailable" {
		t.Errorf("Available = %s (the old pods still serve)", c)
	}
}

func TestScaleUpAndDown(t *testing.T) {
	c := controllertest.StartAPIServer(t)
	e := newEnv(t, c)
	controllertest.StartFakeKubelet(t, c, controllertest.KubeletConfig{})
	startManager(t, manager.Config{Client: c})

	e.create(deploymentSpec("web", 2, "nginx:1"))
	e.rolledOut("web")
	for _, n := range []int32{6, 1, 0, 3} {
		scale := &appsv1.Scale{Spec: appsv1.ScaleSpec{Replicas: n}}
		scale.Name, scale.Namespace = "web", "default"
		if err := e.ds.UpdateSubresource(e.ctx, "web", "scale", scale, nil, clientUpdateOptions()); err != nil {
			t.Fatalf("scale to %d: %v", n, err)
		}
		d := e.rolledOut("web")
		if rss, _ := e.replicaSetsOf("web"); len(rss) != 1 || *rss[0].Spec.Replicas != n {
			t.Errorf("scaled to %d: ReplicaSets %v", n, names(rss))
		}
		if d.Status.Replicas != n {
			t.Errorf("status.replicas = %d, want %d", d.Status.Replicas, n)
		}
	}
}

func (e *env) onlyActiveReplicaSet(name string) *appsv1.ReplicaSet {
	e.t.Helper()
	rss, err := e.replicaSetsOf(name)
	if err != nil {
		e.t.Fatal(err)
	}
	var active []*appsv1.ReplicaSet
	for _, rs := range rss {
		if *rs.Spec.Replicas > 0 {
			active = append(active, rs)
		}
	}
	if len(active) != 1 {
		e.t.Fatalf("active ReplicaSets %v, want one", names(active))
	}
	return active[0]
}

func names(rss []*appsv1.ReplicaSet) []string {
	out := make([]string, len(rss))
	for i, rs := range rss {
		out[i] = fmt.Sprintf("%s(%d)", rs.Name, *rs.Spec.Replicas)
	}
	slices.Sort(out)
	return out
}

func ptr[T any](v T) *T { return &v }

// `kl rollout undo` (which copies the previous ReplicaSet's template back
// into the Deployment) brings the previous ReplicaSet back, end to end.
func TestKlRolloutUndo(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	c, url := controllertest.StartAPIServerURL(t)
	e := newEnv(t, c)
	controllertest.StartFakeKubelet(t, c, controllertest.KubeletConfig{})
	startManager(t, manager.Config{Client: c})

	e.create(deploymentSpec("web", 3, "nginx:1"))
	e.rolledOut("web")
	first := e.onlyActiveReplicaSet("web")
	e.patch("web", `{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:2"}]}}}}`)
	e.rolledOut("web")

	ios, _, stdout, _ := iostreams.Test()
	f := cmdutil.NewFactory(ios)
	f.Global.Server = url
	cmd := undo.NewCmdUndo(f, nil)
	cmd.SetArgs([]string{"deployment/web"})
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	if err := cmd.ExecuteContext(e.ctx); err != nil {
		t.Fatalf("kl rollout undo: %v", err)
	}
	if !strings.Contains(stdout.String(), "rolled back") {
		t.Errorf("kl rollout undo said %q", stdout)
	}
	d := e.rolledOut("web")
	back := e.onlyActiveReplicaSet("web")
	if back.UID != first.UID || back.Annotations[appsv1.RevisionAnnotation] != "3" || d.Annotations[appsv1.RevisionAnnotation] != "3" {
		t.Errorf("after undo: ReplicaSet %s (revision %s), Deployment revision %s; want %s at revision 3",
			back.Name, back.Annotations[appsv1.RevisionAnnotation], d.Annotations[appsv1.RevisionAnnotation], first.Name)
	}
}
