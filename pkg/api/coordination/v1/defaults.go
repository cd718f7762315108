package v1

// SetDefaultsLease is a no-op kept for symmetry: Kubernetes defaults
// nothing on a Lease.
func SetDefaultsLease(*Lease) {}
