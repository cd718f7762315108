package proxy_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/proxy"
)

// BenchmarkProxyVsDirect compares many small HTTP requests over keep-alive
// connections sent straight to a backend with the same requests sent
// through the proxy (a NodePort on a loopback address), with one client (the
// latency the proxy adds) and with 16 concurrent clients (throughput).
// Each reports req/s and the p50 and p99 request latency.
//
//	go test -run '^$' -bench BenchmarkProxyVsDirect -benchtime 20000x ./pkg/proxy/
func BenchmarkProxyVsDirect(b *testing.B) {
	c := startCluster(b)
	backend := startHTTPBackend(b, "127.0.0.2")
	node := nodeAddress()
	port := freeNodePort(b, node)
	c.createService(b, webService("bench", corev1.ServiceTypeNodePort, port))
	c.setEndpoints(b, "bench", backend)
	if _, err := runProxy(b, proxy.Config{
		Client: c.client, NodeName: "node-1", BindAddress: node,
		ClusterIPMode: proxy.ClusterIPModeOff, Logger: slog.New(slog.DiscardHandler),
	}); err != nil {
		b.Fatal(err)
	}
	targets := []struct{ name, addr string }{
		{"direct", backend.String()},
		{"proxy", netip.AddrPortFrom(node, uint16(port)).String()},
	}
	for _, clients := range []int{1, 16} {
		for _, tg := range targets {
			b.Run(tg.name+"/clients="+strconv.Itoa(clients), func(b *testing.B) {
				benchmarkRequests(b, "http://"+tg.addr+"/", clients)
			})
		}
	}
}

func benchmarkRequests(b *testing.B, url string, clients int) {
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: waitFor}
	do := func() error {
		resp, err := hc.Get(url)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return err
	}
	// Warm up: open the keep-alive connections.
	for range clients {
		if err := do(); err != nil {
			b.Fatal(err)
		}
	}

	var (
		mu        sync.Mutex
		latencies = make([]time.Duration, 0, b.N)
		next      = make(chan struct{}, clients)
		wg        sync.WaitGroup
		failed    error
	)
	b.ResetTimer()
	start := time.Now()
	for range clients {
		wg.Go(func() {
			own := make([]time.Duration, 0, b.N/clients+1)
			defer func() {
				mu.Lock()
				latencies = append(latencies, own...)
				mu.Unlock()
			}()
			for range next {
				t0 := time.Now()
				if err := do(); err != nil {
					mu.Lock()
					failed = err
					mu.Unlock()
					return
				}
				own = append(own, time.Since(t0))
			}
		})
	}
	for range b.N {
		next <- struct{}{}
	}
	close(next)
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if failed != nil {
		b.Fatal(failed)
	}
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds())
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}
