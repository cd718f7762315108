package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/kubelet"
	"github.com/kl-dev/kl/pkg/proxy"
)

// NodeConfig configures a node: the kubelet and the proxy.
type NodeConfig struct {
	// Servers are the apiserver URLs (failover order).
	Servers  []string
	NodeName string
	// Runtime is "docker" or "fake".
	Runtime  string
	Capacity corev1.ResourceList
	NodeIP   string
	DataDir  string
	// FakeStartDelay is how long fake containers take to start.
	FakeStartDelay time.Duration
	// NodeLeaseDuration is the node lease's duration, renewed every
	// quarter of it (0: the kubelet's default, 40s).
	NodeLeaseDuration time.Duration
	// KubeletPort is the kubelet server's port (0: a free one).
	KubeletPort int

	// CAFile, CertFile and KeyFile: the cluster CA and the node's
	// certificate (system:node:NAME); empty for an insecure cluster.
	CAFile   string
	CertFile string
	KeyFile  string
	// ProxyCertFile and ProxyKeyFile identify the proxy (system:kube-proxy);
	// empty: it uses the node's certificate.
	ProxyCertFile string
	ProxyKeyFile  string
	// NoProxy runs no service proxy on the node.
	NoProxy bool
	// ProxyClusterIPMode is the proxy's --cluster-ip-mode (default auto).
	ProxyClusterIPMode proxy.ClusterIPMode

	Logger *slog.Logger
}

// Node runs a kubelet (and the proxy).
type Node struct {
	cfg     NodeConfig
	kubelet *kubelet.Kubelet
	proxy   *proxy.Proxy
}

// NewNode builds the node's components.
func NewNode(cfg NodeConfig) (*Node, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.NodeName == "" {
		return nil, errors.New("node: a node name is required")
	}
	kc, err := nodeClient(cfg, cfg.CertFile, cfg.KeyFile, "kl-kubelet")
	if err != nil {
		return nil, err
	}
	kcfg := kubelet.Config{
		Client: kc, NodeName: cfg.NodeName, Runtime: cfg.Runtime, Capacity: cfg.Capacity,
		NodeIP: cfg.NodeIP, DataDir: cfg.DataDir, FakeStartDelay: cfg.FakeStartDelay,
		ServerPort: cfg.KubeletPort, MetricsAddress: "",
		NodeLeaseDuration: cfg.NodeLeaseDuration,
		Logger:            cfg.Logger.With("component", "kubelet", "node", cfg.NodeName),
	}
	if cfg.CAFile != "" {
		kcfg.TLSCertFile, kcfg.TLSKeyFile, kcfg.ClientCAFile = cfg.CertFile, cfg.KeyFile, cfg.CAFile
	}
	k, err := kubelet.New(kcfg)
	if err != nil {
		return nil, fmt.Errorf("kubelet: %w", err)
	}
	n := &Node{cfg: cfg, kubelet: k}
	if !cfg.NoProxy {
		certFile, keyFile := cfg.ProxyCertFile, cfg.ProxyKeyFile
		if certFile == "" {
			certFile, keyFile = cfg.CertFile, cfg.KeyFile
		}
		pc, err := nodeClient(cfg, certFile, keyFile, "kl-proxy")
		if err != nil {
			return nil, err
		}
		pcfg := proxy.Config{
			Client: pc, NodeName: cfg.NodeName, ClusterIPMode: cfg.ProxyClusterIPMode,
			Logger: cfg.Logger.With("component", "proxy", "node", cfg.NodeName),
		}
		if ip, err := netip.ParseAddr(cfg.NodeIP); err == nil {
			pcfg.NodeIP = ip
		}
		if n.proxy, err = proxy.New(pcfg); err != nil {
			return nil, fmt.Errorf("proxy: %w", err)
		}
	}
	return n, nil
}

func nodeClient(cfg NodeConfig, certFile, keyFile, agent string) (*client.Client, error) {
	cc := client.Config{Servers: cfg.Servers, UserAgent: agent, Logger: cfg.Logger}
	if cfg.CAFile != "" {
		tc, err := ClientTLS(cfg.CAFile, certFile, keyFile)
		if err != nil {
			return nil, err
		}
		cc.TLSClientConfig = tc
	}
	return client.New(cc)
}

// Run runs the node until ctx is cancelled.
func (n *Node) Run(ctx context.Context) error {
	if n.proxy == nil {
		return n.kubelet.Run(ctx)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	proxyDone := make(chan error, 1)
	go func() { proxyDone <- n.proxy.Run(ctx) }()
	err := n.kubelet.Run(ctx)
	cancel()
	return errors.Join(err, <-proxyDone)
}
