package kubelet

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/apiserver"
	"github.com/kl-dev/kl/pkg/apiserver/apiservertest"
	"github.com/kl-dev/kl/pkg/certs"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/kubelet/runtime"
)

// httpAnswer is a response read whole.
type httpAnswer struct {
	code int
	body string
}

// call sends a request to a kubelet server (or anything else) and reads
// the answer.
func call(t *testing.T, hc *http.Client, method, url, body string) httpAnswer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return httpAnswer{code: resp.StatusCode, body: string(data)}
}

// localClient is an HTTP client whose idle connections are closed at the
// end of the test.
func localClient(t *testing.T, tc *tls.Config) *http.Client {
	tr := &http.Transport{TLSClientConfig: tc}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: waitTimeout}
}

func containerID(p *corev1.Pod, name string) string {
	_, id, _ := strings.Cut(containerStatus(p, name).ContainerID, "://")
	return id
}

func TestKubeletServerServesContainerLogs(t *testing.T) {
	c := startCluster(t)
	rk := c.startKubelet(c.testConfig("n1"))
	rt := rk.fake("n1")
	hc := localClient(t, nil)
	base := "http://" + rk.ServerAddr().String()
	web := c.waitPod(c.create(pod("web", "n1", "nginx")).Name, "Running", running)
	first := containerID(web, "app")
	for _, line := range []string{"one\n", "two\n", "three\n"} {
		if err := rt.WriteLog(first, "stdout", line); err != nil {
			t.Fatal(err)
		}
	}
	c.create(pod("pull", "n1", "kl.test/pull-error"))
	c.waitPod("pull", "ErrImagePull", func(p *corev1.Pod) bool {
		w := containerStatus(p, "app").State.Waiting
		return w != nil && (w.Reason == "ErrImagePull" || w.Reason == "ImagePullBackOff")
	})

	logs := base + "/containerLogs/default/"
	stamp := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z (one|two|three)$`)
	tests := []struct {
		name     string
		path     string
		wantCode int
		want     string         // the whole body, when match is nil
		match    *regexp.Regexp // each line of the body
	}{
		{name: "everything", path: "web/app", wantCode: 200, want: "one\ntwo\nthree\n"},
		{name: "tail", path: "web/app?tailLines=2", wantCode: 200, want: "two\nthree\n"},
		{name: "tail 0", path: "web/app?tailLines=0", wantCode: 200, want: ""},
		{name: "limit bytes", path: "web/app?limitBytes=6", wantCode: 200, want: "one\ntw"},
		{name: "since the future", path: "web/app?sinceTime=" + time.Now().Add(time.Hour).UTC().Format(time.RFC3339), wantCode: 200, want: ""},
		{name: "timestamps", path: "web/app?timestamps=true", wantCode: 200, match: stamp},
		{name: "no previous attempt", path: "web/app?previous=true", wantCode: 400, want: `previous terminated container \"app\" in pod \"web\" not found`},
		{name: "unknown container", path: "web/db", wantCode: 400, want: "container db is not valid for pod web"},
		{name: "unknown pod", path: "nope/app", wantCode: 404, want: `pod \"nope\" in namespace \"default\" is not running on this kubelet's nodes`},
		{name: "not started", path: "pull/app", wantCode: 400, want: `container \"app\" in pod \"pull\" is waiting to start: `},
		{name: "bad option", path: "web/app?tailLines=-1", wantCode: 400, want: "tailLines: \\\"-1\\\" must be an integer greater than or equal to 0"},
		{name: "both since options", path: "web/app?sinceSeconds=5&sinceTime=2024-01-01T00:00:00Z", wantCode: 400, want: "at most one of sinceTime or sinceSeconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := call(t, hc, "GET", logs+tt.path, "")
			if got.code != tt.wantCode {
				t.Fatalf("HTTP %d %s, want %d", got.code, got.body, tt.wantCode)
			}
			switch {
			case tt.match != nil:
				lines := strings.Split(strings.TrimSuffix(got.body, "\n"), "\n")
				if len(lines) != 3 {
					t.Errorf("got %d lines, want 3: %q", len(lines), got.body)
				}
				for _, l := range lines {
					if !tt.match.MatchString(l) {
						t.Errorf("line %q does not match %s", l, tt.match)
					}
				}
			case tt.wantCode == 200 && got.body != tt.want:
				t.Errorf("body = %q, want %q", got.body, tt.want)
			case tt.wantCode != 200 && !strings.Contains(got.body, tt.want):
				t.Errorf("body = %s, want a Status with %q", got.body, tt.want)
			}
		})
	}

	// follow streams new lines as they are written and ends when the
	// container exits.
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", logs+"web/app?follow=true&tailLines=1", nil)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	readLine := func(want string) {
		t.Helper()
		line, err := rd.ReadString('\n')
		if err != nil || line != want {
			t.Fatalf("followed line = %q, %v; want %q", line, err, want)
		}
	}
	readLine("three\n")
	if err := rt.WriteLog(first, "stderr", "four\n"); err != nil {
		t.Fatal(err)
	}
	readLine("four\n")
	if err := rt.StopContainer(t.Context(), first, 0); err != nil {
		t.Fatal(err)
	}
	if rest, err := io.ReadAll(rd); err != nil || len(rest) != 0 {
		t.Errorf("after the container exited: %q, %v; want the end of the stream", rest, err)
	}

	// Once restarted, previous is the attempt that exited.
	web = c.waitPod("web", "restarted", func(p *corev1.Pod) bool {
		cs := containerStatus(p, "app")
		return cs.RestartCount == 1 && cs.State.Running != nil
	})
	if err := rt.WriteLog(containerID(web, "app"), "stdout", "five\n"); err != nil {
		t.Fatal(err)
	}
	if got := call(t, hc, "GET", logs+"web/app", ""); got.body != "five\n" {
		t.Errorf("logs of the new attempt = %q, want %q", got.body, "five\n")
	}
	if got := call(t, hc, "GET", logs+"web/app?previous=true", ""); got.body != "one\ntwo\nthree\nfour\n" {
		t.Errorf("previous logs = %d %q, want the exited attempt's", got.code, got.body)
	}
}

func TestKubeletServerExecsCommands(t *testing.T) {
	c := startCluster(t)
	rk := c.startKubelet(c.testConfig("n1"))
	hc := localClient(t, nil)
	c.waitPod(c.create(pod("web", "n1", "nginx")).Name, "Running", running)
	done := pod("done", "n1", "busybox")
	done.Spec.RestartPolicy = corev1.RestartPolicyNever
	done.Spec.Containers[0].Command = []string{"true"}
	c.create(done)
	c.waitPod("done", "Succeeded", phase(corev1.PodSucceeded))

	exec := "http://" + rk.ServerAddr().String() + "/exec/default/"
	tests := []struct {
		name, path, stdin string
		wantCode          int
		want              ExecResult
		wantErr           string
	}{
		{name: "output", path: "web/app?command=echo&command=hello&command=world", wantCode: 200, want: ExecResult{Stdout: "hello world\n"}},
		{name: "exit code", path: "web/app?command=sh&command=-c&command=exit+3", wantCode: 200, want: ExecResult{ExitCode: 3}},
		{name: "stdin", path: "web/app?command=cat&stdin=true", stdin: "some input", wantCode: 200, want: ExecResult{Stdout: "some input"}},
		{name: "stderr", path: "web/app?command=sleep", wantCode: 200, want: ExecResult{Stderr: "sleep: missing operand\n", ExitCode: 1}},
		{name: "no command", path: "web/app", wantCode: 400, wantErr: "you must specify at least one command for the container"},
		{name: "exited container", path: "done/app?command=ls", wantCode: 400, wantErr: `cannot exec in container \"app\" of pod \"done\": it is exited`},
		{name: "GET is not exec", path: "web/app?command=ls", wantCode: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := "POST"
			if tt.name == "GET is not exec" {
				method = "GET"
			}
			got := call(t, hc, method, exec+tt.path, tt.stdin)
			if got.code != tt.wantCode {
				t.Fatalf("HTTP %d %s, want %d", got.code, got.body, tt.wantCode)
			}
			if tt.wantCode != 200 {
				if !strings.Contains(got.body, tt.wantErr) || !strings.Contains(got.body, `"kind":"Status"`) {
					t.Errorf("body = %s, want a Status with %q", got.body, tt.wantErr)
				}
				return
			}
			var res ExecResult
			if err := json.Unmarshal([]byte(got.body), &res); err != nil {
				t.Fatalf("decode %s: %v", got.body, err)
			}
			if res != tt.want {
				t.Errorf("result = %+v, want %+v", res, tt.want)
			}
		})
	}
}

func TestNodePublishesTheKubeletPort(t *testing.T) {
	c := startCluster(t)
	rk := c.startKubelet(c.testConfig("n1"))
	want := int32(rk.ServerAddr().(*net.TCPAddr).Port)
	eventually(t, "kubelet port in the node status", func() (bool, string) {
		n, err := c.nodes.Get(t.Context(), "n1")
		if err != nil {
			return false, err.Error()
		}
		got := n.Status.DaemonEndpoints.KubeletEndpoint.Port
		return got == want, fmt.Sprintf("port %d, want %d", got, want)
	})
}

// pki makes a cluster PKI (kl certs init) in a temporary directory.
func pki(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := certs.Init(certs.InitOptions{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// clientTLS is a TLS client configuration presenting PREFIX.crt/.key and
// trusting roots (nil: no verification of the server).
func clientTLS(t *testing.T, prefix string, roots *x509.CertPool) *tls.Config {
	t.Helper()
	tc := &tls.Config{RootCAs: roots, InsecureSkipVerify: roots == nil} //nolint:gosec // self-signed kubelet certificate
	if prefix != "" {
		cert, err := tls.LoadX509KeyPair(prefix+".crt", prefix+".key")
		if err != nil {
			t.Fatal(err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc
}

func caPool(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	pem, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return pool
}

// The kubelet server serves only the apiserver's client certificate
// (issue: the apiserver presents its client certificate to kubelets for
// logs/exec and kubelets verify it).
func TestKubeletServerTLSAcceptsOnlyTheAPIServer(t *testing.T) {
	dir := pki(t)
	// A certificate of another CA naming the apiserver.
	other, err := certs.NewCA("other", time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cert, key, err := other.Issue(certs.Request{CommonName: certs.UserAPIServer, Client: true}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := certs.WritePair(filepath.Join(dir, "impostor"), cert, key); err != nil {
		t.Fatal(err)
	}
	// A serving certificate for the kubelet, from the cluster CA.
	ca, err := certs.LoadCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	serving, skey, err := ca.Issue(certs.Request{CommonName: "n1", Server: true, IPs: []net.IP{net.ParseIP("127.0.0.1")}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := certs.WritePair(filepath.Join(dir, "kubelet"), serving, skey); err != nil {
		t.Fatal(err)
	}

	for _, withCert := range []bool{false, true} {
		name := "self-signed serving certificate"
		if withCert {
			name = "serving certificate of the cluster CA"
		}
		t.Run(name, func(t *testing.T) {
			c := startCluster(t)
			cfg := c.testConfig("n1")
			cfg.ClientCAFile = filepath.Join(dir, "ca.crt")
			var roots *x509.CertPool
			if withCert {
				cfg.TLSCertFile, cfg.TLSKeyFile = filepath.Join(dir, "kubelet.crt"), filepath.Join(dir, "kubelet.key")
				roots = caPool(t, dir)
			}
			rk := c.startKubelet(cfg)
			base := "https://" + rk.ServerAddr().String()
			logs := base + "/containerLogs/default/nope/app"
			tests := []struct {
				who      string
				cert     string
				wantCode int
				wantBody string
			}{
				{who: "apiserver", cert: "apiserver", wantCode: 404, wantBody: "is not running on this kubelet's nodes"},
				{who: "admin", cert: "admin", wantCode: 403, wantBody: `user \"kl-admin\" may not use the kubelet API: only the apiserver (kube-apiserver) may`},
				{who: "anonymous", wantCode: 401, wantBody: "Unauthorized"},
			}
			for _, tt := range tests {
				prefix := ""
				if tt.cert != "" {
					prefix = filepath.Join(dir, tt.cert)
				}
				got := call(t, localClient(t, clientTLS(t, prefix, roots)), "GET", logs, "")
				if got.code != tt.wantCode || !strings.Contains(got.body, tt.wantBody) {
					t.Errorf("%s: HTTP %d %s, want %d with %q", tt.who, got.code, got.body, tt.wantCode, tt.wantBody)
				}
			}
			if got := call(t, localClient(t, clientTLS(t, "", roots)), "GET", base+"/healthz", ""); got.code != 200 || got.body != "ok" {
				t.Errorf("/healthz without a certificate = %d %q, want 200 ok", got.code, got.body)
			}
			req, _ := http.NewRequestWithContext(t.Context(), "GET", logs, nil)
			// Go's client does not even offer a certificate the server's
			// CAs did not sign; either way it is not accepted.
			resp, err := localClient(t, clientTLS(t, filepath.Join(dir, "impostor"), roots)).Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("a certificate of another CA was accepted: HTTP %d", resp.StatusCode)
				}
			}
			plain := call(t, localClient(t, nil), "GET", "http://"+rk.ServerAddr().String()+"/healthz", "")
			if plain.code != http.StatusBadRequest {
				t.Errorf("plain HTTP to the TLS server = %d, want 400", plain.code)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// Through the apiserver

// e2eConfig is a kubelet config whose node the apiserver can reach on
// loopback.
func (c *cluster) e2eConfig(node string) Config {
	cfg := c.testConfig(node)
	cfg.NodeIP, cfg.ServerAddress = "127.0.0.1", ""
	return cfg
}

func TestLogsAndExecThroughTheAPIServer(t *testing.T) {
	c := startCluster(t)
	rk := c.startKubelet(c.e2eConfig("n1"))
	web := c.waitPod(c.create(pod("web", "n1", "nginx", "redis")).Name, "Running", running)
	if err := rk.fake("n1").WriteLog(containerID(web, "app2"), "stdout", "ready to serve\n"); err != nil {
		t.Fatal(err)
	}
	path := "/api/v1/namespaces/default/pods/web/"
	out, err := c.client.Do(t.Context(), "GET", path+"log", url2("container", "app2"), "", nil)
	if err != nil || string(out) != "ready to serve\n" {
		t.Errorf("pods/log = %q, %v", out, err)
	}
	_, err = c.client.Do(t.Context(), "GET", path+"log", nil, "", nil)
	if err == nil || !strings.Contains(err.Error(), "a container name must be specified for pod web, choose one of: [app app2]") {
		t.Errorf("pods/log without a container = %v", err)
	}
	out, err = c.client.Do(t.Context(), "POST", path+"exec", map[string][]string{"container": {"app"}, "command": {"hostname"}}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var res ExecResult
	if err := json.Unmarshal(out, &res); err != nil || res != (ExecResult{Stdout: "web\n"}) {
		t.Errorf("pods/exec = %s (%v), want hostname web", out, err)
	}

	// A stopped kubelet is named in the error.
	rk.stop(t)
	_, err = c.client.Do(t.Context(), "GET", path+"log", url2("container", "app"), "", nil)
	if meta.CodeOf(err) != http.StatusServiceUnavailable || !strings.Contains(err.Error(), `cannot reach the kubelet of node "n1"`) {
		t.Errorf("pods/log with the kubelet down = %v (%d)", err, meta.CodeOf(err))
	}
}

func url2(k, v string) map[string][]string { return map[string][]string{k: {v}} }

// startTLSCluster runs an apiserver serving mTLS that presents its own
// certificate to kubelets, and returns a client for the node n1 and one
// for the admin.
func startTLSCluster(t *testing.T, dir string) (node, admin *client.Client) {
	t.Helper()
	url := apiservertest.Start(t, func(c *apiserver.Config) {
		c.Insecure = false
		c.TLSCertFile, c.TLSKeyFile = filepath.Join(dir, "apiserver.crt"), filepath.Join(dir, "apiserver.key")
		c.ClientCAFile = filepath.Join(dir, "ca.crt")
		c.KubeletClientCertFile, c.KubeletClientKeyFile = filepath.Join(dir, "apiserver.crt"), filepath.Join(dir, "apiserver.key")
	})
	user, groups := certs.NodeIdentity("n1")
	if err := certs.IssueFiles(dir, user, groups, filepath.Join(dir, "n1"), time.Hour, time.Now()); err != nil {
		t.Fatal(err)
	}
	mk := func(prefix string) *client.Client {
		tr := &http.Transport{TLSClientConfig: clientTLS(t, filepath.Join(dir, prefix), caPool(t, dir))}
		t.Cleanup(tr.CloseIdleConnections)
		cl, err := client.New(client.Config{Servers: []string{url}, Transport: tr, Timeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return cl
	}
	return mk("n1"), mk("admin")
}

func TestLogsAndExecThroughAnMTLSCluster(t *testing.T) {
	dir := pki(t)
	nodeClient, admin := startTLSCluster(t, dir)
	c := &cluster{t: t, client: nodeClient,
		pods:  client.NewResource[corev1.Pod](admin, podsGVR, true),
		nodes: client.NewResource[corev1.Node](admin, nodesGVR, false)}
	cfg := c.e2eConfig("n1")
	cfg.ClientCAFile = filepath.Join(dir, "ca.crt")
	rk := c.startKubelet(cfg)
	web := c.waitPod(c.create(pod("web", "n1", "nginx")).Name, "Running", running)
	if err := rk.fake("n1").WriteLog(containerID(web, "app"), "stdout", "over mTLS\n"); err != nil {
		t.Fatal(err)
	}
	rc, err := admin.Stream(t.Context(), "GET", "/api/v1/namespaces/default/pods/web/log", nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || string(out) != "over mTLS\n" {
		t.Errorf("pods/log = %q, %v", out, err)
	}
	out, err = admin.Do(t.Context(), "POST", "/api/v1/namespaces/default/pods/web/exec", url2("command", "true"), "", nil)
	if err != nil || !strings.Contains(string(out), `"exitCode":0`) {
		t.Errorf("pods/exec = %s, %v", out, err)
	}
	// The node itself may not read logs through the apiserver.
	_, err = nodeClient.Do(t.Context(), "GET", "/api/v1/namespaces/default/pods/web/log", nil, "", nil)
	if !meta.IsForbidden(err) {
		t.Errorf("pods/log as the node = %v, want Forbidden", err)
	}
}

// A kubelet that does not trust the apiserver's CA refuses it, and the
// error says which node and why.
func TestKubeletRefusingTheAPIServerIsReportedClearly(t *testing.T) {
	dir := pki(t)
	nodeClient, admin := startTLSCluster(t, dir)
	c := &cluster{t: t, client: nodeClient,
		pods:  client.NewResource[corev1.Pod](admin, podsGVR, true),
		nodes: client.NewResource[corev1.Node](admin, nodesGVR, false)}
	cfg := c.e2eConfig("n1")
	otherCA := pki(t)
	cfg.ClientCAFile = filepath.Join(otherCA, "ca.crt")
	c.startKubelet(cfg)
	c.waitPod(c.create(pod("web", "n1", "nginx")).Name, "Running", running)
	_, err := admin.Do(t.Context(), "GET", "/api/v1/namespaces/default/pods/web/log", nil, "", nil)
	var ae *meta.APIError
	if !errors.As(err, &ae) || ae.Status.Code != http.StatusServiceUnavailable || !strings.Contains(ae.Status.Message, `cannot reach the kubelet of node "n1"`) {
		t.Errorf("pods/log with an untrusting kubelet = %v", err)
	}
	if !strings.Contains(err.Error(), "--client-ca-file") {
		t.Errorf("the error gives no hint at the certificates: %v", err)
	}
}

var _ runtime.Runtime = (*recordingRuntime)(nil)

// An apiserver without a kubelet client certificate cannot talk to a
// kubelet that serves HTTPS, and says what to configure.
func TestPlainAPIServerAndTLSKubeletMismatchIsExplained(t *testing.T) {
	dir := pki(t)
	c := startCluster(t)
	cfg := c.e2eConfig("n1")
	cfg.ClientCAFile = filepath.Join(dir, "ca.crt")
	c.startKubelet(cfg)
	c.waitPod(c.create(pod("web", "n1", "nginx")).Name, "Running", running)
	_, err := c.client.Do(t.Context(), "GET", "/api/v1/namespaces/default/pods/web/log", nil, "", nil)
	if meta.CodeOf(err) != http.StatusBadGateway || !strings.Contains(err.Error(), `the kubelet of node "n1" serves HTTPS: give the apiserver --kubelet-client-certificate`) {
		t.Errorf("pods/log = %v (%d)", err, meta.CodeOf(err))
	}
}
