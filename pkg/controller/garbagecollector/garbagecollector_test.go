package garbagecollector

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/apiserver/apiservertest"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/controller"
	"github.com/kl-dev/kl/pkg/controller/internal/apitest"
)

type cluster struct {
	t    *testing.T
	ctx  context.Context
	pods *client.Resource[corev1.Pod, *corev1.Pod]
	rss  *client.Resource[appsv1.ReplicaSet, *appsv1.ReplicaSet]
	deps *client.Resource[appsv1.Deployment, *appsv1.Deployment]
	cms  *client.Resource[corev1.ConfigMap, *corev1.ConfigMap]
}

// start runs the collector as the controller-manager does: it shares the
// pod and ReplicaSet informers of the other controllers and watches the
// other kinds (Deployments, ConfigMaps) with informers of its own.
func start(t *testing.T) *cluster {
	c := apitest.Start(t)
	inf := controller.NewInformers(c, nil)
	inf.Pods()
	inf.ReplicaSets()
	gc, err := New(Config{Client: c, Shared: inf})
	if err != nil {
		t.Fatal(err)
	}
	apitest.Run(t, inf, gc)
	return &cluster{
		t: t, ctx: apitest.Context(t),
		pods: client.NewResource[corev1.Pod](c, controller.PodsResource, true).Namespace("default"),
		rss:  client.NewResource[appsv1.ReplicaSet](c, controller.ReplicaSetsResource, true).Namespace("default"),
		deps: client.NewResource[appsv1.Deployment](c, controller.DeploymentsResource, true).Namespace("default"),
		cms:  client.NewResource[corev1.ConfigMap](c, meta.GroupVersionResource{Version: "v1", Resource: "configmaps"}, true).Namespace("default"),
	}
}

// ref is an owner reference to obj, as controllers set them.
func ref(obj meta.Object, block bool) meta.OwnerReference {
	tm, m := obj.GetTypeMeta(), obj.GetObjectMeta()
	return meta.OwnerReference{APIVersion: tm.APIVersion, Kind: tm.Kind, Name: m.Name, UID: m.UID, Controller: meta.Boolp(true), BlockOwnerDeletion: meta.Boolp(block)}
}

// nonController is ref without the controller mark (an object has at most
// one controller).
func nonController(r meta.OwnerReference) meta.OwnerReference {
	r.Controller = nil
	return r
}

var podTemplate = corev1.PodTemplateSpec{
	ObjectMeta: meta.ObjectMeta{Labels: map[string]string{"app": "web"}},
	Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "img"}}},
}

func (c *cluster) replicaSet(name string, owners ...meta.OwnerReference) *appsv1.ReplicaSet {
	c.t.Helper()
	rs, err := c.rss.Create(c.ctx, &appsv1.ReplicaSet{
		ObjectMeta: meta.ObjectMeta{Name: name, OwnerReferences: owners},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: meta.Int32p(0),
			Selector: &meta.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: podTemplate,
		},
	}, client.CreateOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
	return rs
}

func (c *cluster) pod(name, node string, owners ...meta.OwnerReference) *corev1.Pod {
	c.t.Helper()
	p, err := c.pods.Create(c.ctx, &corev1.Pod{
		ObjectMeta: meta.ObjectMeta{Name: name, Labels: map[string]string{"app": "web"}, OwnerReferences: owners},
		Spec:       corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "img"}}},
	}, client.CreateOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
	return p
}

func gone[PT client.Object[T], T any](c *cluster, r *client.Resource[T, PT], name string) func() error {
	return func() error {
		_, err := r.Get(c.ctx, name)
		if meta.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		return fmt.Errorf("%s %s still exists", r.GVR(), name)
	}
}

func (c *cluster) exists(r interface {
	Get(context.Context, string) (*corev1.Pod, error)
}, name string) *corev1.Pod {
	c.t.Helper()
	p, err := r.Get(c.ctx, name)
	if err != nil {
		c.t.Fatalf("%s: %v", name, err)
	}
	return p
}

func propagation(p meta.DeletionPropagation) meta.DeleteOptions {
	return meta.DeleteOptions{PropagationPolicy: &p}
}

func TestBackgroundDeletionDeletesDependentsOfGoneOwners(t *testing.T) {
	c := start(t)
	rs := c.replicaSet("rs")
	cm, err := c.cms.Create(c.ctx, &corev1.ConfigMap{ObjectMeta: meta.ObjectMeta{Name: "cm"}}, client.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c.pod("p1", "", ref(rs, true))
	c.pod("p2", "", ref(rs, true))
	// Two owners: the pod stays while one of them does.
	c.pod("shared", "", nonController(ref(rs, false)), nonController(ref(cm, false)))
	c.pod("unowned", "")

	if err := c.rss.Delete(c.ctx, "rs", meta.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	apitest.Eventually(t, "p1 collected", gone(c, c.pods, "p1"))
	apitest.Eventually(t, "p2 collected", gone(c, c.pods, "p2"))
	apitest.Eventually(t, "shared loses its reference to rs", func() error {
		p := c.exists(c.pods, "shared")
		if len(p.OwnerReferences) != 1 || p.OwnerReferences[0].UID != cm.UID {
			return fmt.Errorf("owners %+v, want only the configmap", p.OwnerReferences)
		}
		return nil
	})
	c.exists(c.pods, "unowned")

	if err := c.cms.Delete(c.ctx, "cm", meta.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	apitest.Eventually(t, "shared collected with its last owner", gone(c, c.pods, "shared"))
	c.exists(c.pods, "unowned")
}

func TestDependentOfAnOwnerThatNeverExistedIsCollected(t *testing.T) {
	c := start(t)
	c.pod("orphan", "", meta.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "nope", UID: "no-such-uid"})
	c.pod("alien", "", meta.OwnerReference{APIVersion: "example.com/v1", Kind: "Widget", Name: "w", UID: "w-uid"})
	apitest.Eventually(t, "orphan collected", gone(c, c.pods, "orphan"))
	// An owner of a kind the server does not serve is never judged gone.
	c.exists(c.pods, "alien")
}

func TestForegroundDeletionKeepsOwnerUntilDependentsAreGone(t *testing.T) {
	c := start(t)
	rs := c.replicaSet("rs")
	c.pod("quick", "", ref(rs, true))
	// Bound to a node: deleted gracefully, it stays until its kubelet
	// (absent here) finishes.
	c.pod("slow", "n1", ref(rs, true))

	if err := c.rss.Delete(c.ctx, "rs", propagation(meta.DeletePropagationForeground)); err != nil {
		t.Fatal(err)
	}
	apitest.Eventually(t, "quick collected", gone(c, c.pods, "quick"))
	apitest.Eventually(t, "slow terminating", func() error {
		if p := c.exists(c.pods, "slow"); p.DeletionTimestamp == nil {
			return fmt.Errorf("slow not being deleted")
		}
		return nil
	})
	got, err := c.rss.Get(c.ctx, "rs")
	if err != nil {
		t.Fatalf("the owner went before its dependents: %v", err)
	}
	if got.DeletionTimestamp == nil || len(got.Finalizers) != 1 || got.Finalizers[0] != meta.FinalizerDeleteDependents {
		t.Fatalf("owner: deletionTimestamp %v finalizers %v", got.DeletionTimestamp, got.Finalizers)
	}

	if err := c.pods.Delete(c.ctx, "slow", meta.DeleteOptions{GracePeriodSeconds: meta.Int64p(0)}); err != nil {
		t.Fatal(err)
	}
	apitest.Eventually(t, "owner deleted after its dependents", gone(c, c.rss, "rs"))
}

func TestForegroundDeletionWalksTheChain(t *testing.T) {
	c := start(t)
	d, err := c.deps.Create(c.ctx, &appsv1.Deployment{
		ObjectMeta: meta.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: meta.Int32p(0),
			Selector: &meta.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: podTemplate,
		},
	}, client.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rs := c.replicaSet("web-1", ref(d, true))
	c.pod("web-1-a", "", ref(rs, true))
	c.pod("web-1-b", "", ref(rs, true))

	if err := c.deps.Delete(c.ctx, "web", propagation(meta.DeletePropagationForeground)); err != nil {
		t.Fatal(err)
	}
	apitest.Eventually(t, "deployment deleted", gone(c, c.deps, "web"))
	// The deployment waited for the whole subtree.
	for _, check := range []func() error{gone(c, c.rss, "web-1"), gone(c, c.pods, "web-1-a"), gone(c, c.pods, "web-1-b")} {
		if err := check(); err != nil {
			t.Errorf("after the deployment went: %v", err)
		}
	}
}

func TestBackgroundDeletionWalksTheChain(t *testing.T) {
	c := start(t)
	d, err := c.deps.Create(c.ctx, &appsv1.Deployment{
		ObjectMeta: meta.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: meta.Int32p(0),
			Selector: &meta.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: podTemplate,
		},
	}, client.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rs := c.replicaSet("web-1", ref(d, true))
	c.pod("web-1-a", "", ref(rs, true))
	if err := c.deps.Delete(c.ctx, "web", meta.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	apitest.Eventually(t, "replicaset collected", gone(c, c.rss, "web-1"))
	apitest.Eventually(t, "pod collected", gone(c, c.pods, "web-1-a"))
}

func TestOrphanDeletionKeepsDependentsWithoutTheReference(t *testing.T) {
	c := start(t)
	rs := c.replicaSet("rs")
	other := c.replicaSet("other")
	c.pod("p1", "", ref(rs, true))
	c.pod("p2", "", nonController(ref(rs, false)), nonController(ref(other, false)))

	if err := c.rss.Delete(c.ctx, "rs", propagation(meta.DeletePropagationOrphan)); err != nil {
		t.Fatal(err)
	}
	apitest.Eventually(t, "owner deleted", gone(c, c.rss, "rs"))
	if p := c.exists(c.pods, "p1"); len(p.OwnerReferences) != 0 {
		t.Errorf("p1 owners = %+v, want none", p.OwnerReferences)
	}
	if p := c.exists(c.pods, "p2"); len(p.OwnerReferences) != 1 || p.OwnerReferences[0].UID != other.UID {
		t.Errorf("p2 owners = %+v, want only other", p.OwnerReferences)
	}
}

// With the controllers' informers lent to it, the collector opens no watch
// of its own on those kinds: one pod watch serves them all.
func TestSharesTheControllersInformers(t *testing.T) {
	url := apiservertest.Start(t)
	c := apiservertest.Client(t, url)
	inf := controller.NewInformers(c, nil)
	inf.Pods()
	gc, err := New(Config{Client: c, Shared: inf})
	if err != nil {
		t.Fatal(err)
	}
	apitest.Run(t, inf, gc)
	watchers := func(resource string) string {
		resp, err := http.Get(url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		for line := range strings.Lines(string(body)) {
			if v, ok := strings.CutPrefix(line, `apiserver_registered_watchers{resource="`+resource+`"} `); ok {
				return strings.TrimSpace(v)
			}
		}
		return "0"
	}
	apitest.Eventually(t, "the collector watches replicasets itself", func() error {
		if n := watchers("replicasets.apps"); n != "1" {
			return fmt.Errorf("%s replicaset watches", n)
		}
		return nil
	})
	if n := watchers("pods"); n != "1" {
		t.Fatalf("%s pod watches, want the shared informer's only", n)
	}
}
