package k8sclient

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/restmapper"
)

// TestDiscovery checks that client-go's discovery client finds kl's groups
// and resources (it asks for aggregated discovery first and must fall back
// to the classic documents) and that a RESTMapper built from them maps the
// supported kinds.
func TestDiscovery(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	dc, err := discovery.NewDiscoveryClientForConfig(c.config)
	if err != nil {
		t.Fatal(err)
	}

	groups, lists, err := dc.ServerGroupsAndResources()
	if err != nil {
		t.Fatalf("ServerGroupsAndResources: %v", err)
	}
	var groupNames []string
	for _, g := range groups {
		groupNames = append(groupNames, g.Name)
	}
	for _, want := range []string{"", "apps", "coordination.k8s.io"} {
		if !contains(groupNames, want) {
			t.Errorf("groups %q: missing %q", groupNames, want)
		}
	}
	resources := map[string]metav1.APIResource{} // "group/version resource" -> resource
	for _, l := range lists {
		for _, r := range l.APIResources {
			resources[l.GroupVersion+" "+r.Name] = r
		}
	}
	for _, tc := range []struct {
		gvr        string
		kind       string
		namespaced bool
		verbs      []string
		shortName  string
	}{
		{"v1 pods", "Pod", true, []string{"create", "delete", "get", "list", "patch", "update", "watch"}, "po"},
		{"v1 services", "Service", true, []string{"create", "get", "list", "watch"}, "svc"},
		{"v1 configmaps", "ConfigMap", true, []string{"create", "get", "list", "watch"}, "cm"},
		{"v1 namespaces", "Namespace", false, []string{"create", "get", "list", "watch"}, "ns"},
		{"v1 nodes", "Node", false, []string{"get", "list", "watch"}, "no"},
		{"apps/v1 deployments", "Deployment", true, []string{"create", "get", "list", "patch", "watch"}, "deploy"},
		{"v1 pods/status", "Pod", true, []string{"get", "patch", "update"}, ""},
		{"apps/v1 deployments/scale", "Scale", true, []string{"get", "patch", "update"}, ""},
	} {
		r, ok := resources[tc.gvr]
		if !ok {
			t.Errorf("discovery has no %s", tc.gvr)
			continue
		}
		if r.Kind != tc.kind || r.Namespaced != tc.namespaced {
			t.Errorf("%s: kind=%s namespaced=%v, want %s %v", tc.gvr, r.Kind, r.Namespaced, tc.kind, tc.namespaced)
		}
		for _, verb := range tc.verbs {
			if !contains(r.Verbs, verb) {
				t.Errorf("%s: verbs %v lack %q", tc.gvr, r.Verbs, verb)
			}
		}
		if tc.shortName != "" && !contains(r.ShortNames, tc.shortName) {
			t.Errorf("%s: shortNames %v lack %q", tc.gvr, r.ShortNames, tc.shortName)
		}
	}

	preferred, err := dc.ServerPreferredResources()
	if err != nil {
		t.Fatalf("ServerPreferredResources: %v", err)
	}
	if len(preferred) == 0 {
		t.Fatal("ServerPreferredResources returned nothing")
	}

	// A RESTMapper from cached discovery, as kubectl and controller-runtime
	// build it.
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	for _, tc := range []struct {
		gk       schema.GroupKind
		resource string
		scope    string
	}{
		{schema.GroupKind{Kind: "Pod"}, "pods", "namespace"},
		{schema.GroupKind{Kind: "Namespace"}, "namespaces", "root"},
		{schema.GroupKind{Group: "apps", Kind: "Deployment"}, "deployments", "namespace"},
		{schema.GroupKind{Group: "coordination.k8s.io", Kind: "Lease"}, "leases", "namespace"},
	} {
		m, err := mapper.RESTMapping(tc.gk)
		if err != nil {
			t.Errorf("RESTMapping(%s): %v", tc.gk, err)
			continue
		}
		if m.Resource.Resource != tc.resource || string(m.Scope.Name()) != tc.scope {
			t.Errorf("RESTMapping(%s): resource=%s scope=%s, want %s %s", tc.gk, m.Resource.Resource, m.Scope.Name(), tc.resource, tc.scope)
		}
	}
	// kubectl resolves short names ("deploy") with the shortcut expander.
	expander := restmapper.NewShortcutExpander(mapper, dc, nil)
	for short, want := range map[string]string{"deploy": "apps/v1, Resource=deployments", "cm": "/v1, Resource=configmaps", "po": "/v1, Resource=pods"} {
		if gvr, err := expander.ResourceFor(schema.GroupVersionResource{Resource: short}); err != nil || gvr.String() != want {
			t.Errorf("ResourceFor(%s): %v %v, want %s", short, gvr, err, want)
		}
	}
}

// TestDynamicClient reads, lists and writes through client-go's dynamic
// client (unstructured objects), as generic tools do.
func TestDynamicClient(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	ctx := testContext(t, 10*time.Second)
	ns := createNamespace(t, c, "dynamic")
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "typed", Labels: map[string]string{"app": "x"}}, Data: map[string]string{"k": "v"}}
	if _, err := c.client.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	cms := c.dynamic.Resource(schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}).Namespace(ns)
	got, err := cms.Get(ctx, "typed", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("dynamic get: %v", err)
	}
	if got.GetKind() != "ConfigMap" || got.GetAPIVersion() != "v1" {
		t.Errorf("dynamic get: apiVersion=%q kind=%q, want v1 ConfigMap", got.GetAPIVersion(), got.GetKind())
	}
	if v, _, _ := unstructured.NestedString(got.Object, "data", "k"); v != "v" {
		t.Errorf("dynamic get: data.k = %q, want v", v)
	}

	dep := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web", "labels": map[string]any{"app": "web"}},
		"spec": map[string]any{
			"selector": map[string]any{"matchLabels": map[string]any{"app": "web"}},
			"template": map[string]any{
				"metadata": map[string]any{"labels": map[string]any{"app": "web"}},
				"spec":     map[string]any{"containers": []any{map[string]any{"name": "web", "image": "nginx"}}},
			},
		},
	}}
	deps := c.dynamic.Resource(schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}).Namespace(ns)
	created, err := deps.Create(ctx, dep, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("dynamic create deployment: %v", err)
	}
	if r, _, _ := unstructured.NestedInt64(created.Object, "spec", "replicas"); r != 1 {
		t.Errorf("dynamic create deployment: spec.replicas defaulted to %d, want 1", r)
	}
	list, err := deps.List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		t.Fatalf("dynamic list: %v", err)
	}
	if len(list.Items) != 1 || list.Items[0].GetName() != "web" || list.GetResourceVersion() == "" {
		t.Errorf("dynamic list: %d items, rv %q, want [web] with a resourceVersion", len(list.Items), list.GetResourceVersion())
	}
	if err := deps.Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("dynamic delete: %v", err)
	}

	namespaces := c.dynamic.Resource(schema.GroupVersionResource{Version: "v1", Resource: "namespaces"})
	nsObj, err := namespaces.Get(ctx, "default", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("dynamic get namespace default: %v", err)
	}
	if phase, _, _ := unstructured.NestedString(nsObj.Object, "status", "phase"); phase != "Active" {
		t.Errorf("namespace default: status.phase = %q, want Active", phase)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
