// Package manager runs kl's controllers in one process, behind leader
// election: `kl controller-manager` and the control plane of `kl server`.
//
// While it leads (it holds the Lease kube-system/kl-controller-manager),
// the manager builds fresh shared informers, every enabled controller
// (DefaultControllers; --controllers selects them), and their event
// recorders, and runs them. When leadership ends, it cancels them and
// waits until every one has stopped, then campaigns again: a manager that
// leads again starts from scratch, with caches re-listed and no stale
// expectations, rather than exiting as kube-controller-manager does.
// While the apiserver's lease says another manager leads, this one does
// nothing; RenewDeadline < LeaseDuration gives the old leader time to stop
// before anyone else can take over. When Run's context is cancelled
// (SIGTERM), the manager stops its controllers and releases the lease so
// that another one takes over at once.
//
// Metrics go to the manager's own Prometheus registry, served with
// /healthz on Config.MetricsAddr: kl_controller_reconcile_total,
// kl_controller_reconcile_duration_seconds, kl_controller_queue_depth (see
// controller.Metrics), kl_controller_manager_leader, and the Go and
// process collectors.
//
// The API client is used as is: no client-side rate limiting (the reason
// kube-controller-manager is slow on bulk work); the controllers rely on
// caches, indexes, expectations and bounded concurrency instead.
package manager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/client/clock"
	"github.com/kl-dev/kl/pkg/controller"
	"github.com/kl-dev/kl/pkg/leaderelection"
)

// Defaults of Config.
const (
	DefaultLeaseNamespace = "kube-system"
	DefaultLeaseName      = "kl-controller-manager"
	DefaultWorkers        = 10
)

// Config configures a Manager.
type Config struct {
	// Client reaches the apiserver.
	Client *client.Client
	// Controllers selects the controllers to run (see Selection); empty
	// means "*".
	Controllers []string
	// Registry is the controllers known (nil: DefaultControllers()).
	Registry []Registration
	// Workers is the number of concurrent reconciles per controller
	// (default 10).
	Workers int

	// LeaderElect runs the controllers only while holding the lease
	// LeaseNamespace/LeaseName (default kube-system/kl-controller-manager).
	LeaderElect    bool
	LeaseNamespace string
	LeaseName      string
	// Identity names this manager in the lease (default hostname_UUID).
	Identity string
	// LeaseDuration, RenewDeadline and RetryPeriod: see
	// leaderelection.Config (defaults 15s, 10s, 2s).
	LeaseDuration time.Duration
	RenewDeadline time.Duration
	RetryPeriod   time.Duration

	// MetricsAddr is host:port to serve /metrics and /healthz on; "" or
	// "0" serves nothing.
	MetricsAddr string

	// NodeMonitorGracePeriod, PodEvictionTimeout and NodeMonitorPeriod
	// tune the node lifecycle controller (0: its defaults 40s, 5m, 5s).
	NodeMonitorGracePeriod time.Duration
	PodEvictionTimeout     time.Duration
	NodeMonitorPeriod      time.Duration

	// Informers, when set, are informers the process shares with its other
	// components (kl server shares the pod and node caches with the
	// scheduler, so that the process holds one copy of every pod, not
	// two). Their owner starts and stops them; the controllers only add
	// handlers. Not allowed with LeaderElect: each leadership term builds
	// its controllers, and so its handlers, afresh.
	Informers *controller.Informers

	// Clock tells the time (nil: the real clock).
	Clock clock.Clock
	// Logger (nil: discard).
	Logger *slog.Logger
}

// Manager runs the controllers. Make it with New and call Run once.
type Manager struct {
	cfg      Config
	sel      Selection
	log      *slog.Logger
	reg      *prometheus.Registry
	metrics  *controller.Metrics
	leader   prometheus.Gauge
	elector  *leaderelection.Elector
	listener net.Listener
	leading  atomic.Bool
	// terms counts the times this manager started leading.
	terms atomic.Int64
}

// New checks cfg and returns a Manager; with MetricsAddr set it is
// already listening there.
func New(cfg Config) (*Manager, error) {
	if cfg.Client == nil {
		return nil, errors.New("controller-manager: no API client")
	}
	if cfg.Informers != nil && cfg.LeaderElect {
		return nil, errors.New("controller-manager: shared informers cannot be used with leader election")
	}
	if cfg.Registry == nil {
		cfg.Registry = DefaultControllers()
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.LeaseNamespace == "" {
		cfg.LeaseNamespace = DefaultLeaseNamespace
	}
	if cfg.LeaseName == "" {
		cfg.LeaseName = DefaultLeaseName
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	names := map[string]bool{}
	for _, r := range cfg.Registry {
		if r.Name == "" || r.New == nil || names[r.Name] {
			return nil, fmt.Errorf("controller-manager: invalid or duplicate registration %q", r.Name)
		}
		names[r.Name] = true
	}
	sel, err := ParseSelection(cfg.Controllers, cfg.Registry)
	if err != nil {
		return nil, err
	}
	m := &Manager{cfg: cfg, sel: sel, log: cfg.Logger, reg: prometheus.NewRegistry()}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if m.metrics, err = controller.NewMetrics(m.reg); err != nil {
		return nil, fmt.Errorf("controller-manager metrics: %w", err)
	}
	m.leader = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "kl_controller_manager_leader",
		Help: "1 while this controller-manager leads (runs the controllers), else 0.",
	})
	m.reg.MustRegister(m.leader)
	if cfg.LeaderElect {
		m.elector, err = leaderelection.New(leaderelection.Config{
			Client: cfg.Client, Namespace: cfg.LeaseNamespace, Name: cfg.LeaseName, Identity: cfg.Identity,
			LeaseDuration: cfg.LeaseDuration, RenewDeadline: cfg.RenewDeadline, RetryPeriod: cfg.RetryPeriod,
			Clock: cfg.Clock, Logger: cfg.Logger,
		})
		if err != nil {
			return nil, err
		}
	}
	if cfg.MetricsAddr != "" && cfg.MetricsAddr != "0" {
		if m.listener, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			return nil, fmt.Errorf("controller-manager: --metrics-addr: %w", err)
		}
	}
	return m, nil
}

// Controllers returns the names of the controllers the manager runs.
func (m *Manager) Controllers() []string { return m.sel.Names(m.cfg.Registry) }

// Registry returns the manager's Prometheus registry.
func (m *Manager) Registry() *prometheus.Registry { return m.reg }

// MetricsAddr returns the address /metrics is served on ("" if none).
func (m *Manager) MetricsAddr() string {
	if m.listener == nil {
		return ""
	}
	return m.listener.Addr().String()
}

// IsLeader reports whether the controllers are running.
func (m *Manager) IsLeader() bool { return m.leading.Load() }

// Terms returns how many times this manager started leading.
func (m *Manager) Terms() int64 { return m.terms.Load() }

// Run runs until ctx is cancelled: the metrics server all along, the
// controllers while leading (always, without leader election). It returns
// an error if the controllers could not be built or the metrics server
// failed.
func (m *Manager) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var serveErr error
	if m.listener != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := m.serve(ctx); err != nil {
				serveErr = err
				cancel()
			}
		}()
	}
	err := m.run(ctx)
	cancel()
	wg.Wait()
	return errors.Join(err, serveErr)
}

func (m *Manager) run(ctx context.Context) error {
	m.log.Info("controller-manager starting", "controllers", m.Controllers(), "leaderElect", m.cfg.LeaderElect, "workers", m.cfg.Workers)
	if m.elector == nil {
		return m.lead(ctx)
	}
	var leadErr error
	err := m.elector.Run(ctx, func(ctx context.Context) {
		leadErr = m.lead(ctx)
	}, func() {
		m.log.Info("stopped leading", "identity", m.elector.Identity())
	})
	if err != nil {
		return err
	}
	if leadErr != nil && ctx.Err() == nil {
		return leadErr
	}
	return nil
}

// lead builds and runs the controllers until ctx ends.
func (m *Manager) lead(ctx context.Context) error {
	m.terms.Add(1)
	inf, ownInformers := m.cfg.Informers, m.cfg.Informers == nil
	if ownInformers {
		inf = controller.NewInformers(m.cfg.Client, m.log)
	}
	recs := newRecorders(m.cfg.Client, m.log)
	cctx := Context{Client: m.cfg.Client, Informers: inf, Clock: m.cfg.Clock, Logger: m.log, recorders: recs,
		NodeMonitorGracePeriod: m.cfg.NodeMonitorGracePeriod, PodEvictionTimeout: m.cfg.PodEvictionTimeout,
		NodeMonitorPeriod: m.cfg.NodeMonitorPeriod}
	var ctrls []controller.Controller
	for _, r := range m.cfg.Registry {
		if !m.sel.Enabled(r) {
			continue
		}
		c, err := r.New(cctx)
		if err != nil {
			return fmt.Errorf("controller-manager: build the %s controller: %w", r.Name, err)
		}
		ctrls = append(ctrls, c)
	}

	ctx = controller.WithMetrics(ctx, m.metrics)
	m.leading.Store(true)
	m.leader.Set(1)
	defer func() {
		m.leading.Store(false)
		m.leader.Set(0)
	}()
	var wg sync.WaitGroup
	recs.start(ctx)
	if ownInformers {
		inf.Start(ctx)
	}
	for _, c := range ctrls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Run(ctx, m.cfg.Workers); err != nil && ctx.Err() == nil {
				m.log.Error("controller stopped", "controller", c.Name(), "err", err)
			}
		}()
	}
	m.log.Info("controllers running", "controllers", m.Controllers())
	<-ctx.Done()
	wg.Wait()
	if ownInformers {
		inf.Wait()
	}
	recs.wait()
	return nil
}

// serve serves /metrics and /healthz until ctx ends.
func (m *Manager) serve(ctx context.Context) error {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok"))
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	m.log.Info("serving metrics", "url", "http://"+m.MetricsAddr()+"/metrics")
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(m.listener) }()
	select {
	case err := <-errc:
		return fmt.Errorf("controller-manager metrics server: %w", err)
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
		<-errc
		return nil
	}
}
