package leaderelection

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	coordinationv1 "github.com/kl-dev/kl/pkg/api/coordination/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/client/clock"
)

// Defaults of Config, those of Kubernetes' components.
const (
	DefaultLeaseDuration = 15 * time.Second
	DefaultRenewDeadline = 10 * time.Second
	DefaultRetryPeriod   = 2 * time.Second
)

// jitterFactor spreads the candidates' acquisition attempts: each waits
// between RetryPeriod and RetryPeriod*(1+jitterFactor), as in client-go.
const jitterFactor = 1.2

// LeasesGVR is the resource the elector reads and writes.
var LeasesGVR = meta.GroupVersionResource{Group: coordinationv1.GroupName, Version: coordinationv1.Version, Resource: "leases"}

// Config configures an Elector.
type Config struct {
	// Client reaches the apiserver.
	Client *client.Client
	// Namespace and Name name the Lease, e.g. kube-system/kl-scheduler.
	Namespace string
	Name      string
	// Identity names this candidate in the lease; it must differ between
	// candidates (default: hostname_UUID).
	Identity string
	// LeaseDuration is how long other candidates wait, after they last saw
	// the lease change, before taking it over (default 15s).
	LeaseDuration time.Duration
	// RenewDeadline is how long the leader keeps trying to renew before it
	// stops leading; it must be less than LeaseDuration (default 10s).
	RenewDeadline time.Duration
	// RetryPeriod is the time between attempts to acquire or renew
	// (default 2s).
	RetryPeriod time.Duration
	// Clock tells the time (default: the real clock); tests use a fake.
	Clock clock.Clock
	// Logger receives leadership changes (default: discard).
	Logger *slog.Logger
}

// LeaseClient reads and writes Leases of one namespace;
// *client.Resource[coordinationv1.Lease] scoped to a namespace is one.
type LeaseClient interface {
	Get(ctx context.Context, name string) (*coordinationv1.Lease, error)
	Create(ctx context.Context, lease *coordinationv1.Lease, opts client.CreateOptions) (*coordinationv1.Lease, error)
	Update(ctx context.Context, lease *coordinationv1.Lease, opts client.UpdateOptions) (*coordinationv1.Lease, error)
}

// Elector campaigns for one Lease. Make it with New and call Run.
type Elector struct {
	cfg    Config
	leases LeaseClient
	clock  clock.Clock
	log    *slog.Logger

	leading atomic.Bool

	mu sync.Mutex
	// observed is the lease as last read or written; observedTime is when
	// this candidate last saw its spec change, on its own clock.
	observed     *coordinationv1.Lease
	observedTime time.Time
}

// New checks cfg, fills in defaults and returns an Elector.
func New(cfg Config) (*Elector, error) {
	if cfg.Client == nil {
		return nil, errors.New("leader election: no API client")
	}
	if cfg.Namespace == "" {
		return nil, errors.New("leader election: no lease namespace")
	}
	leases := client.NewResource[coordinationv1.Lease](cfg.Client, LeasesGVR, true).Namespace(cfg.Namespace)
	return newElector(cfg, leases)
}

// newElector is New with the lease client given (tests pass a fake).
func newElector(cfg Config, leases LeaseClient) (*Elector, error) {
	if cfg.LeaseDuration == 0 {
		cfg.LeaseDuration = DefaultLeaseDuration
	}
	if cfg.RenewDeadline == 0 {
		cfg.RenewDeadline = DefaultRenewDeadline
	}
	if cfg.RetryPeriod == 0 {
		cfg.RetryPeriod = DefaultRetryPeriod
	}
	if cfg.Identity == "" {
		id, err := DefaultIdentity()
		if err != nil {
			return nil, err
		}
		cfg.Identity = id
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	var errs []error
	if cfg.Name == "" {
		errs = append(errs, errors.New("no lease name"))
	}
	if cfg.LeaseDuration < time.Second {
		// The lease stores whole seconds.
		errs = append(errs, fmt.Errorf("lease duration %v is shorter than 1s", cfg.LeaseDuration))
	}
	if cfg.RenewDeadline >= cfg.LeaseDuration {
		errs = append(errs, fmt.Errorf("renew deadline %v must be less than the lease duration %v", cfg.RenewDeadline, cfg.LeaseDuration))
	}
	if cfg.RetryPeriod <= 0 || cfg.RetryPeriod >= cfg.RenewDeadline {
		errs = append(errs, fmt.Errorf("retry period %v must be positive and less than the renew deadline %v", cfg.RetryPeriod, cfg.RenewDeadline))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("leader election: %w", err)
	}
	return &Elector{
		cfg:    cfg,
		leases: leases,
		clock:  cfg.Clock,
		log:    cfg.Logger.With("lease", cfg.Namespace+"/"+cfg.Name, "identity", cfg.Identity),
	}, nil
}

// DefaultIdentity returns hostname_UUID, unique per process.
func DefaultIdentity() (string, error) {
	host, err := os.Hostname()
	if err != nil {
		return "", fmt.Errorf("leader election identity: %w", err)
	}
	return host + "_" + uuid.NewString(), nil
}

// Identity returns the name this candidate writes into the lease.
func (e *Elector) Identity() string { return e.cfg.Identity }

// IsLeader reports whether this candidate currently leads.
func (e *Elector) IsLeader() bool { return e.leading.Load() }

// Leader returns the holder of the lease as last observed ("" if none).
func (e *Elector) Leader() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.observed == nil {
		return ""
	}
	return e.observed.Holder()
}

// Run campaigns for the lease until ctx is cancelled. Each time it becomes
// the leader it calls onStartedLeading in a new goroutine with a context
// that is cancelled when leadership ends; once that call has returned it
// calls onStoppedLeading (if not nil), and campaigns again.
//
// When ctx is cancelled while leading, Run waits for onStartedLeading to
// return, releases the lease so another candidate can take over at once,
// calls onStoppedLeading and returns nil. If onStartedLeading returns on its
// own while leading, Run does the same: it releases the lease and returns.
func (e *Elector) Run(ctx context.Context, onStartedLeading func(context.Context), onStoppedLeading func()) error {
	for {
		if !e.acquire(ctx) {
			return nil // ctx cancelled
		}
		e.log.Info("became leader")
		leaderCtx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			onStartedLeading(leaderCtx)
		}()
		lost := e.renew(leaderCtx, done)
		// Stop the work before anything else: another candidate may take
		// the lease once it expires.
		stop()
		<-done
		e.leading.Store(false)
		if !lost {
			e.release()
		}
		if onStoppedLeading != nil {
			onStoppedLeading()
		}
		if !lost {
			return nil // ctx cancelled, or the work ended on its own
		}
	}
}

// acquire tries to take the lease every RetryPeriod (jittered) until it
// succeeds (true) or ctx is cancelled (false).
func (e *Elector) acquire(ctx context.Context) bool {
	e.log.Debug("trying to acquire the lease")
	for {
		if e.tryAcquireOrRenew(ctx) {
			e.leading.Store(true)
			return true
		}
		jitter := time.Duration(rand.Float64() * jitterFactor * float64(e.cfg.RetryPeriod))
		if !e.sleep(ctx, nil, e.cfg.RetryPeriod+jitter) {
			return false
		}
	}
}

// renew keeps the lease until renewal has failed for RenewDeadline (it
// returns true: leadership lost), ctx is cancelled or done is closed (it
// returns false).
func (e *Elector) renew(ctx context.Context, done <-chan struct{}) (lost bool) {
	lastRenew := e.clock.Now()
	for {
		if !e.sleep(ctx, done, e.cfg.RetryPeriod) {
			return false
		}
		for {
			start := e.clock.Now()
			remaining := lastRenew.Add(e.cfg.RenewDeadline).Sub(start)
			if remaining <= 0 {
				e.log.Warn("failed to renew the lease within the renew deadline; stopping leading", "renewDeadline", e.cfg.RenewDeadline)
				return true
			}
			attemptCtx, cancel := context.WithTimeout(ctx, remaining)
			ok := e.tryAcquireOrRenew(attemptCtx)
			cancel()
			if ok {
				lastRenew = start
				break
			}
			if ctx.Err() != nil {
				return false
			}
			if holder := e.Leader(); holder != "" && holder != e.cfg.Identity {
				e.log.Warn("the lease was taken over; stopping leading", "holder", holder)
				return true
			}
			// Retry within the deadline, not sooner than RetryPeriod.
			wait := min(e.cfg.RetryPeriod, lastRenew.Add(e.cfg.RenewDeadline).Sub(e.clock.Now()))
			if !e.sleep(ctx, done, wait) {
				return false
			}
		}
	}
}

// sleep waits d on the clock; false if ctx is cancelled or done is closed
// first.
func (e *Elector) sleep(ctx context.Context, done <-chan struct{}, d time.Duration) bool {
	t := e.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return true
	case <-ctx.Done():
		return false
	case <-done:
		return false
	}
}

// tryAcquireOrRenew makes one attempt to create, take over or renew the
// lease and reports whether this candidate holds it afterwards.
func (e *Elector) tryAcquireOrRenew(ctx context.Context) bool {
	now := e.clock.Now()
	lease, err := e.leases.Get(ctx, e.cfg.Name)
	if meta.IsNotFound(err) {
		created, err := e.leases.Create(ctx, e.newLease(now), client.CreateOptions{})
		if err != nil {
			if !meta.IsAlreadyExists(err) { // not just another candidate's win
				e.log.Warn("cannot create the lease", "err", err)
			}
			return false
		}
		e.observe(created, now)
		return true
	}
	if err != nil {
		e.log.Warn("cannot read the lease", "err", err)
		return false
	}
	e.observe(lease, now)

	holder := lease.Holder()
	if holder != "" && holder != e.cfg.Identity && !e.observedExpired(now) {
		return false // held by a live leader
	}
	next := lease.DeepCopy()
	spec := &next.Spec
	if holder != e.cfg.Identity {
		spec.AcquireTime = microTime(now)
		spec.LeaseTransitions = meta.Int32p(deref(lease.Spec.LeaseTransitions) + 1)
		if holder != "" {
			e.log.Info("taking over an expired lease", "previousHolder", holder)
		}
	}
	spec.HolderIdentity = meta.Stringp(e.cfg.Identity)
	spec.LeaseDurationSeconds = meta.Int32p(e.leaseSeconds())
	spec.RenewTime = microTime(now)
	updated, err := e.leases.Update(ctx, next, client.UpdateOptions{})
	if err != nil {
		if !meta.IsConflict(err) { // a Conflict: another candidate wrote first
			e.log.Warn("cannot update the lease", "err", err)
		}
		return false
	}
	e.observe(updated, now)
	return true
}

// release gives the lease up: no holder and a 1s duration, so that the
// next candidate takes it at once. It is best effort (the context Run was
// given is already cancelled, so it gets RenewDeadline of its own).
func (e *Elector) release() {
	e.mu.Lock()
	lease := e.observed.DeepCopy()
	e.mu.Unlock()
	if lease == nil || lease.Holder() != e.cfg.Identity {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), e.cfg.RenewDeadline)
	defer cancel()
	now := e.clock.Now()
	lease.Spec.HolderIdentity = meta.Stringp("")
	lease.Spec.LeaseDurationSeconds = meta.Int32p(1)
	lease.Spec.AcquireTime = microTime(now)
	lease.Spec.RenewTime = microTime(now)
	updated, err := e.leases.Update(ctx, lease, client.UpdateOptions{})
	if err != nil {
		e.log.Warn("releasing the lease failed; others take over when it expires", "err", err)
		return
	}
	e.observe(updated, now)
	e.log.Info("released the lease")
}

func (e *Elector) newLease(now time.Time) *coordinationv1.Lease {
	return &coordinationv1.Lease{
		ObjectMeta: meta.ObjectMeta{Name: e.cfg.Name, Namespace: e.cfg.Namespace},
		Spec: coordinationv1.LeaseSpec{
			HolderIdentity:       meta.Stringp(e.cfg.Identity),
			LeaseDurationSeconds: meta.Int32p(e.leaseSeconds()),
			AcquireTime:          microTime(now),
			RenewTime:            microTime(now),
			LeaseTransitions:     meta.Int32p(0),
		},
	}
}

// observe records lease as the latest state seen, and now as the time it
// was seen to change if its spec differs from the previous observation.
func (e *Elector) observe(lease *coordinationv1.Lease, now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.observed == nil || !sameSpec(&e.observed.Spec, &lease.Spec) {
		e.observedTime = now
	}
	e.observed = lease
}

// observedExpired reports whether the observed lease has gone unchanged
// for its leaseDurationSeconds, on this candidate's clock.
func (e *Elector) observedExpired(now time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	d := time.Duration(deref(e.observed.Spec.LeaseDurationSeconds)) * time.Second
	return !e.observedTime.Add(d).After(now)
}

func (e *Elector) leaseSeconds() int32 {
	return int32(e.cfg.LeaseDuration / time.Second)
}

func sameSpec(a, b *coordinationv1.LeaseSpec) bool {
	return derefStr(a.HolderIdentity) == derefStr(b.HolderIdentity) &&
		deref(a.LeaseDurationSeconds) == deref(b.LeaseDurationSeconds) &&
		deref(a.LeaseTransitions) == deref(b.LeaseTransitions) &&
		sameTime(a.AcquireTime, b.AcquireTime) &&
		sameTime(a.RenewTime, b.RenewTime)
}

func sameTime(a, b *meta.MicroTime) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(b.Time)
}

func microTime(t time.Time) *meta.MicroTime {
	return &meta.MicroTime{Time: t.UTC().Truncate(time.Microsecond)}
}

func deref(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

func derefStr(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
