package controller

import (
	"sync"
	"time"

	"github.com/kl-dev/kl/pkg/client/clock"
)

// ExpectationsTTL is how long expectations are trusted: if the cache never
// confirms a write (lost event, failed write we did not see), the controller
// acts again after this, as Kubernetes' controllers do.
const ExpectationsTTL = 5 * time.Minute

// Expectations remember, per controller key, how many creations and which
// deletions the controller has asked for and not yet seen in its cache. A
// controller does not act on a key until its expectations are satisfied, so
// a slow cache never makes it create or delete twice (Kubernetes'
// ControllerExpectations).
type Expectations struct {
	clk clock.Clock
	mu  sync.Mutex
	m   map[string]*expectation
}

type expectation struct {
	adds    int
	deletes map[string]bool // uids
	at      time.Time
}

// NewExpectations returns empty expectations.
func NewExpectations(clk clock.Clock) *Expectations {
	if clk == nil {
		clk = clock.Real{}
	}
	return &Expectations{clk: clk, m: map[string]*expectation{}}
}

// ExpectCreations records that n creations for key are on their way.
func (e *Expectations) ExpectCreations(key string, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := e.get(key)
	x.adds += n
	x.at = e.clk.Now()
}

// ExpectDeletions records that the objects with these uids are being deleted.
func (e *Expectations) ExpectDeletions(key string, uids []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := e.get(key)
	for _, u := range uids {
		x.deletes[u] = true
	}
	x.at = e.clk.Now()
}

// CreationObserved lowers the pending creations of key (a create was seen,
// or failed).
func (e *Expectations) CreationObserved(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.m[key]; ok && x.adds > 0 {
		x.adds--
	}
}

// DeletionObserved marks a deletion of key's uid as seen (or failed).
func (e *Expectations) DeletionObserved(key, uid string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.m[key]; ok {
		delete(x.deletes, uid)
	}
}

// Satisfied reports whether the controller may act on key: nothing is
// pending, or what is pending is older than ExpectationsTTL.
func (e *Expectations) Satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.m[key]
	if !ok {
		return true
	}
	if x.adds <= 0 && len(x.deletes) == 0 {
		return true
	}
	return e.expired(x)
}

// Forget drops key's expectations (its object was deleted).
func (e *Expectations) Forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, key)
}

// Reset sets fresh expectations for key, replacing stale ones.
func (e *Expectations) Reset(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.m[key] = &expectation{deletes: map[string]bool{}, at: e.clk.Now()}
}

// get returns key's expectation for adding to, starting afresh when the
// old one is fulfilled or expired: pending counts that outlived
// ExpectationsTTL will never be observed, and adding to them would make
// the controller wait another TTL (Kubernetes overwrites them too).
func (e *Expectations) get(key string) *expectation {
	x, ok := e.m[key]
	if !ok || (x.adds <= 0 && len(x.deletes) == 0) || e.expired(x) {
		x = &expectation{deletes: map[string]bool{}}
		e.m[key] = x
	}
	return x
}

func (e *Expectations) expired(x *expectation) bool {
	return e.clk.Now().Sub(x.at) > ExpectationsTTL
}

// Pending returns the creations and deletions still expected for key (for
// logs and tests).
func (e *Expectations) Pending(key string) (adds, deletes int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.m[key]; ok {
		return max(x.adds, 0), len(x.deletes)
	}
	return 0, 0
}
