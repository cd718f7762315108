package kubelet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/kubelet/prober"
	"github.com/kl-dev/kl/pkg/kubelet/runtime"
)

// labelContainerHash holds a hash of the container's spec; a container
// whose spec changed (a new image) is restarted.
const labelContainerHash = "kl.container.hash"

// Waiting reasons of container statuses, as Kubernetes names them.
const (
	waitContainerCreating  = "ContainerCreating"
	waitPodInitializing    = "PodInitializing"
	waitCrashLoopBackOff   = "CrashLoopBackOff"
	waitErrImagePull       = "ErrImagePull"
	waitImagePullBackOff   = "ImagePullBackOff"
	waitErrImageNeverPull  = "ErrImageNeverPull"
	waitCreateConfigError  = "CreateContainerConfigError"
	waitCreateContainerErr = "CreateContainerError"
	waitRunContainerError  = "RunContainerError"
)

// podRuntime is what the runtime holds of one pod.
type podRuntime struct {
	sandboxes []*runtime.PodSandbox // oldest first
	// byName lists each container name's containers, newest attempt first.
	byName map[string][]*runtime.Container
}

func containerFilter(uid string) runtime.ContainerFilter { return runtime.ContainerFilter{PodUID: uid} }
func sandboxFilter(uid string) runtime.SandboxFilter     { return runtime.SandboxFilter{PodUID: uid} }

// observe lists the pod's sandboxes and containers.
func (w *podWorker) observe(ctx context.Context) (*podRuntime, error) {
	sbs, err := w.n.rt.ListPodSandboxes(ctx, sandboxFilter(w.uid))
	if err != nil {
		return nil, fmt.Errorf("list sandboxes: %w", err)
	}
	cs, err := w.n.rt.ListContainers(ctx, containerFilter(w.uid))
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	pr := &podRuntime{sandboxes: sbs, byName: map[string][]*runtime.Container{}}
	for _, c := range cs {
		pr.byName[c.Name] = append(pr.byName[c.Name], c)
	}
	for _, list := range pr.byName {
		// Oldest first from the runtime; newest attempt first here.
		slices.Reverse(list)
		slices.SortStableFunc(list, func(a, b *runtime.Container) int { return int(b.Attempt) - int(a.Attempt) })
	}
	return pr, nil
}

// readySandbox returns the newest ready sandbox, or nil.
func (pr *podRuntime) readySandbox() *runtime.PodSandbox {
	for i := len(pr.sandboxes) - 1; i >= 0; i-- {
		if pr.sandboxes[i].State == runtime.SandboxReady {
			return pr.sandboxes[i]
		}
	}
	return nil
}

// latest returns the newest container of a name, or nil.
func (pr *podRuntime) latest(name string) *runtime.Container {
	if list := pr.byName[name]; len(list) > 0 {
		return list[0]
	}
	return nil
}

// previousExited returns the newest exited container of a name other
// than the latest, or nil (its state is the lastState of a running one).
func (pr *podRuntime) previousExited(name string) *runtime.Container {
	list := pr.byName[name]
	for _, c := range list[min(1, len(list)):] {
		if c.State == runtime.ContainerExited {
			return c
		}
	}
	return nil
}

// syncPod brings a live pod's containers to the state its spec asks for,
// then writes its status if it changed.
func (w *podWorker) syncPod(ctx context.Context, pod *corev1.Pod) error {
	pod = w.withLatestStatus(pod)
	pr, err := w.observe(ctx)
	if err != nil {
		return err
	}
	if w.terminal || corev1.IsPodTerminal(pod) {
		// A finished pod never runs again; only its sandbox goes.
		w.terminal = true
		return w.stopSandboxes(ctx, pr)
	}
	w.waiting = map[string]waitingState{}
	actErr := w.reconcile(ctx, pod, pr)
	if pr, err = w.observe(ctx); err != nil {
		return err
	}
	status := w.generateStatus(pod, pr)
	if err := w.writeStatus(ctx, pod, status); err != nil {
		return errors.Join(actErr, err)
	}
	running := 0
	for _, list := range pr.byName {
		if list[0].State == runtime.ContainerRunning {
			running++
		}
	}
	w.setRunning(pr.readySandbox() != nil, running)
	if corev1.IsPodTerminal(&corev1.Pod{Status: *status}) {
		w.terminal = true
		w.n.probes.removePod(w.uid)
		return errors.Join(actErr, w.stopSandboxes(ctx, pr))
	}
	w.n.probes.reconcile(ctx, pod, pr)
	w.collectGarbage(ctx, pr)
	return actErr
}

// withLatestStatus returns pod with the status this worker last wrote when
// the informer has not delivered that write yet, so a sync never starts
// from an older status than the one the API holds.
func (w *podWorker) withLatestStatus(pod *corev1.Pod) *corev1.Pod {
	if w.lastWritten == nil || parseRV(pod.ResourceVersion) >= w.lastRV {
		return pod
	}
	cp := *pod
	cp.Status = *w.lastWritten
	return &cp
}

// stopSandboxes stops the pod's ready sandboxes (a finished pod's).
func (w *podWorker) stopSandboxes(ctx context.Context, pr *podRuntime) error {
	for _, sb := range pr.sandboxes {
		if sb.State == runtime.SandboxReady {
			if err := w.n.rt.StopPodSandbox(ctx, sb.ID); err != nil {
				return fmt.Errorf("stop sandbox: %w", err)
			}
		}
	}
	w.setRunning(false, 0)
	return nil
}

// reconcile runs the actions the pod needs: a sandbox, the init
// containers one by one, then the app containers, restarting them as the
// restart policy and back-off allow.
func (w *podWorker) reconcile(ctx context.Context, pod *corev1.Pod, pr *podRuntime) error {
	w.setUpVolumes(ctx, pod)
	sb := pr.readySandbox()
	if sb == nil {
		var err error
		if sb, err = w.createSandbox(ctx, pod, pr); err != nil {
			return err
		}
		pr.sandboxes = append(pr.sandboxes, sb)
	}
	if !w.reconcileInit(ctx, pod, pr, sb) {
		return nil
	}
	var errs []error
	for i := range pod.Spec.Containers {
		if err := w.reconcileContainer(ctx, pod, pr, sb, &pod.Spec.Containers[i]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (w *podWorker) createSandbox(ctx context.Context, pod *corev1.Pod, pr *podRuntime) (*runtime.PodSandbox, error) {
	rt, rec := w.n.rt, w.n.k.recorder
	// Whatever ran in a sandbox that died is stale: stop it first.
	for _, list := range pr.byName {
		for _, c := range list {
			if c.State == runtime.ContainerRunning {
				if err := rt.StopContainer(ctx, c.ID, gracePeriod(pod)); err != nil {
					return nil, fmt.Errorf("stop container %s of the old sandbox: %w", c.Name, err)
				}
			}
		}
	}
	if len(pr.sandboxes) > 0 {
		rec.eventf(w.n.name, podRef(pod, "", false), corev1.EventTypeNormal, reasonSandboxChanged, "Pod sandbox changed, it will be killed and re-created.")
	}
	hostname := pod.Spec.Hostname
	if hostname == "" {
		hostname = pod.Name
	}
	cfg := runtime.PodSandboxConfig{
		Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID,
		Attempt: uint32(len(pr.sandboxes)), Hostname: hostname, HostNetwork: pod.Spec.HostNetwork,
		Labels: pod.Labels,
	}
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			if p.HostPort != 0 {
				cfg.Ports = append(cfg.Ports, portMapping(p))
			}
		}
	}
	sb, err := rt.RunPodSandbox(ctx, cfg)
	if err != nil {
		rec.eventf(w.n.name, podRef(pod, "", false), corev1.EventTypeWarning, reasonSandboxFailed, "Failed to create pod sandbox: %v", err)
		return nil, fmt.Errorf("create sandbox: %w", err)
	}
	return sb, nil
}

// reconcileInit runs the init containers in order and reports whether all
// have completed.
func (w *podWorker) reconcileInit(ctx context.Context, pod *corev1.Pod, pr *podRuntime, sb *runtime.PodSandbox) bool {
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		latest := pr.latest(c.Name)
		if latest == nil {
			if initCompletedInAPI(pod, c.Name) {
				// The runtime lost its record (a fake runtime without a
				// state file); the API says it completed: do not run it
				// again.
				continue
			}
			w.startContainer(ctx, pod, sb, c, w.fallbackAttempt(pod, c.Name, true), true)
			return false
		}
		switch latest.State {
		case runtime.ContainerExited:
			if latest.ExitCode == 0 {
				continue
			}
			if pod.Spec.RestartPolicy != corev1.RestartPolicyNever {
				w.restartExited(ctx, pod, sb, c, latest, true)
			}
			return false
		case runtime.ContainerCreated:
			w.startCreated(ctx, pod, c, latest, true)
			return false
		default:
			return false
		}
	}
	return true
}

// reconcileContainer starts, restarts or kills one app container.
func (w *podWorker) reconcileContainer(ctx context.Context, pod *corev1.Pod, pr *podRuntime, sb *runtime.PodSandbox, c *corev1.Container) error {
	latest := pr.latest(c.Name)
	if latest == nil {
		w.startContainer(ctx, pod, sb, c, w.fallbackAttempt(pod, c.Name, false), false)
		return nil
	}
	switch latest.State {
	case runtime.ContainerCreated:
		w.startCreated(ctx, pod, c, latest, false)
		return nil
	case runtime.ContainerRunning:
		why, grace := w.needsKill(pod, c, latest)
		if why == "" {
			return nil
		}
		w.n.k.recorder.eventf(w.n.name, podRef(pod, c.Name, false), corev1.EventTypeNormal, reasonKilling, "%s", why)
		if err := w.n.rt.StopContainer(ctx, latest.ID, grace); err != nil {
			return fmt.Errorf("stop container %s: %w", c.Name, err)
		}
		w.n.probes.removeContainer(latest.ID)
		if pod.Spec.RestartPolicy != corev1.RestartPolicyNever {
			w.forceRestart[c.Name] = true
		}
		stopped, err := w.n.rt.ContainerStatus(ctx, latest.ID)
		if err != nil {
			return fmt.Errorf("container %s: %w", c.Name, err)
		}
		latest = stopped
		pr.byName[c.Name][0] = stopped
	}
	if latest.State == runtime.ContainerExited {
		w.restartExited(ctx, pod, sb, c, latest, false)
	}
	return nil
}

// needsKill says why a running container must be killed (a failed
// liveness or startup probe, a changed spec) and with which grace period;
// "" when it may run on.
func (w *podWorker) needsKill(pod *corev1.Pod, c *corev1.Container, latest *runtime.Container) (string, time.Duration) {
	probes := w.n.probes
	probeGrace := func(p *corev1.Probe) time.Duration {
		if p != nil && p.TerminationGracePeriodSeconds != nil {
			return time.Duration(*p.TerminationGracePeriodSeconds) * time.Second
		}
		return gracePeriod(pod)
	}
	switch {
	case c.StartupProbe != nil && probes.result(latest.ID, prober.Startup) == resultFailed:
		return fmt.Sprintf("Container %s failed startup probe, will be restarted", c.Name), probeGrace(c.StartupProbe)
	case c.LivenessProbe != nil && probes.result(latest.ID, prober.Liveness) == resultFailed:
		return fmt.Sprintf("Container %s failed liveness probe, will be restarted", c.Name), probeGrace(c.LivenessProbe)
	case latest.Labels[labelContainerHash] != "" && latest.Labels[labelContainerHash] != containerHash(c):
		return fmt.Sprintf("Container %s definition changed, will be restarted", c.Name), gracePeriod(pod)
	}
	return "", 0
}

// shouldRestart applies the restart policy to an exited container.
func (w *podWorker) shouldRestart(pod *corev1.Pod, latest *runtime.Container) bool {
	switch pod.Spec.RestartPolicy {
	case corev1.RestartPolicyNever:
		return false
	case corev1.RestartPolicyOnFailure:
		return latest.ExitCode != 0 || w.forceRestart[latest.Name]
	}
	return true
}

// restartExited starts the next attempt of an exited container, unless
// the restart policy says no or it is backing off (CrashLoopBackOff).
func (w *podWorker) restartExited(ctx context.Context, pod *corev1.Pod, sb *runtime.PodSandbox, c *corev1.Container, latest *runtime.Container, init bool) {
	if !init && !w.shouldRestart(pod, latest) {
		return
	}
	n := w.n
	key := w.uid + "/" + c.Name
	if in, until := n.backoff.inBackOffSince(key, latest.FinishedAt); in {
		w.waiting[c.Name] = waitingState{
			reason:  waitCrashLoopBackOff,
			message: fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)", n.backoff.delay(key), c.Name, pod.Name, pod.Namespace, pod.UID),
		}
		if !w.backOffSeen[c.Name].Equal(latest.FinishedAt) {
			w.backOffSeen[c.Name] = latest.FinishedAt
			n.k.recorder.eventf(n.name, podRef(pod, c.Name, init), corev1.EventTypeWarning, reasonBackOff,
				"Back-off restarting failed container %s in pod %s_%s(%s)", c.Name, pod.Name, pod.Namespace, pod.UID)
		}
		w.wakeAt(until)
		return
	}
	n.backoff.next(key, latest.FinishedAt)
	delete(w.forceRestart, c.Name)
	w.startContainer(ctx, pod, sb, c, latest.Attempt+1, init)
}

// fallbackAttempt is the attempt of a container the runtime has no record
// of: 0, or the API's restartCount when the runtime lost its state (so
// the count does not go back).
func (w *podWorker) fallbackAttempt(pod *corev1.Pod, name string, init bool) uint32 {
	statuses := pod.Status.ContainerStatuses
	if init {
		statuses = pod.Status.InitContainerStatuses
	}
	for _, s := range statuses {
		if s.Name == name && s.ContainerID != "" && s.RestartCount > 0 {
			return uint32(s.RestartCount)
		}
	}
	return 0
}

// initCompletedInAPI reports whether the pod's status says the init
// container completed successfully.
func initCompletedInAPI(pod *corev1.Pod, name string) bool {
	for _, s := range pod.Status.InitContainerStatuses {
		if s.Name == name {
			t := s.State.Terminated
			return t != nil && t.ExitCode == 0
		}
	}
	return false
}

// startCreated starts a container that was created but never started (the
// kubelet stopped in between); if that fails, it is removed so the next
// sync creates it again.
func (w *podWorker) startCreated(ctx context.Context, pod *corev1.Pod, c *corev1.Container, cont *runtime.Container, init bool) {
	if err := w.n.rt.StartContainer(ctx, cont.ID); err != nil {
		w.startFailed(ctx, pod, c, cont.ID, init, err)
		return
	}
	w.n.k.recorder.eventf(w.n.name, podRef(pod, c.Name, init), corev1.EventTypeNormal, reasonStarted, "Started container %s", c.Name)
}

// startContainer pulls the image if need be, creates and starts attempt
// of container c. Failures become the container's waiting reason (and
// events); they are retried with back-off.
func (w *podWorker) startContainer(ctx context.Context, pod *corev1.Pod, sb *runtime.PodSandbox, c *corev1.Container, attempt uint32, init bool) {
	n := w.n
	rec := n.k.recorder
	ref := podRef(pod, c.Name, init)
	if !w.ensureImage(ctx, pod, c, init) {
		return
	}
	if err := w.volumeError(); err != nil {
		// Containers start once every volume of the pod is ready; the
		// event (FailedMount) was sent when the volume failed.
		w.waiting[c.Name] = waitingState{reason: waitCreateConfigError, message: err.Error()}
		w.retryLater(c.Name)
		return
	}
	cfg, err := n.k.containerConfig(ctx, pod, c, attempt, sb)
	if err != nil {
		w.waiting[c.Name] = waitingState{reason: waitCreateConfigError, message: err.Error()}
		rec.eventf(n.name, ref, corev1.EventTypeWarning, reasonFailed, "Error: %v", err)
		w.retryLater(c.Name)
		return
	}
	id, err := n.rt.CreateContainer(ctx, sb.ID, cfg)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		w.waiting[c.Name] = waitingState{reason: waitCreateContainerErr, message: err.Error()}
		rec.eventf(n.name, ref, corev1.EventTypeWarning, reasonFailed, "Error: %v", err)
		w.retryLater(c.Name)
		return
	}
	rec.eventf(n.name, ref, corev1.EventTypeNormal, reasonCreated, "Created container %s", c.Name)
	if err := n.rt.StartContainer(ctx, id); err != nil {
		w.startFailed(ctx, pod, c, id, init, err)
		return
	}
	rec.eventf(n.name, ref, corev1.EventTypeNormal, reasonStarted, "Started container %s", c.Name)
}

func (w *podWorker) startFailed(ctx context.Context, pod *corev1.Pod, c *corev1.Container, id string, init bool, err error) {
	if ctx.Err() != nil {
		return // shutting down: the next kubelet starts it
	}
	n := w.n
	w.waiting[c.Name] = waitingState{reason: waitRunContainerError, message: err.Error()}
	n.k.recorder.eventf(n.name, podRef(pod, c.Name, init), corev1.EventTypeWarning, reasonFailed, "Error: failed to start container %q: %v", c.Name, err)
	_ = n.rt.RemoveContainer(ctx, id)
	w.retryLater(c.Name)
}

// retryLater backs off a container whose start failed and wakes the
// worker when the back-off ends.
func (w *podWorker) retryLater(name string) {
	key := w.uid + "/start/" + name
	d := w.n.backoff.next(key, time.Now())
	w.wakeAt(time.Now().Add(d))
}

// ensureImage makes the container's image present as its pull policy
// says, reporting Pulling/Pulled/Failed/BackOff; false when it is not.
func (w *podWorker) ensureImage(ctx context.Context, pod *corev1.Pod, c *corev1.Container, init bool) bool {
	n := w.n
	rec := n.k.recorder
	ref := podRef(pod, c.Name, init)
	_, statErr := n.rt.ImageStatus(ctx, c.Image)
	present := statErr == nil
	policy := c.ImagePullPolicy
	if policy == "" {
		policy = corev1.PullIfNotPresent
	}
	switch {
	case policy == corev1.PullNever && !present:
		msg := fmt.Sprintf("Container image %q is not present with pull policy of Never", c.Image)
		w.waiting[c.Name] = waitingState{reason: waitErrImageNeverPull, message: msg}
		rec.eventf(n.name, ref, corev1.EventTypeWarning, reasonNeverPull, "%s", msg)
		return false
	case policy != corev1.PullAlways && present:
		rec.eventf(n.name, ref, corev1.EventTypeNormal, reasonPulled, "Container image %q already present on machine", c.Image)
		return true
	}
	key := w.uid + "/pull/" + c.Image
	if in, until := n.backoff.inBackOffSinceUpdate(key); in {
		msg := fmt.Sprintf("Back-off pulling image %q", c.Image)
		w.waiting[c.Name] = waitingState{reason: waitImagePullBackOff, message: msg}
		rec.eventf(n.name, ref, corev1.EventTypeNormal, reasonBackOff, "%s", msg)
		w.wakeAt(until)
		return false
	}
	rec.eventf(n.name, ref, corev1.EventTypeNormal, reasonPulling, "Pulling image %q", c.Image)
	start := time.Now()
	if _, err := n.rt.PullImage(ctx, c.Image, nil); err != nil {
		if ctx.Err() != nil {
			return false
		}
		d := n.backoff.next(key, time.Now())
		w.waiting[c.Name] = waitingState{reason: waitErrImagePull, message: err.Error()}
		rec.eventf(n.name, ref, corev1.EventTypeWarning, reasonFailed, "Failed to pull image %q: %v", c.Image, err)
		rec.eventf(n.name, ref, corev1.EventTypeWarning, reasonFailed, "Error: %s", waitErrImagePull)
		w.wakeAt(time.Now().Add(d))
		return false
	}
	took := time.Since(start).Round(time.Millisecond)
	rec.eventf(n.name, ref, corev1.EventTypeNormal, reasonPulled, "Successfully pulled image %q in %s (%s including waiting)", c.Image, took, took)
	return true
}

// containerHash hashes the parts of a container's spec whose change needs
// a new container.
func containerHash(c *corev1.Container) string {
	cp := *c
	// Probes and resources do not need a restart.
	cp.LivenessProbe, cp.ReadinessProbe, cp.StartupProbe = nil, nil, nil
	cp.Resources = corev1.ResourceRequirements{}
	data, _ := json.Marshal(&cp)
	h := fnv.New32a()
	_, _ = h.Write(data)
	return strconv.FormatUint(uint64(h.Sum32()), 16)
}

// collectGarbage removes exited containers the pod no longer needs: for
// each name it keeps the newest container and the newest exited one
// before it (for lastState and logs --previous); and old sandboxes left
// with no container.
func (w *podWorker) collectGarbage(ctx context.Context, pr *podRuntime) {
	rt := w.n.rt
	inUse := map[string]bool{}
	if sb := pr.readySandbox(); sb != nil {
		inUse[sb.ID] = true
	}
	for _, list := range pr.byName {
		kept := 0
		for i, c := range list {
			if i == 0 || (c.State == runtime.ContainerExited && kept < 2) || c.State != runtime.ContainerExited {
				kept++
				inUse[c.SandboxID] = true
				continue
			}
			if err := rt.RemoveContainer(ctx, c.ID); err != nil {
				w.n.log.Debug("cannot remove old container", "container", c.ID, "err", err)
			}
		}
	}
	for _, sb := range pr.sandboxes {
		if !inUse[sb.ID] && sb.State != runtime.SandboxReady {
			if err := rt.RemovePodSandbox(ctx, sb.ID); err != nil {
				w.n.log.Debug("cannot remove old sandbox", "sandbox", sb.ID, "err", err)
			}
		}
	}
}

func portMapping(p corev1.ContainerPort) runtime.PortMapping {
	proto := string(p.Protocol)
	if proto == "" {
		proto = string(corev1.ProtocolTCP)
	}
	return runtime.PortMapping{Protocol: proto, ContainerPort: p.ContainerPort, HostPort: p.HostPort, HostIP: p.HostIP}
}
