package watchhist

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/storage"
)

func putEntry(key, value string, rev int64, prevRev int64, prev string) Entry {
	e := Entry{Event: storage.Event{
		Type: storage.EventPut,
		KV:   storage.KeyValue{Key: key, Value: []byte(value), ModRevision: rev, CreateRevision: rev},
	}}
	if prevRev == 0 {
		e.Event.Created = true
		return e
	}
	e.Event.PrevValue = []byte(prev)
	e.Event.KV.CreateRevision = prevRev
	e.PrevModRevision, e.PrevCreateRevision = prevRev, prevRev
	return e
}

func delEntry(key, last string, rev, lastRev int64) Entry {
	return Entry{
		Event: storage.Event{
			Type:      storage.EventDelete,
			KV:        storage.KeyValue{Key: key, Value: []byte(last), ModRevision: rev, CreateRevision: lastRev},
			PrevValue: []byte(last),
		},
		PrevModRevision: lastRev, PrevCreateRevision: lastRev,
	}
}

func receive(t *testing.T, ch <-chan storage.WatchResult) storage.WatchResult {
	t.Helper()
	select {
	case r, ok := <-ch:
		if !ok {
			t.Fatal("watch channel closed")
		}
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no watch result")
	}
	return storage.WatchResult{}
}

func TestAppendPanicsOnRevisionGap(t *testing.T) {
	h := New(4, 10)
	h.Append(putEntry("/a", "v", 11, 0, ""))
	defer func() {
		if recover() == nil {
			t.Fatal("Append of revision 13 after 11 did not panic")
		}
	}()
	h.Append(putEntry("/a", "v", 13, 0, ""))
}

func TestCloseEndsWatchersWithErrClosed(t *testing.T) {
	h := New(4, 0)
	ch, err := h.Watch(t.Context(), "/", 0)
	if err != nil {
		t.Fatal(err)
	}
	h.Close()
	if r := receive(t, ch); !errors.Is(r.Err, storage.ErrClosed) {
		t.Fatalf("got %+v, want ErrClosed", r)
	}
	if _, ok := <-ch; ok {
		t.Fatal("channel not closed after ErrClosed")
	}
	if _, err := h.Watch(t.Context(), "/", 0); !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("Watch after Close: %v, want ErrClosed", err)
	}
	h.Append(putEntry("/a", "v", 1, 0, "")) // ignored, no panic
}

func TestWaitFor(t *testing.T) {
	h := New(4, 5)
	if err := h.WaitFor(t.Context(), 5); err != nil {
		t.Fatalf("WaitFor(current): %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- h.WaitFor(t.Context(), 7) }()
	h.Append(putEntry("/a", "v", 6, 0, ""))
	h.Append(putEntry("/b", "v", 7, 0, ""))
	if err := <-done; err != nil {
		t.Fatalf("WaitFor(7): %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := h.WaitFor(ctx, 100); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitFor with a cancelled context: %v", err)
	}
}

// TestWatcherScansInBoundedSteps appends far more events than one scan
// covers, most outside the prefix, and checks the watcher still delivers
// exactly the matching ones in order.
func TestWatcherScansInBoundedSteps(t *testing.T) {
	h := New(5000, 0)
	var want []int64
	for rev := int64(1); rev <= 4000; rev++ {
		key := fmt.Sprintf("/other/%d", rev)
		if rev%97 == 0 {
			key = fmt.Sprintf("/mine/%d", rev)
			want = append(want, rev)
		}
		h.Append(putEntry(key, "v", rev, 0, ""))
	}
	ch, err := h.Watch(t.Context(), "/mine/", 1) // 0 would mean "from now"
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for range want {
		r := receive(t, ch)
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		got = append(got, r.Event.KV.ModRevision)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got revisions %v, want %v", got, want)
	}
}

// TestPage covers merging the current state with an overlay at the edges:
// keys deleted since (must reappear), created since (must vanish), updated
// since (old value), with limits falling on either kind.
func TestPage(t *testing.T) {
	h := New(16, 0)
	// rev 1-4: a, b, c, d created. This is the state the pages read.
	for i, k := range []string{"/p/a", "/p/b", "/p/c", "/p/d"} {
		h.Append(putEntry(k, "1", int64(i+1), 0, ""))
	}
	// rev 5-8: b deleted, c updated, e and a0 created.
	h.Append(delEntry("/p/b", "1", 5, 2))
	h.Append(putEntry("/p/c", "2", 6, 3, "1"))
	h.Append(putEntry("/p/e", "1", 7, 0, ""))
	h.Append(putEntry("/p/a0", "1", 8, 0, ""))
	current := []storage.KeyValue{
		{Key: "/p/a", Value: []byte("1"), ModRevision: 1, CreateRevision: 1},
		{Key: "/p/a0", Value: []byte("1"), ModRevision: 8, CreateRevision: 8},
		{Key: "/p/c", Value: []byte("2"), ModRevision: 6, CreateRevision: 3},
		{Key: "/p/d", Value: []byte("1"), ModRevision: 4, CreateRevision: 4},
		{Key: "/p/e", Value: []byte("1"), ModRevision: 7, CreateRevision: 7},
	}
	seq := func(from string) func(func(storage.KeyValue, error) bool) {
		return func(yield func(storage.KeyValue, error) bool) {
			for _, kv := range current {
				if kv.Key >= from && !yield(kv, nil) {
					return
				}
			}
		}
	}
	o, err := h.Overlay("/p/", 4, 8)
	if err != nil {
		t.Fatal(err)
	}
	if n := o.CountAfter("/p/a", 4); n != 3 { // current after a: a0 c d e = 4; at rev 4: b c d = 3
		t.Fatalf("CountAfter = %d, want 3", n)
	}
	cases := []struct {
		start string
		limit int64
		want  []string
		more  bool
	}{
		{"/p/", 0, []string{"/p/a=1@1", "/p/b=1@2", "/p/c=1@3", "/p/d=1@4"}, false},
		{"/p/", 1, []string{"/p/a=1@1"}, true},
		{"/p/", 2, []string{"/p/a=1@1", "/p/b=1@2"}, true},
		{"/p/a\x00", 2, []string{"/p/b=1@2", "/p/c=1@3"}, true},
		{"/p/c\x00", 2, []string{"/p/d=1@4"}, false},
		{"/p/d\x00", 2, nil, false},
	}
	for _, c := range cases {
		items, more, err := Page(seq(c.start), o, c.start, c.limit)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, kv := range items {
			got = append(got, fmt.Sprintf("%s=%s@%d", kv.Key, kv.Value, kv.ModRevision))
		}
		if !slices.Equal(got, c.want) || more != c.more {
			t.Errorf("Page(start %q, limit %d) = %v more=%v, want %v more=%v", c.start, c.limit, got, more, c.want, c.more)
		}
	}
	if _, err := h.Overlay("/p/", 0, 8); err != nil {
		t.Fatalf("Overlay from revision 0 with all events kept: %v", err)
	}
	small := New(2, 0)
	for rev := int64(1); rev <= 4; rev++ {
		small.Append(putEntry(fmt.Sprintf("/p/%d", rev), "v", rev, 0, ""))
	}
	if _, err := small.Overlay("/p/", 1, 4); !errors.Is(err, storage.ErrGone) {
		t.Fatalf("Overlay older than the history: %v, want ErrGone", err)
	}
	if _, err := small.Overlay("/p/", 2, 4); err != nil {
		t.Fatalf("Overlay at the oldest kept revision: %v", err)
	}
}
