// Package etcdtest starts real etcd clusters for tests: one etcd process per
// member, on free loopback ports, with data in temporary directories, all
// killed when the test ends. A member can be SIGKILLed mid-test.
//
// The etcd binary is the one named by $KL_ETCD_BINARY, else etcd's own
// server built from the module pinned in kl's go.mod (a `tool` line: `go
// tool -n go.etcd.io/etcd/server/v3` builds it once into the Go build cache
// and prints its path). When no binary can be had or the cluster does not
// come up, the test is skipped with the reason, unless $KL_REQUIRE_ETCD is
// set (CI), which turns the skip into a failure.
//
//	func TestSomething(t *testing.T) {
//		c := etcdtest.Start(t, 3)
//		st, err := etcd.Open(t.Context(), etcd.Options{Endpoints: c.Endpoints()})
//		...
//		c.Members[0].Kill() // SIGKILL; the other two keep a quorum
//	}
package etcdtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// BinaryEnv names an etcd binary to use instead of building one.
const BinaryEnv = "KL_ETCD_BINARY"

// RequireEnv, when set to anything, makes an etcd that cannot be started a
// test failure instead of a skip.
const RequireEnv = "KL_REQUIRE_ETCD"

// etcdTool is the etcd server's main package, pinned by a tool line in
// go.mod.
const etcdTool = "go.etcd.io/etcd/server/v3"

// Timeouts for slow, loaded machines: a cold build of etcd takes minutes on
// two busy cores; a cached one, a second.
const (
	buildTimeout   = 8 * time.Minute
	startTimeout   = 60 * time.Second
	startAttempts  = 3
	outputKeptSize = 64 << 10
)

// Binary returns the path of an etcd binary: $KL_ETCD_BINARY, or etcd's
// server built (once, then cached by Go) from the version in go.mod.
func Binary(ctx context.Context) (string, error) {
	if p := os.Getenv(BinaryEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("$%s: %w", BinaryEnv, err)
		}
		return p, nil
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("cannot locate the kl module to build etcd in")
	}
	root := filepath.Join(filepath.Dir(file), "..", "..", "..", "..")
	ctx, cancel := context.WithTimeout(ctx, buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "tool", "-n", etcdTool)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go tool -n %s (builds etcd; set $%s to use another binary): %v\n%s", etcdTool, BinaryEnv, err, stderr.String())
	}
	path := strings.TrimSpace(string(out))
	if path == "" {
		return "", fmt.Errorf("go tool -n %s printed no path", etcdTool)
	}
	return path, nil
}

// Cluster is a running etcd cluster.
type Cluster struct {
	// Members are the cluster's members, in the order of Endpoints.
	Members []*Member
}

// Endpoints returns every member's client URL.
func (c *Cluster) Endpoints() []string {
	urls := make([]string, len(c.Members))
	for i, m := range c.Members {
		urls[i] = m.ClientURL
	}
	return urls
}

// Member is one etcd process.
type Member struct {
	Name      string
	ClientURL string
	PeerURL   string
	// Dir is the member's data directory.
	Dir string

	bin  string
	args []string
	cmd  *exec.Cmd
	done chan struct{}
	out  *tailBuffer
}

// Options configure a cluster.
type Options struct {
	// Size is the number of members (an odd number: 1, 3, 5).
	Size int
	// Fsync makes members sync their log to disk as in production
	// (benchmarks). Tests leave it off: etcd then runs with
	// --unsafe-no-fsync, several times faster, and durability across a
	// power loss is not what they check.
	Fsync bool
}

// Start starts a cluster of size members without fsync; see StartWith.
func Start(t testing.TB, size int) *Cluster {
	t.Helper()
	return StartWith(t, Options{Size: size})
}

// StartWith starts a cluster and waits until every member reports
// healthy. It skips the test (see the package documentation) when etcd
// cannot be started. The cluster is killed when the test ends.
func StartWith(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if opts.Size < 1 {
		t.Fatalf("etcdtest: cluster size %d", opts.Size)
	}
	bin, err := Binary(context.Background())
	if err != nil {
		unavailable(t, fmt.Errorf("no etcd binary: %w", err))
	}
	var last error
	for attempt := 0; attempt < startAttempts; attempt++ {
		c, err := start(t, bin, opts)
		if err == nil {
			return c
		}
		// A port taken between picking and binding it is the usual cause;
		// pick new ports.
		last = err
		t.Logf("etcdtest: attempt %d to start etcd failed: %v", attempt+1, err)
	}
	unavailable(t, fmt.Errorf("etcd cluster did not start after %d attempts: %w", startAttempts, last))
	return nil
}

func unavailable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv(RequireEnv) != "" {
		t.Fatalf("etcdtest: %v ($%s is set)", err, RequireEnv)
	}
	t.Skipf("etcdtest: skipping, etcd is not available: %v", err)
}

func start(t testing.TB, bin string, opts Options) (*Cluster, error) {
	t.Helper()
	size := opts.Size
	ports, err := freePorts(2 * size)
	if err != nil {
		return nil, err
	}
	base := t.TempDir()
	c := &Cluster{}
	var initial []string
	for i := range size {
		m := &Member{
			Name:      fmt.Sprintf("m%d", i),
			ClientURL: fmt.Sprintf("http://127.0.0.1:%d", ports[2*i]),
			PeerURL:   fmt.Sprintf("http://127.0.0.1:%d", ports[2*i+1]),
			Dir:       filepath.Join(base, fmt.Sprintf("m%d", i)),
			bin:       bin,
		}
		c.Members = append(c.Members, m)
		initial = append(initial, m.Name+"="+m.PeerURL)
	}
	token := fmt.Sprintf("kl-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	for _, m := range c.Members {
		m.args = []string{
			"--name", m.Name,
			"--data-dir", m.Dir,
			"--listen-client-urls", m.ClientURL,
			"--advertise-client-urls", m.ClientURL,
			"--listen-peer-urls", m.PeerURL,
			"--initial-advertise-peer-urls", m.PeerURL,
			"--initial-cluster", strings.Join(initial, ","),
			"--initial-cluster-state", "new",
			"--initial-cluster-token", token,
			// Test machines are loaded: twice etcd's defaults keep
			// missed heartbeats from starting needless elections.
			"--heartbeat-interval", "200",
			"--election-timeout", "2000",
			"--log-level", "warn",
		}
		if !opts.Fsync {
			m.args = append(m.args, "--unsafe-no-fsync")
		}
		if err := m.launch(); err != nil {
			c.kill()
			return nil, err
		}
	}
	t.Cleanup(func() {
		c.kill()
		if t.Failed() {
			for _, m := range c.Members {
				t.Logf("--- output of etcd member %s (last %d KiB) ---\n%s", m.Name, outputKeptSize>>10, m.Output())
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	for _, m := range c.Members {
		if err := m.waitHealthy(ctx); err != nil {
			c.kill()
			var outs strings.Builder
			for _, m := range c.Members {
				fmt.Fprintf(&outs, "\n--- %s ---\n%s", m.Name, lastLines(m.Output(), 10))
			}
			return nil, fmt.Errorf("%w%s", err, outs.String())
		}
	}
	return c, nil
}

func (m *Member) launch() error {
	m.out = &tailBuffer{max: outputKeptSize}
	m.done = make(chan struct{})
	m.cmd = exec.Command(m.bin, m.args...)
	m.cmd.Stdout = m.out
	m.cmd.Stderr = m.out
	m.cmd.SysProcAttr = sysProcAttr()
	if err := m.cmd.Start(); err != nil {
		return fmt.Errorf("start etcd member %s: %w", m.Name, err)
	}
	go func() {
		_ = m.cmd.Wait()
		close(m.done)
	}()
	return nil
}

// waitHealthy polls the member's /health until it reports a leader and a
// working store, the process exits, or ctx ends.
func (m *Member) waitHealthy(ctx context.Context) error {
	var last error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, m.ClientURL+"/health", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && bytes.Contains(body, []byte(`"health":"true"`)) {
				return nil
			}
			err = fmt.Errorf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(body))
		}
		last = err
		select {
		case <-m.done:
			return fmt.Errorf("etcd member %s exited: %v", m.Name, m.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("etcd member %s not healthy: %v", m.Name, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Kill SIGKILLs the member and waits for it to exit. Killing a killed
// member does nothing.
func (m *Member) Kill() {
	if m.cmd == nil || m.cmd.Process == nil {
		return
	}
	_ = m.cmd.Process.Signal(syscall.SIGKILL)
	<-m.done
}

// Exited reports whether the member's process has ended.
func (m *Member) Exited() bool {
	select {
	case <-m.done:
		return true
	default:
		return false
	}
}

// Restart starts a killed member again on its data directory and waits
// until it is healthy (it rejoins the cluster it was part of).
func (m *Member) Restart(ctx context.Context) error {
	m.Kill()
	if err := m.launch(); err != nil {
		return err
	}
	return m.waitHealthy(ctx)
}

// Leader returns the index in Members of the raft leader, as the live
// members report it, waiting (until ctx ends) while there is none.
func (c *Cluster) Leader(ctx context.Context) (int, error) {
	var last error
	for {
		ids := map[uint64]int{}
		var leader uint64
		for i, m := range c.Members {
			if m.Exited() {
				continue
			}
			id, lead, err := m.status(ctx)
			if err != nil {
				last = err
				continue
			}
			ids[id] = i
			if lead != 0 {
				leader = lead
			}
		}
		if i, ok := ids[leader]; ok && leader != 0 {
			return i, nil
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("no etcd leader: %w (last error: %v)", ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// status returns the member's id and the leader it knows of (0: none).
func (m *Member) status(ctx context.Context) (id, leader uint64, err error) {
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{m.ClientURL}, Logger: zap.NewNop()})
	if err != nil {
		return 0, 0, err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st, err := cli.Status(ctx, m.ClientURL)
	if err != nil {
		return 0, 0, fmt.Errorf("status of %s: %w", m.Name, err)
	}
	return st.Header.MemberId, st.Leader, nil
}

// Pid returns the member's process id (0 before it started).
func (m *Member) Pid() int {
	if m.cmd == nil || m.cmd.Process == nil {
		return 0
	}
	return m.cmd.Process.Pid
}

// Output returns the last lines the member printed.
func (m *Member) Output() string { return m.out.String() }

func (c *Cluster) kill() {
	for _, m := range c.Members {
		m.Kill()
	}
}

// freePorts returns n distinct free loopback ports. They are free when
// picked; Start retries when one is taken before etcd binds it.
func freePorts(n int) ([]int, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("pick a free port: %w", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
