// Package apiserver implements `kl apiserver`: flags, environment and config
// file -> apiserver.Config -> apiserver.New(cfg).Run(ctx).
package apiserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kl-dev/kl/pkg/apiserver"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
)

// Options are the parsed flags of `kl apiserver`.
type Options struct {
	// Logger is the logger handed to the server.
	Logger *slog.Logger

	ConfigFile string

	Listen       string
	Insecure     bool
	TLSCertFile  string
	TLSKeyFile   string
	ClientCAFile string

	KubeletClientCertFile string
	KubeletClientKeyFile  string
	KubeletCAFile         string

	Storage      string
	DataDir      string
	EtcdServers  []string
	EtcdCAFile   string
	EtcdCertFile string
	EtcdKeyFile  string
	EtcdPrefix   string

	ServiceClusterIPRange string
	ServiceNodePortRange  string
	WatchCacheSize        int

	AuditLog            string
	Profiling           bool
	MaxRequestsInFlight int
	MaxWatchesPerClient int
}

// NewCmdAPIServer returns the `kl apiserver` command. runF, if not nil,
// replaces starting the server and receives the bound and validated options
// (tests use it to check flag parsing without serving).
func NewCmdAPIServer(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "apiserver",
		Short: "Run the API server",
		Long: `Run the API server: the REST API every other component and client talks to.

Every flag can also be set by an environment variable (--data-dir by
KL_DATA_DIR) or by a key of the YAML file given with --config (data-dir: DIR).
A flag on the command line wins over the environment, which wins over the file.`,
		Example: `  # Plain HTTP on loopback, data kept in ./.kl/data
  kl apiserver --insecure --data-dir ./.kl/data

  # In memory, nothing kept
  kl apiserver --insecure --storage memory

  # Several apiservers sharing etcd, serving mTLS
  kl apiserver --listen 0.0.0.0:6443 --storage etcd --etcd-servers https://10.0.0.1:2379 \
    --tls-cert-file apiserver.crt --tls-private-key-file apiserver.key --client-ca-file ca.crt`,
		Args: cmdutil.UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cmdutil.BindFlags(cmd, cmdutil.EnvPrefix, opts.ConfigFile); err != nil {
				return err
			}
			if err := opts.complete(); err != nil {
				return err
			}
			if err := opts.validate(); err != nil {
				return err
			}
			opts.Logger = f.Logger()
			if runF != nil {
				return runF(opts)
			}
			return runAPIServer(cmd.Context(), opts)
		},
	}

	fl := cmd.Flags()
	fl.StringVar(&opts.ConfigFile, "config", "", "YAML `FILE` whose keys are flag names, e.g. \"listen: 127.0.0.1:7000\" (command-line flags and KL_* variables win)")
	fl.StringVar(&opts.Listen, "listen", "127.0.0.1:6443", "address (host:port) to serve on")
	fl.BoolVar(&opts.Insecure, "insecure", false, "serve plain HTTP without authentication (loopback addresses only)")
	fl.StringVar(&opts.TLSCertFile, "tls-cert-file", "", "PEM file with the serving certificate")
	fl.StringVar(&opts.TLSKeyFile, "tls-private-key-file", "", "PEM file with the serving certificate's private key")
	fl.StringVar(&opts.ClientCAFile, "client-ca-file", "", "PEM file with the CA that signs client certificates")
	fl.StringVar(&opts.KubeletClientCertFile, "kubelet-client-certificate", "", "PEM file with the client certificate presented to kubelets for logs and exec (e.g. the apiserver's own); kubelets are then reached over HTTPS")
	fl.StringVar(&opts.KubeletClientKeyFile, "kubelet-client-key", "", "PEM file with the private key of --kubelet-client-certificate")
	fl.StringVar(&opts.KubeletCAFile, "kubelet-certificate-authority", "", "PEM file with the CA that signs kubelets' serving certificates (default: they are not verified)")
	fl.StringVar(&opts.Storage, "storage", "badger", "storage backend: badger, memory or etcd")
	fl.StringVar(&opts.DataDir, "data-dir", "~/.kl/data", "directory of the badger database")
	fl.StringSliceVar(&opts.EtcdServers, "etcd-servers", nil, "comma-separated etcd URLs (with --storage etcd)")
	fl.StringVar(&opts.EtcdCAFile, "etcd-cafile", "", "PEM file with the CA of the etcd servers")
	fl.StringVar(&opts.EtcdCertFile, "etcd-certfile", "", "PEM file with the client certificate for etcd")
	fl.StringVar(&opts.EtcdKeyFile, "etcd-keyfile", "", "PEM file with the client private key for etcd")
	fl.StringVar(&opts.EtcdPrefix, "etcd-prefix", "", "`PREFIX` put before every key in etcd (kl's keys are /registry/...; default: none, the layout Kubernetes uses)")
	fl.StringVar(&opts.ServiceClusterIPRange, "service-cluster-ip-range", "10.96.0.0/16", "CIDR that Service ClusterIPs are allocated from")
	fl.StringVar(&opts.ServiceNodePortRange, "service-node-port-range", "30000-32767", "port range (first-last) for Service NodePorts")
	fl.IntVar(&opts.WatchCacheSize, "watch-cache-size", 10000, "most events of history kept per resource (each for at most 5 minutes) for watches that resume; older resourceVersions get 410 Gone")
	fl.StringVar(&opts.AuditLog, "audit-log", "", "append one JSON line per request (time, user, groups, verb, resource, namespace, name, code, latency) to FILE")
	fl.BoolVar(&opts.Profiling, "profiling", true, "serve Go profiles (heap, CPU, goroutines) at /debug/pprof/ to system:masters")
	fl.IntVar(&opts.MaxRequestsInFlight, "max-requests-inflight", 800, "concurrent requests served (watches apart); more get 429 with Retry-After")
	fl.IntVar(&opts.MaxWatchesPerClient, "max-watches-per-client", 5000, "open watches one identity may hold; more get 429")
	// The component's config file comes from the command line only: KL_CONFIG
	// names the client's config file, a different thing.
	if err := cmdutil.MarkFlagNoBind(fl, "config"); err != nil {
		panic(err) // the flag is defined just above
	}
	return cmd
}

// complete resolves values that need the environment (the home directory).
func (o *Options) complete() error {
	dir, err := cmdutil.ExpandHome(o.DataDir)
	if err != nil {
		return fmt.Errorf("--data-dir: %w", err)
	}
	o.DataDir = dir
	return nil
}

// validate checks the flags before anything starts, naming the flag at fault.
func (o *Options) validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	host, port, err := net.SplitHostPort(o.Listen)
	if err != nil {
		add("--listen %q: want host:port, e.g. 127.0.0.1:6443", o.Listen)
	} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		add("--listen %q: port %q is not a number from 0 to 65535", o.Listen, port)
	} else if o.Insecure && !isLoopback(host) {
		add("--insecure serves plain HTTP without authentication and is only allowed on a loopback address; got %s", o.Listen)
	}

	if o.Insecure && (o.TLSCertFile != "" || o.TLSKeyFile != "" || o.ClientCAFile != "") {
		add("--insecure cannot be combined with --tls-cert-file, --tls-private-key-file or --client-ca-file")
	}
	if (o.TLSCertFile == "") != (o.TLSKeyFile == "") {
		add("--tls-cert-file and --tls-private-key-file must be given together")
	}
	if (o.KubeletClientCertFile == "") != (o.KubeletClientKeyFile == "") {
		add("--kubelet-client-certificate and --kubelet-client-key must be given together")
	}

	switch o.Storage {
	case "badger":
		if o.DataDir == "" {
			add("--data-dir must not be empty with --storage badger")
		}
	case "memory":
	case "etcd":
		if len(o.EtcdServers) == 0 {
			add("--storage etcd needs --etcd-servers")
		}
		for _, s := range o.EtcdServers {
			if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				add("--etcd-servers: %q is not an http:// or https:// URL", s)
			}
		}
		if (o.EtcdCertFile == "") != (o.EtcdKeyFile == "") {
			add("--etcd-certfile and --etcd-keyfile must be given together")
		}
		if o.EtcdPrefix != "" && !strings.HasPrefix(o.EtcdPrefix, "/") {
			add("--etcd-prefix %q must start with /", o.EtcdPrefix)
		}
	default:
		add("--storage %q: want badger, memory or etcd", o.Storage)
	}
	if o.Storage != "etcd" && len(o.EtcdServers) > 0 {
		add("--etcd-servers is only used with --storage etcd (got --storage %s)", o.Storage)
	}

	if p, err := netip.ParsePrefix(o.ServiceClusterIPRange); err != nil {
		add("--service-cluster-ip-range %q: want a CIDR, e.g. 10.96.0.0/16", o.ServiceClusterIPRange)
	} else if p != p.Masked() {
		add("--service-cluster-ip-range %q has host bits set; did you mean %s?", o.ServiceClusterIPRange, p.Masked())
	}
	if _, _, err := parsePortRange(o.ServiceNodePortRange); err != nil {
		add("--service-node-port-range %q: %v", o.ServiceNodePortRange, err)
	}
	if o.WatchCacheSize <= 0 {
		add("--watch-cache-size must be positive, got %d", o.WatchCacheSize)
	}
	return errors.Join(errs...)
}

// isLoopback reports whether host (of host:port) only accepts local
// connections. An empty host means every interface.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// parsePortRange parses "first-last".
func parsePortRange(s string) (first, last int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, errors.New("want first-last, e.g. 30000-32767")
	}
	first, errA := strconv.Atoi(a)
	last, errB := strconv.Atoi(b)
	if errA != nil || errB != nil || first < 1 || last > 65535 || first > last {
		return 0, 0, errors.New("want two ports from 1 to 65535, first-last, e.g. 30000-32767")
	}
	return first, last, nil
}

// Config returns the apiserver configuration the options describe.
func (o *Options) Config() apiserver.Config {
	return apiserver.Config{
		ListenAddress:         o.Listen,
		Insecure:              o.Insecure,
		TLSCertFile:           o.TLSCertFile,
		TLSKeyFile:            o.TLSKeyFile,
		ClientCAFile:          o.ClientCAFile,
		KubeletClientCertFile: o.KubeletClientCertFile,
		KubeletClientKeyFile:  o.KubeletClientKeyFile,
		KubeletCAFile:         o.KubeletCAFile,
		Storage:               o.Storage,
		DataDir:               o.DataDir,
		EtcdServers:           o.EtcdServers,
		EtcdCAFile:            o.EtcdCAFile,
		EtcdCertFile:          o.EtcdCertFile,
		EtcdKeyFile:           o.EtcdKeyFile,
		EtcdPrefix:            o.EtcdPrefix,
		ServiceClusterIPRange: o.ServiceClusterIPRange,
		ServiceNodePortRange:  o.ServiceNodePortRange,
		WatchCacheSize:        o.WatchCacheSize,
		AuditLogPath:          o.AuditLog,
		Profiling:             o.Profiling,
		MaxRequestsInFlight:   o.MaxRequestsInFlight,
		MaxWatchesPerClient:   o.MaxWatchesPerClient,
		Logger:                o.Logger,
	}
}

// runAPIServer serves until ctx is cancelled (SIGINT/SIGTERM).
func runAPIServer(ctx context.Context, opts *Options) error {
	srv, err := apiserver.New(opts.Config())
	if err != nil {
		return fmt.Errorf("start apiserver: %w", err)
	}
	return srv.Run(ctx)
}
