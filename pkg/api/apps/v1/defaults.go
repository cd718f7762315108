package v1

import (
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/intstr"
)

// Defaults Kubernetes applies to apps/v1 objects.
const (
	DefaultReplicas                = 1
	DefaultRevisionHistoryLimit    = 10
	DefaultProgressDeadlineSeconds = 600
	// DefaultMaxUnavailable and DefaultMaxSurge bound a rolling update.
	DefaultMaxUnavailable = "25%"
	DefaultMaxSurge       = "25%"
)

// SetDefaultsDeployment applies Kubernetes' Deployment defaults: replicas
// 1, a RollingUpdate strategy with 25% maxUnavailable and maxSurge (filled
// in when the type is RollingUpdate), revisionHistoryLimit 10,
// progressDeadlineSeconds 600, and the pod template defaults.
func SetDefaultsDeployment(d *Deployment) {
	if d.Spec.Replicas == nil {
		d.Spec.Replicas = int32p(DefaultReplicas)
	}
	st := &d.Spec.Strategy
	if st.Type == "" {
		st.Type = RollingUpdateDeploymentStrategyType
	}
	if st.Type == RollingUpdateDeploymentStrategyType {
		if st.RollingUpdate == nil {
			st.RollingUpdate = &RollingUpdateDeployment{}
		}
		if st.RollingUpdate.MaxUnavailable == nil {
			v := intstr.FromString(DefaultMaxUnavailable)
			st.RollingUpdate.MaxUnavailable = &v
		}
		if st.RollingUpdate.MaxSurge == nil {
			v := intstr.FromString(DefaultMaxSurge)
			st.RollingUpdate.MaxSurge = &v
		}
	}
	if d.Spec.RevisionHistoryLimit == nil {
		d.Spec.RevisionHistoryLimit = int32p(DefaultRevisionHistoryLimit)
	}
	if d.Spec.ProgressDeadlineSeconds == nil {
		d.Spec.ProgressDeadlineSeconds = int32p(DefaultProgressDeadlineSeconds)
	}
	corev1.SetDefaultsPodTemplateSpec(&d.Spec.Template)
}

// SetDefaultsReplicaSet applies Kubernetes' ReplicaSet defaults: replicas 1
// and the pod template defaults.
func SetDefaultsReplicaSet(rs *ReplicaSet) {
	if rs.Spec.Replicas == nil {
		rs.Spec.Replicas = int32p(DefaultReplicas)
	}
	corev1.SetDefaultsPodTemplateSpec(&rs.Spec.Template)
}

func int32p(v int32) *int32 { return &v }
