package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kl-dev/kl/pkg/scheduler/internal/queue"
)

// Results of a scheduling attempt, the "result" label of the metrics.
const (
	resultScheduled     = "scheduled"
	resultUnschedulable = "unschedulable"
	resultError         = "error"
)

// metrics are the scheduler's Prometheus metrics, in its own registry.
// Names follow kube-scheduler's.
type metrics struct {
	attempts      *prometheus.CounterVec
	e2eDuration   *prometheus.HistogramVec
	algorithm     prometheus.Histogram
	eventsDropped prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, lengths func() queue.Lengths, leading func() bool) *metrics {
	m := &metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scheduler_schedule_attempts_total",
			Help: "Number of attempts to schedule pods, by result: scheduled, unschedulable (no node fits) or error.",
		}, []string{"result"}),
		e2eDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "scheduler_e2e_scheduling_duration_seconds",
			Help:    "Time from taking a pod off the queue to its binding (or failure), by result.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16), // 0.5ms .. 16s
		}, []string{"result"}),
		algorithm: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "scheduler_scheduling_algorithm_duration_seconds",
			Help:    "Time to filter and score the nodes for one pod.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 2, 16), // 50us .. 1.6s
		}),
		eventsDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "scheduler_events_dropped_total",
			Help: "Events not sent because the event queue was full, or Scheduled events over their rate limit.",
		}),
	}
	reg.MustRegister(m.attempts, m.e2eDuration, m.algorithm, m.eventsDropped,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "kl_scheduler_leader",
			Help: "1 while this scheduler schedules (holds the lease, with leader election), else 0.",
		}, func() float64 {
			if leading() {
				return 1
			}
			return 0
		}))
	for _, q := range []struct {
		name string
		get  func(queue.Lengths) int
	}{
		{"active", func(l queue.Lengths) int { return l.Active }},
		{"backoff", func(l queue.Lengths) int { return l.Backoff }},
		{"unschedulable", func(l queue.Lengths) int { return l.Unschedulable }},
	} {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "scheduler_pending_pods",
			Help:        "Number of pending pods, by queue: active, backoff or unschedulable.",
			ConstLabels: prometheus.Labels{"queue": q.name},
		}, func() float64 { return float64(q.get(lengths())) }))
	}
	return m
}

// serveMetrics serves /metrics and /healthz on ln until ctx is cancelled.
func serveMetrics(ctx context.Context, ln net.Listener, reg *prometheus.Registry, log *slog.Logger) error {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok"))
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Info("serving metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("scheduler metrics server: %w", err)
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
		<-errc
		return nil
	}
}
