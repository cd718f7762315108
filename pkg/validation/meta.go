package validation

import (
	"fmt"
	"sort"
	"strings"

	"github.com/kl-dev/kl/pkg/api/meta"
)

// validateObjectMeta checks metadata as Kubernetes' ValidateObjectMeta
// does. namespaced says whether the kind lives in a namespace; an empty
// namespace is accepted for namespaced kinds (the client or server fills in
// the default).
func validateObjectMeta(m *meta.ObjectMeta, namespaced bool, nameFn nameFunc, p *FieldPath) ErrorList {
	var errs ErrorList
	if m.GenerateName != "" {
		for _, msg := range nameFn(m.GenerateName, true) {
			errs = append(errs, Invalid(p.Child("generateName"), m.GenerateName, msg))
		}
	}
	if m.Name == "" {
		if m.GenerateName == "" {
			errs = append(errs, Required(p.Child("name"), "name or generateName is required"))
		}
	} else {
		for _, msg := range nameFn(m.Name, false) {
			errs = append(errs, Invalid(p.Child("name"), m.Name, msg))
		}
	}
	if namespaced {
		if m.Namespace != "" {
			for _, msg := range isDNS1123Label(m.Namespace) {
				errs = append(errs, Invalid(p.Child("namespace"), m.Namespace, msg))
			}
		}
	} else if m.Namespace != "" {
		errs = append(errs, Forbidden(p.Child("namespace"), "not allowed on this type"))
	}
	if m.Generation < 0 {
		errs = append(errs, Invalid(p.Child("generation"), m.Generation, "must be greater than or equal to 0"))
	}
	errs = append(errs, validateLabels(m.Labels, p.Child("labels"))...)
	errs = append(errs, validateAnnotations(m.Annotations, p.Child("annotations"))...)
	errs = append(errs, validateOwnerReferences(m.OwnerReferences, p.Child("ownerReferences"))...)
	for i, f := range m.Finalizers {
		for _, msg := range isQualifiedName(f) {
			errs = append(errs, Invalid(p.Child("finalizers").Index(i), f, msg))
		}
	}
	return errs
}

// validateTemplateMeta checks the metadata of a pod template: labels and
// annotations only (templates have no name).
func validateTemplateMeta(m *meta.ObjectMeta, p *FieldPath) ErrorList {
	var errs ErrorList
	errs = append(errs, validateLabels(m.Labels, p.Child("labels"))...)
	errs = append(errs, validateAnnotations(m.Annotations, p.Child("annotations"))...)
	return errs
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// validateLabels checks label keys (qualified names) and values. As in
// Kubernetes, errors name the labels field and carry the bad key or value.
func validateLabels(labels map[string]string, p *FieldPath) ErrorList {
	var errs ErrorList
	for _, k := range sortedKeys(labels) {
		for _, msg := range isQualifiedName(k) {
			errs = append(errs, Invalid(p, k, msg))
		}
		for _, msg := range isLabelValue(labels[k]) {
			errs = append(errs, Invalid(p, labels[k], msg))
		}
	}
	return errs
}

func validateAnnotations(annotations map[string]string, p *FieldPath) ErrorList {
	var errs ErrorList
	total := 0
	for _, k := range sortedKeys(annotations) {
		for _, msg := range isQualifiedName(strings.ToLower(k)) {
			errs = append(errs, Invalid(p, k, msg))
		}
		total += len(k) + len(annotations[k])
	}
	if total > totalAnnotationSizeLimit {
		errs = append(errs, TooLong(p, totalAnnotationSizeLimit))
	}
	return errs
}

func validateOwnerReferences(refs []meta.OwnerReference, p *FieldPath) ErrorList {
	var errs ErrorList
	var controllers []string
	for i, r := range refs {
		rp := p.Index(i)
		if r.APIVersion == "" {
			errs = append(errs, Invalid(rp.Child("apiVersion"), r.APIVersion, "version must not be empty"))
		}
		if r.Kind == "" {
			errs = append(errs, Invalid(rp.Child("kind"), r.Kind, "kind must not be empty"))
		}
		if r.Name == "" {
			errs = append(errs, Invalid(rp.Child("name"), r.Name, "name must not be empty"))
		}
		if r.UID == "" {
			errs = append(errs, Invalid(rp.Child("uid"), r.UID, "uid must not be empty"))
		}
		if r.Controller != nil && *r.Controller {
			controllers = append(controllers, r.Kind+"/"+r.Name)
		}
	}
	if len(controllers) > 1 {
		errs = append(errs, Invalid(p, nil, fmt.Sprintf("Only one reference can have Controller set to true. Found \"true\" in references for %s", strings.Join(controllers, " and "))))
	}
	return errs
}

// validateLabelSelector checks a structured selector's syntax.
func validateLabelSelector(s *meta.LabelSelector, p *FieldPath) ErrorList {
	if s == nil {
		return nil
	}
	var errs ErrorList
	errs = append(errs, validateLabels(s.MatchLabels, p.Child("matchLabels"))...)
	for i, r := range s.MatchExpressions {
		rp := p.Child("matchExpressions").Index(i)
		switch r.Operator {
		case meta.OpIn, meta.OpNotIn:
			if len(r.Values) == 0 {
				errs = append(errs, Required(rp.Child("values"), "must be specified when `operator` is 'In' or 'NotIn'"))
			}
		case meta.OpExists, meta.OpDoesNotExist:
			if len(r.Values) > 0 {
				errs = append(errs, Forbidden(rp.Child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
			}
		default:
			errs = append(errs, NotSupported(rp.Child("operator"), r.Operator, []string{meta.OpIn, meta.OpNotIn, meta.OpExists, meta.OpDoesNotExist}))
		}
		for _, msg := range isQualifiedName(r.Key) {
			errs = append(errs, Invalid(rp.Child("key"), r.Key, msg))
		}
		for j, v := range r.Values {
			for _, msg := range isLabelValue(v) {
				errs = append(errs, Invalid(rp.Child("values").Index(j), v, msg))
			}
		}
	}
	return errs
}

// at returns the path of field name below p (p itself for ""). The checks
// below take a parent and a name so that the path is only built for an
// error: most objects are valid, and paths are allocations.
func at(p *FieldPath, name string) *FieldPath {
	if name == "" {
		return p
	}
	return p.Child(name)
}

// nonNegative reports a negative value of field name below p.
func nonNegative[T int32 | int64](v T, p *FieldPath, name string) ErrorList {
	if v < 0 {
		return ErrorList{Invalid(at(p, name), v, "must be greater than or equal to 0")}
	}
	return nil
}

func nonNegativePtr[T int32 | int64](v *T, p *FieldPath, name string) ErrorList {
	if v == nil {
		return nil
	}
	return nonNegative(*v, p, name)
}
