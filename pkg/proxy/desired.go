package proxy

import (
	"cmp"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
)

// desiredService is what the proxy should do for one Service: the ports
// to balance and the addresses to accept their traffic on. It is computed
// from the Service and its Endpoints alone (desiredState), so the rules
// are tested without sockets.
type desiredService struct {
	// Ports are the TCP ports of the Service, by name.
	Ports []desiredPort
	// Frontends are the addresses to listen on.
	Frontends []frontend
	// ClusterIPs are the addresses to put on the service interface.
	ClusterIPs []netip.Addr
	// Unsupported names the ports whose protocol is not TCP.
	Unsupported []string
}

// desiredPort is one service port and its endpoints.
type desiredPort struct {
	// Name is the service port's name ("" for a single unnamed port).
	Name string
	// Backends are the ready endpoints ("ip:port"), sorted; Local the
	// subset on this node.
	Backends []string
	Local    []string
	// Affinity is the ClientIP session affinity timeout (0: none).
	Affinity time.Duration
}

// frontend is one address the proxy listens on for a service port.
type frontend struct {
	Addr netip.AddrPort
	// Port is the name of the service port it serves.
	Port string
	// Local is true when only endpoints on this node may serve it
	// (internalTrafficPolicy or externalTrafficPolicy Local).
	Local bool
	// ClusterIP is true for a ClusterIP address (it lives on the service
	// interface).
	ClusterIP bool
}

// environment is what desiredState needs to know about this node.
type environment struct {
	// NodeName is this node's name (for traffic policy Local).
	NodeName string
	// ClusterIPs is true when ClusterIPs can be made local here.
	ClusterIPs bool
	// NodePortAddresses are the addresses NodePorts listen on.
	NodePortAddresses []netip.Addr
	// IsLocal reports whether an address belongs to this machine; load
	// balancer ingress and external IPs are served only if it does.
	IsLocal func(netip.Addr) bool
}

// servicePortName is the name of a service port in logs and metrics:
// "namespace/name:port", or "namespace/name" for an unnamed port.
func servicePortName(key, port string) string {
	if port == "" {
		return key
	}
	return key + ":" + port
}

// desiredState returns what the proxy should do for svc (nil: deleted)
// with the endpoints ep (nil: none). Headless and ExternalName Services
// need nothing.
func desiredState(svc *corev1.Service, ep *corev1.Endpoints, env environment) desiredService {
	var d desiredService
	if svc == nil || svc.Spec.Type == corev1.ServiceTypeExternalName {
		return d
	}
	clusterIPs := serviceClusterIPs(svc)
	if len(clusterIPs) == 0 {
		return d // headless (clusterIP: None) or not allocated yet
	}
	spec := &svc.Spec
	var affinity time.Duration
	if spec.SessionAffinity == corev1.ServiceAffinityClientIP {
		affinity = time.Duration(corev1.DefaultClientIPServiceAffinitySeconds) * time.Second
		if c := spec.SessionAffinityConfig; c != nil && c.ClientIP != nil && c.ClientIP.TimeoutSeconds != nil && *c.ClientIP.TimeoutSeconds > 0 {
			affinity = time.Duration(*c.ClientIP.TimeoutSeconds) * time.Second
		}
	}
	internalLocal := spec.InternalTrafficPolicy != nil && *spec.InternalTrafficPolicy == corev1.ServiceInternalTrafficPolicyLocal
	externalLocal := spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal
	nodePorts := spec.Type == corev1.ServiceTypeNodePort || spec.Type == corev1.ServiceTypeLoadBalancer

	// Addresses outside the cluster reach the Service on its port:
	// external IPs and, for load balancers, the ingress IPs (with kl's
	// servicelb, the nodes' own addresses).
	var external []netip.Addr
	for _, s := range spec.ExternalIPs {
		if a, err := netip.ParseAddr(s); err == nil {
			external = append(external, a.Unmap())
		}
	}
	if spec.Type == corev1.ServiceTypeLoadBalancer {
		for _, ing := range svc.Status.LoadBalancer.Ingress {
			if a, err := netip.ParseAddr(ing.IP); err == nil {
				external = append(external, a.Unmap())
			}
		}
	}
	if env.IsLocal != nil {
		external = slices.DeleteFunc(external, func(a netip.Addr) bool { return !env.IsLocal(a) })
	} else {
		external = nil
	}

	seen := map[netip.AddrPort]bool{}
	add := func(fe frontend) {
		if !seen[fe.Addr] {
			seen[fe.Addr] = true
			d.Frontends = append(d.Frontends, fe)
		}
	}
	for _, p := range spec.Ports {
		if cmp.Or(p.Protocol, corev1.ProtocolTCP) != corev1.ProtocolTCP {
			d.Unsupported = append(d.Unsupported, servicePortLabel(p))
			continue
		}
		all, local := endpointsFor(ep, p.Name, env.NodeName)
		d.Ports = append(d.Ports, desiredPort{Name: p.Name, Backends: all, Local: local, Affinity: affinity})
		if p.Port < 1 || p.Port > 65535 {
			continue
		}
		if env.ClusterIPs {
			for _, ip := range clusterIPs {
				add(frontend{Addr: netip.AddrPortFrom(ip, uint16(p.Port)), Port: p.Name, Local: internalLocal, ClusterIP: true})
			}
		}
		if nodePorts && p.NodePort > 0 && p.NodePort <= 65535 {
			for _, ip := range env.NodePortAddresses {
				add(frontend{Addr: netip.AddrPortFrom(ip, uint16(p.NodePort)), Port: p.Name, Local: externalLocal})
			}
		}
		for _, ip := range external {
			add(frontend{Addr: netip.AddrPortFrom(ip, uint16(p.Port)), Port: p.Name, Local: externalLocal})
		}
	}
	if env.ClusterIPs && len(d.Ports) > 0 {
		d.ClusterIPs = clusterIPs
	}
	return d
}

// serviceClusterIPs returns the Service's ClusterIPs; none for a headless
// Service.
func serviceClusterIPs(svc *corev1.Service) []netip.Addr {
	ips := svc.Spec.ClusterIPs
	if len(ips) == 0 && svc.Spec.ClusterIP != "" {
		ips = []string{svc.Spec.ClusterIP}
	}
	var out []netip.Addr
	for _, s := range ips {
		if s == corev1.ClusterIPNone {
			return nil
		}
		if a, err := netip.ParseAddr(s); err == nil && !a.IsUnspecified() {
			out = append(out, a.Unmap())
		}
	}
	return out
}

func servicePortLabel(p corev1.ServicePort) string {
	if p.Name != "" {
		return p.Name + "/" + string(p.Protocol)
	}
	return strconv.Itoa(int(p.Port)) + "/" + string(p.Protocol)
}

// endpointsFor returns the ready endpoints of the service port called
// name: every address of the subsets that have a TCP port of that name
// (the endpoints controller resolves named targetPorts and names the
// ports after the Service's). local are those on node nodeName.
func endpointsFor(ep *corev1.Endpoints, name, nodeName string) (all, local []string) {
	if ep == nil {
		return nil, nil
	}
	for _, ss := range ep.Subsets {
		port := int32(0)
		for _, p := range ss.Ports {
			if p.Name == name && cmp.Or(p.Protocol, corev1.ProtocolTCP) == corev1.ProtocolTCP {
				port = p.Port
				break
			}
		}
		if port < 1 || port > 65535 {
			continue
		}
		for _, a := range ss.Addresses {
			ip, err := netip.ParseAddr(a.IP)
			if err != nil {
				continue
			}
			hp := net.JoinHostPort(ip.Unmap().String(), strconv.Itoa(int(port)))
			all = append(all, hp)
			if nodeName != "" && a.NodeName != nil && *a.NodeName == nodeName {
				local = append(local, hp)
			}
		}
	}
	slices.Sort(all)
	slices.Sort(local)
	return slices.Compact(all), slices.Compact(local)
}
