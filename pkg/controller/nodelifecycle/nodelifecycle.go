// Package nodelifecycle is the node lifecycle controller: it notices
// nodes whose kubelet went silent, marks them, and moves their pods away.
//
// A kubelet shows it is alive by renewing its node's Lease
// (kube-node-lease/NODE) and by posting node status. The controller
// remembers when it last saw either change, on its own clock (the
// kubelet's clock is never compared with it), and judges each node:
//
//   - unreachable: nothing for NodeMonitorGracePeriod (40s). The node's
//     Ready condition (and pressure conditions) become Unknown, reason
//     NodeStatusUnknown, "Kubelet stopped posting node status.", and it
//     gets the taints node.kubernetes.io/unreachable:NoSchedule and
//     :NoExecute;
//   - notReady: the kubelet is alive but reports Ready=False: taints
//     node.kubernetes.io/not-ready:NoSchedule and :NoExecute;
//   - healthy: the managed taints are removed. The kubelet sets Ready=True
//     itself when it posts again.
//
// A node seen for the first time (at start-up, or by a new leader) gets a
// full grace period, but one already marked Ready=Unknown stays
// unreachable, its taints in place, until its kubelet is heard from.
//
// Eviction is a simplified form of Kubernetes' taint-based eviction,
// counted from the NoExecute taint's timeAdded: a pod that does not
// tolerate the taint is deleted after PodEvictionTimeout (5m); a pod that
// tolerates it with tolerationSeconds after that many seconds; one that
// tolerates it without tolerationSeconds stays. Pods of an unreachable
// node are deleted with gracePeriodSeconds=0 (their kubelet, which would
// finish a graceful deletion, is gone, so pods already terminating are
// forced too); pods of a notReady node are deleted gracefully.
//
// Every node is re-judged every NodeMonitorPeriod (5s), when its node
// object or lease changes, and when its next deadline comes.
package nodelifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	coordinationv1 "github.com/kl-dev/kl/pkg/api/coordination/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/client/clock"
	"github.com/kl-dev/kl/pkg/client/informer"
	"github.com/kl-dev/kl/pkg/controller"
	"github.com/kl-dev/kl/pkg/record"
)

// Name is the controller's name in --controllers and logs.
const Name = "nodelifecycle"

// Defaults of Config, as in Kubernetes.
const (
	DefaultNodeMonitorGracePeriod = 40 * time.Second
	DefaultPodEvictionTimeout     = 5 * time.Minute
	DefaultNodeMonitorPeriod      = 5 * time.Second
)

// Event reasons.
const (
	ReasonNodeNotReady         = "NodeNotReady"
	ReasonTaintManagerEviction = "TaintManagerEviction"
)

const fieldManager = "node-lifecycle-controller"

// Config configures the controller.
type Config struct {
	// Client writes nodes and deletes pods.
	Client *client.Client
	// Nodes, Leases and Pods are the shared informers
	// (controller.Informers.Nodes, Leases and Pods); Pods must have the
	// controller.IndexNodeName index.
	Nodes  *informer.Informer[*corev1.Node]
	Leases *informer.Informer[*coordinationv1.Lease]
	Pods   *informer.Informer[*corev1.Pod]
	// NodeMonitorGracePeriod is how long a kubelet may stay silent before
	// its node is unreachable (0: DefaultNodeMonitorGracePeriod).
	NodeMonitorGracePeriod time.Duration
	// PodEvictionTimeout is how long pods that do not tolerate the taint
	// stay on an unreachable or not ready node (0: DefaultPodEvictionTimeout).
	PodEvictionTimeout time.Duration
	// NodeMonitorPeriod is how often every node is judged again
	// (0: DefaultNodeMonitorPeriod).
	NodeMonitorPeriod time.Duration
	// Recorder receives Events on nodes and evicted pods (nil: none).
	Recorder record.Recorder
	// Clock tells the time (nil: the real clock).
	Clock clock.Clock
	// Logger (nil: discard).
	Logger *slog.Logger
}

// Controller is the node lifecycle controller.
type Controller struct {
	cfg      Config
	loop     *controller.Loop
	nodes    informer.Lister[*corev1.Node]
	leases   informer.Lister[*coordinationv1.Lease]
	pods     informer.Lister[*corev1.Pod]
	nodeAPI  *client.Resource[corev1.Node, *corev1.Node]
	podAPI   *client.Resource[corev1.Pod, *corev1.Pod]
	health   *tracker
	clk      clock.Clock
	recorder record.Recorder
	log      *slog.Logger
}

var _ controller.Controller = (*Controller)(nil)

// New returns the controller; Run starts it.
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil || cfg.Nodes == nil || cfg.Leases == nil || cfg.Pods == nil {
		return nil, errors.New("node lifecycle controller: Client, Nodes, Leases and Pods are required")
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"node monitor grace period", &cfg.NodeMonitorGracePeriod, DefaultNodeMonitorGracePeriod},
		{"pod eviction timeout", &cfg.PodEvictionTimeout, DefaultPodEvictionTimeout},
		{"node monitor period", &cfg.NodeMonitorPeriod, DefaultNodeMonitorPeriod},
	} {
		if *d.v < 0 {
			return nil, fmt.Errorf("node lifecycle controller: %s must not be negative, got %v", d.name, *d.v)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
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
		cfg:      cfg,
		nodes:    cfg.Nodes.Lister(),
		leases:   cfg.Leases.Lister(),
		pods:     cfg.Pods.Lister(),
		nodeAPI:  client.NewResource[corev1.Node](cfg.Client, controller.NodesResource, false),
		podAPI:   client.NewResource[corev1.Pod](cfg.Client, controller.PodsResource, true),
		health:   newTracker(),
		clk:      cfg.Clock,
		recorder: cfg.Recorder,
		log:      cfg.Logger.With("controller", Name),
	}
	c.loop = controller.NewLoop(Name, cfg.Clock, c.reconcile, cfg.Logger, cfg.Nodes, cfg.Leases, cfg.Pods)

	cfg.Nodes.AddEventHandler(informer.HandlerFuncs[*corev1.Node]{
		AddFunc:    c.nodeChanged,
		UpdateFunc: func(_, n *corev1.Node) { c.nodeChanged(n) },
		DeleteFunc: func(n *corev1.Node, _ bool) { c.health.forget(n.Name) },
	})
	leaseChanged := func(l *coordinationv1.Lease) {
		if l.Namespace != meta.NamespaceNodeLease {
			return
		}
		// Note the renewal at once, on this clock: the time the change
		// was seen is what counts, not the time written in the lease.
		if n, ok := c.nodes.Get("", l.Name); ok {
			c.health.observe(n, l, c.clk.Now())
			c.loop.Enqueue(n.Name)
		}
	}
	cfg.Leases.AddEventHandler(informer.HandlerFuncs[*coordinationv1.Lease]{
		AddFunc:    leaseChanged,
		UpdateFunc: func(_, l *coordinationv1.Lease) { leaseChanged(l) },
	})
	return c, nil
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Run implements controller.Controller: it judges every node every
// NodeMonitorPeriod and runs the workers until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.monitor(ctx)
	}()
	err := c.loop.Run(ctx, workers)
	<-done
	return err
}

// monitor queues every node each NodeMonitorPeriod until ctx ends. It is
// the safety net of the event-driven and deadline-driven queueing.
func (c *Controller) monitor(ctx context.Context) {
	for {
		t := c.clk.NewTimer(c.cfg.NodeMonitorPeriod)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
		for _, n := range c.nodes.List(meta.Everything()) {
			c.loop.Enqueue(n.Name)
		}
	}
}

func (c *Controller) nodeChanged(n *corev1.Node) {
	lease, _ := c.leases.Get(meta.NamespaceNodeLease, n.Name)
	c.health.observe(n, lease, c.clk.Now())
	c.loop.Enqueue(n.Name)
}

// reconcile judges one node, writes its conditions and taints, evicts its
// pods whose time has come and queues the node again for its next
// deadline.
func (c *Controller) reconcile(ctx context.Context, name string) error {
	node, ok := c.nodes.Get("", name)
	if !ok {
		c.health.forget(name)
		return nil
	}
	lease, _ := c.leases.Get(meta.NamespaceNodeLease, name)
	now := c.clk.Now()
	h := c.health.observe(node, lease, now)
	state := judge(node, h, now, c.cfg.NodeMonitorGracePeriod)

	var err error
	if state == unreachable {
		if node, err = c.markUnknown(ctx, node, now); err != nil {
			return err
		}
	}
	if node, err = c.setTaints(ctx, node, state, now); err != nil {
		return err
	}
	next, err := c.evict(ctx, node, state, now)
	if err != nil {
		return err
	}
	if state != unreachable {
		if stale := h.probe.Add(c.cfg.NodeMonitorGracePeriod); next.IsZero() || stale.Before(next) {
			next = stale
		}
	}
	if !next.IsZero() {
		c.loop.EnqueueAfter(name, next.Sub(now))
	}
	return nil
}

// maxWriteAttempts bounds the read-modify-write retries on conflicts (the
// kubelet writes the node's status all the time).
const maxWriteAttempts = 5

// writeNode applies mutate to node (from the cache first, then as read
// from the apiserver after a conflict) and writes it, through the status
// subresource when status is true. mutate reports whether it changed
// anything; when it did not, nothing is written. It returns the node as
// stored, and whether this call wrote it.
func (c *Controller) writeNode(ctx context.Context, node *corev1.Node, status bool, mutate func(*corev1.Node) bool) (*corev1.Node, bool, error) {
	cur := node
	for attempt := 0; ; attempt++ {
		next := cur.DeepCopy()
		if !mutate(next) {
			return cur, false, nil
		}
		var out *corev1.Node
		var err error
		if status {
			out, err = c.nodeAPI.UpdateStatus(ctx, next, client.UpdateOptions{FieldManager: fieldManager})
		} else {
			out, err = c.nodeAPI.Update(ctx, next, client.UpdateOptions{FieldManager: fieldManager})
		}
		if err == nil {
			return out, true, nil
		}
		if !meta.IsConflict(err) || attempt+1 >= maxWriteAttempts {
			return nil, false, fmt.Errorf("update node %s: %w", node.Name, err)
		}
		if cur, err = c.nodeAPI.Get(ctx, node.Name); err != nil {
			return nil, false, fmt.Errorf("get node %s: %w", node.Name, err)
		}
	}
}

// markUnknown sets the node's conditions to Unknown.
func (c *Controller) markUnknown(ctx context.Context, node *corev1.Node, now time.Time) (*corev1.Node, error) {
	out, wrote, err := c.writeNode(ctx, node, true, func(n *corev1.Node) bool {
		return unknownConditions(&n.Status, n.CreationTimestamp.Time, now)
	})
	if err != nil {
		return nil, err
	}
	if wrote {
		c.log.Info("node is unreachable", "node", node.Name)
		c.recorder.Eventf(out, corev1.EventTypeNormal, ReasonNodeNotReady, "Node %s status is now: NodeNotReady", node.Name)
	}
	return out, nil
}

func (c *Controller) setTaints(ctx context.Context, node *corev1.Node, state nodeState, now time.Time) (*corev1.Node, error) {
	out, wrote, err := c.writeNode(ctx, node, false, func(n *corev1.Node) bool {
		taints, changed := desiredTaints(n.Spec.Taints, state, now)
		n.Spec.Taints = taints
		return changed
	})
	if err != nil {
		return nil, err
	}
	if wrote {
		c.log.Info("node taints updated", "node", node.Name, "state", state.String())
	}
	return out, nil
}

// evict deletes the node's pods whose eviction time has come and returns
// the earliest eviction time still ahead (zero if none).
func (c *Controller) evict(ctx context.Context, node *corev1.Node, state nodeState, now time.Time) (time.Time, error) {
	if state == healthy {
		return time.Time{}, nil
	}
	taint := noExecuteTaint(node.Spec.Taints)
	if taint == nil {
		return time.Time{}, nil
	}
	since := now
	if taint.TimeAdded != nil {
		since = taint.TimeAdded.Time
	}
	pods, err := c.pods.ByIndex(controller.IndexNodeName, node.Name)
	if err != nil {
		return time.Time{}, err
	}
	var next time.Time
	var errs []error
	for _, pod := range pods {
		if pod.DeletionTimestamp != nil {
			if state != unreachable {
				continue // its kubelet is finishing it
			}
			if g := pod.DeletionGracePeriodSeconds; g != nil && *g == 0 {
				continue // already forced; only finalizers hold it
			}
		}
		delay, ok := evictionDelay(pod, taint, c.cfg.PodEvictionTimeout)
		if !ok {
			continue // tolerates the taint for ever
		}
		at := since.Add(delay)
		if now.Before(at) {
			if next.IsZero() || at.Before(next) {
				next = at
			}
			continue
		}
		if err := c.deletePod(ctx, pod, state); err != nil {
			errs = append(errs, err)
		}
	}
	return next, errors.Join(errs...)
}

func (c *Controller) deletePod(ctx context.Context, pod *corev1.Pod, state nodeState) error {
	uid := pod.UID
	opts := meta.DeleteOptions{Preconditions: &meta.Preconditions{UID: &uid}}
	if state == unreachable {
		// The kubelet that would finish a graceful deletion is gone.
		opts.GracePeriodSeconds = meta.Int64p(0)
	} else if pod.DeletionTimestamp != nil {
		return nil
	}
	err := c.podAPI.Namespace(pod.Namespace).Delete(ctx, pod.Name, opts)
	if meta.IsNotFound(err) || meta.IsConflict(err) {
		return nil // gone, or another pod now has the name
	}
	if err != nil {
		return fmt.Errorf("evict pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	c.log.Info("evicted pod", "pod", pod.Namespace+"/"+pod.Name, "node", pod.Spec.NodeName, "state", state.String())
	c.recorder.Eventf(pod, corev1.EventTypeNormal, ReasonTaintManagerEviction, "Marking for deletion Pod %s/%s", pod.Namespace, pod.Name)
	return nil
}
