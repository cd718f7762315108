package watchhist

import (
	"bytes"
	"fmt"
	"iter"
	"slices"
	"strings"

	"github.com/kl-dev/kl/pkg/storage"
)

// Overlay describes how the keys under a prefix looked at an older revision:
// the state at that revision of every key written since. Merged with the
// store's current state (Page), it reads the prefix as of that revision.
type Overlay struct {
	rev     int64
	changed map[string]change
	// past holds the changed keys that existed at rev, with their state
	// then, sorted by key.
	past []storage.KeyValue
}

type change struct {
	existedThen bool // the key existed at the overlay's revision
	existsNow   bool // the key exists at the revision the overlay was built up to
}

// Overlay returns the state at revision rev of the keys under prefix written
// after rev and up to revision upto (the revision of the current state the
// overlay will be merged with). It fails with storage.ErrGone when the
// events after rev are no longer kept; upto must not be newer than Rev()
// (use WaitFor).
func (h *History) Overlay(prefix string, rev, upto int64) (*Overlay, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if upto > h.hi {
		return nil, fmt.Errorf("overlay up to revision %d: history is at %d", upto, h.hi)
	}
	if lo := h.oldest(); rev+1 < lo && rev < upto {
		return nil, fmt.Errorf("read at revision %d: oldest kept is %d: %w", rev, lo, storage.ErrGone)
	}
	o := &Overlay{rev: rev, changed: make(map[string]change)}
	size := int64(len(h.ring))
	for r := rev + 1; r <= upto; r++ {
		e := &h.ring[r%size]
		key := e.Event.KV.Key
		if !strings.HasPrefix(key, prefix) {
			continue
		}
		c, seen := o.changed[key]
		if !seen {
			c.existedThen = e.PrevModRevision != 0
			if c.existedThen {
				o.past = append(o.past, storage.KeyValue{
					Key:            key,
					Value:          bytes.Clone(e.Event.PrevValue),
					ModRevision:    e.PrevModRevision,
					CreateRevision: e.PrevCreateRevision,
				})
			}
		}
		c.existsNow = e.Event.Type == storage.EventPut
		o.changed[key] = c
	}
	slices.SortFunc(o.past, func(a, b storage.KeyValue) int { return strings.Compare(a.Key, b.Key) })
	return o, nil
}

// Changed reports whether key was written after the overlay's revision (its
// current state must then be ignored).
func (o *Overlay) Changed(key string) bool {
	_, ok := o.changed[key]
	return ok
}

// CountAfter turns n, the number of keys under the prefix after key in the
// current state, into the number at the overlay's revision.
func (o *Overlay) CountAfter(key string, n int64) int64 {
	for k, c := range o.changed {
		if k <= key {
			continue
		}
		if c.existsNow {
			n--
		}
		if c.existedThen {
			n++
		}
	}
	return n
}

// Page reads one page of a List. current yields the current items under the
// prefix with keys >= startKey, in key order; o (nil: read the current state)
// rewinds them to an older revision. Page returns up to limit items (0: no
// limit) and whether more follow. It stops reading current as soon as it
// knows the answer.
func Page(current iter.Seq2[storage.KeyValue, error], o *Overlay, startKey string, limit int64) ([]storage.KeyValue, bool, error) {
	var (
		items []storage.KeyValue
		past  []storage.KeyValue
		more  bool
	)
	if o != nil {
		i, _ := slices.BinarySearchFunc(o.past, startKey, func(kv storage.KeyValue, k string) int {
			return strings.Compare(kv.Key, k)
		})
		past = o.past[i:]
	}
	full := func() bool { return limit > 0 && int64(len(items)) == limit }
	// add appends kv, or notes that the page is full; false stops the scan.
	add := func(kv storage.KeyValue) bool {
		if full() {
			more = true
			return false
		}
		items = append(items, kv)
		return true
	}
	for kv, err := range current {
		if err != nil {
			return nil, false, err
		}
		if o != nil && o.Changed(kv.Key) {
			continue
		}
		for len(past) > 0 && past[0].Key < kv.Key {
			if !add(past[0]) {
				return items, true, nil
			}
			past = past[1:]
		}
		if !add(kv) {
			return items, true, nil
		}
	}
	for _, kv := range past {
		if !add(kv) {
			break
		}
	}
	return items, more, nil
}
