package docker

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"

	"github.com/kl-dev/kl/pkg/kubelet/runtime"
)

// Container log rotation (Kubernetes' containerLogMaxSize and a few files).
const (
	logMaxSize  = "10m"
	logMaxFiles = "3"
)

// CreateContainer implements runtime.Runtime.
func (r *Runtime) CreateContainer(ctx context.Context, sandboxID string, cfg runtime.ContainerConfig) (string, error) {
	what := fmt.Sprintf("create container %q", cfg.Name)
	if cfg.Name == "" || cfg.Image == "" {
		return "", fmt.Errorf("%s: a name and an image are required", what)
	}
	sb, err := r.inspectOwned(ctx, sandboxID, TypeSandbox)
	if err != nil {
		return "", fmt.Errorf("%s: sandbox: %w", what, err)
	}
	if sb.State == nil || !sb.State.Running {
		return "", fmt.Errorf("%s: sandbox %s is not ready", what, short(sb.ID))
	}
	img, err := r.cli.ImageInspect(ctx, cfg.Image)
	if err != nil {
		return "", fmt.Errorf("%s: image %q: %w", what, cfg.Image, notFound(err))
	}
	imageUser := ""
	if img.Config != nil {
		imageUser = img.Config.User
	}
	opts, err := r.containerCreateOptions(sb, &cfg, imageUser)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	res, err := r.cli.ContainerCreate(ctx, opts)
	if err != nil {
		if cerrdefs.IsConflict(err) {
			return "", fmt.Errorf("%s attempt %d in sandbox %s: %w: %w", what, cfg.Attempt, short(sb.ID), runtime.ErrAlreadyExists, err)
		}
		return "", fmt.Errorf("%s: %w", what, notFound(err))
	}
	for _, w := range res.Warnings {
		r.log.Debug("engine warning", "container", cfg.Name, "warning", w)
	}
	return res.ID, nil
}

// containerCreateOptions maps a container config to the engine's.
func (r *Runtime) containerCreateOptions(sb *container.InspectResponse, cfg *runtime.ContainerConfig, imageUser string) (client.ContainerCreateOptions, error) {
	labels := runtime.ContainerLabels(configLabels(sb), cfg)
	for k, v := range r.ownLabels(TypeContainer) {
		labels[k] = v
	}
	labels[LabelSandboxID] = sb.ID

	cc := &container.Config{
		Image: cfg.Image, WorkingDir: cfg.WorkingDir, Labels: labels,
		OpenStdin: cfg.Stdin, Tty: cfg.TTY,
	}
	// Kubernetes semantics: command replaces the image's ENTRYPOINT (and
	// then the image's CMD is not used), args replace its CMD.
	if len(cfg.Command) > 0 {
		cc.Entrypoint = slices.Clone(cfg.Command)
	}
	if len(cfg.Args) > 0 {
		cc.Cmd = slices.Clone(cfg.Args)
	}
	for _, kv := range cfg.Env {
		cc.Env = append(cc.Env, kv.Key+"="+kv.Value)
	}

	mode := "container:" + sb.ID
	netMode := container.NetworkMode(mode)
	if sb.HostConfig != nil && sb.HostConfig.NetworkMode.IsHost() {
		netMode = "host"
	}
	hc := &container.HostConfig{
		NetworkMode:   netMode,
		IpcMode:       container.IpcMode(mode),
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyDisabled},
		LogConfig:     container.LogConfig{Type: "json-file", Config: map[string]string{"max-size": logMaxSize, "max-file": logMaxFiles}},
	}
	for _, m := range cfg.Mounts {
		if !strings.HasPrefix(m.HostPath, "/") || !strings.HasPrefix(m.ContainerPath, "/") {
			return client.ContainerCreateOptions{}, fmt.Errorf("mount %q -> %q: both paths must be absolute", m.HostPath, m.ContainerPath)
		}
		hc.Mounts = append(hc.Mounts, mount.Mount{Type: mount.TypeBind, Source: m.HostPath, Target: m.ContainerPath, ReadOnly: m.ReadOnly})
	}
	res := cfg.Resources
	if res.CPULimitMilli > 0 {
		hc.NanoCPUs = res.CPULimitMilli * 1_000_000
	}
	if res.CPURequestMilli > 0 {
		hc.CPUShares = max(2, res.CPURequestMilli*1024/1000) // as Kubernetes' MilliCPUToShares
	}
	if res.MemoryLimitBytes > 0 {
		hc.Memory = res.MemoryLimitBytes
		hc.MemorySwap = res.MemoryLimitBytes // no swap: over the limit is an OOM kill
	}
	if sc := cfg.SecurityContext; sc != nil {
		cc.User = userOf(sc, imageUser)
		for _, g := range sc.SupplementalGroups {
			hc.GroupAdd = append(hc.GroupAdd, strconv.FormatInt(g, 10))
		}
		hc.Privileged = sc.Privileged
		hc.ReadonlyRootfs = sc.ReadOnlyRootFilesystem
		hc.CapAdd = slices.Clone(sc.CapAdd)
		hc.CapDrop = slices.Clone(sc.CapDrop)
	}
	name := dockerName("kl", cfg.Name, labels[runtime.LabelPodName], labels[runtime.LabelPodNamespace],
		short(sb.ID), strconv.FormatUint(uint64(cfg.Attempt), 10))
	return client.ContainerCreateOptions{Name: name, Config: cc, HostConfig: hc}, nil
}

// userOf is the engine's User ("uid", "uid:gid") for a security context.
// A group without a user keeps the image's user.
func userOf(sc *runtime.SecurityContext, imageUser string) string {
	user := ""
	if sc.RunAsUser != nil {
		user = strconv.FormatInt(*sc.RunAsUser, 10)
	}
	if sc.RunAsGroup != nil {
		if user == "" {
			user, _, _ = strings.Cut(imageUser, ":")
			if user == "" {
				user = "0"
			}
		}
		user += ":" + strconv.FormatInt(*sc.RunAsGroup, 10)
	}
	return user
}

// StartContainer implements runtime.Runtime. Only a created container can
// be started: a restart is a new container (the next attempt).
func (r *Runtime) StartContainer(ctx context.Context, id string) error {
	c, err := r.inspectOwned(ctx, id, TypeContainer)
	if err != nil {
		return fmt.Errorf("start container: %w", err)
	}
	if c.State == nil || c.State.Status != container.StateCreated {
		state := "unknown"
		if c.State != nil {
			state = string(c.State.Status)
		}
		return fmt.Errorf("start container %s: it is %s; only a created container can be started", short(id), state)
	}
	if _, err := r.cli.ContainerStart(ctx, c.ID, client.ContainerStartOptions{}); err != nil {
		return fmt.Errorf("start container %s: %w", short(id), notFound(err))
	}
	return nil
}

// StopContainer implements runtime.Runtime: the engine sends the stop
// signal (SIGTERM unless the image says otherwise), waits the grace period
// (in whole seconds, rounded up) and then sends SIGKILL.
func (r *Runtime) StopContainer(ctx context.Context, id string, grace time.Duration) error {
	c, err := r.inspectOwned(ctx, id, TypeContainer)
	if err != nil {
		return fmt.Errorf("stop container: %w", err)
	}
	if c.State == nil || !(c.State.Running || c.State.Paused || c.State.Restarting) {
		return nil
	}
	secs := 0
	if grace > 0 {
		secs = int(math.Ceil(grace.Seconds()))
	}
	if _, err := r.cli.ContainerStop(ctx, c.ID, client.ContainerStopOptions{Timeout: &secs}); err != nil {
		if cerrdefs.IsNotFound(err) {
			return fmt.Errorf("stop container %s: %w", short(id), notFound(err))
		}
		return fmt.Errorf("stop container %s: %w", short(id), err)
	}
	return nil
}

// RemoveContainer implements runtime.Runtime.
func (r *Runtime) RemoveContainer(ctx context.Context, id string) error {
	c, err := r.inspectOwned(ctx, id, TypeContainer)
	if errors.Is(err, runtime.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove container: %w", err)
	}
	return r.remove(ctx, c.ID)
}

// ListContainers implements runtime.Runtime.
func (r *Runtime) ListContainers(ctx context.Context, filter runtime.ContainerFilter) ([]*runtime.Container, error) {
	labels := cloneMap(filter.Labels)
	add := func(k, v string) {
		if labels == nil {
			labels = map[string]string{}
		}
		labels[k] = v
	}
	if filter.PodUID != "" {
		add(runtime.LabelPodUID, filter.PodUID)
	}
	if filter.SandboxID != "" {
		add(LabelSandboxID, filter.SandboxID)
	}
	cs, err := r.list(ctx, TypeContainer, labels, filter.ID)
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	out := make([]*runtime.Container, 0, len(cs))
	for _, c := range cs {
		if v := containerView(c); filter.Matches(v) {
			out = append(out, v)
		}
	}
	slices.SortStableFunc(out, func(a, b *runtime.Container) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// ContainerStatus implements runtime.Runtime.
func (r *Runtime) ContainerStatus(ctx context.Context, id string) (*runtime.Container, error) {
	c, err := r.inspectOwned(ctx, id, TypeContainer)
	if err != nil {
		return nil, fmt.Errorf("container status: %w", err)
	}
	return containerView(c), nil
}

// containerView is the runtime's view of an inspected container.
func containerView(c *container.InspectResponse) *runtime.Container {
	labels := configLabels(c)
	v := &runtime.Container{
		ID: c.ID, SandboxID: labels[LabelSandboxID],
		Name: labels[runtime.LabelContainerName], Attempt: runtime.AttemptOf(labels),
		PodName: labels[runtime.LabelPodName], PodNamespace: labels[runtime.LabelPodNamespace], PodUID: labels[runtime.LabelPodUID],
		ImageRef: c.Image, CreatedAt: parseTime(c.Created), Labels: cloneMap(labels),
		State: runtime.ContainerUnknown,
	}
	if c.Config != nil {
		v.Image = c.Config.Image
	}
	st := c.State
	if st == nil {
		return v
	}
	switch {
	case st.Running || st.Paused || st.Restarting:
		v.State = runtime.ContainerRunning
		v.StartedAt = parseTime(st.StartedAt)
	case st.Status == container.StateCreated && st.Error == "":
		v.State = runtime.ContainerCreated
	default:
		// Exited, dead, being removed, or created but failed to start.
		v.State = runtime.ContainerExited
		v.StartedAt = parseTime(st.StartedAt)
		v.FinishedAt = parseTime(st.FinishedAt)
		if v.FinishedAt.IsZero() {
			// It could not start: it ended as it was made.
			v.FinishedAt = v.CreatedAt
			if v.StartedAt.After(v.FinishedAt) {
				v.FinishedAt = v.StartedAt
			}
		}
		if v.FinishedAt.Before(v.StartedAt) {
			// The engine stamps the start after the process began; a
			// process that exits at once can seem to end before it started.
			v.FinishedAt = v.StartedAt
		}
		v.ExitCode = int32(st.ExitCode)
		switch {
		case st.OOMKilled:
			v.Reason = "OOMKilled"
		case st.Error != "":
			v.Reason = "ContainerCannotRun"
			v.Message = st.Error
			if v.ExitCode == 0 {
				v.ExitCode = 128
			}
		case st.ExitCode == 0:
			v.Reason = "Completed"
		default:
			v.Reason = "Error"
		}
	}
	return v
}
