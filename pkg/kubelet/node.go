package kubelet

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	goruntime "runtime"
	"sync"
	"time"

	coordinationv1 "github.com/kl-dev/kl/pkg/api/coordination/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/client/informer"
	"github.com/kl-dev/kl/pkg/kubelet/prober"
	"github.com/kl-dev/kl/pkg/kubelet/runtime"
	"github.com/kl-dev/kl/pkg/version"
)

// node is one node the kubelet hosts: its registration, status and lease,
// its runtime, and a worker per pod bound to it.
type node struct {
	k       *Kubelet
	name    string
	index   int
	podCIDR string
	rt      runtime.Runtime
	prober  prober.Prober
	log     *slog.Logger
	backoff *backoff
	probes  *probeManager

	// runtimeName prefixes container IDs in pod status ("fake://...").
	runtimeName    string
	runtimeVersion string

	inbox *inbox

	mu      sync.Mutex
	workers map[string]*podWorker // by pod UID
	wg      sync.WaitGroup        // workers

	// Node status reporting, owned by the status loop.
	lastReported *corev1.NodeStatus
	lastReport   time.Time
	wasReady     bool
}

func newNode(k *Kubelet, name string, index int, podCIDR string, rt runtime.Runtime) *node {
	n := &node{
		k: k, name: name, index: index, podCIDR: podCIDR, rt: rt, prober: proberFor(rt),
		log:     k.log.With("node", name),
		backoff: newBackoff(k.cfg.CrashLoopBackOffBase, k.cfg.CrashLoopBackOffMax),
		inbox:   newInbox(),
		workers: map[string]*podWorker{},
	}
	n.probes = newProbeManager(n)
	return n
}

// run registers the node and serves it until ctx is cancelled.
func (n *node) run(ctx context.Context) {
	v, err := n.rt.Version(ctx)
	if err != nil {
		n.log.Error("container runtime version", "err", err)
		v = runtime.VersionInfo{RuntimeName: "unknown", RuntimeVersion: "unknown"}
	}
	n.runtimeName, n.runtimeVersion = v.RuntimeName, v.String()
	if !n.register(ctx) {
		return
	}
	n.k.recorder.eventf(n.name, nodeRef(n.name), corev1.EventTypeNormal, reasonStarting, "Starting kubelet.")

	var wg sync.WaitGroup
	wg.Go(func() { n.leaseLoop(ctx) })
	wg.Go(func() { n.statusLoop(ctx) })
	wg.Go(func() { n.runtimeEvents(ctx) })
	defer wg.Wait()

	if !informer.WaitForCacheSync(ctx, n.k.informer) {
		return
	}
	n.cleanupOrphans(ctx)
	n.dispatchLoop(ctx)
	n.wg.Wait()
	n.probes.stopAll()
}

// ---------------------------------------------------------------------------
// Registration and status

// register creates the node, or brings an existing one up to date,
// retrying until it succeeds or ctx ends.
func (n *node) register(ctx context.Context) bool {
	for attempt := 0; ; attempt++ {
		err := n.tryRegister(ctx)
		if err == nil {
			n.log.Info("node registered")
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		n.k.metrics.syncErrors.WithLabelValues(errKindNodeStatus).Inc()
		n.log.Warn("cannot register node, retrying", "err", err)
		if !sleepCtx(ctx, retryDelay(attempt)) {
			return false
		}
	}
}

func (n *node) tryRegister(ctx context.Context) error {
	want := n.nodeObject(ctx)
	created, err := n.k.nodes.Create(ctx, want, client.CreateOptions{})
	if err == nil {
		n.setReported(&created.Status)
		return nil
	}
	if !meta.IsAlreadyExists(err) {
		return fmt.Errorf("create node: %w", err)
	}
	cur, err := n.k.nodes.Get(ctx, n.name)
	if err != nil {
		return fmt.Errorf("get node: %w", err)
	}
	// Reconcile what the kubelet owns of the existing node: its labels
	// and pod range; the status follows.
	changed := false
	upd := *cur
	upd.Labels = maps.Clone(cur.Labels)
	if upd.Labels == nil {
		upd.Labels = map[string]string{}
	}
	for k, v := range want.Labels {
		if upd.Labels[k] != v {
			upd.Labels[k] = v
			changed = true
		}
	}
	if upd.Spec.PodCIDR == "" && want.Spec.PodCIDR != "" {
		upd.Spec.PodCIDR, upd.Spec.PodCIDRs = want.Spec.PodCIDR, want.Spec.PodCIDRs
		changed = true
	}
	if changed {
		if cur, err = n.k.nodes.Update(ctx, &upd, client.UpdateOptions{FieldManager: eventComponent}); err != nil {
			return fmt.Errorf("update node: %w", err)
		}
	}
	cp := *cur
	cp.Status = n.nodeStatus(ctx, &cur.Status, time.Now())
	cp.ResourceVersion = ""
	out, err := n.k.nodes.UpdateStatus(ctx, &cp, client.UpdateOptions{FieldManager: eventComponent})
	if err != nil {
		return fmt.Errorf("update node status: %w", err)
	}
	n.setReported(&out.Status)
	return nil
}

// nodeObject is the node as this kubelet registers it.
func (n *node) nodeObject(ctx context.Context) *corev1.Node {
	labels := map[string]string{
		corev1.LabelHostname:   n.name,
		corev1.LabelOSStable:   goruntime.GOOS,
		corev1.LabelArchStable: goruntime.GOARCH,
	}
	for k, v := range n.k.cfg.NodeLabels {
		labels[k] = v
	}
	node := &corev1.Node{
		ObjectMeta: meta.ObjectMeta{Name: n.name, Labels: labels},
	}
	if n.runtimeName == "fake" {
		node.Spec.PodCIDR, node.Spec.PodCIDRs = n.podCIDR, []string{n.podCIDR}
	}
	node.Status = n.nodeStatus(ctx, nil, time.Now())
	return node
}

// nodeStatus computes the node's status at now. old, if not nil, is the
// last status, whose condition transition times are kept.
func (n *node) nodeStatus(ctx context.Context, old *corev1.NodeStatus, now time.Time) corev1.NodeStatus {
	cfg := &n.k.cfg
	info := n.k.sysInfo
	info.ContainerRuntimeVersion = n.runtimeVersion
	info.KubeletVersion = version.Get().Version
	st := corev1.NodeStatus{
		Capacity:    n.k.capacity.DeepCopy(),
		Allocatable: n.k.capacity.DeepCopy(),
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: cfg.NodeIP},
			{Type: corev1.NodeHostName, Address: n.name},
		},
		NodeInfo: info,
		// The apiserver reaches the kubelet server for logs and exec at
		// the InternalIP and this port.
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(n.k.server.port())}},
	}
	readyStatus, readyReason, readyMsg := corev1.ConditionTrue, "KubeletReady", "kubelet is posting ready status"
	if err := n.rt.Status(ctx); err != nil {
		readyStatus, readyReason, readyMsg = corev1.ConditionFalse, "KubeletNotReady", "container runtime is down: "+err.Error()
	}
	hb := meta.NewTime(now)
	conds := []corev1.NodeCondition{
		{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientMemory", Message: "kubelet has sufficient memory available"},
		{Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasNoDiskPressure", Message: "kubelet has no disk pressure"},
		{Type: corev1.NodePIDPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientPID", Message: "kubelet has sufficient PID available"},
		{Type: corev1.NodeReady, Status: readyStatus, Reason: readyReason, Message: readyMsg},
	}
	for i := range conds {
		c := &conds[i]
		c.LastHeartbeatTime = hb
		c.LastTransitionTime = hb
		if old != nil {
			if _, oc := corev1.GetNodeCondition(old, c.Type); oc != nil && oc.Status == c.Status && !oc.LastTransitionTime.IsZero() {
				c.LastTransitionTime = oc.LastTransitionTime
			}
		}
	}
	st.Conditions = conds
	return st
}

func (n *node) setReported(st *corev1.NodeStatus) {
	cp := *st
	n.lastReported = &cp
	n.lastReport = time.Now()
	_, c := corev1.GetNodeCondition(st, corev1.NodeReady)
	n.wasReady = c != nil && c.Status == corev1.ConditionTrue
}

// statusLoop recomputes the node status every NodeStatusUpdateFrequency
// and posts it when it changed, or at least every
// NodeStatusReportFrequency (the heartbeat times then move on).
func (n *node) statusLoop(ctx context.Context) {
	cfg := &n.k.cfg
	t := time.NewTicker(cfg.NodeStatusUpdateFrequency)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := n.syncNodeStatus(ctx); err != nil && ctx.Err() == nil {
			n.k.metrics.syncErrors.WithLabelValues(errKindNodeStatus).Inc()
			n.log.Warn("cannot update node status", "err", err)
		}
	}
}

func (n *node) syncNodeStatus(ctx context.Context) error {
	now := time.Now()
	st := n.nodeStatus(ctx, n.lastReported, now)
	if n.lastReported != nil && now.Sub(n.lastReport) < n.k.cfg.NodeStatusReportFrequency && sameNodeStatus(&st, n.lastReported) {
		return nil
	}
	cur, err := n.k.nodes.Get(ctx, n.name)
	if meta.IsNotFound(err) {
		// The node was deleted: register it again.
		n.log.Info("node object is gone, registering again")
		return n.tryRegister(ctx)
	}
	if err != nil {
		return fmt.Errorf("get node: %w", err)
	}
	cp := *cur
	cp.ResourceVersion = ""
	cp.Status = st
	// Keep fields other writers may own.
	cp.Status.Phase = cur.Status.Phase
	out, err := n.k.nodes.UpdateStatus(ctx, &cp, client.UpdateOptions{FieldManager: eventComponent})
	if err != nil {
		return fmt.Errorf("update node status: %w", err)
	}
	ready := n.wasReady
	n.setReported(&out.Status)
	if n.wasReady != ready {
		reason, msg := reasonNodeNotReady, "Node %s status is now: NodeNotReady"
		if n.wasReady {
			reason, msg = reasonNodeReady, "Node %s status is now: NodeReady"
		}
		n.k.recorder.eventf(n.name, nodeRef(n.name), corev1.EventTypeNormal, reason, msg, n.name)
	}
	return nil
}

// sameNodeStatus compares two statuses ignoring heartbeat times.
func sameNodeStatus(a, b *corev1.NodeStatus) bool {
	strip := func(s *corev1.NodeStatus) []byte {
		cp := *s
		cp.Conditions = append([]corev1.NodeCondition(nil), s.Conditions...)
		for i := range cp.Conditions {
			cp.Conditions[i].LastHeartbeatTime = meta.Time{}
		}
		cp.Phase = ""
		data, _ := json.Marshal(&cp)
		return data
	}
	return string(strip(a)) == string(strip(b))
}

// leaseLoop keeps the node's Lease in kube-node-lease renewed every
// quarter of its duration, as Kubernetes' kubelet does.
func (n *node) leaseLoop(ctx context.Context) {
	interval := n.k.cfg.NodeLeaseDuration / 4
	var lease *coordinationv1.Lease
	for {
		var err error
		lease, err = n.renewLease(ctx, lease)
		if err != nil && ctx.Err() == nil {
			n.k.metrics.syncErrors.WithLabelValues(errKindLease).Inc()
			n.log.Warn("cannot renew node lease", "err", err)
		}
		wait := interval
		if err != nil {
			wait = min(interval, time.Second)
		}
		if !sleepCtx(ctx, wait) {
			return
		}
	}
}

// renewLease renews (or creates) the lease; last is the lease as last
// written (nil to read it first).
func (n *node) renewLease(ctx context.Context, last *coordinationv1.Lease) (*coordinationv1.Lease, error) {
	now := meta.NowMicro()
	if last == nil {
		cur, err := n.k.leases.Get(ctx, n.name)
		switch {
		case meta.IsNotFound(err):
			return n.createLease(ctx, now)
		case err != nil:
			return nil, fmt.Errorf("get lease: %w", err)
		}
		last = cur
	}
	upd := *last
	upd.Spec.HolderIdentity = meta.Stringp(n.name)
	upd.Spec.LeaseDurationSeconds = meta.Int32p(n.leaseSeconds())
	upd.Spec.RenewTime = &now
	if len(upd.OwnerReferences) == 0 {
		upd.OwnerReferences = n.nodeOwnerRefs(ctx)
	}
	out, err := n.k.leases.Update(ctx, &upd, client.UpdateOptions{FieldManager: eventComponent})
	if meta.IsConflict(err) || meta.IsNotFound(err) {
		// Someone else wrote it, or it was deleted: read it again next time.
		return nil, fmt.Errorf("update lease: %w", err)
	}
	if err != nil {
		return last, fmt.Errorf("update lease: %w", err)
	}
	return out, nil
}

func (n *node) createLease(ctx context.Context, now meta.MicroTime) (*coordinationv1.Lease, error) {
	l := &coordinationv1.Lease{
		ObjectMeta: meta.ObjectMeta{Name: n.name, Namespace: meta.NamespaceNodeLease, OwnerReferences: n.nodeOwnerRefs(ctx)},
		Spec: coordinationv1.LeaseSpec{
			HolderIdentity:       meta.Stringp(n.name),
			LeaseDurationSeconds: meta.Int32p(n.leaseSeconds()),
			RenewTime:            &now,
		},
	}
	out, err := n.k.leases.Create(ctx, l, client.CreateOptions{FieldManager: eventComponent})
	if err != nil {
		return nil, fmt.Errorf("create lease: %w", err)
	}
	return out, nil
}

// leaseSeconds is the lease duration in whole seconds (at least 1).
func (n *node) leaseSeconds() int32 {
	return int32(max(1, (n.k.cfg.NodeLeaseDuration+time.Second-1)/time.Second))
}

// nodeOwnerRefs makes the node own its lease, so deleting the node
// deletes the lease.
func (n *node) nodeOwnerRefs(ctx context.Context) []meta.OwnerReference {
	node, err := n.k.nodes.Get(ctx, n.name)
	if err != nil {
		return nil
	}
	return []meta.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID}}
}

// ---------------------------------------------------------------------------
// Pods

// enqueue hands a pod update (or its deletion) to the dispatcher.
func (n *node) enqueue(p *corev1.Pod, gone bool) { n.inbox.push(podUpdate{pod: p, gone: gone}) }

// dispatchLoop starts a worker per pod and feeds it updates; it also
// wakes every worker each ResyncInterval. It returns when ctx ends.
func (n *node) dispatchLoop(ctx context.Context) {
	resync := time.NewTicker(n.k.cfg.ResyncInterval)
	defer resync.Stop()
	for {
		updates, ok := n.inbox.pop(ctx, resync.C)
		if !ok {
			return
		}
		if updates == nil { // resync
			n.mu.Lock()
			for _, w := range n.workers {
				w.wakeLocked()
			}
			n.mu.Unlock()
			continue
		}
		for _, u := range updates {
			n.deliver(ctx, u)
		}
	}
}

// deliver gives u to its pod's worker, starting one if need be.
func (n *node) deliver(ctx context.Context, u podUpdate) {
	n.mu.Lock()
	defer n.mu.Unlock()
	uid := u.pod.UID
	w, ok := n.workers[uid]
	if !ok {
		w = newPodWorker(n, uid)
		n.workers[uid] = w
		n.wg.Go(func() { w.run(ctx) })
	}
	w.pod = u.pod
	if u.gone {
		w.gone = true
	}
	w.wakeLocked()
}

// wake nudges the worker of pod uid, if any.
func (n *node) wake(uid string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if w, ok := n.workers[uid]; ok {
		w.wakeLocked()
	}
}

// runtimeEvents wakes pod workers when their containers change, so an exit
// is handled at once; when the stream breaks it re-subscribes and wakes
// every worker, since events may have been missed.
func (n *node) runtimeEvents(ctx context.Context) {
	for attempt := 0; ctx.Err() == nil; attempt++ {
		events, err := n.rt.Events(ctx)
		if err != nil {
			n.k.metrics.syncErrors.WithLabelValues(errKindRuntime).Inc()
			n.log.Warn("cannot watch container runtime events", "err", err)
			if !sleepCtx(ctx, retryDelay(attempt)) {
				return
			}
			continue
		}
		if attempt > 0 {
			n.inbox.pushResync()
		}
		for ev := range events {
			if ev.PodUID != "" {
				n.wake(ev.PodUID)
			}
		}
	}
}

// cleanupOrphans removes sandboxes and containers of pods that are not
// bound to this node any more (deleted while the kubelet was down).
func (n *node) cleanupOrphans(ctx context.Context) {
	known := map[string]bool{}
	for _, p := range n.k.informer.Lister().List(meta.Everything()) {
		if p.Spec.NodeName == n.name {
			known[p.UID] = true
		}
	}
	sandboxes, err := n.rt.ListPodSandboxes(ctx, runtime.SandboxFilter{})
	if err != nil {
		n.log.Warn("cannot list sandboxes for orphan cleanup", "err", err)
		return
	}
	containers, err := n.rt.ListContainers(ctx, runtime.ContainerFilter{})
	if err != nil {
		n.log.Warn("cannot list containers for orphan cleanup", "err", err)
		return
	}
	orphans := 0
	for _, c := range containers {
		if known[c.PodUID] {
			continue
		}
		if c.State == runtime.ContainerRunning {
			_ = n.rt.StopContainer(ctx, c.ID, minimumGracePeriod)
		}
		if err := n.rt.RemoveContainer(ctx, c.ID); err != nil {
			n.log.Warn("cannot remove orphaned container", "container", c.ID, "err", err)
		}
		orphans++
	}
	for _, s := range sandboxes {
		if known[s.UID] {
			continue
		}
		if err := n.rt.RemovePodSandbox(ctx, s.ID); err != nil {
			n.log.Warn("cannot remove orphaned sandbox", "sandbox", s.ID, "err", err)
		}
		orphans++
	}
	if orphans > 0 {
		n.log.Info("removed sandboxes and containers of pods that no longer exist", "count", orphans)
	}
	// Volume directories are shared by the nodes this kubelet hosts: keep
	// those of every pod in the informer (all bound to its nodes).
	// A pod bound after this list has no directory until its worker
	// sets it up, which marks it in use.
	bound := map[string]bool{}
	for _, p := range n.k.informer.Lister().List(meta.Everything()) {
		bound[p.UID] = true
	}
	n.k.volumes.cleanupOrphans(func(uid string) bool { return bound[uid] })
}

// minimumGracePeriod is the grace period of containers killed without a
// pod to say otherwise (Kubernetes' minimumGracePeriodInSeconds).
const minimumGracePeriod = 2 * time.Second

// ---------------------------------------------------------------------------
// helpers

// podUpdate is a pod's latest state from the informer.
type podUpdate struct {
	pod  *corev1.Pod
	gone bool
}

// inbox is the unbounded queue between the informer's handler (which must
// not block) and a node's dispatcher.
type inbox struct {
	mu     sync.Mutex
	items  []podUpdate
	resync bool
	signal chan struct{}
}

func newInbox() *inbox { return &inbox{signal: make(chan struct{}, 1)} }

func (b *inbox) push(u podUpdate) {
	b.mu.Lock()
	b.items = append(b.items, u)
	b.mu.Unlock()
	b.poke()
}

func (b *inbox) pushResync() {
	b.mu.Lock()
	b.resync = true
	b.mu.Unlock()
	b.poke()
}

func (b *inbox) poke() {
	select {
	case b.signal <- struct{}{}:
	default:
	}
}

// pop returns the queued updates, or nil (and true) for a resync, waiting
// if need be; false when ctx ends.
func (b *inbox) pop(ctx context.Context, tick <-chan time.Time) ([]podUpdate, bool) {
	for {
		b.mu.Lock()
		items, resync := b.items, b.resync
		b.items, b.resync = nil, false
		b.mu.Unlock()
		if len(items) > 0 {
			if resync {
				b.pushResync() // deliver the updates first, then resync
			}
			return items, true
		}
		if resync {
			return nil, true
		}
		select {
		case <-b.signal:
		case <-tick:
			return nil, true
		case <-ctx.Done():
			return nil, false
		}
	}
}

// retryDelay is 200ms doubling per attempt up to 10s, with jitter.
func retryDelay(attempt int) time.Duration {
	d := min(200*time.Millisecond<<min(attempt, 6), 10*time.Second)
	return d + rand.N(d/4+1)
}

// sleepCtx sleeps d; false if ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
