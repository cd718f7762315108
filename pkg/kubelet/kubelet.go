package kubelet

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"sync"

	coordinationv1 "github.com/kl-dev/kl/pkg/api/coordination/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/client/informer"
	"github.com/kl-dev/kl/pkg/kubelet/prober"
	"github.com/kl-dev/kl/pkg/kubelet/runtime"
	"github.com/kl-dev/kl/pkg/kubelet/runtime/docker"
	"github.com/kl-dev/kl/pkg/kubelet/runtime/fake"
)

// Resources the kubelet reads and writes.
var (
	podsGVR       = meta.GroupVersionResource{Version: "v1", Resource: "pods"}
	nodesGVR      = meta.GroupVersionResource{Version: "v1", Resource: "nodes"}
	leasesGVR     = meta.GroupVersionResource{Group: coordinationv1.GroupName, Version: "v1", Resource: "leases"}
	configMapsGVR = meta.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	secretsGVR    = meta.GroupVersionResource{Version: "v1", Resource: "secrets"}
)

// Kubelet runs the pods bound to its node (or, with Config.SimulateNodes,
// to each of its simulated nodes) and reports the node's status. Create
// with New, run with Run.
type Kubelet struct {
	cfg Config
	log *slog.Logger

	pods       *client.Resource[corev1.Pod, *corev1.Pod]
	nodes      *client.Resource[corev1.Node, *corev1.Node]
	leases     *client.Resource[coordinationv1.Lease, *coordinationv1.Lease]
	configMaps *client.Resource[corev1.ConfigMap, *corev1.ConfigMap]
	secrets    *client.Resource[corev1.Secret, *corev1.Secret]

	recorder *recorder
	metrics  *metrics
	objects  *objectCache   // ConfigMaps and Secrets the pods use
	volumes  *volumeManager // the pods' volumes on disk
	server   *server        // logs and exec for the apiserver
	writes   chan struct{}  // semaphore bounding concurrent pod status writes
	informer *informer.Informer[*corev1.Pod]
	capacity corev1.ResourceList
	sysInfo  corev1.NodeSystemInfo

	agents []*node
	byName map[string]*node

	metricsLn net.Listener
}

// New builds a Kubelet: it checks cfg, creates each node's runtime (loading
// the fake runtime's state from DataDir) and binds the metrics address.
// Nothing talks to the apiserver until Run.
func New(cfg Config) (*Kubelet, error) {
	cfg.Defaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.DataDir != "" {
		// Volumes are bind-mounted from here, and a container engine takes
		// absolute host paths only (`--data-dir ./.kl/data` must work).
		abs, err := filepath.Abs(cfg.DataDir)
		if err != nil {
			return nil, fmt.Errorf("kubelet: data dir %s: %w", cfg.DataDir, err)
		}
		cfg.DataDir = abs
	}
	k := &Kubelet{
		cfg:        cfg,
		log:        cfg.Logger,
		pods:       client.NewResource[corev1.Pod](cfg.Client, podsGVR, true),
		nodes:      client.NewResource[corev1.Node](cfg.Client, nodesGVR, false),
		leases:     client.NewResource[coordinationv1.Lease](cfg.Client, leasesGVR, true).Namespace(meta.NamespaceNodeLease),
		configMaps: client.NewResource[corev1.ConfigMap](cfg.Client, configMapsGVR, true),
		secrets:    client.NewResource[corev1.Secret](cfg.Client, secretsGVR, true),
		recorder:   newRecorder(cfg.Client, cfg.EventQPS, cfg.EventBurst, cfg.Logger.With("component", "events")),
		metrics:    newMetrics(),
		writes:     make(chan struct{}, cfg.MaxConcurrentWrites),
		byName:     map[string]*node{},
		capacity:   cfg.Capacity,
		sysInfo:    systemInfo(),
	}
	if k.capacity == nil {
		k.capacity = machineCapacity(cfg.DataDir)
	}
	k.objects = newObjectCache(k.configMaps, k.secrets, cfg.ObjectSyncPeriod, k.log.With("component", "objects"))
	k.volumes = newVolumeManager(cfg.DataDir, k.objects, k.log.With("component", "volumes"))
	names := cfg.nodeNames()
	for i, name := range names {
		cidr, err := podCIDRFor(&cfg, name, i)
		if err != nil {
			k.closeRuntimes()
			return nil, err
		}
		rt, err := k.newRuntime(name, i, cidr)
		if err != nil {
			k.closeRuntimes()
			return nil, fmt.Errorf("node %s: %w", name, err)
		}
		n := newNode(k, name, i, cidr, rt)
		k.agents = append(k.agents, n)
		k.byName[name] = n
	}

	// One informer for every hosted node: its own pods only for a single
	// node, every bound pod (dispatched by node name) when simulating many.
	selector := "spec.nodeName=" + cfg.NodeName
	if cfg.SimulateNodes > 0 {
		selector = "spec.nodeName!="
	}
	k.informer = informer.New(k.pods, informer.Options[*corev1.Pod]{
		FieldSelector: selector,
		Logger:        k.log.With("component", "pod-informer"),
	})
	k.informer.AddEventHandler(informer.HandlerFuncs[*corev1.Pod]{
		AddFunc:    func(p *corev1.Pod) { k.dispatch(p, false) },
		UpdateFunc: func(_, p *corev1.Pod) { k.dispatch(p, false) },
		DeleteFunc: func(p *corev1.Pod, _ bool) { k.dispatch(p, true) },
	})

	if cfg.MetricsAddress != "" {
		ln, err := net.Listen("tcp", cfg.MetricsAddress)
		if err != nil {
			k.closeRuntimes()
			return nil, fmt.Errorf("listen on metrics address %s: %w", cfg.MetricsAddress, err)
		}
		k.metricsLn = ln
	}
	srv, err := newServer(k)
	if err != nil {
		k.closeRuntimes()
		if k.metricsLn != nil {
			_ = k.metricsLn.Close()
		}
		return nil, err
	}
	k.server = srv
	return k, nil
}

// newRuntime builds the runtime of node name.
func (k *Kubelet) newRuntime(name string, index int, podCIDR string) (runtime.Runtime, error) {
	cfg := &k.cfg
	if cfg.NewRuntime != nil {
		return cfg.NewRuntime(name, index, podCIDR)
	}
	switch cfg.Runtime {
	case RuntimeFake:
		fc := fake.Config{
			PodCIDR: podCIDR, NodeIP: cfg.NodeIP,
			StartDelay: cfg.FakeStartDelay, ExitDelay: cfg.FakeExitDelay,
			Logger: k.log.With("node", name, "component", "fake-runtime"),
		}
		// Simulated nodes (--simulate-nodes, for scale runs) keep no state
		// file: writing one per node costs more than the pods themselves.
		if cfg.DataDir != "" && cfg.SimulateNodes == 0 {
			fc.StateFile = filepath.Join(cfg.DataDir, "fake", name+".json")
		}
		return fake.New(fc)
	case RuntimeDocker:
		return docker.New(docker.Config{
			NodeName: name, NodeIP: cfg.NodeIP, Network: cfg.DockerNetwork, Subnet: cfg.DockerSubnet,
			Logger: k.log.With("node", name, "component", "docker-runtime"),
		})
	}
	return nil, fmt.Errorf("unknown runtime %q", cfg.Runtime)
}

// podCIDRFor returns the pod range of node number index.
func podCIDRFor(cfg *Config, name string, index int) (string, error) {
	if cfg.PodCIDR != "" && index == 0 {
		return cfg.PodCIDR, nil
	}
	if cfg.SimulateNodes > 0 {
		second := 244 + index/256
		if second > 255 {
			return "", fmt.Errorf("too many simulated nodes for the 10.244.0.0/16 pod ranges: node %d", index)
		}
		return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(second), byte(index % 256), 0}), 24).String(), nil
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(name))
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 244, byte(h.Sum32() % 256), 0}), 24).String(), nil
}

func (k *Kubelet) closeRuntimes() {
	for _, n := range k.agents {
		if err := n.rt.Close(); err != nil {
			k.log.Error("close container runtime", "node", n.name, "err", err)
		}
	}
}

// MetricsAddr returns the address /metrics and /healthz are served on
// (nil when disabled).
func (k *Kubelet) MetricsAddr() net.Addr {
	if k.metricsLn == nil {
		return nil
	}
	return k.metricsLn.Addr()
}

// ServerAddr returns the address the kubelet server (logs, exec) listens
// on; its port is the nodes' status.daemonEndpoints.kubeletEndpoint.Port.
func (k *Kubelet) ServerAddr() net.Addr { return k.server.ln.Addr() }

// NodeNames returns the names of the nodes this kubelet hosts.
func (k *Kubelet) NodeNames() []string { return k.cfg.nodeNames() }

// dispatch hands a pod from the informer to its node.
func (k *Kubelet) dispatch(p *corev1.Pod, gone bool) {
	if n, ok := k.byName[p.Spec.NodeName]; ok {
		n.enqueue(p, gone)
	}
}

// Run registers the nodes, keeps their status and leases current and runs
// their pods until ctx is cancelled. Containers keep running when Run
// returns: a kubelet started later adopts them.
func (k *Kubelet) Run(ctx context.Context) error {
	defer k.closeRuntimes()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 1)
	wg.Go(func() { k.recorder.run(ctx) })
	wg.Go(func() { _ = k.informer.Run(ctx) })
	wg.Go(func() { k.objects.run(ctx) })
	wg.Go(func() {
		if err := k.server.run(ctx); err != nil {
			select {
			case errc <- err:
			default:
			}
			cancel()
		}
	})
	if k.metricsLn != nil {
		wg.Go(func() {
			if err := serveMetrics(ctx, k.metricsLn, k.metrics.registry, k.healthy); err != nil {
				select {
				case errc <- err:
				default:
				}
				cancel()
			}
		})
	}
	for _, n := range k.agents {
		wg.Go(func() { n.run(ctx) })
	}
	k.log.Info("kubelet started", "nodes", len(k.agents), "runtime", k.cfg.Runtime)
	<-ctx.Done()
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
	}
	return nil
}

// healthy reports an error when a node's runtime is down.
func (k *Kubelet) healthy(ctx context.Context) error {
	var errs []error
	for _, n := range k.agents {
		if err := n.rt.Status(ctx); err != nil {
			errs = append(errs, fmt.Errorf("node %s: container runtime: %w", n.name, err))
		}
	}
	return errors.Join(errs...)
}

// proberFor returns the prober for a runtime: the runtime itself when it
// answers probes (the fake), else the real prober.
func proberFor(rt runtime.Runtime) prober.Prober {
	if p, ok := rt.(prober.Prober); ok {
		return p
	}
	return prober.New(rt)
}
