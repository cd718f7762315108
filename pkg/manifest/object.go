package manifest

import (
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxListDepth bounds Lists nested in Lists.
const maxListDepth = 10

// document converts one parsed document into its objects (several for a
// List) or errors. Empty documents give neither.
func (c *converter) document(doc *yaml.Node) ([]*Object, []*Error) {
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil, nil
		}
		doc = doc.Content[0]
	}
	root := resolveAlias(doc)
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, nil // empty document
	}
	if root.Kind != yaml.MappingNode {
		return nil, []*Error{{Source: c.src(root), Msg: fmt.Sprintf("expected an object (a mapping), got a %s", kindName(root))}}
	}
	v := c.value(doc, 0)
	m, _ := v.(map[string]any)
	if len(c.errs) > 0 {
		obj := describeMap(m)
		for _, e := range c.errs {
			e.Object = obj
		}
		return nil, c.errs
	}
	var objs []*Object
	var errs []*Error
	c.objects(m, c.src(root), &positions{root: root, lineOffset: c.lineOffset}, 0, &objs, &errs)
	return objs, errs
}

// describeMap names a (maybe partial) object for an error: "Deployment
// shop/web", or "" when it has no kind.
func describeMap(m map[string]any) string {
	kind, _ := m["kind"].(string)
	if kind == "" {
		return ""
	}
	md, _ := m["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	ns, _ := md["namespace"].(string)
	return describe(kind, ns, name)
}

// objects turns the document m (at src) into objects, expanding Lists.
func (c *converter) objects(m map[string]any, src Source, pos *positions, listDepth int, objs *[]*Object, errs *[]*Error) {
	o := &Object{Source: src, Object: m, pos: pos}
	var missing []string
	for _, f := range []struct {
		name string
		dst  *string
	}{{"apiVersion", &o.APIVersion}, {"kind", &o.Kind}} {
		raw, ok := m[f.name]
		if !ok || raw == nil || raw == "" {
			missing = append(missing, f.name)
			continue
		}
		s, ok := raw.(string)
		if !ok {
			*errs = append(*errs, &Error{Source: o.Position([]string{f.name}), Object: describeMap(m),
				Msg: fmt.Sprintf("%s must be a string, got %s", f.name, jsonType(raw))})
			return
		}
		*f.dst = s
	}
	if len(missing) > 0 {
		*errs = append(*errs, &Error{Source: o.Source, Object: describeMap(m),
			Msg: strings.Join(missing, " and ") + " not set"})
		return
	}
	if md, ok := m["metadata"].(map[string]any); ok {
		o.Name, _ = md["name"].(string)
		o.Namespace, _ = md["namespace"].(string)
		if ts, ok := md["creationTimestamp"]; ok && ts == nil {
			delete(md, "creationTimestamp")
		}
	}
	if items, ok := m["items"].([]any); ok && isListKind(o.Kind) {
		c.listItems(o, items, listDepth, objs, errs)
		return
	}
	delete(m, "status")
	b, err := appendJSON(make([]byte, 0, 1024), m)
	if err != nil {
		*errs = append(*errs, &Error{Source: o.Source, Object: o.String(), Msg: fmt.Sprintf("cannot encode as JSON: %v", err)})
		return
	}
	o.JSON = b
	*objs = append(*objs, o)
}

// isListKind reports whether kind is List or a typed list (ConfigMapList).
func isListKind(kind string) bool {
	return strings.HasSuffix(kind, "List")
}

// listItems expands the items of List o. Items of a typed list
// (ConfigMapList) without apiVersion and kind get the list's.
func (c *converter) listItems(list *Object, items []any, listDepth int, objs *[]*Object, errs *[]*Error) {
	if listDepth >= maxListDepth {
		*errs = append(*errs, &Error{Source: list.Source, Object: list.Kind, Msg: fmt.Sprintf("Lists nested more than %d deep", maxListDepth)})
		return
	}
	var itemsNode *yaml.Node
	if root := list.pos.node(); root != nil {
		_, itemsNode = findKey(resolveAlias(root), "items", 0)
		if itemsNode != nil {
			itemsNode = resolveAlias(itemsNode)
		}
	}
	itemKind := strings.TrimSuffix(list.Kind, "List")
	for i, it := range items {
		src, pos := list.Source, list.pos
		if itemsNode != nil && itemsNode.Kind == yaml.SequenceNode && i < len(itemsNode.Content) {
			n := itemsNode.Content[i]
			src, pos = c.src(n), &positions{root: n, lineOffset: c.lineOffset}
		}
		m, ok := it.(map[string]any)
		if !ok {
			*errs = append(*errs, &Error{Source: src, Object: list.Kind,
				Msg: fmt.Sprintf("items[%d]: expected an object, got %s", i, jsonType(it))})
			continue
		}
		if itemKind != "" {
			if _, ok := m["kind"]; !ok {
				m["kind"] = itemKind
				if _, ok := m["apiVersion"]; !ok {
					m["apiVersion"] = list.APIVersion
				}
			}
		}
		c.objects(m, src, pos, listDepth+1, objs, errs)
	}
}

// jsonType names the JSON type of a converted value.
func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case int64:
		return "integer"
	case float64:
		if x == float64(int64(x)) {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// applyClass ranks kinds for ApplyOrder.
func applyClass(kind string) int {
	switch kind {
	case "Namespace":
		return 0
	case "ServiceAccount", "ConfigMap", "Secret":
		return 1
	case "Service", "Endpoints":
		return 2
	case "Deployment", "ReplicaSet", "Pod":
		return 3
	}
	return 4
}

// ApplyOrder sorts objects for apply: Namespaces, then ServiceAccounts,
// ConfigMaps, Secrets, then Services, Endpoints, then workloads
// (Deployments, ReplicaSets, Pods), then everything else; stable within a
// class (keeps file order). It returns a new slice and leaves objs as it
// is.
func ApplyOrder(objs []*Object) []*Object {
	out := append([]*Object(nil), objs...)
	sort.SliceStable(out, func(i, j int) bool {
		return applyClass(out[i].Kind) < applyClass(out[j].Kind)
	})
	return out
}
