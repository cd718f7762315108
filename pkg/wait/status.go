package wait

import (
	"fmt"
	"slices"
	"strings"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
)

// Status is how far one object is from ready.
type Status struct {
	// Ready: the object is where it should be.
	Ready bool
	// Failed: it will not get there by waiting (a rollout past its
	// progress deadline, a failed pod).
	Failed bool
	// Current of Total is the progress shown in a bar ("2/3 available").
	Current, Total int64
	// Text says where it is: "2/3 available", "not ready", "no ready
	// endpoints".
	Text string
}

// DeploymentStatus says whether d has completed its rollout: the
// controller has seen the latest spec (observedGeneration), and every
// desired replica is updated, ready and available, with no old replicas
// left.
func DeploymentStatus(d *appsv1.Deployment) Status {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	st := d.Status
	s := Status{Current: int64(st.AvailableReplicas), Total: int64(want)}
	if c := appsv1.GetDeploymentCondition(&st, appsv1.DeploymentProgressing); c != nil &&
		c.Status == corev1.ConditionFalse && c.Reason == "ProgressDeadlineExceeded" {
		s.Failed = true
		s.Text = fmt.Sprintf("%d/%d available, rollout failed: progress deadline exceeded", st.AvailableReplicas, want)
		return s
	}
	if st.ObservedGeneration < d.Generation {
		s.Text = fmt.Sprintf("%d/%d available, waiting for the controller to see the new spec", st.AvailableReplicas, want)
		return s
	}
	var notes []string
	if st.UpdatedReplicas < want {
		notes = append(notes, fmt.Sprintf("%d/%d updated", st.UpdatedReplicas, want))
	}
	if old := st.Replicas - st.UpdatedReplicas; old > 0 {
		notes = append(notes, fmt.Sprintf("%d old pending termination", old))
	}
	if st.ReadyReplicas < want && st.ReadyReplicas != st.AvailableReplicas {
		notes = append(notes, fmt.Sprintf("%d/%d ready", st.ReadyReplicas, want))
	}
	s.Text = fmt.Sprintf("%d/%d available", st.AvailableReplicas, want)
	if len(notes) > 0 {
		s.Text += " (" + strings.Join(notes, ", ") + ")"
	}
	s.Ready = st.UpdatedReplicas == want && st.ReadyReplicas >= want && st.AvailableReplicas >= want && st.Replicas == want
	return s
}

// PodStatus says whether p is Ready (or has completed).
func PodStatus(p *corev1.Pod) Status {
	s := Status{Total: 1}
	switch p.Status.Phase {
	case corev1.PodSucceeded:
		return Status{Ready: true, Current: 1, Total: 1, Text: "completed"}
	case corev1.PodFailed:
		s.Failed = true
		s.Text = "failed"
		if r := PodReason(p); r != "" {
			s.Text += ": " + r
		}
		return s
	}
	if corev1.IsPodReady(p) {
		return Status{Ready: true, Current: 1, Total: 1, Text: "ready"}
	}
	s.Text = "not ready"
	if r := PodReason(p); r != "" {
		s.Text += ": " + r
	}
	return s
}

// PodReason is why p is not running well, from the most telling source:
// a container's waiting reason (CrashLoopBackOff, ImagePullBackOff, ...),
// a terminated container's reason, the scheduler's (Unschedulable), the
// pod's own reason; "" when there is nothing to say.
func PodReason(p *corev1.Pod) string {
	for _, cs := range slices.Concat(p.Status.InitContainerStatuses, p.Status.ContainerStatuses) {
		if w := cs.State.Waiting; w != nil && w.Reason != "" && w.Reason != "ContainerCreating" && w.Reason != "PodInitializing" {
			return w.Reason
		}
	}
	for _, cs := range slices.Concat(p.Status.InitContainerStatuses, p.Status.ContainerStatuses) {
		if t := cs.State.Terminated; t != nil && t.Reason != "" && t.Reason != "Completed" {
			return t.Reason
		}
	}
	if _, c := corev1.GetPodCondition(&p.Status, corev1.PodScheduled); c != nil && c.Status == corev1.ConditionFalse && c.Reason != "" {
		if c.Message != "" {
			return c.Reason + ": " + c.Message
		}
		return c.Reason
	}
	if p.Status.Reason != "" {
		return p.Status.Reason
	}
	for _, cs := range p.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil && w.Reason != "" {
			return w.Reason
		}
	}
	if p.Spec.NodeName == "" && p.Status.Phase == corev1.PodPending {
		return "not scheduled yet"
	}
	return ""
}

// EndpointsStatus says whether a Service has an endpoint ready to serve:
// its Endpoints object (nil when there is none yet) lists at least one
// ready address.
func EndpointsStatus(e *corev1.Endpoints) Status {
	s := Status{Total: 1, Text: "no ready endpoints"}
	if e == nil {
		return s
	}
	n, notReady := 0, 0
	for _, ss := range e.Subsets {
		n += len(ss.Addresses)
		notReady += len(ss.NotReadyAddresses)
	}
	if n > 0 {
		text := fmt.Sprintf("%d ready endpoints", n)
		if n == 1 {
			text = "1 ready endpoint"
		}
		return Status{Ready: true, Current: 1, Total: 1, Text: text}
	}
	if notReady > 0 {
		s.Text = fmt.Sprintf("no ready endpoints (%d not ready)", notReady)
	}
	return s
}
