package manager_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	coordinationv1 "github.com/kl-dev/kl/pkg/api/coordination/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/controller"
	"github.com/kl-dev/kl/pkg/controller/controllertest"
	"github.com/kl-dev/kl/pkg/controller/manager"
)

// reconciles sums kl_controller_reconcile_total over controllers and
// results.
func reconciles(t *testing.T, m *manager.Manager) float64 {
	t.Helper()
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() != "kl_controller_reconcile_total" {
			continue
		}
		for _, metric := range mf.GetMetric() {
			n += metric.GetCounter().GetValue()
		}
	}
	return n
}

// Two managers: only the leader acts; when it stops, the other takes over,
// and no pod is ever created twice.
func TestLeaderElectionOnlyTheLeaderActs(t *testing.T) {
	c := controllertest.StartAPIServer(t)
	e := newEnv(t, c)
	controllertest.StartFakeKubelet(t, c, controllertest.KubeletConfig{})
	cfg := func(id string) manager.Config {
		return manager.Config{
			Client: c, LeaderElect: true, Identity: id,
			// A renew deadline generous enough for a loaded CI machine:
			// a leader that misses it would let the other one act.
			LeaseDuration: 4 * time.Second, RenewDeadline: 3 * time.Second, RetryPeriod: 100 * time.Millisecond,
		}
	}
	a, stopA := startManager(t, cfg("a"))
	b, stopB := startManager(t, cfg("b"))
	e.eventually("a leader", func() error {
		if a.IsLeader() == b.IsLeader() {
			return fmt.Errorf("a leads: %v, b leads: %v", a.IsLeader(), b.IsLeader())
		}
		return nil
	})
	leader, follower, stopLeader := a, b, stopA
	if b.IsLeader() {
		leader, follower, stopLeader = b, a, stopB
	}

	var limit atomic.Int32
	limit.Store(5)
	created := map[string]bool{}
	w := e.watchPods("web", func(pods []*corev1.Pod) string {
		live, _ := liveAndAvailable(pods)
		for _, p := range pods {
			created[p.Name] = true
		}
		if max := int(limit.Load()); live > max {
			return fmt.Sprintf("%d live pods, want at most %d", live, max)
		}
		return ""
	})
	e.create(deploymentSpec("web", 5, "nginx:1"))
	e.rolledOut("web")
	if n := reconciles(t, follower); n != 0 {
		t.Errorf("the follower reconciled %v times", n)
	}
	if n := reconciles(t, leader); n == 0 {
		t.Error("the leader never reconciled")
	}

	stopLeader() // releases the lease
	e.eventually("the follower takes over", func() error {
		if !follower.IsLeader() {
			return fmt.Errorf("not leading yet")
		}
		return nil
	})
	limit.Store(8)
	e.patch("web", `{"spec":{"replicas":8}}`)
	e.rolledOut("web")
	violations, _ := w.result()
	for _, v := range violations {
		t.Error(v)
	}
	if len(created) != 8 {
		t.Errorf("%d pods were ever created, want 8 (5, then 3 by the new leader)", len(created))
	}
	if follower.Terms() != 1 {
		t.Errorf("the new leader started leading %d times, want 1", follower.Terms())
	}
}

// A leader that loses its lease (here another holder writes itself in)
// stops its controllers, campaigns again, and, once the lease is free,
// leads again with fresh caches: the controllers keep working.
func TestLostLeadershipRestartsTheControllers(t *testing.T) {
	c := controllertest.StartAPIServer(t)
	e := newEnv(t, c)
	controllertest.StartFakeKubelet(t, c, controllertest.KubeletConfig{})
	m, _ := startManager(t, manager.Config{
		Client: c, LeaderElect: true, Identity: "a",
		LeaseDuration: 3 * time.Second, RenewDeadline: 2 * time.Second, RetryPeriod: 100 * time.Millisecond,
	})
	e.eventually("leading", func() error {
		if !m.IsLeader() {
			return fmt.Errorf("not leading")
		}
		return nil
	})
	e.create(deploymentSpec("web", 2, "nginx:1"))
	e.rolledOut("web")

	leases := client.NewResource[coordinationv1.Lease](c, controller.LeasesResource, true).Namespace("kube-system")
	e.eventually("the lease taken by a thief", func() error {
		l, err := leases.Get(e.ctx, manager.DefaultLeaseName)
		if err != nil {
			return err
		}
		l.Spec.HolderIdentity = ptr("thief")
		now := meta.NowMicro()
		l.Spec.RenewTime = &now
		_, err = leases.Update(e.ctx, l, client.UpdateOptions{})
		return err
	})
	e.eventually("leadership lost", func() error {
		if m.IsLeader() {
			return fmt.Errorf("still leading")
		}
		return nil
	})
	// The thief never renews: after the lease duration "a" leads again.
	e.eventually("leading again", func() error {
		if !m.IsLeader() || m.Terms() < 2 {
			return fmt.Errorf("leading %v, terms %d", m.IsLeader(), m.Terms())
		}
		return nil
	})
	e.patch("web", `{"spec":{"replicas":4}}`)
	e.rolledOut("web")
}
