package docker_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/kl-dev/kl/pkg/kubelet/runtime"
	"github.com/kl-dev/kl/pkg/kubelet/runtime/docker"
	"github.com/kl-dev/kl/test/images"
)

// The containers of a pod share the sandbox's network namespace: each sees
// the pod IP as its own address, they reach each other on localhost, and
// the node reaches the pod at its IP (as the prober and the proxy do).
func TestPodContainersShareTheSandboxNetwork(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t, newConfig(t))
	ctx := testCtx(t, 60*time.Second)
	sb := pod(ctx, t, rt, runtime.PodSandboxConfig{Name: "web", Hostname: "web-host"})
	ip, err := netip.ParseAddr(sb.IP)
	if err != nil || !env.subnet.Contains(ip) {
		t.Fatalf("pod IP %q is not in the pod network %s", sb.IP, env.subnet)
	}
	server := start(ctx, t, rt, sb, runtime.ContainerConfig{Name: "server", Command: []string{"/echo", "serve"}})
	peer := start(ctx, t, rt, sb, runtime.ContainerConfig{Name: "peer", Command: []string{"/echo", "sleep"}})

	out, _, code, err := rt.ExecSync(ctx, server, []string{"/echo", "ip"}, 10*time.Second)
	if err != nil || code != 0 || strings.TrimSpace(string(out)) != sb.IP {
		t.Errorf("addresses seen in the container = %q (exit %d, %v), want the pod IP %s", out, code, err, sb.IP)
	}
	// The server may take a moment to listen.
	var body string
	for body == "" {
		out, _, code, err := rt.ExecSync(ctx, peer, []string{"/echo", "get", "http://localhost:8080/hi"}, 10*time.Second)
		if err != nil {
			t.Fatalf("ExecSync(get): %v", err)
		}
		if code == 0 {
			body = string(out)
			break
		}
		sleepCtx(ctx, t, 50*time.Millisecond)
	}
	if want := "version=1 hostname=web-host path=/hi\n"; body != want {
		t.Errorf("GET localhost:8080 from the other container = %q, want %q", body, want)
	}
	resp, err := httpGet(ctx, "http://"+net.JoinHostPort(sb.IP, "8080")+"/from-node")
	if err != nil || resp != "version=1 hostname=web-host path=/from-node\n" {
		t.Errorf("GET pod IP from the node = %q, %v", resp, err)
	}

	// Stopping the sandbox kills its containers; the pause process ends
	// on SIGTERM (exit 0, no SIGKILL) and the pod IP is released.
	if err := rt.StopPodSandbox(ctx, sb.ID); err != nil {
		t.Fatal(err)
	}
	if c := waitState(ctx, t, rt, server, runtime.ContainerExited); c.ExitCode != 137 {
		t.Errorf("container of a stopped sandbox: exit %d, want 137 (SIGKILL)", c.ExitCode)
	}
	ins, err := env.cli.ContainerInspect(ctx, sb.ID, client.ContainerInspectOptions{})
	if err != nil || ins.Container.State.Running || ins.Container.State.ExitCode != 0 {
		t.Errorf("pause container after StopPodSandbox: %+v, %v; want exited 0", ins.Container.State, err)
	}
	if list, err := rt.ListPodSandboxes(ctx, runtime.SandboxFilter{ID: sb.ID}); err != nil || len(list) != 1 || list[0].State != runtime.SandboxNotReady || list[0].IP != "" {
		t.Errorf("stopped sandbox = %+v, %v; want not ready, no IP", list, err)
	}
}

// A hostNetwork pod reports the node IP; host ports of a pod are published
// on the node (on the given host IP).
func TestHostNetworkAndHostPorts(t *testing.T) {
	t.Parallel()
	cfg := newConfig(t)
	cfg.NodeIP = "127.0.0.1"
	rt := newRuntime(t, cfg)
	ctx := testCtx(t, 60*time.Second)

	host := pod(ctx, t, rt, runtime.PodSandboxConfig{Name: "hostnet", HostNetwork: true})
	if host.IP != "127.0.0.1" {
		t.Errorf("hostNetwork pod IP = %q, want the node IP 127.0.0.1", host.IP)
	}
	id := start(ctx, t, rt, host, runtime.ContainerConfig{Name: "c", Command: []string{"/echo", "sleep"}})
	hostname, _ := os.Hostname()
	out, _, _, err := rt.ExecSync(ctx, id, []string{"/echo", "hostname"}, 10*time.Second)
	if err != nil || strings.TrimSpace(string(out)) != hostname {
		t.Errorf("hostname in a hostNetwork container = %q, %v; want the node's %q", out, err, hostname)
	}

	// A free port may be taken by someone else before the engine binds
	// it: try another then.
	var sb *runtime.PodSandbox
	var port int
	for try := 0; sb == nil; try++ {
		port = freePort(t)
		s, err := rt.RunPodSandbox(ctx, runtime.PodSandboxConfig{Name: "ported", Namespace: "default", UID: "uid-" + randHex(8), Ports: []runtime.PortMapping{
			{ContainerPort: 8080, HostPort: int32(port), HostIP: "127.0.0.1"},
			{ContainerPort: 9090}, // not published
		}})
		if err != nil && (try == 2 || !strings.Contains(err.Error(), "already")) {
			t.Fatalf("RunPodSandbox with a host port: %v", err)
		}
		sb = s
	}
	t.Cleanup(func() { _ = rt.RemovePodSandbox(context.Background(), sb.ID) })
	start(ctx, t, rt, sb, runtime.ContainerConfig{Name: "server", Command: []string{"/echo", "serve"}})
	url := fmt.Sprintf("http://127.0.0.1:%d/port", port)
	var got string
	for got == "" {
		got, err = httpGet(ctx, url)
		if err != nil {
			sleepCtx(ctx, t, 50*time.Millisecond)
		}
	}
	if !strings.HasPrefix(got, "version=1 ") {
		t.Errorf("GET %s = %q, want the echo server", url, got)
	}
}

// Kubernetes semantics: command replaces the image's entrypoint, args its
// arguments; env and workingDir apply.
func TestCommandArgsEnvAndWorkingDir(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t, newConfig(t))
	ctx := testCtx(t, 60*time.Second)
	sb := pod(ctx, t, rt, runtime.PodSandboxConfig{})
	tests := []struct {
		name    string
		command []string
		args    []string
		want    string
	}{
		{"command-only", []string{"/echo", "echo", "from", "command"}, nil, "from command\n"},
		{"args-only", nil, []string{"echo", "args", "after", "the", "image", "entrypoint"}, "args after the image entrypoint\n"},
		{"command-and-args", []string{"/echo", "echo"}, []string{"joined"}, "joined\n"},
		{"env", []string{"/echo", "env"}, nil, "GREETING=hello from kl\n"},
		{"workdir", []string{"/echo", "pwd"}, nil, "/tmp\n"},
	}
	ids := map[string]string{}
	for _, tt := range tests {
		cfg := runtime.ContainerConfig{
			Name: tt.name, Command: tt.command, Args: tt.args,
			Env: []runtime.KeyValue{{Key: "GREETING", Value: "hello from kl"}},
		}
		if tt.name == "workdir" {
			cfg.WorkingDir = "/tmp"
		}
		ids[tt.name] = start(ctx, t, rt, sb, cfg)
	}
	for _, tt := range tests {
		c := waitState(ctx, t, rt, ids[tt.name], runtime.ContainerExited)
		logs := readLogs(ctx, t, rt, ids[tt.name], runtime.LogOptions{})
		switch tt.name {
		case "env":
			if !strings.Contains(logs, tt.want) {
				t.Errorf("%s: environment %q does not contain %q", tt.name, logs, tt.want)
			}
		default:
			if logs != tt.want || c.ExitCode != 0 {
				t.Errorf("%s: logs %q exit %d, want %q and 0", tt.name, logs, c.ExitCode, tt.want)
			}
		}
	}
}

// Bind mounts, read-only ones, the user and groups, and a read-only root
// file system are applied.
func TestMountsAndSecurityContext(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t, newConfig(t))
	ctx := testCtx(t, 60*time.Second)
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte("from the node\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rw := t.TempDir()
	if err := os.Chmod(rw, 0o777); err != nil {
		t.Fatal(err)
	}
	uid, gid := int64(1234), int64(5678)
	sb := pod(ctx, t, rt, runtime.PodSandboxConfig{})
	id := start(ctx, t, rt, sb, runtime.ContainerConfig{
		Name: "app", Command: []string{"/echo", "sleep"},
		Mounts: []runtime.Mount{
			{HostPath: dir, ContainerPath: "/etc/app", ReadOnly: true},
			{HostPath: rw, ContainerPath: "/data"},
		},
		SecurityContext: &runtime.SecurityContext{
			RunAsUser: &uid, RunAsGroup: &gid, SupplementalGroups: []int64{4242},
			ReadOnlyRootFilesystem: true, CapDrop: []string{"ALL"},
		},
		Resources: runtime.Resources{CPULimitMilli: 500, CPURequestMilli: 100, MemoryLimitBytes: 64 << 20},
	})
	execOK := func(cmd ...string) (string, int) {
		t.Helper()
		out, errOut, code, err := rt.ExecSync(ctx, id, cmd, 10*time.Second)
		if err != nil {
			t.Fatalf("ExecSync(%v): %v", cmd, err)
		}
		return string(out) + string(errOut), code
	}
	if out, _ := execOK("/echo", "cat", "/etc/app/config"); out != "from the node\n" {
		t.Errorf("mounted file = %q, want %q", out, "from the node\n")
	}
	if out, _ := execOK("/echo", "id"); !strings.HasPrefix(out, "uid=1234 gid=5678 groups=") || !strings.Contains(out, "4242") {
		t.Errorf("id = %q, want uid=1234 gid=5678 and supplemental group 4242", out)
	}
	if _, code := execOK("/echo", "write", "/etc/app/new", "x"); code == 0 {
		t.Errorf("writing to a read-only mount succeeded")
	}
	if _, code := execOK("/echo", "write", "/tmp/new", "x"); code == 0 {
		t.Errorf("writing to a read-only root file system succeeded")
	}
	if out, code := execOK("/echo", "write", "/data/out", "from the pod"); code != 0 {
		t.Errorf("writing to a read-write mount failed: %s", out)
	} else if data, err := os.ReadFile(filepath.Join(rw, "out")); err != nil || string(data) != "from the pod\n" {
		t.Errorf("file written in the mount = %q, %v", data, err)
	}
	ins, err := env.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hc := ins.Container.HostConfig
	if hc.NanoCPUs != 500_000_000 || hc.CPUShares != 102 || hc.Memory != 64<<20 || hc.MemorySwap != 64<<20 {
		t.Errorf("resources = nanoCPUs %d shares %d memory %d swap %d; want 5e8, 102, 64Mi, 64Mi", hc.NanoCPUs, hc.CPUShares, hc.Memory, hc.MemorySwap)
	}
	if hc.LogConfig.Type != "json-file" {
		t.Errorf("log driver = %q, want json-file", hc.LogConfig.Type)
	}
}

// A container over its memory limit is killed with reason OOMKilled; one
// whose program cannot start reports ContainerCannotRun.
func TestExitReasons(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t, newConfig(t))
	ctx := testCtx(t, 60*time.Second)
	sb := pod(ctx, t, rt, runtime.PodSandboxConfig{})

	oom := start(ctx, t, rt, sb, runtime.ContainerConfig{
		Name: "hog", Command: []string{"/echo", "oom"}, Resources: runtime.Resources{MemoryLimitBytes: 16 << 20},
	})
	if c := waitState(ctx, t, rt, oom, runtime.ContainerExited); c.Reason != "OOMKilled" || c.ExitCode != 137 {
		t.Errorf("container over its memory limit: reason %q exit %d, want OOMKilled 137", c.Reason, c.ExitCode)
	}

	id, err := rt.CreateContainer(ctx, sb.ID, runtime.ContainerConfig{Name: "broken", Image: images.Echo1, Command: []string{"/no/such/program"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.StartContainer(ctx, id); err == nil {
		t.Errorf("StartContainer of a missing program succeeded, want an error")
	}
	c, err := rt.ContainerStatus(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if c.State != runtime.ContainerExited || c.Reason != "ContainerCannotRun" || !strings.Contains(c.Message, "/no/such/program") || c.ExitCode == 0 {
		t.Errorf("container that cannot start: state %s reason %q message %q exit %d; want exited, ContainerCannotRun, the engine's message, non-zero",
			c.State, c.Reason, c.Message, c.ExitCode)
	}
}

// StopContainer lets a container that handles SIGTERM finish within the
// grace period (it is not killed), and returns once it has exited.
func TestStopHonoursGracePeriod(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t, newConfig(t))
	ctx := testCtx(t, 60*time.Second)
	sb := pod(ctx, t, rt, runtime.PodSandboxConfig{})
	const delay = 1500 * time.Millisecond
	id := start(ctx, t, rt, sb, runtime.ContainerConfig{
		Name: "graceful", Command: []string{"/echo", "sleep"},
		Env: []runtime.KeyValue{{Key: "TERM_DELAY", Value: delay.String()}},
	})
	// Stop it once it says it handles SIGTERM.
	rc, err := rt.ContainerLogs(ctx, id, runtime.LogOptions{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(rc).ReadString('\n')
	_ = rc.Close()
	if !strings.HasPrefix(line, "sleeping; on SIGTERM") {
		t.Fatalf("first log line = %q, %v", line, err)
	}
	began := time.Now()
	if err := rt.StopContainer(ctx, id, 10*time.Second); err != nil {
		t.Fatalf("StopContainer: %v", err)
	}
	took := time.Since(began)
	c, err := rt.ContainerStatus(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if c.State != runtime.ContainerExited || c.ExitCode != 0 || c.Reason != "Completed" {
		t.Errorf("after a graceful stop: state %s exit %d reason %q, want exited 0 Completed (not killed); logs: %q",
			c.State, c.ExitCode, c.Reason, readLogs(ctx, t, rt, id, runtime.LogOptions{}))
	}
	if took < delay-100*time.Millisecond {
		t.Errorf("StopContainer returned after %v, before the container's %v shutdown ended", took, delay)
	}
	if took > 9*time.Second {
		t.Errorf("StopContainer took %v: it waited for the grace period, not for the exit", took)
	}
}

// Logs: stdout and stderr merged, followed while the container runs (the
// stream ends when it exits), since a time; exec with stdin.
func TestLogsFollowAndExecStreams(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t, newConfig(t))
	ctx := testCtx(t, 60*time.Second)
	sb := pod(ctx, t, rt, runtime.PodSandboxConfig{})
	id := start(ctx, t, rt, sb, runtime.ContainerConfig{Name: "server", Command: []string{"/echo", "serve"}})

	rc, err := rt.ContainerLogs(ctx, id, runtime.LogOptions{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewReader(rc)
	first, err := lines.ReadString('\n')
	if err != nil || first != "echo version 1 listening on :8080\n" {
		t.Fatalf("first followed log line = %q, %v", first, err)
	}
	// The server exits 3 when asked; the followed stream then ends.
	if _, _, code, err := rt.ExecSync(ctx, id, []string{"/echo", "get", "http://localhost:8080/exit?code=3"}, 10*time.Second); err != nil || code != 0 {
		t.Fatalf("asking the server to exit: exit %d, %v", code, err)
	}
	rest, err := io.ReadAll(lines)
	if err != nil {
		t.Errorf("reading the followed logs to their end: %v (after %q)", err, rest)
	}
	_ = rc.Close()
	if c := waitState(ctx, t, rt, id, runtime.ContainerExited); c.ExitCode != 3 || c.Reason != "Error" {
		t.Errorf("server asked to exit 3: exit %d reason %q", c.ExitCode, c.Reason)
	}

	mixed := start(ctx, t, rt, sb, runtime.ContainerConfig{Name: "mixed", Command: []string{"/echo", "stderr", "to stderr"}})
	waitState(ctx, t, rt, mixed, runtime.ContainerExited)
	if got := readLogs(ctx, t, rt, mixed, runtime.LogOptions{}); got != "to stderr\n" {
		t.Errorf("logs of a container writing to stderr = %q", got)
	}
	if got := readLogs(ctx, t, rt, mixed, runtime.LogOptions{Since: time.Now().Add(time.Hour)}); got != "" {
		t.Errorf("logs since a future time = %q, want none", got)
	}

	cat := start(ctx, t, rt, sb, runtime.ContainerConfig{Name: "cat", Command: []string{"/echo", "sleep"}})
	var stdout, stderr bytes.Buffer
	code, err := rt.Exec(ctx, cat, runtime.ExecOptions{
		Cmd: []string{"/echo", "cat"}, Stdin: strings.NewReader("typed in\n"), Stdout: &stdout, Stderr: &stderr,
	})
	if err != nil || code != 0 || stdout.String() != "typed in\n" {
		t.Errorf("Exec(cat) with stdin = %q (stderr %q), exit %d, %v; want the input back", stdout.String(), stderr.String(), code, err)
	}
	code, err = rt.Exec(ctx, cat, runtime.ExecOptions{Cmd: []string{"/echo", "exit", "7"}})
	if err != nil || code != 7 {
		t.Errorf("Exec(exit 7) = %d, %v; want 7", code, err)
	}
	if _, err := rt.Exec(ctx, "no-such-container", runtime.ExecOptions{Cmd: []string{"/echo"}}); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("Exec in a missing container = %v, want ErrNotFound", err)
	}
}

// A restarted kubelet (a new runtime for the same node) finds its
// sandboxes and containers; another node on the same engine sees none of
// them and cannot touch them.
func TestAdoptionAcrossRestartsAndNodes(t *testing.T) {
	t.Parallel()
	cfg := newConfig(t)
	first := newRuntime(t, cfg)
	ctx := testCtx(t, 60*time.Second)
	sb := pod(ctx, t, first, runtime.PodSandboxConfig{Name: "kept", Labels: map[string]string{"app": "kept"}})
	id := start(ctx, t, first, sb, runtime.ContainerConfig{Name: "app", Attempt: 2, Command: []string{"/echo", "sleep"}})
	waitState(ctx, t, first, id, runtime.ContainerRunning)
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	again := newRuntime(t, cfg)
	sbs, err := again.ListPodSandboxes(ctx, runtime.SandboxFilter{})
	if err != nil || len(sbs) != 1 || sbs[0].ID != sb.ID || sbs[0].IP != sb.IP || sbs[0].State != runtime.SandboxReady || sbs[0].Labels["app"] != "kept" {
		t.Fatalf("sandboxes after a restart = %+v, %v; want the one sandbox %s, ready, same IP", sbs, err, sb.ID)
	}
	cs, err := again.ListContainers(ctx, runtime.ContainerFilter{})
	if err != nil || len(cs) != 1 || cs[0].ID != id || cs[0].State != runtime.ContainerRunning || cs[0].Attempt != 2 || cs[0].PodUID != sb.UID {
		t.Fatalf("containers after a restart = %+v, %v; want the running container %s, attempt 2", cs, err, id)
	}

	otherCfg := newConfig(t)
	other := newRuntime(t, otherCfg)
	if sbs, err := other.ListPodSandboxes(ctx, runtime.SandboxFilter{}); err != nil || len(sbs) != 0 {
		t.Errorf("another node's sandboxes = %d, %v; want none", len(sbs), err)
	}
	if cs, err := other.ListContainers(ctx, runtime.ContainerFilter{PodUID: sb.UID}); err != nil || len(cs) != 0 {
		t.Errorf("another node's containers = %d, %v; want none", len(cs), err)
	}
	if _, err := other.ContainerStatus(ctx, id); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("another node's ContainerStatus = %v, want ErrNotFound", err)
	}
	if err := other.RemovePodSandbox(ctx, sb.ID); err != nil {
		t.Errorf("another node's RemovePodSandbox = %v, want nil (nothing of its own)", err)
	}
	if _, err := other.CreateContainer(ctx, sb.ID, runtime.ContainerConfig{Name: "x", Image: images.Echo1}); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("another node's CreateContainer in the sandbox = %v, want ErrNotFound", err)
	}
	if c, err := again.ContainerStatus(ctx, id); err != nil || c.State != runtime.ContainerRunning {
		t.Errorf("the container after another node's attempts = %+v, %v; want it running", c, err)
	}

	// Cleanup removes everything of the pod.
	if err := again.RemovePodSandbox(ctx, sb.ID); err != nil {
		t.Fatal(err)
	}
	left, err := env.cli.ContainerList(ctx, client.ContainerListOptions{
		All: true, Filters: make(client.Filters).Add("label", runtime.LabelPodUID+"="+sb.UID),
	})
	if err != nil || len(left.Items) != 0 {
		t.Errorf("engine containers of the pod after RemovePodSandbox = %d, %v; want none", len(left.Items), err)
	}
}

// The runtime makes its network and its sandbox image when they are
// missing (labelled kl.managed=true), and only once.
func TestNetworkAndSandboxImageAreMadeOnce(t *testing.T) {
	t.Parallel()
	requireEngine(t)
	ctx := testCtx(t, 2*time.Minute)
	bin, err := images.BuildProgram(ctx, "1", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg := newConfig(t)
	cfg.Network = env.runID + "-own-net"
	cfg.Subnet = freeSubnet(t).String()
	cfg.SandboxImage = "kl.test/pause-made:" + randHex(4)
	cfg.PauseBinary = bin
	var logs lockedBuffer
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := removeRunContainers(ctx, env.cli, cfg.NodeName); err != nil {
			t.Error(err)
		}
		if _, err := env.cli.NetworkRemove(ctx, cfg.Network, client.NetworkRemoveOptions{}); err != nil && !cerrdefs.IsNotFound(err) {
			t.Error(err)
		}
		if _, err := env.cli.ImageRemove(ctx, cfg.SandboxImage, client.ImageRemoveOptions{PruneChildren: true}); err != nil && !cerrdefs.IsNotFound(err) {
			t.Error(err)
		}
	})

	for i := range 2 { // the second runtime finds what the first made
		rt := newRuntime(t, cfg)
		sb := pod(ctx, t, rt, runtime.PodSandboxConfig{Name: "p" + strconv.Itoa(i)})
		if ip, err := netip.ParseAddr(sb.IP); err != nil || !netip.MustParsePrefix(cfg.Subnet).Contains(ip) {
			t.Errorf("pod IP %q is not in the runtime's subnet %s", sb.IP, cfg.Subnet)
		}
	}
	if n := strings.Count(logs.String(), "made the sandbox image"); n != 1 {
		t.Errorf("the sandbox image was made %d times, want once; logs:\n%s", n, logs.String())
	}
	if n := strings.Count(logs.String(), "created the pod network"); n != 1 {
		t.Errorf("the network was created %d times, want once; logs:\n%s", n, logs.String())
	}
	nw, err := env.cli.NetworkInspect(ctx, cfg.Network, client.NetworkInspectOptions{})
	if err != nil || nw.Network.Labels[docker.LabelManaged] != "true" {
		t.Errorf("network %s = labels %v, %v; want kl.managed=true", cfg.Network, nw.Network.Labels, err)
	}
	img, err := env.cli.ImageInspect(ctx, cfg.SandboxImage)
	if err != nil || img.Config == nil || !slices.Equal(img.Config.Entrypoint, []string{"/kl", "pause"}) || img.Config.Labels[docker.LabelManaged] != "true" {
		t.Errorf("sandbox image = %+v, %v; want entrypoint /kl pause, kl.managed=true", img.Config, err)
	}

	// A program that is not static cannot make a sandbox image.
	dyn := newConfig(t)
	dyn.SandboxImage = "kl.test/pause-dynamic:" + randHex(4)
	dyn.PauseBinary = "/bin/sh"
	if err := checkDynamic(dyn.PauseBinary); err != nil {
		t.Logf("skipping the dynamic-program check: %v", err)
		return
	}
	_, err = newRuntime(t, dyn).RunPodSandbox(ctx, runtime.PodSandboxConfig{Name: "p", UID: "u-" + randHex(4)})
	if err == nil || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
		t.Errorf("RunPodSandbox with a dynamically linked pause program = %v, want an error naming CGO_ENABLED=0", err)
	}
}

// checkDynamic returns nil if path exists and is a dynamically linked ELF.
func checkDynamic(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(data, []byte("\x7fELF")) || !bytes.Contains(data, []byte("ld-linux")) {
		return fmt.Errorf("%s is not a dynamically linked program", path)
	}
	return nil
}

// PullImage fails with the engine's message when no registry has the
// image; images present can be listed and removed.
func TestImages(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t, newConfig(t))
	ctx := testCtx(t, 60*time.Second)
	_, err := rt.PullImage(ctx, "kl.test/no-such-image:"+randHex(3), &runtime.AuthConfig{Username: "u", Password: "p"})
	if err == nil || !strings.Contains(err.Error(), "kl.test/no-such-image") {
		t.Errorf("PullImage of an image no registry has = %v, want an error naming it", err)
	}
	img, err := rt.ImageStatus(ctx, images.Echo1)
	if err != nil || !strings.HasPrefix(img.ID, "sha256:") || !slices.Contains(img.RepoTags, images.Echo1) {
		t.Fatalf("ImageStatus(%s) = %+v, %v", images.Echo1, img, err)
	}
	list, err := rt.ListImages(ctx)
	if err != nil || !slices.ContainsFunc(list, func(i *runtime.Image) bool { return i.ID == img.ID }) {
		t.Errorf("ListImages does not list %s: %v", images.Echo1, err)
	}
	if err := rt.RemoveImage(ctx, "kl.test/no-such-image:1"); err != nil {
		t.Errorf("RemoveImage of a missing image = %v, want nil", err)
	}
	// A tag of our own, removed again.
	tag := "kl.test/removable:" + randHex(3)
	if _, err := env.cli.ImageTag(ctx, client.ImageTagOptions{Source: images.Echo1, Target: tag}); err != nil {
		t.Fatal(err)
	}
	if err := rt.RemoveImage(ctx, tag); err != nil {
		t.Fatalf("RemoveImage: %v", err)
	}
	if _, err := rt.ImageStatus(ctx, tag); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("ImageStatus after RemoveImage = %v, want ErrNotFound", err)
	}
	if _, err := rt.ImageStatus(ctx, images.Echo1); err != nil {
		t.Errorf("removing a tag removed the image it named: %v", err)
	}
}

func readLogs(ctx context.Context, t *testing.T, rt runtime.Runtime, id string, opts runtime.LogOptions) string {
	t.Helper()
	rc, err := rt.ContainerLogs(ctx, id, opts)
	if err != nil {
		t.Fatalf("ContainerLogs: %v", err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read logs: %v", err)
	}
	return string(data)
}

func httpGet(ctx context.Context, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return string(data), nil
}

func sleepCtx(ctx context.Context, t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-ctx.Done():
		t.Fatalf("gave up waiting: %v", ctx.Err())
	case <-time.After(d):
	}
}

// freePort returns a TCP port of 127.0.0.1 that is free now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// lockedBuffer is a bytes.Buffer safe for concurrent writers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
