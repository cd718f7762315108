// Package memory is kl's in-memory storage backend: a map for lookups, an
// ordered index for prefix lists, and a bounded watch history
// (watchhist.History). Nothing survives Close. It is the reference backend
// for tests and for `kl apiserver --storage memory`.
package memory

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"strings"
	"sync"

	"github.com/kl-dev/kl/pkg/storage"
	"github.com/kl-dev/kl/pkg/storage/watchhist"
)

// Options configures a Store.
type Options struct {
	// HistorySize is the number of recent events kept for watches and for
	// lists at older revisions (0: watchhist.DefaultSize). Watching from a
	// revision older than that fails with storage.ErrGone.
	HistorySize int
}

// Store is an in-memory storage.Interface. Values passed in and returned are
// copied; values in watch events are shared and must not be modified.
type Store struct {
	mu     sync.RWMutex
	items  map[string]*storage.KeyValue
	keys   index
	rev    int64
	closed bool
	hist   *watchhist.History
}

var (
	_ storage.Interface = (*Store)(nil)
	_ storage.Counter   = (*Store)(nil)
)

// New returns an empty store at revision 0.
func New(opts Options) *Store {
	return &Store{
		items: make(map[string]*storage.KeyValue),
		hist:  watchhist.New(opts.HistorySize, 0),
	}
}

// check returns the error a call must fail with before touching the store.
// Callers hold mu.
func (s *Store) check(ctx context.Context, op, key string) error {
	if s.closed {
		return fmt.Errorf("%s %s: %w", op, key, storage.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s %s: %w", op, key, err)
	}
	return nil
}

// Get returns the key or storage.ErrNotFound.
func (s *Store) Get(ctx context.Context, key string) (storage.KeyValue, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(ctx, "get", key); err != nil {
		return storage.KeyValue{}, err
	}
	kv, ok := s.items[key]
	if !ok {
		return storage.KeyValue{}, fmt.Errorf("get %s: %w", key, storage.ErrNotFound)
	}
	return clone(*kv), nil
}

// List returns the keys with the prefix, sorted by key, read at the current
// revision or, within the watch history, at opts.Revision.
func (s *Store) List(ctx context.Context, prefix string, opts storage.ListOptions) (storage.ListResult, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(ctx, "list", prefix); err != nil {
		return storage.ListResult{}, err
	}
	rev := s.rev
	var o *watchhist.Overlay
	switch {
	case opts.Revision > s.rev:
		return storage.ListResult{}, fmt.Errorf("list %s at revision %d: newer than current revision %d",
			prefix, opts.Revision, s.rev)
	case opts.Revision > 0 && opts.Revision < s.rev:
		var err error
		if o, err = s.hist.Overlay(prefix, opts.Revision, s.rev); err != nil {
			return storage.ListResult{}, fmt.Errorf("list %s: %w", prefix, err)
		}
		rev = opts.Revision
	}
	from := max(prefix, opts.StartKey)
	items, more, err := watchhist.Page(s.ascend(prefix, from), o, from, opts.Limit)
	if err != nil {
		return storage.ListResult{}, fmt.Errorf("list %s: %w", prefix, err)
	}
	res := storage.ListResult{Items: items, Revision: rev, More: more}
	if more {
		last := items[len(items)-1].Key
		res.Remaining = s.keys.countPrefix(prefix, last+"\x00")
		if o != nil {
			res.Remaining = o.CountAfter(last, res.Remaining)
		}
	}
	return res, nil
}

// ascend yields copies of the items under prefix from key from on. Callers
// hold mu.
func (s *Store) ascend(prefix, from string) iter.Seq2[storage.KeyValue, error] {
	return func(yield func(storage.KeyValue, error) bool) {
		s.keys.ascend(from, func(k string) bool {
			if !strings.HasPrefix(k, prefix) {
				return false
			}
			return yield(clone(*s.items[k]), nil)
		})
	}
}

// Count returns the number of keys under prefix.
func (s *Store) Count(ctx context.Context, prefix string) (int64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(ctx, "count", prefix); err != nil {
		return 0, err
	}
	return s.keys.countPrefix(prefix, prefix), nil
}

// Create stores a new key and returns its revision, or
// storage.ErrAlreadyExists.
func (s *Store) Create(ctx context.Context, key string, value []byte) (int64, error) {
	if key == "" {
		return 0, fmt.Errorf("create: empty key")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx, "create", key); err != nil {
		return 0, err
	}
	if _, ok := s.items[key]; ok {
		return 0, fmt.Errorf("create %s: %w", key, storage.ErrAlreadyExists)
	}
	s.rev++
	kv := &storage.KeyValue{Key: key, Value: bytes.Clone(value), ModRevision: s.rev, CreateRevision: s.rev}
	s.items[key] = kv
	s.keys.insert(key)
	s.hist.Append(watchhist.Entry{Event: storage.Event{Type: storage.EventPut, KV: *kv, Created: true}})
	return s.rev, nil
}

// Update replaces an existing key's value when its ModRevision equals
// expectedRevision (0: unconditional).
func (s *Store) Update(ctx context.Context, key string, value []byte, expectedRevision int64) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx, "update", key); err != nil {
		return 0, err
	}
	old, err := s.current("update", key, expectedRevision)
	if err != nil {
		return 0, err
	}
	s.rev++
	kv := &storage.KeyValue{Key: key, Value: bytes.Clone(value), ModRevision: s.rev, CreateRevision: old.CreateRevision}
	s.items[key] = kv
	s.hist.Append(watchhist.Entry{
		Event:              storage.Event{Type: storage.EventPut, KV: *kv, PrevValue: old.Value},
		PrevModRevision:    old.ModRevision,
		PrevCreateRevision: old.CreateRevision,
	})
	return s.rev, nil
}

// Delete removes a key when its ModRevision equals expectedRevision (0:
// unconditional) and returns it with the revision of the delete.
func (s *Store) Delete(ctx context.Context, key string, expectedRevision int64) (storage.KeyValue, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx, "delete", key); err != nil {
		return storage.KeyValue{}, 0, err
	}
	old, err := s.current("delete", key, expectedRevision)
	if err != nil {
		return storage.KeyValue{}, 0, err
	}
	s.rev++
	delete(s.items, key)
	s.keys.remove(key)
	ev := storage.Event{Type: storage.EventDelete, KV: *old, PrevValue: old.Value}
	ev.KV.ModRevision = s.rev
	s.hist.Append(watchhist.Entry{Event: ev, PrevModRevision: old.ModRevision, PrevCreateRevision: old.CreateRevision})
	return clone(*old), s.rev, nil
}

// current returns the key for a conditional write. Callers hold mu.
func (s *Store) current(op, key string, expectedRevision int64) (*storage.KeyValue, error) {
	kv, ok := s.items[key]
	if !ok {
		return nil, fmt.Errorf("%s %s: %w", op, key, storage.ErrNotFound)
	}
	if expectedRevision != 0 && kv.ModRevision != expectedRevision {
		return nil, fmt.Errorf("%s %s: expected revision %d, have %d: %w",
			op, key, expectedRevision, kv.ModRevision, storage.ErrConflict)
	}
	return kv, nil
}

// Watch delivers every change under prefix after fromRevision (0: from
// now); see storage.Interface.
func (s *Store) Watch(ctx context.Context, prefix string, fromRevision int64) (<-chan storage.WatchResult, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(ctx, "watch", prefix); err != nil {
		return nil, err
	}
	return s.hist.Watch(ctx, prefix, fromRevision)
}

// CurrentRevision returns the revision of the newest write.
func (s *Store) CurrentRevision(ctx context.Context) (int64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(ctx, "current revision", ""); err != nil {
		return 0, err
	}
	return s.rev, nil
}

// Close drops the data and ends every watch with storage.ErrClosed. It is
// idempotent.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.items = nil
	s.keys = index{}
	s.hist.Close()
	return nil
}

func clone(kv storage.KeyValue) storage.KeyValue {
	kv.Value = bytes.Clone(kv.Value)
	return kv
}
