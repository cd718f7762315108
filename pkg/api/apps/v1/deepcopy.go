package v1

import (
	"slices"

	"github.com/kl-dev/kl/pkg/api/meta"
)

// Hand-written deep copies; controllers copy cached objects before mutating
// them, so these avoid reflection and JSON.

func ptrCopy[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// DeepCopy returns an independent copy of the deployment.
func (in *Deployment) DeepCopy() *Deployment {
	if in == nil {
		return nil
	}
	out := new(Deployment)
	in.DeepCopyInto(out)
	return out
}

// DeepCopyInto copies the deployment into out.
func (in *Deployment) DeepCopyInto(out *Deployment) {
	out.TypeMeta = in.TypeMeta
	out.ObjectMeta = meta.DeepCopyObjectMeta(&in.ObjectMeta)
	out.Spec = in.Spec
	out.Spec.Replicas = ptrCopy(in.Spec.Replicas)
	out.Spec.Selector = meta.DeepCopyLabelSelector(in.Spec.Selector)
	in.Spec.Template.DeepCopyInto(&out.Spec.Template)
	if ru := in.Spec.Strategy.RollingUpdate; ru != nil {
		out.Spec.Strategy.RollingUpdate = &RollingUpdateDeployment{
			MaxUnavailable: ptrCopy(ru.MaxUnavailable),
			MaxSurge:       ptrCopy(ru.MaxSurge),
		}
	}
	out.Spec.RevisionHistoryLimit = ptrCopy(in.Spec.RevisionHistoryLimit)
	out.Spec.ProgressDeadlineSeconds = ptrCopy(in.Spec.ProgressDeadlineSeconds)
	out.Status = in.Status
	out.Status.Conditions = slices.Clone(in.Status.Conditions)
	out.Status.CollisionCount = ptrCopy(in.Status.CollisionCount)
}

// DeepCopy returns an independent copy of the list.
func (in *DeploymentList) DeepCopy() *DeploymentList {
	if in == nil {
		return nil
	}
	out := &DeploymentList{TypeMeta: in.TypeMeta, ListMeta: meta.DeepCopyListMeta(&in.ListMeta)}
	if in.Items != nil {
		out.Items = make([]Deployment, len(in.Items))
		for i := range in.Items {
			in.Items[i].DeepCopyInto(&out.Items[i])
		}
	}
	return out
}

// DeepCopy returns an independent copy of the replica set.
func (in *ReplicaSet) DeepCopy() *ReplicaSet {
	if in == nil {
		return nil
	}
	out := new(ReplicaSet)
	in.DeepCopyInto(out)
	return out
}

// DeepCopyInto copies the replica set into out.
func (in *ReplicaSet) DeepCopyInto(out *ReplicaSet) {
	out.TypeMeta = in.TypeMeta
	out.ObjectMeta = meta.DeepCopyObjectMeta(&in.ObjectMeta)
	out.Spec = in.Spec
	out.Spec.Replicas = ptrCopy(in.Spec.Replicas)
	out.Spec.Selector = meta.DeepCopyLabelSelector(in.Spec.Selector)
	in.Spec.Template.DeepCopyInto(&out.Spec.Template)
	out.Status = in.Status
	out.Status.Conditions = slices.Clone(in.Status.Conditions)
}

// DeepCopy returns an independent copy of the list.
func (in *ReplicaSetList) DeepCopy() *ReplicaSetList {
	if in == nil {
		return nil
	}
	out := &ReplicaSetList{TypeMeta: in.TypeMeta, ListMeta: meta.DeepCopyListMeta(&in.ListMeta)}
	if in.Items != nil {
		out.Items = make([]ReplicaSet, len(in.Items))
		for i := range in.Items {
			in.Items[i].DeepCopyInto(&out.Items[i])
		}
	}
	return out
}

// DeepCopy returns an independent copy of the scale.
func (in *Scale) DeepCopy() *Scale {
	if in == nil {
		return nil
	}
	return &Scale{
		TypeMeta:   in.TypeMeta,
		ObjectMeta: meta.DeepCopyObjectMeta(&in.ObjectMeta),
		Spec:       in.Spec,
		Status:     in.Status,
	}
}
