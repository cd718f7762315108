package applyset_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/apiserver/apiservertest"
	"github.com/kl-dev/kl/pkg/applyset"
	"github.com/kl-dev/kl/pkg/client"
)

// shopFiles has a namespace listed after the objects that live in it.
var shopFiles = map[string]string{
	"a-app.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx:1.27}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: shop}
data: {a: "1"}
`,
	"b-ns.yaml": `apiVersion: v1
kind: Namespace
metadata: {name: shop}
`,
}

func actions(rs []*applyset.Result) string {
	var b []string
	for _, r := range rs {
		if r.Err != nil {
			b = append(b, "error: "+r.Err.Error())
			continue
		}
		b = append(b, string(r.Action))
	}
	return strings.Join(b, ",")
}

func TestApplyCreatesInDependencyOrderThenReportsUnchangedAndConfigured(t *testing.T) {
	c := apiservertest.StartClient(t)
	set, _ := applyset.Named("shop", "default")
	objs := prepare(t, c, &set, shopFiles)

	var mu sync.Mutex
	var seen []int
	opts := applyset.ApplyOptions{OnResult: func(i int, r *applyset.Result) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, i)
	}}
	rs := applyset.Apply(ctxT(t), c.Dynamic(), objs, opts)
	// The namespace (last in the files) was applied first, else the others
	// would have failed.
	if got := actions(rs); got != "created,created,created" {
		t.Fatalf("first apply: %s", got)
	}
	if len(seen) != 3 || seen[0] != 2 {
		t.Errorf("OnResult order %v: want the namespace (2) first, each once", seen)
	}
	if l := labelsOf(t, rs[0].Object); l[applyset.PartOfLabel] != "shop" {
		t.Errorf("labels %v: want the apply-set label", l)
	}
	if got := actions(applyset.Apply(ctxT(t), c.Dynamic(), objs, applyset.ApplyOptions{})); got != "unchanged,unchanged,unchanged" {
		t.Errorf("re-apply: %s", got)
	}
	files := map[string]string{"a-app.yaml": strings.Replace(shopFiles["a-app.yaml"], "replicas: 2", "replicas: 3", 1), "b-ns.yaml": shopFiles["b-ns.yaml"]}
	objs = prepare(t, c, &set, files)
	if got := actions(applyset.Apply(ctxT(t), c.Dynamic(), objs, applyset.ApplyOptions{})); got != "configured,unchanged,unchanged" {
		t.Errorf("apply after an edit: %s", got)
	}
}

func TestApplyKeepsFieldsOfOtherWritersAndReportsConflicts(t *testing.T) {
	c := apiservertest.StartClient(t)
	objs := prepare(t, c, nil, shopFiles)
	d := c.Dynamic()
	if got := actions(applyset.Apply(ctxT(t), d, objs, applyset.ApplyOptions{})); got != "created,created,created" {
		t.Fatal(got)
	}
	gvr := objs[0].Mapping.GVR
	// Another writer adds a label and changes replicas.
	if _, err := d.Patch(ctxT(t), gvr, "shop", "web", client.MergePatchType,
		[]byte(`{"metadata":{"labels":{"team":"blue"}},"spec":{"replicas":5}}`), client.PatchOptions{FieldManager: "scaler"}); err != nil {
		t.Fatal(err)
	}
	rs := applyset.Apply(ctxT(t), d, objs[:1], applyset.ApplyOptions{})
	if !meta.IsConflict(rs[0].Err) || !strings.Contains(rs[0].Err.Error(), `"scaler"`) || !strings.Contains(rs[0].Err.Error(), ".spec.replicas") {
		t.Fatalf("re-apply over another manager's replicas: %v, want a conflict naming the manager and field", rs[0].Err)
	}
	rs = applyset.Apply(ctxT(t), d, objs[:1], applyset.ApplyOptions{Force: true})
	if rs[0].Err != nil || rs[0].Action != applyset.Configured {
		t.Fatalf("forced re-apply: %+v", rs[0])
	}
	var dep struct {
		Metadata struct{ Labels map[string]string } `json:"metadata"`
		Spec     struct{ Replicas int }             `json:"spec"`
	}
	if err := json.Unmarshal(rs[0].Object, &dep); err != nil {
		t.Fatal(err)
	}
	if dep.Spec.Replicas != 2 || dep.Metadata.Labels["team"] != "blue" {
		t.Errorf("after forced apply: replicas %d (want the manifest's 2), labels %v (want team=blue kept)", dep.Spec.Replicas, dep.Metadata.Labels)
	}
}

func TestServerDryRunPredictsObjectsInANewNamespace(t *testing.T) {
	c := apiservertest.StartClient(t)
	objs := prepare(t, c, nil, shopFiles)
	rs := applyset.Apply(ctxT(t), c.Dynamic(), objs, applyset.ApplyOptions{DryRun: applyset.DryRunServer})
	if got := actions(rs); got != "created,created,created" {
		t.Fatalf("dry run: %s", got)
	}
	if !rs[0].Predicted || !rs[1].Predicted || rs[2].Predicted {
		t.Errorf("predicted: %v %v %v; want the objects in the new namespace predicted, the namespace dry-run by the server", rs[0].Predicted, rs[1].Predicted, rs[2].Predicted)
	}
	if _, err := c.Dynamic().Get(ctxT(t), objs[2].Mapping.GVR, "", "shop"); !meta.IsNotFound(err) {
		t.Errorf("the dry run created the namespace: %v", err)
	}
	// Client dry run: no writes either.
	rs = applyset.Apply(ctxT(t), c.Dynamic(), objs, applyset.ApplyOptions{DryRun: applyset.DryRunClient})
	if got := actions(rs); got != "created,created,created" {
		t.Fatalf("client dry run: %s", got)
	}
	if _, err := c.Dynamic().Get(ctxT(t), objs[2].Mapping.GVR, "", "shop"); !meta.IsNotFound(err) {
		t.Errorf("the client dry run created the namespace: %v", err)
	}
}

func TestApplyReportsEachFailureAndGoesOn(t *testing.T) {
	c := apiservertest.StartClient(t)
	objs := prepare(t, c, nil, map[string]string{"x.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {name: a, namespace: nowhere}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: b}
`})
	rs := applyset.Apply(ctxT(t), c.Dynamic(), objs, applyset.ApplyOptions{})
	if !meta.IsNotFound(rs[0].Err) || rs[1].Err != nil || rs[1].Action != applyset.Created {
		t.Errorf("results: %s", actions(rs))
	}
}

func TestApplySendsNoGetAndAtMostConcurrencyRequests(t *testing.T) {
	c := apiservertest.StartClient(t)
	var b strings.Builder
	for i := range 40 {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%d}\n", i)
	}
	objs := prepare(t, c, nil, map[string]string{"cms.yaml": b.String()})
	rec := &recorder{API: c.Dynamic()}
	rs := applyset.Apply(ctxT(t), rec, objs, applyset.ApplyOptions{Concurrency: 4})
	if strings.Contains(actions(rs), "error") {
		t.Fatal(actions(rs))
	}
	if rec.gets != 0 || rec.patches != 40 {
		t.Errorf("%d GETs and %d PATCHes, want 0 and 40", rec.gets, rec.patches)
	}
	if rec.maxInFlight > 4 {
		t.Errorf("%d requests in flight, want at most 4", rec.maxInFlight)
	}
}

// recorder counts the requests it passes on.
type recorder struct {
	applyset.API
	mu                    sync.Mutex
	gets, patches         int
	inFlight, maxInFlight int
}

func (r *recorder) Get(ctx context.Context, gvr meta.GroupVersionResource, ns, name string) ([]byte, error) {
	r.mu.Lock()
	r.gets++
	r.mu.Unlock()
	return r.API.Get(ctx, gvr, ns, name)
}

func (r *recorder) PatchWithResult(ctx context.Context, gvr meta.GroupVersionResource, ns, name string, pt client.PatchType, data []byte, opts client.PatchOptions) (*client.PatchResult, error) {
	r.mu.Lock()
	r.patches++
	r.inFlight++
	r.maxInFlight = max(r.maxInFlight, r.inFlight)
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.inFlight--
		r.mu.Unlock()
	}()
	return r.API.PatchWithResult(ctx, gvr, ns, name, pt, data, opts)
}

// flaky fails the first failures patches with err, then passes them on.
type flaky struct {
	applyset.API
	mu       sync.Mutex
	failures int
	err      error
	calls    int
}

func (f *flaky) PatchWithResult(ctx context.Context, gvr meta.GroupVersionResource, ns, name string, pt client.PatchType, data []byte, opts client.PatchOptions) (*client.PatchResult, error) {
	f.mu.Lock()
	f.calls++
	fail := f.calls <= f.failures
	f.mu.Unlock()
	if fail {
		return nil, f.err
	}
	return f.API.PatchWithResult(ctx, gvr, ns, name, pt, data, opts)
}

func TestApplyRetriesWhatTheServerGaveUpOnButNotConflicts(t *testing.T) {
	c := apiservertest.StartClient(t)
	objs := prepare(t, c, nil, map[string]string{"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"})
	fieldConflict := meta.NewConflict("", "configmaps", "a", "Apply failed with 1 conflict")
	fieldConflict.Status.Details.Causes = []meta.StatusCause{{Type: "FieldManagerConflict", Field: ".data.a"}}
	for _, tt := range []struct {
		name      string
		err       error
		failures  int
		wantCalls int
		wantErr   bool
	}{
		{"server error", meta.NewInternalError(errors.New("allocations: too many concurrent writers")), 2, 3, false},
		{"write race", meta.NewConflict("", "configmaps", "a", "too many concurrent writers, try again"), 1, 2, false},
		{"busy for good", meta.NewStatusError(http.StatusServiceUnavailable, meta.StatusReasonServiceUnavailable, "busy"), 100, 5, true},
		{"field conflict", fieldConflict, 1, 1, true},
		{"refused", meta.NewBadRequest("no"), 1, 1, true},
	} {
		f := &flaky{API: c.Dynamic(), failures: tt.failures, err: tt.err}
		rs := applyset.Apply(ctxT(t), f, objs, applyset.ApplyOptions{})
		if f.calls != tt.wantCalls || (rs[0].Err != nil) != tt.wantErr {
			t.Errorf("%s: %d calls, err %v; want %d calls, error %v", tt.name, f.calls, rs[0].Err, tt.wantCalls, tt.wantErr)
		}
	}
}
