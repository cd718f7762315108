package kubelet

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
)

// BenchmarkSimulatedNodes measures how long pods bound to simulated nodes
// take to be reported Running: KL_BENCH_NODES x KL_BENCH_PODS_PER_NODE
// (default 100 x 100, the 10,000-pod scale run) are created already bound
// (no scheduler) and the clock stops when the last one is Running.
//
//	go test ./pkg/kubelet -run '^$' -bench SimulatedNodes -benchtime 1x
func BenchmarkSimulatedNodes(b *testing.B) {
	nodes, perNode := envInt("KL_BENCH_NODES", 100), envInt("KL_BENCH_PODS_PER_NODE", 100)
	for range b.N {
		benchSimulated(b, nodes, perNode)
	}
}

func envInt(name string, def int) int {
	var n int
	if _, err := fmt.Sscan(os.Getenv(name), &n); err == nil && n > 0 {
		return n
	}
	return def
}

func benchSimulated(b *testing.B, nodes, perNode int) {
	c := startCluster(b)
	cfg := c.testConfig("sim")
	cfg.SimulateNodes = nodes
	cfg.ResyncInterval = time.Minute
	cfg.NodeStatusUpdateFrequency = 10 * time.Second
	cfg.NodeLeaseDuration = 40 * time.Second
	cfg.EventQPS, cfg.EventBurst = 50, 100
	cfg.Logger = testLogger()
	k, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if os.Getenv("KL_BENCH_NO_KUBELET") != "" {
			<-ctx.Done()
			return
		}
		_ = k.Run(ctx)
	}()
	defer func() {
		cancel()
		<-done
	}()

	total := nodes * perNode
	var runningCount atomic.Int64
	allRunning := make(chan struct{})
	_, lm, err := c.pods.List(ctx, client.ListOptions{Limit: 1})
	if err != nil {
		b.Fatal(err)
	}
	watch, err := c.pods.RetryWatch(ctx, client.ListOptions{ResourceVersion: lm.ResourceVersion})
	if err != nil {
		b.Fatal(err)
	}
	seen := sync.Map{}
	var modified atomic.Int64
	go func() {
		for ev := range watch {
			if ev.Type == "MODIFIED" {
				modified.Add(1)
			}
			if ev.Object == nil || ev.Object.Status.Phase != corev1.PodRunning {
				continue
			}
			if _, dup := seen.LoadOrStore(ev.Object.UID, true); !dup && runningCount.Add(1) == int64(total) {
				close(allRunning)
			}
		}
	}()

	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	work := make(chan int)
	for range 32 {
		wg.Go(func() {
			for i := range work {
				node := fmt.Sprintf("sim-%d", i%nodes)
				p := pod(fmt.Sprintf("p-%d", i), node, "nginx:1.27")
				p.Labels = map[string]string{"app": "bench"}
				// A loaded machine may drop a connection: a POST is
				// not retried by the client, so retry it here.
				var err error
				for attempt := range 5 {
					if _, err = c.pods.Create(ctx, p, client.CreateOptions{}); err == nil || meta.IsAlreadyExists(err) {
						err = nil
						break
					}
					time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
				}
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	for i := range total {
		work <- i
	}
	close(work)
	wg.Wait()
	created := time.Since(start)
	if os.Getenv("KL_BENCH_NO_KUBELET") != "" {
		b.ReportMetric(created.Seconds(), "s-to-create")
		return
	}
	select {
	case <-allRunning:
	case <-time.After(5 * time.Minute):
		b.Fatalf("only %d of %d pods Running after 5m", runningCount.Load(), total)
	}
	b.StopTimer()
	b.ReportMetric(created.Seconds(), "s-to-create")
	b.ReportMetric(time.Since(start).Seconds(), "s-to-running")
	b.ReportMetric(float64(modified.Load())/float64(total), "writes/pod")
}
