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
// through ReplicaSets: each revision of the template gets its own ReplicaSet,
// scaled up as the older ones are scaled down.
type Deployment struct {
	meta.TypeMeta `json:",inline"`
	// Metadata is the standard object metadata: name, namespace, labels,
	// annotations, owner references and the fields the server maintains.
	meta.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired state of the deployment.
	Spec DeploymentSpec `json:"spec,omitempty"`
	// Status is the most recently observed state of the deployment,
	// written by the deployment controller. Read-only.
	Status DeploymentStatus `json:"status,omitempty"`
}

// DeploymentList is a list of deployments.
type DeploymentList struct {
	meta.TypeMeta `json:",inline"`
	// ListMeta is the standard list metadata: the resourceVersion the
	// list was read at and, for a paginated list, the continue token.
	meta.ListMeta `json:"metadata,omitempty"`
	// Items are the deployments.
	Items []Deployment `json:"items"`
}

// DeploymentSpec is the desired state of a deployment.
type DeploymentSpec struct {
	// Replicas is the number of desired pods. Defaults to 1.
	Replicas *int32 `json:"replicas,omitempty"`
	// Selector is the label selector of the deployment's pods; it must
	// match the template's labels. Cannot be changed once set.
	Selector *meta.LabelSelector `json:"selector"`
	// Template describes the pods to create. Its restartPolicy must be
	// Always (the default). Changing it starts a rollout of a new
	// revision.
	Template corev1.PodTemplateSpec `json:"template"`
	// Strategy says how old pods are replaced by new ones. Defaults to
	// RollingUpdate with 25% maxUnavailable and 25% maxSurge.
	Strategy DeploymentStrategy `json:"strategy,omitempty"`
	// MinReadySeconds is how long a new pod must be ready, without any of
	// its containers crashing, to count as available. Defaults to 0
	// (available as soon as it is ready).
	MinReadySeconds int32 `json:"minReadySeconds,omitempty"`
	// RevisionHistoryLimit is the number of old ReplicaSets, scaled to
	// zero, kept so that earlier revisions can be rolled back to.
	// Defaults to 10.
	RevisionHistoryLimit *int32 `json:"revisionHistoryLimit,omitempty"`
	// Paused, if true, stops the rollout of template changes until the
	// deployment is resumed; scaling still applies. Defaults to false.
	Paused bool `json:"paused,omitempty"`
	// ProgressDeadlineSeconds is how long a rollout may make no progress
	// before the Progressing condition turns False with reason
	// ProgressDeadlineExceeded; the rollout itself goes on. Must be
	// greater than minReadySeconds. Defaults to 600.
	ProgressDeadlineSeconds *int32 `json:"progressDeadlineSeconds,omitempty"`
}

// DeploymentStrategy says how a deployment replaces old pods.
type DeploymentStrategy struct {
	// Type of the strategy: RollingUpdate (replace pods gradually) or
	// Recreate (delete all old pods before creating new ones). Defaults
	// to RollingUpdate.
	Type DeploymentStrategyType `json:"type,omitempty"`
	// RollingUpdate holds the bounds of a rolling update; only for type
	// RollingUpdate.
	RollingUpdate *RollingUpdateDeployment `json:"rollingUpdate,omitempty"`
}

// DeploymentStrategyType is Recreate or RollingUpdate.
type DeploymentStrategyType string

// Deployment strategy types.
const (
	RecreateDeploymentStrategyType      DeploymentStrategyType = "Recreate"
	RollingUpdateDeploymentStrategyType DeploymentStrategyType = "RollingUpdate"
)

// RollingUpdateDeployment bounds a rolling update: how far the number of pods
// may go below (maxUnavailable) and above (maxSurge) the desired replicas, as
// absolute numbers or percentages of the desired replicas.
type RollingUpdateDeployment struct {
	// MaxUnavailable is the most pods that may be unavailable during the
	// update, counted below the desired replicas: a number or a
	// percentage of the desired replicas (rounded down). May not be 0
	// when maxSurge is 0. Defaults to 25%.
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty"`
	// MaxSurge is the most pods that may be created above the desired
	// replicas during the update: a number or a percentage of the desired
	// replicas (rounded up). May not be 0 when maxUnavailable is 0.
	// Defaults to 25%.
	MaxSurge *intstr.IntOrString `json:"maxSurge,omitempty"`
}

// DeploymentStatus is the observed state of a deployment.
type DeploymentStatus struct {
	// ObservedGeneration is the metadata.generation the deployment
	// controller last acted on; while it is lower than generation, the
	// status is stale.
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Replicas is the number of non-terminated pods the deployment
	// targets (whose labels match its selector).
	Replicas int32 `json:"replicas,omitempty"`
	// UpdatedReplicas is the number of non-terminated pods that run the
	// current template.
	UpdatedReplicas int32 `json:"updatedReplicas,omitempty"`
	// ReadyReplicas is the number of the deployment's pods that are
	// Ready.
	ReadyReplicas int32 `json:"readyReplicas,omitempty"`
	// AvailableReplicas is the number of the deployment's pods that have
	// been ready for at least minReadySeconds.
	AvailableReplicas int32 `json:"availableReplicas,omitempty"`
	// UnavailableReplicas is the number of pods still missing for the
	// deployment to be fully available: the desired replicas minus the
	// available ones.
	UnavailableReplicas int32 `json:"unavailableReplicas,omitempty"`
	// Conditions are the latest observations of the deployment's state:
	// Available, Progressing and ReplicaFailure.
	Conditions []DeploymentCondition `json:"conditions,omitempty"`
	// CollisionCount counts hash collisions of the template; the
	// deployment controller mixes it into the pod-template-hash when the
	// name of a new ReplicaSet is taken.
	CollisionCount *int32 `json:"collisionCount,omitempty"`
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
	// Type of the condition: Available, Progressing or ReplicaFailure.
	Type DeploymentConditionType `json:"type"`
	// Status of the condition: True, False or Unknown.
	Status corev1.ConditionStatus `json:"status"`
	// LastUpdateTime is the last time the condition was updated.
	LastUpdateTime meta.Time `json:"lastUpdateTime,omitempty"`
	// LastTransitionTime is the last time the condition changed from one
	// status to another.
	LastTransitionTime meta.Time `json:"lastTransitionTime,omitempty"`
	// Reason is a one-word CamelCase reason for the condition's last
	// transition, for example NewReplicaSetAvailable or
	// ProgressDeadlineExceeded.
	Reason string `json:"reason,omitempty"`
	// Message is a human-readable explanation of the last transition.
	Message string `json:"message,omitempty"`
}

// ---------------------------------------------------------------------------
// ReplicaSet

// ReplicaSet keeps a number of identical pods, made from its template,
// running: it creates pods when fewer match its selector and deletes some
// when more do. Deployments manage ReplicaSets; they are rarely created
// directly.
type ReplicaSet struct {
	meta.TypeMeta `json:",inline"`
	// Metadata is the standard object metadata: name, namespace, labels,
	// annotations, owner references and the fields the server maintains.
	meta.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired state of the replica set.
	Spec ReplicaSetSpec `json:"spec,omitempty"`
	// Status is the most recently observed state of the replica set,
	// written by the replicaset controller. Read-only.
	Status ReplicaSetStatus `json:"status,omitempty"`
}

// ReplicaSetList is a list of replica sets.
type ReplicaSetList struct {
	meta.TypeMeta `json:",inline"`
	// ListMeta is the standard list metadata: the resourceVersion the
	// list was read at and, for a paginated list, the continue token.
	meta.ListMeta `json:"metadata,omitempty"`
	// Items are the replica sets.
	Items []ReplicaSet `json:"items"`
}

// ReplicaSetSpec is the desired state of a replica set.
type ReplicaSetSpec struct {
	// Replicas is the number of desired pods. Defaults to 1.
	Replicas *int32 `json:"replicas,omitempty"`
	// MinReadySeconds is how long a new pod must be ready, without any of
	// its containers crashing, to count as available. Defaults to 0
	// (available as soon as it is ready).
	MinReadySeconds int32 `json:"minReadySeconds,omitempty"`
	// Selector is the label selector of the pods the replica set counts;
	// it must match the template's labels. Matching pods that no
	// controller owns are adopted. Cannot be changed once set.
	Selector *meta.LabelSelector `json:"selector"`
	// Template describes the pods created when too few exist. Its
	// restartPolicy must be Always (the default). Changing it does not
	// affect existing pods.
	Template corev1.PodTemplateSpec `json:"template,omitempty"`
}

// ReplicaSetStatus is the observed state of a replica set.
type ReplicaSetStatus struct {
	// Replicas is the most recently observed number of pods the replica
	// set owns.
	Replicas int32 `json:"replicas"`
	// FullyLabeledReplicas is the number of pods whose labels match all
	// the template's labels, not just the selector.
	FullyLabeledReplicas int32 `json:"fullyLabeledReplicas,omitempty"`
	// ReadyReplicas is the number of the replica set's pods that are
	// Ready.
	ReadyReplicas int32 `json:"readyReplicas,omitempty"`
	// AvailableReplicas is the number of the replica set's pods that have
	// been ready for at least minReadySeconds.
	AvailableReplicas int32 `json:"availableReplicas,omitempty"`
	// ObservedGeneration is the metadata.generation the replicaset
	// controller last acted on.
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions are the latest observations of the replica set's state:
	// ReplicaFailure when pods could not be created or deleted.
	Conditions []ReplicaSetCondition `json:"conditions,omitempty"`
}

// ReplicaSetConditionType names a replica set condition.
type ReplicaSetConditionType string

// ReplicaSetReplicaFailure is set when pods cannot be created or deleted.
const ReplicaSetReplicaFailure ReplicaSetConditionType = "ReplicaFailure"

// ReplicaSetCondition is one observation about a replica set.
type ReplicaSetCondition struct {
	// Type of the condition: ReplicaFailure.
	Type ReplicaSetConditionType `json:"type"`
	// Status of the condition: True, False or Unknown.
	Status corev1.ConditionStatus `json:"status"`
	// LastTransitionTime is the last time the condition changed from one
	// status to another.
	LastTransitionTime meta.Time `json:"lastTransitionTime,omitempty"`
	// Reason is a one-word CamelCase reason for the condition's last
	// transition, for example FailedCreate.
	Reason string `json:"reason,omitempty"`
	// Message is a human-readable explanation of the last transition.
	Message string `json:"message,omitempty"`
}

// ---------------------------------------------------------------------------
// Scale (autoscaling/v1)

// Scale is the scale subresource of a Deployment or ReplicaSet, in its
// autoscaling/v1 shape.
type Scale struct {
	meta.TypeMeta `json:",inline"`
	// Metadata of the scaled object: its name, namespace, uid and
	// resourceVersion.
	meta.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired number of replicas.
	Spec ScaleSpec `json:"spec,omitempty"`
	// Status is the current number of replicas and the selector of the
	// pods. Read-only.
	Status ScaleStatus `json:"status,omitempty"`
}

// ScaleSpec is the desired replica count.
type ScaleSpec struct {
	// Replicas is the desired number of replicas of the scaled object.
	Replicas int32 `json:"replicas,omitempty"`
}

// ScaleStatus is the observed replica count and the pods' label selector in
// string form ("app=web,tier in (a,b)").
type ScaleStatus struct {
	// Replicas is the number of pods the scaled object observed.
	Replicas int32 `json:"replicas"`
	// Selector is the label selector of the pods, in string form (for
	// example "app=web,tier in (a,b)").
	Selector string `json:"selector,omitempty"`
}
