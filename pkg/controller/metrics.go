package controller

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the controllers' Prometheus metrics. Every Loop whose Run
// context carries a Metrics (WithMetrics) reports to it:
//
//	kl_controller_reconcile_total{controller,result="success|error"}
//	kl_controller_reconcile_duration_seconds{controller}   (histogram)
//	kl_controller_queue_depth{controller}                   (keys waiting)
//
// A Metrics belongs to one registry (the manager's own, not the global
// default one), so several managers in one process do not collide.
type Metrics struct {
	reconciles *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	queues     *queueCollector
}

// NewMetrics makes the controller metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		reconciles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kl_controller_reconcile_total",
			Help: "Reconciles by controller and result (success or error).",
		}, []string{"controller", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kl_controller_reconcile_duration_seconds",
			Help:    "Time one reconcile took, by controller.",
			Buckets: []float64{0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5},
		}, []string{"controller"}),
		queues: &queueCollector{
			desc: prometheus.NewDesc("kl_controller_queue_depth", "Keys waiting in the work queue, by controller.", []string{"controller"}, nil),
			lens: map[string]func() int{},
		},
	}
	for _, c := range []prometheus.Collector{m.reconciles, m.duration, m.queues} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// observeReconcile records one reconcile; m may be nil.
func (m *Metrics) observeReconcile(controller string, d time.Duration, err error) {
	if m == nil {
		return
	}
	result := "success"
	if err != nil {
		result = "error"
	}
	m.reconciles.WithLabelValues(controller, result).Inc()
	m.duration.WithLabelValues(controller).Observe(d.Seconds())
}

// trackQueue makes the queue depth of controller visible until the
// returned function is called.
func (m *Metrics) trackQueue(controller string, length func() int) (untrack func()) {
	q := m.queues
	q.mu.Lock()
	q.lens[controller] = length
	q.mu.Unlock()
	return func() {
		q.mu.Lock()
		delete(q.lens, controller)
		q.mu.Unlock()
	}
}

// queueCollector reads queue lengths when scraped.
type queueCollector struct {
	desc *prometheus.Desc
	mu   sync.Mutex
	lens map[string]func() int
}

func (q *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- q.desc }

func (q *queueCollector) Collect(ch chan<- prometheus.Metric) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for name, length := range q.lens {
		ch <- prometheus.MustNewConstMetric(q.desc, prometheus.GaugeValue, float64(length()), name)
	}
}

type metricsKey struct{}

// WithMetrics returns a context whose Loops report to m.
func WithMetrics(ctx context.Context, m *Metrics) context.Context {
	return context.WithValue(ctx, metricsKey{}, m)
}

// MetricsFrom returns the Metrics attached by WithMetrics, or nil.
func MetricsFrom(ctx context.Context) *Metrics {
	m, _ := ctx.Value(metricsKey{}).(*Metrics)
	return m
}
