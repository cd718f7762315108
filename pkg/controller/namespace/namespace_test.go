package namespace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	coordinationv1 "github.com/kl-dev/kl/pkg/api/coordination/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/client/clock/clocktest"
	"github.com/kl-dev/kl/pkg/controller"
	"github.com/kl-dev/kl/pkg/controller/internal/apitest"
)

func TestRemainingConditionsWordedAsKubernetes(t *testing.T) {
	left := remaining{
		byResource:  map[string]int{"pods": 2, "configmaps": 1},
		byFinalizer: map[string]int{"example.com/hold": 1},
	}
	got := map[corev1.NamespaceConditionType]string{}
	for _, c := range left.conditions(nil) {
		got[c.Type] = fmt.Sprintf("%s %s: %s", c.Status, c.Reason, c.Message)
	}
	want := map[corev1.NamespaceConditionType]string{
		corev1.NamespaceDeletionDiscoveryFailure: "False ResourcesDiscovered: All resources successfully discovered",
		corev1.NamespaceDeletionContentFailure:   "False ContentDeleted: All content successfully deleted, may be waiting on finalization",
		corev1.NamespaceContentRemaining:         "True SomeResourcesRemain: Some resources are remaining: configmaps has 1 resource instances, pods has 2 resource instances",
		corev1.NamespaceFinalizersRemaining:      "True SomeFinalizersRemain: Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances",
	}
	for typ, w := range want {
		if got[typ] != w {
			t.Errorf("%s:\n got %q\nwant %q", typ, got[typ], w)
		}
	}
	for _, c := range (remaining{}).conditions(errors.New("boom")) {
		if c.Type == corev1.NamespaceDeletionContentFailure && (c.Status != corev1.ConditionTrue || !strings.Contains(c.Message, "boom")) {
			t.Errorf("content failure condition = %+v", c)
		}
	}
}

func TestMergeConditionsMovesTransitionTimeOnlyOnStatusChange(t *testing.T) {
	clk := clocktest.NewFake(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	start := clk.Now()
	remainingCond := func(status corev1.ConditionStatus, msg string) corev1.NamespaceCondition {
		return corev1.NamespaceCondition{Type: corev1.NamespaceContentRemaining, Status: status, Reason: "r", Message: msg}
	}
	conds, changed := mergeConditions(nil, []corev1.NamespaceCondition{remainingCond(corev1.ConditionTrue, "2 pods")}, clk.Now())
	if !changed || !conds[0].LastTransitionTime.Equal(start) {
		t.Fatalf("new condition: changed=%v %+v", changed, conds)
	}
	clk.Step(time.Minute)
	if _, changed := mergeConditions(conds, []corev1.NamespaceCondition{remainingCond(corev1.ConditionTrue, "2 pods")}, clk.Now()); changed {
		t.Fatal("an identical condition was reported as a change")
	}
	conds, changed = mergeConditions(conds, []corev1.NamespaceCondition{remainingCond(corev1.ConditionTrue, "1 pod")}, clk.Now())
	if !changed || conds[0].Message != "1 pod" || !conds[0].LastTransitionTime.Equal(start) {
		t.Fatalf("message change: changed=%v %+v (transition time must stay)", changed, conds)
	}
	clk.Step(time.Minute)
	conds, changed = mergeConditions(conds, []corev1.NamespaceCondition{remainingCond(corev1.ConditionFalse, "none")}, clk.Now())
	if !changed || !conds[0].LastTransitionTime.Equal(clk.Now()) {
		t.Fatalf("status change: changed=%v %+v (transition time must move)", changed, conds)
	}
}

func TestRequeueDelayBacksOff(t *testing.T) {
	c := &Controller{attempts: map[string]int{}}
	var got []time.Duration
	for i := 0; i < 8; i++ {
		got = append(got, c.requeueDelay("ns"))
	}
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, 1600 * time.Millisecond, 3200 * time.Millisecond, 5 * time.Second, 5 * time.Second}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("delays = %v, want %v", got, want)
	}
	c.forget("ns")
	if d := c.requeueDelay("ns"); d != MinRequeueDelay {
		t.Errorf("after forget: %v", d)
	}
}

type fixture struct {
	t   *testing.T
	ctx context.Context
	c   *client.Client
	nss *client.Resource[corev1.Namespace, *corev1.Namespace]
}

func start(t *testing.T) *fixture {
	c := apitest.Start(t)
	inf := controller.NewInformers(c, nil)
	ctrl, err := New(Config{Client: c, Namespaces: inf.Namespaces()})
	if err != nil {
		t.Fatal(err)
	}
	apitest.Run(t, inf, ctrl)
	return &fixture{t: t, ctx: apitest.Context(t), c: c, nss: client.NewResource[corev1.Namespace](c, controller.NamespacesResource, false)}
}

func (f *fixture) create(gvr meta.GroupVersionResource, ns string, obj any) {
	f.t.Helper()
	body, err := json.Marshal(obj)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.c.Dynamic().Create(f.ctx, gvr, ns, body, client.CreateOptions{}); err != nil {
		f.t.Fatalf("create %s in %s: %v", gvr, ns, err)
	}
}

func (f *fixture) createNamespace(name string) {
	f.t.Helper()
	if _, err := f.nss.Create(f.ctx, &corev1.Namespace{ObjectMeta: meta.ObjectMeta{Name: name}}, client.CreateOptions{}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) waitGone(name string) {
	f.t.Helper()
	apitest.Eventually(f.t, "namespace "+name+" removed", func() error {
		ns, err := f.nss.Get(f.ctx, name)
		if meta.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		return fmt.Errorf("still there: phase %s, conditions %+v", ns.Status.Phase, ns.Status.Conditions)
	})
}

var (
	configMaps = meta.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	secrets    = meta.GroupVersionResource{Version: "v1", Resource: "secrets"}
)

func pod(name, node string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: meta.ObjectMeta{Name: name, Labels: map[string]string{"app": "x"}},
		Spec:       corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "img"}}},
	}
}

func TestDeletedNamespaceIsEmptiedThenRemoved(t *testing.T) {
	f := start(t)
	f.createNamespace("doomed")
	f.createNamespace("kept")
	for _, ns := range []string{"doomed", "kept"} {
		f.create(configMaps, ns, &corev1.ConfigMap{ObjectMeta: meta.ObjectMeta{Name: "cm"}, Data: map[string]string{"k": "v"}})
		f.create(secrets, ns, &corev1.Secret{ObjectMeta: meta.ObjectMeta{Name: "s"}})
		f.create(controller.PodsResource, ns, pod("p", ""))
		f.create(controller.ServicesResource, ns, &corev1.Service{ObjectMeta: meta.ObjectMeta{Name: "svc"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}})
		f.create(controller.ReplicaSetsResource, ns, &appsv1.ReplicaSet{
			ObjectMeta: meta.ObjectMeta{Name: "rs"},
			Spec: appsv1.ReplicaSetSpec{
				Selector: &meta.LabelSelector{MatchLabels: map[string]string{"app": "x"}},
				Template: corev1.PodTemplateSpec{ObjectMeta: meta.ObjectMeta{Labels: map[string]string{"app": "x"}}, Spec: pod("", "").Spec},
			},
		})
		f.create(controller.LeasesResource, ns, &coordinationv1.Lease{ObjectMeta: meta.ObjectMeta{Name: "l"}})
	}
	if err := f.nss.Delete(f.ctx, "doomed", meta.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	f.waitGone("doomed")

	// Everything in it went with it (were the namespace created again, it
	// would be empty); the other namespace is untouched.
	f.createNamespace("doomed")
	for _, gvr := range []meta.GroupVersionResource{configMaps, secrets, controller.PodsResource, controller.ServicesResource, controller.ReplicaSetsResource, controller.LeasesResource} {
		items, err := listMeta(f.ctx, f.c.Dynamic(), gvr, "doomed")
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 0 {
			t.Errorf("%s left in the re-created namespace: %d", gvr, len(items))
		}
		kept, err := listMeta(f.ctx, f.c.Dynamic(), gvr, "kept")
		if err != nil {
			t.Fatal(err)
		}
		if len(kept) != 1 {
			t.Errorf("%s in the other namespace: %d, want 1", gvr, len(kept))
		}
	}
}

func TestNamespaceWaitsForGracefulPodsAndFinalizers(t *testing.T) {
	f := start(t)
	f.createNamespace("slow")
	// A pod bound to a node is deleted gracefully: it stays until its
	// kubelet (absent here) finishes it.
	f.create(controller.PodsResource, "slow", pod("bound", "n1"))
	f.create(configMaps, "slow", &corev1.ConfigMap{ObjectMeta: meta.ObjectMeta{Name: "held", Finalizers: []string{"example.com/hold"}}})
	f.create(configMaps, "slow", &corev1.ConfigMap{ObjectMeta: meta.ObjectMeta{Name: "free"}})
	if err := f.nss.Delete(f.ctx, "slow", meta.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	apitest.Eventually(t, "conditions explain the wait", func() error {
		ns, err := f.nss.Get(f.ctx, "slow")
		if err != nil {
			return err
		}
		got := map[corev1.NamespaceConditionType]string{}
		for _, c := range ns.Status.Conditions {
			got[c.Type] = string(c.Status) + " " + c.Message
		}
		want := map[corev1.NamespaceConditionType]string{
			corev1.NamespaceContentRemaining:    "True Some resources are remaining: configmaps has 1 resource instances, pods has 1 resource instances",
			corev1.NamespaceFinalizersRemaining: "True Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances",
		}
		for typ, w := range want {
			if got[typ] != w {
				return fmt.Errorf("%s = %q, want %q", typ, got[typ], w)
			}
		}
		if ns.Status.Phase != corev1.NamespaceTerminating {
			return fmt.Errorf("phase %s", ns.Status.Phase)
		}
		return nil
	})

	// The kubelet's part (force deletion) and the finalizer's owner's part.
	pods := client.NewResource[corev1.Pod](f.c, controller.PodsResource, true).Namespace("slow")
	if err := pods.Delete(f.ctx, "bound", meta.DeleteOptions{GracePeriodSeconds: meta.Int64p(0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.Dynamic().Patch(f.ctx, configMaps, "slow", "held", client.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), client.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	f.waitGone("slow")
}
