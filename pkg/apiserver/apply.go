package apiserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/apiserver/fieldmanager"
)

// applyResultHeader tells kl's CLI what an apply did: created, configured
// or unchanged (kubectl ignores it).
const applyResultHeader = "X-Kl-Apply-Result"

// Apply results.
const (
	applyCreated    = "created"
	applyConfigured = "configured"
	applyUnchanged  = "unchanged"
)

// serveApply is server-side apply: PATCH with application/apply-patch+yaml.
// The field manager (pkg/apiserver/fieldmanager) merges the applied
// configuration into the live object and records what the manager owns in
// metadata.managedFields; the write itself goes through the same create and
// update paths as every other write.
func (s *Server) serveApply(w http.ResponseWriter, req *http.Request, r *resource, info requestInfo, wo writeOptions) error {
	body, err := s.readBody(w, req)
	if err != nil {
		return err
	}
	obj, result, err := s.applyObject(req.Context(), r, info, body, wo, req.URL.Query())
	if err != nil {
		return err
	}
	w.Header().Set(applyResultHeader, result)
	code := http.StatusOK
	if result == applyCreated {
		code = http.StatusCreated
	}
	return writeObject(w, code, obj)
}

func (s *Server) applyObject(ctx context.Context, r *resource, info requestInfo, body []byte, wo writeOptions, q url.Values) (meta.Object, string, error) {
	if info.Subresource != "" {
		return nil, "", meta.NewBadRequest(fmt.Sprintf("server-side apply is served on the main resource only, not on %s/%s", r.gvr.Resource, info.Subresource))
	}
	if wo.fieldManager == "" {
		return nil, "", meta.NewBadRequest("PATCH with application/apply-patch+yaml requires the fieldManager query parameter")
	}
	force := q.Get("force") == "true"
	cfgJSON, err := yaml.YAMLToJSON(body)
	if err != nil {
		return nil, "", meta.NewBadRequest(fmt.Sprintf("the applied configuration is not valid YAML: %v", err))
	}
	var generic any
	dec := json.NewDecoder(bytes.NewReader(cfgJSON))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		return nil, "", meta.NewBadRequest(fmt.Sprintf("the applied configuration is not valid: %v", err))
	}
	config, ok := generic.(map[string]any)
	if !ok {
		return nil, "", meta.NewBadRequest("the applied configuration must be an object")
	}
	kind, _ := config["kind"].(string)
	apiVersion, _ := config["apiVersion"].(string)
	if kind != r.kind || apiVersion != r.apiVersion() {
		return nil, "", meta.NewBadRequest(fmt.Sprintf("the applied configuration must have apiVersion %q and kind %q (got %q, %q)", r.apiVersion(), r.kind, apiVersion, kind))
	}
	md, _ := config["metadata"].(map[string]any)
	if md == nil {
		md = map[string]any{}
		config["metadata"] = md
	}
	if n, _ := md["name"].(string); n != "" && n != info.Name {
		return nil, "", meta.NewBadRequest(fmt.Sprintf("the name of the applied configuration (%s) does not match the name on the URL (%s)", n, info.Name))
	}
	md["name"] = info.Name
	if r.namespaced {
		if ns, _ := md["namespace"].(string); ns != "" && ns != info.Namespace {
			return nil, "", meta.NewBadRequest(fmt.Sprintf("the namespace of the applied configuration (%s) does not match the namespace on the URL (%s)", ns, info.Namespace))
		}
		md["namespace"] = info.Namespace
	}
	if md["creationTimestamp"] == nil {
		delete(md, "creationTimestamp")
	}
	delete(config, "status")
	if errs := s.validator.ValidateSchema(config); len(errs) > 0 {
		return nil, "", invalid(r, info.Name, errs)
	}
	fm := &fieldmanager.Manager{ListKeys: fieldmanager.DefaultListKeys, Now: s.now}

	// Update in place when the object exists; create it when it does not
	// (and go round again if someone else created or deleted it meanwhile).
	for attempt := 0; attempt < maxUpdateAttempts; attempt++ {
		out, outcome, err := s.guaranteedUpdate(ctx, r, info.Namespace, info.Name, "apply", wo, func(cur meta.Object) (meta.Object, error) {
			live, err := toMap(cur)
			if err != nil {
				return nil, meta.NewInternalError(err)
			}
			old := cur.GetObjectMeta().ManagedFields
			merged, managed, err := fm.Apply(live, old, config, wo.fieldManager, r.apiVersion(), force)
			if err != nil {
				return nil, applyError(err)
			}
			if fieldmanager.Equal(merged, live) && reflect.DeepEqual(managed, old) {
				return nil, errNoChange // re-applying an unchanged manifest
			}
			return s.fromMap(r, merged, managed)
		})
		switch {
		case meta.IsNotFound(err):
			merged, managed, err := fm.Apply(nil, nil, config, wo.fieldManager, r.apiVersion(), force)
			if err != nil {
				return nil, "", applyError(err)
			}
			obj, err := s.fromMap(r, merged, managed)
			if err != nil {
				return nil, "", err
			}
			created, err := s.createObject(ctx, r, info.Namespace, obj, wo)
			if meta.IsAlreadyExists(err) {
				continue // created meanwhile: apply onto it
			}
			if err != nil {
				return nil, "", err
			}
			return created, applyCreated, nil
		case err != nil:
			return nil, "", err
		case outcome == unchanged:
			return out, applyUnchanged, nil
		}
		return out, applyConfigured, nil
	}
	return nil, "", meta.NewConflict(r.gvr.Group, r.gvr.Resource, info.Name, "too many concurrent writers, try again")
}

func applyError(err error) error {
	var ce *fieldmanager.ConflictError
	if errors.As(err, &ce) {
		return ce.APIError()
	}
	var ae *meta.APIError
	if errors.As(err, &ae) {
		return err
	}
	return meta.NewBadRequest(err.Error())
}

// toMap converts a typed object to the JSON-like form the field manager
// works on (numbers as json.Number).
func toMap(obj meta.Object) (map[string]any, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// fromMap turns a merged object back into r's type, with managedFields
// set, through the same schema check as any request body.
func (s *Server) fromMap(r *resource, m map[string]any, managed []meta.ManagedFieldsEntry) (meta.Object, error) {
	if err := fieldmanager.SetManagedFields(m, managed); err != nil {
		return nil, meta.NewInternalError(err)
	}
	data, err := json.Marshal(m)
	if err != nil {
		return nil, meta.NewInternalError(err)
	}
	return s.decodeJSONObject(r, data)
}

// managerName is the field manager of a write: the fieldManager parameter,
// or the client's user agent up to its first "/", as Kubernetes derives it.
func managerName(q url.Values, userAgent string) string {
	if fm := q.Get("fieldManager"); fm != "" {
		return fm
	}
	if i := strings.IndexByte(userAgent, '/'); i > 0 {
		userAgent = userAgent[:i]
	}
	if userAgent == "" {
		return "unknown"
	}
	return userAgent
}

// trackUpdate records a non-apply write in managedFields, for objects that
// carry them (objects nobody applied stay lean).
func (s *Server) trackUpdate(r *resource, next, cur meta.Object, manager string) error {
	managed := cur.GetObjectMeta().ManagedFields
	next.GetObjectMeta().ManagedFields = managed
	if len(managed) == 0 {
		return nil
	}
	oldMap, err := toMap(cur)
	if err != nil {
		return err
	}
	newMap, err := toMap(next)
	if err != nil {
		return err
	}
	fm := &fieldmanager.Manager{ListKeys: fieldmanager.DefaultListKeys, Now: s.now}
	next.GetObjectMeta().ManagedFields = fm.Update(oldMap, newMap, managed, manager, r.apiVersion())
	return nil
}
