package v1

import (
	"encoding/json"
	"os"
	"testing"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/core/v1/apitest"
	"github.com/kl-dev/kl/pkg/api/intstr"
	"github.com/kl-dev/kl/pkg/api/meta"
)

var (
	_ meta.Object        = (*Deployment)(nil)
	_ meta.Object        = (*ReplicaSet)(nil)
	_ meta.Object        = (*Scale)(nil)
	_ meta.ListInterface = (*DeploymentList)(nil)
	_ meta.ListInterface = (*ReplicaSetList)(nil)
)

// The fixtures are objects as the Kubernetes apiserver serialises them
// (each was checked to round-trip unchanged through k8s.io/api's types).
func TestKubernetesJSONRoundTripsUnchanged(t *testing.T) {
	tests := []struct {
		file string
		obj  any
	}{
		{"testdata/deployment.json", &Deployment{}},
		{"testdata/replicaset.json", &ReplicaSet{}},
		{"testdata/scale.json", &Scale{}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			apitest.RoundTrip(t, tt.file, tt.obj)
		})
	}
}

func TestEveryFieldRoundTrips(t *testing.T) {
	apitest.FilledRoundTrip(t, &Deployment{}, &Deployment{})
	apitest.FilledRoundTrip(t, &DeploymentList{}, &DeploymentList{})
	apitest.FilledRoundTrip(t, &ReplicaSet{}, &ReplicaSet{})
	apitest.FilledRoundTrip(t, &ReplicaSetList{}, &ReplicaSetList{})
	apitest.FilledRoundTrip(t, &Scale{}, &Scale{})
}

func TestZeroValuesEncodeLikeKubernetes(t *testing.T) {
	tests := []struct {
		obj  any
		want string
	}{
		{&Deployment{}, `{"metadata":{},"spec":{"selector":null,"template":{"metadata":{},"spec":{"containers":null}},"strategy":{}},"status":{}}`},
		{&ReplicaSet{}, `{"metadata":{},"spec":{"selector":null,"template":{"metadata":{},"spec":{"containers":null}}},"status":{"replicas":0}}`},
		{&Scale{}, `{"metadata":{},"spec":{},"status":{"replicas":0}}`},
	}
	for _, tt := range tests {
		got, err := json.Marshal(tt.obj)
		if err != nil {
			t.Fatal(err)
		}
		apitest.AssertSameJSON(t, []byte(tt.want), got)
	}
}

func TestSetDefaultsDeploymentMatchesKubernetes(t *testing.T) {
	in, err := os.ReadFile("testdata/defaults/deployment.in.json")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("testdata/defaults/deployment.out.json")
	if err != nil {
		t.Fatal(err)
	}
	var d Deployment
	if err := json.Unmarshal(in, &d); err != nil {
		t.Fatal(err)
	}
	SetDefaultsDeployment(&d)
	got, err := json.Marshal(&d)
	if err != nil {
		t.Fatal(err)
	}
	apitest.AssertSameJSON(t, want, got)
	SetDefaultsDeployment(&d)
	again, _ := json.Marshal(&d)
	apitest.AssertSameJSON(t, got, again)
}

func TestSetDefaultsDeploymentStrategy(t *testing.T) {
	one := intstr.FromInt32(1)
	tests := []struct {
		name string
		in   DeploymentStrategy
		want DeploymentStrategy
	}{
		{"Recreate gets no rolling update parameters",
			DeploymentStrategy{Type: RecreateDeploymentStrategyType},
			DeploymentStrategy{Type: RecreateDeploymentStrategyType}},
		{"explicit maxSurge is kept",
			DeploymentStrategy{RollingUpdate: &RollingUpdateDeployment{MaxSurge: &one}},
			DeploymentStrategy{Type: RollingUpdateDeploymentStrategyType, RollingUpdate: &RollingUpdateDeployment{MaxSurge: &one, MaxUnavailable: ptr(intstr.FromString("25%"))}}},
	}
	for _, tt := range tests {
		d := Deployment{Spec: DeploymentSpec{Strategy: tt.in, Replicas: ptr(int32(0))}}
		SetDefaultsDeployment(&d)
		got, _ := json.Marshal(d.Spec.Strategy)
		want, _ := json.Marshal(tt.want)
		if string(got) != string(want) {
			t.Errorf("%s: strategy = %s, want %s", tt.name, got, want)
		}
		if *d.Spec.Replicas != 0 {
			t.Errorf("%s: explicit replicas 0 overwritten", tt.name)
		}
	}
}

func TestSetDefaultsReplicaSet(t *testing.T) {
	rs := ReplicaSet{Spec: ReplicaSetSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Name: "c", Image: "busybox"}},
	}}}}
	SetDefaultsReplicaSet(&rs)
	if rs.Spec.Replicas == nil || *rs.Spec.Replicas != 1 {
		t.Errorf("replicas = %v", rs.Spec.Replicas)
	}
	c := rs.Spec.Template.Spec.Containers[0]
	if c.ImagePullPolicy != corev1.PullAlways || rs.Spec.Template.Spec.DNSPolicy != corev1.DNSClusterFirst {
		t.Errorf("template not defaulted: %+v", rs.Spec.Template.Spec)
	}
	if rs.Spec.Template.Spec.EnableServiceLinks != nil {
		t.Error("template got the pod-only enableServiceLinks default")
	}
}

func TestDeepCopyIsIndependent(t *testing.T) {
	d := &Deployment{}
	apitest.Fill(d)
	apitest.AssertIndependent(t, d, d.DeepCopy())
	dl := &DeploymentList{}
	apitest.Fill(dl)
	apitest.AssertIndependent(t, dl, dl.DeepCopy())
	rs := &ReplicaSet{}
	apitest.Fill(rs)
	apitest.AssertIndependent(t, rs, rs.DeepCopy())
	rsl := &ReplicaSetList{}
	apitest.Fill(rsl)
	apitest.AssertIndependent(t, rsl, rsl.DeepCopy())
	s := &Scale{}
	apitest.Fill(s)
	apitest.AssertIndependent(t, s, s.DeepCopy())
	var nilD *Deployment
	if nilD.DeepCopy() != nil {
		t.Error("nil copied to non-nil")
	}
}

func TestConditionHelpers(t *testing.T) {
	t0 := meta.Now()
	var st DeploymentStatus
	SetDeploymentCondition(&st, DeploymentCondition{Type: DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetCreated", LastTransitionTime: t0})
	SetDeploymentCondition(&st, DeploymentCondition{Type: DeploymentAvailable, Status: corev1.ConditionFalse})
	later := meta.NewTime(t0.Add(60e9))
	SetDeploymentCondition(&st, DeploymentCondition{Type: DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetCreated", LastTransitionTime: later, Message: "m"})
	c := GetDeploymentCondition(&st, DeploymentProgressing)
	if len(st.Conditions) != 2 || c == nil || c.Message != "m" || !c.LastTransitionTime.Equal(t0.Time) {
		t.Errorf("conditions = %+v", st.Conditions)
	}
	RemoveDeploymentCondition(&st, DeploymentProgressing)
	if GetDeploymentCondition(&st, DeploymentProgressing) != nil || len(st.Conditions) != 1 {
		t.Errorf("after remove: %+v", st.Conditions)
	}

	var rs ReplicaSetStatus
	SetReplicaSetCondition(&rs, ReplicaSetCondition{Type: ReplicaSetReplicaFailure, Status: corev1.ConditionTrue, Reason: "FailedCreate"})
	if GetReplicaSetCondition(&rs, ReplicaSetReplicaFailure) == nil {
		t.Error("condition not set")
	}
	RemoveReplicaSetCondition(&rs, ReplicaSetReplicaFailure)
	if len(rs.Conditions) != 0 {
		t.Error("condition not removed")
	}
}

func ptr[T any](v T) *T { return &v }
