// Package server is `kl server` (a whole cluster in one process) and
// `kl agent` (a node joining one): flags -> pkg/server configuration.
package server

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/resource"
	"github.com/kl-dev/kl/pkg/apiserver"
	"github.com/kl-dev/kl/pkg/certs"
	"github.com/kl-dev/kl/pkg/cli/clientconfig"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/memtarget"
	"github.com/kl-dev/kl/pkg/proxy"
	"github.com/kl-dev/kl/pkg/server"
)

// Options are the flags of `kl server`.
type Options struct {
	IO         *iostreams.IOStreams
	ConfigFile string

	DataDir  string
	Listen   string
	Insecure bool
	Storage  string
	SANs     []string

	NoAgent bool
	NodeOptions

	NodeMonitorGracePeriod time.Duration
	PodEvictionTimeout     time.Duration
	LeaderElect            bool
	Profiling              bool
	MemoryTarget           string

	// ClientConfig is the CLI config file the server writes its context to.
	ClientConfig string
}

// NewCmdServer returns `kl server`.
func NewCmdServer(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run a whole cluster in one process: apiserver, controllers, scheduler and a node",
		Long: `Run a whole kl cluster in one process: the apiserver (on BadgerDB in
--data-dir), the controller-manager, the scheduler and, unless --no-agent,
a node (kubelet and proxy) for this machine.

Without --insecure the server creates its PKI under <data-dir>/pki on first
start (CA, apiserver, component and admin certificates) and serves HTTPS
with client certificates; with --insecure it serves plain HTTP on a
loopback address without authentication.

On start it writes a context named "kl" into the CLI config
(~/.kl/config.yaml, or --config) so that kl get, kl apply ... talk to it.

--runtime docker runs pods as Docker containers; the default is docker when
a Docker Engine answers, otherwise fake (simulated pods), with a warning.`,
		Example: `  kl server                       # HTTPS with certificates in ~/.kl/data/pki
  kl server --insecure --runtime fake --data-dir /tmp/kl`,
		Args: cmdutil.UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cmdutil.BindFlags(cmd, cmdutil.EnvPrefix, opts.ConfigFile); err != nil {
				return err
			}
			path, err := f.ConfigPath()
			if err != nil {
				return err
			}
			opts.ClientConfig = path
			if err := checkLeaseDuration(opts.NodeLeaseDuration); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runServer(cmd.Context(), f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.ConfigFile, "config", "", "YAML `FILE` with flag values (listen: 127.0.0.1:7443)")
	fl.StringVar(&opts.DataDir, "data-dir", "~/.kl/data", "directory for the store and the PKI")
	fl.StringVar(&opts.Listen, "listen", "127.0.0.1:6443", "apiserver address (host:port)")
	fl.BoolVar(&opts.Insecure, "insecure", false, "serve plain HTTP without authentication (loopback addresses only)")
	fl.StringVar(&opts.Storage, "storage", "badger", "store: badger or memory")
	fl.StringArrayVar(&opts.SANs, "san", nil, "extra name or IP for the apiserver certificate (repeatable)")
	opts.NodeOptions.addFlags(cmd.Flags())
	fl.BoolVar(&opts.NoAgent, "no-agent", false, "run no node in the server (control plane only)")
	fl.DurationVar(&opts.NodeMonitorGracePeriod, "node-monitor-grace-period", 40*time.Second, "how long a node may stay silent before it turns NotReady")
	fl.DurationVar(&opts.PodEvictionTimeout, "pod-eviction-timeout", 5*time.Minute, "how long pods stay on an unreachable node before they are deleted")
	fl.BoolVar(&opts.Profiling, "profiling", true, "serve Go profiles of the whole process (heap, CPU, goroutines) at /debug/pprof/ to system:masters")
	fl.BoolVar(&opts.LeaderElect, "leader-elect", false, "take part in leader election (several servers on one etcd cluster)")
	fl.StringVar(&opts.MemoryTarget, "memory-target", defaultMemoryTarget, "memory (e.g. 240Mi, 1Gi) the server stays under while the data it holds allows: the Go collector runs sooner near it, and beyond it keeps memory at 1.25x the live data; 0: Go's default (about 2x); GOMEMLIMIT, when set, wins")
	_ = cmdutil.MarkFlagNoBind(fl, "config")
	return cmd
}

// NodeOptions are the flags of the node kl server (unless --no-agent)
// and kl agent run.
type NodeOptions struct {
	NodeName       string
	Runtime        string
	Capacity       string
	NodeIP         string
	FakeStartDelay time.Duration
	// NodeLeaseDuration is the node lease's duration; the kubelet renews
	// the lease every quarter of it.
	NodeLeaseDuration time.Duration
	NoProxy           bool
	ProxyIPMode       string
}

func (o *NodeOptions) addFlags(fl *pflag.FlagSet) {
	host, _ := os.Hostname()
	fl.BoolVar(&o.NoProxy, "no-proxy", false, "run no service proxy on this node (nodes sharing one machine share its ports: run one proxy per machine)")
	fl.StringVar(&o.ProxyIPMode, "proxy-cluster-ip-mode", "auto", "how the proxy makes ClusterIPs reachable: auto, dummy-interface or off (NodePorts only)")
	fl.StringVar(&o.NodeName, "node-name", strings.ToLower(host), "name of this node")
	fl.StringVar(&o.Runtime, "runtime", "", "container runtime: docker or fake (default: docker when a Docker Engine answers, else fake)")
	fl.StringVar(&o.Capacity, "capacity", "", "node capacity, e.g. cpu=4,memory=8Gi,pods=110 (default: this machine's)")
	fl.StringVar(&o.NodeIP, "node-ip", "127.0.0.1", "the node's address (InternalIP)")
	fl.DurationVar(&o.FakeStartDelay, "fake-start-delay", 0, "with --runtime fake, how long containers take to start")
	fl.DurationVar(&o.NodeLeaseDuration, "node-lease-duration", 40*time.Second, "duration of the node's Lease, renewed every quarter of it; keep it at most the server's --node-monitor-grace-period")
}

// checkLeaseDuration rejects a --node-lease-duration under a second: the
// lease holds whole seconds and is renewed every quarter of it.
func checkLeaseDuration(d time.Duration) error {
	if d < time.Second {
		return cmdutil.FlagErrorf("--node-lease-duration %s: must be at least 1s", d)
	}
	return nil
}

// pickRuntime resolves the runtime choice.
func pickRuntime(ctx context.Context, choice string, io *iostreams.IOStreams) (string, error) {
	switch choice {
	case "docker", "fake":
		return choice, nil
	case "":
		if server.DockerAvailable(ctx) {
			return "docker", nil
		}
		fmt.Fprintln(io.ErrOut, "warning: no Docker Engine answers on /var/run/docker.sock: pods are SIMULATED (--runtime fake); start Docker or pass --runtime docker to run real containers")
		return "fake", nil
	}
	return "", cmdutil.FlagErrorf("--runtime %q: use docker or fake", choice)
}

func runServer(ctx context.Context, f *cmdutil.Factory, opts *Options) error {
	target, err := parseMemoryTarget(opts.MemoryTarget)
	if err != nil {
		return err
	}
	// Absolute, since the certificate paths written into the CLI config
	// are read later from any working directory.
	dataDir, err := cmdutil.ExpandHome(opts.DataDir)
	if err != nil {
		return err
	}
	if dataDir, err = filepath.Abs(dataDir); err != nil {
		return fmt.Errorf("--data-dir: %w", err)
	}
	rt, err := pickRuntime(ctx, opts.Runtime, opts.IO)
	if err != nil {
		return err
	}
	capacity, err := parseCapacity(opts.Capacity)
	if err != nil {
		return err
	}
	log := f.Logger()
	s, err := server.New(server.Config{
		DataDir:  dataDir,
		Insecure: opts.Insecure,
		SANs:     opts.SANs,
		APIServer: apiserver.Config{
			ListenAddress: opts.Listen, Storage: opts.Storage, Profiling: opts.Profiling,
		},
		NoAgent: opts.NoAgent,
		Node: server.NodeConfig{
			NodeName: opts.NodeName, Runtime: rt, Capacity: capacity, NodeIP: opts.NodeIP,
			DataDir: filepath.Join(dataDir, "node"), FakeStartDelay: opts.FakeStartDelay,
			NodeLeaseDuration: opts.NodeLeaseDuration,
			NoProxy:           opts.NoProxy, ProxyClusterIPMode: proxy.ClusterIPMode(opts.ProxyIPMode),
		},
		NodeMonitorGracePeriod: opts.NodeMonitorGracePeriod,
		PodEvictionTimeout:     opts.PodEvictionTimeout,
		LeaderElect:            opts.LeaderElect,
		Logger:                 log,
	})
	if err != nil {
		return err
	}
	if err := writeContext(opts.ClientConfig, s); err != nil {
		return fmt.Errorf("write the CLI context: %w", err)
	}
	fmt.Fprintf(opts.IO.ErrOut, "kl server: apiserver at %s, runtime %s; context \"kl\" written to %s\n  try: kl get nodes\n", s.URL(), runtimeSummary(rt, opts.NoAgent), opts.ClientConfig)
	if os.Getenv("GOMEMLIMIT") != "" {
		target = 0 // the user's limit stands
	}
	mctx, stop := context.WithCancel(ctx)
	memDone := make(chan struct{})
	go func() {
		defer close(memDone)
		memtarget.Run(mctx, memtarget.Config{Target: target, Logger: log.With("component", "memory-target")})
	}()
	defer func() { stop(); <-memDone }() // the process's previous limit is back before we return
	return s.Run(ctx)
}

func runtimeSummary(rt string, noAgent bool) string {
	if noAgent {
		return "none (--no-agent)"
	}
	return rt
}

// writeContext records the server in the CLI config as context "kl" (and
// makes it current when no context is).
func writeContext(path string, s *server.Server) error {
	file, err := clientconfig.Load(path)
	if err != nil {
		return err
	}
	cluster := clientconfig.Cluster{Name: "kl", Server: s.URL()}
	user := clientconfig.User{Name: "kl-admin"}
	if p := s.PKI(); p != nil {
		cluster.CertificateAuthority = p.CAFile()
		user.ClientCertificate, user.ClientKey, _ = p.Pair(certs.FileAdmin)
	}
	file.SetCluster(cluster)
	ctx := clientconfig.Context{Name: "kl", Cluster: "kl", Namespace: "default"}
	if user.ClientCertificate != "" {
		file.SetUser(user)
		ctx.User = user.Name
	}
	file.SetContext(ctx)
	if file.CurrentContext == "" || file.CurrentContext == "kl" {
		file.CurrentContext = "kl"
	}
	return file.Save(path)
}

// AgentOptions are the flags of `kl agent`.
type AgentOptions struct {
	IO          *iostreams.IOStreams
	ConfigFile  string
	Servers     string
	DataDir     string
	KubeletPort int
	CAFile      string
	CertFile    string
	KeyFile     string
	NodeOptions
}

// NewCmdAgent returns `kl agent`.
func NewCmdAgent(f *cmdutil.Factory, runF func(*AgentOptions) error) *cobra.Command {
	opts := &AgentOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "agent --server URL --node-name NAME",
		Short: "Run a node (kubelet and proxy) that joins a kl server",
		Long: `Run a node: the kubelet (pods through Docker, or simulated) and the proxy,
joining the cluster whose apiserver is --server (several URLs, comma
separated, fail over in order).

A secure cluster needs the node's certificate, made on the server machine:

  kl certs issue --dir ~/.kl/data/pki --user system:node:NAME --group system:nodes --out NAME

then copy NAME.crt, NAME.key and the cluster's ca.crt to the node and pass
--ca-file, --cert-file and --key-file.`,
		Args: cmdutil.UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cmdutil.BindFlags(cmd, cmdutil.EnvPrefix, opts.ConfigFile); err != nil {
				return err
			}
			opts.Servers = f.Global.Server
			if opts.Servers == "" {
				return cmdutil.FlagErrorf("--server URL is required (or KL_SERVER)")
			}
			if (opts.CertFile == "") != (opts.KeyFile == "") || (opts.CertFile != "" && opts.CAFile == "") {
				return cmdutil.FlagErrorf("--ca-file, --cert-file and --key-file go together")
			}
			if err := checkLeaseDuration(opts.NodeLeaseDuration); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runAgent(cmd.Context(), f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.ConfigFile, "config", "", "YAML `FILE` with flag values")
	opts.NodeOptions.addFlags(cmd.Flags())
	fl.StringVar(&opts.DataDir, "data-dir", "~/.kl/agent", "directory for the node's state")
	fl.IntVar(&opts.KubeletPort, "kubelet-port", 10250, "port of the kubelet server (logs, exec); 0 picks a free one")
	fl.StringVar(&opts.CAFile, "ca-file", "", "the cluster CA certificate")
	fl.StringVar(&opts.CertFile, "cert-file", "", "the node's certificate (system:node:NAME)")
	fl.StringVar(&opts.KeyFile, "key-file", "", "the node's key")
	_ = cmdutil.MarkFlagNoBind(fl, "config")
	return cmd
}

func runAgent(ctx context.Context, f *cmdutil.Factory, opts *AgentOptions) error {
	dataDir, err := cmdutil.ExpandHome(opts.DataDir)
	if err != nil {
		return err
	}
	rt, err := pickRuntime(ctx, opts.Runtime, opts.IO)
	if err != nil {
		return err
	}
	capacity, err := parseCapacity(opts.Capacity)
	if err != nil {
		return err
	}
	var servers []string
	for _, s := range strings.Split(opts.Servers, ",") {
		if s = strings.TrimSpace(s); s != "" {
			servers = append(servers, s)
		}
	}
	n, err := server.NewNode(server.NodeConfig{
		Servers: servers, NodeName: opts.NodeName, Runtime: rt, Capacity: capacity, NodeIP: opts.NodeIP,
		DataDir: dataDir, FakeStartDelay: opts.FakeStartDelay, KubeletPort: opts.KubeletPort,
		NodeLeaseDuration: opts.NodeLeaseDuration,
		CAFile:            opts.CAFile, CertFile: opts.CertFile, KeyFile: opts.KeyFile,
		NoProxy: opts.NoProxy, ProxyClusterIPMode: proxy.ClusterIPMode(opts.ProxyIPMode),
		Logger: f.Logger(),
	})
	if err != nil {
		return err
	}
	return n.Run(ctx)
}

// defaultMemoryTarget is kl server's --memory-target. A server holding up
// to a few thousand pods never reaches it; beyond, the collector keeps
// memory at 1.25 times the live data instead of Go's 2 (BENCHMARKS.md: at
// 10,000 pods RSS 266-291 MB instead of about 410, for about 15% more
// server CPU during the burst).
const defaultMemoryTarget = "240Mi"

// parseMemoryTarget reads --memory-target: a quantity of bytes ("240Mi",
// "1Gi"), 0 for none.
func parseMemoryTarget(s string) (int64, error) {
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return 0, cmdutil.FlagErrorf("--memory-target %q is not a size: use e.g. 240Mi or 1Gi, or 0 for none", s)
	}
	if q.Sign() < 0 {
		return 0, cmdutil.FlagErrorf("--memory-target %q: must not be negative", s)
	}
	return q.Value(), nil
}

// parseCapacity parses --capacity ("" leaves the machine's capacity).
func parseCapacity(s string) (corev1.ResourceList, error) {
	if s == "" {
		return nil, nil
	}
	rl, err := resource.ParseList(s)
	if err != nil {
		return nil, cmdutil.FlagErrorf("--capacity: %v", err)
	}
	return rl, nil
}
