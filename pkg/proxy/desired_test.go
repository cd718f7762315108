package proxy

import (
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/intstr"
	"github.com/kl-dev/kl/pkg/api/meta"
)

func testService(mutate ...func(*corev1.Service)) *corev1.Service {
	svc := &corev1.Service{
		ObjectMeta: meta.ObjectMeta{Namespace: "default", Name: "web"},
		Spec: corev1.ServiceSpec{
			Type:      corev1.ServiceTypeClusterIP,
			ClusterIP: "10.96.0.10",
			Ports:     []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80, TargetPort: intstr.FromString("http")}},
		},
	}
	for _, m := range mutate {
		m(svc)
	}
	return svc
}

func nodePort(svc *corev1.Service) {
	svc.Spec.Type = corev1.ServiceTypeNodePort
	svc.Spec.Ports[0].NodePort = 30080
}

func ptr[T any](v T) *T { return &v }

func testEndpoints() *corev1.Endpoints {
	return &corev1.Endpoints{
		ObjectMeta: meta.ObjectMeta{Namespace: "default", Name: "web"},
		Subsets: []corev1.EndpointSubset{
			{
				Addresses: []corev1.EndpointAddress{
					{IP: "10.88.0.6", NodeName: ptr("node-2")},
					{IP: "10.88.0.5", NodeName: ptr("node-1")},
				},
				NotReadyAddresses: []corev1.EndpointAddress{{IP: "10.88.0.7", NodeName: ptr("node-1")}},
				Ports:             []corev1.EndpointPort{{Name: "http", Port: 8080, Protocol: corev1.ProtocolTCP}, {Name: "metrics", Port: 9090}},
			},
			{
				Addresses: []corev1.EndpointAddress{{IP: "10.88.1.5", NodeName: ptr("node-1")}},
				Ports:     []corev1.EndpointPort{{Name: "http", Port: 8081}},
			},
		},
	}
}

var testEnv = environment{
	NodeName:          "node-1",
	ClusterIPs:        true,
	NodePortAddresses: []netip.Addr{netip.MustParseAddr("0.0.0.0")},
	IsLocal:           func(a netip.Addr) bool { return a == netip.MustParseAddr("192.0.2.2") },
}

// frontends renders the frontends as "addr[ local][ clusterIP]->port".
func frontends(d desiredService) string {
	var out []string
	for _, fe := range d.Frontends {
		s := fe.Addr.String()
		if fe.Local {
			s += " local"
		}
		if fe.ClusterIP {
			s += " clusterIP"
		}
		out = append(out, s+"->"+fe.Port)
	}
	return strings.Join(out, ", ")
}

func TestDesiredFrontendsByServiceType(t *testing.T) {
	tests := []struct {
		name string
		svc  *corev1.Service
		env  func(*environment)
		want string
	}{
		{"deleted", nil, nil, ""},
		{"ClusterIP", testService(), nil, "10.96.0.10:80 clusterIP->http"},
		{"ClusterIP without the service interface", testService(), func(e *environment) { e.ClusterIPs = false }, ""},
		{"headless", testService(func(s *corev1.Service) { s.Spec.ClusterIP = corev1.ClusterIPNone }), nil, ""},
		{"ClusterIP not allocated", testService(func(s *corev1.Service) { s.Spec.ClusterIP = "" }), nil, ""},
		{"ExternalName", testService(func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeExternalName
			s.Spec.ExternalName = "example.com"
		}), nil, ""},
		{"NodePort", testService(nodePort), nil, "10.96.0.10:80 clusterIP->http, 0.0.0.0:30080->http"},
		{"NodePort on the node IP and loopback", testService(nodePort), func(e *environment) {
			e.NodePortAddresses = []netip.Addr{netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("127.0.0.1")}
		}, "10.96.0.10:80 clusterIP->http, 192.0.2.2:30080->http, 127.0.0.1:30080->http"},
		{"LoadBalancer serves its local ingress IPs on the service port", testService(nodePort, func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeLoadBalancer
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.2"}, {IP: "192.0.2.3"}, {Hostname: "lb.example.com"}}
		}), nil, "10.96.0.10:80 clusterIP->http, 0.0.0.0:30080->http, 192.0.2.2:80->http"},
		{"ingress IPs of a Service that is no LoadBalancer are ignored", testService(func(s *corev1.Service) {
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.2"}}
		}), nil, "10.96.0.10:80 clusterIP->http"},
		{"external IPs, local ones only", testService(func(s *corev1.Service) {
			s.Spec.ExternalIPs = []string{"192.0.2.3", "192.0.2.2"}
		}), nil, "10.96.0.10:80 clusterIP->http, 192.0.2.2:80->http"},
		{"traffic policies Local", testService(nodePort, func(s *corev1.Service) {
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
			s.Spec.InternalTrafficPolicy = ptr(corev1.ServiceInternalTrafficPolicyLocal)
		}), nil, "10.96.0.10:80 local clusterIP->http, 0.0.0.0:30080 local->http"},
		{"dual-stack ClusterIPs", testService(func(s *corev1.Service) {
			s.Spec.ClusterIPs = []string{"10.96.0.10", "fd00:10:96::a"}
		}), nil, "10.96.0.10:80 clusterIP->http, [fd00:10:96::a]:80 clusterIP->http"},
		{"UDP ports are not served", testService(func(s *corev1.Service) {
			s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: "dns", Protocol: corev1.ProtocolUDP, Port: 53})
		}), nil, "10.96.0.10:80 clusterIP->http"},
		{"only UDP ports: no address either", testService(func(s *corev1.Service) {
			s.Spec.Ports = []corev1.ServicePort{{Name: "dns", Protocol: corev1.ProtocolUDP, Port: 53}}
		}), nil, ""},
		{"two ports", testService(nodePort, func(s *corev1.Service) {
			s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: "metrics", Protocol: corev1.ProtocolTCP, Port: 9090, NodePort: 30090})
		}), nil, "10.96.0.10:80 clusterIP->http, 0.0.0.0:30080->http, 10.96.0.10:9090 clusterIP->metrics, 0.0.0.0:30090->metrics"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := testEnv
			if tt.env != nil {
				tt.env(&env)
			}
			d := desiredState(tt.svc, testEndpoints(), env)
			if got := frontends(d); got != tt.want {
				t.Errorf("frontends:\n got %s\nwant %s", got, tt.want)
			}
			wantIPs := 0
			if strings.Contains(tt.want, "clusterIP") {
				wantIPs = len(serviceClusterIPs(tt.svc))
			}
			if len(d.ClusterIPs) != wantIPs {
				t.Errorf("ClusterIPs = %v, want %d", d.ClusterIPs, wantIPs)
			}
		})
	}
}

func TestDesiredBackendsAreReadyEndpointsOfTheNamedPort(t *testing.T) {
	svc := testService(func(s *corev1.Service) {
		s.Spec.Ports = append(s.Spec.Ports,
			corev1.ServicePort{Name: "metrics", Protocol: corev1.ProtocolTCP, Port: 9090},
			corev1.ServicePort{Name: "missing", Protocol: corev1.ProtocolTCP, Port: 7070},
			corev1.ServicePort{Name: "dns", Protocol: corev1.ProtocolUDP, Port: 53})
	})
	d := desiredState(svc, testEndpoints(), testEnv)
	want := []desiredPort{
		{Name: "http", Backends: []string{"10.88.0.5:8080", "10.88.0.6:8080", "10.88.1.5:8081"}, Local: []string{"10.88.0.5:8080", "10.88.1.5:8081"}},
		{Name: "metrics", Backends: []string{"10.88.0.5:9090", "10.88.0.6:9090"}, Local: []string{"10.88.0.5:9090"}},
		{Name: "missing"},
	}
	if !reflect.DeepEqual(d.Ports, want) {
		t.Errorf("ports:\n got %+v\nwant %+v", d.Ports, want)
	}
	if fmt.Sprint(d.Unsupported) != "[dns/UDP]" {
		t.Errorf("unsupported = %v, want [dns/UDP]", d.Unsupported)
	}
	if d := desiredState(svc, nil, testEnv); len(d.Ports) != 4-1 || d.Ports[0].Backends != nil {
		t.Errorf("without Endpoints: ports %+v, want 3 ports without backends", d.Ports)
	}
}

func TestDesiredSessionAffinity(t *testing.T) {
	tests := []struct {
		name string
		svc  *corev1.Service
		want time.Duration
	}{
		{"none", testService(), 0},
		{"ClientIP, default timeout", testService(func(s *corev1.Service) { s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP }), 3 * time.Hour},
		{"ClientIP, 60s", testService(func(s *corev1.Service) {
			s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
			s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr(int32(60))}}
		}), time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := desiredState(tt.svc, testEndpoints(), testEnv)
			if got := d.Ports[0].Affinity; got != tt.want {
				t.Errorf("affinity = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNodePortAddresses(t *testing.T) {
	tests := []struct {
		bind, nodeIP string
		want         string
	}{
		{"", "", "[0.0.0.0]"},
		{"", "192.0.2.2", "[192.0.2.2 127.0.0.1]"},
		{"", "127.0.0.1", "[127.0.0.1]"},
		{"0.0.0.0", "192.0.2.2", "[0.0.0.0]"},
		{"::", "", "[::]"},
		{"127.0.0.5", "192.0.2.2", "[127.0.0.5]"},
		{"192.0.2.9", "192.0.2.2", "[192.0.2.9 127.0.0.1]"},
	}
	for _, tt := range tests {
		t.Run(tt.bind+"/"+tt.nodeIP, func(t *testing.T) {
			var c Config
			if tt.bind != "" {
				c.BindAddress = netip.MustParseAddr(tt.bind)
			}
			if tt.nodeIP != "" {
				c.NodeIP = netip.MustParseAddr(tt.nodeIP)
			}
			if got := fmt.Sprint(c.NodePortAddresses()); got != tt.want {
				t.Errorf("NodePortAddresses = %s, want %s", got, tt.want)
			}
		})
	}
}
