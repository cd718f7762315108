package kubelet

import (
	"container/list"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
)

// Event reasons the kubelet reports, as Kubernetes' kubelet names them.
const (
	reasonPulling        = "Pulling"
	reasonPulled         = "Pulled"
	reasonCreated        = "Created"
	reasonStarted        = "Started"
	reasonKilling        = "Killing"
	reasonBackOff        = "BackOff"
	reasonUnhealthy      = "Unhealthy"
	reasonFailed         = "Failed"
	reasonNeverPull      = "ErrImageNeverPull"
	reasonSandboxFailed  = "FailedCreatePodSandBox"
	reasonSandboxChanged = "SandboxChanged"
	reasonStarting       = "Starting"
	reasonNodeReady      = "NodeReady"
	reasonNodeNotReady   = "NodeNotReady"
)

// eventComponent is the events' source.component.
const eventComponent = "kubelet"

// Limits of the recorder, after client-go's event broadcaster and spam
// filter: a bounded queue (events beyond it are dropped), at most
// spamBurst events per object, refilled one every spamRefill.
const (
	eventQueueSize  = 1000
	aggregateCache  = 4096
	aggregateWindow = 10 * time.Minute
	spamBurst       = 25
	spamRefill      = 5 * time.Minute
)

// recorder writes core/v1 Events for the kubelet's nodes. Repeats of one
// event (same object, reason, message, type and node) within
// aggregateWindow are counted on the first one instead of creating new
// objects. Recording never blocks: events over the rate are dropped.
type recorder struct {
	events  *client.Resource[corev1.Event, *corev1.Event]
	log     *slog.Logger
	queue   chan pendingEvent
	limiter *rate.Limiter

	mu    sync.Mutex
	seen  map[string]*list.Element // aggregation key -> *aggregate
	order *list.List               // LRU of aggregates
	spam  map[string]*list.Element // object key -> *spamBucket
	spamL *list.List
}

type pendingEvent struct {
	host      string
	ref       corev1.ObjectReference
	eventType string
	reason    string
	message   string
	at        time.Time
}

type aggregate struct {
	key   string
	name  string
	ns    string
	count int32
	first time.Time
	last  time.Time
}

type spamBucket struct {
	key     string
	limiter *rate.Limiter
}

func newRecorder(c *client.Client, qps float64, burst int, log *slog.Logger) *recorder {
	return &recorder{
		events:  client.NewResource[corev1.Event](c, meta.GroupVersionResource{Version: "v1", Resource: "events"}, true),
		log:     log,
		queue:   make(chan pendingEvent, eventQueueSize),
		limiter: rate.NewLimiter(rate.Limit(qps), burst),
		seen:    map[string]*list.Element{},
		order:   list.New(),
		spam:    map[string]*list.Element{},
		spamL:   list.New(),
	}
}

// eventf records an event about ref on node host. It never blocks.
func (r *recorder) eventf(host string, ref corev1.ObjectReference, eventType, reason, format string, args ...any) {
	ev := pendingEvent{host: host, ref: ref, eventType: eventType, reason: reason, message: fmt.Sprintf(format, args...), at: time.Now()}
	if !r.allow(host + "/" + ref.Kind + "/" + ref.Namespace + "/" + ref.Name + "/" + ref.UID) {
		r.log.Debug("event dropped by the spam filter", "object", ref.Namespace+"/"+ref.Name, "reason", reason)
		return
	}
	select {
	case r.queue <- ev:
	default:
		r.log.Debug("event dropped: queue full", "object", ref.Namespace+"/"+ref.Name, "reason", reason)
	}
}

// allow applies the per-object spam filter.
func (r *recorder) allow(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if el, ok := r.spam[key]; ok {
		r.spamL.MoveToFront(el)
		return el.Value.(*spamBucket).limiter.Allow()
	}
	b := &spamBucket{key: key, limiter: rate.NewLimiter(rate.Every(spamRefill), spamBurst)}
	r.spam[key] = r.spamL.PushFront(b)
	if r.spamL.Len() > aggregateCache {
		old := r.spamL.Back()
		r.spamL.Remove(old)
		delete(r.spam, old.Value.(*spamBucket).key)
	}
	return b.limiter.Allow()
}

// run writes queued events until ctx is cancelled.
func (r *recorder) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-r.queue:
			if err := r.limiter.Wait(ctx); err != nil {
				return
			}
			if err := r.write(ctx, ev); err != nil && ctx.Err() == nil {
				r.log.Debug("cannot write event", "object", ev.ref.Namespace+"/"+ev.ref.Name, "reason", ev.reason, "err", err)
			}
		}
	}
}

func (r *recorder) write(ctx context.Context, ev pendingEvent) error {
	key := ev.host + "\x00" + ev.ref.UID + "\x00" + ev.ref.Kind + "\x00" + ev.ref.Namespace + "\x00" + ev.ref.Name + "\x00" +
		ev.ref.FieldPath + "\x00" + ev.eventType + "\x00" + ev.reason + "\x00" + ev.message
	ns := ev.ref.Namespace
	if ns == "" {
		ns = meta.NamespaceDefault // events about cluster-scoped objects (nodes)
	}
	r.mu.Lock()
	var agg *aggregate
	if el, ok := r.seen[key]; ok {
		agg = el.Value.(*aggregate)
		if ev.at.Sub(agg.last) > aggregateWindow {
			r.order.Remove(el)
			delete(r.seen, key)
			agg = nil
		} else {
			r.order.MoveToFront(el)
			agg.count++
			agg.last = ev.at
		}
	}
	var snapshot aggregate
	if agg != nil {
		snapshot = *agg
	}
	r.mu.Unlock()

	if agg != nil {
		patch, err := json.Marshal(map[string]any{
			"count":         snapshot.count,
			"lastTimestamp": meta.NewTime(snapshot.last),
		})
		if err != nil {
			return err
		}
		_, err = r.events.Namespace(snapshot.ns).Patch(ctx, snapshot.name, client.MergePatchType, patch, client.PatchOptions{})
		if err == nil || !meta.IsNotFound(err) {
			return err
		}
		// The event was deleted (TTL, by hand): start a new one.
		r.mu.Lock()
		if el, ok := r.seen[key]; ok {
			r.order.Remove(el)
			delete(r.seen, key)
		}
		r.mu.Unlock()
	}

	t := meta.NewTime(ev.at)
	obj := &corev1.Event{
		ObjectMeta: meta.ObjectMeta{
			Name:      ev.ref.Name + "." + strconv.FormatInt(ev.at.UnixNano(), 16),
			Namespace: ns,
		},
		InvolvedObject:      ev.ref,
		Reason:              ev.reason,
		Message:             ev.message,
		Source:              corev1.EventSource{Component: eventComponent, Host: ev.host},
		FirstTimestamp:      t,
		LastTimestamp:       t,
		Count:               1,
		Type:                ev.eventType,
		ReportingController: eventComponent,
		ReportingInstance:   ev.host,
	}
	created, err := r.events.Create(ctx, obj, client.CreateOptions{})
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	a := &aggregate{key: key, name: created.Name, ns: ns, count: 1, first: ev.at, last: ev.at}
	r.seen[key] = r.order.PushFront(a)
	if r.order.Len() > aggregateCache {
		old := r.order.Back()
		r.order.Remove(old)
		delete(r.seen, old.Value.(*aggregate).key)
	}
	return nil
}

// podRef is the involvedObject of an event about a pod, or about one of
// its containers when container is not empty ("spec.containers{web}").
func podRef(pod *corev1.Pod, container string, init bool) corev1.ObjectReference {
	ref := corev1.ObjectReference{
		Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID,
	}
	if container != "" {
		field := "spec.containers"
		if init {
			field = "spec.initContainers"
		}
		ref.FieldPath = field + "{" + container + "}"
	}
	return ref
}

// nodeRef is the involvedObject of an event about a node (Kubernetes uses
// the node name as its UID in these references).
func nodeRef(name string) corev1.ObjectReference {
	return corev1.ObjectReference{Kind: "Node", Name: name, UID: name}
}
