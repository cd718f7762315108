// Package controller is kl's controller framework: each controller is
// informers (shared through Informers), a rate-limited, de-duplicating work
// queue of keys, and an idempotent reconcile(key) run by a few workers
// (Loop). Expectations keep a controller from acting twice while its cache
// lags its own writes. The controllers live in subpackages (replicaset,
// deployment, endpoints, garbagecollector, namespace, nodelifecycle); the
// manager (pkg/controller/manager) runs them, behind leader election.
package controller

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

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
type Loop struct {
	name      string
	queue     *workqueue.Queue[string]
	reconcile ReconcileFunc
	synced    []informer.SyncWaiter
	log       *slog.Logger
}

// NewLoop returns a Loop. synced are the informers whose caches must be
// full before the first reconcile: deciding on a partial cache (say, no
// pods yet) would make a controller create what already exists.
func NewLoop(name string, clk clock.Clock, reconcile ReconcileFunc, log *slog.Logger, synced ...informer.SyncWaiter) *Loop {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Loop{
		name:      name,
		queue:     workqueue.New(workqueue.Config[string]{Clock: clk}),
		reconcile: reconcile,
		synced:    synced,
		log:       log.With("controller", name),
	}
}

// Name returns the loop's name.
func (l *Loop) Name() string { return l.name }

// Enqueue adds a key (de-duplicated with keys already waiting).
func (l *Loop) Enqueue(key string) { l.queue.Add(key) }

// EnqueueAfter adds a key after a delay (for time-based conditions such as
// minReadySeconds or progress deadlines).
func (l *Loop) EnqueueAfter(key string, d time.Duration) { l.queue.AddAfter(key, d) }

// Len returns the number of keys waiting.
func (l *Loop) Len() int { return l.queue.Len() }

// Run waits for the caches, then runs workers until ctx ends.
func (l *Loop) Run(ctx context.Context, workers int) error {
	defer l.queue.ShutDown()
	if !informer.WaitForCacheSync(ctx, l.synced...) {
		return fmt.Errorf("%s: caches did not sync: %w", l.name, ctx.Err())
	}
	if workers < 1 {
		workers = 1
	}
	l.log.Debug("controller started", "workers", workers)
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for l.processNext(ctx) {
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
func (l *Loop) processNext(ctx context.Context) bool {
	key, shutdown := l.queue.Get()
	if shutdown {
		return false
	}
	// Done lets the key be processed again (and makes a re-add made while
	// it was processed take effect), never concurrently with itself.
	defer l.queue.Done(key)
	if err := l.reconcile(ctx, key); err != nil {
		if ctx.Err() != nil {
			return true
		}
		// Back off on this key only: other keys keep flowing.
		l.log.Info("reconcile failed, will retry", "key", key, "retries", l.queue.NumRequeues(key), "err", err)
		l.queue.AddRateLimited(key)
		return true
	}
	l.queue.Forget(key)
	return true
}
