package kubelet

import (
	"context"
	"sync"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/kubelet/prober"
	"github.com/kl-dev/kl/pkg/kubelet/runtime"
)

// probeResult is the state of one probe of one container.
type probeResult int

const (
	// resultUnknown: no verdict yet (the probe's initial state). A
	// readiness probe's container is not ready, a startup probe's not
	// started, a liveness probe's alive.
	resultUnknown probeResult = iota
	resultPassed
	resultFailed
)

type probeKey struct {
	containerID string
	typ         prober.ProbeType
}

// probeManager runs one goroutine per probe of each running container,
// as Kubernetes' prober workers do, and keeps their verdicts. A change of
// verdict wakes the pod's worker, which reads it when it computes
// readiness and decides about restarts.
type probeManager struct {
	n *node

	mu      sync.Mutex
	workers map[probeKey]*probeWorker
	results map[probeKey]probeResult
}

type probeWorker struct {
	key    probeKey
	podUID string
	cancel context.CancelFunc
	done   chan struct{}
}

func newProbeManager(n *node) *probeManager {
	return &probeManager{n: n, workers: map[probeKey]*probeWorker{}, results: map[probeKey]probeResult{}}
}

// result returns the verdict of a probe of a container.
func (m *probeManager) result(containerID string, typ prober.ProbeType) probeResult {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.results[probeKey{containerID, typ}]
}

func (m *probeManager) set(key probeKey, r probeResult) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, running := m.workers[key]; !running {
		return false // the container went meanwhile
	}
	if m.results[key] == r {
		return false
	}
	m.results[key] = r
	return true
}

// reconcile starts probe workers for the pod's running containers and
// stops those of containers that are no longer running.
func (m *probeManager) reconcile(ctx context.Context, pod *corev1.Pod, pr *podRuntime) {
	want := map[probeKey]func(context.Context){}
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		latest := pr.latest(c.Name)
		if latest == nil || latest.State != runtime.ContainerRunning {
			continue
		}
		for _, p := range []struct {
			typ   prober.ProbeType
			probe *corev1.Probe
		}{{prober.Startup, c.StartupProbe}, {prober.Liveness, c.LivenessProbe}, {prober.Readiness, c.ReadinessProbe}} {
			if p.probe == nil {
				continue
			}
			key := probeKey{latest.ID, p.typ}
			req := prober.Request{Type: p.typ, Probe: p.probe, Pod: pod, Container: c, ContainerID: latest.ID, PodIP: pr.podIP()}
			startedAt := latest.StartedAt
			hasStartup := c.StartupProbe != nil
			want[key] = func(ctx context.Context) { m.runWorker(ctx, key, req, startedAt, hasStartup) }
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for key, w := range m.workers {
		if w.podUID != pod.UID {
			continue
		}
		if _, ok := want[key]; !ok {
			m.stopLocked(w)
		}
	}
	for key, run := range want {
		if _, ok := m.workers[key]; ok {
			continue
		}
		ctx, cancel := context.WithCancel(ctx)
		w := &probeWorker{key: key, podUID: pod.UID, cancel: cancel, done: make(chan struct{})}
		m.workers[key] = w
		go func() {
			defer close(w.done)
			run(ctx)
		}()
	}
}

func (pr *podRuntime) podIP() string {
	if sb := pr.readySandbox(); sb != nil {
		return sb.IP
	}
	return ""
}

func (m *probeManager) stopLocked(w *probeWorker) {
	w.cancel()
	delete(m.workers, w.key)
	delete(m.results, w.key)
}

// removeContainer stops the probes of a container.
func (m *probeManager) removeContainer(containerID string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for key, w := range m.workers {
		if key.containerID == containerID {
			m.stopLocked(w)
		}
	}
}

// removePod stops the probes of a pod's containers.
func (m *probeManager) removePod(uid string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, w := range m.workers {
		if w.podUID == uid {
			m.stopLocked(w)
		}
	}
}

// stopAll stops every probe worker and waits for them.
func (m *probeManager) stopAll() {
	m.mu.Lock()
	var done []chan struct{}
	for _, w := range m.workers {
		done = append(done, w.done)
		m.stopLocked(w)
	}
	m.mu.Unlock()
	for _, d := range done {
		<-d
	}
}

// runWorker probes every periodSeconds (the first time at once, none
// before initialDelaySeconds after the container started) and sets the
// verdict after successThreshold successes or failureThreshold failures
// in a row. Liveness and readiness probes wait for the startup probe to
// pass; a startup probe stops once it has.
func (m *probeManager) runWorker(ctx context.Context, key probeKey, req prober.Request, startedAt time.Time, hasStartup bool) {
	n := m.n
	p := req.Probe
	period := time.Duration(max(p.PeriodSeconds, 1)) * time.Second
	timeout := time.Duration(max(p.TimeoutSeconds, 1)) * time.Second
	successThreshold, failureThreshold := max(p.SuccessThreshold, 1), max(p.FailureThreshold, 1)
	if req.Type != prober.Readiness {
		successThreshold = 1 // Kubernetes requires 1 for liveness and startup
	}
	initialDelay := time.Duration(p.InitialDelaySeconds) * time.Second
	ticker := time.NewTicker(period)
	defer ticker.Stop()
	var last prober.Result
	streak := int32(0)
	for {
		ready := time.Since(startedAt) >= initialDelay
		if ready && req.Type != prober.Startup && hasStartup && m.result(key.containerID, prober.Startup) != resultPassed {
			ready = false
		}
		if ready {
			pctx, cancel := context.WithTimeout(ctx, timeout)
			res, out, err := n.prober.Probe(pctx, req)
			cancel()
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				res = prober.Failure
				if out == "" {
					out = err.Error()
				}
			}
			if res == last {
				streak++
			} else {
				last, streak = res, 1
			}
			if res == prober.Failure {
				n.k.recorder.eventf(n.name, podRef(req.Pod, req.Container.Name, false), corev1.EventTypeWarning, reasonUnhealthy,
					"%s probe failed: %s", req.Type, out)
			}
			verdict := resultUnknown
			switch {
			case res == prober.Success && streak >= successThreshold:
				verdict = resultPassed
			case res == prober.Failure && streak >= failureThreshold:
				verdict = resultFailed
			}
			if verdict != resultUnknown && m.set(key, verdict) {
				n.wake(req.Pod.UID)
			}
			if req.Type == prober.Startup && verdict == resultPassed {
				return // a startup probe is done once it passes
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}
