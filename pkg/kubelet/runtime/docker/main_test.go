package docker_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/kl-dev/kl/pkg/kubelet/runtime"
	"github.com/kl-dev/kl/pkg/kubelet/runtime/docker"
	"github.com/kl-dev/kl/test/images"
)

// testEnv is what TestMain prepared: the engine, the test images and a
// pod network of this test run.
type testEnv struct {
	cli     *client.Client
	runID   string // prefix of every node name of this run
	network string
	subnet  netip.Prefix
}

// env is set once by TestMain (nil: no engine, the tests skip).
var env *testEnv

func TestMain(m *testing.M) {
	code, err := setupAndRun(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "docker runtime tests:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setupAndRun(m *testing.M) (int, error) {
	if os.Getenv("DOCKER_HOST") == "" {
		if _, err := os.Stat("/var/run/docker.sock"); err != nil {
			return m.Run(), nil // every test skips
		}
	}
	cli, err := client.New(client.FromEnv)
	if err != nil {
		return 0, err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := images.Ensure(ctx, cli, images.Echo1, images.IgnoreSIGTERM, images.Pause); err != nil {
		return 0, err
	}
	e := &testEnv{cli: cli, runID: "kltest-" + randHex(4)}
	if e.network, e.subnet, err = createNetwork(ctx, cli, e.runID); err != nil {
		return 0, err
	}
	env = e
	code := m.Run()
	// Whatever a failed test left behind: containers of this run's nodes,
	// then the network.
	cleanCtx, cancelClean := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancelClean()
	if err := removeRunContainers(cleanCtx, cli, e.runID); err != nil {
		fmt.Fprintln(os.Stderr, "cleanup:", err)
	}
	if _, err := cli.NetworkRemove(cleanCtx, e.network, client.NetworkRemoveOptions{}); err != nil && !cerrdefs.IsNotFound(err) {
		fmt.Fprintln(os.Stderr, "cleanup:", err)
	}
	return code, nil
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// createNetwork makes a bridge network on a free /24 of 10.235.0.0/16
// (away from the runtime's default 10.234.0.0/16, which a kubelet on this
// engine may be using).
func createNetwork(ctx context.Context, cli *client.Client, name string) (string, netip.Prefix, error) {
	var lastErr error
	for try := 0; try < 20; try++ {
		var b [1]byte
		_, _ = rand.Read(b[:])
		subnet := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 235, b[0], 0}), 24)
		_, err := cli.NetworkCreate(ctx, name, client.NetworkCreateOptions{
			Driver: "bridge",
			IPAM:   &network.IPAM{Config: []network.IPAMConfig{{Subnet: subnet}}},
			Labels: map[string]string{docker.LabelManaged: "true"},
		})
		if err == nil {
			return name, subnet, nil
		}
		lastErr = err // most likely an overlapping subnet: try another
	}
	return "", netip.Prefix{}, fmt.Errorf("create test network: %w", lastErr)
}

// freeSubnet returns a /24 of 10.235.0.0/16 that no network uses now.
func freeSubnet(t *testing.T) netip.Prefix {
	t.Helper()
	res, err := env.cli.NetworkList(t.Context(), client.NetworkListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	used := map[netip.Prefix]bool{}
	for _, n := range res.Items {
		for _, c := range n.IPAM.Config {
			used[c.Subnet.Masked()] = true
		}
	}
	for try := 0; try < 100; try++ {
		var b [1]byte
		_, _ = rand.Read(b[:])
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 235, b[0], 0}), 24)
		if !used[p] {
			return p
		}
	}
	t.Fatal("no free /24 in 10.235.0.0/16")
	return netip.Prefix{}
}

// removeRunContainers force-removes the containers of every node of this
// test run.
func removeRunContainers(ctx context.Context, cli *client.Client, runID string) error {
	res, err := cli.ContainerList(ctx, client.ContainerListOptions{
		All: true, Filters: make(client.Filters).Add("label", docker.LabelManaged+"=true"),
	})
	if err != nil {
		return err
	}
	for _, c := range res.Items {
		if !strings.HasPrefix(c.Labels[docker.LabelNode], runID) {
			continue
		}
		if _, err := cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !cerrdefs.IsNotFound(err) {
			return err
		}
	}
	return nil
}

// requireEngine skips the test when there is no Docker Engine.
func requireEngine(t *testing.T) {
	t.Helper()
	if env == nil {
		t.Skip("no Docker Engine (/var/run/docker.sock is absent)")
	}
}

// newConfig returns the config of a runtime for a new node of this run, on
// the run's network with the prebuilt sandbox image.
func newConfig(t *testing.T) docker.Config {
	t.Helper()
	requireEngine(t)
	return docker.Config{
		NodeName:     env.runID + "-" + randHex(3),
		Network:      env.network,
		Subnet:       env.subnet.String(),
		SandboxImage: images.Pause,
		Logger:       testLogger(t, slog.LevelWarn),
	}
}

// newRuntime returns a runtime from cfg, closed and with its node's
// containers removed when the test ends.
func newRuntime(t *testing.T, cfg docker.Config) *docker.Runtime {
	t.Helper()
	rt, err := docker.New(cfg)
	if err != nil {
		t.Fatalf("docker.New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := removeRunContainers(ctx, env.cli, rt.Config().NodeName); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		_ = rt.Close()
	})
	return rt
}

// testLogger logs to t.Log at level and above until the test ends.
func testLogger(t *testing.T, level slog.Level) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.done = true
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// testWriter sends log lines to t.Log while the test runs.
type testWriter struct {
	t    *testing.T
	mu   sync.Mutex
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

// testCtx bounds a test's waits.
func testCtx(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// pod runs a sandbox for a new pod and removes it when the test ends.
func pod(ctx context.Context, t *testing.T, rt runtime.Runtime, cfg runtime.PodSandboxConfig) *runtime.PodSandbox {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "pod-" + randHex(3)
	}
	if cfg.Namespace == "" {
		cfg.Namespace = "default"
	}
	if cfg.UID == "" {
		cfg.UID = "uid-" + randHex(8)
	}
	sb, err := rt.RunPodSandbox(ctx, cfg)
	if err != nil {
		t.Fatalf("RunPodSandbox: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := rt.RemovePodSandbox(ctx, sb.ID); err != nil {
			t.Errorf("RemovePodSandbox: %v", err)
		}
	})
	return sb
}

// start creates and starts a container in sb.
func start(ctx context.Context, t *testing.T, rt runtime.Runtime, sb *runtime.PodSandbox, cfg runtime.ContainerConfig) string {
	t.Helper()
	if cfg.Image == "" {
		cfg.Image = images.Echo1
	}
	id, err := rt.CreateContainer(ctx, sb.ID, cfg)
	if err != nil {
		t.Fatalf("CreateContainer(%s): %v", cfg.Name, err)
	}
	if err := rt.StartContainer(ctx, id); err != nil {
		t.Fatalf("StartContainer(%s): %v", cfg.Name, err)
	}
	return id
}

// waitState polls a container until it reaches state.
func waitState(ctx context.Context, t *testing.T, rt runtime.Runtime, id string, state runtime.ContainerState) *runtime.Container {
	t.Helper()
	for {
		c, err := rt.ContainerStatus(ctx, id)
		if err != nil {
			t.Fatalf("ContainerStatus: %v", err)
		}
		if c.State == state {
			return c
		}
		select {
		case <-ctx.Done():
			t.Fatalf("container %s is %s, want %s", c.Name, c.State, state)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
