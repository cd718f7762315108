package docker

import (
	"net/netip"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/network"

	"github.com/kl-dev/kl/pkg/kubelet/runtime"
)

// An engine's container state maps to the runtime's state and, for an
// exited container, Kubernetes' reasons.
func TestContainerViewStatesAndReasons(t *testing.T) {
	const (
		created  = "2026-01-02T03:04:05.000000001Z"
		started  = "2026-01-02T03:04:06Z"
		finished = "2026-01-02T03:04:07Z"
		never    = "0001-01-01T00:00:00Z"
	)
	tests := []struct {
		name       string
		state      container.State
		wantState  runtime.ContainerState
		wantReason string
		wantCode   int32
	}{
		{"created", container.State{Status: container.StateCreated, StartedAt: never, FinishedAt: never}, runtime.ContainerCreated, "", 0},
		{"running", container.State{Status: container.StateRunning, Running: true, StartedAt: started, FinishedAt: never}, runtime.ContainerRunning, "", 0},
		{"paused counts as running", container.State{Status: container.StatePaused, Running: true, Paused: true, StartedAt: started}, runtime.ContainerRunning, "", 0},
		{"exit 0", container.State{Status: container.StateExited, StartedAt: started, FinishedAt: finished}, runtime.ContainerExited, "Completed", 0},
		{"exit 3", container.State{Status: container.StateExited, ExitCode: 3, StartedAt: started, FinishedAt: finished}, runtime.ContainerExited, "Error", 3},
		{"oom", container.State{Status: container.StateExited, OOMKilled: true, ExitCode: 137, StartedAt: started, FinishedAt: finished}, runtime.ContainerExited, "OOMKilled", 137},
		{"cannot run", container.State{Status: container.StateCreated, ExitCode: 127, Error: "exec: not found", StartedAt: never, FinishedAt: never}, runtime.ContainerExited, "ContainerCannotRun", 127},
		{"dead", container.State{Status: container.StateDead, Dead: true, ExitCode: 137, StartedAt: started, FinishedAt: finished}, runtime.ContainerExited, "Error", 137},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := tt.state
			c := &container.InspectResponse{
				ID: "abc", Created: created, Image: "sha256:img", State: &st,
				Config: &container.Config{Image: "kl.test/echo:1", Labels: map[string]string{
					runtime.LabelPodUID: "u", runtime.LabelPodName: "p", runtime.LabelPodNamespace: "ns",
					runtime.LabelContainerName: "web", runtime.LabelContainerAttempt: "4", LabelSandboxID: "sb",
				}},
			}
			v := containerView(c)
			if v.State != tt.wantState || v.Reason != tt.wantReason || v.ExitCode != tt.wantCode {
				t.Errorf("view = state %s reason %q exit %d, want %s %q %d", v.State, v.Reason, v.ExitCode, tt.wantState, tt.wantReason, tt.wantCode)
			}
			if v.Name != "web" || v.Attempt != 4 || v.PodUID != "u" || v.SandboxID != "sb" || v.Image != "kl.test/echo:1" || v.ImageRef != "sha256:img" {
				t.Errorf("identity = %+v", v)
			}
			if v.CreatedAt.IsZero() || v.CreatedAt.Nanosecond() != 1 {
				t.Errorf("createdAt = %v, want nanosecond precision", v.CreatedAt)
			}
			if v.State == runtime.ContainerExited && (v.FinishedAt.IsZero() || v.FinishedAt.Before(v.StartedAt)) {
				t.Errorf("exited container: startedAt %v finishedAt %v, want finishedAt set and not before startedAt", v.StartedAt, v.FinishedAt)
			}
			if tt.name == "cannot run" && v.Message != "exec: not found" {
				t.Errorf("message = %q, want the engine's error", v.Message)
			}
		})
	}
}

// The engine stamps startedAt after the process began: a process that
// exits at once must not look like it finished before it started.
func TestFinishedAtIsNeverBeforeStartedAt(t *testing.T) {
	c := &container.InspectResponse{
		Created: "2026-01-02T03:04:05Z", Config: &container.Config{},
		State: &container.State{Status: container.StateExited, StartedAt: "2026-01-02T03:04:06.5Z", FinishedAt: "2026-01-02T03:04:06.4Z"},
	}
	v := containerView(c)
	if !v.FinishedAt.Equal(v.StartedAt) {
		t.Errorf("startedAt %v finishedAt %v, want them equal", v.StartedAt, v.FinishedAt)
	}
}

func TestUserOfSecurityContext(t *testing.T) {
	n := func(i int64) *int64 { return &i }
	tests := []struct {
		sc        runtime.SecurityContext
		imageUser string
		want      string
	}{
		{runtime.SecurityContext{}, "app", ""},
		{runtime.SecurityContext{RunAsUser: n(1000)}, "app", "1000"},
		{runtime.SecurityContext{RunAsUser: n(1000), RunAsGroup: n(2000)}, "", "1000:2000"},
		{runtime.SecurityContext{RunAsGroup: n(2000)}, "app:staff", "app:2000"},
		{runtime.SecurityContext{RunAsGroup: n(2000)}, "", "0:2000"},
	}
	for _, tt := range tests {
		if got := userOf(&tt.sc, tt.imageUser); got != tt.want {
			t.Errorf("userOf(%+v, image user %q) = %q, want %q", tt.sc, tt.imageUser, got, tt.want)
		}
	}
}

func TestPortBindings(t *testing.T) {
	got, err := portBindings([]runtime.PortMapping{
		{ContainerPort: 80, HostPort: 8080},
		{ContainerPort: 53, HostPort: 5353, Protocol: "UDP", HostIP: "127.0.0.1"},
		{ContainerPort: 9090}, // not published
	})
	if err != nil {
		t.Fatal(err)
	}
	tcp := network.MustParsePort("80/tcp")
	udp := network.MustParsePort("53/udp")
	if len(got) != 2 || len(got[tcp]) != 1 || got[tcp][0].HostPort != "8080" || got[tcp][0].HostIP.IsValid() ||
		len(got[udp]) != 1 || got[udp][0].HostIP != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("portBindings = %v", got)
	}
	for _, bad := range []runtime.PortMapping{
		{ContainerPort: 80, HostPort: 8080, HostIP: "localhost"},
		{ContainerPort: 0, HostPort: 8080},
		{ContainerPort: 80, HostPort: 70000},
	} {
		if _, err := portBindings([]runtime.PortMapping{bad}); err == nil {
			t.Errorf("portBindings(%+v) succeeded, want an error", bad)
		}
	}
}

func TestNamesAndTags(t *testing.T) {
	if got := dockerName("kl", "web", "my.pod", "ns", "0123456789ab", "2"); got != "kl_web_my.pod_ns_0123456789ab_2" {
		t.Errorf("dockerName = %q", got)
	}
	if got := dockerName("kl", "a b/c"); got != "kl_a-b-c" {
		t.Errorf("dockerName with bad characters = %q", got)
	}
	for in, want := range map[string]string{
		"v0.1.0":              "v0.1.0",
		"v0.1.0-3-gabc-dirty": "v0.1.0-3-gabc-dirty",
		"(devel)":             "_devel_",
		"-x":                  "x",
		"":                    "latest",
	} {
		if got := imageTag(in); got != want {
			t.Errorf("imageTag(%q) = %q, want %q", in, got, want)
		}
	}
}

// Engine events of this node's objects become runtime events; others are
// dropped.
func TestEventMapping(t *testing.T) {
	r := &Runtime{cfg: Config{NodeName: "n1"}}
	attrs := func(typ string) map[string]string {
		return map[string]string{LabelManaged: "true", LabelNode: "n1", LabelType: typ, runtime.LabelPodUID: "u1", LabelSandboxID: "sb1"}
	}
	at := time.Unix(100, 5)
	msg := func(action events.Action, a map[string]string) events.Message {
		return events.Message{Type: events.ContainerEventType, Action: action, Actor: events.Actor{ID: "c1", Attributes: a}, TimeNano: at.UnixNano()}
	}
	tests := []struct {
		name string
		m    events.Message
		want runtime.EventType
	}{
		{"create", msg(events.ActionCreate, attrs(TypeContainer)), runtime.ContainerCreatedEvent},
		{"start", msg(events.ActionStart, attrs(TypeContainer)), runtime.ContainerStartedEvent},
		{"die", msg(events.ActionDie, attrs(TypeContainer)), runtime.ContainerExitedEvent},
		{"destroy", msg(events.ActionDestroy, attrs(TypeContainer)), runtime.ContainerRemovedEvent},
		{"sandbox die", msg(events.ActionDie, attrs(TypeSandbox)), runtime.SandboxStoppedEvent},
		{"sandbox start", msg(events.ActionStart, attrs(TypeSandbox)), ""},
		{"pause", msg(events.ActionPause, attrs(TypeContainer)), ""},
		{"other node", msg(events.ActionDie, map[string]string{LabelManaged: "true", LabelNode: "n2", LabelType: TypeContainer}), ""},
		{"not kl's", msg(events.ActionDie, map[string]string{"app": "x"}), ""},
	}
	for _, tt := range tests {
		ev, ok := r.event(tt.m)
		if tt.want == "" {
			if ok {
				t.Errorf("%s: got event %+v, want none", tt.name, ev)
			}
			continue
		}
		if !ok || ev.Type != tt.want || ev.PodUID != "u1" || !ev.Time.Equal(at) {
			t.Errorf("%s: event %+v, %v; want %s of pod u1 at %v", tt.name, ev, ok, tt.want, at)
		}
		if tt.want == runtime.SandboxStoppedEvent {
			if ev.SandboxID != "c1" || ev.ContainerID != "" {
				t.Errorf("%s: sandbox %q container %q, want sandbox c1", tt.name, ev.SandboxID, ev.ContainerID)
			}
		} else if ev.ContainerID != "c1" || ev.SandboxID != "sb1" {
			t.Errorf("%s: container %q sandbox %q, want c1 in sb1", tt.name, ev.ContainerID, ev.SandboxID)
		}
	}
}

func TestNewValidatesConfig(t *testing.T) {
	for _, cfg := range []Config{{Subnet: "10.0.0.0"}, {Subnet: "fd00::/64"}, {NodeIP: "node"}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded, want an error", cfg)
		}
	}
	rt, err := New(Config{NodeName: "n"})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	c := rt.Config()
	if c.Network != DefaultNetwork || c.Subnet != DefaultSubnet || c.NodeIP != DefaultNodeIP || c.PauseBinary != "/proc/self/exe" ||
		len(c.SandboxImage) <= len(DefaultSandboxRepository)+1 || c.SandboxImage[:len(DefaultSandboxRepository)+1] != DefaultSandboxRepository+":" {
		t.Errorf("defaults = %+v", c)
	}
}
