package prober_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/intstr"
	"github.com/kl-dev/kl/pkg/kubelet/prober"
	"github.com/kl-dev/kl/pkg/kubelet/runtime"
	"github.com/kl-dev/kl/pkg/kubelet/runtime/fake"
)

// hostPort splits a test server's address.
func hostPort(t *testing.T, addr string) (string, int) {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(port)
	return host, n
}

func TestHTTPGetProbe(t *testing.T) {
	var mu sync.Mutex
	var gotUA, gotHeader, gotHost string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		gotUA, gotHeader, gotHost = r.UserAgent(), r.Header.Get("X-Probe"), r.Host
		mu.Unlock()
		switch r.URL.Path {
		case "/healthz":
			w.Write([]byte("fine"))
		case "/moved":
			http.Redirect(w, r, "/healthz", http.StatusFound)
		case "/slow":
			time.Sleep(1500 * time.Millisecond)
		default:
			http.Error(w, "broken", http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	host, port := hostPort(t, srv.Listener.Addr().String())
	container := &corev1.Container{Name: "web", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: int32(port)}}}
	p := prober.New(nil)
	tests := []struct {
		name    string
		path    string
		port    intstr.IntOrString
		want    prober.Result
		wantOut string
	}{
		{"2xx passes", "/healthz", intstr.FromInt(port), prober.Success, "fine"},
		{"named port", "/healthz", intstr.FromString("http"), prober.Success, "fine"},
		{"redirect followed", "/moved", intstr.FromInt(port), prober.Success, "fine"},
		{"5xx fails", "/broken", intstr.FromInt(port), prober.Failure, "HTTP probe failed with statuscode: 500"},
		{"timeout fails", "/slow", intstr.FromInt(port), prober.Failure, "context deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probe := &corev1.Probe{TimeoutSeconds: 1, ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
				Path: tt.path, Port: tt.port, HTTPHeaders: []corev1.HTTPHeader{{Name: "X-Probe", Value: "yes"}, {Name: "Host", Value: "example.test"}},
			}}}
			res, out, err := p.Probe(t.Context(), prober.Request{Type: prober.Readiness, Probe: probe, Container: container, PodIP: host})
			if err != nil || res != tt.want || !strings.Contains(out, tt.wantOut) {
				t.Errorf("probe = %v %q, %v; want %v with %q", res, out, err, tt.want, tt.wantOut)
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.HasPrefix(gotUA, "kube-probe/") || gotHeader != "yes" || gotHost != "example.test" {
		t.Errorf("request had User-Agent %q, X-Probe %q, Host %q; want kube-probe/..., yes, example.test", gotUA, gotHeader, gotHost)
	}
}

func TestHTTPProbeOfAnUnknownNamedPortIsAnError(t *testing.T) {
	probe := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromString("metrics")}}}
	res, _, err := prober.New(nil).Probe(t.Context(), prober.Request{Type: prober.Liveness, Probe: probe, Container: &corev1.Container{Name: "web"}, PodIP: "127.0.0.1"})
	if res != prober.Failure || err == nil || !strings.Contains(err.Error(), `probe port "metrics" is not a number and not the name of a port of container "web"`) {
		t.Errorf("probe = %v, %v; want a failure naming the port", res, err)
	}
}

func TestTCPSocketProbe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	host, port := hostPort(t, ln.Addr().String())
	probe := func(port int) *corev1.Probe {
		return &corev1.Probe{TimeoutSeconds: 1, ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt(port)}}}
	}
	p := prober.New(nil)
	if res, out, err := p.Probe(t.Context(), prober.Request{Type: prober.Liveness, Probe: probe(port), PodIP: host}); res != prober.Success || err != nil {
		t.Errorf("probe of a listening port = %v %q, %v; want success", res, out, err)
	}
	ln.Close()
	res, out, err := p.Probe(t.Context(), prober.Request{Type: prober.Liveness, Probe: probe(port), PodIP: host})
	if res != prober.Failure || err != nil || !strings.Contains(out, "connection refused") {
		t.Errorf("probe of a closed port = %v %q, %v; want failure with connection refused", res, out, err)
	}
}

// execOnly gives the real prober the fake runtime's ExecSync only, so
// exec probes run commands the way they would in a real container.
type execOnly struct{ rt *fake.Runtime }

func (e execOnly) ExecSync(ctx context.Context, id string, cmd []string, timeout time.Duration) ([]byte, []byte, int, error) {
	return e.rt.ExecSync(ctx, id, cmd, timeout)
}

func TestExecProbeRunsTheCommandInTheContainer(t *testing.T) {
	rt, err := fake.New(fake.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	ctx := t.Context()
	sb, err := rt.RunPodSandbox(ctx, runtime.PodSandboxConfig{Name: "p", Namespace: "ns", UID: "u"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.PullImage(ctx, "app", nil); err != nil {
		t.Fatal(err)
	}
	id, err := rt.CreateContainer(ctx, sb.ID, runtime.ContainerConfig{Name: "app", Image: "app"})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	p := prober.New(execOnly{rt})
	tests := []struct {
		cmd     []string
		want    prober.Result
		wantOut string
	}{
		{[]string{"echo", "ok"}, prober.Success, "ok"},
		{[]string{"sh", "-c", "exit 3"}, prober.Failure, `command "sh -c exit 3" exited with 3`},
		{[]string{"sleep", "10"}, prober.Failure, `command "sleep 10" timed out`},
	}
	for _, tt := range tests {
		probe := &corev1.Probe{TimeoutSeconds: 1, ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: tt.cmd}}}
		res, out, err := p.Probe(ctx, prober.Request{Type: prober.Liveness, Probe: probe, ContainerID: id})
		if err != nil || res != tt.want || !strings.Contains(out, tt.wantOut) {
			t.Errorf("exec probe %q = %v %q, %v; want %v with %q", tt.cmd, res, out, err, tt.want, tt.wantOut)
		}
	}
}
