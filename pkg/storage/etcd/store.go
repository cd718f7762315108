package etcd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/kl-dev/kl/pkg/storage"
)

// Store is a storage.Interface on an etcd cluster. It is safe for
// concurrent use; several Stores (in several apiservers) may share one
// cluster and Prefix.
type Store struct {
	opts   Options
	cli    *clientv3.Client
	prefix string
	log    *slog.Logger

	// ctx is cancelled by Close; it ends the watches and the compactor.
	ctx    context.Context
	cancel context.CancelFunc

	// mu guards closed and adding to wg, so that Close waits for every
	// goroutine started before it.
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

var (
	_ storage.Interface = (*Store)(nil)
	_ storage.Counter   = (*Store)(nil)
)

// Open connects to the etcd cluster and checks that it answers within
// opts.DialTimeout (or before ctx ends).
func Open(ctx context.Context, opts Options) (*Store, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	tlsCfg, err := opts.tlsConfig()
	if err != nil {
		return nil, err
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   opts.Endpoints,
		TLS:         tlsCfg,
		DialTimeout: opts.DialTimeout,
		// Notice a member that stopped answering (not only one whose
		// connections were closed) so requests and watches move on.
		DialKeepAliveTime:    30 * time.Second,
		DialKeepAliveTimeout: 10 * time.Second,
		Logger:               newZapLogger(opts.Logger),
	})
	if err != nil {
		return nil, fmt.Errorf("etcd store: client for %v: %w", opts.Endpoints, err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	s := &Store{
		opts:   opts,
		cli:    cli,
		prefix: opts.Prefix,
		log:    opts.Logger,
		ctx:    sctx,
		cancel: cancel,
	}
	pctx, pcancel := context.WithTimeout(ctx, opts.DialTimeout)
	defer pcancel()
	if _, err := s.CurrentRevision(pctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("etcd store: cannot reach etcd at %s within %v: %w", strings.Join(opts.Endpoints, ","), opts.DialTimeout, err)
	}
	if opts.CompactionInterval > 0 {
		s.wg.Go(s.compactLoop)
	}
	return s, nil
}

// Close ends every watch, stops the compactor and closes the client. It is
// idempotent; calls after it fail with storage.ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	if err := s.cli.Close(); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("etcd store: close client: %w", err)
	}
	return nil
}

func (s *Store) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// fail wraps an etcd error for op, mapping what the contract names:
// compaction is storage.ErrGone, and anything after Close is
// storage.ErrClosed.
func (s *Store) fail(op string, err error) error {
	switch {
	case s.isClosed():
		return fmt.Errorf("etcd store: %s: %w", op, storage.ErrClosed)
	case errors.Is(err, rpctypes.ErrCompacted):
		return fmt.Errorf("etcd store: %s: %w (%v)", op, storage.ErrGone, err)
	}
	return fmt.Errorf("etcd store: %s: %w", op, err)
}

func (s *Store) closedErr(op string) error {
	return fmt.Errorf("etcd store: %s: %w", op, storage.ErrClosed)
}

// key is the etcd key of a kl key.
func (s *Store) key(k string) string { return s.prefix + k }

// klKey is the kl key of an etcd key.
func (s *Store) klKey(k []byte) string { return strings.TrimPrefix(string(k), s.prefix) }

// Get returns the key or storage.ErrNotFound.
func (s *Store) Get(ctx context.Context, key string) (storage.KeyValue, error) {
	if s.isClosed() {
		return storage.KeyValue{}, s.closedErr("get " + key)
	}
	resp, err := s.cli.Get(ctx, s.key(key))
	if err != nil {
		return storage.KeyValue{}, s.fail("get "+key, err)
	}
	if len(resp.Kvs) == 0 {
		return storage.KeyValue{}, fmt.Errorf("get %s: %w", key, storage.ErrNotFound)
	}
	kv := resp.Kvs[0]
	return storage.KeyValue{Key: key, Value: kv.Value, ModRevision: kv.ModRevision, CreateRevision: kv.CreateRevision}, nil
}

// List returns the keys under prefix in key order, from opts.StartKey, at
// most opts.Limit of them, read at opts.Revision (0: now).
func (s *Store) List(ctx context.Context, prefix string, opts storage.ListOptions) (storage.ListResult, error) {
	op := "list " + prefix
	if s.isClosed() {
		return storage.ListResult{}, s.closedErr(op)
	}
	start := s.key(prefix)
	end := clientv3.GetPrefixRangeEnd(start)
	if opts.StartKey != "" && s.key(opts.StartKey) > start {
		start = s.key(opts.StartKey)
	}
	if start == "" {
		start = "\x00" // the whole key space (empty Prefix and prefix)
	}
	if end != "\x00" && start >= end {
		// Past the end of the prefix: nothing to read, but the answer
		// still needs the revision.
		rev := opts.Revision
		if rev == 0 {
			var err error
			if rev, err = s.CurrentRevision(ctx); err != nil {
				return storage.ListResult{}, err
			}
		}
		return storage.ListResult{Revision: rev}, nil
	}
	ops := []clientv3.OpOption{clientv3.WithRange(end)}
	if opts.Limit > 0 {
		ops = append(ops, clientv3.WithLimit(opts.Limit))
	}
	if opts.Revision > 0 {
		ops = append(ops, clientv3.WithRev(opts.Revision))
	}
	resp, err := s.cli.Get(ctx, start, ops...)
	if err != nil {
		if opts.Revision > 0 {
			op = fmt.Sprintf("%s at revision %d", op, opts.Revision)
		}
		return storage.ListResult{}, s.fail(op, err)
	}
	res := storage.ListResult{
		Items:     make([]storage.KeyValue, 0, len(resp.Kvs)),
		Revision:  resp.Header.Revision,
		More:      resp.More,
		Remaining: resp.Count - int64(len(resp.Kvs)),
	}
	if opts.Revision > 0 {
		// The header carries the newest revision, not the one read at.
		res.Revision = opts.Revision
	}
	for _, kv := range resp.Kvs {
		res.Items = append(res.Items, storage.KeyValue{
			Key: s.klKey(kv.Key), Value: kv.Value, ModRevision: kv.ModRevision, CreateRevision: kv.CreateRevision,
		})
	}
	return res, nil
}

// Create stores a new key and returns its revision, or
// storage.ErrAlreadyExists.
func (s *Store) Create(ctx context.Context, key string, value []byte) (int64, error) {
	if s.isClosed() {
		return 0, s.closedErr("create " + key)
	}
	k := s.key(key)
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(k), "=", 0)).
		Then(clientv3.OpPut(k, string(value))).
		Commit()
	if err != nil {
		return 0, s.fail("create "+key, err)
	}
	if !resp.Succeeded {
		return 0, fmt.Errorf("create %s: %w", key, storage.ErrAlreadyExists)
	}
	return resp.Header.Revision, nil
}

// guard is the transaction condition for a write that expects the key at
// revision expected (0: any revision, but the key must exist).
func guard(k string, expected int64) clientv3.Cmp {
	if expected == 0 {
		return clientv3.Compare(clientv3.CreateRevision(k), ">", 0)
	}
	return clientv3.Compare(clientv3.ModRevision(k), "=", expected)
}

// missed returns the error of a write whose guard failed: the Else branch
// counted the key.
func missed(op string, resp *clientv3.TxnResponse) error {
	if len(resp.Responses) == 1 {
		if r := resp.Responses[0].GetResponseRange(); r != nil && r.Count == 0 {
			return fmt.Errorf("%s: %w", op, storage.ErrNotFound)
		}
	}
	return fmt.Errorf("%s: %w", op, storage.ErrConflict)
}

// Update replaces an existing key's value when its ModRevision is
// expectedRevision (0: any) and returns the new revision, or
// storage.ErrNotFound / storage.ErrConflict.
func (s *Store) Update(ctx context.Context, key string, value []byte, expectedRevision int64) (int64, error) {
	op := "update " + key
	if s.isClosed() {
		return 0, s.closedErr(op)
	}
	k := s.key(key)
	resp, err := s.cli.Txn(ctx).
		If(guard(k, expectedRevision)).
		Then(clientv3.OpPut(k, string(value))).
		Else(clientv3.OpGet(k, clientv3.WithCountOnly())).
		Commit()
	if err != nil {
		return 0, s.fail(op, err)
	}
	if !resp.Succeeded {
		return 0, missed(op, resp)
	}
	return resp.Header.Revision, nil
}

// Delete removes a key when its ModRevision is expectedRevision (0: any)
// and returns the key as it was and the delete's revision, or
// storage.ErrNotFound / storage.ErrConflict.
func (s *Store) Delete(ctx context.Context, key string, expectedRevision int64) (storage.KeyValue, int64, error) {
	op := "delete " + key
	if s.isClosed() {
		return storage.KeyValue{}, 0, s.closedErr(op)
	}
	k := s.key(key)
	resp, err := s.cli.Txn(ctx).
		If(guard(k, expectedRevision)).
		Then(clientv3.OpDelete(k, clientv3.WithPrevKV())).
		Else(clientv3.OpGet(k, clientv3.WithCountOnly())).
		Commit()
	if err != nil {
		return storage.KeyValue{}, 0, s.fail(op, err)
	}
	if !resp.Succeeded {
		return storage.KeyValue{}, 0, missed(op, resp)
	}
	var prev storage.KeyValue
	if len(resp.Responses) == 1 {
		if d := resp.Responses[0].GetResponseDeleteRange(); d != nil && len(d.PrevKvs) == 1 {
			kv := d.PrevKvs[0]
			prev = storage.KeyValue{Key: key, Value: kv.Value, ModRevision: kv.ModRevision, CreateRevision: kv.CreateRevision}
		}
	}
	if prev.Key == "" {
		// Cannot happen: the guard saw the key in the same transaction.
		return storage.KeyValue{}, 0, fmt.Errorf("%s: etcd returned no previous value", op)
	}
	return prev, resp.Header.Revision, nil
}

// CurrentRevision returns etcd's newest revision, read linearizably (never
// older than a write acknowledged to anyone).
func (s *Store) CurrentRevision(ctx context.Context) (int64, error) {
	if s.isClosed() {
		return 0, s.closedErr("current revision")
	}
	// Any read carries the revision in its header; counting one key is
	// the cheapest.
	resp, err := s.cli.Get(ctx, s.key("/"), clientv3.WithCountOnly())
	if err != nil {
		return 0, s.fail("current revision", err)
	}
	return resp.Header.Revision, nil
}

// Count returns the number of keys under prefix.
func (s *Store) Count(ctx context.Context, prefix string) (int64, error) {
	op := "count " + prefix
	if s.isClosed() {
		return 0, s.closedErr(op)
	}
	resp, err := s.cli.Get(ctx, s.key(prefix), clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return 0, s.fail(op, err)
	}
	return resp.Count, nil
}

// Compact discards etcd's history before rev: lists and watches at older
// revisions then fail with storage.ErrGone. Compacting to a revision that is
// already compacted is not an error. The compactor calls it; tests use it
// to shorten the history.
func (s *Store) Compact(ctx context.Context, rev int64) error {
	op := fmt.Sprintf("compact to revision %d", rev)
	if s.isClosed() {
		return s.closedErr(op)
	}
	if _, err := s.cli.Compact(ctx, rev); err != nil && !errors.Is(err, rpctypes.ErrCompacted) {
		return s.fail(op, err)
	}
	return nil
}

// compactLoop compacts, every interval, to the revision read one interval
// before, so at least one interval of history is always kept.
func (s *Store) compactLoop() {
	t := time.NewTicker(s.opts.CompactionInterval)
	defer t.Stop()
	var last int64
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(s.ctx, time.Minute)
		if last > 0 {
			if err := s.Compact(ctx, last); err != nil && s.ctx.Err() == nil {
				s.log.Warn("etcd compaction failed", "revision", last, "err", err)
			}
		}
		cur, err := s.CurrentRevision(ctx)
		cancel()
		if err != nil {
			if s.ctx.Err() == nil {
				s.log.Warn("etcd compaction: cannot read the current revision", "err", err)
			}
			continue
		}
		last = cur
	}
}
