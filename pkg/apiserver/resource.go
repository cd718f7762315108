package apiserver

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/apiserver/cacher"
)

// resource describes one REST resource: its names, how to make its objects,
// and the strategy hooks the generic handlers call (Kubernetes'
// RESTCreateStrategy/RESTUpdateStrategy in small).
type resource struct {
	gvr        meta.GroupVersionResource
	kind       string
	listKind   string
	singular   string
	namespaced bool
	shortNames []string
	categories []string
	newObj     func() meta.Object

	// hasStatus: the main resource ignores status changes and /status
	// changes only status.
	hasStatus bool
	// generation: metadata.generation counts spec changes.
	generation bool
	// resetStatusOnCreate clears status on create (controllers own it).
	resetStatusOnCreate bool
	// subresources other than status: "scale", "binding", "finalize", "log", "exec".
	subresources []string
	// gracefulDelete: delete marks the object (deletionTimestamp) and the
	// owner of its lifecycle (the kubelet) removes it; see deletePod.
	gracefulDelete func(obj meta.Object, opts *meta.DeleteOptions) (grace int64, graceful bool)

	// defaults sets defaults on a decoded object.
	defaults func(meta.Object)
	// prepareForCreate adjusts a new object before validation.
	prepareForCreate func(obj meta.Object)
	// prepareForUpdate adjusts an update before validation (old is stored).
	prepareForUpdate func(newObj, oldObj meta.Object)
	// fields returns the selectable fields beyond metadata.name/namespace
	// (the same keys for every object).
	fields func(meta.Object) map[string]string
	// fieldNames are the names a field selector may use, in the order of
	// cacher.Fields.Values (set by newResourceSet).
	fieldNames []string
	// admitCreate / admitDelete run after validation (allocations, checks).
	admitCreate func(s *Server, obj meta.Object, dryRun bool) error
	admitUpdate func(s *Server, newObj, oldObj meta.Object, dryRun bool) error
	afterDelete func(s *Server, obj meta.Object)
	// scale converts to and from the autoscaling/v1 Scale subresource.
	scaleGet func(obj meta.Object) (replicas int32, statusReplicas int32, selector string)
	scaleSet func(obj meta.Object, replicas int32)
}

// groupResource is "pods" or "deployments.apps".
func (r *resource) groupResource() string { return r.gvr.String() }

// apiVersion is "v1" or "apps/v1".
func (r *resource) apiVersion() string { return r.gvr.GroupVersion() }

// keyPrefix is /registry/<group>/<resource>/ (group "core" for the core group).
func (r *resource) keyPrefix() string {
	g := r.gvr.Group
	if g == "" {
		g = "core"
	}
	return "/registry/" + g + "/" + r.gvr.Resource + "/"
}

// key is the storage key of one object.
func (r *resource) key(ns, name string) string {
	if r.namespaced {
		return r.keyPrefix() + ns + "/" + name
	}
	return r.keyPrefix() + name
}

// within is the key prefix of a namespace's objects ("" ns: all).
func (r *resource) within(ns string) string {
	if r.namespaced && ns != "" {
		return r.keyPrefix() + ns + "/"
	}
	return r.keyPrefix()
}

func (r *resource) hasSubresource(s string) bool {
	if s == "status" {
		return r.hasStatus
	}
	for _, x := range r.subresources {
		if x == s {
			return true
		}
	}
	return false
}

// selectableFields returns every field a field selector may use.
func (r *resource) selectableFields(obj meta.Object) cacher.Fields {
	m := obj.GetObjectMeta()
	var extra map[string]string
	if r.fields != nil {
		extra = r.fields(obj)
	}
	values := make([]string, len(r.fieldNames))
	for i, name := range r.fieldNames {
		switch name {
		case "metadata.name":
			values[i] = m.Name
		case "metadata.namespace":
			values[i] = m.Namespace
		default:
			values[i] = extra[name]
		}
	}
	return cacher.Fields{Names: r.fieldNames, Values: values}
}

// checkFieldSelector refuses a selector on a field r does not offer, as
// Kubernetes does ("field label not supported").
func (r *resource) checkFieldSelector(sel meta.Selector) error {
	for _, req := range sel.Requirements() {
		if !slices.Contains(r.fieldNames, req.Key) {
			return meta.NewBadRequest(fmt.Sprintf("field label not supported: %s (%s offers %s)",
				req.Key, r.groupResource(), strings.Join(r.fieldNames, ", ")))
		}
	}
	return nil
}

// copyField sets dst.<name> = src.<name> on two pointers to the same struct
// type (used for Spec and Status, which every kind names alike).
func copyField(dst, src meta.Object, name string) {
	d := reflect.ValueOf(dst).Elem().FieldByName(name)
	s := reflect.ValueOf(src).Elem().FieldByName(name)
	if d.IsValid() && s.IsValid() && d.CanSet() {
		d.Set(s)
	}
}

// zeroField resets obj.<name>.
func zeroField(obj meta.Object, name string) {
	f := reflect.ValueOf(obj).Elem().FieldByName(name)
	if f.IsValid() && f.CanSet() {
		f.Set(reflect.Zero(f.Type()))
	}
}

// fieldEqual reports whether a.<name> and b.<name> are deeply equal.
func fieldEqual(a, b meta.Object, name string) bool {
	fa := reflect.ValueOf(a).Elem().FieldByName(name)
	fb := reflect.ValueOf(b).Elem().FieldByName(name)
	if !fa.IsValid() || !fb.IsValid() {
		return true
	}
	return reflect.DeepEqual(fa.Interface(), fb.Interface())
}

// resourceSet is the table of served resources.
type resourceSet struct {
	all []*resource
	// byGVR maps "group/version/resource" to the resource.
	byGVR map[string]*resource
}

func newResourceSet(rs []*resource) *resourceSet {
	s := &resourceSet{all: rs, byGVR: map[string]*resource{}}
	for _, r := range rs {
		if r.listKind == "" {
			r.listKind = r.kind + "List"
		}
		if r.singular == "" {
			r.singular = strings.ToLower(r.kind)
		}
		r.fieldNames = []string{"metadata.name"}
		if r.namespaced {
			r.fieldNames = append(r.fieldNames, "metadata.namespace")
		}
		if r.fields != nil {
			r.fieldNames = append(r.fieldNames, slices.Sorted(maps.Keys(r.fields(r.newObj())))...)
		}
		s.byGVR[r.gvr.Group+"/"+r.gvr.Version+"/"+r.gvr.Resource] = r
	}
	return s
}

func (s *resourceSet) lookup(group, version, res string) *resource {
	return s.byGVR[group+"/"+version+"/"+res]
}
