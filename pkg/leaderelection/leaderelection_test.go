package leaderelection

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	coordinationv1 "github.com/kl-dev/kl/pkg/api/coordination/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/client/clock/clocktest"
)

// fakeLeases is an in-memory lease store with the apiserver's optimistic
// concurrency: an update must carry the stored resourceVersion.
type fakeLeases struct {
	mu     sync.Mutex
	rv     int
	leases map[string]*coordinationv1.Lease
	// writes records every successful write: who, and the lease after it.
	writes []coordinationv1.Lease
}

func newFakeLeases() *fakeLeases { return &fakeLeases{leases: map[string]*coordinationv1.Lease{}} }

func (f *fakeLeases) get(name string) *coordinationv1.Lease {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.leases[name].DeepCopy()
}

// candidateClient is one candidate's connection to the fake store; it can
// be cut off to simulate an unreachable apiserver.
type candidateClient struct {
	store       *fakeLeases
	unreachable sync.Mutex
	cut         bool
}

var errUnreachable = errors.New("cannot reach the kl apiserver: connection refused")

func (c *candidateClient) setCut(cut bool) {
	c.unreachable.Lock()
	c.cut = cut
	c.unreachable.Unlock()
}

func (c *candidateClient) down() bool {
	c.unreachable.Lock()
	defer c.unreachable.Unlock()
	return c.cut
}

func (c *candidateClient) Get(_ context.Context, name string) (*coordinationv1.Lease, error) {
	if c.down() {
		return nil, errUnreachable
	}
	f := c.store
	f.mu.Lock()
	defer f.mu.Unlock()
	l, ok := f.leases[name]
	if !ok {
		return nil, meta.NewNotFound(coordinationv1.GroupName, "leases", name)
	}
	return l.DeepCopy(), nil
}

func (c *candidateClient) Create(_ context.Context, lease *coordinationv1.Lease, _ client.CreateOptions) (*coordinationv1.Lease, error) {
	if c.down() {
		return nil, errUnreachable
	}
	f := c.store
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.leases[lease.Name]; ok {
		return nil, meta.NewAlreadyExists(coordinationv1.GroupName, "leases", lease.Name)
	}
	return f.storeLocked(lease), nil
}

func (c *candidateClient) Update(_ context.Context, lease *coordinationv1.Lease, _ client.UpdateOptions) (*coordinationv1.Lease, error) {
	if c.down() {
		return nil, errUnreachable
	}
	f := c.store
	f.mu.Lock()
	defer f.mu.Unlock()
	cur, ok := f.leases[lease.Name]
	if !ok {
		return nil, meta.NewNotFound(coordinationv1.GroupName, "leases", lease.Name)
	}
	if lease.ResourceVersion != cur.ResourceVersion {
		return nil, meta.NewConflict(coordinationv1.GroupName, "leases", lease.Name, "the object has been modified")
	}
	return f.storeLocked(lease), nil
}

func (f *fakeLeases) storeLocked(lease *coordinationv1.Lease) *coordinationv1.Lease {
	f.rv++
	stored := lease.DeepCopy()
	stored.ResourceVersion = strconv.Itoa(f.rv)
	f.leases[lease.Name] = stored
	f.writes = append(f.writes, *stored.DeepCopy())
	return stored.DeepCopy()
}

// lastWriteBy returns the time (renewTime) of holder's last write.
func (f *fakeLeases) lastWriteBy(holder string) time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.writes) - 1; i >= 0; i-- {
		if w := f.writes[i]; w.Holder() == holder {
			return w.Spec.RenewTime.Time
		}
	}
	return time.Time{}
}

// timeline records leadership changes with their fake times.
type timeline struct {
	mu     sync.Mutex
	events []event
}

type event struct {
	who     string
	started bool // false: stopped
	at      time.Time
}

func (tl *timeline) add(who string, started bool, at time.Time) {
	tl.mu.Lock()
	tl.events = append(tl.events, event{who, started, at})
	tl.mu.Unlock()
}

func (tl *timeline) find(who string, started bool) (time.Time, bool) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	for _, e := range tl.events {
		if e.who == who && e.started == started {
			return e.at, true
		}
	}
	return time.Time{}, false
}

// harness runs candidates against one fake store and one fake clock.
type harness struct {
	t     *testing.T
	clk   *clocktest.Fake
	store *fakeLeases
	tl    *timeline
	cands map[string]*candidate
}

type candidate struct {
	el     *Elector
	client *candidateClient
	cancel context.CancelFunc
	done   chan struct{}
}

func newHarness(t *testing.T) *harness {
	return &harness{
		t:     t,
		clk:   clocktest.NewFake(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)),
		store: newFakeLeases(),
		tl:    &timeline{},
		cands: map[string]*candidate{},
	}
}

// start runs candidate id; its leader work records start and stop on the
// timeline and blocks until its context is cancelled.
func (h *harness) start(id string) *candidate {
	h.t.Helper()
	cc := &candidateClient{store: h.store}
	el, err := newElector(Config{
		Namespace: "kube-system", Name: "kl-scheduler", Identity: id, Clock: h.clk,
	}, cc)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &candidate{el: el, client: cc, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		_ = el.Run(ctx, func(ctx context.Context) {
			h.tl.add(id, true, h.clk.Now())
			<-ctx.Done()
			h.tl.add(id, false, h.clk.Now())
		}, nil)
	}()
	h.t.Cleanup(func() {
		cancel()
		<-c.done
	})
	h.cands[id] = c
	return c
}

// stop cancels candidate id and waits for its Run to return.
func (h *harness) stop(id string) {
	c := h.cands[id]
	c.cancel()
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		h.t.Fatalf("candidate %s: Run did not return after cancel", id)
	}
	delete(h.cands, id)
}

// settle waits until every running candidate is blocked on the fake clock,
// so the state it leaves can be inspected and time moved deterministically.
func (h *harness) settle() {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for h.clk.Waiters() < len(h.cands) {
		if time.Now().After(deadline) {
			h.t.Fatalf("candidates did not settle: %d of %d waiting on the clock", h.clk.Waiters(), len(h.cands))
		}
		time.Sleep(time.Millisecond)
	}
}

// stepUntil moves the fake clock in steps of d until cond holds, checking
// invariant after every step; it fails after limit of fake time.
func (h *harness) stepUntil(d, limit time.Duration, cond func() bool, invariant func()) {
	h.t.Helper()
	for elapsed := time.Duration(0); ; elapsed += d {
		h.settle()
		if invariant != nil {
			invariant()
		}
		if cond() {
			return
		}
		if elapsed >= limit {
			h.t.Fatalf("condition not reached after %v of fake time", limit)
		}
		h.clk.Step(d)
	}
}

// stepFor moves the fake clock in steps of d for total, checking invariant
// after every step.
func (h *harness) stepFor(d, total time.Duration, invariant func()) {
	h.t.Helper()
	for elapsed := time.Duration(0); elapsed < total; elapsed += d {
		h.settle()
		invariant()
		h.clk.Step(d)
	}
	h.settle()
	invariant()
}

func (h *harness) leaders() []string {
	var out []string
	for id, c := range h.cands {
		if c.el.IsLeader() {
			out = append(out, id)
		}
	}
	return out
}

func (h *harness) atMostOneLeader() {
	h.t.Helper()
	if l := h.leaders(); len(l) > 1 {
		h.t.Fatalf("%d leaders at once: %v", len(l), l)
	}
}

func TestTwoCandidates_ExactlyOneLeadsAndKeepsTheLease(t *testing.T) {
	h := newHarness(t)
	h.start("a")
	h.start("b")
	h.stepUntil(500*time.Millisecond, 10*time.Second, func() bool { return len(h.leaders()) == 1 }, h.atMostOneLeader)
	leader := h.leaders()[0]

	// A minute of renewals: the leader keeps the lease, the other waits.
	h.stepFor(500*time.Millisecond, time.Minute, func() {
		h.atMostOneLeader()
		if got := h.leaders(); len(got) != 1 || got[0] != leader {
			t.Fatalf("leaders = %v, want only %s", got, leader)
		}
	})
	lease := h.store.get("kl-scheduler")
	if lease.Holder() != leader {
		t.Errorf("holderIdentity = %q, want %q", lease.Holder(), leader)
	}
	if got := deref(lease.Spec.LeaseDurationSeconds); got != 15 {
		t.Errorf("leaseDurationSeconds = %d, want 15", got)
	}
	if got := deref(lease.Spec.LeaseTransitions); got != 0 {
		t.Errorf("leaseTransitions = %d, want 0 (one holder since creation)", got)
	}
}

func TestLeaderThatCannotRenew_StopsBeforeTheOtherTakesOver(t *testing.T) {
	h := newHarness(t)
	a := h.start("a")
	h.stepUntil(500*time.Millisecond, 10*time.Second, a.el.IsLeader, nil)
	h.start("b")
	h.stepFor(500*time.Millisecond, 10*time.Second, h.atMostOneLeader)

	// a loses its connection to the apiserver: it cannot renew.
	a.client.setCut(true)
	cutAt := h.clk.Now()
	b := h.cands["b"]
	h.stepUntil(500*time.Millisecond, time.Minute, b.el.IsLeader, h.atMostOneLeader)

	lastRenew := h.store.lastWriteBy("a")
	stopped, ok := h.tl.find("a", false)
	if !ok {
		t.Fatal("a never stopped leading")
	}
	started, ok := h.tl.find("b", true)
	if !ok {
		t.Fatal("b never started leading")
	}
	cfg := a.el.cfg
	// a stops within RenewDeadline of its last renewal (plus one step of
	// the fake clock, the test's resolution).
	if limit := lastRenew.Add(cfg.RenewDeadline + 500*time.Millisecond); stopped.After(limit) {
		t.Errorf("a stopped leading at +%v after its last renewal, want within the renew deadline %v",
			stopped.Sub(lastRenew), cfg.RenewDeadline)
	}
	if !stopped.Before(started) {
		t.Errorf("b started leading at %v, before a stopped at %v", started, stopped)
	}
	// b waits for the lease to expire: LeaseDuration after a's last renewal.
	if started.Before(lastRenew.Add(cfg.LeaseDuration)) {
		t.Errorf("b took the lease %v after a's last renewal, before it expired (%v)", started.Sub(lastRenew), cfg.LeaseDuration)
	}
	t.Logf("cut at +0s, a's last renewal +%v, a stopped +%v, b started +%v",
		lastRenew.Sub(cutAt), stopped.Sub(cutAt), started.Sub(cutAt))

	lease := h.store.get("kl-scheduler")
	if lease.Holder() != "b" || deref(lease.Spec.LeaseTransitions) != 1 {
		t.Errorf("lease holder %q transitions %d, want b and 1", lease.Holder(), deref(lease.Spec.LeaseTransitions))
	}

	// Reconnected, a campaigns again but does not lead while b renews.
	a.client.setCut(false)
	h.stepFor(500*time.Millisecond, 30*time.Second, func() {
		h.atMostOneLeader()
		if a.el.IsLeader() {
			t.Fatal("a leads again although b holds the lease")
		}
	})
}

func TestCancelledLeader_ReleasesTheLeaseForAnImmediateTakeover(t *testing.T) {
	h := newHarness(t)
	a := h.start("a")
	h.stepUntil(500*time.Millisecond, 10*time.Second, a.el.IsLeader, nil)
	b := h.start("b")
	h.stepFor(500*time.Millisecond, 5*time.Second, h.atMostOneLeader)

	h.stop("a") // SIGTERM
	stoppedAt := h.clk.Now()
	lease := h.store.get("kl-scheduler")
	if lease.Holder() != "" || deref(lease.Spec.LeaseDurationSeconds) != 1 {
		t.Fatalf("after release: holder %q duration %ds, want empty holder and 1s", lease.Holder(), deref(lease.Spec.LeaseDurationSeconds))
	}
	h.stepUntil(100*time.Millisecond, time.Minute, b.el.IsLeader, nil)
	started, _ := h.tl.find("b", true)
	// b's next attempt comes within RetryPeriod*(1+jitter), well before the
	// 15s a dead leader's lease needs to expire.
	if wait := started.Sub(stoppedAt); wait > 5*time.Second {
		t.Errorf("b took over %v after the release, want within one retry period (2s-4.4s)", wait)
	}
	lease = h.store.get("kl-scheduler")
	if lease.Holder() != "b" || deref(lease.Spec.LeaseTransitions) != 1 {
		t.Errorf("lease holder %q transitions %d, want b and 1", lease.Holder(), deref(lease.Spec.LeaseTransitions))
	}
}

func TestLeaderWorkEndingOnItsOwn_ReleasesAndReturns(t *testing.T) {
	h := newHarness(t)
	cc := &candidateClient{store: h.store}
	el, err := newElector(Config{Namespace: "kube-system", Name: "kl-scheduler", Identity: "a", Clock: h.clk}, cc)
	if err != nil {
		t.Fatal(err)
	}
	stopped := make(chan struct{})
	err = el.Run(t.Context(), func(context.Context) {}, func() { close(stopped) })
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-stopped:
	default:
		t.Error("onStoppedLeading not called")
	}
	if el.IsLeader() {
		t.Error("still leader after Run returned")
	}
	if h := h.store.get("kl-scheduler").Holder(); h != "" {
		t.Errorf("holder after Run returned = %q, want released", h)
	}
}

func TestNew_RejectsTimingsThatCannotBeSafe(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"renew deadline not below lease duration", Config{LeaseDuration: 10 * time.Second, RenewDeadline: 10 * time.Second}, "renew deadline 10s must be less than the lease duration 10s"},
		{"retry period not below renew deadline", Config{RenewDeadline: 5 * time.Second, RetryPeriod: 5 * time.Second}, "retry period 5s must be positive and less than the renew deadline 5s"},
		{"sub-second lease", Config{LeaseDuration: 500 * time.Millisecond, RenewDeadline: 200 * time.Millisecond, RetryPeriod: 100 * time.Millisecond}, "lease duration 500ms is shorter than 1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Namespace, tt.cfg.Name = "kube-system", "x"
			_, err := newElector(tt.cfg, &candidateClient{store: newFakeLeases()})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestObservedExpiry_UsesTheObserversClockNotRenewTime(t *testing.T) {
	// The holder's clock is an hour behind: its renewTime looks ancient,
	// yet the lease is live because it keeps changing.
	h := newHarness(t)
	store := h.store
	skewed := clocktest.NewFake(h.clk.Now().Add(-time.Hour))
	holder, err := newElector(Config{Namespace: "kube-system", Name: "kl-scheduler", Identity: "skewed", Clock: skewed}, &candidateClient{store: store})
	if err != nil {
		t.Fatal(err)
	}
	if !holder.tryAcquireOrRenew(t.Context()) {
		t.Fatal("skewed holder could not create the lease")
	}
	b := h.start("b")
	for i := range 40 { // 20s of fake time, renewing every 2s
		h.settle()
		if b.el.IsLeader() {
			t.Fatal("b took a live lease whose renewTime is an hour old")
		}
		h.clk.Step(500 * time.Millisecond)
		skewed.Step(500 * time.Millisecond)
		if i%4 == 3 && !holder.tryAcquireOrRenew(t.Context()) {
			t.Fatal("skewed holder could not renew")
		}
	}
}
