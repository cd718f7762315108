package v1

import "time"

// Holder returns the lease's holder identity, or "" when it has none.
func (l *Lease) Holder() string {
	if l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// Expired reports whether the lease has no holder or was last renewed more
// than leaseDurationSeconds before now. A lease without a renew time or
// duration counts as expired.
func (l *Lease) Expired(now time.Time) bool {
	s := &l.Spec
	if s.HolderIdentity == nil || *s.HolderIdentity == "" || s.RenewTime == nil || s.LeaseDurationSeconds == nil {
		return true
	}
	return s.RenewTime.Add(time.Duration(*s.LeaseDurationSeconds) * time.Second).Before(now)
}
