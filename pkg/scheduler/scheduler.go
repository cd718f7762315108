package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/client/informer"
	"github.com/kl-dev/kl/pkg/leaderelection"
	"github.com/kl-dev/kl/pkg/scheduler/framework"
	"github.com/kl-dev/kl/pkg/scheduler/framework/plugins"
	"github.com/kl-dev/kl/pkg/scheduler/internal/cache"
	"github.com/kl-dev/kl/pkg/scheduler/internal/queue"
)

// Resources the scheduler reads and writes.
var (
	podsGVR   = meta.GroupVersionResource{Version: "v1", Resource: "pods"}
	nodesGVR  = meta.GroupVersionResource{Version: "v1", Resource: "nodes"}
	eventsGVR = meta.GroupVersionResource{Version: "v1", Resource: "events"}
)

// The rate limit of Scheduled events: below it every bound pod gets one;
// in a bigger burst the rest go without (see Config.SkipScheduledEvents).
const (
	scheduledEventsPerSecond = 100
	scheduledEventsBurst     = 500
)

// Scheduler assigns pending pods to nodes. Make it with New and call Run
// once.
type Scheduler struct {
	cfg      Config
	log      *slog.Logger
	fw       *framework.Framework
	registry *prometheus.Registry
	metrics  *metrics
	elector  *leaderelection.Elector
	listener net.Listener

	pods   *client.Resource[corev1.Pod, *corev1.Pod]
	nodes  *client.Resource[corev1.Node, *corev1.Node]
	events *client.Resource[corev1.Event, *corev1.Event]

	started atomic.Bool
	leading atomic.Bool
	current atomic.Pointer[run] // the term in progress, for the queue gauges
}

// New checks cfg, builds the plugin framework of its profile and returns a
// Scheduler; with MetricsAddr set it is already listening there.
// Configuration errors (an unknown plugin, say) are reported here, before
// anything starts.
func New(cfg Config) (*Scheduler, error) {
	if err := cfg.defaults(); err != nil {
		return nil, fmt.Errorf("scheduler config: %w", err)
	}
	reg := cfg.Registry
	if reg == nil {
		reg = plugins.NewInTreeRegistry()
	}
	fw, err := framework.New(reg, plugins.DefaultPlugins(), cfg.Plugins)
	if err != nil {
		return nil, fmt.Errorf("scheduler config: %w", err)
	}
	s := &Scheduler{
		cfg:      cfg,
		log:      cfg.Logger,
		fw:       fw,
		registry: prometheus.NewRegistry(),
		pods:     client.NewResource[corev1.Pod](cfg.Client, podsGVR, true),
		nodes:    client.NewResource[corev1.Node](cfg.Client, nodesGVR, false),
		events:   client.NewResource[corev1.Event](cfg.Client, eventsGVR, true),
	}
	s.metrics = newMetrics(s.registry, func() queue.Lengths {
		if r := s.current.Load(); r != nil {
			return r.queue.Len()
		}
		return queue.Lengths{}
	}, s.leading.Load)
	if cfg.LeaderElect {
		s.elector, err = leaderelection.New(leaderelection.Config{
			Client: cfg.Client, Namespace: cfg.LeaseNamespace, Name: cfg.LeaseName, Identity: cfg.Identity,
			LeaseDuration: cfg.LeaseDuration, RenewDeadline: cfg.RenewDeadline, RetryPeriod: cfg.RetryPeriod,
			Clock: cfg.Clock, Logger: cfg.Logger,
		})
		if err != nil {
			return nil, fmt.Errorf("scheduler config: %w", err)
		}
	}
	if cfg.MetricsAddr != "" && cfg.MetricsAddr != "0" {
		if s.listener, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			return nil, fmt.Errorf("scheduler: metrics address: %w", err)
		}
	}
	return s, nil
}

// Registry returns the registry of the scheduler's metrics, served on
// /metrics.
func (s *Scheduler) Registry() *prometheus.Registry { return s.registry }

// Framework returns the plugin framework of the scheduler's profile.
func (s *Scheduler) Framework() *framework.Framework { return s.fw }

// MetricsAddr returns the address /metrics is served on ("" if none).
func (s *Scheduler) MetricsAddr() string {
	if s.listener == nil {
		return ""
	}
	return s.listener.Addr().String()
}

// IsLeader reports whether the scheduler is scheduling: while it holds the
// lease, or all along without leader election.
func (s *Scheduler) IsLeader() bool { return s.leading.Load() }

// Run schedules pods until ctx is cancelled and returns nil once the
// binds in flight have ended (and, with leader election, the lease is
// released). It serves the metrics all along. With LeaderElect it
// schedules only while it holds the lease; each time it gains it, it
// starts afresh (informers, cache, queue). Run may be called once.
func (s *Scheduler) Run(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("scheduler: Run called twice")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var serveErr error
	if s.listener != nil {
		wg.Go(func() {
			if err := serveMetrics(ctx, s.listener, s.registry, s.log); err != nil {
				serveErr = err
				cancel()
			}
		})
	}
	var err error
	if s.elector == nil {
		err = s.schedule(ctx)
	} else {
		s.log.Info("waiting for the lease", "lease", s.cfg.LeaseNamespace+"/"+s.cfg.LeaseName, "identity", s.elector.Identity())
		var termErr error
		err = s.elector.Run(ctx, func(ctx context.Context) {
			termErr = s.schedule(ctx)
		}, func() {
			s.log.Info("stopped leading", "identity", s.elector.Identity())
		})
		err = errors.Join(err, termErr)
	}
	cancel()
	wg.Wait()
	return errors.Join(err, serveErr)
}

// schedule runs one term: from a fresh cache until ctx is cancelled.
func (s *Scheduler) schedule(ctx context.Context) error {
	s.leading.Store(true)
	defer s.leading.Store(false)
	r := newRun(s)
	s.current.Store(r)
	defer s.current.Store(nil)
	return r.run(ctx)
}

// run is the state of one term of scheduling.
type run struct {
	s        *Scheduler
	fw       *framework.Framework
	log      *slog.Logger
	cache    *cache.Cache
	queue    *queue.Queue
	snapshot *cache.Snapshot
	recorder *recorder

	// writes feeds the writer goroutines that bind pods and update their
	// status (goWrite).
	writes chan func()
	// scheduledEvents limits the rate of Scheduled events.
	scheduledEvents *rate.Limiter

	// nextStartNode rotates where the search for feasible nodes starts, so
	// that all nodes get their turn when not every node is filtered.
	nextStartNode int
}

func newRun(s *Scheduler) *run {
	return &run{
		s:        s,
		fw:       s.fw,
		log:      s.log,
		cache:    cache.New(),
		snapshot: cache.NewSnapshot(),
		queue: queue.New(queue.Config{
			Clock:                s.cfg.Clock,
			InitialBackoff:       s.cfg.PodInitialBackoff,
			MaxBackoff:           s.cfg.PodMaxBackoff,
			UnschedulableTimeout: s.cfg.UnschedulableTimeout,
		}),
		recorder: newRecorder(s.events, s.cfg.SchedulerName, s.cfg.Identity, s.cfg.Clock,
			s.log.With("component", "events"), s.metrics.eventsDropped.Inc),
		writes:          make(chan func()),
		scheduledEvents: rate.NewLimiter(scheduledEventsPerSecond, scheduledEventsBurst),
	}
}

func (r *run) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	podInf, nodeInf := r.s.cfg.Pods, r.s.cfg.Nodes
	ownInformers := podInf == nil
	if ownInformers {
		podInf = informer.New(r.s.pods, informer.Options[*corev1.Pod]{Logger: r.log.With("informer", "pods")})
		nodeInf = informer.New(r.s.nodes, informer.Options[*corev1.Node]{Logger: r.log.With("informer", "nodes")})
	}
	podsSeen, nodesSeen := newSyncTracker(), newSyncTracker()
	podInf.AddEventHandler(informer.HandlerFuncs[*corev1.Pod]{
		AddFunc:    func(p *corev1.Pod) { r.onPodAdd(p); podsSeen.add(1) },
		UpdateFunc: r.onPodUpdate,
		DeleteFunc: func(p *corev1.Pod, _ bool) { r.onPodDelete(p); podsSeen.add(-1) },
	})
	nodeInf.AddEventHandler(informer.HandlerFuncs[*corev1.Node]{
		AddFunc:    func(n *corev1.Node) { r.onNodeAdd(n); nodesSeen.add(1) },
		UpdateFunc: r.onNodeUpdate,
		DeleteFunc: func(n *corev1.Node, _ bool) { r.onNodeDelete(n); nodesSeen.add(-1) },
	})

	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel() // stop the informers and the recorder before waiting for them
	if ownInformers {
		wg.Go(func() { _ = podInf.Run(ctx) })
		wg.Go(func() { _ = nodeInf.Run(ctx) })
	}
	wg.Go(func() { r.recorder.run(ctx) })

	// Decide nothing before the cache holds every node and bound pod:
	// wait for the informers' lists, and for the handlers to have seen
	// them (they run on their own goroutines).
	if !informer.WaitForCacheSync(ctx, podInf, nodeInf) {
		return nil
	}
	podsSeen.setTarget(podInf.Lister().Len())
	nodesSeen.setTarget(nodeInf.Lister().Len())
	for _, t := range []*syncTracker{podsSeen, nodesSeen} {
		select {
		case <-t.done:
		case <-ctx.Done():
			return nil
		}
	}
	var scores []string
	for _, p := range r.fw.ScorePlugins() {
		scores = append(scores, fmt.Sprintf("%s=%d", p.Name, p.Weight))
	}
	r.log.Info("scheduler started", "nodes", r.cache.NodeCount(), "pending", r.queue.Len().Active,
		"filters", strings.Join(r.fw.FilterPlugins(), ","), "scores", strings.Join(scores, ","))

	var writers sync.WaitGroup
	for range r.s.cfg.BindConcurrency {
		writers.Go(func() {
			for write := range r.writes {
				write()
			}
		})
	}
	for ctx.Err() == nil {
		r.scheduleOne(ctx)
	}
	close(r.writes)
	writers.Wait() // the writes in flight end quickly: ctx is cancelled
	return nil
}

// syncTracker tells when an informer's handler has seen at least as many
// objects as the informer's cache held once synced.
type syncTracker struct {
	mu     sync.Mutex
	seen   int
	target int // -1 until set
	done   chan struct{}
	closed bool
}

func newSyncTracker() *syncTracker { return &syncTracker{target: -1, done: make(chan struct{})} }

func (t *syncTracker) add(n int) {
	t.mu.Lock()
	t.seen += n
	t.checkLocked()
	t.mu.Unlock()
}

func (t *syncTracker) setTarget(n int) {
	t.mu.Lock()
	t.target = n
	t.checkLocked()
	t.mu.Unlock()
}

func (t *syncTracker) checkLocked() {
	if !t.closed && t.target >= 0 && t.seen >= t.target {
		t.closed = true
		close(t.done)
	}
}

// Pod and node events. They keep the cache (bound pods, nodes) and the
// queue (pending pods) current, and tell the queue when the cluster
// changed in a way that may let unschedulable pods fit.

func assigned(p *corev1.Pod) bool { return p.Spec.NodeName != "" }

// responsible reports whether the pod is this scheduler's to schedule.
func (r *run) responsible(p *corev1.Pod) bool {
	return p.Spec.SchedulerName == "" || p.Spec.SchedulerName == r.s.cfg.SchedulerName
}

func (r *run) onPodAdd(p *corev1.Pod) {
	switch {
	case assigned(p):
		if !corev1.IsPodTerminal(p) {
			r.cache.AddPod(p)
		}
	case r.responsible(p) && !corev1.IsPodTerminal(p):
		r.queue.Add(p)
	}
}

func (r *run) onPodUpdate(old, p *corev1.Pod) {
	switch {
	case assigned(p) && corev1.IsPodTerminal(p):
		// Finished: its resources are free.
		r.cache.RemovePod(p)
		if !corev1.IsPodTerminal(old) {
			r.queue.MoveAllToActiveOrBackoff()
		}
	case assigned(p):
		if !assigned(old) {
			r.queue.Delete(p) // bound, by us (confirming the assumption) or anyone
		}
		r.cache.UpdatePod(p)
	case r.responsible(p) && !corev1.IsPodTerminal(p):
		r.queue.Update(p)
	default:
		r.queue.Delete(p)
	}
}

func (r *run) onPodDelete(p *corev1.Pod) {
	if assigned(p) {
		r.cache.RemovePod(p)
		r.queue.MoveAllToActiveOrBackoff()
		return
	}
	r.queue.Delete(p)
}

func (r *run) onNodeAdd(n *corev1.Node) {
	r.cache.AddNode(n)
	r.queue.MoveAllToActiveOrBackoff()
}

func (r *run) onNodeUpdate(old, n *corev1.Node) {
	r.cache.UpdateNode(n)
	if nodeSchedulingChanged(old, n) {
		r.queue.MoveAllToActiveOrBackoff()
	}
}

func (r *run) onNodeDelete(n *corev1.Node) {
	r.cache.RemoveNode(n)
}

// nodeSchedulingChanged reports whether a node update may let a pod fit
// that did not: more allocatable, other labels or taints, cordon lifted,
// or the node became ready. (Heartbeats change none of these.)
func nodeSchedulingChanged(old, n *corev1.Node) bool {
	return !old.Status.Allocatable.Equal(n.Status.Allocatable) ||
		!maps.Equal(old.Labels, n.Labels) ||
		!taintsEqual(old.Spec.Taints, n.Spec.Taints) ||
		old.Spec.Unschedulable != n.Spec.Unschedulable ||
		corev1.IsNodeReady(old) != corev1.IsNodeReady(n)
}

func taintsEqual(a, b []corev1.Taint) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Key != b[i].Key || a[i].Value != b[i].Value || a[i].Effect != b[i].Effect {
			return false
		}
	}
	return true
}
