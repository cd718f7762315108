package informer

import (
	"fmt"
	"strings"
	"sync"

	"github.com/kl-dev/kl/pkg/api/meta"
)

// Index names every informer has or may have.
const (
	// NamespaceIndex indexes objects by metadata.namespace (always present).
	NamespaceIndex = "namespace"
	// LabelIndex indexes objects by each of their labels as "key=value"
	// (present with Options.IndexLabels).
	LabelIndex = "label"
)

// IndexFunc returns the values under which obj is indexed.
type IndexFunc[PT meta.Object] func(obj PT) []string

// Key returns the cache key of obj: "namespace/name", or "name" for
// cluster-scoped objects.
func Key(obj meta.Object) string {
	m := obj.GetObjectMeta()
	if m.Namespace == "" {
		return m.Name
	}
	return m.Namespace + "/" + m.Name
}

// SplitKey splits a key made by Key into namespace and name.
func SplitKey(key string) (namespace, name string) {
	if ns, n, ok := strings.Cut(key, "/"); ok {
		return ns, n
	}
	return "", key
}

// store is the thread-safe indexed map behind an informer.
type store[PT meta.Object] struct {
	mu       sync.RWMutex
	items    map[string]PT
	indexers map[string]IndexFunc[PT]
	// indices[index][value] is the set of keys indexed under value.
	indices map[string]map[string]map[string]struct{}
}

func newStore[PT meta.Object](indexers map[string]IndexFunc[PT]) *store[PT] {
	s := &store[PT]{items: map[string]PT{}, indexers: indexers, indices: map[string]map[string]map[string]struct{}{}}
	for name := range indexers {
		s.indices[name] = map[string]map[string]struct{}{}
	}
	return s
}

// setLocked stores obj under key, updating the indexes.
func (s *store[PT]) setLocked(key string, obj PT) {
	if old, ok := s.items[key]; ok {
		s.unindexLocked(key, old)
	}
	s.items[key] = obj
	for name, fn := range s.indexers {
		idx := s.indices[name]
		for _, v := range fn(obj) {
			set := idx[v]
			if set == nil {
				set = map[string]struct{}{}
				idx[v] = set
			}
			set[key] = struct{}{}
		}
	}
}

func (s *store[PT]) deleteLocked(key string) {
	if old, ok := s.items[key]; ok {
		s.unindexLocked(key, old)
		delete(s.items, key)
	}
}

func (s *store[PT]) unindexLocked(key string, obj PT) {
	for name, fn := range s.indexers {
		idx := s.indices[name]
		for _, v := range fn(obj) {
			if set := idx[v]; set != nil {
				delete(set, key)
				if len(set) == 0 {
					delete(idx, v)
				}
			}
		}
	}
}

func (s *store[PT]) get(key string) (PT, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	obj, ok := s.items[key]
	return obj, ok
}

func (s *store[PT]) len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.items)
}

// selectLocked returns the objects among keys (all when keys is nil) whose
// labels match sel.
func (s *store[PT]) selectLocked(keys map[string]struct{}, all bool, sel meta.Selector) []PT {
	var out []PT
	match := func(obj PT) {
		if sel.Empty() || sel.Matches(obj.GetObjectMeta().Labels) {
			out = append(out, obj)
		}
	}
	if all {
		out = make([]PT, 0, len(s.items))
		for _, obj := range s.items {
			match(obj)
		}
		return out
	}
	for k := range keys {
		match(s.items[k])
	}
	return out
}

// Lister reads an informer's cache. The objects it returns are shared:
// never modify them. Lists come in no particular order.
type Lister[PT meta.Object] struct {
	s *store[PT]
}

// Get returns the object called name in namespace ("" for cluster-scoped
// objects).
func (l Lister[PT]) Get(namespace, name string) (PT, bool) {
	if namespace == "" {
		return l.s.get(name)
	}
	return l.s.get(namespace + "/" + name)
}

// GetByKey returns the object with the given Key.
func (l Lister[PT]) GetByKey(key string) (PT, bool) { return l.s.get(key) }

// Len returns the number of objects in the cache.
func (l Lister[PT]) Len() int { return l.s.len() }

// List returns every object whose labels match sel (meta.Everything() for
// all). With Options.IndexLabels, a selector requiring an exact label
// value is answered from the label index.
func (l Lister[PT]) List(sel meta.Selector) []PT {
	s := l.s
	s.mu.RLock()
	defer s.mu.RUnlock()
	if idx, ok := s.indices[LabelIndex]; ok {
		for _, r := range sel.Requirements() {
			if v, ok := sel.RequiresExactMatch(r.Key); ok {
				return s.selectLocked(idx[r.Key+"="+v], false, sel)
			}
		}
	}
	return s.selectLocked(nil, true, sel)
}

// ListNamespace returns the objects in namespace whose labels match sel;
// namespace "" means every namespace.
func (l Lister[PT]) ListNamespace(namespace string, sel meta.Selector) []PT {
	if namespace == "" {
		return l.List(sel)
	}
	s := l.s
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.selectLocked(s.indices[NamespaceIndex][namespace], false, sel)
}

// ByIndex returns the objects indexed under value in the named index.
func (l Lister[PT]) ByIndex(index, value string) ([]PT, error) {
	s := l.s
	s.mu.RLock()
	defer s.mu.RUnlock()
	idx, ok := s.indices[index]
	if !ok {
		return nil, fmt.Errorf("informer has no index %q", index)
	}
	return s.selectLocked(idx[value], false, meta.Everything()), nil
}

func namespaceIndex[PT meta.Object](obj PT) []string {
	return []string{obj.GetObjectMeta().Namespace}
}

func labelIndex[PT meta.Object](obj PT) []string {
	labels := obj.GetObjectMeta().Labels
	out := make([]string, 0, len(labels))
	for k, v := range labels {
		out = append(out, k+"="+v)
	}
	return out
}
