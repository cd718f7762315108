package scheduler

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"sync"
	"testing"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
)

// BenchmarkScheduler_1000Nodes10000Pods measures throughput against an
// in-process apiserver (memory storage): 1,000 nodes and 10,000 pending
// pods (10 ReplicaSets' worth) are created first, untimed; the clock runs
// from the scheduler's start (informers list everything) until every pod
// is bound. It reports pods/s (the goal: 1,000) and the CPU time of the
// whole process per pod, the better measure on a shared machine.
//
//	go test -run '^$' -bench Scheduler_1000 -benchtime 1x ./pkg/scheduler
//
// KL_BENCH_CPUPROFILE=FILE writes a CPU profile of the timed part.
func BenchmarkScheduler_1000Nodes10000Pods(b *testing.B) {
	for _, bc := range []struct {
		name string
		cfg  Config
	}{
		{"default", Config{}},
		{"no-scheduled-events", Config{SkipScheduledEvents: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for range b.N {
				benchmarkScheduling(b, bc.cfg, 1000, 10000)
			}
		})
	}
}

func benchmarkScheduling(b *testing.B, cfg Config, nodes, pods int) {
	b.StopTimer()
	c := startCluster(b)
	parallel(b, nodes, func(i int) error {
		_, err := c.nodes.Create(context.Background(), newNode(fmt.Sprintf("node-%04d", i), "32", "64Gi", 110), client.CreateOptions{})
		return err
	})
	parallel(b, pods, func(i int) error {
		p := newPod(fmt.Sprintf("web-%05d", i), "100m", "128Mi")
		rs := fmt.Sprintf("rs-%d", i%10)
		p.OwnerReferences = []meta.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs, UID: "uid-" + rs, Controller: meta.Boolp(true)}}
		_, err := c.pods.Create(context.Background(), p, client.CreateOptions{})
		return err
	})

	cfg.Client = c.client
	cfg.Logger = testLogger()
	s, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	b.StartTimer()
	start, cpuStart := time.Now(), processCPU()
	if path := os.Getenv("KL_BENCH_CPUPROFILE"); path != "" {
		// A CPU profile of the timed part only (go test -cpuprofile would
		// include creating the objects).
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	go func() { done <- s.Run(ctx) }()
	deadline := start.Add(5 * time.Minute)
	for attemptsNow(s, resultScheduled) < float64(pods) {
		if time.Now().After(deadline) {
			b.Fatalf("only %v of %d pods bound after 5 minutes", attemptsNow(s, resultScheduled), pods)
		}
		time.Sleep(5 * time.Millisecond)
	}
	elapsed, cpu := time.Since(start), processCPU()-cpuStart
	pprof.StopCPUProfile()
	b.StopTimer()
	b.ReportMetric(float64(pods)/elapsed.Seconds(), "pods/s")
	// CPU time of the whole process (apiserver, scheduler, watches) per
	// pod: on a shared machine this says more than wall-clock time.
	b.ReportMetric(float64(cpu.Microseconds())/float64(pods), "cpu-µs/pod")
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}

	// Check the outcome: every pod bound, each node within its pod limit.
	list, _, err := c.pods.Namespace("default").List(context.Background(), client.ListOptions{})
	if err != nil {
		b.Fatal(err)
	}
	perNode := map[string]int{}
	for _, p := range list {
		if p.Spec.NodeName == "" {
			b.Fatalf("pod %s not bound", p.Name)
		}
		perNode[p.Spec.NodeName]++
	}
	for n, k := range perNode {
		if k > 110 {
			b.Fatalf("node %s got %d pods, allocatable 110", n, k)
		}
	}
	b.Logf("%d pods on %d nodes in %v (%.0f pods/s, %v CPU); errors %v, unschedulable %v, events dropped %v",
		len(list), len(perNode), elapsed.Round(time.Millisecond), float64(pods)/elapsed.Seconds(), cpu.Round(time.Millisecond),
		attemptsNow(s, resultError), attemptsNow(s, resultUnschedulable), counterNow(s, "scheduler_events_dropped_total", "", ""))
}

// attemptsNow reads scheduler_schedule_attempts_total{result} from the
// scheduler's registry, as /metrics shows it.
func attemptsNow(s *Scheduler, result string) float64 {
	return counterNow(s, "scheduler_schedule_attempts_total", "result", result)
}

// counterNow reads the counter name{label=value} (any labels if label is
// "") from the scheduler's registry.
func counterNow(s *Scheduler, name, label, value string) float64 {
	mfs, err := s.Registry().Gather()
	if err != nil {
		return 0
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label == "" {
				return m.GetCounter().GetValue()
			}
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// parallel runs fn(0..n-1) on 32 goroutines and fails on the first error.
func parallel(b *testing.B, n int, fn func(i int) error) {
	b.Helper()
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	next := make(chan int)
	for range 32 {
		wg.Go(func() {
			for i := range next {
				if err := fn(i); err != nil {
					once.Do(func() { firstErr = err })
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
}

// BenchmarkScheduleCycle_1000Nodes measures the scheduling decision alone
// (filter, score, assume; no apiserver): one op places one pod on a
// 1,000-node cluster already running 10 pods per node, for each
// Parallelism.
//
//	go test -run '^$' -bench ScheduleCycle ./pkg/scheduler
func BenchmarkScheduleCycle_1000Nodes(b *testing.B) {
	for _, pct := range []int{0, 10} {
		for _, parallelism := range []int{1, 2} {
			b.Run(fmt.Sprintf("pct=%d/parallelism=%d", pct, parallelism), func(b *testing.B) {
				s, err := New(Config{Client: &client.Client{}, Parallelism: parallelism, PercentageOfNodesToScore: pct})
				if err != nil {
					b.Fatal(err)
				}
				r := newRun(s)
				for i := range 1000 {
					r.cache.AddNode(newNode(fmt.Sprintf("node-%04d", i), "32", "64Gi", 1000))
				}
				pod := func(i int) *corev1.Pod {
					p := newPod(fmt.Sprintf("web-%06d", i), "10m", "16Mi")
					p.UID = fmt.Sprintf("uid-%d", i)
					rs := fmt.Sprintf("rs-%d", i%10)
					p.OwnerReferences = []meta.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs, UID: "uid-" + rs, Controller: meta.Boolp(true)}}
					return p
				}
				for i := range 10000 {
					p := pod(i)
					p.Spec.NodeName = fmt.Sprintf("node-%04d", i/10) // 10 controllers per node
					r.cache.AddPod(p)
				}
				ctx := context.Background()
				b.ReportAllocs()
				i := 10000
				cpuStart := processCPU()
				for b.Loop() {
					p := pod(i)
					i++
					r.cache.UpdateSnapshot(r.snapshot)
					node, err := r.schedulePod(ctx, p)
					if err != nil {
						b.Fatal(err)
					}
					assumed := *p
					assumed.Spec.NodeName = node
					if err := r.cache.AssumePod(&assumed); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64((processCPU()-cpuStart).Microseconds())/float64(b.N), "cpu-µs/op")
			})
		}
	}
}
