package apiserver

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the apiserver's Prometheus metrics, on a registry of its own
// (no global state: two apiservers in one process keep separate counts).
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	watches  *prometheus.GaugeVec
	storage  *prometheus.HistogramVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiserver_request_total",
			Help: "Requests by verb, group, resource, subresource and HTTP code.",
		}, []string{"verb", "group", "resource", "subresource", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "apiserver_request_duration_seconds",
			Help:    "Request latency by verb, group, resource and subresource (watches excluded).",
			Buckets: []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
		}, []string{"verb", "group", "resource", "subresource"}),
		watches: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "apiserver_registered_watchers",
			Help: "Open watches by resource.",
		}, []string{"resource"}),
		storage: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "apiserver_storage_operation_duration_seconds",
			Help:    "Storage operation latency by operation and resource.",
			Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1},
		}, []string{"operation", "resource"}),
	}
	m.registry.MustRegister(m.requests, m.latency, m.watches, m.storage,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observeRequest(info requestInfo, code int, d time.Duration) {
	m.requests.WithLabelValues(info.Verb, info.Group, info.Resource, info.Subresource, strconv.Itoa(code)).Inc()
	if info.Verb != "watch" {
		m.latency.WithLabelValues(info.Verb, info.Group, info.Resource, info.Subresource).Observe(d.Seconds())
	}
}

// knownVerbs are the verb label values of request metrics; any other
// method is counted as "other".
var knownVerbs = map[string]bool{
	"get": true, "list": true, "watch": true, "create": true, "update": true, "patch": true,
	"delete": true, "deletecollection": true, "head": true, "post": true, "put": true, "options": true,
}

// metricLabels bounds the label values of a request's metrics to what the
// server serves: a made-up method counts as verb "other", a resource it
// does not serve as resource "unknown" (group and subresource empty), a
// subresource the resource lacks as "unknown". Labels taken from the path
// as it came would let any client grow the metrics without bound, and a
// name that is not valid UTF-8 makes Prometheus panic.
func (s *Server) metricLabels(info requestInfo) requestInfo {
	if !knownVerbs[info.Verb] {
		info.Verb = "other"
	}
	if info.Resource == "" {
		return requestInfo{Verb: info.Verb} // not a resource request
	}
	r := s.resources.lookup(info.Group, info.Version, info.Resource)
	if r == nil {
		return requestInfo{Verb: info.Verb, Resource: "unknown"}
	}
	out := requestInfo{Verb: info.Verb, Group: r.gvr.Group, Version: r.gvr.Version, Resource: r.gvr.Resource}
	if info.Subresource != "" {
		out.Subresource = "unknown"
		if r.hasSubresource(info.Subresource) {
			out.Subresource = info.Subresource
		}
	}
	return out
}

func (m *metrics) observeStorage(op string, r *resource, start time.Time) {
	m.storage.WithLabelValues(op, r.groupResource()).Observe(time.Since(start).Seconds())
}
