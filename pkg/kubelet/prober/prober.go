// Package prober runs one check of a container probe (liveness, readiness,
// startup): an HTTP GET, a TCP connect or a command in the container, as
// corev1.Probe describes. The kubelet's probe workers call a Prober once per
// period and count consecutive results against the probe's thresholds;
// timing lives there, not here.
//
// New returns the real prober, which opens connections to the pod IP and
// runs exec probes through the container runtime. A runtime may answer
// probes itself by implementing Prober: the fake runtime does, so simulated
// containers pass or fail probes according to their image (see
// pkg/kubelet/runtime/fake) without any network traffic.
package prober

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/intstr"
	"github.com/kl-dev/kl/pkg/version"
)

// ProbeType says which probe runs.
type ProbeType string

// Probe types, as Kubernetes names them in events ("Liveness probe failed").
const (
	Liveness  ProbeType = "Liveness"
	Readiness ProbeType = "Readiness"
	Startup   ProbeType = "Startup"
)

// Result is the outcome of one probe.
type Result int

// Results.
const (
	// Success: the check passed.
	Success Result = iota + 1
	// Failure: the check failed (or could not run).
	Failure
)

// String returns "success" or "failure".
func (r Result) String() string {
	switch r {
	case Success:
		return "success"
	case Failure:
		return "failure"
	}
	return "unknown"
}

// Request is one probe of one container.
type Request struct {
	Type  ProbeType
	Probe *corev1.Probe
	Pod   *corev1.Pod
	// Container is the spec of the probed container.
	Container *corev1.Container
	// ContainerID is the runtime's ID of the running container.
	ContainerID string
	// PodIP is where HTTP and TCP probes connect when the probe names no
	// host.
	PodIP string
}

// Prober runs one probe. It returns Failure with a message saying why
// ("HTTP probe failed with statuscode: 500") when the check fails; output
// may also carry what a passing check printed. It must return within the
// probe's timeoutSeconds, or when ctx ends.
type Prober interface {
	Probe(ctx context.Context, req Request) (result Result, output string, err error)
}

// Execer runs a command in a container; runtime.Runtime is one.
type Execer interface {
	ExecSync(ctx context.Context, id string, cmd []string, timeout time.Duration) (stdout, stderr []byte, exitCode int, err error)
}

// New returns the real prober: HTTP GET and TCP connect over the network,
// exec through ex.
func New(ex Execer) Prober {
	tr := &http.Transport{
		// Probes never reuse connections: each is a fresh check, as in
		// Kubernetes, and kept-alive sockets to thousands of pods add up.
		DisableKeepAlives: true,
		// Kubernetes' probes skip certificate verification for HTTPS.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // probes check liveness, not identity
		Proxy:           nil,
	}
	return &realProber{exec: ex, transport: tr}
}

type realProber struct {
	exec      Execer
	transport *http.Transport
}

// maxOutput bounds how much of a probe's output is kept (Kubernetes keeps 10 KiB).
const maxOutput = 10 << 10

func (p *realProber) Probe(ctx context.Context, req Request) (Result, string, error) {
	pr := req.Probe
	if pr == nil {
		return Success, "", nil
	}
	timeout := time.Duration(pr.TimeoutSeconds) * time.Second
	if timeout <= 0 {
		timeout = time.Second
	}
	switch {
	case pr.Exec != nil:
		return p.probeExec(ctx, req, timeout)
	case pr.HTTPGet != nil:
		return p.probeHTTP(ctx, req, timeout)
	case pr.TCPSocket != nil:
		return p.probeTCP(ctx, req, timeout)
	}
	return Failure, "", fmt.Errorf("%s probe of container %q has no exec, httpGet or tcpSocket handler", req.Type, containerName(req))
}

func (p *realProber) probeExec(ctx context.Context, req Request, timeout time.Duration) (Result, string, error) {
	if p.exec == nil {
		return Failure, "", errors.New("exec probes need a container runtime")
	}
	stdout, stderr, code, err := p.exec.ExecSync(ctx, req.ContainerID, req.Probe.Exec.Command, timeout)
	out := truncate(append(stdout, stderr...))
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return Failure, fmt.Sprintf("command %q timed out", strings.Join(req.Probe.Exec.Command, " ")), nil
		}
		return Failure, out, err
	}
	if code != 0 {
		msg := fmt.Sprintf("command %q exited with %d", strings.Join(req.Probe.Exec.Command, " "), code)
		if out != "" {
			msg += ": " + out
		}
		return Failure, msg, nil
	}
	return Success, out, nil
}

func (p *realProber) probeHTTP(ctx context.Context, req Request, timeout time.Duration) (Result, string, error) {
	h := req.Probe.HTTPGet
	port, err := resolvePort(h.Port, req.Container)
	if err != nil {
		return Failure, "", err
	}
	host := h.Host
	if host == "" {
		host = req.PodIP
	}
	scheme := strings.ToLower(string(h.Scheme))
	if scheme == "" {
		scheme = "http"
	}
	path := h.Path
	if path == "" {
		path = "/"
	}
	u := &url.URL{Scheme: scheme, Host: net.JoinHostPort(host, strconv.Itoa(port))}
	if pu, err := url.Parse(path); err == nil {
		u.Path, u.RawQuery = pu.Path, pu.RawQuery
	} else {
		u.Path = path
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Failure, "", fmt.Errorf("build HTTP probe request: %w", err)
	}
	hreq.Header.Set("User-Agent", "kube-probe/"+version.Get().Version)
	hreq.Header.Set("Accept", "*/*")
	for _, hh := range h.HTTPHeaders {
		if strings.EqualFold(hh.Name, "Host") {
			hreq.Host = hh.Value
			continue
		}
		hreq.Header.Add(hh.Name, hh.Value)
	}
	client := &http.Client{Transport: p.transport}
	resp, err := client.Do(hreq)
	if err != nil {
		return Failure, fmt.Sprintf("Get %q: %v", u.String(), describe(err)), nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxOutput))
	if resp.StatusCode >= 200 && resp.StatusCode < 400 {
		return Success, string(body), nil
	}
	return Failure, fmt.Sprintf("HTTP probe failed with statuscode: %d", resp.StatusCode), nil
}

func (p *realProber) probeTCP(ctx context.Context, req Request, timeout time.Duration) (Result, string, error) {
	t := req.Probe.TCPSocket
	port, err := resolvePort(t.Port, req.Container)
	if err != nil {
		return Failure, "", err
	}
	host := t.Host
	if host == "" {
		host = req.PodIP
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return Failure, fmt.Sprintf("dial tcp %s: %v", addr, describe(err)), nil
	}
	_ = conn.Close()
	return Success, "", nil
}

// resolvePort returns the port number of a probe's port, looking a named
// port up in the container's ports.
func resolvePort(port intstr.IntOrString, c *corev1.Container) (int, error) {
	if port.Type == intstr.Int {
		if port.IntVal <= 0 || port.IntVal > 65535 {
			return 0, fmt.Errorf("invalid probe port %d", port.IntVal)
		}
		return int(port.IntVal), nil
	}
	if n, err := strconv.Atoi(port.StrVal); err == nil && n > 0 && n <= 65535 {
		return n, nil
	}
	if c != nil {
		for _, cp := range c.Ports {
			if cp.Name == port.StrVal {
				return int(cp.ContainerPort), nil
			}
		}
	}
	return 0, fmt.Errorf("probe port %q is not a number and not the name of a port of container %q", port.StrVal, nameOf(c))
}

func nameOf(c *corev1.Container) string {
	if c == nil {
		return ""
	}
	return c.Name
}

func containerName(req Request) string { return nameOf(req.Container) }

func truncate(b []byte) string {
	b = bytes.TrimRight(b, "\n")
	if len(b) > maxOutput {
		b = b[:maxOutput]
	}
	return string(b)
}

// describe shortens network errors to their cause ("connection refused").
func describe(err error) string {
	var ne *net.OpError
	if errors.As(err, &ne) && ne.Err != nil {
		return ne.Err.Error()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
	}
	return err.Error()
}
