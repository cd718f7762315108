// Package server runs a whole kl cluster in one process (`kl server`: the
// apiserver, controller-manager and scheduler, plus a node unless told
// otherwise) and a node that joins one (`kl agent`: the kubelet and the
// proxy). Each part is the same component the stand-alone commands run,
// talking to the apiserver over its API like any other client; this
// package only builds their configurations and runs them in order.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/kl-dev/kl/pkg/apiserver"
	"github.com/kl-dev/kl/pkg/certs"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/controller"
	"github.com/kl-dev/kl/pkg/controller/manager"
	"github.com/kl-dev/kl/pkg/scheduler"
)

// Config configures a Server.
type Config struct {
	// DataDir holds the store (DataDir/badger) and the PKI (DataDir/pki).
	DataDir string
	// APIServer configures the apiserver; storage, data dir and TLS files
	// are filled in from the fields above unless set.
	APIServer apiserver.Config
	// Insecure serves plain HTTP on loopback without authentication.
	Insecure bool
	// SANs are extra names for the apiserver certificate.
	SANs []string

	// Node runs a node (kubelet and proxy) in the server unless NoAgent.
	NoAgent bool
	Node    NodeConfig

	// NodeMonitorGracePeriod and PodEvictionTimeout tune node lifecycle.
	NodeMonitorGracePeriod time.Duration
	PodEvictionTimeout     time.Duration
	// LeaderElect makes the controller-manager and scheduler take part in
	// leader election (for several servers on one etcd cluster).
	LeaderElect bool

	Logger *slog.Logger
}

// Server is a running control plane (and maybe a node).
type Server struct {
	cfg Config
	log *slog.Logger
	api *apiserver.Server
	pki *PKI
}

// New prepares the PKI (unless insecure) and the apiserver; Run starts
// everything.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.DataDir == "" {
		return nil, errors.New("server: data dir is required")
	}
	s := &Server{cfg: cfg, log: cfg.Logger}
	ac := cfg.APIServer
	ac.Logger = cfg.Logger.With("component", "apiserver")
	if ac.DataDir == "" {
		ac.DataDir = cfg.DataDir
	}
	ac.Insecure = cfg.Insecure
	if !cfg.Insecure {
		pki, err := EnsurePKI(filepath.Join(cfg.DataDir, "pki"), cfg.SANs)
		if err != nil {
			return nil, err
		}
		s.pki = pki
		ac.TLSCertFile, ac.TLSKeyFile, ac.ClientCAFile = pki.Pair(certs.FileAPIServer)
		ac.KubeletClientCertFile, ac.KubeletClientKeyFile, ac.KubeletCAFile = ac.TLSCertFile, ac.TLSKeyFile, pki.CAFile()
	}
	api, err := apiserver.New(ac)
	if err != nil {
		return nil, err
	}
	s.api = api
	return s, nil
}

// URL returns the apiserver's URL.
func (s *Server) URL() string { return s.api.URL() }

// PKI returns the cluster PKI (nil when insecure).
func (s *Server) PKI() *PKI { return s.pki }

// Ready is closed once the apiserver answers.
func (s *Server) Ready() <-chan struct{} { return s.api.Ready() }

// clientFor returns an API client for a component identity (its
// certificate pair in the PKI, or plain HTTP when insecure).
func (s *Server) clientFor(file, userAgent string) (*client.Client, error) {
	cfg := client.Config{Servers: []string{s.URL()}, UserAgent: userAgent, Logger: s.log}
	if s.pki != nil {
		tc, err := s.pki.ClientTLS(file)
		if err != nil {
			return nil, err
		}
		cfg.TLSClientConfig = tc
	}
	return client.New(cfg)
}

// Run runs every part until ctx is cancelled. Components stop first
// (releasing leases, removing what they own), the apiserver last.
func (s *Server) Run(ctx context.Context) error {
	apiCtx, stopAPI := context.WithCancel(context.Background())
	defer stopAPI()
	apiDone := make(chan error, 1)
	go func() { apiDone <- s.api.Run(apiCtx) }()
	select {
	case <-s.api.Ready():
	case err := <-apiDone:
		return fmt.Errorf("apiserver: %w", err)
	case <-ctx.Done():
		stopAPI()
		return <-apiDone
	}

	compCtx, stopComps := context.WithCancel(ctx)
	defer stopComps()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	start := func(name string, run func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(compCtx); err != nil && compCtx.Err() == nil {
				errs <- fmt.Errorf("%s: %w", name, err)
			}
		}()
	}

	cmClient, err := s.clientFor(certs.FileControllerManager, "kl-controller-manager")
	if err != nil {
		return err
	}
	// Without leader election the controllers and the scheduler share
	// their informers: one watch and one cached copy of every pod and node
	// in the process instead of two (about 45 MB less at 10,000 pods).
	var shared *controller.Informers
	if !s.cfg.LeaderElect {
		shared = controller.NewInformers(cmClient, s.log.With("component", "informers"))
	}
	cm, err := manager.New(manager.Config{
		Client: cmClient, LeaderElect: s.cfg.LeaderElect, MetricsAddr: "0", Informers: shared,
		NodeMonitorGracePeriod: s.cfg.NodeMonitorGracePeriod, PodEvictionTimeout: s.cfg.PodEvictionTimeout,
		Logger: s.log.With("component", "controller-manager"),
	})
	if err != nil {
		return err
	}

	schedClient, err := s.clientFor(certs.FileScheduler, "kl-scheduler")
	if err != nil {
		return err
	}
	sc := scheduler.Config{Client: schedClient, Logger: s.log.With("component", "scheduler")}
	if shared != nil {
		sc.Pods, sc.Nodes = shared.Pods(), shared.Nodes()
	}
	sched, err := scheduler.New(sc)
	if err != nil {
		return err
	}
	if shared != nil {
		shared.Start(compCtx)
		defer func() { stopComps(); shared.Wait() }()
	}
	start("controller-manager", cm.Run)
	start("scheduler", sched.Run)

	if !s.cfg.NoAgent {
		nc := s.cfg.Node
		nc.Servers = []string{s.URL()}
		nc.Logger = s.log
		if s.pki != nil {
			if err := s.pki.EnsureNodeCert(nc.NodeName); err != nil {
				return err
			}
			nc.CAFile = s.pki.CAFile()
			nc.CertFile, nc.KeyFile, _ = s.pki.Pair(nodeFile(nc.NodeName))
			nc.ProxyCertFile, nc.ProxyKeyFile, _ = s.pki.Pair(certs.FileProxy)
		}
		node, err := NewNode(nc)
		if err != nil {
			stopComps()
			wg.Wait()
			return err
		}
		start("node", node.Run)
	}

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errs:
		s.log.Error("a component failed; shutting down", "err", runErr)
	}
	stopComps()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		s.log.Warn("components did not stop within 30s")
	}
	stopAPI()
	return errors.Join(runErr, <-apiDone)
}

// DockerAvailable reports whether a Docker Engine answers on its socket.
func DockerAvailable(ctx context.Context) bool {
	sock := "/var/run/docker.sock"
	if h := os.Getenv("DOCKER_HOST"); len(h) > 7 && h[:7] == "unix://" {
		sock = h[7:]
	}
	c := &http.Client{
		Timeout: 2 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://docker/_ping", nil)
	if err != nil {
		return false
	}
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
