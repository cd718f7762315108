package scheduler

import (
	"container/list"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/client/clock"
)

// Event reasons the scheduler reports, as kube-scheduler does.
const (
	reasonScheduled        = "Scheduled"
	reasonFailedScheduling = "FailedScheduling"
)

// Sizes of the event recorder.
const (
	eventShards        = 4    // workers, each owning a share of the events
	eventQueuePerShard = 1000 // events waiting per worker before new ones are dropped
	eventCachePerShard = 1024 // recent events remembered per worker for counting repeats
)

// recorder writes core/v1 Events about pods, asynchronously: a full queue
// drops events rather than slowing scheduling down. An event identical to
// a recent one (same pod, type, reason and message) is not created again:
// the existing Event's count and lastTimestamp are patched instead, so a
// pod that stays unschedulable does not flood the namespace.
//
// Events are spread over workers by that identity, so each worker alone
// owns the events it counts and needs no locks.
type recorder struct {
	events    *client.Resource[corev1.Event, *corev1.Event]
	component string
	instance  string
	clock     clock.Clock
	log       *slog.Logger
	dropped   func()
	shards    []chan eventRequest
}

type eventRequest struct {
	involved corev1.ObjectReference
	typ      string
	reason   string
	message  string
	at       time.Time
}

func (r eventRequest) key() string {
	return r.involved.Namespace + "/" + r.involved.Name + "/" + r.involved.UID + "\x00" + r.typ + "\x00" + r.reason + "\x00" + r.message
}

func newRecorder(events *client.Resource[corev1.Event, *corev1.Event], component, instance string, clk clock.Clock, log *slog.Logger, dropped func()) *recorder {
	r := &recorder{events: events, component: component, instance: instance, clock: clk, log: log, dropped: dropped}
	for range eventShards {
		r.shards = append(r.shards, make(chan eventRequest, eventQueuePerShard))
	}
	return r
}

// event queues an event about pod; it never blocks.
func (r *recorder) event(pod *corev1.Pod, typ, reason, message string) {
	req := eventRequest{
		involved: corev1.ObjectReference{
			Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name,
			UID: pod.UID, ResourceVersion: pod.ResourceVersion,
		},
		typ: typ, reason: reason, message: message, at: r.clock.Now(),
	}
	h := fnv.New32a()
	h.Write([]byte(req.key()))
	select {
	case r.shards[h.Sum32()%uint32(len(r.shards))] <- req:
	default:
		r.dropped()
	}
}

// run writes events until ctx is cancelled.
func (r *recorder) run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, ch := range r.shards {
		wg.Go(func() {
			w := &eventWorker{r: r, seen: newLRU(eventCachePerShard)}
			for {
				select {
				case <-ctx.Done():
					return
				case req := <-ch:
					w.write(ctx, req)
				}
			}
		})
	}
	wg.Wait()
}

type eventWorker struct {
	r    *recorder
	seen *lru
}

// write creates the event, or counts a repeat of a recent one.
func (w *eventWorker) write(ctx context.Context, req eventRequest) {
	key := req.key()
	if prev, ok := w.seen.get(key); ok {
		prev.count++
		patch, _ := json.Marshal(map[string]any{"count": prev.count, "lastTimestamp": meta.NewTime(req.at)})
		_, err := w.r.events.Namespace(req.involved.Namespace).Patch(ctx, prev.name, client.MergePatchType, patch, client.PatchOptions{})
		if err == nil {
			return
		}
		if !meta.IsNotFound(err) {
			w.r.log.Debug("could not update event", "event", prev.name, "err", err)
			return
		}
		w.seen.remove(key) // deleted (expired): create a new one
	}
	ev := &corev1.Event{
		ObjectMeta:          meta.ObjectMeta{Name: fmt.Sprintf("%s.%x", req.involved.Name, req.at.UnixNano()), Namespace: req.involved.Namespace},
		InvolvedObject:      req.involved,
		Reason:              req.reason,
		Message:             req.message,
		Source:              corev1.EventSource{Component: w.r.component},
		FirstTimestamp:      meta.NewTime(req.at),
		LastTimestamp:       meta.NewTime(req.at),
		Count:               1,
		Type:                req.typ,
		ReportingController: w.r.component,
		ReportingInstance:   w.r.instance,
	}
	created, err := w.r.events.Create(ctx, ev, client.CreateOptions{})
	if err != nil {
		if ctx.Err() == nil {
			w.r.log.Debug("could not create event", "pod", req.involved.Namespace+"/"+req.involved.Name, "reason", req.reason, "err", err)
		}
		return
	}
	w.seen.add(key, &seenEvent{name: created.Name, count: 1})
}

type seenEvent struct {
	name  string
	count int32
}

// lru is a small least-recently-used map of the events a worker wrote.
type lru struct {
	size  int
	order *list.List // front: most recent; values are *lruEntry
	items map[string]*list.Element
}

type lruEntry struct {
	key string
	val *seenEvent
}

func newLRU(size int) *lru {
	return &lru{size: size, order: list.New(), items: map[string]*list.Element{}}
}

func (l *lru) get(key string) (*seenEvent, bool) {
	el, ok := l.items[key]
	if !ok {
		return nil, false
	}
	l.order.MoveToFront(el)
	return el.Value.(*lruEntry).val, true
}

func (l *lru) add(key string, val *seenEvent) {
	l.items[key] = l.order.PushFront(&lruEntry{key: key, val: val})
	if l.order.Len() > l.size {
		oldest := l.order.Back()
		l.order.Remove(oldest)
		delete(l.items, oldest.Value.(*lruEntry).key)
	}
}

func (l *lru) remove(key string) {
	if el, ok := l.items[key]; ok {
		l.order.Remove(el)
		delete(l.items, key)
	}
}
