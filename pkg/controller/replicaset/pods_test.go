package replicaset

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
)

// Kubernetes' ActivePodsWithRanks order: the first pod of each pair goes
// before the second on scale-down.
func TestPodsToDeleteOrder(t *testing.T) {
	rs := newRS("web", 1)
	restarts := func(n int32) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "c", RestartCount: n}}
		}
	}
	cost := func(v string) func(*corev1.Pod) {
		return func(p *corev1.Pod) { p.Annotations = map[string]string{PodDeletionCostAnnotation: v} }
	}
	tests := []struct {
		rule          string
		first, second *corev1.Pod
	}{
		{"unscheduled before scheduled", podOf(rs, "a", running), podOf(rs, "b", running, onNode("n1"))},
		{"pending before unknown", podOf(rs, "a", onNode("n1")), podOf(rs, "b", onNode("n1"), phase(corev1.PodUnknown))},
		{"unknown before running", podOf(rs, "a", onNode("n1"), phase(corev1.PodUnknown)), podOf(rs, "b", onNode("n1"), running)},
		{"not ready before ready", podOf(rs, "a", onNode("n1"), running), podOf(rs, "b", onNode("n2"), ready)},
		{"lower deletion cost first", podOf(rs, "a", onNode("n1"), ready, cost("-5")), podOf(rs, "b", onNode("n2"), ready, cost("10"))},
		{"ready for less time first", podOf(rs, "a", onNode("n1"), readySince(t0.Add(-time.Minute))), podOf(rs, "b", onNode("n2"), readySince(t0.Add(-time.Hour)))},
		{"more restarts first", podOf(rs, "a", onNode("n1"), ready, restarts(5)), podOf(rs, "b", onNode("n2"), ready, restarts(1))},
		{"newer first", podOf(rs, "a", onNode("n1"), ready, createdAt(t0)), podOf(rs, "b", onNode("n2"), ready, createdAt(t0.Add(-time.Hour)))},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			for _, pods := range [][]*corev1.Pod{{tt.first, tt.second}, {tt.second, tt.first}} {
				if got := podsToDelete(pods, 1); got[0] != tt.first {
					t.Errorf("deleted %s, want %s", got[0].Name, tt.first.Name)
				}
			}
		})
	}
}

// A node with two ready pods of the ReplicaSet loses one before a node
// with one.
func TestPodsToDeleteSpreadsAcrossNodes(t *testing.T) {
	rs := newRS("web", 1)
	since := readySince(t0.Add(-time.Hour))
	pods := []*corev1.Pod{podOf(rs, "alone", onNode("n1"), since), podOf(rs, "pair-1", onNode("n2"), since), podOf(rs, "pair-2", onNode("n2"), since)}
	got := podsToDelete(pods, 1)
	if got[0].Name != "pair-2" && got[0].Name != "pair-1" {
		t.Errorf("deleted %s, want one of the pair on n2", got[0].Name)
	}
}

func TestSlowStartBatch(t *testing.T) {
	tests := []struct {
		count, concurrency int
		failAt             int32 // 0: never
		wantCalls          int32
		wantOK             int
		wantMaxInFlight    int32
	}{
		{count: 0, concurrency: 4, wantCalls: 0, wantOK: 0},
		{count: 1, concurrency: 4, wantCalls: 1, wantOK: 1, wantMaxInFlight: 1},
		{count: 20, concurrency: 32, wantCalls: 20, wantOK: 20, wantMaxInFlight: 8},   // 1, 2, 4, 8, 5
		{count: 100, concurrency: 4, wantCalls: 100, wantOK: 100, wantMaxInFlight: 4}, // bounded
		{count: 20, concurrency: 32, failAt: 1, wantCalls: 1, wantOK: 0},              // first batch fails: stop
		{count: 20, concurrency: 1, failAt: 4, wantCalls: 7, wantOK: 3},               // the batch of 4 fails after the 1 and 2
	}
	for _, tt := range tests {
		var calls, inflight, maxInFlight atomic.Int32
		// Callers in a batch wait for each other (up to the bound), so
		// the in-flight maximum is the batch size or the bound.
		var mu sync.Mutex
		ok, err := slowStartBatch(tt.count, tt.concurrency, func() error {
			n := calls.Add(1)
			cur := inflight.Add(1)
			mu.Lock()
			if cur > maxInFlight.Load() {
				maxInFlight.Store(cur)
			}
			mu.Unlock()
			time.Sleep(2 * time.Millisecond)
			inflight.Add(-1)
			if tt.failAt != 0 && n >= tt.failAt {
				return errBoom
			}
			return nil
		})
		if (err != nil) != (tt.failAt != 0) || calls.Load() != tt.wantCalls || ok != tt.wantOK {
			t.Errorf("slowStartBatch(%d, %d) failing at %d: %d ok, %d calls, err %v; want %d ok, %d calls",
				tt.count, tt.concurrency, tt.failAt, ok, calls.Load(), err, tt.wantOK, tt.wantCalls)
		}
		if tt.wantMaxInFlight > 0 && maxInFlight.Load() > tt.wantMaxInFlight {
			t.Errorf("slowStartBatch(%d, %d): %d calls in flight, want at most %d", tt.count, tt.concurrency, maxInFlight.Load(), tt.wantMaxInFlight)
		}
	}
}

var errBoom = errorString("boom")

type errorString string

func (e errorString) Error() string { return string(e) }

func TestPodFromTemplate(t *testing.T) {
	rs := newRS("web", 1)
	rs.Spec.Template.Annotations = map[string]string{"a": "b"}
	p := podFromTemplate(rs)
	if p.GenerateName != "web-" || p.Namespace != "default" || p.Name != "" {
		t.Errorf("name: generateName %q namespace %q name %q", p.GenerateName, p.Namespace, p.Name)
	}
	if len(p.OwnerReferences) != 1 {
		t.Fatalf("ownerReferences = %v", p.OwnerReferences)
	}
	ref := p.OwnerReferences[0]
	if ref.APIVersion != "apps/v1" || ref.Kind != "ReplicaSet" || ref.Name != "web" || ref.UID != rs.UID || !*ref.Controller || !*ref.BlockOwnerDeletion {
		t.Errorf("ownerReference = %+v", ref)
	}
	if p.Labels["app"] != "web" || p.Annotations["a"] != "b" || !slices.Equal([]string{p.Spec.Containers[0].Image}, []string{"img"}) {
		t.Errorf("template not copied: %+v", p)
	}
	p.Labels["x"] = "y"
	if _, ok := rs.Spec.Template.Labels["x"]; ok {
		t.Error("the pod shares its labels map with the template")
	}
}
