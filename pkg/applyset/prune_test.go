package applyset_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/apiserver/apiservertest"
	"github.com/kl-dev/kl/pkg/applyset"
	"github.com/kl-dev/kl/pkg/cli/resource"
	"github.com/kl-dev/kl/pkg/client"
)

func TestRecordRoundTrips(t *testing.T) {
	c := apiservertest.StartClient(t)
	set, _ := applyset.Named("shop", "default")
	r, err := applyset.ReadRecord(ctxT(t), c.Dynamic(), set)
	if err != nil || r.Exists || r.Len() != 0 {
		t.Fatalf("no record yet: %+v, %v", r, err)
	}
	web := applyset.Member{Group: "apps", Kind: "Deployment", Namespace: "shop", Name: "web"}
	ns := applyset.Member{Kind: "Namespace", Name: "shop"}
	r, changed := r.With(web, ns)
	if !changed {
		t.Fatal("With added nothing")
	}
	if _, changed := r.With(web); changed {
		t.Error("adding a member twice changed the record")
	}
	if err := applyset.WriteRecord(ctxT(t), c.Dynamic(), set, r, "kl"); err != nil {
		t.Fatal(err)
	}
	got, err := applyset.ReadRecord(ctxT(t), c.Dynamic(), set)
	if err != nil || !got.Exists || got.Len() != 2 || !got.Has(web) || !got.Has(ns) {
		t.Fatalf("read back %v, %v", got.Members(), err)
	}
	if m := got.Members(); m[0] != web || m[1] != ns {
		t.Errorf("members %v: want sorted by kind", m)
	}
	got, changed = got.Without(web)
	if !changed || got.Has(web) || got.Len() != 1 {
		t.Errorf("Without: %v", got.Members())
	}

	// A ConfigMap of that name that is not a record is not used.
	other, _ := applyset.Named("other", "default")
	body := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"kl-applyset-other"},"data":{"members":"Namespace x\n"}}`
	if _, err := c.Dynamic().Create(ctxT(t), meta.GroupVersionResource{Version: "v1", Resource: "configmaps"}, "default", []byte(body), client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := applyset.ReadRecord(ctxT(t), c.Dynamic(), other); err == nil || !strings.Contains(err.Error(), "not the record") {
		t.Errorf("foreign configmap: %v", err)
	}
}

// pruneFixture applies three ConfigMaps through set "shop" and records
// them, plus one ConfigMap ("outsider") that carries the set's label
// without being a recorded member.
func pruneFixture(t *testing.T) (*client.Client, applyset.Set, []*applyset.Object) {
	t.Helper()
	c := apiservertest.StartClient(t)
	set, _ := applyset.Named("shop", "default")
	objs := prepare(t, c, &set, map[string]string{"cms.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {name: a, labels: {tier: web}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: b, labels: {tier: web}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c, labels: {tier: db}}
`})
	rs := applyset.Apply(ctxT(t), c.Dynamic(), objs, applyset.ApplyOptions{})
	rec := applyset.NewRecord()
	for i, r := range rs {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		rec, _ = rec.With(objs[i].Member())
	}
	if err := applyset.WriteRecord(ctxT(t), c.Dynamic(), set, rec, "kl"); err != nil {
		t.Fatal(err)
	}
	outsider := prepare(t, c, &set, map[string]string{"o.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: outsider}\n"})
	if rs := applyset.Apply(ctxT(t), c.Dynamic(), outsider, applyset.ApplyOptions{}); rs[0].Err != nil {
		t.Fatal(rs[0].Err)
	}
	return c, set, objs
}

func names(cs []*applyset.Candidate) string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Member.Name)
	}
	return strings.Join(out, ",")
}

func keepOf(objs ...*applyset.Object) map[applyset.Member]bool {
	keep := map[applyset.Member]bool{}
	for _, o := range objs {
		keep[o.Member()] = true
	}
	return keep
}

func TestPlanPrunesOnlyRecordedMembersThatCarryTheLabel(t *testing.T) {
	c, set, objs := pruneFixture(t)
	d := c.Dynamic()
	// b is relabelled by someone else: it left the set.
	if _, err := d.Patch(ctxT(t), objs[1].Mapping.GVR, "default", "b", client.MergePatchType,
		[]byte(`{"metadata":{"labels":{"applyset.kl.dev/part-of":"mine"}}}`), client.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	rec, err := applyset.ReadRecord(ctxT(t), d, set)
	if err != nil {
		t.Fatal(err)
	}
	r := resource.NewResolver(c)
	// Only a is left in the manifests.
	plan, err := applyset.PlanPrune(ctxT(t), d, r, set, rec, keepOf(objs[0]), meta.Selector{})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(plan.Prune); got != "c" {
		t.Errorf("prune %q, want c (b was relabelled, outsider was never recorded)", got)
	}
	if len(plan.Gone) != 1 || plan.Gone[0].Name != "b" || plan.Members != 3 || plan.Remaining != 1 {
		t.Errorf("plan %+v", plan)
	}
	if err := plan.CheckSafe(1); err != nil {
		t.Errorf("CheckSafe: %v", err)
	}

	// A selector narrows the prune to matching live objects.
	sel, _ := meta.ParseSelector("tier=web")
	plan, err = applyset.PlanPrune(ctxT(t), d, r, set, rec, keepOf(objs[0]), sel)
	if err != nil || len(plan.Prune) != 0 {
		t.Errorf("with -l tier=web: prune %q, %v; want nothing (c is tier=db)", names(plan.Prune), err)
	}

	results := applyset.Prune(ctxT(t), d, plan.Prune, applyset.DryRunNone, 0)
	if len(results) != 0 {
		t.Errorf("results %v", results)
	}
}

func TestPruneRefusesToEmptyASetUnlessForced(t *testing.T) {
	c, set, objs := pruneFixture(t)
	d := c.Dynamic()
	rec, _ := applyset.ReadRecord(ctxT(t), d, set)
	r := resource.NewResolver(c)
	other := prepare(t, c, &set, map[string]string{"x.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"})
	for _, tt := range []struct {
		name     string
		keep     map[applyset.Member]bool
		applying int
		want     string
	}{
		{"none of the manifests is a member", keepOf(other...), 1, "refusing to prune all 3 objects of apply set shop: none of the manifests' objects is one of its members"},
		{"nothing selected", keepOf(other...), 0, "refusing to prune all 3 objects of apply set shop: no manifests left; use --force to prune them"},
	} {
		plan, err := applyset.PlanPrune(ctxT(t), d, r, set, rec, tt.keep, meta.Selector{})
		if err != nil {
			t.Fatal(err)
		}
		err = plan.CheckSafe(tt.applying)
		var unsafe *applyset.UnsafePruneError
		if !errors.As(err, &unsafe) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}

	// Forced: the deletes go in, server dry run first (nothing deleted).
	plan, _ := applyset.PlanPrune(ctxT(t), d, r, set, rec, keepOf(other...), meta.Selector{})
	for _, dry := range []applyset.DryRun{applyset.DryRunClient, applyset.DryRunServer} {
		for _, res := range applyset.Prune(ctxT(t), d, plan.Prune, dry, 0) {
			if res.Err != nil {
				t.Errorf("dry run %d: %v", dry, res.Err)
			}
		}
		if _, err := d.Get(ctxT(t), objs[0].Mapping.GVR, "default", "a"); err != nil {
			t.Errorf("dry run %d deleted a: %v", dry, err)
		}
	}
	for _, res := range applyset.Prune(ctxT(t), d, plan.Prune, applyset.DryRunNone, 0) {
		if res.Err != nil {
			t.Error(res.Err)
		}
	}
	for _, n := range []string{"a", "b", "c"} {
		if _, err := d.Get(ctxT(t), objs[0].Mapping.GVR, "default", n); !meta.IsNotFound(err) {
			t.Errorf("%s not pruned: %v", n, err)
		}
	}
	if _, err := d.Get(ctxT(t), objs[0].Mapping.GVR, "default", "outsider"); err != nil {
		t.Errorf("outsider (labelled, never recorded) pruned: %v", err)
	}
}

// deleteLog records deletes and answers them.
type deleteLog struct {
	applyset.API
	mu      sync.Mutex
	deleted []string
}

func (l *deleteLog) Delete(_ context.Context, gvr meta.GroupVersionResource, ns, name string, opts meta.DeleteOptions) ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.deleted = append(l.deleted, gvr.Resource+"/"+name)
	if name == "gone" {
		return nil, meta.NewNotFound(gvr.Group, gvr.Resource, name)
	}
	return []byte(`{}`), nil
}

func TestPruneDeletesInReverseApplyOrder(t *testing.T) {
	cand := func(group, kind, resource, ns, name string) *applyset.Candidate {
		return &applyset.Candidate{
			Member:  applyset.Member{Group: group, Kind: kind, Namespace: ns, Name: name},
			Mapping: resourceMapping(group, kind, resource, ns != ""),
		}
	}
	cands := []*applyset.Candidate{
		cand("", "Namespace", "namespaces", "", "shop"),
		cand("", "ConfigMap", "configmaps", "shop", "cfg"),
		cand("apps", "Deployment", "deployments", "shop", "web"),
		cand("", "Service", "services", "shop", "gone"),
	}
	l := &deleteLog{}
	results := applyset.Prune(ctxT(t), l, cands, applyset.DryRunNone, 1)
	if got := strings.Join(l.deleted, ","); got != "deployments/web,services/gone,configmaps/cfg,namespaces/shop" {
		t.Errorf("delete order %s", got)
	}
	for i, r := range results {
		if r.Err != nil || r.Candidate != cands[i] {
			t.Errorf("result %d: %+v (an object already gone is not an error)", i, r)
		}
	}
}

func resourceMapping(group, kind, res string, namespaced bool) resource.Mapping {
	return resource.Mapping{GVR: meta.GroupVersionResource{Group: group, Version: "v1", Resource: res}, Kind: kind, Namespaced: namespaced}
}
