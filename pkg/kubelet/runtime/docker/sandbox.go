package docker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/kl-dev/kl/pkg/kubelet/runtime"
)

// sandboxStopTimeout is how long the pause process gets to exit on
// SIGTERM (it exits at once).
const sandboxStopTimeout = 2 // seconds

// RunPodSandbox implements runtime.Runtime: it starts the pod's pause
// container on the pod network (or the host's) and returns it with its IP.
func (r *Runtime) RunPodSandbox(ctx context.Context, cfg runtime.PodSandboxConfig) (*runtime.PodSandbox, error) {
	if cfg.UID == "" || cfg.Name == "" {
		return nil, errors.New("run pod sandbox: the pod name and UID are required")
	}
	what := fmt.Sprintf("run pod sandbox for pod %s/%s", cfg.Namespace, cfg.Name)
	create, err := r.sandboxCreateOptions(&cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	var id string
	for try := 0; ; try++ {
		if err := r.ensureSetup(ctx, !cfg.HostNetwork); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		res, err := r.cli.ContainerCreate(ctx, create)
		if err == nil {
			id = res.ID
			break
		}
		// The network or the sandbox image went away (pruned by someone):
		// make them again, once.
		if cerrdefs.IsNotFound(err) && try == 0 {
			r.log.Info("the pod network or sandbox image is gone; making it again", "err", err)
			r.resetSetup()
			continue
		}
		return nil, fmt.Errorf("%s: create: %w", what, err)
	}
	if _, err := r.cli.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		r.removeQuietly(id)
		return nil, fmt.Errorf("%s: start: %w", what, err)
	}
	c, err := r.inspect(ctx, id)
	if err != nil {
		r.removeQuietly(id)
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	sb := r.sandboxView(c)
	if sb.State != runtime.SandboxReady || sb.IP == "" {
		r.removeQuietly(id)
		return nil, fmt.Errorf("%s: the sandbox container %s stopped at once (exit code %d, %s)", what, short(id), c.State.ExitCode, c.State.Error)
	}
	return sb, nil
}

// sandboxCreateOptions maps a sandbox config to the pause container's.
func (r *Runtime) sandboxCreateOptions(cfg *runtime.PodSandboxConfig) (client.ContainerCreateOptions, error) {
	labels := runtime.PodLabels(cfg)
	for k, v := range r.ownLabels(TypeSandbox) {
		labels[k] = v
	}
	labels[LabelSandboxAttempt] = strconv.FormatUint(uint64(cfg.Attempt), 10)
	cc := &container.Config{Image: r.cfg.SandboxImage, Labels: labels}
	hc := &container.HostConfig{
		// The pod's containers join its IPC namespace.
		IpcMode:       container.IPCModeShareable,
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyDisabled},
		LogConfig:     container.LogConfig{Type: "json-file", Config: map[string]string{"max-size": "1m", "max-file": "1"}},
		// The pause process needs nothing of the root file system.
		ReadonlyRootfs: true,
	}
	var nc *network.NetworkingConfig
	if cfg.HostNetwork {
		hc.NetworkMode = container.NetworkMode("host")
	} else {
		hc.NetworkMode = container.NetworkMode(r.cfg.Network)
		nc = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{r.cfg.Network: {}}}
		cc.Hostname = cfg.Hostname
		if cc.Hostname == "" {
			cc.Hostname = cfg.Name
		}
		if len(cc.Hostname) > 63 {
			cc.Hostname = strings.TrimRight(cc.Hostname[:63], "-.")
		}
		ports, err := portBindings(cfg.Ports)
		if err != nil {
			return client.ContainerCreateOptions{}, err
		}
		if len(ports) > 0 {
			hc.PortBindings = ports
			cc.ExposedPorts = network.PortSet{}
			for p := range ports {
				cc.ExposedPorts[p] = struct{}{}
			}
		}
	}
	if cfg.DNS != nil {
		for _, s := range cfg.DNS.Servers {
			ip, err := netip.ParseAddr(s)
			if err != nil {
				return client.ContainerCreateOptions{}, fmt.Errorf("DNS server %q is not an IP address", s)
			}
			hc.DNS = append(hc.DNS, ip)
		}
		hc.DNSSearch = slices.Clone(cfg.DNS.Searches)
		hc.DNSOptions = slices.Clone(cfg.DNS.Options)
	}
	return client.ContainerCreateOptions{
		Name: sandboxName(cfg), Config: cc, HostConfig: hc, NetworkingConfig: nc,
	}, nil
}

// portBindings maps the pod's host ports to the sandbox's published ports.
func portBindings(ports []runtime.PortMapping) (network.PortMap, error) {
	out := network.PortMap{}
	for _, p := range ports {
		if p.HostPort == 0 {
			continue
		}
		proto := strings.ToLower(p.Protocol)
		if proto == "" {
			proto = "tcp"
		}
		if p.ContainerPort <= 0 || p.ContainerPort > 65535 || p.HostPort < 0 || p.HostPort > 65535 {
			return nil, fmt.Errorf("port mapping %d -> %d: want ports 1-65535", p.HostPort, p.ContainerPort)
		}
		port, ok := network.PortFrom(uint16(p.ContainerPort), network.IPProtocol(proto))
		if !ok {
			return nil, fmt.Errorf("port mapping %d/%s: bad protocol", p.ContainerPort, p.Protocol)
		}
		b := network.PortBinding{HostPort: strconv.Itoa(int(p.HostPort))}
		if p.HostIP != "" {
			ip, err := netip.ParseAddr(p.HostIP)
			if err != nil {
				return nil, fmt.Errorf("port mapping %d: host IP %q is not an IP address", p.HostPort, p.HostIP)
			}
			b.HostIP = ip
		}
		out[port] = append(out[port], b)
	}
	return out, nil
}

// sandboxName is the pause container's name: unique (a random suffix, as
// each RunPodSandbox makes a new sandbox) and readable in `docker ps`.
func sandboxName(cfg *runtime.PodSandboxConfig) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return dockerName("kl", "POD", cfg.Name, cfg.Namespace, cfg.UID, strconv.FormatUint(uint64(cfg.Attempt), 10), hex.EncodeToString(b[:]))
}

// dockerName joins parts with "_", replacing characters a container name
// may not contain ([a-zA-Z0-9][a-zA-Z0-9_.-]*).
func dockerName(parts ...string) string {
	s := strings.Join(parts, "_")
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
			return r
		}
		return '-'
	}, s)
}

// StopPodSandbox implements runtime.Runtime: it kills the sandbox's
// containers, then stops the pause container, which releases the IP.
func (r *Runtime) StopPodSandbox(ctx context.Context, id string) error {
	sb, err := r.inspectOwned(ctx, id, TypeSandbox)
	if errors.Is(err, runtime.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stop pod sandbox %s: %w", short(id), err)
	}
	return r.stopSandbox(ctx, sb)
}

func (r *Runtime) stopSandbox(ctx context.Context, sb *container.InspectResponse) error {
	cs, err := r.list(ctx, TypeContainer, map[string]string{LabelSandboxID: sb.ID}, "")
	if err != nil {
		return fmt.Errorf("stop pod sandbox %s: %w", short(sb.ID), err)
	}
	for _, c := range cs {
		if c.State != nil && (c.State.Running || c.State.Paused || c.State.Restarting) {
			if err := r.kill(ctx, c.ID); err != nil {
				return fmt.Errorf("stop pod sandbox %s: %w", short(sb.ID), err)
			}
		}
	}
	if sb.State == nil || sb.State.Running || sb.State.Paused || sb.State.Restarting {
		t := sandboxStopTimeout
		if _, err := r.cli.ContainerStop(ctx, sb.ID, client.ContainerStopOptions{Timeout: &t}); err != nil && !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("stop pod sandbox %s: %w", short(sb.ID), err)
		}
	}
	return nil
}

// kill sends SIGKILL to a container and waits until it is not running.
func (r *Runtime) kill(ctx context.Context, id string) error {
	_, err := r.cli.ContainerKill(ctx, id, client.ContainerKillOptions{Signal: "SIGKILL"})
	if err != nil && !cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) {
		// Conflict: it is not running (any more).
		return fmt.Errorf("kill container %s: %w", short(id), err)
	}
	return r.waitNotRunning(ctx, id)
}

// waitNotRunning returns once the container is not running.
func (r *Runtime) waitNotRunning(ctx context.Context, id string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the wait request and its goroutine
	res := r.cli.ContainerWait(ctx, id, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	select {
	case <-res.Result:
		return nil
	case err := <-res.Error:
		if cerrdefs.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("wait for container %s to stop: %w", short(id), err)
	}
}

// RemovePodSandbox implements runtime.Runtime: it stops the sandbox and
// removes its containers and the pause container.
func (r *Runtime) RemovePodSandbox(ctx context.Context, id string) error {
	sb, err := r.inspectOwned(ctx, id, TypeSandbox)
	if errors.Is(err, runtime.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove pod sandbox %s: %w", short(id), err)
	}
	if err := r.stopSandbox(ctx, sb); err != nil {
		return err
	}
	cs, err := r.list(ctx, TypeContainer, map[string]string{LabelSandboxID: sb.ID}, "")
	if err != nil {
		return fmt.Errorf("remove pod sandbox %s: %w", short(sb.ID), err)
	}
	for _, c := range cs {
		if err := r.remove(ctx, c.ID); err != nil {
			return fmt.Errorf("remove pod sandbox %s: %w", short(sb.ID), err)
		}
	}
	if err := r.remove(ctx, sb.ID); err != nil {
		return fmt.Errorf("remove pod sandbox %s: %w", short(sb.ID), err)
	}
	return nil
}

// remove force-removes a container; a missing one is not an error.
func (r *Runtime) remove(ctx context.Context, id string) error {
	defer r.cache.drop(id)
	_, err := r.cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	switch {
	case err == nil, cerrdefs.IsNotFound(err):
		return nil
	case cerrdefs.IsConflict(err) && strings.Contains(err.Error(), "already in progress"):
		return nil
	}
	return fmt.Errorf("remove container %s: %w", short(id), err)
}

// removeQuietly removes a container that failed to come up, logging a
// failure; it runs even when the caller's context is done.
func (r *Runtime) removeQuietly(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.remove(ctx, id); err != nil {
		r.log.Warn("cannot remove a container that failed to start", "container", short(id), "err", err)
	}
}

// ListPodSandboxes implements runtime.Runtime.
func (r *Runtime) ListPodSandboxes(ctx context.Context, filter runtime.SandboxFilter) ([]*runtime.PodSandbox, error) {
	labels := cloneMap(filter.Labels)
	if filter.PodUID != "" {
		if labels == nil {
			labels = map[string]string{}
		}
		labels[runtime.LabelPodUID] = filter.PodUID
	}
	cs, err := r.list(ctx, TypeSandbox, labels, filter.ID)
	if err != nil {
		return nil, fmt.Errorf("list pod sandboxes: %w", err)
	}
	out := make([]*runtime.PodSandbox, 0, len(cs))
	for _, c := range cs {
		if sb := r.sandboxView(c); filter.Matches(sb) {
			out = append(out, sb)
		}
	}
	slices.SortStableFunc(out, func(a, b *runtime.PodSandbox) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// sandboxView is the runtime's view of a pause container.
func (r *Runtime) sandboxView(c *container.InspectResponse) *runtime.PodSandbox {
	labels := configLabels(c)
	attempt, _ := strconv.ParseUint(labels[LabelSandboxAttempt], 10, 32)
	sb := &runtime.PodSandbox{
		ID: c.ID, Name: labels[runtime.LabelPodName], Namespace: labels[runtime.LabelPodNamespace],
		UID: labels[runtime.LabelPodUID], Attempt: uint32(attempt), State: runtime.SandboxNotReady,
		CreatedAt: parseTime(c.Created), Labels: cloneMap(labels),
	}
	if c.State != nil && c.State.Running {
		sb.State = runtime.SandboxReady
		sb.IP = r.podIP(c)
	}
	return sb
}

// podIP is a running sandbox's IP: its address on the pod network, or the
// node's for a hostNetwork pod.
func (r *Runtime) podIP(c *container.InspectResponse) string {
	if c.HostConfig != nil && c.HostConfig.NetworkMode.IsHost() {
		return r.cfg.NodeIP
	}
	if c.NetworkSettings == nil {
		return ""
	}
	if ep := c.NetworkSettings.Networks[r.cfg.Network]; ep != nil && ep.IPAddress.IsValid() {
		return ep.IPAddress.String()
	}
	// A sandbox made with another network name (the configuration
	// changed): its first address.
	names := make([]string, 0, len(c.NetworkSettings.Networks))
	for n := range c.NetworkSettings.Networks {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if ep := c.NetworkSettings.Networks[n]; ep != nil && ep.IPAddress.IsValid() {
			return ep.IPAddress.String()
		}
	}
	return ""
}
