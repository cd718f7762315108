package kubelet

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/kubelet/prober"
	"github.com/kl-dev/kl/pkg/kubelet/runtime"
)

// Condition reasons, as Kubernetes' kubelet writes them.
const (
	reasonContainersNotInitialized = "ContainersNotInitialized"
	reasonContainersNotReady       = "ContainersNotReady"
	reasonPodCompleted             = "PodCompleted"
)

// generateStatus computes the pod's status from the runtime's state, the
// probe results and this sync's decisions (w.waiting).
func (w *podWorker) generateStatus(pod *corev1.Pod, pr *podRuntime) *corev1.PodStatus {
	old := &pod.Status
	st := &corev1.PodStatus{
		QOSClass:          old.QOSClass,
		NominatedNodeName: old.NominatedNodeName,
		HostIP:            w.n.k.cfg.NodeIP,
		HostIPs:           []corev1.HostIP{{IP: w.n.k.cfg.NodeIP}},
		StartTime:         old.StartTime,
	}
	if st.QOSClass == "" {
		st.QOSClass = corev1.ComputePodQOS(pod)
	}
	if st.StartTime == nil {
		t := meta.Now()
		st.StartTime = &t
	}
	sb := pr.readySandbox()
	switch {
	case sb != nil && sb.IP != "":
		st.PodIP = sb.IP
	case old.PodIP != "":
		st.PodIP = old.PodIP // the sandbox is gone; the pod keeps its last IP
	}
	if st.PodIP != "" {
		st.PodIPs = []corev1.PodIP{{IP: st.PodIP}}
	}

	initDone := true
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		cs := w.containerStatus(pod, c, pr, true, initDone)
		st.InitContainerStatuses = append(st.InitContainerStatuses, cs)
		if t := cs.State.Terminated; t == nil || t.ExitCode != 0 {
			initDone = false
		}
	}
	for i := range pod.Spec.Containers {
		st.ContainerStatuses = append(st.ContainerStatuses, w.containerStatus(pod, &pod.Spec.Containers[i], pr, false, initDone))
	}
	st.Phase = podPhase(pod, st)
	st.Conditions = w.conditions(pod, st, sb != nil, initDone)
	return st
}

// containerStatus is one container's status. initDone says whether every
// init container before (for init containers) or at all (for app
// containers) has completed.
func (w *podWorker) containerStatus(pod *corev1.Pod, c *corev1.Container, pr *podRuntime, init, initDone bool) corev1.ContainerStatus {
	cs := corev1.ContainerStatus{Name: c.Name, Image: c.Image, Started: meta.Boolp(false)}
	latest := pr.latest(c.Name)
	waiting, hasWaiting := w.waiting[c.Name]
	if latest == nil {
		if api := apiContainerStatus(pod, c.Name, init); api != nil && api.ContainerID != "" {
			// The runtime lost the container; the API remembers it.
			cs.RestartCount = api.RestartCount
			cs.LastTerminationState = api.LastTerminationState
			if t := api.State.Terminated; init && t != nil && t.ExitCode == 0 {
				cs.State = api.State
				cs.ImageID, cs.ContainerID, cs.Ready = api.ImageID, api.ContainerID, true
				return cs
			}
		}
		reason := waitContainerCreating
		if !init && !initDone {
			reason = waitPodInitializing
		}
		if hasWaiting {
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: waiting.reason, Message: waiting.message}
		} else {
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: reason}
		}
		return cs
	}
	cs.Image = latest.Image
	cs.ImageID = latest.ImageRef
	cs.ContainerID = w.n.runtimeName + "://" + latest.ID
	cs.RestartCount = int32(latest.Attempt)
	if prev := pr.previousExited(c.Name); prev != nil {
		cs.LastTerminationState.Terminated = w.terminated(prev)
	}
	switch latest.State {
	case runtime.ContainerRunning:
		cs.State.Running = &corev1.ContainerStateRunning{StartedAt: meta.NewTime(latest.StartedAt)}
		// Probe verdicts live in memory. Until a probe of an adopted
		// container has run, the API's word for that same container
		// stands, so a kubelet restart does not flap readiness.
		api := apiContainerStatus(pod, c.Name, init)
		sameContainer := api != nil && api.ContainerID == cs.ContainerID
		passed := func(typ prober.ProbeType, apiSays bool) bool {
			switch w.n.probes.result(latest.ID, typ) {
			case resultPassed:
				return true
			case resultUnknown:
				return sameContainer && apiSays
			}
			return false
		}
		started := c.StartupProbe == nil || passed(prober.Startup, api != nil && api.Started != nil && *api.Started)
		cs.Started = meta.Boolp(started)
		if !init {
			cs.Ready = started && (c.ReadinessProbe == nil || passed(prober.Readiness, api != nil && api.Ready))
		}
	case runtime.ContainerExited:
		term := w.terminated(latest)
		if hasWaiting {
			// Exited and about to restart (or backing off).
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: waiting.reason, Message: waiting.message}
			cs.LastTerminationState = corev1.ContainerState{Terminated: term}
		} else {
			cs.State.Terminated = term
		}
		cs.Ready = init && term.ExitCode == 0 && !hasWaiting
	default:
		reason := waitContainerCreating
		if hasWaiting {
			reason = waiting.reason
		}
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: reason, Message: waiting.message}
	}
	return cs
}

func (w *podWorker) terminated(c *runtime.Container) *corev1.ContainerStateTerminated {
	reason := c.Reason
	if reason == "" {
		reason = "Error"
		if c.ExitCode == 0 {
			reason = "Completed"
		}
	}
	return &corev1.ContainerStateTerminated{
		ExitCode:    c.ExitCode,
		Reason:      reason,
		Message:     c.Message,
		StartedAt:   meta.NewTime(c.StartedAt),
		FinishedAt:  meta.NewTime(c.FinishedAt),
		ContainerID: w.n.runtimeName + "://" + c.ID,
	}
}

func apiContainerStatus(pod *corev1.Pod, name string, init bool) *corev1.ContainerStatus {
	list := pod.Status.ContainerStatuses
	if init {
		list = pod.Status.InitContainerStatuses
	}
	for i := range list {
		if list[i].Name == name {
			return &list[i]
		}
	}
	return nil
}

// podPhase is Kubernetes' getPhase: Pending until initialized and every
// container has started once; Succeeded or Failed once every container
// has exited for good; Running otherwise.
func podPhase(pod *corev1.Pod, st *corev1.PodStatus) corev1.PodPhase {
	if corev1.IsPodTerminal(pod) {
		return pod.Status.Phase // terminal phases never change
	}
	policy := pod.Spec.RestartPolicy
	pendingInit, failedInit := false, false
	for _, cs := range st.InitContainerStatuses {
		switch {
		case cs.State.Terminated != nil && cs.State.Terminated.ExitCode == 0:
		case cs.State.Terminated != nil:
			failedInit, pendingInit = true, true
		case cs.State.Waiting != nil && cs.LastTerminationState.Terminated != nil && cs.LastTerminationState.Terminated.ExitCode != 0:
			pendingInit = true // crash-looping init container
		default:
			pendingInit = true
		}
	}
	if failedInit && policy == corev1.RestartPolicyNever {
		return corev1.PodFailed
	}
	if pendingInit {
		return corev1.PodPending
	}
	var running, waiting, stopped, succeeded int
	for _, cs := range st.ContainerStatuses {
		switch {
		case cs.State.Running != nil:
			running++
		case cs.State.Terminated != nil:
			stopped++
			if cs.State.Terminated.ExitCode == 0 {
				succeeded++
			}
		case cs.State.Waiting != nil:
			if cs.LastTerminationState.Terminated != nil {
				stopped++
			} else {
				waiting++
			}
		}
	}
	switch {
	case waiting > 0:
		return corev1.PodPending
	case running > 0:
		return corev1.PodRunning
	case stopped > 0:
		switch {
		case policy == corev1.RestartPolicyAlways:
			return corev1.PodRunning
		case stopped == succeeded:
			return corev1.PodSucceeded
		case policy == corev1.RestartPolicyNever:
			return corev1.PodFailed
		}
		return corev1.PodRunning // OnFailure: restarting the failed ones
	}
	return corev1.PodPending
}

// conditions are the pod's conditions: those of the old status (the
// scheduler's PodScheduled and anything else) updated with the kubelet's,
// keeping lastTransitionTime where the status did not change.
func (w *podWorker) conditions(pod *corev1.Pod, st *corev1.PodStatus, sandboxReady, initDone bool) []corev1.PodCondition {
	tmp := &corev1.PodStatus{Conditions: append([]corev1.PodCondition(nil), pod.Status.Conditions...)}
	set := func(t corev1.PodConditionType, ok bool, reason, message string) {
		c := corev1.PodCondition{Type: t, Status: corev1.ConditionFalse, Reason: reason, Message: message}
		if ok {
			c.Status, c.Reason, c.Message = corev1.ConditionTrue, "", ""
		}
		corev1.UpdatePodCondition(tmp, &c)
	}
	terminal := st.Phase == corev1.PodSucceeded || st.Phase == corev1.PodFailed

	set(corev1.PodReadyToStartContainers, sandboxReady || (terminal && podReadyToStart(pod)), "", "")

	var notInit []string
	for _, cs := range st.InitContainerStatuses {
		if t := cs.State.Terminated; t == nil || t.ExitCode != 0 {
			notInit = append(notInit, cs.Name)
		}
	}
	set(corev1.PodInitialized, initDone, reasonContainersNotInitialized, unreadyMessage("containers with incomplete status", notInit))

	var notReady []string
	for _, cs := range st.ContainerStatuses {
		if !cs.Ready {
			notReady = append(notReady, cs.Name)
		}
	}
	reason, msg := reasonContainersNotReady, unreadyMessage("containers with unready status", notReady)
	if terminal {
		reason, msg = reasonPodCompleted, ""
	}
	ready := len(notReady) == 0 && !terminal
	set(corev1.PodReady, ready, reason, msg)
	set(corev1.ContainersReady, ready, reason, msg)
	if _, c := corev1.GetPodCondition(tmp, corev1.PodScheduled); c == nil {
		set(corev1.PodScheduled, true, "", "")
	}
	return tmp.Conditions
}

// podReadyToStart is the old PodReadyToStartContainers status (a finished
// pod keeps it as it was).
func podReadyToStart(pod *corev1.Pod) bool {
	_, c := corev1.GetPodCondition(&pod.Status, corev1.PodReadyToStartContainers)
	return c != nil && c.Status == corev1.ConditionTrue
}

func unreadyMessage(prefix string, names []string) string {
	if len(names) == 0 {
		return ""
	}
	return fmt.Sprintf("%s: [%s]", prefix, strings.Join(names, " "))
}

// writeStatus writes st through pods/status unless it equals what the API
// holds (or what this worker last wrote, when the informer has not caught
// up yet).
func (w *podWorker) writeStatus(ctx context.Context, pod *corev1.Pod, st *corev1.PodStatus) error {
	data, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode pod status: %w", err)
	}
	cur, err := json.Marshal(&pod.Status)
	if err != nil {
		return fmt.Errorf("encode pod status: %w", err)
	}
	if bytes.Equal(data, cur) {
		// Unchanged (pod carries the status we last wrote when the
		// informer has not caught up with it: see withLatestStatus).
		w.noteRunning(pod, st, false)
		return nil
	}
	k := w.n.k
	select {
	case k.writes <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-k.writes }()
	cp := *pod
	cp.ResourceVersion = "" // the kubelet owns pod status: last writer wins
	cp.ManagedFields = nil
	cp.Status = *st
	out, err := k.pods.Namespace(pod.Namespace).UpdateStatus(ctx, &cp, client.UpdateOptions{FieldManager: eventComponent})
	if meta.IsNotFound(err) || meta.IsConflict(err) {
		return nil // deleted (or replaced by a namesake): the informer will say so
	}
	if err != nil {
		return fmt.Errorf("update pod status: %w", err)
	}
	w.lastWritten = st
	w.lastRV = parseRV(out.ResourceVersion)
	w.noteRunning(pod, st, true)
	return nil
}

// noteRunning observes the pod's start latency the first time this
// kubelet reports it Running.
func (w *podWorker) noteRunning(pod *corev1.Pod, st *corev1.PodStatus, wrote bool) {
	if w.startSeen || st.Phase != corev1.PodRunning {
		return
	}
	w.startSeen = true
	if wrote && pod.Status.Phase != corev1.PodRunning && !pod.CreationTimestamp.IsZero() {
		w.n.k.metrics.podStart.Observe(time.Since(pod.CreationTimestamp.Time).Seconds())
	}
}
