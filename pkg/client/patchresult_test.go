package client_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
)

func TestPatchWithResultReturnsTheApplyResultHeader(t *testing.T) {
	var gotQuery, gotType, gotBody string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotQuery, gotType = r.URL.RawQuery, r.Header.Get("Content-Type")
		b, _ := io.ReadAll(r.Body)
		gotBody = string(b)
		w.Header().Set(client.ApplyResultHeader, "created")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"kind":"Widget","metadata":{"name":"w"}}`)
	}))
	t.Cleanup(srv.Close)
	d := newClient(t, srv.URL).Dynamic()
	force := true
	res, err := d.PatchWithResult(ctxT(t), widgetsGVR, "default", "w", client.ApplyPatchType, []byte(`{"kind":"Widget"}`),
		client.PatchOptions{FieldManager: "kl", Force: &force, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.ApplyResult != "created" || res.StatusCode != http.StatusCreated || string(res.Object) != `{"kind":"Widget","metadata":{"name":"w"}}` {
		t.Errorf("result %+v (%s)", res, res.Object)
	}
	if gotQuery != "dryRun=All&fieldManager=kl&force=true" || gotType != string(client.ApplyPatchType) || gotBody != `{"kind":"Widget"}` {
		t.Errorf("request: query %q, content type %q, body %q", gotQuery, gotType, gotBody)
	}
}

func TestPatchWithResultErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusConflict)
		_, _ = io.WriteString(w, `{"kind":"Status","status":"Failure","reason":"Conflict","code":409,"message":"Apply failed with 1 conflict"}`)
	}))
	t.Cleanup(srv.Close)
	d := newClient(t, srv.URL).Dynamic()
	_, err := d.PatchWithResult(ctxT(t), widgetsGVR, "default", "w", client.ApplyPatchType, []byte(`{}`), client.PatchOptions{FieldManager: "kl"})
	if !meta.IsConflict(err) {
		t.Errorf("err = %v, want a Conflict", err)
	}
	if _, err := d.PatchWithResult(ctxT(t), widgetsGVR, "default", "w", client.ApplyPatchType, []byte(`{}`), client.PatchOptions{}); err == nil {
		t.Error("apply without a field manager: no error")
	}
	if _, err := d.PatchWithResult(ctxT(t), widgetsGVR, "default", "", client.MergePatchType, []byte(`{}`), client.PatchOptions{}); err == nil {
		t.Error("patch without a name: no error")
	}
}
