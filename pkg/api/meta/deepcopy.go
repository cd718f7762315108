package meta

import (
	"maps"
	"slices"
)

func ptrCopy[T any](p *T) *T {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

// DeepCopyObjectMeta returns an independent copy of m.
func DeepCopyObjectMeta(m *ObjectMeta) ObjectMeta {
	out := *m
	out.DeletionTimestamp = ptrCopy(m.DeletionTimestamp)
	out.DeletionGracePeriodSeconds = ptrCopy(m.DeletionGracePeriodSeconds)
	out.Labels = maps.Clone(m.Labels)
	out.Annotations = maps.Clone(m.Annotations)
	if m.OwnerReferences != nil {
		out.OwnerReferences = make([]OwnerReference, len(m.OwnerReferences))
		for i, r := range m.OwnerReferences {
			r.Controller = ptrCopy(r.Controller)
			r.BlockOwnerDeletion = ptrCopy(r.BlockOwnerDeletion)
			out.OwnerReferences[i] = r
		}
	}
	out.Finalizers = slices.Clone(m.Finalizers)
	if m.ManagedFields != nil {
		out.ManagedFields = make([]ManagedFieldsEntry, len(m.ManagedFields))
		for i, e := range m.ManagedFields {
			e.Time = ptrCopy(e.Time)
			if e.FieldsV1 != nil {
				f := slices.Clone(*e.FieldsV1)
				e.FieldsV1 = &f
			}
			out.ManagedFields[i] = e
		}
	}
	return out
}

// DeepCopyListMeta returns an independent copy of m.
func DeepCopyListMeta(m *ListMeta) ListMeta {
	out := *m
	out.RemainingItemCount = ptrCopy(m.RemainingItemCount)
	return out
}

// DeepCopyLabelSelector returns an independent copy of s (nil stays nil).
func DeepCopyLabelSelector(s *LabelSelector) *LabelSelector {
	if s == nil {
		return nil
	}
	out := &LabelSelector{MatchLabels: maps.Clone(s.MatchLabels)}
	if s.MatchExpressions != nil {
		out.MatchExpressions = make([]LabelSelectorRequirement, len(s.MatchExpressions))
		for i, r := range s.MatchExpressions {
			r.Values = slices.Clone(r.Values)
			out.MatchExpressions[i] = r
		}
	}
	return out
}
