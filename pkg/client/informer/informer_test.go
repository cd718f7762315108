package informer_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/client/informer"
	"github.com/kl-dev/kl/pkg/client/internal/fakeapi"
)

// Widget is a tiny kind for the tests.
type Widget struct {
	meta.TypeMeta   `json:",inline"`
	meta.ObjectMeta `json:"metadata,omitempty"`
	Spec            struct {
		Size int `json:"size,omitempty"`
	} `json:"spec,omitempty"`
}

var widgetsGVR = meta.GroupVersionResource{Group: "example.kl.dev", Version: "v1", Resource: "widgets"}

type fixture struct {
	srv *fakeapi.Server
	ws  *client.Resource[Widget, *Widget]
	ctx context.Context
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := fakeapi.New(t)
	c, err := client.New(client.Config{Servers: []string{srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return &fixture{srv: srv, ws: client.NewResource[Widget](c, widgetsGVR, true), ctx: ctx}
}

func (f *fixture) create(t *testing.T, ns, name string, size int, labels map[string]string) *Widget {
	t.Helper()
	w := &Widget{ObjectMeta: meta.ObjectMeta{Namespace: ns, Name: name, Labels: labels}}
	w.Spec.Size = size
	out, err := f.ws.Create(f.ctx, w, client.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (f *fixture) update(t *testing.T, ns, name string, size int) {
	t.Helper()
	if _, err := f.ws.Namespace(ns).Patch(f.ctx, name, client.MergePatchType, fmt.Appendf(nil, `{"spec":{"size":%d}}`, size), client.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) delete(t *testing.T, ns, name string) {
	t.Helper()
	if err := f.ws.Namespace(ns).Delete(f.ctx, name, meta.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) lists() int {
	n := 0
	for _, r := range f.srv.Requests() {
		if strings.HasPrefix(r, "GET ") && !strings.Contains(r, "watch=true") {
			n++
		}
	}
	return n
}

// recorder is a Handler that records what it is told, in order.
type recorder struct {
	events chan string
}

func newRecorder() *recorder { return &recorder{events: make(chan string, 10000)} }

func (r *recorder) OnAdd(obj *Widget) {
	r.events <- fmt.Sprintf("ADD %s size=%d", informer.Key(obj), obj.Spec.Size)
}

func (r *recorder) OnUpdate(oldObj, newObj *Widget) {
	if oldObj == newObj {
		r.events <- "RESYNC " + informer.Key(newObj)
		return
	}
	r.events <- fmt.Sprintf("UPDATE %s size=%d->%d", informer.Key(newObj), oldObj.Spec.Size, newObj.Spec.Size)
}

func (r *recorder) OnDelete(obj *Widget, finalStateUnknown bool) {
	r.events <- fmt.Sprintf("DELETE %s size=%d unknown=%v", informer.Key(obj), obj.Spec.Size, finalStateUnknown)
}

// expect reads len(want) events and compares them, in order.
func (r *recorder) expect(t *testing.T, want ...string) {
	t.Helper()
	var got []string
	timeout := time.After(10 * time.Second)
	for len(got) < len(want) {
		select {
		case e := <-r.events:
			got = append(got, e)
		case <-timeout:
			t.Fatalf("got events %q, want %q", got, want)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got events\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// run runs inf until the test ends.
func run[PT meta.Object](t *testing.T, inf *informer.Informer[PT]) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- inf.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if !informer.WaitForCacheSync(wctx, inf) {
		t.Fatal("informer did not sync")
	}
}

func TestInitialListIsPaginatedAndDeliveredAsAdds(t *testing.T) {
	f := newFixture(t)
	for i := range 10 {
		f.create(t, "ns", fmt.Sprintf("w%02d", i), i, nil)
	}
	inf := informer.New(f.ws, informer.Options[*Widget]{PageSize: 4})
	rec := newRecorder()
	inf.AddEventHandler(rec)
	if inf.HasSynced() {
		t.Fatal("HasSynced before Run")
	}
	run(t, inf)
	if !inf.HasSynced() {
		t.Fatal("HasSynced false after WaitForCacheSync")
	}
	var want []string
	for i := range 10 {
		want = append(want, fmt.Sprintf("ADD ns/w%02d size=%d", i, i))
	}
	rec.expect(t, want...)
	if n := f.lists(); n != 3 {
		t.Fatalf("initial sync made %d list requests for 10 objects with page size 4, want 3", n)
	}
	if got := inf.Lister().Len(); got != 10 {
		t.Fatalf("cache holds %d objects, want 10", got)
	}
	if inf.LastSyncResourceVersion() != "10" {
		t.Fatalf("LastSyncResourceVersion = %q, want 10", inf.LastSyncResourceVersion())
	}
}

func TestHandlersSeeWatchedChangesInOrder(t *testing.T) {
	f := newFixture(t)
	f.create(t, "ns", "a", 1, nil)
	inf := informer.New(f.ws, informer.Options[*Widget]{})
	rec := newRecorder()
	inf.AddEventHandler(rec)
	run(t, inf)
	rec.expect(t, "ADD ns/a size=1")

	f.create(t, "ns", "b", 1, nil)
	f.update(t, "ns", "a", 2)
	f.update(t, "ns", "a", 3)
	f.delete(t, "ns", "b")
	rec.expect(t, "ADD ns/b size=1", "UPDATE ns/a size=1->2", "UPDATE ns/a size=2->3", "DELETE ns/b size=1 unknown=false")

	got, ok := inf.Lister().Get("ns", "a")
	if !ok || got.Spec.Size != 3 {
		t.Fatalf("Lister.Get(a) = %+v, %v; want size 3", got, ok)
	}
	if _, ok := inf.Lister().Get("ns", "b"); ok {
		t.Fatal("deleted object still cached")
	}
}

func TestRelistAfterGoneProducesTheMissedChanges(t *testing.T) {
	for _, asEvent := range []bool{false, true} {
		t.Run(fmt.Sprintf("GoneAsEvent=%v", asEvent), func(t *testing.T) {
			f := newFixture(t)
			f.srv.GoneAsEvent = asEvent
			f.create(t, "ns", "a", 1, nil)
			f.create(t, "ns", "b", 1, nil)
			f.create(t, "ns", "d", 1, nil)
			inf := informer.New(f.ws, informer.Options[*Widget]{})
			rec := newRecorder()
			inf.AddEventHandler(rec)
			run(t, inf)
			rec.expect(t, "ADD ns/a size=1", "ADD ns/b size=1", "ADD ns/d size=1")

			// The informer is cut off while things change, and the history
			// it would resume from is compacted: it must re-list.
			f.srv.HoldWatches()
			f.srv.DropWatches()
			f.update(t, "ns", "a", 2)
			f.delete(t, "ns", "b")
			f.create(t, "ns", "c", 1, nil)
			f.srv.Compact()
			f.srv.ReleaseWatches()

			rec.expect(t, "UPDATE ns/a size=1->2", "ADD ns/c size=1", "DELETE ns/b size=1 unknown=true")
			// Nothing else (no event for the unchanged d), and the new watch
			// works: the next event is this create.
			f.create(t, "ns", "e", 5, nil)
			rec.expect(t, "ADD ns/e size=5")
			if n := f.lists(); n != 2 {
				t.Fatalf("%d list requests, want 2 (initial + one re-list)", n)
			}
			var names []string
			for _, w := range inf.Lister().List(meta.Everything()) {
				names = append(names, w.Name)
			}
			slices.Sort(names)
			if fmt.Sprint(names) != "[a c d e]" {
				t.Fatalf("cache holds %v, want [a c d e]", names)
			}
		})
	}
}

func TestDroppedWatchResumesWithoutRelist(t *testing.T) {
	f := newFixture(t)
	f.create(t, "ns", "a", 1, nil)
	inf := informer.New(f.ws, informer.Options[*Widget]{})
	rec := newRecorder()
	inf.AddEventHandler(rec)
	run(t, inf)
	rec.expect(t, "ADD ns/a size=1")
	f.srv.DropWatches()
	f.update(t, "ns", "a", 2)
	f.create(t, "ns", "b", 1, nil)
	rec.expect(t, "UPDATE ns/a size=1->2", "ADD ns/b size=1")
	if n := f.lists(); n != 1 {
		t.Fatalf("%d list requests, want 1: a dropped watch resumes, it does not re-list", n)
	}
}

func TestHandlerAddedLaterGetsCachedObjectsFirst(t *testing.T) {
	f := newFixture(t)
	f.create(t, "ns", "a", 1, nil)
	f.create(t, "ns", "b", 2, nil)
	inf := informer.New(f.ws, informer.Options[*Widget]{})
	run(t, inf)
	rec := newRecorder()
	inf.AddEventHandler(rec)
	f.update(t, "ns", "a", 3)

	var got []string
	for range 2 {
		got = append(got, <-rec.events)
	}
	slices.Sort(got) // the snapshot comes in no particular order
	// AddEventHandler took its snapshot before the update was made, so the
	// update follows the snapshot's ADDs.
	if fmt.Sprint(got) != "[ADD ns/a size=1 ADD ns/b size=2]" {
		t.Fatalf("first events %v, want ADDs of the cached objects", got)
	}
	rec.expect(t, "UPDATE ns/a size=1->3")
}

func TestResyncRedeliversEveryObject(t *testing.T) {
	f := newFixture(t)
	f.create(t, "ns", "a", 1, nil)
	inf := informer.New(f.ws, informer.Options[*Widget]{ResyncPeriod: 10 * time.Millisecond})
	rec := newRecorder()
	inf.AddEventHandler(rec)
	run(t, inf)
	rec.expect(t, "ADD ns/a size=1")
	rec.expect(t, "RESYNC ns/a")
	rec.expect(t, "RESYNC ns/a")
}

func TestListerIndexes(t *testing.T) {
	f := newFixture(t)
	f.create(t, "ns1", "a", 1, map[string]string{"app": "web", "tier": "fe"})
	f.create(t, "ns1", "b", 2, map[string]string{"app": "db"})
	f.create(t, "ns2", "c", 1, map[string]string{"app": "web"})
	bySize := func(w *Widget) []string { return []string{fmt.Sprint(w.Spec.Size)} }
	inf := informer.New(f.ws, informer.Options[*Widget]{
		IndexLabels: true,
		Indexers:    map[string]informer.IndexFunc[*Widget]{"size": bySize},
	})
	rec := newRecorder()
	inf.AddEventHandler(rec)
	run(t, inf)
	rec.expect(t, "ADD ns1/a size=1", "ADD ns1/b size=2", "ADD ns2/c size=1")
	l := inf.Lister()

	names := func(ws []*Widget) string {
		var out []string
		for _, w := range ws {
			out = append(out, informer.Key(w))
		}
		slices.Sort(out)
		return strings.Join(out, ",")
	}
	sel := func(s string) meta.Selector {
		t.Helper()
		sel, err := meta.ParseSelector(s)
		if err != nil {
			t.Fatal(err)
		}
		return sel
	}
	tests := []struct {
		name string
		got  []*Widget
		want string
	}{
		{"all", l.List(meta.Everything()), "ns1/a,ns1/b,ns2/c"},
		{"label", l.List(sel("app=web")), "ns1/a,ns2/c"},
		{"label and more", l.List(sel("app=web,tier=fe")), "ns1/a"},
		{"label set", l.List(sel("app in (db,web),!tier")), "ns1/b,ns2/c"},
		{"nothing", l.List(meta.Nothing()), ""},
		{"namespace", l.ListNamespace("ns1", meta.Everything()), "ns1/a,ns1/b"},
		{"namespace and label", l.ListNamespace("ns1", sel("app=web")), "ns1/a"},
		{"all namespaces", l.ListNamespace("", sel("app=web")), "ns1/a,ns2/c"},
		{"empty namespace", l.ListNamespace("ns3", meta.Everything()), ""},
	}
	for _, tt := range tests {
		if got := names(tt.got); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
	ones, err := l.ByIndex("size", "1")
	if err != nil || names(ones) != "ns1/a,ns2/c" {
		t.Fatalf("ByIndex(size, 1) = %q, %v", names(ones), err)
	}
	if _, err := l.ByIndex("nope", "x"); err == nil {
		t.Fatal("ByIndex of an unknown index succeeded")
	}

	// An update moves the object between index buckets.
	f.update(t, "ns1", "a", 2)
	rec.expect(t, "UPDATE ns1/a size=1->2")
	ones, _ = l.ByIndex("size", "1")
	twos, _ := l.ByIndex("size", "2")
	if names(ones) != "ns2/c" || names(twos) != "ns1/a,ns1/b" {
		t.Fatalf("after update: size 1 = %q, size 2 = %q", names(ones), names(twos))
	}
	f.delete(t, "ns2", "c")
	rec.expect(t, "DELETE ns2/c size=1 unknown=false")
	if got := names(l.List(sel("app=web"))); got != "ns1/a" {
		t.Fatalf("after delete: app=web = %q", got)
	}
}

func TestRunTwiceFails(t *testing.T) {
	f := newFixture(t)
	inf := informer.New(f.ws, informer.Options[*Widget]{})
	run(t, inf)
	if err := inf.Run(f.ctx); err == nil {
		t.Fatal("second Run succeeded")
	}
}

func TestWaitForCacheSyncGivesUpWhenContextEnds(t *testing.T) {
	f := newFixture(t)
	inf := informer.New(f.ws, informer.Options[*Widget]{}) // never run
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if informer.WaitForCacheSync(ctx, inf) {
		t.Fatal("WaitForCacheSync reported an unsynced informer as synced")
	}
}

func TestKeyAndSplitKey(t *testing.T) {
	tests := []struct{ ns, name, key string }{
		{"default", "web", "default/web"},
		{"", "node-1", "node-1"},
	}
	for _, tt := range tests {
		w := &Widget{ObjectMeta: meta.ObjectMeta{Namespace: tt.ns, Name: tt.name}}
		if got := informer.Key(w); got != tt.key {
			t.Errorf("Key = %q, want %q", got, tt.key)
		}
		if ns, name := informer.SplitKey(tt.key); ns != tt.ns || name != tt.name {
			t.Errorf("SplitKey(%q) = %q, %q", tt.key, ns, name)
		}
	}
}
