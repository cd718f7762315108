package workqueue

import (
	"container/heap"
	"sync"
	"time"

	"github.com/kl-dev/kl/pkg/client/clock"
)

// Config configures a Queue.
type Config[T comparable] struct {
	// Clock is the source of time for delays (nil: the real clock).
	Clock clock.Clock
	// RateLimiter decides AddRateLimited delays (nil: DefaultRateLimiter).
	RateLimiter RateLimiter[T]
}

// Queue is a de-duplicating FIFO queue with delayed and rate-limited adds.
// See the package documentation for its rules. It is safe for concurrent
// use. A Queue runs one goroutine to wake waiting Gets when delayed items
// become ready; call ShutDown (or ShutDownWithDrain) to stop it.
type Queue[T comparable] struct {
	clock   clock.Clock
	limiter RateLimiter[T]

	mu           sync.Mutex
	cond         *sync.Cond
	queue        []T            // ready items, FIFO
	dirty        map[T]struct{} // items that need processing (queued, or re-added while processing)
	processing   map[T]struct{} // items handed out by Get and not yet Done
	waiting      waitHeap[T]    // delayed items by ready time
	waitingIndex map[T]*waitEntry[T]
	shuttingDown bool
	draining     bool

	wake     chan struct{} // tells the waker the earliest ready time may have changed
	stop     chan struct{}
	stopOnce sync.Once
	stopped  chan struct{}
}

// New returns a running Queue.
func New[T comparable](cfg Config[T]) *Queue[T] {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.RateLimiter == nil {
		cfg.RateLimiter = DefaultRateLimiter[T](cfg.Clock)
	}
	q := &Queue[T]{
		clock:        cfg.Clock,
		limiter:      cfg.RateLimiter,
		dirty:        map[T]struct{}{},
		processing:   map[T]struct{}{},
		waitingIndex: map[T]*waitEntry[T]{},
		wake:         make(chan struct{}, 1),
		stop:         make(chan struct{}),
		stopped:      make(chan struct{}),
	}
	q.cond = sync.NewCond(&q.mu)
	go q.waker()
	return q
}

// Add queues item unless it is already queued. An item being processed is
// queued again when it is Done. Add is ignored after ShutDown.
func (q *Queue[T]) Add(item T) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.addLocked(item)
}

func (q *Queue[T]) addLocked(item T) {
	if q.shuttingDown {
		return
	}
	if _, ok := q.dirty[item]; ok {
		return
	}
	q.dirty[item] = struct{}{}
	if _, ok := q.processing[item]; ok {
		return // Done queues it
	}
	q.queue = append(q.queue, item)
	q.cond.Signal()
}

// AddAfter queues item once delay has passed (at once when delay <= 0). If
// item is already waiting, the earlier of the two ready times wins.
func (q *Queue[T]) AddAfter(item T, delay time.Duration) {
	if delay <= 0 {
		q.Add(item)
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shuttingDown {
		return
	}
	readyAt := q.clock.Now().Add(delay)
	if e, ok := q.waitingIndex[item]; ok {
		if readyAt.Before(e.readyAt) {
			e.readyAt = readyAt
			heap.Fix(&q.waiting, e.index)
			q.poke()
		}
		return
	}
	e := &waitEntry[T]{item: item, readyAt: readyAt}
	heap.Push(&q.waiting, e)
	q.waitingIndex[item] = e
	q.poke()
}

// AddRateLimited queues item after the delay its RateLimiter decides; use it
// to retry an item that failed.
func (q *Queue[T]) AddRateLimited(item T) {
	q.AddAfter(item, q.limiter.When(item))
}

// Forget resets item's rate-limit history (call it after a success). It does
// not remove item from the queue.
func (q *Queue[T]) Forget(item T) { q.limiter.Forget(item) }

// NumRequeues returns how many times item was rate-limited since its last
// Forget.
func (q *Queue[T]) NumRequeues(item T) int { return q.limiter.NumRequeues(item) }

// Len returns the number of items ready to be handed out by Get (delayed
// items count once their time has come).
func (q *Queue[T]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.promoteLocked()
	return len(q.queue)
}

// Get blocks until an item is ready and returns it; the caller must call
// Done(item) when it has finished processing. After ShutDown, Get returns the
// items still queued and then (zero, true).
func (q *Queue[T]) Get() (item T, shutdown bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		q.promoteLocked()
		if len(q.queue) > 0 || q.shuttingDown {
			break
		}
		q.cond.Wait()
	}
	if len(q.queue) == 0 {
		return item, true
	}
	item = q.queue[0]
	var zero T
	q.queue[0] = zero // drop the reference held by the backing array
	q.queue = q.queue[1:]
	q.processing[item] = struct{}{}
	delete(q.dirty, item)
	return item, false
}

// Done marks item as processed. If it was added again while being
// processed, it is queued now.
func (q *Queue[T]) Done(item T) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.processing, item)
	if _, ok := q.dirty[item]; ok {
		q.queue = append(q.queue, item)
		q.cond.Signal()
	}
	if q.draining && len(q.processing) == 0 {
		q.cond.Broadcast()
	}
}

// ShutDown makes the queue ignore new items and makes Get return shutdown
// once the queued items are handed out. Delayed items are dropped.
func (q *Queue[T]) ShutDown() {
	q.mu.Lock()
	q.shutDownLocked()
	q.mu.Unlock()
	<-q.stopped
}

// ShutDownWithDrain is ShutDown, then waits until every item handed out by
// Get is Done. Workers must keep calling Get and Done for it to return.
func (q *Queue[T]) ShutDownWithDrain() {
	q.mu.Lock()
	q.draining = true
	q.shutDownLocked()
	for len(q.processing) > 0 {
		q.cond.Wait()
	}
	q.mu.Unlock()
	<-q.stopped
}

// ShuttingDown reports whether ShutDown was called.
func (q *Queue[T]) ShuttingDown() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.shuttingDown
}

func (q *Queue[T]) shutDownLocked() {
	q.shuttingDown = true
	q.waiting = nil
	clear(q.waitingIndex)
	q.cond.Broadcast()
	q.stopOnce.Do(func() { close(q.stop) })
}

// promoteLocked moves delayed items whose time has come into the queue.
func (q *Queue[T]) promoteLocked() {
	if len(q.waiting) == 0 {
		return
	}
	now := q.clock.Now()
	for len(q.waiting) > 0 && !q.waiting[0].readyAt.After(now) {
		e := heap.Pop(&q.waiting).(*waitEntry[T])
		delete(q.waitingIndex, e.item)
		q.addLocked(e.item)
	}
}

// poke wakes the waker goroutine without blocking.
func (q *Queue[T]) poke() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// waker sleeps until the earliest delayed item is ready and wakes Get. Get
// and Len also promote ready items themselves, so the waker only matters to
// a Get that is already blocked.
func (q *Queue[T]) waker() {
	defer close(q.stopped)
	for {
		q.mu.Lock()
		q.promoteLocked()
		var next time.Time
		if len(q.waiting) > 0 {
			next = q.waiting[0].readyAt
		}
		q.mu.Unlock()

		var timer clock.Timer
		var fired <-chan time.Time
		if !next.IsZero() {
			timer = q.clock.NewTimer(next.Sub(q.clock.Now()))
			fired = timer.C()
			// The clock may have moved between reading it and making the
			// timer (a fake clock stepped by a test); check again so the
			// item is not stuck behind a later deadline.
			if !q.clock.Now().Before(next) {
				timer.Stop()
				continue
			}
		}
		select {
		case <-q.stop:
			if timer != nil {
				timer.Stop()
			}
			return
		case <-q.wake:
			if timer != nil {
				timer.Stop()
			}
		case <-fired:
		}
	}
}

type waitEntry[T any] struct {
	item    T
	readyAt time.Time
	index   int
}

// waitHeap orders delayed items by ready time (container/heap).
type waitHeap[T any] []*waitEntry[T]

func (h waitHeap[T]) Len() int           { return len(h) }
func (h waitHeap[T]) Less(i, j int) bool { return h[i].readyAt.Before(h[j].readyAt) }
func (h waitHeap[T]) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *waitHeap[T]) Push(x any) {
	e := x.(*waitEntry[T])
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *waitHeap[T]) Pop() any {
	old := *h
	n := len(old)
	e := old[n-1]
	old[n-1] = nil
	*h = old[:n-1]
	return e
}
