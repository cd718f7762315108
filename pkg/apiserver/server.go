// Package apiserver is kl's API server: Kubernetes' REST paths, watch
// streams, discovery and Status errors over a revisioned store
// (pkg/storage), with lists and watches served from a watch cache
// (pkg/apiserver/cacher).
//
// A request goes: recover panics -> route -> decode -> schema check ->
// defaults -> semantic validation (pkg/validation) -> admission (namespace
// exists, ClusterIP/NodePort allocation) -> storage (one revision) -> the
// cache sees the change and fans it out to watches.
package apiserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kl-dev/kl/pkg/apiserver/auth"
	"github.com/kl-dev/kl/pkg/apiserver/cacher"
	"github.com/kl-dev/kl/pkg/storage"
	"github.com/kl-dev/kl/pkg/storage/badger"
	"github.com/kl-dev/kl/pkg/storage/etcd"
	"github.com/kl-dev/kl/pkg/storage/memory"
	"github.com/kl-dev/kl/pkg/validation"
)

// Server is a kl apiserver. Create with New, serve with Run.
type Server struct {
	cfg       Config
	log       *slog.Logger
	store     storage.Interface
	cache     *cacher.Cacher
	resources *resourceSet
	validator *validation.Validator
	metrics   *metrics
	alloc     *allocators
	now       func() time.Time
	listener  net.Listener
	tlsConfig *tls.Config
	authz     *auth.Authorizer
	expected  *expectations
	limits    *limits
	auditLog  *auditLog

	readyOnce sync.Once
	ready     chan struct{}
}

// New checks the config, opens storage and binds the listen address (so
// Addr is known before Run). Call Run to serve, which also closes storage.
func New(cfg Config) (*Server, error) {
	cfg.Defaults()
	s := &Server{cfg: cfg, log: cfg.Logger, now: time.Now, ready: make(chan struct{}), expected: newExpectations()}
	if err := s.checkSecurity(); err != nil {
		return nil, err
	}
	s.resources = newResourceSet(kinds())
	v, err := validation.NewValidator()
	if err != nil {
		return nil, fmt.Errorf("load schemas: %w", err)
	}
	s.validator = v
	alloc, err := newAllocators(cfg.ServiceClusterIPRange, cfg.ServiceNodePortRange)
	if err != nil {
		return nil, err
	}
	s.alloc = alloc
	s.metrics = newMetrics()
	s.authz = &auth.Authorizer{Pods: podGraph{s}}
	s.limits = newLimits(cfg.MaxRequestsInFlight, cfg.MaxWatchesPerClient)
	if cfg.AuditLogPath != "" {
		if s.auditLog, err = openAuditLog(cfg.AuditLogPath); err != nil {
			return nil, err
		}
	}
	if s.store, err = openStore(cfg); err != nil {
		s.auditLog.close()
		return nil, err
	}
	decoders := map[string]cacher.Decoder{}
	for _, r := range s.resources.all {
		decoders[r.keyPrefix()] = s.cacheDecoder(r)
	}
	s.cache = cacher.New(cacher.Config{
		Store: s.store, Prefix: "/registry/", Resources: decoders,
		HistorySize: cfg.WatchCacheSize, Logger: s.log.With("component", "watch-cache"),
	})
	ln, err := net.Listen("tcp", cfg.ListenAddress)
	if err != nil {
		s.store.Close()
		return nil, fmt.Errorf("listen on %s: %w", cfg.ListenAddress, err)
	}
	s.listener = ln
	return s, nil
}

func (s *Server) checkSecurity() error {
	c := s.cfg
	if c.Insecure {
		host, _, err := net.SplitHostPort(c.ListenAddress)
		if err != nil {
			return fmt.Errorf("--listen %q: %w", c.ListenAddress, err)
		}
		ip := net.ParseIP(host)
		if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("--insecure serves plain HTTP without authentication and is only allowed on a loopback address; got %s", c.ListenAddress)
		}
		return nil
	}
	if c.TLSCertFile == "" || c.TLSKeyFile == "" || c.ClientCAFile == "" {
		return errors.New("kl apiserver needs either --insecure (plain HTTP on loopback, no authentication) or --tls-cert-file, --tls-private-key-file and --client-ca-file")
	}
	cert, err := tls.LoadX509KeyPair(c.TLSCertFile, c.TLSKeyFile)
	if err != nil {
		return fmt.Errorf("load serving certificate: %w", err)
	}
	caPEM, err := os.ReadFile(c.ClientCAFile)
	if err != nil {
		return fmt.Errorf("read client CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return fmt.Errorf("client CA file %s holds no PEM certificate", c.ClientCAFile)
	}
	s.tlsConfig = &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		ClientCAs:    pool,
		ClientAuth:   tls.VerifyClientCertIfGiven,
	}
	return nil
}

// storeHistorySize is how many events the memory and badger stores keep
// for watches from older revisions. The apiserver serves every list and
// watch from its watch cache, which lists the store and watches it from
// that revision (and lists again after any watch error), so the store's
// history only has to cover the moment between the two; the watch cache
// keeps the long history (--watch-cache-size per resource). Keeping 10,000
// events here too held about 30 MB more at 10,000 pods.
const storeHistorySize = 1024

func openStore(cfg Config) (storage.Interface, error) {
	switch cfg.Storage {
	case "memory":
		return memory.New(memory.Options{HistorySize: storeHistorySize}), nil
	case "badger":
		if cfg.DataDir == "" {
			return nil, errors.New("--data-dir is required with --storage badger")
		}
		dir := filepath.Join(cfg.DataDir, "badger")
		st, err := badger.Open(badger.Options{Dir: dir, HistorySize: storeHistorySize, Logger: cfg.Logger.With("component", "badger")})
		if err != nil {
			return nil, fmt.Errorf("open badger store in %s: %w", dir, err)
		}
		return st, nil
	case "etcd":
		st, err := etcd.Open(context.Background(), etcd.Options{
			Endpoints: cfg.EtcdServers, CAFile: cfg.EtcdCAFile, CertFile: cfg.EtcdCertFile, KeyFile: cfg.EtcdKeyFile,
			Prefix: cfg.EtcdPrefix, Logger: cfg.Logger.With("component", "etcd"),
		})
		if err != nil {
			return nil, fmt.Errorf("open etcd store: %w", err)
		}
		return st, nil
	}
	return nil, fmt.Errorf("unknown --storage %q: use badger, memory or etcd", cfg.Storage)
}

// Addr returns the address the server listens on.
func (s *Server) Addr() string { return s.listener.Addr().String() }

// URL returns the server's base URL.
func (s *Server) URL() string {
	if s.tlsConfig != nil {
		return "https://" + s.Addr()
	}
	return "http://" + s.Addr()
}

// Ready is closed once the server answers requests.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Run serves until ctx is cancelled, then ends open watches, stops the
// HTTP server and closes storage.
func (s *Server) Run(ctx context.Context) error {
	defer s.store.Close()
	defer s.auditLog.close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cacheDone := make(chan error, 1)
	go func() { cacheDone <- s.cache.Run(ctx) }()
	if err := s.cache.WaitFresh(ctx, 0); err != nil {
		s.listener.Close()
		return fmt.Errorf("load watch cache: %w", err)
	}
	if err := s.bootstrap(ctx); err != nil {
		s.listener.Close()
		return fmt.Errorf("bootstrap: %w", err)
	}
	if err := s.alloc.repair(ctx, s); err != nil {
		s.listener.Close()
		return fmt.Errorf("rebuild service allocations: %w", err)
	}
	conns := &newConns{m: map[net.Conn]struct{}{}}
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		ConnState:         conns.track,
	}
	ln := s.listener
	if s.tlsConfig != nil {
		ln = tls.NewListener(ln, s.tlsConfig)
	}
	go s.bookmarks(ctx)
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	s.readyOnce.Do(func() { close(s.ready) })
	s.log.Info("apiserver serving", "url", s.URL(), "storage", s.cfg.Storage)
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	}
	shutdownCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	// Shutdown waits for connections that never sent a request as if they
	// were busy; they have nothing to finish, so close them now.
	conns.closeNew()
	err := hs.Shutdown(shutdownCtx)
	cancel()
	<-cacheDone
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// newConns tracks connections that have not sent a request yet.
type newConns struct {
	mu sync.Mutex
	m  map[net.Conn]struct{}
}

func (n *newConns) track(c net.Conn, st http.ConnState) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if st == http.StateNew {
		n.m[c] = struct{}{}
	} else {
		delete(n.m, c)
	}
}

func (n *newConns) closeNew() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for c := range n.m {
		_ = c.Close()
	}
}

func (s *Server) bookmarks(ctx context.Context) {
	t := time.NewTicker(s.cfg.BookmarkInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.cache.Bookmark()
		}
	}
}

// ServeHTTP authenticates, authorizes and routes a request; panics become
// 500s, and every request is counted, timed and audited.
func (s *Server) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	start := time.Now()
	info := requestInfo{Verb: nonResourceVerb(req.Method)}
	code := http.StatusOK
	var user auth.User
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("panic serving request", "method", req.Method, "path", req.URL.Path, "panic", p, "stack", string(debug.Stack()))
			code = writeError(w, meta500(p))
		}
		s.metrics.observeRequest(s.metricLabels(info), code, time.Since(start))
		s.audit(start, user, info, req.URL.Path, code)
	}()
	fail := func(err error) { code = writeError(w, err) }

	u, ok := s.authenticate(req)
	if !ok {
		fail(unauthorized())
		return
	}
	user = u
	ctx := auth.WithUser(req.Context(), u)
	req = req.WithContext(ctx)
	ri, isResource, err := parseRequestInfo(req)
	if err != nil {
		fail(err)
		return
	}
	if !isResource {
		a := auth.Attributes{Verb: info.Verb, NonResourcePath: req.URL.Path}
		if err := s.authorize(ctx, u, a); err != nil {
			fail(err)
			return
		}
		code = s.serveNonResource(w, req)
		return
	}
	info = ri
	attrs, err := s.attributes(req, info)
	if err != nil {
		fail(err)
		return
	}
	if err := s.authorize(ctx, u, attrs); err != nil {
		fail(err)
		return
	}
	if longRunning(req, info) {
		release, err := s.limits.watch(u.Name)
		if err != nil {
			fail(err)
			return
		}
		defer release()
	} else {
		release, err := s.limits.acquire()
		if err != nil {
			fail(err)
			return
		}
		defer release()
	}
	if err := s.serveResource(w, req, info); err != nil {
		fail(err)
	}
}

// longRunning reports requests that may stay open indefinitely (watches,
// followed logs, exec): they count against the per-identity stream limit,
// not the in-flight limit, as in Kubernetes.
func longRunning(req *http.Request, info requestInfo) bool {
	switch {
	case info.Verb == "watch":
		return true
	case info.Subresource == "log":
		return req.URL.Query().Get("follow") == "true"
	case info.Subresource == "exec":
		return true
	}
	return false
}

// serveNonResource answers health, version, metrics and discovery.
func (s *Server) serveNonResource(w http.ResponseWriter, req *http.Request) int {
	switch req.URL.Path {
	case "/healthz", "/livez", "/readyz":
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok"))
		return http.StatusOK
	case "/version":
		return statusOf(writeObject(w, http.StatusOK, kubeVersion()))
	case "/metrics":
		promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}).ServeHTTP(w, req)
		return http.StatusOK
	}
	if s.cfg.Profiling && strings.HasPrefix(req.URL.Path, pprofPrefix) {
		return servePprof(w, req)
	}
	handled, err := s.serveDiscovery(w, req)
	switch {
	case err != nil:
		return writeError(w, err)
	case !handled:
		return writeError(w, notFoundPath(req.URL.Path))
	}
	return http.StatusOK
}

func statusOf(err error) int {
	if err != nil {
		return http.StatusInternalServerError
	}
	return http.StatusOK
}
