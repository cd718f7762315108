package proxy_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/intstr"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/apiserver"
	"github.com/kl-dev/kl/pkg/apiserver/apiservertest"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/proxy"
	"github.com/kl-dev/kl/pkg/proxy/internal/netlink"
)

// waitFor bounds every wait of these tests; the proxy applies changes in
// milliseconds, the bound is for loaded machines.
const waitFor = 10 * time.Second

// cluster is an in-process apiserver and typed clients for Services and
// Endpoints.
type cluster struct {
	client    *client.Client
	services  *client.Resource[corev1.Service, *corev1.Service]
	endpoints *client.Resource[corev1.Endpoints, *corev1.Endpoints]
}

func startCluster(t testing.TB, mutate ...func(*apiserver.Config)) *cluster {
	t.Helper()
	c := apiservertest.Client(t, apiservertest.Start(t, mutate...))
	return &cluster{
		client:    c,
		services:  client.NewResource[corev1.Service](c, meta.GroupVersionResource{Version: "v1", Resource: "services"}, true).Namespace("default"),
		endpoints: client.NewResource[corev1.Endpoints](c, meta.GroupVersionResource{Version: "v1", Resource: "endpoints"}, true).Namespace("default"),
	}
}

// runProxy runs a proxy until the test ends and waits until it is ready.
// It returns the error of a Run that ended before.
func runProxy(t testing.TB, cfg proxy.Config) (*proxy.Proxy, error) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	p, err := proxy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	stop := func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("proxy run: %v", err)
			}
		case <-time.After(waitFor):
			t.Errorf("proxy did not stop within %v", waitFor)
		}
	}
	select {
	case <-p.Ready():
		t.Cleanup(stop)
		return p, nil
	case err := <-done:
		cancel()
		return nil, err
	case <-time.After(waitFor):
		stop()
		t.Fatalf("proxy not ready after %v", waitFor)
		return nil, nil
	}
}

// testWriter sends logs to t.Log, so they show only for failed tests.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// httpBackend is a loopback HTTP server answering every request with its
// own address.
type httpBackend struct {
	ip   string
	port int32
}

func (b *httpBackend) String() string { return net.JoinHostPort(b.ip, strconv.Itoa(int(b.port))) }

func startHTTPBackend(t testing.TB, ip string) *httpBackend {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatalf("listen on %s: %v (Linux makes all of 127.0.0.0/8 local)", ip, err)
	}
	b := &httpBackend{ip: ip, port: int32(ln.Addr().(*net.TCPAddr).Port)}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, b.String())
	}), ReadHeaderTimeout: waitFor}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return b
}

// nodeAddress returns a random address of 127.0.0.0/8 outside 127.0.0.x
// (where the backends listen) for NodePorts to listen on, so that tests
// running at the same time on this machine do not compete for ports.
func nodeAddress() netip.Addr {
	return netip.AddrFrom4([4]byte{127, byte(1 + rand.IntN(254)), byte(rand.IntN(256)), byte(1 + rand.IntN(254))})
}

// freeNodePort returns a port of the NodePort range free on ip.
func freeNodePort(t testing.TB, ip netip.Addr) int32 {
	t.Helper()
	for range 100 {
		port := 30000 + rand.IntN(2768)
		ln, err := net.Listen("tcp", netip.AddrPortFrom(ip, uint16(port)).String())
		if err == nil {
			ln.Close()
			return int32(port)
		}
	}
	t.Fatalf("no free port in 30000-32767 on %s", ip)
	return 0
}

// closedAddr returns an address on which connections are refused.
func closedAddr(t testing.TB, ip string) *httpBackend {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return &httpBackend{ip: ip, port: int32(port)}
}

func endpointsOf(name string, backends ...*httpBackend) *corev1.Endpoints {
	ep := &corev1.Endpoints{ObjectMeta: meta.ObjectMeta{Name: name}}
	for _, b := range backends {
		// One subset per backend: the ports differ.
		ep.Subsets = append(ep.Subsets, corev1.EndpointSubset{
			Addresses: []corev1.EndpointAddress{{IP: b.ip}},
			Ports:     []corev1.EndpointPort{{Name: "http", Port: b.port, Protocol: corev1.ProtocolTCP}},
		})
	}
	return ep
}

func (c *cluster) setEndpoints(t testing.TB, name string, backends ...*httpBackend) {
	t.Helper()
	ctx := context.Background()
	want := endpointsOf(name, backends...)
	cur, err := c.endpoints.Get(ctx, name)
	if meta.IsNotFound(err) {
		if _, err := c.endpoints.Create(ctx, want, client.CreateOptions{}); err != nil {
			t.Fatalf("create endpoints: %v", err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	cur.Subsets = want.Subsets
	if _, err := c.endpoints.Update(ctx, cur, client.UpdateOptions{}); err != nil {
		t.Fatalf("update endpoints: %v", err)
	}
}

func (c *cluster) createService(t testing.TB, svc *corev1.Service) *corev1.Service {
	t.Helper()
	out, err := c.services.Create(context.Background(), svc, client.CreateOptions{})
	if err != nil {
		t.Fatalf("create service: %v", err)
	}
	return out
}

func webService(name string, typ corev1.ServiceType, nodePort int32) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: meta.ObjectMeta{Name: name},
		Spec: corev1.ServiceSpec{
			Type:  typ,
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http"), NodePort: nodePort}},
		},
	}
}

// httpClient makes a new connection per request.
var httpClient = &http.Client{
	Transport: &http.Transport{DisableKeepAlives: true},
	Timeout:   waitFor,
}

// get returns the body of GET http://addr/.
func get(addr string) (string, error) {
	resp, err := httpClient.Get("http://" + addr + "/")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return string(body), err
}

// eventually calls f until it returns nil, at most waitFor long, and
// returns how long that took.
func eventually(t *testing.T, what string, f func() error) time.Duration {
	t.Helper()
	start := time.Now()
	var err error
	for time.Since(start) < waitFor {
		if err = f(); err == nil {
			return time.Since(start)
		}
		time.Sleep(10 * time.Millisecond) // polling interval, not synchronisation
	}
	t.Fatalf("%s: not after %v: %v", what, waitFor, err)
	return 0
}

// spread makes n requests to addr and counts the answers per backend.
func spread(addr string, n int) (map[string]int, error) {
	got := map[string]int{}
	for range n {
		body, err := get(addr)
		if err != nil {
			return got, err
		}
		got[body]++
	}
	return got, nil
}

// keepAliveConn is one client connection carrying several requests.
type keepAliveConn struct {
	c net.Conn
	r *bufio.Reader
}

func dialKeepAlive(t testing.TB, addr string) *keepAliveConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, waitFor)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &keepAliveConn{c: c, r: bufio.NewReader(c)}
}

func (k *keepAliveConn) get() (string, error) {
	_ = k.c.SetDeadline(time.Now().Add(waitFor))
	if _, err := io.WriteString(k.c, "GET / HTTP/1.1\r\nHost: test\r\n\r\n"); err != nil {
		return "", err
	}
	resp, err := http.ReadResponse(k.r, nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return string(body), err
}

func TestNodePortServiceFollowsItsEndpoints(t *testing.T) {
	c := startCluster(t)
	a := startHTTPBackend(t, "127.0.0.2")
	b := startHTTPBackend(t, "127.0.0.3")
	node := nodeAddress()
	port := freeNodePort(t, node)
	c.createService(t, webService("web", corev1.ServiceTypeNodePort, port))
	c.setEndpoints(t, "web", a, b)

	p, err := runProxy(t, proxy.Config{
		Client: c.client, NodeName: "node-1", BindAddress: node,
		ClusterIPMode: proxy.ClusterIPModeOff,
	})
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.AddrPortFrom(node, uint16(port)).String()

	t.Run("requests reach every endpoint", func(t *testing.T) {
		got, err := spread(addr, 10)
		if err != nil {
			t.Fatal(err)
		}
		if got[a.String()] != 5 || got[b.String()] != 5 {
			t.Errorf("answers per backend = %v, want 5 from each of %s and %s", got, a, b)
		}
	})

	// A connection to b made before b leaves the Endpoints.
	var held *keepAliveConn
	for range 4 {
		k := dialKeepAlive(t, addr)
		if body, err := k.get(); err != nil {
			t.Fatal(err)
		} else if body == b.String() {
			held = k
			break
		}
	}
	if held == nil {
		t.Fatalf("no connection reached %s", b)
	}

	t.Run("a removed endpoint gets no new connections", func(t *testing.T) {
		c.setEndpoints(t, "web", a)
		took := eventually(t, "all new connections go to "+a.String(), func() error {
			got, err := spread(addr, 4)
			if err != nil {
				return err
			}
			if got[a.String()] != 4 {
				return fmt.Errorf("answers per backend = %v", got)
			}
			return nil
		})
		t.Logf("new connections avoided the removed endpoint %v after the Endpoints update", took)
	})

	t.Run("connections to a removed endpoint drain", func(t *testing.T) {
		for range 3 {
			body, err := held.get()
			if err != nil {
				t.Fatalf("request on the connection made before the endpoint left: %v", err)
			}
			if body != b.String() {
				t.Errorf("old connection answered by %s, want %s", body, b)
			}
		}
	})

	t.Run("a refusing endpoint is skipped", func(t *testing.T) {
		refusing := closedAddr(t, "127.0.0.4")
		c.setEndpoints(t, "web", a, refusing)
		eventually(t, "the refusing endpoint is tried", func() error {
			if _, err := spread(addr, 2); err != nil {
				return fmt.Errorf("a request failed: %w", err)
			}
			if n := value(p, "kl_proxy_errors_total", "service", "default/web:http", "reason", "dial_failed"); n == 0 {
				return errors.New("no failed dial yet")
			}
			return nil
		})
		got, err := spread(addr, 10)
		if err != nil {
			t.Fatalf("a request failed: %v", err)
		}
		if got[a.String()] != 10 {
			t.Errorf("answers per backend = %v, want all 10 from %s", got, a)
		}
	})

	t.Run("no endpoints: connections are reset", func(t *testing.T) {
		c.setEndpoints(t, "web")
		eventually(t, "requests fail", func() error {
			if body, err := get(addr); err == nil {
				return fmt.Errorf("request answered by %s", body)
			}
			return nil
		})
		if n := value(p, "kl_proxy_errors_total", "service", "default/web:http", "reason", "no_endpoints"); n == 0 {
			t.Errorf("kl_proxy_errors_total{reason=no_endpoints} = 0")
		}
	})

	t.Run("a changed NodePort moves the listener", func(t *testing.T) {
		c.setEndpoints(t, "web", a)
		svc, err := c.services.Get(context.Background(), "web")
		if err != nil {
			t.Fatal(err)
		}
		newPort := freeNodePort(t, node)
		svc.Spec.Ports[0].NodePort = newPort
		if _, err := c.services.Update(context.Background(), svc, client.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		newAddr := netip.AddrPortFrom(node, uint16(newPort)).String()
		eventually(t, "the new NodePort answers", func() error { _, err := get(newAddr); return err })
		eventually(t, "the old NodePort is closed", func() error {
			if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
				return errors.New("still accepting")
			}
			return nil
		})
		addr = newAddr
	})

	t.Run("metrics count connections and bytes", func(t *testing.T) {
		const name = "default/web:http"
		if n := value(p, "kl_proxy_connections_total", "service", name); n < 20 {
			t.Errorf("kl_proxy_connections_total = %v, want at least 20", n)
		}
		for _, dir := range []string{"in", "out"} {
			if n := value(p, "kl_proxy_bytes_total", "service", name, "direction", dir); n == 0 {
				t.Errorf("kl_proxy_bytes_total{direction=%s} = 0", dir)
			}
		}
	})

	t.Run("a deleted Service is no longer served", func(t *testing.T) {
		if err := c.services.Delete(context.Background(), "web", meta.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the NodePort is closed", func() error {
			if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
				return errors.New("still accepting")
			}
			return nil
		})
		// The connection made long ago still drains.
		if body, err := held.get(); err != nil || body != b.String() {
			t.Errorf("old connection: %q, %v; want an answer from %s", body, err, b)
		}
	})
}

func TestClientIPAffinityKeepsAClientOnOneEndpoint(t *testing.T) {
	c := startCluster(t)
	backends := []*httpBackend{startHTTPBackend(t, "127.0.0.2"), startHTTPBackend(t, "127.0.0.3"), startHTTPBackend(t, "127.0.0.4")}
	node := nodeAddress()
	port := freeNodePort(t, node)
	svc := webService("sticky", corev1.ServiceTypeNodePort, port)
	svc.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
	c.createService(t, svc)
	c.setEndpoints(t, "sticky", backends...)
	if _, err := runProxy(t, proxy.Config{
		Client: c.client, NodeName: "node-1", BindAddress: node,
		ClusterIPMode: proxy.ClusterIPModeOff,
	}); err != nil {
		t.Fatal(err)
	}
	got, err := spread(netip.AddrPortFrom(node, uint16(port)).String(), 9)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Errorf("answers per backend = %v, want all from one backend", got)
	}
}

func TestClusterIPIsServedOnTheServiceInterface(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("ClusterIPs need root to put them on an interface")
	}
	// A ClusterIP range and an interface name of our own, so that other
	// proxies on this machine (other tests, a kl server) are not in the way.
	cidr := fmt.Sprintf("198.18.%d.0/24", 1+rand.IntN(250))
	ifname := fmt.Sprintf("klt%d", os.Getpid()%1000000)
	c := startCluster(t, func(cfg *apiserver.Config) { cfg.ServiceClusterIPRange = cidr })
	a := startHTTPBackend(t, "127.0.0.2")
	b := startHTTPBackend(t, "127.0.0.3")
	svc := c.createService(t, webService("web", corev1.ServiceTypeClusterIP, 0))
	c.setEndpoints(t, "web", a, b)
	headless := webService("headless", corev1.ServiceTypeClusterIP, 0)
	headless.Spec.ClusterIP = corev1.ClusterIPNone
	c.createService(t, headless)
	c.setEndpoints(t, "headless", a)

	t.Cleanup(func() {
		// Registered before the proxy's own cleanup, so it runs after Run
		// has returned: the interface must be gone.
		if l, err := netlink.LinkByName(ifname); !errors.Is(err, netlink.ErrLinkNotFound) {
			t.Errorf("after the proxy stopped: link %+v, err %v; want it removed", l, err)
			if err == nil {
				_ = netlink.DeleteLink(l.Index)
			}
		}
	})
	p, err := runProxy(t, proxy.Config{
		Client: c.client, NodeName: "node-1", BindAddress: nodeAddress(),
		ClusterIPMode: proxy.ClusterIPModeDummyInterface, InterfaceName: ifname,
	})
	if err != nil {
		t.Skipf("cannot set up a service interface here: %v", err)
	}
	if n := value(p, "kl_proxy_cluster_ips_enabled"); n != 1 {
		t.Errorf("kl_proxy_cluster_ips_enabled = %v, want 1", n)
	}

	addr := net.JoinHostPort(svc.Spec.ClusterIP, "80")
	got, err := spread(addr, 10)
	if err != nil {
		t.Fatal(err)
	}
	if got[a.String()] != 5 || got[b.String()] != 5 {
		t.Errorf("answers per backend = %v, want 5 from each of %s and %s", got, a, b)
	}

	link, err := netlink.LinkByName(ifname)
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := netlink.Addrs(link.Index)
	if err != nil {
		t.Fatal(err)
	}
	want := netip.MustParsePrefix(svc.Spec.ClusterIP + "/32")
	var v4 []netip.Prefix
	for _, a := range addrs {
		if a.Addr().Is4() {
			v4 = append(v4, a)
		}
	}
	if len(v4) != 1 || v4[0] != want {
		t.Errorf("addresses of %s = %v, want only %v (headless Services get none)", ifname, v4, want)
	}

	// Deleting the Service takes its ClusterIP off the interface.
	if err := c.services.Delete(context.Background(), "web", meta.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the ClusterIP is removed", func() error {
		addrs, err := netlink.Addrs(link.Index)
		if err != nil {
			return err
		}
		for _, a := range addrs {
			if a == want {
				return errors.New("still there")
			}
		}
		return nil
	})
}

func TestClusterIPModeWithoutInterface(t *testing.T) {
	c := startCluster(t)
	a := startHTTPBackend(t, "127.0.0.2")
	node := nodeAddress()
	port := freeNodePort(t, node)
	c.createService(t, webService("web", corev1.ServiceTypeNodePort, port))
	c.setEndpoints(t, "web", a)
	// "lo" exists and is no dummy interface: the proxy must refuse to use
	// it (and never touch it).
	base := proxy.Config{
		Client: c.client, NodeName: "node-1", BindAddress: node, InterfaceName: "lo",
	}

	t.Run("dummy-interface fails", func(t *testing.T) {
		cfg := base
		cfg.ClusterIPMode = proxy.ClusterIPModeDummyInterface
		_, err := runProxy(t, cfg)
		if err == nil || !strings.Contains(err.Error(), "not a dummy interface") {
			t.Errorf("Run: %v, want an error saying lo is not a dummy interface", err)
		}
	})
	t.Run("auto serves NodePorts", func(t *testing.T) {
		var logs syncBuffer
		cfg := base
		cfg.ClusterIPMode = proxy.ClusterIPModeAuto
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		p, err := runProxy(t, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if body, err := get(netip.AddrPortFrom(node, uint16(port)).String()); err != nil || body != a.String() {
			t.Errorf("NodePort: %q, %v; want an answer from %s", body, err, a)
		}
		if n := value(p, "kl_proxy_cluster_ips_enabled"); n != 0 {
			t.Errorf("kl_proxy_cluster_ips_enabled = %v, want 0", n)
		}
		if !strings.Contains(logs.String(), "ClusterIPs are not reachable on this node") {
			t.Errorf("no warning about ClusterIPs in the log:\n%s", logs.String())
		}
	})
}

func TestHealthzAndMetricsAreServed(t *testing.T) {
	c := startCluster(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := ln.Addr().String()
	ln.Close()
	if _, err := runProxy(t, proxy.Config{
		Client: c.client, NodeName: "node-1", ClusterIPMode: proxy.ClusterIPModeOff, MetricsAddress: metricsAddr,
	}); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"/healthz": "ok", "/metrics": "kl_proxy_cluster_ips_enabled 0"} {
		resp, err := httpClient.Get("http://" + metricsAddr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d %q, want 200 and %q", path, resp.StatusCode, body, want)
		}
	}
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// value returns the value of the metric called name with the given label
// pairs (0 if there is none).
func value(p *proxy.Proxy, name string, labels ...string) float64 {
	families, err := p.Registry().Gather()
	if err != nil {
		return 0
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if have[labels[i]] != labels[i+1] {
					continue series
				}
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			}
		}
	}
	return 0
}
