// Package deployment is the Deployment controller: it rolls a
// Deployment's pod template out through ReplicaSets, with Kubernetes'
// semantics (pkg/controller/deployment of kube-controller-manager).
//
// Each pod template gets a ReplicaSet named <deployment>-<pod-template-hash>
// whose selector and template carry the pod-template-hash label. The
// ReplicaSet whose template equals the Deployment's is the new one, every
// other is old. A reconcile:
//
//   - claims the ReplicaSets the Deployment's selector matches (adopting
//     orphans, releasing those that stopped matching);
//   - if the Deployment is paused, or only its replicas changed (a scaling
//     event: a ReplicaSet's desired-replicas annotation differs), scales
//     the ReplicaSets, proportionally when several are active, and
//     updates status;
//   - else rolls out: RollingUpdate grows the new ReplicaSet while
//     live pods stay within replicas + maxSurge and shrinks old ones while
//     available pods stay at least replicas - maxUnavailable;
//     Recreate scales every old ReplicaSet to 0, waits until their pods
//     are gone, then creates the new one at full size;
//   - keeps revisions (deployment.kubernetes.io/revision on the
//     Deployment and its ReplicaSets, revision-history on a ReplicaSet
//     that comes back, as after a rollback), deletes old ReplicaSets
//     beyond revisionHistoryLimit once the rollout is complete, and
//     writes status and the Progressing, Available and ReplicaFailure
//     conditions, including ProgressDeadlineExceeded when a rollout made
//     no progress for progressDeadlineSeconds (it requeues itself for
//     that moment).
//
// Two deliberate differences from Kubernetes make the surge and
// availability bounds hold at every instant, not only once caches agree:
// a ReplicaSet counts for max(spec.replicas, status.replicas) pods when
// deciding how far the new one may grow (its pods scaled away may not be
// deleted yet), and for min(spec.replicas, status.availableReplicas)
// available pods when deciding how far old ones may shrink. Terminating
// pods are not counted, as in Kubernetes.
//
// Proportional scaling (replicas changed mid-rollout) follows Kubernetes,
// except that a scale-up waits while old ReplicaSets still have more pods
// than their spec; a scale-down goes by spec.
package deployment

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strconv"

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
const Name = "deployment"

// Event reasons.
const (
	ReasonScalingReplicaSet = "ScalingReplicaSet"
	ReasonFailedCreate      = "FailedCreate"
	ReasonSelectingAll      = "SelectingAll"
)

// Config configures a Controller.
type Config struct {
	// Client writes ReplicaSets and Deployment status.
	Client *client.Client
	// Deployments, ReplicaSets and Pods are the shared informers
	// (controller.Informers); ReplicaSets should have the
	// controller.IndexOwnerUID index.
	Deployments *informer.Informer[*appsv1.Deployment]
	ReplicaSets *informer.Informer[*appsv1.ReplicaSet]
	Pods        *informer.Informer[*corev1.Pod]
	// Recorder records Events on Deployments (nil: none).
	Recorder record.Recorder
	// Clock tells the time (nil: the real clock).
	Clock clock.Clock
	// Logger (nil: discard).
	Logger *slog.Logger
}

// Controller is the Deployment controller.
type Controller struct {
	loop      *controller.Loop
	ds        informer.Lister[*appsv1.Deployment]
	rss       informer.Lister[*appsv1.ReplicaSet]
	pods      informer.Lister[*corev1.Pod]
	api       writer
	dWritten  *controller.MutationCache[*appsv1.Deployment]
	rsWritten *controller.MutationCache[*appsv1.ReplicaSet]
	recorder  record.Recorder
	clk       clock.Clock
	log       *slog.Logger
	ownerUIDs bool
}

var _ controller.Controller = (*Controller)(nil)

// New returns a Deployment controller; Run starts it.
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil || cfg.Deployments == nil || cfg.ReplicaSets == nil || cfg.Pods == nil {
		return nil, errors.New("deployment controller: Client, Deployments, ReplicaSets and Pods are required")
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
	c := &Controller{
		ds:        cfg.Deployments.Lister(),
		rss:       cfg.ReplicaSets.Lister(),
		pods:      cfg.Pods.Lister(),
		api:       api,
		dWritten:  controller.NewMutationCache[*appsv1.Deployment](cfg.Clock),
		rsWritten: controller.NewMutationCache[*appsv1.ReplicaSet](cfg.Clock),
		recorder:  cfg.Recorder,
		clk:       cfg.Clock,
		log:       cfg.Logger.With("controller", Name),
	}
	_, err := c.rss.ByIndex(controller.IndexOwnerUID, "")
	c.ownerUIDs = err == nil
	c.loop = controller.NewLoop(Name, cfg.Clock, c.sync, cfg.Logger, cfg.Deployments, cfg.ReplicaSets, cfg.Pods)
	cfg.Deployments.AddEventHandler(informer.HandlerFuncs[*appsv1.Deployment]{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, d *appsv1.Deployment) { c.enqueue(d) },
		DeleteFunc: func(d *appsv1.Deployment, _ bool) { c.enqueue(d) },
	})
	cfg.ReplicaSets.AddEventHandler(informer.HandlerFuncs[*appsv1.ReplicaSet]{
		AddFunc:    c.addReplicaSet,
		UpdateFunc: c.onUpdateReplicaSet,
		DeleteFunc: func(rs *appsv1.ReplicaSet, _ bool) { c.deleteReplicaSet(rs) },
	})
	cfg.Pods.AddEventHandler(informer.HandlerFuncs[*corev1.Pod]{
		UpdateFunc: func(old, cur *corev1.Pod) {
			if !corev1.IsPodTerminal(old) && corev1.IsPodTerminal(cur) {
				c.podGone(cur)
			}
		},
		DeleteFunc: func(p *corev1.Pod, _ bool) { c.podGone(p) },
	})
	return c
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Run implements controller.Controller.
func (c *Controller) Run(ctx context.Context, workers int) error { return c.loop.Run(ctx, workers) }

func (c *Controller) enqueue(d *appsv1.Deployment) { c.loop.Enqueue(informer.Key(d)) }

// resolve returns the Deployment ref points at, if cached with that uid.
func (c *Controller) resolve(namespace string, ref *meta.OwnerReference) *appsv1.Deployment {
	if ref == nil || ref.Kind != "Deployment" {
		return nil
	}
	d, ok := c.ds.Get(namespace, ref.Name)
	if !ok || d.UID != ref.UID {
		return nil
	}
	return d
}

// deploymentsMatching returns the Deployments whose selector matches rs
// (candidates to adopt an orphan).
func (c *Controller) deploymentsMatching(rs *appsv1.ReplicaSet) []*appsv1.Deployment {
	var out []*appsv1.Deployment
	for _, d := range c.ds.ListNamespace(rs.Namespace, meta.Everything()) {
		sel, err := meta.LabelSelectorAsSelector(d.Spec.Selector)
		if err != nil || sel.Empty() {
			continue
		}
		if sel.Matches(rs.Labels) {
			out = append(out, d)
		}
	}
	return out
}

func (c *Controller) addReplicaSet(rs *appsv1.ReplicaSet) {
	if rs.DeletionTimestamp != nil {
		c.deleteReplicaSet(rs)
		return
	}
	if ref := meta.GetControllerOf(&rs.ObjectMeta); ref != nil {
		if d := c.resolve(rs.Namespace, ref); d != nil {
			c.enqueue(d)
		}
		return
	}
	for _, d := range c.deploymentsMatching(rs) {
		c.enqueue(d)
	}
}

func (c *Controller) onUpdateReplicaSet(old, cur *appsv1.ReplicaSet) {
	if old.ResourceVersion == cur.ResourceVersion {
		return
	}
	curRef, oldRef := meta.GetControllerOf(&cur.ObjectMeta), meta.GetControllerOf(&old.ObjectMeta)
	refChanged := !controller.SameOwnerRef(curRef, oldRef)
	if refChanged && oldRef != nil {
		if d := c.resolve(old.Namespace, oldRef); d != nil {
			c.enqueue(d)
		}
	}
	if curRef != nil {
		if d := c.resolve(cur.Namespace, curRef); d != nil {
			c.enqueue(d)
		}
		return
	}
	if refChanged || !maps.Equal(old.Labels, cur.Labels) {
		for _, d := range c.deploymentsMatching(cur) {
			c.enqueue(d)
		}
	}
}

func (c *Controller) deleteReplicaSet(rs *appsv1.ReplicaSet) {
	c.rsWritten.Forget(informer.Key(rs))
	if d := c.resolve(rs.Namespace, meta.GetControllerOf(&rs.ObjectMeta)); d != nil {
		c.enqueue(d)
	}
}

// podGone wakes a Recreate Deployment when one of its old pods is gone:
// it waits for all of them before creating the new ReplicaSet.
func (c *Controller) podGone(p *corev1.Pod) {
	ref := meta.GetControllerOf(&p.ObjectMeta)
	if ref == nil || ref.Kind != "ReplicaSet" {
		return
	}
	rs, ok := c.rss.Get(p.Namespace, ref.Name)
	if !ok || rs.UID != ref.UID {
		return
	}
	d := c.resolve(rs.Namespace, meta.GetControllerOf(&rs.ObjectMeta))
	if d != nil && d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		c.enqueue(d)
	}
}

// sync reconciles the Deployment called key.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name := informer.SplitKey(key)
	cached, ok := c.ds.Get(ns, name)
	if !ok {
		c.dWritten.Forget(key)
		return nil
	}
	d := c.dWritten.Newest(cached).DeepCopy()

	if sel := d.Spec.Selector; sel == nil || (len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0) {
		c.recorder.Eventf(d, corev1.EventTypeWarning, ReasonSelectingAll, "This deployment is selecting all pods. A non-empty selector is required.")
		if d.Status.ObservedGeneration < d.Generation {
			d.Status.ObservedGeneration = d.Generation
			return c.updateStatus(ctx, d)
		}
		return nil
	}
	sel, err := meta.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		c.log.Warn("invalid selector, ignoring the Deployment", "key", key, "err", err)
		return nil
	}
	rsList, err := c.replicaSetsFor(ctx, d, sel)
	if err != nil {
		return err
	}
	if d.DeletionTimestamp != nil {
		return c.syncStatusOnly(ctx, d, rsList)
	}
	if err := c.checkPausedConditions(ctx, d); err != nil {
		return err
	}
	if d.Spec.Paused {
		return c.syncScale(ctx, d, rsList)
	}
	scaling, err := c.isScalingEvent(ctx, d, rsList)
	if err != nil {
		return err
	}
	if scaling {
		return c.syncScale(ctx, d, rsList)
	}
	if d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		return c.rolloutRecreate(ctx, d, rsList, sel)
	}
	return c.rolloutRolling(ctx, d, rsList)
}

// replicaSetsFor returns the ReplicaSets d owns after claiming, each in
// the newest version known (the cache's or the controller's last write).
func (c *Controller) replicaSetsFor(ctx context.Context, d *appsv1.Deployment, sel meta.Selector) ([]*appsv1.ReplicaSet, error) {
	seen := map[string]bool{}
	var cands []*appsv1.ReplicaSet
	add := func(rs *appsv1.ReplicaSet) {
		if rs.Namespace == d.Namespace && !seen[rs.Name] {
			seen[rs.Name] = true
			cands = append(cands, rs)
		}
	}
	if c.ownerUIDs {
		owned, _ := c.rss.ByIndex(controller.IndexOwnerUID, d.UID)
		for _, rs := range owned {
			add(rs)
		}
	} else {
		for _, rs := range c.rss.ListNamespace(d.Namespace, meta.Everything()) {
			if meta.IsControlledBy(&rs.ObjectMeta, d.UID) {
				add(rs)
			}
		}
	}
	for _, rs := range c.rss.ListNamespace(d.Namespace, sel) {
		add(rs)
	}
	ref := controller.NewControllerRef(d, appsv1.SchemeGroupVersion, "Deployment")
	cl := controller.Claimer[*appsv1.ReplicaSet]{
		Owner:    d,
		Selector: sel,
		CanAdopt: controller.RecheckOwner(d, "Deployment", c.api.getDeployment),
		Adopt: func(ctx context.Context, rs *appsv1.ReplicaSet) error {
			return c.api.patchReplicaSet(ctx, rs.Namespace, rs.Name, controller.AdoptPatch(ref, rs.UID))
		},
		Release: func(ctx context.Context, rs *appsv1.ReplicaSet) error {
			return c.api.patchReplicaSet(ctx, rs.Namespace, rs.Name, controller.ReleasePatch(d.UID, rs.UID))
		},
	}
	claimed, err := cl.Claim(ctx, cands)
	for i, rs := range claimed {
		claimed[i] = c.rsWritten.Newest(rs)
	}
	return claimed, err
}

// refresh replaces each ReplicaSet by the newest version known.
func (c *Controller) refresh(rss []*appsv1.ReplicaSet) []*appsv1.ReplicaSet {
	out := make([]*appsv1.ReplicaSet, 0, len(rss))
	for _, rs := range rss {
		if rs != nil {
			out = append(out, c.rsWritten.Newest(rs))
		}
	}
	return out
}

func (c *Controller) refreshOne(rs *appsv1.ReplicaSet) *appsv1.ReplicaSet {
	if rs == nil {
		return nil
	}
	return c.rsWritten.Newest(rs)
}

// withNew returns olds plus newRS (if any), in a new slice.
func withNew(olds []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) []*appsv1.ReplicaSet {
	out := append(make([]*appsv1.ReplicaSet, 0, len(olds)+1), olds...)
	if newRS != nil {
		out = append(out, newRS)
	}
	return out
}

// updateStatus writes d's status; d takes the stored version.
func (c *Controller) updateStatus(ctx context.Context, d *appsv1.Deployment) error {
	updated, err := c.api.updateDeploymentStatus(ctx, d)
	if err != nil {
		return fmt.Errorf("update status of Deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	c.dWritten.Mutated(updated)
	*d = *updated.DeepCopy()
	return nil
}

// setRevision makes d's revision annotation revision (a metadata write:
// the status subresource cannot change annotations); d takes the stored
// version. The patch carries d's resourceVersion, so a Deployment changed
// meanwhile is not written on a stale reading.
func (c *Controller) setRevision(ctx context.Context, d *appsv1.Deployment, rev string) error {
	if rev == "" || d.Annotations[appsv1.RevisionAnnotation] == rev {
		return nil
	}
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q},"resourceVersion":%q}}`, appsv1.RevisionAnnotation, rev, d.ResourceVersion)
	updated, err := c.api.patchDeployment(ctx, d.Namespace, d.Name, []byte(patch))
	if err != nil {
		return fmt.Errorf("set revision of Deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	c.dWritten.Mutated(updated)
	*d = *updated.DeepCopy()
	return nil
}

// getAll finds the new and old ReplicaSets, bringing the new one's
// annotations and the Deployment's revision up to date; with create, it
// creates the new ReplicaSet if there is none.
func (c *Controller) getAll(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet, create bool) (*appsv1.ReplicaSet, []*appsv1.ReplicaSet, error) {
	rsList = c.refresh(rsList) // earlier steps of this reconcile may have written some
	existing := findNewReplicaSet(d, rsList)
	olds := oldReplicaSets(rsList, existing)
	newRS, err := c.getNewReplicaSet(ctx, d, existing, olds, create)
	return newRS, olds, err
}

func (c *Controller) getNewReplicaSet(ctx context.Context, d *appsv1.Deployment, existing *appsv1.ReplicaSet, olds []*appsv1.ReplicaSet, create bool) (*appsv1.ReplicaSet, error) {
	newRevision := strconv.FormatInt(maxRevision(olds)+1, 10)
	now := c.clk.Now()
	if existing != nil {
		rs := existing.DeepCopy()
		annotated := setNewReplicaSetAnnotations(d, rs, newRevision, true)
		if annotated || rs.Spec.MinReadySeconds != d.Spec.MinReadySeconds {
			rs.Spec.MinReadySeconds = d.Spec.MinReadySeconds
			return c.updateReplicaSet(ctx, rs)
		}
		if err := c.setRevision(ctx, d, rs.Annotations[appsv1.RevisionAnnotation]); err != nil {
			return nil, err
		}
		if hasProgressDeadline(d) && getCondition(&d.Status, appsv1.DeploymentProgressing) == nil {
			setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonFoundNewReplicaSet,
				fmt.Sprintf("Found new replica set %q", rs.Name), now))
			if err := c.updateStatus(ctx, d); err != nil {
				return nil, err
			}
		}
		return existing, nil
	}
	if !create {
		return nil, nil
	}

	hash := ComputeHash(&d.Spec.Template, d.Status.CollisionCount)
	template := d.Spec.Template.DeepCopy()
	template.Labels = withLabel(d.Spec.Template.Labels, appsv1.DefaultDeploymentUniqueLabelKey, hash)
	selector := meta.DeepCopyLabelSelector(d.Spec.Selector)
	selector.MatchLabels = withLabel(selector.MatchLabels, appsv1.DefaultDeploymentUniqueLabelKey, hash)
	rs := &appsv1.ReplicaSet{
		TypeMeta: meta.TypeMeta{APIVersion: appsv1.SchemeGroupVersion, Kind: "ReplicaSet"},
		ObjectMeta: meta.ObjectMeta{
			Name:            d.Name + "-" + hash,
			Namespace:       d.Namespace,
			OwnerReferences: []meta.OwnerReference{controller.NewControllerRef(d, appsv1.SchemeGroupVersion, "Deployment")},
			Labels:          template.Labels,
		},
		Spec: appsv1.ReplicaSetSpec{
			Replicas:        meta.Int32p(0),
			MinReadySeconds: d.Spec.MinReadySeconds,
			Selector:        selector,
			Template:        *template,
		},
	}
	n := newRSNewReplicas(d, withNew(olds, rs), rs)
	rs.Spec.Replicas = meta.Int32p(n)
	setNewReplicaSetAnnotations(d, rs, newRevision, false)

	created, err := c.api.createReplicaSet(ctx, rs)
	alreadyExists := false
	switch {
	case meta.IsAlreadyExists(err):
		alreadyExists = true
		found, getErr := c.api.getReplicaSet(ctx, rs.Namespace, rs.Name)
		if getErr != nil {
			return nil, fmt.Errorf("read existing ReplicaSet %s/%s: %w", rs.Namespace, rs.Name, getErr)
		}
		if ref := meta.GetControllerOf(&found.ObjectMeta); ref != nil && ref.UID == d.UID && equalIgnoreHash(&d.Spec.Template, &found.Spec.Template) {
			// Ours, from an earlier reconcile the cache has not caught up with.
			created = found
			break
		}
		// A hash collision: another template (or someone else's
		// ReplicaSet) has the name. Bump collisionCount; the next
		// reconcile computes another hash.
		var cc int32
		if d.Status.CollisionCount != nil {
			cc = *d.Status.CollisionCount
		}
		d.Status.CollisionCount = meta.Int32p(cc + 1)
		if err := c.updateStatus(ctx, d); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("ReplicaSet %s/%s exists and does not hold the Deployment's template (hash collision); collisionCount is now %d", rs.Namespace, rs.Name, cc+1)
	case controller.IsNamespaceTerminating(err):
		return nil, err // nothing to report: the Deployment is going away
	case err != nil:
		msg := fmt.Sprintf("Failed to create new replica set %q: %v", rs.Name, err)
		if hasProgressDeadline(d) {
			setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionFalse, ReasonFailedRSCreate, msg, now))
			if uerr := c.updateStatus(ctx, d); uerr != nil {
				c.log.Debug("could not record the create failure", "err", uerr)
			}
		}
		c.recorder.Eventf(d, corev1.EventTypeWarning, ReasonFailedCreate, "%s", msg)
		return nil, fmt.Errorf("create ReplicaSet %s/%s: %w", rs.Namespace, rs.Name, err)
	}
	c.rsWritten.Mutated(created)
	if !alreadyExists && n > 0 {
		c.recorder.Eventf(d, corev1.EventTypeNormal, ReasonScalingReplicaSet, "Scaled up replica set %s to %d", created.Name, n)
	}
	if err := c.setRevision(ctx, d, newRevision); err != nil {
		return nil, err
	}
	if !alreadyExists && hasProgressDeadline(d) {
		setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonNewReplicaSetCreated,
			fmt.Sprintf("Created new replica set %q", created.Name), now))
		if err := c.updateStatus(ctx, d); err != nil {
			return nil, err
		}
	}
	return created, nil
}

func (c *Controller) updateReplicaSet(ctx context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
	updated, err := c.api.updateReplicaSet(ctx, rs)
	if err != nil {
		return nil, fmt.Errorf("update ReplicaSet %s/%s: %w", rs.Namespace, rs.Name, err)
	}
	c.rsWritten.Mutated(updated)
	return updated, nil
}

// scaleAndRecord scales rs to n (and records an event); it reports whether
// the size changed.
func (c *Controller) scaleAndRecord(ctx context.Context, rs *appsv1.ReplicaSet, n int32, d *appsv1.Deployment) (bool, *appsv1.ReplicaSet, error) {
	if specReplicas(rs) == n {
		return false, rs, nil
	}
	return c.scaleReplicaSet(ctx, rs, n, d)
}

// scaleReplicaSet sets rs's replicas to n and its replica annotations to
// d's; it reports whether the size changed.
func (c *Controller) scaleReplicaSet(ctx context.Context, rs *appsv1.ReplicaSet, n int32, d *appsv1.Deployment) (bool, *appsv1.ReplicaSet, error) {
	old := specReplicas(rs)
	sizeChanges := old != n
	desired, maxTotal := deploymentReplicas(d), deploymentReplicas(d)+maxSurge(d)
	if !sizeChanges && !replicasAnnotationsNeedUpdate(rs, desired, maxTotal) {
		return false, rs, nil
	}
	cp := rs.DeepCopy()
	cp.Spec.Replicas = meta.Int32p(n)
	setReplicasAnnotations(cp, desired, maxTotal)
	updated, err := c.updateReplicaSet(ctx, cp)
	if err != nil {
		return false, rs, err
	}
	if sizeChanges {
		op := "up"
		if n < old {
			op = "down"
		}
		c.recorder.Eventf(d, corev1.EventTypeNormal, ReasonScalingReplicaSet, "Scaled %s replica set %s to %d from %d", op, rs.Name, n, old)
	}
	return sizeChanges, updated, nil
}

// isScalingEvent reports whether only the Deployment's replicas changed:
// an active ReplicaSet records other desired replicas.
func (c *Controller) isScalingEvent(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) (bool, error) {
	newRS, olds, err := c.getAll(ctx, d, rsList, false)
	if err != nil {
		return false, err
	}
	for _, rs := range activeReplicaSets(c.refresh(withNew(olds, newRS))) {
		if desired, ok := intAnnotation(rs, appsv1.DesiredReplicasAnnotation); ok && desired != deploymentReplicas(d) {
			return true, nil
		}
	}
	return false, nil
}

// syncScale scales and updates status, without rolling anything out (a
// paused Deployment, or a scaling event).
func (c *Controller) syncScale(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) error {
	newRS, olds, err := c.getAll(ctx, d, rsList, false)
	if err != nil {
		return err
	}
	newRS, olds = c.refreshOne(newRS), c.refresh(olds)
	if err := c.scale(ctx, d, newRS, olds); err != nil {
		return err
	}
	if d.Spec.Paused {
		if err := c.cleanup(ctx, c.refresh(olds), d); err != nil {
			return err
		}
	}
	return c.syncStatus(ctx, c.refresh(withNew(olds, newRS)), c.refreshOne(newRS), d)
}

func (c *Controller) syncStatusOnly(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) error {
	newRS, olds, err := c.getAll(ctx, d, rsList, false)
	if err != nil {
		return err
	}
	return c.syncStatus(ctx, c.refresh(withNew(olds, newRS)), c.refreshOne(newRS), d)
}

// scale sizes the ReplicaSets for the Deployment's replicas: the only
// active one gets them all; otherwise, during a rolling update, the
// difference is shared in proportion to their sizes.
func (c *Controller) scale(ctx context.Context, d *appsv1.Deployment, newRS *appsv1.ReplicaSet, olds []*appsv1.ReplicaSet) error {
	if rs := findActiveOrLatest(newRS, olds); rs != nil {
		if specReplicas(rs) == deploymentReplicas(d) {
			return nil
		}
		_, _, err := c.scaleReplicaSet(ctx, rs, deploymentReplicas(d), d)
		return err
	}
	if isSaturated(d, newRS) {
		for _, old := range activeReplicaSets(olds) {
			if _, _, err := c.scaleAndRecord(ctx, old, 0, d); err != nil {
				return err
			}
		}
		return nil
	}
	if !isRollingUpdate(d) {
		return nil
	}
	all := activeReplicaSets(withNew(olds, newRS))
	allowed := int32(0)
	if deploymentReplicas(d) > 0 {
		allowed = deploymentReplicas(d) + maxSurge(d)
	}
	toAdd := allowed - sumSpec(all)
	if toAdd > 0 {
		// Grow only into room that is free now: pods of ReplicaSets scaled
		// down earlier may still be running.
		toAdd = min(toAdd, allowed-sumLive(withNew(olds, newRS)))
		if toAdd <= 0 {
			return nil // a ReplicaSet update will bring us back
		}
	}
	switch {
	case toAdd > 0:
		sortBySizeNewer(all)
	case toAdd < 0:
		sortBySizeOlder(all)
	}
	sizes := make(map[string]int32, len(all))
	var added int32
	for _, rs := range all {
		if toAdd != 0 {
			p := proportion(rs, d, toAdd, added)
			sizes[rs.Name] = specReplicas(rs) + p
			added += p
		} else {
			sizes[rs.Name] = specReplicas(rs)
		}
	}
	for i, rs := range all {
		if i == 0 && toAdd != 0 {
			// The leftover goes to the largest ReplicaSet.
			sizes[rs.Name] = max(sizes[rs.Name]+toAdd-added, 0)
		}
		if _, _, err := c.scaleReplicaSet(ctx, rs, sizes[rs.Name], d); err != nil {
			return err
		}
	}
	return nil
}

// cleanup deletes the oldest ReplicaSets beyond revisionHistoryLimit that
// have no pods and are fully observed.
func (c *Controller) cleanup(ctx context.Context, olds []*appsv1.ReplicaSet, d *appsv1.Deployment) error {
	if d.Spec.RevisionHistoryLimit == nil {
		return nil
	}
	var alive []*appsv1.ReplicaSet
	for _, rs := range olds {
		if rs != nil && rs.DeletionTimestamp == nil {
			alive = append(alive, rs)
		}
	}
	diff := len(alive) - int(*d.Spec.RevisionHistoryLimit)
	if diff <= 0 {
		return nil
	}
	sortByRevision(alive)
	for _, rs := range alive[:diff] {
		if rs.Status.Replicas != 0 || specReplicas(rs) != 0 || rs.Generation > rs.Status.ObservedGeneration {
			continue
		}
		c.log.Debug("deleting old ReplicaSet", "replicaset", rs.Name, "deployment", d.Name)
		if err := c.api.deleteReplicaSet(ctx, rs.Namespace, rs.Name); err != nil && !meta.IsNotFound(err) {
			return fmt.Errorf("delete old ReplicaSet %s/%s: %w", rs.Namespace, rs.Name, err)
		}
	}
	return nil
}

// checkPausedConditions records pausing and resuming in the Progressing
// condition (unless the rollout already timed out).
func (c *Controller) checkPausedConditions(ctx context.Context, d *appsv1.Deployment) error {
	if !hasProgressDeadline(d) {
		return nil
	}
	cond := getCondition(&d.Status, appsv1.DeploymentProgressing)
	if cond != nil && cond.Reason == ReasonProgressDeadline {
		return nil
	}
	paused := cond != nil && cond.Reason == ReasonPaused
	now := c.clk.Now()
	switch {
	case d.Spec.Paused && !paused:
		setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, ReasonPaused, "Deployment is paused", now))
	case !d.Spec.Paused && paused:
		setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, ReasonResumed, "Deployment is resumed", now))
	default:
		return nil
	}
	return c.updateStatus(ctx, d)
}

func withLabel(m map[string]string, k, v string) map[string]string {
	out := maps.Clone(m)
	if out == nil {
		out = map[string]string{}
	}
	out[k] = v
	return out
}
