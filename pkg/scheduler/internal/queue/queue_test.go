package queue

import (
	"context"
	"testing"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client/clock/clocktest"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func newQueue() (*Queue, *clocktest.Fake) {
	clk := clocktest.NewFake(t0)
	return New(Config{Clock: clk}), clk
}

func pod(name string, opts ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: meta.ObjectMeta{Name: name, Namespace: "default", CreationTimestamp: meta.NewTime(t0)}}
	for _, o := range opts {
		o(p)
	}
	return p
}

func withPriority(n int32) func(*corev1.Pod) { return func(p *corev1.Pod) { p.Spec.Priority = &n } }

func createdAt(d time.Duration) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.CreationTimestamp = meta.NewTime(t0.Add(d)) }
}

// tryPop returns the pod Pop would hand out now, or nil if it would wait.
func tryPop(t *testing.T, q *Queue) *QueuedPodInfo {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	qpi, err := q.Pop(ctx)
	if err != nil {
		return nil
	}
	return qpi
}

func mustPop(t *testing.T, q *Queue, want string) *QueuedPodInfo {
	t.Helper()
	qpi := tryPop(t, q)
	if qpi == nil {
		t.Fatalf("Pop: nothing ready, want %s", want)
	}
	if qpi.Pod.Name != want {
		t.Fatalf("Pop = %s, want %s", qpi.Pod.Name, want)
	}
	return qpi
}

func mustWait(t *testing.T, q *Queue) {
	t.Helper()
	if qpi := tryPop(t, q); qpi != nil {
		t.Fatalf("Pop = %s, want nothing ready", qpi.Pod.Name)
	}
}

func TestActiveQ_HighestPriorityThenOldestThenArrival(t *testing.T) {
	q, _ := newQueue()
	q.Add(pod("late-low", createdAt(2*time.Second)))
	q.Add(pod("early-low", createdAt(time.Second)))
	q.Add(pod("high", withPriority(1000), createdAt(3*time.Second)))
	q.Add(pod("early-low-2", createdAt(time.Second)))
	for _, want := range []string{"high", "early-low", "early-low-2", "late-low"} {
		mustPop(t, q, want)
	}
	mustWait(t, q)
}

func TestFailedPod_BacksOffExponentiallyFrom1sTo10s(t *testing.T) {
	q, clk := newQueue()
	q.Add(pod("p"))
	qpi := mustPop(t, q, "p")
	for i, want := range []time.Duration{1, 2, 4, 8, 10, 10} {
		if qpi.Attempts != i+1 {
			t.Fatalf("Attempts = %d, want %d", qpi.Attempts, i+1)
		}
		q.Requeue(qpi, false) // an error: back off
		if l := q.Len(); l.Backoff != 1 {
			t.Fatalf("after attempt %d: lengths %+v, want the pod in backoffQ", i+1, l)
		}
		clk.Step(want*time.Second - time.Millisecond)
		mustWait(t, q)
		clk.Step(time.Millisecond)
		qpi = mustPop(t, q, "p")
	}
}

func TestUnschedulablePod_WaitsForAClusterChange(t *testing.T) {
	q, clk := newQueue()
	q.Add(pod("p"))
	qpi := mustPop(t, q, "p")
	q.Requeue(qpi, true)
	if l := q.Len(); l.Unschedulable != 1 {
		t.Fatalf("lengths %+v, want the pod unschedulable", l)
	}
	clk.Step(5 * time.Second) // past its 1s back-off, but nothing changed
	mustWait(t, q)

	q.MoveAllToActiveOrBackoff() // a node was added
	mustPop(t, q, "p")
}

func TestUnschedulablePod_MovedDuringBackoff_WaitsItOut(t *testing.T) {
	q, clk := newQueue()
	q.Add(pod("p"))
	q.Requeue(mustPop(t, q, "p"), true)
	clk.Step(500 * time.Millisecond)
	q.MoveAllToActiveOrBackoff() // a pod was deleted, half way through the 1s back-off
	if l := q.Len(); l.Backoff != 1 {
		t.Fatalf("lengths %+v, want the pod in backoffQ", l)
	}
	mustWait(t, q)
	clk.Step(500 * time.Millisecond)
	mustPop(t, q, "p")
}

func TestUnschedulablePod_RetriedAfterTimeoutAsASafetyNet(t *testing.T) {
	q, clk := newQueue()
	q.Add(pod("p"))
	q.Requeue(mustPop(t, q, "p"), true)
	clk.Step(DefaultUnschedulableTimeout - time.Second)
	mustWait(t, q)
	clk.Step(time.Second)
	mustPop(t, q, "p")
}

func TestClusterChangeDuringAttempt_FailureGoesToBackoffNotUnschedulable(t *testing.T) {
	q, clk := newQueue()
	q.Add(pod("p"))
	qpi := mustPop(t, q, "p")
	q.MoveAllToActiveOrBackoff() // a node appeared while p was being scheduled
	q.Requeue(qpi, true)
	if l := q.Len(); l.Backoff != 1 || l.Unschedulable != 0 {
		t.Fatalf("lengths %+v, want the pod in backoffQ", l)
	}
	clk.Step(time.Second)
	mustPop(t, q, "p")
}

func TestUpdates_OnlySpecChangesRetryAnUnschedulablePod(t *testing.T) {
	q, _ := newQueue()
	q.Add(pod("p"))
	q.Requeue(mustPop(t, q, "p"), true)

	statusOnly := pod("p")
	statusOnly.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse}}
	q.Update(statusOnly)
	if l := q.Len(); l.Unschedulable != 1 {
		t.Fatalf("after a status update: lengths %+v, want still unschedulable", l)
	}
	relaxed := pod("p", func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{"disk": "any"} })
	q.Update(relaxed)
	if l := q.Len(); l.Unschedulable != 0 {
		t.Fatalf("after a spec update: lengths %+v, want it out of unschedulable", l)
	}
}

func TestPodDeletedOrBoundDuringAttempt_IsDropped(t *testing.T) {
	q, _ := newQueue()
	q.Add(pod("deleted"))
	q.Add(pod("bound"))
	a := mustPop(t, q, "deleted")
	b := mustPop(t, q, "bound")
	q.Delete(a.Pod)
	q.Update(pod("bound", func(p *corev1.Pod) { p.Spec.NodeName = "n1" }))
	q.Requeue(a, false)
	q.Requeue(b, false)
	if l := q.Len(); l != (Lengths{}) {
		t.Errorf("lengths %+v, want an empty queue", l)
	}
}

func TestDelete_RemovesAQueuedPod(t *testing.T) {
	q, _ := newQueue()
	q.Add(pod("a"))
	q.Add(pod("b"))
	q.Delete(pod("a"))
	mustPop(t, q, "b")
	mustWait(t, q)
}

func TestPop_BlocksUntilTheBackoffTimerFires(t *testing.T) {
	q, clk := newQueue()
	q.Add(pod("p"))
	q.Requeue(mustPop(t, q, "p"), false)

	got := make(chan string, 1)
	go func() {
		qpi, err := q.Pop(context.Background())
		if err != nil {
			got <- err.Error()
			return
		}
		got <- qpi.Pod.Name
	}()
	deadline := time.Now().Add(10 * time.Second)
	for clk.Waiters() == 0 { // Pop is waiting on its back-off timer
		if time.Now().After(deadline) {
			t.Fatal("Pop never waited on the clock")
		}
		time.Sleep(time.Millisecond)
	}
	clk.Step(time.Second)
	select {
	case name := <-got:
		if name != "p" {
			t.Errorf("Pop = %s, want p", name)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Pop did not return after the back-off passed")
	}
}

func TestPodRecreatedDuringAttempt_IsQueuedWhenTheOldOneIsDone(t *testing.T) {
	q, _ := newQueue()
	old := pod("p", func(p *corev1.Pod) { p.UID = "old" })
	q.Add(old)
	qpi := mustPop(t, q, "p")
	q.Delete(old)
	q.Add(pod("p", func(p *corev1.Pod) { p.UID = "new" }))
	q.Done(qpi.Pod) // the old pod's bind was refused: it is gone
	if got := mustPop(t, q, "p"); got.Pod.UID != "new" {
		t.Errorf("popped pod UID %q, want the new pod", got.Pod.UID)
	}
}
