package docker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"sync"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/kl-dev/kl/pkg/kubelet/runtime"
	"github.com/kl-dev/kl/pkg/kubelet/runtime/docker/pause"
	"github.com/kl-dev/kl/pkg/version"
)

// Labels the Docker runtime puts on everything it creates, besides the
// runtime's kl.pod.* and kl.container.* labels.
const (
	// LabelManaged is "true" on kl's containers, network and images.
	LabelManaged = "kl.managed"
	// LabelNode names the node (kubelet) a sandbox or container belongs to.
	LabelNode = "kl.node"
	// LabelType is TypeSandbox or TypeContainer.
	LabelType = "kl.type"
	// LabelSandboxID is the ID of a container's sandbox.
	LabelSandboxID = "kl.sandbox.id"
	// LabelSandboxAttempt is a sandbox's attempt (PodSandboxConfig.Attempt).
	LabelSandboxAttempt = "kl.sandbox.attempt"
)

// Values of LabelType.
const (
	TypeSandbox   = "sandbox"
	TypeContainer = "container"
)

// Defaults of Config.
const (
	DefaultNetwork = "kl"
	// DefaultSubnet is the pod network's range: private, and outside
	// Docker's own default pools (172.17.0.0/16 and up, 192.168.0.0/16)
	// and the ranges Kubernetes distributions usually take.
	DefaultSubnet = "10.234.0.0/16"
	// DefaultSandboxRepository is the repository of the default sandbox
	// image; the tag is kl's version.
	DefaultSandboxRepository = "kl.local/pause"
	// DefaultNodeIP is the pod IP of hostNetwork pods by default.
	DefaultNodeIP = "127.0.0.1"
)

// Config configures a Docker runtime. The zero value works on a machine
// with a local engine.
type Config struct {
	// Host is the engine's address ("unix:///var/run/docker.sock",
	// "tcp://host:2376"); default $DOCKER_HOST, else the local socket.
	// TLS settings come from $DOCKER_TLS_VERIFY and $DOCKER_CERT_PATH.
	Host string
	// Network is the bridge network of the pods (default "kl"); it is
	// created, labelled kl.managed=true, when missing.
	Network string
	// Subnet is the network's range when kl creates it (default
	// 10.234.0.0/16). An existing network keeps its own.
	Subnet string
	// NodeName labels everything this runtime creates (kl.node) and
	// limits what it lists and changes to those objects (default: the
	// machine's hostname).
	NodeName string
	// NodeIP is the pod IP of hostNetwork pods (default 127.0.0.1).
	NodeIP string
	// SandboxImage is the image of pod sandboxes (default
	// kl.local/pause:<kl version>). When absent it is made from
	// PauseBinary.
	SandboxImage string
	// PauseBinary is the static program the sandbox image is made of,
	// run as "/kl pause" (default: this program, /proc/self/exe).
	PauseBinary string
	// Logger receives the runtime's logs (default: discard).
	Logger *slog.Logger
}

// Runtime is the Docker container runtime. Make one with New; it is safe
// for concurrent use.
type Runtime struct {
	cfg Config
	cli *client.Client
	log *slog.Logger

	// setupMu serialises making the network and the sandbox image;
	// networkOK and imageOK say they were found or made (reset when the
	// engine says they are gone).
	setupMu   sync.Mutex
	networkOK bool
	imageOK   bool

	cache inspectCache
}

var _ runtime.Runtime = (*Runtime)(nil)

// New returns a Docker runtime. It does not contact the engine: the
// network and the sandbox image are made on the first RunPodSandbox, and
// Status tells whether the engine answers.
func New(cfg Config) (*Runtime, error) {
	if cfg.Network == "" {
		cfg.Network = DefaultNetwork
	}
	if cfg.Subnet == "" {
		cfg.Subnet = DefaultSubnet
	}
	if p, err := netip.ParsePrefix(cfg.Subnet); err != nil || !p.Addr().Is4() {
		return nil, fmt.Errorf("docker runtime: subnet %q: want an IPv4 CIDR such as %s", cfg.Subnet, DefaultSubnet)
	}
	if cfg.NodeName == "" {
		h, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("docker runtime: no node name given and no hostname: %w", err)
		}
		cfg.NodeName = h
	}
	if cfg.NodeIP == "" {
		cfg.NodeIP = DefaultNodeIP
	}
	if _, err := netip.ParseAddr(cfg.NodeIP); err != nil {
		return nil, fmt.Errorf("docker runtime: node IP %q is not an IP address", cfg.NodeIP)
	}
	if cfg.SandboxImage == "" {
		cfg.SandboxImage = DefaultSandboxRepository + ":" + imageTag(version.Get().Version)
	}
	if cfg.PauseBinary == "" {
		cfg.PauseBinary = "/proc/self/exe"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	opts := []client.Opt{client.FromEnv}
	if cfg.Host != "" {
		opts = append(opts, client.WithHost(cfg.Host))
	}
	cli, err := client.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker runtime: engine client: %w", err)
	}
	return &Runtime{
		cfg: cfg, cli: cli, log: cfg.Logger.With("runtime", "docker"),
		cache: inspectCache{m: map[string]cacheEntry{}},
	}, nil
}

// imageTag makes s a valid image tag ([A-Za-z0-9_.-], at most 128
// characters, not starting with '.' or '-').
func imageTag(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	t := strings.TrimLeft(b.String(), ".-")
	if t == "" {
		t = "latest"
	}
	if len(t) > 128 {
		t = t[:128]
	}
	return t
}

// PauseMain is the `kl pause` command: the program of a pod sandbox. It
// returns the exit code.
func PauseMain() int { return pause.Main() }

// Config returns the runtime's configuration, with the defaults applied.
func (r *Runtime) Config() Config { return r.cfg }

// Version implements runtime.Runtime.
func (r *Runtime) Version(ctx context.Context) (runtime.VersionInfo, error) {
	v, err := r.cli.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		return runtime.VersionInfo{}, fmt.Errorf("docker engine version: %w", err)
	}
	return runtime.VersionInfo{RuntimeName: "docker", RuntimeVersion: v.Version, RuntimeAPIVersion: v.APIVersion}, nil
}

// Status implements runtime.Runtime: nil when the engine answers.
func (r *Runtime) Status(ctx context.Context) error {
	if _, err := r.cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		return fmt.Errorf("docker engine at %s does not answer: %w", r.cli.DaemonHost(), err)
	}
	return nil
}

// Close implements runtime.Runtime: it closes the engine connections;
// sandboxes and containers keep running.
func (r *Runtime) Close() error {
	if err := r.cli.Close(); err != nil {
		return fmt.Errorf("docker runtime: close: %w", err)
	}
	return nil
}

// ownLabels are the labels of every object of this runtime of kind typ.
func (r *Runtime) ownLabels(typ string) map[string]string {
	return map[string]string{LabelManaged: "true", LabelNode: r.cfg.NodeName, LabelType: typ}
}

// owned reports whether labels mark an object of this runtime of kind typ.
func (r *Runtime) owned(labels map[string]string, typ string) bool {
	return labels[LabelManaged] == "true" && labels[LabelNode] == r.cfg.NodeName && labels[LabelType] == typ
}

// ownFilters selects this runtime's objects of kind typ in a list.
func (r *Runtime) ownFilters(typ string) client.Filters {
	return make(client.Filters).Add("label",
		LabelManaged+"=true", LabelNode+"="+r.cfg.NodeName, LabelType+"="+typ)
}

// notFound wraps an engine error so that errors.Is(err,
// runtime.ErrNotFound) holds when the engine says "no such ...".
func notFound(err error) error {
	if cerrdefs.IsNotFound(err) && !errors.Is(err, runtime.ErrNotFound) {
		return fmt.Errorf("%w: %w", runtime.ErrNotFound, err)
	}
	return err
}

// short abbreviates an ID for messages.
func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
