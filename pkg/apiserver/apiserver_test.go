package apiserver

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/api/meta"
)

func pod(name string) map[string]any {
	return map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": name, "labels": map[string]any{"app": "web"}},
		"spec":     map[string]any{"containers": []any{map[string]any{"name": "c", "image": "nginx:1.27"}}},
	}
}

func configMap(name string, data map[string]any) map[string]any {
	return map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": name},
		"data":     data,
	}
}

func deployment(name string, replicas int) map[string]any {
	labels := map[string]any{"app": name}
	return map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": name},
		"spec": map[string]any{
			"replicas": replicas,
			"selector": map[string]any{"matchLabels": labels},
			"template": map[string]any{
				"metadata": map[string]any{"labels": labels},
				"spec":     map[string]any{"containers": []any{map[string]any{"name": "c", "image": "nginx:1.27"}}},
			},
		},
	}
}

// One minimal valid object per kind, with the path it is created under.
func everyKind() []struct {
	path string
	obj  map[string]any
} {
	labels := map[string]any{"app": "x"}
	tmpl := map[string]any{
		"metadata": map[string]any{"labels": labels},
		"spec":     map[string]any{"containers": []any{map[string]any{"name": "c", "image": "busybox:1.36"}}},
	}
	return []struct {
		path string
		obj  map[string]any
	}{
		{"/api/v1/namespaces", map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "shop"}}},
		{"/api/v1/nodes", map[string]any{"apiVersion": "v1", "kind": "Node", "metadata": map[string]any{"name": "n1"}}},
		{"/api/v1/namespaces/default/pods", pod("p1")},
		{"/api/v1/namespaces/default/services", map[string]any{"apiVersion": "v1", "kind": "Service", "metadata": map[string]any{"name": "s1"},
			"spec": map[string]any{"selector": labels, "ports": []any{map[string]any{"port": 80}}}}},
		{"/api/v1/namespaces/default/endpoints", map[string]any{"apiVersion": "v1", "kind": "Endpoints", "metadata": map[string]any{"name": "s1"},
			"subsets": []any{map[string]any{"addresses": []any{map[string]any{"ip": "10.0.0.1"}}, "ports": []any{map[string]any{"port": 80}}}}}},
		{"/api/v1/namespaces/default/configmaps", configMap("cm1", map[string]any{"k": "v"})},
		{"/api/v1/namespaces/default/secrets", map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "sec1"},
			"data": map[string]any{"password": "aHVudGVyMg=="}}},
		{"/api/v1/namespaces/default/serviceaccounts", map[string]any{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": map[string]any{"name": "sa1"}}},
		{"/api/v1/namespaces/default/events", map[string]any{"apiVersion": "v1", "kind": "Event", "metadata": map[string]any{"name": "ev1"},
			"involvedObject": map[string]any{"kind": "Pod", "name": "p1", "namespace": "default"}, "reason": "Started", "message": "hello", "type": "Normal"}},
		{"/apis/apps/v1/namespaces/default/replicasets", map[string]any{"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": map[string]any{"name": "rs1"},
			"spec": map[string]any{"selector": map[string]any{"matchLabels": labels}, "template": tmpl}}},
		{"/apis/apps/v1/namespaces/default/deployments", deployment("d1", 2)},
		{"/apis/coordination.k8s.io/v1/namespaces/default/leases", map[string]any{"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": map[string]any{"name": "l1"},
			"spec": map[string]any{"holderIdentity": "me", "leaseDurationSeconds": 15}}},
	}
}

func TestCRUDForEveryKind(t *testing.T) {
	ts := startServer(t)
	for _, k := range everyKind() {
		name := dig(k.obj, "metadata", "name").(string)
		t.Run(k.obj["kind"].(string), func(t *testing.T) {
			created := ts.post(k.path, k.obj).must(t, http.StatusCreated)
			if created.str("metadata", "uid") == "" || created.str("metadata", "resourceVersion") == "" || created.str("metadata", "creationTimestamp") == "" {
				t.Fatalf("create did not fill uid/resourceVersion/creationTimestamp: %s", created.body)
			}
			if created.str("kind") != k.obj["kind"] || created.str("apiVersion") != k.obj["apiVersion"] {
				t.Fatalf("kind/apiVersion = %s %s", created.str("kind"), created.str("apiVersion"))
			}
			got := ts.get(k.path+"/"+name).must(t, http.StatusOK)
			if got.str("metadata", "resourceVersion") != created.str("metadata", "resourceVersion") {
				t.Fatalf("get rv %s != create rv %s", got.str("metadata", "resourceVersion"), created.str("metadata", "resourceVersion"))
			}
			list := ts.get(k.path).must(t, http.StatusOK)
			if list.str("kind") != k.obj["kind"].(string)+"List" {
				t.Fatalf("list kind = %q", list.str("kind"))
			}
			found := false
			for _, it := range dig(list.obj, "items").([]any) {
				found = found || dig(it, "metadata", "name") == name
			}
			if !found {
				t.Fatalf("list does not contain %s: %s", name, list.body)
			}
			// Update through PUT with the current resourceVersion.
			upd := got.obj
			md := upd["metadata"].(map[string]any)
			md["labels"] = map[string]any{"updated": "yes"}
			put := ts.put(k.path+"/"+name, upd).must(t, http.StatusOK)
			if put.str("metadata", "labels", "updated") != "yes" {
				t.Fatalf("update lost the label: %s", put.body)
			}
			// Merge patch.
			patched := ts.do("PATCH", k.path+"/"+name, "application/merge-patch+json",
				`{"metadata":{"annotations":{"note":"patched"}}}`).must(t, http.StatusOK)
			if patched.str("metadata", "annotations", "note") != "patched" || patched.str("metadata", "labels", "updated") != "yes" {
				t.Fatalf("merge patch result: %s", patched.body)
			}
			if k.obj["kind"] == "Namespace" {
				return // namespaces are deleted by the namespace controller
			}
			ts.del(k.path+"/"+name).must(t, http.StatusOK)
			ts.get(k.path+"/"+name).must(t, http.StatusNotFound)
		})
	}
}

func TestStaleUpdateIsAConflict(t *testing.T) {
	ts := startServer(t)
	first := ts.post("/api/v1/namespaces/default/configmaps", configMap("cm", map[string]any{"a": "1"})).must(t, http.StatusCreated)
	second := first.obj
	second["data"] = map[string]any{"a": "2"}
	ts.put("/api/v1/namespaces/default/configmaps/cm", second).must(t, http.StatusOK)
	stale := first.obj
	stale["data"] = map[string]any{"a": "3"}
	r := ts.put("/api/v1/namespaces/default/configmaps/cm", stale).must(t, http.StatusConflict)
	if r.str("reason") != "Conflict" || r.str("kind") != "Status" {
		t.Fatalf("stale update answer: %s", r.body)
	}
	if got := ts.get("/api/v1/namespaces/default/configmaps/cm"); got.str("data", "a") != "2" {
		t.Fatalf("stale update changed the object: %s", got.body)
	}
}

func TestWatchFromRevisionSeesExactlyTheLaterEvents(t *testing.T) {
	ts := startServer(t)
	a := ts.post("/api/v1/namespaces/default/configmaps", configMap("a", nil)).must(t, http.StatusCreated)
	rv := a.str("metadata", "resourceVersion")
	ts.post("/api/v1/namespaces/default/configmaps", configMap("b", nil)).must(t, http.StatusCreated)
	// A write of another kind in between must not show up.
	ts.post("/api/v1/namespaces/default/secrets", map[string]any{"metadata": map[string]any{"name": "s"}}).must(t, http.StatusCreated)
	ts.do("PATCH", "/api/v1/namespaces/default/configmaps/a", "application/merge-patch+json", `{"data":{"x":"y"}}`).must(t, http.StatusOK)
	ts.del("/api/v1/namespaces/default/configmaps/b").must(t, http.StatusOK)

	w := ts.watch("/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=" + rv)
	want := [][2]string{{"ADDED", "b"}, {"MODIFIED", "a"}, {"DELETED", "b"}}
	last := rv
	for _, wnt := range want {
		ev := w.next(t)
		typ, name := eventName(ev)
		if typ != wnt[0] || name != wnt[1] {
			t.Fatalf("event = %s %s, want %s %s", typ, name, wnt[0], wnt[1])
		}
		evRV := dig(ev, "object", "metadata", "resourceVersion").(string)
		if len(evRV) < len(last) || (len(evRV) == len(last) && evRV <= last) {
			t.Fatalf("event resourceVersion %s not after %s", evRV, last)
		}
		last = evRV
	}
	w.none(t, 200*time.Millisecond)
	// Live events follow, of this namespace only.
	ts.post("/api/v1/namespaces/kube-system/configmaps", configMap("elsewhere", nil)).must(t, http.StatusCreated)
	ts.post("/api/v1/namespaces/default/configmaps", configMap("c", nil)).must(t, http.StatusCreated)
	if typ, name := eventName(w.next(t)); typ != "ADDED" || name != "c" {
		t.Fatalf("live event = %s %s", typ, name)
	}
}

func TestWatchFromTrimmedHistoryIsGone(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.WatchCacheSize = 5 })
	first := ts.post("/api/v1/namespaces/default/configmaps", configMap("cm-0", nil)).must(t, http.StatusCreated)
	for i := 1; i < 20; i++ {
		ts.post("/api/v1/namespaces/default/configmaps", configMap(fmt.Sprintf("cm-%d", i), nil)).must(t, http.StatusCreated)
	}
	r := ts.get("/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=" + first.str("metadata", "resourceVersion"))
	if r.code != http.StatusGone || r.str("kind") != "Status" {
		t.Fatalf("watch from trimmed history: HTTP %d %s", r.code, r.body)
	}
}

func TestDryRunStoresNothing(t *testing.T) {
	ts := startServer(t)
	r := ts.post("/api/v1/namespaces/default/configmaps?dryRun=All", configMap("dry", map[string]any{"k": "v"})).must(t, http.StatusCreated)
	if r.str("data", "k") != "v" {
		t.Fatalf("dry-run create did not return the would-be object: %s", r.body)
	}
	ts.get("/api/v1/namespaces/default/configmaps/dry").must(t, http.StatusNotFound)
	ts.post("/api/v1/namespaces/default/configmaps", configMap("real", map[string]any{"k": "v"})).must(t, http.StatusCreated)
	ts.do("PATCH", "/api/v1/namespaces/default/configmaps/real?dryRun=All", "application/merge-patch+json", `{"data":{"k":"changed"}}`).must(t, http.StatusOK)
	ts.do("DELETE", "/api/v1/namespaces/default/configmaps/real?dryRun=All", "", nil).must(t, http.StatusOK)
	if got := ts.get("/api/v1/namespaces/default/configmaps/real").must(t, http.StatusOK); got.str("data", "k") != "v" {
		t.Fatalf("dry-run patch changed the object: %s", got.body)
	}
}

func causes(r response) map[string]string {
	out := map[string]string{}
	cs, _ := dig(r.obj, "details", "causes").([]any)
	for _, c := range cs {
		f, _ := dig(c, "field").(string)
		m, _ := dig(c, "message").(string)
		out[f] = m
	}
	return out
}

func TestInvalidObjectsGet422WithFieldPaths(t *testing.T) {
	ts := startServer(t)
	d := deployment("web", -1)
	r := ts.post("/apis/apps/v1/namespaces/default/deployments", d).must(t, http.StatusUnprocessableEntity)
	if r.str("reason") != "Invalid" {
		t.Fatalf("reason = %q: %s", r.str("reason"), r.body)
	}
	if _, ok := causes(r)["spec.replicas"]; !ok {
		t.Fatalf("no cause for spec.replicas: %s", r.body)
	}
	// Unknown field.
	d = deployment("web", 1)
	d["spec"].(map[string]any)["replica"] = 3
	r = ts.post("/apis/apps/v1/namespaces/default/deployments", d).must(t, http.StatusUnprocessableEntity)
	if !strings.Contains(string(r.body), "replica") {
		t.Fatalf("unknown field not named: %s", r.body)
	}
	// Wrong type.
	d = deployment("web", 1)
	d["spec"].(map[string]any)["replicas"] = "three"
	r = ts.post("/apis/apps/v1/namespaces/default/deployments", d).must(t, http.StatusUnprocessableEntity)
	if _, ok := causes(r)["spec.replicas"]; !ok {
		t.Fatalf("no cause for spec.replicas: %s", r.body)
	}
	// Upper-case name.
	r = ts.post("/api/v1/namespaces/default/configmaps", configMap("Bad_Name", nil)).must(t, http.StatusUnprocessableEntity)
	if _, ok := causes(r)["metadata.name"]; !ok {
		t.Fatalf("no cause for metadata.name: %s", r.body)
	}
	// Unsupported volume source.
	p := pod("vol")
	p["spec"].(map[string]any)["volumes"] = []any{map[string]any{"name": "data", "persistentVolumeClaim": map[string]any{"claimName": "x"}}}
	r = ts.post("/api/v1/namespaces/default/pods", p).must(t, http.StatusUnprocessableEntity)
	if !strings.Contains(string(r.body), "persistentVolumeClaim") || !strings.Contains(string(r.body), "not supported") {
		t.Fatalf("unsupported volume source not reported: %s", r.body)
	}
	ts.get("/apis/apps/v1/namespaces/default/deployments/web").must(t, http.StatusNotFound)
}

func TestBadInputGetsTheRight4xxAndTheServerKeepsServing(t *testing.T) {
	ts := startServer(t)
	cases := []struct {
		name, method, path, ctype string
		body                      any
		code                      int
	}{
		{"malformed JSON", "POST", "/api/v1/namespaces/default/configmaps", "application/json", `{"metadata": {`, 400},
		{"not an object", "POST", "/api/v1/namespaces/default/configmaps", "application/json", `[1,2]`, 400},
		{"kind mismatch", "POST", "/api/v1/namespaces/default/configmaps", "application/json", `{"kind":"Secret","apiVersion":"v1","metadata":{"name":"x"}}`, 400},
		{"apiVersion mismatch", "POST", "/api/v1/namespaces/default/configmaps", "application/json", `{"kind":"ConfigMap","apiVersion":"apps/v1","metadata":{"name":"x"}}`, 400},
		{"dot-dot name", "GET", "/api/v1/namespaces/default/configmaps/..", "", nil, 400},
		{"unknown resource", "GET", "/api/v1/namespaces/default/widgets", "", nil, 404},
		{"unsupported media type", "POST", "/api/v1/namespaces/default/configmaps", "application/xml", `<x/>`, 415},
		{"bad selector", "GET", "/api/v1/pods?labelSelector=a%20in%20(", "", nil, 400},
		{"8 MiB body", "POST", "/api/v1/namespaces/default/configmaps", "application/json", strings.Repeat(" ", 8<<20), 413},
		{"bad patch type", "PATCH", "/api/v1/namespaces/default/configmaps/x", "text/plain", `x`, 415},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ts.do(c.method, c.path, c.ctype, c.body)
			if r.code != c.code {
				t.Fatalf("HTTP %d, want %d: %s", r.code, c.code, r.body)
			}
			if r.str("kind") != "Status" || r.str("message") == "" {
				t.Fatalf("error body is not a Status with a message: %s", r.body)
			}
		})
	}
	list := ts.get("/api/v1/namespaces/default/configmaps").must(t, http.StatusOK)
	if items := dig(list.obj, "items").([]any); len(items) != 0 {
		t.Fatalf("bad input stored something: %s", list.body)
	}
}

func TestPanicInAHandlerIsA500AndTheServerSurvives(t *testing.T) {
	ts := startServer(t)
	r := ts.srv.resources.lookup("", "v1", "configmaps")
	r.prepareForCreate = func(meta.Object) { panic("boom") }
	ts.post("/api/v1/namespaces/default/configmaps", configMap("x", nil)).must(t, http.StatusInternalServerError)
	ts.get("/api/v1/namespaces/default/configmaps").must(t, http.StatusOK)
}

func TestPodGracefulDeletion(t *testing.T) {
	ts := startServer(t)
	// An unbound pod goes at once.
	ts.post("/api/v1/namespaces/default/pods", pod("unbound")).must(t, http.StatusCreated)
	ts.del("/api/v1/namespaces/default/pods/unbound").must(t, http.StatusOK)
	ts.get("/api/v1/namespaces/default/pods/unbound").must(t, http.StatusNotFound)

	// A bound pod is marked and stays until its kubelet deletes it with grace 0.
	ts.post("/api/v1/namespaces/default/pods", pod("bound")).must(t, http.StatusCreated)
	ts.post("/api/v1/namespaces/default/pods/bound/binding", map[string]any{
		"apiVersion": "v1", "kind": "Binding", "metadata": map[string]any{"name": "bound"},
		"target": map[string]any{"kind": "Node", "name": "n1"},
	}).must(t, http.StatusCreated)
	got := ts.get("/api/v1/namespaces/default/pods/bound").must(t, http.StatusOK)
	if got.str("spec", "nodeName") != "n1" {
		t.Fatalf("binding did not set nodeName: %s", got.body)
	}
	ts.del("/api/v1/namespaces/default/pods/bound").must(t, http.StatusOK)
	marked := ts.get("/api/v1/namespaces/default/pods/bound").must(t, http.StatusOK)
	if marked.str("metadata", "deletionTimestamp") == "" || dig(marked.obj, "metadata", "deletionGracePeriodSeconds") != float64(30) {
		t.Fatalf("bound pod not marked with grace 30: %s", marked.body)
	}
	ts.del("/api/v1/namespaces/default/pods/bound?gracePeriodSeconds=0").must(t, http.StatusOK)
	ts.get("/api/v1/namespaces/default/pods/bound").must(t, http.StatusNotFound)
}

func TestFinalizersHoldAnObjectUntilRemoved(t *testing.T) {
	ts := startServer(t)
	cm := configMap("held", nil)
	cm["metadata"].(map[string]any)["finalizers"] = []any{"example.com/hold"}
	ts.post("/api/v1/namespaces/default/configmaps", cm).must(t, http.StatusCreated)
	ts.del("/api/v1/namespaces/default/configmaps/held").must(t, http.StatusAccepted)
	marked := ts.get("/api/v1/namespaces/default/configmaps/held").must(t, http.StatusOK)
	if marked.str("metadata", "deletionTimestamp") == "" {
		t.Fatalf("not marked for deletion: %s", marked.body)
	}
	ts.do("PATCH", "/api/v1/namespaces/default/configmaps/held", "application/merge-patch+json", `{"metadata":{"finalizers":null}}`).must(t, http.StatusOK)
	ts.get("/api/v1/namespaces/default/configmaps/held").must(t, http.StatusNotFound)
}

func TestServiceAllocationNeverDuplicatesUnderConcurrentCreates(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.ServiceClusterIPRange = "10.96.0.0/24"; c.ServiceNodePortRange = "30000-30099" })
	const n = 60
	var wg sync.WaitGroup
	results := make([]response, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i] = ts.post("/api/v1/namespaces/default/services", map[string]any{
				"metadata": map[string]any{"name": fmt.Sprintf("svc-%d", i)},
				"spec":     map[string]any{"type": "NodePort", "selector": map[string]any{"app": "x"}, "ports": []any{map[string]any{"port": 80}}},
			})
		}(i)
	}
	wg.Wait()
	ips, ports := map[string]string{}, map[float64]string{}
	for i, r := range results {
		r.must(t, http.StatusCreated)
		ip := r.str("spec", "clusterIP")
		port := dig(r.obj, "spec", "ports").([]any)[0].(map[string]any)["nodePort"].(float64)
		if prev, dup := ips[ip]; dup || ip == "" {
			t.Fatalf("svc-%d got clusterIP %q already given to %s", i, ip, prev)
		}
		if prev, dup := ports[port]; dup || port < 30000 || port > 30099 {
			t.Fatalf("svc-%d got nodePort %v (dup of %s or out of range)", i, port, prev)
		}
		ips[ip], ports[port] = r.str("metadata", "name"), r.str("metadata", "name")
	}
	// A taken address is refused; a released one can be taken again.
	taken := results[0].str("spec", "clusterIP")
	r := ts.post("/api/v1/namespaces/default/services", map[string]any{
		"metadata": map[string]any{"name": "dup"},
		"spec":     map[string]any{"clusterIP": taken, "ports": []any{map[string]any{"port": 80}}},
	}).must(t, http.StatusUnprocessableEntity)
	if !strings.Contains(string(r.body), "already allocated") {
		t.Fatalf("duplicate ClusterIP message: %s", r.body)
	}
	ts.del("/api/v1/namespaces/default/services/svc-0").must(t, http.StatusOK)
	ts.post("/api/v1/namespaces/default/services", map[string]any{
		"metadata": map[string]any{"name": "reuse"},
		"spec":     map[string]any{"clusterIP": taken, "ports": []any{map[string]any{"port": 80}}},
	}).must(t, http.StatusCreated)
	// Headless services get no address.
	h := ts.post("/api/v1/namespaces/default/services", map[string]any{
		"metadata": map[string]any{"name": "headless"},
		"spec":     map[string]any{"clusterIP": "None", "selector": map[string]any{"app": "x"}, "ports": []any{map[string]any{"port": 80}}},
	}).must(t, http.StatusCreated)
	if h.str("spec", "clusterIP") != "None" {
		t.Fatalf("headless service clusterIP = %q", h.str("spec", "clusterIP"))
	}
}

func TestBootstrapNamespacesAndDiscovery(t *testing.T) {
	ts := startServer(t)
	for _, ns := range []string{"default", "kube-system", "kube-node-lease"} {
		r := ts.get("/api/v1/namespaces/"+ns).must(t, http.StatusOK)
		if r.str("status", "phase") != "Active" {
			t.Fatalf("namespace %s phase %q", ns, r.str("status", "phase"))
		}
	}
	api := ts.get("/api").must(t, http.StatusOK)
	if api.str("kind") != "APIVersions" {
		t.Fatalf("/api: %s", api.body)
	}
	apis := ts.get("/apis").must(t, http.StatusOK)
	for _, g := range []string{"apps", "coordination.k8s.io"} {
		if !strings.Contains(string(apis.body), `"name":"`+g+`"`) {
			t.Fatalf("/apis lacks %s: %s", g, apis.body)
		}
	}
	v1 := ts.get("/api/v1").must(t, http.StatusOK)
	found := false
	for _, r := range dig(v1.obj, "resources").([]any) {
		if dig(r, "name") == "pods" {
			found = true
			if sn := dig(r, "shortNames").([]any); len(sn) != 1 || sn[0] != "po" {
				t.Fatalf("pods shortNames = %v", sn)
			}
		}
	}
	if !found {
		t.Fatalf("/api/v1 lacks pods: %s", v1.body)
	}
	ts.get("/apis/apps/v1").must(t, http.StatusOK)
	for _, p := range []string{"/healthz", "/readyz", "/livez", "/version", "/metrics"} {
		ts.get(p).must(t, http.StatusOK)
	}
	if m := ts.get("/metrics"); !strings.Contains(string(m.body), "apiserver_request_total") {
		t.Fatalf("/metrics lacks apiserver_request_total")
	}
}

func TestSelectorsAndPagination(t *testing.T) {
	ts := startServer(t)
	for i := 0; i < 7; i++ {
		cm := configMap(fmt.Sprintf("cm-%d", i), nil)
		tier := "front"
		if i%2 == 1 {
			tier = "back"
		}
		cm["metadata"].(map[string]any)["labels"] = map[string]any{"tier": tier}
		ts.post("/api/v1/namespaces/default/configmaps", cm).must(t, http.StatusCreated)
	}
	count := func(path string) int {
		r := ts.get(path).must(t, http.StatusOK)
		return len(dig(r.obj, "items").([]any))
	}
	for path, want := range map[string]int{
		"/api/v1/namespaces/default/configmaps?labelSelector=tier%3Dfront":             4,
		"/api/v1/namespaces/default/configmaps?labelSelector=tier%3D%3Dback":           3,
		"/api/v1/namespaces/default/configmaps?labelSelector=tier%21%3Dfront":          3,
		"/api/v1/namespaces/default/configmaps?labelSelector=tier%20in%20(front,back)": 7,
		"/api/v1/namespaces/default/configmaps?labelSelector=tier%20notin%20(front)":   3,
		"/api/v1/namespaces/default/configmaps?labelSelector=tier":                     7,
		"/api/v1/namespaces/default/configmaps?labelSelector=%21tier":                  0,
		"/api/v1/configmaps?fieldSelector=metadata.name%3Dcm-3":                        1,
		"/api/v1/configmaps?fieldSelector=metadata.namespace%3Dkube-system":            0,
		"/api/v1/configmaps?fieldSelector=metadata.name%21%3Dcm-3":                     6,
	} {
		if got := count(path); got != want {
			t.Errorf("%s: %d items, want %d", path, got, want)
		}
	}
	// A field the resource does not offer is refused, as Kubernetes does,
	// for lists and watches alike.
	for _, path := range []string{
		"/api/v1/configmaps?fieldSelector=spec.nodeName%3Dn1",
		"/api/v1/configmaps?watch=1&fieldSelector=data.x%3D1",
	} {
		r := ts.get(path).must(t, http.StatusBadRequest)
		if !strings.Contains(string(r.body), "field label not supported") {
			t.Errorf("%s: %s", path, r.body)
		}
	}
	// Pages of 3 cover all 7 exactly once.
	seen := map[string]bool{}
	path := "/api/v1/namespaces/default/configmaps?limit=3"
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatalf("pagination does not end")
		}
		r := ts.get(path).must(t, http.StatusOK)
		for _, it := range dig(r.obj, "items").([]any) {
			n := dig(it, "metadata", "name").(string)
			if seen[n] {
				t.Fatalf("%s listed twice", n)
			}
			seen[n] = true
		}
		c := r.str("metadata", "continue")
		if c == "" {
			break
		}
		path = "/api/v1/namespaces/default/configmaps?limit=3&continue=" + c
	}
	if len(seen) != 7 {
		t.Fatalf("pagination saw %d items, want 7", len(seen))
	}
}

func TestGenerationCountsSpecChangesOnly(t *testing.T) {
	ts := startServer(t)
	d := ts.post("/apis/apps/v1/namespaces/default/deployments", deployment("web", 1)).must(t, http.StatusCreated)
	if g := dig(d.obj, "metadata", "generation"); g != float64(1) {
		t.Fatalf("generation after create = %v", g)
	}
	l := ts.do("PATCH", "/apis/apps/v1/namespaces/default/deployments/web", "application/merge-patch+json", `{"metadata":{"labels":{"a":"b"}}}`).must(t, http.StatusOK)
	if g := dig(l.obj, "metadata", "generation"); g != float64(1) {
		t.Fatalf("generation after label change = %v", g)
	}
	s := ts.do("PATCH", "/apis/apps/v1/namespaces/default/deployments/web", "application/merge-patch+json", `{"spec":{"replicas":3}}`).must(t, http.StatusOK)
	if g := dig(s.obj, "metadata", "generation"); g != float64(2) {
		t.Fatalf("generation after spec change = %v", g)
	}
}

func TestStatusAndScaleSubresources(t *testing.T) {
	ts := startServer(t)
	d := ts.post("/apis/apps/v1/namespaces/default/deployments", deployment("web", 2)).must(t, http.StatusCreated)
	// The main resource ignores status; /status ignores everything else.
	obj := d.obj
	obj["status"] = map[string]any{"replicas": 7}
	put := ts.put("/apis/apps/v1/namespaces/default/deployments/web", obj).must(t, http.StatusOK)
	if dig(put.obj, "status", "replicas") != nil {
		t.Fatalf("main resource accepted a status change: %s", put.body)
	}
	obj = put.obj
	obj["status"] = map[string]any{"replicas": 2, "readyReplicas": 1}
	obj["spec"].(map[string]any)["replicas"] = 9
	st := ts.put("/apis/apps/v1/namespaces/default/deployments/web/status", obj).must(t, http.StatusOK)
	if dig(st.obj, "status", "readyReplicas") != float64(1) || dig(st.obj, "spec", "replicas") != float64(2) {
		t.Fatalf("status update: %s", st.body)
	}
	sc := ts.get("/apis/apps/v1/namespaces/default/deployments/web/scale").must(t, http.StatusOK)
	if sc.str("kind") != "Scale" || dig(sc.obj, "spec", "replicas") != float64(2) || sc.str("status", "selector") != "app=web" {
		t.Fatalf("scale: %s", sc.body)
	}
	ts.do("PATCH", "/apis/apps/v1/namespaces/default/deployments/web/scale", "application/merge-patch+json", `{"spec":{"replicas":5}}`).must(t, http.StatusOK)
	if got := ts.get("/apis/apps/v1/namespaces/default/deployments/web"); dig(got.obj, "spec", "replicas") != float64(5) {
		t.Fatalf("scale patch not applied: %s", got.body)
	}
}

func TestNamespaceRules(t *testing.T) {
	ts := startServer(t)
	r := ts.post("/api/v1/namespaces/nowhere/configmaps", configMap("x", nil)).must(t, http.StatusNotFound)
	if !strings.Contains(r.str("message"), "nowhere") {
		t.Fatalf("missing namespace message: %s", r.body)
	}
	ts.post("/api/v1/namespaces", map[string]any{"metadata": map[string]any{"name": "doomed"}}).must(t, http.StatusCreated)
	ts.del("/api/v1/namespaces/doomed").must(t, http.StatusOK)
	ns := ts.get("/api/v1/namespaces/doomed").must(t, http.StatusOK)
	if ns.str("status", "phase") != "Terminating" {
		t.Fatalf("deleted namespace phase = %q", ns.str("status", "phase"))
	}
	ts.post("/api/v1/namespaces/doomed/configmaps", configMap("x", nil)).must(t, http.StatusForbidden)
	// Clearing spec.finalizers through /finalize lets it go.
	ns.obj["spec"] = map[string]any{"finalizers": []any{}}
	ts.put("/api/v1/namespaces/doomed/finalize", ns.obj).must(t, http.StatusOK)
	ts.get("/api/v1/namespaces/doomed").must(t, http.StatusNotFound)
}

func TestWatchWithInitialEventsEndsWithABookmark(t *testing.T) {
	ts := startServer(t)
	ts.post("/api/v1/namespaces/default/configmaps", configMap("one", nil)).must(t, http.StatusCreated)
	ts.post("/api/v1/namespaces/default/configmaps", configMap("two", nil)).must(t, http.StatusCreated)
	w := ts.watch("/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan")
	for _, name := range []string{"one", "two"} {
		if typ, n := eventName(w.next(t)); typ != "ADDED" || n != name {
			t.Fatalf("initial event %s %s, want ADDED %s", typ, n, name)
		}
	}
	bm := w.next(t)
	if bm["type"] != "BOOKMARK" || dig(bm, "object", "metadata", "annotations", initialEventsEndAnnotation) != "true" {
		t.Fatalf("no initial-events-end bookmark: %v", bm)
	}
}
