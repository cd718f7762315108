package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	coordinationv1 "github.com/kl-dev/kl/pkg/api/coordination/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/test/e2e/framework"
)

// This file holds what the workload tests share: a cluster of separate kl
// processes, and recorders that keep every event of a watch so that
// invariants can be checked on every observed state.

// Leader election timings of the controller-managers: short, so that a
// failover takes seconds. The elector polls every retryPeriod plus up to
// electionJitter times more (pkg/leaderelection's jitterFactor).
const (
	leaseDuration  = 4 * time.Second
	renewDeadline  = 3 * time.Second
	retryPeriod    = 500 * time.Millisecond
	electionJitter = 1.2
)

// workloadClusterConfig describes a cluster of separate processes.
type workloadClusterConfig struct {
	// nodes are the names of the nodes, one `kl kubelet --runtime fake`
	// each.
	nodes []string
	// managers is the number of `kl controller-manager` processes (leader
	// elected).
	managers int
	// fakeStartDelay is how long a fake container takes to start.
	fakeStartDelay time.Duration
}

// workloadCluster is `kl apiserver` (memory storage), `kl scheduler`, N
// `kl controller-manager` and one `kl kubelet` per node, each its own
// process on loopback. Every process is killed when the test ends.
type workloadCluster struct {
	t        *testing.T
	cli      *framework.CLI
	managers []*framework.Process

	pods        *client.Resource[corev1.Pod, *corev1.Pod]
	nodes       *client.Resource[corev1.Node, *corev1.Node]
	namespaces  *client.Resource[corev1.Namespace, *corev1.Namespace]
	services    *client.Resource[corev1.Service, *corev1.Service]
	endpoints   *client.Resource[corev1.Endpoints, *corev1.Endpoints]
	deployments *client.Resource[appsv1.Deployment, *appsv1.Deployment]
	replicaSets *client.Resource[appsv1.ReplicaSet, *appsv1.ReplicaSet]
	leases      *client.Resource[coordinationv1.Lease, *coordinationv1.Lease]
}

// startWorkloadCluster starts the processes and returns once every node is
// Ready and a controller-manager leads.
func startWorkloadCluster(t *testing.T, cfg workloadClusterConfig) *workloadCluster {
	t.Helper()
	_, url := framework.APIServer(t, klBinary, t.TempDir(), "--storage", "memory")
	core := func(r string) meta.GroupVersionResource { return meta.GroupVersionResource{Version: "v1", Resource: r} }
	apps := func(r string) meta.GroupVersionResource {
		return meta.GroupVersionResource{Group: appsv1.GroupName, Version: appsv1.Version, Resource: r}
	}
	c, err := client.New(client.Config{Servers: []string{url}, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	cl := &workloadCluster{
		t: t, cli: framework.NewCLI(t, klBinary, url),
		pods:        client.NewResource[corev1.Pod](c, core("pods"), true),
		nodes:       client.NewResource[corev1.Node](c, core("nodes"), false),
		namespaces:  client.NewResource[corev1.Namespace](c, core("namespaces"), false),
		services:    client.NewResource[corev1.Service](c, core("services"), true),
		endpoints:   client.NewResource[corev1.Endpoints](c, core("endpoints"), true),
		deployments: client.NewResource[appsv1.Deployment](c, apps("deployments"), true),
		replicaSets: client.NewResource[appsv1.ReplicaSet](c, apps("replicasets"), true),
		leases: client.NewResource[coordinationv1.Lease](c, meta.GroupVersionResource{
			Group: coordinationv1.GroupName, Version: coordinationv1.Version, Resource: "leases"}, true).Namespace("kube-system"),
	}
	framework.Start(t, klBinary, "scheduler", "scheduler", "--server", url, "--leader-elect=false", "--metrics-addr", "0")
	for i := 0; i < cfg.managers; i++ {
		p := framework.Start(t, klBinary, fmt.Sprintf("controller-manager-%d", i), "controller-manager", "--server", url,
			"--leader-elect", "--lease-duration", leaseDuration.String(), "--renew-deadline", renewDeadline.String(),
			"--retry-period", retryPeriod.String(), "--metrics-addr", "0")
		cl.managers = append(cl.managers, p)
	}
	for _, n := range cfg.nodes {
		framework.Start(t, klBinary, "kubelet-"+n, "kubelet", "--server", url, "--node-name", n, "--runtime", "fake",
			"--data-dir", t.TempDir(), "--kubelet-port", "0", "--metrics-addr", "0",
			"--fake-start-delay", cfg.fakeStartDelay.String())
	}
	framework.Eventually(t, 60*time.Second, 100*time.Millisecond, "every node Ready", func() (bool, string) {
		nodes, _, err := cl.nodes.List(context.Background(), client.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		ready := 0
		for _, n := range nodes {
			if corev1.IsNodeReady(n) {
				ready++
			}
		}
		return ready == len(cfg.nodes), fmt.Sprintf("%d of %d nodes Ready", ready, len(cfg.nodes))
	})
	if cfg.managers > 0 {
		cl.leader()
	}
	return cl
}

// leader returns the identity in the controller-managers' Lease and the
// process holding it (the one that logged "became leader" under that
// identity), waiting until both are known.
func (cl *workloadCluster) leader() (string, *framework.Process) {
	cl.t.Helper()
	var holder string
	var proc *framework.Process
	framework.Eventually(cl.t, 60*time.Second, 100*time.Millisecond, "a controller-manager leads", func() (bool, string) {
		lease, err := cl.leases.Get(context.Background(), "kl-controller-manager")
		if err != nil {
			return false, err.Error()
		}
		holder = lease.Holder()
		if holder == "" {
			return false, "the lease has no holder"
		}
		re := regexp.MustCompile(`msg="became leader".*identity=` + regexp.QuoteMeta(holder) + `(\s|$)`)
		for _, p := range cl.managers {
			if !p.Exited() && re.MatchString(p.Output()) {
				proc = p
				return true, ""
			}
		}
		return false, fmt.Sprintf("no running controller-manager logged that it became leader as %s", holder)
	})
	return holder, proc
}

// writeWorkloadManifest writes text to a file of dir named name and returns its
// path.
func writeWorkloadManifest(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// watchEvent is one change delivered by a watch, with the time the test
// received it.
type watchEvent[PT any] struct {
	Type string
	Obj  PT
	// RV is the object's resourceVersion: the revision of this change.
	RV int64
	At time.Time
}

// watchRecorder follows a watch from a given resourceVersion: it keeps the
// current objects (by UID) and every event, and calls a hook on each event
// while holding its lock, with the state after the event.
type watchRecorder[T any, PT client.Object[T]] struct {
	name string
	hook func(ev watchEvent[PT], objs map[string]PT)

	mu      sync.Mutex
	objs    map[string]PT
	events  []watchEvent[PT]
	changed chan struct{} // closed and replaced at every event
	err     error         // why the watch ended early
}

// recordWatch starts watching res from rv (a list's resourceVersion, whose state
// the caller knows to be empty) until the test ends. hook may be nil.
func recordWatch[T any, PT client.Object[T]](t *testing.T, name string, res *client.Resource[T, PT], rv string, hook func(watchEvent[PT], map[string]PT)) *watchRecorder[T, PT] {
	t.Helper()
	r := &watchRecorder[T, PT]{name: name, hook: hook, objs: map[string]PT{}, changed: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := res.RetryWatch(ctx, client.ListOptions{ResourceVersion: rv})
	if err != nil {
		cancel()
		t.Fatalf("watch %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range ch {
			if ev.Type == meta.Bookmark {
				continue
			}
			if ev.Type == meta.Error {
				msg := "error event"
				if ev.Status != nil {
					msg = ev.Status.Message
				}
				r.fail(fmt.Errorf("watch %s: %s", name, msg))
				continue
			}
			r.add(ev.Type, ev.Object)
		}
		if ctx.Err() == nil {
			r.fail(fmt.Errorf("watch %s ended", name))
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return r
}

func (r *watchRecorder[T, PT]) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.err = err
	}
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *watchRecorder[T, PT]) add(typ string, obj PT) {
	now := time.Now()
	om := obj.GetObjectMeta()
	rv, err := strconv.ParseInt(om.ResourceVersion, 10, 64)
	if err != nil {
		r.fail(fmt.Errorf("watch %s: %s %s has resourceVersion %q", r.name, typ, om.Name, om.ResourceVersion))
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if typ == meta.Deleted {
		delete(r.objs, om.UID)
	} else {
		r.objs[om.UID] = obj
	}
	ev := watchEvent[PT]{Type: typ, Obj: obj, RV: rv, At: now}
	r.events = append(r.events, ev)
	if r.hook != nil {
		r.hook(ev, r.objs)
	}
	close(r.changed)
	r.changed = make(chan struct{})
}

// waitFor waits until cond holds for the recorded state, re-evaluating it at
// every event and every 200ms (conditions may depend on the time, like
// availability), and fails the test after timeout with what cond said
// last. cond runs under the recorder's lock: it may change what the hook
// reads.
func (r *watchRecorder[T, PT]) waitFor(t testing.TB, timeout time.Duration, what string, cond func(objs map[string]PT) (bool, string)) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		r.mu.Lock()
		ok, status := cond(r.objs)
		err, changed := r.err, r.changed
		r.mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			return
		}
		select {
		case <-changed:
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("%s: not within %s: %s", what, timeout, status)
		}
	}
}

// snapshot returns the events so far and the error that ended the watch.
func (r *watchRecorder[T, PT]) snapshot() ([]watchEvent[PT], error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]watchEvent[PT](nil), r.events...), r.err
}

// listRV returns the current revision of the store, read from a list of
// res.
func listRV[T any, PT client.Object[T]](t *testing.T, res *client.Resource[T, PT]) string {
	t.Helper()
	_, lm, err := res.List(context.Background(), client.ListOptions{})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	return lm.ResourceVersion
}

// isLive reports whether the pod is not terminating.
func isLive(p *corev1.Pod) bool {
	return p.DeletionTimestamp == nil && !corev1.IsPodTerminal(p)
}

// controllerUID returns the UID of the pod's controller ("" if none).
func controllerUID(om *meta.ObjectMeta) string {
	if ref := meta.GetControllerOf(om); ref != nil {
		return ref.UID
	}
	return ""
}
