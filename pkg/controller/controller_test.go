package controller_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kl-dev/kl/pkg/client/clock/clocktest"
	"github.com/kl-dev/kl/pkg/controller"
)

// synced is a SyncWaiter whose cache is full when the test says so.
type synced chan struct{}

func (s synced) Synced() <-chan struct{} { return s }

// recorder collects reconciled keys.
type recorder struct {
	mu   sync.Mutex
	keys []string
	seen chan string
}

func newRecorder() *recorder { return &recorder{seen: make(chan string, 100)} }

func (r *recorder) add(key string) {
	r.mu.Lock()
	r.keys = append(r.keys, key)
	r.mu.Unlock()
	r.seen <- key
}

func (r *recorder) next(t *testing.T) string {
	t.Helper()
	select {
	case k := <-r.seen:
		return k
	case <-time.After(5 * time.Second):
		t.Fatal("no reconcile within 5s")
		return ""
	}
}

func runLoop(t *testing.T, l *controller.Loop, ctx context.Context, workers int) {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx, workers) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// No reconcile happens before the caches are full.
func TestLoopWaitsForCacheSync(t *testing.T) {
	r := newRecorder()
	cache := make(synced)
	l := controller.NewLoop("test", nil, func(_ context.Context, key string) error { r.add(key); return nil }, nil, cache)
	l.Enqueue("a")
	runLoop(t, l, context.Background(), 2)
	select {
	case k := <-r.seen:
		t.Fatalf("reconciled %s before the cache synced", k)
	case <-time.After(50 * time.Millisecond):
	}
	close(cache)
	if k := r.next(t); k != "a" {
		t.Errorf("reconciled %q, want a", k)
	}
}

func TestLoopRunReturnsErrorWhenCachesNeverSync(t *testing.T) {
	l := controller.NewLoop("test", nil, func(context.Context, string) error { return nil }, nil, make(synced))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Run(ctx, 1); err == nil || !strings.Contains(err.Error(), "caches did not sync") {
		t.Errorf("Run = %v, want a sync error", err)
	}
}

// A failing key is retried with back-off (on the loop's clock); a key
// that succeeds is not retried.
func TestLoopRetriesFailuresWithBackoff(t *testing.T) {
	clk := clocktest.NewFake(time.Unix(0, 0))
	r := newRecorder()
	var mu sync.Mutex
	failures := map[string]int{"bad": 2}
	l := controller.NewLoop("test", clk, func(_ context.Context, key string) error {
		r.add(key)
		mu.Lock()
		defer mu.Unlock()
		if failures[key] > 0 {
			failures[key]--
			return errors.New("boom")
		}
		return nil
	}, nil)
	runLoop(t, l, context.Background(), 1)
	l.Enqueue("bad")
	if k := r.next(t); k != "bad" {
		t.Fatalf("first reconcile %q", k)
	}
	// The retry waits for the clock: 5ms, then 10ms.
	for _, wait := range []time.Duration{5 * time.Millisecond, 10 * time.Millisecond} {
		select {
		case k := <-r.seen:
			t.Fatalf("retried %s before the back-off", k)
		case <-time.After(30 * time.Millisecond):
		}
		waitTimers(t, clk)
		clk.Step(wait)
		if k := r.next(t); k != "bad" {
			t.Fatalf("retry reconciled %q", k)
		}
	}
	l.Enqueue("good")
	if k := r.next(t); k != "good" {
		t.Fatalf("reconciled %q, want good", k)
	}
	clk.Step(time.Hour)
	select {
	case k := <-r.seen:
		t.Fatalf("a succeeded key was reconciled again: %s", k)
	case <-time.After(50 * time.Millisecond):
	}
}

// waitTimers waits until the work queue has armed its timer on the fake
// clock.
func waitTimers(t *testing.T, clk *clocktest.Fake) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for clk.Waiters() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no timer armed")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestLoopRecoversPanics(t *testing.T) {
	r := newRecorder()
	var once sync.Once
	l := controller.NewLoop("test", nil, func(_ context.Context, key string) error {
		r.add(key)
		once.Do(func() { panic("bad object") })
		return nil
	}, nil)
	runLoop(t, l, context.Background(), 1)
	l.Enqueue("a")
	r.next(t)
	// Retried after the panic, and the loop still serves other keys.
	if k := r.next(t); k != "a" {
		t.Errorf("retry reconciled %q", k)
	}
	l.Enqueue("b")
	if k := r.next(t); k != "b" {
		t.Errorf("reconciled %q, want b", k)
	}
}

// A key is never reconciled by two workers at once, and a change queued
// while it is being reconciled is reconciled after.
func TestLoopNeverReconcilesAKeyConcurrently(t *testing.T) {
	var mu sync.Mutex
	running := map[string]bool{}
	overlap := false
	count := 0
	release := make(chan struct{})
	started := make(chan struct{}, 10)
	l := controller.NewLoop("test", nil, func(_ context.Context, key string) error {
		mu.Lock()
		if running[key] {
			overlap = true
		}
		running[key] = true
		count++
		mu.Unlock()
		started <- struct{}{}
		<-release
		mu.Lock()
		running[key] = false
		mu.Unlock()
		return nil
	}, nil)
	runLoop(t, l, context.Background(), 4)
	l.Enqueue("a")
	<-started
	l.Enqueue("a") // while a is being reconciled
	l.Enqueue("a") // de-duplicated with the one above
	select {
	case <-started:
		t.Fatal("a second worker took a while it was being reconciled")
	case <-time.After(50 * time.Millisecond):
	}
	release <- struct{}{}
	<-started
	release <- struct{}{}
	close(release)
	mu.Lock()
	defer mu.Unlock()
	if overlap || count != 2 {
		t.Errorf("overlap %v, %d reconciles; want no overlap and 2", overlap, count)
	}
}

func TestLoopReportsMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := controller.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	r := newRecorder()
	l := controller.NewLoop("widgets", nil, func(_ context.Context, key string) error {
		r.add(key)
		if key == "bad" {
			return errors.New("boom")
		}
		return nil
	}, nil)
	runLoop(t, l, controller.WithMetrics(context.Background(), m), 1)
	l.Enqueue("good")
	r.next(t)
	l.Enqueue("bad")
	r.next(t)
	values := map[string]float64{}
	deadline := time.Now().Add(5 * time.Second)
	for values["success"] != 1 || values["error"] < 1 || values["depth"] != 0 || values["observations"] < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("metrics %v", values)
		}
		time.Sleep(5 * time.Millisecond)
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		values = map[string]float64{"depth": -1}
		for _, mf := range mfs {
			for _, metric := range mf.GetMetric() {
				labels := map[string]string{}
				for _, lp := range metric.GetLabel() {
					labels[lp.GetName()] = lp.GetValue()
				}
				if labels["controller"] != "widgets" {
					t.Errorf("%s has controller=%q", mf.GetName(), labels["controller"])
				}
				switch mf.GetName() {
				case "kl_controller_reconcile_total":
					values[labels["result"]] = metric.GetCounter().GetValue()
				case "kl_controller_reconcile_duration_seconds":
					values["observations"] = float64(metric.GetHistogram().GetSampleCount())
				case "kl_controller_queue_depth":
					values["depth"] = metric.GetGauge().GetValue()
				}
			}
		}
	}
}

func TestLoopPop(t *testing.T) {
	l := controller.NewLoop("test", nil, func(context.Context, string) error { return nil }, nil)
	defer func() {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_ = l.Run(ctx, 1)
	}()
	l.Enqueue("a")
	l.Enqueue("b")
	l.Enqueue("a")
	var got []string
	for {
		k, ok := l.Pop()
		if !ok {
			break
		}
		got = append(got, k)
	}
	if strings.Join(got, ",") != "a,b" {
		t.Errorf("popped %v, want a, b", got)
	}
}
