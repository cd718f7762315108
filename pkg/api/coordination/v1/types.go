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

// Lease is a lock one holder keeps for a bounded time by renewing it: leader
// election uses one per component, and each node's kubelet renews one in
// kube-node-lease as its heartbeat.
type Lease struct {
	meta.TypeMeta `json:",inline"`
	// Metadata is the standard object metadata: name, namespace, labels,
	// annotations, owner references and the fields the server maintains.
	meta.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the state of the lease.
	Spec LeaseSpec `json:"spec,omitempty"`
}

// LeaseSpec is the state of a lease: who holds it and when it was last
// renewed.
type LeaseSpec struct {
	// HolderIdentity is the identity of the current holder of the lease.
	HolderIdentity *string `json:"holderIdentity,omitempty"`
	// LeaseDurationSeconds is how long candidates wait, after the last
	// observed renewTime, before they may take the lease over.
	LeaseDurationSeconds *int32 `json:"leaseDurationSeconds,omitempty"`
	// AcquireTime is when the current holder acquired the lease.
	AcquireTime *meta.MicroTime `json:"acquireTime,omitempty"`
	// RenewTime is when the current holder last renewed the lease.
	RenewTime *meta.MicroTime `json:"renewTime,omitempty"`
	// LeaseTransitions is the number of times the lease changed holders.
	LeaseTransitions *int32 `json:"leaseTransitions,omitempty"`
}

// LeaseList is a list of leases.
type LeaseList struct {
	meta.TypeMeta `json:",inline"`
	// ListMeta is the standard list metadata: the resourceVersion the
	// list was read at and, for a paginated list, the continue token.
	meta.ListMeta `json:"metadata,omitempty"`
	// Items are the leases.
	Items []Lease `json:"items"`
}
