// Package badger is kl's default storage backend: an embedded BadgerDB
// (github.com/dgraph-io/badger/v4) with synced writes, a group-committing
// writer goroutine, and a bounded in-memory watch history
// (watchhist.History).
//
// Layout and write path are described in record.go and writer.go. Reads
// (Get, List, Count) are badger read transactions and run concurrently with
// the writer. The watch history is not persisted: after Open, watching or
// listing from a revision older than the one the store reopened at fails with
// storage.ErrGone, and clients re-list, as they do after an etcd compaction.
package badger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"
	"time"

	bdg "github.com/dgraph-io/badger/v4"

	"github.com/kl-dev/kl/pkg/storage"
	"github.com/kl-dev/kl/pkg/storage/watchhist"
)

// Store is a storage.Interface on BadgerDB. Values passed in and returned are
// copied; values in watch events are shared and must not be modified.
type Store struct {
	opts  Options
	db    *bdg.DB
	codec *codec
	hist  *watchhist.History
	rev   atomic.Int64 // newest committed revision; written by the writer only
	// failed is the commit error after which the writer refuses writes;
	// used by the writer goroutine only.
	failed error

	ops        chan *writeOp
	stop       chan struct{}
	writerDone chan struct{}
	gcDone     chan struct{}

	// closeMu is held shared by every call for its whole duration, so that
	// Close waits for them before it closes the database.
	closeMu sync.RWMutex
	closed  bool
}

var (
	_ storage.Interface = (*Store)(nil)
	_ storage.Counter   = (*Store)(nil)
)

// Open opens (or creates) the store in opts.Dir, or an empty in-memory one.
func Open(opts Options) (*Store, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	db, err := bdg.Open(opts.badgerOptions())
	if err != nil {
		return nil, fmt.Errorf("open badger store in %q: %w", opts.Dir, err)
	}
	rev, err := readRev(db)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open badger store in %q: %w", opts.Dir, err), db.Close())
	}
	c, err := newCodec()
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open badger store in %q: %w", opts.Dir, err), db.Close())
	}
	s := &Store{
		opts:       opts,
		db:         db,
		codec:      c,
		hist:       watchhist.New(opts.HistorySize, rev),
		ops:        make(chan *writeOp, 4*opts.MaxBatch),
		stop:       make(chan struct{}),
		writerDone: make(chan struct{}),
		gcDone:     make(chan struct{}),
	}
	s.rev.Store(rev)
	go s.writeLoop()
	go s.gcLoop()
	return s, nil
}

func readRev(db *bdg.DB) (int64, error) {
	var rev int64
	err := db.View(func(txn *bdg.Txn) error {
		var err error
		rev, err = txnRev(txn)
		return err
	})
	return rev, err
}

// txnRev reads the current revision as of txn's snapshot.
func txnRev(txn *bdg.Txn) (int64, error) {
	item, err := txn.Get(metaRevKey)
	if errors.Is(err, bdg.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read revision: %w", err)
	}
	var rev int64
	err = item.Value(func(v []byte) error {
		rev, err = decodeRev(v)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("read revision: %w", err)
	}
	return rev, nil
}

// enter starts a call: it fails once the store is closed. Callers defer
// s.closeMu.RUnlock() when it succeeds.
func (s *Store) enter(ctx context.Context, op, key string) error {
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return fmt.Errorf("%s %s: %w", op, key, storage.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		s.closeMu.RUnlock()
		return fmt.Errorf("%s %s: %w", op, key, err)
	}
	return nil
}

// Get returns the key or storage.ErrNotFound.
func (s *Store) Get(ctx context.Context, key string) (storage.KeyValue, error) {
	if err := s.enter(ctx, "get", key); err != nil {
		return storage.KeyValue{}, err
	}
	defer s.closeMu.RUnlock()
	txn := s.db.NewTransaction(false)
	defer txn.Discard()
	kv, ok, err := s.getRecord(txn, key, dataKey(key))
	if err != nil {
		return storage.KeyValue{}, fmt.Errorf("get %s: %w", key, err)
	}
	if !ok {
		return storage.KeyValue{}, fmt.Errorf("get %s: %w", key, storage.ErrNotFound)
	}
	return kv, nil
}

// List returns the keys with the prefix, sorted by key, read at the current
// revision or, within the watch history, at opts.Revision. Remaining is -1
// (unknown) when the page is cut short.
func (s *Store) List(ctx context.Context, prefix string, opts storage.ListOptions) (storage.ListResult, error) {
	if err := s.enter(ctx, "list", prefix); err != nil {
		return storage.ListResult{}, err
	}
	defer s.closeMu.RUnlock()
	res, err := s.list(ctx, prefix, opts)
	if err != nil {
		return storage.ListResult{}, fmt.Errorf("list %s: %w", prefix, err)
	}
	return res, nil
}

func (s *Store) list(ctx context.Context, prefix string, opts storage.ListOptions) (storage.ListResult, error) {
	txn := s.db.NewTransaction(false)
	defer txn.Discard()
	rev, err := txnRev(txn)
	if err != nil {
		return storage.ListResult{}, err
	}
	var o *watchhist.Overlay
	switch {
	case opts.Revision > rev:
		return storage.ListResult{}, fmt.Errorf("revision %d is newer than the current revision %d", opts.Revision, rev)
	case opts.Revision > 0 && opts.Revision < rev:
		// The snapshot's newest writes may not have reached the history yet
		// (the writer appends right after committing).
		if err := s.hist.WaitFor(ctx, rev); err != nil {
			return storage.ListResult{}, err
		}
		if o, err = s.hist.Overlay(prefix, opts.Revision, rev); err != nil {
			return storage.ListResult{}, err
		}
		rev = opts.Revision
	}
	from := max(prefix, opts.StartKey)
	items, more, err := watchhist.Page(s.scan(txn, prefix, from), o, from, opts.Limit)
	if err != nil {
		return storage.ListResult{}, err
	}
	res := storage.ListResult{Items: items, Revision: rev, More: more}
	if more {
		// Counting would walk the rest of the prefix, and badger copies
		// each inline value even when only keys are read: a paginated list
		// would cost O(n) per page.
		res.Remaining = -1
	}
	return res, nil
}

// scan yields copies of the items under prefix with keys >= from, in order.
func (s *Store) scan(txn *bdg.Txn, prefix, from string) iter.Seq2[storage.KeyValue, error] {
	return func(yield func(storage.KeyValue, error) bool) {
		// No value prefetching: values up to ValueThreshold are inline in
		// the tree, where prefetching only adds a goroutine and a copy per
		// item; larger ones are read from the memory-mapped value log.
		it := txn.NewIterator(bdg.IteratorOptions{Prefix: dataKey(prefix)})
		defer it.Close()
		for it.Seek(dataKey(from)); it.Valid(); it.Next() {
			item := it.Item()
			key := string(item.Key()[1:])
			var kv storage.KeyValue
			err := item.Value(func(v []byte) error {
				var err error
				kv, err = s.codec.decodeRecord(key, v)
				return err
			})
			if !yield(kv, err) || err != nil {
				return
			}
		}
	}
}

// countKeys counts the keys under prefix that are >= from, reading keys only.
func countKeys(txn *bdg.Txn, prefix, from string) int64 {
	it := txn.NewIterator(bdg.IteratorOptions{Prefix: dataKey(prefix)})
	defer it.Close()
	var n int64
	for it.Seek(dataKey(max(prefix, from))); it.Valid(); it.Next() {
		n++
	}
	return n
}

// Count returns the number of keys under prefix.
func (s *Store) Count(ctx context.Context, prefix string) (int64, error) {
	if err := s.enter(ctx, "count", prefix); err != nil {
		return 0, err
	}
	defer s.closeMu.RUnlock()
	txn := s.db.NewTransaction(false)
	defer txn.Discard()
	return countKeys(txn, prefix, prefix), nil
}

// submit queues a write and waits until it is durable (or failed). If ctx
// ends first the write may still be applied, as with any remote store.
func (s *Store) submit(ctx context.Context, op *writeOp) error {
	if err := s.enter(ctx, op.kind.String(), op.key); err != nil {
		return err
	}
	defer s.closeMu.RUnlock()
	if op.key == "" {
		return fmt.Errorf("%s: empty key", op.kind)
	}
	op.done = make(chan struct{})
	select {
	case s.ops <- op:
	case <-ctx.Done():
		return fmt.Errorf("%s %s: %w", op.kind, op.key, ctx.Err())
	}
	select {
	case <-op.done:
		return op.err
	case <-ctx.Done():
		return fmt.Errorf("%s %s: %w (the write may still be applied)", op.kind, op.key, ctx.Err())
	}
}

// Create stores a new key and returns its revision, or
// storage.ErrAlreadyExists.
func (s *Store) Create(ctx context.Context, key string, value []byte) (int64, error) {
	rec, stored := s.codec.newRecord(value)
	op := &writeOp{kind: opCreate, key: key, record: rec, value: stored}
	if err := s.submit(ctx, op); err != nil {
		return 0, err
	}
	return op.rev, nil
}

// Update replaces an existing key's value when its ModRevision equals
// expectedRevision (0: unconditional).
func (s *Store) Update(ctx context.Context, key string, value []byte, expectedRevision int64) (int64, error) {
	rec, stored := s.codec.newRecord(value)
	op := &writeOp{kind: opUpdate, key: key, record: rec, value: stored, expected: expectedRevision}
	if err := s.submit(ctx, op); err != nil {
		return 0, err
	}
	return op.rev, nil
}

// Delete removes a key when its ModRevision equals expectedRevision (0:
// unconditional) and returns it with the revision of the delete.
func (s *Store) Delete(ctx context.Context, key string, expectedRevision int64) (storage.KeyValue, int64, error) {
	op := &writeOp{kind: opDelete, key: key, expected: expectedRevision}
	if err := s.submit(ctx, op); err != nil {
		return storage.KeyValue{}, 0, err
	}
	prev := op.prev
	prev.Value = bytes.Clone(prev.Value) // the event shares the original
	return prev, op.rev, nil
}

// Watch delivers every change under prefix after fromRevision (0: from
// now); see storage.Interface.
func (s *Store) Watch(ctx context.Context, prefix string, fromRevision int64) (<-chan storage.WatchResult, error) {
	if err := s.enter(ctx, "watch", prefix); err != nil {
		return nil, err
	}
	defer s.closeMu.RUnlock()
	return s.hist.Watch(ctx, prefix, fromRevision)
}

// CurrentRevision returns the revision of the newest committed write.
func (s *Store) CurrentRevision(ctx context.Context) (int64, error) {
	if err := s.enter(ctx, "current revision", ""); err != nil {
		return 0, err
	}
	defer s.closeMu.RUnlock()
	return s.rev.Load(), nil
}

// Close waits for calls in progress, commits queued writes, ends every
// watch with storage.ErrClosed and closes the database. It is idempotent.
func (s *Store) Close() error {
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		return nil
	}
	s.closed = true
	s.closeMu.Unlock()
	close(s.stop)
	<-s.writerDone
	<-s.gcDone
	s.hist.Close()
	defer s.codec.close()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close badger store: %w", err)
	}
	return nil
}

// gcLoop runs badger's value-log garbage collection now and then: values
// above ValueThreshold live in the value log, which only shrinks this way.
func (s *Store) gcLoop() {
	defer close(s.gcDone)
	if s.opts.InMemory || s.opts.ValueLogGCInterval < 0 {
		return
	}
	t := time.NewTicker(s.opts.ValueLogGCInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		for range 16 { // each run rewrites at most one file
			err := s.db.RunValueLogGC(0.5)
			if err != nil {
				if !errors.Is(err, bdg.ErrNoRewrite) {
					s.opts.Logger.Warn("badger value log GC failed", "err", err)
				}
				break
			}
		}
	}
}
