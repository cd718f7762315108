package scheduler

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/scheduler/framework"
	"github.com/kl-dev/kl/pkg/scheduler/internal/queue"
)

// Bounds of the search for feasible nodes, Kubernetes' values.
const (
	minFeasibleNodesToFind           = 100
	minFeasibleNodesPercentageToFind = 5
)

// scheduleOne takes the next pod off the queue, picks its node, assumes
// the pod there and starts the bind; the next cycle starts without waiting
// for the bind.
func (r *run) scheduleOne(ctx context.Context) {
	qpi, err := r.queue.Pop(ctx)
	if err != nil {
		return // ctx cancelled
	}
	pod := qpi.Pod
	if pod.DeletionTimestamp != nil || r.cache.IsAssumed(pod) {
		// Being deleted, or an old version of a pod already placed.
		r.queue.Done(pod)
		return
	}
	start := time.Now()
	r.cache.UpdateSnapshot(r.snapshot)
	node, err := r.schedulePod(ctx, pod)
	r.s.metrics.algorithm.Observe(time.Since(start).Seconds())
	if err != nil {
		r.handleFailure(ctx, qpi, err, start)
		return
	}

	// Assume: count the pod on its node now, so the next cycle sees it.
	assumed := *pod
	assumed.Spec.NodeName = node
	if err := r.cache.AssumePod(&assumed); err != nil {
		r.handleFailure(ctx, qpi, err, start)
		return
	}
	if !r.goWrite(ctx, func() { r.bind(ctx, qpi, &assumed, start) }) {
		_ = r.cache.ForgetPod(&assumed)
		r.queue.Done(pod)
	}
}

// goWrite hands write (a bind or a status update) to one of the
// BindConcurrency writer goroutines, so that the scheduling loop never
// waits for a round trip unless that many are in flight. It reports false,
// without running write, if ctx ends first.
func (r *run) goWrite(ctx context.Context, write func()) bool {
	select {
	case r.writes <- write:
		return true
	case <-ctx.Done():
		return false
	}
}

// schedulePod returns the node pod should go to, or a *framework.FitError
// saying why none fits, or another error.
func (r *run) schedulePod(ctx context.Context, pod *corev1.Pod) (string, error) {
	nodes := r.snapshot.List()
	if len(nodes) == 0 {
		return "", &framework.FitError{Pod: pod}
	}
	state := framework.NewCycleState(r.cache.PodInfo(pod))
	if st := r.fw.RunPreFilterPlugins(ctx, state, pod); !st.IsSuccess() {
		if st.IsUnschedulable() {
			return "", &framework.FitError{Pod: pod, NumAllNodes: len(nodes), Diagnosis: framework.Diagnosis{PreFilterMsg: st.Message()}}
		}
		return "", fmt.Errorf("prefilter plugin %s: %w", st.Plugin(), st.AsError())
	}
	feasible, diagnosis, err := r.findFeasibleNodes(ctx, state, pod, nodes)
	if err != nil {
		return "", err
	}
	switch len(feasible) {
	case 0:
		return "", &framework.FitError{Pod: pod, NumAllNodes: len(nodes), Diagnosis: diagnosis}
	case 1:
		return feasible[0].Name(), nil
	}
	if st := r.fw.RunPreScorePlugins(ctx, state, pod, feasible); !st.IsSuccess() {
		return "", fmt.Errorf("prescore plugin %s: %w", st.Plugin(), st.AsError())
	}
	scores, st := r.fw.RunScorePlugins(ctx, state, pod, feasible)
	if !st.IsSuccess() {
		return "", fmt.Errorf("score plugin %s: %w", st.Plugin(), st.AsError())
	}
	return selectHost(feasible, scores), nil
}

// findFeasibleNodes runs the filters over the nodes, on Parallelism
// goroutines, starting at a rotating offset and stopping once enough nodes
// fit (numFeasibleNodesToFind). When too few fit, every node was filtered
// and the diagnosis says why each one failed.
func (r *run) findFeasibleNodes(ctx context.Context, state *framework.CycleState, pod *corev1.Pod, nodes []*framework.NodeInfo) ([]*framework.NodeInfo, framework.Diagnosis, error) {
	n := len(nodes)
	want := r.numFeasibleNodesToFind(n)
	feasible := make([]*framework.NodeInfo, want)
	statuses := make([]*framework.Status, n) // by position relative to the start
	var found atomic.Int32
	var stop atomic.Bool
	var firstErr atomic.Pointer[framework.Status]
	start := r.nextStartNode % n

	check := func(i int) {
		ni := nodes[(start+i)%n]
		st := r.fw.RunFilterPlugins(ctx, state, pod, ni)
		switch {
		case st.IsSuccess():
			k := int(found.Add(1))
			if k > want {
				stop.Store(true)
				return
			}
			feasible[k-1] = ni
			if k == want {
				stop.Store(true)
			}
		case st.IsUnschedulable():
			statuses[i] = st
		default:
			firstErr.CompareAndSwap(nil, st)
			stop.Store(true)
		}
	}
	parallelize(r.s.cfg.Parallelism, n, &stop, check)

	if st := firstErr.Load(); st != nil {
		return nil, framework.Diagnosis{}, fmt.Errorf("filter plugin %s: %w", st.Plugin(), st.AsError())
	}
	diagnosis := framework.Diagnosis{NodeToStatus: map[string]*framework.Status{}}
	for i, st := range statuses {
		if st != nil {
			diagnosis.NodeToStatus[nodes[(start+i)%n].Name()] = st
		}
	}
	feasible = feasible[:min(int(found.Load()), want)]
	r.nextStartNode = (start + len(feasible) + len(diagnosis.NodeToStatus)) % n
	return feasible, diagnosis, nil
}

// numFeasibleNodesToFind is how many feasible nodes are enough to choose
// from among n: all below 100 nodes, else PercentageOfNodesToScore of them
// (adaptive when 0), at least 100.
func (r *run) numFeasibleNodesToFind(n int) int {
	if n < minFeasibleNodesToFind {
		return n
	}
	pct := r.s.cfg.PercentageOfNodesToScore
	if pct == 0 {
		pct = max(50-n/125, minFeasibleNodesPercentageToFind)
	}
	return max(n*pct/100, minFeasibleNodesToFind)
}

// parallelize calls fn(i) for i in [0, n) on up to workers goroutines,
// handing out chunks of indexes, until done or stop is set.
func parallelize(workers, n int, stop *atomic.Bool, fn func(i int)) {
	chunk := max(1, min(int(math.Sqrt(float64(n))), n/workers+1))
	workers = min(workers, (n+chunk-1)/chunk)
	if workers <= 1 {
		for i := 0; i < n && !stop.Load(); i++ {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for !stop.Load() {
				lo := int(next.Add(int64(chunk))) - chunk
				if lo >= n {
					return
				}
				for i := lo; i < min(lo+chunk, n) && !stop.Load(); i++ {
					fn(i)
				}
			}
		})
	}
	wg.Wait()
}

// selectHost returns the node with the highest score, picking at random
// among equals (reservoir sampling) so that equal nodes share the load.
func selectHost(nodes []*framework.NodeInfo, scores []int64) string {
	best, ties := 0, 1
	for i := 1; i < len(nodes); i++ {
		switch {
		case scores[i] > scores[best]:
			best, ties = i, 1
		case scores[i] == scores[best]:
			ties++
			if rand.IntN(ties) == 0 {
				best = i
			}
		}
	}
	return nodes[best].Name()
}

// bind posts the pod's Binding. On success the pod's attempt is done (the
// informer's update will confirm the assumption); on failure the
// assumption is forgotten and the pod retried after a back-off.
func (r *run) bind(ctx context.Context, qpi *queue.QueuedPodInfo, assumed *corev1.Pod, start time.Time) {
	pod := qpi.Pod
	binding := &corev1.Binding{
		TypeMeta:   meta.TypeMeta{APIVersion: "v1", Kind: "Binding"},
		ObjectMeta: meta.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: assumed.Spec.NodeName},
	}
	err := r.s.pods.Namespace(pod.Namespace).CreateSubresource(ctx, pod.Name, "binding", binding, nil, client.CreateOptions{})
	if err == nil {
		r.s.metrics.attempts.WithLabelValues(resultScheduled).Inc()
		r.s.metrics.e2eDuration.WithLabelValues(resultScheduled).Observe(time.Since(start).Seconds())
		r.queue.Done(pod)
		r.log.Debug("bound pod", "pod", corev1.PodKey(pod), "node", assumed.Spec.NodeName)
		r.scheduledEvent(pod, assumed.Spec.NodeName)
		return
	}
	if ferr := r.cache.ForgetPod(assumed); ferr != nil {
		r.log.Debug("forget assumed pod", "pod", corev1.PodKey(pod), "err", ferr)
	}
	if ctx.Err() != nil {
		r.queue.Done(pod) // stopping: the next leader schedules it
		return
	}
	r.s.metrics.attempts.WithLabelValues(resultError).Inc()
	r.s.metrics.e2eDuration.WithLabelValues(resultError).Observe(time.Since(start).Seconds())
	if meta.IsConflict(err) || meta.IsNotFound(err) {
		// Bound by someone else, being deleted, or gone: the informer
		// tells the rest.
		r.log.Debug("binding refused", "pod", corev1.PodKey(pod), "err", err)
		r.queue.Done(pod)
		r.queue.MoveAllToActiveOrBackoff() // the assumed resources are free again
		return
	}
	r.log.Warn("binding failed; retrying after a back-off", "pod", corev1.PodKey(pod), "node", assumed.Spec.NodeName, "err", err)
	r.queue.Requeue(qpi, false)
	r.queue.MoveAllToActiveOrBackoff()
	r.recorder.event(pod, corev1.EventTypeWarning, reasonFailedScheduling, fmt.Sprintf("Binding rejected: %v", err))
}

// scheduledEvent records the Normal event Scheduled for a bound pod,
// within the rate limit: a burst of binds beyond it goes without events
// rather than doubling the apiserver's work (each event is a write).
func (r *run) scheduledEvent(pod *corev1.Pod, node string) {
	if r.s.cfg.SkipScheduledEvents {
		return
	}
	if !r.scheduledEvents.AllowN(r.s.cfg.Clock.Now(), 1) {
		r.s.metrics.eventsDropped.Inc()
		return
	}
	r.recorder.event(pod, corev1.EventTypeNormal, reasonScheduled,
		fmt.Sprintf("Successfully assigned %s/%s to %s", pod.Namespace, pod.Name, node))
}

// handleFailure requeues a pod no node fits (or that failed with an
// error), records a FailedScheduling event and sets its PodScheduled
// condition to False.
func (r *run) handleFailure(ctx context.Context, qpi *queue.QueuedPodInfo, err error, start time.Time) {
	pod := qpi.Pod
	var fitErr *framework.FitError
	unschedulable := errors.As(err, &fitErr)
	result, reason := resultError, corev1.PodReasonSchedulerError
	if unschedulable {
		result, reason = resultUnschedulable, corev1.PodReasonUnschedulable
		r.log.Debug("pod does not fit any node", "pod", corev1.PodKey(pod), "reason", err)
	} else {
		r.log.Warn("scheduling failed; retrying after a back-off", "pod", corev1.PodKey(pod), "err", err)
	}
	r.s.metrics.attempts.WithLabelValues(result).Inc()
	r.s.metrics.e2eDuration.WithLabelValues(result).Observe(time.Since(start).Seconds())
	r.queue.Requeue(qpi, unschedulable)

	msg := err.Error()
	r.recorder.event(pod, corev1.EventTypeWarning, reasonFailedScheduling, msg)
	cond := corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: reason, Message: msg}
	if !conditionChanged(pod, cond) {
		return
	}
	r.goWrite(ctx, func() { r.setCondition(ctx, pod, cond) })
}

// conditionChanged reports whether setting cond would change the pod's
// status (only then is it written).
func conditionChanged(pod *corev1.Pod, cond corev1.PodCondition) bool {
	_, cur := corev1.GetPodCondition(&pod.Status, cond.Type)
	return cur == nil || cur.Status != cond.Status || cur.Reason != cond.Reason || cur.Message != cond.Message
}

// setCondition writes cond into the pod's status (PUT pods/NAME/status),
// reading the pod again on a conflict; a pod bound or deleted meanwhile is
// left alone.
func (r *run) setCondition(ctx context.Context, pod *corev1.Pod, cond corev1.PodCondition) {
	pods := r.s.pods.Namespace(pod.Namespace)
	for range 3 {
		cp := pod.DeepCopy()
		c := cond
		c.LastTransitionTime = meta.NewTime(r.s.cfg.Clock.Now())
		if !corev1.UpdatePodCondition(&cp.Status, &c) {
			return
		}
		_, err := pods.UpdateStatus(ctx, cp, client.UpdateOptions{})
		if err == nil || meta.IsNotFound(err) || ctx.Err() != nil {
			return
		}
		if !meta.IsConflict(err) {
			r.log.Warn("could not update pod status", "pod", corev1.PodKey(pod), "err", err)
			return
		}
		if pod, err = pods.Get(ctx, pod.Name); err != nil || assigned(pod) || pod.UID != cp.UID {
			return
		}
	}
}
