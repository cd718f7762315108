// Package runtimetest is the conformance suite every container runtime
// (runtime.Runtime) passes: the fake and the Docker runtime run the same
// tests, so the kubelet can rely on one behaviour.
//
// A runtime's test calls Run with a constructor:
//
//	func TestConformance(t *testing.T) {
//		runtimetest.Run(t, func(t *testing.T) runtime.Runtime {
//			rt, err := fake.New(fake.Config{})
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { rt.Close() })
//			return rt
//		})
//	}
//
// Each subtest gets a new runtime. The suite creates containers from one
// image running a few commands (sleep, exit N, echo); RunWithOptions names
// other images or commands when a runtime's test images differ (Docker
// test images are built locally FROM scratch and cannot be pulled).
package runtimetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/kubelet/runtime"
)

// Options adapt the suite to a runtime's test images. Zero fields take the
// defaults, which the fake runtime understands.
type Options struct {
	// Image is the image of every container the suite runs (default
	// "kl.test/app:1"). It must be present or pullable.
	Image string
	// Sleep is a command that runs until it is stopped and exits on
	// SIGTERM (default ["sleep", "infinity"]).
	Sleep []string
	// Exit returns a command that exits with code (default
	// ["sh", "-c", "exit N"]).
	Exit func(code int) []string
	// Echo returns a command that prints its arguments, space-separated,
	// on one line and exits 0 (default ["echo", args...]).
	Echo func(args ...string) []string
	// IgnoreSIGTERMImage runs Sleep ignoring SIGTERM, so only SIGKILL
	// stops it (default "kl.test/ignore-sigterm:1"); "-" skips the test.
	IgnoreSIGTERMImage string
	// PullImage is an image PullImage must succeed on (default Image);
	// "-" skips the test (no registry reachable).
	PullImage string
	// MissingImage is an image PullImage must fail on (default
	// "kl.test/pull-error:1").
	MissingImage string
	// Timeout bounds every wait of the suite (default 20s).
	Timeout time.Duration
}

func (o *Options) defaults() {
	if o.Image == "" {
		o.Image = "kl.test/app:1"
	}
	if len(o.Sleep) == 0 {
		o.Sleep = []string{"sleep", "infinity"}
	}
	if o.Exit == nil {
		o.Exit = func(code int) []string { return []string{"sh", "-c", "exit " + strconv.Itoa(code)} }
	}
	if o.Echo == nil {
		o.Echo = func(args ...string) []string { return append([]string{"echo"}, args...) }
	}
	if o.IgnoreSIGTERMImage == "" {
		o.IgnoreSIGTERMImage = "kl.test/ignore-sigterm:1"
	}
	if o.PullImage == "" {
		o.PullImage = o.Image
	}
	if o.MissingImage == "" {
		o.MissingImage = "kl.test/pull-error:1"
	}
	if o.Timeout <= 0 {
		o.Timeout = 20 * time.Second
	}
}

// Run runs the conformance suite with the default Options.
func Run(t *testing.T, newRuntime func(t *testing.T) runtime.Runtime) {
	RunWithOptions(t, newRuntime, Options{})
}

// RunWithOptions runs the conformance suite; newRuntime returns a fresh
// runtime for each subtest (and registers its cleanup with t).
func RunWithOptions(t *testing.T, newRuntime func(t *testing.T) runtime.Runtime, opts Options) {
	opts.defaults()
	tests := []struct {
		name string
		fn   func(*suite)
	}{
		{"VersionAndStatus", testVersionAndStatus},
		{"SandboxLifecycle", testSandboxLifecycle},
		{"SandboxesGetDistinctIPs", testSandboxesGetDistinctIPs},
		{"Images", testImages},
		{"ContainerLifecycle", testContainerLifecycle},
		{"ContainerLabelsIdentifyPodAndAttempt", testContainerLabels},
		{"ExitCodesAndReasons", testExitCodes},
		{"DuplicateNameAndAttemptIsRefused", testDuplicate},
		{"CreateNeedsReadySandboxAndImage", testCreateNeeds},
		{"StopPodSandboxKillsContainers", testStopSandboxKills},
		{"RemovePodSandboxRemovesContainers", testRemoveSandbox},
		{"StopContainerKillsAfterGracePeriod", testStopGrace},
		{"ListFilters", testListFilters},
		{"Logs", testLogs},
		{"ExecSync", testExecSync},
		{"Events", testEvents},
		{"ConcurrentPods", testConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), opts.Timeout)
			defer cancel()
			tt.fn(&suite{t: t, ctx: ctx, rt: newRuntime(t), opts: opts})
		})
	}
}

// suite is one subtest's fixture.
type suite struct {
	t    *testing.T
	ctx  context.Context
	rt   runtime.Runtime
	opts Options
	n    int
}

// sandbox runs a sandbox for a new pod.
func (s *suite) sandbox() *runtime.PodSandbox {
	s.t.Helper()
	s.n++
	cfg := runtime.PodSandboxConfig{
		Name: fmt.Sprintf("pod-%d", s.n), Namespace: "ns", UID: fmt.Sprintf("uid-%d-%d", time.Now().UnixNano(), s.n),
		Hostname: fmt.Sprintf("pod-%d", s.n), Labels: map[string]string{"app": "conformance"},
	}
	sb, err := s.rt.RunPodSandbox(s.ctx, cfg)
	if err != nil {
		s.t.Fatalf("RunPodSandbox: %v", err)
	}
	s.t.Cleanup(func() { _ = s.rt.RemovePodSandbox(context.Background(), sb.ID) })
	return sb
}

// ensureImage makes image present, pulling only when it is not.
func (s *suite) ensureImage(image string) {
	s.t.Helper()
	if _, err := s.rt.ImageStatus(s.ctx, image); err == nil {
		return
	}
	if _, err := s.rt.PullImage(s.ctx, image, nil); err != nil {
		s.t.Fatalf("PullImage(%q): %v", image, err)
	}
}

// create creates a container running cmd in sb.
func (s *suite) create(sb *runtime.PodSandbox, name string, attempt uint32, image string, cmd []string) string {
	s.t.Helper()
	s.ensureImage(image)
	id, err := s.rt.CreateContainer(s.ctx, sb.ID, runtime.ContainerConfig{
		Name: name, Attempt: attempt, Image: image, Command: cmd,
		Env:    []runtime.KeyValue{{Key: "GREETING", Value: "hello"}},
		Labels: map[string]string{"extra": "yes"},
	})
	if err != nil {
		s.t.Fatalf("CreateContainer(%s): %v", name, err)
	}
	return id
}

// run creates and starts a container.
func (s *suite) run(sb *runtime.PodSandbox, name string, cmd []string) string {
	s.t.Helper()
	id := s.create(sb, name, 0, s.opts.Image, cmd)
	if err := s.rt.StartContainer(s.ctx, id); err != nil {
		s.t.Fatalf("StartContainer(%s): %v", name, err)
	}
	return id
}

func (s *suite) status(id string) *runtime.Container {
	s.t.Helper()
	c, err := s.rt.ContainerStatus(s.ctx, id)
	if err != nil {
		s.t.Fatalf("ContainerStatus(%s): %v", id, err)
	}
	return c
}

// waitState polls until the container reaches state.
func (s *suite) waitState(id string, state runtime.ContainerState) *runtime.Container {
	s.t.Helper()
	for {
		c := s.status(id)
		if c.State == state {
			return c
		}
		select {
		case <-s.ctx.Done():
			s.t.Fatalf("container %s is %s, want %s: %v", id, c.State, state, s.ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func testVersionAndStatus(s *suite) {
	v, err := s.rt.Version(s.ctx)
	if err != nil {
		s.t.Fatalf("Version: %v", err)
	}
	if v.RuntimeName == "" || v.RuntimeVersion == "" {
		s.t.Errorf("Version = %+v, want a runtime name and version", v)
	}
	if want := v.RuntimeName + "://" + v.RuntimeVersion; v.String() != want {
		s.t.Errorf("VersionInfo.String() = %q, want %q", v.String(), want)
	}
	if err := s.rt.Status(s.ctx); err != nil {
		s.t.Errorf("Status: %v, want nil for a working runtime", err)
	}
}

func testSandboxLifecycle(s *suite) {
	sb := s.sandbox()
	if sb.ID == "" || sb.State != runtime.SandboxReady {
		s.t.Fatalf("RunPodSandbox = %+v, want an ID and state ready", sb)
	}
	if _, err := netip.ParseAddr(sb.IP); err != nil {
		s.t.Errorf("sandbox IP %q is not an IP address", sb.IP)
	}
	for k, want := range map[string]string{
		runtime.LabelPodName: sb.Name, runtime.LabelPodNamespace: "ns", runtime.LabelPodUID: sb.UID, "app": "conformance",
	} {
		if got := sb.Labels[k]; got != want {
			s.t.Errorf("sandbox label %s = %q, want %q", k, got, want)
		}
	}
	list, err := s.rt.ListPodSandboxes(s.ctx, runtime.SandboxFilter{PodUID: sb.UID})
	if err != nil || len(list) != 1 || list[0].ID != sb.ID || list[0].IP != sb.IP {
		s.t.Fatalf("ListPodSandboxes(pod) = %+v, %v; want the sandbox", list, err)
	}
	if err := s.rt.StopPodSandbox(s.ctx, sb.ID); err != nil {
		s.t.Fatalf("StopPodSandbox: %v", err)
	}
	if err := s.rt.StopPodSandbox(s.ctx, sb.ID); err != nil {
		s.t.Errorf("StopPodSandbox twice: %v, want nil (idempotent)", err)
	}
	list, err = s.rt.ListPodSandboxes(s.ctx, runtime.SandboxFilter{ID: sb.ID})
	if err != nil || len(list) != 1 || list[0].State != runtime.SandboxNotReady {
		s.t.Fatalf("after stop: ListPodSandboxes = %+v, %v; want one not ready", list, err)
	}
	ready, err := s.rt.ListPodSandboxes(s.ctx, runtime.SandboxFilter{PodUID: sb.UID, State: runtime.SandboxReady})
	if err != nil || len(ready) != 0 {
		s.t.Errorf("ready sandboxes after stop = %+v, %v; want none", ready, err)
	}
	if err := s.rt.RemovePodSandbox(s.ctx, sb.ID); err != nil {
		s.t.Fatalf("RemovePodSandbox: %v", err)
	}
	if err := s.rt.RemovePodSandbox(s.ctx, sb.ID); err != nil {
		s.t.Errorf("RemovePodSandbox twice: %v, want nil (idempotent)", err)
	}
	if err := s.rt.StopPodSandbox(s.ctx, sb.ID); err != nil {
		s.t.Errorf("StopPodSandbox of a removed sandbox: %v, want nil", err)
	}
	list, err = s.rt.ListPodSandboxes(s.ctx, runtime.SandboxFilter{PodUID: sb.UID})
	if err != nil || len(list) != 0 {
		s.t.Errorf("after remove: ListPodSandboxes = %+v, %v; want none", list, err)
	}
}

func testSandboxesGetDistinctIPs(s *suite) {
	seen := map[string]bool{}
	for range 5 {
		sb := s.sandbox()
		if seen[sb.IP] {
			s.t.Fatalf("two ready sandboxes share IP %s", sb.IP)
		}
		seen[sb.IP] = true
	}
}

func testImages(s *suite) {
	if s.opts.PullImage != "-" {
		ref, err := s.rt.PullImage(s.ctx, s.opts.PullImage, nil)
		if err != nil || ref == "" {
			s.t.Fatalf("PullImage(%q) = %q, %v; want an image ref", s.opts.PullImage, ref, err)
		}
		img, err := s.rt.ImageStatus(s.ctx, s.opts.PullImage)
		if err != nil || img.ID != ref {
			s.t.Fatalf("ImageStatus after pull = %+v, %v; want ID %q", img, err, ref)
		}
		imgs, err := s.rt.ListImages(s.ctx)
		if err != nil {
			s.t.Fatalf("ListImages: %v", err)
		}
		found := false
		for _, i := range imgs {
			found = found || i.ID == ref
		}
		if !found {
			s.t.Errorf("ListImages does not list the pulled image %s", ref)
		}
	}
	if _, err := s.rt.PullImage(s.ctx, s.opts.MissingImage, nil); err == nil {
		s.t.Errorf("PullImage(%q) succeeded, want an error", s.opts.MissingImage)
	}
	if _, err := s.rt.ImageStatus(s.ctx, s.opts.MissingImage); !errors.Is(err, runtime.ErrNotFound) {
		s.t.Errorf("ImageStatus(%q) = %v, want ErrNotFound", s.opts.MissingImage, err)
	}
}

func testContainerLifecycle(s *suite) {
	sb := s.sandbox()
	id := s.create(sb, "app", 0, s.opts.Image, s.opts.Sleep)
	c := s.status(id)
	if c.State != runtime.ContainerCreated || c.SandboxID != sb.ID || c.Image != s.opts.Image || c.ImageRef == "" {
		s.t.Fatalf("created container = %+v, want state created in sandbox %s with image %s and an image ref", c, sb.ID, s.opts.Image)
	}
	if err := s.rt.StartContainer(s.ctx, id); err != nil {
		s.t.Fatalf("StartContainer: %v", err)
	}
	c = s.waitState(id, runtime.ContainerRunning)
	if c.StartedAt.IsZero() || c.StartedAt.Before(c.CreatedAt.Add(-time.Second)) {
		s.t.Errorf("running container startedAt = %v (created %v), want set", c.StartedAt, c.CreatedAt)
	}
	if err := s.rt.StartContainer(s.ctx, id); err == nil {
		s.t.Errorf("StartContainer of a running container succeeded, want an error")
	}
	if err := s.rt.StopContainer(s.ctx, id, 10*time.Second); err != nil {
		s.t.Fatalf("StopContainer: %v", err)
	}
	c = s.status(id)
	if c.State != runtime.ContainerExited || c.FinishedAt.Before(c.StartedAt) {
		s.t.Fatalf("stopped container = %+v, want exited with finishedAt >= startedAt", c)
	}
	if err := s.rt.StopContainer(s.ctx, id, time.Second); err != nil {
		s.t.Errorf("StopContainer of an exited container: %v, want nil (idempotent)", err)
	}
	if err := s.rt.RemoveContainer(s.ctx, id); err != nil {
		s.t.Fatalf("RemoveContainer: %v", err)
	}
	if _, err := s.rt.ContainerStatus(s.ctx, id); !errors.Is(err, runtime.ErrNotFound) {
		s.t.Errorf("ContainerStatus after remove = %v, want ErrNotFound", err)
	}
	if err := s.rt.RemoveContainer(s.ctx, id); err != nil {
		s.t.Errorf("RemoveContainer twice: %v, want nil (idempotent)", err)
	}
	if err := s.rt.StopContainer(s.ctx, id, time.Second); !errors.Is(err, runtime.ErrNotFound) {
		s.t.Errorf("StopContainer of a removed container = %v, want ErrNotFound", err)
	}
}

func testContainerLabels(s *suite) {
	sb := s.sandbox()
	id := s.create(sb, "web", 3, s.opts.Image, s.opts.Sleep)
	c := s.status(id)
	want := map[string]string{
		runtime.LabelPodName: sb.Name, runtime.LabelPodNamespace: "ns", runtime.LabelPodUID: sb.UID,
		runtime.LabelContainerName: "web", runtime.LabelContainerAttempt: "3", "extra": "yes",
	}
	for k, v := range want {
		if c.Labels[k] != v {
			s.t.Errorf("container label %s = %q, want %q", k, c.Labels[k], v)
		}
	}
	if c.Name != "web" || c.Attempt != 3 || c.PodName != sb.Name || c.PodNamespace != "ns" || c.PodUID != sb.UID {
		s.t.Errorf("container identity = name %q attempt %d pod %s/%s uid %s; want web, 3, ns/%s, %s",
			c.Name, c.Attempt, c.PodNamespace, c.PodName, c.PodUID, sb.Name, sb.UID)
	}
	if got := runtime.AttemptOf(c.Labels); got != 3 {
		s.t.Errorf("AttemptOf(labels) = %d, want 3", got)
	}
}

func testExitCodes(s *suite) {
	sb := s.sandbox()
	for _, tc := range []struct {
		code   int
		reason string
	}{{0, "Completed"}, {3, "Error"}} {
		id := s.run(sb, fmt.Sprintf("exit-%d", tc.code), s.opts.Exit(tc.code))
		c := s.waitState(id, runtime.ContainerExited)
		if int(c.ExitCode) != tc.code || c.Reason != tc.reason {
			s.t.Errorf("container exiting %d: exitCode %d reason %q, want %d %q", tc.code, c.ExitCode, c.Reason, tc.code, tc.reason)
		}
		if c.StartedAt.IsZero() || c.FinishedAt.Before(c.StartedAt) {
			s.t.Errorf("container exiting %d: startedAt %v finishedAt %v, want both set in order", tc.code, c.StartedAt, c.FinishedAt)
		}
	}
}

func testDuplicate(s *suite) {
	sb := s.sandbox()
	s.create(sb, "app", 0, s.opts.Image, s.opts.Sleep)
	s.ensureImage(s.opts.Image)
	_, err := s.rt.CreateContainer(s.ctx, sb.ID, runtime.ContainerConfig{Name: "app", Attempt: 0, Image: s.opts.Image, Command: s.opts.Sleep})
	if !errors.Is(err, runtime.ErrAlreadyExists) {
		s.t.Errorf("second container app attempt 0 = %v, want ErrAlreadyExists", err)
	}
	if _, err := s.rt.CreateContainer(s.ctx, sb.ID, runtime.ContainerConfig{Name: "app", Attempt: 1, Image: s.opts.Image, Command: s.opts.Sleep}); err != nil {
		s.t.Errorf("container app attempt 1: %v, want created", err)
	}
}

func testCreateNeeds(s *suite) {
	s.ensureImage(s.opts.Image)
	cfg := runtime.ContainerConfig{Name: "app", Image: s.opts.Image, Command: s.opts.Sleep}
	if _, err := s.rt.CreateContainer(s.ctx, "no-such-sandbox", cfg); !errors.Is(err, runtime.ErrNotFound) {
		s.t.Errorf("CreateContainer in a missing sandbox = %v, want ErrNotFound", err)
	}
	sb := s.sandbox()
	missing := cfg
	missing.Image = s.opts.MissingImage
	if _, err := s.rt.CreateContainer(s.ctx, sb.ID, missing); err == nil {
		s.t.Errorf("CreateContainer with an absent image succeeded, want an error")
	}
	if err := s.rt.StopPodSandbox(s.ctx, sb.ID); err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.rt.CreateContainer(s.ctx, sb.ID, cfg); err == nil {
		s.t.Errorf("CreateContainer in a stopped sandbox succeeded, want an error")
	}
}

func testStopSandboxKills(s *suite) {
	sb := s.sandbox()
	id := s.run(sb, "app", s.opts.Sleep)
	s.waitState(id, runtime.ContainerRunning)
	if err := s.rt.StopPodSandbox(s.ctx, sb.ID); err != nil {
		s.t.Fatalf("StopPodSandbox: %v", err)
	}
	if c := s.status(id); c.State != runtime.ContainerExited {
		s.t.Errorf("container after StopPodSandbox is %s, want exited", c.State)
	}
}

func testRemoveSandbox(s *suite) {
	sb := s.sandbox()
	id := s.run(sb, "app", s.opts.Sleep)
	if err := s.rt.RemovePodSandbox(s.ctx, sb.ID); err != nil {
		s.t.Fatalf("RemovePodSandbox: %v", err)
	}
	if _, err := s.rt.ContainerStatus(s.ctx, id); !errors.Is(err, runtime.ErrNotFound) {
		s.t.Errorf("container of a removed sandbox: %v, want ErrNotFound", err)
	}
	list, err := s.rt.ListContainers(s.ctx, runtime.ContainerFilter{PodUID: sb.UID})
	if err != nil || len(list) != 0 {
		s.t.Errorf("ListContainers(pod) after RemovePodSandbox = %d containers, %v; want none", len(list), err)
	}
}

func testStopGrace(s *suite) {
	if s.opts.IgnoreSIGTERMImage == "-" {
		s.t.Skip("no image that ignores SIGTERM")
	}
	sb := s.sandbox()
	id := s.create(sb, "stubborn", 0, s.opts.IgnoreSIGTERMImage, s.opts.Sleep)
	if err := s.rt.StartContainer(s.ctx, id); err != nil {
		s.t.Fatal(err)
	}
	s.waitState(id, runtime.ContainerRunning)
	const grace = time.Second // Docker's stop timeout has one-second steps
	start := time.Now()
	if err := s.rt.StopContainer(s.ctx, id, grace); err != nil {
		s.t.Fatalf("StopContainer: %v", err)
	}
	if took := time.Since(start); took < grace-100*time.Millisecond {
		s.t.Errorf("StopContainer of a container ignoring SIGTERM returned after %v, want it to wait the %v grace period", took, grace)
	}
	if c := s.status(id); c.State != runtime.ContainerExited || c.ExitCode != 137 {
		s.t.Errorf("container killed after the grace period: state %s exit %d, want exited 137", c.State, c.ExitCode)
	}
}

func testListFilters(s *suite) {
	a, b := s.sandbox(), s.sandbox()
	ra := s.run(a, "one", s.opts.Sleep)
	s.create(a, "two", 0, s.opts.Image, s.opts.Sleep)
	s.run(b, "one", s.opts.Sleep)
	s.waitState(ra, runtime.ContainerRunning)
	count := func(f runtime.ContainerFilter) int {
		s.t.Helper()
		list, err := s.rt.ListContainers(s.ctx, f)
		if err != nil {
			s.t.Fatalf("ListContainers(%+v): %v", f, err)
		}
		return len(list)
	}
	checks := []struct {
		name string
		f    runtime.ContainerFilter
		want int
	}{
		{"pod a", runtime.ContainerFilter{PodUID: a.UID}, 2},
		{"sandbox b", runtime.ContainerFilter{SandboxID: b.ID}, 1},
		{"pod a running", runtime.ContainerFilter{PodUID: a.UID, State: runtime.ContainerRunning}, 1},
		{"pod a created", runtime.ContainerFilter{PodUID: a.UID, State: runtime.ContainerCreated}, 1},
		{"id", runtime.ContainerFilter{ID: ra}, 1},
		{"label pod a, name one", runtime.ContainerFilter{Labels: map[string]string{runtime.LabelPodUID: a.UID, runtime.LabelContainerName: "one"}}, 1},
		{"label name two", runtime.ContainerFilter{Labels: map[string]string{runtime.LabelContainerName: "two", runtime.LabelPodUID: a.UID}}, 1},
		{"no match", runtime.ContainerFilter{PodUID: "nobody"}, 0},
	}
	for _, c := range checks {
		if got := count(c.f); got != c.want {
			s.t.Errorf("ListContainers(%s) = %d containers, want %d", c.name, got, c.want)
		}
	}
	list, err := s.rt.ListContainers(s.ctx, runtime.ContainerFilter{PodUID: a.UID})
	if err == nil && len(list) == 2 && list[0].CreatedAt.After(list[1].CreatedAt) {
		s.t.Errorf("ListContainers is not oldest first: %v then %v", list[0].CreatedAt, list[1].CreatedAt)
	}
}

var timestamped = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z hello world\n$`)

func testLogs(s *suite) {
	sb := s.sandbox()
	id := s.run(sb, "talker", s.opts.Echo("hello", "world"))
	s.waitState(id, runtime.ContainerExited)
	read := func(opts runtime.LogOptions) string {
		s.t.Helper()
		rc, err := s.rt.ContainerLogs(s.ctx, id, opts)
		if err != nil {
			s.t.Fatalf("ContainerLogs(%+v): %v", opts, err)
		}
		defer rc.Close()
		data, err := io.ReadAll(rc)
		if err != nil {
			s.t.Fatalf("read logs: %v", err)
		}
		return string(data)
	}
	if got := read(runtime.LogOptions{}); got != "hello world\n" {
		s.t.Errorf("logs = %q, want %q", got, "hello world\n")
	}
	if got := read(runtime.LogOptions{Follow: true}); got != "hello world\n" {
		s.t.Errorf("followed logs of an exited container = %q, want %q and the end of the stream", got, "hello world\n")
	}
	if got := read(runtime.LogOptions{Timestamps: true}); !timestamped.MatchString(got) {
		s.t.Errorf("logs with timestamps = %q, want RFC 3339 time, a space, the line", got)
	}
	zero := int64(0)
	if got := read(runtime.LogOptions{TailLines: &zero}); got != "" {
		s.t.Errorf("logs with tail 0 = %q, want nothing", got)
	}
	if got := read(runtime.LogOptions{LimitBytes: 5}); got != "hello" {
		s.t.Errorf("logs limited to 5 bytes = %q, want %q", got, "hello")
	}
	if _, err := s.rt.ContainerLogs(s.ctx, "no-such-container", runtime.LogOptions{}); !errors.Is(err, runtime.ErrNotFound) {
		s.t.Errorf("ContainerLogs of a missing container = %v, want ErrNotFound", err)
	}
}

func testExecSync(s *suite) {
	sb := s.sandbox()
	id := s.run(sb, "app", s.opts.Sleep)
	s.waitState(id, runtime.ContainerRunning)
	stdout, _, code, err := s.rt.ExecSync(s.ctx, id, s.opts.Echo("hi", "there"), 5*time.Second)
	if err != nil || code != 0 || string(stdout) != "hi there\n" {
		s.t.Errorf("ExecSync(echo) = %q, exit %d, %v; want %q, 0", stdout, code, err, "hi there\n")
	}
	_, _, code, err = s.rt.ExecSync(s.ctx, id, s.opts.Exit(2), 5*time.Second)
	if err != nil || code != 2 {
		s.t.Errorf("ExecSync(exit 2) = exit %d, %v; want 2", code, err)
	}
	start := time.Now()
	_, _, _, err = s.rt.ExecSync(s.ctx, id, s.opts.Sleep, 200*time.Millisecond)
	if !errors.Is(err, context.DeadlineExceeded) {
		s.t.Errorf("ExecSync(sleep) with a 200ms timeout = %v, want an error wrapping context.DeadlineExceeded", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		s.t.Errorf("ExecSync timeout took %v", took)
	}
	if err := s.rt.StopContainer(s.ctx, id, time.Second); err != nil {
		s.t.Fatal(err)
	}
	if _, _, _, err := s.rt.ExecSync(s.ctx, id, s.opts.Echo("x"), time.Second); err == nil {
		s.t.Errorf("ExecSync in an exited container succeeded, want an error")
	}
}

func testEvents(s *suite) {
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	events, err := s.rt.Events(ctx)
	if err != nil {
		s.t.Fatalf("Events: %v", err)
	}
	sb := s.sandbox()
	id := s.run(sb, "app", s.opts.Sleep)
	s.waitState(id, runtime.ContainerRunning)
	if err := s.rt.StopContainer(s.ctx, id, 5*time.Second); err != nil {
		s.t.Fatal(err)
	}
	if err := s.rt.RemoveContainer(s.ctx, id); err != nil {
		s.t.Fatal(err)
	}
	want := []runtime.EventType{runtime.ContainerCreatedEvent, runtime.ContainerStartedEvent, runtime.ContainerExitedEvent, runtime.ContainerRemovedEvent}
	next := 0
	for next < len(want) {
		select {
		case ev, ok := <-events:
			if !ok {
				s.t.Fatalf("event stream closed after %v", want[:next])
			}
			if ev.ContainerID != id {
				continue
			}
			if ev.PodUID != sb.UID {
				s.t.Errorf("%s event has pod UID %q, want %q", ev.Type, ev.PodUID, sb.UID)
			}
			if ev.Type == want[next] {
				next++
			}
		case <-s.ctx.Done():
			s.t.Fatalf("got events %v, missing %v", want[:next], want[next:])
		}
	}
	cancel()
	for range events { // the stream closes once ctx is cancelled
	}
}

func testConcurrent(s *suite) {
	s.ensureImage(s.opts.Image)
	const pods = 20
	var wg sync.WaitGroup
	errs := make(chan error, pods)
	ips := make(chan string, pods)
	// Every sandbox lives until all have run, so that their IPs were all
	// held at once (an engine may hand a removed sandbox's IP out again).
	sandboxes := make(chan string, pods)
	defer func() {
		close(sandboxes)
		for id := range sandboxes {
			_ = s.rt.RemovePodSandbox(context.Background(), id)
		}
	}()
	for i := range pods {
		wg.Go(func() {
			sb, err := s.rt.RunPodSandbox(s.ctx, runtime.PodSandboxConfig{Name: fmt.Sprintf("c-%d", i), Namespace: "ns", UID: fmt.Sprintf("c-uid-%d-%d", time.Now().UnixNano(), i)})
			if err != nil {
				errs <- err
				return
			}
			sandboxes <- sb.ID
			ips <- sb.IP
			id, err := s.rt.CreateContainer(s.ctx, sb.ID, runtime.ContainerConfig{Name: "app", Image: s.opts.Image, Command: s.opts.Sleep})
			if err != nil {
				errs <- err
				return
			}
			if err := s.rt.StartContainer(s.ctx, id); err != nil {
				errs <- err
				return
			}
			if err := s.rt.StopContainer(s.ctx, id, 5*time.Second); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	close(ips)
	for err := range errs {
		s.t.Errorf("concurrent pod: %v", err)
	}
	seen := map[string]bool{}
	for ip := range ips {
		if seen[ip] {
			s.t.Errorf("concurrent sandboxes share IP %s", ip)
		}
		seen[ip] = true
	}
}
