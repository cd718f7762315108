package etcd

import (
	"context"
	"fmt"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/kl-dev/kl/pkg/storage"
)

// Watch delivers every change under prefix after fromRevision (0: from
// now) until ctx is cancelled or the store closed, then closes the channel.
// It ends with storage.ErrGone when fromRevision is compacted, when etcd
// compacts past the watch, or when the reader falls WatchBufferSize events
// behind; with another error when etcd cancels the watch (e.g. its member
// lost the leader).
func (s *Store) Watch(ctx context.Context, prefix string, fromRevision int64) (<-chan storage.WatchResult, error) {
	op := fmt.Sprintf("watch %s from revision %d", prefix, fromRevision)
	if fromRevision == 0 {
		// etcd starts a watch without a revision when its member gets the
		// request, after this call returns; pinning the current revision
		// makes "from now" include every write made once Watch returned.
		rev, err := s.CurrentRevision(ctx)
		if err != nil {
			return nil, err
		}
		fromRevision = rev
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, s.closedErr(op)
	}
	s.wg.Add(1)
	s.mu.Unlock()

	// life ends with the caller's ctx or Close; wctx also ends when the
	// reader is too slow, which stops the etcd watch but still lets the
	// goroutine hand over ErrGone.
	life, stopLife := context.WithCancel(ctx)
	unlink := context.AfterFunc(s.ctx, stopLife)
	wctx, stopWatch := context.WithCancel(clientv3.WithRequireLeader(life))
	// etcd starts at fromRevision itself rather than the revision after
	// it: it then refuses a compacted fromRevision exactly as List does
	// (the state at fromRevision must still be known). Events at
	// fromRevision are skipped below.
	wch := s.cli.Watch(wctx, s.key(prefix), clientv3.WithPrefix(), clientv3.WithRev(fromRevision), clientv3.WithPrevKV())
	out := make(chan storage.WatchResult, s.opts.WatchBufferSize)
	go func() {
		defer s.wg.Done()
		defer close(out)
		defer unlink()
		defer stopLife()
		defer stopWatch()
		s.forward(life, wch, out, op, fromRevision)
	}()
	return out, nil
}

// forward turns etcd watch responses into results on out until life ends
// or the watch does.
func (s *Store) forward(life context.Context, wch clientv3.WatchChan, out chan<- storage.WatchResult, op string, from int64) {
	end := func(err error) {
		select {
		case out <- storage.WatchResult{Err: err}:
		case <-life.Done():
		}
	}
	for {
		var resp clientv3.WatchResponse
		var ok bool
		select {
		case <-life.Done():
			return
		case resp, ok = <-wch:
		}
		if !ok {
			if life.Err() == nil {
				end(fmt.Errorf("etcd store: %s: etcd closed the watch", op))
			}
			return
		}
		if resp.CompactRevision != 0 {
			end(fmt.Errorf("etcd store: %s: %w (etcd compacted its history up to revision %d)", op, storage.ErrGone, resp.CompactRevision))
			return
		}
		if err := resp.Err(); err != nil {
			if life.Err() == nil {
				end(s.fail(op, err))
			}
			return
		}
		for _, ev := range resp.Events {
			if ev.Kv.ModRevision <= from {
				continue
			}
			select {
			case out <- storage.WatchResult{Event: s.event(ev)}:
			default:
				// The reader is WatchBufferSize events behind. Rather than
				// buffer without bound (etcd keeps sending), end the watch
				// once the reader has taken what is buffered.
				end(fmt.Errorf("etcd store: %s: %w: the reader fell %d events behind", op, storage.ErrGone, cap(out)))
				return
			}
		}
	}
}

// event converts an etcd event. A delete carries the key's last value and
// create revision (from the previous key-value) and the delete's revision.
func (s *Store) event(ev *clientv3.Event) storage.Event {
	key := s.klKey(ev.Kv.Key)
	if ev.Type == mvccpb.DELETE {
		e := storage.Event{
			Type: storage.EventDelete,
			KV:   storage.KeyValue{Key: key, ModRevision: ev.Kv.ModRevision},
		}
		if p := ev.PrevKv; p != nil {
			e.KV.Value, e.KV.CreateRevision, e.PrevValue = p.Value, p.CreateRevision, p.Value
		}
		return e
	}
	e := storage.Event{
		Type:    storage.EventPut,
		KV:      storage.KeyValue{Key: key, Value: ev.Kv.Value, ModRevision: ev.Kv.ModRevision, CreateRevision: ev.Kv.CreateRevision},
		Created: ev.Kv.CreateRevision == ev.Kv.ModRevision,
	}
	if p := ev.PrevKv; p != nil && !e.Created {
		e.PrevValue = p.Value
	}
	return e
}
