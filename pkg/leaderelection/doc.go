// Package leaderelection lets several copies of a component (kl scheduler,
// kl controller-manager) run at once while only one of them, the leader,
// does the work. It is Kubernetes' Lease-based election (client-go's
// tools/leaderelection) in small.
//
// # The lease
//
// The candidates share one coordination.k8s.io/v1 Lease, e.g.
// kube-system/kl-scheduler:
//
//	spec:
//	  holderIdentity: node-a_0b6e...      # the leader ("" once released)
//	  leaseDurationSeconds: 15            # how long others wait
//	  acquireTime: ...                     # when the holder took it
//	  renewTime: ...                       # the holder's last renewal
//	  leaseTransitions: 3                  # changes of holder so far
//
// Every write carries the resourceVersion that was read, so two candidates
// racing for the lease cannot both win: the loser gets 409 Conflict and tries
// again RetryPeriod later.
//
// # Timing
//
// A candidate takes the lease when it has no holder, or when the lease has
// not changed for leaseDurationSeconds. "Not changed" is measured on the
// candidate's own clock, from the moment it last saw the lease change, not
// by comparing renewTime (written by another machine's clock) with its own:
// that way clock skew between machines cannot make a live lease look
// expired.
//
// The leader renews every RetryPeriod. If no renewal has succeeded for
// RenewDeadline, it stops leading: the context passed to onStartedLeading
// is cancelled. RenewDeadline must be shorter than LeaseDuration, so the
// old leader stops before any other candidate can consider the lease
// expired; the difference (5s with the defaults) is the time the leader's
// work has to wind down.
//
// When the context given to Run is cancelled (SIGTERM), the leader stops its
// work, then releases the lease (empty holder, leaseDurationSeconds 1) so
// that another candidate takes over at once instead of waiting for expiry.
//
// # Use
//
//	e, err := leaderelection.New(leaderelection.Config{
//		Client: c, Namespace: "kube-system", Name: "kl-scheduler",
//	})
//	...
//	err = e.Run(ctx, func(ctx context.Context) {
//		work(ctx) // must return soon after ctx is cancelled: leadership lost
//	}, func() {
//		log.Info("stopped leading")
//	})
//
// After losing the lease, Run campaigns again; it returns when ctx is
// cancelled, or when onStartedLeading returns on its own (the work ended,
// e.g. with an error): then the lease is released first.
package leaderelection
