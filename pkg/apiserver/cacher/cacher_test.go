package cacher

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/kl-dev/kl/pkg/storage"
	"github.com/kl-dev/kl/pkg/storage/memory"
)

// decoder treats values as `{"metadata":{...}}` JSON with a name.
func decoder(key string, value []byte, rv int64) (*Object, error) {
	data, err := InjectResourceVersion(value, rv)
	if err != nil {
		return nil, err
	}
	parts := strings.Split(strings.TrimPrefix(key, "/registry/things/"), "/")
	return &Object{Key: key, Namespace: parts[0], Name: parts[len(parts)-1], RV: rv, Data: data}, nil
}

func startCacher(t *testing.T, history int) (*Cacher, *memory.Store) {
	t.Helper()
	return startCacherWith(t, Config{HistorySize: history})
}

// startCacherWith starts a cacher over a memory store with cfg's history
// settings and clock.
func startCacherWith(t *testing.T, cfg Config) (*Cacher, *memory.Store) {
	t.Helper()
	store := memory.New(memory.Options{})
	cfg.Store, cfg.Prefix, cfg.WatcherBuffer = store, "/registry/", 8
	cfg.Resources = map[string]Decoder{"/registry/things/": decoder}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	c := New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; store.Close() })
	if err := c.WaitFresh(ctx, 0); err != nil {
		t.Fatal(err)
	}
	return c, store
}

func put(t *testing.T, s *memory.Store, key string) int64 {
	t.Helper()
	rev, err := s.Create(context.Background(), key, []byte(`{"metadata":{"name":"x"}}`))
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

// stream reads a watcher one event at a time.
type stream struct {
	w       *Watcher
	pending []Event // taken, not returned yet
}

func (st *stream) next(t *testing.T) Event {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for len(st.pending) == 0 {
		select {
		case <-st.w.Ready():
		case <-deadline:
			t.Fatal("no event within 5s")
		}
		var open bool
		st.pending, open = st.w.Take(st.pending)
		if len(st.pending) == 0 && !open {
			t.Fatal("watch closed")
		}
	}
	ev := st.pending[0]
	st.pending = st.pending[1:]
	return ev
}

func TestConsistentListSeesEveryAcknowledgedWrite(t *testing.T) {
	c, s := startCacher(t, 100)
	ctx := context.Background()
	for i := 0; i < 50; i++ {
		rev := put(t, s, fmt.Sprintf("/registry/things/ns/o%02d", i))
		if err := c.WaitFresh(ctx, rev); err != nil {
			t.Fatal(err)
		}
		res, err := c.List("/registry/things/", "/registry/things/ns/", "", 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Items) != i+1 || res.Revision < rev {
			t.Fatalf("after write %d: %d items at rev %d (write rev %d)", i, len(res.Items), res.Revision, rev)
		}
	}
	// Other key spaces advance the revision but are not listed.
	rev := put(t, s, "/registry/others/x")
	if err := c.WaitFresh(ctx, rev); err != nil {
		t.Fatal(err)
	}
	if got := c.Revision(); got != rev {
		t.Fatalf("Revision = %d, want %d", got, rev)
	}
	res, _ := c.List("/registry/things/", "/registry/things/", "", 0, nil)
	if len(res.Items) != 50 {
		t.Fatalf("%d items", len(res.Items))
	}
	if !strings.Contains(string(res.Items[0].Data), `"resourceVersion":"`) {
		t.Fatalf("cached data lacks resourceVersion: %s", res.Items[0].Data)
	}
}

func TestWatchFromRevisionAndGone(t *testing.T) {
	c, s := startCacher(t, 3)
	ctx := context.Background()
	r1 := put(t, s, "/registry/things/ns/a")
	r2 := put(t, s, "/registry/things/ns/b")
	r3 := put(t, s, "/registry/things/ns/c")
	if err := c.WaitFresh(ctx, r3); err != nil {
		t.Fatal(err)
	}
	w, err := c.Watch(ctx, "/registry/things/", "/registry/things/", r1, false)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	st := &stream{w: w}
	for _, want := range []int64{r2, r3} {
		if ev := st.next(t); ev.RV != want || ev.Type != Added {
			t.Fatalf("event %v %d, want ADDED %d", ev.Type, ev.RV, want)
		}
	}
	if _, _, err := s.Delete(ctx, "/registry/things/ns/a", 0); err != nil {
		t.Fatal(err)
	}
	if ev := st.next(t); ev.Type != Deleted || ev.Object.Name != "a" {
		t.Fatalf("event %v %s, want DELETED a", ev.Type, ev.Object.Name)
	}
	// Three more events push r1..r3 out of a history of 3.
	put(t, s, "/registry/things/ns/d")
	r5 := put(t, s, "/registry/things/ns/e")
	if err := c.WaitFresh(ctx, r5); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Watch(ctx, "/registry/things/", "/registry/things/", r1, false); !errors.Is(err, ErrGone) {
		t.Fatalf("watch from trimmed revision: %v, want ErrGone", err)
	}
}

// TestHistoryGrowsAndWraps: the ring starts small and grows to HistorySize,
// keeping events in order across each growth and once it wraps.
func TestHistoryGrowsAndWraps(t *testing.T) {
	c, s := startCacher(t, 100)
	ctx := context.Background()
	var revs []int64
	for i := range 150 {
		revs = append(revs, put(t, s, fmt.Sprintf("/registry/things/ns/o%03d", i)))
	}
	if err := c.WaitFresh(ctx, revs[149]); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Watch(ctx, "/registry/things/", "/registry/things/", revs[48], false); !errors.Is(err, ErrGone) {
		t.Fatalf("watch from the 49th of 150 events with a history of 100: %v, want ErrGone", err)
	}
	w, err := c.Watch(ctx, "/registry/things/", "/registry/things/", revs[49], false)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	st := &stream{w: w}
	for _, want := range revs[50:] {
		if ev := st.next(t); ev.RV != want {
			t.Fatalf("event at %d, want %d", ev.RV, want)
		}
	}
}

// clock is a settable time source for the history window.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestHistoryExpires: events older than the history window are dropped,
// when newer events come and when the cache expires them on its own (a
// quiet resource); watches from before them get ErrGone.
func TestHistoryExpires(t *testing.T) {
	clk := &clock{now: time.Unix(1_000_000, 0)}
	c, s := startCacherWith(t, Config{HistorySize: 100, HistoryWindow: 5 * time.Minute, Now: clk.Now})
	ctx := context.Background()
	watchFrom := func(rv int64) error {
		t.Helper()
		w, err := c.Watch(ctx, "/registry/things/", "/registry/things/", rv, false)
		if err == nil {
			w.Stop()
		}
		return err
	}
	fresh := func(rev int64) {
		t.Helper()
		if err := c.WaitFresh(ctx, rev); err != nil {
			t.Fatal(err)
		}
	}
	rz := put(t, s, "/registry/things/ns/z")
	ra := put(t, s, "/registry/things/ns/a")
	fresh(ra)
	clk.advance(3 * time.Minute)
	rb := put(t, s, "/registry/things/ns/b")
	fresh(rb)
	if err := watchFrom(rz); err != nil {
		t.Fatalf("watch from an event 3 minutes old: %v", err)
	}
	clk.advance(3 * time.Minute)
	rc := put(t, s, "/registry/things/ns/c") // z and a are 6 minutes old now
	fresh(rc)
	if err := watchFrom(rz); !errors.Is(err, ErrGone) {
		t.Fatalf("watch from before an expired event: %v, want ErrGone", err)
	}
	w, err := c.Watch(ctx, "/registry/things/", "/registry/things/", ra, false)
	if err != nil {
		t.Fatalf("watch from the newest expired event: %v", err)
	}
	st := &stream{w: w}
	for _, want := range []int64{rb, rc} {
		if ev := st.next(t); ev.RV != want {
			t.Fatalf("event at %d, want %d", ev.RV, want)
		}
	}
	w.Stop()

	clk.advance(10 * time.Minute)
	c.expireHistory() // what the cache's ticker does
	if err := watchFrom(rb); !errors.Is(err, ErrGone) {
		t.Fatalf("watch from before events expired without new ones: %v, want ErrGone", err)
	}
	if err := watchFrom(rc); err != nil {
		t.Fatalf("watch from the last event: %v", err)
	}
	c.mu.Lock()
	released := c.resources["/registry/things/"].history == nil
	c.mu.Unlock()
	if !released {
		t.Error("the history ring was kept after all its events expired")
	}
}

func TestSlowWatcherIsClosedNotBlocking(t *testing.T) {
	c, s := startCacher(t, 100)
	ctx := context.Background()
	w, err := c.Watch(ctx, "/registry/things/", "/registry/things/", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	var last int64
	for i := 0; i < 20; i++ { // buffer is 8
		last = put(t, s, fmt.Sprintf("/registry/things/ns/o%d", i))
	}
	if err := c.WaitFresh(ctx, last); err != nil {
		t.Fatal(err)
	}
	n := 0
	for open := true; open; {
		var evs []Event
		evs, open = w.Take(nil)
		n += len(evs)
	}
	if n > 8 {
		t.Fatalf("slow watcher received %d events, buffer is 8", n)
	}
}

// A watch within a prefix (one namespace) gets only that namespace's
// events: from history, at its start and as they happen.
func TestWatchWithinAPrefixSeesOnlyIt(t *testing.T) {
	c, s := startCacher(t, 100)
	ctx := context.Background()
	r1 := put(t, s, "/registry/things/a/x")
	put(t, s, "/registry/things/b/x")
	r3 := put(t, s, "/registry/things/a/y")
	if err := c.WaitFresh(ctx, r3); err != nil {
		t.Fatal(err)
	}
	fromHistory, err := c.Watch(ctx, "/registry/things/", "/registry/things/a/", r1-1, false)
	if err != nil {
		t.Fatal(err)
	}
	defer fromHistory.Stop()
	live, err := c.Watch(ctx, "/registry/things/", "/registry/things/a/", 0, true)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Stop()
	if len(live.Initial) != 2 {
		t.Fatalf("initial objects %d, want the 2 of namespace a", len(live.Initial))
	}
	put(t, s, "/registry/things/b/z")
	r5 := put(t, s, "/registry/things/a/z")
	for _, w := range []*Watcher{fromHistory, live} {
		var got []string
		st := &stream{w: w}
		for {
			ev := st.next(t)
			got = append(got, ev.Object.Key)
			if ev.RV == r5 {
				break
			}
		}
		for _, k := range got {
			if !strings.HasPrefix(k, "/registry/things/a/") {
				t.Errorf("watch within namespace a got an event of %s (all: %v)", k, got)
			}
		}
	}
}

// A new version shares what it has in common with the one it replaces, so
// that the versions kept in history cost little beyond their bytes.
func TestNewVersionSharesUnchangedParts(t *testing.T) {
	fields := []string{"metadata.name", "spec.nodeName", "status.phase"}
	prev := &Object{Key: "/registry/pods/ns/a", Namespace: "ns", Name: "a",
		Labels: map[string]string{"app": "web"},
		Fields: Fields{Names: fields, Values: []string{"a", "n1", "Pending"}}}
	next := &Object{Key: strings.Clone(prev.Key), Namespace: "ns", Name: strings.Clone("a"),
		Labels: map[string]string{"app": "web"},
		Fields: Fields{Names: fields, Values: []string{strings.Clone("a"), strings.Clone("n1"), "Running"}}}
	next.shareWith(prev)
	if reflect.ValueOf(next.Labels).UnsafePointer() != reflect.ValueOf(prev.Labels).UnsafePointer() {
		t.Error("equal labels are not shared")
	}
	if unsafe.StringData(next.Key) != unsafe.StringData(prev.Key) || unsafe.StringData(next.Name) != unsafe.StringData(prev.Name) {
		t.Error("equal key and name are not shared")
	}
	if unsafe.StringData(next.Fields.Values[1]) != unsafe.StringData(prev.Fields.Values[1]) {
		t.Error("an unchanged field value is not shared")
	}
	if v, _ := next.Fields.Get("status.phase"); v != "Running" {
		t.Errorf("status.phase %q after sharing, want the new Running", v)
	}

	changed := &Object{Key: prev.Key, Labels: map[string]string{"app": "api"}, Fields: prev.Fields}
	changed.shareWith(prev)
	if changed.Labels["app"] != "api" {
		t.Errorf("changed labels became %v", changed.Labels)
	}
}

// failingLists fails every List until healed.
type failingLists struct {
	*memory.Store
	mu     sync.Mutex
	healed bool
	calls  int
}

func (f *failingLists) List(ctx context.Context, prefix string, opts storage.ListOptions) (storage.ListResult, error) {
	f.mu.Lock()
	f.calls++
	healed := f.healed
	f.mu.Unlock()
	if !healed {
		return storage.ListResult{}, errors.New("corrupt record for /registry/things/ns/x")
	}
	return f.Store.List(ctx, prefix, opts)
}

// TestUnloadableStoreIsRetriedWithBackOff: a store the cache cannot list
// is retried a few times a second at most, and the cache loads once the
// store can be read.
func TestUnloadableStoreIsRetriedWithBackOff(t *testing.T) {
	store := &failingLists{Store: memory.New(memory.Options{})}
	defer store.Close()
	c := New(Config{
		Store: store, Prefix: "/registry/", Resources: map[string]Decoder{"/registry/things/": decoder},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	defer func() { cancel(); <-done }()

	time.Sleep(time.Second)
	store.mu.Lock()
	calls := store.calls
	store.healed = true
	store.mu.Unlock()
	if calls < 2 || calls > 6 { // 0, 0.1, 0.3, 0.7 s
		t.Fatalf("%d lists of a failing store in 1s, want a few (back-off)", calls)
	}
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	defer wcancel()
	if err := c.WaitFresh(wctx, 0); err != nil {
		t.Fatalf("cache not loaded once the store heals: %v", err)
	}
}
