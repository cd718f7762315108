package framework

import (
	"hash/fnv"
	"slices"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
)

// Requests assumed for a pod that requests no cpu or memory, when scoring
// (not filtering): Kubernetes' defaults, so that such pods still spread.
const (
	DefaultMilliCPURequest int64 = 100               // 0.1 core
	DefaultMemoryRequest   int64 = 200 * 1024 * 1024 // 200 MiB
)

// Resource is an amount of the resources the scheduler accounts for, in
// plain integers so that filters and scores need no quantity arithmetic.
type Resource struct {
	MilliCPU         int64
	Memory           int64 // bytes
	EphemeralStorage int64 // bytes
	// AllowedPodNumber is the node's allocatable "pods" (zero for pods).
	AllowedPodNumber int64
}

// NewResource converts a resource list (allocatable, or requests).
func NewResource(rl corev1.ResourceList) Resource {
	var r Resource
	if q, ok := rl[corev1.ResourceCPU]; ok {
		r.MilliCPU = q.MilliValue()
	}
	if q, ok := rl[corev1.ResourceMemory]; ok {
		r.Memory = q.Value()
	}
	if q, ok := rl[corev1.ResourceEphemeralStorage]; ok {
		r.EphemeralStorage = q.Value()
	}
	if q, ok := rl[corev1.ResourcePods]; ok {
		r.AllowedPodNumber = q.Value()
	}
	return r
}

// Add adds o to r.
func (r *Resource) Add(o Resource) {
	r.MilliCPU += o.MilliCPU
	r.Memory += o.Memory
	r.EphemeralStorage += o.EphemeralStorage
	r.AllowedPodNumber += o.AllowedPodNumber
}

// Sub subtracts o from r.
func (r *Resource) Sub(o Resource) {
	r.MilliCPU -= o.MilliCPU
	r.Memory -= o.Memory
	r.EphemeralStorage -= o.EphemeralStorage
	r.AllowedPodNumber -= o.AllowedPodNumber
}

// HostPort is a port a pod binds on its node's network.
type HostPort struct {
	IP       string // "0.0.0.0" for every address
	Protocol corev1.Protocol
	Port     int32
}

// Conflicts reports whether p and o cannot both be bound: same protocol and
// port, and the same address or either one on every address.
func (p HostPort) Conflicts(o HostPort) bool {
	if p.Port != o.Port || p.Protocol != o.Protocol {
		return false
	}
	return p.IP == o.IP || p.IP == anyIP || o.IP == anyIP
}

const anyIP = "0.0.0.0"

// PodInfo is a pod with what the scheduler derives from it, computed once.
type PodInfo struct {
	Pod *corev1.Pod
	// Requests are the pod's effective requests (corev1.PodRequests).
	Requests Resource
	// NonZeroRequests are Requests with DefaultMilliCPURequest and
	// DefaultMemoryRequest for cpu and memory left unset; scoring uses them.
	NonZeroRequests Resource
	// HostPorts are the host ports of the pod's containers.
	HostPorts []HostPort
	// ControllerUID is the UID of the pod's controller owner ("" if none).
	// It may be replaced by an equal string (the cache interns it) but not
	// changed.
	ControllerUID string

	controllerHash uint64 // of ControllerUID, to compare it cheaply
}

// NewPodInfo computes pod's PodInfo.
func NewPodInfo(pod *corev1.Pod) *PodInfo {
	pi := &PodInfo{Pod: pod, Requests: NewResource(corev1.PodRequests(pod)), HostPorts: PodHostPorts(pod)}
	pi.NonZeroRequests = pi.Requests
	if pi.NonZeroRequests.MilliCPU == 0 {
		pi.NonZeroRequests.MilliCPU = DefaultMilliCPURequest
	}
	if pi.NonZeroRequests.Memory == 0 {
		pi.NonZeroRequests.Memory = DefaultMemoryRequest
	}
	if ref := meta.GetControllerOf(&pod.ObjectMeta); ref != nil {
		pi.ControllerUID = ref.UID
		h := fnv.New64a()
		h.Write([]byte(ref.UID))
		pi.controllerHash = h.Sum64()
	}
	return pi
}

// PodHostPorts returns the host ports the pod's containers ask for, with
// Kubernetes' defaults (TCP, every address).
func PodHostPorts(pod *corev1.Pod) []HostPort {
	var out []HostPort
	for i := range pod.Spec.Containers {
		for _, p := range pod.Spec.Containers[i].Ports {
			if p.HostPort <= 0 {
				continue
			}
			hp := HostPort{IP: p.HostIP, Protocol: p.Protocol, Port: p.HostPort}
			if hp.IP == "" {
				hp.IP = anyIP
			}
			if hp.Protocol == "" {
				hp.Protocol = corev1.ProtocolTCP
			}
			out = append(out, hp)
		}
	}
	return out
}

// NodeInfo is a node with the pods assigned (or assumed) to it and their
// sums: what filters and scores look at.
type NodeInfo struct {
	node *corev1.Node
	// Pods are the pods on the node, in no particular order.
	Pods []*PodInfo
	// Requested is the sum of the pods' Requests.
	Requested Resource
	// NonZeroRequested is the sum of the pods' NonZeroRequests.
	NonZeroRequested Resource
	// Allocatable is the node's status.allocatable.
	Allocatable Resource
	// UsedPorts are the host ports the pods bind.
	UsedPorts []HostPort

	// controllers counts the pods (not being deleted) of each controller,
	// for spreading. A short slice compared by hash first: scoring reads it
	// on hundreds of nodes per pod, and a map of string keys costs a cache
	// miss per key compared.
	controllers []controllerCount
}

type controllerCount struct {
	hash uint64
	uid  string
	pods int
}

// NewNodeInfo returns the NodeInfo of node (which may be nil while only
// pods are known) with pods on it.
func NewNodeInfo(node *corev1.Node, pods ...*corev1.Pod) *NodeInfo {
	n := &NodeInfo{}
	if node != nil {
		n.SetNode(node)
	}
	for _, p := range pods {
		n.AddPod(NewPodInfo(p))
	}
	return n
}

// Node returns the node, nil if only its pods are known yet.
func (n *NodeInfo) Node() *corev1.Node { return n.node }

// Name returns the node's name ("" without a node).
func (n *NodeInfo) Name() string {
	if n.node == nil {
		return ""
	}
	return n.node.Name
}

// SetNode sets (or replaces) the node.
func (n *NodeInfo) SetNode(node *corev1.Node) {
	n.node = node
	n.Allocatable = NewResource(node.Status.Allocatable)
}

// RemoveNode forgets the node but keeps its pods' accounting.
func (n *NodeInfo) RemoveNode() { n.node = nil }

// AddPod adds pi to the node's pods and sums.
func (n *NodeInfo) AddPod(pi *PodInfo) {
	n.Pods = append(n.Pods, pi)
	n.Requested.Add(pi.Requests)
	n.NonZeroRequested.Add(pi.NonZeroRequests)
	n.UsedPorts = append(n.UsedPorts, pi.HostPorts...)
	if counted(pi) {
		if i := n.controllerIndex(pi); i >= 0 {
			n.controllers[i].pods++
		} else {
			n.controllers = append(n.controllers, controllerCount{hash: pi.controllerHash, uid: pi.ControllerUID, pods: 1})
		}
	}
}

// PodsOfController returns the number of the node's pods, not being
// deleted, that have the same controller owner as pi (made by NewPodInfo).
func (n *NodeInfo) PodsOfController(pi *PodInfo) int {
	if i := n.controllerIndex(pi); i >= 0 {
		return n.controllers[i].pods
	}
	return 0
}

func (n *NodeInfo) controllerIndex(pi *PodInfo) int {
	for i := range n.controllers {
		if c := &n.controllers[i]; c.hash == pi.controllerHash && c.uid == pi.ControllerUID {
			return i
		}
	}
	return -1
}

func counted(pi *PodInfo) bool { return pi.ControllerUID != "" && pi.Pod.DeletionTimestamp == nil }

// RemovePod removes the pod with pod's UID (or, without one, its namespace
// and name) and reports whether it was there.
func (n *NodeInfo) RemovePod(pod *corev1.Pod) bool {
	for i, pi := range n.Pods {
		if !samePod(pi.Pod, pod) {
			continue
		}
		last := len(n.Pods) - 1
		n.Pods[i] = n.Pods[last]
		n.Pods[last] = nil
		n.Pods = n.Pods[:last]
		n.Requested.Sub(pi.Requests)
		n.NonZeroRequested.Sub(pi.NonZeroRequests)
		n.removePorts(pi.HostPorts)
		if counted(pi) {
			if j := n.controllerIndex(pi); j >= 0 {
				if n.controllers[j].pods--; n.controllers[j].pods == 0 {
					n.controllers = slices.Delete(n.controllers, j, j+1)
				}
			}
		}
		return true
	}
	return false
}

func (n *NodeInfo) removePorts(ports []HostPort) {
	for _, p := range ports {
		for i, u := range n.UsedPorts {
			if u == p {
				n.UsedPorts = append(n.UsedPorts[:i], n.UsedPorts[i+1:]...)
				break
			}
		}
	}
}

func samePod(a, b *corev1.Pod) bool {
	if a.UID != "" && b.UID != "" {
		return a.UID == b.UID
	}
	return a.Namespace == b.Namespace && a.Name == b.Name
}

// Clone returns a copy of n that can change independently (the node and
// PodInfos themselves are shared: they are never modified).
func (n *NodeInfo) Clone() *NodeInfo {
	c := *n
	c.Pods = append([]*PodInfo(nil), n.Pods...)
	c.UsedPorts = append([]HostPort(nil), n.UsedPorts...)
	c.controllers = slices.Clone(n.controllers)
	return &c
}
