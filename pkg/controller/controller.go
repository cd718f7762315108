// Package controller is kl's controller framework: each controller is
// informers (shared through Informers), a rate-limited, de-duplicating work
// queue of keys, and an idempotent reconcile(key) run by a few workers
// (Loop). Expectations keep a controller from acting twice while its cache
// lags its own writes; MutationCache lets it see its own writes before the
// cache does; Claimer adopts and releases dependents by label selector.
// The controllers live in subpackages (replicaset, deployment, endpoints,
// garbagecollector, namespace, nodelifecycle); the manager
// (pkg/controller/manager) runs them, behind leader election.
package controller

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client/clock"
	"github.com/kl-dev/kl/pkg/client/informer"
	"github.com/kl-dev/kl/pkg/client/workqueue"
)

// Controller is one control loop the manager runs.
type Controller interface {
	// Name is the controller's name in --controllers and logs.
	Name() string
	// Run runs workers until ctx is cancelled. It waits for its caches
	// to sync first.
	Run(ctx context.Context, workers int) error
}

// ReconcileFunc brings the object named by key (namespace/name or name)
// to its desired state. It must be idempotent: the queue may call it for
// any reason, any number of times. An error re-queues the key with
// per-key exponential back-off; other keys are not held up.
type ReconcileFunc func(ctx context.Context, key string) error

// Loop runs a ReconcileFunc over a work queue, the way every controller
// does: Run -> worker -> processNext -> Reconcile.
//
// A Loop reports to the Metrics attached to the context given to Run (see
// WithMetrics): reconciles by result, their latency and the queue depth,
// labelled with the loop's name. A reconcile that panics is recovered,
// logged with its stack and retried like one that failed.
type Loop struct {
	name      string
	queue     *workqueue.Queue[string]
	reconcile ReconcileFunc
	synced    []informer.SyncWaiter
	log       *slog.Logger
	clk       clock.Clock
}

// NewLoop returns a Loop. synced are the informers whose caches must be
// full before the first reconcile: deciding on a partial cache (say, no
// pods yet) would make a controller create what already exists.
func NewLoop(name string, clk clock.Clock, reconcile ReconcileFunc, log *slog.Logger, synced ...informer.SyncWaiter) *Loop {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if clk == nil {
		clk = clock.Real{}
	}
	return &Loop{
		name:      name,
		queue:     workqueue.New(workqueue.Config[string]{Clock: clk}),
		reconcile: reconcile,
		synced:    synced,
		log:       log.With("controller", name),
		clk:       clk,
	}
}

// Name returns the loop's name.
func (l *Loop) Name() string { return l.name }

// Enqueue adds a key (de-duplicated with keys already waiting).
func (l *Loop) Enqueue(key string) { l.queue.Add(key) }

// EnqueueAfter adds a key after a delay (for time-based conditions such as
// minReadySeconds or progress deadlines).
func (l *Loop) EnqueueAfter(key string, d time.Duration) { l.queue.AddAfter(key, d) }

// EnqueueRateLimited adds a key after its per-key back-off, as a failed
// reconcile does; use it to poll for something that has no event.
func (l *Loop) EnqueueRateLimited(key string) { l.queue.AddRateLimited(key) }

// Len returns the number of keys waiting.
func (l *Loop) Len() int { return l.queue.Len() }

// Pop removes a key that is ready and returns it without reconciling it;
// false when none is ready. Unit tests use it to see what event handlers
// queued while the loop is not running.
func (l *Loop) Pop() (string, bool) {
	if l.queue.Len() == 0 {
		return "", false
	}
	key, shutdown := l.queue.Get()
	if shutdown {
		return "", false
	}
	l.queue.Done(key)
	return key, true
}

// Run waits for the caches, then runs workers until ctx ends.
func (l *Loop) Run(ctx context.Context, workers int) error {
	defer l.queue.ShutDown()
	if !informer.WaitForCacheSync(ctx, l.synced...) {
		return fmt.Errorf("%s: caches did not sync: %w", l.name, ctx.Err())
	}
	if workers < 1 {
		workers = 1
	}
	m := MetricsFrom(ctx)
	if m != nil {
		untrack := m.trackQueue(l.name, l.queue.Len)
		defer untrack()
	}
	l.log.Debug("controller started", "workers", workers)
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for l.processNext(ctx, m) {
			}
		}()
	}
	<-ctx.Done()
	// Stop handing out keys; workers finish the key they hold.
	l.queue.ShutDown()
	wg.Wait()
	return nil
}

// processNext reconciles one key; false means the queue is shut down.
func (l *Loop) processNext(ctx context.Context, m *Metrics) bool {
	key, shutdown := l.queue.Get()
	if shutdown {
		return false
	}
	// Done lets the key be processed again (and makes a re-add made while
	// it was processed take effect), never concurrently with itself.
	defer l.queue.Done(key)
	start := l.clk.Now()
	err := l.safeReconcile(ctx, key)
	m.observeReconcile(l.name, l.clk.Now().Sub(start), err)
	if err != nil {
		if ctx.Err() != nil {
			return true
		}
		// Back off on this key only: other keys keep flowing. A conflict
		// is routine (the cache was behind a write): no need to shout.
		level := slog.LevelInfo
		if meta.IsConflict(err) {
			level = slog.LevelDebug
		}
		l.log.Log(ctx, level, "reconcile failed, will retry", "key", key, "retries", l.queue.NumRequeues(key), "err", err)
		l.queue.AddRateLimited(key)
		return true
	}
	l.queue.Forget(key)
	return true
}

// safeReconcile turns a panic in reconcile into an error, so that one bad
// object cannot take the whole controller-manager down.
func (l *Loop) safeReconcile(ctx context.Context, key string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			l.log.Error("reconcile panicked", "key", key, "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("reconcile %s panicked: %v", key, r)
		}
	}()
	return l.reconcile(ctx, key)
}

// IsNamespaceTerminating reports whether err is the apiserver refusing to
// create an object in a namespace that is being deleted. Controllers do
// not retry nor report such failures: the namespace controller is about to
// delete their objects too (Kubernetes' NamespaceTerminatingCause).
func IsNamespaceTerminating(err error) bool {
	return meta.IsForbidden(err) && strings.Contains(err.Error(), "because it is being terminated")
}
