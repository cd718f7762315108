package controller

import (
	"context"
	"log/slog"
	"sync"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	coordinationv1 "github.com/kl-dev/kl/pkg/api/coordination/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/client/informer"
)

// Resources kl's controllers watch.
var (
	PodsResource        = meta.GroupVersionResource{Version: "v1", Resource: "pods"}
	NodesResource       = meta.GroupVersionResource{Version: "v1", Resource: "nodes"}
	NamespacesResource  = meta.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	ServicesResource    = meta.GroupVersionResource{Version: "v1", Resource: "services"}
	EndpointsResource   = meta.GroupVersionResource{Version: "v1", Resource: "endpoints"}
	EventsResource      = meta.GroupVersionResource{Version: "v1", Resource: "events"}
	ReplicaSetsResource = meta.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}
	DeploymentsResource = meta.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	LeasesResource      = meta.GroupVersionResource{Group: "coordination.k8s.io", Version: "v1", Resource: "leases"}
)

// Informers shares one informer per resource between the controllers of a
// manager, so N controllers watching pods cost one watch and one cache.
// Informers asked for after Start are started at once.
type Informers struct {
	client *client.Client
	log    *slog.Logger

	mu      sync.Mutex
	all     map[string]any
	meta    map[string]MetaInformer
	runners []func(context.Context)
	ctx     context.Context
	running sync.WaitGroup
}

// NewInformers returns an empty set of shared informers.
func NewInformers(c *client.Client, log *slog.Logger) *Informers {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Informers{client: c, log: log, all: map[string]any{}, meta: map[string]MetaInformer{}}
}

// Client returns the client the informers use.
func (f *Informers) Client() *client.Client { return f.client }

// shared returns the informer named name, creating it with mk.
func shared[T any, PT interface {
	*T
	meta.Object
}](f *Informers, gvr meta.GroupVersionResource, namespaced bool, opts informer.Options[PT]) *informer.Informer[PT] {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := gvr.String()
	if inf, ok := f.all[key]; ok {
		return inf.(*informer.Informer[PT])
	}
	if opts.PageSize == 0 {
		opts.PageSize = 500
	}
	if opts.Logger == nil {
		opts.Logger = f.log.With("informer", key)
	}
	res := client.NewResource[T, PT](f.client, gvr, namespaced)
	inf := informer.New[PT](res, opts)
	f.all[key] = inf
	f.meta[key] = metaView[PT]{inf}
	run := func(ctx context.Context) {
		if err := inf.Run(ctx); err != nil && ctx.Err() == nil {
			f.log.Error("informer stopped", "resource", key, "err", err)
		}
	}
	if f.ctx != nil {
		f.running.Add(1)
		go func() {
			defer f.running.Done()
			run(f.ctx)
		}()
	} else {
		f.runners = append(f.runners, run)
	}
	return inf
}

// MetaInformer is a shared informer seen through its objects' metadata, for
// controllers that watch many kinds alike (the garbage collector).
type MetaInformer interface {
	informer.SyncWaiter
	// AddMetaHandler registers h, as Informer.AddEventHandler does.
	AddMetaHandler(h informer.HandlerFuncs[meta.Object])
}

// Metadata returns the informer of gvr as a MetaInformer when this set
// already has one (it creates none): a controller that would otherwise
// watch gvr itself shares the watch and the cache instead.
func (f *Informers) Metadata(gvr meta.GroupVersionResource) (MetaInformer, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	mi, ok := f.meta[gvr.String()]
	return mi, ok
}

type metaView[PT meta.Object] struct{ *informer.Informer[PT] }

func (v metaView[PT]) AddMetaHandler(h informer.HandlerFuncs[meta.Object]) {
	v.AddEventHandler(informer.HandlerFuncs[PT]{
		AddFunc:    func(o PT) { h.OnAdd(o) },
		UpdateFunc: func(old, o PT) { h.OnUpdate(old, o) },
		DeleteFunc: func(o PT, unknown bool) { h.OnDelete(o, unknown) },
	})
}

// Start runs every informer created so far, and any created later, until
// ctx ends.
func (f *Informers) Start(ctx context.Context) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ctx = ctx
	for _, run := range f.runners {
		f.running.Add(1)
		go func() {
			defer f.running.Done()
			run(ctx)
		}()
	}
	f.runners = nil
}

// Wait blocks until every informer started by Start has returned, that
// is, until some time after the context given to Start ends.
func (f *Informers) Wait() { f.running.Wait() }

// Pods returns the shared pod informer (indexed by label).
func (f *Informers) Pods() *informer.Informer[*corev1.Pod] {
	return shared[corev1.Pod](f, PodsResource, true, informer.Options[*corev1.Pod]{IndexLabels: true, Indexers: map[string]informer.IndexFunc[*corev1.Pod]{
		IndexOwnerUID: OwnerUIDs[*corev1.Pod],
		IndexNodeName: PodNodeName,
	}})
}

// ReplicaSets returns the shared ReplicaSet informer.
func (f *Informers) ReplicaSets() *informer.Informer[*appsv1.ReplicaSet] {
	return shared[appsv1.ReplicaSet](f, ReplicaSetsResource, true, informer.Options[*appsv1.ReplicaSet]{IndexLabels: true, Indexers: map[string]informer.IndexFunc[*appsv1.ReplicaSet]{
		IndexOwnerUID: OwnerUIDs[*appsv1.ReplicaSet],
	}})
}

// Deployments returns the shared Deployment informer.
func (f *Informers) Deployments() *informer.Informer[*appsv1.Deployment] {
	return shared[appsv1.Deployment](f, DeploymentsResource, true, informer.Options[*appsv1.Deployment]{})
}

// Services returns the shared Service informer.
func (f *Informers) Services() *informer.Informer[*corev1.Service] {
	return shared[corev1.Service](f, ServicesResource, true, informer.Options[*corev1.Service]{})
}

// Endpoints returns the shared Endpoints informer.
func (f *Informers) Endpoints() *informer.Informer[*corev1.Endpoints] {
	return shared[corev1.Endpoints](f, EndpointsResource, true, informer.Options[*corev1.Endpoints]{})
}

// Nodes returns the shared Node informer.
func (f *Informers) Nodes() *informer.Informer[*corev1.Node] {
	return shared[corev1.Node](f, NodesResource, false, informer.Options[*corev1.Node]{})
}

// Namespaces returns the shared Namespace informer.
func (f *Informers) Namespaces() *informer.Informer[*corev1.Namespace] {
	return shared[corev1.Namespace](f, NamespacesResource, false, informer.Options[*corev1.Namespace]{})
}

// Leases returns the shared Lease informer (all namespaces; node leases
// live in kube-node-lease).
func (f *Informers) Leases() *informer.Informer[*coordinationv1.Lease] {
	return shared[coordinationv1.Lease](f, LeasesResource, true, informer.Options[*coordinationv1.Lease]{})
}

// Index names of the shared informers.
const (
	// IndexOwnerUID indexes objects by the uid of each owner reference.
	IndexOwnerUID = "ownerUID"
	// IndexNodeName indexes pods by spec.nodeName.
	IndexNodeName = "nodeName"
)

// OwnerUIDs is the IndexOwnerUID index function: the uid of every owner
// reference of obj. Informers made outside Informers (tests) use it to get
// the same index.
func OwnerUIDs[PT meta.Object](obj PT) []string {
	refs := obj.GetObjectMeta().OwnerReferences
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		out = append(out, r.UID)
	}
	return out
}

// PodNodeName is the IndexNodeName index function: the pod's
// spec.nodeName ("" for unscheduled pods).
func PodNodeName(p *corev1.Pod) []string { return []string{p.Spec.NodeName} }
