package v1

import (
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
	out.ObjectMeta = meta.DeepCopyObjectMeta(&in.ObjectMeta)
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
