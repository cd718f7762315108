package controller

import (
	"strconv"
	"sync"
	"time"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client/clock"
	"github.com/kl-dev/kl/pkg/client/informer"
)

// mutationTTL bounds how long a written object is remembered: by then the
// informer has long caught up (or the object is gone).
const mutationTTL = time.Minute

// MutationCache remembers the objects a controller wrote until its
// informer catches up, so that the next reconcile decides on what the
// controller itself just wrote rather than on the stale cached copy (which
// would make its next write fail with a Conflict, or repeat itself). It is
// client-go's MutationCache in small.
//
// kl's resourceVersions are the storage's global revisions (DESIGN.md,
// "Storage contract"), so "newer" is a numeric comparison.
type MutationCache[PT meta.Object] struct {
	clk clock.Clock
	mu  sync.Mutex
	m   map[string]mutation[PT]
}

type mutation[PT meta.Object] struct {
	obj PT
	at  time.Time
}

// NewMutationCache returns an empty cache (clk nil: the real clock).
func NewMutationCache[PT meta.Object](clk clock.Clock) *MutationCache[PT] {
	if clk == nil {
		clk = clock.Real{}
	}
	return &MutationCache[PT]{clk: clk, m: map[string]mutation[PT]{}}
}

// Mutated records obj as returned by a write. It must not be modified
// afterwards: Newest hands it out.
func (c *MutationCache[PT]) Mutated(obj PT) {
	now := c.clk.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	key := informer.Key(obj)
	if old, ok := c.m[key]; ok && newer(old.obj, obj) {
		return
	}
	c.m[key] = mutation[PT]{obj: obj, at: now}
	if len(c.m) > 1024 {
		for k, e := range c.m {
			if now.Sub(e.at) > mutationTTL {
				delete(c.m, k)
			}
		}
	}
}

// Newest returns the newer of cached (read from an informer) and the
// object last written with the same key. Like cached, the result is shared
// and must not be modified.
func (c *MutationCache[PT]) Newest(cached PT) PT {
	key := informer.Key(cached)
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok {
		return cached
	}
	if c.clk.Now().Sub(e.at) > mutationTTL || e.obj.GetObjectMeta().UID != cached.GetObjectMeta().UID || newer(cached, e.obj) {
		// The informer is past the write (or the object was replaced).
		delete(c.m, key)
		return cached
	}
	if newer(e.obj, cached) {
		return e.obj
	}
	// The same version: the informer just caught up, or cached is the
	// written object itself. Either way it is the newest.
	return cached
}

// Forget drops what is remembered under key (the object was deleted).
func (c *MutationCache[PT]) Forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
}

// newer reports whether a's resourceVersion is greater than b's; false
// when either is not a number.
func newer(a, b meta.Object) bool {
	ra, errA := strconv.ParseUint(a.GetObjectMeta().ResourceVersion, 10, 64)
	rb, errB := strconv.ParseUint(b.GetObjectMeta().ResourceVersion, 10, 64)
	return errA == nil && errB == nil && ra > rb
}
