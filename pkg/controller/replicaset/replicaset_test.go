package replicaset

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client/clock/clocktest"
	"github.com/kl-dev/kl/pkg/client/informer"
	"github.com/kl-dev/kl/pkg/controller"
	"github.com/kl-dev/kl/pkg/controller/controllertest"
	"github.com/kl-dev/kl/pkg/record"
)

var t0 = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

// fakeAPI records the controller's writes as readable actions.
type fakeAPI struct {
	mu        sync.Mutex
	actions   []string
	n         atomic.Int32
	createErr func(n int32) error // n counts creations from 1
	deleteErr error
	rs        *appsv1.ReplicaSet // what getReplicaSet returns
	inflight  atomic.Int32
	maxFlight atomic.Int32
}

func (f *fakeAPI) record(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.actions = append(f.actions, fmt.Sprintf(format, args...))
}

func (f *fakeAPI) createPod(_ context.Context, pod *corev1.Pod) (*corev1.Pod, error) {
	cur := f.inflight.Add(1)
	defer f.inflight.Add(-1)
	for {
		m := f.maxFlight.Load()
		if cur <= m || f.maxFlight.CompareAndSwap(m, cur) {
			break
		}
	}
	n := f.n.Add(1)
	if f.createErr != nil {
		if err := f.createErr(n); err != nil {
			return nil, err
		}
	}
	ref := pod.OwnerReferences[0]
	f.record("create pod %s/%s* owner=%s/%s controller=%v", pod.Namespace, pod.GenerateName, ref.Kind, ref.Name, *ref.Controller)
	out := pod.DeepCopy()
	out.Name = fmt.Sprintf("%s%d", pod.GenerateName, n)
	return out, nil
}

func (f *fakeAPI) deletePod(_ context.Context, namespace, name string) error {
	f.record("delete pod %s/%s", namespace, name)
	return f.deleteErr
}

func (f *fakeAPI) patchPod(_ context.Context, namespace, name string, patch []byte) error {
	verb := "adopt"
	if strings.Contains(string(patch), `"$patch":"delete"`) {
		verb = "release"
	}
	f.record("%s pod %s/%s", verb, namespace, name)
	return nil
}

func (f *fakeAPI) getReplicaSet(_ context.Context, namespace, name string) (*appsv1.ReplicaSet, error) {
	f.record("get rs %s/%s", namespace, name)
	if f.rs == nil {
		return nil, meta.NewNotFound("apps", "replicasets", name)
	}
	return f.rs, nil
}

func (f *fakeAPI) updateReplicaSetStatus(_ context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
	st := rs.Status
	s := fmt.Sprintf("status %s/%s replicas=%d fullyLabeled=%d ready=%d available=%d observedGeneration=%d",
		rs.Namespace, rs.Name, st.Replicas, st.FullyLabeledReplicas, st.ReadyReplicas, st.AvailableReplicas, st.ObservedGeneration)
	for _, c := range st.Conditions {
		s += fmt.Sprintf(" %s=%s/%s", c.Type, c.Status, c.Reason)
	}
	f.record("%s", s)
	out := rs.DeepCopy()
	out.ResourceVersion = "1000"
	return out, nil
}

func (f *fakeAPI) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.actions
	f.actions = nil
	slices.Sort(out)
	return out
}

type fixture struct {
	c    *Controller
	api  *fakeAPI
	clk  *clocktest.Fake
	pods *controllertest.Source[*corev1.Pod]
	rec  *record.Fake
	// podEvents counts pod notifications the controller has handled.
	podEvents *controllertest.EventCounter
}

func newFixture(t *testing.T, rss []*appsv1.ReplicaSet, pods []*corev1.Pod) *fixture {
	t.Helper()
	podSrc := controllertest.NewSource(pods...)
	podInf := informer.New[*corev1.Pod](podSrc, informer.Options[*corev1.Pod]{IndexLabels: true, Indexers: map[string]informer.IndexFunc[*corev1.Pod]{
		controller.IndexOwnerUID: controller.OwnerUIDs[*corev1.Pod],
	}})
	rsInf := informer.New[*appsv1.ReplicaSet](controllertest.NewSource(rss...), informer.Options[*appsv1.ReplicaSet]{})
	f := &fixture{api: &fakeAPI{}, clk: clocktest.NewFake(t0), pods: podSrc, rec: &record.Fake{}}
	if len(rss) > 0 {
		f.api.rs = rss[0]
	}
	f.c = newController(Config{Pods: podInf, ReplicaSets: rsInf, Clock: f.clk, Recorder: f.rec}, f.api)
	f.podEvents = controllertest.CountEvents(podInf)
	rsEvents := controllertest.CountEvents(rsInf)
	controllertest.StartInformer(t, podInf)
	controllertest.StartInformer(t, rsInf)
	// The controller's handlers have seen the initial lists.
	f.podEvents.Wait(t, len(pods))
	rsEvents.Wait(t, len(rss))
	t.Cleanup(func() {
		// Run on a cancelled context shuts the loop's queue down.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_ = f.c.Run(ctx, 1)
	})
	return f
}

func (f *fixture) sync(t *testing.T, key string) error {
	t.Helper()
	return f.c.sync(context.Background(), key)
}

func newRS(name string, replicas int32) *appsv1.ReplicaSet {
	labels := map[string]string{"app": name}
	return &appsv1.ReplicaSet{
		TypeMeta: meta.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"},
		ObjectMeta: meta.ObjectMeta{
			Namespace: "default", Name: name, UID: "uid-" + name, Generation: 1,
			CreationTimestamp: meta.NewTime(t0.Add(-time.Hour)),
		},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: meta.Int32p(replicas),
			Selector: &meta.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: meta.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "img"}}},
			},
		},
	}
}

// podOf returns a pod of rs (nil: an orphan with rs's labels), mutated by
// opts.
func podOf(rs *appsv1.ReplicaSet, name string, opts ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		TypeMeta: meta.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: meta.ObjectMeta{
			Namespace: "default", Name: name, UID: "uid-" + name,
			Labels:            map[string]string{"app": rs.Name},
			CreationTimestamp: meta.NewTime(t0.Add(-10 * time.Minute)),
			OwnerReferences:   []meta.OwnerReference{controller.NewControllerRef(rs, "apps/v1", "ReplicaSet")},
		},
		Status: corev1.PodStatus{Phase: corev1.PodPending},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func orphan(p *corev1.Pod) { p.OwnerReferences = nil }

func onNode(n string) func(*corev1.Pod) { return func(p *corev1.Pod) { p.Spec.NodeName = n } }

func running(p *corev1.Pod) { p.Status.Phase = corev1.PodRunning }

// readySince makes the pod Running and Ready since t.
func readySince(t time.Time) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: meta.NewTime(t)}}
	}
}

func ready(p *corev1.Pod) { readySince(t0.Add(-time.Hour))(p) }

func terminating(p *corev1.Pod) {
	ts := meta.NewTime(t0)
	p.DeletionTimestamp = &ts
}

func phase(ph corev1.PodPhase) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Status.Phase = ph }
}

func labels(kv ...string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Labels = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			p.Labels[kv[i]] = kv[i+1]
		}
	}
}

func createdAt(t time.Time) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.CreationTimestamp = meta.NewTime(t) }
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestSyncActions(t *testing.T) {
	web := newRS("web", 3)
	other := newRS("other", 1)
	const createWeb = "create pod default/web-* owner=ReplicaSet/web controller=true"
	tests := []struct {
		name string
		rs   *appsv1.ReplicaSet
		pods []*corev1.Pod
		want []string
	}{{
		name: "creates the missing pods with a controller reference",
		rs:   web,
		pods: []*corev1.Pod{podOf(web, "a", ready)},
		want: append(repeat(createWeb, 2),
			"status default/web replicas=1 fullyLabeled=1 ready=1 available=1 observedGeneration=1"),
	}, {
		name: "nothing to do: only status",
		rs:   web,
		pods: []*corev1.Pod{podOf(web, "a", ready), podOf(web, "b", running), podOf(web, "c")},
		want: []string{"status default/web replicas=3 fullyLabeled=3 ready=1 available=1 observedGeneration=1"},
	}, {
		name: "deletes the least valuable extra pods",
		rs:   web,
		pods: []*corev1.Pod{
			podOf(web, "ready-1", ready, onNode("n1")), podOf(web, "ready-2", ready, onNode("n2")),
			podOf(web, "pending", onNode("n1")), podOf(web, "unscheduled"), podOf(web, "ready-3", ready, onNode("n3")),
		},
		want: []string{
			"delete pod default/pending", "delete pod default/unscheduled",
			"status default/web replicas=5 fullyLabeled=5 ready=3 available=3 observedGeneration=1",
		},
	}, {
		name: "terminating and finished pods do not count",
		rs:   web,
		pods: []*corev1.Pod{
			podOf(web, "a", ready), podOf(web, "gone", ready, terminating),
			podOf(web, "done", phase(corev1.PodSucceeded)), podOf(web, "failed", phase(corev1.PodFailed)),
		},
		want: append(repeat(createWeb, 2),
			"status default/web replicas=1 fullyLabeled=1 ready=1 available=1 observedGeneration=1"),
	}, {
		name: "adopts matching orphans after re-reading the ReplicaSet",
		rs:   web,
		pods: []*corev1.Pod{podOf(web, "a", ready), podOf(web, "orphan-1", orphan, ready), podOf(web, "orphan-2", orphan)},
		want: []string{
			"adopt pod default/orphan-1", "adopt pod default/orphan-2", "get rs default/web",
			"status default/web replicas=3 fullyLabeled=3 ready=2 available=2 observedGeneration=1",
		},
	}, {
		name: "leaves other controllers' pods and non-matching orphans alone",
		rs:   web,
		pods: []*corev1.Pod{
			podOf(web, "a", ready), podOf(other, "theirs", labels("app", "web")),
			podOf(web, "stranger", orphan, labels("app", "db")), podOf(web, "dying-orphan", orphan, terminating),
		},
		want: append(repeat(createWeb, 2),
			"status default/web replicas=1 fullyLabeled=1 ready=1 available=1 observedGeneration=1"),
	}, {
		name: "releases pods that no longer match and replaces them",
		rs:   web,
		pods: []*corev1.Pod{podOf(web, "a", ready), podOf(web, "b", ready), podOf(web, "debug", ready, labels("app", "debug"))},
		want: []string{
			createWeb, "release pod default/debug",
			"status default/web replicas=2 fullyLabeled=2 ready=2 available=2 observedGeneration=1",
		},
	}, {
		name: "counts pods missing template labels as not fully labelled",
		rs: func() *appsv1.ReplicaSet {
			rs := newRS("web", 2)
			rs.Spec.Template.Labels = map[string]string{"app": "web", "tier": "front"}
			return rs
		}(),
		pods: []*corev1.Pod{podOf(web, "a", ready), podOf(web, "b", ready, labels("app", "web", "tier", "front"))},
		want: []string{"status default/web replicas=2 fullyLabeled=1 ready=2 available=2 observedGeneration=1"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, []*appsv1.ReplicaSet{tt.rs, other}, tt.pods)
			if err := f.sync(t, "default/web"); err != nil {
				t.Fatalf("sync: %v", err)
			}
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if got := f.api.take(); !slices.Equal(got, want) {
				t.Errorf("actions:\n got %q\nwant %q", got, want)
			}
		})
	}
}

func TestSyncDeletedReplicaSetDoesNothing(t *testing.T) {
	f := newFixture(t, nil, nil)
	if err := f.sync(t, "default/web"); err != nil {
		t.Fatal(err)
	}
	if got := f.api.take(); len(got) != 0 {
		t.Errorf("actions = %q, want none", got)
	}
}

func TestSyncReplicaSetBeingDeletedOnlyUpdatesStatus(t *testing.T) {
	rs := newRS("web", 3)
	ts := meta.NewTime(t0)
	rs.DeletionTimestamp = &ts
	f := newFixture(t, []*appsv1.ReplicaSet{rs}, []*corev1.Pod{podOf(rs, "orphan", orphan)})
	if err := f.sync(t, "default/web"); err != nil {
		t.Fatal(err)
	}
	want := []string{"status default/web replicas=0 fullyLabeled=0 ready=0 available=0 observedGeneration=1"}
	if got := f.api.take(); !slices.Equal(got, want) {
		t.Errorf("actions = %q, want %q", got, want)
	}
}

// Expectations: a second sync before the cache has seen the pods created by
// the first must not create them again.
func TestExpectationsPreventDoubleCreation(t *testing.T) {
	rs := newRS("web", 3)
	f := newFixture(t, []*appsv1.ReplicaSet{rs}, nil)
	if err := f.sync(t, "default/web"); err != nil {
		t.Fatal(err)
	}
	if got := countPrefix(f.api.take(), "create pod"); got != 3 {
		t.Fatalf("first sync created %d pods, want 3", got)
	}
	if err := f.sync(t, "default/web"); err != nil {
		t.Fatal(err)
	}
	if got := countPrefix(f.api.take(), "create pod"); got != 0 {
		t.Fatalf("second sync created %d pods while the cache lagged, want 0", got)
	}
	// The cache sees two of them: still waiting for the third.
	for _, n := range []string{"web-1", "web-2"} {
		f.pods.Add(podOf(rs, n))
	}
	f.podEvents.Wait(t, 2)
	if adds, _ := f.c.exp.Pending("default/web"); adds != 1 {
		t.Fatalf("pending creations = %d, want 1", adds)
	}
	if err := f.sync(t, "default/web"); err != nil {
		t.Fatal(err)
	}
	if got := countPrefix(f.api.take(), "create pod"); got != 0 {
		t.Fatalf("sync with one creation pending created %d pods, want 0", got)
	}
	// The third never shows up: after the TTL the controller acts again.
	f.clk.Step(controller.ExpectationsTTL + time.Second)
	if err := f.sync(t, "default/web"); err != nil {
		t.Fatal(err)
	}
	if got := countPrefix(f.api.take(), "create pod"); got != 1 {
		t.Fatalf("sync after the expectations expired created %d pods, want 1", got)
	}
}

func TestExpectationsPreventDoubleDeletion(t *testing.T) {
	rs := newRS("web", 1)
	a, b := podOf(rs, "a", ready), podOf(rs, "b")
	f := newFixture(t, []*appsv1.ReplicaSet{rs}, []*corev1.Pod{a, b})
	if err := f.sync(t, "default/web"); err != nil {
		t.Fatal(err)
	}
	if got := countPrefix(f.api.take(), "delete pod default/b"); got != 1 {
		t.Fatalf("first sync: want pod b deleted")
	}
	if err := f.sync(t, "default/web"); err != nil {
		t.Fatal(err)
	}
	if got := countPrefix(f.api.take(), "delete pod"); got != 0 {
		t.Fatalf("second sync deleted %d pods while the cache lagged, want 0", got)
	}
	f.pods.Delete(b)
	f.podEvents.Wait(t, 3)
	if !f.c.exp.Satisfied("default/web") {
		t.Fatal("expectations not satisfied after the deletion was seen")
	}
	if err := f.sync(t, "default/web"); err != nil {
		t.Fatal(err)
	}
	if got := countPrefix(f.api.take(), "delete pod"); got != 0 {
		t.Fatalf("sync after the deletion was seen deleted %d pods, want 0", got)
	}
}

func TestCreateFailureSetsReplicaFailureAndStopsTheBatch(t *testing.T) {
	rs := newRS("web", 10)
	f := newFixture(t, []*appsv1.ReplicaSet{rs}, nil)
	quota := meta.NewForbidden(`pods "web-" is forbidden: exceeded quota`)
	// The first batch (1 pod) succeeds, the second (2 pods) fails: no
	// more batches are tried.
	f.api.createErr = func(n int32) error {
		if n >= 2 {
			return quota
		}
		return nil
	}
	err := f.sync(t, "default/web")
	if !errors.Is(err, quota) {
		t.Fatalf("sync error = %v, want the create error", err)
	}
	if got := f.api.n.Load(); got != 3 {
		t.Errorf("creations tried = %d, want 3 (batches of 1 and 2)", got)
	}
	got := f.api.take()
	want := "status default/web replicas=0 fullyLabeled=0 ready=0 available=0 observedGeneration=1 ReplicaFailure=True/FailedCreate"
	if !slices.Contains(got, want) {
		t.Errorf("actions %q lack %q", got, want)
	}
	if adds, _ := f.c.exp.Pending("default/web"); adds != 1 {
		t.Errorf("pending creations = %d, want 1 (only the successful one)", adds)
	}
	if ev := f.rec.List(); !slices.ContainsFunc(ev, func(e string) bool { return strings.HasPrefix(e, "Warning FailedCreate Error creating:") }) {
		t.Errorf("events %q lack a FailedCreate warning", ev)
	}
}

func TestReplicaFailureClearedOnSuccess(t *testing.T) {
	rs := newRS("web", 1)
	rs.Status = appsv1.ReplicaSetStatus{Replicas: 1, FullyLabeledReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1, ObservedGeneration: 1,
		Conditions: []appsv1.ReplicaSetCondition{{Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue, Reason: "FailedCreate"}}}
	f := newFixture(t, []*appsv1.ReplicaSet{rs}, []*corev1.Pod{podOf(rs, "a", ready)})
	if err := f.sync(t, "default/web"); err != nil {
		t.Fatal(err)
	}
	want := []string{"status default/web replicas=1 fullyLabeled=1 ready=1 available=1 observedGeneration=1"}
	if got := f.api.take(); !slices.Equal(got, want) {
		t.Errorf("actions = %q, want %q", got, want)
	}
}

func TestStatusNotWrittenWhenUnchanged(t *testing.T) {
	rs := newRS("web", 1)
	rs.Status = appsv1.ReplicaSetStatus{Replicas: 1, FullyLabeledReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1, ObservedGeneration: 1}
	f := newFixture(t, []*appsv1.ReplicaSet{rs}, []*corev1.Pod{podOf(rs, "a", ready)})
	if err := f.sync(t, "default/web"); err != nil {
		t.Fatal(err)
	}
	if got := f.api.take(); len(got) != 0 {
		t.Errorf("actions = %q, want none", got)
	}
}

// minReadySeconds: a pod ready for less than minReadySeconds is ready but
// not available, and the ReplicaSet is looked at again when it will be.
func TestMinReadySecondsRequeuesAtTheRightTime(t *testing.T) {
	rs := newRS("web", 2)
	rs.Spec.MinReadySeconds = 10
	f := newFixture(t, []*appsv1.ReplicaSet{rs}, []*corev1.Pod{
		podOf(rs, "old", readySince(t0.Add(-time.Minute))),
		podOf(rs, "new", readySince(t0.Add(-4*time.Second))),
	})
	if err := f.sync(t, "default/web"); err != nil {
		t.Fatal(err)
	}
	want := []string{"status default/web replicas=2 fullyLabeled=2 ready=2 available=1 observedGeneration=1"}
	if got := f.api.take(); !slices.Equal(got, want) {
		t.Fatalf("actions = %q, want %q", got, want)
	}
	drain(f.c) // the initial list
	f.clk.Step(5 * time.Second)
	if n := f.c.loop.Len(); n != 0 {
		t.Fatalf("requeued after 5s, want after 6s (queue length %d)", n)
	}
	f.clk.Step(time.Second + 10*time.Millisecond)
	waitFor(t, func() bool { return f.c.loop.Len() == 1 })
	if err := f.sync(t, "default/web"); err != nil {
		t.Fatal(err)
	}
	want = []string{"status default/web replicas=2 fullyLabeled=2 ready=2 available=2 observedGeneration=1"}
	if got := f.api.take(); !slices.Equal(got, want) {
		t.Fatalf("actions = %q, want %q", got, want)
	}
}

func TestEventsRecorded(t *testing.T) {
	rs := newRS("web", 1)
	f := newFixture(t, []*appsv1.ReplicaSet{rs}, []*corev1.Pod{podOf(rs, "a", ready), podOf(rs, "b")})
	if err := f.sync(t, "default/web"); err != nil {
		t.Fatal(err)
	}
	want := []string{"Normal SuccessfulDelete Deleted pod: b"}
	if got := f.rec.List(); !slices.Equal(got, want) {
		t.Errorf("events = %q, want %q", got, want)
	}
}

// Event handlers: which ReplicaSets a pod change queues.
func TestPodEventsQueueTheOwner(t *testing.T) {
	web, db := newRS("web", 1), newRS("db", 1)
	f := newFixture(t, []*appsv1.ReplicaSet{web, db}, nil)
	drain(f.c) // the initial list queued both
	steps := []struct {
		name   string
		change func()
		want   []string
	}{
		{"owned pod added", func() { f.pods.Add(podOf(web, "w1")) }, []string{"default/web"}},
		{"orphan added", func() { f.pods.Add(podOf(db, "orphan", orphan)) }, []string{"default/db"}},
		{"unmatched orphan added", func() { f.pods.Add(podOf(web, "stray", orphan, labels("app", "nobody"))) }, nil},
		{"owned pod relabelled", func() { f.pods.Update(podOf(web, "w1", labels("app", "other"))) }, []string{"default/web"}},
		{"orphan relabelled to match", func() { f.pods.Update(podOf(web, "stray", orphan)) }, []string{"default/web"}},
		{"pod released to another owner", func() { f.pods.Update(podOf(db, "w1")) }, []string{"default/db", "default/web"}},
		{"owned pod deleted", func() { f.pods.Delete(podOf(db, "w1")) }, []string{"default/db"}},
		{"someone else's pod added", func() { f.pods.Add(podOf(newRS("gone", 1), "x")) }, nil},
	}
	seen := 0
	for _, s := range steps {
		s.change()
		seen++
		f.podEvents.Wait(t, seen)
		if got := drain(f.c); !slices.Equal(got, s.want) {
			t.Errorf("%s: queued %q, want %q", s.name, got, s.want)
		}
	}
}

func countPrefix(actions []string, prefix string) int {
	n := 0
	for _, a := range actions {
		if strings.HasPrefix(a, prefix) {
			n++
		}
	}
	return n
}

// drain empties the loop's queue and returns the keys, sorted.
func drain(c *Controller) []string {
	var keys []string
	for {
		k, ok := c.loop.Pop()
		if !ok {
			break
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

// In a namespace being deleted, failed creations are neither errors nor
// ReplicaFailure: everything there is going away.
func TestCreateInTerminatingNamespaceIsNotAFailure(t *testing.T) {
	rs := newRS("web", 3)
	f := newFixture(t, []*appsv1.ReplicaSet{rs}, nil)
	f.api.createErr = func(int32) error {
		return meta.NewForbidden("unable to create new content in namespace default because it is being terminated")
	}
	if err := f.sync(t, "default/web"); err != nil {
		t.Fatalf("sync: %v", err)
	}
	want := []string{"status default/web replicas=0 fullyLabeled=0 ready=0 available=0 observedGeneration=1"}
	if got := f.api.take(); !slices.Equal(got, want) {
		t.Errorf("actions = %q, want %q", got, want)
	}
	if ev := f.rec.List(); len(ev) != 0 {
		t.Errorf("events %q, want none", ev)
	}
	if !f.c.exp.Satisfied("default/web") {
		t.Error("expectations wait for pods that were never created")
	}
}
