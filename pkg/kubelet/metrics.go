package kubelet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the kubelet's Prometheus metrics, on a registry of its own.
type metrics struct {
	registry          *prometheus.Registry
	runningPods       *prometheus.GaugeVec
	runningContainers *prometheus.GaugeVec
	podStart          prometheus.Histogram
	syncErrors        *prometheus.CounterVec
}

// Kinds of sync errors (the kind label of kubelet_sync_errors_total).
const (
	errKindPod        = "pod"
	errKindNodeStatus = "node_status"
	errKindLease      = "lease"
	errKindRuntime    = "runtime"
)

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		runningPods: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kubelet_running_pods",
			Help: "Pods with a running sandbox, by node.",
		}, []string{"node"}),
		runningContainers: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kubelet_running_containers",
			Help: "Running containers, by node.",
		}, []string{"node"}),
		podStart: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "kubelet_pod_start_duration_seconds",
			Help:    "Time from a pod's creation to the kubelet reporting it Running.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60, 120, 300},
		}),
		syncErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kubelet_sync_errors_total",
			Help: "Failed syncs by kind: pod, node_status, lease, runtime.",
		}, []string{"kind"}),
	}
	m.registry.MustRegister(m.runningPods, m.runningContainers, m.podStart, m.syncErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, k := range []string{errKindPod, errKindNodeStatus, errKindLease, errKindRuntime} {
		m.syncErrors.WithLabelValues(k)
	}
	return m
}

// serveMetrics serves /metrics and /healthz on ln until ctx is cancelled.
// healthy reports whether the kubelet is healthy.
func serveMetrics(ctx context.Context, ln net.Listener, reg *prometheus.Registry, healthy func(context.Context) error) error {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := healthy(ctx); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutCtx)
		<-errc
		return nil
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("metrics server: %w", err)
	}
}
