package endpoints

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/intstr"
)

// selects reports whether the service's selector (a non-empty map) matches
// the labels.
func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if lv, ok := labels[k]; !ok || lv != v {
			return false
		}
	}
	return true
}

// managesEndpoints reports whether the controller computes the service's
// Endpoints: it has a selector and is not an ExternalName alias. Services
// without a selector have Endpoints written by hand, which are left alone.
func managesEndpoints(svc *corev1.Service) bool {
	return len(svc.Spec.Selector) > 0 && svc.Spec.Type != corev1.ServiceTypeExternalName
}

// shouldPodBeInEndpoints reports whether a pod may be listed at all, ready
// or not (Kubernetes' ShouldPodBeInEndpoints): it has an IP, is not being
// deleted (unless terminating pods are published) and will not run again.
func shouldPodBeInEndpoints(pod *corev1.Pod, includeTerminating bool) bool {
	if pod.Status.PodIP == "" {
		return false
	}
	if !includeTerminating && pod.DeletionTimestamp != nil {
		return false
	}
	switch pod.Spec.RestartPolicy {
	case corev1.RestartPolicyNever:
		return pod.Status.Phase != corev1.PodFailed && pod.Status.Phase != corev1.PodSucceeded
	case corev1.RestartPolicyOnFailure:
		return pod.Status.Phase != corev1.PodSucceeded
	}
	return true
}

func protocolOr(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}

// findPort resolves a service port's targetPort for one pod: a name is
// looked up among the pod's container ports with the same protocol; a
// number is used as is (0 means the service port).
func findPort(pod *corev1.Pod, sp *corev1.ServicePort) (int32, bool) {
	tp := sp.TargetPort
	if tp.Type == intstr.String {
		proto := protocolOr(sp.Protocol)
		for i := range pod.Spec.Containers {
			for _, p := range pod.Spec.Containers[i].Ports {
				if p.Name == tp.StrVal && protocolOr(p.Protocol) == proto {
					return p.ContainerPort, true
				}
			}
		}
		return 0, false
	}
	if tp.IntVal == 0 {
		return sp.Port, true
	}
	return tp.IntVal, true
}

// subsetBuilder groups addresses by the exact set of ports they offer, as
// Kubernetes' RepackSubsets does: pods that resolve a named targetPort to
// different numbers end up in different subsets.
type subsetBuilder struct {
	byPorts map[string]*corev1.EndpointSubset
}

func (b *subsetBuilder) add(addr corev1.EndpointAddress, ports []corev1.EndpointPort, ready bool) {
	slices.SortFunc(ports, comparePorts)
	key := portsKey(ports)
	ss, ok := b.byPorts[key]
	if !ok {
		ss = &corev1.EndpointSubset{Ports: ports}
		b.byPorts[key] = ss
	}
	if ready {
		ss.Addresses = append(ss.Addresses, addr)
	} else {
		ss.NotReadyAddresses = append(ss.NotReadyAddresses, addr)
	}
}

// subsets returns the subsets in a deterministic order: addresses by IP
// (then pod uid), ports by name, port and protocol, subsets by their ports.
// The same pods always give the same bytes, so nothing is rewritten when
// nothing changed.
func (b *subsetBuilder) subsets() []corev1.EndpointSubset {
	keys := make([]string, 0, len(b.byPorts))
	for k := range b.byPorts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]corev1.EndpointSubset, 0, len(keys))
	for _, k := range keys {
		ss := b.byPorts[k]
		slices.SortFunc(ss.Addresses, compareAddresses)
		slices.SortFunc(ss.NotReadyAddresses, compareAddresses)
		if len(ss.Ports) == 0 {
			ss.Ports = nil
		}
		out = append(out, *ss)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// computeSubsets returns the subsets of the Endpoints of svc given the pods
// its selector matches.
func computeSubsets(svc *corev1.Service, pods []*corev1.Pod) []corev1.EndpointSubset {
	b := &subsetBuilder{byPorts: map[string]*corev1.EndpointSubset{}}
	publishNotReady := svc.Spec.PublishNotReadyAddresses
	headless := svc.Spec.ClusterIP == corev1.ClusterIPNone
	for _, pod := range pods {
		if !shouldPodBeInEndpoints(pod, publishNotReady) {
			continue
		}
		addr := podAddress(svc, pod)
		ready := publishNotReady || corev1.IsPodReady(pod)
		if len(svc.Spec.Ports) == 0 {
			// A headless service without ports still lists its pods
			// (for DNS); other port-less services list nothing.
			if headless {
				b.add(addr, nil, ready)
			}
			continue
		}
		var ports []corev1.EndpointPort
		for i := range svc.Spec.Ports {
			sp := &svc.Spec.Ports[i]
			num, ok := findPort(pod, sp)
			if !ok {
				// The pod has no container port of that name: it serves
				// the service's other ports only.
				continue
			}
			ports = append(ports, corev1.EndpointPort{
				Name:        sp.Name,
				Port:        num,
				Protocol:    protocolOr(sp.Protocol),
				AppProtocol: sp.AppProtocol,
			})
		}
		if len(ports) == 0 {
			continue
		}
		b.add(addr, ports, ready)
	}
	return b.subsets()
}

// podAddress is the EndpointAddress of a pod.
func podAddress(svc *corev1.Service, pod *corev1.Pod) corev1.EndpointAddress {
	addr := corev1.EndpointAddress{
		IP: pod.Status.PodIP,
		TargetRef: &corev1.ObjectReference{
			Kind:      "Pod",
			Namespace: pod.Namespace,
			Name:      pod.Name,
			UID:       pod.UID,
		},
	}
	if pod.Spec.NodeName != "" {
		n := pod.Spec.NodeName
		addr.NodeName = &n
	}
	// A pod with a hostname in the service's subdomain gets a DNS name.
	if pod.Spec.Hostname != "" && pod.Spec.Subdomain == svc.Name && pod.Namespace == svc.Namespace {
		addr.Hostname = pod.Spec.Hostname
	}
	return addr
}

func compareAddresses(a, b corev1.EndpointAddress) int {
	if c := compareIPs(a.IP, b.IP); c != 0 {
		return c
	}
	var ua, ub string
	if a.TargetRef != nil {
		ua = a.TargetRef.UID
	}
	if b.TargetRef != nil {
		ub = b.TargetRef.UID
	}
	return strings.Compare(ua, ub)
}

// compareIPs orders IPs numerically (10.0.0.2 before 10.0.0.10), falling
// back to the strings for anything unparsable.
func compareIPs(a, b string) int {
	pa, errA := netip.ParseAddr(a)
	pb, errB := netip.ParseAddr(b)
	if errA == nil && errB == nil {
		return pa.Compare(pb)
	}
	return strings.Compare(a, b)
}

func comparePorts(a, b corev1.EndpointPort) int {
	if c := strings.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	if a.Port != b.Port {
		if a.Port < b.Port {
			return -1
		}
		return 1
	}
	return strings.Compare(string(a.Protocol), string(b.Protocol))
}

// portsKey identifies a sorted port list; subsets are ordered by it.
func portsKey(ports []corev1.EndpointPort) string {
	var b strings.Builder
	for _, p := range ports {
		app := ""
		if p.AppProtocol != nil {
			app = *p.AppProtocol
		}
		fmt.Fprintf(&b, "%s\x00%s\x00%s\x00%s\x01", p.Name, strconv.Itoa(int(p.Port)), p.Protocol, app)
	}
	return b.String()
}
