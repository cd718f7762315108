package garbagecollector

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client/clock/clocktest"
	"github.com/kl-dev/kl/pkg/controller"
)

var testResources = []controller.APIResource{
	{GVR: meta.GroupVersionResource{Version: "v1", Resource: "pods"}, Kind: "Pod", Namespaced: true, Verbs: []string{"delete", "get", "list", "patch", "watch"}},
	{GVR: meta.GroupVersionResource{Version: "v1", Resource: "nodes"}, Kind: "Node", Verbs: []string{"delete", "get", "list", "patch", "watch"}},
	{GVR: meta.GroupVersionResource{Version: "v1", Resource: "events"}, Kind: "Event", Namespaced: true, Verbs: []string{"delete", "get", "list", "patch", "watch"}},
	{GVR: meta.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}, Kind: "ReplicaSet", Namespaced: true, Verbs: []string{"delete", "get", "list", "patch", "watch"}},
	{GVR: meta.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, Kind: "Deployment", Namespaced: true, Verbs: []string{"delete", "get", "list", "patch", "watch"}},
}

// fakeAPI holds the apiserver's objects and records what the collector
// asks of it, as "verb resource ns/name details".
type fakeAPI struct {
	mu      sync.Mutex
	objects map[string]*object // "resource ns/name"
	actions []string
}

func key(res *controller.APIResource, ns, name string) string {
	return res.GVR.String() + " " + ns + "/" + name
}

func (f *fakeAPI) get(_ context.Context, res *controller.APIResource, ns, name string) (*object, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.actions = append(f.actions, "get "+key(res, ns, name))
	o, ok := f.objects[key(res, ns, name)]
	if !ok {
		return nil, meta.NewNotFound(res.GVR.Group, res.GVR.Resource, name)
	}
	cp := *o
	return &cp, nil
}

func (f *fakeAPI) list(_ context.Context, res *controller.APIResource, ns string) ([]*object, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.actions = append(f.actions, "list "+res.GVR.String()+" "+ns)
	var out []*object
	for k, o := range f.objects {
		if strings.HasPrefix(k, res.GVR.String()+" ") && (ns == "" || o.Namespace == ns) {
			cp := *o
			out = append(out, &cp)
		}
	}
	slices.SortFunc(out, func(a, b *object) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func (f *fakeAPI) delete(_ context.Context, res *controller.APIResource, ns, name string, opts meta.DeleteOptions) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.actions = append(f.actions, fmt.Sprintf("delete %s policy=%s uid=%s", key(res, ns, name), *opts.PropagationPolicy, *opts.Preconditions.UID))
	delete(f.objects, key(res, ns, name))
	return nil
}

func (f *fakeAPI) patchMetadata(_ context.Context, res *controller.APIResource, ns, name string, md map[string]any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, _ := json.Marshal(md) // map keys are sorted
	f.actions = append(f.actions, fmt.Sprintf("patch %s %s", key(res, ns, name), b))
	return nil
}

type obj struct {
	res        string // resource name in testResources
	ns, name   string
	uid        string
	owners     []meta.OwnerReference
	deleting   bool
	finalizers []string
}

func owner(kind, name, uid string, block bool) meta.OwnerReference {
	apiVersion := "apps/v1"
	if kind == "Pod" || kind == "Node" {
		apiVersion = "v1"
	}
	r := meta.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: name, UID: uid, Controller: meta.Boolp(true)}
	if block {
		r.BlockOwnerDeletion = meta.Boolp(true)
	}
	return r
}

func (o obj) object() *object {
	out := &object{ObjectMeta: meta.ObjectMeta{
		Namespace: o.ns, Name: o.name, UID: o.uid, ResourceVersion: "7",
		OwnerReferences: o.owners, Finalizers: o.finalizers,
	}}
	if o.deleting {
		now := meta.Now()
		out.DeletionTimestamp = &now
	}
	return out
}

func TestCollectorDecisions(t *testing.T) {
	rs := obj{res: "replicasets", ns: "ns", name: "rs", uid: "rs-uid"}
	pod := obj{res: "pods", ns: "ns", name: "p", uid: "p-uid", owners: []meta.OwnerReference{owner("ReplicaSet", "rs", "rs-uid", true)}}
	deploymentOwned := obj{res: "replicasets", ns: "ns", name: "rs", uid: "rs-uid", owners: []meta.OwnerReference{owner("Deployment", "d", "d-uid", true)}}
	podOfRS := obj{res: "pods", ns: "ns", name: "p", uid: "p-uid", owners: []meta.OwnerReference{owner("ReplicaSet", "rs", "rs-uid", true)}}
	tests := []struct {
		name      string
		graph     []obj // what the informers have seen
		live      []obj // what the apiserver has
		reconcile string
		want      []string
		queued    int
	}{{
		name:      "owner in the graph: nothing to do, no request",
		graph:     []obj{rs, pod},
		live:      []obj{rs, pod},
		reconcile: "p-uid",
	}, {
		name:      "owner missing from a stale cache but alive: nothing deleted",
		graph:     []obj{pod},
		live:      []obj{rs, pod},
		reconcile: "p-uid",
		want:      []string{"get pods ns/p", "get replicasets.apps ns/rs"},
	}, {
		name:      "owner gone: the dependent is deleted in the background, with a uid precondition",
		graph:     []obj{pod},
		live:      []obj{pod},
		reconcile: "p-uid",
		want:      []string{"get pods ns/p", "get replicasets.apps ns/rs", "delete pods ns/p policy=Background uid=p-uid"},
	}, {
		name:      "owner name reused by a new object: the old owner is gone",
		graph:     []obj{pod},
		live:      []obj{{res: "replicasets", ns: "ns", name: "rs", uid: "new-uid"}, pod},
		reconcile: "p-uid",
		want:      []string{"get pods ns/p", "get replicasets.apps ns/rs", "delete pods ns/p policy=Background uid=p-uid"},
	}, {
		name:      "dependent re-adopted meanwhile: the live owner list counts",
		graph:     []obj{pod},
		live:      []obj{{res: "pods", ns: "ns", name: "p", uid: "p-uid"}},
		reconcile: "p-uid",
		want:      []string{"get pods ns/p"},
	}, {
		name:      "dependent replaced by another object of that name: left alone",
		graph:     []obj{pod},
		live:      []obj{{res: "pods", ns: "ns", name: "p", uid: "other"}},
		reconcile: "p-uid",
		want:      []string{"get pods ns/p"},
	}, {
		name: "one of two owners gone: its reference is removed, the object stays",
		graph: []obj{
			{res: "replicasets", ns: "ns", name: "rs2", uid: "rs2-uid"},
			{res: "pods", ns: "ns", name: "p", uid: "p-uid", owners: []meta.OwnerReference{owner("ReplicaSet", "rs", "rs-uid", false), owner("ReplicaSet", "rs2", "rs2-uid", false)}},
		},
		live: []obj{
			{res: "replicasets", ns: "ns", name: "rs2", uid: "rs2-uid"},
			{res: "pods", ns: "ns", name: "p", uid: "p-uid", owners: []meta.OwnerReference{owner("ReplicaSet", "rs", "rs-uid", false), owner("ReplicaSet", "rs2", "rs2-uid", false)}},
		},
		reconcile: "p-uid",
		want: []string{
			"get pods ns/p", "get replicasets.apps ns/rs",
			`patch pods ns/p {"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"rs2","uid":"rs2-uid","controller":true}],"resourceVersion":"7","uid":"p-uid"}`,
		},
	}, {
		name:      "owner deleted in the foreground, dependent with dependents: deleted in the foreground",
		graph:     []obj{{res: "deployments", ns: "ns", name: "d", uid: "d-uid", deleting: true, finalizers: []string{"foregroundDeletion"}}, deploymentOwned, podOfRS},
		live:      []obj{{res: "deployments", ns: "ns", name: "d", uid: "d-uid", deleting: true, finalizers: []string{"foregroundDeletion"}}, deploymentOwned, podOfRS},
		reconcile: "rs-uid",
		want:      []string{"get replicasets.apps ns/rs", "delete replicasets.apps ns/rs policy=Foreground uid=rs-uid"},
	}, {
		name:      "owner of a kind the server does not serve: kept",
		graph:     []obj{{res: "pods", ns: "ns", name: "p", uid: "p-uid", owners: []meta.OwnerReference{{APIVersion: "example.com/v1", Kind: "Widget", Name: "w", UID: "w-uid"}}}},
		live:      []obj{{res: "pods", ns: "ns", name: "p", uid: "p-uid", owners: []meta.OwnerReference{{APIVersion: "example.com/v1", Kind: "Widget", Name: "w", UID: "w-uid"}}}},
		reconcile: "p-uid",
	}, {
		name:      "cluster-scoped object with a namespaced owner: unresolvable, kept",
		graph:     []obj{{res: "nodes", name: "n", uid: "n-uid", owners: []meta.OwnerReference{owner("ReplicaSet", "rs", "rs-uid", false)}}},
		live:      []obj{{res: "nodes", name: "n", uid: "n-uid", owners: []meta.OwnerReference{owner("ReplicaSet", "rs", "rs-uid", false)}}},
		reconcile: "n-uid",
	}, {
		name:      "foreground owner with a blocking dependent: waits, the dependent is queued",
		graph:     []obj{{res: "replicasets", ns: "ns", name: "rs", uid: "rs-uid", deleting: true, finalizers: []string{"foregroundDeletion"}}, pod},
		reconcile: "rs-uid",
		queued:    1,
	}, {
		name: "foreground owner with only a non-blocking dependent: finalizer removed",
		graph: []obj{
			{res: "replicasets", ns: "ns", name: "rs", uid: "rs-uid", deleting: true, finalizers: []string{"foregroundDeletion"}},
			{res: "pods", ns: "ns", name: "p", uid: "p-uid", owners: []meta.OwnerReference{owner("ReplicaSet", "rs", "rs-uid", false)}},
		},
		live:      []obj{{res: "replicasets", ns: "ns", name: "rs", uid: "rs-uid", deleting: true, finalizers: []string{"foregroundDeletion"}}},
		reconcile: "rs-uid",
		want: []string{
			"list pods ns", "list replicasets.apps ns", "list deployments.apps ns",
			"get replicasets.apps ns/rs", `patch replicasets.apps ns/rs {"finalizers":null,"resourceVersion":"7","uid":"rs-uid"}`,
		},
		queued: 1,
	}, {
		name:      "foreground owner with a blocking dependent the graph has not seen yet: waits",
		graph:     []obj{{res: "replicasets", ns: "ns", name: "rs", uid: "rs-uid", deleting: true, finalizers: []string{"foregroundDeletion"}}},
		live:      []obj{{res: "replicasets", ns: "ns", name: "rs", uid: "rs-uid", deleting: true, finalizers: []string{"foregroundDeletion"}}, pod},
		reconcile: "rs-uid",
		want:      []string{"list pods ns", "list replicasets.apps ns", "list deployments.apps ns"},
	}, {
		name: "foreground owner whose blocking dependent is terminating: waits, nothing queued",
		graph: []obj{
			{res: "replicasets", ns: "ns", name: "rs", uid: "rs-uid", deleting: true, finalizers: []string{"foregroundDeletion"}},
			{res: "pods", ns: "ns", name: "p", uid: "p-uid", deleting: true, owners: []meta.OwnerReference{owner("ReplicaSet", "rs", "rs-uid", true)}},
		},
		reconcile: "rs-uid",
	}, {
		name:      "orphan: references removed from dependents, even those the graph has not seen, then the finalizer",
		graph:     []obj{{res: "replicasets", ns: "ns", name: "rs", uid: "rs-uid", deleting: true, finalizers: []string{"orphan", "example.com/x"}}},
		live:      []obj{{res: "replicasets", ns: "ns", name: "rs", uid: "rs-uid", deleting: true, finalizers: []string{"orphan", "example.com/x"}}, pod},
		reconcile: "rs-uid",
		want: []string{
			"list pods ns", "list replicasets.apps ns", "list deployments.apps ns",
			"get pods ns/p", `patch pods ns/p {"ownerReferences":null,"resourceVersion":"7","uid":"p-uid"}`,
			"get replicasets.apps ns/rs", `patch replicasets.apps ns/rs {"finalizers":["example.com/x"],"resourceVersion":"7","uid":"rs-uid"}`,
		},
	}, {
		name:      "object being deleted in the background: nothing to do",
		graph:     []obj{{res: "pods", ns: "ns", name: "p", uid: "p-uid", deleting: true, owners: pod.owners}},
		reconcile: "p-uid",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeAPI{objects: map[string]*object{}}
			c := newCollector(Config{Clock: clocktest.NewFake(time.Unix(0, 0))}, fake)
			c.setResources(testResources)
			res := func(name string) *controller.APIResource {
				i := slices.IndexFunc(c.watched, func(r controller.APIResource) bool { return r.GVR.Resource == name })
				if i < 0 {
					t.Fatalf("no resource %s", name)
				}
				return &c.watched[i]
			}
			for _, o := range tt.graph {
				c.graph.upsert(newNode(res(o.res), &o.object().ObjectMeta))
			}
			for _, o := range tt.live {
				fake.objects[key(res(o.res), o.ns, o.name)] = o.object()
			}
			if err := c.reconcile(context.Background(), tt.reconcile); err != nil {
				t.Fatal(err)
			}
			if got, want := strings.Join(fake.actions, "\n"), strings.Join(tt.want, "\n"); got != want {
				t.Errorf("actions:\n%s\nwant:\n%s", got, want)
			}
			if n := c.loop.Len(); n != tt.queued {
				t.Errorf("queued %d, want %d", n, tt.queued)
			}
		})
	}
}

func TestGraphIndexesDependentsByOwner(t *testing.T) {
	g := newGraph()
	pods := &testResources[0]
	mk := func(uid string, owners ...string) *node {
		o := &object{ObjectMeta: meta.ObjectMeta{Name: uid, UID: uid}}
		for _, ow := range owners {
			o.OwnerReferences = append(o.OwnerReferences, meta.OwnerReference{UID: ow})
		}
		return newNode(pods, &o.ObjectMeta)
	}
	deps := func(owner string) string {
		var out []string
		for _, n := range g.dependentsOf(owner) {
			out = append(out, n.uid)
		}
		slices.Sort(out)
		return strings.Join(out, ",")
	}
	g.upsert(mk("a", "o1"))
	g.upsert(mk("b", "o1", "o2"))
	if d := deps("o1"); d != "a,b" {
		t.Fatalf("dependents of o1 = %q", d)
	}
	g.upsert(mk("b", "o2")) // b dropped o1
	if d := deps("o1"); d != "a" {
		t.Fatalf("after b dropped o1: %q", d)
	}
	g.remove("a")
	if g.hasDependents("o1") || deps("o2") != "b" {
		t.Fatalf("after removing a: o1 %q, o2 %q", deps("o1"), deps("o2"))
	}
	if _, ok := g.get("a"); ok {
		t.Fatal("a still in the graph")
	}
}

func TestSetResourcesSkipsEventsAndResolvesKinds(t *testing.T) {
	c := newCollector(Config{}, &fakeAPI{})
	c.setResources(testResources)
	for _, r := range c.watched {
		if r.GVR.Resource == "events" {
			t.Error("events are watched")
		}
	}
	if r := c.resourceFor(&meta.OwnerReference{APIVersion: "apps/v1beta2", Kind: "ReplicaSet"}); r == nil || r.GVR.Resource != "replicasets" {
		t.Errorf("another version of the group: %v", r)
	}
	if r := c.resourceFor(&meta.OwnerReference{APIVersion: "v1", Kind: "ReplicaSet"}); r != nil {
		t.Errorf("the wrong group resolved: %v", r)
	}
}

func TestObjectDecodingKeepsOnlyMetadata(t *testing.T) {
	var o object
	err := json.Unmarshal([]byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","uid":"u","labels":{"a":"b"},"annotations":{"big":"x"},"managedFields":[{"manager":"m"}],"ownerReferences":[{"apiVersion":"v1","kind":"Node","name":"n","uid":"nu"}]},"spec":{"containers":[]}}`), &o)
	if err != nil {
		t.Fatal(err)
	}
	if o.Kind != "Pod" || o.Name != "p" || o.UID != "u" || len(o.OwnerReferences) != 1 {
		t.Errorf("decoded %+v", o)
	}
	if o.Labels != nil || o.Annotations != nil || o.ManagedFields != nil {
		t.Errorf("kept more than needed: %+v", o.ObjectMeta)
	}
}
