package apiserver

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/certs"
)

// tlsEnv is a TLS apiserver and clients with various identities.
type tlsEnv struct {
	t   *testing.T
	ts  *testServer
	dir string
	ca  *x509.CertPool
}

func startTLSServer(t *testing.T, mutate ...func(*Config)) *tlsEnv {
	t.Helper()
	dir := t.TempDir()
	if _, err := certs.Init(certs.InitOptions{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, append([]func(*Config){func(c *Config) {
		c.Insecure = false
		c.TLSCertFile = filepath.Join(dir, "apiserver.crt")
		c.TLSKeyFile = filepath.Join(dir, "apiserver.key")
		c.ClientCAFile = filepath.Join(dir, "ca.crt")
	}}, mutate...)...)
	pem, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &tlsEnv{t: t, ts: ts, dir: dir, ca: pool}
}

// client returns an HTTP client presenting the certificate of user in
// groups ("" user: no certificate).
func (e *tlsEnv) client(user string, groups ...string) *http.Client {
	e.t.Helper()
	cfg := &tls.Config{RootCAs: e.ca, MinVersion: tls.VersionTLS12}
	if user != "" {
		prefix := filepath.Join(e.t.TempDir(), "client")
		if err := certs.IssueFiles(e.dir, user, groups, prefix, time.Hour, time.Now()); err != nil {
			e.t.Fatal(err)
		}
		pair, err := tls.LoadX509KeyPair(prefix+".crt", prefix+".key")
		if err != nil {
			e.t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 10 * time.Second}
}

func (e *tlsEnv) do(c *http.Client, method, path string, body any) response {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			rd = strings.NewReader(s)
		} else {
			data, _ := json.Marshal(body)
			rd = bytes.NewReader(data)
		}
	}
	req, _ := http.NewRequest(method, e.ts.url+path, rd)
	ct := "application/json"
	if method == "PATCH" {
		ct = "application/merge-patch+json"
	}
	req.Header.Set("Content-Type", ct)
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	out := response{code: resp.StatusCode, body: data, header: resp.Header}
	_ = json.Unmarshal(data, &out.obj)
	return out
}

func TestClientsWithoutAValidCertificateAreRefused(t *testing.T) {
	e := startTLSServer(t)
	admin := e.client("kl-admin", "system:masters")
	e.do(admin, "GET", "/api/v1/namespaces", nil).must(t, http.StatusOK)

	r := e.do(e.client(""), "GET", "/api/v1/namespaces", nil).must(t, http.StatusUnauthorized)
	if strings.Contains(string(r.body), "default") {
		t.Fatalf("401 leaked data: %s", r.body)
	}
	// A certificate from another CA fails the handshake.
	other := t.TempDir()
	if _, err := certs.Init(certs.InitOptions{Dir: other}); err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(other, "admin.crt"), filepath.Join(other, "admin.key"))
	if err != nil {
		t.Fatal(err)
	}
	foreign := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.ca, Certificates: []tls.Certificate{pair}}}}
	if _, err := foreign.Get(e.ts.url + "/api/v1/namespaces"); err == nil {
		t.Fatalf("a certificate from another CA was accepted")
	}
	// An expired certificate fails too.
	prefix := filepath.Join(t.TempDir(), "old")
	if err := certs.IssueFiles(e.dir, "kl-admin", []string{"system:masters"}, prefix, time.Hour, time.Now().Add(-2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	oldPair, _ := tls.LoadX509KeyPair(prefix+".crt", prefix+".key")
	expired := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.ca, Certificates: []tls.Certificate{oldPair}}}}
	if _, err := expired.Get(e.ts.url + "/api/v1/namespaces"); err == nil {
		t.Fatalf("an expired certificate was accepted")
	}
	// TLS 1.1 is refused, and plain HTTP on the TLS port gets nothing.
	old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.ca, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}}}
	if _, err := old.Get(e.ts.url + "/healthz"); err == nil {
		t.Fatalf("TLS 1.1 was accepted")
	}
	resp, err := http.Get(strings.Replace(e.ts.url, "https://", "http://", 1) + "/api/v1/namespaces")
	if err == nil {
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(data), "default") {
			t.Fatalf("plain HTTP got data: %s", data)
		}
	}
}

func TestRoleModel(t *testing.T) {
	e := startTLSServer(t)
	admin := e.client("kl-admin", "system:masters")
	for _, n := range []string{"n1", "n9"} {
		e.do(admin, "POST", "/api/v1/nodes", map[string]any{"metadata": map[string]any{"name": n}}).must(t, http.StatusCreated)
	}
	e.do(admin, "POST", "/api/v1/namespaces/default/secrets", map[string]any{"metadata": map[string]any{"name": "s1"}, "stringData": map[string]any{"k": "v"}}).must(t, http.StatusCreated)
	e.do(admin, "POST", "/api/v1/namespaces/default/configmaps", map[string]any{"metadata": map[string]any{"name": "cm1"}}).must(t, http.StatusCreated)
	e.do(admin, "POST", "/api/v1/namespaces/default/pods", map[string]any{
		"metadata": map[string]any{"name": "on-n1"},
		"spec": map[string]any{"nodeName": "n1", "containers": []any{map[string]any{"name": "c", "image": "busybox:1",
			"envFrom": []any{map[string]any{"configMapRef": map[string]any{"name": "cm1"}}}}}},
	}).must(t, http.StatusCreated)

	viewer := e.client("alice", "kl:viewers")
	e.do(viewer, "GET", "/api/v1/namespaces/default/pods", nil).must(t, http.StatusOK)
	r := e.do(viewer, "POST", "/api/v1/namespaces/default/configmaps", map[string]any{"metadata": map[string]any{"name": "x"}}).must(t, http.StatusForbidden)
	if !strings.Contains(r.str("message"), `User "alice" cannot create resource "configmaps"`) {
		t.Fatalf("denial message: %s", r.str("message"))
	}
	e.do(viewer, "GET", "/api/v1/namespaces/default/secrets/s1", nil).must(t, http.StatusForbidden)
	e.do(viewer, "GET", "/api/v1/namespaces/default/secrets", nil).must(t, http.StatusForbidden)

	n9 := e.client("system:node:n9", "system:nodes")
	e.do(n9, "PATCH", "/api/v1/nodes/n9/status", `{"status":{"phase":"Running"}}`).must(t, http.StatusOK)
	r = e.do(n9, "PATCH", "/api/v1/nodes/n1", `{"metadata":{"labels":{"x":"y"}}}`).must(t, http.StatusForbidden)
	if !strings.Contains(r.str("message"), `User "system:node:n9"`) {
		t.Fatalf("denial message: %s", r.str("message"))
	}
	e.do(n9, "DELETE", "/api/v1/namespaces/default/pods/on-n1", nil).must(t, http.StatusForbidden)
	e.do(n9, "GET", "/api/v1/namespaces/default/pods?fieldSelector=spec.nodeName%3Dn9", nil).must(t, http.StatusOK)
	e.do(n9, "GET", "/api/v1/namespaces/default/pods", nil).must(t, http.StatusForbidden)
	e.do(n9, "GET", "/api/v1/namespaces/default/configmaps/cm1", nil).must(t, http.StatusForbidden)
	e.do(n9, "POST", "/api/v1/nodes", map[string]any{"metadata": map[string]any{"name": "n1"}}).must(t, http.StatusForbidden)

	n1 := e.client("system:node:n1", "system:nodes")
	e.do(n1, "GET", "/api/v1/namespaces/default/configmaps/cm1", nil).must(t, http.StatusOK)
	e.do(n1, "GET", "/api/v1/namespaces/default/secrets/s1", nil).must(t, http.StatusForbidden)
	e.do(n1, "POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", map[string]any{"metadata": map[string]any{"name": "n1"}}).must(t, http.StatusCreated)
	e.do(n1, "DELETE", "/api/v1/namespaces/default/pods/on-n1", nil).must(t, http.StatusOK)
}

func TestAuditLogRecordsEveryRequest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	e := startTLSServer(t, func(c *Config) { c.AuditLogPath = path; c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil)) })
	viewer := e.client("alice", "kl:viewers")
	e.do(viewer, "GET", "/api/v1/namespaces/default/pods", nil).must(t, http.StatusOK)
	e.do(viewer, "DELETE", "/api/v1/namespaces/default/pods/x", nil).must(t, http.StatusForbidden)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var recs []auditRecord
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var r auditRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		recs = append(recs, r)
	}
	var list, del bool
	for _, r := range recs {
		list = list || (r.User == "alice" && r.Verb == "list" && r.Resource == "pods" && r.Namespace == "default" && r.Code == 200)
		del = del || (r.User == "alice" && r.Verb == "delete" && r.Name == "x" && r.Code == 403)
		if r.Time == "" || r.LatencyMS < 0 {
			t.Fatalf("record lacks time or latency: %+v", r)
		}
	}
	if !list || !del {
		t.Fatalf("audit log lacks the requests: %s", data)
	}
}

func TestInFlightLimitAnswers429WithRetryAfter(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.MaxRequestsInFlight = 1 })
	release, err := ts.srv.limits.acquire()
	if err != nil {
		t.Fatal(err)
	}
	r := ts.get("/api/v1/namespaces").must(t, http.StatusTooManyRequests)
	if r.header.Get("Retry-After") == "" {
		t.Fatalf("no Retry-After on 429")
	}
	release()
	ts.get("/api/v1/namespaces").must(t, http.StatusOK)
}

// With Profiling, /debug/pprof/ serves the process's profiles to
// system:masters only; without it the path does not exist.
func TestProfilesAreForMastersOnly(t *testing.T) {
	e := startTLSServer(t, func(c *Config) { c.Profiling = true })
	admin := e.client("kl-admin", "system:masters")
	resp, err := admin.Get(e.ts.url + "/debug/pprof/heap?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "heap profile:") {
		t.Fatalf("admin GET /debug/pprof/heap: HTTP %d %.200s", resp.StatusCode, body)
	}
	for _, c := range []*http.Client{e.client("alice", "kl:viewers"), e.client("kl-scheduler")} {
		e.do(c, "GET", "/debug/pprof/heap", nil).must(t, http.StatusForbidden)
	}

	off := startTLSServer(t)
	off.do(off.client("kl-admin", "system:masters"), "GET", "/debug/pprof/heap", nil).must(t, http.StatusNotFound)
}
