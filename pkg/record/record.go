// Package record writes core/v1 Events for kl's components (scheduler,
// kubelet, controllers), as Kubernetes' event recorder does: asynchronously
// (a component never waits on, or fails because of, an event), with
// repeats of the same event folded into one object whose count and
// lastTimestamp go up.
package record

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
)

// Recorder records Events about objects.
type Recorder interface {
	// Eventf records an event of type Normal or Warning about obj, whose
	// kind and apiVersion must be set.
	Eventf(obj meta.Object, eventType, reason, messageFmt string, args ...any)
}

// Discard is a Recorder that drops every event: the default of components
// given none.
var Discard Recorder = discard{}

type discard struct{}

func (discard) Eventf(meta.Object, string, string, string, ...any) {}

// Config configures a Broadcaster.
type Config struct {
	Client *client.Client
	// Component is source.component and reportingComponent (e.g. "default-scheduler").
	Component string
	// Host is source.host (the node name, for kubelets).
	Host string
	// Buffer is how many events may wait to be written (default 1000);
	// beyond it events are dropped, never blocking the caller.
	Buffer int
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Broadcaster is a Recorder writing through the API. Run must be running
// for events to be written.
type Broadcaster struct {
	cfg    Config
	events *client.Resource[corev1.Event, *corev1.Event]
	queue  chan *corev1.Event

	mu sync.Mutex
	// seen maps an aggregation key to the Event object written for it.
	seen map[string]*corev1.Event
}

var _ Recorder = (*Broadcaster)(nil)

// New returns a Broadcaster.
func New(cfg Config) *Broadcaster {
	if cfg.Buffer <= 0 {
		cfg.Buffer = 1000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Broadcaster{
		cfg:    cfg,
		events: client.NewResource[corev1.Event](cfg.Client, meta.GroupVersionResource{Version: "v1", Resource: "events"}, true),
		queue:  make(chan *corev1.Event, cfg.Buffer),
		seen:   map[string]*corev1.Event{},
	}
}

// Eventf implements Recorder.
func (b *Broadcaster) Eventf(obj meta.Object, eventType, reason, messageFmt string, args ...any) {
	m, tm := obj.GetObjectMeta(), obj.GetTypeMeta()
	ns := m.Namespace
	if ns == "" {
		ns = meta.NamespaceDefault
	}
	now := meta.NewTime(b.cfg.Now())
	ev := &corev1.Event{
		ObjectMeta: meta.ObjectMeta{
			Name:      fmt.Sprintf("%s.%s", m.Name, strconv.FormatInt(b.cfg.Now().UnixNano(), 16)),
			Namespace: ns,
		},
		InvolvedObject: corev1.ObjectReference{
			Kind: tm.Kind, APIVersion: tm.APIVersion, Namespace: m.Namespace, Name: m.Name,
			UID: m.UID, ResourceVersion: m.ResourceVersion,
		},
		Reason:              reason,
		Message:             fmt.Sprintf(messageFmt, args...),
		Type:                eventType,
		Source:              corev1.EventSource{Component: b.cfg.Component, Host: b.cfg.Host},
		FirstTimestamp:      now,
		LastTimestamp:       now,
		Count:               1,
		ReportingController: b.cfg.Component,
		ReportingInstance:   b.cfg.Host,
	}
	select {
	case b.queue <- ev:
	default:
		b.cfg.Logger.Debug("event dropped: queue full", "reason", reason, "object", m.Name)
	}
}

// Run writes queued events until ctx ends.
func (b *Broadcaster) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-b.queue:
			b.write(ctx, ev)
		}
	}
}

func aggregationKey(ev *corev1.Event) string {
	o := ev.InvolvedObject
	return o.Kind + "/" + o.Namespace + "/" + o.Name + "/" + o.UID + "/" + ev.Type + "/" + ev.Reason + "/" + ev.Message
}

func (b *Broadcaster) write(ctx context.Context, ev *corev1.Event) {
	key := aggregationKey(ev)
	b.mu.Lock()
	prev := b.seen[key]
	b.mu.Unlock()
	res := b.events.Namespace(ev.Namespace)
	if prev != nil {
		patch := fmt.Sprintf(`{"count":%d,"lastTimestamp":%q}`, prev.Count+1, ev.LastTimestamp.UTC().Format(time.RFC3339))
		updated, err := res.Patch(ctx, prev.Name, client.MergePatchType, []byte(patch), client.PatchOptions{})
		if err == nil {
			b.remember(key, updated)
			return
		}
		if !meta.IsNotFound(err) {
			b.cfg.Logger.Debug("event update failed", "err", err)
			return
		}
	}
	created, err := res.Create(ctx, ev, client.CreateOptions{})
	if err != nil {
		b.cfg.Logger.Debug("event write failed", "reason", ev.Reason, "err", err)
		return
	}
	b.remember(key, created)
}

// remember keeps the Event written for key; the cache is bounded.
func (b *Broadcaster) remember(key string, ev *corev1.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.seen) >= 4096 {
		for k := range b.seen {
			delete(b.seen, k)
			if len(b.seen) < 2048 {
				break
			}
		}
	}
	b.seen[key] = ev
}

// Fake records events in memory, for tests.
type Fake struct {
	mu     sync.Mutex
	Events []string // "Type Reason Message"
}

// Eventf implements Recorder.
func (f *Fake) Eventf(_ meta.Object, eventType, reason, messageFmt string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Events = append(f.Events, eventType+" "+reason+" "+fmt.Sprintf(messageFmt, args...))
}

// List returns the events recorded so far.
func (f *Fake) List() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.Events...)
}
