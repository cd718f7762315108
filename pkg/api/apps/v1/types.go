// Package v1 holds the apps/v1 kinds kl supports, Deployment and
// ReplicaSet, and the autoscaling/v1 Scale their scale subresource speaks.
// Field names, JSON tags and omitempty are those of k8s.io/api/apps/v1 and
// k8s.io/api/autoscaling/v1. Importers conventionally alias the package as
// appsv1.
//
// Files: types.go, defaults.go (Kubernetes' defaulting), helpers.go,
// deepcopy.go.
package v1

import (
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/intstr"
	"github.com/kl-dev/kl/pkg/api/meta"
)

// GroupName is the API group of Deployment and ReplicaSet.
const GroupName = "apps"

// Version is the API version of this package.
const Version = "v1"

// SchemeGroupVersion is the apiVersion string of Deployment and ReplicaSet.
const SchemeGroupVersion = "apps/v1"

// ScaleGroupName and ScaleSchemeGroupVersion are the group and apiVersion
// of Scale, which Kubernetes serves from autoscaling/v1.
const (
	ScaleGroupName          = "autoscaling"
	ScaleSchemeGroupVersion = "autoscaling/v1"
)

// Well-known labels and annotations of workload controllers.
const (
	// DefaultDeploymentUniqueLabelKey is the label a Deployment adds to its
	// ReplicaSets' selectors and pods to tell template revisions apart.
	DefaultDeploymentUniqueLabelKey = "pod-template-hash"
	// RevisionAnnotation is the revision of a Deployment (and of the
	// ReplicaSet holding that revision's template).
	RevisionAnnotation = "deployment.kubernetes.io/revision"
	// RevisionHistoryAnnotation lists the earlier revisions a ReplicaSet
	// held.
	RevisionHistoryAnnotation = "deployment.kubernetes.io/revision-history"
	// DesiredReplicasAnnotation is the Deployment's replicas when the
	// ReplicaSet was last scaled.
	DesiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas"
	// MaxReplicasAnnotation is replicas + maxSurge when the ReplicaSet was
	// last scaled.
	MaxReplicasAnnotation = "deployment.kubernetes.io/max-replicas"
	// ChangeCauseAnnotation records why a revision was made.
	ChangeCauseAnnotation = "kubernetes.io/change-cause"
)

// ---------------------------------------------------------------------------
// Deployment

// Deployment declares a replicated pod template and rolls out changes to it
// through ReplicaSets.
type Deployment struct {
	meta.TypeMeta   `json:",inline"`
	meta.ObjectMeta `json:"metadata,omitempty"`

	Spec   DeploymentSpec   `json:"spec,omitempty"`
	Status DeploymentStatus `json:"status,omitempty"`
}

// DeploymentList is a list of deployments.
type DeploymentList struct {
	meta.TypeMeta `json:",inline"`
	meta.ListMeta `json:"metadata,omitempty"`
	Items         []Deployment `json:"items"`
}

// DeploymentSpec is the desired state of a deployment.
type DeploymentSpec struct {
	// Replicas defaults to 1.
	Replicas *int32                 `json:"replicas,omitempty"`
	Selector *meta.LabelSelector    `json:"selector"`
	Template corev1.PodTemplateSpec `json:"template"`
	// Strategy defaults to RollingUpdate with 25% maxUnavailable and
	// maxSurge.
	Strategy        DeploymentStrategy `json:"strategy,omitempty"`
	MinReadySeconds int32              `json:"minReadySeconds,omitempty"`
	// RevisionHistoryLimit is how many old ReplicaSets to keep (default 10).
	RevisionHistoryLimit *int32 `json:"revisionHistoryLimit,omitempty"`
	Paused               bool   `json:"paused,omitempty"`
	// ProgressDeadlineSeconds is how long a rollout may make no progress
	// before Progressing turns False (default 600).
	ProgressDeadlineSeconds *int32 `json:"progressDeadlineSeconds,omitempty"`
}

// DeploymentStrategy says how a deployment replaces old pods.
type DeploymentStrategy struct {
	Type          DeploymentStrategyType   `json:"type,omitempty"`
	RollingUpdate *RollingUpdateDeployment `json:"rollingUpdate,omitempty"`
}

// DeploymentStrategyType is Recreate or RollingUpdate.
type DeploymentStrategyType string

// Deployment strategy types.
const (
	RecreateDeploymentStrategyType      DeploymentStrategyType = "Recreate"
	RollingUpdateDeploymentStrategyType DeploymentStrategyType = "RollingUpdate"
)

// RollingUpdateDeployment bounds a rolling update: absolute numbers or
// percentages of the desired replicas.
type RollingUpdateDeployment struct {
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty"`
	MaxSurge       *intstr.IntOrString `json:"maxSurge,omitempty"`
}

// DeploymentStatus is the observed state of a deployment.
type DeploymentStatus struct {
	ObservedGeneration  int64                 `json:"observedGeneration,omitempty"`
	Replicas            int32                 `json:"replicas,omitempty"`
	UpdatedReplicas     int32                 `json:"updatedReplicas,omitempty"`
	ReadyReplicas       int32                 `json:"readyReplicas,omitempty"`
	AvailableReplicas   int32                 `json:"availableReplicas,omitempty"`
	UnavailableReplicas int32                 `json:"unavailableReplicas,omitempty"`
	Conditions          []DeploymentCondition `json:"conditions,omitempty"`
	CollisionCount      *int32                `json:"collisionCount,omitempty"`
}

// DeploymentConditionType names a deployment condition.
type DeploymentConditionType string

// Deployment condition types.
const (
	DeploymentAvailable      DeploymentConditionType = "Available"
	DeploymentProgressing    DeploymentConditionType = "Progressing"
	DeploymentReplicaFailure DeploymentConditionType = "ReplicaFailure"
)

// DeploymentCondition is one observation about a deployment.
type DeploymentCondition struct {
	Type               DeploymentConditionType `json:"type"`
	Status             corev1.ConditionStatus  `json:"status"`
	LastUpdateTime     meta.Time               `json:"lastUpdateTime,omitempty"`
	LastTransitionTime meta.Time               `json:"lastTransitionTime,omitempty"`
	Reason             string                  `json:"reason,omitempty"`
	Message            string                  `json:"message,omitempty"`
}

// ---------------------------------------------------------------------------
// ReplicaSet

// ReplicaSet keeps a number of identical pods running.
type ReplicaSet struct {
	meta.TypeMeta   `json:",inline"`
	meta.ObjectMeta `json:"metadata,omitempty"`

	Spec   ReplicaSetSpec   `json:"spec,omitempty"`
	Status ReplicaSetStatus `json:"status,omitempty"`
}

// ReplicaSetList is a list of replica sets.
type ReplicaSetList struct {
	meta.TypeMeta `json:",inline"`
	meta.ListMeta `json:"metadata,omitempty"`
	Items         []ReplicaSet `json:"items"`
}

// ReplicaSetSpec is the desired state of a replica set.
type ReplicaSetSpec struct {
	// Replicas defaults to 1.
	Replicas        *int32                 `json:"replicas,omitempty"`
	MinReadySeconds int32                  `json:"minReadySeconds,omitempty"`
	Selector        *meta.LabelSelector    `json:"selector"`
	Template        corev1.PodTemplateSpec `json:"template,omitempty"`
}

// ReplicaSetStatus is the observed state of a replica set.
type ReplicaSetStatus struct {
	Replicas             int32                 `json:"replicas"`
	FullyLabeledReplicas int32                 `json:"fullyLabeledReplicas,omitempty"`
	ReadyReplicas        int32                 `json:"readyReplicas,omitempty"`
	AvailableReplicas    int32                 `json:"availableReplicas,omitempty"`
	ObservedGeneration   int64                 `json:"observedGeneration,omitempty"`
	Conditions           []ReplicaSetCondition `json:"conditions,omitempty"`
}

// ReplicaSetConditionType names a replica set condition.
type ReplicaSetConditionType string

// ReplicaSetReplicaFailure is set when pods cannot be created or deleted.
const ReplicaSetReplicaFailure ReplicaSetConditionType = "ReplicaFailure"

// ReplicaSetCondition is one observation about a replica set.
type ReplicaSetCondition struct {
	Type               ReplicaSetConditionType `json:"type"`
	Status             corev1.ConditionStatus  `json:"status"`
	LastTransitionTime meta.Time               `json:"lastTransitionTime,omitempty"`
	Reason             string                  `json:"reason,omitempty"`
	Message            string                  `json:"message,omitempty"`
}

// ---------------------------------------------------------------------------
// Scale (autoscaling/v1)

// Scale is the scale subresource of a Deployment or ReplicaSet, in its
// autoscaling/v1 shape.
type Scale struct {
	meta.TypeMeta   `json:",inline"`
	meta.ObjectMeta `json:"metadata,omitempty"`

	Spec   ScaleSpec   `json:"spec,omitempty"`
	Status ScaleStatus `json:"status,omitempty"`
}

// ScaleSpec is the desired replica count.
type ScaleSpec struct {
	Replicas int32 `json:"replicas,omitempty"`
}

// ScaleStatus is the observed replica count and the pods' label selector in
// string form ("app=web,tier in (a,b)").
type ScaleStatus struct {
	Replicas int32  `json:"replicas"`
	Selector string `json:"selector,omitempty"`
}
