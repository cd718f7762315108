package v1

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"github.com/kl-dev/kl/pkg/api/core/v1/apitest"
	"github.com/kl-dev/kl/pkg/api/intstr"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/api/resource"
)

// defaultGolden decodes testdata/defaults/NAME.in.json into obj, applies
// setDefaults, and compares the result with NAME.out.json. It then applies
// the defaults again to check they are idempotent.
func defaultGolden[T any](t *testing.T, name string, setDefaults func(*T)) {
	t.Helper()
	in, err := os.ReadFile("testdata/defaults/" + name + ".in.json")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("testdata/defaults/" + name + ".out.json")
	if err != nil {
		t.Fatal(err)
	}
	obj := new(T)
	if err := json.Unmarshal(in, obj); err != nil {
		t.Fatal(err)
	}
	setDefaults(obj)
	got, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	apitest.AssertSameJSON(t, want, got)
	setDefaults(obj)
	again, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	apitest.AssertSameJSON(t, got, again)
}

func TestSetDefaultsPodMatchesKubernetes(t *testing.T) {
	defaultGolden(t, "pod", SetDefaultsPod)
}

func TestSetDefaultsServiceMatchesKubernetes(t *testing.T) {
	defaultGolden(t, "service", SetDefaultsService)
}

func TestImagePullPolicyDefault(t *testing.T) {
	tests := []struct {
		image string
		want  PullPolicy
	}{
		{"nginx", PullAlways},
		{"nginx:latest", PullAlways},
		{"nginx:1.25", PullIfNotPresent},
		{"docker.io/library/nginx", PullAlways},
		{"localhost:5000/nginx", PullAlways},
		{"localhost:5000/nginx:v1", PullIfNotPresent},
		{"registry.example.com:5000/team/app:latest", PullAlways},
		{"nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", PullIfNotPresent},
		{"nginx:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", PullAlways},
		{"Example.com/app", PullAlways},
		// Not valid references: Kubernetes falls back to IfNotPresent.
		{"", PullIfNotPresent},
		{"NGINX", PullIfNotPresent},
		{"library/Nginx", PullIfNotPresent},
		{"nginx:", PullIfNotPresent},
		{"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", PullIfNotPresent},
	}
	for _, tt := range tests {
		c := Container{Name: "c", Image: tt.image}
		SetDefaultsContainer(&c)
		if c.ImagePullPolicy != tt.want {
			t.Errorf("image %q: imagePullPolicy = %s, want %s", tt.image, c.ImagePullPolicy, tt.want)
		}
	}
	c := Container{Image: "nginx", ImagePullPolicy: PullNever}
	SetDefaultsContainer(&c)
	if c.ImagePullPolicy != PullNever {
		t.Error("explicit pull policy overwritten")
	}
}

func TestPodTemplateDefaultsLeaveRequestsAndServiceLinksAlone(t *testing.T) {
	tmpl := PodTemplateSpec{Spec: PodSpec{Containers: []Container{{
		Name: "c", Image: "x:1",
		Resources: ResourceRequirements{Limits: ResourceList{ResourceCPU: resource.MustParse("1")}},
	}}}}
	SetDefaultsPodTemplateSpec(&tmpl)
	if tmpl.Spec.Containers[0].Resources.Requests != nil {
		t.Error("template requests defaulted from limits")
	}
	if tmpl.Spec.EnableServiceLinks != nil {
		t.Error("template enableServiceLinks defaulted")
	}
	if tmpl.Spec.RestartPolicy != RestartPolicyAlways || tmpl.Spec.SecurityContext == nil {
		t.Error("template pod spec not defaulted")
	}
}

func TestHostNetworkPodsGetHostPorts(t *testing.T) {
	pod := Pod{Spec: PodSpec{HostNetwork: true, Containers: []Container{{
		Name: "c", Ports: []ContainerPort{{ContainerPort: 80}, {ContainerPort: 81, HostPort: 9081}},
	}}}}
	SetDefaultsPod(&pod)
	ports := pod.Spec.Containers[0].Ports
	if ports[0].HostPort != 80 || ports[1].HostPort != 9081 {
		t.Errorf("host ports = %d, %d", ports[0].HostPort, ports[1].HostPort)
	}
}

func TestServiceAccountAliasesAreKeptEqual(t *testing.T) {
	tests := []struct{ name, deprecated, want string }{
		{"a", "", "a"},
		{"", "b", "b"},
		{"a", "b", "a"},
		{"", "", ""},
	}
	for _, tt := range tests {
		s := PodSpec{ServiceAccountName: tt.name, DeprecatedServiceAccount: tt.deprecated}
		SetDefaultsPodSpec(&s)
		if s.ServiceAccountName != tt.want || s.DeprecatedServiceAccount != tt.want {
			t.Errorf("(%q, %q) -> (%q, %q), want %q", tt.name, tt.deprecated, s.ServiceAccountName, s.DeprecatedServiceAccount, tt.want)
		}
	}
}

func TestPodStatusIPListsAreKeptConsistent(t *testing.T) {
	pod := Pod{Status: PodStatus{HostIP: "10.0.0.1", PodIPs: []PodIP{{IP: "10.244.0.2"}, {IP: "fd00::2"}}}}
	SetDefaultsPod(&pod)
	if pod.Status.PodIP != "10.244.0.2" || len(pod.Status.HostIPs) != 1 || pod.Status.HostIPs[0].IP != "10.0.0.1" {
		t.Errorf("status = %+v", pod.Status)
	}
}

func TestSetDefaultsService(t *testing.T) {
	i32 := func(v int32) *int32 { return &v }
	cluster := ServiceInternalTrafficPolicyCluster
	vip := LoadBalancerIPModeVIP
	tests := []struct {
		name string
		in   ServiceSpec
		st   ServiceStatus
		want ServiceSpec
		wst  ServiceStatus
	}{
		{
			name: "empty service is a ClusterIP service",
			want: ServiceSpec{Type: ServiceTypeClusterIP, SessionAffinity: ServiceAffinityNone, InternalTrafficPolicy: &cluster},
		},
		{
			name: "ClientIP affinity gets the default timeout",
			in:   ServiceSpec{SessionAffinity: ServiceAffinityClientIP},
			want: ServiceSpec{Type: ServiceTypeClusterIP, SessionAffinity: ServiceAffinityClientIP, InternalTrafficPolicy: &cluster,
				SessionAffinityConfig: &SessionAffinityConfig{ClientIP: &ClientIPConfig{TimeoutSeconds: i32(10800)}}},
		},
		{
			name: "affinity None drops the affinity config",
			in:   ServiceSpec{SessionAffinityConfig: &SessionAffinityConfig{ClientIP: &ClientIPConfig{TimeoutSeconds: i32(5)}}},
			want: ServiceSpec{Type: ServiceTypeClusterIP, SessionAffinity: ServiceAffinityNone, InternalTrafficPolicy: &cluster},
		},
		{
			name: "external IPs make a ClusterIP service externally accessible",
			in:   ServiceSpec{ExternalIPs: []string{"192.0.2.1"}},
			want: ServiceSpec{Type: ServiceTypeClusterIP, SessionAffinity: ServiceAffinityNone, InternalTrafficPolicy: &cluster,
				ExternalIPs: []string{"192.0.2.1"}, ExternalTrafficPolicy: ServiceExternalTrafficPolicyCluster},
		},
		{
			name: "load balancer",
			in:   ServiceSpec{Type: ServiceTypeLoadBalancer},
			st:   ServiceStatus{LoadBalancer: LoadBalancerStatus{Ingress: []LoadBalancerIngress{{IP: "203.0.113.1"}, {Hostname: "lb"}}}},
			want: ServiceSpec{Type: ServiceTypeLoadBalancer, SessionAffinity: ServiceAffinityNone, InternalTrafficPolicy: &cluster,
				ExternalTrafficPolicy: ServiceExternalTrafficPolicyCluster, AllocateLoadBalancerNodePorts: meta.Boolp(true)},
			wst: ServiceStatus{LoadBalancer: LoadBalancerStatus{Ingress: []LoadBalancerIngress{{IP: "203.0.113.1", IPMode: &vip}, {Hostname: "lb"}}}},
		},
		{
			name: "ExternalName gets no traffic policies",
			in:   ServiceSpec{Type: ServiceTypeExternalName, ExternalName: "db.example.com"},
			want: ServiceSpec{Type: ServiceTypeExternalName, ExternalName: "db.example.com", SessionAffinity: ServiceAffinityNone},
		},
		{
			name: "headless service lists None in clusterIPs",
			in:   ServiceSpec{ClusterIP: ClusterIPNone},
			want: ServiceSpec{Type: ServiceTypeClusterIP, SessionAffinity: ServiceAffinityNone, InternalTrafficPolicy: &cluster,
				ClusterIP: ClusterIPNone, ClusterIPs: []string{ClusterIPNone}},
		},
		{
			name: "clusterIPs wins over clusterIP",
			in:   ServiceSpec{ClusterIP: "10.0.0.1", ClusterIPs: []string{"10.0.0.2", "fd00::2"}},
			want: ServiceSpec{Type: ServiceTypeClusterIP, SessionAffinity: ServiceAffinityNone, InternalTrafficPolicy: &cluster,
				ClusterIP: "10.0.0.2", ClusterIPs: []string{"10.0.0.2", "fd00::2"}},
		},
		{
			name: "empty string targetPort becomes the port",
			in:   ServiceSpec{Ports: []ServicePort{{Port: 8080, TargetPort: intstr.FromString("")}}},
			want: ServiceSpec{Type: ServiceTypeClusterIP, SessionAffinity: ServiceAffinityNone, InternalTrafficPolicy: &cluster,
				Ports: []ServicePort{{Port: 8080, Protocol: ProtocolTCP, TargetPort: intstr.FromInt32(8080)}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := Service{Spec: tt.in, Status: tt.st}
			SetDefaultsService(&svc)
			if !reflect.DeepEqual(svc.Spec, tt.want) {
				t.Errorf("spec = %+v\nwant %+v", svc.Spec, tt.want)
			}
			if !reflect.DeepEqual(svc.Status, tt.wst) {
				t.Errorf("status = %+v\nwant %+v", svc.Status, tt.wst)
			}
		})
	}
}

func TestSetDefaultsNamespace(t *testing.T) {
	ns := Namespace{ObjectMeta: meta.ObjectMeta{Name: "shop", Labels: map[string]string{"team": "a"}}}
	SetDefaultsNamespace(&ns)
	if ns.Labels[LabelMetadataName] != "shop" || ns.Labels["team"] != "a" || ns.Status.Phase != NamespaceActive {
		t.Errorf("namespace = %+v", ns)
	}
	unnamed := Namespace{ObjectMeta: meta.ObjectMeta{GenerateName: "tmp-"}}
	SetDefaultsNamespace(&unnamed)
	if unnamed.Labels != nil {
		t.Errorf("unnamed namespace labelled: %v", unnamed.Labels)
	}
	term := Namespace{Status: NamespaceStatus{Phase: NamespaceTerminating}}
	SetDefaultsNamespace(&term)
	if term.Status.Phase != NamespaceTerminating {
		t.Error("phase overwritten")
	}
}

func TestSetDefaultsSecretMergesStringData(t *testing.T) {
	s := Secret{
		Data:       map[string][]byte{"a": []byte("old"), "b": []byte("keep")},
		StringData: map[string]string{"a": "new", "c": "added"},
	}
	SetDefaultsSecret(&s)
	want := map[string][]byte{"a": []byte("new"), "b": []byte("keep"), "c": []byte("added")}
	if !reflect.DeepEqual(s.Data, want) || s.StringData != nil || s.Type != SecretTypeOpaque {
		t.Errorf("secret = %+v", s)
	}
	tls := Secret{Type: SecretTypeTLS}
	SetDefaultsSecret(&tls)
	if tls.Type != SecretTypeTLS || tls.Data != nil {
		t.Errorf("secret = %+v", tls)
	}
}

func TestSetDefaultsNode(t *testing.T) {
	n := Node{
		Spec:   NodeSpec{PodCIDR: "10.244.1.0/24"},
		Status: NodeStatus{Capacity: ResourceList{ResourceCPU: resource.MustParse("4"), ResourceMemory: resource.MustParse("0.0001")}},
	}
	SetDefaultsNode(&n)
	if got := n.Status.Allocatable.Cpu().String(); got != "4" {
		t.Errorf("allocatable cpu = %s", got)
	}
	if got := n.Status.Capacity[ResourceMemory]; got.String() != "1m" {
		t.Errorf("capacity memory = %s, want rounded up to 1m", got.String())
	}
	// Allocatable is a copy, not an alias, of capacity.
	n.Status.Capacity[ResourcePods] = resource.MustParse("110")
	if _, ok := n.Status.Allocatable[ResourcePods]; ok {
		t.Error("allocatable aliases capacity")
	}
	if len(n.Spec.PodCIDRs) != 1 || n.Spec.PodCIDRs[0] != "10.244.1.0/24" {
		t.Errorf("podCIDRs = %v", n.Spec.PodCIDRs)
	}
}

func TestSetDefaultsEndpoints(t *testing.T) {
	ep := Endpoints{Subsets: []EndpointSubset{{Ports: []EndpointPort{{Port: 80}, {Port: 53, Protocol: ProtocolUDP}}}}}
	SetDefaultsEndpoints(&ep)
	if p := ep.Subsets[0].Ports; p[0].Protocol != ProtocolTCP || p[1].Protocol != ProtocolUDP {
		t.Errorf("ports = %+v", p)
	}
}
