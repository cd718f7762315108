package informer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
)

// ListerWatcher lists and watches one resource, already scoped to a
// namespace if need be. *client.Resource implements it.
type ListerWatcher[PT meta.Object] interface {
	List(ctx context.Context, opts client.ListOptions) ([]PT, meta.ListMeta, error)
	Watch(ctx context.Context, opts client.ListOptions) (<-chan client.Event[PT], error)
}

// Options configures an Informer.
type Options[PT meta.Object] struct {
	// LabelSelector and FieldSelector restrict what is cached.
	LabelSelector string
	FieldSelector string
	// PageSize is the limit of each list request (default 500; negative:
	// one unpaginated list).
	PageSize int64
	// ResyncPeriod, when positive, re-delivers every cached object to
	// OnUpdate (with old == new) this often, so handlers get a periodic
	// chance to reconcile.
	ResyncPeriod time.Duration
	// IndexLabels adds the LabelIndex ("key=value" of every label) and lets
	// Lister.List use it.
	IndexLabels bool
	// Indexers are extra indexes by name, read with Lister.ByIndex.
	Indexers map[string]IndexFunc[PT]
	// Logger receives re-list and error messages (default: discard).
	Logger *slog.Logger
}

// Handler is told about changes to the cache. Its methods are called from
// one goroutine, in order; the objects are shared and must not be modified.
type Handler[PT meta.Object] interface {
	// OnAdd is called for an object new to the cache (including the
	// initial list).
	OnAdd(obj PT)
	// OnUpdate is called when an object changed, and on every resync (then
	// oldObj == newObj).
	OnUpdate(oldObj, newObj PT)
	// OnDelete is called when an object left the cache. finalStateUnknown
	// is true when the deletion was found by a re-list: obj is then the
	// last state the cache knew, not the object's final state.
	OnDelete(obj PT, finalStateUnknown bool)
}

// HandlerFuncs is a Handler made of optional functions.
type HandlerFuncs[PT meta.Object] struct {
	AddFunc    func(obj PT)
	UpdateFunc func(oldObj, newObj PT)
	DeleteFunc func(obj PT, finalStateUnknown bool)
}

// OnAdd implements Handler.
func (h HandlerFuncs[PT]) OnAdd(obj PT) {
	if h.AddFunc != nil {
		h.AddFunc(obj)
	}
}

// OnUpdate implements Handler.
func (h HandlerFuncs[PT]) OnUpdate(oldObj, newObj PT) {
	if h.UpdateFunc != nil {
		h.UpdateFunc(oldObj, newObj)
	}
}

// OnDelete implements Handler.
func (h HandlerFuncs[PT]) OnDelete(obj PT, finalStateUnknown bool) {
	if h.DeleteFunc != nil {
		h.DeleteFunc(obj, finalStateUnknown)
	}
}

// Informer is a list+watch cache of one resource with event handlers. Make
// it with New, add handlers, and Run it.
type Informer[PT meta.Object] struct {
	lw    ListerWatcher[PT]
	opts  Options[PT]
	log   *slog.Logger
	store *store[PT]
	notes *buffer[notification[PT]]

	started    atomic.Bool
	synced     chan struct{}
	syncedOnce sync.Once
	rvMu       sync.Mutex
	lastRV     string
}

// New returns an Informer that lists and watches through lw.
func New[PT meta.Object](lw ListerWatcher[PT], opts Options[PT]) *Informer[PT] {
	if opts.PageSize == 0 {
		opts.PageSize = 500
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	indexers := maps.Clone(opts.Indexers)
	if indexers == nil {
		indexers = map[string]IndexFunc[PT]{}
	}
	indexers[NamespaceIndex] = namespaceIndex[PT]
	if opts.IndexLabels {
		indexers[LabelIndex] = labelIndex[PT]
	}
	return &Informer[PT]{
		lw:     lw,
		opts:   opts,
		log:    log,
		store:  newStore(indexers),
		notes:  newBuffer[notification[PT]](),
		synced: make(chan struct{}),
	}
}

// Lister returns the reader of the cache.
func (inf *Informer[PT]) Lister() Lister[PT] { return Lister[PT]{s: inf.store} }

// HasSynced reports whether the cache holds the initial list.
func (inf *Informer[PT]) HasSynced() bool {
	select {
	case <-inf.synced:
		return true
	default:
		return false
	}
}

// Synced returns a channel closed once the cache holds the initial list.
func (inf *Informer[PT]) Synced() <-chan struct{} { return inf.synced }

// LastSyncResourceVersion returns the resourceVersion the cache is at.
func (inf *Informer[PT]) LastSyncResourceVersion() string {
	inf.rvMu.Lock()
	defer inf.rvMu.Unlock()
	return inf.lastRV
}

func (inf *Informer[PT]) setRV(rv string) {
	if rv == "" {
		return
	}
	inf.rvMu.Lock()
	inf.lastRV = rv
	inf.rvMu.Unlock()
}

// AddEventHandler registers h. It may be called before or after Run; a
// handler added later first gets OnAdd for every object already cached,
// then the changes after that, in order.
func (inf *Informer[PT]) AddEventHandler(h Handler[PT]) {
	s := inf.store
	// Holding the store lock orders the snapshot with the notifications
	// of the changes around it.
	s.mu.RLock()
	defer s.mu.RUnlock()
	snapshot := slices.Collect(maps.Values(s.items))
	inf.notes.push(notification[PT]{kind: noteAddHandler, handler: h, snapshot: snapshot})
}

// Run fills the cache and keeps it in sync until ctx is cancelled, then
// returns nil after the last handler call has returned. Run may be called
// once.
func (inf *Informer[PT]) Run(ctx context.Context) error {
	if !inf.started.CompareAndSwap(false, true) {
		return errors.New("informer: Run called twice")
	}
	var wg sync.WaitGroup
	wg.Go(func() { inf.dispatch(ctx) })
	if inf.opts.ResyncPeriod > 0 {
		wg.Go(func() { inf.resyncLoop(ctx) })
	}
	defer wg.Wait()

	failures := 0
	for ctx.Err() == nil {
		if failures > 0 && !sleep(ctx, backoff(failures)) {
			break
		}
		rv, err := inf.listAndReplace(ctx)
		if err != nil {
			if ctx.Err() == nil {
				failures++
				inf.log.Warn("informer list failed", "err", err)
			}
			continue
		}
		failures = 0
		if err := inf.watch(ctx, rv); err != nil {
			failures++ // a watch that fails for good: back off before re-listing
			inf.log.Warn("informer watch failed, re-listing", "err", err)
		}
	}
	return nil
}

// listAndReplace lists everything and makes the cache equal to the list,
// notifying the differences. It returns the list's resourceVersion.
func (inf *Informer[PT]) listAndReplace(ctx context.Context) (string, error) {
	items, rv, err := inf.listAll(ctx)
	if err != nil {
		return "", err
	}
	s := inf.store
	s.mu.Lock()
	defer s.mu.Unlock()
	var notes []notification[PT]
	seen := make(map[string]struct{}, len(items))
	for _, obj := range items {
		key := Key(obj)
		seen[key] = struct{}{}
		old, ok := s.items[key]
		switch {
		case !ok:
			notes = append(notes, notification[PT]{kind: noteAdd, obj: obj})
		case old.GetObjectMeta().ResourceVersion != obj.GetObjectMeta().ResourceVersion:
			notes = append(notes, notification[PT]{kind: noteUpdate, old: old, obj: obj})
		default:
			continue // unchanged: keep the cached object
		}
		s.setLocked(key, obj)
	}
	var gone []string
	for key := range s.items {
		if _, ok := seen[key]; !ok {
			gone = append(gone, key)
		}
	}
	slices.Sort(gone)
	for _, key := range gone {
		notes = append(notes, notification[PT]{kind: noteDelete, obj: s.items[key], unknown: true})
		s.deleteLocked(key)
	}
	inf.notes.push(notes...)
	inf.setRV(rv)
	inf.syncedOnce.Do(func() { close(inf.synced) })
	return rv, nil
}

// listAll lists page by page; if a continue token expires, it lists again
// in one page.
func (inf *Informer[PT]) listAll(ctx context.Context) ([]PT, string, error) {
	opts := client.ListOptions{LabelSelector: inf.opts.LabelSelector, FieldSelector: inf.opts.FieldSelector}
	if inf.opts.PageSize > 0 {
		opts.Limit = inf.opts.PageSize
	}
	var all []PT
	for {
		items, lm, err := inf.lw.List(ctx, opts)
		if err != nil {
			if meta.IsGone(err) && opts.Continue != "" {
				inf.log.Info("informer list continue token expired, listing in one page")
				opts.Limit, opts.Continue, all = 0, "", nil
				continue
			}
			return nil, "", fmt.Errorf("list: %w", err)
		}
		all = append(all, items...)
		if lm.Continue == "" || opts.Limit == 0 {
			return all, lm.ResourceVersion, nil
		}
		opts.Continue = lm.Continue
	}
}

// watch applies watch events from rv until the watch needs a re-list. It
// returns nil for a 410 Gone (re-list at once) and an error for other
// failures.
func (inf *Informer[PT]) watch(ctx context.Context, rv string) error {
	timeout := int64(300 + rand.IntN(300)) // end watches now and then, as client-go does, to spread load
	ch, err := client.RetryWatch(ctx, rv, func(ctx context.Context, rv string) (<-chan client.Event[PT], error) {
		return inf.lw.Watch(ctx, client.ListOptions{
			LabelSelector:       inf.opts.LabelSelector,
			FieldSelector:       inf.opts.FieldSelector,
			ResourceVersion:     rv,
			AllowWatchBookmarks: true,
			TimeoutSeconds:      &timeout,
		})
	}, func(obj PT) string { return obj.GetObjectMeta().ResourceVersion }, inf.log)
	if err != nil {
		return err
	}
	for ev := range ch {
		switch ev.Type {
		case meta.Added, meta.Modified:
			inf.upsert(ev.Object)
		case meta.Deleted:
			inf.remove(ev.Object)
		case meta.Bookmark:
			inf.setRV(ev.Object.GetObjectMeta().ResourceVersion)
		case meta.Error:
			apiErr := &meta.APIError{Status: *ev.Status}
			if meta.IsGone(apiErr) {
				inf.log.Info("informer watch expired, re-listing", "resourceVersion", inf.LastSyncResourceVersion(), "reason", apiErr.Error())
				return nil
			}
			return fmt.Errorf("watch: %w", apiErr)
		}
	}
	return nil // ctx cancelled
}

func (inf *Informer[PT]) upsert(obj PT) {
	key := Key(obj)
	s := inf.store
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.items[key]
	s.setLocked(key, obj)
	if ok {
		inf.notes.push(notification[PT]{kind: noteUpdate, old: old, obj: obj})
	} else {
		inf.notes.push(notification[PT]{kind: noteAdd, obj: obj})
	}
	inf.setRV(obj.GetObjectMeta().ResourceVersion)
}

func (inf *Informer[PT]) remove(obj PT) {
	key := Key(obj)
	s := inf.store
	s.mu.Lock()
	defer s.mu.Unlock()
	inf.setRV(obj.GetObjectMeta().ResourceVersion)
	if _, ok := s.items[key]; !ok {
		return
	}
	s.deleteLocked(key)
	inf.notes.push(notification[PT]{kind: noteDelete, obj: obj})
}

func (inf *Informer[PT]) resyncLoop(ctx context.Context) {
	t := time.NewTicker(inf.opts.ResyncPeriod)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s := inf.store
		s.mu.RLock()
		notes := make([]notification[PT], 0, len(s.items))
		for _, obj := range s.items {
			notes = append(notes, notification[PT]{kind: noteUpdate, old: obj, obj: obj})
		}
		inf.notes.push(notes...)
		s.mu.RUnlock()
	}
}

// dispatch calls the handlers, one notification at a time, until ctx is
// cancelled.
func (inf *Informer[PT]) dispatch(ctx context.Context) {
	var handlers []Handler[PT]
	for {
		batch, ok := inf.notes.pop(ctx)
		if !ok {
			return
		}
		for i, n := range batch {
			if ctx.Err() != nil {
				return
			}
			switch n.kind {
			case noteAddHandler:
				handlers = append(handlers, n.handler)
				for _, obj := range n.snapshot {
					n.handler.OnAdd(obj)
				}
			case noteAdd:
				for _, h := range handlers {
					h.OnAdd(n.obj)
				}
			case noteUpdate:
				for _, h := range handlers {
					h.OnUpdate(n.old, n.obj)
				}
			case noteDelete:
				for _, h := range handlers {
					h.OnDelete(n.obj, n.unknown)
				}
			}
			batch[i] = notification[PT]{} // let delivered objects be collected
		}
	}
}

// SyncWaiter is anything with a channel closed once its cache is filled;
// every Informer is one.
type SyncWaiter interface {
	Synced() <-chan struct{}
}

// WaitForCacheSync waits until every informer holds its initial list. It
// returns false if ctx ends first.
func WaitForCacheSync(ctx context.Context, informers ...SyncWaiter) bool {
	for _, inf := range informers {
		select {
		case <-inf.Synced():
		case <-ctx.Done():
			return false
		}
	}
	return true
}

type noteKind int

const (
	noteAdd noteKind = iota + 1
	noteUpdate
	noteDelete
	noteAddHandler
)

type notification[PT meta.Object] struct {
	kind     noteKind
	obj, old PT
	unknown  bool
	handler  Handler[PT]
	snapshot []PT
}

// buffer is an unbounded FIFO between the cache writer and the handler
// goroutine, so a slow handler never stalls the watch.
type buffer[N any] struct {
	mu     sync.Mutex
	items  []N
	signal chan struct{}
}

func newBuffer[N any]() *buffer[N] { return &buffer[N]{signal: make(chan struct{}, 1)} }

func (b *buffer[N]) push(items ...N) {
	if len(items) == 0 {
		return
	}
	b.mu.Lock()
	b.items = append(b.items, items...)
	b.mu.Unlock()
	select {
	case b.signal <- struct{}{}:
	default:
	}
}

// pop returns everything queued, waiting for something if need be; false
// when ctx ends.
func (b *buffer[N]) pop(ctx context.Context) ([]N, bool) {
	for {
		b.mu.Lock()
		items := b.items
		b.items = nil
		b.mu.Unlock()
		if len(items) > 0 {
			return items, true
		}
		select {
		case <-b.signal:
		case <-ctx.Done():
			return nil, false
		}
	}
}

// backoff is 100ms doubling per consecutive failure up to 30s, with up to
// 25% jitter.
func backoff(failures int) time.Duration {
	d := min(100*time.Millisecond<<min(failures-1, 9), 30*time.Second)
	return d + rand.N(d/4+1)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
