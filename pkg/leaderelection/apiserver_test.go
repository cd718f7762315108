package leaderelection

import (
	"context"
	"testing"
	"time"

	coordinationv1 "github.com/kl-dev/kl/pkg/api/coordination/v1"
	"github.com/kl-dev/kl/pkg/apiserver/apiservertest"
	"github.com/kl-dev/kl/pkg/client"
)

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestAgainstAPIServer_OneLeaderThenReleaseHandsOver runs two candidates
// against a real apiserver: the Lease round-trips through the REST API
// (create, optimistic update, release), and a released lease is taken over
// long before the 15s lease duration.
func TestAgainstAPIServer_OneLeaderThenReleaseHandsOver(t *testing.T) {
	c := apiservertest.StartClient(t)
	type cand struct {
		el     *Elector
		cancel context.CancelFunc
		done   chan struct{}
	}
	start := func(id string) *cand {
		el, err := New(Config{
			Client: c, Namespace: "kube-system", Name: "kl-scheduler", Identity: id,
			RetryPeriod: 100 * time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cd := &cand{el: el, cancel: cancel, done: make(chan struct{})}
		go func() {
			defer close(cd.done)
			_ = el.Run(ctx, func(ctx context.Context) { <-ctx.Done() }, nil)
		}()
		t.Cleanup(func() { cancel(); <-cd.done })
		return cd
	}
	a, b := start("a"), start("b")
	waitFor(t, 10*time.Second, "a leader", func() bool { return a.el.IsLeader() || b.el.IsLeader() })
	leader, other := a, b
	if b.el.IsLeader() {
		leader, other = b, a
	}
	if other.el.IsLeader() {
		t.Fatal("both candidates lead")
	}

	leader.cancel()
	<-leader.done
	released := time.Now()
	waitFor(t, 10*time.Second, "the other candidate to take over", other.el.IsLeader)
	if d := time.Since(released); d >= DefaultLeaseDuration {
		t.Errorf("takeover took %v; a released lease should not wait for expiry", d)
	}

	leases := client.NewResource[coordinationv1.Lease](c, LeasesGVR, true).Namespace("kube-system")
	lease, err := leases.Get(t.Context(), "kl-scheduler")
	if err != nil {
		t.Fatal(err)
	}
	if lease.Holder() != other.el.Identity() {
		t.Errorf("holderIdentity = %q, want %q", lease.Holder(), other.el.Identity())
	}
	if got := deref(lease.Spec.LeaseTransitions); got != 1 {
		t.Errorf("leaseTransitions = %d, want 1", got)
	}
}
