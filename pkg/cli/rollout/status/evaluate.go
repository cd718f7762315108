package status

import (
	"fmt"
	"sort"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/cli/rollout/internal/deployutil"
)

// Waiting reasons of container statuses that stuck-pod detection reads, as
// the kubelet names them.
const (
	reasonCrashLoopBackOff  = "CrashLoopBackOff"
	reasonImagePullBackOff  = "ImagePullBackOff"
	reasonErrImageNeverPull = "ErrImageNeverPull"
	reasonInvalidImageName  = "InvalidImageName"
)

// progressDeadlineExceeded is the Progressing condition's reason when a
// rollout made no progress for spec.progressDeadlineSeconds.
const progressDeadlineExceeded = "ProgressDeadlineExceeded"

// crashLoopRestarts is how many restarts a container in CrashLoopBackOff
// must have had before the rollout counts as stuck: one crash can be a
// dependency not up yet, three in a row (two restarts, back-off again) is a
// pattern.
const crashLoopRestarts = 2

// state is what the rollout status of one Deployment is computed from.
type state struct {
	Deployment *appsv1.Deployment
	// ReplicaSets are the Deployment's (controlled by it).
	ReplicaSets []*appsv1.ReplicaSet
	// Pods are the pods the Deployment's selector matches.
	Pods []*corev1.Pod
}

// verdict is the rollout status: a message to show and whether the
// rollout is over; Err is set when it failed.
type verdict struct {
	Message string
	Done    bool
	Err     error
}

// evaluate computes the rollout status of s. wantRevision, when positive,
// is the revision the Deployment must be at.
//
// The rules are kubectl's (the Deployment's status counts against
// spec.replicas, once the controller has observed the latest spec, and
// the Progressing condition's ProgressDeadlineExceeded), plus two of kl's:
// all updated replicas must also be ready, and a rollout whose new pods
// cannot start (see stuckPod) fails at once rather than waiting for the
// progress deadline.
func evaluate(s state, wantRevision int64) verdict {
	d := s.Deployment
	if wantRevision > 0 {
		rev, err := deployutil.Revision(&d.ObjectMeta)
		if err != nil {
			return verdict{Err: fmt.Errorf("cannot get the revision of deployment %q: %w", d.Name, err)}
		}
		if rev != wantRevision {
			return verdict{Err: fmt.Errorf("desired revision (%d) is different from the running revision (%d)", wantRevision, rev)}
		}
	}
	observed := d.Generation <= d.Status.ObservedGeneration
	st := d.Status
	want := int32(appsv1.DefaultReplicas)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	if observed {
		if c := appsv1.GetDeploymentCondition(&st, appsv1.DeploymentProgressing); c != nil && c.Reason == progressDeadlineExceeded {
			msg := fmt.Sprintf("deployment %q exceeded its progress deadline", d.Name)
			if c.Message != "" {
				msg += ": " + c.Message
			}
			return verdict{Err: fmt.Errorf("%s", msg)}
		}
		if st.UpdatedReplicas == want && st.Replicas == want && st.AvailableReplicas == want && st.ReadyReplicas == want {
			return verdict{Message: fmt.Sprintf("deployment %q successfully rolled out", d.Name), Done: true}
		}
	}
	if why := stuckPod(s); why != "" {
		return verdict{Err: fmt.Errorf("deployment %q rollout is stuck: %s", d.Name, why)}
	}
	prefix := fmt.Sprintf("Waiting for deployment %q rollout to finish: ", d.Name)
	switch {
	case d.Spec.Paused:
		return verdict{Message: prefix + fmt.Sprintf("the deployment is paused (resume it with kl rollout resume %s)...", deployutil.Arg(d.Name))}
	case !observed:
		return verdict{Message: "Waiting for deployment spec update to be observed..."}
	case st.UpdatedReplicas < want:
		return verdict{Message: prefix + fmt.Sprintf("%d out of %d new replicas have been updated...", st.UpdatedReplicas, want)}
	case st.Replicas > st.UpdatedReplicas:
		return verdict{Message: prefix + fmt.Sprintf("%d old replicas are pending termination...", st.Replicas-st.UpdatedReplicas)}
	case st.AvailableReplicas < st.UpdatedReplicas:
		return verdict{Message: prefix + fmt.Sprintf("%d of %d updated replicas are available...", st.AvailableReplicas, st.UpdatedReplicas)}
	case st.ReadyReplicas < st.UpdatedReplicas:
		return verdict{Message: prefix + fmt.Sprintf("%d of %d updated replicas are ready...", st.ReadyReplicas, st.UpdatedReplicas)}
	}
	if extra := max(st.Replicas, st.UpdatedReplicas) - want; extra > 0 {
		return verdict{Message: prefix + fmt.Sprintf("%d extra replicas are pending termination...", extra)}
	}
	return verdict{Message: prefix + fmt.Sprintf("%d replicas, %d updated, %d ready, %d available, %d wanted...",
		st.Replicas, st.UpdatedReplicas, st.ReadyReplicas, st.AvailableReplicas, want)}
}

// stuckPod returns why the rollout cannot make progress, naming a pod of
// the new ReplicaSet (the one holding the Deployment's current template),
// or "" when no such pod is stuck. Only pods that are not terminating are
// considered; a pod is stuck when one of its containers (init containers
// included) is:
//
//   - in CrashLoopBackOff after at least crashLoopRestarts restarts;
//   - in ImagePullBackOff (the kubelet has already failed to pull the
//     image and is backing off; a first ErrImagePull is not enough), or
//     ErrImageNeverPull or InvalidImageName, which retrying cannot fix;
//
// or when the pod is unschedulable (PodScheduled=False, reason
// Unschedulable) while the rollout is not about to free room for it: no
// pod of the Deployment is terminating and no old ReplicaSet still has
// more pods than it wants.
func stuckPod(s state) string {
	d := s.Deployment
	newRS := deployutil.FindNewReplicaSet(d, s.ReplicaSets)
	if newRS == nil || newRS.Spec.Selector == nil {
		return ""
	}
	sel, err := meta.LabelSelectorAsSelector(newRS.Spec.Selector)
	if err != nil || sel.Empty() {
		return ""
	}
	freeing := false
	for _, rs := range s.ReplicaSets {
		if rs.UID != newRS.UID && rs.Spec.Replicas != nil && rs.Status.Replicas > *rs.Spec.Replicas {
			freeing = true
		}
	}
	pods := make([]*corev1.Pod, 0, len(s.Pods))
	for _, p := range s.Pods {
		if p.DeletionTimestamp != nil {
			freeing = true
			continue
		}
		if corev1.IsPodTerminal(p) || !sel.Matches(p.Labels) {
			continue
		}
		if ref := meta.GetControllerOf(&p.ObjectMeta); ref != nil && ref.UID != newRS.UID {
			continue
		}
		pods = append(pods, p)
	}
	sort.Slice(pods, func(i, j int) bool { return pods[i].Name < pods[j].Name })
	for _, p := range pods {
		if why := stuckContainer(p); why != "" {
			return why
		}
	}
	if freeing {
		return ""
	}
	for _, p := range pods {
		if _, c := corev1.GetPodCondition(&p.Status, corev1.PodScheduled); c != nil &&
			c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			return fmt.Sprintf("pod %s is unschedulable (%s)", p.Name, orDefault(c.Message, "no node fits it"))
		}
	}
	return ""
}

// stuckContainer returns why a container of p cannot start, or "".
func stuckContainer(p *corev1.Pod) string {
	statuses := append(append([]corev1.ContainerStatus(nil), p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...)
	for _, cs := range statuses {
		w := cs.State.Waiting
		if w == nil {
			continue
		}
		switch w.Reason {
		case reasonCrashLoopBackOff:
			if cs.RestartCount < crashLoopRestarts {
				continue
			}
		case reasonImagePullBackOff, reasonErrImageNeverPull, reasonInvalidImageName:
		default:
			continue
		}
		return fmt.Sprintf("pod %s is in %s (%s)", p.Name, w.Reason, orDefault(w.Message, "container "+cs.Name))
	}
	return ""
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
