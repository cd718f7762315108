package apiserver

import (
	"net/http"
	"strings"
	"testing"
)

func (ts *testServer) apply(path, yaml string, query string) response {
	ts.t.Helper()
	return ts.doWithHeader("PATCH", path+"?fieldManager=kl"+query, "application/apply-patch+yaml", yaml)
}

func TestServerSideApply(t *testing.T) {
	ts := startServer(t)
	path := "/apis/apps/v1/namespaces/default/deployments/web"
	v1 := `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {team: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        env: [{name: MODE, value: prod}]
`
	r := ts.apply(path, v1, "").must(t, http.StatusCreated)
	if r.header.Get(applyResultHeader) != "created" {
		t.Fatalf("first apply result %q", r.header.Get(applyResultHeader))
	}
	rv := r.str("metadata", "resourceVersion")
	if !strings.Contains(string(r.body), `"manager":"kl"`) || !strings.Contains(string(r.body), `"operation":"Apply"`) {
		t.Fatalf("managedFields not recorded: %s", r.body)
	}

	// Re-applying the same manifest writes nothing.
	r = ts.apply(path, v1, "").must(t, http.StatusOK)
	if r.header.Get(applyResultHeader) != "unchanged" || r.str("metadata", "resourceVersion") != rv {
		t.Fatalf("re-apply: result %q rv %s (was %s)", r.header.Get(applyResultHeader), r.str("metadata", "resourceVersion"), rv)
	}

	// Another writer scales and adds a sidecar; a label comes from kl label.
	ts.do("PATCH", "/apis/apps/v1/namespaces/default/deployments/web/scale?fieldManager=kl-scale", "application/merge-patch+json", `{"spec":{"replicas":5}}`).must(t, http.StatusOK)
	ts.do("PATCH", path+"?fieldManager=kl-label", "application/merge-patch+json", `{"metadata":{"labels":{"owner":"ops"}}}`).must(t, http.StatusOK)
	ts.do("PATCH", path+"?fieldManager=injector", "application/strategic-merge-patch+json",
		`{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"envoy:1"}]}}}}`).must(t, http.StatusOK)

	// A manifest that no longer sets replicas and drops the env var keeps
	// what others set and removes what it dropped.
	v2 := strings.Replace(v1, "  replicas: 2\n", "", 1)
	v2 = strings.Replace(v2, "        env: [{name: MODE, value: prod}]\n", "", 1)
	v2 = strings.Replace(v2, "nginx:1.27", "nginx:1.28", 1)
	r = ts.apply(path, v2, "").must(t, http.StatusOK)
	if r.header.Get(applyResultHeader) != "configured" {
		t.Fatalf("apply of a changed manifest: result %q", r.header.Get(applyResultHeader))
	}
	if dig(r.obj, "spec", "replicas") != float64(5) {
		t.Fatalf("replicas set by kl scale lost: %v", dig(r.obj, "spec", "replicas"))
	}
	if r.str("metadata", "labels", "owner") != "ops" || r.str("metadata", "labels", "team") != "shop" {
		t.Fatalf("labels: %v", dig(r.obj, "metadata", "labels"))
	}
	containers := dig(r.obj, "spec", "template", "spec", "containers").([]any)
	if len(containers) != 2 {
		t.Fatalf("containers: %v", containers)
	}
	web := containers[0].(map[string]any)
	if web["image"] != "nginx:1.28" || web["env"] != nil {
		t.Fatalf("web container after apply: %v", web)
	}

	// Setting a field another manager owns to another value is a conflict...
	v3 := strings.Replace(v2, "spec:\n  selector", "spec:\n  replicas: 3\n  selector", 1)
	r = ts.apply(path, v3, "").must(t, http.StatusConflict)
	if !strings.Contains(r.str("message"), "kl-scale") || !strings.Contains(r.str("message"), ".spec.replicas") {
		t.Fatalf("conflict message: %s", r.str("message"))
	}
	// ...that force resolves in the applier's favour.
	r = ts.apply(path, v3, "&force=true").must(t, http.StatusOK)
	if dig(r.obj, "spec", "replicas") != float64(3) {
		t.Fatalf("forced apply: replicas %v", dig(r.obj, "spec", "replicas"))
	}

	// Apply validates like any write and stores nothing when invalid.
	bad := strings.Replace(v3, "replicas: 3", "replicas: -3", 1)
	ts.apply(path, bad, "").must(t, http.StatusUnprocessableEntity)
	ts.apply(path, strings.Replace(v3, "replicas: 3", "replica: 3", 1), "").must(t, http.StatusUnprocessableEntity)
	ts.apply("/apis/apps/v1/namespaces/default/deployments/other", v1, "").must(t, http.StatusBadRequest)
	ts.doWithHeader("PATCH", path, "application/apply-patch+yaml", v1).must(t, http.StatusBadRequest)
	if g := ts.get(path); dig(g.obj, "spec", "replicas") != float64(3) {
		t.Fatalf("invalid apply changed the object: %s", g.body)
	}
}
