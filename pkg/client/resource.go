package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"

	"github.com/kl-dev/kl/pkg/api/meta"
)

// Object is the constraint of the typed client: PT is a pointer to a kind's
// struct T that embeds meta.TypeMeta and meta.ObjectMeta.
type Object[T any] interface {
	*T
	meta.Object
}

// Resource is the typed client of one resource (e.g. pods, or
// deployments.apps) whose objects decode into T. Make one with NewResource
// and scope it with Namespace. A Resource is immutable and safe for
// concurrent use.
//
// Errors are *meta.APIError for a Status from the server (test them with
// meta.IsNotFound, meta.IsConflict, ...), *UnreachableError when no
// apiserver answered, and wrapped ctx or decoding errors otherwise.
type Resource[T any, PT Object[T]] struct {
	c          *Client
	gvr        meta.GroupVersionResource
	namespaced bool
	namespace  string
	kind       string
}

// NewResource returns the typed client of gvr. namespaced says whether the
// resource lives in namespaces (pods) or not (nodes, namespaces). Objects
// sent without apiVersion/kind get gvr's group/version and T's type name as
// kind ("Pod" for a T named Pod).
func NewResource[T any, PT Object[T]](c *Client, gvr meta.GroupVersionResource, namespaced bool) *Resource[T, PT] {
	return &Resource[T, PT]{c: c, gvr: gvr, namespaced: namespaced, kind: reflect.TypeFor[T]().Name()}
}

// Namespace returns a view of r scoped to ns. With ns "" (the default),
// List, Watch and DeleteCollection span all namespaces, and Create and
// Update use the object's metadata.namespace. Cluster-scoped resources
// ignore the namespace.
func (r *Resource[T, PT]) Namespace(ns string) *Resource[T, PT] {
	cp := *r
	if r.namespaced {
		cp.namespace = ns
	}
	return &cp
}

// GVR returns the resource r talks to.
func (r *Resource[T, PT]) GVR() meta.GroupVersionResource { return r.gvr }

// Get returns the object called name.
func (r *Resource[T, PT]) Get(ctx context.Context, name string) (PT, error) {
	path, err := r.objectPath(r.namespace, name)
	if err != nil {
		return nil, err
	}
	data, err := r.c.Do(ctx, http.MethodGet, path, nil, "", nil)
	if err != nil {
		return nil, err
	}
	return r.decode(data, "get")
}

// List returns one page of objects and the list's metadata (its
// resourceVersion, and the continue token when opts.Limit cut it short).
func (r *Resource[T, PT]) List(ctx context.Context, opts ListOptions) ([]PT, meta.ListMeta, error) {
	data, err := r.c.Do(ctx, http.MethodGet, ResourcePath(r.gvr, r.namespace, ""), opts.Query(), "", nil)
	if err != nil {
		return nil, meta.ListMeta{}, err
	}
	var list struct {
		Metadata meta.ListMeta `json:"metadata"`
		Items    []T           `json:"items"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, meta.ListMeta{}, fmt.Errorf("decoding %s list: %w", r.gvr, err)
	}
	items := make([]PT, len(list.Items))
	for i := range list.Items {
		items[i] = PT(&list.Items[i])
		r.defaultTypeMeta(items[i])
	}
	return items, list.Metadata, nil
}

// ListAll lists every object, following continue tokens page by page when
// opts.Limit is set, and returns them with the resourceVersion the list was
// read at. If a continue token expires mid-way, it lists again in one page.
func (r *Resource[T, PT]) ListAll(ctx context.Context, opts ListOptions) ([]PT, string, error) {
	var all []PT
	for {
		items, lm, err := r.List(ctx, opts)
		if err != nil {
			if meta.IsGone(err) && opts.Continue != "" {
				full := opts
				full.Limit, full.Continue = 0, ""
				items, lm, err := r.List(ctx, full)
				return items, lm.ResourceVersion, err
			}
			return nil, "", err
		}
		all = append(all, items...)
		if lm.Continue == "" || opts.Limit <= 0 {
			return all, lm.ResourceVersion, nil
		}
		opts.Continue = lm.Continue
		opts.ResourceVersion = "" // the token carries it
	}
}

// Create creates obj and returns the stored object. obj is not modified.
func (r *Resource[T, PT]) Create(ctx context.Context, obj PT, opts CreateOptions) (PT, error) {
	ns, err := r.objectNamespace(obj)
	if err != nil {
		return nil, err
	}
	body, err := r.encode(obj)
	if err != nil {
		return nil, err
	}
	data, err := r.c.Do(ctx, http.MethodPost, ResourcePath(r.gvr, ns, ""), opts.Query(), "application/json", body)
	if err != nil {
		return nil, err
	}
	return r.decode(data, "create")
}

// Update replaces obj (PUT). Its metadata.resourceVersion makes it a
// compare-and-swap: the server answers Conflict if the object changed.
func (r *Resource[T, PT]) Update(ctx context.Context, obj PT, opts UpdateOptions) (PT, error) {
	return r.put(ctx, obj, "", opts)
}

// UpdateStatus replaces obj's status (PUT to the status subresource).
func (r *Resource[T, PT]) UpdateStatus(ctx context.Context, obj PT, opts UpdateOptions) (PT, error) {
	return r.put(ctx, obj, "status", opts)
}

func (r *Resource[T, PT]) put(ctx context.Context, obj PT, sub string, opts UpdateOptions) (PT, error) {
	ns, err := r.objectNamespace(obj)
	if err != nil {
		return nil, err
	}
	path, err := r.objectPath(ns, obj.GetObjectMeta().Name, sub)
	if err != nil {
		return nil, err
	}
	body, err := r.encode(obj)
	if err != nil {
		return nil, err
	}
	data, err := r.c.Do(ctx, http.MethodPut, path, opts.Query(), "application/json", body)
	if err != nil {
		return nil, err
	}
	return r.decode(data, "update")
}

// Patch applies data, of type pt, to the object called name (or to its
// opts.Subresource) and returns the result.
func (r *Resource[T, PT]) Patch(ctx context.Context, name string, pt PatchType, data []byte, opts PatchOptions) (PT, error) {
	if pt == ApplyPatchType && opts.FieldManager == "" {
		return nil, fmt.Errorf("apply %s %q: a field manager is required", r.gvr, name)
	}
	path, err := r.objectPath(r.namespace, name, opts.Subresource)
	if err != nil {
		return nil, err
	}
	out, err := r.c.Do(ctx, http.MethodPatch, path, opts.Query(), string(pt), data)
	if err != nil {
		return nil, err
	}
	return r.decode(out, "patch")
}

// Apply is server-side apply of obj (the full intent of opts.FieldManager),
// in obj's namespace when r has none.
func (r *Resource[T, PT]) Apply(ctx context.Context, obj PT, opts PatchOptions) (PT, error) {
	ns, err := r.objectNamespace(obj)
	if err != nil {
		return nil, err
	}
	body, err := r.encode(obj)
	if err != nil {
		return nil, err
	}
	return r.Namespace(ns).Patch(ctx, obj.GetObjectMeta().Name, ApplyPatchType, body, opts)
}

// Delete deletes the object called name.
func (r *Resource[T, PT]) Delete(ctx context.Context, name string, opts meta.DeleteOptions) error {
	if _, err := r.objectPath(r.namespace, name); err != nil {
		return err
	}
	_, err := r.c.Dynamic().Delete(ctx, r.gvr, r.namespace, name, opts)
	return err
}

// DeleteCollection deletes every object listOpts selects (in r's namespace,
// or all namespaces).
func (r *Resource[T, PT]) DeleteCollection(ctx context.Context, opts meta.DeleteOptions, listOpts ListOptions) error {
	_, err := r.c.Dynamic().DeleteCollection(ctx, r.gvr, r.namespace, opts, listOpts)
	return err
}

// Watch streams the changes after opts.ResourceVersion as events on the
// returned channel. The channel is closed when the server ends the stream,
// the connection breaks, or ctx is cancelled (cancel ctx to stop
// watching). A 410 Gone is returned as a *meta.APIError when the server
// refuses the watch, or delivered as an Error event when it reports it in
// the stream. Use RetryWatch to resume across disconnects.
func (r *Resource[T, PT]) Watch(ctx context.Context, opts ListOptions) (<-chan Event[PT], error) {
	q := opts.Query()
	q.Set("watch", "true")
	body, err := r.c.Stream(ctx, http.MethodGet, ResourcePath(r.gvr, r.namespace, ""), q)
	if err != nil {
		return nil, err
	}
	return decodeWatch(ctx, body, func(raw []byte) (PT, error) {
		obj := PT(new(T))
		if err := json.Unmarshal(raw, obj); err != nil {
			return nil, err
		}
		r.defaultTypeMeta(obj)
		return obj, nil
	}, r.c.log), nil
}

// RetryWatch is Watch that resumes from the last resourceVersion seen
// after a disconnect; opts.ResourceVersion must be set (usually a list's;
// "0" means from the beginning of the history the server keeps).
// See the package function RetryWatch for when its channel closes.
func (r *Resource[T, PT]) RetryWatch(ctx context.Context, opts ListOptions) (<-chan Event[PT], error) {
	return RetryWatch(ctx, opts.ResourceVersion, func(ctx context.Context, rv string) (<-chan Event[PT], error) {
		o := opts
		o.ResourceVersion = rv
		return r.Watch(ctx, o)
	}, func(obj PT) string {
		if obj == nil {
			return ""
		}
		return obj.GetObjectMeta().ResourceVersion
	}, r.c.log)
}

// GetSubresource reads the subresource of the object called name (for
// example "scale") and decodes it into out.
func (r *Resource[T, PT]) GetSubresource(ctx context.Context, name, subresource string, out any) error {
	return r.subresource(ctx, http.MethodGet, name, subresource, nil, nil, out)
}

// CreateSubresource POSTs in (JSON-encoded) to the subresource of the
// object called name, for example a Binding to pods/NAME/binding, and
// decodes the response into out when out is not nil.
func (r *Resource[T, PT]) CreateSubresource(ctx context.Context, name, subresource string, in, out any, opts CreateOptions) error {
	return r.subresource(ctx, http.MethodPost, name, subresource, opts.Query(), in, out)
}

// UpdateSubresource PUTs in (JSON-encoded) to the subresource of the
// object called name, for example a Scale to deployments/NAME/scale, and
// decodes the response into out when out is not nil.
func (r *Resource[T, PT]) UpdateSubresource(ctx context.Context, name, subresource string, in, out any, opts UpdateOptions) error {
	return r.subresource(ctx, http.MethodPut, name, subresource, opts.Query(), in, out)
}

func (r *Resource[T, PT]) subresource(ctx context.Context, method, name, sub string, query url.Values, in, out any) error {
	path, err := r.objectPath(r.namespace, name, sub)
	if err != nil {
		return err
	}
	var body []byte
	if in != nil {
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("encoding %s %s/%s: %w", r.gvr, name, sub, err)
		}
	}
	data, err := r.c.Do(ctx, method, path, query, contentTypeOf(body), body)
	if err != nil {
		return err
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("decoding %s %s/%s: %w", r.gvr, name, sub, err)
		}
	}
	return nil
}

// objectPath is the path of a named object, checking that a namespaced
// resource has a namespace.
func (r *Resource[T, PT]) objectPath(ns, name string, sub ...string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("%s: a resource name is required", r.gvr)
	}
	if r.namespaced && ns == "" {
		return "", fmt.Errorf("%s %q: a namespace is required", r.gvr, name)
	}
	if !r.namespaced {
		ns = ""
	}
	return ResourcePath(r.gvr, ns, name, sub...), nil
}

// objectNamespace decides the namespace of a write: r's, else the object's.
func (r *Resource[T, PT]) objectNamespace(obj PT) (string, error) {
	if !r.namespaced {
		return "", nil
	}
	m := obj.GetObjectMeta()
	switch {
	case r.namespace == "" && m.Namespace == "":
		return "", fmt.Errorf("%s %q: a namespace is required", r.gvr, m.Name)
	case r.namespace == "":
		return m.Namespace, nil
	case m.Namespace != "" && m.Namespace != r.namespace:
		return "", fmt.Errorf("%s %q: the object's namespace %q does not match the request's %q", r.gvr, m.Name, m.Namespace, r.namespace)
	}
	return r.namespace, nil
}

// encode marshals obj, filling in apiVersion and kind when unset (on a
// copy: obj is not modified).
func (r *Resource[T, PT]) encode(obj PT) ([]byte, error) {
	if tm := obj.GetTypeMeta(); tm.APIVersion == "" || tm.Kind == "" {
		cp := *obj
		obj = &cp
		r.defaultTypeMeta(obj)
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encoding %s %q: %w", r.gvr, obj.GetObjectMeta().Name, err)
	}
	return b, nil
}

func (r *Resource[T, PT]) decode(data []byte, verb string) (PT, error) {
	obj := PT(new(T))
	if err := json.Unmarshal(data, obj); err != nil {
		return nil, fmt.Errorf("decoding %s response for %s: %w", verb, r.gvr, err)
	}
	r.defaultTypeMeta(obj)
	return obj, nil
}

func (r *Resource[T, PT]) defaultTypeMeta(obj PT) {
	tm := obj.GetTypeMeta()
	if tm.APIVersion == "" {
		tm.APIVersion = r.gvr.GroupVersion()
	}
	if tm.Kind == "" {
		tm.Kind = r.kind
	}
}
