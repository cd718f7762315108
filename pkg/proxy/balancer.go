package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// errNoEndpoints is the dial error of a service port without ready
// endpoints.
var errNoEndpoints = errors.New("no ready endpoints")

// failurePenalty is how long a backend that failed a dial is tried only
// after the others: a refusing or black-holed endpoint then costs one
// failed dial per penalty period, not one per connection.
const failurePenalty = 5 * time.Second

// dialFunc connects to a backend ("10.88.0.5:8080").
type dialFunc func(ctx context.Context, addr string) (net.Conn, error)

// backend is one endpoint of a service port.
type backend struct {
	addr string
	// failedAt is when a dial to it last failed (unix nanoseconds; 0:
	// the last dial worked or none was tried).
	failedAt atomic.Int64
}

// backendSet is the immutable set of backends a balancer picks from;
// changes replace the whole set.
type backendSet struct {
	backends []*backend // sorted by addr
	byAddr   map[string]*backend
}

// balancer picks the backend of each new connection to one service port:
// round-robin over the ready endpoints, a backend that recently failed a
// dial only after the others, the next one tried when a dial fails, and
// with ClientIP affinity the backend a client last used first.
//
// The backend set is swapped atomically by Update; connections already
// made are not affected by it (they drain).
type balancer struct {
	dial dialFunc
	now  func() time.Time

	set      atomic.Pointer[backendSet]
	next     atomic.Uint64
	affinity atomic.Int64 // ClientIP affinity timeout (ns); 0: none

	mu        sync.Mutex
	sticky    map[netip.Addr]stickyEntry
	lastSweep time.Time
}

// stickyEntry is the backend a client was last sent to.
type stickyEntry struct {
	addr string
	last time.Time
}

func newBalancer(dial dialFunc, now func() time.Time) *balancer {
	if now == nil {
		now = time.Now
	}
	b := &balancer{dial: dial, now: now, sticky: map[netip.Addr]stickyEntry{}}
	b.set.Store(&backendSet{})
	return b
}

// Update replaces the backends with addrs ("ip:port"). Backends that stay
// keep their failure history.
func (b *balancer) Update(addrs []string) {
	old := b.set.Load()
	addrs = slices.Clone(addrs)
	slices.Sort(addrs)
	addrs = slices.Compact(addrs)
	if len(addrs) == len(old.backends) && slices.EqualFunc(addrs, old.backends, func(a string, be *backend) bool { return a == be.addr }) {
		return
	}
	set := &backendSet{backends: make([]*backend, len(addrs)), byAddr: make(map[string]*backend, len(addrs))}
	for i, a := range addrs {
		be := old.byAddr[a]
		if be == nil {
			be = &backend{addr: a}
		}
		set.backends[i] = be
		set.byAddr[a] = be
	}
	b.set.Store(set)
}

// Backends returns the current backend addresses, sorted.
func (b *balancer) Backends() []string {
	set := b.set.Load()
	out := make([]string, len(set.backends))
	for i, be := range set.backends {
		out[i] = be.addr
	}
	return out
}

// SetAffinity sets the ClientIP affinity timeout; 0 turns affinity off
// and forgets every client.
func (b *balancer) SetAffinity(timeout time.Duration) {
	if time.Duration(b.affinity.Swap(int64(timeout))) == timeout {
		return
	}
	if timeout == 0 {
		b.mu.Lock()
		clear(b.sticky)
		b.mu.Unlock()
	}
}

// allFailedError is the dial error when every backend failed.
type allFailedError struct {
	tried int
	last  error
}

func (e *allFailedError) Error() string {
	return fmt.Sprintf("all %d endpoints failed, the last with: %v", e.tried, e.last)
}

func (e *allFailedError) Unwrap() error { return e.last }

// Dial connects to a backend for a connection from client, trying every
// backend once, in order of preference, until one accepts. onFail is
// called for each failed attempt. It returns errNoEndpoints when there is
// no backend, and an *allFailedError when none accepted.
func (b *balancer) Dial(ctx context.Context, client netip.Addr, onFail func(addr string, err error)) (net.Conn, string, error) {
	set := b.set.Load()
	n := len(set.backends)
	if n == 0 {
		return nil, "", errNoEndpoints
	}
	now := b.now()
	affinity := time.Duration(b.affinity.Load())

	order := make([]*backend, 0, n)
	var sticky *backend
	if affinity > 0 {
		if addr, ok := b.stickyFor(client, now, affinity); ok {
			if sticky = set.byAddr[addr]; sticky != nil {
				order = append(order, sticky)
			}
		}
	}
	var penalised []*backend
	start := b.next.Add(1) - 1
	for i := range uint64(n) {
		be := set.backends[(start+i)%uint64(n)]
		switch {
		case be == sticky:
		case be.recentlyFailed(now):
			penalised = append(penalised, be)
		default:
			order = append(order, be)
		}
	}
	order = append(order, penalised...)

	var last error
	tried := 0
	for _, be := range order {
		if ctx.Err() != nil {
			break
		}
		tried++
		c, err := b.dial(ctx, be.addr)
		if err == nil {
			be.failedAt.Store(0)
			if affinity > 0 {
				b.remember(client, be.addr, b.now(), affinity)
			}
			return c, be.addr, nil
		}
		be.failedAt.Store(b.now().UnixNano())
		last = err
		if onFail != nil {
			onFail(be.addr, err)
		}
	}
	if last == nil {
		last = ctx.Err()
	}
	return nil, "", &allFailedError{tried: tried, last: last}
}

func (be *backend) recentlyFailed(now time.Time) bool {
	at := be.failedAt.Load()
	return at != 0 && now.Sub(time.Unix(0, at)) < failurePenalty
}

// stickyFor returns the backend client last used, if within the timeout.
func (b *balancer) stickyFor(client netip.Addr, now time.Time, timeout time.Duration) (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.sticky[client]
	if !ok || now.Sub(e.last) > timeout {
		return "", false
	}
	return e.addr, true
}

// remember records that client now uses addr, and now and then forgets
// clients silent for longer than the timeout.
func (b *balancer) remember(client netip.Addr, addr string, now time.Time, timeout time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sticky[client] = stickyEntry{addr: addr, last: now}
	if now.Sub(b.lastSweep) < min(timeout, time.Minute) {
		return
	}
	b.lastSweep = now
	for c, e := range b.sticky {
		if now.Sub(e.last) > timeout {
			delete(b.sticky, c)
		}
	}
}
