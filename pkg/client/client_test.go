package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/client/internal/fakeapi"
)

// Widget is a tiny kind for the tests (the real kinds live elsewhere).
type Widget struct {
	meta.TypeMeta   `json:",inline"`
	meta.ObjectMeta `json:"metadata,omitempty"`
	Spec            WidgetSpec   `json:"spec,omitempty"`
	Status          WidgetStatus `json:"status,omitempty"`
}

type WidgetSpec struct {
	Size int    `json:"size,omitempty"`
	Note string `json:"note,omitempty"`
}

type WidgetStatus struct {
	Ready bool `json:"ready,omitempty"`
}

var widgetsGVR = meta.GroupVersionResource{Group: "example.kl.dev", Version: "v1", Resource: "widgets"}

func newClient(t *testing.T, servers ...string) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{Servers: servers, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func widgets(c *client.Client) *client.Resource[Widget, *Widget] {
	return client.NewResource[Widget](c, widgetsGVR, true)
}

func widget(ns, name string, size int) *Widget {
	return &Widget{ObjectMeta: meta.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"size": fmt.Sprint(size)}}, Spec: WidgetSpec{Size: size}}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestCRUDRoundTripsObjectsAndStatusErrors(t *testing.T) {
	srv := fakeapi.New(t)
	ctx := ctxT(t)
	ws := widgets(newClient(t, srv.URL)).Namespace("default")

	in := widget("", "w1", 1)
	created, err := ws.Create(ctx, in, client.CreateOptions{FieldManager: "test"})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if in.APIVersion != "" || in.Namespace != "" {
		t.Fatalf("Create modified its argument: %+v", in)
	}
	if created.Namespace != "default" || created.ResourceVersion == "" || created.UID == "" {
		t.Fatalf("created object lacks server fields: %+v", created.ObjectMeta)
	}
	if created.Kind != "Widget" || created.APIVersion != "example.kl.dev/v1" {
		t.Fatalf("created TypeMeta = %+v, want Widget example.kl.dev/v1", created.TypeMeta)
	}

	_, err = ws.Create(ctx, widget("", "w1", 1), client.CreateOptions{})
	if !meta.IsAlreadyExists(err) {
		t.Fatalf("second Create error = %v, want AlreadyExists", err)
	}

	got, err := ws.Get(ctx, "w1")
	if err != nil || got.Spec.Size != 1 {
		t.Fatalf("Get = %+v, %v", got, err)
	}

	got.Spec.Size = 2
	updated, err := ws.Update(ctx, got, client.UpdateOptions{})
	if err != nil || updated.Spec.Size != 2 || updated.ResourceVersion == got.ResourceVersion {
		t.Fatalf("Update = %+v, %v", updated, err)
	}

	// got still carries the old resourceVersion: a stale write conflicts.
	_, err = ws.Update(ctx, got, client.UpdateOptions{})
	if !meta.IsConflict(err) {
		t.Fatalf("stale Update error = %v, want Conflict", err)
	}
	var ae *meta.APIError
	if !errors.As(err, &ae) || ae.Status.Code != http.StatusConflict || ae.Status.Details == nil || ae.Status.Details.Name != "w1" {
		t.Fatalf("conflict error does not carry the server's Status: %#v", err)
	}

	updated.Status.Ready = true
	st, err := ws.UpdateStatus(ctx, updated, client.UpdateOptions{})
	if err != nil || !st.Status.Ready {
		t.Fatalf("UpdateStatus = %+v, %v", st, err)
	}

	patched, err := ws.Patch(ctx, "w1", client.MergePatchType, []byte(`{"spec":{"note":"hi"}}`), client.PatchOptions{})
	if err != nil || patched.Spec.Note != "hi" || patched.Spec.Size != 2 || !patched.Status.Ready {
		t.Fatalf("Patch = %+v, %v", patched, err)
	}

	if err := ws.Delete(ctx, "w1", meta.DeleteOptions{}); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err = ws.Get(ctx, "w1")
	if !meta.IsNotFound(err) {
		t.Fatalf("Get after Delete error = %v, want NotFound", err)
	}
	if !errors.As(err, &ae) || ae.Status.Code != http.StatusNotFound {
		t.Fatalf("NotFound error = %#v, want *meta.APIError with code 404", err)
	}
	if err := ws.Delete(ctx, "w1", meta.DeleteOptions{}); !meta.IsNotFound(err) {
		t.Fatalf("second Delete error = %v, want NotFound", err)
	}
}

func TestRequestsUseKubernetesPathsAndParameters(t *testing.T) {
	srv := fakeapi.New(t)
	ctx := ctxT(t)
	c := newClient(t, srv.URL)
	ws := widgets(c)
	nodes := client.NewResource[Widget](c, meta.GroupVersionResource{Version: "v1", Resource: "nodes"}, false)

	if _, err := ws.Create(ctx, widget("ns1", "a", 1), client.CreateOptions{DryRun: true, FieldManager: "kl"}); err != nil {
		t.Fatal(err)
	}
	if _, err := nodes.Create(ctx, widget("", "n1", 1), client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, _, _ = ws.List(ctx, client.ListOptions{LabelSelector: "size=1", Limit: 10})
	_, _ = nodes.Get(ctx, "n1")
	_, _ = ws.Namespace("ns1").Patch(ctx, "a", client.ApplyPatchType, []byte("{}"), client.PatchOptions{FieldManager: "kl", Force: meta.Boolp(true), Subresource: "status"})
	prop := meta.DeletePropagationForeground
	_ = ws.Namespace("ns1").Delete(ctx, "a", meta.DeleteOptions{GracePeriodSeconds: meta.Int64p(0), PropagationPolicy: &prop, DryRun: []string{"All"}})
	_ = ws.Namespace("ns1").CreateSubresource(ctx, "a", "binding", map[string]string{"target": "n1"}, nil, client.CreateOptions{})

	want := []string{
		"POST /apis/example.kl.dev/v1/namespaces/ns1/widgets?dryRun=All&fieldManager=kl",
		"POST /api/v1/nodes",
		"GET /apis/example.kl.dev/v1/widgets?labelSelector=size%3D1&limit=10",
		"GET /api/v1/nodes/n1",
		"PATCH /apis/example.kl.dev/v1/namespaces/ns1/widgets/a/status?fieldManager=kl&force=true",
		"DELETE /apis/example.kl.dev/v1/namespaces/ns1/widgets/a?dryRun=All&gracePeriodSeconds=0&propagationPolicy=Foreground",
		"POST /apis/example.kl.dev/v1/namespaces/ns1/widgets/a/binding",
	}
	got := srv.Requests()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestResourcePath(t *testing.T) {
	core := meta.GroupVersionResource{Version: "v1", Resource: "pods"}
	apps := meta.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	tests := []struct {
		gvr      meta.GroupVersionResource
		ns, name string
		sub      []string
		want     string
	}{
		{core, "", "", nil, "/api/v1/pods"},
		{core, "default", "", nil, "/api/v1/namespaces/default/pods"},
		{core, "default", "web-1", []string{"binding"}, "/api/v1/namespaces/default/pods/web-1/binding"},
		{apps, "prod", "web", []string{"scale"}, "/apis/apps/v1/namespaces/prod/deployments/web/scale"},
		{meta.GroupVersionResource{Version: "v1", Resource: "namespaces"}, "", "kube-system", nil, "/api/v1/namespaces/kube-system"},
		{meta.GroupVersionResource{Version: "v1", Resource: "nodes"}, "", "n1", []string{"status"}, "/api/v1/nodes/n1/status"},
	}
	for _, tt := range tests {
		if got := client.ResourcePath(tt.gvr, tt.ns, tt.name, tt.sub...); got != tt.want {
			t.Errorf("ResourcePath(%v, %q, %q, %v) = %q, want %q", tt.gvr, tt.ns, tt.name, tt.sub, got, tt.want)
		}
	}
}

func TestWritesCheckNamespace(t *testing.T) {
	srv := fakeapi.New(t)
	ctx := ctxT(t)
	ws := widgets(newClient(t, srv.URL))
	tests := []struct {
		name    string
		view    string
		obj     *Widget
		wantErr string
	}{
		{"no namespace anywhere", "", widget("", "a", 1), "a namespace is required"},
		{"mismatch", "ns1", widget("ns2", "a", 1), `does not match the request's "ns1"`},
		{"object namespace used", "", widget("ns2", "b", 1), ""},
		{"view namespace used", "ns1", widget("", "c", 1), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ws.Namespace(tt.view).Create(ctx, tt.obj, client.CreateOptions{})
			if tt.wantErr == "" && err != nil {
				t.Fatalf("Create: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Create error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
	if _, err := ws.Get(ctx, "a"); err == nil || !strings.Contains(err.Error(), "a namespace is required") {
		t.Fatalf("Get without namespace error = %v", err)
	}
}

func TestListAllFollowsContinueTokens(t *testing.T) {
	srv := fakeapi.New(t)
	ctx := ctxT(t)
	ws := widgets(newClient(t, srv.URL))
	for i := range 7 {
		if _, err := ws.Create(ctx, widget("ns", fmt.Sprintf("w%d", i), i%2), client.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	items, rv, err := ws.ListAll(ctx, client.ListOptions{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 7 || rv != fmt.Sprint(srv.RV()) {
		t.Fatalf("ListAll = %d items at rv %q, want 7 at %d", len(items), rv, srv.RV())
	}
	for i, it := range items {
		if it.Name != fmt.Sprintf("w%d", i) || it.Kind != "Widget" {
			t.Fatalf("item %d = %s %s", i, it.Kind, it.Name)
		}
	}
	lists := 0
	for _, r := range srv.Requests() {
		if strings.HasPrefix(r, "GET ") {
			lists++
		}
	}
	if lists != 3 {
		t.Fatalf("ListAll made %d requests for 7 items with limit 3, want 3", lists)
	}

	one, lm, err := ws.List(ctx, client.ListOptions{LabelSelector: "size=1"})
	if err != nil || len(one) != 3 || lm.Continue != "" {
		t.Fatalf("List by label = %d items, %+v, %v; want 3", len(one), lm, err)
	}
}

func TestDeleteCollection(t *testing.T) {
	srv := fakeapi.New(t)
	ctx := ctxT(t)
	ws := widgets(newClient(t, srv.URL)).Namespace("ns")
	for i := range 4 {
		if _, err := ws.Create(ctx, widget("", fmt.Sprintf("w%d", i), i%2), client.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := ws.DeleteCollection(ctx, meta.DeleteOptions{}, client.ListOptions{LabelSelector: "size=0"}); err != nil {
		t.Fatal(err)
	}
	items, _, err := ws.ListAll(ctx, client.ListOptions{})
	if err != nil || len(items) != 2 {
		t.Fatalf("after DeleteCollection: %d items, %v; want 2", len(items), err)
	}
}

func TestNonStatusErrorBodyBecomesAPIError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "upstream is down", http.StatusBadGateway)
	}))
	t.Cleanup(srv.Close)
	_, err := widgets(newClient(t, srv.URL)).Namespace("ns").Get(ctxT(t), "x")
	var ae *meta.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an APIError", err)
	}
	if ae.Status.Code != http.StatusBadGateway || ae.Status.Reason != meta.StatusReasonInternalError || !strings.Contains(ae.Error(), "upstream is down") {
		t.Fatalf("APIError = %+v", ae.Status)
	}
}

func TestDynamicClientRoundTripsRawJSON(t *testing.T) {
	srv := fakeapi.New(t)
	ctx := ctxT(t)
	d := newClient(t, srv.URL).Dynamic()
	body := []byte(`{"apiVersion":"example.kl.dev/v1","kind":"Widget","metadata":{"name":"raw"},"spec":{"size":3}}`)
	out, err := d.Create(ctx, widgetsGVR, "ns", body, client.CreateOptions{})
	if err != nil || !bytes.Contains(out, []byte(`"resourceVersion"`)) {
		t.Fatalf("Create = %s, %v", out, err)
	}
	got, err := d.Get(ctx, widgetsGVR, "ns", "raw")
	if err != nil || !bytes.Contains(got, []byte(`"size":3`)) {
		t.Fatalf("Get = %s, %v", got, err)
	}
	list, err := d.List(ctx, widgetsGVR, "", client.ListOptions{})
	if err != nil || !bytes.Contains(list, []byte(`"kind":"WidgetList"`)) {
		t.Fatalf("List = %s, %v", list, err)
	}
	if _, err := d.Patch(ctx, widgetsGVR, "ns", "raw", client.ApplyPatchType, body, client.PatchOptions{}); err == nil {
		t.Fatal("apply without a field manager was sent")
	}
	if _, err := d.Delete(ctx, widgetsGVR, "ns", "raw", meta.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Get(ctx, widgetsGVR, "ns", "raw"); !meta.IsNotFound(err) {
		t.Fatalf("Get after Delete error = %v, want NotFound", err)
	}
}

// logCounter counts log records whose message contains a string.
type logCounter struct {
	substr string
	n      atomic.Int32
}

func (l *logCounter) Enabled(context.Context, slog.Level) bool { return true }
func (l *logCounter) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, l.substr) {
		l.n.Add(1)
	}
	return nil
}
func (l *logCounter) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logCounter) WithGroup(string) slog.Handler      { return l }

func TestFailoverToNextServerAndRememberIt(t *testing.T) {
	srv := fakeapi.New(t)
	dead := deadAddress(t)
	failovers := &logCounter{substr: "unreachable"}
	c, err := client.New(client.Config{Servers: []string{dead, srv.URL}, Logger: slog.New(failovers)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	ws := widgets(c).Namespace("ns")
	// A create is retried too: the dial failed, so nothing was sent.
	if _, err := ws.Create(ctx, widget("", "w", 1), client.CreateOptions{}); err != nil {
		t.Fatalf("Create with the first server down: %v", err)
	}
	if c.Server() != srv.URL {
		t.Fatalf("Server() = %q, want the working %q", c.Server(), srv.URL)
	}
	for range 3 {
		if _, err := ws.Get(ctx, "w"); err != nil {
			t.Fatal(err)
		}
	}
	if n := failovers.n.Load(); n != 1 {
		t.Fatalf("failed over %d times, want once (the working server is remembered)", n)
	}
}

func TestRequestThatMayHaveBeenSentIsNotRetriedUnlessIdempotent(t *testing.T) {
	var brokenHits atomic.Int32
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		brokenHits.Add(1)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close() // the request arrived; the connection dies before a response
		}
	}))
	t.Cleanup(broken.Close)
	good := fakeapi.New(t)
	c := newClient(t, broken.URL, good.URL)
	ctx := ctxT(t)
	ws := widgets(c).Namespace("ns")

	_, err := ws.Create(ctx, widget("", "w", 1), client.CreateOptions{})
	if !client.IsUnreachable(err) {
		t.Fatalf("Create error = %v, want an UnreachableError", err)
	}
	if !strings.Contains(err.Error(), broken.URL) {
		t.Fatalf("error %q does not name the server", err)
	}
	if n := len(good.Requests()); n != 0 {
		t.Fatalf("a create that may have been processed was sent again to the next server (%d requests)", n)
	}

	if _, err := ws.Get(ctx, "w"); !meta.IsNotFound(err) {
		t.Fatalf("Get error = %v, want NotFound from the second server", err)
	}
	if c.Server() != good.URL {
		t.Fatalf("Server() = %q, want %q", c.Server(), good.URL)
	}
	if brokenHits.Load() == 0 {
		t.Fatal("the broken server was never tried")
	}
}

func TestUnreachableErrorNamesTheServers(t *testing.T) {
	a, b := deadAddress(t), deadAddress(t)
	ctx := ctxT(t)

	_, err := widgets(newClient(t, a)).Namespace("ns").Get(ctx, "x")
	if want := "cannot reach the kl apiserver at " + a + ": connection refused"; err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %q", err, want)
	}

	_, err = widgets(newClient(t, a, b)).Namespace("ns").Get(ctx, "x")
	if !client.IsUnreachable(err) || !strings.Contains(err.Error(), a+": connection refused") || !strings.Contains(err.Error(), b+": connection refused") {
		t.Fatalf("error = %v, want one naming both servers", err)
	}
}

func TestCancelledContextIsNotAFailover(t *testing.T) {
	srv := fakeapi.New(t)
	c := newClient(t, srv.URL)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := widgets(c).Namespace("ns").Get(ctx, "x")
	if !errors.Is(err, context.Canceled) || client.IsUnreachable(err) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
}

func TestNewValidatesServers(t *testing.T) {
	for _, servers := range [][]string{nil, {"127.0.0.1:6443"}, {"ftp://x"}, {"http://"}} {
		if _, err := client.New(client.Config{Servers: servers}); err == nil {
			t.Errorf("New(%q) succeeded", servers)
		}
	}
	c, err := client.New(client.Config{Servers: []string{"https://a:6443/", "http://b:8080"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Servers(); got[0] != "https://a:6443" || got[1] != "http://b:8080" {
		t.Fatalf("Servers() = %q", got)
	}
}

func TestListOptionsQuery(t *testing.T) {
	o := client.ListOptions{LabelSelector: "a=b", FieldSelector: "spec.nodeName=n1", Limit: 500, Continue: "tok", ResourceVersion: "7", TimeoutSeconds: meta.Int64p(30), AllowWatchBookmarks: true}
	want := url.Values{
		"labelSelector": {"a=b"}, "fieldSelector": {"spec.nodeName=n1"}, "limit": {"500"}, "continue": {"tok"},
		"resourceVersion": {"7"}, "timeoutSeconds": {"30"}, "allowWatchBookmarks": {"true"},
	}
	if got := o.Query().Encode(); got != want.Encode() {
		t.Fatalf("Query() = %s, want %s", got, want.Encode())
	}
	if got := (client.ListOptions{}).Query().Encode(); got != "" {
		t.Fatalf("empty options encode to %q", got)
	}
}

// httptestServer serves body to every request.
func httptestServer(t *testing.T, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestConcurrentCallersShareOneClient(t *testing.T) {
	srv := fakeapi.New(t)
	ctx := ctxT(t)
	ws := widgets(newClient(t, srv.URL)).Namespace("ns")
	if _, err := ws.Create(ctx, widget("", "w", 1), client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 64)
	for range 64 {
		go func() {
			var err error
			for range 2 {
				if _, err = ws.Get(ctx, "w"); err != nil {
					break
				}
			}
			errs <- err
		}()
	}
	for range 64 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestAttemptTimeoutFailsOverIdempotentRequests(t *testing.T) {
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers
	}))
	t.Cleanup(hung.Close)
	good := fakeapi.New(t)
	c, err := client.New(client.Config{Servers: []string{hung.URL, good.URL}, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := widgets(c).Namespace("ns").Get(ctxT(t), "x"); !meta.IsNotFound(err) {
		t.Fatalf("Get error = %v, want NotFound from the second server", err)
	}
}
