package replicaset

import (
	"sort"
	"strconv"
	"time"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/controller"
)

// PodDeletionCostAnnotation lets users say which pods of a ReplicaSet go
// first on scale-down (lower cost first), as in Kubernetes.
const PodDeletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost"

// podFromTemplate returns the pod rs creates: generateName "<rs>-", the
// template's labels, annotations, finalizers and spec, and rs as its
// controller.
func podFromTemplate(rs *appsv1.ReplicaSet) *corev1.Pod {
	t := rs.Spec.Template.DeepCopy()
	return &corev1.Pod{
		TypeMeta: meta.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: meta.ObjectMeta{
			GenerateName:    rs.Name + "-",
			Namespace:       rs.Namespace,
			Labels:          t.Labels,
			Annotations:     t.Annotations,
			Finalizers:      t.Finalizers,
			OwnerReferences: []meta.OwnerReference{controller.NewControllerRef(rs, appsv1.SchemeGroupVersion, "ReplicaSet")},
		},
		Spec: t.Spec,
	}
}

// activePods keeps the pods that count towards replicas: not terminal
// (Succeeded, Failed) and not being deleted.
func activePods(pods []*corev1.Pod) []*corev1.Pod {
	out := make([]*corev1.Pod, 0, len(pods))
	for _, p := range pods {
		if corev1.IsPodActive(p) {
			out = append(out, p)
		}
	}
	return out
}

var phaseOrdinal = map[corev1.PodPhase]int{corev1.PodPending: 0, corev1.PodUnknown: 1, corev1.PodRunning: 2}

// podsToDelete returns the diff least valuable pods, Kubernetes' order
// (ActivePodsWithRanks):
//
//  1. unscheduled < scheduled
//  2. Pending < Unknown < Running
//  3. not ready < ready
//  4. lower pod-deletion-cost < higher
//  5. more pods of this ReplicaSet on the same node < fewer (spread stays)
//  6. ready for less time < more time
//  7. more container restarts < fewer
//  8. newer < older
//
// and, last, by name, so the choice is deterministic.
func podsToDelete(pods []*corev1.Pod, diff int) []*corev1.Pod {
	if diff >= len(pods) {
		return pods
	}
	perNode := map[string]int{}
	for _, p := range pods {
		if p.Spec.NodeName != "" && corev1.IsPodReady(p) {
			perNode[p.Spec.NodeName]++
		}
	}
	type ranked struct {
		pod      *corev1.Pod
		ready    bool
		readyAt  time.Time
		cost     int64
		colo     int
		restarts int32
	}
	rs := make([]ranked, len(pods))
	for i, p := range pods {
		r := ranked{pod: p, ready: corev1.IsPodReady(p), colo: perNode[p.Spec.NodeName]}
		if c := corev1.GetPodReadyCondition(&p.Status); c != nil && r.ready {
			r.readyAt = c.LastTransitionTime.Time
		}
		if v, ok := p.Annotations[PodDeletionCostAnnotation]; ok {
			r.cost, _ = strconv.ParseInt(v, 10, 32)
		}
		for _, cs := range p.Status.ContainerStatuses {
			r.restarts = max(r.restarts, cs.RestartCount)
		}
		rs[i] = r
	}
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		if (a.pod.Spec.NodeName == "") != (b.pod.Spec.NodeName == "") {
			return a.pod.Spec.NodeName == ""
		}
		if pa, pb := phaseOrdinal[a.pod.Status.Phase], phaseOrdinal[b.pod.Status.Phase]; pa != pb {
			return pa < pb
		}
		if a.ready != b.ready {
			return !a.ready
		}
		if a.cost != b.cost {
			return a.cost < b.cost
		}
		if a.colo != b.colo {
			return a.colo > b.colo
		}
		if a.ready && b.ready && !a.readyAt.Equal(b.readyAt) {
			return afterOrZero(a.readyAt, b.readyAt)
		}
		if a.restarts != b.restarts {
			return a.restarts > b.restarts
		}
		if ca, cb := a.pod.CreationTimestamp.Time, b.pod.CreationTimestamp.Time; !ca.Equal(cb) {
			return afterOrZero(ca, cb)
		}
		return a.pod.Name > b.pod.Name
	})
	out := make([]*corev1.Pod, diff)
	for i := range out {
		out[i] = rs[i].pod
	}
	return out
}

// afterOrZero orders zero times first, then later before earlier.
func afterOrZero(a, b time.Time) bool {
	if a.IsZero() || b.IsZero() {
		return a.IsZero()
	}
	return a.After(b)
}

// calculateStatus is rs's status for its active, owned pods; manageErr is
// the error of the last create/delete round, reported as the
// ReplicaFailure condition. observedGeneration is left to the caller.
func calculateStatus(rs *appsv1.ReplicaSet, pods []*corev1.Pod, manageErr error, now time.Time) appsv1.ReplicaSetStatus {
	st := rs.Status
	st.Conditions = append([]appsv1.ReplicaSetCondition(nil), rs.Status.Conditions...)
	templateLabels := meta.SelectorFromSet(rs.Spec.Template.Labels)
	var fully, ready, available int32
	for _, p := range pods {
		if templateLabels.Matches(p.Labels) {
			fully++
		}
		if corev1.IsPodReady(p) {
			ready++
			if corev1.IsPodAvailable(p, rs.Spec.MinReadySeconds, now) {
				available++
			}
		}
	}
	failure := appsv1.GetReplicaSetCondition(&st, appsv1.ReplicaSetReplicaFailure)
	switch {
	case manageErr != nil && failure == nil:
		reason := "FailedCreate"
		if len(pods) > int(replicas(rs)) {
			reason = "FailedDelete"
		}
		appsv1.SetReplicaSetCondition(&st, appsv1.ReplicaSetCondition{
			Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue,
			LastTransitionTime: meta.NewTime(now), Reason: reason, Message: manageErr.Error(),
		})
	case manageErr == nil && failure != nil:
		appsv1.RemoveReplicaSetCondition(&st, appsv1.ReplicaSetReplicaFailure)
	}
	if len(st.Conditions) == 0 {
		st.Conditions = nil
	}
	st.Replicas = int32(len(pods))
	st.FullyLabeledReplicas = fully
	st.ReadyReplicas = ready
	st.AvailableReplicas = available
	return st
}

// nextAvailable returns how long until the first pod that is ready but not
// yet available (minReadySeconds) becomes available; false if none.
func nextAvailable(rs *appsv1.ReplicaSet, pods []*corev1.Pod, now time.Time) (time.Duration, bool) {
	if rs.Spec.MinReadySeconds == 0 {
		return 0, false
	}
	wait := time.Duration(rs.Spec.MinReadySeconds) * time.Second
	var next time.Duration
	found := false
	for _, p := range pods {
		if !corev1.IsPodReady(p) || corev1.IsPodAvailable(p, rs.Spec.MinReadySeconds, now) {
			continue
		}
		c := corev1.GetPodReadyCondition(&p.Status)
		d := c.LastTransitionTime.Add(wait).Sub(now)
		if !found || d < next {
			next, found = d, true
		}
	}
	// IsPodAvailable wants "more than" minReadySeconds: look just after.
	return max(next, 0) + time.Millisecond, found
}

func sameStatus(a, b appsv1.ReplicaSetStatus) bool {
	if a.Replicas != b.Replicas || a.FullyLabeledReplicas != b.FullyLabeledReplicas || a.ReadyReplicas != b.ReadyReplicas ||
		a.AvailableReplicas != b.AvailableReplicas || a.ObservedGeneration != b.ObservedGeneration || len(a.Conditions) != len(b.Conditions) {
		return false
	}
	for i := range a.Conditions {
		x, y := a.Conditions[i], b.Conditions[i]
		if x.Type != y.Type || x.Status != y.Status || x.Reason != y.Reason || x.Message != y.Message || !x.LastTransitionTime.Equal(y.LastTransitionTime.Time) {
			return false
		}
	}
	return true
}

func replicas(rs *appsv1.ReplicaSet) int32 {
	if rs.Spec.Replicas == nil {
		return appsv1.DefaultReplicas
	}
	return *rs.Spec.Replicas
}
