package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/storage/etcd/etcdtest"
	"github.com/kl-dev/kl/test/e2e/framework"
)

var (
	etcdConfigMapsGVR  = meta.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	etcdServicesGVR    = meta.GroupVersionResource{Version: "v1", Resource: "services"}
	etcdDeploymentsGVR = meta.GroupVersionResource{Group: appsv1.GroupName, Version: appsv1.Version, Resource: "deployments"}
)

// etcdWait bounds every wait in these tests; a passing run never comes close.
const etcdWait = 60 * time.Second

// etcdControlPlane is two `kl apiserver --storage etcd` processes on one
// three-member etcd cluster.
type etcdControlPlane struct {
	etcd   *etcdtest.Cluster
	procs  [2]*framework.Process
	urls   [2]string
	single [2]*client.Client // each talks to one apiserver only
}

func startEtcdControlPlane(t *testing.T) *etcdControlPlane {
	t.Helper()
	cp := &etcdControlPlane{etcd: etcdtest.Start(t, 3)}
	eps := cp.etcd.Endpoints()
	for i := range cp.procs {
		// Each apiserver lists the members in another order, so they
		// prefer different ones.
		order := append(append([]string{}, eps[i:]...), eps[:i]...)
		cp.procs[i], cp.urls[i] = cp.apiserver(t, order)
		cp.single[i] = etcdClient(t, cp.urls[i])
	}
	return cp
}

func (cp *etcdControlPlane) apiserver(t *testing.T, etcdServers []string) (*framework.Process, string) {
	t.Helper()
	return framework.APIServer(t, klBinary, t.TempDir(),
		"--storage", "etcd", "--etcd-servers", strings.Join(etcdServers, ","))
}

func etcdClient(t *testing.T, servers ...string) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{Servers: servers, Timeout: 30 * time.Second, DialTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func etcdConfigMaps(c *client.Client, ns string) *client.Resource[corev1.ConfigMap, *corev1.ConfigMap] {
	return client.NewResource[corev1.ConfigMap](c, etcdConfigMapsGVR, true).Namespace(ns)
}

func etcdConfigMap(name string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: meta.ObjectMeta{Name: name}, Data: map[string]string{"k": name}}
}

// TestSeveralAPIServersOnEtcd runs two apiservers on one etcd cluster: they
// serve the same objects at the same resourceVersions, a watch on one sees
// writes through the other, Service allocations stay unique across them, a
// client's watch moves to the other when its apiserver dies, and after an
// apiserver and an etcd member are SIGKILLed every acknowledged write is
// still there.
//
// A scheduler, a controller-manager and a fake-runtime kubelet, each given
// both apiservers, roll a Deployment out before the kills and scale it
// after them, through the surviving apiserver.
func TestSeveralAPIServersOnEtcd(t *testing.T) {
	cp := startEtcdControlPlane(t)
	cp.startComponents(t)
	t.Run("WritesThroughEitherAreReadThroughBoth", func(t *testing.T) { testReadYourWritesAcross(t, cp) })
	t.Run("WatchOnOneSeesWritesThroughTheOther", func(t *testing.T) { testWatchAcross(t, cp) })
	t.Run("ServiceIPsAndNodePortsAreUniqueAcrossAPIServers", func(t *testing.T) { testAllocationAcross(t, cp) })
	t.Run("DeploymentRollsOut", func(t *testing.T) { cp.scaleDeployment(t, 0, 3) })
	// The next ones kill processes; they run in this order.
	if !t.Run("WatchFailsOverWhenItsAPIServerIsKilled", func(t *testing.T) { testWatchFailover(t, cp) }) {
		return
	}
	if !t.Run("AcknowledgedWritesSurviveKilledAPIServerAndEtcdLeader", func(t *testing.T) { testKillEtcdLeader(t, cp) }) {
		return
	}
	t.Run("DeploymentScalesThroughTheSurvivingAPIServer", func(t *testing.T) { cp.scaleDeployment(t, 1, 5) })
}

// startComponents starts a scheduler, a controller-manager and one kubelet
// with the fake runtime, each knowing both apiservers (they use the first
// while it answers).
func (cp *etcdControlPlane) startComponents(t *testing.T) {
	t.Helper()
	servers := strings.Join(cp.urls[:], ",")
	framework.Start(t, klBinary, "scheduler", "scheduler", "--server", servers, "--leader-elect=false", "--metrics-addr", "0")
	framework.Start(t, klBinary, "controller-manager", "controller-manager", "--server", servers, "--leader-elect=false", "--metrics-addr", "0")
	framework.Start(t, klBinary, "kubelet-n1", "kubelet", "--server", servers, "--node-name", "n1", "--runtime", "fake",
		"--data-dir", t.TempDir(), "--kubelet-port", "0", "--metrics-addr", "0")
}

// scaleDeployment creates the Deployment "etcd-web" (or sets its replicas)
// through apiserver via, and waits until it reports that many ready
// replicas, read through the same apiserver.
func (cp *etcdControlPlane) scaleDeployment(t *testing.T, via int, replicas int32) {
	ctx := t.Context()
	deployments := client.NewResource[appsv1.Deployment](cp.single[via], etcdDeploymentsGVR, true).Namespace("default")
	if _, err := deployments.Get(ctx, "etcd-web"); meta.IsNotFound(err) {
		labels := map[string]string{"app": "etcd-web"}
		d := &appsv1.Deployment{
			ObjectMeta: meta.ObjectMeta{Name: "etcd-web"},
			Spec: appsv1.DeploymentSpec{
				Replicas: &replicas,
				Selector: &meta.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: meta.ObjectMeta{Labels: labels},
					Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx:1.27"}}},
				},
			},
		}
		if _, err := deployments.Create(ctx, d, client.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	} else if err != nil {
		t.Fatal(err)
	} else {
		patch := fmt.Appendf(nil, `{"spec":{"replicas":%d}}`, replicas)
		if _, err := deployments.Patch(ctx, "etcd-web", client.MergePatchType, patch, client.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(etcdWait)
	for {
		d, err := deployments.Get(ctx, "etcd-web")
		if err == nil && d.Status.ReadyReplicas == replicas && d.Status.Replicas == replicas && d.Status.ObservedGeneration == d.Generation {
			return
		}
		if time.Now().After(deadline) {
			status := fmt.Sprint(err)
			if err == nil {
				status = fmt.Sprintf("%+v", d.Status)
			}
			t.Fatalf("Deployment not at %d ready replicas within %v: %s", replicas, etcdWait, status)
		}
		time.Sleep(200 * time.Millisecond) // polling the controllers' progress
	}
}

func testReadYourWritesAcross(t *testing.T, cp *etcdControlPlane) {
	ctx := t.Context()
	for i := range cp.single {
		writer, reader := etcdConfigMaps(cp.single[i], "default"), etcdConfigMaps(cp.single[1-i], "default")
		name := fmt.Sprintf("written-through-%d", i)
		created, err := writer.Create(ctx, etcdConfigMap(name), client.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// A GET without resourceVersion is a consistent read: the other
		// apiserver must answer with the write, not a stale cache.
		got, err := reader.Get(ctx, name)
		if err != nil {
			t.Fatalf("get %s through the other apiserver: %v", name, err)
		}
		if got.ResourceVersion != created.ResourceVersion || got.UID != created.UID {
			t.Fatalf("the other apiserver has %s at resourceVersion %s uid %s, want %s %s",
				name, got.ResourceVersion, got.UID, created.ResourceVersion, created.UID)
		}
		// And a conflict: an update with a stale resourceVersion through
		// the other apiserver fails.
		got.Data["k"] = "changed"
		if _, err := reader.Update(ctx, got, client.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		created.Data["k"] = "stale"
		if _, err := writer.Update(ctx, created, client.UpdateOptions{}); !meta.IsConflict(err) {
			t.Fatalf("stale update through the first apiserver: %v, want a Conflict", err)
		}
	}
}

func testWatchAcross(t *testing.T, cp *etcdControlPlane) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	const ns = "default"
	_, list, err := etcdConfigMaps(cp.single[1], ns).List(ctx, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	events, err := etcdConfigMaps(cp.single[1], ns).Watch(ctx, client.ListOptions{ResourceVersion: list.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	writer := etcdConfigMaps(cp.single[0], ns)
	created, err := writer.Create(ctx, etcdConfigMap("watched"), client.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	created.Data["k"] = "v2"
	updated, err := writer.Update(ctx, created, client.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := writer.Delete(ctx, "watched", meta.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	want := []struct{ typ, rv string }{{meta.Added, created.ResourceVersion}, {meta.Modified, updated.ResourceVersion}, {meta.Deleted, ""}}
	for i, w := range want {
		ev := etcdNextEvent(t, events)
		if ev.Type != w.typ || ev.Object.Name != "watched" || (w.rv != "" && ev.Object.ResourceVersion != w.rv) {
			t.Fatalf("event %d through the other apiserver: %s %s@%s, want %s watched@%s", i, ev.Type, ev.Object.Name, ev.Object.ResourceVersion, w.typ, w.rv)
		}
	}
}

func etcdNextEvent[O any](t *testing.T, ch <-chan client.Event[O]) client.Event[O] {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("watch closed")
		}
		if ev.Type == meta.Error {
			t.Fatalf("watch error: %+v", ev.Status)
		}
		return ev
	case <-time.After(etcdWait):
		t.Fatalf("no watch event within %v", etcdWait)
	}
	panic("unreachable")
}

// testAllocationAcross creates 50 NodePort Services at once, half through
// each apiserver: every one gets a ClusterIP and a NodePort no other got.
func testAllocationAcross(t *testing.T, cp *etcdControlPlane) {
	ctx := t.Context()
	const n = 50
	type result struct {
		name, ip string
		port     int32
		err      error
	}
	results := make(chan result, n)
	var wg sync.WaitGroup
	for i := range n {
		svcs := client.NewResource[corev1.Service](cp.single[i%2], etcdServicesGVR, true).Namespace("default")
		wg.Go(func() {
			name := fmt.Sprintf("np-%02d", i)
			svc := &corev1.Service{
				ObjectMeta: meta.ObjectMeta{Name: name},
				Spec: corev1.ServiceSpec{
					Type:     corev1.ServiceTypeNodePort,
					Selector: map[string]string{"app": name},
					Ports:    []corev1.ServicePort{{Port: 80}},
				},
			}
			got, err := svcs.Create(ctx, svc, client.CreateOptions{})
			if err != nil {
				results <- result{name: name, err: err}
				return
			}
			results <- result{name: name, ip: got.Spec.ClusterIP, port: got.Spec.Ports[0].NodePort}
		})
	}
	wg.Wait()
	close(results)
	ips, ports := map[string]string{}, map[int32]string{}
	for r := range results {
		if r.err != nil {
			t.Fatalf("create %s: %v", r.name, r.err)
		}
		if r.ip == "" || r.port == 0 {
			t.Fatalf("%s got clusterIP %q nodePort %d", r.name, r.ip, r.port)
		}
		if other, dup := ips[r.ip]; dup {
			t.Fatalf("%s and %s both got clusterIP %s", r.name, other, r.ip)
		}
		if other, dup := ports[r.port]; dup {
			t.Fatalf("%s and %s both got nodePort %d", r.name, other, r.port)
		}
		ips[r.ip], ports[r.port] = r.name, r.name
	}
}

// testWatchFailover watches through a client that knows both apiservers
// while it is connected to the first, SIGKILLs the first mid-stream, and
// checks that the watch goes on through the second without missing or
// repeating a write (the resourceVersion is etcd's, the same on both).
func testWatchFailover(t *testing.T, cp *etcdControlPlane) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	const ns, writes, killAfter = "default", 40, 15
	both := etcdClient(t, cp.urls[0], cp.urls[1]) // prefers the first
	_, list, err := etcdConfigMaps(both, ns).List(ctx, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if both.Server() != cp.urls[0] {
		t.Fatalf("client uses %s, want the first apiserver %s", both.Server(), cp.urls[0])
	}
	events, err := etcdConfigMaps(both, ns).RetryWatch(ctx, client.ListOptions{ResourceVersion: list.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	writer := etcdConfigMaps(cp.single[1], ns) // writes go on while the first dies
	acked := map[string]string{}               // resourceVersion -> name
	for i := range writes {
		if i == killAfter {
			cp.procs[0].Kill()
		}
		name := fmt.Sprintf("failover-%02d", i)
		cm, err := writer.Create(ctx, etcdConfigMap(name), client.CreateOptions{})
		if err != nil {
			t.Fatalf("create %s through the surviving apiserver: %v", name, err)
		}
		acked[cm.ResourceVersion] = name
	}
	seen := 0
	for seen < writes {
		ev := etcdNextEvent(t, events)
		if ev.Type == meta.Bookmark {
			continue
		}
		if !strings.HasPrefix(ev.Object.Name, "failover-") {
			continue
		}
		if ev.Type != meta.Added || acked[ev.Object.ResourceVersion] != ev.Object.Name {
			t.Fatalf("event %d: %s %s@%s, want the ADDED of an acknowledged create", seen, ev.Type, ev.Object.Name, ev.Object.ResourceVersion)
		}
		if want := fmt.Sprintf("failover-%02d", seen); ev.Object.Name != want {
			t.Fatalf("event %d is %s, want %s: a write was missed or repeated", seen, ev.Object.Name, want)
		}
		seen++
	}
	if both.Server() != cp.urls[1] {
		t.Fatalf("after the kill the client uses %s, want %s", both.Server(), cp.urls[1])
	}
}

// testKillEtcdLeader SIGKILLs the etcd leader while writers go on through
// the surviving apiserver, then checks every acknowledged write through a
// new apiserver that loads everything from the two remaining members.
func testKillEtcdLeader(t *testing.T, cp *etcdControlPlane) {
	ctx := t.Context()
	const ns, writers, each, killAfter = "default", 4, 15, 20
	var (
		mu     sync.Mutex
		acked  = map[string]string{} // name -> resourceVersion
		killed = make(chan struct{})
		once   sync.Once
		wg     sync.WaitGroup
	)
	kill := func() {
		once.Do(func() {
			lctx, cancel := context.WithTimeout(ctx, etcdWait)
			defer cancel()
			leader, err := cp.etcd.Leader(lctx)
			if err != nil {
				t.Error(err)
			} else {
				cp.etcd.Members[leader].Kill()
				t.Logf("killed etcd leader %s", cp.etcd.Members[leader].Name)
			}
			close(killed)
		})
	}
	cms := etcdConfigMaps(cp.single[1], ns)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				name := fmt.Sprintf("leader-kill-%d-%02d", w, i)
				// A create lost with the leader fails (500 or timeout);
				// try again. 409 then means an earlier try committed.
				deadline := time.Now().Add(etcdWait)
				for {
					cm, err := cms.Create(ctx, etcdConfigMap(name), client.CreateOptions{})
					if err == nil {
						mu.Lock()
						acked[name] = cm.ResourceVersion
						n := len(acked)
						mu.Unlock()
						if n == killAfter {
							kill()
						}
						break
					}
					if meta.IsAlreadyExists(err) {
						break
					}
					if ctx.Err() != nil || time.Now().After(deadline) {
						t.Errorf("create %s: no success within %v: %v", name, etcdWait, err)
						return
					}
					time.Sleep(200 * time.Millisecond) // back-off while etcd elects a leader
				}
			}
		})
	}
	wg.Wait()
	kill() // in case fewer writes were acknowledged than killAfter
	<-killed
	if t.Failed() {
		return
	}
	if len(acked) < killAfter {
		t.Fatalf("only %d creates acknowledged", len(acked))
	}

	// A new apiserver on the surviving members reads everything from etcd.
	var live []string
	for _, m := range cp.etcd.Members {
		if !m.Exited() {
			live = append(live, m.ClientURL)
		}
	}
	_, url := cp.apiserver(t, live)
	items, _, err := etcdConfigMaps(etcdClient(t, url), ns).List(ctx, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]string{}
	for _, cm := range items {
		have[cm.Name] = cm.ResourceVersion
	}
	var lost []string
	for name, rv := range acked {
		if have[name] != rv {
			lost = append(lost, fmt.Sprintf("%s@%s (found %q)", name, rv, have[name]))
		}
	}
	if len(lost) > 0 {
		t.Fatalf("%d of %d acknowledged creates are missing or changed after killing the etcd leader: %v", len(lost), len(acked), lost)
	}
	t.Logf("%d creates acknowledged across the leader kill, all present", len(acked))
}
