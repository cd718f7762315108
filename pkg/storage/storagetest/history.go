package storagetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/kl-dev/kl/pkg/storage"
)

// RunHistory runs the tests for backends that keep a bounded in-memory watch
// history of a configurable size (memory, badger). newStore returns an empty
// store whose history keeps exactly historySize events: watching or listing
// from a revision r works while the writes after r are all kept (r >= current
// - historySize) and fails with ErrGone otherwise.
func RunHistory(t *testing.T, newStore func(t *testing.T, historySize int) storage.Interface) {
	t.Helper()
	cases := []struct {
		name    string
		history int
		run     func(t *testing.T, s storage.Interface, history int)
	}{
		{"WatchFromRevisionOlderThanHistoryIsGone", 16, testWatchGone},
		{"ListAtEveryRevisionInsideHistoryIsExact", 16, testListEveryRevision},
		{"SlowWatcherIsGoneAndDoesNotBlockWriters", 32, testSlowWatcher},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newStore(t, c.history)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			c.run(t, s, c.history)
		})
	}
}

func testWatchGone(t *testing.T, s storage.Interface, history int) {
	var events []storage.Event
	for i := range 2*history + 5 {
		key := fmt.Sprintf("/registry/pods/default/p%02d", i)
		rev := mustCreate(t, s, key, "v")
		events = append(events, put(key, "v", rev, rev, ""))
	}
	cur := mustRev(t, s)
	oldest := cur - int64(history) // the last history writes are kept
	cases := []struct {
		name string
		from int64
		gone bool
	}{
		{"OldestKept", oldest, false},
		{"Newest", cur - 1, false},
		{"JustBeforeOldestKept", oldest - 1, true},
		{"First", 1, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			ch := mustWatch(t, ctx, s, "/registry/pods/", c.from)
			if c.gone {
				expectGone(t, ch)
				return
			}
			var want []storage.Event
			for _, ev := range events {
				if ev.KV.ModRevision > c.from {
					want = append(want, ev)
				}
			}
			expectEvents(t, ch, want...)
		})
	}
	t.Run("ListJustBeforeOldestKept", func(t *testing.T) {
		_, err := s.List(t.Context(), "/registry/pods/", storage.ListOptions{Revision: oldest - 1})
		wantErr(t, fmt.Sprintf("List at revision %d", oldest-1), err, storage.ErrGone)
	})
}

// testListEveryRevision applies a fixed pseudo-random sequence of writes to a
// model and to the store, then lists the store at every revision: inside the
// history the answer must equal the model's, in full and in pages; before
// it, ErrGone.
func testListEveryRevision(t *testing.T, s storage.Interface, history int) {
	const prefix = "/registry/pods/"
	rng := rand.New(rand.NewPCG(7, 11))
	model := map[string]storage.KeyValue{}
	snapshot := func() []storage.KeyValue {
		var items []storage.KeyValue
		for _, kv := range model {
			items = append(items, kv)
		}
		slices.SortFunc(items, func(a, b storage.KeyValue) int { return strings.Compare(a.Key, b.Key) })
		return items
	}
	snapshots := map[int64][]storage.KeyValue{}
	start := mustRev(t, s)
	for i := range 3 * history {
		key := fmt.Sprintf("%sns%d/p%d", prefix, rng.IntN(2), rng.IntN(6))
		if i%5 == 4 {
			mustCreate(t, s, fmt.Sprintf("/registry/podsx/other%d", i), "elsewhere")
			continue
		}
		value := fmt.Sprintf("v%d", i)
		kv, exists := model[key]
		switch {
		case !exists:
			rev := mustCreate(t, s, key, value)
			model[key] = storage.KeyValue{Key: key, Value: []byte(value), ModRevision: rev, CreateRevision: rev}
			snapshots[rev] = snapshot()
		case rng.IntN(3) == 0:
			_, rev := mustDelete(t, s, key, kv.ModRevision)
			delete(model, key)
			snapshots[rev] = snapshot()
		default:
			rev := mustUpdate(t, s, key, value, kv.ModRevision)
			model[key] = storage.KeyValue{Key: key, Value: []byte(value), ModRevision: rev, CreateRevision: kv.CreateRevision}
			snapshots[rev] = snapshot()
		}
	}
	cur := mustRev(t, s)
	var want []storage.KeyValue
	for rev := start + 1; rev <= cur; rev++ {
		if w, ok := snapshots[rev]; ok {
			want = w
		} // else: a write outside the prefix; the snapshot is unchanged.
		res, err := s.List(t.Context(), prefix, storage.ListOptions{Revision: rev})
		if rev < cur-int64(history) {
			wantErr(t, fmt.Sprintf("List at revision %d (current %d, history %d)", rev, cur, history), err, storage.ErrGone)
			continue
		}
		if err != nil {
			t.Fatalf("List at revision %d (current %d, history %d): %v", rev, cur, history, err)
		}
		if d := diffItems(res.Items, want); d != "" || res.Revision != rev {
			t.Fatalf("List at revision %d (answered at %d):%s", rev, res.Revision, d)
		}
		for _, limit := range []int64{1, 2, 5} {
			got, _ := pageAll(t, s, prefix, limit, rev)
			if d := diffItems(got, want); d != "" {
				t.Fatalf("pages of %d at revision %d:%s", limit, rev, d)
			}
		}
	}
}

// testSlowWatcher leaves a watcher unread while many times its history is
// written: the writes must all complete, and the watcher, when finally read,
// must deliver an unbroken, in-order run of the first events and then end
// with ErrGone.
func testSlowWatcher(t *testing.T, s storage.Interface, history int) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	start := mustRev(t, s)
	ch := mustWatch(t, ctx, s, "/registry/pods/", 0)
	writes := 8 * history
	for i := range writes {
		// mustCreate would hang, not fail, if writers waited for watchers;
		// the test's timeout then names this test.
		mustCreate(t, s, fmt.Sprintf("/registry/pods/default/p%04d", i), "v")
	}
	last := start
	for range writes {
		r := next(t, ch)
		if r.Err != nil {
			if !errors.Is(r.Err, storage.ErrGone) {
				t.Fatalf("slow watcher ended with %v, want ErrGone", r.Err)
			}
			expectClosed(t, ch)
			return
		}
		if r.Event.KV.ModRevision != last+1 {
			t.Fatalf("slow watcher got revision %d after %d: events were skipped", r.Event.KV.ModRevision, last)
		}
		last = r.Event.KV.ModRevision
	}
	t.Fatalf("slow watcher delivered all %d events; want ErrGone once it fell %d events behind", writes, history)
}
