// Package scheduler implements `kl scheduler`: flags, environment and config
// file -> scheduler.Config -> scheduler.New(cfg).Run(ctx), under leader
// election (by default) so that only one of several copies schedules.
package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"sigs.k8s.io/yaml"

	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/leaderelection"
	"github.com/kl-dev/kl/pkg/scheduler"
	"github.com/kl-dev/kl/pkg/scheduler/framework"
	"github.com/kl-dev/kl/pkg/scheduler/framework/plugins"
)

// Options are the parsed flags of `kl scheduler` and its dependencies.
type Options struct {
	// Logger receives the scheduler's logs.
	Logger *slog.Logger
	// Client returns the API client (the global --server flag, KL_SERVER or
	// the client config file name the apiserver).
	Client func() (*client.Client, error)

	ConfigFile string
	// Plugins is the plugins section of the config file.
	Plugins framework.Plugins

	SchedulerName            string
	PercentageOfNodesToScore int
	Parallelism              int
	ScheduledEvents          bool
	MetricsAddr              string

	LeaderElect    bool
	LeaseNamespace string
	LeaseName      string
	LeaseDuration  time.Duration
	RenewDeadline  time.Duration
	RetryPeriod    time.Duration
}

// pluginsKey is the config file key of the plugin configuration; every
// other key names a flag.
const pluginsKey = "plugins"

// NewCmdScheduler returns the `kl scheduler` command. runF, if not nil,
// replaces running the scheduler and receives the bound and validated
// options (tests use it to check flag parsing alone).
func NewCmdScheduler(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "scheduler",
		Short: "Run the scheduler, which assigns pending pods to nodes",
		Long: `Run the scheduler: it watches pods without a node and binds each to a node
that fits it, as kube-scheduler does. Filters rule nodes out (cordoned, not
ready, node selector, taints, cpu/memory/ephemeral-storage/pod count, host
ports); scores rank the rest (least allocated, balanced allocation, spread
of a controller's pods). A pod that fits nowhere gets PodScheduled=False and
a FailedScheduling event, and is retried when the cluster changes.

With --leader-elect (the default) several copies can run: they share the
Lease kube-system/kl-scheduler and only its holder schedules.

Every flag can also be set by an environment variable (--metrics-addr by
KL_METRICS_ADDR) or by a key of the YAML file given with --config, which
also selects the plugins:

  leader-elect: true
  percentage-of-nodes-to-score: 50
  plugins:
    filter:
      disabled: [NodePorts]          # "*" disables every default
    score:
      enabled: [{name: LeastAllocated, weight: 2}]

A flag on the command line wins over the environment, which wins over the
file.

Filter plugins: NodeUnschedulable, NodeReady, NodeSelector, TaintToleration,
NodeResourcesFit, NodePorts. Score plugins (default weight): LeastAllocated
(1), BalancedAllocation (1), SelectorSpread (2).`,
		Example: `  # Schedule for the apiserver on this machine
  kl scheduler --server http://127.0.0.1:6443

  # A single scheduler without leader election, metrics off
  kl scheduler --server http://127.0.0.1:6443 --leader-elect=false --metrics-addr 0

  # Plugins and weights from a file
  kl scheduler --server https://10.0.0.1:6443 --config scheduler.yaml`,
		Args: cmdutil.UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cmdutil.BindFlags(cmd, cmdutil.EnvPrefix, ""); err != nil {
				return err
			}
			if err := opts.loadConfigFile(cmd.Flags()); err != nil {
				return err
			}
			if err := opts.validate(); err != nil {
				return err
			}
			opts.Logger = f.Logger()
			opts.Client = f.Client
			if runF != nil {
				return runF(opts)
			}
			return runScheduler(cmd.Context(), opts)
		},
	}

	fl := cmd.Flags()
	fl.StringVar(&opts.ConfigFile, "config", "", "YAML `FILE` with flag values (\"leader-elect: false\") and the plugins section (command-line flags and KL_* variables win)")
	fl.StringVar(&opts.SchedulerName, "scheduler-name", "default-scheduler", "schedule the pods whose spec.schedulerName is this (or empty); also the events' source")
	fl.IntVar(&opts.PercentageOfNodesToScore, "percentage-of-nodes-to-score", 0, "in clusters of 100 nodes or more, stop filtering once this share of the nodes (at least 100) fits; 0 adapts it to the cluster's size as kube-scheduler does")
	fl.IntVar(&opts.Parallelism, "parallelism", scheduler.DefaultParallelism, "goroutines filtering nodes for a pod")
	fl.BoolVar(&opts.ScheduledEvents, "scheduled-events", true, "record a Scheduled event for each bound pod (one write each; at most 100/s, bursts of 500)")
	fl.StringVar(&opts.MetricsAddr, "metrics-addr", "127.0.0.1:10259", "host:port to serve /metrics and /healthz on; 0 to not serve them")
	fl.BoolVar(&opts.LeaderElect, "leader-elect", true, "schedule only while holding the scheduler's lease, so that several copies can run")
	fl.StringVar(&opts.LeaseNamespace, "lease-namespace", scheduler.DefaultLeaseNamespace, "namespace of the leader election Lease")
	fl.StringVar(&opts.LeaseName, "lease-name", scheduler.DefaultLeaseName, "name of the leader election Lease")
	fl.DurationVar(&opts.LeaseDuration, "lease-duration", leaderelection.DefaultLeaseDuration, "how long other candidates wait for a silent leader before taking over")
	fl.DurationVar(&opts.RenewDeadline, "renew-deadline", leaderelection.DefaultRenewDeadline, "how long the leader tries to renew its lease before it stops scheduling")
	fl.DurationVar(&opts.RetryPeriod, "retry-period", leaderelection.DefaultRetryPeriod, "time between attempts to acquire or renew the lease")
	// The component's config file comes from the command line only: KL_CONFIG
	// names the client's config file, a different thing.
	if err := cmdutil.MarkFlagNoBind(fl, "config"); err != nil {
		panic(err) // the flag is defined just above
	}
	return cmd
}

// loadConfigFile reads --config: the plugins section into o.Plugins, and
// every other key as the value of the flag of that name, for flags set
// neither on the command line nor by the environment. (cmdutil.BindFlags
// reads files whose keys are all flags; this file also has plugins.)
func (o *Options) loadConfigFile(fs *pflag.FlagSet) error {
	if o.ConfigFile == "" {
		return nil
	}
	path, err := cmdutil.ExpandHome(o.ConfigFile)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read config file: %w", err)
	}
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		return fmt.Errorf("config file %s: %w", o.ConfigFile, err)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(j, &keys); err != nil {
		return fmt.Errorf("config file %s: want a map of flag names (and plugins) to values: %w", o.ConfigFile, err)
	}
	if raw, ok := keys[pluginsKey]; ok {
		delete(keys, pluginsKey)
		if o.Plugins, err = framework.DecodePlugins(raw); err != nil {
			return fmt.Errorf("config file %s: plugins: %w", o.ConfigFile, err)
		}
	}
	var errs, unknown []string
	for _, name := range sortedKeys(keys) {
		fl := fs.Lookup(name)
		if fl == nil || name == "config" || name == "help" {
			unknown = append(unknown, strconv.Quote(name))
			continue
		}
		if fl.Changed {
			continue // the command line or the environment said otherwise
		}
		if err := setFlag(fs, fl, keys[name]); err != nil {
			errs = append(errs, fmt.Sprintf("invalid value for --%s from config file %s: %v", name, o.ConfigFile, err))
		}
	}
	if len(unknown) > 0 {
		errs = append(errs, fmt.Sprintf("config file %s: unknown key %s (keys are the command's flag names without dashes, e.g. leader-elect, and plugins)",
			o.ConfigFile, strings.Join(unknown, ", ")))
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "\n"))
	}
	return nil
}

// setFlag sets fl from a JSON value of the config file.
func setFlag(fs *pflag.FlagSet, fl *pflag.Flag, raw json.RawMessage) error {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return err
	}
	switch v := v.(type) {
	case map[string]any, []any, nil:
		return fmt.Errorf("want a single %s", fl.Value.Type())
	case float64:
		return fs.Set(fl.Name, strconv.FormatFloat(v, 'f', -1, 64))
	default:
		return fs.Set(fl.Name, fmt.Sprint(v))
	}
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// validate checks the flags before anything starts, naming the flag at
// fault.
func (o *Options) validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if o.SchedulerName == "" {
		add("--scheduler-name must not be empty")
	}
	if o.PercentageOfNodesToScore < 0 || o.PercentageOfNodesToScore > 100 {
		add("--percentage-of-nodes-to-score %d: want 0 (adaptive) to 100", o.PercentageOfNodesToScore)
	}
	if o.Parallelism < 1 {
		add("--parallelism %d: want at least 1", o.Parallelism)
	}
	if !o.metricsDisabled() {
		if _, port, err := net.SplitHostPort(o.MetricsAddr); err != nil {
			add("--metrics-addr %q: want host:port, e.g. 127.0.0.1:10259, or 0 to disable", o.MetricsAddr)
		} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			add("--metrics-addr %q: port %q is not a number from 0 to 65535", o.MetricsAddr, port)
		}
	}
	if o.LeaderElect {
		switch {
		case o.LeaseNamespace == "" || o.LeaseName == "":
			add("--lease-namespace and --lease-name must not be empty")
		case o.LeaseDuration < time.Second:
			add("--lease-duration %v: want at least 1s", o.LeaseDuration)
		case o.RenewDeadline >= o.LeaseDuration:
			add("--renew-deadline %v must be less than --lease-duration %v, so a leader that cannot renew stops before others take over", o.RenewDeadline, o.LeaseDuration)
		case o.RetryPeriod <= 0 || o.RetryPeriod >= o.RenewDeadline:
			add("--retry-period %v must be positive and less than --renew-deadline %v", o.RetryPeriod, o.RenewDeadline)
		}
	}
	// Plugin names are checked now rather than once connected.
	if _, err := framework.New(plugins.NewInTreeRegistry(), plugins.DefaultPlugins(), o.Plugins); err != nil {
		if o.ConfigFile != "" {
			add("config file %s: %v", o.ConfigFile, err)
		} else {
			add("%v", err)
		}
	}
	return errors.Join(errs...)
}

func (o *Options) metricsDisabled() bool { return o.MetricsAddr == "" || o.MetricsAddr == "0" }

// Config returns the scheduler configuration the options describe.
func (o *Options) Config(c *client.Client) scheduler.Config {
	return scheduler.Config{
		Client:                   c,
		SchedulerName:            o.SchedulerName,
		Plugins:                  o.Plugins,
		PercentageOfNodesToScore: o.PercentageOfNodesToScore,
		Parallelism:              o.Parallelism,
		SkipScheduledEvents:      !o.ScheduledEvents,
		LeaderElect:              o.LeaderElect,
		LeaseNamespace:           o.LeaseNamespace,
		LeaseName:                o.LeaseName,
		LeaseDuration:            o.LeaseDuration,
		RenewDeadline:            o.RenewDeadline,
		RetryPeriod:              o.RetryPeriod,
		MetricsAddr:              o.MetricsAddr,
		Logger:                   o.Logger,
	}
}

// runScheduler schedules until ctx is cancelled (SIGINT/SIGTERM).
func runScheduler(ctx context.Context, opts *Options) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	sched, err := scheduler.New(opts.Config(c))
	if err != nil {
		return err
	}
	return sched.Run(ctx)
}
