package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/kl-dev/kl/test/e2e/framework"
)

// The cluster benchmarks run the real processes of a scale run: `kl server
// --runtime fake --no-agent` (apiserver on badger, controller-manager,
// scheduler) and one `kl kubelet --runtime fake --simulate-nodes 100`, on
// loopback, and measure from outside what a user would: how long pods take
// to be Running, and what the server costs (RSS, CPU seconds).

const (
	simNodes    = 100
	simCapacity = "cpu=32,memory=128Gi,pods=110"
)

// simCluster is a server and a kubelet simulating simNodes nodes.
type simCluster struct {
	bin     string
	url     string
	server  *framework.Process
	kubelet *framework.Process
}

// startSimCluster builds kl, starts the server and the kubelet and waits
// until every simulated node is Ready.
func startSimCluster(b *testing.B) *simCluster {
	b.Helper()
	dir := b.TempDir()
	// KL_BENCH_BIN runs a kl binary built elsewhere (a release build, or
	// one that writes profiles) instead of building ./cmd/kl.
	bin := os.Getenv("KL_BENCH_BIN")
	if bin == "" {
		var err error
		if bin, err = framework.Binary(dir); err != nil {
			b.Fatal(err)
		}
	}
	server, url := framework.Server(b, bin, filepath.Join(dir, "server"), "--runtime", "fake", "--no-agent")
	kubelet := framework.Start(b, bin, "kubelet", "kubelet", "--server", url, "--runtime", "fake",
		"--node-name", "sim", "--simulate-nodes", fmt.Sprint(simNodes), "--capacity", simCapacity,
		"--data-dir", filepath.Join(dir, "kubelet"), "--kubelet-port", "0", "--metrics-addr", "0")
	c := httpClient()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		ready, err := readyNodes(c, url)
		if err == nil && ready == simNodes {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d simulated nodes Ready after 2m (err %v)", ready, simNodes, err)
		}
		time.Sleep(200 * time.Millisecond) // polling interval
	}
	b.Cleanup(func() {
		// SIGTERM first, so that the processes end as a user's would.
		_ = kubelet.Stop(30 * time.Second)
		_ = server.Stop(30 * time.Second)
	})
	return &simCluster{bin: bin, url: url, server: server, kubelet: kubelet}
}

// readyNodes counts the nodes whose Ready condition is True.
func readyNodes(c *http.Client, url string) (int, error) {
	resp, err := c.Get(url + "/api/v1/nodes")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var list struct {
		Items []struct {
			Status struct {
				Conditions []struct{ Type, Status string } `json:"conditions"`
			} `json:"status"`
		} `json:"items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return 0, err
	}
	n := 0
	for _, it := range list.Items {
		for _, c := range it.Status.Conditions {
			if c.Type == "Ready" && c.Status == "True" {
				n++
			}
		}
	}
	return n, nil
}

// podTracker follows a watch of every pod and notes, per pod, when the
// watch first showed it and when it first showed it Running.
type podTracker struct {
	mu        sync.Mutex
	created   map[string]time.Time // namespace/name -> first seen
	scheduled map[string]time.Time // namespace/name -> first seen bound to a node
	running   map[string]time.Time // namespace/name -> first seen Running
	changed   chan struct{}        // closed and replaced when a pod turns Running
	err       error
}

// trackPods starts watching pods from the current revision until ctx ends.
func trackPods(ctx context.Context, b *testing.B, url string) *podTracker {
	b.Helper()
	c := &http.Client{} // a watch has no timeout
	resp, err := c.Get(url + "/api/v1/pods?limit=1")
	if err != nil {
		b.Fatal(err)
	}
	var list struct {
		Metadata struct{ ResourceVersion string } `json:"metadata"`
	}
	err = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if err != nil {
		b.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", url+"/api/v1/pods?watch=true&resourceVersion="+list.Metadata.ResourceVersion, nil)
	resp, err = c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		b.Fatalf("watch pods: HTTP %d", resp.StatusCode)
	}
	pt := &podTracker{created: map[string]time.Time{}, scheduled: map[string]time.Time{}, running: map[string]time.Time{}, changed: make(chan struct{})}
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			now := time.Now()
			var ev struct {
				Type   string `json:"type"`
				Object struct {
					Metadata struct{ Name, Namespace string } `json:"metadata"`
					Spec     struct{ NodeName string }        `json:"spec"`
					Status   struct{ Phase string }           `json:"status"`
				} `json:"object"`
			}
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				pt.fail(fmt.Errorf("watch pods: %w", err))
				return
			}
			if ev.Type == "ERROR" {
				pt.fail(fmt.Errorf("watch pods: error event %s", sc.Bytes()))
				return
			}
			key := ev.Object.Metadata.Namespace + "/" + ev.Object.Metadata.Name
			pt.mu.Lock()
			if _, ok := pt.created[key]; !ok {
				pt.created[key] = now
			}
			if _, ok := pt.scheduled[key]; !ok && ev.Object.Spec.NodeName != "" {
				pt.scheduled[key] = now
			}
			if _, ok := pt.running[key]; !ok && ev.Object.Status.Phase == "Running" {
				pt.running[key] = now
				close(pt.changed)
				pt.changed = make(chan struct{})
			}
			pt.mu.Unlock()
		}
		if ctx.Err() == nil {
			pt.fail(fmt.Errorf("watch pods ended: %v", sc.Err()))
		}
	}()
	return pt
}

func (pt *podTracker) fail(err error) {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	if pt.err == nil {
		pt.err = err
		close(pt.changed)
		pt.changed = make(chan struct{})
	}
}

// waitRunning waits until n pods have been seen Running.
func (pt *podTracker) waitRunning(n int, timeout time.Duration) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		pt.mu.Lock()
		got, err, changed := len(pt.running), pt.err, pt.changed
		pt.mu.Unlock()
		if err != nil {
			return err
		}
		if got >= n {
			return nil
		}
		select {
		case <-changed:
		case <-deadline.C:
			return fmt.Errorf("%d of %d pods Running after %s", got, n, timeout)
		}
	}
}

// last returns when the last pod was first seen, first seen bound, and
// first seen Running.
func (pt *podTracker) last() (created, scheduled, running time.Time) {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	latest := func(m map[string]time.Time) time.Time {
		var l time.Time
		for _, t := range m {
			if t.After(l) {
				l = t
			}
		}
		return l
	}
	return latest(pt.created), latest(pt.scheduled), latest(pt.running)
}

// latencies returns, sorted, the time from first seen to first seen
// Running of every pod seen Running.
func (pt *podTracker) latencies() []time.Duration {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	var out []time.Duration
	for k, r := range pt.running {
		out = append(out, r.Sub(pt.created[k]))
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// usage reads a process's CPU time and RSS, failing the benchmark on error.
func usage(b *testing.B, p *framework.Process) framework.Usage {
	b.Helper()
	u, err := p.Usage()
	if err != nil {
		b.Fatal(err)
	}
	return u
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkCluster10kPods applies 100 Deployments of 100 replicas each
// (`kl apply -f DIR`) to a server with 100 simulated nodes and measures
// the time from the apply's start until the watch has shown all 10,000
// pods Running (goal: under 20s), the server's RSS then (goal: under 300
// MB), the CPU seconds the server and the kubelet spent, and each pod's
// start latency under that load (first seen -> Running, on the watch).
func BenchmarkCluster10kPods(b *testing.B) {
	const deployments, replicas = 100, 100
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		sc := startSimCluster(b)
		dir := b.TempDir()
		var all bytes.Buffer
		for d := 0; d < deployments; d++ {
			all.Reset()
			fmt.Fprintf(&all, `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-%03d
  namespace: default
spec:
  replicas: %d
  selector:
    matchLabels: {app: app-%03[1]d}
  template:
    metadata:
      labels: {app: app-%03[1]d}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        resources:
          requests: {cpu: 10m, memory: 16Mi}
`, d, replicas)
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("app-%03d.yaml", d)), all.Bytes(), 0o644); err != nil {
				b.Fatal(err)
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		pt := trackPods(ctx, b, sc.url)
		srv0, kub0 := usage(b, sc.server), usage(b, sc.kubelet)

		b.StartTimer()
		start := time.Now()
		apply := exec.Command(sc.bin, "apply", "-f", dir)
		apply.Env = append(os.Environ(), "KL_SERVER="+sc.url, "HOME="+b.TempDir())
		if out, err := apply.CombinedOutput(); err != nil {
			b.Fatalf("kl apply: %v\n%s", err, out)
		}
		applied := time.Since(start)
		if err := pt.waitRunning(deployments*replicas, 10*time.Minute); err != nil {
			b.Fatal(err)
		}
		elapsed := time.Since(start)
		b.StopTimer()

		srv, kub := usage(b, sc.server), usage(b, sc.kubelet)
		lat := pt.latencies()
		created, scheduled, _ := pt.last()
		cancel()
		b.ReportMetric(elapsed.Seconds(), "s-all-running")
		b.ReportMetric(applied.Seconds(), "s-apply")
		b.ReportMetric(created.Sub(start).Seconds(), "s-all-created")
		b.ReportMetric(scheduled.Sub(start).Seconds(), "s-all-scheduled")
		b.ReportMetric(float64(srv.RSSBytes)/(1<<20), "server-RSS-MB")
		b.ReportMetric(float64(kub.RSSBytes)/(1<<20), "kubelet-RSS-MB")
		b.ReportMetric((srv.CPU - srv0.CPU).Seconds(), "server-CPU-s")
		b.ReportMetric((kub.CPU - kub0.CPU).Seconds(), "kubelet-CPU-s")
		b.ReportMetric(ms(percentile(lat, 0.50)), "start-p50-ms")
		b.ReportMetric(ms(percentile(lat, 0.99)), "start-p99-ms")
		b.Logf("10,000 pods Running %s after the apply started (apply %s); server RSS %.0f MB, CPU %.1fs; kubelet RSS %.0f MB, CPU %.1fs; start latency p50 %s p99 %s",
			elapsed.Round(time.Millisecond), applied.Round(time.Millisecond), float64(srv.RSSBytes)/(1<<20), (srv.CPU - srv0.CPU).Seconds(),
			float64(kub.RSSBytes)/(1<<20), (kub.CPU - kub0.CPU).Seconds(), percentile(lat, 0.50).Round(time.Millisecond), percentile(lat, 0.99).Round(time.Millisecond))
	}
}

// BenchmarkPodStartLatency creates pods one at a time (each a POST, then
// waiting on the watch until it is Running) on an otherwise idle server
// with 100 simulated nodes: the start latency of a pod alone, create ->
// scheduled -> started -> Running seen on a watch, with the fake runtime's
// containers starting at once. One op is one pod.
func BenchmarkPodStartLatency(b *testing.B) {
	sc := startSimCluster(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pt := trackPods(ctx, b, sc.url)
	c := httpClient()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		name := fmt.Sprintf("alone-%d", i)
		t0 := time.Now()
		resp, err := c.Post(sc.url+"/api/v1/namespaces/default/pods", "application/json", bytes.NewReader(podJSON(name)))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("create %s: HTTP %d", name, resp.StatusCode)
		}
		if err := pt.waitRunning(i+1, time.Minute); err != nil {
			b.Fatal(err)
		}
		pt.mu.Lock()
		lat = append(lat, pt.running["default/"+name].Sub(t0))
		pt.mu.Unlock()
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(ms(percentile(lat, 0.50)), "p50-ms")
	b.ReportMetric(ms(percentile(lat, 0.99)), "p99-ms")
}
