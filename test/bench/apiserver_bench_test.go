// Package bench holds kl's end-to-end benchmarks: real HTTP against an
// apiserver on a loopback port, and real processes where memory is measured.
// Run them with `make bench`; BENCHMARKS.md records the figures.
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
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/apiserver"
	"github.com/kl-dev/kl/pkg/apiserver/apiservertest"
	"github.com/kl-dev/kl/pkg/storage/badger"
	"github.com/kl-dev/kl/test/e2e/framework"
)

// startAPIServer runs an in-process apiserver on badger (SyncWrites on).
func startAPIServer(b *testing.B, storage string) string {
	b.Helper()
	if storage == "" {
		storage = "badger"
	}
	return apiservertest.Start(b, func(c *apiserver.Config) {
		c.Storage, c.DataDir = storage, b.TempDir()
	})
}

func httpClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}, Timeout: 30 * time.Second}
}

func podJSON(name string) []byte {
	b, _ := json.Marshal(map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": name, "namespace": "default", "labels": map[string]any{"app": "bench", "tier": "web"}},
		"spec": map[string]any{"containers": []any{map[string]any{
			"name": "web", "image": "nginx:1.27",
			"ports":     []any{map[string]any{"containerPort": 80}},
			"resources": map[string]any{"requests": map[string]any{"cpu": "10m", "memory": "16Mi"}},
		}}},
	})
	return b
}

func createPod(c *http.Client, url, name string) error {
	resp, err := c.Post(url+"/api/v1/namespaces/default/pods", "application/json", bytes.NewReader(podJSON(name)))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("create %s: HTTP %d", name, resp.StatusCode)
	}
	return nil
}

// percentile returns the q-th percentile of sorted durations.
func percentile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(float64(len(d)-1) * q)
	return d[i]
}

// load runs op b.N times (i = 1..b.N) from clients concurrent
// goroutines, the timer running only meanwhile, and returns the sorted
// latencies of the ops that succeeded and the elapsed time. A goroutine
// whose op fails stops; the first failure fails the benchmark.
func load(b *testing.B, clients int, op func(worker int, i int64) error) ([]time.Duration, time.Duration) {
	var next, failed atomic.Int64
	lat := make([][]time.Duration, clients)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range clients {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				t0 := time.Now()
				if err := op(w, i); err != nil {
					if failed.Add(1) == 1 {
						b.Error(err)
					}
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	return all, elapsed
}

// reportLatency reports the p50 and p99 of sorted latencies.
func reportLatency(b *testing.B, sorted []time.Duration) {
	b.ReportMetric(float64(percentile(sorted, 0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(percentile(sorted, 0.99).Microseconds())/1000, "p99-ms")
}

// BenchmarkPodCreates measures pod creates over HTTP on badger with
// SyncWrites, from 1, 16 and 64 concurrent clients.
func BenchmarkPodCreates(b *testing.B) {
	for _, clients := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			url := startAPIServer(b, os.Getenv("KL_BENCH_STORAGE"))
			c := httpClient()
			lat, elapsed := load(b, clients, func(_ int, i int64) error { return createPod(c, url, fmt.Sprintf("pod-%d", i)) })
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "creates/s")
			reportLatency(b, lat)
		})
	}
}

// BenchmarkStorageCeiling writes the same pod JSON straight into badger
// from 64 goroutines, one transaction per object: what the apiserver's
// creates are compared to.
func BenchmarkStorageCeiling(b *testing.B) {
	st, err := badger.Open(badger.Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	var next atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < 64; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				name := fmt.Sprintf("pod-%d", i)
				if _, err := st.Create(ctx, "/registry/core/pods/default/"+name, podJSON(name)); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "creates/s")
}

// BenchmarkWatchLatency measures the time from a create's response to the
// event reaching each of 1 or 100 watchers.
func BenchmarkWatchLatency(b *testing.B) {
	for _, watchers := range []int{1, 100} {
		b.Run(fmt.Sprintf("watchers=%d", watchers), func(b *testing.B) {
			url := startAPIServer(b, "badger")
			c := httpClient()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var mu sync.Mutex
			acked := map[string]time.Time{}
			var lat []time.Duration
			var ready sync.WaitGroup
			var seen sync.WaitGroup
			seen.Add(watchers * b.N)
			for w := 0; w < watchers; w++ {
				ready.Add(1)
				go func() {
					req, _ := http.NewRequestWithContext(ctx, "GET", url+"/api/v1/namespaces/default/pods?watch=true&resourceVersion=1", nil)
					resp, err := c.Do(req)
					if err != nil {
						b.Error(err)
						ready.Done()
						return
					}
					defer resp.Body.Close()
					ready.Done()
					sc := bufio.NewScanner(resp.Body)
					sc.Buffer(make([]byte, 1<<20), 1<<20)
					for sc.Scan() {
						now := time.Now()
						var ev struct {
							Object struct {
								Metadata struct{ Name string } `json:"metadata"`
							} `json:"object"`
						}
						if json.Unmarshal(sc.Bytes(), &ev) != nil {
							continue
						}
						mu.Lock()
						// Wait for the ack time if the event won the race.
						t, ok := acked[ev.Object.Metadata.Name]
						if ok {
							d := now.Sub(t)
							if d < 0 {
								d = 0
							}
							lat = append(lat, d)
						} else {
							lat = append(lat, 0)
						}
						mu.Unlock()
						seen.Done()
					}
				}()
			}
			ready.Wait()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				name := fmt.Sprintf("pod-%d", i)
				if err := createPod(c, url, name); err != nil {
					b.Fatal(err)
				}
				mu.Lock()
				acked[name] = time.Now()
				mu.Unlock()
				time.Sleep(2 * time.Millisecond) // a steady write rate, not a burst
			}
			waitDone(b, &seen, 60*time.Second)
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(percentile(lat, 0.50).Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(percentile(lat, 0.99).Microseconds())/1000, "p99-ms")
		})
	}
}

func waitDone(b *testing.B, wg *sync.WaitGroup, timeout time.Duration) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
		b.Fatalf("not every watcher saw every event within %s", timeout)
	}
}

func preload(b *testing.B, url string, n int) {
	b.Helper()
	c := httpClient()
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				if err := createPod(c, url, fmt.Sprintf("pod-%05d", i)); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkList10kPods lists 10,000 pods in one request.
func BenchmarkList10kPods(b *testing.B) {
	url := startAPIServer(b, "badger")
	preload(b, url, 10000)
	c := httpClient()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, err := c.Get(url + "/api/v1/pods")
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		b.SetBytes(n)
	}
}

// BenchmarkAPIServerRSS10kPods runs the real `kl apiserver` on badger,
// creates 10,000 pods and reports the process's resident memory.
func BenchmarkAPIServerRSS10kPods(b *testing.B) {
	dir := b.TempDir()
	bin, err := framework.Binary(dir)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		p, url := framework.APIServer(b, bin, filepath.Join(dir, fmt.Sprintf("data-%d", i)), "--storage", "badger")
		preload(b, url, 10000)
		// A list brings the read path's memory in too.
		resp, err := http.Get(url + "/api/v1/pods")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		b.ReportMetric(rssMB(b, p.Pid()), "RSS-MB")
		p.Kill()
	}
}

func rssMB(b *testing.B, pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	b.Fatal("no VmRSS")
	return 0
}
