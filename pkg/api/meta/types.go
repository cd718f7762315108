// Package meta holds the object metadata shared by every kind: TypeMeta,
// ObjectMeta, ListMeta, owner references, Status errors and label selectors.
// The JSON shape of every type is the one Kubernetes uses (apimachinery's
// meta/v1), so manifests and standard clients work unchanged.
package meta

// TypeMeta names an object's schema: apiVersion and kind.
type TypeMeta struct {
	Kind       string `json:"kind,omitempty"`
	APIVersion string `json:"apiVersion,omitempty"`
}

// GetObjectKind returns the TypeMeta itself so embedding types satisfy Object.
func (t *TypeMeta) GetTypeMeta() *TypeMeta { return t }

// ObjectMeta is the metadata every persisted object carries.
type ObjectMeta struct {
	Name                       string               `json:"name,omitempty"`
	GenerateName               string               `json:"generateName,omitempty"`
	Namespace                  string               `json:"namespace,omitempty"`
	UID                        string               `json:"uid,omitempty"`
	ResourceVersion            string               `json:"resourceVersion,omitempty"`
	Generation                 int64                `json:"generation,omitempty"`
	CreationTimestamp          Time                 `json:"creationTimestamp,omitzero"`
	DeletionTimestamp          *Time                `json:"deletionTimestamp,omitempty"`
	DeletionGracePeriodSeconds *int64               `json:"deletionGracePeriodSeconds,omitempty"`
	Labels                     map[string]string    `json:"labels,omitempty"`
	Annotations                map[string]string    `json:"annotations,omitempty"`
	OwnerReferences            []OwnerReference     `json:"ownerReferences,omitempty"`
	Finalizers                 []string             `json:"finalizers,omitempty"`
	ManagedFields              []ManagedFieldsEntry `json:"managedFields,omitempty"`
}

// GetObjectMeta returns the ObjectMeta itself so embedding types satisfy Object.
func (m *ObjectMeta) GetObjectMeta() *ObjectMeta { return m }

// OwnerReference points at the object that owns this one; the garbage
// collector deletes dependents whose owners are gone.
type OwnerReference struct {
	APIVersion         string `json:"apiVersion"`
	Kind               string `json:"kind"`
	Name               string `json:"name"`
	UID                string `json:"uid"`
	Controller         *bool  `json:"controller,omitempty"`
	BlockOwnerDeletion *bool  `json:"blockOwnerDeletion,omitempty"`
}

// ManagedFieldsEntry records which fields a manager set through apply or
// update, in Kubernetes' FieldsV1 shape.
type ManagedFieldsEntry struct {
	Manager     string   `json:"manager,omitempty"`
	Operation   string   `json:"operation,omitempty"`
	APIVersion  string   `json:"apiVersion,omitempty"`
	Time        *Time    `json:"time,omitempty"`
	FieldsType  string   `json:"fieldsType,omitempty"`
	FieldsV1    *RawJSON `json:"fieldsV1,omitempty"`
	Subresource string   `json:"subresource,omitempty"`
}

// ListMeta is the metadata of a list response.
type ListMeta struct {
	ResourceVersion    string `json:"resourceVersion,omitempty"`
	Continue           string `json:"continue,omitempty"`
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

// Well-known label, annotation and finalizer names.
const (
	FinalizerOrphanDependents = "orphan"
	FinalizerDeleteDependents = "foregroundDeletion"
	NamespaceDefault          = "default"
	NamespaceSystem           = "kube-system"
	NamespaceNodeLease        = "kube-node-lease"
)

// DeletionPropagation decides how the garbage collector treats dependents.
type DeletionPropagation string

const (
	DeletePropagationOrphan     DeletionPropagation = "Orphan"
	DeletePropagationBackground DeletionPropagation = "Background"
	DeletePropagationForeground DeletionPropagation = "Foreground"
)

// Preconditions must be met before a delete is carried out.
type Preconditions struct {
	UID             *string `json:"uid,omitempty"`
	ResourceVersion *string `json:"resourceVersion,omitempty"`
}

// DeleteOptions is the optional body of a DELETE request.
type DeleteOptions struct {
	TypeMeta           `json:",inline"`
	GracePeriodSeconds *int64               `json:"gracePeriodSeconds,omitempty"`
	Preconditions      *Preconditions       `json:"preconditions,omitempty"`
	OrphanDependents   *bool                `json:"orphanDependents,omitempty"`
	PropagationPolicy  *DeletionPropagation `json:"propagationPolicy,omitempty"`
	DryRun             []string             `json:"dryRun,omitempty"`
}

// WatchEvent is one line of a watch stream.
type WatchEvent struct {
	Type   string  `json:"type"`
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
