package kubelet

import (
	"context"
	"errors"
	"strconv"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/kubelet/runtime"
)

// podWorker is the goroutine that owns one pod on one node, like the
// Kubernetes kubelet's pod workers: it is woken by the pod's updates, its
// containers' runtime events, probe results, back-off timers and the
// periodic resync, and each time it makes the runtime match the pod (sync)
// and writes the pod's status if it changed. Syncs of one pod never run
// concurrently; syncs of different pods do.
type podWorker struct {
	n   *node
	uid string

	// Guarded by n.mu.
	pod   *corev1.Pod // latest from the informer
	gone  bool        // deleted from the API
	dirty bool        // changed since the last sync began
	wake  chan struct{}

	// Owned by the worker goroutine.
	// finalDeleted: the pod was deleted from the API (grace 0); a sync
	// woken by an update that raced with it does not delete it again.
	finalDeleted bool
	timer        *time.Timer
	timerAt      time.Time
	lastWritten  *corev1.PodStatus // the status last written
	lastRV       int64             // resourceVersion our last status write produced
	terminal     bool              // a terminal phase was written
	startSeen    bool              // Running was reported (start latency observed)
	running      bool              // counted in kubelet_running_pods
	runningCount int               // counted in kubelet_running_containers
	waiting      map[string]waitingState
	backOffSeen  map[string]time.Time // container -> finishedAt a BackOff event was sent for
	forceRestart map[string]bool      // containers killed by a failed probe
	failures     int                  // consecutive failed syncs
	volumeErrs   map[string]error     // volumes not ready, by name (this sync)
	mountFailed  map[string]string    // volume -> error a FailedMount event was sent for
}

// waitingState is why a container is waiting, decided by this sync.
type waitingState struct {
	reason, message string
}

func newPodWorker(n *node, uid string) *podWorker {
	return &podWorker{
		n: n, uid: uid, wake: make(chan struct{}, 1),
		backOffSeen: map[string]time.Time{}, forceRestart: map[string]bool{},
		mountFailed: map[string]string{},
	}
}

// wakeLocked asks for a sync (n.mu held).
func (w *podWorker) wakeLocked() {
	w.dirty = true
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// wakeAt schedules a sync at t (back-off expiry), keeping the earliest.
func (w *podWorker) wakeAt(t time.Time) {
	if w.timer != nil && !w.timerAt.IsZero() && !t.Before(w.timerAt) && w.timerAt.After(time.Now()) {
		return
	}
	if w.timer != nil {
		w.timer.Stop()
	}
	w.timerAt = t
	w.timer = time.AfterFunc(time.Until(t), func() {
		w.n.mu.Lock()
		w.wakeLocked()
		w.n.mu.Unlock()
	})
}

// run syncs the pod whenever woken, until the pod is gone and cleaned up
// or ctx ends. It never kills containers because ctx ended: a kubelet that
// stops leaves its pods running for the next one to adopt.
func (w *podWorker) run(ctx context.Context) {
	defer func() {
		if w.timer != nil {
			w.timer.Stop()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		}
		w.n.mu.Lock()
		pod, gone := w.pod, w.gone
		w.dirty = false
		w.n.mu.Unlock()

		finished, err := w.sync(ctx, pod, gone)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			w.failures++
			w.n.k.metrics.syncErrors.WithLabelValues(errKindPod).Inc()
			w.n.log.Warn("pod sync failed", "pod", pod.Namespace+"/"+pod.Name, "err", err)
			w.wakeAt(time.Now().Add(retryDelay(w.failures - 1)))
		} else {
			w.failures = 0
		}
		if finished && w.finish() {
			return
		}
	}
}

// finish removes the worker unless an update arrived meanwhile.
func (w *podWorker) finish() bool {
	n := w.n
	n.mu.Lock()
	defer n.mu.Unlock()
	if w.dirty {
		return false
	}
	delete(n.workers, w.uid)
	n.backoff.forget(w.uid + "/")
	n.probes.removePod(w.uid)
	w.setRunning(false, 0)
	return true
}

// setRunning keeps the running pods and containers gauges.
func (w *podWorker) setRunning(running bool, containers int) {
	m, node := w.n.k.metrics, w.n.name
	if running != w.running {
		if running {
			m.runningPods.WithLabelValues(node).Inc()
		} else {
			m.runningPods.WithLabelValues(node).Dec()
		}
		w.running = running
	}
	if d := containers - w.runningCount; d != 0 {
		m.runningContainers.WithLabelValues(node).Add(float64(d))
		w.runningCount = containers
	}
}

// sync makes the runtime match the pod. It returns finished when the pod
// is gone and nothing of it is left.
func (w *podWorker) sync(ctx context.Context, pod *corev1.Pod, gone bool) (bool, error) {
	switch {
	case gone:
		err := w.killPod(ctx, pod, gracePeriod(pod))
		return true, w.cleanupPod(err)
	case pod.DeletionTimestamp != nil:
		finished, err := w.terminate(ctx, pod)
		if finished {
			err = w.cleanupPod(err)
		}
		return finished, err
	}
	return false, w.syncPod(ctx, pod)
}

// cleanupPod forgets the objects a finished pod used and, once its
// containers are gone (killErr is nil), removes its volumes; a kubelet
// that starts removes those left behind.
func (w *podWorker) cleanupPod(killErr error) error {
	k := w.n.k
	k.objects.unregister(w.uid)
	if killErr != nil {
		return killErr
	}
	return k.volumes.tearDown(w.uid)
}

// gracePeriod is how long a pod's containers get to stop: the deletion's
// grace period, else the pod's terminationGracePeriodSeconds.
func gracePeriod(pod *corev1.Pod) time.Duration {
	s := int64(corev1.DefaultTerminationGracePeriodSeconds)
	if pod.Spec.TerminationGracePeriodSeconds != nil {
		s = *pod.Spec.TerminationGracePeriodSeconds
	}
	if pod.DeletionGracePeriodSeconds != nil {
		s = *pod.DeletionGracePeriodSeconds
	}
	return time.Duration(max(s, 0)) * time.Second
}

// terminate stops a pod being deleted within its grace period, removes
// its sandboxes and containers, then deletes it from the API for good.
func (w *podWorker) terminate(ctx context.Context, pod *corev1.Pod) (bool, error) {
	if err := w.killPod(ctx, pod, gracePeriod(pod)); err != nil {
		return false, err
	}
	if w.finalDeleted {
		return true, nil
	}
	uid := pod.UID
	err := w.n.k.pods.Namespace(pod.Namespace).Delete(ctx, pod.Name, meta.DeleteOptions{
		GracePeriodSeconds: meta.Int64p(0),
		Preconditions:      &meta.Preconditions{UID: &uid},
	})
	if err != nil && !meta.IsNotFound(err) && !meta.IsConflict(err) {
		return false, err
	}
	w.finalDeleted = true
	w.n.log.Debug("pod terminated and deleted", "pod", pod.Namespace+"/"+pod.Name)
	return true, nil
}

// killPod stops every container of the pod (SIGTERM, then SIGKILL after
// grace, all at once) and removes its sandboxes and containers.
func (w *podWorker) killPod(ctx context.Context, pod *corev1.Pod, grace time.Duration) error {
	rt := w.n.rt
	w.n.probes.removePod(w.uid)
	containers, err := rt.ListContainers(ctx, containerFilter(w.uid))
	if err != nil {
		return err
	}
	errc := make(chan error, len(containers))
	stopping := 0
	for _, c := range containers {
		if c.State != runtime.ContainerRunning && c.State != runtime.ContainerCreated {
			continue
		}
		stopping++
		if pod != nil && c.State == runtime.ContainerRunning {
			w.n.k.recorder.eventf(w.n.name, podRef(pod, c.Name, isInitContainer(pod, c.Name)), corev1.EventTypeNormal, reasonKilling, "Stopping container %s", c.Name)
		}
		go func() { errc <- rt.StopContainer(ctx, c.ID, grace) }()
	}
	var errs []error
	for range stopping {
		if err := <-errc; err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	sandboxes, err := rt.ListPodSandboxes(ctx, sandboxFilter(w.uid))
	if err != nil {
		return err
	}
	for _, s := range sandboxes {
		if err := rt.RemovePodSandbox(ctx, s.ID); err != nil {
			return err
		}
	}
	// Containers outside any sandbox still listed (the sandbox went
	// first) are removed one by one.
	left, err := rt.ListContainers(ctx, containerFilter(w.uid))
	if err != nil {
		return err
	}
	for _, c := range left {
		if err := rt.RemoveContainer(ctx, c.ID); err != nil {
			return err
		}
	}
	w.setRunning(false, 0)
	return nil
}

func isInitContainer(pod *corev1.Pod, name string) bool {
	for i := range pod.Spec.InitContainers {
		if pod.Spec.InitContainers[i].Name == name {
			return true
		}
	}
	return false
}

// parseRV parses a resourceVersion (0 when not a number).
func parseRV(rv string) int64 {
	n, _ := strconv.ParseInt(rv, 10, 64)
	return n
}
