package docker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"

	"github.com/kl-dev/kl/pkg/kubelet/runtime"
)

// eventBuffer absorbs bursts (a pod of many containers stopping) while
// the kubelet handles earlier events.
const eventBuffer = 256

// Events implements runtime.Runtime: the engine's event stream for this
// node's sandboxes and containers. The channel closes when ctx ends or the
// stream breaks (engine restart); the caller re-subscribes and re-lists.
func (r *Runtime) Events(ctx context.Context) (<-chan runtime.Event, error) {
	// Fail now, not on the first read, when the engine is not there.
	if err := r.Status(ctx); err != nil {
		return nil, fmt.Errorf("runtime events: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	f := make(client.Filters).
		Add("type", string(events.ContainerEventType)).
		Add("label", LabelManaged+"=true", LabelNode+"="+r.cfg.NodeName)
	for _, a := range []events.Action{events.ActionCreate, events.ActionStart, events.ActionDie, events.ActionDestroy} {
		f.Add("event", string(a))
	}
	// Events returns once the engine has accepted the subscription, so
	// nothing that happens after this call is missed.
	stream := r.cli.Events(ctx, client.EventsListOptions{Filters: f})
	out := make(chan runtime.Event, eventBuffer)
	go func() {
		defer close(out)
		defer cancel()
		for {
			select {
			case m := <-stream.Messages:
				ev, ok := r.event(m)
				if !ok {
					continue
				}
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			case err := <-stream.Err:
				if err != nil && ctx.Err() == nil && !errors.Is(err, context.Canceled) {
					r.log.Warn("the engine's event stream ended", "err", err)
				}
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// event maps an engine event to the runtime's; ok is false for events the
// runtime does not report.
func (r *Runtime) event(m events.Message) (runtime.Event, bool) {
	attrs := m.Actor.Attributes
	if m.Type != events.ContainerEventType || !r.owned(attrs, attrs[LabelType]) {
		return runtime.Event{}, false
	}
	ev := runtime.Event{PodUID: attrs[runtime.LabelPodUID], Time: time.Unix(0, m.TimeNano)}
	if m.TimeNano == 0 {
		ev.Time = time.Unix(m.Time, 0)
	}
	switch attrs[LabelType] {
	case TypeSandbox:
		if m.Action != events.ActionDie {
			return runtime.Event{}, false
		}
		ev.Type = runtime.SandboxStoppedEvent
		ev.SandboxID = m.Actor.ID
		return ev, true
	case TypeContainer:
		ev.ContainerID = m.Actor.ID
		ev.SandboxID = attrs[LabelSandboxID]
		switch m.Action {
		case events.ActionCreate:
			ev.Type = runtime.ContainerCreatedEvent
		case events.ActionStart:
			ev.Type = runtime.ContainerStartedEvent
		case events.ActionDie:
			ev.Type = runtime.ContainerExitedEvent
		case events.ActionDestroy:
			ev.Type = runtime.ContainerRemovedEvent
		default:
			return runtime.Event{}, false
		}
		return ev, true
	}
	return runtime.Event{}, false
}
