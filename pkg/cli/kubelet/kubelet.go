// Package kubelet implements `kl kubelet`: flags, environment and config
// file -> kubelet.Config -> kubelet.New(cfg).Run(ctx).
package kubelet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/resource"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/kubelet"
)

// Options are the parsed flags of `kl kubelet` and its dependencies.
type Options struct {
	// Logger is the logger handed to the kubelet.
	Logger *slog.Logger
	// Client returns the API client (--server, KL_SERVER, client config).
	Client func() (*client.Client, error)

	ConfigFile string

	NodeName      string
	Runtime       string
	Capacity      string
	NodeIP        string
	NodeLabels    map[string]string
	PodCIDR       string
	DataDir       string
	SimulateNodes int

	FakeStartDelay            time.Duration
	CrashLoopBackOffBase      time.Duration
	CrashLoopBackOffMax       time.Duration
	NodeStatusUpdateFrequency time.Duration
	SyncFrequency             time.Duration
	MetricsAddr               string

	KubeletPort  int
	TLSCertFile  string
	TLSKeyFile   string
	ClientCAFile string

	// capacity is Capacity parsed (nil: measure the machine).
	capacity corev1.ResourceList
}

// NewCmdKubelet returns the `kl kubelet` command. runF, if not nil,
// replaces running the kubelet and receives the bound and validated
// options (tests use it to check flag parsing alone).
func NewCmdKubelet(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "kubelet",
		Short: "Run the node agent: register a node and run the pods bound to it",
		Long: `Run the node agent: register a Node, keep its status and Lease current,
and run the pods the scheduler binds to it through a container runtime.

--runtime fake simulates containers in memory (for tests and scale runs);
--simulate-nodes N then hosts N nodes NAME-0..NAME-(N-1) in this process.
The fake runtime keeps its state under --data-dir, so a restarted kubelet
adopts the containers it left running.

The kubelet server on --node-ip:--kubelet-port serves container logs and
exec to the apiserver (kl logs, kl exec); the node publishes the port in its
status. With --client-ca-file it speaks HTTPS and serves only the
apiserver's client certificate (CommonName kube-apiserver); without it,
plain HTTP, which is only fit for --insecure clusters.

Every flag can also be set by an environment variable (--node-name by
KL_NODE_NAME) or by a key of the YAML file given with --config
(node-name: NAME). A flag on the command line wins over the environment,
which wins over the file.`,
		Example: `  # A simulated node against a local apiserver
  kl kubelet --server http://127.0.0.1:6443 --node-name node-1 --runtime fake

  # 100 simulated nodes for a scale run
  kl kubelet --server http://127.0.0.1:6443 --node-name sim --runtime fake --simulate-nodes 100 \
    --capacity cpu=32,memory=128Gi,pods=110`,
		Args: cmdutil.UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cmdutil.BindFlags(cmd, cmdutil.EnvPrefix, opts.ConfigFile); err != nil {
				return err
			}
			if err := opts.complete(); err != nil {
				return err
			}
			if err := opts.validate(); err != nil {
				return &cmdutil.FlagError{Err: err}
			}
			opts.Logger = f.Logger()
			opts.Client = f.Client
			if runF != nil {
				return runF(opts)
			}
			return runKubelet(cmd.Context(), opts)
		},
	}

	fl := cmd.Flags()
	fl.StringVar(&opts.ConfigFile, "config", "", "YAML `FILE` whose keys are flag names, e.g. \"node-name: node-1\" (command-line flags and KL_* variables win)")
	fl.StringVar(&opts.NodeName, "node-name", "", "name of the node (default: the hostname, lower-cased)")
	fl.StringVar(&opts.Runtime, "runtime", kubelet.RuntimeDocker, "container runtime: docker or fake")
	fl.StringVar(&opts.Capacity, "capacity", "", "node capacity, e.g. cpu=4,memory=8Gi,pods=110 (default: measured: CPUs, memory, disk of --data-dir, 110 pods)")
	fl.StringVar(&opts.NodeIP, "node-ip", "127.0.0.1", "IP address of the node (its InternalIP and the pods' hostIP)")
	fl.StringToStringVar(&opts.NodeLabels, "node-labels", nil, "extra labels of the node, e.g. zone=a,disk=ssd")
	fl.StringVar(&opts.PodCIDR, "pod-cidr", "", "pod IP range of the (first) node with the fake runtime (default: a 10.244.X.0/24 derived from the node name)")
	fl.StringVar(&opts.DataDir, "data-dir", "~/.kl/kubelet", "directory of the kubelet's state (the fake runtime's containers)")
	fl.IntVar(&opts.SimulateNodes, "simulate-nodes", 0, "host N simulated nodes NAME-0..NAME-(N-1) (fake runtime only; 0: one node NAME)")
	fl.DurationVar(&opts.FakeStartDelay, "fake-start-delay", 0, "how long a fake container takes to start")
	fl.DurationVar(&opts.CrashLoopBackOffBase, "crashloop-backoff-base", 10*time.Second, "first back-off before restarting a failed container; it doubles per failure")
	fl.DurationVar(&opts.CrashLoopBackOffMax, "crashloop-backoff-max", 5*time.Minute, "longest back-off before restarting a failed container")
	fl.DurationVar(&opts.NodeStatusUpdateFrequency, "node-status-update-frequency", 10*time.Second, "how often the node status is computed and posted if it changed")
	fl.DurationVar(&opts.SyncFrequency, "sync-frequency", time.Minute, "how often every pod is synced even without a change")
	fl.IntVar(&opts.KubeletPort, "kubelet-port", 10250, "port on --node-ip of the kubelet server, which serves container logs and exec to the apiserver (0: any free port)")
	fl.StringVar(&opts.TLSCertFile, "tls-cert-file", "", "PEM file with the kubelet server's certificate (default with --client-ca-file: a self-signed one)")
	fl.StringVar(&opts.TLSKeyFile, "tls-private-key-file", "", "PEM file with the private key of --tls-cert-file")
	fl.StringVar(&opts.ClientCAFile, "client-ca-file", "", "PEM file with the CA of the apiserver's client certificate; the kubelet server then speaks HTTPS and serves only the apiserver (without it: plain HTTP, for --insecure clusters)")
	fl.StringVar(&opts.MetricsAddr, "metrics-addr", "127.0.0.1:10248", "address (host:port) serving /metrics and /healthz; 0 disables")
	// The component's config file comes from the command line only: KL_CONFIG
	// names the client's config file, a different thing.
	if err := cmdutil.MarkFlagNoBind(fl, "config"); err != nil {
		panic(err) // the flag is defined just above
	}
	return cmd
}

// complete fills in defaults that need the environment and parses
// --capacity.
func (o *Options) complete() error {
	if o.NodeName == "" {
		host, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("--node-name not given and the hostname is unknown: %w", err)
		}
		o.NodeName = strings.ToLower(host)
	}
	dir, err := cmdutil.ExpandHome(o.DataDir)
	if err != nil {
		return fmt.Errorf("--data-dir: %w", err)
	}
	o.DataDir = dir
	if o.MetricsAddr == "0" {
		o.MetricsAddr = ""
	}
	return nil
}

var dnsSubdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// validate checks the flags before anything starts, naming the flag at
// fault.
func (o *Options) validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if len(o.NodeName) > 253 || !dnsSubdomain.MatchString(o.NodeName) {
		add("--node-name %q: must be a lowercase DNS subdomain (letters, digits, '-' and '.')", o.NodeName)
	}
	switch o.Runtime {
	case kubelet.RuntimeDocker, kubelet.RuntimeFake:
	default:
		add("--runtime %q: want docker or fake", o.Runtime)
	}
	if o.SimulateNodes < 0 {
		add("--simulate-nodes must not be negative, got %d", o.SimulateNodes)
	}
	if o.SimulateNodes > 0 && o.Runtime != kubelet.RuntimeFake {
		add("--simulate-nodes needs --runtime fake")
	}
	if o.Capacity != "" {
		rl, err := resource.ParseList(o.Capacity)
		if err != nil {
			add("--capacity %q: %v", o.Capacity, err)
		}
		o.capacity = rl
	}
	if _, err := netip.ParseAddr(o.NodeIP); err != nil {
		add("--node-ip %q is not an IP address", o.NodeIP)
	}
	if o.PodCIDR != "" {
		if p, err := netip.ParsePrefix(o.PodCIDR); err != nil || !p.Addr().Is4() {
			add("--pod-cidr %q: want an IPv4 CIDR, e.g. 10.244.0.0/24", o.PodCIDR)
		} else if p.Bits() > 30 {
			add("--pod-cidr %q is too small: at most /30", o.PodCIDR)
		}
	}
	for name, d := range map[string]time.Duration{
		"--crashloop-backoff-base": o.CrashLoopBackOffBase, "--crashloop-backoff-max": o.CrashLoopBackOffMax,
		"--node-status-update-frequency": o.NodeStatusUpdateFrequency, "--sync-frequency": o.SyncFrequency,
	} {
		if d <= 0 {
			add("%s must be positive, got %v", name, d)
		}
	}
	if o.CrashLoopBackOffMax > 0 && o.CrashLoopBackOffMax < o.CrashLoopBackOffBase {
		add("--crashloop-backoff-max (%v) must not be less than --crashloop-backoff-base (%v)", o.CrashLoopBackOffMax, o.CrashLoopBackOffBase)
	}
	if o.FakeStartDelay < 0 {
		add("--fake-start-delay must not be negative, got %v", o.FakeStartDelay)
	}
	if o.MetricsAddr != "" {
		if _, port, err := net.SplitHostPort(o.MetricsAddr); err != nil {
			add("--metrics-addr %q: want host:port, e.g. 127.0.0.1:10248, or 0 to disable", o.MetricsAddr)
		} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			add("--metrics-addr %q: port %q is not a number from 0 to 65535", o.MetricsAddr, port)
		}
	}
	if o.DataDir == "" {
		add("--data-dir must not be empty")
	}
	if o.KubeletPort < 0 || o.KubeletPort > 65535 {
		add("--kubelet-port %d is not a number from 0 to 65535", o.KubeletPort)
	}
	if (o.TLSCertFile == "") != (o.TLSKeyFile == "") {
		add("--tls-cert-file and --tls-private-key-file must be given together")
	}
	if o.TLSCertFile != "" && o.ClientCAFile == "" {
		add("--tls-cert-file needs --client-ca-file: the kubelet server serves logs and exec only to the apiserver's client certificate")
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return errors.Join(errs...)
}

// Config returns the kubelet configuration the options describe, using c
// to talk to the apiserver.
func (o *Options) Config(c *client.Client) kubelet.Config {
	return kubelet.Config{
		Client:                    c,
		NodeName:                  o.NodeName,
		SimulateNodes:             o.SimulateNodes,
		Runtime:                   o.Runtime,
		Capacity:                  o.capacity,
		NodeIP:                    o.NodeIP,
		NodeLabels:                o.NodeLabels,
		PodCIDR:                   o.PodCIDR,
		DataDir:                   o.DataDir,
		FakeStartDelay:            o.FakeStartDelay,
		CrashLoopBackOffBase:      o.CrashLoopBackOffBase,
		CrashLoopBackOffMax:       o.CrashLoopBackOffMax,
		NodeStatusUpdateFrequency: o.NodeStatusUpdateFrequency,
		ResyncInterval:            o.SyncFrequency,
		MetricsAddress:            o.MetricsAddr,
		ServerPort:                o.KubeletPort,
		TLSCertFile:               o.TLSCertFile,
		TLSKeyFile:                o.TLSKeyFile,
		ClientCAFile:              o.ClientCAFile,
		Logger:                    o.Logger,
	}
}

// runKubelet runs until ctx is cancelled (SIGINT/SIGTERM).
func runKubelet(ctx context.Context, opts *Options) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	k, err := kubelet.New(opts.Config(c))
	if err != nil {
		return fmt.Errorf("start kubelet: %w", err)
	}
	return k.Run(ctx)
}
