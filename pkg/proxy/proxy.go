package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/client/informer"
	"github.com/kl-dev/kl/pkg/client/workqueue"
)

// Resources the proxy watches.
var (
	servicesResource  = meta.GroupVersionResource{Version: "v1", Resource: "services"}
	endpointsResource = meta.GroupVersionResource{Version: "v1", Resource: "endpoints"}
)

// Proxy makes Services reachable on one node. Make it with New and Run
// it; see the package documentation.
type Proxy struct {
	cfg          Config
	log          *slog.Logger
	services     *informer.Informer[*corev1.Service]
	endpoints    *informer.Informer[*corev1.Endpoints]
	ownInformers bool
	reg          *prometheus.Registry
	metrics      *metrics
	queue        *workqueue.Queue[string]
	dialer       net.Dialer
	bufs         sync.Pool
	ready        chan struct{}
	started      atomic.Bool

	// Sync state: touched only by the sync goroutine (and by Run once it
	// has stopped).
	iface     *serviceInterface // nil: ClusterIPs are not served
	state     map[string]*serviceState
	listeners map[netip.AddrPort]*listener
	addrUsers map[netip.Addr]map[string]bool // ClusterIP -> service keys
	waiting   map[netip.AddrPort]map[string]bool
	localMu   sync.Mutex
	localAt   time.Time
	local     map[netip.Addr]bool

	conns sync.WaitGroup // connection handlers and accept loops
}

// serviceState is what the proxy set up for one Service.
type serviceState struct {
	ports      map[string]*servicePort
	clusterIPs []netip.Addr
	warned     map[string]bool // unsupported ports already logged
}

// servicePort is one port of a Service: its balancers and metrics.
type servicePort struct {
	name    string // namespace/name:port
	cluster *balancer
	local   *balancer // endpoints on this node (traffic policy Local)
	metrics *portMetrics
	warnAt  atomic.Int64
}

// route is what a listener serves; swapped atomically on changes.
type route struct {
	port  *servicePort
	local bool
}

// listener accepts connections on one address for one Service.
type listener struct {
	addr  netip.AddrPort
	owner string
	ln    net.Listener
	route atomic.Pointer[route]
}

// New returns a Proxy; Run starts it.
func New(cfg Config) (*Proxy, error) {
	cfg.defaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	p := &Proxy{
		cfg:       cfg,
		log:       cfg.Logger,
		services:  cfg.Services,
		endpoints: cfg.Endpoints,
		reg:       prometheus.NewRegistry(),
		ready:     make(chan struct{}),
		dialer:    net.Dialer{Timeout: cfg.DialTimeout},
		state:     map[string]*serviceState{},
		listeners: map[netip.AddrPort]*listener{},
		addrUsers: map[netip.Addr]map[string]bool{},
		waiting:   map[netip.AddrPort]map[string]bool{},
	}
	p.bufs.New = func() any { b := make([]byte, 32<<10); return &b }
	p.metrics = newMetrics(p.reg)
	if p.services == nil || p.endpoints == nil {
		p.ownInformers = true
		p.services = informer.New(client.NewResource[corev1.Service](cfg.Client, servicesResource, true),
			informer.Options[*corev1.Service]{Logger: p.log.With("informer", "services")})
		p.endpoints = informer.New(client.NewResource[corev1.Endpoints](cfg.Client, endpointsResource, true),
			informer.Options[*corev1.Endpoints]{Logger: p.log.With("informer", "endpoints")})
	}
	return p, nil
}

// Registry returns the proxy's metrics registry.
func (p *Proxy) Registry() *prometheus.Registry { return p.reg }

// Ready returns a channel closed once the proxy has applied every Service
// present when it started.
func (p *Proxy) Ready() <-chan struct{} { return p.ready }

// Run proxies until ctx is cancelled. It then stops accepting, closes the
// connections it relays, removes the service interface and returns.
func (p *Proxy) Run(ctx context.Context) error {
	if !p.started.CompareAndSwap(false, true) {
		return errors.New("proxy: Run called twice")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Failed syncs (a port in use, an address that could not be added)
	// are retried from 500ms, doubling to a minute.
	p.queue = workqueue.New(workqueue.Config[string]{
		RateLimiter: workqueue.NewExponentialRateLimiter[string](500*time.Millisecond, time.Minute),
	})
	context.AfterFunc(ctx, p.queue.ShutDown)

	if err := p.setUpClusterIPs(); err != nil {
		return err
	}
	defer p.tearDown()

	var bg sync.WaitGroup
	defer bg.Wait()
	defer cancel() // runs first: stops the goroutines bg waits for
	if p.cfg.MetricsAddress != "" {
		stop, err := p.serveMetrics(p.cfg.MetricsAddress)
		if err != nil {
			return err
		}
		defer stop()
	}

	enqueue := func(obj meta.Object) { p.queue.Add(informer.Key(obj)) }
	p.services.AddEventHandler(handlerFor[*corev1.Service](enqueue))
	p.endpoints.AddEventHandler(handlerFor[*corev1.Endpoints](enqueue))
	if p.ownInformers {
		bg.Go(func() { _ = p.services.Run(ctx) })
		bg.Go(func() { _ = p.endpoints.Run(ctx) })
	}
	if !informer.WaitForCacheSync(ctx, p.services, p.endpoints) {
		return nil
	}

	// Apply every Service once before saying ready; the handlers have
	// queued them too, and a second sync changes nothing.
	for _, svc := range p.services.Lister().List(meta.Everything()) {
		p.syncKey(ctx, informer.Key(svc))
	}
	close(p.ready)
	p.log.Info("proxy ready", "node", p.cfg.NodeName, "services", p.services.Lister().Len(),
		"listeners", len(p.listeners), "clusterIPs", p.iface != nil)

	for {
		key, shutdown := p.queue.Get()
		if shutdown {
			return nil
		}
		p.syncKey(ctx, key)
		p.queue.Done(key)
	}
}

// syncKey applies one Service and schedules a retry if that failed.
func (p *Proxy) syncKey(ctx context.Context, key string) {
	start := time.Now()
	err := p.sync(ctx, key)
	p.metrics.syncSeconds.Observe(time.Since(start).Seconds())
	if err != nil {
		p.metrics.syncs.WithLabelValues("error").Inc()
		p.log.Warn("service sync failed; retrying", "service", key, "err", err)
		p.queue.AddRateLimited(key)
		return
	}
	p.metrics.syncs.WithLabelValues("success").Inc()
	p.queue.Forget(key)
}

func handlerFor[PT meta.Object](enqueue func(meta.Object)) informer.HandlerFuncs[PT] {
	return informer.HandlerFuncs[PT]{
		AddFunc:    func(obj PT) { enqueue(obj) },
		UpdateFunc: func(_, obj PT) { enqueue(obj) },
		DeleteFunc: func(obj PT, _ bool) { enqueue(obj) },
	}
}

// setUpClusterIPs opens the service interface as the mode asks.
func (p *Proxy) setUpClusterIPs() error {
	if p.cfg.ClusterIPMode == ClusterIPModeOff {
		p.log.Info("ClusterIPs are off (--cluster-ip-mode off): serving NodePorts and external addresses only")
		return nil
	}
	iface, err := openServiceInterface(p.cfg.InterfaceName, p.log)
	if err != nil {
		if p.cfg.ClusterIPMode == ClusterIPModeDummyInterface {
			return fmt.Errorf("set up service interface %s: %w", p.cfg.InterfaceName, err)
		}
		p.log.Warn("ClusterIPs are not reachable on this node: cannot set up the service interface; NodePorts are served",
			"interface", p.cfg.InterfaceName, "err", err)
		return nil
	}
	p.iface = iface
	p.metrics.clusterIPs.Set(1)
	return nil
}

// tearDown stops every listener, closes the connections still relayed
// (their context is cancelled by now), waits for their handlers and
// removes the service interface.
func (p *Proxy) tearDown() {
	for _, l := range p.listeners {
		_ = l.ln.Close()
	}
	p.conns.Wait()
	clear(p.listeners)
	p.metrics.listeners.Set(0)
	if p.iface != nil {
		if err := p.iface.Delete(); err != nil {
			p.log.Warn("could not remove the service interface", "err", err)
		}
	}
}

// sync makes the listeners, addresses and balancers of the Service key
// match the Service and its Endpoints in the caches.
func (p *Proxy) sync(ctx context.Context, key string) error {
	ns, name := informer.SplitKey(key)
	svc, _ := p.services.Lister().Get(ns, name)
	ep, _ := p.endpoints.Lister().Get(ns, name)
	env := environment{
		NodeName:          p.cfg.NodeName,
		ClusterIPs:        p.iface != nil,
		NodePortAddresses: p.cfg.NodePortAddresses(),
		IsLocal:           p.isLocal,
	}
	d := desiredState(svc, ep, env)

	st := p.state[key]
	if st == nil {
		st = &serviceState{ports: map[string]*servicePort{}, warned: map[string]bool{}}
	}
	for _, u := range d.Unsupported {
		if !st.warned[u] {
			st.warned[u] = true
			p.log.Warn("only TCP is proxied for now; this service port is not", "service", key, "port", u)
		}
	}

	// Balancers first: a listener retargeted below finds its port ready.
	ports := make(map[string]*servicePort, len(d.Ports))
	for _, dp := range d.Ports {
		sp := st.ports[dp.Name]
		if sp == nil {
			sp = p.newServicePort(servicePortName(key, dp.Name))
		}
		sp.cluster.Update(dp.Backends)
		sp.local.Update(dp.Local)
		sp.cluster.SetAffinity(dp.Affinity)
		sp.local.SetAffinity(dp.Affinity)
		ports[dp.Name] = sp
	}
	for name, sp := range st.ports {
		if ports[name] == nil {
			p.metrics.deletePort(sp.name)
		}
	}
	st.ports = ports

	wanted := make(map[netip.AddrPort]frontend, len(d.Frontends))
	for _, fe := range d.Frontends {
		wanted[fe.Addr] = fe
	}
	for ap, w := range p.waiting {
		delete(w, key)
		if len(w) == 0 {
			delete(p.waiting, ap)
		}
	}
	// Stop listening where the Service no longer wants to be; connections
	// already accepted go on until they close.
	for ap, l := range p.listeners {
		if l.owner == key {
			if _, ok := wanted[ap]; !ok {
				p.closeListener(l)
			}
		}
	}

	var errs []error
	// Addresses: drop those of the old ClusterIPs, add the new ones
	// before listening on them.
	for _, ip := range st.clusterIPs {
		if !slices.Contains(d.ClusterIPs, ip) {
			errs = append(errs, p.releaseAddr(ip, key))
		}
	}
	st.clusterIPs = nil
	for _, ip := range d.ClusterIPs {
		if err := p.claimAddr(ip, key); err != nil {
			errs = append(errs, err)
			continue
		}
		st.clusterIPs = append(st.clusterIPs, ip)
	}

	for _, fe := range d.Frontends {
		r := &route{port: ports[fe.Port], local: fe.Local}
		if l := p.listeners[fe.Addr]; l != nil {
			if l.owner != key {
				p.wait(fe.Addr, key)
				errs = append(errs, fmt.Errorf("%s is already served for service %s", fe.Addr, l.owner))
				continue
			}
			l.route.Store(r)
			continue
		}
		if fe.ClusterIP && !slices.Contains(st.clusterIPs, fe.Addr.Addr()) {
			continue // the address could not be added; reported above
		}
		if err := p.listen(ctx, fe.Addr, key, r); err != nil {
			errs = append(errs, err)
		}
	}

	if svc == nil && len(st.ports) == 0 {
		delete(p.state, key)
	} else {
		p.state[key] = st
	}
	return errors.Join(errs...)
}

func (p *Proxy) newServicePort(name string) *servicePort {
	dial := func(ctx context.Context, addr string) (net.Conn, error) {
		return p.dialer.DialContext(ctx, "tcp", addr)
	}
	return &servicePort{
		name:    name,
		cluster: newBalancer(dial, nil),
		local:   newBalancer(dial, nil),
		metrics: p.metrics.forPort(name),
	}
}

// wait records that key wants an address another Service holds, so it is
// synced again when that address is released.
func (p *Proxy) wait(ap netip.AddrPort, key string) {
	if p.waiting[ap] == nil {
		p.waiting[ap] = map[string]bool{}
	}
	p.waiting[ap][key] = true
}

// claimAddr puts a ClusterIP on the service interface for key.
func (p *Proxy) claimAddr(ip netip.Addr, key string) error {
	users := p.addrUsers[ip]
	if users[key] {
		return nil
	}
	if len(users) == 0 {
		if err := p.iface.Add(ip); err != nil {
			return fmt.Errorf("add ClusterIP %s: %w", ip, err)
		}
		users = map[string]bool{}
		p.addrUsers[ip] = users
	}
	users[key] = true
	return nil
}

// releaseAddr takes a ClusterIP off the interface once no Service uses it.
func (p *Proxy) releaseAddr(ip netip.Addr, key string) error {
	users := p.addrUsers[ip]
	delete(users, key)
	if len(users) > 0 {
		return nil
	}
	delete(p.addrUsers, ip)
	if err := p.iface.Remove(ip); err != nil {
		return fmt.Errorf("remove ClusterIP %s: %w", ip, err)
	}
	return nil
}

// listen starts accepting on ap for the Service key.
func (p *Proxy) listen(ctx context.Context, ap netip.AddrPort, key string, r *route) error {
	ln, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(ap))
	if err != nil {
		return fmt.Errorf("listen on %s: %w", ap, err)
	}
	l := &listener{addr: ap, owner: key, ln: ln}
	l.route.Store(r)
	p.listeners[ap] = l
	p.metrics.listeners.Set(float64(len(p.listeners)))
	p.log.Debug("listening", "service", r.port.name, "address", ap.String())
	p.conns.Go(func() { p.accept(ctx, l) })
	return nil
}

// closeListener stops accepting on l and wakes Services waiting for its
// address.
func (p *Proxy) closeListener(l *listener) {
	_ = l.ln.Close()
	delete(p.listeners, l.addr)
	p.metrics.listeners.Set(float64(len(p.listeners)))
	p.log.Debug("stopped listening", "service", l.owner, "address", l.addr.String())
	for k := range p.waiting[l.addr] {
		p.queue.Add(k)
	}
	delete(p.waiting, l.addr)
}

// isLocal reports whether addr belongs to this machine. The answer is
// cached for a few seconds: it is asked once per external address per
// sync.
func (p *Proxy) isLocal(addr netip.Addr) bool {
	if addr.IsLoopback() || addr == p.cfg.NodeIP.Unmap() {
		return true
	}
	p.localMu.Lock()
	defer p.localMu.Unlock()
	if p.local == nil || time.Since(p.localAt) > 5*time.Second {
		p.local = map[netip.Addr]bool{}
		p.localAt = time.Now()
		addrs, err := net.InterfaceAddrs()
		if err != nil {
			p.log.Warn("cannot list the machine's addresses; external addresses are not served", "err", err)
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(n.IP); ok {
					p.local[ip.Unmap()] = true
				}
			}
		}
	}
	return p.local[addr]
}

// serveMetrics serves /metrics and /healthz until the returned function is
// called. /healthz answers 200 once the proxy is ready, 503 before.
func (p *Proxy) serveMetrics(addr string) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics address: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(p.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		select {
		case <-p.ready:
			_, _ = w.Write([]byte("ok"))
		default:
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("not synced yet"))
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.log.Error("metrics server failed", "err", err)
		}
	}()
	p.log.Info("serving metrics", "addr", ln.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}, nil
}
