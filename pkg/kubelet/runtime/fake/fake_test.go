package fake_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/kubelet/prober"
	"github.com/kl-dev/kl/pkg/kubelet/runtime"
	"github.com/kl-dev/kl/pkg/kubelet/runtime/fake"
)

func newFake(t *testing.T, cfg fake.Config) *fake.Runtime {
	t.Helper()
	rt, err := fake.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Close() })
	return rt
}

func sandbox(t *testing.T, rt *fake.Runtime, uid string) *runtime.PodSandbox {
	t.Helper()
	sb, err := rt.RunPodSandbox(t.Context(), runtime.PodSandboxConfig{Name: "pod-" + uid, Namespace: "default", UID: uid, Hostname: "host-" + uid})
	if err != nil {
		t.Fatal(err)
	}
	return sb
}

// start pulls image, creates a container running argv and starts it.
func start(t *testing.T, rt *fake.Runtime, sb *runtime.PodSandbox, name, image string, argv ...string) string {
	t.Helper()
	ctx := t.Context()
	if _, err := rt.PullImage(ctx, image, nil); err != nil {
		t.Fatal(err)
	}
	id, err := rt.CreateContainer(ctx, sb.ID, runtime.ContainerConfig{
		Name: name, Image: image, Command: argv,
		Env: []runtime.KeyValue{{Key: "A", Value: "1"}, {Key: "B", Value: "two"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	return id
}

// waitExited waits for the container to exit, up to 5s.
func waitExited(t *testing.T, rt *fake.Runtime, id string) *runtime.Container {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := rt.ContainerStatus(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if c.State == runtime.ContainerExited {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s still %s after 5s", c.Name, c.State)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSpecialImagesAndCommandsExit(t *testing.T) {
	tests := []struct {
		name       string
		image      string
		argv       []string
		wantCode   int32
		wantReason string
	}{
		{"exit image", "kl.test/exit:3", nil, 3, "Error"},
		{"exit image zero", "kl.test/exit:0", nil, 0, "Completed"},
		{"crash image", "kl.test/crash:v2", nil, 1, "Error"},
		{"oom image", "kl.test/oom", nil, 137, "OOMKilled"},
		{"exit command", "busybox", []string{"exit", "4"}, 4, "Error"},
		{"sh -c exit", "busybox", []string{"sh", "-c", "exit 5"}, 5, "Error"},
		{"true", "busybox", []string{"true"}, 0, "Completed"},
		{"false", "busybox", []string{"/bin/false"}, 1, "Error"},
		{"sleep", "busybox", []string{"sleep", "20ms"}, 0, "Completed"},
		{"echo", "busybox", []string{"echo", "hi"}, 0, "Completed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := newFake(t, fake.Config{})
			id := start(t, rt, sandbox(t, rt, "u1"), "c", tt.image, tt.argv...)
			c := waitExited(t, rt, id)
			if c.ExitCode != tt.wantCode || c.Reason != tt.wantReason {
				t.Errorf("exit %d %q, want %d %q", c.ExitCode, c.Reason, tt.wantCode, tt.wantReason)
			}
		})
	}
}

func TestOrdinaryContainersRunUntilStopped(t *testing.T) {
	rt := newFake(t, fake.Config{ExitDelay: time.Millisecond})
	id := start(t, rt, sandbox(t, rt, "u1"), "web", "nginx:1.27")
	time.Sleep(20 * time.Millisecond) // well past ExitDelay
	c, err := rt.ContainerStatus(t.Context(), id)
	if err != nil || c.State != runtime.ContainerRunning {
		t.Fatalf("nginx container = %+v, %v; want running", c, err)
	}
	if err := rt.StopContainer(t.Context(), id, time.Minute); err != nil {
		t.Fatal(err)
	}
	if c := waitExited(t, rt, id); c.ExitCode != 143 || c.Reason != "Error" {
		t.Errorf("SIGTERM: exit %d %q, want 143 Error", c.ExitCode, c.Reason)
	}
}

func TestStartDelay(t *testing.T) {
	const delay = 50 * time.Millisecond
	rt := newFake(t, fake.Config{StartDelay: delay})
	sb := sandbox(t, rt, "u1")
	begin := time.Now()
	start(t, rt, sb, "web", "nginx")
	if took := time.Since(begin); took < delay {
		t.Errorf("StartContainer returned after %v, want at least the %v start delay", took, delay)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := rt.PullImage(t.Context(), "nginx", nil); err != nil {
		t.Fatal(err)
	}
	id2, err := rt.CreateContainer(t.Context(), sb.ID, runtime.ContainerConfig{Name: "late", Image: "nginx"})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.StartContainer(ctx, id2); !errors.Is(err, context.Canceled) {
		t.Errorf("StartContainer with a cancelled ctx = %v, want context.Canceled", err)
	}
}

func TestPullError(t *testing.T) {
	rt := newFake(t, fake.Config{})
	_, err := rt.PullImage(t.Context(), "kl.test/pull-error:1", nil)
	if err == nil || !strings.Contains(err.Error(), "pull access denied") {
		t.Fatalf("PullImage(kl.test/pull-error) = %v, want a pull access denied error", err)
	}
}

func TestPodIPsComeFromThePodCIDRRoundRobin(t *testing.T) {
	rt := newFake(t, fake.Config{PodCIDR: "10.244.7.0/29"}) // hosts .2 .. .6
	var ips []string
	var first *runtime.PodSandbox
	for i := range 5 {
		sb := sandbox(t, rt, string(rune('a'+i)))
		if i == 0 {
			first = sb
		}
		ips = append(ips, sb.IP)
	}
	if got := strings.Join(ips, " "); got != "10.244.7.2 10.244.7.3 10.244.7.4 10.244.7.5 10.244.7.6" {
		t.Errorf("IPs = %s", got)
	}
	if _, err := rt.RunPodSandbox(t.Context(), runtime.PodSandboxConfig{Name: "x", UID: "x"}); err == nil || !strings.Contains(err.Error(), "no free IP") {
		t.Errorf("sixth sandbox in a /29: %v, want no free IP", err)
	}
	if err := rt.StopPodSandbox(t.Context(), first.ID); err != nil {
		t.Fatal(err)
	}
	if sb := sandbox(t, rt, "y"); sb.IP != "10.244.7.2" {
		t.Errorf("after releasing .2, the next sandbox got %s, want 10.244.7.2", sb.IP)
	}
	host, err := rt.RunPodSandbox(t.Context(), runtime.PodSandboxConfig{Name: "h", UID: "h", HostNetwork: true})
	if err != nil || host.IP != "127.0.0.1" {
		t.Errorf("host-network sandbox = %+v, %v; want the node IP", host, err)
	}
}

func TestProbesFollowTheImage(t *testing.T) {
	rt := newFake(t, fake.Config{})
	sb := sandbox(t, rt, "u1")
	probe := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz"}}}
	tests := []struct {
		image string
		typ   prober.ProbeType
		want  prober.Result
	}{
		{"nginx", prober.Readiness, prober.Success},
		{"nginx", prober.Liveness, prober.Success},
		{"kl.test/fail-readiness", prober.Readiness, prober.Failure},
		{"kl.test/fail-readiness", prober.Liveness, prober.Success},
		{"kl.test/fail-liveness", prober.Liveness, prober.Failure},
		{"kl.test/fail-liveness:2", prober.Readiness, prober.Success},
		{"kl.test/fail-startup", prober.Startup, prober.Failure},
	}
	for i, tt := range tests {
		id := start(t, rt, sb, "c"+string(rune('a'+i)), tt.image)
		got, msg, err := rt.Probe(t.Context(), prober.Request{Type: tt.typ, Probe: probe, ContainerID: id})
		if err != nil || got != tt.want {
			t.Errorf("%s probe of %s = %v %q, %v; want %v", tt.typ, tt.image, got, msg, err, tt.want)
		}
		if got == prober.Failure && msg != "HTTP probe failed with statuscode: 503" {
			t.Errorf("failure message %q", msg)
		}
		if err := rt.StopContainer(t.Context(), id, 0); err != nil {
			t.Fatal(err)
		}
		if got, _, _ := rt.Probe(t.Context(), prober.Request{Type: tt.typ, Probe: probe, ContainerID: id}); got != prober.Failure {
			t.Errorf("probe of a stopped container = %v, want failure", got)
		}
	}
}

func TestExecCommands(t *testing.T) {
	rt := newFake(t, fake.Config{})
	id := start(t, rt, sandbox(t, rt, "u1"), "app", "nginx")
	tests := []struct {
		cmd      []string
		wantOut  string
		wantCode int
	}{
		{[]string{"hostname"}, "host-u1\n", 0},
		{[]string{"env"}, "A=1\nB=two\n", 0},
		{[]string{"/bin/echo", "a", "b"}, "a b\n", 0},
		{[]string{"false"}, "", 1},
		{[]string{"sh", "-c", "exit 7"}, "", 7},
		{[]string{"cat", "/etc/anything"}, "", 0},
		{[]string{"wget", "-q", "localhost"}, "", 0},
	}
	for _, tt := range tests {
		out, _, code, err := rt.ExecSync(t.Context(), id, tt.cmd, time.Second)
		if err != nil || string(out) != tt.wantOut || code != tt.wantCode {
			t.Errorf("exec %q = %q exit %d, %v; want %q exit %d", tt.cmd, out, code, err, tt.wantOut, tt.wantCode)
		}
	}
	var stdout strings.Builder
	code, err := rt.Exec(t.Context(), id, runtime.ExecOptions{Cmd: []string{"cat"}, Stdin: strings.NewReader("typed\n"), Stdout: &stdout})
	if err != nil || code != 0 || stdout.String() != "typed\n" {
		t.Errorf("interactive cat = %q exit %d, %v", stdout.String(), code, err)
	}
}

func TestStateFileKeepsContainersAcrossRestarts(t *testing.T) {
	file := filepath.Join(t.TempDir(), "node.json")
	cfg := fake.Config{StateFile: file, ExitDelay: 300 * time.Millisecond}
	rt1, err := fake.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sb := sandbox(t, rt1, "u1")
	web := start(t, rt1, sb, "web", "nginx")
	job := start(t, rt1, sb, "job", "kl.test/exit:2")
	if err := rt1.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	rt2 := newFake(t, cfg)
	sbs, err := rt2.ListPodSandboxes(t.Context(), runtime.SandboxFilter{PodUID: "u1"})
	if err != nil || len(sbs) != 1 || sbs[0].ID != sb.ID || sbs[0].IP != sb.IP || sbs[0].State != runtime.SandboxReady {
		t.Fatalf("sandboxes after restart = %+v, %v; want %s with IP %s, ready", sbs, err, sb.ID, sb.IP)
	}
	c, err := rt2.ContainerStatus(t.Context(), web)
	if err != nil || c.State != runtime.ContainerRunning {
		t.Fatalf("web after restart = %+v, %v; want running", c, err)
	}
	// The job was due to exit 300ms after it started; it does so in the
	// new runtime, at its due time.
	if c := waitExited(t, rt2, job); c.ExitCode != 2 || c.FinishedAt.Sub(c.StartedAt) < 250*time.Millisecond {
		t.Errorf("job after restart: exit %d after %v, want exit 2 after ~300ms", c.ExitCode, c.FinishedAt.Sub(c.StartedAt))
	}
	// The IP stays taken: a new sandbox gets another one.
	if other := sandbox(t, rt2, "u2"); other.IP == sb.IP {
		t.Errorf("new sandbox reuses %s, still held by the adopted sandbox", other.IP)
	}
	// Images pulled before the restart are still present.
	if _, err := rt2.ImageStatus(t.Context(), "nginx:latest"); err != nil {
		t.Errorf("image after restart: %v", err)
	}
}

func TestCorruptStateFileIsAnError(t *testing.T) {
	file := filepath.Join(t.TempDir(), "node.json")
	if err := writeFile(file, "{not json"); err != nil {
		t.Fatal(err)
	}
	if _, err := fake.New(fake.Config{StateFile: file}); err == nil || !strings.Contains(err.Error(), "is corrupt") {
		t.Errorf("New with a corrupt state file = %v, want an error saying so", err)
	}
}

func TestFollowLogsEndsWhenTheContainerExits(t *testing.T) {
	rt := newFake(t, fake.Config{})
	id := start(t, rt, sandbox(t, rt, "u1"), "app", "nginx")
	rc, err := rt.ContainerLogs(t.Context(), id, runtime.LogOptions{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 64)
		for {
			if _, err := rc.Read(buf); err != nil {
				return
			}
		}
	}()
	if err := rt.StopContainer(t.Context(), id, time.Second); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("followed log stream did not end after the container exited")
	}
}

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o600) }
