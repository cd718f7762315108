package validation

import (
	"strconv"
	"strings"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/intstr"
	"github.com/kl-dev/kl/pkg/api/meta"
)

var strategyTypes = []string{string(appsv1.RecreateDeploymentStrategyType), string(appsv1.RollingUpdateDeploymentStrategyType)}

func validateDeployment(d *appsv1.Deployment) ErrorList {
	errs := validateObjectMeta(&d.ObjectMeta, true, nameIsDNSSubdomain, NewFieldPath("metadata"))
	sp := NewFieldPath("spec")
	errs = append(errs, nonNegativePtr(d.Spec.Replicas, sp, "replicas")...)
	errs = append(errs, validateWorkloadSelector(d.Spec.Selector, &d.Spec.Template, "deployment", sp)...)
	errs = append(errs, nonNegative(d.Spec.MinReadySeconds, sp, "minReadySeconds")...)
	errs = append(errs, nonNegativePtr(d.Spec.RevisionHistoryLimit, sp, "revisionHistoryLimit")...)
	if pd := d.Spec.ProgressDeadlineSeconds; pd != nil {
		pp := sp.Child("progressDeadlineSeconds")
		if *pd < 0 {
			errs = append(errs, Invalid(pp, *pd, "must be greater than or equal to 0"))
		} else if *pd <= d.Spec.MinReadySeconds {
			errs = append(errs, Invalid(pp, *pd, "must be greater than minReadySeconds"))
		}
	}
	errs = append(errs, validateStrategy(&d.Spec.Strategy, sp.Child("strategy"))...)
	return errs
}

func validateReplicaSet(rs *appsv1.ReplicaSet) ErrorList {
	errs := validateObjectMeta(&rs.ObjectMeta, true, nameIsDNSSubdomain, NewFieldPath("metadata"))
	sp := NewFieldPath("spec")
	errs = append(errs, nonNegativePtr(rs.Spec.Replicas, sp, "replicas")...)
	errs = append(errs, nonNegative(rs.Spec.MinReadySeconds, sp, "minReadySeconds")...)
	errs = append(errs, validateWorkloadSelector(rs.Spec.Selector, &rs.Spec.Template, "replicaset", sp)...)
	return errs
}

func validateScale(s *appsv1.Scale) ErrorList {
	errs := validateObjectMeta(&s.ObjectMeta, true, nameIsDNSSubdomain, NewFieldPath("metadata"))
	return append(errs, nonNegative(s.Spec.Replicas, NewFieldPath("spec"), "replicas")...)
}

// validateWorkloadSelector checks that a workload's selector is set, not
// empty, well formed, and selects its own pod template; then checks the
// template.
func validateWorkloadSelector(sel *meta.LabelSelector, tmpl *corev1.PodTemplateSpec, what string, sp *FieldPath) ErrorList {
	var errs ErrorList
	selPath := sp.Child("selector")
	switch {
	case sel == nil:
		errs = append(errs, Required(selPath, ""))
	case len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0:
		errs = append(errs, Invalid(selPath, sel, "empty selector is invalid for "+what))
	default:
		selErrs := validateLabelSelector(sel, selPath)
		errs = append(errs, selErrs...)
		if len(selErrs) == 0 {
			s, err := meta.LabelSelectorAsSelector(sel)
			if err != nil {
				errs = append(errs, Invalid(selPath, sel, err.Error()))
			} else if !s.Matches(tmpl.Labels) {
				errs = append(errs, Invalid(sp.Child("template", "metadata", "labels"), tmpl.Labels, "`selector` does not match template `labels`"))
			}
		}
	}
	return append(errs, validatePodTemplate(tmpl, sp.Child("template"))...)
}

func validateStrategy(s *appsv1.DeploymentStrategy, p *FieldPath) ErrorList {
	var errs ErrorList
	errs = append(errs, enum(string(s.Type), strategyTypes, true, p, "type")...)
	ru := s.RollingUpdate
	if ru == nil {
		return errs
	}
	rp := p.Child("rollingUpdate")
	if s.Type == appsv1.RecreateDeploymentStrategyType {
		return append(errs, Forbidden(rp, "may not be specified when strategy `type` is 'Recreate'"))
	}
	errs = append(errs, validateIntOrPercent(ru.MaxUnavailable, rp.Child("maxUnavailable"), true)...)
	errs = append(errs, validateIntOrPercent(ru.MaxSurge, rp.Child("maxSurge"), false)...)
	if isZero(ru.MaxUnavailable) && isZero(ru.MaxSurge) {
		errs = append(errs, Invalid(rp.Child("maxUnavailable"), formatIntOrString(*ru.MaxUnavailable), "may not be 0 when `maxSurge` is 0"))
	}
	return errs
}

// validateIntOrPercent checks a non-negative count or a percentage ("25%"),
// at most 100% when capped.
func validateIntOrPercent(v *intstr.IntOrString, p *FieldPath, capped bool) ErrorList {
	if v == nil {
		return nil
	}
	if v.Type == intstr.Int {
		return nonNegative(v.IntVal, p, "")
	}
	if !percentRe.MatchString(v.StrVal) {
		return ErrorList{Invalid(p, v.StrVal, "must be an integer or percentage (e.g '5%')")}
	}
	n, err := strconv.Atoi(strings.TrimSuffix(v.StrVal, "%"))
	if err != nil {
		return ErrorList{Invalid(p, v.StrVal, "must be an integer or percentage (e.g '5%')")}
	}
	if capped && n > 100 {
		return ErrorList{Invalid(p, v.StrVal, "must not be greater than 100%")}
	}
	return nil
}

// isZero reports whether a set IntOrString is 0 or "0%".
func isZero(v *intstr.IntOrString) bool {
	if v == nil {
		return false
	}
	if v.Type == intstr.Int {
		return v.IntVal == 0
	}
	n, err := strconv.Atoi(strings.TrimSuffix(v.StrVal, "%"))
	return err == nil && strings.HasSuffix(v.StrVal, "%") && n == 0
}

func formatIntOrString(v intstr.IntOrString) any {
	if v.Type == intstr.String {
		return v.StrVal
	}
	return v.IntVal
}
