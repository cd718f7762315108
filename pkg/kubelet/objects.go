package kubelet

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
)

// objectRef names a ConfigMap or Secret a pod uses.
type objectRef struct {
	secret    bool
	namespace string
	name      string
}

func (r objectRef) kind() string {
	if r.secret {
		return "secret"
	}
	return "configmap"
}

// notFound is the error for a ConfigMap or Secret that does not exist,
// worded as Kubernetes' kubelet words it: `configmap "app" not found`.
func (r objectRef) notFound() error {
	return meta.NewStatusError(http.StatusNotFound, meta.StatusReasonNotFound, r.kind()+" \""+r.name+"\" not found")
}

// podObjectRefs lists the ConfigMaps and Secrets a pod uses: its volumes,
// and the env and envFrom of its containers.
func podObjectRefs(pod *corev1.Pod) []objectRef {
	var refs []objectRef
	add := func(secret bool, name string) {
		if name == "" {
			return
		}
		r := objectRef{secret: secret, namespace: pod.Namespace, name: name}
		if !slices.Contains(refs, r) {
			refs = append(refs, r)
		}
	}
	for _, v := range pod.Spec.Volumes {
		if v.ConfigMap != nil {
			add(false, v.ConfigMap.Name)
		}
		if v.Secret != nil {
			add(true, v.Secret.SecretName)
		}
	}
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range list {
			for _, from := range c.EnvFrom {
				if from.ConfigMapRef != nil {
					add(false, from.ConfigMapRef.Name)
				}
				if from.SecretRef != nil {
					add(true, from.SecretRef.Name)
				}
			}
			for _, e := range c.Env {
				if e.ValueFrom == nil {
					continue
				}
				if e.ValueFrom.ConfigMapKeyRef != nil {
					add(false, e.ValueFrom.ConfigMapKeyRef.Name)
				}
				if e.ValueFrom.SecretKeyRef != nil {
					add(true, e.ValueFrom.SecretKeyRef.Name)
				}
			}
		}
	}
	return refs
}

// objectCache holds the ConfigMaps and Secrets the kubelet's pods use, as
// Kubernetes' kubelet does: each is read with a GET by name (a node may not
// list or watch them: the node authorizer lets it read only those its pods
// use), kept while a pod refers to it, and read again every period; a
// change wakes the pods that use it, which then update their volumes. A
// pod that starts using an object reads it fresh.
type objectCache struct {
	configMaps *client.Resource[corev1.ConfigMap, *corev1.ConfigMap]
	secrets    *client.Resource[corev1.Secret, *corev1.Secret]
	period     time.Duration
	log        *slog.Logger

	mu      sync.Mutex
	entries map[objectRef]*cachedObject
	byPod   map[string][]objectRef // pod UID -> the objects it uses
}

// cachedObject is one ConfigMap or Secret and the pods that use it.
type cachedObject struct {
	fetched bool // obj/missing hold an answer of the apiserver
	stale   bool // read again on the next get
	cm      *corev1.ConfigMap
	secret  *corev1.Secret
	missing bool // the apiserver said NotFound
	rv      string
	users   map[string]func() // pod UID -> wakes the pod's worker
}

func newObjectCache(cm *client.Resource[corev1.ConfigMap, *corev1.ConfigMap], s *client.Resource[corev1.Secret, *corev1.Secret], period time.Duration, log *slog.Logger) *objectCache {
	return &objectCache{
		configMaps: cm, secrets: s, period: period, log: log,
		entries: map[objectRef]*cachedObject{}, byPod: map[string][]objectRef{},
	}
}

// register records the objects pod uid uses (replacing what it used
// before); wake is called when one of them changes. An object the pod did
// not use before is read fresh on its next get.
func (c *objectCache) register(uid string, refs []objectRef, wake func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.byPod[uid]
	for _, r := range old {
		if !slices.Contains(refs, r) {
			c.dropUserLocked(r, uid)
		}
	}
	for _, r := range refs {
		e := c.entries[r]
		if e == nil {
			e = &cachedObject{users: map[string]func(){}}
			c.entries[r] = e
		}
		if _, ok := e.users[uid]; !ok {
			e.stale = true
		}
		e.users[uid] = wake
	}
	if len(refs) == 0 {
		delete(c.byPod, uid)
	} else {
		c.byPod[uid] = slices.Clone(refs)
	}
}

// unregister forgets pod uid; objects no pod uses are dropped.
func (c *objectCache) unregister(uid string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.byPod[uid] {
		c.dropUserLocked(r, uid)
	}
	delete(c.byPod, uid)
}

func (c *objectCache) dropUserLocked(r objectRef, uid string) {
	e := c.entries[r]
	if e == nil {
		return
	}
	delete(e.users, uid)
	if len(e.users) == 0 {
		delete(c.entries, r)
	}
}

// configMap returns a ConfigMap; a missing one is a NotFound error worded
// as Kubernetes' kubelet does (`configmap "app" not found`).
func (c *objectCache) configMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error) {
	e, err := c.get(ctx, objectRef{namespace: namespace, name: name})
	if err != nil {
		return nil, err
	}
	return e.cm, nil
}

// secret returns a Secret; a missing one is a NotFound error.
func (c *objectCache) secret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	e, err := c.get(ctx, objectRef{secret: true, namespace: namespace, name: name})
	if err != nil {
		return nil, err
	}
	return e.secret, nil
}

// get returns the cached answer for r, reading it first if there is none
// or it is stale. Objects no pod registered are read but not kept.
func (c *objectCache) get(ctx context.Context, r objectRef) (cachedObject, error) {
	c.mu.Lock()
	e := c.entries[r]
	if e != nil && e.fetched && !e.stale {
		out := *e
		c.mu.Unlock()
		if out.missing {
			return out, r.notFound()
		}
		return out, nil
	}
	c.mu.Unlock()

	fresh, err := c.fetch(ctx, r)
	if err != nil {
		return cachedObject{}, err
	}
	// Other pods using r see the change too (the caller is syncing).
	var wake []func()
	c.mu.Lock()
	if e := c.entries[r]; e != nil {
		if was := e.fetched; c.storeLocked(e, fresh) && was {
			for _, w := range e.users {
				wake = append(wake, w)
			}
		}
	}
	c.mu.Unlock()
	for _, w := range wake {
		w()
	}
	if fresh.missing {
		return fresh, r.notFound()
	}
	return fresh, nil
}

// fetch reads r from the apiserver. NotFound is an answer (missing), not
// an error; other errors are returned and nothing is cached.
func (c *objectCache) fetch(ctx context.Context, r objectRef) (cachedObject, error) {
	var out cachedObject
	var err error
	if r.secret {
		out.secret, err = c.secrets.Namespace(r.namespace).Get(ctx, r.name)
		if err == nil {
			out.rv = out.secret.ResourceVersion
		}
	} else {
		out.cm, err = c.configMaps.Namespace(r.namespace).Get(ctx, r.name)
		if err == nil {
			out.rv = out.cm.ResourceVersion
		}
	}
	switch {
	case meta.IsNotFound(err):
		out.missing = true
	case err != nil:
		return cachedObject{}, err
	}
	out.fetched = true
	return out, nil
}

// storeLocked records a fresh answer and reports whether it differs from
// the cached one.
func (c *objectCache) storeLocked(e *cachedObject, fresh cachedObject) bool {
	changed := !e.fetched || e.missing != fresh.missing || e.rv != fresh.rv
	e.fetched, e.stale = true, false
	e.cm, e.secret, e.missing, e.rv = fresh.cm, fresh.secret, fresh.missing, fresh.rv
	return changed
}

// run reads every object in use again each period until ctx ends, and
// wakes the pods using those that changed.
func (c *objectCache) run(ctx context.Context) {
	t := time.NewTicker(c.period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		c.resync(ctx)
	}
}

// resync reads every object in use once.
func (c *objectCache) resync(ctx context.Context) {
	c.mu.Lock()
	refs := make([]objectRef, 0, len(c.entries))
	for r := range c.entries {
		refs = append(refs, r)
	}
	c.mu.Unlock()
	for _, r := range refs {
		if ctx.Err() != nil {
			return
		}
		fresh, err := c.fetch(ctx, r)
		if err != nil {
			c.log.Debug("cannot read object used by pods", "kind", r.kind(), "namespace", r.namespace, "name", r.name, "err", err)
			continue
		}
		var wake []func()
		c.mu.Lock()
		if e := c.entries[r]; e != nil && c.storeLocked(e, fresh) {
			for _, w := range e.users {
				wake = append(wake, w)
			}
		}
		c.mu.Unlock()
		for _, w := range wake {
			w()
		}
	}
}
