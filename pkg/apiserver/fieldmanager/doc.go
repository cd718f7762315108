// Package fieldmanager is the merge engine of server-side apply (SSA): it
// merges an applied configuration into a live object and keeps the
// object's metadata.managedFields, the record of which manager owns which
// fields, as Kubernetes does. It is pure: JSON-like values in
// (map[string]any, []any, string, bool, nil, json.Number or float64),
// values out, no I/O; the apiserver calls it from its PATCH handler
// (application/apply-patch+yaml) and from every other write.
//
// # Field sets and FieldsV1
//
// A FieldSet is a set of field paths. Its wire form is Kubernetes'
// FieldsV1, the value of a managedFields entry's fieldsV1:
//
//	{"f:metadata":{"f:labels":{"f:app":{}}},
//	 "f:spec":{"f:replicas":{},
//	   "f:template":{"f:spec":{"f:containers":{
//	     "k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{}}}}}}}
//
// "f:NAME" is a map field, `k:{"name":"web"}` the item of a keyed list
// whose key fields have those values, `v:VALUE` the item of a set (kl treats
// scalar lists as atomic and never writes one, but reads them), "i:N" an
// item by index (read only), and "." the path that leads to it is itself a
// member: an empty object is a member with nothing below. In messages a path
// is printed `.spec.template.spec.containers[name="web"].image`.
//
// # Lists
//
// A ListKeyFunc says, per list, whether it is keyed (merged item by item,
// by the values of its key fields) or atomic (owned and replaced whole).
// DefaultListKeys has kl's rules: containers, env, volumes, ... by name,
// volumeMounts by mountPath, container ports by containerPort and
// protocol (missing protocol means TCP), Service ports by port and
// protocol, conditions by type, ownerReferences by uid; every other list,
// scalar lists included, is atomic. A list that cannot be keyed (an item is
// not a map, lacks a key, or repeats one) is atomic.
//
// # Apply
//
// Manager.Apply(live, managed, config, manager, apiVersion, force):
//
//  1. The config's field set is every scalar, atomic list, empty map and
//     keyed list item it sets (not the maps and keyed lists that only lead
//     to them, and not fields set to null). After the apply manager owns exactly that set,
//     in its entry with operation Apply.
//  2. The config is merged into live: maps recursively, keyed lists item by
//     item (live items keep their order, new items are appended in config
//     order), atomic lists and scalars replaced; an explicit null removes
//     the field.
//  3. Fields manager applied last time (its previous Apply entry) that the
//     config no longer sets are removed, unless another entry owns them, in
//     which case only manager's ownership goes. A keyed list item dropped
//     from the config is removed whole (unless another entry owns the item
//     itself). A map or list emptied by these removals is removed too.
//  4. Fields nobody's config mentions stay as they are.
//  5. The merged object is compared with live. A field whose value this
//     changes (or that this adds) and that another manager owns is a
//     conflict: Apply fails with *ConflictError, naming each field, unless
//     force is set. With force, and for every field changed or removed,
//     the other managers lose the field. Setting a field to the value it
//     already has is no change: the field is then shared, and later changes
//     to it by either applier conflict with the other. A manager never
//     conflicts with itself (its Update entry just loses the field).
//
// Re-applying an unchanged config changes nothing: the merged object is
// Equal to live and managedFields come back identical, times included (the
// applier's entry gets a new time only when the apply changed the object,
// the entry's field set or its apiVersion).
//
// # Update
//
// Manager.Update(old, new, managed, manager, apiVersion) records any other
// write (PUT, merge patch, `kl scale`, `kl label`, controllers): the fields
// the write added or changed join manager's entry with operation Update
// (including a map or item the write created, as a "." member) and leave
// every other entry; removed fields leave every entry. Objects nobody ever
// applied (empty managed) carry no bookkeeping: Update returns nil.
//
// # Ignored fields
//
// apiVersion, kind, status and metadata's name, namespace, uid,
// resourceVersion, generation, creationTimestamp, deletionTimestamp,
// deletionGracePeriodSeconds, managedFields and selfLink are never in a field
// set, never removed and never in conflict. Apply keeps live's values (on
// create it takes apiVersion, kind, name and namespace from the config) and
// never applies status.
//
// # Entries
//
// There is one entry per (manager, operation); entries keep their order,
// new ones are appended, entries whose set becomes empty are dropped, and
// an entry whose set did not change is returned byte for byte.
package fieldmanager
