package k8sclient

import (
	"context"
	"fmt"
	"path"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// object is what every client-go typed object is.
type object interface {
	metav1.Object
	runtime.Object
}

// typedClient is the part of a client-go typed client (e.g.
// CoreV1().Pods(ns)) that the CRUD test uses.
type typedClient[T object, L runtime.Object] interface {
	Create(ctx context.Context, obj T, opts metav1.CreateOptions) (T, error)
	Get(ctx context.Context, name string, opts metav1.GetOptions) (T, error)
	Update(ctx context.Context, obj T, opts metav1.UpdateOptions) (T, error)
	List(ctx context.Context, opts metav1.ListOptions) (L, error)
	Delete(ctx context.Context, name string, opts metav1.DeleteOptions) error
}

// crudKind describes one kind for testCRUD.
type crudKind[T object, L runtime.Object] struct {
	client func(c *cluster, ns string) typedClient[T, L]
	// build returns a valid object with that name and labels.
	build func(name string, labels map[string]string) T
	// mutate changes the object in a way update must keep.
	mutate func(T)
	// mutated reports whether obj carries mutate's change.
	mutated func(T) error
}

// testCRUD runs create, get, update, stale update, list by label selector
// and delete through client-go's typed client for one kind.
func testCRUD[T object, L runtime.Object](k crudKind[T, L]) func(t *testing.T, c *cluster) {
	return func(t *testing.T, c *cluster) {
		ctx := testContext(t, 20*time.Second)
		ns := createNamespace(t, c, "crud-"+path.Base(t.Name()))
		cl := k.client(c, ns)

		created, err := cl.Create(ctx, k.build("a", map[string]string{"app": "a", "tier": "web"}), metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create a: %v", err)
		}
		if created.GetUID() == "" || created.GetResourceVersion() == "" || created.GetCreationTimestamp().Time.IsZero() {
			t.Fatalf("create a: want uid, resourceVersion and creationTimestamp set, got uid=%q rv=%q created=%v",
				created.GetUID(), created.GetResourceVersion(), created.GetCreationTimestamp())
		}
		if created.GetNamespace() != ns {
			t.Fatalf("create a: namespace = %q, want %q", created.GetNamespace(), ns)
		}
		if _, err := cl.Create(ctx, k.build("b", map[string]string{"app": "b", "tier": "web"}), metav1.CreateOptions{}); err != nil {
			t.Fatalf("create b: %v", err)
		}
		if _, err := cl.Create(ctx, k.build("a", nil), metav1.CreateOptions{}); !apierrors.IsAlreadyExists(err) {
			t.Fatalf("create a twice: want AlreadyExists, got %v", err)
		}

		got, err := cl.Get(ctx, "a", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get a: %v", err)
		}
		if got.GetUID() != created.GetUID() || got.GetResourceVersion() != created.GetResourceVersion() || got.GetLabels()["app"] != "a" {
			t.Fatalf("get a: got uid=%q rv=%q labels=%v, want uid=%q rv=%q app=a",
				got.GetUID(), got.GetResourceVersion(), got.GetLabels(), created.GetUID(), created.GetResourceVersion())
		}

		stale := got.DeepCopyObject().(T)
		k.mutate(got)
		updated, err := cl.Update(ctx, got, metav1.UpdateOptions{})
		if err != nil {
			t.Fatalf("update a: %v", err)
		}
		if updated.GetResourceVersion() == created.GetResourceVersion() {
			t.Fatalf("update a: resourceVersion did not change (%s)", updated.GetResourceVersion())
		}
		if err := k.mutated(updated); err != nil {
			t.Fatalf("update a: response lost the change: %v", err)
		}
		reread, err := cl.Get(ctx, "a", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get a after update: %v", err)
		}
		if err := k.mutated(reread); err != nil {
			t.Fatalf("get a after update: %v", err)
		}

		k.mutate(stale)
		stale.SetAnnotations(map[string]string{"stale": "true"})
		if _, err := cl.Update(ctx, stale, metav1.UpdateOptions{}); !apierrors.IsConflict(err) {
			t.Fatalf("update a with the resourceVersion %s of before the last update: want Conflict, got %v", stale.GetResourceVersion(), err)
		}

		for _, tc := range []struct {
			selector string
			want     []string
		}{
			{"app=a", []string{"a"}},
			{"app in (a,b)", []string{"a", "b"}},
			{"tier=web,app!=a", []string{"b"}},
			{"app=none", nil},
		} {
			list, err := cl.List(ctx, metav1.ListOptions{LabelSelector: tc.selector})
			if err != nil {
				t.Fatalf("list %q: %v", tc.selector, err)
			}
			if names := itemNames(t, list); fmt.Sprint(names) != fmt.Sprint(tc.want) {
				t.Errorf("list %q: got %v, want %v", tc.selector, names, tc.want)
			}
			if rv := listRV(t, list); rv == "" {
				t.Errorf("list %q: no metadata.resourceVersion", tc.selector)
			}
		}

		if err := cl.Delete(ctx, "a", metav1.DeleteOptions{}); err != nil {
			t.Fatalf("delete a: %v", err)
		}
		if _, err := cl.Get(ctx, "a", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Fatalf("get a after delete: want NotFound, got %v", err)
		}
		if err := cl.Delete(ctx, "a", metav1.DeleteOptions{}); !apierrors.IsNotFound(err) {
			t.Fatalf("delete a twice: want NotFound, got %v", err)
		}
		list, err := cl.List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatalf("list after delete: %v", err)
		}
		if names := itemNames(t, list); fmt.Sprint(names) != "[b]" {
			t.Fatalf("list after delete: got %v, want [b]", names)
		}
	}
}

func itemNames(t *testing.T, list runtime.Object) []string {
	t.Helper()
	items, err := apimeta.ExtractList(list)
	if err != nil {
		t.Fatalf("extract list items: %v", err)
	}
	var names []string
	for _, it := range items {
		acc, err := apimeta.Accessor(it)
		if err != nil {
			t.Fatalf("list item accessor: %v", err)
		}
		names = append(names, acc.GetName())
	}
	return names
}

func listRV(t *testing.T, list runtime.Object) string {
	t.Helper()
	acc, err := apimeta.ListAccessor(list)
	if err != nil {
		t.Fatalf("list accessor: %v", err)
	}
	return acc.GetResourceVersion()
}

func createNamespace(t *testing.T, c *cluster, name string) string {
	t.Helper()
	ctx := testContext(t, 10*time.Second)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := c.client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	return name
}

func testPod(name string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "app", Image: "nginx:1.27",
			Ports: []corev1.ContainerPort{{ContainerPort: 80}},
		}}},
	}
}

func testDeployment(name string, labels map[string]string) *appsv1.Deployment {
	replicas := int32(2)
	sel := map[string]string{"deploy": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: sel},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: sel},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx:1.27"}}},
			},
		},
	}
}

func TestTypedClientCRUD(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	cases := []struct {
		name string
		run  func(t *testing.T, c *cluster)
	}{
		{"configmaps", testCRUD(crudKind[*corev1.ConfigMap, *corev1.ConfigMapList]{
			client: func(c *cluster, ns string) typedClient[*corev1.ConfigMap, *corev1.ConfigMapList] {
				return c.client.CoreV1().ConfigMaps(ns)
			},
			build: func(name string, labels map[string]string) *corev1.ConfigMap {
				return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}, Data: map[string]string{"k": "v1"}}
			},
			mutate: func(cm *corev1.ConfigMap) { cm.Data["k"] = "v2" },
			mutated: func(cm *corev1.ConfigMap) error {
				if cm.Data["k"] != "v2" {
					return fmt.Errorf("data.k = %q, want v2", cm.Data["k"])
				}
				return nil
			},
		})},
		{"pods", testCRUD(crudKind[*corev1.Pod, *corev1.PodList]{
			client: func(c *cluster, ns string) typedClient[*corev1.Pod, *corev1.PodList] {
				return c.client.CoreV1().Pods(ns)
			},
			build:  testPod,
			mutate: func(p *corev1.Pod) { p.Spec.Containers[0].Image = "nginx:1.28" },
			mutated: func(p *corev1.Pod) error {
				if img := p.Spec.Containers[0].Image; img != "nginx:1.28" {
					return fmt.Errorf("image = %q, want nginx:1.28", img)
				}
				return nil
			},
		})},
		{"services", testCRUD(crudKind[*corev1.Service, *corev1.ServiceList]{
			client: func(c *cluster, ns string) typedClient[*corev1.Service, *corev1.ServiceList] {
				return c.client.CoreV1().Services(ns)
			},
			build: func(name string, labels map[string]string) *corev1.Service {
				return &corev1.Service{
					ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
					Spec: corev1.ServiceSpec{
						Selector: map[string]string{"app": name},
						Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}},
					},
				}
			},
			mutate: func(s *corev1.Service) { s.Spec.Ports[0].Port = 81 },
			mutated: func(s *corev1.Service) error {
				if len(s.Spec.Ports) != 1 || s.Spec.Ports[0].Port != 81 {
					return fmt.Errorf("ports = %+v, want one port 81", s.Spec.Ports)
				}
				if s.Spec.ClusterIP == "" {
					return fmt.Errorf("spec.clusterIP is empty")
				}
				return nil
			},
		})},
		{"deployments", testCRUD(crudKind[*appsv1.Deployment, *appsv1.DeploymentList]{
			client: func(c *cluster, ns string) typedClient[*appsv1.Deployment, *appsv1.DeploymentList] {
				return c.client.AppsV1().Deployments(ns)
			},
			build:  testDeployment,
			mutate: func(d *appsv1.Deployment) { r := int32(5); d.Spec.Replicas = &r },
			mutated: func(d *appsv1.Deployment) error {
				if d.Spec.Replicas == nil || *d.Spec.Replicas != 5 {
					return fmt.Errorf("spec.replicas = %v, want 5", d.Spec.Replicas)
				}
				if d.Generation != 2 {
					return fmt.Errorf("metadata.generation = %d, want 2 after one spec change", d.Generation)
				}
				return nil
			},
		})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, c)
		})
	}
}
