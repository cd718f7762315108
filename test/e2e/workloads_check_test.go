package e2e

import (
	"fmt"
	"testing"
	"time"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
)

// The invariant checkers of the workload tests, checked on made-up events:
// a checker that cannot fail would make those tests pass for nothing.

func checkPod(name, rsUID, hash string, ready bool, readySince time.Time, terminating bool) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: meta.ObjectMeta{
		Name: name, UID: "uid-" + name,
		Labels: map[string]string{"app": "web", "pod-template-hash": hash},
	}}
	if rsUID != "" {
		p.OwnerReferences = []meta.OwnerReference{{Kind: "ReplicaSet", Name: "rs", UID: rsUID, Controller: meta.Boolp(true)}}
	}
	if terminating {
		p.DeletionTimestamp = &meta.Time{Time: readySince}
	}
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: st, LastTransitionTime: meta.Time{Time: readySince}}}
	return p
}

func TestRolloutBoundsReportsEveryBrokenState(t *testing.T) {
	now := time.Now()
	long := now.Add(-time.Minute)
	tests := []struct {
		name       string
		pods       []*corev1.Pod
		violations int
	}{
		{"6 available, 2 surging", append(podsOf("a", 6, true, long), podsOf("b", 2, false, now)...), 0},
		{"9 live pods", append(podsOf("a", 6, true, long), podsOf("b", 3, false, now)...), 1},
		{"4 available", append(podsOf("a", 4, true, long), podsOf("b", 2, false, now)...), 1},
		{"ready for less than minReadySeconds", append(podsOf("a", 4, true, long), podsOf("b", 2, true, now)...), 1},
		{"terminating pods do not count", append(podsOf("a", 5, true, long), checkPod("t1", "", "a", true, long, true), checkPod("t2", "", "a", true, long, true), checkPod("t3", "", "a", true, long, true)), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &rolloutBounds{app: "web", replicas: 6, surge: 2, unavail: 1, minReadySeconds: 1, armed: true}
			objs := map[string]*corev1.Pod{}
			for _, p := range tt.pods {
				objs[p.UID] = p
			}
			b.observe(watchEvent[*corev1.Pod]{Type: meta.Modified, Obj: tt.pods[0], RV: 1, At: now}, objs)
			if len(b.violations) != tt.violations {
				t.Errorf("%d violations, want %d: %v", len(b.violations), tt.violations, b.violations)
			}
		})
	}
}

func podsOf(hash string, n int, ready bool, since time.Time) []*corev1.Pod {
	var out []*corev1.Pod
	for i := 0; i < n; i++ {
		out = append(out, checkPod(fmt.Sprintf("%s-%d", hash, i), "", hash, ready, since, false))
	}
	return out
}

func TestReplayReplicaSetBoundsFollowsRevisionOrder(t *testing.T) {
	rs := func(rv int64, replicas int32) watchEvent[*appsv1.ReplicaSet] {
		return watchEvent[*appsv1.ReplicaSet]{Type: meta.Modified, RV: rv, Obj: &appsv1.ReplicaSet{
			ObjectMeta: meta.ObjectMeta{Name: "rs", UID: "rs-uid"}, Spec: appsv1.ReplicaSetSpec{Replicas: meta.Int32p(replicas)}}}
	}
	pod := func(rv int64, typ, name string, terminating bool) watchEvent[*corev1.Pod] {
		return watchEvent[*corev1.Pod]{Type: typ, RV: rv, Obj: checkPod(name, "rs-uid", "h", true, time.Now(), terminating)}
	}
	tests := []struct {
		name       string
		pods       []watchEvent[*corev1.Pod]
		rss        []watchEvent[*appsv1.ReplicaSet]
		violations int
	}{
		{"pods created after the scale-up",
			[]watchEvent[*corev1.Pod]{pod(2, meta.Added, "p1", false), pod(3, meta.Added, "p2", false)},
			[]watchEvent[*appsv1.ReplicaSet]{rs(1, 2)}, 0},
		{"a pod created before the scale-up",
			[]watchEvent[*corev1.Pod]{pod(2, meta.Added, "p1", false), pod(3, meta.Added, "p2", false)},
			[]watchEvent[*appsv1.ReplicaSet]{rs(1, 1), rs(4, 2)}, 1},
		{"a replacement after its predecessor terminates",
			[]watchEvent[*corev1.Pod]{pod(2, meta.Added, "p1", false), pod(3, meta.Modified, "p1", true), pod(4, meta.Added, "p2", false), pod(5, meta.Deleted, "p1", true)},
			[]watchEvent[*appsv1.ReplicaSet]{rs(1, 1)}, 0},
		{"a replacement before its predecessor terminates",
			[]watchEvent[*corev1.Pod]{pod(2, meta.Added, "p1", false), pod(3, meta.Added, "p2", false), pod(4, meta.Modified, "p1", true)},
			[]watchEvent[*appsv1.ReplicaSet]{rs(1, 1)}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			states, _, violations := replayReplicaSetBounds(tt.pods, tt.rss)
			if states != len(tt.pods)+len(tt.rss) {
				t.Errorf("%d states replayed, want %d", states, len(tt.pods)+len(tt.rss))
			}
			if len(violations) != tt.violations {
				t.Errorf("%d violations, want %d: %v", len(violations), tt.violations, violations)
			}
		})
	}
}
