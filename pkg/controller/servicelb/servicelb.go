// Package servicelb is kl's load balancer for Services of type
// LoadBalancer, in the spirit of k3s's ServiceLB (klipper-lb): there is no
// cloud load balancer, every Ready node is one. The controller publishes
// the nodes' addresses as the Service's status.loadBalancer.ingress, and
// the proxy on each node accepts the Service's traffic on them.
//
// A node counts when its Ready condition is True and it does not carry
// the label node.kubernetes.io/exclude-from-external-load-balancers; its
// address is its InternalIP, else its ExternalIP. The ingress list is
// sorted by IP and rewritten (through the status subresource) only when it
// changes: when nodes come, go, turn Ready or not, or change address. A
// Service that stops being of type LoadBalancer has its ingress cleared.
package servicelb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/client/clock"
	"github.com/kl-dev/kl/pkg/client/informer"
	"github.com/kl-dev/kl/pkg/controller"
	"github.com/kl-dev/kl/pkg/record"
)

// Name is the controller's name in --controllers and logs.
const Name = "servicelb"

const fieldManager = "servicelb-controller"

// ReasonUpdatedIngressIP is the reason of the Event recorded on a Service
// whose ingress addresses changed.
const ReasonUpdatedIngressIP = "UpdatedIngressIP"

// Config configures the controller.
type Config struct {
	// Client writes Service status.
	Client *client.Client
	// Services and Nodes are the shared informers
	// (controller.Informers.Services and Nodes).
	Services *informer.Informer[*corev1.Service]
	Nodes    *informer.Informer[*corev1.Node]
	// Recorder receives Events on Services (nil: none).
	Recorder record.Recorder
	// Clock drives the work queue's back-off (nil: the real clock).
	Clock clock.Clock
	// Logger (nil: discard).
	Logger *slog.Logger
}

// Controller is the service load balancer controller.
type Controller struct {
	loop     *controller.Loop
	services informer.Lister[*corev1.Service]
	nodes    informer.Lister[*corev1.Node]
	client   *client.Resource[corev1.Service, *corev1.Service]
	recorder record.Recorder
}

var _ controller.Controller = (*Controller)(nil)

// New returns the controller; Run starts it.
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil || cfg.Services == nil || cfg.Nodes == nil {
		return nil, errors.New("servicelb controller: Client, Services and Nodes are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Recorder == nil {
		cfg.Recorder = record.Discard
	}
	c := &Controller{
		services: cfg.Services.Lister(),
		nodes:    cfg.Nodes.Lister(),
		client:   client.NewResource[corev1.Service](cfg.Client, controller.ServicesResource, true),
		recorder: cfg.Recorder,
	}
	c.loop = controller.NewLoop(Name, cfg.Clock, c.reconcile, cfg.Logger, cfg.Services, cfg.Nodes)
	enqueue := func(s *corev1.Service) { c.loop.Enqueue(informer.Key(s)) }
	cfg.Services.AddEventHandler(informer.HandlerFuncs[*corev1.Service]{
		AddFunc:    enqueue,
		UpdateFunc: func(_, s *corev1.Service) { enqueue(s) },
	})
	cfg.Nodes.AddEventHandler(informer.HandlerFuncs[*corev1.Node]{
		AddFunc: func(n *corev1.Node) {
			if nodeAddress(n) != "" {
				c.enqueueLoadBalancers()
			}
		},
		UpdateFunc: func(old, cur *corev1.Node) {
			// Heartbeats change nodes all the time; only a change of what
			// a node contributes matters.
			if nodeAddress(old) != nodeAddress(cur) {
				c.enqueueLoadBalancers()
			}
		},
		DeleteFunc: func(n *corev1.Node, _ bool) {
			if nodeAddress(n) != "" {
				c.enqueueLoadBalancers()
			}
		},
	})
	return c, nil
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Run implements controller.Controller.
func (c *Controller) Run(ctx context.Context, workers int) error { return c.loop.Run(ctx, workers) }

func (c *Controller) enqueueLoadBalancers() {
	for _, s := range c.services.List(meta.Everything()) {
		if s.Spec.Type == corev1.ServiceTypeLoadBalancer {
			c.loop.Enqueue(informer.Key(s))
		}
	}
}

// nodeAddress is the address a node contributes to load balancers, or ""
// when it contributes none.
func nodeAddress(n *corev1.Node) string {
	if !corev1.IsNodeReady(n) {
		return ""
	}
	if _, excluded := n.Labels[corev1.LabelNodeExcludeBalancers]; excluded {
		return ""
	}
	if a := corev1.GetNodeAddress(n, corev1.NodeInternalIP); a != "" {
		return a
	}
	return corev1.GetNodeAddress(n, corev1.NodeExternalIP)
}

// ingress returns the load balancer ingress of the given nodes: their
// addresses, de-duplicated and sorted by IP.
func ingress(nodes []*corev1.Node) []corev1.LoadBalancerIngress {
	var addrs []string
	for _, n := range nodes {
		if a := nodeAddress(n); a != "" {
			addrs = append(addrs, a)
		}
	}
	slices.SortFunc(addrs, compareIPs)
	addrs = slices.Compact(addrs)
	if len(addrs) == 0 {
		return nil
	}
	out := make([]corev1.LoadBalancerIngress, len(addrs))
	for i, a := range addrs {
		out[i] = corev1.LoadBalancerIngress{IP: a}
	}
	return out
}

func compareIPs(a, b string) int {
	pa, errA := netip.ParseAddr(a)
	pb, errB := netip.ParseAddr(b)
	if errA == nil && errB == nil {
		return pa.Compare(pb)
	}
	return strings.Compare(a, b)
}

func (c *Controller) reconcile(ctx context.Context, key string) error {
	ns, name := informer.SplitKey(key)
	svc, ok := c.services.Get(ns, name)
	if !ok {
		return nil
	}
	var want []corev1.LoadBalancerIngress
	if svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
		want = ingress(c.nodes.List(meta.Everything()))
	}
	have := svc.Status.LoadBalancer.Ingress
	if sameIngress(have, want) {
		return nil
	}
	next := svc.DeepCopy()
	next.Status.LoadBalancer.Ingress = want
	if _, err := c.client.Namespace(ns).UpdateStatus(ctx, next, client.UpdateOptions{FieldManager: fieldManager}); err != nil {
		if meta.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("update status of service %s: %w", key, err)
	}
	c.recorder.Eventf(svc, corev1.EventTypeNormal, ReasonUpdatedIngressIP, "LoadBalancer Ingress IP addresses updated: %s", ips(want))
	return nil
}

func sameIngress(a, b []corev1.LoadBalancerIngress) bool {
	return slices.EqualFunc(a, b, func(x, y corev1.LoadBalancerIngress) bool {
		return x.IP == y.IP && x.Hostname == y.Hostname && (x.IPMode == nil) == (y.IPMode == nil) &&
			(x.IPMode == nil || *x.IPMode == *y.IPMode)
	})
}

func ips(in []corev1.LoadBalancerIngress) string {
	out := make([]string, len(in))
	for i, x := range in {
		out[i] = x.IP
	}
	return strings.Join(out, ", ")
}
