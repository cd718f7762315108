package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/client/internal/fakeapi"
)

// next returns the next event, failing the test when none comes in time or
// the channel is closed.
func next[O any](t *testing.T, ch <-chan client.Event[O]) client.Event[O] {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("watch channel closed, want an event")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no watch event")
	}
	panic("unreachable")
}

// closed fails the test unless ch is closed (after at most the events
// already buffered, which it returns).
func closed[O any](t *testing.T, ch <-chan client.Event[O]) []client.Event[O] {
	t.Helper()
	var rest []client.Event[O]
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				return rest
			}
			rest = append(rest, ev)
		case <-timeout:
			t.Fatal("watch channel not closed")
		}
	}
}

func describe(ev client.Event[*Widget]) string {
	if ev.Type == meta.Error {
		return fmt.Sprintf("ERROR %d", ev.Status.Code)
	}
	return fmt.Sprintf("%s %s rv=%s size=%d", ev.Type, ev.Object.Name, ev.Object.ResourceVersion, ev.Object.Spec.Size)
}

func TestWatchStreamsTypedEventsAndStopsOnCancel(t *testing.T) {
	srv := fakeapi.New(t)
	ctx := ctxT(t)
	ws := widgets(newClient(t, srv.URL)).Namespace("ns")
	rv := fmt.Sprint(srv.RV())

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := ws.Watch(wctx, client.ListOptions{ResourceVersion: rv})
	if err != nil {
		t.Fatal(err)
	}
	w, _ := ws.Create(ctx, widget("", "a", 1), client.CreateOptions{})
	w.Spec.Size = 2
	_, _ = ws.Update(ctx, w, client.UpdateOptions{})
	_ = ws.Delete(ctx, "a", meta.DeleteOptions{})

	want := []string{"ADDED a rv=1 size=1", "MODIFIED a rv=2 size=2", "DELETED a rv=3 size=2"}
	for _, w := range want {
		if got := describe(next(t, ch)); got != w {
			t.Fatalf("event %q, want %q", got, w)
		}
	}
	cancel()
	closed(t, ch)
}

func TestWatchChannelClosesWhenServerEndsStream(t *testing.T) {
	srv := fakeapi.New(t)
	ch, err := widgets(newClient(t, srv.URL)).Watch(ctxT(t), client.ListOptions{ResourceVersion: "0"})
	if err != nil {
		t.Fatal(err)
	}
	srv.DropWatches()
	if rest := closed(t, ch); len(rest) != 0 {
		t.Fatalf("unexpected events %v", rest)
	}
}

func TestWatchFromCompactedVersionReportsGone(t *testing.T) {
	for _, asEvent := range []bool{false, true} {
		t.Run(fmt.Sprintf("GoneAsEvent=%v", asEvent), func(t *testing.T) {
			srv := fakeapi.New(t)
			srv.GoneAsEvent = asEvent
			ctx := ctxT(t)
			ws := widgets(newClient(t, srv.URL)).Namespace("ns")
			_, _ = ws.Create(ctx, widget("", "a", 1), client.CreateOptions{})
			_, _ = ws.Create(ctx, widget("", "b", 1), client.CreateOptions{})
			srv.Compact()

			ch, err := ws.Watch(ctx, client.ListOptions{ResourceVersion: "1"})
			if !asEvent {
				if !meta.IsGone(err) {
					t.Fatalf("Watch error = %v, want Gone", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ev := next(t, ch)
			if ev.Type != meta.Error || ev.Status == nil || ev.Status.Code != http.StatusGone {
				t.Fatalf("event = %+v, want ERROR 410", ev)
			}
			closed(t, ch)
		})
	}
}

func TestRetryWatchResumesAfterTheServerDropsTheStream(t *testing.T) {
	srv := fakeapi.New(t)
	ctx := ctxT(t)
	ws := widgets(newClient(t, srv.URL)).Namespace("ns")
	_, _ = ws.Create(ctx, widget("", "before", 0), client.CreateOptions{})
	start := fmt.Sprint(srv.RV())

	ch, err := ws.RetryWatch(ctx, client.ListOptions{ResourceVersion: start})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := range 3 {
		_, _ = ws.Create(ctx, widget("", fmt.Sprintf("a%d", i), i), client.CreateOptions{})
	}
	for range 3 {
		got = append(got, describe(next(t, ch)))
	}
	srv.DropWatches()
	// Changes made while the client is disconnected are delivered once it
	// resumes from the last resourceVersion it saw.
	for i := range 3 {
		_, _ = ws.Create(ctx, widget("", fmt.Sprintf("b%d", i), i), client.CreateOptions{})
	}
	srv.DropWatches()
	_, _ = ws.Create(ctx, widget("", "c", 9), client.CreateOptions{})
	for range 4 {
		got = append(got, describe(next(t, ch)))
	}
	want := []string{
		"ADDED a0 rv=2 size=0", "ADDED a1 rv=3 size=1", "ADDED a2 rv=4 size=2",
		"ADDED b0 rv=5 size=0", "ADDED b1 rv=6 size=1", "ADDED b2 rv=7 size=2",
		"ADDED c rv=8 size=9",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("events:\n%v\nwant (each exactly once, in order):\n%v", got, want)
	}
}

func TestRetryWatchResumesFromBookmark(t *testing.T) {
	srv := fakeapi.New(t)
	ctx := ctxT(t)
	c := newClient(t, srv.URL)
	ws := widgets(c).Namespace("ns")
	gadgets := client.NewResource[Widget](c, meta.GroupVersionResource{Group: "example.kl.dev", Version: "v1", Resource: "gadgets"}, true).Namespace("ns")
	_, _ = ws.Create(ctx, widget("", "w", 1), client.CreateOptions{})
	start := fmt.Sprint(srv.RV())

	ch, err := ws.RetryWatch(ctx, client.ListOptions{ResourceVersion: start, AllowWatchBookmarks: true})
	if err != nil {
		t.Fatal(err)
	}
	// Other resources move the revision on; the widget watch sees nothing
	// until a bookmark tells it the current revision.
	for i := range 3 {
		_, _ = gadgets.Create(ctx, widget("", fmt.Sprint(i), 1), client.CreateOptions{})
	}
	srv.Bookmark(widgetsGVR.Group, widgetsGVR.Resource)
	ev := next(t, ch)
	if ev.Type != meta.Bookmark || ev.Object.ResourceVersion != fmt.Sprint(srv.RV()) {
		t.Fatalf("event = %+v, want BOOKMARK at %d", ev, srv.RV())
	}

	// The stream drops and history before the bookmark is compacted away:
	// resuming from the bookmark's revision must not be Gone.
	srv.HoldWatches()
	srv.DropWatches()
	srv.Compact()
	srv.ReleaseWatches()
	_, _ = ws.Create(ctx, widget("", "after", 2), client.CreateOptions{})
	if got := describe(next(t, ch)); got != "ADDED after rv=5 size=2" {
		t.Fatalf("event %q, want the create after the bookmark", got)
	}
}

func TestRetryWatchReportsGoneAndStops(t *testing.T) {
	for _, asEvent := range []bool{false, true} {
		t.Run(fmt.Sprintf("GoneAsEvent=%v", asEvent), func(t *testing.T) {
			srv := fakeapi.New(t)
			srv.GoneAsEvent = asEvent
			ctx := ctxT(t)
			ws := widgets(newClient(t, srv.URL)).Namespace("ns")
			_, _ = ws.Create(ctx, widget("", "a", 1), client.CreateOptions{})
			_, _ = ws.Create(ctx, widget("", "b", 1), client.CreateOptions{})
			srv.Compact()
			ch, err := ws.RetryWatch(ctx, client.ListOptions{ResourceVersion: "1"})
			if err != nil {
				t.Fatal(err)
			}
			ev := next(t, ch)
			if ev.Type != meta.Error || !meta.IsGone(&meta.APIError{Status: *ev.Status}) {
				t.Fatalf("event = %+v, want ERROR Gone", ev)
			}
			closed(t, ch)
		})
	}
}

func TestRetryWatchNeedsAResourceVersion(t *testing.T) {
	srv := fakeapi.New(t)
	if _, err := widgets(newClient(t, srv.URL)).RetryWatch(ctxT(t), client.ListOptions{}); err == nil {
		t.Error("RetryWatch without a resourceVersion started")
	}
}

func TestDynamicWatchYieldsRawObjects(t *testing.T) {
	srv := fakeapi.New(t)
	ctx := ctxT(t)
	d := newClient(t, srv.URL).Dynamic()
	_, _ = d.Create(ctx, widgetsGVR, "ns", []byte(`{"metadata":{"name":"before"}}`), client.CreateOptions{})
	ch, err := d.RetryWatch(ctx, widgetsGVR, "", client.ListOptions{ResourceVersion: fmt.Sprint(srv.RV())})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = d.Create(ctx, widgetsGVR, "ns", []byte(`{"metadata":{"name":"x"},"spec":{"size":4}}`), client.CreateOptions{})
	srv.DropWatches()
	_, _ = d.Create(ctx, widgetsGVR, "ns", []byte(`{"metadata":{"name":"y"}}`), client.CreateOptions{})
	for _, want := range []string{"x", "y"} {
		ev := next(t, ch)
		var w Widget
		if err := json.Unmarshal(ev.Object, &w); err != nil || ev.Type != meta.Added || w.Name != want {
			t.Fatalf("event %s %s (%v), want ADDED %s", ev.Type, ev.Object, err, want)
		}
	}
}

func TestWatchReportsUndecodableLineAsError(t *testing.T) {
	srv := httptestServer(t, `{"type":"ADDED","object":{"metadata":{"name":"a"}}}`+"\n"+`{"type":"ADDED","object":{"spec":{"size":"big"}}}`+"\n")
	ch, err := widgets(newClient(t, srv)).Watch(ctxT(t), client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ev := next(t, ch); ev.Type != meta.Added || ev.Object.Name != "a" {
		t.Fatalf("first event = %+v", ev)
	}
	ev := next(t, ch)
	if ev.Type != meta.Error || ev.Status.Code != http.StatusInternalServerError {
		t.Fatalf("second event = %+v, want a client-side ERROR", ev)
	}
	closed(t, ch)
}
