package manager

import (
	"github.com/kl-dev/kl/pkg/controller"
	"github.com/kl-dev/kl/pkg/controller/deployment"
	"github.com/kl-dev/kl/pkg/controller/endpoints"
	"github.com/kl-dev/kl/pkg/controller/garbagecollector"
	"github.com/kl-dev/kl/pkg/controller/namespace"
	"github.com/kl-dev/kl/pkg/controller/nodelifecycle"
	"github.com/kl-dev/kl/pkg/controller/replicaset"
	"github.com/kl-dev/kl/pkg/controller/servicelb"
)

// DefaultControllers is every controller kl has, in start order. Adding a
// controller is one entry here.
func DefaultControllers() []Registration {
	return []Registration{
		{Name: replicaset.Name, New: newReplicaSet},
		{Name: deployment.Name, New: newDeployment},
		{Name: endpoints.Name, New: newEndpoints},
		{Name: garbagecollector.Name, New: newGarbageCollector},
		{Name: namespace.Name, New: newNamespace},
		{Name: nodelifecycle.Name, New: newNodeLifecycle},
		{Name: servicelb.Name, New: newServiceLB},
	}
}

func newReplicaSet(c Context) (controller.Controller, error) {
	return replicaset.New(replicaset.Config{
		Client: c.Client, Pods: c.Informers.Pods(), ReplicaSets: c.Informers.ReplicaSets(),
		Recorder: c.Recorder("replicaset-controller"), Clock: c.Clock, Logger: c.Logger,
	})
}

func newDeployment(c Context) (controller.Controller, error) {
	return deployment.New(deployment.Config{
		Client: c.Client, Deployments: c.Informers.Deployments(), ReplicaSets: c.Informers.ReplicaSets(), Pods: c.Informers.Pods(),
		Recorder: c.Recorder("deployment-controller"), Clock: c.Clock, Logger: c.Logger,
	})
}

func newEndpoints(c Context) (controller.Controller, error) {
	return endpoints.New(endpoints.Config{
		Client: c.Client, Services: c.Informers.Services(), Pods: c.Informers.Pods(), Endpoints: c.Informers.Endpoints(),
		Recorder: c.Recorder("endpoint-controller"), Clock: c.Clock, Logger: c.Logger,
	})
}

func newGarbageCollector(c Context) (controller.Controller, error) {
	return garbagecollector.New(garbagecollector.Config{
		Client: c.Client, Recorder: c.Recorder("garbage-collector-controller"), Clock: c.Clock, Logger: c.Logger,
		Shared: c.Informers,
	})
}

func newNamespace(c Context) (controller.Controller, error) {
	return namespace.New(namespace.Config{Client: c.Client, Namespaces: c.Informers.Namespaces(), Clock: c.Clock, Logger: c.Logger})
}

// newNodeLifecycle runs with Kubernetes' default timings (40s grace
// period, 5m eviction timeout, 5s monitor period).
func newNodeLifecycle(c Context) (controller.Controller, error) {
	return nodelifecycle.New(nodelifecycle.Config{
		Client: c.Client, Nodes: c.Informers.Nodes(), Leases: c.Informers.Leases(), Pods: c.Informers.Pods(),
		Recorder: c.Recorder("node-controller"), Clock: c.Clock, Logger: c.Logger,
		NodeMonitorGracePeriod: c.NodeMonitorGracePeriod, PodEvictionTimeout: c.PodEvictionTimeout,
		NodeMonitorPeriod: c.NodeMonitorPeriod,
	})
}

func newServiceLB(c Context) (controller.Controller, error) {
	return servicelb.New(servicelb.Config{
		Client: c.Client, Services: c.Informers.Services(), Nodes: c.Informers.Nodes(),
		Recorder: c.Recorder("service-lb-controller"), Clock: c.Clock, Logger: c.Logger,
	})
}
