package workqueue_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/client/clock/clocktest"
	"github.com/kl-dev/kl/pkg/client/workqueue"
)

var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func newQueue(t *testing.T, rl workqueue.RateLimiter[string]) (*workqueue.Queue[string], *clocktest.Fake) {
	t.Helper()
	clk := clocktest.NewFake(epoch)
	q := workqueue.New(workqueue.Config[string]{Clock: clk, RateLimiter: rl})
	t.Cleanup(q.ShutDown)
	return q, clk
}

// get returns the next item, failing the test if none arrives in time.
func get(t *testing.T, q *workqueue.Queue[string]) string {
	t.Helper()
	type res struct {
		item     string
		shutdown bool
	}
	ch := make(chan res, 1)
	go func() {
		it, sd := q.Get()
		ch <- res{it, sd}
	}()
	select {
	case r := <-ch:
		if r.shutdown {
			t.Fatal("Get reported shutdown")
		}
		return r.item
	case <-time.After(5 * time.Second):
		t.Fatal("Get did not return an item")
		return ""
	}
}

func TestAddDeduplicatesQueuedItems(t *testing.T) {
	q, _ := newQueue(t, nil)
	q.Add("a")
	q.Add("b")
	q.Add("a")
	q.Add("a")
	if got := q.Len(); got != 2 {
		t.Fatalf("Len = %d, want 2", got)
	}
	if got := get(t, q); got != "a" {
		t.Fatalf("first Get = %q, want a (FIFO)", got)
	}
	if got := get(t, q); got != "b" {
		t.Fatalf("second Get = %q, want b", got)
	}
	if got := q.Len(); got != 0 {
		t.Fatalf("Len = %d after draining, want 0", got)
	}
}

func TestItemReAddedWhileProcessingIsQueuedAgainOnlyAfterDone(t *testing.T) {
	q, _ := newQueue(t, nil)
	q.Add("a")
	item := get(t, q)
	q.Add("a") // a change arrives while a worker processes "a"
	q.Add("a")
	if got := q.Len(); got != 0 {
		t.Fatalf("Len = %d while a is processing, want 0 (never processed concurrently)", got)
	}
	q.Done(item)
	if got := q.Len(); got != 1 {
		t.Fatalf("Len = %d after Done, want 1 (the later change is not lost)", got)
	}
	if got := get(t, q); got != "a" {
		t.Fatalf("Get = %q, want a", got)
	}
}

func TestWorkersNeverProcessAnItemConcurrently(t *testing.T) {
	q := workqueue.New(workqueue.Config[string]{})
	const workers, keys, adds = 8, 4, 2000
	var inFlight [keys]atomic.Int32
	var violations, processed atomic.Int32
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				item, shutdown := q.Get()
				if shutdown {
					return
				}
				var k int
				fmt.Sscanf(item, "k%d", &k)
				if inFlight[k].Add(1) != 1 {
					violations.Add(1)
				}
				processed.Add(1)
				inFlight[k].Add(-1)
				q.Done(item)
			}
		}()
	}
	for i := range adds {
		q.Add(fmt.Sprintf("k%d", i%keys))
	}
	q.ShutDownWithDrain()
	wg.Wait()
	if v := violations.Load(); v != 0 {
		t.Fatalf("%d times an item was processed by two workers at once", v)
	}
	if p := processed.Load(); p == 0 || p > adds {
		t.Fatalf("processed %d items, want between 1 and %d", p, adds)
	}
}

func TestAddAfterWaitsForTheClock(t *testing.T) {
	q, clk := newQueue(t, nil)
	q.AddAfter("late", 2*time.Second)
	q.AddAfter("early", time.Second)
	q.AddAfter("late", 3*time.Second) // a later duplicate does not postpone
	if got := q.Len(); got != 0 {
		t.Fatalf("Len = %d before any delay passed, want 0", got)
	}
	clk.Step(time.Second)
	if got := q.Len(); got != 1 {
		t.Fatalf("Len = %d after 1s, want 1", got)
	}
	clk.Step(time.Second)
	if got := q.Len(); got != 2 {
		t.Fatalf("Len = %d after 2s, want 2", got)
	}
	if a, b := get(t, q), get(t, q); a != "early" || b != "late" {
		t.Fatalf("got %q, %q; want early, late", a, b)
	}
}

func TestBlockedGetWakesWhenDelayedItemIsReady(t *testing.T) {
	q, clk := newQueue(t, nil)
	q.AddAfter("x", time.Minute)
	done := make(chan string, 1)
	go func() {
		item, _ := q.Get()
		done <- item
	}()
	// Step in small increments until the waker has armed its timer and
	// Get returns; the fake clock makes this independent of real time.
	deadline := time.After(5 * time.Second)
	for {
		select {
		case got := <-done:
			if got != "x" {
				t.Fatalf("Get = %q, want x", got)
			}
			if now := clk.Now(); now.Before(epoch.Add(time.Minute)) {
				t.Fatalf("item handed out at %v, before its ready time", now)
			}
			return
		case <-deadline:
			t.Fatal("blocked Get never returned the delayed item")
		default:
		}
		if clk.Now().Before(epoch.Add(time.Minute)) {
			clk.Step(10 * time.Second)
		} else {
			time.Sleep(time.Millisecond) // let the woken Get run
		}
	}
}

func TestAddRateLimitedBacksOffExponentiallyUntilForget(t *testing.T) {
	rl := workqueue.NewExponentialRateLimiter[string](5*time.Millisecond, 40*time.Millisecond)
	q, clk := newQueue(t, rl)
	want := []time.Duration{5, 10, 20, 40, 40} // ms, capped at 40
	for i, w := range want {
		q.AddRateLimited("a")
		if got := q.NumRequeues("a"); got != i+1 {
			t.Fatalf("NumRequeues = %d, want %d", got, i+1)
		}
		clk.Step(w*time.Millisecond - time.Nanosecond)
		if q.Len() != 0 {
			t.Fatalf("retry %d: ready before %v", i, w*time.Millisecond)
		}
		clk.Step(time.Nanosecond)
		if q.Len() != 1 {
			t.Fatalf("retry %d: not ready after %v", i, w*time.Millisecond)
		}
		q.Done(get(t, q))
	}
	q.Forget("a")
	if got := q.NumRequeues("a"); got != 0 {
		t.Fatalf("NumRequeues after Forget = %d, want 0", got)
	}
	q.AddRateLimited("a")
	clk.Step(5 * time.Millisecond)
	if q.Len() != 1 {
		t.Fatal("after Forget the back-off did not restart at the base delay")
	}
}

func TestDefaultRateLimiter(t *testing.T) {
	clk := clocktest.NewFake(epoch)
	rl := workqueue.DefaultRateLimiter[string](clk)
	if got := rl.When("a"); got != 5*time.Millisecond {
		t.Fatalf("first failure delay = %v, want 5ms", got)
	}
	if got := rl.When("a"); got != 10*time.Millisecond {
		t.Fatalf("second failure delay = %v, want 10ms", got)
	}
	for range 200 {
		rl.When("a")
	}
	if got := rl.When("a"); got < workqueue.DefaultMaxDelay {
		t.Fatalf("delay after many failures = %v, want the %v cap (or more from the bucket)", got, workqueue.DefaultMaxDelay)
	}
	// The bucket: 100 distinct items drain the burst; the next waits 1/qps.
	clk.Step(time.Hour) // refill
	for i := range workqueue.DefaultBurst {
		if d := rl.When(fmt.Sprintf("item-%d", i)); d != workqueue.DefaultBaseDelay {
			t.Fatalf("item %d within the burst waited %v, want the per-item %v", i, d, workqueue.DefaultBaseDelay)
		}
	}
	if d := rl.When("one-too-many"); d != 100*time.Millisecond {
		t.Fatalf("item after the burst waited %v, want 100ms (10 qps)", d)
	}
}

func TestShutDownReturnsRemainingItemsThenShutdown(t *testing.T) {
	q, _ := newQueue(t, nil)
	q.Add("a")
	q.AddAfter("delayed", time.Hour)
	q.ShutDown()
	q.Add("ignored")
	if !q.ShuttingDown() {
		t.Fatal("ShuttingDown = false after ShutDown")
	}
	if item, sd := q.Get(); sd || item != "a" {
		t.Fatalf("Get = %q, %v; want a, false", item, sd)
	}
	if item, sd := q.Get(); !sd {
		t.Fatalf("Get = %q, %v; want shutdown", item, sd)
	}
}

func TestShutDownWakesBlockedGet(t *testing.T) {
	q := workqueue.New(workqueue.Config[string]{})
	done := make(chan bool, 1)
	go func() {
		_, sd := q.Get()
		done <- sd
	}()
	q.ShutDown()
	select {
	case sd := <-done:
		if !sd {
			t.Fatal("Get returned an item from an empty queue")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ShutDown did not wake a blocked Get")
	}
}

func TestShutDownWithDrainWaitsForProcessingItems(t *testing.T) {
	q := workqueue.New(workqueue.Config[string]{})
	q.Add("a")
	item, _ := q.Get()
	drained := make(chan struct{})
	go func() {
		q.ShutDownWithDrain()
		close(drained)
	}()
	// ShutDownWithDrain cannot return before Done: it is blocked on the
	// processing item. Wait until shutdown has begun, then finish.
	for i := 0; !q.ShuttingDown(); i++ {
		if i == 5000 {
			t.Fatal("ShutDownWithDrain never started shutting down")
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case <-drained:
		t.Fatal("ShutDownWithDrain returned while an item was being processed")
	default:
	}
	q.Done(item)
	select {
	case <-drained:
	case <-time.After(5 * time.Second):
		t.Fatal("ShutDownWithDrain did not return after Done")
	}
}
