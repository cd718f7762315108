package apiserver

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/apiserver/cacher"
)

// serveResource handles every request under /api/v1 and /apis/{g}/{v}.
func (s *Server) serveResource(w http.ResponseWriter, req *http.Request, info requestInfo) error {
	r := s.resources.lookup(info.Group, info.Version, info.Resource)
	if r == nil {
		return meta.NewStatusError(http.StatusNotFound, meta.StatusReasonNotFound, "the server could not find the requested resource")
	}
	if info.Namespace != "" && !r.namespaced {
		return meta.NewStatusError(http.StatusNotFound, meta.StatusReasonNotFound, fmt.Sprintf("the server could not find the requested resource: %s is not namespaced", r.groupResource()))
	}
	if r.namespaced && info.Namespace == "" && info.Name != "" {
		return meta.NewStatusError(http.StatusNotFound, meta.StatusReasonNotFound, fmt.Sprintf("the server could not find the requested resource: %s is namespaced, use /namespaces/{namespace}/%s/%s", r.groupResource(), r.gvr.Resource, info.Name))
	}
	if info.Subresource != "" && !r.hasSubresource(info.Subresource) {
		return meta.NewStatusError(http.StatusNotFound, meta.StatusReasonNotFound, fmt.Sprintf("the server could not find the requested resource: %s has no subresource %q", r.groupResource(), info.Subresource))
	}
	q := req.URL.Query()
	wo, err := writeOptionsFrom(q)
	if err != nil {
		return err
	}
	wo.manager = managerName(q, req.UserAgent())
	ctx := req.Context()
	switch info.Subresource {
	case "scale":
		return s.serveScale(w, req, r, info, wo)
	case "binding":
		if info.Verb != "create" {
			return meta.NewMethodNotAllowed("pods/binding supports only POST")
		}
		return s.serveBinding(w, req, r, info, wo)
	case "finalize":
		if info.Verb != "update" {
			return meta.NewMethodNotAllowed("namespaces/finalize supports only PUT")
		}
	case "log", "exec":
		return s.serveKubeletProxy(w, req, r, info)
	}
	switch info.Verb {
	case "get":
		tc, err := s.tableConverterFor(req, r)
		if err != nil {
			return err
		}
		obj, _, err := s.getObject(ctx, r, info.Namespace, info.Name)
		if err != nil {
			return err
		}
		if tc != nil { // server-side printing (table.go)
			return tc.writeObject(w, obj)
		}
		return writeObject(w, http.StatusOK, obj)
	case "list":
		if info.Subresource != "" {
			return meta.NewMethodNotAllowed("subresources cannot be listed")
		}
		return s.serveList(w, req, r, info.Namespace)
	case "watch":
		return s.serveWatch(w, req, r, info.Namespace)
	case "create":
		if info.Name != "" {
			return meta.NewMethodNotAllowed(fmt.Sprintf("POST is not supported on a named %s; use PUT to update", r.singular))
		}
		if r.namespaced && info.Namespace == "" {
			return meta.NewStatusError(http.StatusNotFound, meta.StatusReasonNotFound, fmt.Sprintf("the server could not find the requested resource: create %s in a namespace (/namespaces/{namespace}/%s)", r.gvr.Resource, r.gvr.Resource))
		}
		body, err := s.readBody(w, req)
		if err != nil {
			return err
		}
		obj, err := s.decodeObject(r, req, body)
		if err != nil {
			return err
		}
		created, err := s.createObject(ctx, r, info.Namespace, obj, wo)
		if err != nil {
			return err
		}
		return writeObject(w, http.StatusCreated, created)
	case "update":
		body, err := s.readBody(w, req)
		if err != nil {
			return err
		}
		obj, err := s.decodeObject(r, req, body)
		if err != nil {
			return err
		}
		want := obj.GetObjectMeta().ResourceVersion
		if _, err := parseRV(want); err != nil {
			return err
		}
		sub := info.Subresource
		out, _, err := s.guaranteedUpdate(ctx, r, info.Namespace, info.Name, sub, wo, func(cur meta.Object) (meta.Object, error) {
			if want != "" && want != cur.GetObjectMeta().ResourceVersion {
				return nil, meta.NewConflict(r.gvr.Group, r.gvr.Resource, info.Name, errModified)
			}
			if sub == "finalize" {
				copyField(cur, obj, "Spec")
				return cur, nil
			}
			return obj, nil
		})
		if err != nil {
			return err
		}
		return writeObject(w, http.StatusOK, out)
	case "patch":
		if mediaTypeOf(req.Header.Get("Content-Type")) == mediaApplyPatch {
			return s.serveApply(w, req, r, info, wo)
		}
		body, err := s.readBody(w, req)
		if err != nil {
			return err
		}
		out, err := s.patchObject(ctx, r, info, req.Header.Get("Content-Type"), body, wo)
		if err != nil {
			return err
		}
		return writeObject(w, http.StatusOK, out)
	case "delete":
		opts, err := deleteOptionsFrom(w, req, s)
		if err != nil {
			return err
		}
		if opts.DryRun != nil {
			wo.dryRun = wo.dryRun || len(opts.DryRun) > 0
		}
		obj, gone, err := s.deleteObject(ctx, r, info.Namespace, info.Name, opts, wo)
		if err != nil {
			return err
		}
		code := http.StatusOK
		if !gone && len(obj.GetObjectMeta().Finalizers) > 0 {
			code = http.StatusAccepted
		}
		return writeObject(w, code, obj)
	case "deletecollection":
		return s.serveDeleteCollection(w, req, r, info.Namespace, wo)
	}
	return meta.NewMethodNotAllowed(fmt.Sprintf("%s is not supported", info.Verb))
}

func writeOptionsFrom(q map[string][]string) (writeOptions, error) {
	var wo writeOptions
	for _, d := range q["dryRun"] {
		if d != "All" {
			return wo, meta.NewBadRequest(fmt.Sprintf("invalid dryRun value %q: only \"All\" is supported", d))
		}
		wo.dryRun = true
	}
	if fm := q["fieldManager"]; len(fm) > 0 {
		wo.fieldManager = fm[0]
	}
	return wo, nil
}

// readBody reads a request body, refusing bodies over the limit with 413.
func (s *Server) readBody(w http.ResponseWriter, req *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, s.cfg.MaxRequestBodyBytes))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, meta.NewStatusError(http.StatusRequestEntityTooLarge, meta.StatusReasonRequestEntityTooLarge,
			fmt.Sprintf("the request body is too large: limit is %d bytes", s.cfg.MaxRequestBodyBytes))
	}
	if err != nil {
		return nil, meta.NewBadRequest(fmt.Sprintf("reading the request body: %v", err))
	}
	return body, nil
}

// mediaType returns the request's media type without parameters.
func mediaType(req *http.Request) string {
	ct := req.Header.Get("Content-Type")
	if ct == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return ct
	}
	return mt
}

// toJSON converts a create/update body to JSON according to its media type.
func toJSON(req *http.Request, body []byte) ([]byte, error) {
	switch mt := mediaType(req); mt {
	case "", "application/json", "*/*":
		return body, nil
	case "application/yaml", "application/x-yaml", "text/yaml":
		j, err := yaml.YAMLToJSON(body)
		if err != nil {
			return nil, meta.NewBadRequest(fmt.Sprintf("the body is not valid YAML: %v", err))
		}
		return j, nil
	default:
		return nil, meta.NewStatusError(http.StatusUnsupportedMediaType, meta.StatusReasonUnsupportedMediaType,
			fmt.Sprintf("the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got %q)", mt))
	}
}

// decodeObject decodes and schema-validates a full object of resource r.
func (s *Server) decodeObject(r *resource, req *http.Request, body []byte) (meta.Object, error) {
	body, err := toJSON(req, body)
	if err != nil {
		return nil, err
	}
	return s.decodeJSONObject(r, body)
}

// decodeJSONObject checks that body is a JSON object of r's kind, validates
// it against the kind's schema (unknown fields, wrong types) and decodes it.
func (s *Server) decodeJSONObject(r *resource, body []byte) (meta.Object, error) {
	var generic any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		return nil, meta.NewBadRequest(fmt.Sprintf("the body is not valid JSON: %s", jsonErrorDetail(body, err)))
	}
	if dec.More() {
		return nil, meta.NewBadRequest("the body has trailing data after the JSON object")
	}
	m, ok := generic.(map[string]any)
	if !ok {
		return nil, meta.NewBadRequest(fmt.Sprintf("the body must be a JSON object of kind %s", r.kind))
	}
	kind, _ := m["kind"].(string)
	apiVersion, _ := m["apiVersion"].(string)
	if kind != "" && kind != r.kind {
		return nil, meta.NewBadRequest(fmt.Sprintf("the kind of the object (%s) does not match the resource %s (kind %s)", kind, r.groupResource(), r.kind))
	}
	if apiVersion != "" && apiVersion != r.apiVersion() {
		return nil, meta.NewBadRequest(fmt.Sprintf("the apiVersion of the object (%s) does not match the request (%s)", apiVersion, r.apiVersion()))
	}
	m["kind"], m["apiVersion"] = r.kind, r.apiVersion()
	name := ""
	if md, ok := m["metadata"].(map[string]any); ok {
		name, _ = md["name"].(string)
		// kubectl and client-go send creationTimestamp: null; it is server-owned.
		if md["creationTimestamp"] == nil {
			delete(md, "creationTimestamp")
		}
	}
	if errs := s.validator.ValidateSchema(m); len(errs) > 0 {
		return nil, invalid(r, name, errs)
	}
	obj := r.newObj()
	if err := s.validator.Decode(m, obj); err != nil {
		return nil, meta.NewBadRequest(fmt.Sprintf("decoding %s: %v", r.kind, err))
	}
	setTypeMeta(r, obj)
	return obj, nil
}

// jsonErrorDetail adds the line and column of a syntax error.
func jsonErrorDetail(body []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := 1, 1
		for _, b := range body[:min(int(se.Offset), len(body))] {
			if b == '\n' {
				line++
				col = 1
			} else {
				col++
			}
		}
		return fmt.Sprintf("line %d, column %d: %v", line, col, err)
	}
	return err.Error()
}

func writeObject(w http.ResponseWriter, code int, obj any) error {
	data, err := json.Marshal(obj)
	if err != nil {
		return meta.NewInternalError(err)
	}
	writeRaw(w, code, data)
	return nil
}

func writeRaw(w http.ResponseWriter, code int, data []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)+1))
	w.WriteHeader(code)
	_, _ = w.Write(data)
	_, _ = w.Write([]byte("\n"))
}

// writeError writes err as a Status (a 500 for errors that carry none).
func writeError(w http.ResponseWriter, err error) int {
	var ae *meta.APIError
	if !errors.As(err, &ae) {
		ae = meta.NewInternalError(err)
	}
	st := ae.Status
	st.Kind, st.APIVersion = "Status", "v1"
	st.Status = meta.StatusFailure
	if st.Code == 0 {
		st.Code = http.StatusInternalServerError
	}
	if st.Details != nil && st.Details.RetryAfterSeconds > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(st.Details.RetryAfterSeconds)))
	}
	data, _ := json.Marshal(st)
	writeRaw(w, int(st.Code), data)
	return int(st.Code)
}

// listParams are the query parameters of list and watch.
type listParams struct {
	labels        meta.Selector
	fields        meta.Selector
	limit         int64
	cont          string
	rv            string
	rvMatch       string
	bookmarks     bool
	initialEvents *bool
	timeout       time.Duration
}

func parseListParams(r *resource, q map[string][]string) (listParams, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	var p listParams
	var err error
	if p.labels, err = meta.ParseSelector(get("labelSelector")); err != nil {
		return p, meta.NewBadRequest(err.Error())
	}
	if p.fields, err = meta.ParseFieldSelector(get("fieldSelector")); err != nil {
		return p, meta.NewBadRequest(err.Error())
	}
	if err := r.checkFieldSelector(p.fields); err != nil {
		return p, err
	}
	if l := get("limit"); l != "" {
		if p.limit, err = strconv.ParseInt(l, 10, 64); err != nil || p.limit < 0 {
			return p, meta.NewBadRequest(fmt.Sprintf("invalid limit %q", l))
		}
	}
	p.cont = get("continue")
	p.rv = get("resourceVersion")
	p.rvMatch = get("resourceVersionMatch")
	p.bookmarks = get("allowWatchBookmarks") == "true"
	if v := get("sendInitialEvents"); v != "" {
		b := v == "true"
		p.initialEvents = &b
	}
	if t := get("timeoutSeconds"); t != "" {
		n, err := strconv.ParseInt(t, 10, 64)
		if err != nil || n < 0 {
			return p, meta.NewBadRequest(fmt.Sprintf("invalid timeoutSeconds %q", t))
		}
		p.timeout = time.Duration(n) * time.Second
	}
	return p, nil
}

// predicate matches cached objects against label and field selectors.
func (p listParams) predicate() cacher.Predicate {
	if p.labels.Empty() && p.fields.Empty() {
		return nil
	}
	return func(o *cacher.Object) bool {
		return p.labels.Matches(o.Labels) && p.fields.MatchesFunc(o.Fields.Get)
	}
}

// continueToken is the opaque continue value of a paginated list.
type continueToken struct {
	RV    int64  `json:"rv"`
	Start string `json:"start"`
}

func encodeContinue(t continueToken) string {
	b, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeContinue(s string) (continueToken, error) {
	var t continueToken
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &t)
	}
	if err != nil {
		return t, meta.NewBadRequest(fmt.Sprintf("invalid continue token %q", s))
	}
	return t, nil
}

// freshness waits until the cache can answer a read with the given
// resourceVersion semantics: "" is a consistent read (as fresh as the store),
// "0" is any, N is "not older than N".
func (s *Server) freshness(ctx context.Context, rv string) error {
	var want int64
	switch rv {
	case "0":
		want = 0
	case "":
		cur, err := s.store.CurrentRevision(ctx)
		if err != nil {
			return meta.NewInternalError(err)
		}
		want = cur
	default:
		n, err := parseRV(rv)
		if err != nil {
			return err
		}
		want = n
	}
	wctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := s.cache.WaitFresh(wctx, want); err != nil {
		if ctx.Err() == nil && rv != "" {
			return tooLargeRV(rv)
		}
		return meta.NewStatusError(http.StatusServiceUnavailable, meta.StatusReasonServiceUnavailable, err.Error())
	}
	return nil
}

func tooLargeRV(rv string) error {
	e := meta.NewStatusError(http.StatusGatewayTimeout, meta.StatusReasonTimeout,
		fmt.Sprintf("Too large resource version: %s", rv))
	e.Status.Details = &meta.StatusDetails{Causes: []meta.StatusCause{{Type: "ResourceVersionTooLarge", Message: "Too large resource version"}}, RetryAfterSeconds: 1}
	return e
}

// serveList answers a LIST from the watch cache.
func (s *Server) serveList(w http.ResponseWriter, req *http.Request, r *resource, ns string) error {
	p, err := parseListParams(r, req.URL.Query())
	if err != nil {
		return err
	}
	tc, err := s.tableConverterFor(req, r)
	if err != nil {
		return err
	}
	start := ""
	if p.cont != "" {
		t, err := decodeContinue(p.cont)
		if err != nil {
			return err
		}
		start = t.Start
	} else if err := s.freshness(req.Context(), p.rv); err != nil {
		return err
	}
	res, err := s.cache.List(r.keyPrefix(), r.within(ns), start, p.limit, p.predicate())
	if err != nil {
		return meta.NewStatusError(http.StatusServiceUnavailable, meta.StatusReasonServiceUnavailable, err.Error())
	}
	if tc != nil { // server-side printing (table.go)
		lm := meta.ListMeta{ResourceVersion: strconv.FormatInt(res.Revision, 10)}
		if res.Next != "" {
			lm.Continue = encodeContinue(continueToken{RV: res.Revision, Start: res.Next})
			lm.RemainingItemCount = &res.Remaining
		}
		return tc.writeList(w, lm, res.Items)
	}
	var buf bytes.Buffer
	size := 128
	for _, o := range res.Items {
		size += len(o.Data) + 1
	}
	buf.Grow(size)
	fmt.Fprintf(&buf, `{"kind":%q,"apiVersion":%q,"metadata":{"resourceVersion":"%d"`, r.listKind, r.apiVersion(), res.Revision)
	if res.Next != "" {
		fmt.Fprintf(&buf, `,"continue":%q,"remainingItemCount":%d`, encodeContinue(continueToken{RV: res.Revision, Start: res.Next}), res.Remaining)
	}
	buf.WriteString(`},"items":[`)
	for i, o := range res.Items {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(o.Data)
	}
	buf.WriteString("]}")
	writeRaw(w, http.StatusOK, buf.Bytes())
	return nil
}

// serveDeleteCollection deletes every matching object, one by one, with
// each object's own deletion semantics.
func (s *Server) serveDeleteCollection(w http.ResponseWriter, req *http.Request, r *resource, ns string, wo writeOptions) error {
	p, err := parseListParams(r, req.URL.Query())
	if err != nil {
		return err
	}
	opts, err := deleteOptionsFrom(w, req, s)
	if err != nil {
		return err
	}
	if err := s.freshness(req.Context(), ""); err != nil {
		return err
	}
	res, err := s.cache.List(r.keyPrefix(), r.within(ns), "", 0, p.predicate())
	if err != nil {
		return meta.NewInternalError(err)
	}
	var items []json.RawMessage
	for _, o := range res.Items {
		obj, _, err := s.deleteObject(req.Context(), r, o.Namespace, o.Name, opts, wo)
		if meta.IsNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		data, err := json.Marshal(obj)
		if err != nil {
			return meta.NewInternalError(err)
		}
		items = append(items, data)
	}
	if items == nil {
		items = []json.RawMessage{}
	}
	return writeObject(w, http.StatusOK, map[string]any{
		"kind": r.listKind, "apiVersion": r.apiVersion(),
		"metadata": map[string]any{"resourceVersion": strconv.FormatInt(res.Revision, 10)},
		"items":    items,
	})
}

// deleteOptionsFrom reads DeleteOptions from the body (optional) and the
// query parameters (which win, as in Kubernetes).
func deleteOptionsFrom(w http.ResponseWriter, req *http.Request, s *Server) (*meta.DeleteOptions, error) {
	opts := &meta.DeleteOptions{}
	body, err := s.readBody(w, req)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(body)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(opts); err != nil {
			return nil, meta.NewBadRequest(fmt.Sprintf("invalid DeleteOptions: %v", err))
		}
	}
	q := req.URL.Query()
	if g := q.Get("gracePeriodSeconds"); g != "" {
		n, err := strconv.ParseInt(g, 10, 64)
		if err != nil {
			return nil, meta.NewBadRequest(fmt.Sprintf("invalid gracePeriodSeconds %q", g))
		}
		opts.GracePeriodSeconds = &n
	}
	if p := q.Get("propagationPolicy"); p != "" {
		pp := meta.DeletionPropagation(p)
		opts.PropagationPolicy = &pp
	}
	if o := q.Get("orphanDependents"); o != "" {
		b := o == "true"
		opts.OrphanDependents = &b
	}
	for _, d := range opts.DryRun {
		if d != "All" {
			return nil, meta.NewBadRequest(fmt.Sprintf("invalid dryRun value %q: only \"All\" is supported", d))
		}
	}
	return opts, nil
}
