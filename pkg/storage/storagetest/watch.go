package storagetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/kl-dev/kl/pkg/storage"
)

func testWatchEvents(t *testing.T, s storage.Interface) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ch := mustWatch(t, ctx, s, "/registry/pods/", 0)
	const a, b = "/registry/pods/default/a", "/registry/pods/default/b"
	r1 := mustCreate(t, s, a, "a1")
	r2 := mustUpdate(t, s, a, "a2", r1)
	r3 := mustCreate(t, s, b, "b1")
	_, r4 := mustDelete(t, s, a, r2)
	r5 := mustCreate(t, s, a, "a3")
	r6 := mustUpdate(t, s, b, "b2", 0)
	expectEvents(t, ch,
		put(a, "a1", r1, r1, ""),
		put(a, "a2", r2, r1, "a1"),
		put(b, "b1", r3, r3, ""),
		del(a, "a2", r4, r1),
		put(a, "a3", r5, r5, ""),
		put(b, "b2", r6, r3, "b1"),
	)
}

func testWatchReplay(t *testing.T, s storage.Interface) {
	const a, b = "/registry/pods/default/a", "/registry/pods/default/b"
	r1 := mustCreate(t, s, a, "a1")
	r2 := mustCreate(t, s, b, "b1")
	r3 := mustUpdate(t, s, a, "a2", 0)
	_, r4 := mustDelete(t, s, b, 0)
	all := []storage.Event{put(a, "a1", r1, r1, ""), put(b, "b1", r2, r2, ""), put(a, "a2", r3, r1, "a1"), del(b, "b1", r4, r2)}
	for i, from := range []int64{r1, r2, r3, r4} {
		t.Run(fmt.Sprintf("FromWrite%d", i+1), func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			ch := mustWatch(t, ctx, s, "/registry/pods/", from)
			var want []storage.Event
			for _, ev := range all {
				if ev.KV.ModRevision > from {
					want = append(want, ev)
				}
			}
			expectEvents(t, ch, want...)
			// Then live events follow, with nothing in between.
			key := fmt.Sprintf("/registry/pods/default/live%d", i)
			rev := mustCreate(t, s, key, "live")
			live := put(key, "live", rev, rev, "")
			all = append(all, live)
			expectEvents(t, ch, live)
		})
	}
}

func testWatchFromNow(t *testing.T, s storage.Interface) {
	mustCreate(t, s, "/registry/pods/default/old", "v")
	mustUpdate(t, s, "/registry/pods/default/old", "w", 0)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ch := mustWatch(t, ctx, s, "/registry/pods/", 0)
	expectNoEventBefore(t, s, ch, "/registry/pods/default/new")
}

func testWatchPrefix(t *testing.T, s storage.Interface) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pods := mustWatch(t, ctx, s, "/registry/pods/", 0)
	ns1 := mustWatch(t, ctx, s, "/registry/pods/ns1/", 0)
	podsx := mustWatch(t, ctx, s, "/registry/podsx/", 0)
	for _, k := range []string{"/registry/podsx/ns1/a", "/registry/pod/ns1/a", "/registry/pods", "/registry/services/ns1/a", "/registry/pods/ns10/a"} {
		mustCreate(t, s, k, "v")
	}
	// pods saw /registry/pods/ns10/a; ns1 and podsx must see their sentinel
	// first (podsx saw its own key).
	if ev := nextEvent(t, pods); ev.KV.Key != "/registry/pods/ns10/a" {
		t.Fatalf("/registry/pods/ watcher got %s first", describeEvent(ev))
	}
	if ev := nextEvent(t, podsx); ev.KV.Key != "/registry/podsx/ns1/a" {
		t.Fatalf("/registry/podsx/ watcher got %s first", describeEvent(ev))
	}
	expectNoEventBefore(t, s, ns1, "/registry/pods/ns1/sentinel")
	if ev := nextEvent(t, pods); ev.KV.Key != "/registry/pods/ns1/sentinel" {
		t.Fatalf("/registry/pods/ watcher got %s, want the sentinel", describeEvent(ev))
	}
	expectNoEventBefore(t, s, podsx, "/registry/podsx/sentinel")
}

func testWatchFuture(t *testing.T, s storage.Interface) {
	mustCreate(t, s, "/registry/pods/default/a", "v")
	cur := mustRev(t, s)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ch := mustWatch(t, ctx, s, "/registry/pods/", cur+2)
	mustCreate(t, s, "/registry/pods/default/b", "v")
	mustCreate(t, s, "/registry/pods/default/c", "v")
	r := mustCreate(t, s, "/registry/pods/default/d", "v")
	if ev := nextEvent(t, ch); ev.KV.ModRevision != r {
		t.Fatalf("watch from revision %d got %s first, want the write at %d", cur+2, describeEvent(ev), r)
	}
}

func testWatchCancel(t *testing.T, s storage.Interface) {
	ctx, cancel := context.WithCancel(t.Context())
	idle := mustWatch(t, ctx, s, "/registry/pods/", 0)
	busy := mustWatch(t, ctx, s, "/registry/pods/", 0)
	for i := range 10 {
		mustCreate(t, s, fmt.Sprintf("/registry/pods/default/p%d", i), "v")
	}
	nextEvent(t, busy)
	cancel()
	expectClosed(t, idle)
	expectClosed(t, busy)
	// The store is still usable and new watches work.
	ctx2, cancel2 := context.WithCancel(t.Context())
	defer cancel2()
	ch := mustWatch(t, ctx2, s, "/registry/pods/", 0)
	expectNoEventBefore(t, s, ch, "/registry/pods/default/after")
}

// write is one successful write seen by a writer, to compare with events.
type write struct {
	typ     storage.EventType
	key     string
	value   string
	created bool
}

// testConcurrent has 16 writers each run 50 create/update/update/delete
// cycles on their own keys while 4 watchers (one per prefix slice and one
// for everything) read; every watcher must see every write under its prefix
// exactly once, in revision order, matching what the writer was told.
func testConcurrent(t *testing.T, s storage.Interface) {
	const (
		writers = 16
		cycles  = 50 // 4 writes each: 200 writes per writer
	)
	start := mustRev(t, s)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	prefixes := []string{"/registry/conc/", "/registry/conc/", "/registry/conc/w0", "/registry/conc/w1"}
	watches := make([]<-chan storage.WatchResult, len(prefixes))
	for i, p := range prefixes {
		from := start
		if i == 1 {
			from = 0 // from now: nothing was written since start
		}
		watches[i] = mustWatch(t, ctx, s, p, from)
	}

	var (
		mu     sync.Mutex
		writes = map[int64]write{}
		wg     sync.WaitGroup
		errs   = make(chan error, writers)
	)
	record := func(rev int64, w write) error {
		mu.Lock()
		defer mu.Unlock()
		if _, dup := writes[rev]; dup {
			return fmt.Errorf("revision %d returned twice", rev)
		}
		writes[rev] = w
		return nil
	}
	for g := range writers {
		wg.Go(func() {
			errs <- runWriter(ctx, s, g, cycles, record)
		})
	}

	type seen struct {
		events []storage.Event
		err    error
	}
	results := make([]chan seen, len(watches))
	total := writers * cycles * 4
	for i, ch := range watches {
		results[i] = make(chan seen, 1)
		want := total
		if prefixes[i] != "/registry/conc/" {
			want = 0 // known once writers finish; read until the end marker
		}
		go func() {
			var got seen
			for r := range ch {
				if r.Err != nil {
					got.err = r.Err
					break
				}
				if r.Event.KV.Key == prefixes[i]+"~end" {
					break
				}
				got.events = append(got.events, r.Event)
				if want > 0 && len(got.events) == want {
					break
				}
			}
			results[i] <- got
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(writes) != total {
		t.Fatalf("%d distinct revisions for %d writes", len(writes), total)
	}
	// End markers for the watchers that don't know how many events to expect.
	for _, p := range prefixes[2:] {
		mustCreate(t, s, p+"~end", "end")
	}

	for i := range watches {
		var got seen
		select {
		case got = <-results[i]:
		case <-t.Context().Done():
			t.Fatal("test context ended")
		}
		if got.err != nil {
			t.Fatalf("watcher %d (%s) ended with %v after %d events", i, prefixes[i], got.err, len(got.events))
		}
		checkConcurrentEvents(t, prefixes[i], got.events, writes, start)
	}
}

// runWriter does cycles of create, CAS update, unconditional update, CAS
// delete on keys of its own, recording each write's revision.
func runWriter(ctx context.Context, s storage.Interface, g, cycles int, record func(int64, write) error) error {
	for c := range cycles {
		key := fmt.Sprintf("/registry/conc/w%d/k%03d", g, c)
		r1, err := s.Create(ctx, key, []byte("v1"))
		if err != nil {
			return fmt.Errorf("writer %d: create %s: %w", g, key, err)
		}
		if err := record(r1, write{storage.EventPut, key, "v1", true}); err != nil {
			return err
		}
		r2, err := s.Update(ctx, key, []byte("v2"), r1)
		if err != nil {
			return fmt.Errorf("writer %d: update %s: %w", g, key, err)
		}
		if err := record(r2, write{storage.EventPut, key, "v2", false}); err != nil {
			return err
		}
		r3, err := s.Update(ctx, key, []byte("v3"), 0)
		if err != nil {
			return fmt.Errorf("writer %d: update %s: %w", g, key, err)
		}
		if err := record(r3, write{storage.EventPut, key, "v3", false}); err != nil {
			return err
		}
		_, r4, err := s.Delete(ctx, key, r3)
		if err != nil {
			return fmt.Errorf("writer %d: delete %s: %w", g, key, err)
		}
		if err := record(r4, write{storage.EventDelete, key, "v3", false}); err != nil {
			return err
		}
		if !(r1 < r2 && r2 < r3 && r3 < r4) {
			return fmt.Errorf("writer %d: revisions %d %d %d %d of one key not increasing", g, r1, r2, r3, r4)
		}
	}
	return nil
}

func checkConcurrentEvents(t *testing.T, prefix string, events []storage.Event, writes map[int64]write, start int64) {
	t.Helper()
	want := 0
	for _, w := range writes {
		if len(w.key) >= len(prefix) && w.key[:len(prefix)] == prefix {
			want++
		}
	}
	if len(events) != want {
		t.Fatalf("watcher %s saw %d events, want %d", prefix, len(events), want)
	}
	last := start
	for i, ev := range events {
		rev := ev.KV.ModRevision
		if rev <= last {
			t.Fatalf("watcher %s: event %d at revision %d after %d: out of order or repeated", prefix, i, rev, last)
		}
		last = rev
		w, ok := writes[rev]
		if !ok {
			t.Fatalf("watcher %s: event %s matches no write", prefix, describeEvent(ev))
		}
		if ev.Type != w.typ || ev.KV.Key != w.key || string(ev.KV.Value) != w.value || ev.Created != w.created {
			t.Fatalf("watcher %s: event %s, want %s %s %q created=%v", prefix, describeEvent(ev), w.typ, w.key, w.value, w.created)
		}
	}
}
