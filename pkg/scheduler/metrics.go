package scheduler

import (
	"github.com/prometheus/client_golang/prometheus"

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

func newMetrics(reg prometheus.Registerer, lengths func() queue.Lengths) *metrics {
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
	reg.MustRegister(m.attempts, m.e2eDuration, m.algorithm, m.eventsDropped)
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
