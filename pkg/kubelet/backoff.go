package kubelet

import (
	"sync"
	"time"
)

// backoff tracks per-key exponential back-off the way Kubernetes'
// flowcontrol.Backoff does for container restarts and image pulls: the
// first failure is retried at once and sets a delay of base; each failure
// within the delay doubles it up to max; a key quiet for 2*max starts over.
type backoff struct {
	base, max time.Duration
	now       func() time.Time

	mu      sync.Mutex
	entries map[string]*backoffEntry
}

type backoffEntry struct {
	delay      time.Duration
	lastUpdate time.Time
}

func newBackoff(base, max time.Duration) *backoff {
	return &backoff{base: base, max: max, now: time.Now, entries: map[string]*backoffEntry{}}
}

// inBackOffSince reports whether key is still backing off from a failure
// at eventTime, and until when.
func (b *backoff) inBackOffSince(key string, eventTime time.Time) (bool, time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.entries[key]
	if !ok || b.expired(e, eventTime) {
		return false, time.Time{}
	}
	until := eventTime.Add(e.delay)
	return b.now().Before(until), until
}

// inBackOffSinceUpdate reports whether key is still backing off from its
// last failure (image pulls, whose failures have no timestamp of their own).
func (b *backoff) inBackOffSinceUpdate(key string) (bool, time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.entries[key]
	if !ok {
		return false, time.Time{}
	}
	until := e.lastUpdate.Add(e.delay)
	return b.now().Before(until), until
}

// next records a failure of key at eventTime: the first one (or the first
// after a quiet 2*max) gets base, later ones double the delay up to max.
func (b *backoff) next(key string, eventTime time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.entries[key]
	if !ok || b.expired(e, eventTime) {
		e = &backoffEntry{delay: b.base}
		b.entries[key] = e
	} else {
		e.delay = min(e.delay*2, b.max)
	}
	e.lastUpdate = eventTime
	return e.delay
}

// delay returns key's current delay (0 if none).
func (b *backoff) delay(key string) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if e, ok := b.entries[key]; ok {
		return e.delay
	}
	return 0
}

// forget drops every key with the prefix (a pod's keys when it goes).
func (b *backoff) forget(prefix string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k := range b.entries {
		if len(k) >= len(prefix) && k[:len(prefix)] == prefix {
			delete(b.entries, k)
		}
	}
}

func (b *backoff) expired(e *backoffEntry, eventTime time.Time) bool {
	return eventTime.Sub(e.lastUpdate) > 2*b.max
}
