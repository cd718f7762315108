package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/kl-dev/kl/pkg/api/meta"
)

// Event is one event of a watch stream.
type Event[O any] struct {
	// Type is meta.Added, meta.Modified, meta.Deleted, meta.Bookmark or
	// meta.Error.
	Type string
	// Object is the object after the change; for Deleted its last state,
	// for Bookmark an object with only metadata.resourceVersion set. It is
	// the zero value for Error events.
	Object O
	// Status is the error of an Error event (e.g. 410 Gone when the
	// requested resourceVersion is too old).
	Status *meta.Status
}

// eventBuffer lets the decoder run a little ahead of a slow consumer.
const eventBuffer = 64

// watchLine is the envelope of one line when it is not in the usual shape;
// the object is then decoded into its final type once the type is known.
type watchLine struct {
	Type   string          `json:"type"`
	Object json.RawMessage `json:"object"`
}

// maxWatchLine bounds one watch event (an object is at most a few MiB).
const maxWatchLine = 64 << 20

// decodeWatch reads the line stream of body into events on the returned
// channel. The channel is closed when the server ends the stream, the
// connection breaks, or ctx is cancelled; body is closed then. A line that
// cannot be decoded produces an Error event and ends the stream.
func decodeWatch[O any](ctx context.Context, body io.ReadCloser, decode func([]byte) (O, error), log *slog.Logger) <-chan Event[O] {
	out := make(chan Event[O], eventBuffer)
	go func() {
		defer close(out)
		defer body.Close()
		rd := bufio.NewReaderSize(body, 64<<10)
		var buf []byte
		for {
			line, err := readLine(rd, &buf)
			if len(bytes.TrimSpace(line)) > 0 {
				ev, derr := decodeLine(line, decode)
				if derr != nil {
					send(ctx, out, errorEvent[O](derr))
					return
				}
				if !send(ctx, out, ev) {
					return
				}
			}
			if err != nil {
				if ctx.Err() == nil && !errors.Is(err, io.EOF) {
					if errors.Is(err, errLineTooLong) {
						send(ctx, out, errorEvent[O](err))
						return
					}
					log.Debug("watch stream ended", "err", err)
				}
				return
			}
		}
	}()
	return out
}

var errLineTooLong = fmt.Errorf("decoding watch stream: an event is longer than %d bytes", maxWatchLine)

// readLine returns the next line of rd, without copying when it fits in
// rd's buffer (it is valid until the next call). A last line without a
// newline is returned with io.EOF.
func readLine(rd *bufio.Reader, buf *[]byte) ([]byte, error) {
	line, err := rd.ReadSlice('\n')
	if !errors.Is(err, bufio.ErrBufferFull) {
		return line, err
	}
	*buf = append((*buf)[:0], line...)
	for errors.Is(err, bufio.ErrBufferFull) {
		if len(*buf) > maxWatchLine {
			return nil, errLineTooLong
		}
		line, err = rd.ReadSlice('\n')
		*buf = append(*buf, line...)
	}
	return *buf, err
}

// decodeLine decodes one event. The usual line is exactly
// {"type":"T","object":{...}} (what an apiserver's JSON encoder writes);
// then the object is sliced out and decoded once, straight into its type.
// Any other shape goes through the generic envelope.
func decodeLine[O any](line []byte, decode func([]byte) (O, error)) (Event[O], error) {
	if typ, obj, ok := splitCanonical(line); ok {
		if ev, err := decodeEvent(typ, obj, decode); err == nil {
			return ev, nil
		}
	}
	var env watchLine
	if err := json.Unmarshal(line, &env); err != nil {
		return Event[O]{}, fmt.Errorf("decoding watch stream: %w", err)
	}
	return decodeEvent(env.Type, env.Object, decode)
}

var (
	typePrefix   = []byte(`{"type":"`)
	objectPrefix = []byte(`","object":`)
)

// splitCanonical splits {"type":"T","object":X} into T and X. X is not
// checked here: decoding it fails (and the caller falls back) if the line
// had another shape.
func splitCanonical(line []byte) (typ string, obj []byte, ok bool) {
	line = bytes.TrimSpace(line)
	rest, found := bytes.CutPrefix(line, typePrefix)
	if !found {
		return "", nil, false
	}
	i := bytes.IndexByte(rest, '"')
	if i < 0 {
		return "", nil, false
	}
	typ = string(rest[:i])
	rest, found = bytes.CutPrefix(rest[i:], objectPrefix)
	if !found || len(rest) < 2 || rest[len(rest)-1] != '}' {
		return "", nil, false
	}
	return typ, rest[:len(rest)-1], true
}

func decodeEvent[O any](typ string, obj []byte, decode func([]byte) (O, error)) (Event[O], error) {
	ev := Event[O]{Type: typ}
	switch typ {
	case meta.Error:
		var st meta.Status
		if err := json.Unmarshal(obj, &st); err != nil {
			return ev, fmt.Errorf("decoding watch ERROR event: %w", err)
		}
		ev.Status = &st
	case meta.Added, meta.Modified, meta.Deleted, meta.Bookmark:
		o, err := decode(obj)
		if err != nil {
			return ev, fmt.Errorf("decoding watch %s event: %w", typ, err)
		}
		ev.Object = o
	default:
		return ev, fmt.Errorf("decoding watch stream: unknown event type %q", typ)
	}
	return ev, nil
}

func send[O any](ctx context.Context, out chan<- Event[O], ev Event[O]) bool {
	select {
	case out <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}

// errorEvent is a client-side failure reported as an Error event.
func errorEvent[O any](err error) Event[O] {
	st := meta.NewStatusError(http.StatusInternalServerError, meta.StatusReasonInternalError, err.Error()).Status
	return Event[O]{Type: meta.Error, Status: &st}
}

// WatchFunc starts a watch from resourceVersion rv.
type WatchFunc[O any] func(ctx context.Context, rv string) (<-chan Event[O], error)

// RetryWatch keeps a watch going across disconnects: it starts watch at rv
// and, whenever the stream ends, starts it again from the resourceVersion of
// the last event it saw (BOOKMARK events included), so no change is missed
// or repeated. rvOf returns an object's metadata.resourceVersion.
//
// Every event is passed on, bookmarks included. The channel is closed when
// ctx is cancelled, or after an Error event whose Status the caller must act
// on: 410 Gone/Expired (rv is too old: re-list and watch from the list's
// resourceVersion) or a 4xx that retrying will not fix (Forbidden,
// NotFound, BadRequest, ...). Connection failures, server errors and other
// Error events are retried with a capped back-off.
func RetryWatch[O any](ctx context.Context, rv string, watch WatchFunc[O], rvOf func(O) string, log *slog.Logger) (<-chan Event[O], error) {
	if rv == "" {
		return nil, errors.New("retry watch: a resourceVersion to start from is required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	out := make(chan Event[O])
	go func() {
		defer close(out)
		failures := 0
		for {
			if failures > 0 && !sleep(ctx, backoff(failures)) {
				return
			}
			wctx, cancel := context.WithCancel(ctx)
			ch, err := watch(wctx, rv)
			if err != nil {
				cancel()
				if ctx.Err() != nil {
					return
				}
				var ae *meta.APIError
				if errors.As(err, &ae) && terminal(&ae.Status) {
					st := ae.Status
					send(ctx, out, Event[O]{Type: meta.Error, Status: &st})
					return
				}
				failures++
				log.Debug("watch failed, retrying", "resourceVersion", rv, "err", err)
				continue
			}
			progressed, stop := false, false
			for ev := range ch {
				if ev.Type == meta.Error {
					if ev.Status != nil && terminal(ev.Status) {
						send(ctx, out, ev)
						stop = true
					} else {
						log.Warn("watch error event, retrying", "resourceVersion", rv, "status", ev.Status)
					}
					break
				}
				if v := rvOf(ev.Object); v != "" {
					rv = v
				}
				progressed = true
				if !send(ctx, out, ev) {
					stop = true
					break
				}
			}
			cancel() // ends the stream's goroutine if we left it early
			if stop || ctx.Err() != nil {
				return
			}
			if progressed {
				failures = 0 // the server closed a healthy stream: resume at once
			} else {
				failures++
			}
		}
	}()
	return out, nil
}

// terminal reports whether a watch error needs the caller: Gone means
// re-list, and client errors other than throttling will not go away by
// retrying.
func terminal(st *meta.Status) bool {
	if st.Reason == meta.StatusReasonGone || st.Reason == meta.StatusReasonExpired || st.Code == http.StatusGone {
		return true
	}
	return st.Code >= 400 && st.Code < 500 && st.Code != http.StatusTooManyRequests && st.Code != http.StatusRequestTimeout
}

// backoff is 100ms doubling per consecutive failure up to 5s, with up to
// 25% jitter so that many clients do not reconnect in lockstep.
func backoff(failures int) time.Duration {
	d := 100 * time.Millisecond << min(failures-1, 6)
	d = min(d, 5*time.Second)
	return d + rand.N(d/4+1)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
