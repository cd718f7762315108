package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/certs"
	"github.com/kl-dev/kl/pkg/server"
	"github.com/kl-dev/kl/test/e2e/framework"
)

// tlsBenchClients is the number of concurrent clients of BenchmarkMTLS.
const tlsBenchClients = 32

// tlsBenchServer is a `kl apiserver` process (memory storage, so that the
// disk does not hide what TLS costs) and a client for it.
type tlsBenchServer struct {
	url  string
	proc *framework.Process
	tr   *http.Transport
}

// startTLSBenchServer starts `kl apiserver --storage memory`, with mTLS
// (certificates from pkg/certs, the admin's as the client's) or with
// --insecure. keepAlive=false makes every request open a new connection
// (one TLS handshake each).
func startTLSBenchServer(b *testing.B, mtls, keepAlive bool) *tlsBenchServer {
	b.Helper()
	dir := b.TempDir()
	bin := os.Getenv("KL_BENCH_BIN")
	if bin == "" {
		var err error
		if bin, err = framework.Binary(dir); err != nil {
			b.Fatal(err)
		}
	}
	args := []string{"apiserver", "--storage", "memory", "--listen", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data")}
	tr := &http.Transport{MaxIdleConnsPerHost: 2 * tlsBenchClients, DisableKeepAlives: !keepAlive}
	if mtls {
		pki := filepath.Join(dir, "pki")
		if _, err := certs.Init(certs.InitOptions{Dir: pki, SANs: []string{"127.0.0.1"}}); err != nil {
			b.Fatal(err)
		}
		p := &server.PKI{Dir: pki}
		crt, key, ca := p.Pair(certs.FileAPIServer)
		args = append(args, "--tls-cert-file", crt, "--tls-private-key-file", key, "--client-ca-file", ca)
		tc, err := p.ClientTLS(certs.FileAdmin)
		if err != nil {
			b.Fatal(err)
		}
		tr.TLSClientConfig = tc
	} else {
		args = append(args, "--insecure")
	}
	proc := framework.Start(b, bin, "apiserver", args...)
	url, err := proc.ServingURL(90 * time.Second)
	if err != nil {
		b.Fatal(err)
	}
	s := &tlsBenchServer{url: url, proc: proc, tr: tr}
	c := s.client()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := c.Get(url + "/readyz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("%s not ready after 60s: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond) // polling interval
	}
	b.Cleanup(func() {
		tr.CloseIdleConnections()
		_ = proc.Stop(30 * time.Second)
	})
	return s
}

func (s *tlsBenchServer) client() *http.Client {
	return &http.Client{Transport: s.tr, Timeout: 30 * time.Second}
}

// do sends one request and checks its status code.
func (s *tlsBenchServer) do(c *http.Client, method, path string, body []byte, want int) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, s.url+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: HTTP %d, want %d", method, path, resp.StatusCode, want)
	}
	return nil
}

func tlsBenchConfigMap(name string) []byte {
	b, _ := json.Marshal(map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": name, "labels": map[string]any{"app": "bench"}},
		"data":     map[string]any{"key": strings.Repeat("v", 256)},
	})
	return b
}

// BenchmarkMTLS measures the requests per second `kl apiserver` sustains
// for 32 concurrent clients over keep-alive connections, with mTLS and
// with --insecure (plain HTTP): GETs of one ConfigMap, and creates of new
// ones (memory storage). The "handshake" cases open a new connection per
// GET, so each pays a full TLS handshake with client certificate. Besides
// req/s it reports latency percentiles and the apiserver's CPU time per
// request (the machine may be shared: CPU time per request is the steadier
// figure).
//
//	go test -run '^$' -bench MTLS -benchtime 20000x ./test/bench/
func BenchmarkMTLS(b *testing.B) {
	for _, tc := range []struct {
		name            string
		mtls, keepAlive bool
		op              string
	}{
		{"insecure/get", false, true, "get"},
		{"mtls/get", true, true, "get"},
		{"insecure/create", false, true, "create"},
		{"mtls/create", true, true, "create"},
		{"insecure/get-new-connection", false, false, "get"},
		{"mtls/get-new-connection", true, false, "get"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s := startTLSBenchServer(b, tc.mtls, tc.keepAlive)
			c := s.client()
			if err := s.do(c, "POST", "/api/v1/namespaces/default/configmaps", tlsBenchConfigMap("target"), http.StatusCreated); err != nil {
				b.Fatal(err)
			}
			run := func(i int64) error {
				if tc.op == "create" {
					return s.do(c, "POST", "/api/v1/namespaces/default/configmaps", tlsBenchConfigMap(fmt.Sprintf("cm-%d", i)), http.StatusCreated)
				}
				return s.do(c, "GET", "/api/v1/namespaces/default/configmaps/target", nil, http.StatusOK)
			}
			// Warm up: open the keep-alive connections.
			var warm sync.WaitGroup
			for w := 0; w < tlsBenchClients; w++ {
				warm.Add(1)
				go func() { defer warm.Done(); _ = s.do(c, "GET", "/readyz", nil, http.StatusOK) }()
			}
			warm.Wait()
			cpu0, err := s.proc.Usage()
			if err != nil {
				b.Fatal(err)
			}
			all, elapsed := load(b, tlsBenchClients, func(_ int, i int64) error { return run(i) })
			cpu1, err := s.proc.Usage()
			if err != nil {
				b.Fatal(err)
			}
			cpu := cpu1.CPU - cpu0.CPU
			b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
			reportLatency(b, all)
			b.ReportMetric(float64(cpu.Microseconds())/float64(max(len(all), 1)), "server-cpu-us/req")
			b.Logf("%s: %d requests in %s, apiserver CPU %s, load average %s", tc.name, len(all), elapsed.Round(time.Millisecond), cpu, tlsLoadAverage())
		})
	}
}

func tlsLoadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
