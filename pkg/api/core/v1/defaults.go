package v1

import (
	"regexp"
	"strings"

	"github.com/kl-dev/kl/pkg/api/intstr"
	"github.com/kl-dev/kl/pkg/api/resource"
)

// This file applies the defaults the Kubernetes apiserver applies when it
// decodes a core/v1 object (k8s.io/kubernetes/pkg/apis/core/v1 defaults.go
// and the generated defaulters), plus the field normalisations its v1
// conversions perform (serviceAccount <-> serviceAccountName, podIP <->
// podIPs, clusterIP <-> clusterIPs, podCIDR <-> podCIDRs, stringData ->
// data), so a defaulted object has the shape Kubernetes would store. Every
// function is idempotent.

// SetDefaultsPod defaults a pod: requests default to limits, service links
// are enabled, host-network pods get hostPort = containerPort, then the pod
// spec and status are defaulted.
func SetDefaultsPod(pod *Pod) {
	for _, cs := range [][]Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for i := range cs {
			defaultRequestsToLimits(&cs[i].Resources)
		}
	}
	if pod.Spec.EnableServiceLinks == nil {
		v := DefaultEnableServiceLinks
		pod.Spec.EnableServiceLinks = &v
	}
	if pod.Spec.HostNetwork {
		for _, cs := range [][]Container{pod.Spec.Containers, pod.Spec.InitContainers} {
			for i := range cs {
				for j := range cs[i].Ports {
					if p := &cs[i].Ports[j]; p.HostPort == 0 {
						p.HostPort = p.ContainerPort
					}
				}
			}
		}
	}
	SetDefaultsPodSpec(&pod.Spec)
	setDefaultsPodStatus(&pod.Status)
}

// SetDefaultsPodTemplateSpec defaults the pod template of a workload. Unlike
// SetDefaultsPod it neither copies limits to requests nor sets
// enableServiceLinks, as in Kubernetes.
func SetDefaultsPodTemplateSpec(t *PodTemplateSpec) { SetDefaultsPodSpec(&t.Spec) }

// SetDefaultsPodSpec defaults a pod spec: dnsPolicy ClusterFirst,
// restartPolicy Always, an empty securityContext, a 30s grace period, the
// default scheduler, the serviceAccount alias, and every volume and
// container.
func SetDefaultsPodSpec(spec *PodSpec) {
	if spec.DNSPolicy == "" {
		spec.DNSPolicy = DNSClusterFirst
	}
	if spec.RestartPolicy == "" {
		spec.RestartPolicy = RestartPolicyAlways
	}
	if spec.SecurityContext == nil {
		spec.SecurityContext = &PodSecurityContext{}
	}
	if spec.TerminationGracePeriodSeconds == nil {
		v := int64(DefaultTerminationGracePeriodSeconds)
		spec.TerminationGracePeriodSeconds = &v
	}
	if spec.SchedulerName == "" {
		spec.SchedulerName = DefaultSchedulerName
	}
	// Conversion keeps the deprecated alias equal to the real field.
	if spec.ServiceAccountName == "" {
		spec.ServiceAccountName = spec.DeprecatedServiceAccount
	}
	spec.DeprecatedServiceAccount = spec.ServiceAccountName

	for i := range spec.Volumes {
		setDefaultsVolume(&spec.Volumes[i])
	}
	for i := range spec.InitContainers {
		SetDefaultsContainer(&spec.InitContainers[i])
	}
	for i := range spec.Containers {
		SetDefaultsContainer(&spec.Containers[i])
	}
}

// SetDefaultsContainer defaults a container: the image pull policy (Always
// for a :latest or untagged image, IfNotPresent otherwise), the
// termination message path and policy, port protocols, fieldRef API
// versions, resource quantities rounded up to milli precision, and probes.
func SetDefaultsContainer(c *Container) {
	if c.ImagePullPolicy == "" {
		if imageTag(c.Image) == "latest" {
			c.ImagePullPolicy = PullAlways
		} else {
			c.ImagePullPolicy = PullIfNotPresent
		}
	}
	if c.TerminationMessagePath == "" {
		c.TerminationMessagePath = TerminationMessagePathDefault
	}
	if c.TerminationMessagePolicy == "" {
		c.TerminationMessagePolicy = TerminationMessageReadFile
	}
	for i := range c.Ports {
		if c.Ports[i].Protocol == "" {
			c.Ports[i].Protocol = ProtocolTCP
		}
	}
	for i := range c.Env {
		if vf := c.Env[i].ValueFrom; vf != nil && vf.FieldRef != nil && vf.FieldRef.APIVersion == "" {
			vf.FieldRef.APIVersion = "v1"
		}
	}
	SetDefaultsResourceList(c.Resources.Limits)
	SetDefaultsResourceList(c.Resources.Requests)
	for _, p := range []*Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
		if p != nil {
			setDefaultsProbe(p)
		}
	}
}

// SetDefaultsResourceList rounds every quantity up to milli precision
// ("0.0001" becomes "1m"), as Kubernetes does for API compatibility.
func SetDefaultsResourceList(rl ResourceList) {
	for k, q := range rl {
		q.RoundUp(resource.Milli)
		rl[k] = q
	}
}

// defaultRequestsToLimits copies each limit without a request to the
// requests.
func defaultRequestsToLimits(r *ResourceRequirements) {
	if r.Limits == nil {
		return
	}
	if r.Requests == nil {
		r.Requests = make(ResourceList, len(r.Limits))
	}
	for k, v := range r.Limits {
		if _, ok := r.Requests[k]; !ok {
			r.Requests[k] = v.DeepCopy()
		}
	}
}

func setDefaultsProbe(p *Probe) {
	if p.TimeoutSeconds == 0 {
		p.TimeoutSeconds = 1
	}
	if p.PeriodSeconds == 0 {
		p.PeriodSeconds = 10
	}
	if p.SuccessThreshold == 0 {
		p.SuccessThreshold = 1
	}
	if p.FailureThreshold == 0 {
		p.FailureThreshold = 3
	}
	if h := p.HTTPGet; h != nil {
		if h.Path == "" {
			h.Path = "/"
		}
		if h.Scheme == "" {
			h.Scheme = URISchemeHTTP
		}
	}
}

func setDefaultsVolume(v *Volume) {
	s := &v.VolumeSource
	if s.HostPath == nil && s.EmptyDir == nil && s.Secret == nil && s.ConfigMap == nil && len(v.unsupported) == 0 {
		s.EmptyDir = &EmptyDirVolumeSource{}
	}
	if s.HostPath != nil && s.HostPath.Type == nil {
		t := HostPathUnset
		s.HostPath.Type = &t
	}
	if s.Secret != nil && s.Secret.DefaultMode == nil {
		m := SecretVolumeSourceDefaultMode
		s.Secret.DefaultMode = &m
	}
	if s.ConfigMap != nil && s.ConfigMap.DefaultMode == nil {
		m := ConfigMapVolumeSourceDefaultMode
		s.ConfigMap.DefaultMode = &m
	}
}

// setDefaultsPodStatus keeps podIP/podIPs and hostIP/hostIPs consistent, as
// Kubernetes' conversions do: the plural list wins, and a lone singular
// value becomes the list.
func setDefaultsPodStatus(s *PodStatus) {
	if len(s.PodIPs) > 0 {
		s.PodIP = s.PodIPs[0].IP
	} else if s.PodIP != "" {
		s.PodIPs = []PodIP{{IP: s.PodIP}}
	}
	if len(s.HostIPs) > 0 {
		s.HostIP = s.HostIPs[0].IP
	} else if s.HostIP != "" {
		s.HostIPs = []HostIP{{IP: s.HostIP}}
	}
}

// imageTag returns the tag of an image reference as Kubernetes' image name
// parsing does: "latest" when it has neither tag nor digest, "" when it has
// only a digest or is not a valid reference.
func imageTag(image string) string {
	m := imageReference.FindStringSubmatch(image)
	if m == nil || len(m[1]) > 255 || imageHexID.MatchString(image) {
		return ""
	}
	// Path components after the domain must be lowercase; a first component
	// is a domain only when it looks like one.
	name := m[1]
	if first, rest, ok := strings.Cut(name, "/"); ok && (strings.ContainsAny(first, ".:") || first == "localhost" || strings.ToLower(first) != first) {
		name = rest
	}
	if strings.ToLower(name) != name {
		return ""
	}
	if m[2] == "" && m[3] == "" {
		return "latest"
	}
	return m[2]
}

// imageReference is the docker reference grammar: name, optional tag,
// optional digest (github.com/distribution/reference).
var imageReference = regexp.MustCompile(`^((?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?/|\[[a-fA-F0-9:]+\](?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)(?::([\w][\w.-]{0,127}))?(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$`)

// imageHexID matches a bare 64-hex image ID, which is not a valid name.
var imageHexID = regexp.MustCompile(`^[a-f0-9]{64}$`)

// SetDefaultsService defaults a service: sessionAffinity None (ClientIP gets
// a 10800s timeout), type ClusterIP, port protocol TCP, targetPort = port,
// externalTrafficPolicy Cluster for externally reachable services,
// internalTrafficPolicy Cluster, allocateLoadBalancerNodePorts for load
// balancers, ipMode VIP on load-balancer ingress IPs, and clusterIP and
// clusterIPs kept consistent.
func SetDefaultsService(svc *Service) {
	spec := &svc.Spec
	if spec.SessionAffinity == "" {
		spec.SessionAffinity = ServiceAffinityNone
	}
	switch spec.SessionAffinity {
	case ServiceAffinityNone:
		spec.SessionAffinityConfig = nil
	case ServiceAffinityClientIP:
		if c := spec.SessionAffinityConfig; c == nil || c.ClientIP == nil || c.ClientIP.TimeoutSeconds == nil {
			t := DefaultClientIPServiceAffinitySeconds
			spec.SessionAffinityConfig = &SessionAffinityConfig{ClientIP: &ClientIPConfig{TimeoutSeconds: &t}}
		}
	}
	if spec.Type == "" {
		spec.Type = ServiceTypeClusterIP
	}
	for i := range spec.Ports {
		p := &spec.Ports[i]
		if p.Protocol == "" {
			p.Protocol = ProtocolTCP
		}
		if p.TargetPort == intstr.FromInt32(0) || p.TargetPort == intstr.FromString("") {
			p.TargetPort = intstr.FromInt32(p.Port)
		}
	}
	if IsServiceExternallyAccessible(svc) && spec.ExternalTrafficPolicy == "" {
		spec.ExternalTrafficPolicy = ServiceExternalTrafficPolicyCluster
	}
	if spec.InternalTrafficPolicy == nil {
		switch spec.Type {
		case ServiceTypeClusterIP, ServiceTypeNodePort, ServiceTypeLoadBalancer:
			p := ServiceInternalTrafficPolicyCluster
			spec.InternalTrafficPolicy = &p
		}
	}
	if spec.Type == ServiceTypeLoadBalancer {
		if spec.AllocateLoadBalancerNodePorts == nil {
			t := true
			spec.AllocateLoadBalancerNodePorts = &t
		}
		for i := range svc.Status.LoadBalancer.Ingress {
			if ing := &svc.Status.LoadBalancer.Ingress[i]; ing.IP != "" && ing.IPMode == nil {
				m := LoadBalancerIPModeVIP
				ing.IPMode = &m
			}
		}
	}
	if len(spec.ClusterIPs) > 0 {
		spec.ClusterIP = spec.ClusterIPs[0]
	} else if spec.ClusterIP != "" {
		spec.ClusterIPs = []string{spec.ClusterIP}
	}
}

// IsServiceExternallyAccessible reports whether traffic from outside the
// cluster can reach the service (NodePort, LoadBalancer, or ClusterIP with
// external IPs).
func IsServiceExternallyAccessible(svc *Service) bool {
	switch svc.Spec.Type {
	case ServiceTypeLoadBalancer, ServiceTypeNodePort:
		return true
	case ServiceTypeClusterIP:
		return len(svc.Spec.ExternalIPs) > 0
	}
	return false
}

// SetDefaultsEndpoints defaults every endpoint port's protocol to TCP.
func SetDefaultsEndpoints(ep *Endpoints) {
	for i := range ep.Subsets {
		for j := range ep.Subsets[i].Ports {
			if p := &ep.Subsets[i].Ports[j]; p.Protocol == "" {
				p.Protocol = ProtocolTCP
			}
		}
	}
}

// SetDefaultsNamespace labels a named namespace with
// kubernetes.io/metadata.name=<name> and defaults its phase to Active.
func SetDefaultsNamespace(ns *Namespace) {
	if ns.Name != "" {
		if ns.Labels == nil {
			ns.Labels = map[string]string{}
		}
		ns.Labels[LabelMetadataName] = ns.Name
	}
	if ns.Status.Phase == "" {
		ns.Status.Phase = NamespaceActive
	}
}

// SetDefaultsNode defaults allocatable to capacity, rounds both to milli
// precision, and keeps podCIDR and podCIDRs consistent.
func SetDefaultsNode(node *Node) {
	st := &node.Status
	if st.Allocatable == nil && st.Capacity != nil {
		st.Allocatable = st.Capacity.DeepCopy()
	}
	SetDefaultsResourceList(st.Capacity)
	SetDefaultsResourceList(st.Allocatable)
	if len(node.Spec.PodCIDRs) > 0 {
		node.Spec.PodCIDR = node.Spec.PodCIDRs[0]
	} else if node.Spec.PodCIDR != "" {
		node.Spec.PodCIDRs = []string{node.Spec.PodCIDR}
	}
}

// SetDefaultsSecret defaults the type to Opaque and merges stringData into
// data (stringData wins), clearing stringData, as Kubernetes stores it.
func SetDefaultsSecret(s *Secret) {
	if s.Type == "" {
		s.Type = SecretTypeOpaque
	}
	if len(s.StringData) > 0 {
		if s.Data == nil {
			s.Data = make(map[string][]byte, len(s.StringData))
		}
		for k, v := range s.StringData {
			s.Data[k] = []byte(v)
		}
	}
	s.StringData = nil
}

// SetDefaultsConfigMap is a no-op kept for symmetry: Kubernetes defaults
// nothing on a ConfigMap that shows in its JSON.
func SetDefaultsConfigMap(*ConfigMap) {}

// SetDefaultsServiceAccount is a no-op kept for symmetry.
func SetDefaultsServiceAccount(*ServiceAccount) {}

// SetDefaultsEvent is a no-op kept for symmetry.
func SetDefaultsEvent(*Event) {}
