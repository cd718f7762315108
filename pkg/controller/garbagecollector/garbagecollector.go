// Package garbagecollector is kl's garbage collector: ownerReferences
// drive cascading deletion, with Kubernetes' three propagation policies.
//
// The collector discovers every resource the apiserver serves that can be
// listed, watched and deleted (events excepted), and keeps a metadata-only
// informer per resource. From them it builds a graph of every object by
// uid, with an index of dependents by owner uid, and reconciles one object
// (by uid) at a time:
//
//   - Background (the default): when an owner is gone, its dependents are
//     deleted (with a uid precondition). A dependent with several owners
//     is deleted only when none is left; until then the references to the
//     owners that are gone are removed from it.
//   - Foreground: an owner deleted with propagationPolicy=Foreground has a
//     deletionTimestamp and the foregroundDeletion finalizer. Its
//     dependents are deleted (in the foreground themselves when they have
//     dependents of their own); once no dependent with blockOwnerDeletion
//     is left, the finalizer is removed and the apiserver deletes the
//     owner.
//   - Orphan: an owner with the orphan finalizer has its reference removed
//     from every dependent, then the finalizer is removed.
//
// The caches may lag behind the apiserver, so the collector never deletes
// on the caches' word alone: before acting on a dependent it reads the
// dependent itself, and each owner it cannot find in its graph, from the
// apiserver (an owner counts as gone when the apiserver has no object of
// that name, or one with another uid). Before it lets a foreground owner
// go, or removes an orphan finalizer, it lists the possible dependents
// from the apiserver, so that one created just before the owner's deletion
// and not yet in the graph is not missed. An owner whose kind the server
// does not serve, or a namespaced owner of a cluster-scoped object, can
// never be resolved: such a reference keeps its dependent.
package garbagecollector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/client/clock"
	"github.com/kl-dev/kl/pkg/client/informer"
	"github.com/kl-dev/kl/pkg/controller"
	"github.com/kl-dev/kl/pkg/record"
)

// Name is the controller's name in --controllers and logs.
const Name = "garbagecollector"

const fieldManager = "generic-garbage-collector"

// ReasonOwnerRefInvalidNamespace is the reason of the Warning recorded on
// a cluster-scoped object whose owner reference names a namespaced kind.
const ReasonOwnerRefInvalidNamespace = "OwnerRefInvalidNamespace"

// Config configures the collector.
type Config struct {
	// Client reads discovery, watches every resource and writes.
	Client *client.Client
	// Recorder receives Events (nil: none).
	Recorder record.Recorder
	// Clock drives back-off (nil: the real clock).
	Clock clock.Clock
	// Logger (nil: discard).
	Logger *slog.Logger
	// Shared, when set, lends the collector informers the process already
	// runs (the controllers' pods, ReplicaSets, ...): it watches those kinds
	// through them instead of with informers of its own.
	Shared SharedInformers
}

// SharedInformers lends informers of other controllers.
type SharedInformers interface {
	Metadata(gvr meta.GroupVersionResource) (controller.MetaInformer, bool)
}

// Controller is the garbage collector.
type Controller struct {
	client   *client.Client
	api      api
	graph    *graph
	loop     *controller.Loop
	clk      clock.Clock
	recorder record.Recorder
	shared   SharedInformers
	log      *slog.Logger

	// watched are the resources with an informer; kinds maps
	// "apiVersion|kind" and "group|kind" to them. Both are set once,
	// before the informers start.
	watched []controller.APIResource
	kinds   map[string]*controller.APIResource

	absentMu sync.Mutex
	// absent holds uids the apiserver confirmed gone; a uid never comes
	// back, so one live read per owner is enough.
	absent map[string]struct{}
}

var _ controller.Controller = (*Controller)(nil)

// New returns the collector; Run discovers the resources and starts it.
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil {
		return nil, errors.New("garbage collector: Client is required")
	}
	return newCollector(cfg, clientAPI{d: cfg.Client.Dynamic()}), nil
}

func newCollector(cfg Config, a api) *Controller {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Recorder == nil {
		cfg.Recorder = record.Discard
	}
	c := &Controller{
		client:   cfg.Client,
		api:      a,
		graph:    newGraph(),
		clk:      cfg.Clock,
		recorder: cfg.Recorder,
		shared:   cfg.Shared,
		log:      cfg.Logger.With("controller", Name),
		kinds:    map[string]*controller.APIResource{},
		absent:   map[string]struct{}{},
	}
	// Run waits for the informers itself (they exist only after
	// discovery), so the loop has nothing to wait for.
	c.loop = controller.NewLoop(Name, cfg.Clock, c.reconcile, cfg.Logger)
	return c
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Run discovers the resources, fills the graph from their informers and
// collects garbage until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) error {
	resources, err := c.discover(ctx)
	if err != nil {
		return err
	}
	c.setResources(resources)
	var wg sync.WaitGroup
	defer wg.Wait()
	synced := make([]informer.SyncWaiter, 0, len(c.watched))
	for i := range c.watched {
		res := &c.watched[i]
		if c.shared != nil {
			if mi, ok := c.shared.Metadata(res.GVR); ok {
				mi.AddMetaHandler(handler[meta.Object](c, res))
				synced = append(synced, mi)
				continue
			}
		}
		inf := informer.New[*object](client.NewResource[object](c.client, res.GVR, res.Namespaced), informer.Options[*object]{
			Logger: c.log.With("informer", res.GVR.String()),
		})
		inf.AddEventHandler(handler[*object](c, res))
		synced = append(synced, inf)
		wg.Go(func() { _ = inf.Run(ctx) })
	}
	if !informer.WaitForCacheSync(ctx, synced...) {
		return fmt.Errorf("%s: caches did not sync: %w", Name, ctx.Err())
	}
	c.log.Debug("graph built", "resources", len(c.watched))
	return c.loop.Run(ctx, workers)
}

// discover reads the served resources, retrying until it works or ctx
// ends.
func (c *Controller) discover(ctx context.Context) ([]controller.APIResource, error) {
	delay := time.Second
	for {
		resources, err := controller.DiscoverResources(ctx, c.client)
		if err == nil {
			return resources, nil
		}
		c.log.Info("discovery failed, will retry", "err", err, "in", delay)
		t := c.clk.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%s: discovery: %w", Name, ctx.Err())
		case <-t.C():
		}
		delay = min(2*delay, 30*time.Second)
	}
}

// setResources records the resources the collector watches: those that can
// be listed, watched and deleted, except events (many, and never owners).
func (c *Controller) setResources(resources []controller.APIResource) {
	for _, r := range resources {
		if !r.HasVerbs("list", "watch", "delete") || r.GVR.Resource == "events" {
			continue
		}
		c.watched = append(c.watched, r)
	}
	for i := range c.watched {
		r := &c.watched[i]
		c.kinds[r.APIVersion()+"|"+r.Kind] = r
		if k := r.GVR.Group + "|" + r.Kind; c.kinds[k] == nil {
			c.kinds[k] = r
		}
	}
}

// resourceFor returns the resource of an owner reference's kind.
func (c *Controller) resourceFor(ref *meta.OwnerReference) *controller.APIResource {
	if r := c.kinds[ref.APIVersion+"|"+ref.Kind]; r != nil {
		return r
	}
	group, _ := meta.SplitAPIVersion(ref.APIVersion)
	return c.kinds[group+"|"+ref.Kind]
}

// handler feeds the graph from an informer of res.
func handler[PT meta.Object](c *Controller, res *controller.APIResource) informer.HandlerFuncs[PT] {
	return informer.HandlerFuncs[PT]{
		AddFunc:    func(o PT) { c.changed(newNode(res, o.GetObjectMeta())) },
		UpdateFunc: func(_, o PT) { c.changed(newNode(res, o.GetObjectMeta())) },
		DeleteFunc: func(o PT, _ bool) { c.deleted(newNode(res, o.GetObjectMeta())) },
	}
}

// changed records a new or changed object and queues what it affects.
func (c *Controller) changed(n *node) {
	old := c.graph.upsert(n)
	if old == nil {
		if len(n.owners) > 0 || n.deleting {
			c.loop.Enqueue(n.uid)
		}
		return
	}
	if !ownersEqual(old.owners, n.owners) {
		c.loop.Enqueue(n.uid)
		// An owner in the foreground may have been waiting on it.
		for _, ref := range old.owners {
			c.loop.Enqueue(ref.UID)
		}
	}
	if old.deleting != n.deleting || !slices.Equal(old.finalizers, n.finalizers) {
		c.loop.Enqueue(n.uid)
	}
}

// deleted forgets an object and queues its dependents (their owner is
// gone) and its owners (one may be waiting for it in the foreground).
func (c *Controller) deleted(n *node) {
	c.graph.remove(n.uid)
	for _, d := range c.graph.dependentsOf(n.uid) {
		c.loop.Enqueue(d.uid)
	}
	for _, ref := range n.owners {
		c.loop.Enqueue(ref.UID)
	}
	c.markAbsent(n.uid)
}

func (c *Controller) markAbsent(uid string) {
	c.absentMu.Lock()
	defer c.absentMu.Unlock()
	if len(c.absent) >= 10000 {
		clear(c.absent) // a bounded memo; a live read refills it
	}
	c.absent[uid] = struct{}{}
}

func (c *Controller) isAbsent(uid string) bool {
	c.absentMu.Lock()
	defer c.absentMu.Unlock()
	_, ok := c.absent[uid]
	return ok
}

// reconcile handles the object with uid: as an owner being deleted in the
// foreground or with orphaning, or as a dependent whose owners may be gone.
func (c *Controller) reconcile(ctx context.Context, uid string) error {
	n, ok := c.graph.get(uid)
	if !ok {
		return nil
	}
	if n.deleting {
		switch {
		case n.hasFinalizer(meta.FinalizerOrphanDependents):
			return c.orphanDependents(ctx, n)
		case n.hasFinalizer(meta.FinalizerDeleteDependents):
			return c.deleteDependents(ctx, n)
		}
		return nil // already going away
	}
	if len(n.owners) == 0 {
		return nil
	}
	return c.attemptToDelete(ctx, n)
}

// ownerState is what a dependent's owner reference points at.
type ownerState int

const (
	solid      ownerState = iota // the owner exists
	dangling                     // the owner is gone
	waiting                      // the owner is being deleted in the foreground
	unresolved                   // the owner can never be found: keep the dependent
)

// cachedOwnerState judges a reference from the graph alone; ok is false
// when the graph cannot tell (the owner is not in it).
func (c *Controller) cachedOwnerState(dep *node, ref *meta.OwnerReference) (ownerState, bool) {
	res, ownerNS, st := c.ownerLocation(dep, ref)
	if st == unresolved {
		return unresolved, true
	}
	o, ok := c.graph.get(ref.UID)
	if !ok || o.res != res || o.namespace != ownerNS || o.name != ref.Name {
		return 0, false
	}
	if o.waitingForDependents() {
		return waiting, true
	}
	return solid, true
}

// ownerLocation returns the resource and namespace where the owner of ref
// must be, or unresolved.
func (c *Controller) ownerLocation(dep *node, ref *meta.OwnerReference) (*controller.APIResource, string, ownerState) {
	res := c.resourceFor(ref)
	if res == nil {
		return nil, "", unresolved
	}
	if !res.Namespaced {
		return res, "", solid
	}
	if dep.namespace == "" {
		return nil, "", unresolved
	}
	return res, dep.namespace, solid
}

// liveOwnerState judges a reference, asking the apiserver when the graph
// does not know the owner.
func (c *Controller) liveOwnerState(ctx context.Context, dep *node, ref *meta.OwnerReference) (ownerState, error) {
	if st, ok := c.cachedOwnerState(dep, ref); ok {
		return st, nil
	}
	res, ns, _ := c.ownerLocation(dep, ref)
	if c.isAbsent(ref.UID) {
		return dangling, nil
	}
	o, err := c.api.get(ctx, res, ns, ref.Name)
	switch {
	case meta.IsNotFound(err):
		c.markAbsent(ref.UID)
		return dangling, nil
	case err != nil:
		return 0, fmt.Errorf("get owner %s %s of %s: %w", ref.Kind, ref.Name, dep, err)
	case o.UID != ref.UID:
		c.markAbsent(ref.UID) // the name was reused by another object
		return dangling, nil
	case o.DeletionTimestamp != nil && slices.Contains(o.Finalizers, meta.FinalizerDeleteDependents):
		return waiting, nil
	}
	return solid, nil
}

// attemptToDelete deletes a dependent whose owners are all gone (or
// waiting for their dependents), or removes the references to such owners
// when others remain.
func (c *Controller) attemptToDelete(ctx context.Context, n *node) error {
	// Fast path: every owner is in the graph and not being deleted in the
	// foreground. This is every object of a healthy cluster.
	allSolid := true
	for i := range n.owners {
		st, ok := c.cachedOwnerState(n, &n.owners[i])
		if !ok || (st != solid && st != unresolved) {
			allSolid = false
			break
		}
	}
	if allSolid {
		return nil
	}

	// Act on the object as the apiserver has it, not as cached.
	latest, err := c.api.get(ctx, n.res, n.namespace, n.name)
	if meta.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get %s: %w", n, err)
	}
	if latest.UID != n.uid || latest.DeletionTimestamp != nil {
		return nil // another object now has the name, or it is going away
	}
	cur := newNode(n.res, &latest.ObjectMeta)
	var solids, gone []meta.OwnerReference
	anyWaiting := false
	for i := range cur.owners {
		ref := &cur.owners[i]
		st, err := c.liveOwnerState(ctx, cur, ref)
		if err != nil {
			return err
		}
		switch st {
		case solid:
			solids = append(solids, *ref)
		case unresolved:
			c.reportUnresolved(cur, ref)
			solids = append(solids, *ref)
		case dangling:
			gone = append(gone, *ref)
		case waiting:
			anyWaiting = true
			gone = append(gone, *ref)
		}
	}
	switch {
	case len(gone) == 0:
		return nil // the cache was behind; all is well
	case len(solids) > 0:
		// Other owners keep it: only drop the references to the ones
		// that are gone (or waiting for their dependents to go).
		c.log.Debug("removing owner references", "object", cur.String(), "owners", uids(gone))
		return c.patchOwners(ctx, cur, latest.ResourceVersion, solids)
	}
	// Nothing owns it any more. If an owner waits in the foreground and
	// this object has dependents of its own, delete it in the foreground
	// too, so the owner keeps waiting for the whole subtree.
	policy := meta.DeletePropagationBackground
	if anyWaiting && c.graph.hasDependents(cur.uid) {
		policy = meta.DeletePropagationForeground
	}
	c.log.Debug("deleting object whose owners are gone", "object", cur.String(), "policy", policy)
	uid := cur.uid
	err = c.api.delete(ctx, cur.res, cur.namespace, cur.name, meta.DeleteOptions{
		Preconditions:     &meta.Preconditions{UID: &uid},
		PropagationPolicy: &policy,
	})
	if err != nil && !meta.IsNotFound(err) && !meta.IsConflict(err) {
		return fmt.Errorf("delete %s: %w", cur, err)
	}
	return nil
}

// patchOwners replaces the object's owner references, on the condition
// that it is unchanged since rv.
func (c *Controller) patchOwners(ctx context.Context, n *node, rv string, refs []meta.OwnerReference) error {
	var owners any = refs
	if len(refs) == 0 {
		owners = nil
	}
	err := c.api.patchMetadata(ctx, n.res, n.namespace, n.name, map[string]any{
		"ownerReferences": owners,
		"resourceVersion": rv,
		"uid":             n.uid,
	})
	if err != nil && !meta.IsNotFound(err) {
		return fmt.Errorf("update owner references of %s: %w", n, err)
	}
	return nil
}

// deleteDependents handles an owner deleted in the foreground: its
// dependents are queued (each deletes itself, its owner waiting), and once
// none with blockOwnerDeletion is left, the finalizer goes.
func (c *Controller) deleteDependents(ctx context.Context, owner *node) error {
	blocking := 0
	for _, d := range c.graph.dependentsOf(owner.uid) {
		if blocks(d, owner.uid) {
			blocking++
		}
		if !d.deleting {
			c.loop.Enqueue(d.uid)
		}
	}
	if blocking > 0 {
		return nil // their deletion events queue the owner again
	}
	// The graph may not have seen a dependent created just before the
	// owner's deletion: ask the apiserver before letting the owner go.
	live, err := c.liveDependents(ctx, owner)
	if err != nil {
		return err
	}
	for _, d := range live {
		if blocks(d, owner.uid) {
			// Its add event will queue it, and its deletion the owner;
			// look again later in case an event was missed.
			c.loop.EnqueueAfter(owner.uid, recheckDelay)
			return nil
		}
	}
	return c.removeFinalizer(ctx, owner, meta.FinalizerDeleteDependents)
}

// recheckDelay is when an owner waiting on dependents the graph has not
// seen yet is looked at again.
const recheckDelay = time.Second

func blocks(d *node, ownerUID string) bool {
	ref := d.ownerRef(ownerUID)
	return ref != nil && boolValue(ref.BlockOwnerDeletion)
}

// orphanDependents removes the owner's reference from each dependent,
// then the orphan finalizer. The dependents come from the apiserver, not
// only the graph: missing one would get it deleted with its owner.
func (c *Controller) orphanDependents(ctx context.Context, owner *node) error {
	deps := c.graph.dependentsOf(owner.uid)
	live, err := c.liveDependents(ctx, owner)
	if err != nil {
		return err
	}
	for _, d := range live {
		if !slices.ContainsFunc(deps, func(x *node) bool { return x.uid == d.uid }) {
			deps = append(deps, d)
		}
	}
	var errs []error
	for _, d := range deps {
		if err := c.removeOwnerRef(ctx, d, owner.uid); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return c.removeFinalizer(ctx, owner, meta.FinalizerOrphanDependents)
}

// liveDependents lists, from the apiserver, the objects that name owner as
// an owner: in the owner's namespace for a namespaced owner, everywhere
// for a cluster-scoped one. It costs a list per resource, so it is kept
// for the last step of foreground and orphan deletions.
func (c *Controller) liveDependents(ctx context.Context, owner *node) ([]*node, error) {
	var out []*node
	for i := range c.watched {
		res := &c.watched[i]
		if owner.namespace != "" && !res.Namespaced {
			continue // a cluster-scoped object cannot have a namespaced owner
		}
		objs, err := c.api.list(ctx, res, owner.namespace)
		if err != nil {
			return nil, fmt.Errorf("list %s to find the dependents of %s: %w", res.GVR, owner, err)
		}
		for _, o := range objs {
			if slices.ContainsFunc(o.OwnerReferences, func(r meta.OwnerReference) bool { return r.UID == owner.uid }) {
				out = append(out, newNode(res, &o.ObjectMeta))
			}
		}
	}
	return out, nil
}

// maxPatchAttempts bounds read-modify-write retries on conflicts.
const maxPatchAttempts = 5

// removeOwnerRef removes the reference to ownerUID from the dependent, as
// the apiserver has it.
func (c *Controller) removeOwnerRef(ctx context.Context, d *node, ownerUID string) error {
	for attempt := 1; ; attempt++ {
		latest, err := c.api.get(ctx, d.res, d.namespace, d.name)
		if meta.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("get %s: %w", d, err)
		}
		if latest.UID != d.uid {
			return nil
		}
		refs := slices.DeleteFunc(slices.Clone(latest.OwnerReferences), func(r meta.OwnerReference) bool { return r.UID == ownerUID })
		if len(refs) == len(latest.OwnerReferences) {
			return nil
		}
		err = c.patchOwners(ctx, d, latest.ResourceVersion, refs)
		if err == nil || !meta.IsConflict(err) || attempt >= maxPatchAttempts {
			return err
		}
	}
}

// removeFinalizer removes a finalizer from the object, as the apiserver
// has it. When it was the last one, the apiserver deletes the object.
func (c *Controller) removeFinalizer(ctx context.Context, n *node, finalizer string) error {
	for attempt := 1; ; attempt++ {
		latest, err := c.api.get(ctx, n.res, n.namespace, n.name)
		if meta.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("get %s: %w", n, err)
		}
		if latest.UID != n.uid || !slices.Contains(latest.Finalizers, finalizer) {
			return nil
		}
		var rest any = slices.DeleteFunc(slices.Clone(latest.Finalizers), func(f string) bool { return f == finalizer })
		if len(rest.([]string)) == 0 {
			rest = nil
		}
		c.log.Debug("removing finalizer", "object", n.String(), "finalizer", finalizer)
		err = c.api.patchMetadata(ctx, n.res, n.namespace, n.name, map[string]any{
			"finalizers":      rest,
			"resourceVersion": latest.ResourceVersion,
			"uid":             n.uid,
		})
		switch {
		case err == nil, meta.IsNotFound(err):
			return nil
		case !meta.IsConflict(err) || attempt >= maxPatchAttempts:
			return fmt.Errorf("remove finalizer %s of %s: %w", finalizer, n, err)
		}
	}
}

// reportUnresolved records why an owner reference keeps its dependent.
func (c *Controller) reportUnresolved(dep *node, ref *meta.OwnerReference) {
	if c.resourceFor(ref) == nil {
		c.log.Debug("owner reference to a kind the server does not serve", "object", dep.String(), "kind", ref.Kind, "apiVersion", ref.APIVersion)
		return
	}
	obj := &object{
		TypeMeta:   meta.TypeMeta{Kind: dep.res.Kind, APIVersion: dep.res.APIVersion()},
		ObjectMeta: meta.ObjectMeta{Name: dep.name, Namespace: dep.namespace, UID: dep.uid},
	}
	c.recorder.Eventf(obj, "Warning", ReasonOwnerRefInvalidNamespace,
		"ownerRef [%s/%s, namespace: %s, name: %s, uid: %s] does not exist in namespace %q", ref.APIVersion, ref.Kind, dep.namespace, ref.Name, ref.UID, dep.namespace)
}

// ownersEqual compares owner references by value.
func ownersEqual(a, b []meta.OwnerReference) bool {
	return slices.EqualFunc(a, b, func(x, y meta.OwnerReference) bool {
		return x.APIVersion == y.APIVersion && x.Kind == y.Kind && x.Name == y.Name && x.UID == y.UID &&
			boolValue(x.Controller) == boolValue(y.Controller) && boolValue(x.BlockOwnerDeletion) == boolValue(y.BlockOwnerDeletion)
	})
}

func boolValue(b *bool) bool { return b != nil && *b }

func uids(refs []meta.OwnerReference) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = r.UID
	}
	return out
}
