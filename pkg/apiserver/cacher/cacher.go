// Package cacher is the apiserver's watch cache: one storage watch over the
// whole key space feeds an in-memory copy of every object (already encoded,
// with its resourceVersion) and a bounded history of events per resource.
// Lists and watches are served from it, so the store sees one watch no matter
// how many clients watch, and a LIST is a copy of pre-encoded bytes.
//
// Consistency: the cache knows the storage revision up to which it has
// applied every event (Revision). A consistent read waits until that revision
// reaches the store's current revision (WaitFresh), as Kubernetes' "consistent
// reads from cache" do.
package cacher

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kl-dev/kl/pkg/storage"
)

// Object is one cached object. It is immutable once published.
type Object struct {
	Key       string
	Namespace string
	Name      string
	Labels    map[string]string
	// Fields holds the values field selectors can match (metadata.name,
	// metadata.namespace, spec.nodeName, ...).
	Fields Fields
	// RV is the object's resourceVersion (the storage revision of its last write).
	RV int64
	// Data is the object encoded as JSON with metadata.resourceVersion set.
	Data []byte
}

// shareWith makes o use prev's key, names, labels and field values where
// they are equal: the versions an object leaves in history then cost little
// more than their encoded bytes.
func (o *Object) shareWith(prev *Object) {
	o.Key, o.Namespace, o.Name = share(o.Key, prev.Key), share(o.Namespace, prev.Namespace), share(o.Name, prev.Name)
	if maps.Equal(o.Labels, prev.Labels) {
		o.Labels = prev.Labels
	}
	if slices.Equal(o.Fields.Values, prev.Fields.Values) {
		o.Fields.Values = prev.Fields.Values
		return
	}
	if len(o.Fields.Values) == len(prev.Fields.Values) {
		for i, v := range o.Fields.Values {
			o.Fields.Values[i] = share(v, prev.Fields.Values[i])
		}
	}
}

// share returns prev when it equals s, so that s's memory can go.
func share(s, prev string) string {
	if s == prev {
		return prev
	}
	return s
}

// Fields are an object's selectable field values. Names is shared by every
// object of a resource and Values is parallel to it: at 10,000 pods a map
// per object cost about twice the memory.
type Fields struct {
	Names  []string
	Values []string
}

// Get returns the value of the field name.
func (f Fields) Get(name string) (string, bool) {
	for i, n := range f.Names {
		if n == name {
			return f.Values[i], true
		}
	}
	return "", false
}

// EventType is the watch event type, in Kubernetes' spelling.
type EventType string

// Event types.
const (
	Added    EventType = "ADDED"
	Modified EventType = "MODIFIED"
	Deleted  EventType = "DELETED"
	// Bookmark carries only RV: every event up to RV has been delivered.
	Bookmark EventType = "BOOKMARK"
)

// Event is one change of one object.
type Event struct {
	Type EventType
	// Object is the new state; for Deleted, the last state with RV set to the
	// revision of the delete.
	Object *Object
	// Prev is the state before the change (nil for Added).
	Prev *Object
	RV   int64
	// at is when the cache recorded the event (history entries expire).
	at time.Time
}

// Decoder turns stored bytes into a cached Object: it decodes the object,
// extracts labels and selectable fields and encodes it with rv set. Each
// resource prefix has its own.
type Decoder func(key string, value []byte, rv int64) (*Object, error)

// Config configures a Cacher.
type Config struct {
	Store storage.Interface
	// Prefix is the root of the key space to cache, e.g. "/registry/".
	Prefix string
	// Resources maps a resource prefix (e.g. "/registry/pods/") to the decoder
	// of its objects. Keys under no registered prefix are ignored.
	Resources map[string]Decoder
	// HistorySize is the most events kept per resource for watches that
	// resume from a resourceVersion (0: 10,000).
	HistorySize int
	// HistoryWindow is how long an event stays in history (0: 5 minutes).
	// Without it a busy cluster would keep HistorySize versions of every
	// resource forever: 100 nodes renewing leases fill a lease history in
	// 17 minutes, and their status updates a node history (about 30 MB) in
	// under two hours. A watch resuming from a revision older than the
	// window gets ErrGone and re-lists, as with Kubernetes' watch cache
	// (which keeps 75 s).
	HistoryWindow time.Duration
	// Now is the clock (nil: time.Now); tests set it.
	Now func() time.Time
	// WatcherBuffer is the number of events a watcher may lag behind before it
	// is closed (the client resumes from its last resourceVersion). A
	// watcher's queue only holds the events it has not taken yet, so the
	// limit costs no memory while the watcher keeps up.
	WatcherBuffer int
	Logger        *slog.Logger
}

// DefaultHistoryWindow is Config.HistoryWindow's default.
const DefaultHistoryWindow = 5 * time.Minute

// ErrGone is returned when a watch asks for events older than the history kept.
var ErrGone = errors.New("too old resource version")

// ErrNotReady is returned before the cache has loaded the store.
var ErrNotReady = errors.New("watch cache is not initialized yet")

// Cacher is the watch cache. Create with New, start with Run.
type Cacher struct {
	cfg Config

	mu sync.RWMutex
	// cond is signalled whenever rev advances or the cacher is reset.
	cond      *sync.Cond
	rev       int64
	ready     bool
	resources map[string]*resourceCache
	prefixes  []string // registered prefixes, longest first
	nextID    int
}

// resourceCache is the state of one resource; guarded by Cacher.mu.
type resourceCache struct {
	decode Decoder
	items  map[string]*Object
	sorted []string
	dirty  bool
	// history is a ring of the latest events, oldest at start; it grows up
	// to Config.HistorySize and is released when its events expire.
	history []Event
	start   int // index of the oldest event in history
	count   int
	// evictedRV is the revision of the newest event no longer in history (or
	// the revision the cache was loaded at): watches from an older revision
	// cannot be served.
	evictedRV int64
	watchers  map[int]*Watcher
}

// New builds a Cacher; Run loads and follows the store.
func New(cfg Config) *Cacher {
	if cfg.HistorySize <= 0 {
		cfg.HistorySize = 10000
	}
	if cfg.HistoryWindow <= 0 {
		cfg.HistoryWindow = DefaultHistoryWindow
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.WatcherBuffer <= 0 {
		cfg.WatcherBuffer = 10000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c := &Cacher{cfg: cfg, resources: map[string]*resourceCache{}}
	c.cond = sync.NewCond(&c.mu)
	for p, d := range cfg.Resources {
		c.resources[p] = &resourceCache{decode: d, items: map[string]*Object{}, watchers: map[int]*Watcher{}}
		c.prefixes = append(c.prefixes, p)
	}
	sort.Slice(c.prefixes, func(i, j int) bool { return len(c.prefixes[i]) > len(c.prefixes[j]) })
	return c
}

func (c *Cacher) resourceOf(key string) (string, *resourceCache) {
	for _, p := range c.prefixes {
		if strings.HasPrefix(key, p) {
			return p, c.resources[p]
		}
	}
	return "", nil
}

// Run loads the store and applies its changes until ctx is cancelled. When
// the store's watch breaks, the cache reloads and ends every open watch so
// that clients resume (and re-list if their revision is gone).
func (c *Cacher) Run(ctx context.Context) error {
	defer func() {
		c.mu.Lock()
		c.ready = false
		c.closeAllWatchersLocked()
		c.cond.Broadcast()
		c.mu.Unlock()
	}()
	// A store that cannot be loaded (unreachable, or holding a record it
	// cannot read) is retried with back-off, not in a loop.
	const minRetry, maxRetry = 100 * time.Millisecond, 10 * time.Second
	retry := minRetry
	for {
		loaded, err := c.loadAndWatch(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if loaded {
			retry = minRetry
			c.cfg.Logger.Warn("watch cache reloading", "err", err)
		} else {
			c.cfg.Logger.Error("watch cache cannot load the store", "retry-in", retry, "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(retry):
		}
		retry = min(2*retry, maxRetry)
	}
}

// loadAndWatch loads the store and follows it until the storage watch
// ends; loaded tells whether it got as far as loading.
func (c *Cacher) loadAndWatch(ctx context.Context) (loaded bool, err error) {
	list, err := c.cfg.Store.List(ctx, c.cfg.Prefix, storage.ListOptions{})
	if err != nil {
		return false, fmt.Errorf("list %s: %w", c.cfg.Prefix, err)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := c.cfg.Store.Watch(wctx, c.cfg.Prefix, list.Revision)
	if err != nil {
		return false, fmt.Errorf("watch %s: %w", c.cfg.Prefix, err)
	}
	c.reset(list)
	// Quiet resources get no events that would expire their history.
	expire := time.NewTicker(c.cfg.HistoryWindow / 4)
	defer expire.Stop()
	for {
		select {
		case r, ok := <-ch:
			if !ok {
				return true, errors.New("storage watch ended")
			}
			if r.Err != nil {
				return true, fmt.Errorf("storage watch: %w", r.Err)
			}
			c.apply(r.Event)
		case <-expire.C:
			c.expireHistory()
		}
	}
}

// expireHistory drops the events older than the history window.
func (c *Cacher) expireHistory() {
	cutoff := c.cfg.Now().Add(-c.cfg.HistoryWindow)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rc := range c.resources {
		rc.expire(cutoff)
	}
}

// reset replaces the cache content with a fresh list and ends all watches.
func (c *Cacher) reset(list storage.ListResult) {
	fresh := map[string]map[string]*Object{}
	for p := range c.resources {
		fresh[p] = map[string]*Object{}
	}
	for _, kv := range list.Items {
		p, rc := c.resourceOf(kv.Key)
		if rc == nil {
			continue
		}
		obj, err := rc.decode(kv.Key, kv.Value, kv.ModRevision)
		if err != nil {
			c.cfg.Logger.Error("watch cache: cannot decode stored object", "key", kv.Key, "err", err)
			continue
		}
		fresh[p][kv.Key] = obj
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeAllWatchersLocked()
	for p, rc := range c.resources {
		rc.items = fresh[p]
		rc.dirty = true
		rc.history = nil
		rc.start, rc.count = 0, 0
		rc.evictedRV = list.Revision
	}
	c.rev = list.Revision
	c.ready = true
	c.cond.Broadcast()
}

func (c *Cacher) closeAllWatchersLocked() {
	for _, rc := range c.resources {
		for id, w := range rc.watchers {
			w.closeLocked()
			delete(rc.watchers, id)
		}
	}
}

// apply folds one storage event into the cache and fans it out.
func (c *Cacher) apply(se storage.Event) {
	_, rc := c.resourceOf(se.KV.Key)
	var ev Event
	if rc != nil {
		var err error
		ev, err = c.toEvent(rc, se)
		if err != nil {
			c.cfg.Logger.Error("watch cache: cannot decode event", "key", se.KV.Key, "err", err)
			rc = nil
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if se.KV.ModRevision > c.rev {
		c.rev = se.KV.ModRevision
	}
	c.cond.Broadcast()
	if rc == nil {
		return
	}
	prev := rc.items[se.KV.Key]
	ev.Prev = prev
	if prev != nil {
		ev.Object.shareWith(prev)
	}
	switch {
	case ev.Type == Deleted:
		delete(rc.items, se.KV.Key)
		rc.dirty = true
	default:
		if prev == nil {
			ev.Type = Added
			rc.dirty = true
		} else {
			ev.Type = Modified
		}
		rc.items[se.KV.Key] = ev.Object
	}
	ev.at = c.cfg.Now()
	rc.expire(ev.at.Add(-c.cfg.HistoryWindow))
	rc.record(ev, c.cfg.HistorySize)
	for id, w := range rc.watchers {
		if !strings.HasPrefix(ev.Object.Key, w.within) {
			continue
		}
		if !w.pushLocked(ev) {
			// The watcher is too slow: end it; the client resumes from its
			// last resourceVersion (served from history while it lasts).
			w.closeLocked()
			delete(rc.watchers, id)
		}
	}
}

func (c *Cacher) toEvent(rc *resourceCache, se storage.Event) (Event, error) {
	switch se.Type {
	case storage.EventDelete:
		obj, err := rc.decode(se.KV.Key, se.KV.Value, se.KV.ModRevision)
		if err != nil {
			return Event{}, err
		}
		return Event{Type: Deleted, Object: obj, RV: se.KV.ModRevision}, nil
	default:
		obj, err := rc.decode(se.KV.Key, se.KV.Value, se.KV.ModRevision)
		if err != nil {
			return Event{}, err
		}
		return Event{Type: Modified, Object: obj, RV: se.KV.ModRevision}, nil
	}
}

// record appends ev to the history; when it holds size events, the oldest
// goes. The ring grows as needed: most resources see few events.
func (rc *resourceCache) record(ev Event, size int) {
	if rc.count == len(rc.history) && len(rc.history) < size {
		grown := make([]Event, min(max(2*len(rc.history), 64), size))
		for i := range rc.count {
			grown[i] = rc.history[(rc.start+i)%len(rc.history)]
		}
		rc.history, rc.start = grown, 0
	}
	if rc.count == len(rc.history) {
		rc.dropOldest()
	}
	rc.history[(rc.start+rc.count)%len(rc.history)] = ev
	rc.count++
}

func (rc *resourceCache) dropOldest() {
	rc.evictedRV = rc.history[rc.start].RV
	rc.history[rc.start] = Event{}
	rc.start = (rc.start + 1) % len(rc.history)
	rc.count--
}

// expire drops the events recorded before cutoff, and the ring with them
// when none is left.
func (rc *resourceCache) expire(cutoff time.Time) {
	for rc.count > 0 && rc.history[rc.start].at.Before(cutoff) {
		rc.dropOldest()
	}
	if rc.count == 0 {
		rc.history, rc.start = nil, 0
	}
}

// Bookmark sends every watcher a Bookmark event at the current revision.
// It goes through the same queue as the events, after every event up to
// that revision, so a client that resumes from it misses nothing.
func (c *Cacher) Bookmark() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.ready {
		return
	}
	ev := Event{Type: Bookmark, RV: c.rev}
	for _, rc := range c.resources {
		for _, w := range rc.watchers {
			w.pushLocked(ev) // when full, the next event or bookmark will do
		}
	}
}

// Revision returns the storage revision up to which the cache has applied
// every event.
func (c *Cacher) Revision() int64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.rev
}

// WaitFresh blocks until the cache has applied every event up to rev (and is
// loaded), or ctx ends.
func (c *Cacher) WaitFresh(ctx context.Context, rev int64) error {
	stop := context.AfterFunc(ctx, func() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for !c.ready || c.rev < rev {
		if err := ctx.Err(); err != nil {
			if !c.ready {
				return ErrNotReady
			}
			return fmt.Errorf("waiting for resource version %d (cache at %d): %w", rev, c.rev, err)
		}
		c.cond.Wait()
	}
	return nil
}

// Predicate selects objects; nil matches everything.
type Predicate func(*Object) bool

// ListResult is a page of cached objects.
type ListResult struct {
	Items []*Object
	// Revision is the revision the list reflects.
	Revision int64
	// Next is the key to continue from ("" when the list is complete).
	Next string
	// Remaining counts matching items after this page (when Next != "").
	Remaining int64
}

// List returns the objects under the resource prefix (and namePrefix within
// it, e.g. a namespace's "/registry/pods/ns/"), in key order, starting at
// startKey, at most limit (0: all) that match pred.
func (c *Cacher) List(resource, within, startKey string, limit int64, pred Predicate) (ListResult, error) {
	c.mu.Lock() // sorting may write
	defer c.mu.Unlock()
	if !c.ready {
		return ListResult{}, ErrNotReady
	}
	rc := c.resources[resource]
	if rc == nil {
		return ListResult{}, fmt.Errorf("resource %s is not cached", resource)
	}
	if rc.dirty {
		rc.sorted = rc.sorted[:0]
		for k := range rc.items {
			rc.sorted = append(rc.sorted, k)
		}
		sort.Strings(rc.sorted)
		rc.dirty = false
	}
	from := within
	if startKey > from {
		from = startKey
	}
	i := sort.SearchStrings(rc.sorted, from)
	res := ListResult{Revision: c.rev}
	for ; i < len(rc.sorted); i++ {
		k := rc.sorted[i]
		if !strings.HasPrefix(k, within) {
			break
		}
		obj := rc.items[k]
		if pred != nil && !pred(obj) {
			continue
		}
		if limit > 0 && int64(len(res.Items)) == limit {
			res.Next = k
			for ; i < len(rc.sorted) && strings.HasPrefix(rc.sorted[i], within); i++ {
				if o := rc.items[rc.sorted[i]]; pred == nil || pred(o) {
					res.Remaining++
				}
			}
			break
		}
		res.Items = append(res.Items, obj)
	}
	return res, nil
}

// Get returns the cached object at key.
func (c *Cacher) Get(resource, key string) (*Object, int64, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	rc := c.resources[resource]
	if rc == nil {
		return nil, c.rev, false
	}
	o, ok := rc.items[key]
	return o, c.rev, ok
}

// Watcher receives the events of one resource. Events arrive unfiltered, in
// revision order. They queue in the watcher until taken (Take), up to
// Config.WatcherBuffer; a watcher that lags further is ended, as it is when
// the client goes (Stop) or the cache reloads.
type Watcher struct {
	c        *Cacher
	resource string
	within   string // key prefix of the objects watched (a namespace's)
	id       int
	// ready holds a token while events are queued or the watch has ended.
	ready chan struct{}
	limit int
	// mu guards the queue; the cacher takes it inside c.mu, Take alone, so
	// watchers taking their events do not contend with each other.
	mu     sync.Mutex
	queue  []Event
	closed bool
	// Initial holds the objects that existed when the watch started at
	// "now" with initial events requested, in key order.
	Initial []*Object
	// StartRV is the revision the watch starts after.
	StartRV int64
}

// Ready is signalled when events are queued or the watch ends; call Take.
func (w *Watcher) Ready() <-chan struct{} { return w.ready }

// Take appends the queued events to dst and empties the queue. open is false
// once the watch has ended and every event has been taken.
func (w *Watcher) Take(dst []Event) (events []Event, open bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	dst = append(dst, w.queue...)
	clear(w.queue)
	if cap(w.queue) > 1024 {
		w.queue = nil // a burst is over: give its memory back
	} else {
		w.queue = w.queue[:0]
	}
	return dst, !w.closed
}

// Stop ends the watch.
func (w *Watcher) Stop() {
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	if rc := w.c.resources[w.resource]; rc != nil {
		if _, ok := rc.watchers[w.id]; ok {
			delete(rc.watchers, w.id)
			w.closeLocked()
		}
	}
}

// pushLocked queues ev (c.mu held); false when the queue is full.
func (w *Watcher) pushLocked(ev Event) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.queue) >= w.limit {
		return false
	}
	w.queue = append(w.queue, ev)
	w.signal()
	return true
}

// closeLocked ends the watch (c.mu held).
func (w *Watcher) closeLocked() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.closed = true
		w.signal()
	}
}

func (w *Watcher) signal() {
	select {
	case w.ready <- struct{}{}:
	default: // a token is already there
	}
}

// Watch starts a watch on resource. With fromRV > 0 it delivers every event
// after fromRV (ErrGone when they are no longer all in history). With
// fromRV == 0 it starts now, and when initial is true Watcher.Initial holds
// the current objects (within the prefix) to send first.
func (c *Cacher) Watch(ctx context.Context, resource, within string, fromRV int64, initial bool) (*Watcher, error) {
	if fromRV > 0 {
		// A revision from the future (e.g. written through another
		// apiserver): wait briefly for the cache to catch up.
		if err := c.WaitFresh(ctx, fromRV); err != nil {
			return nil, err
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.ready {
		return nil, ErrNotReady
	}
	rc := c.resources[resource]
	if rc == nil {
		return nil, fmt.Errorf("resource %s is not cached", resource)
	}
	w := &Watcher{c: c, resource: resource, within: within, id: c.nextID, ready: make(chan struct{}, 1)}
	c.nextID++
	var backlog []Event
	if fromRV > 0 {
		if fromRV < rc.evictedRV {
			return nil, fmt.Errorf("%w: requested %d, oldest available %d", ErrGone, fromRV, rc.evictedRV)
		}
		for i := 0; i < rc.count; i++ {
			ev := rc.history[(rc.start+i)%len(rc.history)]
			if ev.RV > fromRV && strings.HasPrefix(ev.Object.Key, within) {
				backlog = append(backlog, ev)
			}
		}
		w.StartRV = fromRV
	} else {
		w.StartRV = c.rev
		if initial {
			for k, o := range rc.items {
				if strings.HasPrefix(k, within) {
					w.Initial = append(w.Initial, o)
				}
			}
			sort.Slice(w.Initial, func(i, j int) bool { return w.Initial[i].Key < w.Initial[j].Key })
		}
	}
	w.limit = len(backlog) + c.cfg.WatcherBuffer
	w.queue = backlog
	if len(backlog) > 0 {
		w.signal()
	}
	rc.watchers[w.id] = w
	return w, nil
}

// InjectResourceVersion returns data (an object encoded as JSON by kl, with
// no metadata.resourceVersion) with metadata.resourceVersion set to rv. It
// relies on kl's encoding: kind and apiVersion (plain strings) come before
// metadata, so the first `"metadata":{` is the object's own.
func InjectResourceVersion(data []byte, rv int64) ([]byte, error) {
	marker := []byte(`"metadata":{`)
	i := bytes.Index(data, marker)
	if i < 0 {
		return nil, errors.New("object has no metadata")
	}
	at := i + len(marker)
	rvs := strconv.FormatInt(rv, 10)
	out := make([]byte, 0, len(data)+len(rvs)+24)
	out = append(out, data[:at]...)
	out = append(out, `"resourceVersion":"`...)
	out = append(out, rvs...)
	out = append(out, '"')
	if at < len(data) && data[at] != '}' {
		out = append(out, ',')
	}
	out = append(out, data[at:]...)
	return out, nil
}
