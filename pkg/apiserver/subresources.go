package apiserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
)

// serveScale handles GET/PUT/PATCH of deployments/scale and replicasets/scale
// (an autoscaling/v1 Scale).
func (s *Server) serveScale(w http.ResponseWriter, req *http.Request, r *resource, info requestInfo, wo writeOptions) error {
	ctx := req.Context()
	toScale := func(obj meta.Object) *appsv1.Scale {
		spec, status, sel := r.scaleGet(obj)
		m := obj.GetObjectMeta()
		return &appsv1.Scale{
			TypeMeta: meta.TypeMeta{Kind: "Scale", APIVersion: "autoscaling/v1"},
			ObjectMeta: meta.ObjectMeta{
				Name: m.Name, Namespace: m.Namespace, UID: m.UID,
				ResourceVersion: m.ResourceVersion, CreationTimestamp: m.CreationTimestamp,
			},
			Spec:   appsv1.ScaleSpec{Replicas: spec},
			Status: appsv1.ScaleStatus{Replicas: status, Selector: sel},
		}
	}
	switch info.Verb {
	case "get":
		obj, _, err := s.getObject(ctx, r, info.Namespace, info.Name)
		if err != nil {
			return err
		}
		return writeObject(w, http.StatusOK, toScale(obj))
	case "update", "patch":
		body, err := s.readBody(w, req)
		if err != nil {
			return err
		}
		out, _, err := s.guaranteedUpdate(ctx, r, info.Namespace, info.Name, "", wo, func(cur meta.Object) (meta.Object, error) {
			sc := toScale(cur)
			var want appsv1.Scale
			if info.Verb == "update" {
				if err := decodeStrict(body, &want); err != nil {
					return nil, err
				}
			} else {
				patched, err := s.patchScale(req, sc, body)
				if err != nil {
					return nil, err
				}
				want = *patched
			}
			if want.ResourceVersion != "" && want.ResourceVersion != sc.ResourceVersion {
				return nil, meta.NewConflict(r.gvr.Group, r.gvr.Resource, info.Name, errModified)
			}
			if want.Spec.Replicas < 0 {
				return nil, meta.NewInvalid("autoscaling", "Scale", info.Name, []meta.StatusCause{{Type: "FieldValueInvalid", Field: "spec.replicas", Message: fmt.Sprintf("Invalid value: %d: must be greater than or equal to 0", want.Spec.Replicas)}})
			}
			r.scaleSet(cur, want.Spec.Replicas)
			return cur, nil
		})
		if err != nil {
			return err
		}
		return writeObject(w, http.StatusOK, toScale(out))
	}
	return meta.NewMethodNotAllowed(fmt.Sprintf("%s/scale supports get, update and patch", r.gvr.Resource))
}

// patchScale applies a merge, JSON or strategic patch to a Scale.
func (s *Server) patchScale(req *http.Request, sc *appsv1.Scale, body []byte) (*appsv1.Scale, error) {
	cur, err := json.Marshal(sc)
	if err != nil {
		return nil, meta.NewInternalError(err)
	}
	patched, err := applyPatchBytes(req.Header.Get("Content-Type"), cur, body)
	if err != nil {
		return nil, err
	}
	var out appsv1.Scale
	if err := decodeStrict(patched, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// decodeStrict decodes JSON refusing unknown fields.
func decodeStrict(data []byte, into any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return meta.NewBadRequest(fmt.Sprintf("decoding the request body: %v", err))
	}
	return nil
}

// serveBinding binds a pod to a node (what the scheduler does).
func (s *Server) serveBinding(w http.ResponseWriter, req *http.Request, r *resource, info requestInfo, wo writeOptions) error {
	body, err := s.readBody(w, req)
	if err != nil {
		return err
	}
	var b corev1.Binding
	if err := decodeStrict(body, &b); err != nil {
		return err
	}
	if b.Target.Name == "" {
		return meta.NewInvalid("", "Binding", info.Name, []meta.StatusCause{{Type: "FieldValueRequired", Field: "target.name", Message: "Required value"}})
	}
	if b.Target.Kind != "" && b.Target.Kind != "Node" {
		return meta.NewInvalid("", "Binding", info.Name, []meta.StatusCause{{Type: "FieldValueNotSupported", Field: "target.kind", Message: fmt.Sprintf("Unsupported value: %q: supported values: \"Node\"", b.Target.Kind)}})
	}
	_, _, err = s.guaranteedUpdate(req.Context(), r, info.Namespace, info.Name, "binding", wo, func(cur meta.Object) (meta.Object, error) {
		pod := cur.(*corev1.Pod)
		if b.UID != "" && b.UID != pod.UID {
			return nil, meta.NewConflict("", "pods", info.Name, fmt.Sprintf("Precondition failed: UID in precondition: %s, UID in object meta: %s", b.UID, pod.UID))
		}
		if pod.DeletionTimestamp != nil {
			return nil, meta.NewConflict("", "pods", info.Name, "pod is being deleted, cannot be assigned to a host")
		}
		if pod.Spec.NodeName != "" {
			return nil, meta.NewConflict("", "pods", info.Name, fmt.Sprintf("pod %s is already assigned to node %q", info.Name, pod.Spec.NodeName))
		}
		pod.Spec.NodeName = b.Target.Name
		corev1.UpdatePodCondition(&pod.Status, &corev1.PodCondition{
			Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: meta.NewTime(s.now()),
		})
		return pod, nil
	})
	if err != nil {
		return err
	}
	return writeObject(w, http.StatusCreated, meta.Status{
		TypeMeta: meta.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   meta.StatusSuccess, Code: http.StatusCreated,
	})
}

// bootstrap creates the cluster's own objects (manifests/) on first start.
func (s *Server) bootstrap(ctx context.Context) error {
	objs, err := bootstrapObjects()
	if err != nil {
		return err
	}
	for _, raw := range objs {
		var tm meta.TypeMeta
		if err := json.Unmarshal(raw, &tm); err != nil {
			return err
		}
		group, version := meta.SplitAPIVersion(tm.APIVersion)
		var r *resource
		for _, x := range s.resources.all {
			if x.gvr.Group == group && x.gvr.Version == version && x.kind == tm.Kind {
				r = x
			}
		}
		if r == nil {
			return fmt.Errorf("bootstrap object of unknown kind %s %s", tm.APIVersion, tm.Kind)
		}
		obj, err := s.decodeJSONObject(r, raw)
		if err != nil {
			return fmt.Errorf("bootstrap %s: %w", tm.Kind, err)
		}
		m := obj.GetObjectMeta()
		if _, _, err := s.getObject(ctx, r, m.Namespace, m.Name); err == nil {
			continue
		}
		if _, err := s.createObject(ctx, r, m.Namespace, obj, writeOptions{}); err != nil && !meta.IsAlreadyExists(err) {
			return fmt.Errorf("bootstrap %s %s: %w", tm.Kind, m.Name, err)
		}
		s.log.Info("created", "kind", tm.Kind, "name", m.Name)
	}
	return nil
}

func notFoundPath(p string) error {
	return meta.NewStatusError(http.StatusNotFound, meta.StatusReasonNotFound, fmt.Sprintf("the server could not find the requested resource (path %s)", p))
}

func meta500(p any) error {
	return meta.NewInternalError(fmt.Errorf("the server panicked handling the request: %v", p))
}
