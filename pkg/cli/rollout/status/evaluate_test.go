package status

import (
	"strings"
	"testing"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	rt "github.com/kl-dev/kl/pkg/cli/rollout/internal/rollouttest"
)

// fixture is a Deployment "web" of 3 replicas in the middle of a rollout
// from nginx:1 (ReplicaSet web-old) to nginx:2 (web-new).
type fixture struct {
	d            *appsv1.Deployment
	oldRS, newRS *appsv1.ReplicaSet
	pods         []*corev1.Pod
}

func newFixture() *fixture {
	d := rt.Deployment(3, "nginx:2")
	d.UID = "d-uid"
	d.Generation = 2
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 4, UpdatedReplicas: 1, ReadyReplicas: 3, AvailableReplicas: 3}
	oldRS := rt.ReplicaSet(d, "old", 1, 3)
	oldRS.Spec.Template = rt.Template("nginx:1")
	oldRS.Spec.Template.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = "old"
	newRS := rt.ReplicaSet(d, "new", 2, 1)
	return &fixture{d: d, oldRS: oldRS, newRS: newRS}
}

func (f *fixture) state() state {
	return state{Deployment: f.d, ReplicaSets: []*appsv1.ReplicaSet{f.oldRS, f.newRS}, Pods: f.pods}
}

func TestEvaluate(t *testing.T) {
	const waiting = `Waiting for deployment "web" rollout to finish: `
	tests := []struct {
		name    string
		setup   func(f *fixture)
		rev     int64
		wantMsg string
		done    bool
		wantErr string
	}{
		{
			name:    "spec not observed yet",
			setup:   func(f *fixture) { f.d.Generation = 3 },
			wantMsg: "Waiting for deployment spec update to be observed...",
		},
		{
			name:    "new replicas being created",
			setup:   func(f *fixture) {},
			wantMsg: waiting + "1 out of 3 new replicas have been updated...",
		},
		{
			name: "old replicas pending termination",
			setup: func(f *fixture) {
				f.d.Status.UpdatedReplicas = 3
			},
			wantMsg: waiting + "1 old replicas are pending termination...",
		},
		{
			name: "updated replicas not available",
			setup: func(f *fixture) {
				f.d.Status = appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 3, AvailableReplicas: 1}
			},
			wantMsg: waiting + "1 of 3 updated replicas are available...",
		},
		{
			name: "available but not ready (kl also wants ready)",
			setup: func(f *fixture) {
				f.d.Status = appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 2, AvailableReplicas: 3}
			},
			wantMsg: waiting + "2 of 3 updated replicas are ready...",
		},
		{
			name: "surplus replicas of a scale-down",
			setup: func(f *fixture) {
				f.d.Status = appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 4, UpdatedReplicas: 4, ReadyReplicas: 4, AvailableReplicas: 4}
			},
			wantMsg: waiting + "1 extra replicas are pending termination...",
		},
		{
			name: "complete",
			setup: func(f *fixture) {
				f.d.Status = appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 3, AvailableReplicas: 3}
			},
			wantMsg: `deployment "web" successfully rolled out`,
			done:    true,
		},
		{
			name: "complete with zero replicas",
			setup: func(f *fixture) {
				f.d.Spec.Replicas = meta.Int32p(0)
				f.d.Status = appsv1.DeploymentStatus{ObservedGeneration: 2}
			},
			wantMsg: `deployment "web" successfully rolled out`,
			done:    true,
		},
		{
			name: "replicas default to 1",
			setup: func(f *fixture) {
				f.d.Spec.Replicas = nil
				f.d.Status = appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1}
			},
			wantMsg: `deployment "web" successfully rolled out`,
			done:    true,
		},
		{
			name: "complete wins over a stuck pod",
			setup: func(f *fixture) {
				f.d.Status = appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 3, AvailableReplicas: 3}
				f.pods = append(f.pods, rt.Waiting(rt.Pod(f.newRS, "web-new-a"), reasonCrashLoopBackOff, "back-off", 5))
			},
			wantMsg: `deployment "web" successfully rolled out`,
			done:    true,
		},
		{
			name:    "paused",
			setup:   func(f *fixture) { f.d.Spec.Paused = true },
			wantMsg: waiting + "the deployment is paused (resume it with kl rollout resume deployment/web)...",
		},
		{
			name: "progress deadline exceeded",
			setup: func(f *fixture) {
				appsv1.SetDeploymentCondition(&f.d.Status, appsv1.DeploymentCondition{
					Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse,
					Reason: progressDeadlineExceeded, Message: `ReplicaSet "web-new" has timed out progressing.`,
				})
			},
			wantErr: `deployment "web" exceeded its progress deadline: ReplicaSet "web-new" has timed out progressing.`,
		},
		{
			name: "progress deadline of an older generation is ignored",
			setup: func(f *fixture) {
				f.d.Generation = 3
				appsv1.SetDeploymentCondition(&f.d.Status, appsv1.DeploymentCondition{
					Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: progressDeadlineExceeded,
				})
			},
			wantMsg: "Waiting for deployment spec update to be observed...",
		},
		{
			name:    "revision matches",
			setup:   func(f *fixture) { f.d.Annotations = map[string]string{appsv1.RevisionAnnotation: "2"} },
			rev:     2,
			wantMsg: waiting + "1 out of 3 new replicas have been updated...",
		},
		{
			name:    "revision differs",
			setup:   func(f *fixture) { f.d.Annotations = map[string]string{appsv1.RevisionAnnotation: "3"} },
			rev:     2,
			wantErr: "desired revision (2) is different from the running revision (3)",
		},
		{
			name:    "revision unreadable",
			setup:   func(f *fixture) { f.d.Annotations = map[string]string{appsv1.RevisionAnnotation: "x"} },
			rev:     2,
			wantErr: `cannot get the revision of deployment "web"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture()
			tt.setup(f)
			v := evaluate(f.state(), tt.rev)
			checkVerdict(t, v, tt.wantMsg, tt.done, tt.wantErr)
		})
	}
}

func checkVerdict(t *testing.T, v verdict, wantMsg string, done bool, wantErr string) {
	t.Helper()
	if wantErr != "" {
		if v.Err == nil || !strings.Contains(v.Err.Error(), wantErr) {
			t.Fatalf("error = %v, want one containing %q (verdict %+v)", v.Err, wantErr, v)
		}
		return
	}
	if v.Err != nil {
		t.Fatalf("unexpected error %v", v.Err)
	}
	if v.Message != wantMsg || v.Done != done {
		t.Errorf("verdict = %q done=%v, want %q done=%v", v.Message, v.Done, wantMsg, done)
	}
}

// TestEvaluate_StuckPods protects kl's fail-fast rule: only pods of the new
// ReplicaSet, and only failures that will not go away by themselves.
func TestEvaluate_StuckPods(t *testing.T) {
	const stuck = `deployment "web" rollout is stuck: `
	const notStuck = `Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...`
	crash := func(f *fixture, name string, restarts int32) *corev1.Pod {
		return rt.Waiting(rt.Pod(f.newRS, name), reasonCrashLoopBackOff, "back-off 40s restarting failed container=web", restarts)
	}
	tests := []struct {
		name    string
		pods    func(f *fixture) []*corev1.Pod
		wantErr string // "" means not stuck
	}{
		{
			name:    "CrashLoopBackOff after 2 restarts",
			pods:    func(f *fixture) []*corev1.Pod { return []*corev1.Pod{crash(f, "web-new-a", 2)} },
			wantErr: stuck + "pod web-new-a is in CrashLoopBackOff (back-off 40s restarting failed container=web)",
		},
		{
			name: "CrashLoopBackOff after 1 restart is not stuck yet",
			pods: func(f *fixture) []*corev1.Pod { return []*corev1.Pod{crash(f, "web-new-a", 1)} },
		},
		{
			name: "CrashLoopBackOff of an init container",
			pods: func(f *fixture) []*corev1.Pod {
				p := rt.Pod(f.newRS, "web-new-a")
				p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "init", RestartCount: 4,
					State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reasonCrashLoopBackOff}}}}
				return []*corev1.Pod{p}
			},
			wantErr: stuck + "pod web-new-a is in CrashLoopBackOff (container init)",
		},
		{
			name: "CrashLoopBackOff of an old pod is not this rollout's",
			pods: func(f *fixture) []*corev1.Pod {
				return []*corev1.Pod{rt.Waiting(rt.Pod(f.oldRS, "web-old-a"), reasonCrashLoopBackOff, "", 9)}
			},
		},
		{
			name: "a terminating pod is ignored",
			pods: func(f *fixture) []*corev1.Pod {
				p := crash(f, "web-new-a", 5)
				p.DeletionTimestamp = &meta.Time{}
				return []*corev1.Pod{p}
			},
		},
		{
			name: "a pod with the labels but another controller is ignored",
			pods: func(f *fixture) []*corev1.Pod {
				p := crash(f, "web-new-a", 5)
				p.OwnerReferences[0].UID = "someone-else"
				return []*corev1.Pod{p}
			},
		},
		{
			name: "a matching pod without a controller counts",
			pods: func(f *fixture) []*corev1.Pod {
				p := crash(f, "web-new-a", 5)
				p.OwnerReferences = nil
				return []*corev1.Pod{p}
			},
			wantErr: stuck + "pod web-new-a is in CrashLoopBackOff",
		},
		{
			name: "the first stuck pod by name is named",
			pods: func(f *fixture) []*corev1.Pod {
				return []*corev1.Pod{crash(f, "web-new-c", 5), crash(f, "web-new-b", 5)}
			},
			wantErr: stuck + "pod web-new-b is in CrashLoopBackOff",
		},
		{
			name: "ImagePullBackOff",
			pods: func(f *fixture) []*corev1.Pod {
				return []*corev1.Pod{rt.Waiting(rt.Pod(f.newRS, "web-new-a"), reasonImagePullBackOff, `Back-off pulling image "nginx:2"`, 0)}
			},
			wantErr: stuck + `pod web-new-a is in ImagePullBackOff (Back-off pulling image "nginx:2")`,
		},
		{
			name: "a first ErrImagePull is not stuck yet",
			pods: func(f *fixture) []*corev1.Pod {
				return []*corev1.Pod{rt.Waiting(rt.Pod(f.newRS, "web-new-a"), "ErrImagePull", "pull failed", 0)}
			},
		},
		{
			name: "InvalidImageName",
			pods: func(f *fixture) []*corev1.Pod {
				return []*corev1.Pod{rt.Waiting(rt.Pod(f.newRS, "web-new-a"), reasonInvalidImageName, "", 0)}
			},
			wantErr: stuck + "pod web-new-a is in InvalidImageName (container web)",
		},
		{
			name: "ContainerCreating is progress",
			pods: func(f *fixture) []*corev1.Pod {
				return []*corev1.Pod{rt.Waiting(rt.Pod(f.newRS, "web-new-a"), "ContainerCreating", "", 0)}
			},
		},
		{
			name: "unschedulable",
			pods: func(f *fixture) []*corev1.Pod {
				return []*corev1.Pod{rt.Unschedulable(rt.Pod(f.newRS, "web-new-a"), "0/2 nodes are available: 2 Insufficient cpu.")}
			},
			wantErr: stuck + "pod web-new-a is unschedulable (0/2 nodes are available: 2 Insufficient cpu.)",
		},
		{
			name: "unschedulable while an old pod terminates is waiting for room",
			pods: func(f *fixture) []*corev1.Pod {
				old := rt.Pod(f.oldRS, "web-old-a")
				old.DeletionTimestamp = &meta.Time{}
				return []*corev1.Pod{old, rt.Unschedulable(rt.Pod(f.newRS, "web-new-a"), "no room")}
			},
		},
		{
			name: "unschedulable while an old ReplicaSet shrinks is waiting for room",
			pods: func(f *fixture) []*corev1.Pod {
				f.oldRS.Spec.Replicas = meta.Int32p(2) // status.replicas is still 3
				return []*corev1.Pod{rt.Unschedulable(rt.Pod(f.newRS, "web-new-a"), "no room")}
			},
		},
		{
			name: "crash loop counts even while room is being freed",
			pods: func(f *fixture) []*corev1.Pod {
				f.oldRS.Spec.Replicas = meta.Int32p(2)
				return []*corev1.Pod{crash(f, "web-new-a", 3)}
			},
			wantErr: stuck + "pod web-new-a is in CrashLoopBackOff",
		},
		{
			name: "no ReplicaSet holds the current template yet",
			pods: func(f *fixture) []*corev1.Pod {
				f.d.Spec.Template = rt.Template("nginx:3")
				return []*corev1.Pod{crash(f, "web-new-a", 5)}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture()
			f.pods = tt.pods(f)
			v := evaluate(f.state(), 0)
			if tt.wantErr == "" {
				checkVerdict(t, v, notStuck, false, "")
				return
			}
			checkVerdict(t, v, "", false, tt.wantErr)
		})
	}
}
