package deployment

import (
	"slices"
	"testing"
	"time"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/controller"
)

// availableStatus is the status of a Deployment rolled out to rs.
func withStatus(d *appsv1.Deployment, replicas, updated, available int32, conds ...appsv1.DeploymentCondition) *appsv1.Deployment {
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: replicas, UpdatedReplicas: updated,
		ReadyReplicas: available, AvailableReplicas: available, UnavailableReplicas: max(replicas-available, 0), Conditions: conds}
	return d
}

func cond(typ appsv1.DeploymentConditionType, status corev1.ConditionStatus, reason string, at time.Time) appsv1.DeploymentCondition {
	return newCondition(typ, status, reason, "", at)
}

var (
	available   = cond(appsv1.DeploymentAvailable, corev1.ConditionTrue, ReasonMinimumAvailable, t0.Add(-time.Hour))
	progressing = cond(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonReplicaSetUpdated, t0.Add(-time.Minute))
	complete    = cond(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonNewReplicaSetAvailable, t0.Add(-time.Hour))
)

func revisioned(d *appsv1.Deployment, rev string) *appsv1.Deployment {
	d.Annotations = map[string]string{appsv1.RevisionAnnotation: rev}
	return d
}

func oldPod(rs *appsv1.ReplicaSet, name string, opts ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		TypeMeta: meta.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: meta.ObjectMeta{Namespace: "default", Name: name, UID: "uid-" + name, Labels: rs.Spec.Template.Labels,
			OwnerReferences: []meta.OwnerReference{controller.NewControllerRef(rs, "apps/v1", "ReplicaSet")}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Scenarios: a Deployment and its ReplicaSets in the cache; one sync; the
// writes it makes, in order.
func TestSync(t *testing.T) {
	type scenario struct {
		name string
		d    *appsv1.Deployment
		rss  func(d *appsv1.Deployment) []*appsv1.ReplicaSet
		pods func(rss []*appsv1.ReplicaSet) []*corev1.Pod
		want []string
	}
	newHash := ComputeHash(&newDeployment(3, "1", "0").Spec.Template, nil)
	tests := []scenario{{
		name: "a new Deployment gets its ReplicaSet at full size",
		d:    newDeployment(3, "1", "0"),
		want: []string{
			"create rs web-" + newHash + " replicas=3 revision=1 desired-replicas=3 max-replicas=4",
			"revision web=1",
			"status web observedGeneration=0 replicas=0 updated=0 ready=0 available=0 unavailable=0 Progressing=True/NewReplicaSetCreated",
			"status web observedGeneration=1 replicas=0 updated=0 ready=0 available=0 unavailable=3 Progressing=True/NewReplicaSetCreated Available=False/MinimumReplicasUnavailable",
		},
	}, {
		name: "a new template gets a new ReplicaSet within maxSurge",
		d:    revisioned(withStatus(newDeployment(3, "1", "0"), 3, 0, 3, available, complete), "1"),
		rss: func(d *appsv1.Deployment) []*appsv1.ReplicaSet {
			return []*appsv1.ReplicaSet{rsFor(d, "nginx:1", 1, 3, 3, 3)}
		},
		want: []string{
			"create rs web-" + newHash + " replicas=1 revision=2 desired-replicas=3 max-replicas=4",
			"revision web=2",
			"status web observedGeneration=1 replicas=3 updated=0 ready=3 available=3 unavailable=0 Available=True/MinimumReplicasAvailable Progressing=True/NewReplicaSetCreated",
			"status web observedGeneration=1 replicas=3 updated=0 ready=3 available=3 unavailable=1 Available=True/MinimumReplicasAvailable Progressing=True/NewReplicaSetCreated",
		},
	}, {
		name: "the new ReplicaSet grows into the room maxSurge leaves",
		d:    revisioned(withStatus(newDeployment(4, "2", "0"), 4, 0, 4, available, progressing), "2"),
		rss: func(d *appsv1.Deployment) []*appsv1.ReplicaSet {
			return []*appsv1.ReplicaSet{rsFor(d, "nginx:1", 1, 3, 3, 3), rsFor(d, "nginx:2", 2, 1, 1, 1)}
		},
		want: []string{
			"update rs web-2 replicas=3 revision=2 desired-replicas=4 max-replicas=6",
			"status web observedGeneration=1 replicas=4 updated=1 ready=4 available=4 unavailable=2 Available=True/MinimumReplicasAvailable Progressing=True/ReplicaSetUpdated",
		},
	}, {
		name: "the new ReplicaSet waits while old pods scaled away still run",
		d:    revisioned(withStatus(newDeployment(3, "1", "0"), 4, 1, 4, available, progressing), "2"),
		rss: func(d *appsv1.Deployment) []*appsv1.ReplicaSet {
			// The old ReplicaSet was scaled to 2; its third pod is not
			// deleted yet (status.replicas 3).
			return []*appsv1.ReplicaSet{rsFor(d, "nginx:1", 1, 2, 3, 3), rsFor(d, "nginx:2", 2, 1, 1, 1)}
		},
		want: nil, // no write: 3 + 1 pods is replicas + maxSurge already
	}, {
		name: "old ReplicaSets shrink by the available pods beyond replicas - maxUnavailable",
		d:    revisioned(withStatus(newDeployment(3, "1", "0"), 4, 1, 4, available, progressing), "2"),
		rss: func(d *appsv1.Deployment) []*appsv1.ReplicaSet {
			return []*appsv1.ReplicaSet{rsFor(d, "nginx:1", 1, 3, 3, 3), rsFor(d, "nginx:2", 2, 1, 1, 1)}
		},
		want: []string{
			"update rs web-1 replicas=2 revision=1 desired-replicas=3 max-replicas=4",
			// The status is unchanged until the ReplicaSet controller acts.
		},
	}, {
		name: "a stale available count is not trusted beyond the old ReplicaSet's spec",
		d:    revisioned(withStatus(newDeployment(3, "1", "0"), 4, 1, 4, available, progressing), "2"),
		rss: func(d *appsv1.Deployment) []*appsv1.ReplicaSet {
			// Scaled to 2 a moment ago; status still says 3 available.
			return []*appsv1.ReplicaSet{rsFor(d, "nginx:1", 1, 2, 3, 3), rsFor(d, "nginx:2", 2, 2, 1, 1)}
		},
		want: nil, // 2 + 1 available is replicas - maxUnavailable already
	}, {
		name: "unavailable old pods go first",
		d:    revisioned(withStatus(newDeployment(3, "1", "1"), 4, 1, 2, available, progressing), "2"),
		rss: func(d *appsv1.Deployment) []*appsv1.ReplicaSet {
			return []*appsv1.ReplicaSet{rsFor(d, "nginx:1", 1, 3, 3, 1), rsFor(d, "nginx:2", 2, 1, 1, 1)}
		},
		want: []string{
			// maxScaledDown = 4 - 2 - 0 = 2: both unavailable old pods.
			"update rs web-1 replicas=1 revision=1 desired-replicas=3 max-replicas=4",
			"status web observedGeneration=1 replicas=4 updated=1 ready=2 available=2 unavailable=0 Available=True/MinimumReplicasAvailable Progressing=True/ReplicaSetUpdated",
		},
	}, {
		name: "a complete rollout deletes old ReplicaSets beyond revisionHistoryLimit",
		d: func() *appsv1.Deployment {
			d := revisioned(withStatus(newDeployment(3, "1", "0"), 3, 3, 3, available, complete), "4")
			d.Spec.RevisionHistoryLimit = meta.Int32p(1)
			return d
		}(),
		rss: func(d *appsv1.Deployment) []*appsv1.ReplicaSet {
			return []*appsv1.ReplicaSet{rsFor(d, "nginx:a", 1, 0, 0, 0), rsFor(d, "nginx:b", 2, 0, 0, 0), rsFor(d, "nginx:c", 3, 0, 0, 0), rsFor(d, "nginx:2", 4, 3, 3, 3)}
		},
		want: []string{"delete rs web-a", "delete rs web-b"},
	}, {
		name: "scaling mid-rollout shares the new replicas in proportion",
		d:    revisioned(withStatus(newDeployment(20, "25%", "25%"), 10, 5, 10, available, progressing), "2"),
		rss: func(d *appsv1.Deployment) []*appsv1.ReplicaSet {
			// Both recorded the Deployment at 10 replicas (max 13).
			rss := []*appsv1.ReplicaSet{rsFor(d, "nginx:1", 1, 5, 5, 5), rsFor(d, "nginx:2", 2, 5, 5, 5)}
			for _, rs := range rss {
				rs.Annotations[appsv1.DesiredReplicasAnnotation], rs.Annotations[appsv1.MaxReplicasAnnotation] = "10", "13"
			}
			return rss
		},
		want: []string{
			// 25 allowed - 10 = 15 to add: round(5*25/13) - 5 = +5 each,
			// the 5 left over to the newer.
			"update rs web-2 replicas=15 revision=2 desired-replicas=20 max-replicas=25",
			"update rs web-1 replicas=10 revision=1 desired-replicas=20 max-replicas=25",
			"status web observedGeneration=1 replicas=10 updated=5 ready=10 available=10 unavailable=15 Progressing=True/ReplicaSetUpdated Available=False/MinimumReplicasUnavailable",
		},
	}, {
		name: "a paused Deployment scales its only ReplicaSet and makes no new one",
		d: func() *appsv1.Deployment {
			d := revisioned(withStatus(newDeployment(5, "1", "0"), 3, 0, 3, available, complete), "1")
			d.Spec.Paused = true
			return d
		}(),
		rss: func(d *appsv1.Deployment) []*appsv1.ReplicaSet {
			return []*appsv1.ReplicaSet{rsFor(d, "nginx:1", 1, 3, 3, 3)}
		},
		want: []string{
			"status web observedGeneration=1 replicas=3 updated=0 ready=3 available=3 unavailable=0 Available=True/MinimumReplicasAvailable Progressing=Unknown/DeploymentPaused",
			"update rs web-1 replicas=5 revision=1 desired-replicas=5 max-replicas=6",
			"status web observedGeneration=1 replicas=3 updated=0 ready=3 available=3 unavailable=2 Progressing=Unknown/DeploymentPaused Available=False/MinimumReplicasUnavailable",
		},
	}, {
		name: "Recreate scales old ReplicaSets to zero first",
		d:    revisioned(withStatus(recreate(newDeployment(3, "", "")), 3, 0, 3, available, complete), "1"),
		rss: func(d *appsv1.Deployment) []*appsv1.ReplicaSet {
			return []*appsv1.ReplicaSet{rsFor(d, "nginx:1", 1, 3, 3, 3)}
		},
		want: []string{
			"update rs web-1 replicas=0 revision=1 desired-replicas=3 max-replicas=3",
			// No progress to report yet: the old pods still run.
		},
	}, {
		name: "Recreate waits for terminating old pods",
		d:    revisioned(withStatus(recreate(newDeployment(3, "", "")), 0, 0, 0, available, progressing), "1"),
		rss: func(d *appsv1.Deployment) []*appsv1.ReplicaSet {
			return []*appsv1.ReplicaSet{rsFor(d, "nginx:1", 1, 0, 0, 0)}
		},
		pods: func(rss []*appsv1.ReplicaSet) []*corev1.Pod {
			ts := meta.NewTime(t0)
			return []*corev1.Pod{
				oldPod(rss[0], "old-1", func(p *corev1.Pod) { p.DeletionTimestamp = &ts }),
				oldPod(rss[0], "done", func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded }),
			}
		},
		want: []string{
			"status web observedGeneration=1 replicas=0 updated=0 ready=0 available=0 unavailable=0 Progressing=True/ReplicaSetUpdated Available=False/MinimumReplicasUnavailable",
		},
	}, {
		name: "Recreate creates the new ReplicaSet once old pods are gone",
		d:    revisioned(withStatus(recreate(newDeployment(3, "", "")), 0, 0, 0, progressing), "1"),
		rss: func(d *appsv1.Deployment) []*appsv1.ReplicaSet {
			return []*appsv1.ReplicaSet{rsFor(d, "nginx:1", 1, 0, 0, 0)}
		},
		pods: func(rss []*appsv1.ReplicaSet) []*corev1.Pod {
			return []*corev1.Pod{oldPod(rss[0], "failed", func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed })}
		},
		want: []string{
			"create rs web-" + newHash + " replicas=3 revision=2 desired-replicas=3 max-replicas=3",
			"revision web=2",
			"status web observedGeneration=1 replicas=0 updated=0 ready=0 available=0 unavailable=0 Progressing=True/NewReplicaSetCreated",
			"status web observedGeneration=1 replicas=0 updated=0 ready=0 available=0 unavailable=3 Progressing=True/NewReplicaSetCreated Available=False/MinimumReplicasUnavailable",
		},
	}, {
		name: "restoring an old template makes its ReplicaSet new again",
		d:    revisioned(withStatus(newDeployment(2, "1", "0"), 2, 0, 2, available, complete), "2"),
		rss: func(d *appsv1.Deployment) []*appsv1.ReplicaSet {
			// nginx:2 is the Deployment's template again; revision 3
			// (nginx:3) is current.
			return []*appsv1.ReplicaSet{rsFor(d, "nginx:2", 1, 0, 0, 0), rsFor(d, "nginx:3", 2, 2, 2, 2)}
		},
		want: []string{
			"update rs web-2 replicas=0 revision=3 revision-history=1 desired-replicas=2 max-replicas=3",
			"revision web=3",
			"update rs web-2 replicas=1 revision=3 revision-history=1 desired-replicas=2 max-replicas=3",
			"status web observedGeneration=1 replicas=2 updated=0 ready=2 available=2 unavailable=1 Available=True/MinimumReplicasAvailable Progressing=True/NewReplicaSetAvailable",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rss []*appsv1.ReplicaSet
			if tt.rss != nil {
				rss = tt.rss(tt.d)
			}
			var pods []*corev1.Pod
			if tt.pods != nil {
				pods = tt.pods(rss)
			}
			f := newFixture(t, tt.d, rss, pods)
			if err := f.sync(t); err != nil {
				t.Fatalf("sync: %v", err)
			}
			if got := f.api.take(); !slices.Equal(got, tt.want) {
				t.Errorf("actions:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}
