package nodelifecycle

import (
	"math"
	"slices"
	"sync"
	"time"

	coordinationv1 "github.com/kl-dev/kl/pkg/api/coordination/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
)

// health is what the controller knows of one node's kubelet.
type health struct {
	// probe is when the controller last saw the kubelet alive, on the
	// controller's own clock.
	probe time.Time
	// renewTime and heartbeat are the last lease renewTime and Ready
	// lastHeartbeatTime seen. They are the kubelet's clock, so they are
	// only compared for change, never with the controller's time.
	renewTime time.Time
	heartbeat time.Time
	// leaseSeen says whether the node's lease was seen at all: the first
	// sight of a lease (the cache filling up) is not a renewal.
	leaseSeen bool
	// renewed says whether the kubelet was seen alive since the node was
	// first seen (not merely assumed alive then).
	renewed bool
}

// tracker keeps the health of every node. Informer handlers and workers
// update it concurrently.
type tracker struct {
	mu    sync.Mutex
	nodes map[string]*health
}

func newTracker() *tracker { return &tracker{nodes: map[string]*health{}} }

// observe folds what the caches say of a node and its lease (nil if none)
// into the node's health, and returns it. A node seen for the first time
// counts as alive now (it gets a full grace period, also after the
// controller restarts); afterwards only a change of the lease's renewTime
// or of the Ready heartbeat moves the probe time. The first lease seen
// for a node is not a change: informers fill their caches in no
// particular order.
func (t *tracker) observe(node *corev1.Node, lease *coordinationv1.Lease, now time.Time) health {
	renew := leaseRenewTime(lease)
	beat := readyHeartbeat(node)
	t.mu.Lock()
	defer t.mu.Unlock()
	h, ok := t.nodes[node.Name]
	if !ok {
		h = &health{probe: now, renewTime: renew, heartbeat: beat, leaseSeen: lease != nil}
		t.nodes[node.Name] = h
		return *h
	}
	if lease != nil && !h.leaseSeen {
		h.leaseSeen, h.renewTime = true, renew
	}
	if !renew.Equal(h.renewTime) || !beat.Equal(h.heartbeat) {
		h.probe = now
		h.renewTime, h.heartbeat = renew, beat
		h.renewed = true
	}
	return *h
}

// probe returns the node's probe time, if the node was seen.
func (t *tracker) probe(name string) (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	h, ok := t.nodes[name]
	if !ok {
		return time.Time{}, false
	}
	return h.probe, true
}

func (t *tracker) forget(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.nodes, name)
}

func leaseRenewTime(l *coordinationv1.Lease) time.Time {
	if l == nil || l.Spec.RenewTime == nil {
		return time.Time{}
	}
	return l.Spec.RenewTime.Time
}

func readyHeartbeat(n *corev1.Node) time.Time {
	if _, c := corev1.GetNodeCondition(&n.Status, corev1.NodeReady); c != nil {
		return c.LastHeartbeatTime.Time
	}
	return time.Time{}
}

// nodeState is the controller's judgement of a node.
type nodeState int

const (
	// healthy: the kubelet is alive and does not say it is not ready.
	healthy nodeState = iota
	// notReady: the kubelet is alive and reports Ready=False.
	notReady
	// unreachable: the kubelet has not been heard from for the grace
	// period.
	unreachable
)

func (s nodeState) String() string {
	return [...]string{"healthy", "notReady", "unreachable"}[s]
}

// judge returns the state of a node from its health: unreachable when
// the kubelet has been silent for the grace period, or when the node is
// already marked Ready=Unknown and its kubelet has not been heard from
// since the controller started watching it (a restarted controller must
// not lift the taints of a node that is still down); notReady when the
// kubelet reports Ready=False; healthy otherwise.
func judge(node *corev1.Node, h health, now time.Time, grace time.Duration) nodeState {
	if !now.Before(h.probe.Add(grace)) {
		return unreachable
	}
	_, c := corev1.GetNodeCondition(&node.Status, corev1.NodeReady)
	switch {
	case c != nil && c.Status == corev1.ConditionUnknown && !h.renewed:
		return unreachable
	case c != nil && c.Status == corev1.ConditionFalse:
		return notReady
	}
	return healthy
}

// The taints the controller manages, per state (as Kubernetes' node
// lifecycle controller sets them: a NoSchedule one so that nothing new
// lands there, a NoExecute one that evicts what runs there).
var (
	unreachableTaints = []corev1.Taint{
		{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoSchedule},
		{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute},
	}
	notReadyTaints = []corev1.Taint{
		{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule},
		{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoExecute},
	}
)

func managedTaint(t *corev1.Taint) bool {
	return (t.Key == corev1.TaintNodeUnreachable || t.Key == corev1.TaintNodeNotReady) &&
		(t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute)
}

// desiredTaints returns the node's taints for state: taints of others are
// kept as they are, the managed ones the state calls for are kept (with
// their timeAdded) or added, the others removed. NoExecute taints carry
// timeAdded (now, when added), from which evictions count. changed says
// whether the list differs from taints.
func desiredTaints(taints []corev1.Taint, state nodeState, now time.Time) (out []corev1.Taint, changed bool) {
	var want []corev1.Taint
	switch state {
	case unreachable:
		want = unreachableTaints
	case notReady:
		want = notReadyTaints
	}
	for _, t := range taints {
		if !managedTaint(&t) {
			out = append(out, t)
			continue
		}
		if hasTaint(want, &t) {
			if t.Effect == corev1.TaintEffectNoExecute && t.TimeAdded == nil {
				added := meta.NewTime(now)
				t.TimeAdded = &added
				changed = true
			}
			out = append(out, t)
			continue
		}
		changed = true // a managed taint the state no longer calls for
	}
	for _, w := range want {
		if hasTaint(taints, &w) {
			continue
		}
		if w.Effect == corev1.TaintEffectNoExecute {
			added := meta.NewTime(now)
			w.TimeAdded = &added
		}
		out = append(out, w)
		changed = true
	}
	return out, changed
}

// hasTaint reports whether taints hold one matching t (same key and
// effect).
func hasTaint(taints []corev1.Taint, t *corev1.Taint) bool {
	return slices.ContainsFunc(taints, func(x corev1.Taint) bool { return x.MatchTaint(t) })
}

// noExecuteTaint returns the managed NoExecute taint among taints, if any.
func noExecuteTaint(taints []corev1.Taint) *corev1.Taint {
	for i := range taints {
		if t := &taints[i]; managedTaint(t) && t.Effect == corev1.TaintEffectNoExecute {
			return t
		}
	}
	return nil
}

// evictionDelay says how long after a NoExecute taint was added the pod
// is evicted, from its tolerations (Kubernetes' getMinTolerationTime): a
// pod that does not tolerate the taint goes after podEvictionTimeout; one
// that does stays the smallest tolerationSeconds of the tolerations that
// match (0 or less: at once), or for ever (ok false) when none sets it.
func evictionDelay(pod *corev1.Pod, taint *corev1.Taint, podEvictionTimeout time.Duration) (d time.Duration, ok bool) {
	matched := false
	minSeconds := int64(math.MaxInt64)
	for i := range pod.Spec.Tolerations {
		tol := &pod.Spec.Tolerations[i]
		if !tol.ToleratesTaint(taint) {
			continue
		}
		matched = true
		if tol.TolerationSeconds != nil {
			minSeconds = min(minSeconds, max(*tol.TolerationSeconds, 0))
		}
	}
	switch {
	case !matched:
		return podEvictionTimeout, true
	case minSeconds == math.MaxInt64:
		return 0, false
	}
	return time.Duration(minSeconds) * time.Second, true
}

// Reasons and messages of the conditions the controller writes.
const (
	reasonNodeStatusUnknown      = "NodeStatusUnknown"
	messageNodeStatusUnknown     = "Kubelet stopped posting node status."
	reasonNodeStatusNeverUpdated = "NodeStatusNeverUpdated"
	messageNodeNeverUpdated      = "Kubelet never posted node status."
)

// unknownConditions sets the Ready condition, and the pressure conditions
// the node has, to Unknown as Kubernetes does when the kubelet stops
// posting: the last heartbeat is kept, the transition time is now. It
// reports whether anything changed.
func unknownConditions(status *corev1.NodeStatus, created, now time.Time) bool {
	changed := false
	if _, c := corev1.GetNodeCondition(status, corev1.NodeReady); c == nil {
		status.Conditions = append(status.Conditions, corev1.NodeCondition{
			Type: corev1.NodeReady, Status: corev1.ConditionUnknown,
			Reason: reasonNodeStatusNeverUpdated, Message: messageNodeNeverUpdated,
			LastHeartbeatTime: meta.NewTime(created), LastTransitionTime: meta.NewTime(now),
		})
		changed = true
	}
	for _, typ := range []corev1.NodeConditionType{corev1.NodeReady, corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure} {
		_, c := corev1.GetNodeCondition(status, typ)
		if c == nil || c.Status == corev1.ConditionUnknown {
			continue
		}
		c.Status = corev1.ConditionUnknown
		c.Reason = reasonNodeStatusUnknown
		c.Message = messageNodeStatusUnknown
		c.LastTransitionTime = meta.NewTime(now)
		changed = true
	}
	return changed
}
