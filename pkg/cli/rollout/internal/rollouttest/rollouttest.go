// Package rollouttest helps the tests of kl rollout and kl scale: an
// in-process apiserver and builders of the objects a deployment controller
// would write.
package rollouttest

import (
	"strconv"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
)

// Namespace is where the builders put objects.
const Namespace = "default"

// Clients returns the Client and Namespace functions commands' Options
// take, for c and Namespace.
func Clients(c *client.Client) (func() (*client.Client, error), func() (string, bool, error)) {
	return func() (*client.Client, error) { return c, nil },
		func() (string, bool, error) { return Namespace, false, nil }
}

// Template returns the pod template of app "web" running image.
func Template(image string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: meta.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: image}}},
	}
}

// Deployment returns Deployment "web" of replicas pods running image.
func Deployment(replicas int32, image string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: meta.ObjectMeta{Name: "web", Namespace: Namespace},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &meta.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: Template(image),
		},
	}
}

// ReplicaSet returns the ReplicaSet "web-HASH" of revision rev of d, as
// the deployment controller makes it: d's template plus the
// pod-template-hash label, owned by d. Set Spec.Template to give it
// another template than d's current one.
func ReplicaSet(d *appsv1.Deployment, hash string, rev int64, replicas int32) *appsv1.ReplicaSet {
	tmpl := *d.Spec.Template.DeepCopy()
	tmpl.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = hash
	labels := map[string]string{"app": "web", appsv1.DefaultDeploymentUniqueLabelKey: hash}
	return &appsv1.ReplicaSet{
		ObjectMeta: meta.ObjectMeta{
			Name: "web-" + hash, Namespace: d.Namespace, UID: "rs-" + hash,
			Labels:      labels,
			Annotations: map[string]string{appsv1.RevisionAnnotation: strconv.FormatInt(rev, 10)},
			OwnerReferences: []meta.OwnerReference{{
				APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name, UID: d.UID, Controller: meta.Boolp(true),
			}},
		},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: &replicas,
			Selector: &meta.LabelSelector{MatchLabels: labels},
			Template: tmpl,
		},
		Status: appsv1.ReplicaSetStatus{Replicas: replicas},
	}
}

// Pod returns pod NAME of rs (its labels, owned by it).
func Pod(rs *appsv1.ReplicaSet, name string) *corev1.Pod {
	labels := map[string]string{}
	for k, v := range rs.Spec.Template.Labels {
		labels[k] = v
	}
	return &corev1.Pod{
		ObjectMeta: meta.ObjectMeta{
			Name: name, Namespace: rs.Namespace, Labels: labels,
			OwnerReferences: []meta.OwnerReference{{
				APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: meta.Boolp(true),
			}},
		},
		Spec: rs.Spec.Template.Spec,
	}
}

// Waiting returns pod p with its container waiting for reason after
// restarts restarts.
func Waiting(p *corev1.Pod, reason, message string, restarts int32) *corev1.Pod {
	p.Status.Phase = corev1.PodPending
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{
		Name: p.Spec.Containers[0].Name, RestartCount: restarts,
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: message}},
	}}
	return p
}

// Unschedulable returns pod p with PodScheduled=False, reason
// Unschedulable and message.
func Unschedulable(p *corev1.Pod, message string) *corev1.Pod {
	p.Status.Phase = corev1.PodPending
	p.Status.Conditions = []corev1.PodCondition{{
		Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: message,
	}}
	return p
}
