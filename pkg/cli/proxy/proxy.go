// Package proxy implements `kl proxy`: flags, environment and config file
// -> proxy.Config -> proxy.New(cfg).Run(ctx).
package proxy

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

	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/proxy"
)

// Options are the parsed flags of `kl proxy` and its dependencies.
type Options struct {
	// Logger receives the proxy's logs.
	Logger *slog.Logger
	// Client returns the API client (--server, KL_SERVER, client config).
	Client func() (*client.Client, error)

	ConfigFile       string
	NodeName         string
	NodeIP           string
	BindAddress      string
	MetricsAddr      string
	ClusterIPMode    string
	ServiceInterface string
	DialTimeout      time.Duration

	nodeIP, bindAddress netip.Addr
}

// NewCmdProxy returns the `kl proxy` command. runF, if not nil, replaces
// running the proxy and receives the bound and validated options (tests
// use it to check flag parsing alone).
func NewCmdProxy(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "proxy",
		Short: "Run the service proxy, which makes Services reachable on this node",
		Long: `Run the service proxy of one node: it makes every Service reachable on its
ClusterIP, its NodePorts and its external addresses, and spreads the
connections over the Service's ready endpoints (round-robin; sticky per
client with sessionAffinity: ClientIP). Endpoints that refuse are skipped;
changes to Services and Endpoints apply at once, and connections to
endpoints that go away drain.

ClusterIPs work as in kube-proxy's IPVS mode: they become local addresses
of the node on a dummy interface (kl-svc0), which needs root, and the proxy
accepts their connections. Nothing is routed to a ClusterIP, so its traffic
never leaves the machine. With --cluster-ip-mode auto (the default) and no
way to create the interface, the proxy warns that ClusterIPs are not
reachable on this node and serves NodePorts only; dummy-interface makes
that an error, off never touches interfaces.

NodePorts listen on --bind-address; without it on --node-ip and 127.0.0.1;
without either on 0.0.0.0. Only TCP is proxied.

Every flag can also be set by an environment variable (--node-name by
KL_NODE_NAME) or by a key of the YAML file given with --config
(node-name: NAME). A flag on the command line wins over the environment,
which wins over the file.`,
		Example: `  # The proxy of this machine (root: ClusterIPs too)
  sudo kl proxy --server http://127.0.0.1:6443 --node-name node-1

  # NodePorts on one address only, no ClusterIPs, no metrics
  kl proxy --server http://127.0.0.1:6443 --node-name node-1 \
    --bind-address 10.0.0.7 --cluster-ip-mode off --metrics-addr 0`,
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
			return runProxy(cmd.Context(), opts)
		},
	}

	fl := cmd.Flags()
	fl.StringVar(&opts.ConfigFile, "config", "", "YAML `FILE` whose keys are flag names, e.g. \"node-name: node-1\" (command-line flags and KL_* variables win)")
	fl.StringVar(&opts.NodeName, "node-name", "", "name of this node; its endpoints serve Services with traffic policy Local (default: the hostname, lower-cased)")
	fl.StringVar(&opts.NodeIP, "node-ip", "", "IP address of this node: NodePorts listen on it and on 127.0.0.1 unless --bind-address is set")
	fl.StringVar(&opts.BindAddress, "bind-address", "", "IP address NodePorts listen on (0.0.0.0: all; a specific address also gets 127.0.0.1); default: --node-ip, else 0.0.0.0")
	fl.StringVar(&opts.MetricsAddr, "metrics-addr", proxy.DefaultMetricsAddress, "address (host:port) serving /metrics and /healthz; 0 disables")
	fl.StringVar(&opts.ClusterIPMode, "cluster-ip-mode", string(proxy.ClusterIPModeAuto), "how ClusterIPs are served: auto (on the service interface if it can be created, else not), dummy-interface (required) or off")
	fl.StringVar(&opts.ServiceInterface, "service-interface", proxy.DefaultInterfaceName, "name of the interface that holds the ClusterIPs (one proxy per machine per name)")
	fl.DurationVar(&opts.DialTimeout, "endpoint-dial-timeout", proxy.DefaultDialTimeout, "how long to wait for an endpoint to accept before trying the next")
	// The component's config file comes from the command line only: KL_CONFIG
	// names the client's config file, a different thing.
	if err := cmdutil.MarkFlagNoBind(fl, "config"); err != nil {
		panic(err) // the flag is defined just above
	}
	return cmd
}

// complete fills in defaults that need the environment.
func (o *Options) complete() error {
	if o.NodeName == "" {
		host, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("--node-name not given and the hostname is unknown: %w", err)
		}
		o.NodeName = strings.ToLower(host)
	}
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
	parseIP := func(flag, s string) netip.Addr {
		if s == "" {
			return netip.Addr{}
		}
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			add("%s %q is not an IP address", flag, s)
			return netip.Addr{}
		}
		return a.Unmap()
	}
	o.nodeIP = parseIP("--node-ip", o.NodeIP)
	o.bindAddress = parseIP("--bind-address", o.BindAddress)
	switch proxy.ClusterIPMode(o.ClusterIPMode) {
	case proxy.ClusterIPModeAuto, proxy.ClusterIPModeDummyInterface, proxy.ClusterIPModeOff:
	default:
		add("--cluster-ip-mode %q: want auto, dummy-interface or off", o.ClusterIPMode)
	}
	if n := o.ServiceInterface; n == "" || len(n) > 15 || strings.ContainsAny(n, "/ \t\n:") {
		add("--service-interface %q: want an interface name of 1 to 15 characters without '/', ':' or spaces", n)
	}
	if o.DialTimeout <= 0 {
		add("--endpoint-dial-timeout must be positive, got %v", o.DialTimeout)
	}
	if o.MetricsAddr != "" {
		if _, port, err := net.SplitHostPort(o.MetricsAddr); err != nil {
			add("--metrics-addr %q: want host:port, e.g. %s, or 0 to disable", o.MetricsAddr, proxy.DefaultMetricsAddress)
		} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			add("--metrics-addr %q: port %q is not a number from 0 to 65535", o.MetricsAddr, port)
		}
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return errors.Join(errs...)
}

// Config returns the proxy configuration the options describe, using c to
// talk to the apiserver.
func (o *Options) Config(c *client.Client) proxy.Config {
	return proxy.Config{
		Client:         c,
		NodeName:       o.NodeName,
		NodeIP:         o.nodeIP,
		BindAddress:    o.bindAddress,
		ClusterIPMode:  proxy.ClusterIPMode(o.ClusterIPMode),
		InterfaceName:  o.ServiceInterface,
		DialTimeout:    o.DialTimeout,
		MetricsAddress: o.MetricsAddr,
		Logger:         o.Logger,
	}
}

// runProxy runs until ctx is cancelled (SIGINT/SIGTERM).
func runProxy(ctx context.Context, opts *Options) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	p, err := proxy.New(opts.Config(c))
	if err != nil {
		return fmt.Errorf("start proxy: %w", err)
	}
	return p.Run(ctx)
}
