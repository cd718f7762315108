package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	jsonpatch "github.com/evanphx/json-patch/v5"

	"github.com/kl-dev/kl/pkg/api/meta"
)

// Patch media types, as Kubernetes names them.
const (
	mediaJSONPatch      = "application/json-patch+json"
	mediaMergePatch     = "application/merge-patch+json"
	mediaStrategicPatch = "application/strategic-merge-patch+json"
	mediaApplyPatch     = "application/apply-patch+yaml"
)

// patchObject applies a patch to the stored object (or its status) with
// read-modify-write; a resourceVersion in the patch is a precondition.
func (s *Server) patchObject(ctx context.Context, r *resource, info requestInfo, contentType string, body []byte, wo writeOptions) (meta.Object, error) {
	apply, err := patcher(contentType, body)
	if err != nil {
		return nil, err
	}
	out, _, err := s.guaranteedUpdate(ctx, r, info.Namespace, info.Name, info.Subresource, wo, func(cur meta.Object) (meta.Object, error) {
		curJSON, err := json.Marshal(cur)
		if err != nil {
			return nil, meta.NewInternalError(err)
		}
		patched, err := apply(curJSON)
		if err != nil {
			return nil, err
		}
		obj, err := s.decodeJSONObject(r, patched)
		if err != nil {
			return nil, err
		}
		if rv := obj.GetObjectMeta().ResourceVersion; rv != "" && rv != cur.GetObjectMeta().ResourceVersion {
			return nil, meta.NewConflict(r.gvr.Group, r.gvr.Resource, info.Name, errModified)
		}
		return obj, nil
	})
	return out, err
}

func mediaTypeOf(contentType string) string {
	return strings.TrimSpace(strings.Split(contentType, ";")[0])
}

// applyPatchBytes applies a patch of the given media type to a JSON document.
func applyPatchBytes(contentType string, doc, body []byte) ([]byte, error) {
	apply, err := patcher(contentType, body)
	if err != nil {
		return nil, err
	}
	return apply(doc)
}

// patcher parses a patch body and returns the function applying it to a
// JSON document.
func patcher(contentType string, body []byte) (func(cur []byte) ([]byte, error), error) {
	switch mt := mediaTypeOf(contentType); mt {
	case mediaJSONPatch:
		p, err := jsonpatch.DecodePatch(body)
		if err != nil {
			return nil, meta.NewBadRequest(fmt.Sprintf("invalid JSON patch: %v", err))
		}
		return func(cur []byte) ([]byte, error) {
			out, err := p.Apply(cur)
			if err != nil {
				return nil, meta.NewStatusError(http.StatusUnprocessableEntity, meta.StatusReasonInvalid, fmt.Sprintf("the JSON patch cannot be applied: %v", err))
			}
			return out, nil
		}, nil
	case mediaMergePatch:
		if !json.Valid(body) {
			return nil, meta.NewBadRequest("invalid merge patch: the body is not valid JSON")
		}
		return func(cur []byte) ([]byte, error) {
			out, err := jsonpatch.MergePatch(cur, body)
			if err != nil {
				return nil, meta.NewBadRequest(fmt.Sprintf("invalid merge patch: %v", err))
			}
			return out, nil
		}, nil
	case mediaStrategicPatch:
		var patch map[string]any
		if err := json.Unmarshal(body, &patch); err != nil {
			return nil, meta.NewBadRequest(fmt.Sprintf("invalid strategic merge patch: %v", err))
		}
		return func(cur []byte) ([]byte, error) {
			var doc map[string]any
			if err := json.Unmarshal(cur, &doc); err != nil {
				return nil, meta.NewInternalError(err)
			}
			return json.Marshal(strategicMerge(doc, patch, ""))
		}, nil
	default:
		return nil, meta.NewStatusError(http.StatusUnsupportedMediaType, meta.StatusReasonUnsupportedMediaType,
			fmt.Sprintf("the body of the request was in an unknown format - accepted media types include: %s, %s, %s, %s (got %q)",
				mediaJSONPatch, mediaMergePatch, mediaStrategicPatch, mediaApplyPatch, mt))
	}
}

// mergeKeys names the key of each list of named items, by field name; the
// strategic merge patch and server-side apply merge these lists item by item.
var mergeKeys = map[string]string{
	"containers":        "name",
	"initContainers":    "name",
	"env":               "name",
	"volumes":           "name",
	"volumeMounts":      "mountPath",
	"imagePullSecrets":  "name",
	"conditions":        "type",
	"ownerReferences":   "uid",
	"containerStatuses": "name",
	"addresses":         "ip",
	"ports":             "", // containerPort or port, see portKey
}

// listKey returns the merge key for a list field and an item, "" when the
// list is atomic (replaced as a whole).
func listKey(field string, item map[string]any) string {
	k, ok := mergeKeys[field]
	if !ok {
		return ""
	}
	if field == "ports" {
		if _, ok := item["containerPort"]; ok {
			return "containerPort"
		}
		return "port"
	}
	return k
}

// strategicMerge applies a strategic merge patch: maps merge recursively,
// null deletes, lists of named items merge by key ($patch: delete removes an
// item), other lists are replaced. Directives kl does not need
// ($setElementOrder, $retainKeys) are ignored.
func strategicMerge(doc, patch map[string]any, _ string) map[string]any {
	if doc == nil {
		doc = map[string]any{}
	}
	if p, ok := patch["$patch"]; ok && p == "replace" {
		out := map[string]any{}
		for k, v := range patch {
			if k != "$patch" {
				out[k] = v
			}
		}
		return out
	}
	for k, pv := range patch {
		if strings.HasPrefix(k, "$") {
			continue
		}
		if strings.HasPrefix(k, "$setElementOrder/") || strings.HasPrefix(k, "$deleteFromPrimitiveList/") {
			continue
		}
		switch pv := pv.(type) {
		case nil:
			delete(doc, k)
		case map[string]any:
			cur, _ := doc[k].(map[string]any)
			doc[k] = strategicMerge(cur, pv, k)
		case []any:
			cur, _ := doc[k].([]any)
			doc[k] = mergeList(k, cur, pv)
		default:
			doc[k] = pv
		}
	}
	return doc
}

func mergeList(field string, cur, patch []any) []any {
	if len(patch) == 0 {
		return patch
	}
	first, ok := patch[0].(map[string]any)
	if !ok {
		return patch
	}
	key := listKey(field, first)
	if key == "" {
		return patch
	}
	out := append([]any(nil), cur...)
	for _, pi := range patch {
		pm, ok := pi.(map[string]any)
		if !ok {
			continue
		}
		kv := fmt.Sprint(pm[key])
		idx := -1
		for i, ci := range out {
			if cm, ok := ci.(map[string]any); ok && fmt.Sprint(cm[key]) == kv {
				idx = i
				break
			}
		}
		if pm["$patch"] == "delete" {
			if idx >= 0 {
				out = append(out[:idx], out[idx+1:]...)
			}
			continue
		}
		if idx >= 0 {
			cm, _ := out[idx].(map[string]any)
			out[idx] = strategicMerge(cm, pm, field)
		} else {
			out = append(out, strategicMerge(nil, pm, field))
		}
	}
	return out
}
