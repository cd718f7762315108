package manager_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/intstr"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/controller"
	"github.com/kl-dev/kl/pkg/controller/manager"
)

// env is an apiserver, typed clients, and helpers for one test.
type env struct {
	t    testing.TB
	ctx  context.Context
	c    *client.Client
	pods *client.Resource[corev1.Pod, *corev1.Pod]
	rss  *client.Resource[appsv1.ReplicaSet, *appsv1.ReplicaSet]
	ds   *client.Resource[appsv1.Deployment, *appsv1.Deployment]
}

func newEnv(t testing.TB, c *client.Client) *env {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return &env{
		t: t, ctx: ctx, c: c,
		pods: client.NewResource[corev1.Pod](c, controller.PodsResource, true).Namespace("default"),
		rss:  client.NewResource[appsv1.ReplicaSet](c, controller.ReplicaSetsResource, true).Namespace("default"),
		ds:   client.NewResource[appsv1.Deployment](c, controller.DeploymentsResource, true).Namespace("default"),
	}
}

func testLogger() *slog.Logger {
	if os.Getenv("KL_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// startManager runs a manager until the test ends (or stop is called).
func startManager(t testing.TB, cfg manager.Config) (m *manager.Manager, stop func()) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger()
	}
	m, err := manager.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("manager: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("manager did not stop within 15s")
		}
	}
	t.Cleanup(stop)
	return m, stop
}

func deploymentSpec(name string, replicas int32, image string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: meta.ObjectMeta{Name: name, Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: meta.Int32p(replicas),
			Selector: &meta.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: meta.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}},
			},
		},
	}
}

func rolling(d *appsv1.Deployment, surge, unavailable string) *appsv1.Deployment {
	s, u := intstr.Parse(surge), intstr.Parse(unavailable)
	d.Spec.Strategy = appsv1.DeploymentStrategy{
		Type:          appsv1.RollingUpdateDeploymentStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &s, MaxUnavailable: &u},
	}
	return d
}

func (e *env) create(d *appsv1.Deployment) *appsv1.Deployment {
	e.t.Helper()
	out, err := e.ds.Create(e.ctx, d, client.CreateOptions{})
	if err != nil {
		e.t.Fatalf("create deployment %s: %v", d.Name, err)
	}
	return out
}

// patch merge-patches the Deployment.
func (e *env) patch(name, patch string) {
	e.t.Helper()
	if _, err := e.ds.Patch(e.ctx, name, client.MergePatchType, []byte(patch), client.PatchOptions{}); err != nil {
		e.t.Fatalf("patch deployment %s: %v", name, err)
	}
}

func (e *env) deployment(name string) *appsv1.Deployment {
	e.t.Helper()
	d, err := e.ds.Get(e.ctx, name)
	if err != nil {
		e.t.Fatalf("get deployment %s: %v", name, err)
	}
	return d
}

// ownedPods lists the active pods controlled by a ReplicaSet of the
// Deployment called name.
func (e *env) podsOf(name string) ([]*corev1.Pod, error) {
	pods, _, err := e.pods.List(e.ctx, client.ListOptions{LabelSelector: "app=" + name})
	if err != nil {
		return nil, err
	}
	var out []*corev1.Pod
	for _, p := range pods {
		if corev1.IsPodActive(p) {
			out = append(out, p)
		}
	}
	return out, nil
}

func (e *env) replicaSetsOf(name string) ([]*appsv1.ReplicaSet, error) {
	rss, _, err := e.rss.List(e.ctx, client.ListOptions{LabelSelector: "app=" + name})
	return rss, err
}

// eventually polls cond every 20ms until it returns nil, for up to 30s.
func (e *env) eventually(what string, cond func() error) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s: not within 30s: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rolledOut waits until the Deployment's status says every replica is
// updated and available and the controller saw its latest generation.
func (e *env) rolledOut(name string) *appsv1.Deployment {
	e.t.Helper()
	var d *appsv1.Deployment
	e.eventually("rollout of "+name, func() error {
		var err error
		if d, err = e.ds.Get(e.ctx, name); err != nil {
			return err
		}
		st, r := d.Status, *d.Spec.Replicas
		if st.ObservedGeneration < d.Generation || st.UpdatedReplicas != r || st.Replicas != r || st.AvailableReplicas != r || st.ReadyReplicas != r {
			return fmt.Errorf("generation %d, status %+v", d.Generation, st)
		}
		pods, err := e.podsOf(name)
		if err != nil {
			return err
		}
		if len(pods) != int(r) {
			return fmt.Errorf("%d active pods, want %d", len(pods), r)
		}
		return nil
	})
	return d
}

func condition(d *appsv1.Deployment, typ appsv1.DeploymentConditionType) string {
	c := appsv1.GetDeploymentCondition(&d.Status, typ)
	if c == nil {
		return "<none>"
	}
	return string(c.Status) + "/" + c.Reason
}

// podWatch follows the pods of one Deployment through a watch and checks
// an invariant at every state it observes.
type podWatch struct {
	mu         sync.Mutex
	pods       map[string]*corev1.Pod
	events     int
	violations []string
	done       chan struct{}
	cancel     context.CancelFunc
}

// watchPods starts following the pods labelled app=name; check gets the
// pods at each observed state (after each event) and returns a
// violation, or "".
func (e *env) watchPods(name string, check func(pods []*corev1.Pod) string) *podWatch {
	e.t.Helper()
	list, lm, err := e.pods.List(e.ctx, client.ListOptions{LabelSelector: "app=" + name})
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	w := &podWatch{pods: map[string]*corev1.Pod{}, done: make(chan struct{}), cancel: cancel}
	for _, p := range list {
		w.pods[p.Name] = p
	}
	ch, err := e.pods.RetryWatch(ctx, client.ListOptions{LabelSelector: "app=" + name, ResourceVersion: lm.ResourceVersion})
	if err != nil {
		e.t.Fatal(err)
	}
	go func() {
		defer close(w.done)
		for ev := range ch {
			w.mu.Lock()
			switch ev.Type {
			case meta.Added, meta.Modified:
				w.pods[ev.Object.Name] = ev.Object
			case meta.Deleted:
				delete(w.pods, ev.Object.Name)
			case meta.Error:
				w.violations = append(w.violations, fmt.Sprintf("watch error: %+v", ev.Status))
			default:
				w.mu.Unlock()
				continue
			}
			w.events++
			pods := make([]*corev1.Pod, 0, len(w.pods))
			for _, p := range w.pods {
				pods = append(pods, p)
			}
			if v := check(pods); v != "" {
				w.violations = append(w.violations, fmt.Sprintf("after event %d (%s %s rv %s): %s", w.events, ev.Type, ev.Object.Name, ev.Object.ResourceVersion, v))
			}
			w.mu.Unlock()
		}
	}()
	e.t.Cleanup(w.stop)
	return w
}

// stop ends the watch and returns the violations seen and the number of
// events.
func (w *podWatch) stop() {
	w.cancel()
	<-w.done
}

func (w *podWatch) result() ([]string, int) {
	w.stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.violations, w.events
}

// live counts pods that are neither terminating nor finished; available
// counts the live ones that are Ready.
func liveAndAvailable(pods []*corev1.Pod) (live, available int) {
	for _, p := range pods {
		if !corev1.IsPodActive(p) {
			continue
		}
		live++
		if corev1.IsPodReady(p) {
			available++
		}
	}
	return live, available
}

func clientUpdateOptions() client.UpdateOptions { return client.UpdateOptions{} }
