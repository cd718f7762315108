package fake

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kl-dev/kl/pkg/kubelet/runtime"
)

// CreateContainer implements runtime.Runtime.
func (r *Runtime) CreateContainer(ctx context.Context, sandboxID string, cfg runtime.ContainerConfig) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if cfg.Name == "" {
		return "", errors.New("create container: a container name is required")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.checkOpen(); err != nil {
		return "", err
	}
	s, ok := r.sandboxes[sandboxID]
	if !ok {
		return "", fmt.Errorf("create container %q: sandbox %s: %w", cfg.Name, short(sandboxID), runtime.ErrNotFound)
	}
	if s.State != runtime.SandboxReady {
		return "", fmt.Errorf("create container %q: sandbox %s is not ready", cfg.Name, short(sandboxID))
	}
	img, ok := r.images[normalizeImage(cfg.Image)]
	if !ok {
		return "", fmt.Errorf("create container %q: image %q: %w (pull it first)", cfg.Name, cfg.Image, runtime.ErrNotFound)
	}
	for _, c := range r.byPod[s.UID] {
		if c.SandboxID == sandboxID && c.Name == cfg.Name && c.Attempt == cfg.Attempt {
			return "", fmt.Errorf("create container %q attempt %d in sandbox %s: %w (container %s)", cfg.Name, cfg.Attempt, short(sandboxID), runtime.ErrAlreadyExists, short(c.ID))
		}
	}
	argv := append(slices.Clone(cfg.Command), cfg.Args...)
	b := behaviourOf(cfg.Image, argv, r.cfg.ExitDelay)
	c := &container{
		ID: newID(), SandboxID: sandboxID, Name: cfg.Name, Attempt: cfg.Attempt,
		PodName: s.Name, PodNS: s.Namespace, PodUID: s.UID,
		Image: cfg.Image, ImageRef: img.ID, State: runtime.ContainerCreated,
		CreatedAt: time.Now(), Labels: runtime.ContainerLabels(s.Labels, &cfg),
		Argv: argv, Env: slices.Clone(cfg.Env), Seq: r.nextSeq(),
		B: behaviourState{
			Exits: b.exits, RunFor: b.runFor, ExitCode: b.exitCode, Reason: b.reason,
			IgnoreTerm: b.ignoreTerm, Output: b.output,
		},
	}
	r.addContainerLocked(c)
	r.emitLocked(runtime.Event{Type: runtime.ContainerCreatedEvent, ContainerID: c.ID, SandboxID: sandboxID, PodUID: c.PodUID, Time: c.CreatedAt})
	r.markDirtyLocked()
	return c.ID, nil
}

// addContainerLocked records c, indexed by pod.
func (r *Runtime) addContainerLocked(c *container) {
	r.containers[c.ID] = c
	m := r.byPod[c.PodUID]
	if m == nil {
		m = map[string]*container{}
		r.byPod[c.PodUID] = m
	}
	m[c.ID] = c
}

func (r *Runtime) deleteContainerLocked(c *container) {
	delete(r.containers, c.ID)
	if m := r.byPod[c.PodUID]; m != nil {
		delete(m, c.ID)
		if len(m) == 0 {
			delete(r.byPod, c.PodUID)
		}
	}
}

// short shortens an ID for messages, as docker does.
func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// StartContainer implements runtime.Runtime; it takes Config.StartDelay.
func (r *Runtime) StartContainer(ctx context.Context, id string) error {
	r.mu.Lock()
	_, err := r.createdLocked(id)
	r.mu.Unlock()
	if err != nil {
		return err
	}
	if d := r.cfg.StartDelay; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("start container %s: %w", short(id), ctx.Err())
		case <-r.done:
			t.Stop()
			return errors.New("fake runtime is closed")
		case <-t.C:
		}
	} else if err := ctx.Err(); err != nil {
		return fmt.Errorf("start container %s: %w", short(id), err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.createdLocked(id)
	if err != nil {
		return err
	}
	now := time.Now()
	c.State = runtime.ContainerRunning
	c.StartedAt = now
	if c.B.Output != "" {
		r.appendLogLocked(c, now, "stdout", c.B.Output)
	}
	r.emitLocked(runtime.Event{Type: runtime.ContainerStartedEvent, ContainerID: c.ID, SandboxID: c.SandboxID, PodUID: c.PodUID, Time: now})
	if c.B.Exits {
		c.ExitAt = now.Add(c.B.RunFor)
		if c.B.RunFor <= 0 {
			r.exitLocked(c, c.B.ExitCode, c.B.Reason, now)
		} else {
			r.armExitLocked(c)
		}
	}
	r.notifyLocked(c)
	r.markDirtyLocked()
	return nil
}

// createdLocked returns the container id if it exists and can start.
func (r *Runtime) createdLocked(id string) (*container, error) {
	if err := r.checkOpen(); err != nil {
		return nil, err
	}
	c, ok := r.containers[id]
	if !ok {
		return nil, fmt.Errorf("start container %s: %w", short(id), runtime.ErrNotFound)
	}
	if c.State != runtime.ContainerCreated {
		return nil, fmt.Errorf("start container %s: container is %s, not created", short(id), c.State)
	}
	if s, ok := r.sandboxes[c.SandboxID]; !ok || s.State != runtime.SandboxReady {
		return nil, fmt.Errorf("start container %s: its sandbox %s is not ready", short(id), short(c.SandboxID))
	}
	return c, nil
}

// armExitLocked schedules a running container's own exit at c.ExitAt.
func (r *Runtime) armExitLocked(c *container) {
	if r.closed {
		return
	}
	if t, ok := r.timers[c.ID]; ok {
		t.Stop()
	}
	id := c.ID
	r.timers[id] = time.AfterFunc(time.Until(c.ExitAt), func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		delete(r.timers, id)
		if r.closed {
			return
		}
		if c, ok := r.containers[id]; ok && c.State == runtime.ContainerRunning && !c.ExitAt.IsZero() {
			r.exitLocked(c, c.B.ExitCode, c.B.Reason, c.ExitAt)
		}
	})
}

// exitLocked ends a container (running or created) at time at.
func (r *Runtime) exitLocked(c *container, code int32, reason string, at time.Time) {
	if c.State == runtime.ContainerExited {
		return
	}
	if t, ok := r.timers[c.ID]; ok {
		t.Stop()
		delete(r.timers, c.ID)
	}
	c.State = runtime.ContainerExited
	c.FinishedAt = at
	c.ExitCode = code
	c.Reason = reason
	c.ExitAt = time.Time{}
	r.emitLocked(runtime.Event{Type: runtime.ContainerExitedEvent, ContainerID: c.ID, SandboxID: c.SandboxID, PodUID: c.PodUID, Time: at})
	r.notifyLocked(c)
	r.markDirtyLocked()
}

// notifyLocked wakes log followers and stop waiters of c.
func (r *Runtime) notifyLocked(c *container) {
	if c.changed != nil {
		close(c.changed)
		c.changed = nil
	}
}

// changedLocked returns a channel closed at c's next change.
func (c *container) changedLocked() <-chan struct{} {
	if c.changed == nil {
		c.changed = make(chan struct{})
	}
	return c.changed
}

// StopContainer implements runtime.Runtime: SIGTERM ends a container at
// once (exit 143) unless its image ignores it; then SIGKILL follows after
// grace (exit 137).
func (r *Runtime) StopContainer(ctx context.Context, id string, grace time.Duration) error {
	r.mu.Lock()
	c, ok := r.containers[id]
	if !ok {
		r.mu.Unlock()
		return fmt.Errorf("stop container %s: %w", short(id), runtime.ErrNotFound)
	}
	switch {
	case c.State == runtime.ContainerCreated:
		r.exitLocked(c, 0, "", time.Now())
		r.mu.Unlock()
		return nil
	case c.State != runtime.ContainerRunning:
		r.mu.Unlock()
		return nil
	case !c.B.IgnoreTerm || grace <= 0:
		code := int32(exitSIGTERM)
		if grace <= 0 {
			code = exitSIGKILL
		}
		r.exitLocked(c, code, "Error", time.Now())
		r.mu.Unlock()
		return nil
	}
	deadline := time.NewTimer(grace)
	defer deadline.Stop()
	for {
		changed := c.changedLocked()
		r.mu.Unlock()
		select {
		case <-ctx.Done():
			return fmt.Errorf("stop container %s: %w", short(id), ctx.Err())
		case <-r.done:
			return errors.New("fake runtime is closed")
		case <-changed:
			r.mu.Lock()
			if c.State != runtime.ContainerRunning {
				r.mu.Unlock()
				return nil
			}
		case <-deadline.C:
			r.mu.Lock()
			r.exitLocked(c, exitSIGKILL, "Error", time.Now())
			r.mu.Unlock()
			return nil
		}
	}
}

// RemoveContainer implements runtime.Runtime.
func (r *Runtime) RemoveContainer(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.containers[id]; ok {
		r.removeContainerLocked(c)
	}
	return nil
}

func (r *Runtime) removeContainerLocked(c *container) {
	now := time.Now()
	if c.State != runtime.ContainerExited {
		r.exitLocked(c, exitSIGKILL, "Error", now)
	}
	r.deleteContainerLocked(c)
	r.emitLocked(runtime.Event{Type: runtime.ContainerRemovedEvent, ContainerID: c.ID, SandboxID: c.SandboxID, PodUID: c.PodUID, Time: now})
	r.notifyLocked(c)
	r.markDirtyLocked()
}

// ListContainers implements runtime.Runtime.
func (r *Runtime) ListContainers(ctx context.Context, filter runtime.ContainerFilter) ([]*runtime.Container, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var list []*container
	switch {
	case filter.ID != "":
		if c, ok := r.containers[filter.ID]; ok {
			list = append(list, c)
		}
	case filter.PodUID != "":
		for _, c := range r.byPod[filter.PodUID] {
			list = append(list, c)
		}
	default:
		for _, c := range r.containers {
			list = append(list, c)
		}
	}
	list = slices.DeleteFunc(list, func(c *container) bool { return !c.matches(&filter) })
	slices.SortFunc(list, func(a, b *container) int { return compareSeq(a.Seq, b.Seq) })
	out := make([]*runtime.Container, len(list))
	for i, c := range list {
		out[i] = c.view()
	}
	return out, nil
}

// matches is filter.Matches on the record, without copying it.
func (c *container) matches(f *runtime.ContainerFilter) bool {
	if (f.ID != "" && f.ID != c.ID) || (f.SandboxID != "" && f.SandboxID != c.SandboxID) ||
		(f.PodUID != "" && f.PodUID != c.PodUID) || (f.State != "" && f.State != c.State) {
		return false
	}
	for k, v := range f.Labels {
		if hv, ok := c.Labels[k]; !ok || hv != v {
			return false
		}
	}
	return true
}

// ContainerStatus implements runtime.Runtime.
func (r *Runtime) ContainerStatus(ctx context.Context, id string) (*runtime.Container, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.containers[id]
	if !ok {
		return nil, fmt.Errorf("container %s: %w", short(id), runtime.ErrNotFound)
	}
	return c.view(), nil
}

func (c *container) view() *runtime.Container {
	return &runtime.Container{
		ID: c.ID, SandboxID: c.SandboxID, Name: c.Name, Attempt: c.Attempt,
		PodName: c.PodName, PodNamespace: c.PodNS, PodUID: c.PodUID,
		Image: c.Image, ImageRef: c.ImageRef, State: c.State,
		CreatedAt: c.CreatedAt, StartedAt: c.StartedAt, FinishedAt: c.FinishedAt,
		ExitCode: c.ExitCode, Reason: c.Reason, Message: c.Message, Labels: cloneMap(c.Labels),
	}
}

// appendLogLocked adds text (one or more lines) to c's log.
func (r *Runtime) appendLogLocked(c *container, at time.Time, stream, text string) {
	for len(text) > 0 {
		line := text
		if i := indexByte(text, '\n'); i >= 0 {
			line, text = text[:i+1], text[i+1:]
		} else {
			text = ""
		}
		c.Logs = append(c.Logs, logLine{Time: at, Stream: stream, Text: line})
		c.LogBytes += len(line)
	}
	for c.LogBytes > maxLogBytes && len(c.Logs) > 0 {
		c.LogBytes -= len(c.Logs[0].Text)
		c.Logs = c.Logs[1:]
	}
	r.notifyLocked(c)
}

func indexByte(s string, b byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			return i
		}
	}
	return -1
}

// ---------------------------------------------------------------------------
// Events

// subscriber is one Events stream: an unbounded queue, so the runtime
// never blocks on a slow reader.
type subscriber struct {
	queue  []runtime.Event
	signal chan struct{}
}

// Events implements runtime.Runtime.
func (r *Runtime) Events(ctx context.Context) (<-chan runtime.Event, error) {
	r.mu.Lock()
	if err := r.checkOpen(); err != nil {
		r.mu.Unlock()
		return nil, err
	}
	s := &subscriber{signal: make(chan struct{}, 1)}
	r.subs[s] = struct{}{}
	r.mu.Unlock()
	out := make(chan runtime.Event)
	go func() {
		defer close(out)
		defer func() {
			r.mu.Lock()
			delete(r.subs, s)
			r.mu.Unlock()
		}()
		for {
			r.mu.Lock()
			batch := s.queue
			s.queue = nil
			r.mu.Unlock()
			for _, ev := range batch {
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				case <-r.done:
					return
				}
			}
			if len(batch) > 0 {
				continue
			}
			select {
			case <-s.signal:
			case <-ctx.Done():
				return
			case <-r.done:
				return
			}
		}
	}()
	return out, nil
}

func (r *Runtime) emitLocked(ev runtime.Event) {
	for s := range r.subs {
		s.queue = append(s.queue, ev)
		select {
		case s.signal <- struct{}{}:
		default:
		}
	}
}
