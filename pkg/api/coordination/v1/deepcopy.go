package v1

import (
	"slices"

	"github.com/kl-dev/kl/pkg/api/meta"
)

func ptrCopy[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// DeepCopy returns an independent copy of the lease.
func (in *Lease) DeepCopy() *Lease {
	if in == nil {
		return nil
	}
	out := new(Lease)
	in.DeepCopyInto(out)
	return out
}

// DeepCopyInto copies the lease into out.
func (in *Lease) DeepCopyInto(out *Lease) {
	out.TypeMeta = in.TypeMeta
	out.ObjectMeta = copyObjectMeta(&in.ObjectMeta)
	out.Spec = LeaseSpec{
		HolderIdentity:       ptrCopy(in.Spec.HolderIdentity),
		LeaseDurationSeconds: ptrCopy(in.Spec.LeaseDurationSeconds),
		AcquireTime:          ptrCopy(in.Spec.AcquireTime),
		RenewTime:            ptrCopy(in.Spec.RenewTime),
		LeaseTransitions:     ptrCopy(in.Spec.LeaseTransitions),
	}
}

// DeepCopy returns an independent copy of the list.
func (in *LeaseList) DeepCopy() *LeaseList {
	if in == nil {
		return nil
	}
	out := &LeaseList{TypeMeta: in.TypeMeta, ListMeta: in.ListMeta}
	out.RemainingItemCount = ptrCopy(in.RemainingItemCount)
	if in.Items != nil {
		out.Items = make([]Lease, len(in.Items))
		for i := range in.Items {
			in.Items[i].DeepCopyInto(&out.Items[i])
		}
	}
	return out
}

// copyObjectMeta deep-copies object metadata. (Kept local so that this
// package does not import core/v1; it mirrors corev1.DeepCopyObjectMeta.)
func copyObjectMeta(m *meta.ObjectMeta) meta.ObjectMeta {
	out := *m
	out.DeletionTimestamp = ptrCopy(m.DeletionTimestamp)
	out.DeletionGracePeriodSeconds = ptrCopy(m.DeletionGracePeriodSeconds)
	if m.Labels != nil {
		out.Labels = make(map[string]string, len(m.Labels))
		for k, v := range m.Labels {
			out.Labels[k] = v
		}
	}
	if m.Annotations != nil {
		out.Annotations = make(map[string]string, len(m.Annotations))
		for k, v := range m.Annotations {
			out.Annotations[k] = v
		}
	}
	if m.OwnerReferences != nil {
		out.OwnerReferences = make([]meta.OwnerReference, len(m.OwnerReferences))
		for i, r := range m.OwnerReferences {
			r.Controller = ptrCopy(r.Controller)
			r.BlockOwnerDeletion = ptrCopy(r.BlockOwnerDeletion)
			out.OwnerReferences[i] = r
		}
	}
	out.Finalizers = slices.Clone(m.Finalizers)
	if m.ManagedFields != nil {
		out.ManagedFields = make([]meta.ManagedFieldsEntry, len(m.ManagedFields))
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
