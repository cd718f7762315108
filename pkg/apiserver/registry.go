package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/apiserver/cacher"
	"github.com/kl-dev/kl/pkg/storage"
	"github.com/kl-dev/kl/pkg/validation"
)

// This file is the generic object lifecycle every resource shares: get,
// create, update (read-modify-write with compare-and-swap), delete with
// grace periods and finalizers. Handlers decode requests and call these;
// resource hooks (resource.go, kinds.go) add what is specific to a kind.

// storeError maps a storage error to the Status error a client sees.
func storeError(err error, r *resource, name string) error {
	var ae *meta.APIError
	switch {
	case errors.As(err, &ae):
		return err
	case errors.Is(err, storage.ErrNotFound):
		return meta.NewNotFound(r.gvr.Group, r.gvr.Resource, name)
	case errors.Is(err, storage.ErrAlreadyExists):
		return meta.NewAlreadyExists(r.gvr.Group, r.gvr.Resource, name)
	case errors.Is(err, storage.ErrConflict):
		return meta.NewConflict(r.gvr.Group, r.gvr.Resource, name, errModified)
	case errors.Is(err, storage.ErrGone):
		return meta.NewGone(err.Error())
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return meta.NewStatusError(http.StatusGatewayTimeout, meta.StatusReasonTimeout, err.Error())
	}
	return meta.NewInternalError(err)
}

const errModified = "the object has been modified; please apply your changes to the latest version and try again"

// setTypeMeta fills kind and apiVersion from the resource.
func setTypeMeta(r *resource, obj meta.Object) {
	tm := obj.GetTypeMeta()
	tm.Kind = r.kind
	tm.APIVersion = r.apiVersion()
}

// decodeStored decodes a stored value and sets its resourceVersion.
func decodeStored(r *resource, value []byte, rev int64) (meta.Object, error) {
	obj := r.newObj()
	if err := json.Unmarshal(value, obj); err != nil {
		return nil, fmt.Errorf("decode stored %s: %w", r.kind, err)
	}
	setTypeMeta(r, obj)
	obj.GetObjectMeta().ResourceVersion = strconv.FormatInt(rev, 10)
	return obj, nil
}

// encodeForStorage encodes obj without its resourceVersion (the store's
// revision is the resourceVersion, set on every read).
func encodeForStorage(r *resource, obj meta.Object) ([]byte, error) {
	setTypeMeta(r, obj)
	m := obj.GetObjectMeta()
	rv := m.ResourceVersion
	m.ResourceVersion = ""
	data, err := json.Marshal(obj)
	m.ResourceVersion = rv
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", r.kind, err)
	}
	return data, nil
}

func parseRV(rv string) (int64, error) {
	if rv == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(rv, 10, 64)
	if err != nil || n < 0 {
		return 0, meta.NewBadRequest(fmt.Sprintf("invalid resourceVersion %q: must be a non-negative integer", rv))
	}
	return n, nil
}

// getObject reads one object straight from storage (a consistent read).
func (s *Server) getObject(ctx context.Context, r *resource, ns, name string) (meta.Object, int64, error) {
	obj, kv, err := s.getStored(ctx, r, ns, name)
	return obj, kv.ModRevision, err
}

// getStored is getObject that also returns the stored bytes.
func (s *Server) getStored(ctx context.Context, r *resource, ns, name string) (meta.Object, storage.KeyValue, error) {
	start := time.Now()
	kv, err := s.store.Get(ctx, r.key(ns, name))
	s.metrics.observeStorage("get", r, start)
	if err != nil {
		return nil, kv, storeError(err, r, name)
	}
	obj, err := decodeStored(r, kv.Value, kv.ModRevision)
	if err != nil {
		return nil, kv, meta.NewInternalError(err)
	}
	return obj, kv, nil
}

// deepCopy copies an object with its kind's DeepCopy method (every kind
// has one), falling back to a JSON round trip.
func deepCopy(r *resource, obj meta.Object, rev int64) (meta.Object, error) {
	if m := reflect.ValueOf(obj).MethodByName("DeepCopy"); m.IsValid() && m.Type().NumIn() == 0 && m.Type().NumOut() == 1 {
		if c, ok := m.Call(nil)[0].Interface().(meta.Object); ok {
			return c, nil
		}
	}
	data, err := encodeForStorage(r, obj)
	if err != nil {
		return nil, err
	}
	return decodeStored(r, data, rev)
}

// writeOptions are the options every write takes.
type writeOptions struct {
	dryRun bool
	// fieldManager is the request's fieldManager parameter (required for apply).
	fieldManager string
	// manager is who a non-apply write is recorded for in managedFields.
	manager string
}

// updateOutcome says what guaranteedUpdate did.
type updateOutcome int

const (
	unchanged updateOutcome = iota // nothing to write: the object is as asked
	updated
	deleted // the last finalizer went: the object is gone
)

func invalid(r *resource, name string, errs validation.ErrorList) error {
	return meta.NewInvalid(r.gvr.Group, r.kind, name, errs.Causes())
}

// createObject runs a create through defaulting, validation and admission,
// then stores it.
func (s *Server) createObject(ctx context.Context, r *resource, ns string, obj meta.Object, opts writeOptions) (meta.Object, error) {
	m := obj.GetObjectMeta()
	if r.namespaced {
		if m.Namespace != "" && m.Namespace != ns {
			return nil, meta.NewBadRequest(fmt.Sprintf("the namespace of the provided object (%s) does not match the namespace sent on the request (%s)", m.Namespace, ns))
		}
		m.Namespace = ns
	} else {
		m.Namespace = ""
	}
	generated := false
	if m.Name == "" && m.GenerateName != "" {
		m.Name = generateName(m.GenerateName)
		generated = true
	}
	m.UID = uuid.NewString()
	m.CreationTimestamp = meta.NewTime(s.now())
	m.ResourceVersion = ""
	m.DeletionTimestamp = nil
	m.DeletionGracePeriodSeconds = nil
	m.Generation = 0
	if r.generation {
		m.Generation = 1
	}
	if r.resetStatusOnCreate {
		zeroField(obj, "Status")
	}
	if r.defaults != nil {
		r.defaults(obj)
	}
	if r.prepareForCreate != nil {
		r.prepareForCreate(obj)
	}
	if errs := validation.ValidateObject(obj); len(errs) > 0 {
		return nil, invalid(r, m.Name, errs)
	}
	if r.namespaced {
		if err := s.admitNamespace(ctx, ns); err != nil {
			return nil, err
		}
	}
	if opts.dryRun {
		if _, err := s.store.Get(ctx, r.key(ns, m.Name)); err == nil {
			return nil, meta.NewAlreadyExists(r.gvr.Group, r.gvr.Resource, m.Name)
		}
	}
	if r.admitCreate != nil {
		if err := r.admitCreate(s, obj, opts.dryRun); err != nil {
			return nil, err
		}
	}
	setTypeMeta(r, obj)
	if opts.dryRun {
		return obj, nil
	}
	for attempt := 0; ; attempt++ {
		data, err := encodeForStorage(r, obj)
		if err != nil {
			return nil, meta.NewInternalError(err)
		}
		start := time.Now()
		key := r.key(ns, m.Name)
		s.expected.expect(key, obj, data)
		rev, err := s.store.Create(ctx, key, data)
		if err != nil {
			s.expected.forget(key, data)
		}
		s.metrics.observeStorage("create", r, start)
		if errors.Is(err, storage.ErrAlreadyExists) && generated && attempt < 5 {
			m.Name = generateName(m.GenerateName)
			continue
		}
		if err != nil {
			if r.afterDelete != nil {
				r.afterDelete(s, obj) // release what admission allocated
			}
			return nil, storeError(err, r, m.Name)
		}
		m.ResourceVersion = strconv.FormatInt(rev, 10)
		if withRV, err := cacher.InjectResourceVersion(data, rev); err == nil {
			return encodedObject{obj, withRV}, nil
		}
		return obj, nil
	}
}

// encodedObject is an object together with its JSON encoding (with its
// resourceVersion), so the response reuses the bytes just stored instead
// of encoding the object a second time.
type encodedObject struct {
	meta.Object
	data []byte
}

// MarshalJSON returns the encoding.
func (e encodedObject) MarshalJSON() ([]byte, error) { return e.data, nil }

// admitNamespace refuses writes into a namespace that does not exist or is
// being deleted.
func (s *Server) admitNamespace(ctx context.Context, ns string) error {
	nsr := s.resources.lookup("", "v1", "namespaces")
	if nsr == nil {
		return nil
	}
	// The watch cache answers for namespaces that exist (their phase is a
	// selectable field); one it has not seen yet is read from storage.
	if o, _, ok := s.cache.Get(nsr.keyPrefix(), nsr.key("", ns)); ok {
		if phase, _ := o.Fields.Get("status.phase"); phase == "Terminating" {
			return meta.NewForbidden(fmt.Sprintf("unable to create new content in namespace %s because it is being terminated", ns))
		}
		return nil
	}
	obj, _, err := s.getObject(ctx, nsr, "", ns)
	if err != nil {
		return err
	}
	if obj.GetObjectMeta().DeletionTimestamp != nil {
		return meta.NewForbidden(fmt.Sprintf("unable to create new content in namespace %s because it is being terminated", ns))
	}
	return nil
}

// updateFunc computes the desired object from the current one. It may
// return the current object unchanged (then nothing is written), or
// errNoChange to say so without the cost of preparing and comparing.
type updateFunc func(cur meta.Object) (meta.Object, error)

// errNoChange is returned by an updateFunc that knows nothing changes.
var errNoChange = errors.New("no change")

// maxUpdateAttempts bounds the read-modify-write retries on conflicts.
const maxUpdateAttempts = 16

// guaranteedUpdate reads the object, applies fn, validates and writes it
// with compare-and-swap, retrying when another writer got there first. fn
// decides about client preconditions (a stale resourceVersion is a Conflict
// fn returns). subresource is "" for the main resource, or status, binding,
// finalize, or apply (server-side apply, which keeps managedFields itself).
func (s *Server) guaranteedUpdate(ctx context.Context, r *resource, ns, name, subresource string, opts writeOptions, fn updateFunc) (meta.Object, updateOutcome, error) {
	for attempt := 0; attempt < maxUpdateAttempts; attempt++ {
		cur, kv, err := s.getStored(ctx, r, ns, name)
		if err != nil {
			return nil, unchanged, err
		}
		rev, oldData := kv.ModRevision, kv.Value
		// fn may mutate what it is given: hand it a copy.
		base, err := deepCopy(r, cur, rev)
		if err != nil {
			return nil, unchanged, meta.NewInternalError(err)
		}
		next, err := fn(base)
		if errors.Is(err, errNoChange) {
			return cur, unchanged, nil
		}
		if err != nil {
			return nil, unchanged, err
		}
		next, err = s.prepareUpdate(r, next, cur, subresource)
		if err != nil {
			return nil, unchanged, err
		}
		if subresource != "apply" && subresource != "status" {
			if err := s.trackUpdate(r, next, cur, opts.manager); err != nil {
				return nil, unchanged, meta.NewInternalError(err)
			}
		}
		if r.admitUpdate != nil {
			if err := r.admitUpdate(s, next, cur, opts.dryRun); err != nil {
				return nil, unchanged, err
			}
		}
		nm := next.GetObjectMeta()
		if nm.DeletionTimestamp != nil && len(nm.Finalizers) == 0 && !s.blocksDeletion(r, next) &&
			(nm.DeletionGracePeriodSeconds == nil || *nm.DeletionGracePeriodSeconds == 0) {
			// The last finalizer is gone: the object goes for good.
			obj, _, err := s.finalDelete(ctx, r, ns, name, cur, rev, opts)
			if errors.Is(err, storage.ErrConflict) {
				continue
			}
			if err != nil {
				return nil, unchanged, err
			}
			return obj, deleted, nil
		}
		data, err := encodeForStorage(r, next)
		if err != nil {
			return nil, unchanged, meta.NewInternalError(err)
		}
		if string(data) == string(oldData) {
			return cur, unchanged, nil
		}
		if opts.dryRun {
			nm.ResourceVersion = cur.GetObjectMeta().ResourceVersion
			return next, updated, nil
		}
		start := time.Now()
		s.expected.expect(r.key(ns, name), next, data)
		newRev, err := s.store.Update(ctx, r.key(ns, name), data, rev)
		if err != nil {
			s.expected.forget(r.key(ns, name), data)
		}
		s.metrics.observeStorage("update", r, start)
		if errors.Is(err, storage.ErrConflict) {
			continue
		}
		if err != nil {
			return nil, unchanged, storeError(err, r, name)
		}
		nm.ResourceVersion = strconv.FormatInt(newRev, 10)
		return next, updated, nil
	}
	return nil, unchanged, meta.NewConflict(r.gvr.Group, r.gvr.Resource, name, "too many concurrent writers, try again")
}

// prepareUpdate makes next a valid successor of cur: it keeps what clients
// may not change, applies the status/spec split, bumps generation and
// validates.
func (s *Server) prepareUpdate(r *resource, next, cur meta.Object, subresource string) (meta.Object, error) {
	nm, cm := next.GetObjectMeta(), cur.GetObjectMeta()
	if nm.Name != "" && nm.Name != cm.Name {
		return nil, meta.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", nm.Name, cm.Name))
	}
	if r.namespaced && nm.Namespace != "" && nm.Namespace != cm.Namespace {
		return nil, meta.NewBadRequest(fmt.Sprintf("the namespace of the provided object (%s) does not match the namespace sent on the request (%s)", nm.Namespace, cm.Namespace))
	}
	if nm.UID != "" && nm.UID != cm.UID {
		return nil, meta.NewConflict(r.gvr.Group, r.gvr.Resource, cm.Name, fmt.Sprintf("Precondition failed: UID in precondition: %s, UID in object meta: %s", nm.UID, cm.UID))
	}
	nm.Name, nm.Namespace, nm.UID = cm.Name, cm.Namespace, cm.UID
	nm.CreationTimestamp = cm.CreationTimestamp
	nm.GenerateName = cm.GenerateName
	nm.Generation = cm.Generation
	if cm.DeletionTimestamp != nil {
		nm.DeletionTimestamp = cm.DeletionTimestamp
		nm.DeletionGracePeriodSeconds = cm.DeletionGracePeriodSeconds
		if added := newFinalizers(nm.Finalizers, cm.Finalizers); len(added) > 0 {
			return nil, meta.NewForbidden(fmt.Sprintf("no new finalizers can be added if the object is being deleted, found new finalizers %q", added))
		}
	} else {
		nm.DeletionTimestamp = nil
		nm.DeletionGracePeriodSeconds = nil
	}
	switch {
	case subresource == "status":
		// Only status changes: everything else is the stored object's.
		withStatus, err := decodeStored(r, mustEncode(r, cur), 0)
		if err != nil {
			return nil, meta.NewInternalError(err)
		}
		withStatus.GetObjectMeta().ResourceVersion = nm.ResourceVersion
		copyField(withStatus, next, "Status")
		next, nm = withStatus, withStatus.GetObjectMeta()
	case subresource == "apply":
		// The field manager merged the configuration into the stored
		// object; status is the stored one.
		copyField(next, cur, "Status")
	case subresource == "binding":
		// The binding sets spec.nodeName and the PodScheduled condition on
		// the stored pod; nothing else changes.
	case r.hasStatus && subresource == "":
		copyField(next, cur, "Status")
	}
	if r.defaults != nil {
		r.defaults(next)
	}
	if r.prepareForUpdate != nil {
		r.prepareForUpdate(next, cur)
	}
	if r.generation && !fieldEqual(next, cur, "Spec") {
		nm.Generation = cm.Generation + 1
	}
	if subresource != "binding" {
		if errs := validation.ValidateUpdate(next, cur); len(errs) > 0 {
			return nil, invalid(r, cm.Name, errs)
		}
	}
	return next, nil
}

func newFinalizers(next, cur []string) []string {
	var added []string
	for _, f := range next {
		if !slices.Contains(cur, f) {
			added = append(added, f)
		}
	}
	return added
}

// blocksDeletion reports whether a kind-specific finalizer (a Namespace's
// spec.finalizers) still holds the object.
func (s *Server) blocksDeletion(r *resource, obj meta.Object) bool {
	if r.kind != "Namespace" {
		return false
	}
	return namespaceHasSpecFinalizers(obj)
}

// finalDelete removes the object from storage (compare-and-swap on rev).
// A storage.ErrConflict is returned as is, so callers can re-read and retry.
func (s *Server) finalDelete(ctx context.Context, r *resource, ns, name string, cur meta.Object, rev int64, opts writeOptions) (meta.Object, bool, error) {
	if opts.dryRun {
		return cur, true, nil
	}
	start := time.Now()
	_, delRev, err := s.store.Delete(ctx, r.key(ns, name), rev)
	s.metrics.observeStorage("delete", r, start)
	if errors.Is(err, storage.ErrConflict) {
		return nil, false, err
	}
	if err != nil {
		return nil, false, storeError(err, r, name)
	}
	if r.afterDelete != nil {
		r.afterDelete(s, cur)
	}
	cur.GetObjectMeta().ResourceVersion = strconv.FormatInt(delRev, 10)
	return cur, true, nil
}

// deleteObject deletes (or marks for deletion) one object. It returns the
// object and whether it is gone from storage.
func (s *Server) deleteObject(ctx context.Context, r *resource, ns, name string, opts *meta.DeleteOptions, wo writeOptions) (meta.Object, bool, error) {
	if opts == nil {
		opts = &meta.DeleteOptions{}
	}
	if opts.GracePeriodSeconds != nil && *opts.GracePeriodSeconds < 0 {
		return nil, false, meta.NewInvalid(r.gvr.Group, r.kind, name, []meta.StatusCause{{Type: "FieldValueInvalid", Field: "gracePeriodSeconds", Message: "must be greater than or equal to 0"}})
	}
	propagation, err := deletePropagation(opts)
	if err != nil {
		return nil, false, err
	}
	for attempt := 0; attempt < maxUpdateAttempts; attempt++ {
		cur, rev, err := s.getObject(ctx, r, ns, name)
		if err != nil {
			return nil, false, err
		}
		cm := cur.GetObjectMeta()
		if p := opts.Preconditions; p != nil {
			if p.UID != nil && *p.UID != cm.UID {
				return nil, false, meta.NewConflict(r.gvr.Group, r.gvr.Resource, name, fmt.Sprintf("Precondition failed: UID in precondition: %s, UID in object meta: %s", *p.UID, cm.UID))
			}
			if p.ResourceVersion != nil && *p.ResourceVersion != cm.ResourceVersion {
				return nil, false, meta.NewConflict(r.gvr.Group, r.gvr.Resource, name, fmt.Sprintf("Precondition failed: ResourceVersion in precondition: %s, ResourceVersion in object meta: %s", *p.ResourceVersion, cm.ResourceVersion))
			}
		}
		var grace int64
		graceful := false
		if r.gracefulDelete != nil {
			grace, graceful = r.gracefulDelete(cur, opts)
		}
		finalizers := slices.Clone(cm.Finalizers)
		if cm.DeletionTimestamp == nil {
			switch propagation {
			case meta.DeletePropagationOrphan:
				finalizers = addFinalizer(finalizers, meta.FinalizerOrphanDependents)
			case meta.DeletePropagationForeground:
				finalizers = addFinalizer(finalizers, meta.FinalizerDeleteDependents)
			}
		}
		if len(finalizers) == 0 && !graceful && !s.blocksDeletion(r, cur) {
			obj, gone, err := s.finalDelete(ctx, r, ns, name, cur, rev, wo)
			if errors.Is(err, storage.ErrConflict) {
				continue
			}
			return obj, gone, err
		}
		// Mark for deletion; finalizers' owners or the kubelet finish it.
		deadline := s.now().Add(time.Duration(grace) * time.Second)
		if cm.DeletionTimestamp != nil {
			// Already deleting: a new delete may only shorten the grace period.
			if !graceful || !deadline.Before(cm.DeletionTimestamp.Time) {
				return cur, false, nil
			}
		}
		next, err := decodeStored(r, mustEncode(r, cur), rev)
		if err != nil {
			return nil, false, meta.NewInternalError(err)
		}
		nm := next.GetObjectMeta()
		t := meta.NewTime(deadline)
		nm.DeletionTimestamp = &t
		nm.DeletionGracePeriodSeconds = meta.Int64p(grace)
		nm.Finalizers = finalizers
		if r.kind == "Namespace" {
			setNamespaceTerminating(next)
		}
		if wo.dryRun {
			return next, false, nil
		}
		data, err := encodeForStorage(r, next)
		if err != nil {
			return nil, false, meta.NewInternalError(err)
		}
		start := time.Now()
		s.expected.expect(r.key(ns, name), next, data)
		newRev, err := s.store.Update(ctx, r.key(ns, name), data, rev)
		if err != nil {
			s.expected.forget(r.key(ns, name), data)
		}
		s.metrics.observeStorage("update", r, start)
		if errors.Is(err, storage.ErrConflict) {
			continue
		}
		if err != nil {
			return nil, false, storeError(err, r, name)
		}
		nm.ResourceVersion = strconv.FormatInt(newRev, 10)
		return next, false, nil
	}
	return nil, false, meta.NewConflict(r.gvr.Group, r.gvr.Resource, name, "too many concurrent writers, try again")
}

func mustEncode(r *resource, obj meta.Object) []byte {
	data, err := encodeForStorage(r, obj)
	if err != nil {
		panic(err) // only types kl defines reach here; they always encode
	}
	return data
}

func addFinalizer(fs []string, f string) []string {
	if slices.Contains(fs, f) {
		return fs
	}
	return append(fs, f)
}

// deletePropagation reads the propagation policy (and the legacy
// orphanDependents flag). Background is the default.
func deletePropagation(opts *meta.DeleteOptions) (meta.DeletionPropagation, error) {
	if opts.PropagationPolicy != nil {
		switch p := *opts.PropagationPolicy; p {
		case meta.DeletePropagationOrphan, meta.DeletePropagationBackground, meta.DeletePropagationForeground:
			return p, nil
		default:
			return "", meta.NewBadRequest(fmt.Sprintf("propagationPolicy %q is not supported; use Background, Foreground or Orphan", p))
		}
	}
	if opts.OrphanDependents != nil && *opts.OrphanDependents {
		return meta.DeletePropagationOrphan, nil
	}
	return meta.DeletePropagationBackground, nil
}

// generateName appends 5 random lowercase alphanumerics, as Kubernetes does.
func generateName(base string) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	if len(base) > 58 {
		base = base[:58]
	}
	b := []byte(uuid.New().String())
	out := make([]byte, 5)
	for i := range out {
		out[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return base + string(out)
}
