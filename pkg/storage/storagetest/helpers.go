package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/storage"
)

// waitTimeout bounds every wait for a watch result. A passing run never
// comes close; it only turns a hang into a failure with a message.
const waitTimeout = 20 * time.Second

// fresh returns a new store from newStore that is closed when the test ends.
func fresh(t *testing.T, newStore func(t *testing.T) storage.Interface) storage.Interface {
	t.Helper()
	s := newStore(t)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func mustCreate(t *testing.T, s storage.Interface, key, value string) int64 {
	t.Helper()
	rev, err := s.Create(t.Context(), key, []byte(value))
	if err != nil {
		t.Fatalf("Create(%q): %v", key, err)
	}
	return rev
}

func mustUpdate(t *testing.T, s storage.Interface, key, value string, expected int64) int64 {
	t.Helper()
	rev, err := s.Update(t.Context(), key, []byte(value), expected)
	if err != nil {
		t.Fatalf("Update(%q, expected %d): %v", key, expected, err)
	}
	return rev
}

func mustDelete(t *testing.T, s storage.Interface, key string, expected int64) (storage.KeyValue, int64) {
	t.Helper()
	kv, rev, err := s.Delete(t.Context(), key, expected)
	if err != nil {
		t.Fatalf("Delete(%q, expected %d): %v", key, expected, err)
	}
	return kv, rev
}

func mustGet(t *testing.T, s storage.Interface, key string) storage.KeyValue {
	t.Helper()
	kv, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return kv
}

func mustRev(t *testing.T, s storage.Interface) int64 {
	t.Helper()
	rev, err := s.CurrentRevision(t.Context())
	if err != nil {
		t.Fatalf("CurrentRevision: %v", err)
	}
	return rev
}

func mustList(t *testing.T, s storage.Interface, prefix string, opts storage.ListOptions) storage.ListResult {
	t.Helper()
	res, err := s.List(t.Context(), prefix, opts)
	if err != nil {
		t.Fatalf("List(%q, %+v): %v", prefix, opts, err)
	}
	return res
}

func mustWatch(t *testing.T, ctx context.Context, s storage.Interface, prefix string, from int64) <-chan storage.WatchResult {
	t.Helper()
	ch, err := s.Watch(ctx, prefix, from)
	if err != nil {
		t.Fatalf("Watch(%q, %d): %v", prefix, from, err)
	}
	return ch
}

// wantErr fails unless err wraps target.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

// next returns the next result of a watch, failing on timeout or close.
func next(t *testing.T, ch <-chan storage.WatchResult) storage.WatchResult {
	t.Helper()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	select {
	case r, ok := <-ch:
		if !ok {
			t.Fatalf("watch channel closed, want a result")
		}
		return r
	case <-timer.C:
		t.Fatalf("no watch result within %v", waitTimeout)
	}
	return storage.WatchResult{}
}

// nextEvent returns the next event of a watch, failing on an error result.
func nextEvent(t *testing.T, ch <-chan storage.WatchResult) storage.Event {
	t.Helper()
	r := next(t, ch)
	if r.Err != nil {
		t.Fatalf("watch ended with %v, want an event", r.Err)
	}
	return r.Event
}

// expectEvents checks that the next events of a watch are want.
func expectEvents(t *testing.T, ch <-chan storage.WatchResult, want ...storage.Event) {
	t.Helper()
	for i, w := range want {
		got := nextEvent(t, ch)
		if d := diffEvent(got, w); d != "" {
			t.Fatalf("event %d: %s", i, d)
		}
	}
}

// expectGone checks that a watch ends with ErrGone and closes.
func expectGone(t *testing.T, ch <-chan storage.WatchResult) {
	t.Helper()
	r := next(t, ch)
	if !errors.Is(r.Err, storage.ErrGone) {
		t.Fatalf("watch result %s, want ErrGone", describe(r))
	}
	expectClosed(t, ch)
}

// expectClosed drains a watch until its channel is closed. Results still
// buffered are allowed but must not be errors other than ErrClosed.
func expectClosed(t *testing.T, ch <-chan storage.WatchResult) {
	t.Helper()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for {
		select {
		case r, ok := <-ch:
			if !ok {
				return
			}
			if r.Err != nil && !errors.Is(r.Err, storage.ErrClosed) && !errors.Is(r.Err, storage.ErrGone) {
				t.Fatalf("watch ended with %v, want the channel closed", r.Err)
			}
		case <-timer.C:
			t.Fatalf("watch channel not closed within %v", waitTimeout)
		}
	}
}

// expectNoEventBefore writes a sentinel key under prefix and checks that the
// sentinel's event is the next one: no other event (e.g. one that should
// have been filtered out) came before it. Events arrive in revision order,
// so this proves the absence of earlier events without sleeping.
func expectNoEventBefore(t *testing.T, s storage.Interface, ch <-chan storage.WatchResult, sentinel string) {
	t.Helper()
	rev := mustCreate(t, s, sentinel, "sentinel")
	got := nextEvent(t, ch)
	if got.KV.Key != sentinel || got.KV.ModRevision != rev {
		t.Fatalf("got event %s, want the sentinel %s at revision %d", describeEvent(got), sentinel, rev)
	}
}

func put(key, value string, rev, createRev int64, prev string) storage.Event {
	ev := storage.Event{
		Type:    storage.EventPut,
		KV:      storage.KeyValue{Key: key, Value: []byte(value), ModRevision: rev, CreateRevision: createRev},
		Created: rev == createRev,
	}
	if !ev.Created {
		ev.PrevValue = []byte(prev)
	}
	return ev
}

func del(key, last string, rev, createRev int64) storage.Event {
	return storage.Event{
		Type:      storage.EventDelete,
		KV:        storage.KeyValue{Key: key, Value: []byte(last), ModRevision: rev, CreateRevision: createRev},
		PrevValue: []byte(last),
	}
}

func diffEvent(got, want storage.Event) string {
	if got.Type != want.Type || got.Created != want.Created || !sameKV(got.KV, want.KV) ||
		!bytes.Equal(got.PrevValue, want.PrevValue) {
		return fmt.Sprintf("got %s, want %s", describeEvent(got), describeEvent(want))
	}
	return ""
}

func sameKV(a, b storage.KeyValue) bool {
	return a.Key == b.Key && bytes.Equal(a.Value, b.Value) &&
		a.ModRevision == b.ModRevision && a.CreateRevision == b.CreateRevision
}

func describeKV(kv storage.KeyValue) string {
	return fmt.Sprintf("{%s %q mod=%d create=%d}", kv.Key, short(kv.Value), kv.ModRevision, kv.CreateRevision)
}

func describeEvent(e storage.Event) string {
	return fmt.Sprintf("%s%s created=%v prev=%q", e.Type, describeKV(e.KV), e.Created, short(e.PrevValue))
}

func describe(r storage.WatchResult) string {
	if r.Err != nil {
		return "error " + r.Err.Error()
	}
	return "event " + describeEvent(r.Event)
}

func short(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

// diffItems compares two lists of keys.
func diffItems(got, want []storage.KeyValue) string {
	var b strings.Builder
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = describeKV(got[i])
		}
		if i < len(want) {
			w = describeKV(want[i])
		}
		if i >= len(got) || i >= len(want) || !sameKV(got[i], want[i]) {
			fmt.Fprintf(&b, "\n  item %d: got %s, want %s", i, g, w)
		}
	}
	return b.String()
}
