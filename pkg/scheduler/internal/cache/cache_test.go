package cache

import (
	"reflect"
	"testing"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/api/resource"
	"github.com/kl-dev/kl/pkg/scheduler/framework"
)

func node(name string) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: meta.ObjectMeta{Name: name},
		Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourcePods: resource.MustParse("110"),
		}},
	}
}

func pod(name, nodeName, cpu string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: meta.ObjectMeta{Name: name, Namespace: "default", UID: "uid-" + name},
		Spec: corev1.PodSpec{NodeName: nodeName, Containers: []corev1.Container{{
			Name: "c", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}},
		}}},
	}
}

func requestedCPU(t *testing.T, c *Cache, name string) int64 {
	t.Helper()
	ni, ok := c.NodeInfo(name)
	if !ok {
		return 0
	}
	return ni.Requested.MilliCPU
}

func TestAssumedPod_CountsAtOnceThenConfirmedOrForgotten(t *testing.T) {
	c := New()
	c.AddNode(node("n1"))
	c.AddNode(node("n2"))
	p := pod("p", "n1", "1")

	if err := c.AssumePod(p); err != nil {
		t.Fatal(err)
	}
	if got := requestedCPU(t, c, "n1"); got != 1000 {
		t.Fatalf("after assume: n1 requested %dm, want 1000m", got)
	}
	if !c.IsAssumed(p) {
		t.Error("IsAssumed = false after AssumePod")
	}
	if err := c.AssumePod(p); err == nil {
		t.Error("assuming the same pod twice: no error")
	}

	// The informer confirms the binding: counted once, no longer assumed.
	c.AddPod(pod("p", "n1", "1"))
	if got := requestedCPU(t, c, "n1"); got != 1000 {
		t.Errorf("after confirmation: n1 requested %dm, want 1000m (counted once)", got)
	}
	if c.IsAssumed(p) {
		t.Error("still assumed after the informer confirmed it")
	}
	if err := c.ForgetPod(p); err == nil {
		t.Error("ForgetPod of a confirmed pod: no error")
	}

	// A failed binding is forgotten: the node is free again.
	q := pod("q", "n2", "2")
	if err := c.AssumePod(q); err != nil {
		t.Fatal(err)
	}
	if err := c.ForgetPod(q); err != nil {
		t.Fatal(err)
	}
	if got := requestedCPU(t, c, "n2"); got != 0 {
		t.Errorf("after forget: n2 requested %dm, want 0", got)
	}
}

func TestConfirmationOnAnotherNode_MovesThePod(t *testing.T) {
	c := New()
	c.AddNode(node("n1"))
	c.AddNode(node("n2"))
	if err := c.AssumePod(pod("p", "n1", "1")); err != nil {
		t.Fatal(err)
	}
	c.AddPod(pod("p", "n2", "1")) // someone else bound it to n2 first
	if a, b := requestedCPU(t, c, "n1"), requestedCPU(t, c, "n2"); a != 0 || b != 1000 {
		t.Errorf("requested n1=%dm n2=%dm, want 0 and 1000", a, b)
	}
}

func TestRemovedPod_FreesItsNode(t *testing.T) {
	c := New()
	c.AddNode(node("n1"))
	p := pod("p", "n1", "1")
	c.AddPod(p)
	c.RemovePod(p)
	if got := requestedCPU(t, c, "n1"); got != 0 {
		t.Errorf("n1 requested %dm after the pod was removed, want 0", got)
	}
	if c.PodCount() != 0 {
		t.Errorf("PodCount = %d, want 0", c.PodCount())
	}
}

func TestPodsOnUnknownNode_CountedOnceTheNodeArrives(t *testing.T) {
	c := New()
	c.AddPod(pod("p", "late", "1"))
	s := NewSnapshot()
	c.UpdateSnapshot(s)
	if s.NumNodes() != 0 {
		t.Fatalf("snapshot lists %d nodes before any node exists", s.NumNodes())
	}
	c.AddNode(node("late"))
	c.UpdateSnapshot(s)
	ni, ok := s.Get("late")
	if !ok || ni.Requested.MilliCPU != 1000 {
		t.Fatalf("node late in snapshot: %v, requested %+v; want the pod counted", ok, ni)
	}
	// The node goes away and comes back: its pod is still counted.
	c.RemoveNode(node("late"))
	c.UpdateSnapshot(s)
	if s.NumNodes() != 0 {
		t.Errorf("removed node still in the snapshot")
	}
	c.AddNode(node("late"))
	c.UpdateSnapshot(s)
	if ni, _ := s.Get("late"); ni == nil || ni.Requested.MilliCPU != 1000 {
		t.Errorf("re-added node lost its pod: %+v", ni)
	}
}

func names(nis []*framework.NodeInfo) []string {
	var out []string
	for _, ni := range nis {
		out = append(out, ni.Name())
	}
	return out
}

func TestSnapshot_IsSortedCopyUpdatedIncrementally(t *testing.T) {
	c := New()
	for _, n := range []string{"c", "a", "b"} {
		c.AddNode(node(n))
	}
	s := NewSnapshot()
	c.UpdateSnapshot(s)
	if got := names(s.List()); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Fatalf("List = %v, want [a b c]", got)
	}
	before := s.List()[0]
	if err := c.AssumePod(pod("p", "b", "1")); err != nil {
		t.Fatal(err)
	}
	// The snapshot does not change until it is updated.
	if ni, _ := s.Get("b"); ni.Requested.MilliCPU != 0 {
		t.Error("snapshot changed before UpdateSnapshot")
	}
	c.UpdateSnapshot(s)
	if ni, _ := s.Get("b"); ni.Requested.MilliCPU != 1000 {
		t.Error("snapshot missed the assumed pod")
	}
	if s.List()[0] != before {
		t.Error("an unchanged node was copied again")
	}
	if s.List()[1].Requested.MilliCPU != 1000 {
		t.Error("List holds the stale copy of b")
	}
	c.RemoveNode(node("a"))
	c.UpdateSnapshot(s)
	if got := names(s.List()); !reflect.DeepEqual(got, []string{"b", "c"}) {
		t.Errorf("List after removing a = %v, want [b c]", got)
	}
}
