package endpoints

import (
	"encoding/json"
	"testing"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/intstr"
	"github.com/kl-dev/kl/pkg/api/meta"
)

type podOpt func(*corev1.Pod)

func ready(p *corev1.Pod) {
	p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionTrue})
}

func port(name string, n int32) podOpt {
	return func(p *corev1.Pod) {
		p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports, corev1.ContainerPort{Name: name, ContainerPort: n, Protocol: corev1.ProtocolTCP})
	}
}

func onNode(n string) podOpt { return func(p *corev1.Pod) { p.Spec.NodeName = n } }

func testPod(name, ip string, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: meta.ObjectMeta{Name: name, Namespace: "ns", UID: "uid-" + name, Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "img"}}, RestartPolicy: corev1.RestartPolicyAlways},
		Status:     corev1.PodStatus{PodIP: ip, Phase: corev1.PodRunning},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func testService(ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: meta.ObjectMeta{Name: "web", Namespace: "ns"},
		Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: ports, ClusterIP: "10.96.0.10"},
	}
}

func addr(ip, pod string, node ...string) corev1.EndpointAddress {
	a := corev1.EndpointAddress{IP: ip, TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: "ns", Name: pod, UID: "uid-" + pod}}
	if len(node) > 0 {
		a.NodeName = &node[0]
	}
	return a
}

func tcp(name string, n int32) corev1.EndpointPort {
	return corev1.EndpointPort{Name: name, Port: n, Protocol: corev1.ProtocolTCP}
}

var (
	httpNamed = corev1.ServicePort{Name: "http", Port: 80, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP}
	httpNum   = corev1.ServicePort{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080), Protocol: corev1.ProtocolTCP}
)

func TestComputeSubsets(t *testing.T) {
	deleting := func(p *corev1.Pod) { now := meta.Now(); p.DeletionTimestamp = &now }
	tests := []struct {
		name string
		svc  *corev1.Service
		pods []*corev1.Pod
		want []corev1.EndpointSubset
	}{{
		name: "ready and not ready pods, addresses sorted by IP numerically",
		svc:  testService(httpNum),
		pods: []*corev1.Pod{
			testPod("b", "10.0.0.10", ready, onNode("n1")),
			testPod("a", "10.0.0.9", ready),
			testPod("c", "10.0.0.3"),
		},
		want: []corev1.EndpointSubset{{
			Addresses:         []corev1.EndpointAddress{addr("10.0.0.9", "a"), addr("10.0.0.10", "b", "n1")},
			NotReadyAddresses: []corev1.EndpointAddress{addr("10.0.0.3", "c")},
			Ports:             []corev1.EndpointPort{tcp("http", 8080)},
		}},
	}, {
		name: "pods without an IP, terminating or finished are left out",
		svc:  testService(httpNum),
		pods: []*corev1.Pod{
			testPod("noip", "", ready),
			testPod("del", "10.0.0.2", ready, deleting),
			testPod("done", "10.0.0.3", ready, func(p *corev1.Pod) {
				p.Spec.RestartPolicy = corev1.RestartPolicyNever
				p.Status.Phase = corev1.PodSucceeded
			}),
			testPod("ok", "10.0.0.4", ready),
		},
		want: []corev1.EndpointSubset{{
			Addresses: []corev1.EndpointAddress{addr("10.0.0.4", "ok")},
			Ports:     []corev1.EndpointPort{tcp("http", 8080)},
		}},
	}, {
		name: "publishNotReadyAddresses lists unready and terminating pods as ready",
		svc: func() *corev1.Service {
			s := testService(httpNum)
			s.Spec.PublishNotReadyAddresses = true
			return s
		}(),
		pods: []*corev1.Pod{testPod("a", "10.0.0.1"), testPod("b", "10.0.0.2", deleting)},
		want: []corev1.EndpointSubset{{
			Addresses: []corev1.EndpointAddress{addr("10.0.0.1", "a"), addr("10.0.0.2", "b")},
			Ports:     []corev1.EndpointPort{tcp("http", 8080)},
		}},
	}, {
		name: "a named targetPort resolving to different numbers splits subsets",
		svc:  testService(httpNamed),
		pods: []*corev1.Pod{
			testPod("a", "10.0.0.1", ready, port("http", 8080)),
			testPod("b", "10.0.0.2", ready, port("http", 9090)),
			testPod("c", "10.0.0.3", port("http", 8080)),
			testPod("none", "10.0.0.4", ready, port("metrics", 9100)),
		},
		want: []corev1.EndpointSubset{{
			Addresses:         []corev1.EndpointAddress{addr("10.0.0.1", "a")},
			NotReadyAddresses: []corev1.EndpointAddress{addr("10.0.0.3", "c")},
			Ports:             []corev1.EndpointPort{tcp("http", 8080)},
		}, {
			Addresses: []corev1.EndpointAddress{addr("10.0.0.2", "b")},
			Ports:     []corev1.EndpointPort{tcp("http", 9090)},
		}},
	}, {
		name: "a pod lacking one named port serves the others only",
		svc:  testService(httpNamed, corev1.ServicePort{Name: "admin", Port: 81, TargetPort: intstr.FromString("admin"), Protocol: corev1.ProtocolTCP}),
		pods: []*corev1.Pod{
			testPod("both", "10.0.0.1", ready, port("http", 8080), port("admin", 8081)),
			testPod("http", "10.0.0.2", ready, port("http", 8080)),
		},
		want: []corev1.EndpointSubset{{
			Addresses: []corev1.EndpointAddress{addr("10.0.0.1", "both")},
			Ports:     []corev1.EndpointPort{tcp("admin", 8081), tcp("http", 8080)},
		}, {
			Addresses: []corev1.EndpointAddress{addr("10.0.0.2", "http")},
			Ports:     []corev1.EndpointPort{tcp("http", 8080)},
		}},
	}, {
		name: "a named port of another protocol does not match",
		svc:  testService(corev1.ServicePort{Name: "dns", Port: 53, TargetPort: intstr.FromString("dns"), Protocol: corev1.ProtocolUDP}),
		pods: []*corev1.Pod{testPod("a", "10.0.0.1", ready, port("dns", 53))},
		want: nil,
	}, {
		name: "headless service without ports lists addresses with no ports",
		svc: func() *corev1.Service {
			s := testService()
			s.Spec.ClusterIP = corev1.ClusterIPNone
			return s
		}(),
		pods: []*corev1.Pod{testPod("a", "10.0.0.1", ready, func(p *corev1.Pod) {
			p.Spec.Hostname, p.Spec.Subdomain = "a0", "web"
		})},
		want: []corev1.EndpointSubset{{
			Addresses: []corev1.EndpointAddress{func() corev1.EndpointAddress { a := addr("10.0.0.1", "a"); a.Hostname = "a0"; return a }()},
		}},
	}, {
		name: "no pods, no subsets",
		svc:  testService(httpNum),
		want: nil,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := computeSubsets(tt.svc, tt.pods)
			if g, w := mustJSON(t, got), mustJSON(t, tt.want); g != w {
				t.Errorf("subsets:\n got %s\nwant %s", g, w)
			}
			// The order of the pods must not matter (no churn).
			rev := make([]*corev1.Pod, len(tt.pods))
			for i, p := range tt.pods {
				rev[len(tt.pods)-1-i] = p
			}
			if g2 := mustJSON(t, computeSubsets(tt.svc, rev)); g2 != mustJSON(t, got) {
				t.Errorf("subsets depend on pod order:\n%s\n%s", g2, mustJSON(t, got))
			}
		})
	}
}

func TestPodChangedIgnoresIrrelevantUpdates(t *testing.T) {
	a := testPod("a", "10.0.0.1", ready)
	b := a.DeepCopy()
	b.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "c", RestartCount: 3}}
	if podChanged(a, b) {
		t.Error("a restart count change should not requeue services")
	}
	c := a.DeepCopy()
	c.Status.Conditions = nil
	if !podChanged(a, c) {
		t.Error("a readiness change must requeue services")
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
