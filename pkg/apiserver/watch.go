package apiserver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/apiserver/cacher"
)

// initialEventsEndAnnotation marks the BOOKMARK that ends the initial events
// of a watch with sendInitialEvents=true (Kubernetes' WatchList).
const initialEventsEndAnnotation = "k8s.io/initial-events-end"

// serveWatch streams changes as JSON lines, Kubernetes style:
// {"type":"ADDED","object":{...}}.
func (s *Server) serveWatch(w http.ResponseWriter, req *http.Request, r *resource, ns string) error {
	p, err := parseListParams(r, req.URL.Query())
	if err != nil {
		return err
	}
	tc, err := s.tableConverterFor(req, r)
	if err != nil {
		return err
	}
	ctx := req.Context()
	var from int64
	sendInitial := false
	switch {
	case p.initialEvents != nil && *p.initialEvents:
		// WatchList: the state as of (at least) rv as ADDED events, then a
		// bookmark, then changes.
		if !p.bookmarks {
			return meta.NewInvalid("", "WatchOptions", "", []meta.StatusCause{{Type: "FieldValueForbidden", Field: "allowWatchBookmarks", Message: "sendInitialEvents requires allowWatchBookmarks=true"}})
		}
		if err := s.freshness(ctx, p.rv); err != nil {
			return err
		}
		sendInitial = true
	case p.rv == "" || p.rv == "0":
		// Kubernetes: an unset or "0" resourceVersion starts with the
		// current state as synthetic ADDED events.
		sendInitial = true
	default:
		if from, err = parseRV(p.rv); err != nil {
			return err
		}
	}
	wctx := ctx
	if p.timeout > 0 {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(ctx, p.timeout)
		defer cancel()
	}
	fctx, cancel := context.WithTimeout(wctx, 3*time.Second)
	watcher, err := s.cache.Watch(fctx, r.keyPrefix(), r.within(ns), from, sendInitial)
	cancel()
	switch {
	case errors.Is(err, cacher.ErrGone):
		e := meta.NewGone(fmt.Sprintf("too old resource version: %s (%v)", p.rv, err))
		e.Status.Reason = meta.StatusReasonExpired
		return e
	case err != nil && ctx.Err() == nil && from > 0:
		return tooLargeRV(p.rv)
	case err != nil:
		return meta.NewStatusError(http.StatusServiceUnavailable, meta.StatusReasonServiceUnavailable, err.Error())
	}
	defer watcher.Stop()
	s.metrics.watches.WithLabelValues(r.groupResource()).Inc()
	defer s.metrics.watches.WithLabelValues(r.groupResource()).Dec()

	flusher, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Transfer-Encoding", "chunked")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 32*1024)
	flush := func() bool {
		if err := bw.Flush(); err != nil {
			return false
		}
		if flusher != nil {
			flusher.Flush()
		}
		return true
	}
	emit := func(typ string, data []byte) { writeEvent(bw, typ, data) }
	if tc != nil { // server-side printing (table.go)
		emit = tc.watchEmitter(s, bw)
	}
	pred := p.predicate()
	match := func(o *cacher.Object) bool { return o != nil && (pred == nil || pred(o)) }
	for _, o := range watcher.Initial {
		if match(o) {
			emit("ADDED", o.Data)
		}
	}
	watcher.Initial = nil // the watch may last long: keep no old versions alive
	if sendInitial && p.initialEvents != nil && *p.initialEvents {
		emit("BOOKMARK", bookmarkObject(r, watcher.StartRV, true))
	}
	if !flush() {
		return nil
	}
	lastRV := watcher.StartRV
	var events []cacher.Event
	for {
		select {
		case <-wctx.Done():
			return nil
		case <-watcher.Ready():
		}
		// Write everything queued, then flush once.
		var open bool
		events, open = watcher.Take(events[:0])
		for _, ev := range events {
			switch ev.Type {
			case cacher.Bookmark:
				if p.bookmarks && ev.RV > lastRV {
					emit("BOOKMARK", bookmarkObject(r, ev.RV, false))
					lastRV = ev.RV
				}
			default:
				lastRV = ev.RV
				writeFiltered(emit, ev, match)
			}
		}
		clear(events) // keep no object alive until the next batch
		if !flush() || !open {
			return nil
		}
	}
}

// writeFiltered writes ev as the watcher sees it through its selector: an
// object that starts matching is ADDED, one that stops matching is DELETED.
func writeFiltered(emit func(typ string, data []byte), ev cacher.Event, match func(*cacher.Object) bool) {
	switch ev.Type {
	case cacher.Added:
		if match(ev.Object) {
			emit("ADDED", ev.Object.Data)
		}
	case cacher.Deleted:
		if match(ev.Object) {
			emit("DELETED", ev.Object.Data)
		}
	case cacher.Modified:
		now, before := match(ev.Object), match(ev.Prev)
		switch {
		case now && before:
			emit("MODIFIED", ev.Object.Data)
		case now:
			emit("ADDED", ev.Object.Data)
		case before:
			emit("DELETED", ev.Object.Data)
		}
	}
}

func writeEvent(bw *bufio.Writer, typ string, data []byte) {
	bw.WriteString(`{"type":"`)
	bw.WriteString(typ)
	bw.WriteString(`","object":`)
	bw.Write(data)
	bw.WriteString("}\n")
}

// bookmarkObject is the object of a BOOKMARK event: the kind with only a
// resourceVersion (and the initial-events-end annotation).
func bookmarkObject(r *resource, rv int64, initialEnd bool) []byte {
	ann := ""
	if initialEnd {
		ann = `,"annotations":{"` + initialEventsEndAnnotation + `":"true"}`
	}
	return fmt.Appendf(nil, `{"kind":%q,"apiVersion":%q,"metadata":{"resourceVersion":%q%s}}`,
		r.kind, r.apiVersion(), strconv.FormatInt(rv, 10), ann)
}
