// Package v1 holds the coordination.k8s.io/v1 Lease kind, used for leader
// election and node heartbeats. Field names, JSON tags and omitempty are
// those of k8s.io/api/coordination/v1. Importers conventionally alias the
// package as coordinationv1.
package v1

import "github.com/kl-dev/kl/pkg/api/meta"

// GroupName is the API group of this package.
const GroupName = "coordination.k8s.io"

// Version is the API version of this package.
const Version = "v1"

// SchemeGroupVersion is the apiVersion string of the kinds in this package.
const SchemeGroupVersion = "coordination.k8s.io/v1"

// Lease is a lock held by one holder for a bounded time and renewed while
// the holder is alive.
type Lease struct {
	meta.TypeMeta   `json:",inline"`
	meta.ObjectMeta `json:"metadata,omitempty"`

	Spec LeaseSpec `json:"spec,omitempty"`
}

// LeaseSpec is the state of a lease.
type LeaseSpec struct {
	// HolderIdentity is the current holder.
	HolderIdentity *string `json:"holderIdentity,omitempty"`
	// LeaseDurationSeconds is how long others wait after RenewTime before
	// taking the lease.
	LeaseDurationSeconds *int32          `json:"leaseDurationSeconds,omitempty"`
	AcquireTime          *meta.MicroTime `json:"acquireTime,omitempty"`
	RenewTime            *meta.MicroTime `json:"renewTime,omitempty"`
	// LeaseTransitions counts changes of holder.
	LeaseTransitions *int32 `json:"leaseTransitions,omitempty"`
}

// LeaseList is a list of leases.
type LeaseList struct {
	meta.TypeMeta `json:",inline"`
	meta.ListMeta `json:"metadata,omitempty"`
	Items         []Lease `json:"items"`
}
