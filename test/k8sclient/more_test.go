package k8sclient

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/client-go/tools/pager"
)

// TestPatchTypes patches a Deployment with the three patch types client-go
// offers besides apply (kubectl edit/patch/scale use them).
func TestPatchTypes(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	ctx := testContext(t, 10*time.Second)
	ns := createNamespace(t, c, "patch")
	deps := c.client.AppsV1().Deployments(ns)
	if _, err := deps.Create(ctx, testDeployment("web", map[string]string{"app": "web"}), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		typ   types.PatchType
		patch string
		check func(d *appsv1.Deployment) error
	}{
		{"json patch", types.JSONPatchType, `[{"op":"replace","path":"/spec/replicas","value":3}]`,
			func(d *appsv1.Deployment) error { return wantInt32("spec.replicas", d.Spec.Replicas, 3) }},
		{"merge patch", types.MergePatchType, `{"metadata":{"labels":{"tier":"front"}},"spec":{"replicas":4}}`,
			func(d *appsv1.Deployment) error {
				if d.Labels["tier"] != "front" || d.Labels["app"] != "web" {
					return fmt.Errorf("labels %v, want app=web tier=front", d.Labels)
				}
				return wantInt32("spec.replicas", d.Spec.Replicas, 4)
			}},
		{"strategic merge patch adds a container by name", types.StrategicMergePatchType,
			`{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox"}]}}}}`,
			func(d *appsv1.Deployment) error {
				cs := d.Spec.Template.Spec.Containers
				if len(cs) != 2 || cs[0].Name != "app" || cs[1].Name != "sidecar" {
					return fmt.Errorf("containers %+v, want app and sidecar", cs)
				}
				return nil
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := deps.Patch(ctx, "web", tc.typ, []byte(tc.patch), metav1.PatchOptions{})
			if err != nil {
				t.Fatalf("patch: %v", err)
			}
			if err := tc.check(got); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestSubresources uses the status and scale subresources the way
// controllers and kubectl scale do.
func TestSubresources(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	ctx := testContext(t, 10*time.Second)
	ns := createNamespace(t, c, "sub")
	deps := c.client.AppsV1().Deployments(ns)
	d, err := deps.Create(ctx, testDeployment("web", nil), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	d.Status.Replicas = 2
	d.Status.ObservedGeneration = d.Generation
	d.Spec.Replicas = ptr32(9) // ignored: the status subresource writes status only
	st, err := deps.UpdateStatus(ctx, d, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update status: %v", err)
	}
	if st.Status.Replicas != 2 || *st.Spec.Replicas != 2 {
		t.Errorf("update status: status.replicas=%d spec.replicas=%d, want 2 and 2", st.Status.Replicas, *st.Spec.Replicas)
	}

	scale, err := deps.GetScale(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get scale: %v", err)
	}
	if scale.Spec.Replicas != 2 || scale.Status.Replicas != 2 || scale.Status.Selector != "deploy=web" {
		t.Errorf("get scale: %+v, want spec 2, status 2, selector deploy=web", scale)
	}
	scale.Spec.Replicas = 5
	if _, err := deps.UpdateScale(ctx, "web", scale, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("update scale: %v", err)
	}
	got, err := deps.Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := wantInt32("spec.replicas after scale", got.Spec.Replicas, 5); err != nil {
		t.Error(err)
	}

	pods := c.client.CoreV1().Pods(ns)
	p, err := pods.Create(ctx, testPod("p", nil), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Status.Phase != corev1.PodPending {
		t.Errorf("new pod: phase %q, want Pending", p.Status.Phase)
	}
	p.Status.Phase = corev1.PodRunning
	p.Status.PodIP = "10.0.0.7"
	if _, err := pods.UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("pod update status: %v", err)
	}
	running, err := pods.List(ctx, metav1.ListOptions{FieldSelector: "status.phase=Running"})
	if err != nil {
		t.Fatalf("list by field selector: %v", err)
	}
	if len(running.Items) != 1 || running.Items[0].Status.PodIP != "10.0.0.7" {
		t.Errorf("list status.phase=Running: %d items, want p with podIP 10.0.0.7", len(running.Items))
	}
}

// TestListPagingWatchAndDeleteCollection pages a list with client-go's
// pager, watches from the list's resourceVersion, and deletes the
// collection, which the watch sees.
func TestListPagingWatchAndDeleteCollection(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	ctx := testContext(t, 15*time.Second)
	ns := createNamespace(t, c, "paging")
	cms := c.client.CoreV1().ConfigMaps(ns)
	const n = 25
	for i := 0; i < n; i++ {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%02d", i), Labels: map[string]string{"batch": "1"}}}
		if _, err := cms.Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// Dry run: validated, not stored.
	dry := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "dry"}}
	if _, err := cms.Create(ctx, dry, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Fatalf("dry-run create: %v", err)
	}
	if _, err := cms.Get(ctx, "dry", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("get after dry-run create: want NotFound, got %v", err)
	}

	pages := 0
	p := pager.New(func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
		pages++
		return cms.List(ctx, opts)
	})
	p.PageSize = 10
	list, _, err := p.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("paged list: %v", err)
	}
	if names := itemNames(t, list); len(names) != n || names[0] != "cm-00" || names[n-1] != fmt.Sprintf("cm-%02d", n-1) || pages != 3 {
		t.Fatalf("paged list: %v in %d pages, want cm-00..cm-%02d in 3", names, pages, n-1)
	}
	rv, err := cms.List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if rv.Continue == "" || rv.RemainingItemCount == nil || *rv.RemainingItemCount != n-1 {
		t.Errorf("list limit=1: continue=%q remainingItemCount=%v, want a token and %d", rv.Continue, rv.RemainingItemCount, n-1)
	}

	w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: rv.ResourceVersion})
	if err != nil {
		t.Fatalf("watch: %v", err)
	}
	defer w.Stop()
	if err := cms.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: "batch=1"}); err != nil {
		t.Fatalf("delete collection: %v", err)
	}
	deleted := map[string]bool{}
	timeout := time.After(10 * time.Second)
	for len(deleted) < n {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatalf("watch closed after %d deletions", len(deleted))
			}
			if ev.Type != watch.Deleted {
				t.Fatalf("watch: got %s %v, want only DELETED", ev.Type, ev.Object)
			}
			deleted[ev.Object.(*corev1.ConfigMap).Name] = true
		case <-timeout:
			t.Fatalf("watch saw %d of %d deletions within 10s", len(deleted), n)
		}
	}
	left, err := cms.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(left.Items) != 0 {
		t.Errorf("after delete collection: %d configmaps left", len(left.Items))
	}
}

// TestLeaderElection runs client-go's leader election on a Lease
// (coordination.k8s.io/v1): the first candidate leads, and a second one
// takes over once the first releases the lease.
func TestLeaderElection(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	ctx := testContext(t, 20*time.Second)
	ns := createNamespace(t, c, "election")

	run := func(id string) (started chan struct{}, cancel context.CancelFunc, done chan struct{}) {
		lock := &resourcelock.LeaseLock{
			LeaseMeta:  metav1.ObjectMeta{Namespace: ns, Name: "controller"},
			Client:     c.client.CoordinationV1(),
			LockConfig: resourcelock.ResourceLockConfig{Identity: id},
		}
		started, done = make(chan struct{}), make(chan struct{})
		lctx, cancel := context.WithCancel(ctx)
		le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
			Lock: lock, ReleaseOnCancel: true,
			LeaseDuration: 3 * time.Second, RenewDeadline: 2 * time.Second, RetryPeriod: 200 * time.Millisecond,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: func(context.Context) { close(started) },
				OnStoppedLeading: func() {},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		go func() { defer close(done); le.Run(lctx) }()
		t.Cleanup(func() { cancel(); <-done })
		return started, cancel, done
	}

	startedA, cancelA, doneA := run("a")
	select {
	case <-startedA:
	case <-time.After(10 * time.Second):
		t.Fatal("candidate a did not become leader within 10s")
	}
	lease, err := c.client.CoordinationV1().Leases(ns).Get(ctx, "controller", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get lease: %v", err)
	}
	if lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity != "a" {
		t.Fatalf("lease holder %v, want a", lease.Spec.HolderIdentity)
	}

	startedB, _, _ := run("b")
	cancelA()
	<-doneA
	select {
	case <-startedB:
	case <-time.After(10 * time.Second):
		t.Fatal("candidate b did not take over within 10s of a releasing the lease")
	}
}

func ptr32(n int32) *int32 { return &n }

func wantInt32(field string, got *int32, want int32) error {
	if got == nil || *got != want {
		return fmt.Errorf("%s = %v, want %d", field, got, want)
	}
	return nil
}
