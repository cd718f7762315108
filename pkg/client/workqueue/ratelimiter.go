package workqueue

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/kl-dev/kl/pkg/client/clock"
)

// RateLimiter decides how long an item waits before it is retried.
type RateLimiter[T comparable] interface {
	// When returns how long to wait before item is processed again; each call
	// counts as one more failure of item.
	When(item T) time.Duration
	// Forget clears item's failure history.
	Forget(item T)
	// NumRequeues returns how many times item has failed since it was last
	// forgotten.
	NumRequeues(item T) int
}

// ExponentialRateLimiter waits base*2^failures for an item, capped at max.
type ExponentialRateLimiter[T comparable] struct {
	base, max time.Duration

	mu       sync.Mutex
	failures map[T]int
}

// NewExponentialRateLimiter returns a per-item exponential back-off from base
// doubling up to max.
func NewExponentialRateLimiter[T comparable](base, max time.Duration) *ExponentialRateLimiter[T] {
	return &ExponentialRateLimiter[T]{base: base, max: max, failures: map[T]int{}}
}

// When implements RateLimiter.
func (r *ExponentialRateLimiter[T]) When(item T) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	exp := r.failures[item]
	r.failures[item] = exp + 1
	d := float64(r.base) * math.Pow(2, float64(exp))
	if d > float64(r.max) {
		return r.max
	}
	return time.Duration(d)
}

// Forget implements RateLimiter.
func (r *ExponentialRateLimiter[T]) Forget(item T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.failures, item)
}

// NumRequeues implements RateLimiter.
func (r *ExponentialRateLimiter[T]) NumRequeues(item T) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failures[item]
}

// BucketRateLimiter is an overall token bucket shared by all items: it
// bounds the retry rate of the whole queue, whatever the per-item back-off.
type BucketRateLimiter[T comparable] struct {
	clock   clock.Clock
	limiter *rate.Limiter
}

// NewBucketRateLimiter allows qps retries per second with bursts of burst.
// Time is read from clk (nil: the real clock).
func NewBucketRateLimiter[T comparable](clk clock.Clock, qps float64, burst int) *BucketRateLimiter[T] {
	if clk == nil {
		clk = clock.Real{}
	}
	// The bucket starts full; every reservation passes the clock's time, so
	// a fake clock drives it.
	return &BucketRateLimiter[T]{clock: clk, limiter: rate.NewLimiter(rate.Limit(qps), burst)}
}

// When implements RateLimiter.
func (r *BucketRateLimiter[T]) When(T) time.Duration {
	now := r.clock.Now()
	return r.limiter.ReserveN(now, 1).DelayFrom(now)
}

// Forget implements RateLimiter; the bucket keeps no per-item state.
func (r *BucketRateLimiter[T]) Forget(T) {}

// NumRequeues implements RateLimiter; the bucket keeps no per-item state.
func (r *BucketRateLimiter[T]) NumRequeues(T) int { return 0 }

// MaxOfRateLimiter waits the longest of its limiters' delays.
type MaxOfRateLimiter[T comparable] struct {
	limiters []RateLimiter[T]
}

// NewMaxOfRateLimiter combines limiters: When is the maximum of theirs, and
// NumRequeues the maximum of theirs.
func NewMaxOfRateLimiter[T comparable](limiters ...RateLimiter[T]) *MaxOfRateLimiter[T] {
	return &MaxOfRateLimiter[T]{limiters: limiters}
}

// When implements RateLimiter.
func (r *MaxOfRateLimiter[T]) When(item T) time.Duration {
	var d time.Duration
	for _, l := range r.limiters {
		d = max(d, l.When(item))
	}
	return d
}

// Forget implements RateLimiter.
func (r *MaxOfRateLimiter[T]) Forget(item T) {
	for _, l := range r.limiters {
		l.Forget(item)
	}
}

// NumRequeues implements RateLimiter.
func (r *MaxOfRateLimiter[T]) NumRequeues(item T) int {
	n := 0
	for _, l := range r.limiters {
		n = max(n, l.NumRequeues(item))
	}
	return n
}

// Default rate limiting, as client-go's DefaultControllerRateLimiter.
const (
	DefaultBaseDelay = 5 * time.Millisecond
	DefaultMaxDelay  = 1000 * time.Second
	DefaultQPS       = 10
	DefaultBurst     = 100
)

// DefaultRateLimiter is per-item exponential back-off (5ms doubling up to
// 1000s) combined with an overall token bucket (10 qps, burst 100).
func DefaultRateLimiter[T comparable](clk clock.Clock) RateLimiter[T] {
	return NewMaxOfRateLimiter[T](
		NewExponentialRateLimiter[T](DefaultBaseDelay, DefaultMaxDelay),
		NewBucketRateLimiter[T](clk, DefaultQPS, DefaultBurst),
	)
}
