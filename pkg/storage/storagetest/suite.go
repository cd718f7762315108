package storagetest

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/kl-dev/kl/pkg/storage"
)

// Run runs the conformance suite against stores made by newStore, one per
// test case. See the package documentation for what newStore must provide.
func Run(t *testing.T, newStore func(t *testing.T) storage.Interface) {
	t.Helper()
	cases := []struct {
		name string
		run  func(t *testing.T, s storage.Interface)
	}{
		{"CreateThenGetReturnsValueAndRevisions", testCreateGet},
		{"CreateExistingKeyFailsWithAlreadyExists", testCreateExisting},
		{"GetMissingKeyFailsWithNotFound", testGetMissing},
		{"ValuesAreNotAliased", testValuesNotAliased},
		{"UpdateComparesExpectedRevision", testUpdateCAS},
		{"DeleteComparesExpectedRevision", testDeleteCAS},
		{"RecreatedKeyGetsNewCreateRevision", testRecreate},
		{"RevisionIsGlobalAndStrictlyIncreasing", testRevisions},
		{"FailedWritesDoNotAdvanceRevision", testFailedWrites},
		{"ConcurrentConditionalWritesHaveOneWinner", testConcurrentCAS},
		{"LargeValueRoundTrips", testLargeValue},
		{"ListReturnsPrefixSortedByKey", testListPrefix},
		{"ListOfEmptyPrefixHasCurrentRevision", testListEmpty},
		{"ListPaginatesWithLimitAndStartKey", testListPaginate},
		{"ListAtOlderRevisionReadsThatRevisionOrIsGone", testListOldRevision},
		{"ListAtFutureRevisionFails", testListFutureRevision},
		{"CountMatchesList", testCount},
		{"WatchDeliversPutsAndDeletes", testWatchEvents},
		{"WatchFromRevisionReplaysLaterEvents", testWatchReplay},
		{"WatchFromZeroStartsNow", testWatchFromNow},
		{"WatchSeesOnlyItsPrefix", testWatchPrefix},
		{"WatchFromFutureRevisionWaitsForIt", testWatchFuture},
		{"WatchClosesWhenContextCancelled", testWatchCancel},
		{"ConcurrentWritersAndWatchersSeeEveryEventOnceInOrder", testConcurrent},
		{"CloseEndsWatchesAndFailsCalls", testClose},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.run(t, fresh(t, newStore))
		})
	}
}

func testCreateGet(t *testing.T, s storage.Interface) {
	rev := mustCreate(t, s, "/registry/pods/default/a", `{"a":1}`)
	if rev <= 0 {
		t.Fatalf("Create returned revision %d, want > 0", rev)
	}
	got := mustGet(t, s, "/registry/pods/default/a")
	want := storage.KeyValue{Key: "/registry/pods/default/a", Value: []byte(`{"a":1}`), ModRevision: rev, CreateRevision: rev}
	if !sameKV(got, want) {
		t.Fatalf("Get = %s, want %s", describeKV(got), describeKV(want))
	}
	if cur := mustRev(t, s); cur != rev {
		t.Fatalf("CurrentRevision = %d, want the create's revision %d", cur, rev)
	}
}

func testCreateExisting(t *testing.T, s storage.Interface) {
	rev := mustCreate(t, s, "/registry/pods/default/a", "one")
	_, err := s.Create(t.Context(), "/registry/pods/default/a", []byte("two"))
	wantErr(t, "second Create", err, storage.ErrAlreadyExists)
	got := mustGet(t, s, "/registry/pods/default/a")
	if string(got.Value) != "one" || got.ModRevision != rev {
		t.Fatalf("after failed Create, Get = %s, want the first value at revision %d", describeKV(got), rev)
	}
}

func testGetMissing(t *testing.T, s storage.Interface) {
	mustCreate(t, s, "/registry/pods/default/a", "x")
	for _, key := range []string{"/registry/pods/default/b", "/registry/pods/default/", "/registry/pods/default/aa"} {
		_, err := s.Get(t.Context(), key)
		wantErr(t, "Get("+key+")", err, storage.ErrNotFound)
	}
}

func testValuesNotAliased(t *testing.T, s storage.Interface) {
	buf := []byte("original")
	mustCreate(t, s, "/registry/cm/default/a", string(buf))
	if _, err := s.Create(t.Context(), "/registry/cm/default/b", buf); err != nil {
		t.Fatal(err)
	}
	copy(buf, "CHANGED!") // the caller reuses its buffer
	got := mustGet(t, s, "/registry/cm/default/b")
	if string(got.Value) != "original" {
		t.Fatalf("store kept the caller's buffer: Get = %q", got.Value)
	}
	copy(got.Value, "CHANGED!") // the caller edits what Get returned
	if again := mustGet(t, s, "/registry/cm/default/b"); string(again.Value) != "original" {
		t.Fatalf("Get returned the store's own buffer: second Get = %q", again.Value)
	}
	list := mustList(t, s, "/registry/cm/", storage.ListOptions{})
	for _, kv := range list.Items {
		copy(kv.Value, "CHANGED!")
	}
	if again := mustGet(t, s, "/registry/cm/default/a"); string(again.Value) != "original" {
		t.Fatalf("List returned the store's own buffer: Get = %q", again.Value)
	}
}

func testUpdateCAS(t *testing.T, s storage.Interface) {
	const key = "/registry/pods/default/a"
	created := mustCreate(t, s, key, "v1")
	cases := []struct {
		name     string
		key      string
		expected func(current int64) int64
		wantErr  error
	}{
		{"MatchingRevisionSucceeds", key, func(cur int64) int64 { return cur }, nil},
		{"ZeroIsUnconditional", key, func(int64) int64 { return 0 }, nil},
		{"StaleRevisionConflicts", key, func(cur int64) int64 { return cur - 1 }, storage.ErrConflict},
		{"FutureRevisionConflicts", key, func(cur int64) int64 { return cur + 100 }, storage.ErrConflict},
		{"MissingKeyIsNotFound", "/registry/pods/default/missing", func(int64) int64 { return 0 }, storage.ErrNotFound},
		{"MissingKeyWithRevisionIsNotFound", "/registry/pods/default/missing", func(cur int64) int64 { return cur }, storage.ErrNotFound},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := mustGet(t, s, key)
			value := []byte{'v', byte('a' + i)}
			rev, err := s.Update(t.Context(), c.key, value, c.expected(before.ModRevision))
			if c.wantErr != nil {
				wantErr(t, "Update", err, c.wantErr)
				if after := mustGet(t, s, key); !sameKV(after, before) {
					t.Fatalf("failed Update changed the key: %s, was %s", describeKV(after), describeKV(before))
				}
				return
			}
			if err != nil {
				t.Fatalf("Update: %v", err)
			}
			if rev <= before.ModRevision {
				t.Fatalf("Update returned revision %d, not after the previous write %d", rev, before.ModRevision)
			}
			want := storage.KeyValue{Key: key, Value: value, ModRevision: rev, CreateRevision: created}
			if got := mustGet(t, s, key); !sameKV(got, want) {
				t.Fatalf("Get after Update = %s, want %s", describeKV(got), describeKV(want))
			}
		})
	}
}

func testDeleteCAS(t *testing.T, s storage.Interface) {
	cases := []struct {
		name     string
		missing  bool
		expected func(current int64) int64
		wantErr  error
	}{
		{"MatchingRevisionSucceeds", false, func(cur int64) int64 { return cur }, nil},
		{"ZeroIsUnconditional", false, func(int64) int64 { return 0 }, nil},
		{"StaleRevisionConflicts", false, func(cur int64) int64 { return cur - 1 }, storage.ErrConflict},
		{"MissingKeyIsNotFound", true, func(int64) int64 { return 0 }, storage.ErrNotFound},
		{"MissingKeyWithRevisionIsNotFound", true, func(cur int64) int64 { return cur }, storage.ErrNotFound},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key := "/registry/pods/default/d" + string(rune('a'+i))
			created := mustCreate(t, s, key, "first")
			last := mustUpdate(t, s, key, "last", 0)
			target := key
			if c.missing {
				target += "-missing"
			}
			kv, rev, err := s.Delete(t.Context(), target, c.expected(last))
			if c.wantErr != nil {
				wantErr(t, "Delete", err, c.wantErr)
				want := storage.KeyValue{Key: key, Value: []byte("last"), ModRevision: last, CreateRevision: created}
				if got := mustGet(t, s, key); !sameKV(got, want) {
					t.Fatalf("failed Delete changed the key: %s, want %s", describeKV(got), describeKV(want))
				}
				return
			}
			if err != nil {
				t.Fatalf("Delete: %v", err)
			}
			want := storage.KeyValue{Key: key, Value: []byte("last"), ModRevision: last, CreateRevision: created}
			if !sameKV(kv, want) {
				t.Fatalf("Delete returned %s, want the key as it was: %s", describeKV(kv), describeKV(want))
			}
			if rev <= last {
				t.Fatalf("Delete returned revision %d, not after the last write %d", rev, last)
			}
			if cur := mustRev(t, s); cur != rev {
				t.Fatalf("CurrentRevision = %d, want the delete's revision %d", cur, rev)
			}
			_, err = s.Get(t.Context(), key)
			wantErr(t, "Get after Delete", err, storage.ErrNotFound)
			_, _, err = s.Delete(t.Context(), key, 0)
			wantErr(t, "second Delete", err, storage.ErrNotFound)
		})
	}
}

func testRecreate(t *testing.T, s storage.Interface) {
	const key = "/registry/pods/default/a"
	first := mustCreate(t, s, key, "one")
	mustDelete(t, s, key, first)
	second := mustCreate(t, s, key, "two")
	got := mustGet(t, s, key)
	want := storage.KeyValue{Key: key, Value: []byte("two"), ModRevision: second, CreateRevision: second}
	if !sameKV(got, want) {
		t.Fatalf("Get after re-create = %s, want %s", describeKV(got), describeKV(want))
	}
	// The old revision must not match the new incarnation.
	_, err := s.Update(t.Context(), key, []byte("three"), first)
	wantErr(t, "Update with the first incarnation's revision", err, storage.ErrConflict)
}

func testRevisions(t *testing.T, s storage.Interface) {
	start := mustRev(t, s)
	last := start
	step := func(what string, rev int64) {
		t.Helper()
		if rev <= last {
			t.Fatalf("%s returned revision %d, not after %d", what, rev, last)
		}
		last = rev
		if cur := mustRev(t, s); cur != rev {
			t.Fatalf("after %s, CurrentRevision = %d, want %d", what, cur, rev)
		}
	}
	for i, key := range []string{"/registry/a/x", "/registry/b/y", "/registry/c/z", "/registry/a/w"} {
		step("Create "+key, mustCreate(t, s, key, "v"))
		step("Update "+key, mustUpdate(t, s, key, "w", 0))
		if i%2 == 0 {
			_, rev := mustDelete(t, s, key, 0)
			step("Delete "+key, rev)
		}
	}
}

func testFailedWrites(t *testing.T, s storage.Interface) {
	rev := mustCreate(t, s, "/registry/pods/default/a", "v")
	ctx := t.Context()
	_, err := s.Create(ctx, "/registry/pods/default/a", []byte("v"))
	wantErr(t, "Create existing", err, storage.ErrAlreadyExists)
	_, err = s.Update(ctx, "/registry/pods/default/a", []byte("v"), rev+1)
	wantErr(t, "Update stale", err, storage.ErrConflict)
	_, err = s.Update(ctx, "/registry/pods/default/b", []byte("v"), 0)
	wantErr(t, "Update missing", err, storage.ErrNotFound)
	_, _, err = s.Delete(ctx, "/registry/pods/default/a", rev+1)
	wantErr(t, "Delete stale", err, storage.ErrConflict)
	_, _, err = s.Delete(ctx, "/registry/pods/default/b", 0)
	wantErr(t, "Delete missing", err, storage.ErrNotFound)
	if cur := mustRev(t, s); cur != rev {
		t.Fatalf("CurrentRevision = %d after failed writes, want %d", cur, rev)
	}
	if next := mustCreate(t, s, "/registry/pods/default/c", "v"); next <= rev {
		t.Fatalf("Create after failed writes returned %d, want > %d", next, rev)
	}
}

// testConcurrentCAS races 16 writers on one key: of the creates, and then
// of the updates expecting the same revision, exactly one must win.
func testConcurrentCAS(t *testing.T, s storage.Interface) {
	const key, racers = "/registry/leases/default/lock", 16
	race := func(write func(i int) error, losers ...error) {
		t.Helper()
		errs := make(chan error, racers)
		var wg sync.WaitGroup
		for i := range racers {
			wg.Go(func() { errs <- write(i) })
		}
		wg.Wait()
		close(errs)
		wins := 0
		for err := range errs {
			switch {
			case err == nil:
				wins++
			case !slices.ContainsFunc(losers, func(l error) bool { return errors.Is(err, l) }):
				t.Fatalf("losing write failed with %v, want one of %v", err, losers)
			}
		}
		if wins != 1 {
			t.Fatalf("%d writers won, want exactly 1", wins)
		}
	}
	ctx := t.Context()
	race(func(i int) error {
		_, err := s.Create(ctx, key, []byte{byte(i)})
		return err
	}, storage.ErrAlreadyExists)
	for round := range 3 {
		cur := mustGet(t, s, key)
		race(func(i int) error {
			_, err := s.Update(ctx, key, []byte{byte(round), byte(i)}, cur.ModRevision)
			return err
		}, storage.ErrConflict)
	}
	cur := mustGet(t, s, key)
	race(func(int) error {
		_, _, err := s.Delete(ctx, key, cur.ModRevision)
		return err
	}, storage.ErrConflict, storage.ErrNotFound) // NotFound: lost to the delete
}

func testLargeValue(t *testing.T, s storage.Interface) {
	big := bytes.Repeat([]byte(`{"data":"0123456789abcdef"}`), 512<<10/27+1)[:512<<10]
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ch := mustWatch(t, ctx, s, "/registry/configmaps/", 0)
	rev, err := s.Create(t.Context(), "/registry/configmaps/default/big", big)
	if err != nil {
		t.Fatalf("Create 512 KiB value: %v", err)
	}
	if got := mustGet(t, s, "/registry/configmaps/default/big"); !bytes.Equal(got.Value, big) {
		t.Fatalf("Get returned %d bytes, want the %d written", len(got.Value), len(big))
	}
	list := mustList(t, s, "/registry/configmaps/", storage.ListOptions{})
	if len(list.Items) != 1 || !bytes.Equal(list.Items[0].Value, big) {
		t.Fatalf("List returned %d items, want the big value", len(list.Items))
	}
	if ev := nextEvent(t, ch); ev.KV.ModRevision != rev || !bytes.Equal(ev.KV.Value, big) {
		t.Fatalf("watch event %s, want the big value at revision %d", describeEvent(ev), rev)
	}
}

func testCount(t *testing.T, s storage.Interface) {
	c, ok := s.(storage.Counter)
	if !ok {
		t.Skip("backend does not implement storage.Counter")
	}
	for _, key := range []string{"/registry/pods/a/1", "/registry/pods/a/2", "/registry/pods/b/1", "/registry/podsx/a/1"} {
		mustCreate(t, s, key, "v")
	}
	mustDelete(t, s, "/registry/pods/a/2", 0)
	for _, prefix := range []string{"/registry/pods/", "/registry/pods/a/", "/registry/", "/registry/none/"} {
		n, err := c.Count(t.Context(), prefix)
		if err != nil {
			t.Fatalf("Count(%q): %v", prefix, err)
		}
		if want := len(mustList(t, s, prefix, storage.ListOptions{}).Items); n != int64(want) {
			t.Fatalf("Count(%q) = %d, List has %d", prefix, n, want)
		}
	}
}

func testClose(t *testing.T, s storage.Interface) {
	mustCreate(t, s, "/registry/pods/default/a", "v")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ch := mustWatch(t, ctx, s, "/registry/pods/", 0)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	expectClosed(t, ch)
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v (Close must be idempotent)", err)
	}
	ctx = t.Context()
	calls := map[string]func() error{
		"Get":             func() error { _, err := s.Get(ctx, "/registry/pods/default/a"); return err },
		"List":            func() error { _, err := s.List(ctx, "/registry/pods/", storage.ListOptions{}); return err },
		"Create":          func() error { _, err := s.Create(ctx, "/registry/pods/default/b", nil); return err },
		"Update":          func() error { _, err := s.Update(ctx, "/registry/pods/default/a", nil, 0); return err },
		"Delete":          func() error { _, _, err := s.Delete(ctx, "/registry/pods/default/a", 0); return err },
		"Watch":           func() error { _, err := s.Watch(ctx, "/registry/pods/", 0); return err },
		"CurrentRevision": func() error { _, err := s.CurrentRevision(ctx); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, storage.ErrClosed) {
			t.Errorf("%s after Close: got %v, want ErrClosed", name, err)
		}
	}
}
