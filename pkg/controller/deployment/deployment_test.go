package deployment

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/intstr"
	"github.com/kl-dev/kl/pkg/api/meta"
)

func withDeadline(d *appsv1.Deployment, seconds int32) *appsv1.Deployment {
	d.Spec.ProgressDeadlineSeconds = meta.Int32p(seconds)
	return d
}

// A rollout with no progress for progressDeadlineSeconds turns
// Progressing False with ProgressDeadlineExceeded.
func TestProgressDeadlineExceeded(t *testing.T) {
	stuck := cond(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonReplicaSetUpdated, t0.Add(-11*time.Minute))
	d := revisioned(withStatus(withDeadline(newDeployment(2, "1", "0"), 600), 3, 1, 2, available, stuck), "2")
	f := newFixture(t, d, []*appsv1.ReplicaSet{rsFor(d, "nginx:1", 1, 2, 2, 2), rsFor(d, "nginx:2", 2, 1, 1, 0)}, nil)
	if err := f.sync(t); err != nil {
		t.Fatal(err)
	}
	want := []string{"status web observedGeneration=1 replicas=3 updated=1 ready=2 available=2 unavailable=1 Available=True/MinimumReplicasAvailable Progressing=False/ProgressDeadlineExceeded"}
	if got := f.api.take(); !slices.Equal(got, want) {
		t.Errorf("actions:\n got %q\nwant %q", got, want)
	}
}

// A stuck rollout is looked at again when its deadline passes, with no
// event to wake it.
func TestStuckRolloutRequeuedAtTheDeadline(t *testing.T) {
	since := cond(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonReplicaSetUpdated, t0.Add(-8*time.Second))
	d := revisioned(withStatus(withDeadline(newDeployment(2, "1", "0"), 10), 3, 1, 2, available, since), "2")
	f := newFixture(t, d, []*appsv1.ReplicaSet{rsFor(d, "nginx:1", 1, 2, 2, 2), rsFor(d, "nginx:2", 2, 1, 1, 0)}, nil)
	drain(f.c)
	if err := f.sync(t); err != nil {
		t.Fatal(err)
	}
	if got := f.api.take(); len(got) != 0 {
		t.Fatalf("actions %q, want none before the deadline", got)
	}
	f.clk.Step(2 * time.Second)
	if n := f.c.loop.Len(); n != 0 {
		t.Fatalf("requeued before the deadline (queue length %d)", n)
	}
	f.clk.Step(200 * time.Millisecond)
	if got := drain(f.c); !slices.Equal(got, []string{"default/web"}) {
		t.Fatalf("after the deadline the queue holds %q, want default/web", got)
	}
	if err := f.sync(t); err != nil {
		t.Fatal(err)
	}
	if got := f.api.take(); len(got) != 1 || !strings.Contains(got[0], "Progressing=False/ProgressDeadlineExceeded") {
		t.Errorf("actions after the deadline: %q", got)
	}
}

func TestHashCollisionBumpsCollisionCount(t *testing.T) {
	d := revisioned(withStatus(newDeployment(2, "1", "0"), 2, 0, 2, available, complete), "1")
	f := newFixture(t, d, []*appsv1.ReplicaSet{rsFor(d, "nginx:1", 1, 2, 2, 2)}, nil)
	name := "web-" + ComputeHash(&d.Spec.Template, nil)
	f.api.createErr = meta.NewAlreadyExists("apps", "replicasets", name)
	// Someone else's ReplicaSet holds the name.
	f.api.existing = &appsv1.ReplicaSet{ObjectMeta: meta.ObjectMeta{Name: name, Namespace: "default", UID: "other"}}
	err := f.sync(t)
	if err == nil || !strings.Contains(err.Error(), "collisionCount is now 1") {
		t.Fatalf("sync error = %v, want a hash collision", err)
	}
	got := f.api.take()
	if len(got) != 3 || !strings.HasSuffix(got[2], "collisionCount=1 Available=True/MinimumReplicasAvailable Progressing=True/NewReplicaSetAvailable") {
		t.Fatalf("actions %q: want create, get, then a status with collisionCount=1", got)
	}
	if h1 := ComputeHash(&d.Spec.Template, meta.Int32p(1)); h1 == ComputeHash(&d.Spec.Template, nil) {
		t.Error("collisionCount does not change the hash")
	}
}

// The ReplicaSet exists because an earlier reconcile created it and the
// cache has not caught up: no collision.
func TestAlreadyExistingOwnReplicaSetIsUsed(t *testing.T) {
	d := revisioned(withStatus(newDeployment(2, "1", "0"), 2, 0, 2, available, complete), "1")
	f := newFixture(t, d, []*appsv1.ReplicaSet{rsFor(d, "nginx:1", 1, 2, 2, 2)}, nil)
	mine := rsFor(d, "nginx:2", 2, 1, 0, 0)
	mine.Name = "web-" + ComputeHash(&d.Spec.Template, nil)
	f.api.createErr = meta.NewAlreadyExists("apps", "replicasets", mine.Name)
	f.api.existing = mine
	if err := f.sync(t); err != nil {
		t.Fatal(err)
	}
	for _, a := range f.api.take() {
		if strings.Contains(a, "collisionCount") {
			t.Errorf("collision reported for our own ReplicaSet: %s", a)
		}
	}
}

func TestCreateFailureIsReported(t *testing.T) {
	d := revisioned(withStatus(newDeployment(2, "1", "0"), 2, 0, 2, available, complete), "1")
	f := newFixture(t, d, []*appsv1.ReplicaSet{rsFor(d, "nginx:1", 1, 2, 2, 2)}, nil)
	quota := meta.NewForbidden("exceeded quota")
	f.api.createErr = quota
	if err := f.sync(t); !errors.Is(err, quota) {
		t.Fatalf("sync error = %v, want the create error", err)
	}
	got := f.api.take()
	if len(got) != 2 || !strings.Contains(got[1], "Progressing=False/ReplicaSetCreateError") {
		t.Errorf("actions %q: want the create and a ReplicaSetCreateError status", got)
	}
	if ev := f.rec.List(); len(ev) != 1 || !strings.HasPrefix(ev[0], "Warning FailedCreate Failed to create new replica set") {
		t.Errorf("events %q", ev)
	}
}

func TestAdoptsAndReleasesReplicaSets(t *testing.T) {
	d := revisioned(withStatus(newDeployment(2, "1", "0"), 2, 2, 2, available, complete), "1")
	current := rsFor(d, "nginx:2", 1, 2, 2, 2)
	orphan := rsFor(d, "nginx:0", 0, 0, 0, 0)
	orphan.OwnerReferences = nil
	strayed := rsFor(d, "nginx:9", 0, 0, 0, 0)
	strayed.Labels = map[string]string{"app": "other"}
	f := newFixture(t, d, []*appsv1.ReplicaSet{current, orphan, strayed}, nil)
	if err := f.sync(t); err != nil {
		t.Fatal(err)
	}
	got := f.api.take()
	for _, want := range []string{"get deployment web", "adopt rs web-0", "release rs web-9"} {
		if !slices.Contains(got, want) {
			t.Errorf("actions %q lack %q", got, want)
		}
	}
}

func TestEmptySelectorIsRefused(t *testing.T) {
	d := newDeployment(2, "1", "0")
	d.Spec.Selector = &meta.LabelSelector{}
	d.Generation = 3
	f := newFixture(t, d, nil, nil)
	if err := f.sync(t); err != nil {
		t.Fatal(err)
	}
	if got := f.api.take(); len(got) != 1 || !strings.Contains(got[0], "observedGeneration=3") {
		t.Errorf("actions %q: want only observedGeneration recorded", got)
	}
	if ev := f.rec.List(); len(ev) != 1 || !strings.HasPrefix(ev[0], "Warning SelectingAll") {
		t.Errorf("events %q", ev)
	}
}

func TestResolveFenceposts(t *testing.T) {
	tests := []struct {
		surge, unavailable string
		replicas           int32
		wantSurge, wantU   int32
	}{
		{"25%", "25%", 10, 3, 2},
		{"25%", "25%", 1, 1, 0},
		{"0", "0", 5, 0, 1}, // both 0: unavailable 1
		{"0%", "10%", 5, 0, 1},
		{"2", "50%", 5, 2, 2},
		{"100%", "0", 3, 3, 0},
	}
	for _, tt := range tests {
		s, u := intstr.Parse(tt.surge), intstr.Parse(tt.unavailable)
		gs, gu, err := resolveFenceposts(&s, &u, tt.replicas)
		if err != nil || gs != tt.wantSurge || gu != tt.wantU {
			t.Errorf("resolveFenceposts(%s, %s, %d) = %d, %d, %v; want %d, %d", tt.surge, tt.unavailable, tt.replicas, gs, gu, err, tt.wantSurge, tt.wantU)
		}
	}
	bad := intstr.FromString("lots")
	if _, _, err := resolveFenceposts(&bad, nil, 3); err == nil {
		t.Error("a non-percentage string resolved")
	}
}

// newRSNewReplicas, as Kubernetes' TestReconcileNewReplicaSet cases.
func TestNewRSNewReplicas(t *testing.T) {
	tests := []struct {
		replicas         int32
		surge            string
		oldSpec, oldLive int32
		newSpec          int32
		want             int32
	}{
		{10, "0", 10, 10, 0, 0},
		{10, "2", 10, 10, 0, 2},
		{10, "2", 5, 5, 0, 7},
		{10, "2", 10, 10, 2, 2},
		{10, "2", 5, 8, 0, 4}, // 3 old pods not gone yet
		{3, "1", 0, 0, 1, 3},
	}
	for _, tt := range tests {
		d := newDeployment(tt.replicas, tt.surge, "0")
		old := rsFor(d, "nginx:1", 1, tt.oldSpec, tt.oldLive, tt.oldLive)
		nrs := rsFor(d, "nginx:2", 2, tt.newSpec, tt.newSpec, 0)
		if got := newRSNewReplicas(d, []*appsv1.ReplicaSet{old, nrs}, nrs); got != tt.want {
			t.Errorf("replicas %d, surge %s, old %d (%d live), new %d: new size %d, want %d", tt.replicas, tt.surge, tt.oldSpec, tt.oldLive, tt.newSpec, got, tt.want)
		}
	}
}

func TestComputeHash(t *testing.T) {
	d := newDeployment(1, "1", "0")
	h := ComputeHash(&d.Spec.Template, nil)
	if h != ComputeHash(d.Spec.Template.DeepCopy(), nil) {
		t.Error("equal templates hash differently")
	}
	for _, r := range h {
		if !strings.ContainsRune(safeAlphabet, r) {
			t.Errorf("hash %q has %q, outside the safe alphabet", h, r)
		}
	}
	other := d.Spec.Template.DeepCopy()
	other.Spec.Containers[0].Image = "nginx:3"
	if ComputeHash(other, nil) == h {
		t.Error("different templates hash the same")
	}
	if ComputeHash(&d.Spec.Template, meta.Int32p(0)) == ComputeHash(&d.Spec.Template, meta.Int32p(1)) {
		t.Error("collisionCount does not change the hash")
	}
}

func TestEqualIgnoreHash(t *testing.T) {
	d := newDeployment(1, "1", "0")
	rs := rsFor(d, "nginx:2", 1, 1, 1, 1)
	if !equalIgnoreHash(&rs.Spec.Template, &d.Spec.Template) {
		t.Error("a template with the hash label differs from the Deployment's")
	}
	rs.Spec.Template.Labels["extra"] = "x"
	if equalIgnoreHash(&rs.Spec.Template, &d.Spec.Template) {
		t.Error("an extra label went unnoticed")
	}
}

func TestRevisionHistoryAnnotation(t *testing.T) {
	d := newDeployment(1, "1", "0")
	rs := rsFor(d, "nginx:2", 2, 1, 1, 1)
	for _, rev := range []string{"5", "9", "12"} {
		setNewReplicaSetAnnotations(d, rs, rev, true)
	}
	if got := rs.Annotations[appsv1.RevisionHistoryAnnotation]; got != "2,5,9" {
		t.Errorf("revision-history = %q, want 2,5,9", got)
	}
	if got := rs.Annotations[appsv1.RevisionAnnotation]; got != "12" {
		t.Errorf("revision = %q, want 12", got)
	}
	if setNewReplicaSetAnnotations(d, rs, "12", true) {
		t.Error("an unchanged revision reported a change")
	}
	// The history is capped, oldest first out.
	long := strings.Repeat("1,", maxRevHistoryLength/2)
	rs.Annotations[appsv1.RevisionHistoryAnnotation] = long[:len(long)-1]
	setNewReplicaSetAnnotations(d, rs, "13", true)
	if got := rs.Annotations[appsv1.RevisionHistoryAnnotation]; len(got) > maxRevHistoryLength || !strings.HasSuffix(got, ",12") {
		t.Errorf("capped history: %d characters, ends %q", len(got), got[len(got)-5:])
	}
}

func TestSetConditionKeepsTimesWhenNothingChanges(t *testing.T) {
	st := &appsv1.DeploymentStatus{}
	first := newCondition(appsv1.DeploymentAvailable, corev1.ConditionTrue, ReasonMinimumAvailable, "", t0)
	setCondition(st, first)
	setCondition(st, newCondition(appsv1.DeploymentAvailable, corev1.ConditionTrue, ReasonMinimumAvailable, "", t0.Add(time.Hour)))
	if got := st.Conditions[0].LastUpdateTime.Time; !got.Equal(t0) {
		t.Errorf("same status and reason moved lastUpdateTime to %v", got)
	}
	setCondition(st, newCondition(appsv1.DeploymentAvailable, corev1.ConditionTrue, "Other", "", t0.Add(time.Hour)))
	c := st.Conditions[0]
	if !c.LastTransitionTime.Time.Equal(t0) || !c.LastUpdateTime.Time.Equal(t0.Add(time.Hour)) {
		t.Errorf("a new reason with the same status: transition %v, update %v", c.LastTransitionTime, c.LastUpdateTime)
	}
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
