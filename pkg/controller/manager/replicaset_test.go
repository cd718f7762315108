package manager_test

import (
	"fmt"
	"testing"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/controller/controllertest"
	"github.com/kl-dev/kl/pkg/controller/manager"
)

func soloPod(name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: meta.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": "solo"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "busybox"}}},
	}
}

// A ReplicaSet adopts the orphans its selector matches (and creates only
// what is missing), and releases a pod whose labels stop matching (and
// replaces it).
func TestReplicaSetAdoptsAndReleases(t *testing.T) {
	c := controllertest.StartAPIServer(t)
	e := newEnv(t, c)
	controllertest.StartFakeKubelet(t, c, controllertest.KubeletConfig{})
	for _, n := range []string{"orphan-1", "orphan-2"} {
		if _, err := e.pods.Create(e.ctx, soloPod(n), client.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	startManager(t, manager.Config{Client: c})
	labels := map[string]string{"app": "solo"}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: meta.ObjectMeta{Name: "solo", Namespace: "default"},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: meta.Int32p(3),
			Selector: &meta.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: meta.ObjectMeta{Labels: labels}, Spec: soloPod("").Spec},
		},
	}
	rs, err := e.rss.Create(e.ctx, rs, client.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	owned := func(want int) func() error {
		return func() error {
			pods, err := e.podsOf("solo")
			if err != nil {
				return err
			}
			n := 0
			for _, p := range pods {
				if !meta.IsControlledBy(&p.ObjectMeta, rs.UID) {
					return fmt.Errorf("pod %s has owners %+v", p.Name, p.OwnerReferences)
				}
				n++
			}
			if n != want {
				return fmt.Errorf("%d pods, want %d", n, want)
			}
			got, err := e.rss.Get(e.ctx, "solo")
			if err != nil {
				return err
			}
			if got.Status.Replicas != int32(want) || got.Status.ReadyReplicas != int32(want) || got.Status.ObservedGeneration != got.Generation {
				return fmt.Errorf("status %+v", got.Status)
			}
			return nil
		}
	}
	e.eventually("the orphans adopted and one pod created", owned(3))
	for _, n := range []string{"orphan-1", "orphan-2"} {
		p, err := e.pods.Get(e.ctx, n)
		if err != nil {
			t.Fatalf("orphan %s: %v (adopted pods must be kept, not replaced)", n, err)
		}
		if ref := meta.GetControllerOf(&p.ObjectMeta); ref == nil || ref.Kind != "ReplicaSet" || ref.Name != "solo" || !*ref.BlockOwnerDeletion {
			t.Errorf("orphan %s owner = %+v", n, ref)
		}
	}

	if _, err := e.pods.Patch(e.ctx, "orphan-1", client.MergePatchType, []byte(`{"metadata":{"labels":{"app":"debug"}}}`), client.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	e.eventually("the relabelled pod released and replaced", owned(3))
	e.eventually("the released pod has no owner", func() error {
		p, err := e.pods.Get(e.ctx, "orphan-1")
		if err != nil {
			return err
		}
		if len(p.OwnerReferences) != 0 {
			return fmt.Errorf("owners %+v", p.OwnerReferences)
		}
		return nil
	})
}

// Pods deleted behind a Deployment's back come back.
func TestDeletedPodsAreReplaced(t *testing.T) {
	c := controllertest.StartAPIServer(t)
	e := newEnv(t, c)
	controllertest.StartFakeKubelet(t, c, controllertest.KubeletConfig{})
	startManager(t, manager.Config{Client: c})

	e.create(deploymentSpec("web", 5, "nginx:1"))
	e.rolledOut("web")
	pods, err := e.podsOf("web")
	if err != nil {
		t.Fatal(err)
	}
	gone := map[string]bool{}
	for _, p := range pods[:2] {
		if err := e.pods.Delete(e.ctx, p.Name, meta.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		gone[p.Name] = true
	}
	e.rolledOut("web")
	pods, err = e.podsOf("web")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods {
		if gone[p.Name] {
			t.Errorf("deleted pod %s still listed", p.Name)
		}
	}
}

// revisionHistoryLimit keeps that many old ReplicaSets; change-cause is
// copied to the new ReplicaSet.
func TestRevisionHistoryLimitAndChangeCause(t *testing.T) {
	c := controllertest.StartAPIServer(t)
	e := newEnv(t, c)
	controllertest.StartFakeKubelet(t, c, controllertest.KubeletConfig{})
	startManager(t, manager.Config{Client: c})

	d := deploymentSpec("web", 1, "nginx:1")
	d.Spec.RevisionHistoryLimit = ptr(int32(1))
	e.create(d)
	e.rolledOut("web")
	for i := 2; i <= 4; i++ {
		e.patch("web", fmt.Sprintf(`{"metadata":{"annotations":{"kubernetes.io/change-cause":"image %d"}},"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:%d"}]}}}}`, i, i))
		e.rolledOut("web")
	}
	e.eventually("old ReplicaSets cleaned up", func() error {
		rss, err := e.replicaSetsOf("web")
		if err != nil {
			return err
		}
		if len(rss) != 2 {
			return fmt.Errorf("ReplicaSets %v, want the new one and 1 old", names(rss))
		}
		return nil
	})
	rs := e.onlyActiveReplicaSet("web")
	if got := rs.Annotations[appsv1.ChangeCauseAnnotation]; got != "image 4" {
		t.Errorf("change-cause of the new ReplicaSet = %q, want %q", got, "image 4")
	}
	if got := rs.Annotations[appsv1.RevisionAnnotation]; got != "4" {
		t.Errorf("revision = %q, want 4", got)
	}
	if rs.Annotations[appsv1.DesiredReplicasAnnotation] != "1" || rs.Annotations[appsv1.MaxReplicasAnnotation] != "2" {
		t.Errorf("replica annotations: %v", rs.Annotations)
	}
}
