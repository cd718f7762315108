package apiserver

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeKubelet is a kubelet server that records what the apiserver asks
// and answers as the real one would.
type fakeKubelet struct {
	srv *httptest.Server

	mu       sync.Mutex
	requests []string // METHOD PATH?QUERY [body]

	// release lets a followed log send its second line.
	release chan struct{}
}

func startFakeKubelet(t *testing.T) *fakeKubelet {
	t.Helper()
	fk := &fakeKubelet{release: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /containerLogs/{ns}/{pod}/{c}", func(w http.ResponseWriter, r *http.Request) {
		fk.record(r, "")
		if r.PathValue("c") == "waiting" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"container \"waiting\" in pod \"web\" is waiting to start: ContainerCreating","reason":"BadRequest","code":400}`)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "log of %s/%s/%s\n", r.PathValue("ns"), r.PathValue("pod"), r.PathValue("c"))
		if r.URL.Query().Get("follow") == "true" {
			w.(http.Flusher).Flush()
			select {
			case <-fk.release:
			case <-r.Context().Done():
				return
			}
			fmt.Fprintln(w, "second line")
		}
	})
	mux.HandleFunc("POST /exec/{ns}/{pod}/{c}", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fk.record(r, string(body))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"stdout":%q,"stderr":"","exitCode":3}`+"\n", strings.Join(r.URL.Query()["command"], " ")+"|"+string(body))
	})
	fk.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		fk.srv.CloseClientConnections()
		fk.srv.Close()
	})
	return fk
}

func (fk *fakeKubelet) record(r *http.Request, body string) {
	fk.mu.Lock()
	defer fk.mu.Unlock()
	s := r.Method + " " + r.URL.RequestURI()
	if body != "" {
		s += " " + body
	}
	fk.requests = append(fk.requests, s)
}

func (fk *fakeKubelet) last() string {
	fk.mu.Lock()
	defer fk.mu.Unlock()
	if len(fk.requests) == 0 {
		return ""
	}
	return fk.requests[len(fk.requests)-1]
}

func (fk *fakeKubelet) port() int { return fk.srv.Listener.Addr().(*net.TCPAddr).Port }

// node registers a node whose kubelet listens on 127.0.0.1:port (no
// endpoint when port is 0).
func (ts *testServer) node(name string, port int) {
	ts.t.Helper()
	ts.post("/api/v1/nodes", map[string]any{"metadata": map[string]any{"name": name}}).must(ts.t, http.StatusCreated)
	status := map[string]any{
		"addresses": []any{map[string]any{"type": "InternalIP", "address": "127.0.0.1"}},
	}
	if port > 0 {
		status["daemonEndpoints"] = map[string]any{"kubeletEndpoint": map[string]any{"Port": port}}
	}
	ts.do("PATCH", "/api/v1/nodes/"+name+"/status", "application/merge-patch+json", map[string]any{"status": status}).must(ts.t, http.StatusOK)
}

// pod creates a pod in default bound to node ("" leaves it unbound).
func (ts *testServer) pod(name, node string, containers ...string) {
	ts.t.Helper()
	var cs []any
	for _, c := range containers {
		cs = append(cs, map[string]any{"name": c, "image": "nginx"})
	}
	spec := map[string]any{"containers": cs}
	if node != "" {
		spec["nodeName"] = node
	}
	ts.post("/api/v1/namespaces/default/pods", map[string]any{"metadata": map[string]any{"name": name}, "spec": spec}).must(ts.t, http.StatusCreated)
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

func TestKubeletProxy_LogsAndExecReachThePodsKubelet(t *testing.T) {
	fk := startFakeKubelet(t)
	ts := startServer(t)
	ts.node("n1", fk.port())
	ts.node("dead", closedPort(t))
	ts.node("noport", 0)
	ts.pod("web", "n1", "a", "b")
	ts.pod("solo", "n1", "app")
	ts.pod("pending", "", "app")
	ts.pod("lost", "gone", "app")
	ts.pod("unreachable", "dead", "app")
	ts.pod("silent", "noport", "app")
	ts.pod("starting", "n1", "waiting")

	const pods = "/api/v1/namespaces/default/pods/"
	tests := []struct {
		name, method, path string
		body               string
		wantCode           int
		wantBody           string // substring of the answer
		wantUpstream       string // the kubelet request, "" when none
	}{
		{name: "only container by default", method: "GET", path: pods + "solo/log",
			wantCode: 200, wantBody: "log of default/solo/app\n", wantUpstream: "GET /containerLogs/default/solo/app"},
		{name: "log options pass through", method: "GET", path: pods + "web/log?container=b&tailLines=5&timestamps=true&previous=true&sinceSeconds=60&limitBytes=100",
			wantCode: 200, wantBody: "log of default/web/b", wantUpstream: "GET /containerLogs/default/web/b?limitBytes=100&previous=true&sinceSeconds=60&tailLines=5&timestamps=true"},
		{name: "several containers need a name", method: "GET", path: pods + "web/log",
			wantCode: 400, wantBody: "a container name must be specified for pod web, choose one of: [a b]"},
		{name: "unknown container", method: "GET", path: pods + "web/log?container=c",
			wantCode: 400, wantBody: "container c is not valid for pod web"},
		{name: "negative tail", method: "GET", path: pods + "solo/log?tailLines=-1",
			wantCode: 422, wantBody: `PodLogOptions \"solo\" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0`},
		{name: "no such pod", method: "GET", path: pods + "nope/log",
			wantCode: 404, wantBody: `pods \"nope\" not found`},
		{name: "pod not scheduled", method: "GET", path: pods + "pending/log",
			wantCode: 400, wantBody: "pod pending does not have a host assigned"},
		{name: "node gone", method: "GET", path: pods + "lost/log",
			wantCode: 503, wantBody: `node \"gone\" of the pod does not exist`},
		{name: "node without kubelet endpoint", method: "GET", path: pods + "silent/log",
			wantCode: 503, wantBody: `node \"noport\" does not report where its kubelet listens`},
		{name: "kubelet unreachable", method: "GET", path: pods + "unreachable/log",
			wantCode: 503, wantBody: `cannot reach the kubelet of node \"dead\" at 127.0.0.1:`},
		{name: "kubelet status passes through", method: "GET", path: pods + "starting/log",
			wantCode: 400, wantBody: `is waiting to start: ContainerCreating`, wantUpstream: "GET /containerLogs/default/starting/waiting"},
		{name: "exec", method: "POST", path: pods + "web/exec?container=a&command=ls&command=-l",
			wantCode: 200, wantBody: `"stdout":"ls -l|","stderr":"","exitCode":3`, wantUpstream: "POST /exec/default/web/a?command=ls&command=-l"},
		{name: "exec with stdin", method: "POST", path: pods + "solo/exec?command=cat&stdin=true", body: "hello",
			wantCode: 200, wantBody: `"stdout":"cat|hello"`, wantUpstream: "POST /exec/default/solo/app?command=cat&stdin=true hello"},
		{name: "exec without command", method: "POST", path: pods + "solo/exec",
			wantCode: 400, wantBody: "you must specify at least one command for the container"},
		{name: "exec with a terminal", method: "POST", path: pods + "solo/exec?command=sh&tty=true",
			wantCode: 400, wantBody: "tty is not supported"},
		{name: "exec is POST", method: "GET", path: pods + "solo/exec?command=ls",
			wantCode: 405, wantBody: "pods/exec supports only POST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := fk.last()
			var body any
			if tt.body != "" {
				body = tt.body
			}
			r := ts.do(tt.method, tt.path, "text/plain", body)
			if r.code != tt.wantCode || !strings.Contains(string(r.body), tt.wantBody) {
				t.Errorf("%s %s = %d %s\nwant %d with %q", tt.method, tt.path, r.code, r.body, tt.wantCode, tt.wantBody)
			}
			if r.code >= 400 && r.str("kind") != "Status" {
				t.Errorf("error answer is not a Status: %s", r.body)
			}
			got := fk.last()
			if got == before {
				got = ""
			}
			if got != tt.wantUpstream {
				t.Errorf("kubelet got %q, want %q", got, tt.wantUpstream)
			}
		})
	}
}

// A followed log reaches the client line by line: the apiserver flushes
// what the kubelet sends instead of buffering it.
func TestKubeletProxy_FollowedLogStreams(t *testing.T) {
	fk := startFakeKubelet(t)
	ts := startServer(t)
	ts.node("n1", fk.port())
	ts.pod("solo", "n1", "app")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.url+"/api/v1/namespaces/default/pods/solo/log?follow=true", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("HTTP %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	rd := bufio.NewReader(resp.Body)
	line, err := rd.ReadString('\n')
	if err != nil || line != "log of default/solo/app\n" {
		t.Fatalf("first line = %q, %v", line, err)
	}
	close(fk.release) // only now may the kubelet send more
	line, err = rd.ReadString('\n')
	if err != nil || line != "second line\n" {
		t.Fatalf("second line = %q, %v", line, err)
	}
	if rest, err := io.ReadAll(rd); err != nil || len(rest) != 0 {
		t.Errorf("after the stream: %q, %v", rest, err)
	}
}
