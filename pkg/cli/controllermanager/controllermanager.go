// Package controllermanager implements `kl controller-manager`: flags,
// environment and config file -> manager.Config -> manager.New(cfg).Run(ctx).
package controllermanager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/controller/manager"
	"github.com/kl-dev/kl/pkg/leaderelection"
)

// Options are the parsed flags of `kl controller-manager` and its
// dependencies.
type Options struct {
	// Logger is the logger handed to the manager.
	Logger *slog.Logger
	// Client returns the API client (--server, KL_SERVER, client config).
	Client func() (*client.Client, error)

	ConfigFile    string
	Controllers   []string
	LeaderElect   bool
	LeaseDuration time.Duration
	RenewDeadline time.Duration
	RetryPeriod   time.Duration
	Workers       int
	MetricsAddr   string

	NodeMonitorGracePeriod time.Duration
	PodEvictionTimeout     time.Duration
	NodeMonitorPeriod      time.Duration
}

// NewCmdControllerManager returns the `kl controller-manager` command.
// runF, if not nil, replaces running the manager and receives the bound
// and validated options (tests use it to check flag parsing).
func NewCmdControllerManager(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "controller-manager",
		Short: "Run the controllers (Deployments, ReplicaSets, ...)",
		Long: `Run the controllers: the control loops that make Deployments roll out
through ReplicaSets, ReplicaSets keep their pods, and so on.

With --leader-elect (the default) several controller-managers may run;
they share the Lease kube-system/kl-controller-manager and only its holder
runs the controllers. A holder that cannot renew the lease within
--renew-deadline stops its controllers and campaigns again; on SIGTERM it
releases the lease so another takes over at once.

--controllers selects the controllers: '*' (all, the default), a name to
turn one on, -name to turn one off, e.g. --controllers '*,-deployment'.

/metrics (Prometheus) and /healthz are served on --metrics-addr.

Every flag can also be set by an environment variable (--workers by
KL_WORKERS) or by a key of the YAML file given with --config (workers: 20).
A flag on the command line wins over the environment, which wins over the
file.`,
		Example: `  # Against a local apiserver
  kl controller-manager --server http://127.0.0.1:6443

  # Only the ReplicaSet controller, no leader election
  kl controller-manager --server http://127.0.0.1:6443 --controllers replicaset --leader-elect=false`,
		Args: cmdutil.UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cmdutil.BindFlags(cmd, cmdutil.EnvPrefix, opts.ConfigFile); err != nil {
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
			return runControllerManager(cmd.Context(), opts)
		},
	}

	fl := cmd.Flags()
	fl.StringVar(&opts.ConfigFile, "config", "", "YAML `FILE` whose keys are flag names, e.g. \"workers: 20\" (command-line flags and KL_* variables win)")
	fl.StringSliceVar(&opts.Controllers, "controllers", []string{"*"}, "controllers to run: '*' for all, NAME to turn one on, -NAME to turn one off")
	fl.BoolVar(&opts.LeaderElect, "leader-elect", true, "run the controllers only while holding the lease kube-system/kl-controller-manager")
	fl.DurationVar(&opts.LeaseDuration, "lease-duration", leaderelection.DefaultLeaseDuration, "how long other candidates wait after the lease last changed before taking it over")
	fl.DurationVar(&opts.RenewDeadline, "renew-deadline", leaderelection.DefaultRenewDeadline, "how long the leader tries to renew the lease before it stops leading")
	fl.DurationVar(&opts.RetryPeriod, "retry-period", leaderelection.DefaultRetryPeriod, "time between attempts to acquire or renew the lease")
	fl.IntVar(&opts.Workers, "workers", manager.DefaultWorkers, "concurrent reconciles per controller")
	fl.StringVar(&opts.MetricsAddr, "metrics-addr", "127.0.0.1:10257", "address (host:port) serving /metrics and /healthz; 0 disables")
	fl.DurationVar(&opts.NodeMonitorGracePeriod, "node-monitor-grace-period", 40*time.Second, "how long a node's kubelet may stay silent (no Lease renewal) before the node turns Ready=Unknown and is tainted unreachable")
	fl.DurationVar(&opts.PodEvictionTimeout, "pod-eviction-timeout", 5*time.Minute, "how long pods stay on an unreachable node before they are deleted (and recreated elsewhere by their controllers)")
	fl.DurationVar(&opts.NodeMonitorPeriod, "node-monitor-period", 5*time.Second, "how often node health is checked")
	// The component's config file comes from the command line only: KL_CONFIG
	// names the client's config file, a different thing.
	if err := cmdutil.MarkFlagNoBind(fl, "config"); err != nil {
		panic(err) // the flag is defined just above
	}
	return cmd
}

// validate checks the flags before anything starts, naming the flag at
// fault.
func (o *Options) validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if _, err := manager.ParseSelection(o.Controllers, manager.DefaultControllers()); err != nil {
		errs = append(errs, err)
	}
	if o.Workers < 1 {
		add("--workers must be at least 1, got %d", o.Workers)
	}
	if o.LeaderElect {
		switch {
		case o.LeaseDuration < time.Second:
			add("--lease-duration %v must be at least 1s", o.LeaseDuration)
		case o.RenewDeadline >= o.LeaseDuration:
			add("--renew-deadline %v must be less than --lease-duration %v", o.RenewDeadline, o.LeaseDuration)
		}
		if o.RetryPeriod <= 0 || o.RetryPeriod >= o.RenewDeadline {
			add("--retry-period %v must be positive and less than --renew-deadline %v", o.RetryPeriod, o.RenewDeadline)
		}
	}
	if o.MetricsAddr != "0" && o.MetricsAddr != "" {
		if _, port, err := net.SplitHostPort(o.MetricsAddr); err != nil {
			add("--metrics-addr %q: want host:port, e.g. 127.0.0.1:10257, or 0 to disable", o.MetricsAddr)
		} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			add("--metrics-addr %q: port %q is not a number from 0 to 65535", o.MetricsAddr, port)
		}
	}
	return errors.Join(errs...)
}

// Config returns the manager configuration the options describe, using c
// to talk to the apiserver.
func (o *Options) Config(c *client.Client) manager.Config {
	return manager.Config{
		Client:        c,
		Controllers:   o.Controllers,
		Workers:       o.Workers,
		LeaderElect:   o.LeaderElect,
		LeaseDuration: o.LeaseDuration,
		RenewDeadline: o.RenewDeadline,
		RetryPeriod:   o.RetryPeriod,
		MetricsAddr:   o.MetricsAddr,
		Logger:        o.Logger,

		NodeMonitorGracePeriod: o.NodeMonitorGracePeriod,
		PodEvictionTimeout:     o.PodEvictionTimeout,
		NodeMonitorPeriod:      o.NodeMonitorPeriod,
	}
}

// runControllerManager runs until ctx is cancelled (SIGINT/SIGTERM).
func runControllerManager(ctx context.Context, opts *Options) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	m, err := manager.New(opts.Config(c))
	if err != nil {
		return fmt.Errorf("start controller-manager: %w", err)
	}
	return m.Run(ctx)
}
