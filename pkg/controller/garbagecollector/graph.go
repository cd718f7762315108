package garbagecollector

import (
	"encoding/json"
	"slices"
	"sync"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/controller"
)

// object is the metadata of an object of any kind: what the collector's
// informers decode and cache. Labels, annotations and managedFields are
// dropped on decoding; the collector never needs them.
type object struct {
	meta.TypeMeta   `json:",inline"`
	meta.ObjectMeta `json:"metadata,omitempty"`
}

// UnmarshalJSON decodes only the metadata the collector uses.
func (o *object) UnmarshalJSON(data []byte) error {
	var raw struct {
		meta.TypeMeta `json:",inline"`
		Metadata      meta.ObjectMeta `json:"metadata"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	o.TypeMeta = raw.TypeMeta
	o.ObjectMeta = raw.Metadata
	o.Labels, o.Annotations, o.ManagedFields = nil, nil, nil
	return nil
}

// node is one object in the collector's graph. Nodes are immutable once in
// the graph: a change replaces the node, so a reader holding one sees a
// consistent snapshot.
type node struct {
	res        *controller.APIResource
	namespace  string
	name       string
	uid        string
	owners     []meta.OwnerReference
	deleting   bool
	finalizers []string
}

func newNode(res *controller.APIResource, o *meta.ObjectMeta) *node {
	return &node{
		res:        res,
		namespace:  o.Namespace,
		name:       o.Name,
		uid:        o.UID,
		owners:     slices.Clone(o.OwnerReferences),
		deleting:   o.DeletionTimestamp != nil,
		finalizers: slices.Clone(o.Finalizers),
	}
}

func (n *node) hasFinalizer(f string) bool { return slices.Contains(n.finalizers, f) }

// waitingForDependents reports whether the object is being deleted in the
// foreground: it stays until its blocking dependents are gone.
func (n *node) waitingForDependents() bool {
	return n.deleting && n.hasFinalizer(meta.FinalizerDeleteDependents)
}

// ownerRef returns the dependent's reference to the owner with uid.
func (n *node) ownerRef(uid string) *meta.OwnerReference {
	for i := range n.owners {
		if n.owners[i].UID == uid {
			return &n.owners[i]
		}
	}
	return nil
}

func (n *node) String() string {
	if n.namespace == "" {
		return n.res.GVR.String() + "/" + n.name
	}
	return n.res.GVR.String() + " " + n.namespace + "/" + n.name
}

// graph is every object the collector watches, by uid, with an index of
// dependents by owner uid. It is safe for concurrent use.
type graph struct {
	mu         sync.RWMutex
	nodes      map[string]*node
	dependents map[string]map[string]struct{} // owner uid -> dependent uids
}

func newGraph() *graph {
	return &graph{nodes: map[string]*node{}, dependents: map[string]map[string]struct{}{}}
}

// upsert puts n in the graph and returns the node it replaced, if any.
func (g *graph) upsert(n *node) *node {
	g.mu.Lock()
	defer g.mu.Unlock()
	old := g.nodes[n.uid]
	if old != nil {
		g.unindexLocked(old)
	}
	g.nodes[n.uid] = n
	for _, ref := range n.owners {
		set := g.dependents[ref.UID]
		if set == nil {
			set = map[string]struct{}{}
			g.dependents[ref.UID] = set
		}
		set[n.uid] = struct{}{}
	}
	return old
}

// remove takes the object with uid out of the graph and returns it.
func (g *graph) remove(uid string) *node {
	g.mu.Lock()
	defer g.mu.Unlock()
	old := g.nodes[uid]
	if old != nil {
		g.unindexLocked(old)
		delete(g.nodes, uid)
	}
	return old
}

func (g *graph) unindexLocked(n *node) {
	for _, ref := range n.owners {
		if set := g.dependents[ref.UID]; set != nil {
			delete(set, n.uid)
			if len(set) == 0 {
				delete(g.dependents, ref.UID)
			}
		}
	}
}

func (g *graph) get(uid string) (*node, bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	n, ok := g.nodes[uid]
	return n, ok
}

// dependentsOf returns the objects that name uid as an owner.
func (g *graph) dependentsOf(uid string) []*node {
	g.mu.RLock()
	defer g.mu.RUnlock()
	set := g.dependents[uid]
	out := make([]*node, 0, len(set))
	for d := range set {
		if n, ok := g.nodes[d]; ok {
			out = append(out, n)
		}
	}
	return out
}

func (g *graph) hasDependents(uid string) bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return len(g.dependents[uid]) > 0
}
