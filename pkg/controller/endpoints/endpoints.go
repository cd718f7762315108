// Package endpoints is the endpoints controller: for every Service with a
// selector it keeps an Endpoints object of the same name listing the
// addresses of the pods the selector matches, ready ones under addresses
// and the others under notReadyAddresses, with the Service's ports
// resolved for each pod. The proxy routes Service traffic to these
// addresses.
//
// What it does, as Kubernetes' endpoints controller does:
//   - a pod is listed when it has an IP, is not being deleted and will not
//     run again (Succeeded, or Failed with restartPolicy Never); ready when
//     its Ready condition is True, or always with
//     spec.publishNotReadyAddresses (which also keeps terminating pods);
//   - a named targetPort is looked up in each pod's container ports (same
//     protocol); pods that resolve it to different numbers go into
//     different subsets; a pod without such a port serves the other ports
//     only; a numeric targetPort is used as is;
//   - subsets are sorted (addresses by IP, ports by name), so the object
//     is written only when something really changed;
//   - the Endpoints carry the Service's labels, and are deleted with it.
//
// Services without a selector (Endpoints written by hand) and ExternalName
// services are left alone.
package endpoints

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/client/clock"
	"github.com/kl-dev/kl/pkg/client/informer"
	"github.com/kl-dev/kl/pkg/controller"
	"github.com/kl-dev/kl/pkg/record"
)

// Name is the controller's name in --controllers and logs.
const Name = "endpoints"

// fieldManager names the controller's writes in managedFields.
const fieldManager = "endpoint-controller"

// Event reasons.
const (
	reasonFailedToUpdate = "FailedToUpdateEndpoint"
	reasonFailedToCreate = "FailedToCreateEndpoint"
)

// Config configures the controller.
type Config struct {
	// Client writes Endpoints.
	Client *client.Client
	// Services, Pods and Endpoints are the shared informers
	// (controller.Informers.Services, Pods and Endpoints).
	Services  *informer.Informer[*corev1.Service]
	Pods      *informer.Informer[*corev1.Pod]
	Endpoints *informer.Informer[*corev1.Endpoints]
	// Recorder receives Events on Services (nil: none).
	Recorder record.Recorder
	// Clock drives the work queue's back-off (nil: the real clock).
	Clock clock.Clock
	// Logger (nil: discard).
	Logger *slog.Logger
}

// Controller is the endpoints controller.
type Controller struct {
	loop      *controller.Loop
	services  informer.Lister[*corev1.Service]
	pods      informer.Lister[*corev1.Pod]
	endpoints informer.Lister[*corev1.Endpoints]
	client    *client.Resource[corev1.Endpoints, *corev1.Endpoints]
	svcClient *client.Resource[corev1.Service, *corev1.Service]
	recorder  record.Recorder
}

var _ controller.Controller = (*Controller)(nil)

// New returns the endpoints controller; Run starts it.
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil || cfg.Services == nil || cfg.Pods == nil || cfg.Endpoints == nil {
		return nil, errors.New("endpoints controller: Client, Services, Pods and Endpoints are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Recorder == nil {
		cfg.Recorder = record.Discard
	}
	c := &Controller{
		services:  cfg.Services.Lister(),
		pods:      cfg.Pods.Lister(),
		endpoints: cfg.Endpoints.Lister(),
		client:    client.NewResource[corev1.Endpoints](cfg.Client, controller.EndpointsResource, true),
		svcClient: client.NewResource[corev1.Service](cfg.Client, controller.ServicesResource, true),
		recorder:  cfg.Recorder,
	}
	c.loop = controller.NewLoop(Name, cfg.Clock, c.reconcile, cfg.Logger, cfg.Services, cfg.Pods, cfg.Endpoints)

	cfg.Services.AddEventHandler(informer.HandlerFuncs[*corev1.Service]{
		AddFunc:    func(s *corev1.Service) { c.loop.Enqueue(informer.Key(s)) },
		UpdateFunc: func(_, s *corev1.Service) { c.loop.Enqueue(informer.Key(s)) },
		DeleteFunc: func(s *corev1.Service, _ bool) { c.loop.Enqueue(informer.Key(s)) },
	})
	cfg.Pods.AddEventHandler(informer.HandlerFuncs[*corev1.Pod]{
		AddFunc:    func(p *corev1.Pod) { c.enqueueServicesOf(p) },
		UpdateFunc: c.podUpdated,
		DeleteFunc: func(p *corev1.Pod, _ bool) { c.enqueueServicesOf(p) },
	})
	// An Endpoints object changed or deleted by someone else is put back;
	// one left behind by a deleted Service is removed.
	enqueueEndpoints := func(e *corev1.Endpoints) { c.loop.Enqueue(informer.Key(e)) }
	cfg.Endpoints.AddEventHandler(informer.HandlerFuncs[*corev1.Endpoints]{
		AddFunc:    enqueueEndpoints,
		UpdateFunc: func(_, e *corev1.Endpoints) { enqueueEndpoints(e) },
		DeleteFunc: func(e *corev1.Endpoints, _ bool) { enqueueEndpoints(e) },
	})
	return c, nil
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Run implements controller.Controller.
func (c *Controller) Run(ctx context.Context, workers int) error {
	return c.loop.Run(ctx, workers)
}

// enqueueServicesOf queues every service in the pod's namespace whose
// selector matches the pod.
func (c *Controller) enqueueServicesOf(p *corev1.Pod) {
	for _, svc := range c.services.ListNamespace(p.Namespace, meta.Everything()) {
		if selects(svc.Spec.Selector, p.Labels) {
			c.loop.Enqueue(informer.Key(svc))
		}
	}
}

func (c *Controller) podUpdated(old, cur *corev1.Pod) {
	if old.ResourceVersion == cur.ResourceVersion || !podChanged(old, cur) {
		return // a resync, or nothing endpoints show changed
	}
	c.enqueueServicesOf(cur)
	if !maps.Equal(old.Labels, cur.Labels) {
		// Services that selected the pod before and no longer do.
		c.enqueueServicesOf(old)
	}
}

// podChanged reports whether a pod changed in a way Endpoints show.
func podChanged(a, b *corev1.Pod) bool {
	return a.Status.PodIP != b.Status.PodIP ||
		corev1.IsPodReady(a) != corev1.IsPodReady(b) ||
		(a.DeletionTimestamp == nil) != (b.DeletionTimestamp == nil) ||
		a.Status.Phase != b.Status.Phase ||
		a.Spec.NodeName != b.Spec.NodeName ||
		a.Spec.Hostname != b.Spec.Hostname ||
		a.Spec.Subdomain != b.Spec.Subdomain ||
		!maps.Equal(a.Labels, b.Labels)
}

// reconcile makes the Endpoints of the service named by key match its pods.
func (c *Controller) reconcile(ctx context.Context, key string) error {
	ns, name := informer.SplitKey(key)
	svc, ok := c.services.Get(ns, name)
	if !ok {
		return c.deleteOrphan(ctx, ns, name)
	}
	if !managesEndpoints(svc) {
		return nil
	}
	var pods []*corev1.Pod
	for _, p := range c.pods.ListNamespace(ns, meta.Everything()) {
		if selects(svc.Spec.Selector, p.Labels) {
			pods = append(pods, p)
		}
	}
	subsets := computeSubsets(svc, pods)
	labels := endpointsLabels(svc)

	cur, exists := c.endpoints.Get(ns, name)
	if exists && sameSubsets(cur.Subsets, subsets) && maps.Equal(cur.Labels, labels) {
		return nil
	}
	if !exists {
		ep := &corev1.Endpoints{
			ObjectMeta: meta.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
			Subsets:    subsets,
		}
		_, err := c.client.Namespace(ns).Create(ctx, ep, client.CreateOptions{FieldManager: fieldManager})
		if err == nil {
			return nil
		}
		if meta.IsForbidden(err) {
			// The namespace is being deleted: nothing may be created in it.
			return nil
		}
		if !meta.IsAlreadyExists(err) {
			c.recorder.Eventf(svc, corev1.EventTypeWarning, reasonFailedToCreate, "Failed to create endpoint for service %s/%s: %v", ns, name, err)
		}
		// AlreadyExists: the cache is behind; retry once it has caught up.
		return fmt.Errorf("create endpoints %s/%s: %w", ns, name, err)
	}
	next := cur.DeepCopy()
	next.Labels = labels
	next.Subsets = subsets
	if _, err := c.client.Namespace(ns).Update(ctx, next, client.UpdateOptions{FieldManager: fieldManager}); err != nil {
		if !meta.IsConflict(err) && !meta.IsNotFound(err) {
			c.recorder.Eventf(svc, corev1.EventTypeWarning, reasonFailedToUpdate, "Failed to update endpoint %s/%s: %v", ns, name, err)
		}
		return fmt.Errorf("update endpoints %s/%s: %w", ns, name, err)
	}
	return nil
}

// deleteOrphan deletes the Endpoints of a service that is gone. The cache
// may simply not have seen a new service yet, so its absence is checked
// with the apiserver before anything is deleted.
func (c *Controller) deleteOrphan(ctx context.Context, ns, name string) error {
	ep, ok := c.endpoints.Get(ns, name)
	if !ok {
		return nil
	}
	if _, err := c.svcClient.Namespace(ns).Get(ctx, name); err == nil {
		return nil // the service exists; its add event will come
	} else if !meta.IsNotFound(err) {
		return fmt.Errorf("get service %s/%s: %w", ns, name, err)
	}
	uid := ep.UID
	err := c.client.Namespace(ns).Delete(ctx, name, meta.DeleteOptions{Preconditions: &meta.Preconditions{UID: &uid}})
	if err != nil && !meta.IsNotFound(err) && !meta.IsConflict(err) {
		return fmt.Errorf("delete endpoints %s/%s: %w", ns, name, err)
	}
	return nil
}

// endpointsLabels are the service's labels, plus the headless marker for
// a headless service, as Kubernetes sets them.
func endpointsLabels(svc *corev1.Service) map[string]string {
	out := maps.Clone(svc.Labels)
	if svc.Spec.ClusterIP == corev1.ClusterIPNone {
		if out == nil {
			out = map[string]string{}
		}
		out[corev1.LabelServiceHeadless] = ""
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// sameSubsets compares subsets by their JSON form, so nil and empty lists
// are equal.
func sameSubsets(a, b []corev1.EndpointSubset) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}
