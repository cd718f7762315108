package apiserver

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestMadeUpPathsKeepMetricsBounded is the regression test of a crash
// FuzzServeHTTP found: a path naming a resource that is not valid UTF-8
// (/api/v1/%FF) made Prometheus panic while the request was counted, after
// the handler's recover, so the client got no answer. Made-up resources,
// subresources and methods are now counted under fixed label values, which
// also keeps a client from growing the metrics without bound.
func TestMadeUpPathsKeepMetricsBounded(t *testing.T) {
	ts := startServer(t)
	for _, tt := range []struct {
		method, path string
		code         int
	}{
		{"GET", "/api/v1/%FF", http.StatusNotFound},
		{"GET", "/apis/%FE/v1/%FF", http.StatusNotFound},
		{"GET", "/api/v1/made-up-resource", http.StatusNotFound},
		{"GET", "/api/v1/namespaces/default/configmaps/x/%FF", http.StatusNotFound},
		{"BREW", "/api/v1/namespaces", http.StatusMethodNotAllowed},
	} {
		r := ts.do(tt.method, tt.path, "", nil)
		if r.code != tt.code || r.str("kind") != "Status" {
			t.Errorf("%s %s: HTTP %d %s, want %d with a Status", tt.method, tt.path, r.code, r.body, tt.code)
		}
	}
	resp, err := http.Get(ts.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var lines []string
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, "apiserver_request_total{") {
			lines = append(lines, l)
		}
	}
	text := strings.Join(lines, "\n")
	for _, bad := range []string{"made-up-resource", `\xff`, "\ufffd", `verb="brew"`} {
		if strings.Contains(text, bad) {
			t.Errorf("request metrics carry a label from the path or method (%q):\n%s", bad, text)
		}
	}
	for _, want := range []string{`resource="unknown"`, `subresource="unknown"`, `verb="other"`} {
		if !strings.Contains(text, want) {
			t.Errorf("request metrics lack %s:\n%s", want, text)
		}
	}
}
