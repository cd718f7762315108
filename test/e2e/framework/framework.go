// Package framework runs real kl processes for end-to-end tests: it builds
// the binary once, starts components on loopback ports with temporary data
// directories, and stops every process when the test ends.
package framework

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Binary builds ./cmd/kl into dir and returns its path.
func Binary(dir string) (string, error) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..", "..")
	out := filepath.Join(dir, "kl")
	cmd := exec.Command("go", "build", "-o", out, "./cmd/kl")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/kl: %v\n%s", err, b)
	}
	return out, nil
}

// Process is a running kl command.
type Process struct {
	t      testing.TB
	Name   string
	cmd    *exec.Cmd
	done   chan struct{}
	mu     sync.Mutex
	output strings.Builder
	lines  chan string
}

// Start runs kl with args; its output is kept for failure reports and its
// stderr lines can be awaited with WaitLine. It is killed when the test ends.
func Start(t testing.TB, bin, name string, args ...string) *Process {
	t.Helper()
	p := &Process{t: t, Name: name, done: make(chan struct{}), lines: make(chan string, 4096)}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stdout = &lockedWriter{p: p}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.output.WriteString(line + "\n")
			p.mu.Unlock()
			select {
			case p.lines <- line:
			default:
			}
		}
		_ = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("--- output of %s ---\n%s", name, p.Output())
		}
	})
	return p
}

type lockedWriter struct{ p *Process }

func (w *lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.output.Write(b)
}

// Output returns what the process printed so far.
func (p *Process) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.output.String()
}

// WaitLine waits for a stderr line matching re and returns its submatches.
func (p *Process) WaitLine(re *regexp.Regexp, timeout time.Duration) ([]string, error) {
	deadline := time.After(timeout)
	for {
		select {
		case line := <-p.lines:
			if m := re.FindStringSubmatch(line); m != nil {
				return m, nil
			}
		case <-p.done:
			return nil, fmt.Errorf("%s exited before printing %s:\n%s", p.Name, re, p.Output())
		case <-deadline:
			return nil, fmt.Errorf("%s did not print %s within %s:\n%s", p.Name, re, timeout, p.Output())
		}
	}
}

// Kill sends SIGKILL and waits for the process to go.
func (p *Process) Kill() {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
	}
	<-p.done
}

// Stop sends SIGTERM and waits up to timeout, then kills.
func (p *Process) Stop(timeout time.Duration) error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if st := p.cmd.ProcessState; st != nil && !st.Success() {
			return fmt.Errorf("%s exited with %v", p.Name, st)
		}
		return nil
	case <-time.After(timeout):
		p.Kill()
		return fmt.Errorf("%s did not stop within %s", p.Name, timeout)
	}
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

var servingRE = regexp.MustCompile(`apiserver serving.*url=(\S+)`)

// APIServer starts `kl apiserver --insecure` on a free loopback port with
// the given data dir and extra args, and waits until it answers.
func APIServer(t testing.TB, bin, dataDir string, extra ...string) (*Process, string) {
	t.Helper()
	args := append([]string{"apiserver", "--insecure", "--listen", "127.0.0.1:0", "--data-dir", dataDir}, extra...)
	p := Start(t, bin, "apiserver", args...)
	url, err := p.ServingURL(60 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := WaitHTTP(context.Background(), url+"/readyz", 30*time.Second); err != nil {
		t.Fatal(err)
	}
	return p, url
}

// WaitHTTP polls url until it answers 200 or the timeout passes.
func WaitHTTP(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready within %s: %v", url, timeout, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Pid returns the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// ServingURL waits for the "apiserver serving ... url=URL" line that `kl
// apiserver` and `kl server` log on stderr and returns the URL.
func (p *Process) ServingURL(timeout time.Duration) (string, error) {
	m, err := p.WaitLine(servingRE, timeout)
	if err != nil {
		return "", err
	}
	return strings.Trim(m[1], `"`), nil
}

// Server starts `kl server --insecure` (a whole cluster in one process)
// on a free loopback port with the given data dir and extra args (e.g.
// "--runtime", "fake", "--no-agent"), and waits until its apiserver
// answers.
func Server(t testing.TB, bin, dataDir string, extra ...string) (*Process, string) {
	t.Helper()
	args := append([]string{"server", "--insecure", "--listen", "127.0.0.1:0", "--data-dir", dataDir}, extra...)
	p := Start(t, bin, "server", args...)
	url, err := p.ServingURL(60 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := WaitHTTP(context.Background(), url+"/readyz", 30*time.Second); err != nil {
		t.Fatal(err)
	}
	return p, url
}

// Eventually calls cond every interval until it reports true, and fails the
// test after timeout with what cond said last. It is the bounded polling
// loop of the tests: the interval paces it, it synchronises nothing.
func Eventually(t testing.TB, timeout, interval time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, status := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %s", what, timeout, status)
		}
		time.Sleep(interval)
	}
}

// CLI runs the kl command-line client against one server, with its own
// empty HOME so that no user configuration is read or written.
type CLI struct {
	t      testing.TB
	bin    string
	server string
	home   string
}

// NewCLI returns a CLI for the server at url.
func NewCLI(t testing.TB, bin, url string) *CLI {
	return &CLI{t: t, bin: bin, server: url, home: t.TempDir()}
}

// Run runs `kl args...` with KL_SERVER set and returns its stdout and
// stderr; err is non-nil for a non-zero exit. A command that does not end
// within 3 minutes fails the test.
func (c *CLI) Run(args ...string) (stdout, stderr string, err error) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Env = append(os.Environ(), "HOME="+c.home, "KL_SERVER="+c.server, "KL_CONFIG=", "KL_NAMESPACE=", "KL_CONTEXT=")
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	if ctx.Err() != nil {
		c.t.Fatalf("kl %s: no answer within 3m\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), out.String(), errOut.String())
	}
	return out.String(), errOut.String(), err
}

// Must runs kl and fails the test unless it exits 0; it returns stdout.
func (c *CLI) Must(args ...string) string {
	c.t.Helper()
	stdout, stderr, err := c.Run(args...)
	if err != nil {
		c.t.Fatalf("kl %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout, stderr)
	}
	return stdout
}

// Usage is what /proc says of a running process: CPU time (user + system)
// and resident memory.
type Usage struct {
	CPU      time.Duration
	RSSBytes int64
}

// Usage reads the process's CPU time and resident memory (Linux only).
func (p *Process) Usage() (Usage, error) {
	var u Usage
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.Pid()))
	if err != nil {
		return u, fmt.Errorf("usage of %s: %w", p.Name, err)
	}
	// Fields after the command name (which may hold spaces) in ")";
	// utime and stime are fields 14 and 15, in clock ticks (100/s on
	// Linux).
	s := string(stat)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return u, fmt.Errorf("usage of %s: short /proc stat %q", p.Name, s)
	}
	var ticks int64
	for _, v := range f[11:13] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return u, fmt.Errorf("usage of %s: /proc stat: %w", p.Name, err)
		}
		ticks += n
	}
	u.CPU = time.Duration(ticks) * (time.Second / 100)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Pid()))
	if err != nil {
		return u, fmt.Errorf("usage of %s: %w", p.Name, err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return u, fmt.Errorf("usage of %s: VmRSS: %w", p.Name, err)
			}
			u.RSSBytes = kb * 1024
		}
	}
	return u, nil
}
