package v1

import (
	"time"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/api/resource"
)

// PodKey returns "namespace/name", the key controllers queue pods under.
func PodKey(pod *Pod) string { return pod.Namespace + "/" + pod.Name }

// IsPodTerminal reports whether the pod has finished for good (Succeeded or
// Failed).
func IsPodTerminal(pod *Pod) bool {
	return pod.Status.Phase == PodSucceeded || pod.Status.Phase == PodFailed
}

// IsPodActive reports whether the pod counts towards a workload's replicas:
// not terminal and not being deleted.
func IsPodActive(pod *Pod) bool {
	return !IsPodTerminal(pod) && pod.DeletionTimestamp == nil
}

// IsPodReady reports whether the pod's Ready condition is True.
func IsPodReady(pod *Pod) bool { return IsPodReadyConditionTrue(&pod.Status) }

// IsPodReadyConditionTrue reports whether the status has Ready=True.
func IsPodReadyConditionTrue(status *PodStatus) bool {
	c := GetPodReadyCondition(status)
	return c != nil && c.Status == ConditionTrue
}

// GetPodReadyCondition returns the Ready condition, or nil.
func GetPodReadyCondition(status *PodStatus) *PodCondition {
	_, c := GetPodCondition(status, PodReady)
	return c
}

// GetPodCondition returns the index of the condition of the given type and a
// pointer to it (into status.Conditions), or -1 and nil.
func GetPodCondition(status *PodStatus, conditionType PodConditionType) (int, *PodCondition) {
	if status == nil {
		return -1, nil
	}
	for i := range status.Conditions {
		if status.Conditions[i].Type == conditionType {
			return i, &status.Conditions[i]
		}
	}
	return -1, nil
}

// UpdatePodCondition sets the condition in status, keeping
// lastTransitionTime when the status did not change, and reports whether
// anything changed. A zero LastTransitionTime on a new status becomes now.
func UpdatePodCondition(status *PodStatus, condition *PodCondition) bool {
	if condition.LastTransitionTime.IsZero() {
		condition.LastTransitionTime = meta.Now()
	}
	i, old := GetPodCondition(status, condition.Type)
	if old == nil {
		status.Conditions = append(status.Conditions, *condition)
		return true
	}
	if condition.Status == old.Status {
		condition.LastTransitionTime = old.LastTransitionTime
	}
	changed := condition.Status != old.Status ||
		condition.Reason != old.Reason ||
		condition.Message != old.Message ||
		!condition.LastProbeTime.Equal(old.LastProbeTime.Time) ||
		!condition.LastTransitionTime.Equal(old.LastTransitionTime.Time)
	status.Conditions[i] = *condition
	return changed
}

// IsPodAvailable reports whether the pod is ready and, unless
// minReadySeconds is 0, has been for more than minReadySeconds at now.
func IsPodAvailable(pod *Pod, minReadySeconds int32, now time.Time) bool {
	c := GetPodReadyCondition(&pod.Status)
	if c == nil || c.Status != ConditionTrue {
		return false
	}
	if minReadySeconds == 0 {
		return true
	}
	wait := time.Duration(minReadySeconds) * time.Second
	return !c.LastTransitionTime.IsZero() && c.LastTransitionTime.Add(wait).Before(now)
}

// PodRequests returns the pod's effective resource requests, as Kubernetes
// computes them for scheduling: the sum over app containers, raised to the
// largest single init container request for each resource.
func PodRequests(pod *Pod) ResourceList {
	return podResources(pod, func(c *Container) ResourceList { return c.Resources.Requests })
}

// PodLimits returns the pod's effective limits, computed like PodRequests.
// A resource some container leaves unlimited is still summed over the
// containers that limit it.
func PodLimits(pod *Pod) ResourceList {
	return podResources(pod, func(c *Container) ResourceList { return c.Resources.Limits })
}

func podResources(pod *Pod, of func(*Container) ResourceList) ResourceList {
	out := ResourceList{}
	for i := range pod.Spec.Containers {
		AddResourceList(out, of(&pod.Spec.Containers[i]))
	}
	for i := range pod.Spec.InitContainers {
		MaxResourceList(out, of(&pod.Spec.InitContainers[i]))
	}
	return out
}

// AddResourceList adds each quantity of add to list.
func AddResourceList(list, add ResourceList) {
	for name, q := range add {
		if v, ok := list[name]; ok {
			v.Add(q)
			list[name] = v
		} else {
			list[name] = q.DeepCopy()
		}
	}
}

// MaxResourceList raises each quantity of list to the one in other when
// other's is greater (or list has none).
func MaxResourceList(list, other ResourceList) {
	for name, q := range other {
		if v, ok := list[name]; !ok || q.Cmp(v) > 0 {
			list[name] = q.DeepCopy()
		}
	}
}

// ComputePodQOS returns the pod's quality-of-service class: BestEffort when
// no container requests or limits cpu or memory, Guaranteed when every
// container limits both with requests equal to limits, Burstable otherwise.
func ComputePodQOS(pod *Pod) PodQOSClass {
	requests, limits := ResourceList{}, ResourceList{}
	zero := resource.Quantity{}
	guaranteed := true
	all := make([]*Container, 0, len(pod.Spec.InitContainers)+len(pod.Spec.Containers))
	for i := range pod.Spec.InitContainers {
		all = append(all, &pod.Spec.InitContainers[i])
	}
	for i := range pod.Spec.Containers {
		all = append(all, &pod.Spec.Containers[i])
	}
	for _, c := range all {
		for _, name := range []ResourceName{ResourceCPU, ResourceMemory} {
			if q, ok := c.Resources.Requests[name]; ok && q.Cmp(zero) > 0 {
				AddResourceList(requests, ResourceList{name: q})
			}
			q, ok := c.Resources.Limits[name]
			if ok && q.Cmp(zero) > 0 {
				AddResourceList(limits, ResourceList{name: q})
			} else {
				guaranteed = false
			}
		}
	}
	if len(requests) == 0 && len(limits) == 0 {
		return PodQOSBestEffort
	}
	if guaranteed {
		for name, req := range requests {
			if lim, ok := limits[name]; !ok || lim.Cmp(req) != 0 {
				guaranteed = false
				break
			}
		}
	}
	if guaranteed && len(requests) == len(limits) {
		return PodQOSGuaranteed
	}
	return PodQOSBurstable
}

// GetNodeCondition returns the index of the node condition of the given type
// and a pointer to it, or -1 and nil.
func GetNodeCondition(status *NodeStatus, conditionType NodeConditionType) (int, *NodeCondition) {
	if status == nil {
		return -1, nil
	}
	for i := range status.Conditions {
		if status.Conditions[i].Type == conditionType {
			return i, &status.Conditions[i]
		}
	}
	return -1, nil
}

// IsNodeReady reports whether the node's Ready condition is True.
func IsNodeReady(node *Node) bool {
	_, c := GetNodeCondition(&node.Status, NodeReady)
	return c != nil && c.Status == ConditionTrue
}

// GetNodeAddress returns the node's first address of the given type, or "".
func GetNodeAddress(node *Node, t NodeAddressType) string {
	for _, a := range node.Status.Addresses {
		if a.Type == t {
			return a.Address
		}
	}
	return ""
}

// MatchTaint reports whether t and other are the same taint (key and
// effect; the value does not count), as Kubernetes compares them.
func (t *Taint) MatchTaint(other *Taint) bool {
	return t.Key == other.Key && t.Effect == other.Effect
}

// ToString formats the taint as key=value:effect (parts omitted when empty),
// as kubectl prints it.
func (t *Taint) ToString() string {
	switch {
	case t.Value == "" && t.Effect == "":
		return t.Key
	case t.Value == "":
		return t.Key + ":" + string(t.Effect)
	case t.Effect == "":
		return t.Key + "=" + t.Value
	}
	return t.Key + "=" + t.Value + ":" + string(t.Effect)
}

// ToleratesTaint reports whether the toleration tolerates the taint: the
// effects match (an empty effect matches all), the keys match (an empty key
// with Exists matches all), and with Equal (or no operator) the values are
// equal.
func (tol *Toleration) ToleratesTaint(taint *Taint) bool {
	if tol.Effect != "" && tol.Effect != taint.Effect {
		return false
	}
	if tol.Key != taint.Key && !(tol.Key == "" && tol.Operator == TolerationOpExists) {
		return false
	}
	switch tol.Operator {
	case "", TolerationOpEqual:
		return tol.Value == taint.Value
	case TolerationOpExists:
		return true
	}
	return false
}

// TolerationsTolerateTaint reports whether any toleration tolerates taint.
func TolerationsTolerateTaint(tolerations []Toleration, taint *Taint) bool {
	for i := range tolerations {
		if tolerations[i].ToleratesTaint(taint) {
			return true
		}
	}
	return false
}

// FindUntoleratedTaint returns the first taint with an effect accepted by
// include that no toleration tolerates (include nil accepts every effect).
func FindUntoleratedTaint(taints []Taint, tolerations []Toleration, include func(*Taint) bool) (*Taint, bool) {
	for i := range taints {
		t := &taints[i]
		if include != nil && !include(t) {
			continue
		}
		if !TolerationsTolerateTaint(tolerations, t) {
			return t, true
		}
	}
	return nil, false
}
