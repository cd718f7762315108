package v1

import (
	"maps"
	"slices"

	"github.com/kl-dev/kl/pkg/api/meta"
)

// Hand-written deep copies. Controllers copy objects out of their informer
// caches before mutating them, so these are on hot paths and avoid
// reflection and JSON. Every copy preserves nil versus empty slices and maps.

// ---------------------------------------------------------------------------
// Generic helpers

// ptrCopy copies *p into a new pointer; T must hold no references.
func ptrCopy[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// sliceCopy deep-copies s with copyElem.
func sliceCopy[T any](s []T, copyElem func(*T) T) []T {
	if s == nil {
		return nil
	}
	out := make([]T, len(s))
	for i := range s {
		out[i] = copyElem(&s[i])
	}
	return out
}

func bytesMapCopy(m map[string][]byte) map[string][]byte {
	if m == nil {
		return nil
	}
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = slices.Clone(v)
	}
	return out
}

// ---------------------------------------------------------------------------
// Pod

// DeepCopy returns an independent copy of the pod.
func (in *Pod) DeepCopy() *Pod {
	if in == nil {
		return nil
	}
	out := new(Pod)
	in.DeepCopyInto(out)
	return out
}

// DeepCopyInto copies the pod into out.
func (in *Pod) DeepCopyInto(out *Pod) {
	out.TypeMeta = in.TypeMeta
	out.ObjectMeta = meta.DeepCopyObjectMeta(&in.ObjectMeta)
	in.Spec.DeepCopyInto(&out.Spec)
	in.Status.DeepCopyInto(&out.Status)
}

// DeepCopy returns an independent copy of the list.
func (in *PodList) DeepCopy() *PodList {
	if in == nil {
		return nil
	}
	return &PodList{
		TypeMeta: in.TypeMeta,
		ListMeta: meta.DeepCopyListMeta(&in.ListMeta),
		Items:    sliceCopy(in.Items, func(p *Pod) Pod { return *p.DeepCopy() }),
	}
}

// DeepCopy returns an independent copy of the template.
func (in *PodTemplateSpec) DeepCopy() *PodTemplateSpec {
	if in == nil {
		return nil
	}
	out := new(PodTemplateSpec)
	in.DeepCopyInto(out)
	return out
}

// DeepCopyInto copies the template into out.
func (in *PodTemplateSpec) DeepCopyInto(out *PodTemplateSpec) {
	out.ObjectMeta = meta.DeepCopyObjectMeta(&in.ObjectMeta)
	in.Spec.DeepCopyInto(&out.Spec)
}

// DeepCopy returns an independent copy of the spec.
func (in *PodSpec) DeepCopy() *PodSpec {
	if in == nil {
		return nil
	}
	out := new(PodSpec)
	in.DeepCopyInto(out)
	return out
}

// DeepCopyInto copies the spec into out.
func (in *PodSpec) DeepCopyInto(out *PodSpec) {
	*out = *in
	out.Volumes = sliceCopy(in.Volumes, func(v *Volume) Volume { return *v.DeepCopy() })
	out.InitContainers = sliceCopy(in.InitContainers, func(c *Container) Container { return *c.DeepCopy() })
	out.Containers = sliceCopy(in.Containers, func(c *Container) Container { return *c.DeepCopy() })
	out.TerminationGracePeriodSeconds = ptrCopy(in.TerminationGracePeriodSeconds)
	out.ActiveDeadlineSeconds = ptrCopy(in.ActiveDeadlineSeconds)
	out.NodeSelector = maps.Clone(in.NodeSelector)
	out.AutomountServiceAccountToken = ptrCopy(in.AutomountServiceAccountToken)
	if in.SecurityContext != nil {
		sc := *in.SecurityContext
		sc.RunAsUser = ptrCopy(in.SecurityContext.RunAsUser)
		sc.RunAsGroup = ptrCopy(in.SecurityContext.RunAsGroup)
		sc.RunAsNonRoot = ptrCopy(in.SecurityContext.RunAsNonRoot)
		sc.SupplementalGroups = slices.Clone(in.SecurityContext.SupplementalGroups)
		sc.FSGroup = ptrCopy(in.SecurityContext.FSGroup)
		out.SecurityContext = &sc
	}
	out.ImagePullSecrets = slices.Clone(in.ImagePullSecrets)
	out.Tolerations = sliceCopy(in.Tolerations, func(t *Toleration) Toleration {
		c := *t
		c.TolerationSeconds = ptrCopy(t.TolerationSeconds)
		return c
	})
	out.Priority = ptrCopy(in.Priority)
	out.PreemptionPolicy = ptrCopy(in.PreemptionPolicy)
	out.EnableServiceLinks = ptrCopy(in.EnableServiceLinks)
}

// DeepCopy returns an independent copy of the volume, including the
// unsupported sources it recorded.
func (in *Volume) DeepCopy() *Volume {
	if in == nil {
		return nil
	}
	out := &Volume{Name: in.Name, unsupported: slices.Clone(in.unsupported)}
	s := &in.VolumeSource
	if s.HostPath != nil {
		out.HostPath = &HostPathVolumeSource{Path: s.HostPath.Path, Type: ptrCopy(s.HostPath.Type)}
	}
	if s.EmptyDir != nil {
		out.EmptyDir = &EmptyDirVolumeSource{Medium: s.EmptyDir.Medium}
		if s.EmptyDir.SizeLimit != nil {
			q := s.EmptyDir.SizeLimit.DeepCopy()
			out.EmptyDir.SizeLimit = &q
		}
	}
	if s.Secret != nil {
		c := *s.Secret
		c.Items = sliceCopy(s.Secret.Items, copyKeyToPath)
		c.DefaultMode = ptrCopy(s.Secret.DefaultMode)
		c.Optional = ptrCopy(s.Secret.Optional)
		out.Secret = &c
	}
	if s.ConfigMap != nil {
		c := *s.ConfigMap
		c.Items = sliceCopy(s.ConfigMap.Items, copyKeyToPath)
		c.DefaultMode = ptrCopy(s.ConfigMap.DefaultMode)
		c.Optional = ptrCopy(s.ConfigMap.Optional)
		out.ConfigMap = &c
	}
	return out
}

func copyKeyToPath(k *KeyToPath) KeyToPath {
	c := *k
	c.Mode = ptrCopy(k.Mode)
	return c
}

// DeepCopy returns an independent copy of the container.
func (in *Container) DeepCopy() *Container {
	if in == nil {
		return nil
	}
	out := *in
	out.Command = slices.Clone(in.Command)
	out.Args = slices.Clone(in.Args)
	out.Ports = slices.Clone(in.Ports)
	out.EnvFrom = sliceCopy(in.EnvFrom, func(e *EnvFromSource) EnvFromSource {
		c := *e
		if e.ConfigMapRef != nil {
			c.ConfigMapRef = &ConfigMapEnvSource{LocalObjectReference: e.ConfigMapRef.LocalObjectReference, Optional: ptrCopy(e.ConfigMapRef.Optional)}
		}
		if e.SecretRef != nil {
			c.SecretRef = &SecretEnvSource{LocalObjectReference: e.SecretRef.LocalObjectReference, Optional: ptrCopy(e.SecretRef.Optional)}
		}
		return c
	})
	out.Env = sliceCopy(in.Env, copyEnvVar)
	out.Resources = ResourceRequirements{
		Limits:   in.Resources.Limits.DeepCopy(),
		Requests: in.Resources.Requests.DeepCopy(),
	}
	out.VolumeMounts = slices.Clone(in.VolumeMounts)
	out.LivenessProbe = in.LivenessProbe.DeepCopy()
	out.ReadinessProbe = in.ReadinessProbe.DeepCopy()
	out.StartupProbe = in.StartupProbe.DeepCopy()
	if sc := in.SecurityContext; sc != nil {
		c := SecurityContext{
			Privileged:               ptrCopy(sc.Privileged),
			RunAsUser:                ptrCopy(sc.RunAsUser),
			RunAsGroup:               ptrCopy(sc.RunAsGroup),
			RunAsNonRoot:             ptrCopy(sc.RunAsNonRoot),
			ReadOnlyRootFilesystem:   ptrCopy(sc.ReadOnlyRootFilesystem),
			AllowPrivilegeEscalation: ptrCopy(sc.AllowPrivilegeEscalation),
		}
		if sc.Capabilities != nil {
			c.Capabilities = &Capabilities{Add: slices.Clone(sc.Capabilities.Add), Drop: slices.Clone(sc.Capabilities.Drop)}
		}
		out.SecurityContext = &c
	}
	return &out
}

func copyEnvVar(e *EnvVar) EnvVar {
	c := *e
	if vf := e.ValueFrom; vf != nil {
		s := EnvVarSource{FieldRef: ptrCopy(vf.FieldRef)}
		if vf.ResourceFieldRef != nil {
			r := *vf.ResourceFieldRef
			r.Divisor = vf.ResourceFieldRef.Divisor.DeepCopy()
			s.ResourceFieldRef = &r
		}
		if vf.ConfigMapKeyRef != nil {
			r := *vf.ConfigMapKeyRef
			r.Optional = ptrCopy(vf.ConfigMapKeyRef.Optional)
			s.ConfigMapKeyRef = &r
		}
		if vf.SecretKeyRef != nil {
			r := *vf.SecretKeyRef
			r.Optional = ptrCopy(vf.SecretKeyRef.Optional)
			s.SecretKeyRef = &r
		}
		c.ValueFrom = &s
	}
	return c
}

// DeepCopy returns an independent copy of the probe.
func (in *Probe) DeepCopy() *Probe {
	if in == nil {
		return nil
	}
	out := *in
	if in.Exec != nil {
		out.Exec = &ExecAction{Command: slices.Clone(in.Exec.Command)}
	}
	if in.HTTPGet != nil {
		h := *in.HTTPGet
		h.HTTPHeaders = slices.Clone(in.HTTPGet.HTTPHeaders)
		out.HTTPGet = &h
	}
	out.TCPSocket = ptrCopy(in.TCPSocket)
	out.TerminationGracePeriodSeconds = ptrCopy(in.TerminationGracePeriodSeconds)
	return &out
}

// DeepCopyInto copies the status into out.
func (in *PodStatus) DeepCopyInto(out *PodStatus) {
	*out = *in
	out.Conditions = slices.Clone(in.Conditions)
	out.HostIPs = slices.Clone(in.HostIPs)
	out.PodIPs = slices.Clone(in.PodIPs)
	out.StartTime = ptrCopy(in.StartTime)
	out.InitContainerStatuses = sliceCopy(in.InitContainerStatuses, copyContainerStatus)
	out.ContainerStatuses = sliceCopy(in.ContainerStatuses, copyContainerStatus)
}

func copyContainerStatus(s *ContainerStatus) ContainerStatus {
	c := *s
	c.State = copyContainerState(&s.State)
	c.LastTerminationState = copyContainerState(&s.LastTerminationState)
	c.Started = ptrCopy(s.Started)
	return c
}

func copyContainerState(s *ContainerState) ContainerState {
	return ContainerState{
		Waiting:    ptrCopy(s.Waiting),
		Running:    ptrCopy(s.Running),
		Terminated: ptrCopy(s.Terminated),
	}
}

// DeepCopy returns an independent copy of the binding.
func (in *Binding) DeepCopy() *Binding {
	if in == nil {
		return nil
	}
	return &Binding{TypeMeta: in.TypeMeta, ObjectMeta: meta.DeepCopyObjectMeta(&in.ObjectMeta), Target: in.Target}
}

// ---------------------------------------------------------------------------
// Node

// DeepCopy returns an independent copy of the node.
func (in *Node) DeepCopy() *Node {
	if in == nil {
		return nil
	}
	out := new(Node)
	in.DeepCopyInto(out)
	return out
}

// DeepCopyInto copies the node into out.
func (in *Node) DeepCopyInto(out *Node) {
	out.TypeMeta = in.TypeMeta
	out.ObjectMeta = meta.DeepCopyObjectMeta(&in.ObjectMeta)
	out.Spec = in.Spec
	out.Spec.PodCIDRs = slices.Clone(in.Spec.PodCIDRs)
	out.Spec.Taints = sliceCopy(in.Spec.Taints, func(t *Taint) Taint {
		c := *t
		c.TimeAdded = ptrCopy(t.TimeAdded)
		return c
	})
	out.Status = in.Status
	out.Status.Capacity = in.Status.Capacity.DeepCopy()
	out.Status.Allocatable = in.Status.Allocatable.DeepCopy()
	out.Status.Conditions = slices.Clone(in.Status.Conditions)
	out.Status.Addresses = slices.Clone(in.Status.Addresses)
}

// DeepCopy returns an independent copy of the list.
func (in *NodeList) DeepCopy() *NodeList {
	if in == nil {
		return nil
	}
	return &NodeList{
		TypeMeta: in.TypeMeta,
		ListMeta: meta.DeepCopyListMeta(&in.ListMeta),
		Items:    sliceCopy(in.Items, func(n *Node) Node { return *n.DeepCopy() }),
	}
}

// ---------------------------------------------------------------------------
// Service and Endpoints

// DeepCopy returns an independent copy of the service.
func (in *Service) DeepCopy() *Service {
	if in == nil {
		return nil
	}
	out := &Service{TypeMeta: in.TypeMeta, ObjectMeta: meta.DeepCopyObjectMeta(&in.ObjectMeta), Spec: in.Spec}
	s := &out.Spec
	s.Ports = sliceCopy(in.Spec.Ports, func(p *ServicePort) ServicePort {
		c := *p
		c.AppProtocol = ptrCopy(p.AppProtocol)
		return c
	})
	s.Selector = maps.Clone(in.Spec.Selector)
	s.ClusterIPs = slices.Clone(in.Spec.ClusterIPs)
	s.ExternalIPs = slices.Clone(in.Spec.ExternalIPs)
	if c := in.Spec.SessionAffinityConfig; c != nil {
		s.SessionAffinityConfig = &SessionAffinityConfig{}
		if c.ClientIP != nil {
			s.SessionAffinityConfig.ClientIP = &ClientIPConfig{TimeoutSeconds: ptrCopy(c.ClientIP.TimeoutSeconds)}
		}
	}
	s.IPFamilies = slices.Clone(in.Spec.IPFamilies)
	s.IPFamilyPolicy = ptrCopy(in.Spec.IPFamilyPolicy)
	s.AllocateLoadBalancerNodePorts = ptrCopy(in.Spec.AllocateLoadBalancerNodePorts)
	s.InternalTrafficPolicy = ptrCopy(in.Spec.InternalTrafficPolicy)
	out.Status.LoadBalancer.Ingress = sliceCopy(in.Status.LoadBalancer.Ingress, func(i *LoadBalancerIngress) LoadBalancerIngress {
		c := *i
		c.IPMode = ptrCopy(i.IPMode)
		return c
	})
	return out
}

// DeepCopy returns an independent copy of the list.
func (in *ServiceList) DeepCopy() *ServiceList {
	if in == nil {
		return nil
	}
	return &ServiceList{
		TypeMeta: in.TypeMeta,
		ListMeta: meta.DeepCopyListMeta(&in.ListMeta),
		Items:    sliceCopy(in.Items, func(s *Service) Service { return *s.DeepCopy() }),
	}
}

// DeepCopy returns an independent copy of the endpoints.
func (in *Endpoints) DeepCopy() *Endpoints {
	if in == nil {
		return nil
	}
	copyAddr := func(a *EndpointAddress) EndpointAddress {
		c := *a
		c.NodeName = ptrCopy(a.NodeName)
		c.TargetRef = ptrCopy(a.TargetRef)
		return c
	}
	return &Endpoints{
		TypeMeta:   in.TypeMeta,
		ObjectMeta: meta.DeepCopyObjectMeta(&in.ObjectMeta),
		Subsets: sliceCopy(in.Subsets, func(s *EndpointSubset) EndpointSubset {
			return EndpointSubset{
				Addresses:         sliceCopy(s.Addresses, copyAddr),
				NotReadyAddresses: sliceCopy(s.NotReadyAddresses, copyAddr),
				Ports: sliceCopy(s.Ports, func(p *EndpointPort) EndpointPort {
					c := *p
					c.AppProtocol = ptrCopy(p.AppProtocol)
					return c
				}),
			}
		}),
	}
}

// DeepCopy returns an independent copy of the list.
func (in *EndpointsList) DeepCopy() *EndpointsList {
	if in == nil {
		return nil
	}
	return &EndpointsList{
		TypeMeta: in.TypeMeta,
		ListMeta: meta.DeepCopyListMeta(&in.ListMeta),
		Items:    sliceCopy(in.Items, func(e *Endpoints) Endpoints { return *e.DeepCopy() }),
	}
}

// ---------------------------------------------------------------------------
// ConfigMap, Secret, ServiceAccount, Namespace, Event

// DeepCopy returns an independent copy of the config map.
func (in *ConfigMap) DeepCopy() *ConfigMap {
	if in == nil {
		return nil
	}
	return &ConfigMap{
		TypeMeta:   in.TypeMeta,
		ObjectMeta: meta.DeepCopyObjectMeta(&in.ObjectMeta),
		Immutable:  ptrCopy(in.Immutable),
		Data:       maps.Clone(in.Data),
		BinaryData: bytesMapCopy(in.BinaryData),
	}
}

// DeepCopy returns an independent copy of the list.
func (in *ConfigMapList) DeepCopy() *ConfigMapList {
	if in == nil {
		return nil
	}
	return &ConfigMapList{
		TypeMeta: in.TypeMeta,
		ListMeta: meta.DeepCopyListMeta(&in.ListMeta),
		Items:    sliceCopy(in.Items, func(c *ConfigMap) ConfigMap { return *c.DeepCopy() }),
	}
}

// DeepCopy returns an independent copy of the secret.
func (in *Secret) DeepCopy() *Secret {
	if in == nil {
		return nil
	}
	return &Secret{
		TypeMeta:   in.TypeMeta,
		ObjectMeta: meta.DeepCopyObjectMeta(&in.ObjectMeta),
		Immutable:  ptrCopy(in.Immutable),
		Data:       bytesMapCopy(in.Data),
		StringData: maps.Clone(in.StringData),
		Type:       in.Type,
	}
}

// DeepCopy returns an independent copy of the list.
func (in *SecretList) DeepCopy() *SecretList {
	if in == nil {
		return nil
	}
	return &SecretList{
		TypeMeta: in.TypeMeta,
		ListMeta: meta.DeepCopyListMeta(&in.ListMeta),
		Items:    sliceCopy(in.Items, func(s *Secret) Secret { return *s.DeepCopy() }),
	}
}

// DeepCopy returns an independent copy of the service account.
func (in *ServiceAccount) DeepCopy() *ServiceAccount {
	if in == nil {
		return nil
	}
	return &ServiceAccount{
		TypeMeta:                     in.TypeMeta,
		ObjectMeta:                   meta.DeepCopyObjectMeta(&in.ObjectMeta),
		Secrets:                      slices.Clone(in.Secrets),
		ImagePullSecrets:             slices.Clone(in.ImagePullSecrets),
		AutomountServiceAccountToken: ptrCopy(in.AutomountServiceAccountToken),
	}
}

// DeepCopy returns an independent copy of the list.
func (in *ServiceAccountList) DeepCopy() *ServiceAccountList {
	if in == nil {
		return nil
	}
	return &ServiceAccountList{
		TypeMeta: in.TypeMeta,
		ListMeta: meta.DeepCopyListMeta(&in.ListMeta),
		Items:    sliceCopy(in.Items, func(s *ServiceAccount) ServiceAccount { return *s.DeepCopy() }),
	}
}

// DeepCopy returns an independent copy of the namespace.
func (in *Namespace) DeepCopy() *Namespace {
	if in == nil {
		return nil
	}
	return &Namespace{
		TypeMeta:   in.TypeMeta,
		ObjectMeta: meta.DeepCopyObjectMeta(&in.ObjectMeta),
		Spec:       NamespaceSpec{Finalizers: slices.Clone(in.Spec.Finalizers)},
		Status:     NamespaceStatus{Phase: in.Status.Phase, Conditions: slices.Clone(in.Status.Conditions)},
	}
}

// DeepCopy returns an independent copy of the list.
func (in *NamespaceList) DeepCopy() *NamespaceList {
	if in == nil {
		return nil
	}
	return &NamespaceList{
		TypeMeta: in.TypeMeta,
		ListMeta: meta.DeepCopyListMeta(&in.ListMeta),
		Items:    sliceCopy(in.Items, func(n *Namespace) Namespace { return *n.DeepCopy() }),
	}
}

// DeepCopy returns an independent copy of the event.
func (in *Event) DeepCopy() *Event {
	if in == nil {
		return nil
	}
	out := *in
	out.ObjectMeta = meta.DeepCopyObjectMeta(&in.ObjectMeta)
	out.Series = ptrCopy(in.Series)
	out.Related = ptrCopy(in.Related)
	return &out
}

// DeepCopy returns an independent copy of the list.
func (in *EventList) DeepCopy() *EventList {
	if in == nil {
		return nil
	}
	return &EventList{
		TypeMeta: in.TypeMeta,
		ListMeta: meta.DeepCopyListMeta(&in.ListMeta),
		Items:    sliceCopy(in.Items, func(e *Event) Event { return *e.DeepCopy() }),
	}
}
