// Package meta holds the object metadata shared by every kind: TypeMeta,
// ObjectMeta, ListMeta, owner references, Status errors and label selectors.
// The JSON shape of every type is the one Kubernetes uses (apimachinery's
// meta/v1), so manifests and standard clients work unchanged.
package meta

// TypeMeta names an object's schema: apiVersion and kind. Every kind and
// list inlines it.
type TypeMeta struct {
	// Kind is the REST kind of the object, in CamelCase (for example
	// Deployment). Servers may infer it from the endpoint a request is sent
	// to. Cannot be updated.
	Kind string `json:"kind,omitempty"`
	// APIVersion is the versioned schema of this representation of the
	// object: "v1" for the core group, "GROUP/VERSION" otherwise (for
	// example apps/v1).
	APIVersion string `json:"apiVersion,omitempty"`
}

// GetTypeMeta returns the TypeMeta itself so embedding types satisfy Object.
func (t *TypeMeta) GetTypeMeta() *TypeMeta { return t }

// ObjectMeta is the metadata every persisted object carries: name,
// namespace, labels and annotations set by users, and the identity,
// version and lifecycle fields the server maintains.
type ObjectMeta struct {
	// Name is unique within a namespace (for cluster-scoped kinds, within
	// the cluster). It is required when creating an object unless
	// generateName is set, and cannot be updated.
	Name string `json:"name,omitempty"`
	// GenerateName is a prefix from which the server generates a unique
	// name, by appending a random suffix, when name is empty. Ignored when
	// name is set.
	GenerateName string `json:"generateName,omitempty"`
	// Namespace is the space within which the name must be unique; it is
	// empty for cluster-scoped kinds. An empty namespace on a namespaced
	// object means "default". Cannot be updated.
	Namespace string `json:"namespace,omitempty"`
	// UID is the value, unique in time and space, that the server gives
	// the object when it is created. Read-only.
	UID string `json:"uid,omitempty"`
	// ResourceVersion is an opaque value identifying the object's last
	// write, used to detect changes and for optimistic concurrency: an
	// update or delete that carries a stale resourceVersion fails with
	// Conflict. Read-only.
	ResourceVersion string `json:"resourceVersion,omitempty"`
	// Generation is a sequence number of the desired state, set to 1 on
	// create and incremented by the server on every change of the spec, for
	// kinds that have one. Read-only.
	Generation int64 `json:"generation,omitempty"`
	// CreationTimestamp is the time the server created the object (RFC
	// 3339, UTC). Read-only.
	CreationTimestamp Time `json:"creationTimestamp,omitzero"`
	// DeletionTimestamp is the time after which the object will be
	// deleted, set by the server when a graceful deletion is requested or
	// when finalizers hold the object back. Once set, it is not unset.
	// Read-only.
	DeletionTimestamp *Time `json:"deletionTimestamp,omitempty"`
	// DeletionGracePeriodSeconds is the number of seconds the object has to
	// terminate gracefully before it is removed; set together with
	// deletionTimestamp. Read-only.
	DeletionGracePeriodSeconds *int64 `json:"deletionGracePeriodSeconds,omitempty"`
	// Labels are string keys and values that organize and select objects:
	// the selectors of services, replica sets and deployments match them.
	// A key is a name of up to 63 characters with an optional DNS subdomain
	// prefix ("example.com/tier").
	Labels map[string]string `json:"labels,omitempty"`
	// Annotations is an unstructured key/value map that users and tools
	// store with an object for arbitrary, non-identifying metadata. Not
	// queryable.
	Annotations map[string]string `json:"annotations,omitempty"`
	// OwnerReferences lists the objects this object depends on. When every
	// owner listed has been deleted, the garbage collector deletes this
	// object. At most one entry may have controller set.
	OwnerReferences []OwnerReference `json:"ownerReferences,omitempty"`
	// Finalizers must be empty before the object is removed from storage.
	// Each entry names a component that cleans up after the object and then
	// removes its entry; until all are gone a deleted object only gets a
	// deletionTimestamp.
	Finalizers []string `json:"finalizers,omitempty"`
	// ManagedFields records which fields each manager (a server-side apply
	// fieldManager or an updating client) owns. Maintained by the server;
	// users rarely need to set or read it.
	ManagedFields []ManagedFieldsEntry `json:"managedFields,omitempty"`
}

// GetObjectMeta returns the ObjectMeta itself so embedding types satisfy Object.
func (m *ObjectMeta) GetObjectMeta() *ObjectMeta { return m }

// OwnerReference points at the object that owns this one; the garbage
// collector deletes dependents whose owners are gone.
type OwnerReference struct {
	// APIVersion is the API version of the owner.
	APIVersion string `json:"apiVersion"`
	// Kind is the kind of the owner.
	Kind string `json:"kind"`
	// Name is the name of the owner. An owner is in the same namespace as
	// its dependent, or cluster-scoped.
	Name string `json:"name"`
	// UID is the uid of the owner: the reference is to that very object,
	// not to a later one of the same name.
	UID string `json:"uid"`
	// Controller, if true, marks the owner as the managing controller of
	// this object. At most one owner reference may be the controller.
	Controller *bool `json:"controller,omitempty"`
	// BlockOwnerDeletion, if true, keeps the owner from being removed
	// from storage, when it is deleted with foreground propagation, until
	// this object is gone. Defaults to false.
	BlockOwnerDeletion *bool `json:"blockOwnerDeletion,omitempty"`
}

// ManagedFieldsEntry records which fields a manager set through apply or
// update, in Kubernetes' FieldsV1 shape.
type ManagedFieldsEntry struct {
	// Manager identifies the workflow that manages these fields: the
	// fieldManager of the requests that set them.
	Manager string `json:"manager,omitempty"`
	// Operation is the kind of request that made this entry: Apply or
	// Update.
	Operation string `json:"operation,omitempty"`
	// APIVersion is the API version the fields were set in; the field set
	// is read in that version's schema.
	APIVersion string `json:"apiVersion,omitempty"`
	// Time is when this manager last changed one of its fields.
	Time *Time `json:"time,omitempty"`
	// FieldsType is the format of the field set; the only value is
	// "FieldsV1".
	FieldsType string `json:"fieldsType,omitempty"`
	// FieldsV1 is the set of fields managed, in Kubernetes' FieldsV1 form:
	// a tree keyed by "f:<field>", "k:<list item key>" and "v:<value>".
	FieldsV1 *RawJSON `json:"fieldsV1,omitempty"`
	// Subresource is the subresource the fields were written through (for
	// example "status"); empty for the main resource.
	Subresource string `json:"subresource,omitempty"`
}

// ListMeta is the metadata of a list response.
type ListMeta struct {
	// ResourceVersion identifies the point in the store's history the list
	// was read at; a watch from it delivers every later change. Opaque.
	ResourceVersion string `json:"resourceVersion,omitempty"`
	// Continue is set when a list request with a limit returned only part
	// of the items: send it back as the continue parameter to get the next
	// chunk, read at the same resourceVersion. Opaque.
	Continue string `json:"continue,omitempty"`
	// RemainingItemCount is the number of items after this chunk of a
	// paginated list.
	RemainingItemCount *int64 `json:"remainingItemCount,omitempty"`
}

// Object is implemented by every top-level kind (through embedding TypeMeta
// and ObjectMeta).
type Object interface {
	GetTypeMeta() *TypeMeta
	GetObjectMeta() *ObjectMeta
}

// ListInterface is implemented by every list kind.
type ListInterface interface {
	GetTypeMeta() *TypeMeta
	GetListMeta() *ListMeta
}

// GetListMeta returns the ListMeta itself so embedding types satisfy ListInterface.
func (m *ListMeta) GetListMeta() *ListMeta { return m }

// Well-known finalizer and namespace names.
const (
	// FinalizerOrphanDependents holds an object deleted with Orphan
	// propagation until its dependents' owner references are removed.
	FinalizerOrphanDependents = "orphan"
	// FinalizerDeleteDependents holds an object deleted with Foreground
	// propagation until its blocking dependents are gone.
	FinalizerDeleteDependents = "foregroundDeletion"
	// NamespaceDefault is the namespace of objects that name none.
	NamespaceDefault = "default"
	// NamespaceSystem holds the cluster's own objects.
	NamespaceSystem = "kube-system"
	// NamespaceNodeLease holds the nodes' heartbeat Leases.
	NamespaceNodeLease = "kube-node-lease"
)

// DeletionPropagation decides how the garbage collector treats dependents.
type DeletionPropagation string

// Deletion propagation policies: Orphan leaves dependents in place (their
// owner references are removed), Background deletes the owner at once and
// its dependents afterwards, Foreground deletes the dependents first.
const (
	DeletePropagationOrphan     DeletionPropagation = "Orphan"
	DeletePropagationBackground DeletionPropagation = "Background"
	DeletePropagationForeground DeletionPropagation = "Foreground"
)

// Preconditions must be met before a delete is carried out.
type Preconditions struct {
	// UID is the uid the object must have.
	UID *string `json:"uid,omitempty"`
	// ResourceVersion is the resourceVersion the object must have.
	ResourceVersion *string `json:"resourceVersion,omitempty"`
}

// DeleteOptions is the optional body of a DELETE request.
type DeleteOptions struct {
	TypeMeta `json:",inline"`
	// GracePeriodSeconds is the time the object has to terminate before it
	// is removed; 0 deletes at once, nil uses the kind's default (a pod's
	// terminationGracePeriodSeconds).
	GracePeriodSeconds *int64 `json:"gracePeriodSeconds,omitempty"`
	// Preconditions must hold for the delete to be carried out, else it
	// fails with Conflict.
	Preconditions *Preconditions `json:"preconditions,omitempty"`
	// OrphanDependents is the deprecated form of propagationPolicy: true
	// means Orphan, false Background. Set one or the other, not both.
	OrphanDependents *bool `json:"orphanDependents,omitempty"`
	// PropagationPolicy decides whether and how dependents are garbage
	// collected: Orphan, Background or Foreground. The default depends on
	// the kind (Background for most).
	PropagationPolicy *DeletionPropagation `json:"propagationPolicy,omitempty"`
	// DryRun, when ["All"], runs every stage of the request but does not
	// persist the result.
	DryRun []string `json:"dryRun,omitempty"`
}

// WatchEvent is one line of a watch stream.
type WatchEvent struct {
	// Type is ADDED, MODIFIED, DELETED, BOOKMARK or ERROR.
	Type string `json:"type"`
	// Object is the object as of the event: the new state for ADDED and
	// MODIFIED, the last state for DELETED, an object carrying only the
	// resourceVersion for BOOKMARK, and a Status for ERROR.
	Object RawJSON `json:"object"`
}

// Watch event types.
const (
	Added    = "ADDED"
	Modified = "MODIFIED"
	Deleted  = "DELETED"
	Bookmark = "BOOKMARK"
	Error    = "ERROR"
)

// Boolp returns a pointer to b.
func Boolp(b bool) *bool { return &b }

// Int64p returns a pointer to i.
func Int64p(i int64) *int64 { return &i }

// Int32p returns a pointer to i.
func Int32p(i int32) *int32 { return &i }

// Stringp returns a pointer to s.
func Stringp(s string) *string { return &s }

// IsControlledBy reports whether obj has a controller owner reference with uid.
func IsControlledBy(obj *ObjectMeta, uid string) bool {
	ref := GetControllerOf(obj)
	return ref != nil && ref.UID == uid
}

// GetControllerOf returns the owner reference marked controller, if any.
func GetControllerOf(obj *ObjectMeta) *OwnerReference {
	for i := range obj.OwnerReferences {
		if r := &obj.OwnerReferences[i]; r.Controller != nil && *r.Controller {
			return r
		}
	}
	return nil
}
