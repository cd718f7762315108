// Package workqueue is the rate-limited, de-duplicating queue that kl's
// controllers feed keys into (DESIGN.md principle 3: level-triggered control
// loops).
//
// The rules, the same as client-go's workqueue:
//
//   - An item added while it is waiting in the queue is queued once
//     (de-duplication): many events for one key cause one reconcile.
//   - An item handed out by Get is "processing" until Done. If it is added
//     again meanwhile, it is queued again only when Done is called, so no two
//     workers ever process the same item at once, and the later change is not
//     lost.
//   - AddAfter queues an item after a delay; AddRateLimited asks the
//     RateLimiter how long to wait (per-item exponential back-off combined with
//     an overall token bucket by default). Forget resets an item's back-off
//     once it has been processed successfully.
//   - After ShutDown, Add is ignored and Get returns the remaining items and
//     then shutdown=true. ShutDownWithDrain also waits for items being
//     processed to be Done.
//
// A worker loop:
//
//	for {
//		key, shutdown := q.Get()
//		if shutdown {
//			return
//		}
//		err := reconcile(ctx, key)
//		if err != nil {
//			q.AddRateLimited(key) // retry later, backing off
//		} else {
//			q.Forget(key) // reset the back-off
//		}
//		q.Done(key)
//	}
//
// Time comes from a clock.Clock, so tests drive delays with clocktest.Fake.
package workqueue
