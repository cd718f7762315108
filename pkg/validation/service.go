package validation

import (
	"fmt"
	"strings"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/intstr"
)

var (
	serviceTypes      = []string{"ClusterIP", "NodePort", "LoadBalancer", "ExternalName"}
	sessionAffinities = []string{"ClientIP", "None"}
	trafficPolicies   = []string{"Cluster", "Local"}
)

// NodePortRange is the range node ports are allocated from, as in
// Kubernetes' default --service-node-port-range.
const (
	NodePortMin = 30000
	NodePortMax = 32767
)

func validateService(svc *corev1.Service) ErrorList {
	errs := validateObjectMeta(&svc.ObjectMeta, true, nameIsDNS1035Label, NewFieldPath("metadata"))
	spec := &svc.Spec
	sp := NewFieldPath("spec")
	typ := spec.Type
	if typ == "" {
		typ = corev1.ServiceTypeClusterIP
	}
	errs = append(errs, enum(string(spec.Type), serviceTypes, true, sp, "type")...)
	headless := spec.ClusterIP == corev1.ClusterIPNone

	if len(spec.Ports) == 0 && !headless && typ != corev1.ServiceTypeExternalName {
		errs = append(errs, Required(sp.Child("ports"), ""))
	}
	errs = append(errs, validateServicePorts(spec.Ports, typ, sp.Child("ports"))...)

	// clusterIP / clusterIPs: "", None or an IP; the first of clusterIPs is
	// clusterIP.
	ipPath := sp.Child("clusterIP")
	if len(spec.ClusterIPs) > 0 {
		ipPath = sp.Child("clusterIPs").Index(0)
	}
	if ip := spec.ClusterIP; ip != "" && ip != corev1.ClusterIPNone && len(isIP(ip)) > 0 {
		errs = append(errs, Invalid(sp.Child("clusterIP"), ip, "must be empty, 'None', or a valid IP address"))
	}
	for i, ip := range spec.ClusterIPs {
		if ip != corev1.ClusterIPNone && len(isIP(ip)) > 0 {
			errs = append(errs, Invalid(sp.Child("clusterIPs").Index(i), ip, "must be 'None' or a valid IP address"))
		}
	}
	if spec.ClusterIP != "" && len(spec.ClusterIPs) > 0 && spec.ClusterIPs[0] != spec.ClusterIP {
		errs = append(errs, Invalid(sp.Child("clusterIPs"), spec.ClusterIPs, "first value must match `clusterIP`"))
	}
	if headless {
		switch typ {
		case corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer:
			errs = append(errs, Invalid(ipPath, corev1.ClusterIPNone, fmt.Sprintf("may not be set to 'None' for %s services", typ)))
		}
	}
	if typ == corev1.ServiceTypeExternalName {
		if spec.ClusterIP != "" {
			errs = append(errs, Forbidden(sp.Child("clusterIP"), "may not be set for ExternalName services"))
		}
		en := strings.TrimSuffix(spec.ExternalName, ".")
		if en == "" {
			errs = append(errs, Required(sp.Child("externalName"), ""))
		} else {
			for _, msg := range isDNS1123Subdomain(en) {
				errs = append(errs, Invalid(sp.Child("externalName"), spec.ExternalName, msg))
			}
		}
	}

	errs = append(errs, validateLabels(spec.Selector, sp.Child("selector"))...)
	for i, ip := range spec.ExternalIPs {
		for _, msg := range isIP(ip) {
			errs = append(errs, Invalid(sp.Child("externalIPs").Index(i), ip, msg))
		}
	}

	errs = append(errs, enum(string(spec.SessionAffinity), sessionAffinities, true, sp, "sessionAffinity")...)
	if cfg := spec.SessionAffinityConfig; cfg != nil {
		cp := sp.Child("sessionAffinityConfig")
		if spec.SessionAffinity != corev1.ServiceAffinityClientIP {
			errs = append(errs, Forbidden(cp, fmt.Sprintf("must not be set when `sessionAffinity` is %s", orDefault(string(spec.SessionAffinity), "None"))))
		} else if cfg.ClientIP != nil && cfg.ClientIP.TimeoutSeconds != nil {
			if t := *cfg.ClientIP.TimeoutSeconds; t <= 0 || t > 86400 {
				errs = append(errs, Invalid(cp.Child("clientIP", "timeoutSeconds"), t, "must be greater than 0 and less than 86400"))
			}
		}
	}

	errs = append(errs, enum(string(spec.ExternalTrafficPolicy), trafficPolicies, true, sp, "externalTrafficPolicy")...)
	if spec.ExternalTrafficPolicy != "" && typ != corev1.ServiceTypeNodePort && typ != corev1.ServiceTypeLoadBalancer {
		errs = append(errs, Invalid(sp.Child("externalTrafficPolicy"), string(spec.ExternalTrafficPolicy),
			"may only be set when `type` is 'NodePort' or 'LoadBalancer'"))
	}
	if spec.InternalTrafficPolicy != nil {
		errs = append(errs, enum(string(*spec.InternalTrafficPolicy), trafficPolicies, false, sp, "internalTrafficPolicy")...)
	}
	if hc := spec.HealthCheckNodePort; hc != 0 {
		if typ != corev1.ServiceTypeLoadBalancer || spec.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyLocal {
			errs = append(errs, Invalid(sp.Child("healthCheckNodePort"), hc,
				"may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"))
		} else {
			errs = append(errs, validateNodePortRange(hc, sp.Child("healthCheckNodePort"))...)
		}
	}
	return errs
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func validateServicePorts(ports []corev1.ServicePort, typ corev1.ServiceType, p *FieldPath) ErrorList {
	var errs ErrorList
	names := map[string]bool{}
	keys := map[string]bool{}
	nodePorts := map[string]bool{}
	for i, port := range ports {
		pp := p.Index(i)
		switch {
		case port.Name == "" && len(ports) > 1:
			errs = append(errs, Required(pp.Child("name"), ""))
		case port.Name != "" && names[port.Name]:
			errs = append(errs, Duplicate(pp.Child("name"), port.Name))
		case port.Name != "":
			for _, msg := range isDNS1123Label(port.Name) {
				errs = append(errs, Invalid(pp.Child("name"), port.Name, msg))
			}
		}
		names[port.Name] = true
		for _, msg := range isPortNum(int64(port.Port)) {
			errs = append(errs, Invalid(pp.Child("port"), port.Port, msg))
		}
		errs = append(errs, enum(string(port.Protocol), protocols, true, pp, "protocol")...)
		errs = append(errs, validateTargetPort(port.TargetPort, pp.Child("targetPort"))...)

		key := fmt.Sprintf("%d/%s", port.Port, protocolOrTCP(port.Protocol))
		if keys[key] {
			errs = append(errs, Duplicate(pp, key))
		}
		keys[key] = true

		if port.NodePort != 0 {
			np := pp.Child("nodePort")
			if typ != corev1.ServiceTypeNodePort && typ != corev1.ServiceTypeLoadBalancer {
				errs = append(errs, Forbidden(np, fmt.Sprintf("may not be used when `type` is '%s'", typ)))
			} else {
				errs = append(errs, validateNodePortRange(port.NodePort, np)...)
				nk := fmt.Sprintf("%d/%s", port.NodePort, protocolOrTCP(port.Protocol))
				if nodePorts[nk] {
					errs = append(errs, Duplicate(np, port.NodePort))
				}
				nodePorts[nk] = true
			}
		}
	}
	return errs
}

// validateTargetPort accepts an unset target port (0: it defaults to port),
// a port number, or a container port name.
func validateTargetPort(tp intstr.IntOrString, p *FieldPath) ErrorList {
	if tp.Type == intstr.Int && tp.IntVal == 0 {
		return nil
	}
	return validatePortNumOrName(tp, p)
}

func validateNodePortRange(port int32, p *FieldPath) ErrorList {
	if port < NodePortMin || port > NodePortMax {
		return ErrorList{Invalid(p, port, fmt.Sprintf("provided port is not in the valid range. The range of valid ports is %d-%d", NodePortMin, NodePortMax))}
	}
	return nil
}

func validateEndpoints(ep *corev1.Endpoints) ErrorList {
	errs := validateObjectMeta(&ep.ObjectMeta, true, nameIsDNSSubdomain, NewFieldPath("metadata"))
	for i, ss := range ep.Subsets {
		sp := NewFieldPath("subsets").Index(i)
		check := func(addrs []corev1.EndpointAddress, field string) {
			for j, a := range addrs {
				ap := sp.Child(field).Index(j)
				if a.IP == "" {
					errs = append(errs, Required(ap.Child("ip"), ""))
				} else {
					for _, msg := range isIP(a.IP) {
						errs = append(errs, Invalid(ap.Child("ip"), a.IP, msg))
					}
				}
				if a.Hostname != "" {
					for _, msg := range isDNS1123Label(a.Hostname) {
						errs = append(errs, Invalid(ap.Child("hostname"), a.Hostname, msg))
					}
				}
				if a.NodeName != nil && *a.NodeName != "" {
					for _, msg := range isDNS1123Subdomain(*a.NodeName) {
						errs = append(errs, Invalid(ap.Child("nodeName"), *a.NodeName, msg))
					}
				}
			}
		}
		check(ss.Addresses, "addresses")
		check(ss.NotReadyAddresses, "notReadyAddresses")
		names := map[string]bool{}
		for j, port := range ss.Ports {
			pp := sp.Child("ports").Index(j)
			switch {
			case port.Name == "" && len(ss.Ports) > 1:
				errs = append(errs, Required(pp.Child("name"), ""))
			case port.Name != "" && names[port.Name]:
				errs = append(errs, Duplicate(pp.Child("name"), port.Name))
			case port.Name != "":
				for _, msg := range isDNS1123Label(port.Name) {
					errs = append(errs, Invalid(pp.Child("name"), port.Name, msg))
				}
			}
			names[port.Name] = true
			for _, msg := range isPortNum(int64(port.Port)) {
				errs = append(errs, Invalid(pp.Child("port"), port.Port, msg))
			}
			errs = append(errs, enum(string(port.Protocol), protocols, true, pp, "protocol")...)
		}
	}
	return errs
}
