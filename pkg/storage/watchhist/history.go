// Package watchhist is the bounded watch history shared by kl's embedded
// storage backends (memory, badger).
//
// A History keeps the last N events of a store in a ring indexed by revision.
// Revisions are consecutive (every write gets the next one), so event r lives
// in slot r mod N. Writers only append; they never wait for watchers.
//
// Each watcher is a goroutine with its own cursor (the last revision it
// delivered). It copies the events after its cursor out of the ring, sends
// the ones under its prefix on a small buffered channel, and sleeps until the
// next append when it has caught up. A watcher whose cursor falls out of the
// ring (it did not read while N events were written) is ended with
// storage.ErrGone, like an etcd watcher on a compacted revision: the client
// re-lists. Memory is bounded by N, not by the number of watchers.
//
// The history also answers List at an older revision: Overlay gives the state
// at that revision of every key changed since, which a backend merges with its
// current state (see Page).
package watchhist

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/kl-dev/kl/pkg/storage"
)

// DefaultSize is the number of events a History keeps when asked for 0.
const DefaultSize = 10000

const (
	// maxScan caps how many events a watcher scans per lock acquisition.
	maxScan = 1024
	// maxChanBuffer caps a watcher's channel buffer.
	maxChanBuffer = 128
)

// Entry is one write as the history records it: the event watchers receive,
// plus the key's revisions before the write (used to rebuild older states).
type Entry struct {
	Event storage.Event
	// PrevModRevision is the key's ModRevision before the write; 0 when the
	// key did not exist.
	PrevModRevision int64
	// PrevCreateRevision is the key's CreateRevision before the write; 0
	// when the key did not exist.
	PrevCreateRevision int64
}

// Rev returns the revision of the entry's write.
func (e *Entry) Rev() int64 { return e.Event.KV.ModRevision }

// History is a bounded, revision-indexed ring of events with watchers. It is
// safe for concurrent use.
type History struct {
	mu     sync.RWMutex
	ring   []Entry
	base   int64 // events <= base were never recorded (store revision at New)
	hi     int64 // newest recorded revision
	notify chan struct{}
	closed bool
}

// New returns an empty history keeping size events (0: DefaultSize), for a
// store whose current revision is rev. Events at or before rev are not
// available: watching from an older revision fails with ErrGone.
func New(size int, rev int64) *History {
	if size <= 0 {
		size = DefaultSize
	}
	return &History{
		ring:   make([]Entry, size),
		base:   rev,
		hi:     rev,
		notify: make(chan struct{}),
	}
}

// Size returns the number of events the history keeps.
func (h *History) Size() int { return len(h.ring) }

// Rev returns the newest revision appended.
func (h *History) Rev() int64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.hi
}

// oldest returns the oldest revision still in the ring. Callers hold mu.
func (h *History) oldest() int64 {
	lo := h.hi - int64(len(h.ring)) + 1
	if lo <= h.base {
		lo = h.base + 1
	}
	return lo
}

// Append records entries and wakes watchers. Entries must carry consecutive
// revisions following Rev(); Append panics otherwise, since that is a bug in
// the backend that would break every watcher's ordering guarantee.
func (h *History) Append(entries ...Entry) {
	if len(entries) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	size := int64(len(h.ring))
	for i := range entries {
		rev := entries[i].Rev()
		if rev != h.hi+1 {
			panic(fmt.Sprintf("watchhist: appended revision %d after %d", rev, h.hi))
		}
		h.ring[rev%size] = entries[i]
		h.hi = rev
	}
	close(h.notify)
	h.notify = make(chan struct{})
}

// Close ends every watcher with storage.ErrClosed. Appends after Close are
// ignored.
func (h *History) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	close(h.notify)
}

// WaitFor blocks until the history holds revision rev (or ctx ends, or the
// history is closed). A backend whose commits become visible to readers just
// before they reach the history uses it to line the two up.
func (h *History) WaitFor(ctx context.Context, rev int64) error {
	for {
		h.mu.RLock()
		hi, closed, notify := h.hi, h.closed, h.notify
		h.mu.RUnlock()
		switch {
		case hi >= rev:
			return nil
		case closed:
			return storage.ErrClosed
		}
		select {
		case <-notify:
		case <-ctx.Done():
			return fmt.Errorf("wait for revision %d: %w", rev, ctx.Err())
		}
	}
}

// Watch starts a watcher that delivers every event under prefix with a
// revision after from (0: after the newest revision appended so far), in
// revision order, until ctx is cancelled; the channel is then closed. When
// the events after from are no longer in the ring (at start, or later
// because the receiver did not keep up), a storage.ErrGone result is sent
// and the channel closed; when the history is closed, storage.ErrClosed.
//
// Event values are shared between watchers and with the store: receivers
// must not modify them.
func (h *History) Watch(ctx context.Context, prefix string, from int64) (<-chan storage.WatchResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("watch %s: %w", prefix, err)
	}
	if from < 0 {
		return nil, fmt.Errorf("watch %s: negative revision %d", prefix, from)
	}
	h.mu.RLock()
	closed := h.closed
	if from == 0 {
		from = h.hi
	}
	h.mu.RUnlock()
	if closed {
		return nil, fmt.Errorf("watch %s: %w", prefix, storage.ErrClosed)
	}
	buf := min(len(h.ring), maxChanBuffer)
	out := make(chan storage.WatchResult, buf)
	go h.run(ctx, out, prefix, from)
	return out, nil
}

// run is a watcher's loop: copy the events after the cursor out of the ring,
// send the matching ones, sleep until the next append when caught up.
func (h *History) run(ctx context.Context, out chan<- storage.WatchResult, prefix string, cursor int64) {
	defer close(out)
	scan := min(len(h.ring), maxScan)
	batch := make([]storage.Event, 0, scan)
	for {
		var (
			err    error
			notify <-chan struct{}
		)
		batch, cursor, notify, err = h.fetch(batch[:0], prefix, cursor, scan)
		if err != nil {
			select {
			case out <- storage.WatchResult{Err: err}:
			case <-ctx.Done():
			}
			return
		}
		for i := range batch {
			select {
			case out <- storage.WatchResult{Event: batch[i]}:
			case <-ctx.Done():
				return
			}
			batch[i] = storage.Event{} // drop references early
		}
		if notify == nil {
			continue // more to scan
		}
		select {
		case <-notify:
		case <-ctx.Done():
			return
		}
	}
}

// fetch appends to batch the events under prefix after cursor (scanning at
// most scan events) and returns the new cursor. notify is non-nil when the
// watcher has caught up: it is closed by the next append.
func (h *History) fetch(batch []storage.Event, prefix string, cursor int64, scan int) ([]storage.Event, int64, <-chan struct{}, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.closed {
		return batch, cursor, nil, storage.ErrClosed
	}
	if cursor >= h.hi {
		return batch, cursor, h.notify, nil
	}
	if lo := h.oldest(); cursor+1 < lo {
		return batch, cursor, nil, fmt.Errorf("watch %s from revision %d: oldest kept is %d: %w",
			prefix, cursor, lo, storage.ErrGone)
	}
	size := int64(len(h.ring))
	end := min(h.hi, cursor+int64(scan))
	for rev := cursor + 1; rev <= end; rev++ {
		e := &h.ring[rev%size]
		if strings.HasPrefix(e.Event.KV.Key, prefix) {
			batch = append(batch, e.Event)
		}
	}
	var notify <-chan struct{}
	if end == h.hi {
		notify = h.notify
	}
	return batch, end, notify, nil
}
