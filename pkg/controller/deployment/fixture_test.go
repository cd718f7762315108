package deployment

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/intstr"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client/clock/clocktest"
	"github.com/kl-dev/kl/pkg/client/informer"
	"github.com/kl-dev/kl/pkg/controller"
	"github.com/kl-dev/kl/pkg/controller/controllertest"
	"github.com/kl-dev/kl/pkg/record"
)

var t0 = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

// fakeAPI records the controller's writes as readable actions and returns
// what an apiserver would.
type fakeAPI struct {
	mu        sync.Mutex
	actions   []string
	rv        int
	createErr error
	existing  *appsv1.ReplicaSet // what getReplicaSet returns
	fresh     *appsv1.Deployment // what getDeployment returns
}

func (f *fakeAPI) record(format string, args ...any) {
	f.actions = append(f.actions, fmt.Sprintf(format, args...))
}

func (f *fakeAPI) nextRV() string {
	f.rv++
	return strconv.Itoa(1000 + f.rv)
}

func rsSummary(rs *appsv1.ReplicaSet) string {
	s := fmt.Sprintf("%s replicas=%d", rs.Name, specReplicas(rs))
	for _, k := range []string{appsv1.RevisionAnnotation, appsv1.RevisionHistoryAnnotation, appsv1.DesiredReplicasAnnotation, appsv1.MaxReplicasAnnotation} {
		if v, ok := rs.Annotations[k]; ok {
			s += fmt.Sprintf(" %s=%s", strings.TrimPrefix(k, "deployment.kubernetes.io/"), v)
		}
	}
	return s
}

func (f *fakeAPI) createReplicaSet(_ context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("create rs %s", rsSummary(rs))
	if f.createErr != nil {
		return nil, f.createErr
	}
	out := rs.DeepCopy()
	out.UID = "uid-" + rs.Name
	out.ResourceVersion = f.nextRV()
	out.CreationTimestamp = meta.NewTime(t0)
	return out, nil
}

func (f *fakeAPI) updateReplicaSet(_ context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("update rs %s", rsSummary(rs))
	out := rs.DeepCopy()
	out.ResourceVersion = f.nextRV()
	return out, nil
}

func (f *fakeAPI) deleteReplicaSet(_ context.Context, namespace, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("delete rs %s", name)
	return nil
}

func (f *fakeAPI) patchReplicaSet(_ context.Context, namespace, name string, patch []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	verb := "adopt"
	if strings.Contains(string(patch), `"$patch":"delete"`) {
		verb = "release"
	}
	f.record("%s rs %s", verb, name)
	return nil
}

func (f *fakeAPI) getReplicaSet(_ context.Context, namespace, name string) (*appsv1.ReplicaSet, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("get rs %s", name)
	if f.existing == nil {
		return nil, meta.NewNotFound("apps", "replicasets", name)
	}
	return f.existing, nil
}

func (f *fakeAPI) getDeployment(_ context.Context, namespace, name string) (*appsv1.Deployment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("get deployment %s", name)
	if f.fresh == nil {
		return nil, meta.NewNotFound("apps", "deployments", name)
	}
	return f.fresh, nil
}

func (f *fakeAPI) patchDeployment(_ context.Context, namespace, name string, patch []byte) (*appsv1.Deployment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var p struct {
		Metadata struct {
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(patch, &p); err != nil {
		return nil, err
	}
	f.record("revision %s=%s", name, p.Metadata.Annotations[appsv1.RevisionAnnotation])
	if f.fresh == nil {
		return nil, meta.NewNotFound("apps", "deployments", name)
	}
	out := f.fresh.DeepCopy()
	if out.Annotations == nil {
		out.Annotations = map[string]string{}
	}
	for k, v := range p.Metadata.Annotations {
		out.Annotations[k] = v
	}
	out.ResourceVersion = f.nextRV()
	f.fresh = out
	return out, nil
}

func (f *fakeAPI) updateDeploymentStatus(_ context.Context, d *appsv1.Deployment) (*appsv1.Deployment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := d.Status
	s := fmt.Sprintf("status %s observedGeneration=%d replicas=%d updated=%d ready=%d available=%d unavailable=%d",
		d.Name, st.ObservedGeneration, st.Replicas, st.UpdatedReplicas, st.ReadyReplicas, st.AvailableReplicas, st.UnavailableReplicas)
	if st.CollisionCount != nil {
		s += fmt.Sprintf(" collisionCount=%d", *st.CollisionCount)
	}
	for _, c := range st.Conditions {
		s += fmt.Sprintf(" %s=%s/%s", c.Type, c.Status, c.Reason)
	}
	f.record("%s", s)
	out := d.DeepCopy()
	out.ResourceVersion = f.nextRV()
	f.fresh = out.DeepCopy()
	return out, nil
}

func (f *fakeAPI) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.actions
	f.actions = nil
	return out
}

type fixture struct {
	c   *Controller
	api *fakeAPI
	clk *clocktest.Fake
	rec *record.Fake
	d   *appsv1.Deployment
}

func newFixture(t *testing.T, d *appsv1.Deployment, rss []*appsv1.ReplicaSet, pods []*corev1.Pod) *fixture {
	t.Helper()
	dInf := informer.New[*appsv1.Deployment](controllertest.NewSource(d), informer.Options[*appsv1.Deployment]{})
	rsInf := informer.New[*appsv1.ReplicaSet](controllertest.NewSource(rss...), informer.Options[*appsv1.ReplicaSet]{IndexLabels: true,
		Indexers: map[string]informer.IndexFunc[*appsv1.ReplicaSet]{controller.IndexOwnerUID: controller.OwnerUIDs[*appsv1.ReplicaSet]}})
	podInf := informer.New[*corev1.Pod](controllertest.NewSource(pods...), informer.Options[*corev1.Pod]{IndexLabels: true})
	f := &fixture{api: &fakeAPI{fresh: d.DeepCopy()}, clk: clocktest.NewFake(t0), rec: &record.Fake{}, d: d}
	f.c = newController(Config{Deployments: dInf, ReplicaSets: rsInf, Pods: podInf, Clock: f.clk, Recorder: f.rec}, f.api)
	dEvents, rsEvents, podEvents := controllertest.CountEvents(dInf), controllertest.CountEvents(rsInf), controllertest.CountEvents(podInf)
	controllertest.StartInformer(t, dInf)
	controllertest.StartInformer(t, rsInf)
	controllertest.StartInformer(t, podInf)
	// The controller's handlers have seen the initial lists.
	dEvents.Wait(t, 1)
	rsEvents.Wait(t, len(rss))
	podEvents.Wait(t, len(pods))
	t.Cleanup(func() {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_ = f.c.Run(ctx, 1)
	})
	return f
}

func (f *fixture) sync(t *testing.T) error {
	t.Helper()
	return f.c.sync(context.Background(), "default/"+f.d.Name)
}

// newDeployment returns a RollingUpdate Deployment with the defaults the
// apiserver applies, at generation 1.
func newDeployment(replicas int32, surge, unavailable string) *appsv1.Deployment {
	labels := map[string]string{"app": "web"}
	d := &appsv1.Deployment{
		TypeMeta: meta.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: meta.ObjectMeta{
			Namespace: "default", Name: "web", UID: "uid-web", Generation: 1,
			CreationTimestamp: meta.NewTime(t0.Add(-time.Hour)),
		},
		Spec: appsv1.DeploymentSpec{
			Replicas: meta.Int32p(replicas),
			Selector: &meta.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: meta.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx:2"}}},
			},
		},
	}
	appsv1.SetDefaultsDeployment(d)
	if d.Spec.Strategy.RollingUpdate != nil {
		s, u := intstr.Parse(surge), intstr.Parse(unavailable)
		d.Spec.Strategy.RollingUpdate.MaxSurge, d.Spec.Strategy.RollingUpdate.MaxUnavailable = &s, &u
	}
	return d
}

func recreate(d *appsv1.Deployment) *appsv1.Deployment {
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	return d
}

// rsFor returns a ReplicaSet of d for image (the new one when image is
// d's), with spec replicas and status replicas/available, at revision rev.
func rsFor(d *appsv1.Deployment, image string, rev int, spec, status, available int32) *appsv1.ReplicaSet {
	t := d.Spec.Template.DeepCopy()
	t.Spec.Containers[0].Image = image
	hash := ComputeHash(t, nil)
	t.Labels = withLabel(t.Labels, appsv1.DefaultDeploymentUniqueLabelKey, hash)
	sel := meta.DeepCopyLabelSelector(d.Spec.Selector)
	sel.MatchLabels = withLabel(sel.MatchLabels, appsv1.DefaultDeploymentUniqueLabelKey, hash)
	name := "web-" + image[strings.Index(image, ":")+1:]
	return &appsv1.ReplicaSet{
		TypeMeta: meta.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"},
		ObjectMeta: meta.ObjectMeta{
			Namespace: "default", Name: name, UID: "uid-" + name, Generation: 1, Labels: t.Labels,
			CreationTimestamp: meta.NewTime(t0.Add(-time.Duration(10-rev) * time.Minute)),
			OwnerReferences:   []meta.OwnerReference{controller.NewControllerRef(d, "apps/v1", "Deployment")},
			Annotations: map[string]string{
				appsv1.RevisionAnnotation:        strconv.Itoa(rev),
				appsv1.DesiredReplicasAnnotation: strconv.Itoa(int(deploymentReplicas(d))),
				appsv1.MaxReplicasAnnotation:     strconv.Itoa(int(deploymentReplicas(d) + maxSurge(d))),
			},
		},
		Spec: appsv1.ReplicaSetSpec{Replicas: meta.Int32p(spec), Selector: sel, Template: *t},
		Status: appsv1.ReplicaSetStatus{Replicas: status, ReadyReplicas: available, AvailableReplicas: available,
			FullyLabeledReplicas: status, ObservedGeneration: 1},
	}
}
