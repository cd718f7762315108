package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kl-dev/kl/test/e2e/framework"
)

// This file holds what the fault tests share: an apiserver that can be
// killed and started again on the same address and data directory, a
// process whose standard output is read line by line, and small JSON
// helpers over plain HTTP.

// restartableAPIServer is `kl apiserver --insecure --storage badger` on a
// fixed loopback port and data directory, so that clients keep their URL
// across restarts.
type restartableAPIServer struct {
	t       *testing.T
	dataDir string
	addr    string
	url     string
	extra   []string
	proc    *framework.Process
	starts  int
}

// freeLoopbackAddr returns a loopback address with a port that was free a
// moment ago. The port is below the kernel's ephemeral range, so that while
// the apiserver is down between a kill and its restart no outgoing
// connection or ":0" listener of another process can be given it.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				low = n
			}
		}
	}
	const base = 20000 // above the ports kl and other servers use by default
	if low <= base+1000 {
		low = 65536 // an unusual range: any port will do
	}
	for i := 0; i < 100; i++ {
		port := base + rand.IntN(low-base)
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		addr := ln.Addr().String()
		ln.Close()
		return addr
	}
	t.Fatal("no free loopback port found")
	return ""
}

// startRestartableAPIServer starts the apiserver on a free port and waits
// until it is ready.
func startRestartableAPIServer(t *testing.T, extra ...string) *restartableAPIServer {
	t.Helper()
	a := &restartableAPIServer{t: t, dataDir: t.TempDir(), extra: extra}
	for attempt := 0; ; attempt++ {
		a.addr = freeLoopbackAddr(t)
		a.url = "http://" + a.addr
		if err := a.tryStart(); err == nil {
			return a
		} else if attempt == 2 {
			t.Fatal(err)
		}
	}
}

func (a *restartableAPIServer) tryStart() error {
	args := append([]string{"apiserver", "--insecure", "--listen", a.addr, "--data-dir", a.dataDir, "--storage", "badger"}, a.extra...)
	a.starts++
	p := framework.Start(a.t, klBinary, fmt.Sprintf("apiserver-%d", a.starts), args...)
	if _, err := p.ServingURL(90 * time.Second); err != nil {
		p.Kill()
		return err
	}
	if err := framework.WaitHTTP(context.Background(), a.url+"/readyz", 60*time.Second); err != nil {
		p.Kill()
		return err
	}
	a.proc = p
	return nil
}

// start starts the apiserver again on the same address and data directory.
// The port was ours a moment ago; another process taking it meanwhile fails
// the test.
func (a *restartableAPIServer) start() {
	a.t.Helper()
	if err := a.tryStart(); err != nil {
		a.t.Fatalf("restart the apiserver on %s: %v", a.addr, err)
	}
}

// kill sends SIGKILL and waits for the process to go.
func (a *restartableAPIServer) kill() { a.proc.Kill() }

// lineProcess is a process whose standard output is delivered line by
// line (its standard error is kept for failure reports). It is killed when
// the test ends.
type lineProcess struct {
	name  string
	cmd   *exec.Cmd
	lines chan string
	done  chan struct{}

	mu     sync.Mutex
	stderr bytes.Buffer
}

func startLineProcess(t *testing.T, name string, env []string, args ...string) *lineProcess {
	t.Helper()
	p := &lineProcess{name: name, lines: make(chan string, 1<<16), done: make(chan struct{})}
	p.cmd = exec.Command(klBinary, args...)
	p.cmd.Env = append(append(os.Environ(), "HOME="+t.TempDir()), env...)
	p.cmd.Stderr = &lockedBuffer{mu: &p.mu, b: &p.stderr}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		defer close(p.done)
		defer close(p.lines)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		_ = p.cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		for range p.lines { // drain so the reader can finish
		}
		<-p.done
		if t.Failed() {
			t.Logf("--- stderr of %s ---\n%s", name, p.Stderr())
		}
	})
	return p
}

// Stderr returns what the process wrote on standard error so far.
func (p *lineProcess) Stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// Exited reports whether the process has ended (and its output was read).
func (p *lineProcess) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

type lockedBuffer struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w *lockedBuffer) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(b)
}

// faultClient is a plain HTTP client for the fault tests: short per-request
// timeouts, so that a request to a killed server fails fast.
func faultClient() *http.Client {
	return &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
		MaxIdleConnsPerHost: 64,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}}
}

// faultDo sends body (marshalled unless nil) and decodes a JSON answer into
// out when out is not nil. err is non-nil only when no answer came.
func faultDo(ctx context.Context, c *http.Client, method, url string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("%s %s: read answer: %w", method, url, err)
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decode answer: %w: %s", method, url, err, data)
		}
	}
	return resp.StatusCode, nil
}

// cmObject is the part of a ConfigMap the fault tests look at.
type cmObject struct {
	Metadata struct {
		Name            string `json:"name"`
		ResourceVersion string `json:"resourceVersion"`
	} `json:"metadata"`
	Data map[string]string `json:"data"`
}

// seq is the write sequence number a fault test keeps in data.seq.
func (o cmObject) seq() int {
	n, err := strconv.Atoi(o.Data["seq"])
	if err != nil {
		return -1
	}
	return n
}

func (o cmObject) rv() int64 {
	n, _ := strconv.ParseInt(o.Metadata.ResourceVersion, 10, 64)
	return n
}

// faultConfigMap returns a ConfigMap body with data.seq.
func faultConfigMap(name, rv string, seq int) map[string]any {
	md := map[string]any{"name": name}
	if rv != "" {
		md["resourceVersion"] = rv
	}
	return map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap", "metadata": md,
		"data": map[string]any{"seq": strconv.Itoa(seq)},
	}
}

// faultCreateNamespace creates a namespace and fails the test unless it is
// there afterwards.
func faultCreateNamespace(t *testing.T, c *http.Client, url, name string) {
	t.Helper()
	code, err := faultDo(context.Background(), c, "POST", url+"/api/v1/namespaces", map[string]any{
		"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": name},
	}, nil)
	if err != nil || (code != http.StatusCreated && code != http.StatusConflict) {
		t.Fatalf("create namespace %s: HTTP %d, %v", name, code, err)
	}
}

// faultListConfigMaps returns the ConfigMaps of ns by name and the list's
// resourceVersion.
func faultListConfigMaps(ctx context.Context, c *http.Client, url, ns string) (map[string]cmObject, string, error) {
	var list struct {
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
		Items []cmObject `json:"items"`
	}
	code, err := faultDo(ctx, c, "GET", url+"/api/v1/namespaces/"+ns+"/configmaps", nil, &list)
	if err != nil {
		return nil, "", err
	}
	if code != http.StatusOK {
		return nil, "", fmt.Errorf("list configmaps: HTTP %d", code)
	}
	out := make(map[string]cmObject, len(list.Items))
	for _, o := range list.Items {
		out[o.Metadata.Name] = o
	}
	return out, list.Metadata.ResourceVersion, nil
}

// faultLoadAverage returns /proc/loadavg's first three fields, for logs.
func faultLoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
