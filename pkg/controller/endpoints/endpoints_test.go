package endpoints

import (
	"context"
	"fmt"
	"testing"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/intstr"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/controller"
	"github.com/kl-dev/kl/pkg/controller/internal/apitest"
)

type fixture struct {
	t    *testing.T
	ctx  context.Context
	pods *client.Resource[corev1.Pod, *corev1.Pod]
	svcs *client.Resource[corev1.Service, *corev1.Service]
	eps  *client.Resource[corev1.Endpoints, *corev1.Endpoints]
}

func start(t *testing.T) *fixture {
	c := apitest.Start(t)
	inf := controller.NewInformers(c, nil)
	ctrl, err := New(Config{Client: c, Services: inf.Services(), Pods: inf.Pods(), Endpoints: inf.Endpoints()})
	if err != nil {
		t.Fatal(err)
	}
	apitest.Run(t, inf, ctrl)
	return &fixture{
		t:    t,
		ctx:  apitest.Context(t),
		pods: client.NewResource[corev1.Pod](c, controller.PodsResource, true).Namespace("default"),
		svcs: client.NewResource[corev1.Service](c, controller.ServicesResource, true).Namespace("default"),
		eps:  client.NewResource[corev1.Endpoints](c, controller.EndpointsResource, true).Namespace("default"),
	}
}

// createPod creates a pod of app=web whose container has the named port,
// then sets its IP and readiness as a kubelet would.
func (f *fixture) createPod(name, ip string, containerPort int32, isReady bool) *corev1.Pod {
	f.t.Helper()
	p := &corev1.Pod{
		ObjectMeta: meta.ObjectMeta{Name: name, Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "c", Image: "img",
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: containerPort}},
		}}},
	}
	created, err := f.pods.Create(f.ctx, p, client.CreateOptions{})
	if err != nil {
		f.t.Fatalf("create pod %s: %v", name, err)
	}
	return f.setStatus(created, ip, isReady)
}

func (f *fixture) setStatus(p *corev1.Pod, ip string, isReady bool) *corev1.Pod {
	f.t.Helper()
	cp := p.DeepCopy()
	cp.Status.Phase = corev1.PodRunning
	cp.Status.PodIP = ip
	st := corev1.ConditionFalse
	if isReady {
		st = corev1.ConditionTrue
	}
	cp.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}
	out, err := f.pods.UpdateStatus(f.ctx, cp, client.UpdateOptions{})
	if err != nil {
		f.t.Fatalf("update pod %s status: %v", p.Name, err)
	}
	return out
}

// waitEndpoints waits until the Endpoints "web" list, per subset, the
// ready and not-ready pod names and the ports given as
// "ready=a,b notReady=c ports=http:8080".
func (f *fixture) waitEndpoints(want ...string) {
	f.t.Helper()
	apitest.Eventually(f.t, "endpoints web", func() error {
		ep, err := f.eps.Get(f.ctx, "web")
		if err != nil {
			return err
		}
		got := summarize(ep)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Errorf("got %q, want %q", got, want)
		}
		return nil
	})
}

func summarize(ep *corev1.Endpoints) []string {
	var out []string
	names := func(as []corev1.EndpointAddress) string {
		s := ""
		for i, a := range as {
			if i > 0 {
				s += ","
			}
			s += a.TargetRef.Name + "@" + a.IP
		}
		return s
	}
	for _, ss := range ep.Subsets {
		ports := ""
		for i, p := range ss.Ports {
			if i > 0 {
				ports += ","
			}
			ports += fmt.Sprintf("%s:%d", p.Name, p.Port)
		}
		out = append(out, fmt.Sprintf("ready=%s notReady=%s ports=%s", names(ss.Addresses), names(ss.NotReadyAddresses), ports))
	}
	return out
}

func TestEndpointsListReadyPodsAndFollowReadiness(t *testing.T) {
	f := start(t)
	_, err := f.svcs.Create(f.ctx, &corev1.Service{
		ObjectMeta: meta.ObjectMeta{Name: "web", Labels: map[string]string{"tier": "front"}},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "web"},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}},
		},
	}, client.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a := f.createPod("a", "10.1.0.1", 8080, true)
	b := f.createPod("b", "10.1.0.2", 8080, false)
	f.createPod("c", "10.1.0.3", 9090, true)
	// A pod the selector does not match never shows.
	if _, err := f.pods.Create(f.ctx, &corev1.Pod{
		ObjectMeta: meta.ObjectMeta{Name: "other", Labels: map[string]string{"app": "db"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "img"}}},
	}, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	f.waitEndpoints(
		"ready=a@10.1.0.1 notReady=b@10.1.0.2 ports=http:8080",
		"ready=c@10.1.0.3 notReady= ports=http:9090",
	)
	ep, err := f.eps.Get(f.ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	if ep.Labels["tier"] != "front" {
		t.Errorf("endpoints labels = %v, want the service's", ep.Labels)
	}
	if r := ep.Subsets[0].Addresses[0].TargetRef; r.Kind != "Pod" || r.UID != a.UID || r.Namespace != "default" {
		t.Errorf("targetRef = %+v, want pod a", r)
	}

	// b becomes ready, a stops being ready.
	f.setStatus(b, "10.1.0.2", true)
	f.setStatus(a, "10.1.0.1", false)
	f.waitEndpoints(
		"ready=b@10.1.0.2 notReady=a@10.1.0.1 ports=http:8080",
		"ready=c@10.1.0.3 notReady= ports=http:9090",
	)

	// A deleted pod leaves.
	if err := f.pods.Delete(f.ctx, "a", meta.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	f.waitEndpoints(
		"ready=b@10.1.0.2 notReady= ports=http:8080",
		"ready=c@10.1.0.3 notReady= ports=http:9090",
	)

	// Endpoints edited by hand are put back.
	cur, err := f.eps.Get(f.ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	cur.Subsets = nil
	if _, err := f.eps.Update(f.ctx, cur, client.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.waitEndpoints(
		"ready=b@10.1.0.2 notReady= ports=http:8080",
		"ready=c@10.1.0.3 notReady= ports=http:9090",
	)

	// The Endpoints go with the service.
	if err := f.svcs.Delete(f.ctx, "web", meta.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	apitest.Eventually(t, "endpoints deleted", func() error {
		if _, err := f.eps.Get(f.ctx, "web"); !meta.IsNotFound(err) {
			return fmt.Errorf("get endpoints: %v", err)
		}
		return nil
	})
}

func TestEndpointsOfServiceWithoutSelectorAreLeftAlone(t *testing.T) {
	f := start(t)
	if _, err := f.svcs.Create(f.ctx, &corev1.Service{
		ObjectMeta: meta.ObjectMeta{Name: "ext"},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}},
	}, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	manual := &corev1.Endpoints{
		ObjectMeta: meta.ObjectMeta{Name: "ext"},
		Subsets: []corev1.EndpointSubset{{
			Addresses: []corev1.EndpointAddress{{IP: "192.0.2.1"}},
			Ports:     []corev1.EndpointPort{{Port: 80, Protocol: corev1.ProtocolTCP}},
		}},
	}
	if _, err := f.eps.Create(f.ctx, manual, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Once a selector service created afterwards has its Endpoints, the
	// controller is at work; the manual ones must be untouched.
	if _, err := f.svcs.Create(f.ctx, &corev1.Service{
		ObjectMeta: meta.ObjectMeta{Name: "web"},
		Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
	}, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.waitEndpoints()
	ep, err := f.eps.Get(f.ctx, "ext")
	if err != nil {
		t.Fatalf("manual endpoints: %v", err)
	}
	if len(ep.Subsets) != 1 || ep.Subsets[0].Addresses[0].IP != "192.0.2.1" {
		t.Errorf("manual endpoints changed: %+v", ep.Subsets)
	}
}
