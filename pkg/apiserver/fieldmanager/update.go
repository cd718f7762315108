package fieldmanager

import (
	"github.com/kl-dev/kl/pkg/api/meta"
)

// Update records a write that is not an apply (a PUT or PATCH by a
// controller, `kl scale`, `kl label`, ...) from old to new: the fields it
// added or changed become owned by manager (operation Update) and every
// other entry loses them; fields it removed leave every entry. It returns
// the new managedFields.
//
// When managed is empty (nobody ever applied the object) it returns nil:
// objects made and kept by controllers carry no bookkeeping. Entries whose
// fieldsV1 does not decode are dropped. A write that changes nothing
// returns the entries unchanged, times included.
func (m *Manager) Update(old, new map[string]any, managed []meta.ManagedFieldsEntry, manager, apiVersion string) []meta.ManagedFieldsEntry {
	if len(managed) == 0 {
		return nil
	}
	entries, _ := decodeEntries(managed, false)
	changed, removed := diffObjects(m.keys(), stripIgnored(old), stripIgnored(new))
	if changed.Empty() && removed.Empty() {
		return encodeEntries(entries)
	}
	lost := changed.Union(removed)
	var self *entry
	for _, e := range entries {
		if e.is(manager, OperationUpdate) {
			self = e
			continue
		}
		if rest := e.set.Difference(lost); !rest.Equal(e.set) {
			e.set, e.changed = rest, true
		}
	}
	if self == nil {
		if changed.Empty() {
			return encodeEntries(entries)
		}
		self = &entry{orig: meta.ManagedFieldsEntry{Manager: manager, Operation: OperationUpdate}, set: &FieldSet{}}
		entries = append(entries, self)
	}
	self.set = self.set.Union(changed).Difference(removed)
	self.orig.APIVersion = apiVersion
	self.orig.Time = m.now()
	self.changed = true
	return encodeEntries(entries)
}

// differ compares two objects field by field, the way Kubernetes' typed
// Compare does: changed gets the paths added or modified (including a map
// or list item that appeared, and everything below it), removed gets the
// paths that disappeared (and everything below them).
type differ struct {
	keys    ListKeyFunc
	changed *FieldSet
	removed *FieldSet
}

// diffObjects returns the changed and removed paths from old to new.
func diffObjects(keys ListKeyFunc, old, new map[string]any) (changed, removed *FieldSet) {
	d := &differ{keys: keys, changed: &FieldSet{}, removed: &FieldSet{}}
	d.maps(nil, nil, old, new)
	return d.changed, d.removed
}

func (d *differ) maps(path []string, fp Path, old, new map[string]any) {
	for k, ov := range old {
		cp, cfp := childPath(path, k), childPath(fp, Field(k))
		if nv, ok := new[k]; ok {
			d.values(cp, cfp, ov, nv)
		} else {
			d.full(d.removed, cp, cfp, ov)
		}
	}
	for k, nv := range new {
		if _, ok := old[k]; !ok {
			d.full(d.changed, childPath(path, k), childPath(fp, Field(k)), nv)
		}
	}
}

func (d *differ) values(path []string, fp Path, ov, nv any) {
	om, oMap := ov.(map[string]any)
	nm, nMap := nv.(map[string]any)
	if oMap && nMap {
		d.maps(path, fp, om, nm)
		return
	}
	ol, oList := ov.([]any)
	nl, nList := nv.([]any)
	if oList && nList {
		oe, oKeyed := listElems(d.keys, path, ol)
		ne, nKeyed := listElems(d.keys, path, nl)
		if oKeyed && nKeyed {
			d.lists(path, fp, ol, oe, nl, ne)
			return
		}
	}
	if Equal(ov, nv) {
		return
	}
	// A scalar or atomic list changed, or the value changed shape.
	d.changed.Insert(fp)
	d.below(d.removed, path, fp, ov)
	d.below(d.changed, path, fp, nv)
}

func (d *differ) lists(path []string, fp Path, ol []any, oe []string, nl []any, ne []string) {
	oldIndex := make(map[string]int, len(oe))
	for i, e := range oe {
		oldIndex[e] = i
	}
	inNew := make(map[string]bool, len(ne))
	for j, e := range ne {
		inNew[e] = true
		ifp := childPath(fp, e)
		if i, ok := oldIndex[e]; ok {
			d.maps(path, ifp, ol[i].(map[string]any), nl[j].(map[string]any))
		} else {
			d.full(d.changed, path, ifp, nl[j])
		}
	}
	for i, e := range oe {
		if !inNew[e] {
			d.full(d.removed, path, childPath(fp, e), ol[i])
		}
	}
}

// full adds fp and every path below the value v to set.
func (d *differ) full(set *FieldSet, path []string, fp Path, v any) {
	set.Insert(fp)
	d.below(set, path, fp, v)
}

// below adds every path below the value v (not fp itself) to set.
func (d *differ) below(set *FieldSet, path []string, fp Path, v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, cv := range t {
			d.full(set, childPath(path, k), childPath(fp, Field(k)), cv)
		}
	case []any:
		elems, keyed := listElems(d.keys, path, t)
		if !keyed {
			return
		}
		for i, e := range elems {
			d.full(set, path, childPath(fp, e), t[i])
		}
	}
}
