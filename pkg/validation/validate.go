// Package validation checks kl objects in two layers, shared by the CLI
// (`kl validate`, `kl apply`) and the apiserver:
//
//   - ValidateSchema checks a decoded manifest against the JSON Schema of its
//     kind (package schemas, generated from the Go types): types, unknown
//     fields (with a "did you mean"), enums, required fields, unsupported
//     volume sources.
//   - ValidateObject and ValidateUpdate check typed objects for what a schema
//     cannot say: name syntax, label syntax, selectors matching templates,
//     unique names, port ranges, immutable fields... with Kubernetes'
//     messages.
//
// Validator.Validate runs both on a decoded manifest (schema first; the
// semantic layer only on what the schema accepted) and returns the typed
// object; ValidateAll does that for many manifests on every core. A
// Validator is built once (NewValidator compiles every embedded schema) and
// is safe for concurrent use.
//
// Every problem is a FieldError with a JSON field path
// ("spec.template.spec.containers[0].image"), a Kubernetes-style message,
// and the raw path segments for mapping to a source line.
package validation

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"runtime"
	"sync"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	coordinationv1 "github.com/kl-dev/kl/pkg/api/coordination/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
)

// ValidateObject checks a new object of any kind kl serves; it returns nil
// when the object is valid. Objects of other Go types get one error.
func ValidateObject(obj meta.Object) ErrorList {
	var errs ErrorList
	switch o := obj.(type) {
	case *corev1.Pod:
		errs = validatePod(o)
	case *corev1.Service:
		errs = validateService(o)
	case *corev1.Endpoints:
		errs = validateEndpoints(o)
	case *corev1.ConfigMap:
		errs = validateConfigMap(o)
	case *corev1.Secret:
		errs = validateSecret(o)
	case *corev1.Namespace:
		errs = validateNamespace(o)
	case *corev1.Node:
		errs = validateNode(o)
	case *corev1.ServiceAccount:
		errs = validateServiceAccount(o)
	case *corev1.Event:
		errs = validateEvent(o)
	case *corev1.Binding:
		errs = validateBinding(o)
	case *appsv1.Deployment:
		errs = validateDeployment(o)
	case *appsv1.ReplicaSet:
		errs = validateReplicaSet(o)
	case *appsv1.Scale:
		errs = validateScale(o)
	case *coordinationv1.Lease:
		errs = validateLease(o)
	default:
		av, k := apiVersionKind(obj)
		return ErrorList{Unsupported(NewFieldPath("kind"), fmt.Sprintf("no validation for %T (apiVersion %q, kind %q)", obj, av, k))}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// ValidateUpdate checks newObj as ValidateObject does, plus the rules of an
// update from oldObj: metadata.name, namespace and uid, Deployment and
// ReplicaSet selectors, a Service's cluster IPs (unless its type changes to
// or from ExternalName), a Pod's spec (except images, activeDeadlineSeconds
// and added tolerations), and the data of immutable ConfigMaps and Secrets
// are immutable. A new clusterIP left empty is accepted: the server carries
// the allocated one over before storing.
func ValidateUpdate(newObj, oldObj meta.Object) ErrorList {
	if reflect.TypeOf(newObj) != reflect.TypeOf(oldObj) {
		return ErrorList{Invalid(NewFieldPath("kind"), newObj.GetTypeMeta().Kind,
			fmt.Sprintf("cannot update a %T with a %T", oldObj, newObj))}
	}
	errs := ValidateObject(newObj)
	errs = append(errs, validateMetaUpdate(newObj.GetObjectMeta(), oldObj.GetObjectMeta(), NewFieldPath("metadata"))...)
	switch n := newObj.(type) {
	case *appsv1.Deployment:
		errs = append(errs, immutableSelector(n.Spec.Selector, oldObj.(*appsv1.Deployment).Spec.Selector)...)
	case *appsv1.ReplicaSet:
		errs = append(errs, immutableSelector(n.Spec.Selector, oldObj.(*appsv1.ReplicaSet).Spec.Selector)...)
	case *corev1.Service:
		errs = append(errs, validateServiceUpdate(n, oldObj.(*corev1.Service))...)
	case *corev1.Pod:
		errs = append(errs, validatePodUpdate(n, oldObj.(*corev1.Pod))...)
	case *corev1.ConfigMap:
		o := oldObj.(*corev1.ConfigMap)
		errs = append(errs, validateImmutableData(n.Immutable, o.Immutable,
			equalStringMaps(n.Data, o.Data) && equalBytesMaps(n.BinaryData, o.BinaryData))...)
	case *corev1.Secret:
		o := oldObj.(*corev1.Secret)
		if n.Type != o.Type {
			errs = append(errs, Invalid(NewFieldPath("type"), string(n.Type), "field is immutable"))
		}
		errs = append(errs, validateImmutableData(n.Immutable, o.Immutable,
			equalBytesMaps(n.Data, o.Data) && len(n.StringData) == 0)...)
	case *corev1.Node:
		o := oldObj.(*corev1.Node)
		if o.Spec.PodCIDR != "" && n.Spec.PodCIDR != o.Spec.PodCIDR {
			errs = append(errs, Forbidden(NewFieldPath("spec", "podCIDR"), `node updates may not change podCIDR except from "" to valid`))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

func validateMetaUpdate(n, o *meta.ObjectMeta, p *FieldPath) ErrorList {
	var errs ErrorList
	if n.Name != o.Name {
		errs = append(errs, Invalid(p.Child("name"), n.Name, "field is immutable"))
	}
	if n.Namespace != o.Namespace {
		errs = append(errs, Invalid(p.Child("namespace"), n.Namespace, "field is immutable"))
	}
	if o.UID != "" && n.UID != o.UID {
		errs = append(errs, Invalid(p.Child("uid"), n.UID, "field is immutable"))
	}
	return errs
}

func immutableSelector(n, o *meta.LabelSelector) ErrorList {
	if sameJSON(n, o) {
		return nil
	}
	return ErrorList{Invalid(NewFieldPath("spec", "selector"), n, "field is immutable")}
}

func validateServiceUpdate(n, o *corev1.Service) ErrorList {
	if n.Spec.Type == corev1.ServiceTypeExternalName || o.Spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	var errs ErrorList
	sp := NewFieldPath("spec")
	if o.Spec.ClusterIP != "" && n.Spec.ClusterIP != "" && n.Spec.ClusterIP != o.Spec.ClusterIP {
		errs = append(errs, Invalid(sp.Child("clusterIP"), n.Spec.ClusterIP, "field is immutable"))
	}
	for i := range n.Spec.ClusterIPs {
		if i < len(o.Spec.ClusterIPs) && n.Spec.ClusterIPs[i] != o.Spec.ClusterIPs[i] {
			errs = append(errs, Invalid(sp.Child("clusterIPs").Index(i), n.Spec.ClusterIPs[i], "may not change once set"))
		}
	}
	return errs
}

// podUpdateForbidden is Kubernetes' message for a forbidden pod spec change.
const podUpdateForbidden = "pod updates may not change fields other than `spec.containers[*].image`, " +
	"`spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, " +
	"`spec.tolerations` (only additions to existing tolerations)"

func validatePodUpdate(n, o *corev1.Pod) ErrorList {
	var errs ErrorList
	sp := NewFieldPath("spec")
	if od := o.Spec.ActiveDeadlineSeconds; od != nil {
		nd := n.Spec.ActiveDeadlineSeconds
		switch {
		case nd == nil:
			errs = append(errs, Invalid(sp.Child("activeDeadlineSeconds"), nil, "must not update from a positive integer to nil value"))
		case *nd > *od:
			errs = append(errs, Invalid(sp.Child("activeDeadlineSeconds"), *nd, "must be less than or equal to previous value"))
		}
	}
	// Compare the new spec with the parts that may change taken from the
	// old one.
	mutated := n.Spec
	mutated.ActiveDeadlineSeconds = o.Spec.ActiveDeadlineSeconds
	mutated.Containers = withImages(n.Spec.Containers, o.Spec.Containers)
	mutated.InitContainers = withImages(n.Spec.InitContainers, o.Spec.InitContainers)
	if tolerationsAdded(n.Spec.Tolerations, o.Spec.Tolerations) {
		mutated.Tolerations = o.Spec.Tolerations
	}
	if !sameJSON(&mutated, &o.Spec) {
		errs = append(errs, Forbidden(sp, podUpdateForbidden))
	}
	return errs
}

// withImages returns a copy of cs with the images of old (when the lists
// have the same length).
func withImages(cs, old []corev1.Container) []corev1.Container {
	if len(cs) != len(old) {
		return cs
	}
	out := make([]corev1.Container, len(cs))
	copy(out, cs)
	for i := range out {
		out[i].Image = old[i].Image
	}
	return out
}

// tolerationsAdded reports whether n holds every toleration of o.
func tolerationsAdded(n, o []corev1.Toleration) bool {
	for i := range o {
		found := false
		for j := range n {
			if sameJSON(&n[j], &o[i]) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func validateImmutableData(n, o *bool, sameData bool) ErrorList {
	if o == nil || !*o {
		return nil
	}
	var errs ErrorList
	if n == nil || !*n {
		errs = append(errs, Forbidden(NewFieldPath("immutable"), "field is immutable when `immutable` is set"))
	}
	if !sameData {
		errs = append(errs, Forbidden(NewFieldPath("data"), "field is immutable when `immutable` is set"))
	}
	return errs
}

func equalStringMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func equalBytesMaps(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !bytes.Equal(w, v) {
			return false
		}
	}
	return true
}

// sameJSON compares two values by their JSON encoding, which is how
// Kubernetes' semantic equality treats them: nil and empty lists alike,
// quantities by canonical value.
func sameJSON(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}

// NewObject returns an empty typed object for an apiVersion and kind, or
// nil when kl does not serve that kind.
func NewObject(apiVersion, kind string) meta.Object {
	var obj meta.Object
	switch apiVersion + "/" + kind {
	case "v1/Pod":
		obj = &corev1.Pod{}
	case "v1/Service":
		obj = &corev1.Service{}
	case "v1/Endpoints":
		obj = &corev1.Endpoints{}
	case "v1/ConfigMap":
		obj = &corev1.ConfigMap{}
	case "v1/Secret":
		obj = &corev1.Secret{}
	case "v1/Namespace":
		obj = &corev1.Namespace{}
	case "v1/Node":
		obj = &corev1.Node{}
	case "v1/ServiceAccount":
		obj = &corev1.ServiceAccount{}
	case "v1/Event":
		obj = &corev1.Event{}
	case "v1/Binding":
		obj = &corev1.Binding{}
	case "apps/v1/Deployment":
		obj = &appsv1.Deployment{}
	case "apps/v1/ReplicaSet":
		obj = &appsv1.ReplicaSet{}
	case "autoscaling/v1/Scale":
		obj = &appsv1.Scale{}
	case "coordination.k8s.io/v1/Lease":
		obj = &coordinationv1.Lease{}
	default:
		return nil
	}
	tm := obj.GetTypeMeta()
	tm.APIVersion, tm.Kind = apiVersion, kind
	return obj
}

// Validate runs both layers on a decoded manifest: the schema first; when
// it passes, the manifest is decoded into its Go type and checked by
// ValidateObject. It returns the typed object when decoding succeeded.
func (v *Validator) Validate(obj map[string]any) (meta.Object, ErrorList) {
	if errs := v.ValidateSchema(obj); len(errs) > 0 {
		return nil, errs
	}
	av, _ := obj["apiVersion"].(string)
	k, _ := obj["kind"].(string)
	typed := NewObject(av, k)
	if typed == nil {
		return nil, ErrorList{Unsupported(NewFieldPath("kind"), fmt.Sprintf("kind %q of apiVersion %q has a schema but no Go type", k, av))}
	}
	if err := v.dec.decode(reflect.ValueOf(typed).Elem(), obj); err != nil {
		return nil, ErrorList{Invalid(nil, nil, fmt.Sprintf("cannot decode object: %v", err))}
	}
	return typed, ValidateObject(typed)
}

// Result is the outcome of validating one manifest with ValidateAll.
type Result struct {
	// Object is the typed object, when the manifest decoded.
	Object meta.Object
	// Errors is nil when the manifest is valid.
	Errors ErrorList
}

// ValidateAll validates many manifests with Validate, spread over workers
// goroutines (GOMAXPROCS when workers < 1). Results are in input order.
func (v *Validator) ValidateAll(objs []map[string]any, workers int) []Result {
	if workers < 1 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, len(objs))
	out := make([]Result, len(objs))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Worker w takes every workers-th manifest: no shared counter.
			for i := w; i < len(objs); i += workers {
				out[i].Object, out[i].Errors = v.Validate(objs[i])
			}
		}()
	}
	wg.Wait()
	return out
}

// Decode fills into (a pointer to the object's Go type) from a decoded
// JSON object, as encoding/json would from its text but without encoding
// it again. Callers validate the schema first.
func (v *Validator) Decode(obj map[string]any, into meta.Object) error {
	return v.dec.decode(reflect.ValueOf(into).Elem(), obj)
}
