package fieldmanager

import (
	"slices"
	"strings"
)

// ListKeyFunc tells how the list at path merges. path holds the field names
// from the object's root (list items add nothing), e.g.
// ["spec","template","spec","containers","env"]; sample is the list's first
// item, or nil when the list is empty or its first item is not a map.
//
// It returns the names of the key fields for a list of maps merged item by
// item (an "associative list"), or nil for an atomic list that is replaced
// whole. A key name may carry a default used for items that omit the field,
// written "name=value" (value is a string): "protocol=TCP".
//
// A list whose items are not all maps, lack a key field (without default),
// have a non-scalar key value or repeat a key is treated as atomic.
type ListKeyFunc func(path []string, sample map[string]any) []string

var (
	containerListNames = []string{"containers", "initContainers", "ephemeralContainers"}
	keyedByName        = []string{"containers", "initContainers", "ephemeralContainers", "env", "volumes", "imagePullSecrets"}
)

// DefaultListKeys holds kl's merge keys, the ones Kubernetes declares
// (patchMergeKey / listMapKeys) for the kinds kl serves:
//
//   - containers, initContainers, ephemeralContainers, env, volumes,
//     imagePullSecrets: by "name";
//   - volumeMounts: by "mountPath";
//   - a container's ports: by "containerPort" and "protocol" (missing
//     protocol = "TCP");
//   - a Service's spec.ports: by "port" and "protocol" (missing = "TCP");
//   - conditions: by "type";
//   - ownerReferences: by "uid";
//   - everything else (args, command, envFrom, finalizers, tolerations,
//     hostAliases, selectors, ...) is atomic.
func DefaultListKeys(path []string, sample map[string]any) []string {
	if len(path) == 0 {
		return nil
	}
	last := path[len(path)-1]
	switch {
	case slices.Contains(keyedByName, last):
		return []string{"name"}
	case last == "volumeMounts":
		return []string{"mountPath"}
	case last == "conditions":
		return []string{"type"}
	case last == "ownerReferences":
		return []string{"uid"}
	case last == "ports":
		if len(path) >= 2 && slices.Contains(containerListNames, path[len(path)-2]) {
			return []string{"containerPort", "protocol=TCP"}
		}
		if len(path) == 2 && path[0] == "spec" {
			return []string{"port", "protocol=TCP"}
		}
	}
	return nil
}

// listElems returns, for each item of the list at path, its FieldsV1 path
// element (`k:{...}`), and false when the list is atomic.
func listElems(keys ListKeyFunc, path []string, list []any) ([]string, bool) {
	var sample map[string]any
	if len(list) > 0 {
		sample, _ = list[0].(map[string]any)
	}
	spec := keys(path, sample)
	if spec == nil {
		return nil, false
	}
	elems := make([]string, len(list))
	seen := make(map[string]bool, len(list))
	for i, it := range list {
		item, ok := it.(map[string]any)
		if !ok {
			return nil, false
		}
		e, ok := itemElem(item, spec)
		if !ok || seen[e] {
			return nil, false
		}
		seen[e] = true
		elems[i] = e
	}
	return elems, true
}

// itemElem builds the `k:{...}` path element of one list item.
func itemElem(item map[string]any, spec []string) (string, bool) {
	fields := make(map[string]any, len(spec))
	for _, s := range spec {
		name, def, hasDef := strings.Cut(s, "=")
		v, ok := item[name]
		if !ok || v == nil {
			if !hasDef {
				return "", false
			}
			v = def
		}
		if !isScalar(v) {
			return "", false
		}
		fields[name] = v
	}
	return Key(fields), true
}
