package manager_test

import (
	"fmt"
	"testing"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	"github.com/kl-dev/kl/pkg/controller/controllertest"
	"github.com/kl-dev/kl/pkg/controller/manager"
)

func TestDeploymentCreatesReplicaSetAndPods(t *testing.T) {
	c := controllertest.StartAPIServer(t)
	e := newEnv(t, c)
	controllertest.StartFakeKubelet(t, c, controllertest.KubeletConfig{})
	startManager(t, manager.Config{Client: c})

	e.create(deploymentSpec("web", 5, "nginx:1"))
	d := e.rolledOut("web")
	rss, err := e.replicaSetsOf("web")
	if err != nil {
		t.Fatal(err)
	}
	if len(rss) != 1 {
		t.Fatalf("%d ReplicaSets, want 1", len(rss))
	}
	rs := rss[0]
	hash := rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey]
	if hash == "" || rs.Name != "web-"+hash || rs.Spec.Selector.MatchLabels[appsv1.DefaultDeploymentUniqueLabelKey] != hash {
		t.Errorf("ReplicaSet %s: labels %v, selector %v", rs.Name, rs.Labels, rs.Spec.Selector.MatchLabels)
	}
	if rs.Annotations[appsv1.RevisionAnnotation] != "1" || d.Annotations[appsv1.RevisionAnnotation] != "1" {
		t.Errorf("revision: ReplicaSet %q, Deployment %q; want 1", rs.Annotations[appsv1.RevisionAnnotation], d.Annotations[appsv1.RevisionAnnotation])
	}
	if got := condition(d, appsv1.DeploymentAvailable); got != "True/MinimumReplicasAvailable" {
		t.Errorf("Available = %s", got)
	}
	if got := condition(d, appsv1.DeploymentProgressing); got != "True/NewReplicaSetAvailable" {
		t.Errorf("Progressing = %s", got)
	}
	pods, err := e.podsOf("web")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods {
		if p.GenerateName != rs.Name+"-" || len(p.OwnerReferences) != 1 || p.OwnerReferences[0].UID != rs.UID {
			t.Errorf("pod %s: generateName %q, owners %+v", p.Name, p.GenerateName, p.OwnerReferences)
		}
	}
	fmt.Println(rs.Name)
}
