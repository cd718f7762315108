package kubelet

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/kubelet/runtime"
)

// Runtime names Config.Runtime accepts.
const (
	RuntimeFake   = "fake"
	RuntimeDocker = "docker"
)

// Config is everything a Kubelet needs; `kl kubelet` fills it from flags,
// environment and config file. Zero durations take the defaults noted.
type Config struct {
	// Client talks to the apiserver (required).
	Client *client.Client
	// NodeName is the node's name (required). With SimulateNodes N > 0
	// the nodes are NodeName-0 .. NodeName-(N-1).
	NodeName string
	// SimulateNodes hosts N nodes in this process (fake runtime only);
	// 0 hosts one node called NodeName.
	SimulateNodes int
	// Runtime is "fake" or "docker".
	Runtime string
	// NewRuntime, if set, replaces building the runtime from Runtime
	// (tests inject one). index is the node's number (0 without
	// SimulateNodes), podCIDR its pod range.
	NewRuntime func(nodeName string, index int, podCIDR string) (runtime.Runtime, error)

	// Capacity is the node's capacity (and allocatable); nil measures the
	// machine: CPUs, memory, 110 pods, the data directory's disk.
	Capacity corev1.ResourceList
	// NodeIP is the node's InternalIP and every pod's hostIP (default
	// 127.0.0.1).
	NodeIP string
	// NodeLabels are added to the node's labels.
	NodeLabels map[string]string
	// PodCIDR is the pod range of the (first) node for the fake runtime
	// (default: 10.244.X.0/24 with X derived from the node name; simulated
	// node i gets 10.244.i.0/24, continuing into 10.245.0.0/16 and on).
	PodCIDR string
	// DataDir holds the kubelet's state (the fake runtime's state files).
	DataDir string

	// FakeStartDelay is how long a fake container takes to start.
	FakeStartDelay time.Duration
	// FakeExitDelay is how long short-lived fake containers run (default
	// 10ms; see pkg/kubelet/runtime/fake).
	FakeExitDelay time.Duration
	// DockerNetwork and DockerSubnet name the Docker bridge network pods
	// get their IPs on (defaults "kl", 10.234.0.0/16: see runtime/docker).
	DockerNetwork string
	DockerSubnet  string

	// CrashLoopBackOffBase is the first restart back-off of a failing
	// container, doubling up to CrashLoopBackOffMax (default 10s and 5m,
	// as in Kubernetes). Image pulls back off the same way.
	CrashLoopBackOffBase time.Duration
	CrashLoopBackOffMax  time.Duration

	// NodeStatusUpdateFrequency is how often the node status is computed
	// and posted if it changed (default 10s); NodeStatusReportFrequency is
	// how often it is posted even unchanged (default 1m).
	NodeStatusUpdateFrequency time.Duration
	NodeStatusReportFrequency time.Duration
	// NodeLeaseDuration is the lease's leaseDurationSeconds (default 40s);
	// the lease is renewed every quarter of it.
	NodeLeaseDuration time.Duration
	// ResyncInterval is how often every pod is synced even without a
	// change (default 1m).
	ResyncInterval time.Duration

	// ServerPort is the port of the kubelet server, which serves container
	// logs and exec to the apiserver (see server.go) and is published in
	// the node's status.daemonEndpoints.kubeletEndpoint.Port. 0 picks a
	// free port (tests); kl kubelet's --kubelet-port is 10250 by default.
	ServerPort int
	// ServerAddress is the IP address the kubelet server listens on
	// (default NodeIP, the address the apiserver reaches it at).
	ServerAddress string
	// ClientCAFile, when set, makes the kubelet server speak HTTPS and
	// serve only clients with a certificate signed by this CA naming the
	// apiserver (CommonName kube-apiserver); TLSCertFile and TLSKeyFile
	// are its serving certificate (without them it makes a self-signed
	// one). Without ClientCAFile the server speaks plain HTTP to anyone
	// who can reach it: for --insecure clusters only.
	TLSCertFile  string
	TLSKeyFile   string
	ClientCAFile string

	// ObjectSyncPeriod is how often the ConfigMaps and Secrets the pods
	// use are read again (default 10s); a change updates the files of
	// their volumes.
	ObjectSyncPeriod time.Duration

	// MetricsAddress serves /metrics and /healthz ("" disables).
	MetricsAddress string
	// EventQPS and EventBurst bound the rate of event writes (default 50
	// and 100, as the Kubernetes kubelet); events over it are dropped.
	EventQPS   float64
	EventBurst int
	// MaxConcurrentWrites bounds the concurrent pod status writes of the
	// whole process (default 32).
	MaxConcurrentWrites int

	// Logger receives the kubelet's logs (default: discard).
	Logger *slog.Logger
}

// Defaults fills unset fields with their defaults.
func (c *Config) Defaults() {
	if c.Runtime == "" {
		c.Runtime = RuntimeDocker
	}
	if c.NodeIP == "" {
		c.NodeIP = "127.0.0.1"
	}
	if c.FakeExitDelay == 0 {
		c.FakeExitDelay = 10 * time.Millisecond
	}
	if c.CrashLoopBackOffBase == 0 {
		c.CrashLoopBackOffBase = 10 * time.Second
	}
	if c.CrashLoopBackOffMax == 0 {
		c.CrashLoopBackOffMax = 5 * time.Minute
	}
	if c.CrashLoopBackOffMax < c.CrashLoopBackOffBase {
		c.CrashLoopBackOffMax = c.CrashLoopBackOffBase
	}
	if c.NodeStatusUpdateFrequency == 0 {
		c.NodeStatusUpdateFrequency = 10 * time.Second
	}
	if c.NodeStatusReportFrequency == 0 {
		c.NodeStatusReportFrequency = time.Minute
	}
	if c.NodeLeaseDuration == 0 {
		c.NodeLeaseDuration = 40 * time.Second
	}
	if c.ResyncInterval == 0 {
		c.ResyncInterval = time.Minute
	}
	if c.ServerAddress == "" {
		c.ServerAddress = c.NodeIP
	}
	if c.ObjectSyncPeriod == 0 {
		c.ObjectSyncPeriod = 10 * time.Second
	}
	if c.EventQPS == 0 {
		c.EventQPS = 50
	}
	if c.EventBurst == 0 {
		c.EventBurst = 100
	}
	if c.MaxConcurrentWrites == 0 {
		c.MaxConcurrentWrites = 32
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// validate checks a defaulted config.
func (c *Config) validate() error {
	var errs []error
	if c.Client == nil {
		errs = append(errs, errors.New("kubelet: no API client"))
	}
	if c.NodeName == "" {
		errs = append(errs, errors.New("kubelet: a node name is required"))
	}
	if c.SimulateNodes < 0 {
		errs = append(errs, fmt.Errorf("kubelet: simulated nodes must not be negative, got %d", c.SimulateNodes))
	}
	if c.NewRuntime == nil {
		switch c.Runtime {
		case RuntimeFake:
		case RuntimeDocker:
			if c.SimulateNodes > 0 {
				errs = append(errs, errors.New("kubelet: simulated nodes need the fake runtime"))
			}
		default:
			errs = append(errs, fmt.Errorf("kubelet: unknown runtime %q: want docker or fake", c.Runtime))
		}
	}
	if _, err := netip.ParseAddr(c.NodeIP); err != nil {
		errs = append(errs, fmt.Errorf("kubelet: node IP %q is not an IP address", c.NodeIP))
	}
	if c.ServerPort < 0 || c.ServerPort > 65535 {
		errs = append(errs, fmt.Errorf("kubelet: server port %d is not a port number (0 picks a free one)", c.ServerPort))
	}
	if _, err := netip.ParseAddr(c.ServerAddress); err != nil {
		errs = append(errs, fmt.Errorf("kubelet: server address %q is not an IP address", c.ServerAddress))
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		errs = append(errs, errors.New("kubelet: the TLS certificate and key files must be given together"))
	}
	if c.TLSCertFile != "" && c.ClientCAFile == "" {
		errs = append(errs, errors.New("kubelet: a TLS certificate needs a client CA file: the kubelet serves logs and exec only to the apiserver's client certificate"))
	}
	if c.PodCIDR != "" {
		if p, err := netip.ParsePrefix(c.PodCIDR); err != nil || !p.Addr().Is4() {
			errs = append(errs, fmt.Errorf("kubelet: pod CIDR %q: want an IPv4 CIDR such as 10.244.0.0/24", c.PodCIDR))
		}
	}
	return errors.Join(errs...)
}

// nodeNames returns the names of the nodes this kubelet hosts.
func (c *Config) nodeNames() []string {
	if c.SimulateNodes == 0 {
		return []string{c.NodeName}
	}
	names := make([]string, c.SimulateNodes)
	for i := range names {
		names[i] = fmt.Sprintf("%s-%d", c.NodeName, i)
	}
	return names
}
