// Package namespace is the namespace controller: it empties namespaces
// that are being deleted, then lets the apiserver remove them.
//
// Deleting a Namespace only marks it (deletionTimestamp, phase
// Terminating); the apiserver keeps it while spec.finalizers holds
// "kubernetes", and refuses new content in it. For such a namespace the
// controller:
//
//  1. discovers every namespaced resource the apiserver serves (so kinds
//     added later are covered, not a fixed list);
//  2. deletes everything in the namespace (deletecollection per resource,
//     background propagation), skipping resources already empty or whose
//     objects are all being deleted;
//  3. lists again: while anything remains (pods within their grace
//     period, objects held by finalizers), it records why in the
//     namespace's conditions (NamespaceContentRemaining,
//     NamespaceFinalizersRemaining, NamespaceDeletionContentFailure,
//     NamespaceDeletionDiscoveryFailure, with Kubernetes' reasons and
//     messages) and looks again later, backing off up to MaxRequeueDelay;
//  4. once it is empty, removes "kubernetes" from spec.finalizers through
//     PUT /api/v1/namespaces/NAME/finalize, and the apiserver deletes the
//     namespace.
package namespace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/client/clock"
	"github.com/kl-dev/kl/pkg/client/informer"
	"github.com/kl-dev/kl/pkg/controller"
)

// Name is the controller's name in --controllers and logs.
const Name = "namespace"

const fieldManager = "namespace-controller"

// Requeue delays while content remains: MinRequeueDelay doubling up to
// MaxRequeueDelay.
const (
	MinRequeueDelay = 100 * time.Millisecond
	MaxRequeueDelay = 5 * time.Second
)

// Config configures the controller.
type Config struct {
	// Client deletes namespace content and finalizes namespaces.
	Client *client.Client
	// Namespaces is the shared informer (controller.Informers.Namespaces).
	Namespaces *informer.Informer[*corev1.Namespace]
	// Clock drives the requeues (nil: the real clock).
	Clock clock.Clock
	// Logger (nil: discard).
	Logger *slog.Logger
}

// Controller is the namespace controller.
type Controller struct {
	loop       *controller.Loop
	namespaces informer.Lister[*corev1.Namespace]
	client     *client.Client
	nsAPI      *client.Resource[corev1.Namespace, *corev1.Namespace]
	clk        clock.Clock
	log        *slog.Logger

	mu       sync.Mutex
	attempts map[string]int // passes that found content remaining, per namespace
}

var _ controller.Controller = (*Controller)(nil)

// New returns the controller; Run starts it.
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil || cfg.Namespaces == nil {
		return nil, errors.New("namespace controller: Client and Namespaces are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Controller{
		namespaces: cfg.Namespaces.Lister(),
		client:     cfg.Client,
		nsAPI:      client.NewResource[corev1.Namespace](cfg.Client, controller.NamespacesResource, false),
		clk:        cfg.Clock,
		log:        cfg.Logger.With("controller", Name),
		attempts:   map[string]int{},
	}
	c.loop = controller.NewLoop(Name, cfg.Clock, c.reconcile, cfg.Logger, cfg.Namespaces)
	enqueue := func(ns *corev1.Namespace) {
		if ns.DeletionTimestamp != nil {
			c.loop.Enqueue(ns.Name)
		}
	}
	cfg.Namespaces.AddEventHandler(informer.HandlerFuncs[*corev1.Namespace]{
		AddFunc:    enqueue,
		UpdateFunc: func(_, ns *corev1.Namespace) { enqueue(ns) },
		DeleteFunc: func(ns *corev1.Namespace, _ bool) { c.forget(ns.Name) },
	})
	return c, nil
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Run implements controller.Controller.
func (c *Controller) Run(ctx context.Context, workers int) error { return c.loop.Run(ctx, workers) }

func (c *Controller) forget(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.attempts, name)
}

// requeueDelay returns the next delay for a namespace whose content is
// still going away.
func (c *Controller) requeueDelay(name string) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.attempts[name]
	c.attempts[name] = n + 1
	return min(MinRequeueDelay<<min(n, 16), MaxRequeueDelay)
}

func (c *Controller) reconcile(ctx context.Context, name string) error {
	ns, ok := c.namespaces.Get("", name)
	if !ok {
		c.forget(name)
		return nil
	}
	if ns.DeletionTimestamp == nil || !slices.Contains(ns.Spec.Finalizers, corev1.FinalizerKubernetes) {
		return nil
	}
	now := c.clk.Now()
	resources, err := controller.DiscoverResources(ctx, c.client)
	if err != nil {
		c.setConditions(ctx, ns, now, []corev1.NamespaceCondition{{
			Type: corev1.NamespaceDeletionDiscoveryFailure, Status: corev1.ConditionTrue,
			Reason: "DiscoveryFailed", Message: fmt.Sprintf("Discovery failed for some groups: %v", err),
		}})
		return fmt.Errorf("namespace %s: %w", name, err)
	}
	left, err := c.deleteContent(ctx, name, resources)
	if err != nil || left.any() {
		c.setConditions(ctx, ns, now, left.conditions(err))
	}
	if err != nil {
		return fmt.Errorf("namespace %s: %w", name, err)
	}
	if left.any() {
		// Pods finishing their grace period, finalizers at work: look
		// again soon, less often the longer it takes.
		c.loop.EnqueueAfter(name, c.requeueDelay(name))
		return nil
	}
	return c.finalize(ctx, ns)
}

// remaining counts what is left in a namespace.
type remaining struct {
	byResource  map[string]int // "pods", "replicasets.apps"
	byFinalizer map[string]int
}

func (r remaining) any() bool { return len(r.byResource) > 0 }

// conditions are the namespace conditions describing r and the deletion
// error, as Kubernetes words them.
func (r remaining) conditions(deleteErr error) []corev1.NamespaceCondition {
	conds := []corev1.NamespaceCondition{
		{Type: corev1.NamespaceDeletionDiscoveryFailure, Status: corev1.ConditionFalse, Reason: "ResourcesDiscovered", Message: "All resources successfully discovered"},
	}
	if deleteErr != nil {
		conds = append(conds, corev1.NamespaceCondition{Type: corev1.NamespaceDeletionContentFailure, Status: corev1.ConditionTrue, Reason: "ContentDeletionFailed",
			Message: fmt.Sprintf("Failed to delete all resource types: %v", deleteErr)})
	} else {
		conds = append(conds, corev1.NamespaceCondition{Type: corev1.NamespaceDeletionContentFailure, Status: corev1.ConditionFalse, Reason: "ContentDeleted",
			Message: "All content successfully deleted, may be waiting on finalization"})
	}
	if len(r.byResource) == 0 {
		conds = append(conds, corev1.NamespaceCondition{Type: corev1.NamespaceContentRemaining, Status: corev1.ConditionFalse, Reason: "ContentRemoved", Message: "All content successfully removed"})
	} else {
		conds = append(conds, corev1.NamespaceCondition{Type: corev1.NamespaceContentRemaining, Status: corev1.ConditionTrue, Reason: "SomeResourcesRemain",
			Message: "Some resources are remaining: " + describeCounts(r.byResource, "%s has %d resource instances")})
	}
	if len(r.byFinalizer) == 0 {
		conds = append(conds, corev1.NamespaceCondition{Type: corev1.NamespaceFinalizersRemaining, Status: corev1.ConditionFalse, Reason: "ContentHasNoFinalizers", Message: "All content-preserving finalizers finished"})
	} else {
		conds = append(conds, corev1.NamespaceCondition{Type: corev1.NamespaceFinalizersRemaining, Status: corev1.ConditionTrue, Reason: "SomeFinalizersRemain",
			Message: "Some content in the namespace has finalizers remaining: " + describeCounts(r.byFinalizer, "%s in %d resource instances")})
	}
	return conds
}

func describeCounts(m map[string]int, format string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf(format, k, m[k])
	}
	return strings.Join(parts, ", ")
}

// deleteContent deletes every object of the namespaced resources in the
// namespace and reports what is left.
func (c *Controller) deleteContent(ctx context.Context, ns string, resources []controller.APIResource) (remaining, error) {
	left := remaining{byResource: map[string]int{}, byFinalizer: map[string]int{}}
	var errs []error
	dyn := c.client.Dynamic()
	for _, r := range resources {
		if !r.Namespaced || !r.HasVerbs("list", "delete") {
			continue
		}
		items, err := listMeta(ctx, dyn, r.GVR, ns)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if len(items) == 0 {
			continue
		}
		if slices.ContainsFunc(items, func(m meta.ObjectMeta) bool { return m.DeletionTimestamp == nil }) {
			if err := deleteAll(ctx, dyn, r, ns, items); err != nil {
				errs = append(errs, err)
				continue
			}
			if items, err = listMeta(ctx, dyn, r.GVR, ns); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		if len(items) > 0 {
			left.byResource[r.GVR.String()] += len(items)
		}
		for _, m := range items {
			for _, f := range m.Finalizers {
				left.byFinalizer[f]++
			}
		}
	}
	return left, errors.Join(errs...)
}

var background = meta.DeletePropagationBackground

// deleteAll deletes the objects of a resource in a namespace, with one
// deletecollection when the resource supports it.
func deleteAll(ctx context.Context, dyn *client.Dynamic, r controller.APIResource, ns string, items []meta.ObjectMeta) error {
	opts := meta.DeleteOptions{PropagationPolicy: &background}
	if r.HasVerbs("deletecollection") {
		if _, err := dyn.DeleteCollection(ctx, r.GVR, ns, opts, client.ListOptions{}); err != nil {
			return fmt.Errorf("delete %s in %s: %w", r.GVR, ns, err)
		}
		return nil
	}
	var errs []error
	for _, m := range items {
		if m.DeletionTimestamp != nil {
			continue
		}
		if _, err := dyn.Delete(ctx, r.GVR, ns, m.Name, opts); err != nil && !meta.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete %s %s/%s: %w", r.GVR, ns, m.Name, err))
		}
	}
	return errors.Join(errs...)
}

// listMeta lists the metadata of every object of a resource in a namespace.
func listMeta(ctx context.Context, dyn *client.Dynamic, gvr meta.GroupVersionResource, ns string) ([]meta.ObjectMeta, error) {
	data, err := dyn.List(ctx, gvr, ns, client.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list %s in %s: %w", gvr, ns, err)
	}
	var list struct {
		Items []struct {
			Metadata meta.ObjectMeta `json:"metadata"`
		} `json:"items"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("list %s in %s: decoding: %w", gvr, ns, err)
	}
	out := make([]meta.ObjectMeta, len(list.Items))
	for i := range list.Items {
		out[i] = list.Items[i].Metadata
	}
	return out, nil
}

// setConditions writes the namespace's deletion conditions when they
// changed. Failing to write them is logged, not fatal: they only explain.
func (c *Controller) setConditions(ctx context.Context, ns *corev1.Namespace, now time.Time, conds []corev1.NamespaceCondition) {
	merged, changed := mergeConditions(ns.Status.Conditions, conds, now)
	if !changed {
		return
	}
	next := ns.DeepCopy()
	next.Status.Conditions = merged
	if _, err := c.nsAPI.UpdateStatus(ctx, next, client.UpdateOptions{FieldManager: fieldManager}); err != nil && !meta.IsNotFound(err) {
		c.log.Info("cannot update namespace conditions", "namespace", ns.Name, "err", err)
	}
}

// mergeConditions sets the wanted conditions in cur (a copy is returned):
// a condition's transition time moves only when its status does. changed
// says whether anything differs from cur.
func mergeConditions(cur, want []corev1.NamespaceCondition, now time.Time) ([]corev1.NamespaceCondition, bool) {
	out := slices.Clone(cur)
	changed := false
	for _, w := range want {
		i := slices.IndexFunc(out, func(x corev1.NamespaceCondition) bool { return x.Type == w.Type })
		if i < 0 {
			w.LastTransitionTime = meta.NewTime(now)
			out = append(out, w)
			changed = true
			continue
		}
		c := &out[i]
		if c.Status == w.Status && c.Reason == w.Reason && c.Message == w.Message {
			continue
		}
		w.LastTransitionTime = c.LastTransitionTime
		if c.Status != w.Status {
			w.LastTransitionTime = meta.NewTime(now)
		}
		*c = w
		changed = true
	}
	return out, changed
}

// finalize removes the "kubernetes" finalizer; the apiserver then deletes
// the namespace (unless other finalizers remain).
func (c *Controller) finalize(ctx context.Context, ns *corev1.Namespace) error {
	next := ns.DeepCopy()
	next.Spec.Finalizers = slices.DeleteFunc(next.Spec.Finalizers, func(f corev1.FinalizerName) bool { return f == corev1.FinalizerKubernetes })
	if err := c.nsAPI.UpdateSubresource(ctx, ns.Name, "finalize", next, nil, client.UpdateOptions{FieldManager: fieldManager}); err != nil {
		if meta.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("finalize namespace %s: %w", ns.Name, err)
	}
	c.log.Info("namespace emptied and finalized", "namespace", ns.Name)
	c.forget(ns.Name)
	return nil
}
