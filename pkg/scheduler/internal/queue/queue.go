// Package queue is the scheduler's queue of pods waiting for a node,
// Kubernetes' PriorityQueue in small. A pending pod is in exactly one of:
//
//   - activeQ: ready to be tried, highest spec.priority first, then oldest
//     (creation time, then arrival);
//   - backoffQ: failed recently and waits out its back-off, which doubles
//     with every attempt from InitialBackoff up to MaxBackoff, before it
//     returns to activeQ;
//   - unschedulable: no node fitted at its last attempt; it waits for the
//     cluster to change (MoveAllToActiveOrBackoff: a node added or changed,
//     a pod deleted or finished) or, as a safety net, for
//     UnschedulableTimeout;
//   - in flight: handed out by Pop and being scheduled or bound, until Done
//     or Requeue.
//
// Time comes from a clock.Clock, so tests drive back-off with a fake clock.
package queue

import (
	"container/heap"
	"context"
	"maps"
	"reflect"
	"sync"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/client/clock"
)

// Defaults of Config.
const (
	DefaultInitialBackoff       = time.Second
	DefaultMaxBackoff           = 10 * time.Second
	DefaultUnschedulableTimeout = 30 * time.Second
)

// Config configures a Queue.
type Config struct {
	// Clock tells the time (default: the real clock).
	Clock clock.Clock
	// InitialBackoff is the back-off after a pod's first failed attempt; it
	// doubles with each further attempt up to MaxBackoff (defaults 1s, 10s).
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	// UnschedulableTimeout is the longest a pod waits for a cluster change
	// before it is tried again anyway (default 30s).
	UnschedulableTimeout time.Duration
}

// QueuedPodInfo is a pod in the queue with its scheduling history.
type QueuedPodInfo struct {
	Pod *corev1.Pod
	// Attempts counts the times Pop handed the pod out.
	Attempts int
	// Timestamp is when the pod entered the queue or last failed.
	Timestamp time.Time
	// InitialAttemptTimestamp is when Pop first handed the pod out.
	InitialAttemptTimestamp time.Time
	// Cycle is the scheduling cycle of the current attempt (set by Pop).
	Cycle int64

	seq   uint64 // arrival order, the last tie-break in activeQ
	index int    // position in its heap
	where location
}

type location int

const (
	inNone location = iota
	inActive
	inBackoff
	inUnschedulable
)

// inFlight is what the queue learns about a pod while it is handed out.
type inFlight struct {
	pod     *corev1.Pod // the latest version seen
	updated bool        // its spec or labels changed meanwhile
	deleted bool
}

// Lengths are the number of pods in each part of the queue.
type Lengths struct {
	Active, Backoff, Unschedulable int
}

// Queue is safe for concurrent use; Pop is meant for one consumer.
type Queue struct {
	cfg   Config
	clock clock.Clock

	mu            sync.Mutex
	pods          map[string]*QueuedPodInfo // every queued pod (not in flight)
	active        *podHeap
	backoff       *podHeap
	unschedulable map[string]*QueuedPodInfo
	inFlight      map[string]*inFlight
	// cycle counts Pops; moveRequestCycle is the cycle at the last
	// cluster change. A pod whose attempt started no later than a change
	// goes to backoffQ rather than unschedulable when it fails: its
	// failure may predate the change.
	cycle            int64
	moveRequestCycle int64
	seq              uint64
	// nextTimeout is no later than the earliest UnschedulableTimeout of a
	// pod in unschedulable (zero if none), so Pop scans them only then.
	nextTimeout time.Time

	wake chan struct{}
}

// New returns an empty queue.
func New(cfg Config) *Queue {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.InitialBackoff <= 0 {
		cfg.InitialBackoff = DefaultInitialBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.UnschedulableTimeout <= 0 {
		cfg.UnschedulableTimeout = DefaultUnschedulableTimeout
	}
	q := &Queue{
		cfg:           cfg,
		clock:         cfg.Clock,
		pods:          map[string]*QueuedPodInfo{},
		unschedulable: map[string]*QueuedPodInfo{},
		inFlight:      map[string]*inFlight{},
		wake:          make(chan struct{}, 1),
	}
	q.active = &podHeap{less: activeLess}
	q.backoff = &podHeap{less: func(a, b *QueuedPodInfo) bool { return q.backoffExpiry(a).Before(q.backoffExpiry(b)) }}
	return q
}

// activeLess orders activeQ: higher priority, then older, then arrival.
func activeLess(a, b *QueuedPodInfo) bool {
	pa, pb := priority(a.Pod), priority(b.Pod)
	if pa != pb {
		return pa > pb
	}
	ta, tb := a.Pod.CreationTimestamp.Time, b.Pod.CreationTimestamp.Time
	if !ta.Equal(tb) {
		return ta.Before(tb)
	}
	return a.seq < b.seq
}

func priority(pod *corev1.Pod) int32 {
	if pod.Spec.Priority == nil {
		return 0
	}
	return *pod.Spec.Priority
}

// Add queues a new pending pod in activeQ (or updates it if known).
func (q *Queue) Add(pod *corev1.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.updateLocked(pod) {
		return
	}
	q.seq++
	q.pushLocked(&QueuedPodInfo{Pod: pod, Timestamp: q.clock.Now(), seq: q.seq}, inActive)
}

// Update records a new version of a pending pod (and queues it if it was
// unknown). A pod waiting for a cluster change is tried again if its spec,
// labels or annotations changed, not for status-only updates such as the
// scheduler's own.
func (q *Queue) Update(pod *corev1.Pod) { q.Add(pod) }

// updateLocked updates a known pod and reports whether it was known.
func (q *Queue) updateLocked(pod *corev1.Pod) bool {
	key := corev1.PodKey(pod)
	if f, ok := q.inFlight[key]; ok {
		switch {
		case pod.UID != f.pod.UID: // deleted and created again under the same name
			f.deleted, f.updated = false, true
		case podUpdated(f.pod, pod):
			f.updated = true
		}
		f.pod = pod
		return true
	}
	qpi, ok := q.pods[key]
	if !ok {
		return false
	}
	old := qpi.Pod
	qpi.Pod = pod
	switch qpi.where {
	case inActive:
		heap.Fix(q.active, qpi.index)
	case inUnschedulable:
		if podUpdated(old, pod) {
			q.moveLocked(qpi, q.clock.Now())
		}
	}
	return true
}

// Delete removes a pod that was deleted, or bound by someone else.
func (q *Queue) Delete(pod *corev1.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	key := corev1.PodKey(pod)
	if f, ok := q.inFlight[key]; ok {
		f.deleted = true
		return
	}
	if qpi, ok := q.pods[key]; ok {
		q.removeLocked(qpi)
	}
}

// Pop waits for a pod in activeQ and hands it out; it is then in flight
// until Done or Requeue. It returns ctx's error when ctx ends first.
func (q *Queue) Pop(ctx context.Context) (*QueuedPodInfo, error) {
	for {
		q.mu.Lock()
		now := q.clock.Now()
		q.flushLocked(now)
		if q.active.Len() > 0 {
			qpi := q.popActiveLocked(now)
			q.mu.Unlock()
			return qpi, nil
		}
		wait, timed := q.nextDeadlineLocked(now)
		q.mu.Unlock()

		var timer clock.Timer
		var fired <-chan time.Time
		if timed {
			timer = q.clock.NewTimer(wait)
			fired = timer.C()
		}
		select {
		case <-q.wake:
		case <-fired:
		case <-ctx.Done():
		}
		if timer != nil {
			timer.Stop()
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

func (q *Queue) popActiveLocked(now time.Time) *QueuedPodInfo {
	qpi := heap.Pop(q.active).(*QueuedPodInfo)
	qpi.where = inNone
	delete(q.pods, corev1.PodKey(qpi.Pod))
	q.cycle++
	qpi.Cycle = q.cycle
	qpi.Attempts++
	if qpi.InitialAttemptTimestamp.IsZero() {
		qpi.InitialAttemptTimestamp = now
	}
	q.inFlight[corev1.PodKey(qpi.Pod)] = &inFlight{pod: qpi.Pod}
	return qpi
}

// Done ends a pod's attempt without requeueing it (it was bound, or
// dropped).
func (q *Queue) Done(pod *corev1.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	key := corev1.PodKey(pod)
	f, ok := q.inFlight[key]
	delete(q.inFlight, key)
	if ok && !f.deleted && f.pod.UID != pod.UID && f.pod.Spec.NodeName == "" {
		// A new pod of the same name arrived during the attempt.
		q.seq++
		q.pushLocked(&QueuedPodInfo{Pod: f.pod, Timestamp: q.clock.Now(), seq: q.seq}, inActive)
	}
}

// Requeue ends a failed attempt. The latest version of the pod seen while
// it was in flight goes to backoffQ when the attempt failed with an error,
// when the cluster changed or the pod was updated during the attempt, and
// to unschedulable otherwise. A pod deleted or bound meanwhile is dropped.
func (q *Queue) Requeue(qpi *QueuedPodInfo, unschedulable bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	key := corev1.PodKey(qpi.Pod)
	f, ok := q.inFlight[key]
	delete(q.inFlight, key)
	updated := false
	if ok {
		if f.deleted {
			return
		}
		qpi.Pod, updated = f.pod, f.updated
	}
	if qpi.Pod.Spec.NodeName != "" {
		return // bound meanwhile
	}
	if _, queued := q.pods[key]; queued {
		return
	}
	qpi.Timestamp = q.clock.Now()
	if !unschedulable || updated || q.moveRequestCycle >= qpi.Cycle {
		q.pushLocked(qpi, inBackoff)
	} else {
		q.pushLocked(qpi, inUnschedulable)
	}
}

// MoveAllToActiveOrBackoff tells the queue the cluster changed in a way
// that may let unschedulable pods fit: they go to activeQ, or to backoffQ
// if their back-off has not passed yet.
func (q *Queue) MoveAllToActiveOrBackoff() {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.clock.Now()
	for _, qpi := range q.unschedulable {
		q.moveLocked(qpi, now)
	}
	q.moveRequestCycle = q.cycle
}

// Len returns the number of queued pods (not counting those in flight).
func (q *Queue) Len() Lengths {
	q.mu.Lock()
	defer q.mu.Unlock()
	return Lengths{Active: q.active.Len(), Backoff: q.backoff.Len(), Unschedulable: len(q.unschedulable)}
}

// BackoffDuration is the back-off after a pod's attempts-th failed
// attempt: InitialBackoff doubled attempts-1 times, at most MaxBackoff.
func (q *Queue) BackoffDuration(attempts int) time.Duration {
	d := q.cfg.InitialBackoff
	for i := 1; i < attempts; i++ {
		d *= 2
		if d >= q.cfg.MaxBackoff {
			return q.cfg.MaxBackoff
		}
	}
	return d
}

func (q *Queue) backoffExpiry(qpi *QueuedPodInfo) time.Time {
	return qpi.Timestamp.Add(q.BackoffDuration(qpi.Attempts))
}

// moveLocked moves a pod out of unschedulable after a cluster change.
func (q *Queue) moveLocked(qpi *QueuedPodInfo, now time.Time) {
	q.removeLocked(qpi)
	if q.backoffExpiry(qpi).After(now) {
		q.pushLocked(qpi, inBackoff)
	} else {
		q.pushLocked(qpi, inActive)
	}
}

func (q *Queue) pushLocked(qpi *QueuedPodInfo, where location) {
	qpi.where = where
	q.pods[corev1.PodKey(qpi.Pod)] = qpi
	switch where {
	case inActive:
		heap.Push(q.active, qpi)
	case inBackoff:
		heap.Push(q.backoff, qpi)
	case inUnschedulable:
		q.unschedulable[corev1.PodKey(qpi.Pod)] = qpi
		if t := qpi.Timestamp.Add(q.cfg.UnschedulableTimeout); q.nextTimeout.IsZero() || t.Before(q.nextTimeout) {
			q.nextTimeout = t
		}
	}
	select { // wake Pop: it may have something to hand out or a new deadline
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *Queue) removeLocked(qpi *QueuedPodInfo) {
	key := corev1.PodKey(qpi.Pod)
	switch qpi.where {
	case inActive:
		heap.Remove(q.active, qpi.index)
	case inBackoff:
		heap.Remove(q.backoff, qpi.index)
	case inUnschedulable:
		delete(q.unschedulable, key)
	}
	qpi.where = inNone
	delete(q.pods, key)
}

// flushLocked moves pods whose back-off has passed to activeQ, and pods
// unschedulable for UnschedulableTimeout out of unschedulable.
func (q *Queue) flushLocked(now time.Time) {
	for q.backoff.Len() > 0 {
		head := q.backoff.items[0]
		if q.backoffExpiry(head).After(now) {
			break
		}
		q.removeLocked(head)
		q.pushLocked(head, inActive)
	}
	if q.nextTimeout.IsZero() || q.nextTimeout.After(now) {
		return
	}
	q.nextTimeout = time.Time{}
	for _, qpi := range q.unschedulable {
		t := qpi.Timestamp.Add(q.cfg.UnschedulableTimeout)
		if !t.After(now) {
			q.moveLocked(qpi, now)
		} else if q.nextTimeout.IsZero() || t.Before(q.nextTimeout) {
			q.nextTimeout = t
		}
	}
}

// nextDeadlineLocked returns how long until flushLocked has work, and
// false if nothing is waiting on time.
func (q *Queue) nextDeadlineLocked(now time.Time) (time.Duration, bool) {
	var next time.Time
	if q.backoff.Len() > 0 {
		next = q.backoffExpiry(q.backoff.items[0])
	}
	if t := q.nextTimeout; !t.IsZero() && (next.IsZero() || t.Before(next)) {
		next = t
	}
	if next.IsZero() {
		return 0, false
	}
	return next.Sub(now), true
}

// podUpdated reports whether a pod changed in a way that may change where
// it fits (anything but status and bookkeeping metadata).
func podUpdated(old, new *corev1.Pod) bool {
	return !reflect.DeepEqual(old.Spec, new.Spec) ||
		!maps.Equal(old.Labels, new.Labels) ||
		!maps.Equal(old.Annotations, new.Annotations) ||
		(old.DeletionTimestamp == nil) != (new.DeletionTimestamp == nil)
}

// podHeap is a binary heap of queued pods that tracks each one's index.
type podHeap struct {
	items []*QueuedPodInfo
	less  func(a, b *QueuedPodInfo) bool
}

func (h *podHeap) Len() int           { return len(h.items) }
func (h *podHeap) Less(i, j int) bool { return h.less(h.items[i], h.items[j]) }
func (h *podHeap) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.items[i].index = i
	h.items[j].index = j
}

func (h *podHeap) Push(x any) {
	qpi := x.(*QueuedPodInfo)
	qpi.index = len(h.items)
	h.items = append(h.items, qpi)
}

func (h *podHeap) Pop() any {
	last := len(h.items) - 1
	qpi := h.items[last]
	h.items[last] = nil
	h.items = h.items[:last]
	return qpi
}
