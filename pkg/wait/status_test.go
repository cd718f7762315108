package wait

import (
	"testing"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
)

func int32p(i int32) *int32 { return &i }

func TestDeploymentStatusNeedsACompleteRollout(t *testing.T) {
	dep := func(gen int64, replicas int32, st appsv1.DeploymentStatus) *appsv1.Deployment {
		d := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Replicas: int32p(replicas)}, Status: st}
		d.Generation = gen
		return d
	}
	for _, tt := range []struct {
		name  string
		d     *appsv1.Deployment
		ready bool
		text  string
	}{
		{"no status yet", dep(1, 3, appsv1.DeploymentStatus{}), false, "0/3 available, waiting for the controller to see the new spec"},
		{"rolled out", dep(2, 3, appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 3, AvailableReplicas: 3}), true, "3/3 available"},
		{"stale observation", dep(3, 3, appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 3, AvailableReplicas: 3}), false, "3/3 available, waiting for the controller to see the new spec"},
		{"rolling", dep(2, 3, appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 4, UpdatedReplicas: 1, ReadyReplicas: 3, AvailableReplicas: 2}), false, "2/3 available (1/3 updated, 3 old pending termination)"},
		{"old pods left", dep(2, 2, appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 3, UpdatedReplicas: 2, ReadyReplicas: 3, AvailableReplicas: 3}), false, "3/2 available (1 old pending termination)"},
		{"ready not available", dep(1, 2, appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 2, UpdatedReplicas: 2, ReadyReplicas: 1, AvailableReplicas: 0}), false, "0/2 available (1/2 ready)"},
		{"scaled to zero", dep(1, 0, appsv1.DeploymentStatus{ObservedGeneration: 1}), true, "0/0 available"},
		{"deadline exceeded", dep(1, 1, appsv1.DeploymentStatus{ObservedGeneration: 1, Conditions: []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded"}}}), false, "0/1 available, rollout failed: progress deadline exceeded"},
	} {
		s := DeploymentStatus(tt.d)
		if s.Ready != tt.ready || s.Text != tt.text {
			t.Errorf("%s: ready=%v %q, want ready=%v %q", tt.name, s.Ready, s.Text, tt.ready, tt.text)
		}
	}
}

func TestPodStatusNamesWhatIsWrong(t *testing.T) {
	waiting := func(reason string) corev1.PodStatus {
		return corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{
			{Name: "web", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}}}}
	}
	for _, tt := range []struct {
		name   string
		st     corev1.PodStatus
		node   string
		ready  bool
		failed bool
		text   string
	}{
		{"ready", corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}, "n1", true, false, "ready"},
		{"crash looping", waiting("CrashLoopBackOff"), "n1", false, false, "not ready: CrashLoopBackOff"},
		{"image pull", waiting("ImagePullBackOff"), "n1", false, false, "not ready: ImagePullBackOff"},
		{"creating", waiting("ContainerCreating"), "n1", false, false, "not ready: ContainerCreating"},
		{"unschedulable", corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable", Message: "0/1 nodes are available"}}}, "", false, false, "not ready: Unschedulable: 0/1 nodes are available"},
		{"pending", corev1.PodStatus{Phase: corev1.PodPending}, "", false, false, "not ready: not scheduled yet"},
		{"completed", corev1.PodStatus{Phase: corev1.PodSucceeded}, "n1", true, false, "completed"},
		{"failed", corev1.PodStatus{Phase: corev1.PodFailed, Reason: "Evicted"}, "n1", false, true, "failed: Evicted"},
	} {
		p := &corev1.Pod{Spec: corev1.PodSpec{NodeName: tt.node}, Status: tt.st}
		s := PodStatus(p)
		if s.Ready != tt.ready || s.Failed != tt.failed || s.Text != tt.text {
			t.Errorf("%s: %+v, want ready=%v failed=%v %q", tt.name, s, tt.ready, tt.failed, tt.text)
		}
	}
}

func TestEndpointsStatusNeedsAReadyAddress(t *testing.T) {
	addr := []corev1.EndpointAddress{{IP: "10.0.0.1"}}
	for _, tt := range []struct {
		name  string
		e     *corev1.Endpoints
		ready bool
		text  string
	}{
		{"none yet", nil, false, "no ready endpoints"},
		{"empty", &corev1.Endpoints{}, false, "no ready endpoints"},
		{"not ready", &corev1.Endpoints{Subsets: []corev1.EndpointSubset{{NotReadyAddresses: addr}}}, false, "no ready endpoints (1 not ready)"},
		{"ready", &corev1.Endpoints{Subsets: []corev1.EndpointSubset{{Addresses: addr}}}, true, "1 ready endpoint"},
	} {
		s := EndpointsStatus(tt.e)
		if s.Ready != tt.ready || s.Text != tt.text {
			t.Errorf("%s: %+v, want ready=%v %q", tt.name, s, tt.ready, tt.text)
		}
	}
}
