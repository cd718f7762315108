// Package fakeapi is a small in-memory apiserver speaking kl's REST wire
// protocol, for the client's tests: CRUD with resourceVersions and
// conflicts, list with label selectors and pagination, watch streamed from
// an event log with bookmarks, and 410 Gone for compacted history. Tests
// drive failures with DropWatches, HoldWatches and Compact.
package fakeapi

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/kl-dev/kl/pkg/api/meta"
)

// Server is the fake apiserver. Its URL is Server.URL.
type Server struct {
	*httptest.Server

	// GoneAsEvent makes a watch from a compacted resourceVersion answer 200
	// with an ERROR event (as a watch cache does) instead of HTTP 410.
	GoneAsEvent bool

	mu        sync.Mutex
	rv        int64
	uid       int
	objects   map[string]*stored
	log       []event
	seq       int64         // sequence number of the last log entry
	compacted int64         // watches from below this revision get 410
	compSeq   int64         // seq of the last entry dropped by Compact
	changed   chan struct{} // closed and replaced on every change
	drop      chan struct{} // closed to end every open watch
	hold      chan struct{} // non-nil: new watches wait until it is closed
	watches   int
	requests  []string
}

type stored struct {
	obj map[string]any
	rv  int64
}

type event struct {
	seq      int64
	rv       int64
	typ      string
	prefix   string // group/resource/
	ns       string
	obj      []byte
	labels   map[string]string
	bookmark bool
}

// New starts a fake apiserver, closed when the test ends.
func New(t testing.TB) *Server {
	s := &Server{
		objects: map[string]*stored{},
		changed: make(chan struct{}),
		drop:    make(chan struct{}),
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		s.DropWatches()
		s.ReleaseWatches()
		s.Server.Close()
	})
	return s
}

// RV returns the current revision.
func (s *Server) RV() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rv
}

// Requests returns "METHOD PATH?QUERY" of every request so far.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Watches returns the number of watch streams open now.
func (s *Server) Watches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.watches
}

// DropWatches ends every open watch stream (cleanly, as a server timeout
// or restart would).
func (s *Server) DropWatches() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.drop)
	s.drop = make(chan struct{})
}

// HoldWatches makes new watch requests wait until ReleaseWatches.
func (s *Server) HoldWatches() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hold == nil {
		s.hold = make(chan struct{})
	}
}

// ReleaseWatches lets held watch requests proceed.
func (s *Server) ReleaseWatches() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hold != nil {
		close(s.hold)
		s.hold = nil
	}
}

// Compact forgets the history up to now: watches from an older
// resourceVersion get 410 Gone.
func (s *Server) Compact() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.compacted = s.rv
	s.compSeq = s.seq
	s.log = nil
	s.notifyLocked()
}

// Bookmark sends a BOOKMARK with the current revision to watches that
// allow bookmarks.
func (s *Server) Bookmark(group, resource string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	s.log = append(s.log, event{seq: s.seq, rv: s.rv, typ: meta.Bookmark, prefix: group + "/" + resource + "/", bookmark: true})
	s.notifyLocked()
}

func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

type target struct {
	group, version, resource, ns, name, sub string
}

func (t target) prefix() string { return t.group + "/" + t.resource + "/" }
func (t target) key() string    { return t.prefix() + t.ns + "/" + t.name }

func parsePath(p string) (target, bool) {
	segs := strings.Split(strings.Trim(p, "/"), "/")
	var t target
	switch {
	case len(segs) >= 3 && segs[0] == "api":
		t.version, segs = segs[1], segs[2:]
	case len(segs) >= 4 && segs[0] == "apis":
		t.group, t.version, segs = segs[1], segs[2], segs[3:]
	default:
		return t, false
	}
	if len(segs) >= 3 && segs[0] == "namespaces" {
		t.ns, segs = segs[1], segs[2:]
	}
	t.resource = segs[0]
	if len(segs) > 1 {
		t.name = segs[1]
	}
	if len(segs) > 2 {
		t.sub = strings.Join(segs[2:], "/")
	}
	return t, true
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, e *meta.APIError) {
	writeJSON(w, int(e.Status.Code), e.Status)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r.Method+" "+r.URL.RequestURI())
	s.mu.Unlock()
	t, ok := parsePath(r.URL.Path)
	if !ok {
		writeErr(w, meta.NewNotFound("", "", r.URL.Path))
		return
	}
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodGet && t.name == "" && q.Get("watch") == "true":
		s.watch(w, r, t)
	case r.Method == http.MethodGet && t.name == "":
		s.list(w, r, t)
	case r.Method == http.MethodGet:
		s.get(w, t)
	case r.Method == http.MethodPost && t.name == "":
		s.create(w, r, t)
	case r.Method == http.MethodPost:
		writeJSON(w, http.StatusCreated, meta.Status{TypeMeta: meta.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: meta.StatusSuccess, Code: 201})
	case r.Method == http.MethodPut:
		s.update(w, r, t)
	case r.Method == http.MethodPatch:
		s.patch(w, r, t)
	case r.Method == http.MethodDelete && t.name == "":
		s.deleteCollection(w, r, t)
	case r.Method == http.MethodDelete:
		s.delete(w, r, t)
	default:
		writeErr(w, meta.NewMethodNotAllowed(r.Method+" is not supported"))
	}
}

func (s *Server) get(w http.ResponseWriter, t target) {
	s.mu.Lock()
	o, ok := s.objects[t.key()]
	s.mu.Unlock()
	if !ok {
		writeErr(w, meta.NewNotFound(t.group, t.resource, t.name))
		return
	}
	writeJSON(w, http.StatusOK, o.obj)
}

func metadata(obj map[string]any) map[string]any {
	m, _ := obj["metadata"].(map[string]any)
	if m == nil {
		m = map[string]any{}
		obj["metadata"] = m
	}
	return m
}

func labelsOf(obj map[string]any) map[string]string {
	out := map[string]string{}
	if l, ok := metadata(obj)["labels"].(map[string]any); ok {
		for k, v := range l {
			out[k], _ = v.(string)
		}
	}
	return out
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, t target) {
	q := r.URL.Query()
	sel, err := meta.ParseSelector(q.Get("labelSelector"))
	if err != nil {
		writeErr(w, meta.NewBadRequest(err.Error()))
		return
	}
	limit, _ := strconv.Atoi(q.Get("limit"))
	s.mu.Lock()
	defer s.mu.Unlock()
	listRV, after := s.rv, ""
	if c := q.Get("continue"); c != "" {
		rvStr, key, _ := strings.Cut(c, "|")
		listRV, _ = strconv.ParseInt(rvStr, 10, 64)
		if listRV < s.compacted {
			writeErr(w, meta.NewStatusError(http.StatusGone, meta.StatusReasonExpired, "the continue token has expired"))
			return
		}
		after = key
	}
	prefix := t.prefix()
	if t.ns != "" {
		prefix += t.ns + "/"
	}
	keys := slices.Sorted(maps.Keys(s.objects))
	items := []map[string]any{}
	next := ""
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix) || k <= after || !sel.Matches(labelsOf(s.objects[k].obj)) {
			continue
		}
		if limit > 0 && len(items) == limit {
			next = fmt.Sprintf("%d|%s", listRV, items[len(items)-1]["__key"])
			break
		}
		o := maps.Clone(s.objects[k].obj)
		o["__key"] = k
		items = append(items, o)
	}
	kind := "List"
	for _, it := range items {
		delete(it, "__key")
		if k, ok := it["kind"].(string); ok {
			kind = k + "List"
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"kind":       kind,
		"apiVersion": meta.JoinGroupVersion(t.group, t.version),
		"metadata":   map[string]any{"resourceVersion": strconv.FormatInt(listRV, 10), "continue": next},
		"items":      items,
	})
}

func readObject(r *http.Request) (map[string]any, *meta.APIError) {
	var obj map[string]any
	if err := json.NewDecoder(r.Body).Decode(&obj); err != nil {
		return nil, meta.NewBadRequest("decoding body: " + err.Error())
	}
	return obj, nil
}

// recordLocked stores a change: the next revision, the object's
// resourceVersion, and an event in the log.
func (s *Server) recordLocked(t target, typ string, obj map[string]any) {
	s.rv++
	metadata(obj)["resourceVersion"] = strconv.FormatInt(s.rv, 10)
	if typ == meta.Deleted {
		delete(s.objects, t.key())
	} else {
		s.objects[t.key()] = &stored{obj: obj, rv: s.rv}
	}
	raw, _ := json.Marshal(obj)
	s.seq++
	s.log = append(s.log, event{seq: s.seq, rv: s.rv, typ: typ, prefix: t.prefix(), ns: t.ns, obj: raw, labels: labelsOf(obj)})
	s.notifyLocked()
}

func (s *Server) create(w http.ResponseWriter, r *http.Request, t target) {
	obj, aerr := readObject(r)
	if aerr != nil {
		writeErr(w, aerr)
		return
	}
	m := metadata(obj)
	s.mu.Lock()
	defer s.mu.Unlock()
	name, _ := m["name"].(string)
	if name == "" {
		gen, _ := m["generateName"].(string)
		if gen == "" {
			writeErr(w, meta.NewInvalid(t.group, t.resource, "", []meta.StatusCause{{Field: "metadata.name", Message: "name or generateName is required"}}))
			return
		}
		s.uid++
		name = fmt.Sprintf("%s%05d", gen, s.uid)
		m["name"] = name
	}
	t.name = name
	if t.ns != "" {
		m["namespace"] = t.ns
	}
	if _, ok := s.objects[t.key()]; ok {
		writeErr(w, meta.NewAlreadyExists(t.group, t.resource, name))
		return
	}
	s.uid++
	m["uid"] = fmt.Sprintf("uid-%d", s.uid)
	if r.URL.Query().Get("dryRun") == "All" {
		writeJSON(w, http.StatusCreated, obj)
		return
	}
	s.recordLocked(t, meta.Added, obj)
	writeJSON(w, http.StatusCreated, obj)
}

func (s *Server) update(w http.ResponseWriter, r *http.Request, t target) {
	obj, aerr := readObject(r)
	if aerr != nil {
		writeErr(w, aerr)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.objects[t.key()]
	if !ok {
		writeErr(w, meta.NewNotFound(t.group, t.resource, t.name))
		return
	}
	if rv, _ := metadata(obj)["resourceVersion"].(string); rv != "" && rv != strconv.FormatInt(cur.rv, 10) {
		writeErr(w, meta.NewConflict(t.group, t.resource, t.name, "the object has been modified; please apply your changes to the latest version and try again"))
		return
	}
	next := maps.Clone(cur.obj)
	if t.sub == "status" {
		next["status"] = obj["status"]
	} else {
		next = obj
		m := metadata(next)
		m["uid"] = metadata(cur.obj)["uid"]
		m["name"], m["namespace"] = t.name, t.ns
		if t.ns == "" {
			delete(m, "namespace")
		}
	}
	s.recordLocked(t, meta.Modified, next)
	writeJSON(w, http.StatusOK, next)
}

func (s *Server) patch(w http.ResponseWriter, r *http.Request, t target) {
	if ct := r.Header.Get("Content-Type"); ct != "application/merge-patch+json" {
		writeErr(w, meta.NewStatusError(http.StatusUnsupportedMediaType, meta.StatusReasonUnsupportedMediaType, "the fake apiserver only supports merge patches, not "+ct))
		return
	}
	p, aerr := readObject(r)
	if aerr != nil {
		writeErr(w, aerr)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.objects[t.key()]
	if !ok {
		writeErr(w, meta.NewNotFound(t.group, t.resource, t.name))
		return
	}
	raw, _ := json.Marshal(cur.obj)
	var next map[string]any
	_ = json.Unmarshal(raw, &next) // deep copy
	mergePatch(next, p)
	s.recordLocked(t, meta.Modified, next)
	writeJSON(w, http.StatusOK, next)
}

// mergePatch applies an RFC 7386 JSON merge patch.
func mergePatch(dst, patch map[string]any) {
	for k, v := range patch {
		if v == nil {
			delete(dst, k)
			continue
		}
		pm, ok := v.(map[string]any)
		dm, ok2 := dst[k].(map[string]any)
		if ok && ok2 {
			mergePatch(dm, pm)
			continue
		}
		if ok {
			dm = map[string]any{}
			mergePatch(dm, pm)
			dst[k] = dm
			continue
		}
		dst[k] = v
	}
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request, t target) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.objects[t.key()]
	if !ok {
		writeErr(w, meta.NewNotFound(t.group, t.resource, t.name))
		return
	}
	if r.URL.Query().Get("dryRun") == "All" {
		writeJSON(w, http.StatusOK, cur.obj)
		return
	}
	obj := maps.Clone(cur.obj)
	obj["metadata"] = maps.Clone(metadata(cur.obj))
	s.recordLocked(t, meta.Deleted, obj)
	writeJSON(w, http.StatusOK, obj)
}

func (s *Server) deleteCollection(w http.ResponseWriter, r *http.Request, t target) {
	sel, err := meta.ParseSelector(r.URL.Query().Get("labelSelector"))
	if err != nil {
		writeErr(w, meta.NewBadRequest(err.Error()))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	prefix := t.prefix()
	if t.ns != "" {
		prefix += t.ns + "/"
	}
	for _, k := range slices.Sorted(maps.Keys(s.objects)) {
		o := s.objects[k]
		if !strings.HasPrefix(k, prefix) || !sel.Matches(labelsOf(o.obj)) {
			continue
		}
		m := metadata(o.obj)
		tt := t
		tt.name, _ = m["name"].(string)
		tt.ns, _ = m["namespace"].(string)
		s.recordLocked(tt, meta.Deleted, maps.Clone(o.obj))
	}
	writeJSON(w, http.StatusOK, meta.Status{TypeMeta: meta.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: meta.StatusSuccess})
}

func (s *Server) watch(w http.ResponseWriter, r *http.Request, t target) {
	q := r.URL.Query()
	sel, err := meta.ParseSelector(q.Get("labelSelector"))
	if err != nil {
		writeErr(w, meta.NewBadRequest(err.Error()))
		return
	}
	bookmarks := q.Get("allowWatchBookmarks") == "true"

	s.mu.Lock()
	hold := s.hold
	s.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		}
	}

	s.mu.Lock()
	from := s.rv
	if v := q.Get("resourceVersion"); v != "" {
		from, _ = strconv.ParseInt(v, 10, 64)
	}
	if from < s.compacted {
		s.mu.Unlock()
		gone := meta.NewGone(fmt.Sprintf("too old resource version: %d (%d)", from, s.compacted))
		if !s.GoneAsEvent {
			writeErr(w, gone)
			return
		}
		w.WriteHeader(http.StatusOK)
		_ = json.NewEncoder(w).Encode(map[string]any{"type": meta.Error, "object": gone.Status})
		return
	}
	// Entries up to from have been seen by the client.
	last := s.compSeq
	for _, e := range s.log {
		if e.rv <= from {
			last = e.seq
		}
	}
	s.watches++
	drop := s.drop
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.watches--
		s.mu.Unlock()
	}()

	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	flusher := w.(http.Flusher)
	flusher.Flush()
	enc := json.NewEncoder(w)
	for {
		s.mu.Lock()
		if last < s.compSeq {
			s.mu.Unlock()
			_ = enc.Encode(map[string]any{"type": meta.Error, "object": meta.NewGone("too old resource version").Status})
			return
		}
		var batch []event
		for _, e := range s.log {
			if e.seq <= last || e.prefix != t.prefix() {
				continue
			}
			if e.bookmark && !bookmarks {
				continue
			}
			if !e.bookmark && ((t.ns != "" && e.ns != t.ns) || !sel.Matches(e.labels)) {
				continue
			}
			batch = append(batch, e)
		}
		last = s.seq
		changed := s.changed
		s.mu.Unlock()
		for _, e := range batch {
			obj := json.RawMessage(e.obj)
			if e.bookmark {
				obj, _ = json.Marshal(map[string]any{"metadata": map[string]any{"resourceVersion": strconv.FormatInt(e.rv, 10)}})
			}
			if err := enc.Encode(map[string]any{"type": e.typ, "object": obj}); err != nil {
				return
			}
		}
		flusher.Flush()
		select {
		case <-changed:
		case <-drop:
			return
		case <-r.Context().Done():
			return
		}
	}
}
