package scheduler

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/client/clock"
	"github.com/kl-dev/kl/pkg/client/informer"
	"github.com/kl-dev/kl/pkg/leaderelection"
	"github.com/kl-dev/kl/pkg/scheduler/framework"
	"github.com/kl-dev/kl/pkg/scheduler/internal/queue"
)

// Defaults of Config.
const (
	DefaultBindConcurrency = 32
	DefaultParallelism     = 2
	DefaultLeaseNamespace  = "kube-system"
	DefaultLeaseName       = "kl-scheduler"
)

// Config is everything the scheduler needs; `kl scheduler` fills it from
// flags, environment and its --config file.
type Config struct {
	// Client reaches the apiserver.
	Client *client.Client
	// SchedulerName selects the pods to schedule: those whose
	// spec.schedulerName is this name, or empty (default
	// "default-scheduler"). It is also the component events are reported
	// as.
	SchedulerName string
	// Plugins changes the default profile (plugins.DefaultPlugins): the
	// plugins section of the --config file.
	Plugins framework.Plugins
	// Registry holds the plugins that can be enabled (default
	// plugins.NewInTreeRegistry()).
	Registry framework.Registry
	// PercentageOfNodesToScore bounds the search for feasible nodes in a
	// big cluster: once that share of the nodes (and at least 100) is found
	// feasible, the rest are not filtered. 0 picks Kubernetes' adaptive
	// default (50% for 100 nodes down to 5% from 5,625 nodes); 100 filters
	// every node.
	PercentageOfNodesToScore int
	// Parallelism is the number of goroutines that filter nodes for one pod
	// (default 2).
	Parallelism int
	// BindConcurrency bounds the binds in flight at once (default 32).
	BindConcurrency int
	// PodInitialBackoff and PodMaxBackoff bound the back-off of a pod that
	// failed (defaults 1s and 10s); UnschedulableTimeout is the longest an
	// unschedulable pod waits for a cluster change before it is retried
	// anyway (default 30s).
	PodInitialBackoff    time.Duration
	PodMaxBackoff        time.Duration
	UnschedulableTimeout time.Duration
	// SkipScheduledEvents stops the "Successfully assigned NS/NAME to NODE"
	// event for each bound pod. Each is one more write for the apiserver,
	// about as costly as the bind itself, so they are also rate limited to
	// 100/s (bursts of 500): beyond that, bound pods go without one.
	// FailedScheduling events are always sent.
	SkipScheduledEvents bool
	// LeaderElect schedules only while holding the Lease
	// LeaseNamespace/LeaseName (default kube-system/kl-scheduler), so that
	// several copies can run.
	LeaderElect    bool
	LeaseNamespace string
	LeaseName      string
	// LeaseDuration, RenewDeadline and RetryPeriod: see
	// leaderelection.Config (defaults 15s, 10s, 2s).
	LeaseDuration time.Duration
	RenewDeadline time.Duration
	RetryPeriod   time.Duration
	// Identity names this instance in the lease and in events'
	// reportingInstance (default hostname_UUID).
	Identity string

	// MetricsAddr is host:port to serve /metrics and /healthz on; "" or
	// "0" serves nothing.
	MetricsAddr string

	// Pods and Nodes, when set (both), are informers the process shares
	// with its other components (kl server shares them with the
	// controller-manager, so that the process holds one copy of every
	// pod). Their owner runs them; the scheduler only adds its handlers.
	// Not allowed with LeaderElect: each term starts afresh.
	Pods  *informer.Informer[*corev1.Pod]
	Nodes *informer.Informer[*corev1.Node]

	// Clock tells the time (default: the real clock).
	Clock clock.Clock
	// Logger receives the scheduler's logs (default: discard).
	Logger *slog.Logger
}

// defaults fills unset fields and checks the others.
func (c *Config) defaults() error {
	var errs []error
	if c.Client == nil {
		errs = append(errs, errors.New("no API client"))
	}
	if (c.Pods == nil) != (c.Nodes == nil) {
		errs = append(errs, errors.New("shared informers: give both pods and nodes, or neither"))
	}
	if c.Pods != nil && c.LeaderElect {
		errs = append(errs, errors.New("shared informers cannot be used with leader election"))
	}
	if c.SchedulerName == "" {
		c.SchedulerName = corev1.DefaultSchedulerName
	}
	if c.PercentageOfNodesToScore < 0 || c.PercentageOfNodesToScore > 100 {
		errs = append(errs, fmt.Errorf("percentage of nodes to score %d: want 0 (adaptive) to 100", c.PercentageOfNodesToScore))
	}
	if c.Parallelism < 0 || c.BindConcurrency < 0 {
		errs = append(errs, fmt.Errorf("parallelism %d and bind concurrency %d must not be negative", c.Parallelism, c.BindConcurrency))
	}
	if c.Parallelism == 0 {
		c.Parallelism = DefaultParallelism
	}
	if c.BindConcurrency == 0 {
		c.BindConcurrency = DefaultBindConcurrency
	}
	if c.PodInitialBackoff == 0 {
		c.PodInitialBackoff = queue.DefaultInitialBackoff
	}
	if c.PodMaxBackoff == 0 {
		c.PodMaxBackoff = queue.DefaultMaxBackoff
	}
	if c.PodMaxBackoff < c.PodInitialBackoff {
		errs = append(errs, fmt.Errorf("pod max back-off %v is less than the initial back-off %v", c.PodMaxBackoff, c.PodInitialBackoff))
	}
	if c.UnschedulableTimeout == 0 {
		c.UnschedulableTimeout = queue.DefaultUnschedulableTimeout
	}
	if c.LeaseNamespace == "" {
		c.LeaseNamespace = DefaultLeaseNamespace
	}
	if c.LeaseName == "" {
		c.LeaseName = DefaultLeaseName
	}
	if c.Identity == "" {
		id, err := leaderelection.DefaultIdentity()
		if err != nil {
			errs = append(errs, err)
		}
		c.Identity = id
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return errors.Join(errs...)
}
