// Package wait waits until applied objects are ready — Deployments rolled
// out, Pods Ready, Services with a ready endpoint — with watches (one list
// and one watch per kind and namespace, not per object), and shows the
// progress: one live bar per object on a terminal, plain periodic lines
// otherwise. kl apply --wait uses it.
package wait

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
)

// API is the part of the API client Wait uses; *client.Dynamic implements
// it.
type API interface {
	List(ctx context.Context, gvr meta.GroupVersionResource, namespace string, opts client.ListOptions) ([]byte, error)
	RetryWatch(ctx context.Context, gvr meta.GroupVersionResource, namespace string, opts client.ListOptions) (<-chan client.Event[json.RawMessage], error)
}

var _ API = (*client.Dynamic)(nil)

var (
	deploymentsGVR = meta.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	podsGVR        = meta.GroupVersionResource{Version: "v1", Resource: "pods"}
	endpointsGVR   = meta.GroupVersionResource{Version: "v1", Resource: "endpoints"}
)

// Target is an object to wait for.
type Target struct {
	// Ref names it in output: "deployment.apps/web".
	Ref string
	// Group and Kind say what it is ("apps", "Deployment").
	Group, Kind string
	// Namespace and Name say which.
	Namespace, Name string
	// Object is the object as applied (JSON); a Service's selector and
	// type are read from it.
	Object []byte
}

// Waitable reports whether Wait has something to wait for in objects of
// group and kind: Deployments, Pods and Services. Others are ready once
// applied.
func Waitable(group, kind string) bool {
	switch {
	case group == "apps" && kind == "Deployment":
		return true
	case group == "" && (kind == "Pod" || kind == "Service"):
		return true
	}
	return false
}

// Options control Wait.
type Options struct {
	// Timeout bounds the wait (0: only ctx does).
	Timeout time.Duration
	// Out receives the progress.
	Out io.Writer
	// Bars shows live progress bars (Out is a terminal); otherwise a line
	// per object that is not ready is printed at the start, then at an
	// Interval tick when its status changed (or every 30s if it did not),
	// and one when it becomes ready or fails.
	Bars bool
	// Interval is how often the plain progress lines are checked (default 5s).
	Interval time.Duration
}

// Error is a wait that ended with objects not ready: the timeout passed,
// or they failed (a rollout past its progress deadline, a failed pod).
type Error struct {
	// Timeout is the timeout that passed, or 0 when objects failed.
	Timeout time.Duration
	// Total is the number of objects waited for.
	Total int
	// NotReady has one line per object not ready: "deployment.apps/web:
	// 1/3 available (pod web-5d9c-x2k: CrashLoopBackOff)".
	NotReady []string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Timeout > 0 {
		fmt.Fprintf(&b, "timed out after %s waiting for %d of %d objects to be ready:", e.Timeout, len(e.NotReady), e.Total)
	} else {
		fmt.Fprintf(&b, "%d of %d objects failed:", len(e.NotReady), e.Total)
	}
	for _, l := range e.NotReady {
		b.WriteString("\n  ")
		b.WriteString(l)
	}
	return b.String()
}

// source is one collection that is listed and watched.
type source struct {
	gvr meta.GroupVersionResource
	ns  string
}

// tracked is a target and what is known of it.
type tracked struct {
	Target
	src    source // where its readiness is read
	status Status
	// done is set once the target is ready or failed (for good: a ready
	// object that becomes unready again is reported, but the wait does not
	// go back).
	done bool
}

// update is what a source reports: its full state (list) or one change.
type update struct {
	src      source
	snapshot map[string]json.RawMessage // a (re)list; nil for an event
	event    *client.Event[json.RawMessage]
	err      error
}

// Wait waits until every target is ready, reporting progress to
// opts.Out. It returns nil when all are ready, an *Error when the timeout
// passed or some failed, and ctx's error when ctx is cancelled.
func Wait(ctx context.Context, api API, targets []Target, opts Options) error {
	if opts.Interval <= 0 {
		opts.Interval = 5 * time.Second
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	var ts []*tracked
	sources := map[source]bool{}
	for _, t := range targets {
		tr := &tracked{Target: t}
		switch {
		case t.Group == "apps" && t.Kind == "Deployment":
			tr.src = source{deploymentsGVR, t.Namespace}
		case t.Group == "" && t.Kind == "Pod":
			tr.src = source{podsGVR, t.Namespace}
		case t.Group == "" && t.Kind == "Service":
			if !serviceHasEndpoints(t.Object) {
				continue // nothing will ever publish endpoints for it
			}
			tr.src = source{endpointsGVR, t.Namespace}
		default:
			continue
		}
		tr.status = Status{Total: 1, Text: "waiting for the first status"}
		sources[tr.src] = true
		ts = append(ts, tr)
	}
	if len(ts) == 0 {
		return nil
	}

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var deadline <-chan time.Time
	if opts.Timeout > 0 {
		timer := time.NewTimer(opts.Timeout)
		defer timer.Stop()
		deadline = timer.C
	}
	updates := make(chan update)
	done := make(chan struct{})
	running := 0
	for src := range sources {
		running++
		go func() {
			defer func() { done <- struct{}{} }()
			follow(wctx, api, src, updates)
		}()
	}
	// Stop the sources, and wait for them, on the way out.
	defer func() {
		cancel()
		for running > 0 {
			select {
			case <-updates:
			case <-done:
				running--
			}
		}
	}()

	var disp display = &lines{out: opts.Out}
	if opts.Bars {
		disp = newBars(opts.Out, ts)
	}
	defer disp.stop()

	store := map[source]map[string]json.RawMessage{}
	listed := 0
	ticker := time.NewTicker(opts.Interval)
	defer ticker.Stop()
	for {
		select {
		case u := <-updates:
			if u.err != nil {
				return u.err
			}
			objs := store[u.src]
			if u.snapshot != nil {
				if objs == nil {
					listed++
				}
				store[u.src] = u.snapshot
			} else if objs != nil {
				applyEvent(objs, u.event)
			}
			if listed < len(sources) {
				continue // show nothing until every source is listed
			}
			first := listed == len(sources) && u.snapshot != nil && objs == nil
			for _, t := range ts {
				if !first && t.src != u.src {
					continue
				}
				if t.evaluate(store[t.src]) || first {
					disp.show(t, first)
				}
			}
			if finished(ts) {
				return result(ctx, api, ts, store, 0)
			}
		case <-ticker.C:
			if listed == len(sources) {
				disp.tick(ts)
			}
		case <-deadline:
			return result(ctx, api, ts, store, opts.Timeout)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// evaluate computes t's status from the objects of its source and reports
// whether it changed.
func (t *tracked) evaluate(objs map[string]json.RawMessage) bool {
	var s Status
	raw, ok := objs[t.Name]
	switch t.src.gvr {
	case deploymentsGVR:
		if !ok {
			s = Status{Total: 1, Text: "not found"}
			break
		}
		var d appsv1.Deployment
		if err := json.Unmarshal(raw, &d); err != nil {
			s = Status{Total: 1, Text: "cannot decode: " + err.Error()}
			break
		}
		s = DeploymentStatus(&d)
	case podsGVR:
		if !ok {
			s = Status{Total: 1, Text: "not found"}
			break
		}
		var p corev1.Pod
		if err := json.Unmarshal(raw, &p); err != nil {
			s = Status{Total: 1, Text: "cannot decode: " + err.Error()}
			break
		}
		s = PodStatus(&p)
	case endpointsGVR:
		var e *corev1.Endpoints
		if ok {
			e = &corev1.Endpoints{}
			if err := json.Unmarshal(raw, e); err != nil {
				s = Status{Total: 1, Text: "cannot decode: " + err.Error()}
				break
			}
		}
		s = EndpointsStatus(e)
	}
	changed := s != t.status
	t.status = s
	if s.Ready || s.Failed {
		t.done = true
	}
	return changed
}

func finished(ts []*tracked) bool {
	for _, t := range ts {
		if !t.done {
			return false
		}
	}
	return true
}

// result is the outcome once every target is done or the timeout passed:
// nil when all are ready, otherwise an *Error with why each is not.
func result(ctx context.Context, api API, ts []*tracked, store map[source]map[string]json.RawMessage, timeout time.Duration) error {
	var notReady []string
	for _, t := range ts {
		if t.status.Ready {
			continue
		}
		line := t.Ref + ": " + t.status.Text
		if why := diagnose(ctx, api, t, store); why != "" {
			line += " (" + why + ")"
		}
		notReady = append(notReady, line)
	}
	if len(notReady) == 0 {
		return nil
	}
	return &Error{Timeout: timeout, Total: len(ts), NotReady: notReady}
}

// diagnose says why a Deployment is not ready: the newest of its pods and
// that pod's trouble (CrashLoopBackOff, ImagePullBackOff, Unschedulable).
func diagnose(ctx context.Context, api API, t *tracked, store map[source]map[string]json.RawMessage) string {
	if t.src.gvr != deploymentsGVR {
		return ""
	}
	raw, ok := store[t.src][t.Name]
	if !ok {
		return ""
	}
	var d appsv1.Deployment
	if json.Unmarshal(raw, &d) != nil || d.Spec.Selector == nil {
		return ""
	}
	sel, err := meta.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil || sel.Empty() {
		return ""
	}
	// The wait may have ended by its timeout: diagnose on a short leash
	// of its own.
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	body, err := api.List(lctx, podsGVR, t.Namespace, client.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return ""
	}
	var pods corev1.PodList
	if json.Unmarshal(body, &pods) != nil || len(pods.Items) == 0 {
		return "no pods"
	}
	newest := slices.MaxFunc(pods.Items, func(a, b corev1.Pod) int {
		if c := a.CreationTimestamp.Time.Compare(b.CreationTimestamp.Time); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	why := PodReason(&newest)
	if why == "" {
		if corev1.IsPodReady(&newest) {
			return ""
		}
		why = "not ready"
	}
	return "pod " + newest.Name + ": " + why
}

// follow lists and watches src, sending a snapshot after each list and
// then every change, until ctx ends. A watch that expires (410 Gone) is
// followed by a new list.
func follow(ctx context.Context, api API, src source, out chan<- update) {
	send := func(u update) bool {
		select {
		case out <- u:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for ctx.Err() == nil {
		body, err := api.List(ctx, src.gvr, src.ns, client.ListOptions{})
		if err != nil {
			if ctx.Err() == nil {
				send(update{src: src, err: fmt.Errorf("list %s in %s: %w", src.gvr.Resource, src.ns, err)})
			}
			return
		}
		var l struct {
			Metadata meta.ListMeta     `json:"metadata"`
			Items    []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(body, &l); err != nil {
			send(update{src: src, err: fmt.Errorf("decode %s in %s: %w", src.gvr.Resource, src.ns, err)})
			return
		}
		snap := make(map[string]json.RawMessage, len(l.Items))
		for _, raw := range l.Items {
			if name := nameOf(raw); name != "" {
				snap[name] = raw
			}
		}
		if !send(update{src: src, snapshot: snap}) {
			return
		}
		ch, err := api.RetryWatch(ctx, src.gvr, src.ns, client.ListOptions{ResourceVersion: l.Metadata.ResourceVersion, AllowWatchBookmarks: true})
		if err != nil {
			if ctx.Err() == nil {
				send(update{src: src, err: fmt.Errorf("watch %s in %s: %w", src.gvr.Resource, src.ns, err)})
			}
			return
		}
		relist := false
		for ev := range ch {
			if ev.Type == meta.Error {
				if ev.Status != nil && (ev.Status.Code == 410 || ev.Status.Reason == meta.StatusReasonGone || ev.Status.Reason == meta.StatusReasonExpired) {
					relist = true
					break
				}
				msg := "watch error"
				if ev.Status != nil {
					msg = ev.Status.Message
				}
				send(update{src: src, err: fmt.Errorf("watch %s in %s: %s", src.gvr.Resource, src.ns, msg)})
				return
			}
			if ev.Type == meta.Bookmark {
				continue
			}
			if !send(update{src: src, event: &ev}) {
				return
			}
		}
		if !relist {
			return // ctx ended
		}
	}
}

func applyEvent(objs map[string]json.RawMessage, ev *client.Event[json.RawMessage]) {
	name := nameOf(ev.Object)
	if name == "" {
		return
	}
	if ev.Type == meta.Deleted {
		delete(objs, name)
		return
	}
	objs[name] = ev.Object
}

func nameOf(raw []byte) string {
	var o struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if json.Unmarshal(raw, &o) != nil {
		return ""
	}
	return o.Metadata.Name
}

// serviceHasEndpoints reports whether a Service gets endpoints from the
// endpoints controller: it has a selector and is not an ExternalName.
func serviceHasEndpoints(raw []byte) bool {
	var svc corev1.Service
	if len(bytes.TrimSpace(raw)) == 0 || json.Unmarshal(raw, &svc) != nil {
		return false
	}
	return len(svc.Spec.Selector) > 0 && svc.Spec.Type != corev1.ServiceTypeExternalName
}

// IsError reports whether err is a wait that ended with objects not ready.
func IsError(err error) bool {
	var e *Error
	return errors.As(err, &e)
}
