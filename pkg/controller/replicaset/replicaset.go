// Package replicaset is the ReplicaSet controller: it keeps
// spec.replicas pods running for each ReplicaSet, with Kubernetes'
// semantics.
//
// For one ReplicaSet a reconcile:
//
//  1. lists the candidate pods from the shared pod cache: those it
//     controls (the owner-uid index) and orphans its selector matches;
//  2. claims them: adopts matching orphans (adds a controller
//     ownerReference, after re-reading the ReplicaSet from the apiserver
//     to be sure it is not being deleted) and releases pods it controls
//     that no longer match (removes its ownerReference);
//  3. counts the active pods (not terminating, not Succeeded or Failed)
//     and, unless creations or deletions it asked for are still on their
//     way to the cache (Expectations), creates the missing pods or
//     deletes the least valuable extra ones (see podsToDelete);
//  4. writes status (replicas, fullyLabeledReplicas, readyReplicas,
//     availableReplicas, observedGeneration, the ReplicaFailure condition)
//     through the status subresource, only when it changed, and requeues
//     itself when a ready pod will pass minReadySeconds.
//
// Creations go in slow-start batches of 1, 2, 4, 8, ... pods (a failing
// create, say a quota, fails once rather than hundreds of times), each
// batch creating up to MaxConcurrentWrites pods at once: Kubernetes makes
// the same batches, and the concurrency bound is what keeps a batch of
// 256 from opening 256 connections. There is no client-side rate limit.
package replicaset

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/client/clock"
	"github.com/kl-dev/kl/pkg/client/informer"
	"github.com/kl-dev/kl/pkg/controller"
	"github.com/kl-dev/kl/pkg/record"
)

// Name is the controller's name in --controllers.
const Name = "replicaset"

// Defaults of Config.
const (
	// DefaultBurstReplicas bounds the creations or deletions of one
	// reconcile (Kubernetes' --replicaset-burst... 500).
	DefaultBurstReplicas = 500
	// DefaultMaxConcurrentWrites bounds the pod creations or deletions of
	// one reconcile in flight at once.
	DefaultMaxConcurrentWrites = 32
)

// Event reasons, as Kubernetes' ReplicaSet controller records them.
const (
	ReasonSuccessfulCreate = "SuccessfulCreate"
	ReasonFailedCreate     = "FailedCreate"
	ReasonSuccessfulDelete = "SuccessfulDelete"
	ReasonFailedDelete     = "FailedDelete"
)

// Config configures a Controller.
type Config struct {
	// Client writes pods and ReplicaSet status.
	Client *client.Client
	// Pods and ReplicaSets are the shared informers
	// (controller.Informers.Pods and ReplicaSets); Pods must have the
	// controller.IndexOwnerUID index.
	Pods        *informer.Informer[*corev1.Pod]
	ReplicaSets *informer.Informer[*appsv1.ReplicaSet]
	// Recorder records Events on ReplicaSets (nil: none).
	Recorder record.Recorder
	// Clock tells the time (nil: the real clock).
	Clock clock.Clock
	// Logger (nil: discard).
	Logger *slog.Logger
	// BurstReplicas and MaxConcurrentWrites: see the defaults.
	BurstReplicas       int
	MaxConcurrentWrites int
}

// Controller is the ReplicaSet controller.
type Controller struct {
	loop      *controller.Loop
	pods      informer.Lister[*corev1.Pod]
	rss       informer.Lister[*appsv1.ReplicaSet]
	api       writer
	exp       *controller.Expectations
	written   *controller.MutationCache[*appsv1.ReplicaSet]
	recorder  record.Recorder
	clk       clock.Clock
	log       *slog.Logger
	burst     int
	writes    int
	ownerUIDs bool // the pod informer has the owner-uid index
}

var _ controller.Controller = (*Controller)(nil)

// New returns a ReplicaSet controller; Run starts it.
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil || cfg.Pods == nil || cfg.ReplicaSets == nil {
		return nil, errors.New("replicaset controller: Client, Pods and ReplicaSets are required")
	}
	return newController(cfg, newClientWriter(cfg.Client)), nil
}

func newController(cfg Config, api writer) *Controller {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Recorder == nil {
		cfg.Recorder = record.Discard
	}
	if cfg.BurstReplicas <= 0 {
		cfg.BurstReplicas = DefaultBurstReplicas
	}
	if cfg.MaxConcurrentWrites <= 0 {
		cfg.MaxConcurrentWrites = DefaultMaxConcurrentWrites
	}
	c := &Controller{
		pods:     cfg.Pods.Lister(),
		rss:      cfg.ReplicaSets.Lister(),
		api:      api,
		exp:      controller.NewExpectations(cfg.Clock),
		written:  controller.NewMutationCache[*appsv1.ReplicaSet](cfg.Clock),
		recorder: cfg.Recorder,
		clk:      cfg.Clock,
		log:      cfg.Logger.With("controller", Name),
		burst:    cfg.BurstReplicas,
		writes:   cfg.MaxConcurrentWrites,
	}
	_, err := c.pods.ByIndex(controller.IndexOwnerUID, "")
	c.ownerUIDs = err == nil
	c.loop = controller.NewLoop(Name, cfg.Clock, c.sync, cfg.Logger, cfg.Pods, cfg.ReplicaSets)
	cfg.ReplicaSets.AddEventHandler(informer.HandlerFuncs[*appsv1.ReplicaSet]{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, rs *appsv1.ReplicaSet) { c.enqueue(rs) },
		DeleteFunc: c.deleteReplicaSet,
	})
	cfg.Pods.AddEventHandler(informer.HandlerFuncs[*corev1.Pod]{
		AddFunc:    c.addPod,
		UpdateFunc: c.updatePod,
		DeleteFunc: func(p *corev1.Pod, _ bool) { c.deletePod(p) },
	})
	return c
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Run implements controller.Controller.
func (c *Controller) Run(ctx context.Context, workers int) error { return c.loop.Run(ctx, workers) }

func (c *Controller) enqueue(rs *appsv1.ReplicaSet) { c.loop.Enqueue(informer.Key(rs)) }

func (c *Controller) deleteReplicaSet(rs *appsv1.ReplicaSet, _ bool) {
	key := informer.Key(rs)
	c.exp.Forget(key)
	c.written.Forget(key)
	c.loop.Enqueue(key)
}

// resolve returns the ReplicaSet ref points at, if it is in the cache with
// the same uid.
func (c *Controller) resolve(namespace string, ref *meta.OwnerReference) *appsv1.ReplicaSet {
	if ref == nil || ref.Kind != "ReplicaSet" {
		return nil
	}
	rs, ok := c.rss.Get(namespace, ref.Name)
	if !ok || rs.UID != ref.UID {
		return nil
	}
	return rs
}

// replicaSetsMatching returns the ReplicaSets in pod's namespace whose
// selector matches it (candidates to adopt an orphan).
func (c *Controller) replicaSetsMatching(pod *corev1.Pod) []*appsv1.ReplicaSet {
	var out []*appsv1.ReplicaSet
	for _, rs := range c.rss.ListNamespace(pod.Namespace, meta.Everything()) {
		sel, err := meta.LabelSelectorAsSelector(rs.Spec.Selector)
		if err != nil || sel.Empty() {
			continue // an empty selector adopts nothing
		}
		if sel.Matches(pod.Labels) {
			out = append(out, rs)
		}
	}
	return out
}

func (c *Controller) addPod(pod *corev1.Pod) {
	if pod.DeletionTimestamp != nil {
		// Seen for the first time already terminating (a re-list): for
		// expectations it is a deletion.
		c.deletePod(pod)
		return
	}
	if ref := meta.GetControllerOf(&pod.ObjectMeta); ref != nil {
		if rs := c.resolve(pod.Namespace, ref); rs != nil {
			key := informer.Key(rs)
			c.exp.CreationObserved(key)
			c.loop.Enqueue(key)
		}
		return
	}
	for _, rs := range c.replicaSetsMatching(pod) {
		c.enqueue(rs)
	}
}

func (c *Controller) updatePod(old, cur *corev1.Pod) {
	if old.ResourceVersion == cur.ResourceVersion {
		return // a resync: nothing changed
	}
	labelsChanged := !maps.Equal(old.Labels, cur.Labels)
	if cur.DeletionTimestamp != nil {
		// Graceful deletion started: the pod no longer counts, and for
		// expectations it is deleted now, not when the kubelet is done.
		c.deletePod(cur)
		if labelsChanged {
			c.deletePod(old)
		}
		return
	}
	curRef, oldRef := meta.GetControllerOf(&cur.ObjectMeta), meta.GetControllerOf(&old.ObjectMeta)
	refChanged := !controller.SameOwnerRef(curRef, oldRef)
	if refChanged && oldRef != nil {
		if rs := c.resolve(old.Namespace, oldRef); rs != nil {
			c.enqueue(rs)
		}
	}
	if curRef != nil {
		rs := c.resolve(cur.Namespace, curRef)
		if rs == nil {
			return
		}
		c.enqueue(rs)
		if rs.Spec.MinReadySeconds > 0 && !corev1.IsPodReady(old) && corev1.IsPodReady(cur) {
			// Nothing will happen to the pod when it passes
			// minReadySeconds: look again then.
			c.loop.EnqueueAfter(informer.Key(rs), time.Duration(rs.Spec.MinReadySeconds)*time.Second+time.Millisecond)
		}
		return
	}
	if labelsChanged || refChanged {
		for _, rs := range c.replicaSetsMatching(cur) {
			c.enqueue(rs)
		}
	}
}

func (c *Controller) deletePod(pod *corev1.Pod) {
	rs := c.resolve(pod.Namespace, meta.GetControllerOf(&pod.ObjectMeta))
	if rs == nil {
		return
	}
	key := informer.Key(rs)
	c.exp.DeletionObserved(key, pod.UID)
	c.loop.Enqueue(key)
}

// sync reconciles the ReplicaSet called key.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name := informer.SplitKey(key)
	cached, ok := c.rss.Get(ns, name)
	if !ok {
		c.exp.Forget(key)
		c.written.Forget(key)
		return nil
	}
	rs := c.written.Newest(cached)
	sel, err := meta.LabelSelectorAsSelector(rs.Spec.Selector)
	if err != nil {
		// Validation should have refused it; retrying will not help.
		c.log.Warn("invalid selector, ignoring the ReplicaSet", "key", key, "err", err)
		return nil
	}
	needsSync := c.exp.Satisfied(key)

	pods := activePods(c.candidatePods(rs, sel))
	pods, err = c.claimPods(ctx, rs, sel, pods)
	if err != nil {
		return err
	}

	var manageErr error
	if needsSync && rs.DeletionTimestamp == nil {
		manageErr = c.manageReplicas(ctx, key, rs, pods)
	}

	now := c.clk.Now()
	st := calculateStatus(rs, pods, manageErr, now)
	st.ObservedGeneration = rs.Generation
	if !sameStatus(st, rs.Status) {
		next := rs.DeepCopy()
		next.Status = st
		updated, err := c.api.updateReplicaSetStatus(ctx, next)
		if err != nil {
			if meta.IsNotFound(err) {
				return nil
			}
			return errors.Join(manageErr, fmt.Errorf("update status of ReplicaSet %s: %w", key, err))
		}
		c.written.Mutated(updated)
	}
	if manageErr != nil {
		return manageErr
	}
	if d, ok := nextAvailable(rs, pods, now); ok {
		c.loop.EnqueueAfter(key, d)
	}
	return nil
}

// candidatePods returns the pods rs controls and the orphans (or others'
// pods, which Claim skips) its selector matches, from the cache.
func (c *Controller) candidatePods(rs *appsv1.ReplicaSet, sel meta.Selector) []*corev1.Pod {
	seen := map[string]bool{}
	var out []*corev1.Pod
	add := func(p *corev1.Pod) {
		if p.Namespace == rs.Namespace && !seen[p.Name] {
			seen[p.Name] = true
			out = append(out, p)
		}
	}
	if c.ownerUIDs {
		owned, _ := c.pods.ByIndex(controller.IndexOwnerUID, rs.UID)
		for _, p := range owned {
			add(p)
		}
	} else {
		for _, p := range c.pods.ListNamespace(rs.Namespace, meta.Everything()) {
			if meta.IsControlledBy(&p.ObjectMeta, rs.UID) {
				add(p)
			}
		}
	}
	if sel.Empty() {
		return out // an empty selector matches nothing to adopt
	}
	for _, p := range selectPods(c.pods, rs.Namespace, sel) {
		add(p)
	}
	return out
}

// selectPods lists the pods of namespace sel matches, from the label
// index when sel requires an exact label value (the pod-template-hash of a
// Deployment's ReplicaSets does), else by scanning the namespace.
func selectPods(l informer.Lister[*corev1.Pod], namespace string, sel meta.Selector) []*corev1.Pod {
	for _, r := range sel.Requirements() {
		if _, ok := sel.RequiresExactMatch(r.Key); ok {
			return l.List(sel) // filtered by namespace by the caller
		}
	}
	return l.ListNamespace(namespace, sel)
}

func (c *Controller) claimPods(ctx context.Context, rs *appsv1.ReplicaSet, sel meta.Selector, pods []*corev1.Pod) ([]*corev1.Pod, error) {
	ref := controller.NewControllerRef(rs, appsv1.SchemeGroupVersion, "ReplicaSet")
	cl := controller.Claimer[*corev1.Pod]{
		Owner:    rs,
		Selector: sel,
		CanAdopt: controller.RecheckOwner(rs, "ReplicaSet", c.api.getReplicaSet),
		Adopt: func(ctx context.Context, p *corev1.Pod) error {
			return c.api.patchPod(ctx, p.Namespace, p.Name, controller.AdoptPatch(ref, p.UID))
		},
		Release: func(ctx context.Context, p *corev1.Pod) error {
			return c.api.patchPod(ctx, p.Namespace, p.Name, controller.ReleasePatch(rs.UID, p.UID))
		},
	}
	return cl.Claim(ctx, pods)
}

// manageReplicas creates or deletes pods so that rs has spec.replicas
// active pods.
func (c *Controller) manageReplicas(ctx context.Context, key string, rs *appsv1.ReplicaSet, pods []*corev1.Pod) error {
	diff := len(pods) - int(replicas(rs))
	switch {
	case diff < 0:
		n := min(-diff, c.burst)
		// Expect before creating: the informer may see a pod before
		// Create returns.
		c.exp.ExpectCreations(key, n)
		c.log.Debug("creating pods", "key", key, "count", n)
		created, err := slowStartBatch(n, c.writes, func() error {
			pod, err := c.api.createPod(ctx, podFromTemplate(rs))
			if err != nil {
				if !controller.IsNamespaceTerminating(err) {
					c.recorder.Eventf(rs, corev1.EventTypeWarning, ReasonFailedCreate, "Error creating: %v", err)
				}
				return err
			}
			c.recorder.Eventf(rs, corev1.EventTypeNormal, ReasonSuccessfulCreate, "Created pod: %s", pod.Name)
			return nil
		})
		// Creations that failed or were never tried will not be seen.
		for i := created; i < n; i++ {
			c.exp.CreationObserved(key)
		}
		if controller.IsNamespaceTerminating(err) {
			return nil // the namespace and this ReplicaSet are going away
		}
		if err != nil {
			return fmt.Errorf("create pods for ReplicaSet %s: %w", key, err)
		}
	case diff > 0:
		n := min(diff, c.burst)
		victims := podsToDelete(pods, n)
		uids := make([]string, len(victims))
		for i, p := range victims {
			uids[i] = p.UID
		}
		c.exp.ExpectDeletions(key, uids)
		c.log.Debug("deleting pods", "key", key, "count", n)
		var mu sync.Mutex
		var errs []error
		forEachConcurrently(victims, c.writes, func(p *corev1.Pod) {
			err := c.api.deletePod(ctx, p.Namespace, p.Name)
			if err == nil {
				c.recorder.Eventf(rs, corev1.EventTypeNormal, ReasonSuccessfulDelete, "Deleted pod: %s", p.Name)
				return
			}
			// The informer will not see this deletion.
			c.exp.DeletionObserved(key, p.UID)
			if meta.IsNotFound(err) {
				return
			}
			c.recorder.Eventf(rs, corev1.EventTypeWarning, ReasonFailedDelete, "Error deleting: %v", err)
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		})
		if err := errors.Join(errs...); err != nil {
			return fmt.Errorf("delete pods of ReplicaSet %s: %w", key, err)
		}
	}
	return nil
}

// slowStartBatch calls fn count times in batches of 1, 2, 4, ... calls,
// each batch running at most concurrency calls at once, and stops after
// the first batch with a failure. It returns the number of successful
// calls and the first error.
func slowStartBatch(count, concurrency int, fn func() error) (int, error) {
	successes := 0
	for batch := min(count, 1); batch > 0; {
		var mu sync.Mutex
		var firstErr error
		ok := 0
		forEachConcurrently(make([]struct{}, batch), concurrency, func(struct{}) {
			err := fn()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			ok++
		})
		successes += ok
		if firstErr != nil {
			return successes, firstErr
		}
		count -= batch
		batch = min(2*batch, count)
	}
	return successes, nil
}

// forEachConcurrently calls fn for every item, at most limit at once, and
// waits for all of them.
func forEachConcurrently[T any](items []T, limit int, fn func(T)) {
	if len(items) == 1 {
		fn(items[0])
		return
	}
	sem := make(chan struct{}, max(limit, 1))
	var wg sync.WaitGroup
	for _, it := range items {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() {
				<-sem
				wg.Done()
			}()
			fn(it)
		}()
	}
	wg.Wait()
}
