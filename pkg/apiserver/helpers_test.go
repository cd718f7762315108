package apiserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

// testServer is an apiserver on a loopback port for one test (or one
// fuzzing process). Tests of other packages use apiservertest, which this
// package's own tests cannot import.
type testServer struct {
	t   testing.TB
	srv *Server
	url string
}

func startServer(t testing.TB, mutate ...func(*Config)) *testServer {
	t.Helper()
	cfg := Config{
		ListenAddress: "127.0.0.1:0", Insecure: true, Storage: "memory",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, m := range mutate {
		m(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatalf("new apiserver: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("apiserver run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("apiserver did not stop within 10s")
		}
	})
	select {
	case <-srv.Ready():
	case err := <-done:
		t.Fatalf("apiserver stopped: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatalf("apiserver not ready after 10s")
	}
	return &testServer{t: t, srv: srv, url: srv.URL()}
}

// response is a decoded HTTP answer.
type response struct {
	code   int
	body   []byte
	obj    map[string]any
	header http.Header
}

func (r response) str(path ...string) string {
	v := dig(r.obj, path...)
	s, _ := v.(string)
	return s
}

func dig(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func (ts *testServer) do(method, path, contentType string, body any) response {
	ts.t.Helper()
	return ts.doWithHeader(method, path, contentType, body)
}

func (ts *testServer) doWithHeader(method, path, contentType string, body any) response {
	ts.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			ts.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, ts.url+path, rd)
	if err != nil {
		ts.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		ts.t.Fatal(err)
	}
	out := response{code: resp.StatusCode, body: data, header: resp.Header}
	_ = json.Unmarshal(data, &out.obj)
	return out
}

func (ts *testServer) get(path string) response { return ts.do("GET", path, "", nil) }

func (ts *testServer) post(path string, body any) response {
	return ts.do("POST", path, "application/json", body)
}

func (ts *testServer) put(path string, body any) response {
	return ts.do("PUT", path, "application/json", body)
}

func (ts *testServer) del(path string) response { return ts.do("DELETE", path, "", nil) }

// must fails the test unless the response has the code.
func (r response) must(t testing.TB, code int) response {
	t.Helper()
	if r.code != code {
		t.Fatalf("got HTTP %d, want %d: %s", r.code, code, r.body)
	}
	return r
}

// watchStream reads watch events from a streaming response.
type watchStream struct {
	resp   *http.Response
	events chan map[string]any
	cancel context.CancelFunc
}

func (ts *testServer) watch(path string) *watchStream {
	ts.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.url+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		ts.t.Fatalf("watch %s: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		ts.t.Fatalf("watch %s: HTTP %d: %s", path, resp.StatusCode, data)
	}
	ws := &watchStream{resp: resp, events: make(chan map[string]any, 1000), cancel: cancel}
	go func() {
		defer close(ws.events)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			var ev map[string]any
			if json.Unmarshal(sc.Bytes(), &ev) == nil {
				ws.events <- ev
			}
		}
	}()
	ts.t.Cleanup(ws.stop)
	return ws
}

func (ws *watchStream) stop() {
	ws.cancel()
	ws.resp.Body.Close()
}

// next returns the next event or fails after the timeout.
func (ws *watchStream) next(t *testing.T) map[string]any {
	t.Helper()
	select {
	case ev, ok := <-ws.events:
		if !ok {
			t.Fatalf("watch ended")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatalf("no watch event within 5s")
	}
	return nil
}

// none asserts no event arrives within d.
func (ws *watchStream) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case ev, ok := <-ws.events:
		if ok {
			t.Fatalf("unexpected watch event: %v", ev)
		}
	case <-time.After(d):
	}
}

func eventName(ev map[string]any) (string, string) {
	typ, _ := ev["type"].(string)
	name, _ := dig(ev, "object", "metadata", "name").(string)
	return typ, name
}
