package servicelb

import (
	"fmt"
	"testing"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/controller"
	"github.com/kl-dev/kl/pkg/controller/internal/apitest"
)

func node(name string, ready bool, addrs ...corev1.NodeAddress) *corev1.Node {
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	return &corev1.Node{
		ObjectMeta: meta.ObjectMeta{Name: name},
		Status: corev1.NodeStatus{
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: st}},
			Addresses:  addrs,
		},
	}
}

func internal(ip string) corev1.NodeAddress {
	return corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: ip}
}

func external(ip string) corev1.NodeAddress {
	return corev1.NodeAddress{Type: corev1.NodeExternalIP, Address: ip}
}

func TestIngressIsTheSortedAddressesOfReadyNodes(t *testing.T) {
	excluded := node("excluded", true, internal("10.0.0.5"))
	excluded.Labels = map[string]string{corev1.LabelNodeExcludeBalancers: ""}
	tests := []struct {
		name  string
		nodes []*corev1.Node
		want  string
	}{
		{"none", nil, ""},
		{"numeric order, not string order", []*corev1.Node{
			node("a", true, internal("10.0.0.10")),
			node("b", true, internal("10.0.0.9")),
		}, "10.0.0.9, 10.0.0.10"},
		{"InternalIP first, else ExternalIP", []*corev1.Node{
			node("a", true, external("203.0.113.1"), internal("10.0.0.1")),
			node("b", true, external("203.0.113.2")),
		}, "10.0.0.1, 203.0.113.2"},
		{"not ready, excluded and address-less nodes do not count", []*corev1.Node{
			node("a", false, internal("10.0.0.1")),
			excluded,
			node("c", true),
			node("d", true, internal("10.0.0.4")),
		}, "10.0.0.4"},
		{"duplicates collapse", []*corev1.Node{
			node("a", true, internal("10.0.0.1")),
			node("b", true, internal("10.0.0.1")),
		}, "10.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ips(ingress(tt.nodes)); got != tt.want {
				t.Errorf("ingress = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoadBalancerStatusFollowsReadyNodes(t *testing.T) {
	c := apitest.Start(t)
	ctx := apitest.Context(t)
	inf := controller.NewInformers(c, nil)
	ctrl, err := New(Config{Client: c, Services: inf.Services(), Nodes: inf.Nodes()})
	if err != nil {
		t.Fatal(err)
	}
	apitest.Run(t, inf, ctrl)
	nodes := client.NewResource[corev1.Node](c, controller.NodesResource, false)
	svcs := client.NewResource[corev1.Service](c, controller.ServicesResource, true).Namespace("default")

	putNode := func(n *corev1.Node) {
		t.Helper()
		cur, err := nodes.Get(ctx, n.Name)
		if meta.IsNotFound(err) {
			cur, err = nodes.Create(ctx, &corev1.Node{ObjectMeta: n.ObjectMeta}, client.CreateOptions{})
		}
		if err != nil {
			t.Fatal(err)
		}
		cur.Status = n.Status
		if _, err := nodes.UpdateStatus(ctx, cur, client.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	waitIngress := func(name, want string) {
		t.Helper()
		apitest.Eventually(t, "ingress of "+name, func() error {
			s, err := svcs.Get(ctx, name)
			if err != nil {
				return err
			}
			if got := ips(s.Status.LoadBalancer.Ingress); got != want {
				return fmt.Errorf("ingress = %q, want %q", got, want)
			}
			return nil
		})
	}

	putNode(node("n1", true, internal("10.0.0.2")))
	putNode(node("n2", true, internal("10.0.0.1")))
	putNode(node("n3", false, internal("10.0.0.3")))
	for _, s := range []*corev1.Service{
		{ObjectMeta: meta.ObjectMeta{Name: "lb"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Port: 80}}}},
		{ObjectMeta: meta.ObjectMeta{Name: "internal"}, Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Port: 80}}}},
	} {
		if _, err := svcs.Create(ctx, s, client.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	waitIngress("lb", "10.0.0.1, 10.0.0.2")

	putNode(node("n3", true, internal("10.0.0.3")))
	waitIngress("lb", "10.0.0.1, 10.0.0.2, 10.0.0.3")

	putNode(node("n1", false, internal("10.0.0.2")))
	waitIngress("lb", "10.0.0.1, 10.0.0.3")

	if err := nodes.Delete(ctx, "n2", meta.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitIngress("lb", "10.0.0.3")

	// A ClusterIP service never gets an ingress.
	s, err := svcs.Get(ctx, "internal")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Status.LoadBalancer.Ingress) != 0 {
		t.Errorf("ClusterIP service got ingress %v", s.Status.LoadBalancer.Ingress)
	}

	// A service that stops being a LoadBalancer loses its ingress.
	lb, err := svcs.Get(ctx, "lb")
	if err != nil {
		t.Fatal(err)
	}
	lb.Spec.Type = corev1.ServiceTypeClusterIP
	lb.Spec.ExternalTrafficPolicy = ""
	for i := range lb.Spec.Ports {
		lb.Spec.Ports[i].NodePort = 0
	}
	if _, err := svcs.Update(ctx, lb, client.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitIngress("lb", "")
}
