package proxy

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Error reasons of kl_proxy_errors_total.
const (
	reasonDialFailed  = "dial_failed"  // one attempt to connect to an endpoint failed
	reasonNoEndpoints = "no_endpoints" // a connection arrived while the port had no ready endpoint
	reasonUnreachable = "unreachable"  // every endpoint failed: the connection was reset
)

// metrics are the proxy's Prometheus metrics, in its own registry.
type metrics struct {
	connections *prometheus.CounterVec
	active      *prometheus.GaugeVec
	bytes       *prometheus.CounterVec
	errors      *prometheus.CounterVec
	listeners   prometheus.Gauge
	clusterIPs  prometheus.Gauge
	syncs       *prometheus.CounterVec
	syncSeconds prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		connections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kl_proxy_connections_total",
			Help: "Connections accepted, by service port (namespace/name:port).",
		}, []string{"service"}),
		active: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kl_proxy_active_connections",
			Help: "Connections open now, by service port.",
		}, []string{"service"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kl_proxy_bytes_total",
			Help: "Bytes relayed, by service port and direction (in: client to endpoint, out: endpoint to client).",
		}, []string{"service", "direction"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kl_proxy_errors_total",
			Help: "Failures, by service port and reason: dial_failed (one endpoint did not accept; the next is tried), no_endpoints (a connection arrived with no ready endpoint), unreachable (no endpoint accepted).",
		}, []string{"service", "reason"}),
		listeners: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kl_proxy_listeners",
			Help: "Addresses the proxy listens on (ClusterIP, NodePort and external addresses).",
		}),
		clusterIPs: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kl_proxy_cluster_ips_enabled",
			Help: "1 when ClusterIPs are made local on the service interface and served, 0 when only NodePorts and external addresses are.",
		}),
		syncs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kl_proxy_syncs_total",
			Help: "Service syncs, by result (success or error; failed syncs are retried with back-off).",
		}, []string{"result"}),
		syncSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "kl_proxy_sync_duration_seconds",
			Help:    "Time to apply one Service's changes (listeners, addresses, endpoints).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}),
	}
	reg.MustRegister(m.connections, m.active, m.bytes, m.errors, m.listeners, m.clusterIPs, m.syncs, m.syncSeconds)
	return m
}

// portMetrics are the series of one service port, looked up once.
type portMetrics struct {
	accepted, bytesIn, bytesOut          prometheus.Counter
	dialFailed, noEndpoints, unreachable prometheus.Counter
	active                               prometheus.Gauge
}

func (m *metrics) forPort(name string) *portMetrics {
	return &portMetrics{
		accepted:    m.connections.WithLabelValues(name),
		active:      m.active.WithLabelValues(name),
		bytesIn:     m.bytes.WithLabelValues(name, "in"),
		bytesOut:    m.bytes.WithLabelValues(name, "out"),
		dialFailed:  m.errors.WithLabelValues(name, reasonDialFailed),
		noEndpoints: m.errors.WithLabelValues(name, reasonNoEndpoints),
		unreachable: m.errors.WithLabelValues(name, reasonUnreachable),
	}
}

// deletePort removes the series of a service port that is gone.
// Connections still draining update their (now detached) series without
// bringing them back.
func (m *metrics) deletePort(name string) {
	m.connections.DeleteLabelValues(name)
	m.active.DeleteLabelValues(name)
	for _, dir := range []string{"in", "out"} {
		m.bytes.DeleteLabelValues(name, dir)
	}
	for _, r := range []string{reasonDialFailed, reasonNoEndpoints, reasonUnreachable} {
		m.errors.DeleteLabelValues(name, r)
	}
}
