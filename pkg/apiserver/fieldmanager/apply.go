package fieldmanager

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/kl-dev/kl/pkg/api/meta"
)

// Fields that field management ignores: they are never in a field set,
// never removed and never in conflict.
var (
	ignoredRootFields = []string{"apiVersion", "kind", "status"}
	ignoredMetaFields = []string{
		"name", "namespace", "uid", "resourceVersion", "generation",
		"creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
		"managedFields", "selfLink",
	}
	// createdFromConfig are the ignored fields a first apply (create) takes
	// from the configuration.
	createdFromConfig = []string{"apiVersion", "kind"}
	createdMetaFields = []string{"name", "namespace"}
)

// stripIgnored returns a shallow copy of obj without the ignored fields (and
// without metadata when nothing else is left in it). It never returns nil.
func stripIgnored(obj map[string]any) map[string]any {
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		if !slices.Contains(ignoredRootFields, k) {
			out[k] = v
		}
	}
	if md, ok := out["metadata"].(map[string]any); ok {
		kept := make(map[string]any, len(md))
		for k, v := range md {
			if !slices.Contains(ignoredMetaFields, k) {
				kept[k] = v
			}
		}
		if len(kept) == 0 {
			delete(out, "metadata")
		} else {
			out["metadata"] = kept
		}
	}
	return out
}

// restoreIgnored puts the ignored fields of from (copied) back into obj.
func restoreIgnored(obj, from map[string]any, rootFields, metaFields []string) {
	for _, k := range rootFields {
		if v, ok := from[k]; ok {
			obj[k] = deepCopy(v)
		}
	}
	fromMD, _ := from["metadata"].(map[string]any)
	for _, k := range metaFields {
		v, ok := fromMD[k]
		if !ok {
			continue
		}
		md, isMap := obj["metadata"].(map[string]any)
		if !isMap {
			md = map[string]any{}
			obj["metadata"] = md
		}
		md[k] = deepCopy(v)
	}
}

// Apply merges config (the manager's full applied configuration, as the user
// wrote it) into live (nil when the object does not exist yet) and returns
// the merged object and the new managedFields.
//
// Ownership rules (Kubernetes server-side apply; see the package doc):
//  1. the fields config sets are owned by manager afterwards (operation
//     Apply). Changing the value of a field another manager owns is a
//     conflict, reported as *ConflictError unless force is set; with force
//     the other managers lose those fields. Setting a field to the value it
//     already has shares its ownership.
//  2. fields manager applied last time that config no longer sets are
//     removed from the object unless another manager also owns them (then
//     only manager's ownership goes); dropping a keyed list item from config
//     removes the item.
//  3. fields config does not mention otherwise stay as they are.
//  4. maps merge recursively, keyed lists item by item (live order, new
//     items appended in config order), atomic lists and scalars are
//     replaced; an explicit null in config removes the field.
//
// apiVersion, kind, status and metadata's identity and system fields are
// ignored (see the package doc). The merged object carries live's
// metadata.managedFields unchanged: the caller stores the returned entries
// (SetManagedFields). Apply does not modify its arguments, and re-applying
// the same config returns an object Equal to live and the same entries.
func (m *Manager) Apply(live map[string]any, managed []meta.ManagedFieldsEntry, config map[string]any, manager, apiVersion string, force bool) (map[string]any, []meta.ManagedFieldsEntry, error) {
	if manager == "" {
		return nil, nil, errors.New("apply: a field manager name is required")
	}
	entries, err := decodeEntries(managed, true)
	if err != nil {
		return nil, nil, fmt.Errorf("apply: %w", err)
	}
	keys := m.keys()

	cfg := stripIgnored(config)
	cfgSet := FromValue(cfg, keys)
	liveS := stripIgnored(live)

	// Find this manager's previous Apply entry and what everybody else owns.
	var self *entry
	others := &FieldSet{}
	for _, e := range entries {
		if e.is(manager, OperationApply) {
			self = e
			continue
		}
		others = others.Union(e.set)
	}
	var prev *FieldSet
	if self != nil {
		prev = self.set
	}

	// Remove what manager stopped applying, then merge the config in (in
	// this order, so that a map or list emptied by the removals but still
	// mentioned by the config, like `env: []`, is there after one apply).
	pruned := deepCopy(liveS).(map[string]any)
	p := pruner{keys: keys}
	p.pruneMap(nil, pruned, prev, cfgSet, others)
	merged := merge(keys, nil, pruned, cfg).(map[string]any)

	changed, removed := diffObjects(keys, liveS, merged)

	// Conflicts: fields whose value this apply changes and that another
	// manager owns. A manager never conflicts with itself.
	var conflicts []pathConflict
	for _, e := range entries {
		if e == self || e.orig.Manager == manager {
			continue
		}
		for _, p := range e.set.Intersection(changed).Leaves() {
			conflicts = append(conflicts, pathConflict{Conflict{
				Manager:    e.orig.Manager,
				Operation:  e.orig.Operation,
				APIVersion: e.orig.APIVersion,
				Field:      p.String(),
			}, p})
		}
	}
	if len(conflicts) > 0 && !force {
		return nil, nil, newConflictError(conflicts)
	}

	// Everybody else loses what this apply changed or removed.
	lost := changed.Union(removed)
	for _, e := range entries {
		if e == self {
			continue
		}
		if rest := e.set.Difference(lost); !rest.Equal(e.set) {
			e.set, e.changed = rest, true
		}
	}
	if self == nil {
		self = &entry{orig: meta.ManagedFieldsEntry{Manager: manager, Operation: OperationApply}}
		entries = append(entries, self)
	}
	// The entry's time moves when this apply changed anything: the object,
	// the set or the version. Re-applying an unchanged config keeps it.
	objectChanged := !changed.Empty() || !removed.Empty()
	if objectChanged || !self.set.Equal(cfgSet) || self.orig.APIVersion != apiVersion || self.changed {
		self.set = cfgSet
		self.orig.APIVersion = apiVersion
		self.orig.Time = m.now()
		self.changed = true
	}

	if live != nil {
		restoreIgnored(merged, live, ignoredRootFields, ignoredMetaFields)
	} else {
		restoreIgnored(merged, config, createdFromConfig, createdMetaFields)
	}
	return merged, encodeEntries(entries), nil
}

// merge returns cfg merged into live as a new value sharing nothing with
// either. path holds the field names leading to the value.
func merge(keys ListKeyFunc, path []string, live, cfg any) any {
	switch c := cfg.(type) {
	case map[string]any:
		l, _ := live.(map[string]any)
		out := make(map[string]any, len(l)+len(c))
		for k, v := range l {
			out[k] = deepCopy(v)
		}
		for k, v := range c {
			if v == nil {
				delete(out, k)
				continue
			}
			out[k] = merge(keys, childPath(path, k), l[k], v)
		}
		return out
	case []any:
		if out, ok := mergeKeyed(keys, path, live, c); ok {
			return out
		}
	}
	if Equal(live, cfg) {
		return deepCopy(live) // keep live's spelling of equal numbers
	}
	return deepCopy(cfg)
}

// mergeKeyed merges two keyed lists item by item: live items keep their
// order (merged with the config item of the same key), config items not in
// live are appended in config order. When live is not a keyed list, the
// config's items replace it. It reports false when cfg is atomic.
func mergeKeyed(keys ListKeyFunc, path []string, live any, cfg []any) ([]any, bool) {
	cfgElems, ok := listElems(keys, path, cfg)
	if !ok {
		return nil, false
	}
	out := make([]any, 0, len(cfg))
	l, isList := live.([]any)
	liveElems, ok := listElems(keys, path, l)
	if !isList || !ok {
		// Nothing to merge with: the config's items replace the value.
		for _, it := range cfg {
			out = append(out, merge(keys, path, nil, it))
		}
		return out, true
	}
	cfgIndex := make(map[string]int, len(cfg))
	for i, e := range cfgElems {
		cfgIndex[e] = i
	}
	inLive := make(map[string]bool, len(l))
	for i, e := range liveElems {
		inLive[e] = true
		if j, ok := cfgIndex[e]; ok {
			out = append(out, merge(keys, path, l[i], cfg[j]))
		} else {
			out = append(out, deepCopy(l[i]))
		}
	}
	for j, e := range cfgElems {
		if !inLive[e] {
			out = append(out, merge(keys, path, nil, cfg[j]))
		}
	}
	return out, true
}

// pruner removes what a manager stopped applying.
type pruner struct {
	keys ListKeyFunc
}

// pruneMap removes from m (in place) the fields under prev that cfg no
// longer sets and others do not own, and reports whether it removed any.
// A map or list that becomes empty through removals is removed as well,
// unless somebody owns it as a whole.
func (p *pruner) pruneMap(path []string, m map[string]any, prev, cfg, others *FieldSet) bool {
	if prev == nil {
		return false
	}
	removedAny := false
	for elem, pc := range prev.children {
		name, ok := strings.CutPrefix(elem, "f:")
		if !ok {
			continue
		}
		v, present := m[name]
		if !present {
			continue
		}
		cc, oc := cfg.child(elem), others.child(elem)
		if pc.member && cc.Empty() && !oc.isMember() {
			delete(m, name)
			removedAny = true
			continue
		}
		if !p.pruneValue(childPath(path, name), v, m, name, pc, cc, oc) {
			continue
		}
		removedAny = true
		if isEmptyContainer(m[name]) && !cc.isMember() && !oc.isMember() {
			delete(m, name)
		}
	}
	return removedAny
}

// pruneValue prunes the value m[name]; lists are replaced in m.
func (p *pruner) pruneValue(path []string, v any, m map[string]any, name string, prev, cfg, others *FieldSet) bool {
	switch t := v.(type) {
	case map[string]any:
		return p.pruneMap(path, t, prev, cfg, others)
	case []any:
		out, removed := p.pruneList(path, t, prev, cfg, others)
		if removed {
			m[name] = out
		}
		return removed
	}
	return false
}

// pruneList returns list without the keyed items (and item fields) that
// must go, and whether anything went.
func (p *pruner) pruneList(path []string, list []any, prev, cfg, others *FieldSet) ([]any, bool) {
	elems, keyed := listElems(p.keys, path, list)
	if !keyed {
		return list, false
	}
	out := make([]any, 0, len(list))
	removedAny := false
	for i, e := range elems {
		pc := prev.child(e)
		if pc == nil {
			out = append(out, list[i])
			continue
		}
		cc, oc := cfg.child(e), others.child(e)
		if pc.member && cc.Empty() && !oc.isMember() {
			removedAny = true
			continue
		}
		if p.pruneMap(path, list[i].(map[string]any), pc, cc, oc) {
			removedAny = true
		}
		out = append(out, list[i])
	}
	return out, removedAny
}

func isEmptyContainer(v any) bool {
	switch t := v.(type) {
	case map[string]any:
		return len(t) == 0
	case []any:
		return len(t) == 0
	}
	return false
}

// Conflict is one field an apply would change that another manager owns.
type Conflict struct {
	// Manager owns the field.
	Manager string
	// Operation and APIVersion are those of Manager's managedFields entry.
	Operation  string
	APIVersion string
	// Field is the field's path as Kubernetes prints it:
	// ".spec.replicas", `.spec.template.spec.containers[name="web"].image`.
	Field string
}

// pathConflict is a Conflict with its path, for sorting.
type pathConflict struct {
	Conflict
	path Path
}

// ownerString names the owner as Kubernetes does: `"kl-scale" using apps/v1`
// for an Update manager, `"other"` for an applier.
func (c Conflict) ownerString() string {
	s := fmt.Sprintf("%q", c.Manager)
	if c.Operation == OperationUpdate && c.APIVersion != "" {
		s += " using " + c.APIVersion
	}
	return s
}

// ConflictError is the error of an apply that would change fields other
// managers own; the apiserver answers it with 409 Conflict (APIError).
type ConflictError struct {
	Conflicts []Conflict
}

// newConflictError sorts the conflicts by owner, then field.
func newConflictError(pcs []pathConflict) *ConflictError {
	sort.SliceStable(pcs, func(i, j int) bool {
		if a, b := pcs[i].ownerString(), pcs[j].ownerString(); a != b {
			return a < b
		}
		return comparePaths(pcs[i].path, pcs[j].path) < 0
	})
	cs := make([]Conflict, len(pcs))
	for i, pc := range pcs {
		cs[i] = pc.Conflict
	}
	return &ConflictError{Conflicts: cs}
}

func comparePaths(a, b Path) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := compareElems(a[i], b[i]); c != 0 {
			return c
		}
	}
	return len(a) - len(b)
}

// Error uses Kubernetes' wording, e.g.
// `Apply failed with 1 conflict: conflict with "kl-scale" using apps/v1: .spec.replicas`.
func (e *ConflictError) Error() string {
	if len(e.Conflicts) == 1 {
		c := e.Conflicts[0]
		return fmt.Sprintf("Apply failed with 1 conflict: conflict with %s: %s", c.ownerString(), c.Field)
	}
	var lines []string
	last := ""
	for _, c := range e.Conflicts {
		if owner := c.ownerString(); owner != last {
			lines = append(lines, fmt.Sprintf("conflicts with %s:", owner))
			last = owner
		}
		lines = append(lines, "- "+c.Field)
	}
	return fmt.Sprintf("Apply failed with %d conflicts: %s", len(e.Conflicts), strings.Join(lines, "\n"))
}

// APIError returns the 409 Conflict Status Kubernetes sends for apply
// conflicts: one cause of type FieldManagerConflict per field.
func (e *ConflictError) APIError() *meta.APIError {
	ae := meta.NewStatusError(http.StatusConflict, meta.StatusReasonConflict, e.Error())
	causes := make([]meta.StatusCause, 0, len(e.Conflicts))
	for _, c := range e.Conflicts {
		causes = append(causes, meta.StatusCause{
			Type:    "FieldManagerConflict",
			Message: "conflict with " + c.ownerString(),
			Field:   c.Field,
		})
	}
	ae.Status.Details = &meta.StatusDetails{Causes: causes}
	return ae
}
