package badger

import (
	"encoding/binary"
	"errors"
	"fmt"

	bdg "github.com/dgraph-io/badger/v4"

	"github.com/kl-dev/kl/pkg/storage"
	"github.com/kl-dev/kl/pkg/storage/watchhist"
)

// Group commit.
//
// With SyncWrites, badger syncs its write-ahead log once per transaction
// even when its write goroutine batches concurrent commits, so one
// transaction per write tops out at a few hundred writes per second on an
// ordinary disk (BenchmarkBadgerTxnPerWrite measures it). Instead, a single
// writer goroutine takes every pending write (up to Options.MaxBatch) from
// the queue, applies them in one badger transaction together with the new
// current revision, commits (one sync), appends their events to the history
// and only then acknowledges the callers. While it syncs, the next batch
// queues up, so batches grow with load and the sync cost is shared.
//
// Being the only writer also makes revisions simple: the writer hands them
// out in queue order, so each write's revision matches commit order, and
// watchers see events in revision order once they are durable.

type opKind uint8

const (
	opCreate opKind = iota + 1
	opUpdate
	opDelete
)

func (k opKind) String() string {
	switch k {
	case opCreate:
		return "create"
	case opUpdate:
		return "update"
	}
	return "delete"
}

// writeOp is one queued write and, once done is closed, its outcome.
type writeOp struct {
	kind     opKind
	key      string
	record   []byte // codec.newRecord(value); nil for deletes
	value    []byte // the value written, for the event
	expected int64  // expected ModRevision (0: any)
	done     chan struct{}

	rev  int64            // revision of the write
	prev storage.KeyValue // the key before the write (updates, deletes)
	err  error
}

func (op *writeOp) fail(err error) {
	op.err = fmt.Errorf("%s %s: %w", op.kind, op.key, err)
	close(op.done)
}

// writeLoop is the writer goroutine. It exits when stop is closed, after
// committing whatever is still queued.
func (s *Store) writeLoop() {
	defer close(s.writerDone)
	batch := make([]*writeOp, 0, s.opts.MaxBatch)
	for {
		select {
		case op := <-s.ops:
			batch = append(batch, op)
		case <-s.stop:
			for {
				select {
				case op := <-s.ops:
					batch = append(batch, op)
				default:
					s.commit(batch)
					return
				}
			}
		}
	gather:
		for len(batch) < s.opts.MaxBatch {
			select {
			case op := <-s.ops:
				batch = append(batch, op)
			default:
				break gather
			}
		}
		s.commit(batch)
		clear(batch)
		batch = batch[:0]
	}
}

// commit applies batch in as few transactions as badger's size limit allows.
func (s *Store) commit(batch []*writeOp) {
	for len(batch) > 0 {
		batch = batch[s.commitSome(batch):]
	}
}

// commitSome applies a prefix of batch in one transaction and returns its
// length (at least 1). Every write of the prefix is answered after the
// commit, the failed ones too: a failure may rest on an earlier write of
// the same batch (a create after a create), which must be durable first.
func (s *Store) commitSome(batch []*writeOp) int {
	if s.failed != nil {
		for _, op := range batch {
			op.fail(fmt.Errorf("store stopped writing after an earlier commit failed: %w", s.failed))
		}
		return len(batch)
	}
	txn := s.db.NewTransaction(true)
	defer txn.Discard()
	// The current revision is set first so that it always fits in the
	// transaction; its bytes are filled in just before Commit (badger reads
	// them then).
	revBuf := make([]byte, 8)
	if err := txn.Set(metaRevKey, revBuf); err != nil {
		for _, op := range batch {
			op.fail(fmt.Errorf("start transaction: %w", err))
		}
		return len(batch)
	}
	rev := s.rev.Load()
	var (
		entries []watchhist.Entry
		n       int
	)
	for ; n < len(batch); n++ {
		op := batch[n]
		entry, err := s.apply(txn, op, rev+1)
		if errors.Is(err, bdg.ErrTxnTooBig) {
			if len(entries) > 0 {
				break // commit what fits; op starts the next transaction
			}
			err = fmt.Errorf("write of %d bytes is too large: %w", len(op.record), err)
		}
		if err != nil {
			op.err = fmt.Errorf("%s %s: %w", op.kind, op.key, err)
			continue
		}
		rev++
		op.rev = rev
		entries = append(entries, entry)
	}
	done := batch[:n]
	if len(entries) > 0 {
		binary.BigEndian.PutUint64(revBuf, uint64(rev))
		if err := txn.Commit(); err != nil {
			// A failed sync can leave the batch visible all the same;
			// handing out its revisions again, or going on without its
			// events, would break the revision contract. Stop writing;
			// reads go on.
			s.failed = err
			s.opts.Logger.Error("storage commit failed; the store is now read-only", "writes", n, "err", err)
			for _, op := range done {
				op.fail(fmt.Errorf("commit: %w", err))
			}
			return n
		}
		s.rev.Store(rev)
		s.hist.Append(entries...)
	}
	for _, op := range done {
		close(op.done)
	}
	return n
}

// apply checks op's precondition against the transaction's view (which
// includes the batch's earlier writes) and stages it at revision rev.
func (s *Store) apply(txn *bdg.Txn, op *writeOp, rev int64) (watchhist.Entry, error) {
	dk := dataKey(op.key)
	cur, exists, err := s.getRecord(txn, op.key, dk)
	if err != nil {
		return watchhist.Entry{}, err
	}
	switch {
	case op.kind == opCreate && exists:
		return watchhist.Entry{}, storage.ErrAlreadyExists
	case op.kind != opCreate && !exists:
		return watchhist.Entry{}, storage.ErrNotFound
	case op.kind != opCreate && op.expected != 0 && op.expected != cur.ModRevision:
		return watchhist.Entry{}, fmt.Errorf("expected revision %d, have %d: %w",
			op.expected, cur.ModRevision, storage.ErrConflict)
	}

	var entry watchhist.Entry
	switch op.kind {
	case opCreate:
		setHeader(op.record, rev, rev)
		err = txn.Set(dk, op.record)
		entry.Event = storage.Event{Type: storage.EventPut, Created: true, KV: storage.KeyValue{
			Key: op.key, Value: op.value, ModRevision: rev, CreateRevision: rev,
		}}
	case opUpdate:
		setHeader(op.record, rev, cur.CreateRevision)
		err = txn.Set(dk, op.record)
		entry.Event = storage.Event{Type: storage.EventPut, PrevValue: cur.Value, KV: storage.KeyValue{
			Key: op.key, Value: op.value, ModRevision: rev, CreateRevision: cur.CreateRevision,
		}}
	case opDelete:
		err = txn.Delete(dk)
		entry.Event = storage.Event{Type: storage.EventDelete, PrevValue: cur.Value, KV: storage.KeyValue{
			Key: op.key, Value: cur.Value, ModRevision: rev, CreateRevision: cur.CreateRevision,
		}}
	}
	if err != nil {
		return watchhist.Entry{}, err
	}
	if exists {
		entry.PrevModRevision = cur.ModRevision
		entry.PrevCreateRevision = cur.CreateRevision
	}
	op.prev = cur
	return entry, nil
}

// getRecord reads key in txn; exists is false when it is absent.
func (s *Store) getRecord(txn *bdg.Txn, key string, dk []byte) (storage.KeyValue, bool, error) {
	item, err := txn.Get(dk)
	if errors.Is(err, bdg.ErrKeyNotFound) {
		return storage.KeyValue{}, false, nil
	}
	if err != nil {
		return storage.KeyValue{}, false, fmt.Errorf("read: %w", err)
	}
	var kv storage.KeyValue
	err = item.Value(func(v []byte) error {
		kv, err = s.codec.decodeRecord(key, v)
		return err
	})
	if err != nil {
		return storage.KeyValue{}, false, fmt.Errorf("read: %w", err)
	}
	return kv, true, nil
}
