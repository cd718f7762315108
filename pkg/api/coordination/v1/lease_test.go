package v1

import (
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/api/core/v1/apitest"
	"github.com/kl-dev/kl/pkg/api/meta"
)

var (
	_ meta.Object        = (*Lease)(nil)
	_ meta.ListInterface = (*LeaseList)(nil)
)

func TestKubernetesJSONRoundTripsUnchanged(t *testing.T) {
	apitest.RoundTrip(t, "testdata/lease.json", &Lease{})
}

func TestEveryFieldRoundTrips(t *testing.T) {
	apitest.FilledRoundTrip(t, &Lease{}, &Lease{})
	apitest.FilledRoundTrip(t, &LeaseList{}, &LeaseList{})
}

func TestDeepCopyIsIndependent(t *testing.T) {
	l := &Lease{}
	apitest.Fill(l)
	apitest.AssertIndependent(t, l, l.DeepCopy())
	ll := &LeaseList{}
	apitest.Fill(ll)
	apitest.AssertIndependent(t, ll, ll.DeepCopy())
}

func TestLeaseExpiry(t *testing.T) {
	now := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	lease := func(holder string, renewedAgo time.Duration, duration int32) *Lease {
		renew := meta.MicroTime{Time: now.Add(-renewedAgo)}
		return &Lease{Spec: LeaseSpec{HolderIdentity: &holder, RenewTime: &renew, LeaseDurationSeconds: &duration}}
	}
	tests := []struct {
		name string
		l    *Lease
		want bool
	}{
		{"fresh", lease("a", 5*time.Second, 15), false},
		{"exactly at the deadline", lease("a", 15*time.Second, 15), false},
		{"past the deadline", lease("a", 16*time.Second, 15), true},
		{"no holder", lease("", time.Second, 15), true},
		{"empty lease", &Lease{}, true},
	}
	for _, tt := range tests {
		if got := tt.l.Expired(now); got != tt.want {
			t.Errorf("%s: Expired = %v, want %v", tt.name, got, tt.want)
		}
	}
	if lease("a", 0, 1).Holder() != "a" || (&Lease{}).Holder() != "" {
		t.Error("Holder")
	}
}
