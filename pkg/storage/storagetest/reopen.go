package storagetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/kl-dev/kl/pkg/storage"
)

// RunReopen runs the persistence tests: open(t, dir) opens (creating when
// empty) the store kept in dir. The suite closes every store it opens and
// reopens dir several times.
func RunReopen(t *testing.T, open func(t *testing.T, dir string) storage.Interface) {
	t.Helper()
	t.Run("ReopenKeepsKeysRevisionsAndCounter", func(t *testing.T) {
		testReopen(t, open)
	})
	t.Run("ReopenEmptyStoreStartsAtSameRevision", func(t *testing.T) {
		dir := t.TempDir()
		s := reopen(t, open, dir)
		rev := mustRev(t, s)
		closeStore(t, s)
		s = reopen(t, open, dir)
		defer closeStore(t, s)
		if got := mustRev(t, s); got != rev {
			t.Fatalf("empty store reopened at revision %d, was %d", got, rev)
		}
		if r := mustCreate(t, s, "/registry/pods/default/a", "v"); r <= rev {
			t.Fatalf("first Create returned revision %d, want > %d", r, rev)
		}
	})
}

// reopen opens dir and makes sure the store is closed when the test ends,
// even if it fails before closing it itself (Close is idempotent).
func reopen(t *testing.T, open func(t *testing.T, dir string) storage.Interface, dir string) storage.Interface {
	t.Helper()
	s := open(t, dir)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func closeStore(t *testing.T, s storage.Interface) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func testReopen(t *testing.T, open func(t *testing.T, dir string) storage.Interface) {
	dir := t.TempDir()
	s := reopen(t, open, dir)
	const prefix = "/registry/"
	for i := range 20 {
		mustCreate(t, s, fmt.Sprintf("/registry/pods/ns%d/p%02d", i%2, i), fmt.Sprintf(`{"n":%d}`, i))
	}
	mustCreate(t, s, "/registry/services/default/svc", "svc")
	mustUpdate(t, s, "/registry/pods/ns0/p00", "updated", 0)
	mustDelete(t, s, "/registry/pods/ns1/p01", 0)
	mustUpdate(t, s, "/registry/services/default/svc", "svc2", 0)
	// The newest write is a delete: the revision counter must not be derived
	// from the keys that are left.
	_, last := mustDelete(t, s, "/registry/pods/ns1/p03", 0)
	want := mustList(t, s, prefix, storage.ListOptions{})
	if want.Revision != last {
		t.Fatalf("List revision = %d, want the last write's %d", want.Revision, last)
	}
	closeStore(t, s)

	s = reopen(t, open, dir)
	if got := mustRev(t, s); got != last {
		t.Fatalf("reopened store is at revision %d, want %d", got, last)
	}
	got := mustList(t, s, prefix, storage.ListOptions{})
	if d := diffItems(got.Items, want.Items); d != "" || got.Revision != last {
		t.Fatalf("reopened store lists (at revision %d):%s", got.Revision, d)
	}
	_, err := s.Get(t.Context(), "/registry/pods/ns1/p03")
	wantErr(t, "Get of a key deleted before reopen", err, storage.ErrNotFound)

	// Compare-and-swap works with revisions from before the reopen.
	p2 := mustGet(t, s, "/registry/pods/ns0/p02")
	_, err = s.Update(t.Context(), p2.Key, []byte("x"), p2.ModRevision-1)
	wantErr(t, "Update with a stale pre-reopen revision", err, storage.ErrConflict)
	r1 := mustUpdate(t, s, p2.Key, "after reopen", p2.ModRevision)
	if r1 <= last {
		t.Fatalf("first write after reopen got revision %d, want > %d (revisions must never be reused)", r1, last)
	}

	// Watches work from the reopen revision on. Older revisions may be Gone
	// (the history is not kept across restarts) but must not be wrong.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ch := mustWatch(t, ctx, s, "/registry/pods/", last)
	r2 := mustCreate(t, s, "/registry/pods/ns1/p03", "again")
	expectEvents(t, ch,
		put(p2.Key, "after reopen", r1, p2.CreateRevision, string(p2.Value)),
		put("/registry/pods/ns1/p03", "again", r2, r2, ""),
	)
	old, err := s.Watch(ctx, "/registry/pods/", last-1)
	if err != nil {
		t.Fatalf("Watch from before the reopen: %v", err)
	}
	if r := next(t, old); r.Err != nil {
		if !errors.Is(r.Err, storage.ErrGone) {
			t.Fatalf("Watch from before the reopen ended with %v, want an event or ErrGone", r.Err)
		}
	} else if r.Event.Type != storage.EventDelete || r.Event.KV.ModRevision != last {
		t.Fatalf("Watch from before the reopen got %s first, want the delete at %d", describeEvent(r.Event), last)
	}
	cancel()
	closeStore(t, s)

	s = reopen(t, open, dir)
	defer closeStore(t, s)
	if got := mustRev(t, s); got != r2 {
		t.Fatalf("second reopen at revision %d, want %d", got, r2)
	}
	if kv := mustGet(t, s, "/registry/pods/ns1/p03"); kv.ModRevision != r2 || kv.CreateRevision != r2 || string(kv.Value) != "again" {
		t.Fatalf("after second reopen, Get = %s", describeKV(kv))
	}
}
