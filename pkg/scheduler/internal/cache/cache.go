// Package cache is the scheduler's view of the cluster: every node with the
// pods assigned to it, kept from the informers, plus the pods the scheduler
// has assumed onto a node but whose binding the apiserver has not yet
// confirmed.
//
// Assuming is what lets the scheduler decide pod after pod without waiting
// for each bind round trip: once a node is chosen, AssumePod counts the pod
// against that node at once; the bind runs concurrently; when the informer
// delivers the bound pod, AddPod replaces the assumption with it; if the
// bind fails, ForgetPod takes the pod off the node again.
//
// The scheduling loop reads an immutable Snapshot, updated at the start of
// each cycle with only the nodes that changed, so that filters running on
// several goroutines read it without locks.
package cache

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/scheduler/framework"
)

type podState struct {
	info    *framework.PodInfo
	node    string
	assumed bool
}

// Cache is safe for concurrent use.
type Cache struct {
	mu sync.Mutex
	// nodes holds a NodeInfo per node name; one whose node is nil exists
	// while pods are known on a node the cache has not (or no longer) seen.
	nodes map[string]*framework.NodeInfo
	// pods are the pods counted on nodes, by namespace/name.
	pods map[string]*podState
	// dirty names the nodes changed since the last UpdateSnapshot.
	dirty map[string]struct{}
	// controllers interns controller UIDs (see PodInfo).
	controllers map[string]string
}

// maxInterned bounds the controller UIDs interned; past it the table
// starts afresh (interning only saves time, it never changes results).
const maxInterned = 10000

// New returns an empty cache.
func New() *Cache {
	return &Cache{
		nodes:       map[string]*framework.NodeInfo{},
		pods:        map[string]*podState{},
		dirty:       map[string]struct{}{},
		controllers: map[string]string{},
	}
}

// PodInfo returns pod's PodInfo with its controller UID interned: the
// same string as the PodInfos of the cached pods of that controller, so
// that spreading compares them by pointer instead of reading each node's
// copy from memory. The scheduler uses it for the pod it schedules.
func (c *Cache) PodInfo(pod *corev1.Pod) *framework.PodInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.podInfoLocked(pod)
}

func (c *Cache) podInfoLocked(pod *corev1.Pod) *framework.PodInfo {
	pi := framework.NewPodInfo(pod)
	if uid := pi.ControllerUID; uid != "" {
		if s, ok := c.controllers[uid]; ok {
			pi.ControllerUID = s // equal: the PodInfo's hash of it holds
		} else {
			if len(c.controllers) >= maxInterned {
				clear(c.controllers)
			}
			c.controllers[uid] = uid
		}
	}
	return pi
}

// AssumePod counts pod, whose spec.nodeName is the chosen node, against
// that node before the binding is confirmed.
func (c *Cache) AssumePod(pod *corev1.Pod) error {
	if pod.Spec.NodeName == "" {
		return fmt.Errorf("assume pod %s: no node name", corev1.PodKey(pod))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	key := corev1.PodKey(pod)
	if _, ok := c.pods[key]; ok {
		return fmt.Errorf("assume pod %s: already in the cache", key)
	}
	c.addLocked(key, c.podInfoLocked(pod), true)
	return nil
}

// ForgetPod takes an assumed pod off its node (its binding failed).
func (c *Cache) ForgetPod(pod *corev1.Pod) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := corev1.PodKey(pod)
	ps, ok := c.pods[key]
	if !ok {
		return nil // already gone (deleted meanwhile)
	}
	if !ps.assumed {
		return fmt.Errorf("forget pod %s: it is bound to %s, not assumed", key, ps.node)
	}
	c.removeLocked(key)
	return nil
}

// IsAssumed reports whether pod is assumed and not yet confirmed.
func (c *Cache) IsAssumed(pod *corev1.Pod) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps, ok := c.pods[corev1.PodKey(pod)]
	return ok && ps.assumed
}

// AddPod records a pod the informer shows bound to a node (and not
// finished). If the scheduler assumed it, the bound pod replaces the
// assumption, on whatever node the apiserver says.
func (c *Cache) AddPod(pod *corev1.Pod) {
	c.UpdatePod(pod)
}

// UpdatePod records the new state of a bound pod.
func (c *Cache) UpdatePod(pod *corev1.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := corev1.PodKey(pod)
	if _, ok := c.pods[key]; ok {
		c.removeLocked(key)
	}
	c.addLocked(key, c.podInfoLocked(pod), false)
}

// RemovePod forgets a pod that was deleted or has finished: its resources
// are free again.
func (c *Cache) RemovePod(pod *corev1.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removeLocked(corev1.PodKey(pod))
}

func (c *Cache) addLocked(key string, pi *framework.PodInfo, assumed bool) {
	name := pi.Pod.Spec.NodeName
	ni, ok := c.nodes[name]
	if !ok {
		ni = framework.NewNodeInfo(nil)
		c.nodes[name] = ni
	}
	ni.AddPod(pi)
	c.pods[key] = &podState{info: pi, node: name, assumed: assumed}
	c.dirty[name] = struct{}{}
}

func (c *Cache) removeLocked(key string) {
	ps, ok := c.pods[key]
	if !ok {
		return
	}
	delete(c.pods, key)
	ni, ok := c.nodes[ps.node]
	if !ok {
		return
	}
	ni.RemovePod(ps.info.Pod)
	if ni.Node() == nil && len(ni.Pods) == 0 {
		delete(c.nodes, ps.node)
	}
	c.dirty[ps.node] = struct{}{}
}

// AddNode adds or updates a node.
func (c *Cache) AddNode(node *corev1.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ni, ok := c.nodes[node.Name]
	if !ok {
		ni = framework.NewNodeInfo(nil)
		c.nodes[node.Name] = ni
	}
	ni.SetNode(node)
	c.dirty[node.Name] = struct{}{}
}

// UpdateNode records the new state of a node.
func (c *Cache) UpdateNode(node *corev1.Node) { c.AddNode(node) }

// RemoveNode forgets a node. Pods still bound to it keep being counted
// until they are deleted, in case the node comes back.
func (c *Cache) RemoveNode(node *corev1.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ni, ok := c.nodes[node.Name]
	if !ok {
		return
	}
	if len(ni.Pods) == 0 {
		delete(c.nodes, node.Name)
	} else {
		ni.RemoveNode()
	}
	c.dirty[node.Name] = struct{}{}
}

// NodeCount returns the number of nodes known.
func (c *Cache) NodeCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, ni := range c.nodes {
		if ni.Node() != nil {
			n++
		}
	}
	return n
}

// PodCount returns the number of pods counted on nodes, assumed included.
func (c *Cache) PodCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pods)
}

// NodeInfo returns a copy of the named node's NodeInfo (tests, debugging).
func (c *Cache) NodeInfo(name string) (*framework.NodeInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ni, ok := c.nodes[name]
	if !ok {
		return nil, false
	}
	return ni.Clone(), true
}

// Snapshot is a consistent, read-only copy of the cache's nodes for one
// scheduling cycle. Only the goroutine that calls UpdateSnapshot may use
// it (and hand it to the filters it runs).
type Snapshot struct {
	nodes map[string]*framework.NodeInfo
	list  []*framework.NodeInfo // the nodes, sorted by name
	index map[string]int        // name -> position in list
}

// NewSnapshot returns an empty snapshot.
func NewSnapshot() *Snapshot {
	return &Snapshot{nodes: map[string]*framework.NodeInfo{}, index: map[string]int{}}
}

// List returns the nodes, sorted by name. Do not modify it.
func (s *Snapshot) List() []*framework.NodeInfo { return s.list }

// Get returns the named node.
func (s *Snapshot) Get(name string) (*framework.NodeInfo, bool) {
	ni, ok := s.nodes[name]
	return ni, ok
}

// NumNodes returns the number of nodes.
func (s *Snapshot) NumNodes() int { return len(s.list) }

// UpdateSnapshot brings s up to date, copying only the nodes that changed
// since the last call.
func (c *Cache) UpdateSnapshot(s *Snapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	reorder := false
	for name := range c.dirty {
		ni, ok := c.nodes[name]
		i, listed := s.index[name]
		if !ok || ni.Node() == nil {
			if listed {
				delete(s.nodes, name)
				reorder = true
			}
			continue
		}
		cp := ni.Clone()
		s.nodes[name] = cp
		if listed {
			s.list[i] = cp
		} else {
			reorder = true
		}
	}
	clear(c.dirty)
	if !reorder {
		return
	}
	s.list = s.list[:0]
	for _, ni := range s.nodes {
		s.list = append(s.list, ni)
	}
	slices.SortFunc(s.list, func(a, b *framework.NodeInfo) int { return strings.Compare(a.Name(), b.Name()) })
	clear(s.index)
	for i, ni := range s.list {
		s.index[ni.Name()] = i
	}
}
