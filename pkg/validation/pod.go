package validation

import (
	"fmt"
	"math"
	"path"
	"sort"
	"strings"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/intstr"
)

// supportedVolumeTypes are the volume sources kl supports, as the schema's
// Volume message lists them.
const supportedVolumeTypes = "emptyDir, configMap, secret, hostPath"

var (
	restartPolicies     = []string{"Always", "OnFailure", "Never"}
	pullPolicies        = []string{"Always", "IfNotPresent", "Never"}
	protocols           = []string{"TCP", "UDP", "SCTP"}
	dnsPolicies         = []string{"ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"}
	taintEffects        = []string{"NoSchedule", "PreferNoSchedule", "NoExecute"}
	tolerationOperators = []string{"Exists", "Equal"}
	terminationPolicies = []string{"File", "FallbackToLogsOnError"}
	uriSchemes          = []string{"HTTP", "HTTPS"}
	fieldRefPaths       = []string{
		"metadata.name", "metadata.namespace", "metadata.uid", "metadata.labels", "metadata.annotations",
		"spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs",
	}
	resourceFieldRefs = []string{
		"limits.cpu", "limits.memory", "limits.ephemeral-storage",
		"requests.cpu", "requests.memory", "requests.ephemeral-storage",
	}
)

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// enum reports a value of field name (below p) outside a closed set; "" is
// accepted when allowEmpty (the field is defaulted).
func enum(v string, valid []string, allowEmpty bool, p *FieldPath, name string) ErrorList {
	if (v == "" && allowEmpty) || contains(valid, v) {
		return nil
	}
	return ErrorList{NotSupported(at(p, name), v, valid)}
}

// validatePod checks a Pod.
func validatePod(pod *corev1.Pod) ErrorList {
	errs := validateObjectMeta(&pod.ObjectMeta, true, nameIsDNSSubdomain, NewFieldPath("metadata"))
	return append(errs, validatePodSpec(&pod.Spec, NewFieldPath("spec"))...)
}

// validatePodTemplate checks the pod template of a workload, which must
// restart its containers Always and has no deadline.
func validatePodTemplate(t *corev1.PodTemplateSpec, p *FieldPath) ErrorList {
	errs := validateTemplateMeta(&t.ObjectMeta, p.Child("metadata"))
	sp := p.Child("spec")
	errs = append(errs, validatePodSpec(&t.Spec, sp)...)
	if rp := string(t.Spec.RestartPolicy); rp != "" && rp != string(corev1.RestartPolicyAlways) {
		errs = append(errs, NotSupported(sp.Child("restartPolicy"), rp, []string{string(corev1.RestartPolicyAlways)}))
	}
	if t.Spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, Forbidden(sp.Child("activeDeadlineSeconds"), "activeDeadlineSeconds in ReplicaSet is not Supported"))
	}
	return errs
}

// validatePodSpec checks a pod spec (ValidatePodSpec in Kubernetes).
func validatePodSpec(spec *corev1.PodSpec, p *FieldPath) ErrorList {
	var errs ErrorList
	volumes, vErrs := validateVolumes(spec.Volumes, p.Child("volumes"))
	errs = append(errs, vErrs...)

	if len(spec.Containers) == 0 {
		errs = append(errs, Required(p.Child("containers"), ""))
	}
	names := map[string]bool{}
	for i := range spec.InitContainers {
		errs = append(errs, validateContainer(&spec.InitContainers[i], true, volumes, names, p.Child("initContainers").Index(i))...)
	}
	for i := range spec.Containers {
		errs = append(errs, validateContainer(&spec.Containers[i], false, volumes, names, p.Child("containers").Index(i))...)
	}
	errs = append(errs, validateHostPorts(spec, p)...)

	errs = append(errs, enum(string(spec.RestartPolicy), restartPolicies, true, p, "restartPolicy")...)
	errs = append(errs, enum(string(spec.DNSPolicy), dnsPolicies, true, p, "dnsPolicy")...)
	errs = append(errs, nonNegativePtr(spec.TerminationGracePeriodSeconds, p, "terminationGracePeriodSeconds")...)
	if d := spec.ActiveDeadlineSeconds; d != nil && (*d < 1 || *d > math.MaxInt32) {
		errs = append(errs, Invalid(p.Child("activeDeadlineSeconds"), *d, fmt.Sprintf("must be between 1 and %d, inclusive", math.MaxInt32)))
	}
	errs = append(errs, validateLabels(spec.NodeSelector, p.Child("nodeSelector"))...)
	if sa := spec.ServiceAccountName; sa != "" {
		for _, msg := range isDNS1123Subdomain(sa) {
			errs = append(errs, Invalid(p.Child("serviceAccountName"), sa, msg))
		}
	}
	if n := spec.NodeName; n != "" {
		for _, msg := range isDNS1123Subdomain(n) {
			errs = append(errs, Invalid(p.Child("nodeName"), n, msg))
		}
	}
	for _, f := range []struct {
		name, value string
	}{{"hostname", spec.Hostname}, {"subdomain", spec.Subdomain}} {
		if f.value == "" {
			continue
		}
		for _, msg := range isDNS1123Label(f.value) {
			errs = append(errs, Invalid(p.Child(f.name), f.value, msg))
		}
	}
	for i, s := range spec.ImagePullSecrets {
		if s.Name == "" {
			errs = append(errs, Required(p.Child("imagePullSecrets").Index(i).Child("name"), ""))
		}
	}
	for i := range spec.Tolerations {
		errs = append(errs, validateToleration(&spec.Tolerations[i], p.Child("tolerations").Index(i))...)
	}
	if sc := spec.SecurityContext; sc != nil {
		sp := p.Child("securityContext")
		errs = append(errs, validID(sc.RunAsUser, sp, "runAsUser")...)
		errs = append(errs, validID(sc.RunAsGroup, sp, "runAsGroup")...)
		errs = append(errs, validID(sc.FSGroup, sp, "fsGroup")...)
		for i := range sc.SupplementalGroups {
			errs = append(errs, validID(&sc.SupplementalGroups[i], sp.Child("supplementalGroups").Index(i), "")...)
		}
	}
	return errs
}

func validID(id *int64, p *FieldPath, name string) ErrorList {
	if id != nil && (*id < 0 || *id > math.MaxInt32) {
		return ErrorList{Invalid(at(p, name), *id, fmt.Sprintf("must be between 0 and %d, inclusive", math.MaxInt32))}
	}
	return nil
}

// validateVolumes checks the pod's volumes and returns their names.
func validateVolumes(vols []corev1.Volume, p *FieldPath) (map[string]bool, ErrorList) {
	var errs ErrorList
	names := map[string]bool{}
	for i := range vols {
		v := &vols[i]
		vp := p.Index(i)
		switch {
		case v.Name == "":
			errs = append(errs, Required(vp.Child("name"), ""))
		case names[v.Name]:
			errs = append(errs, Duplicate(vp.Child("name"), v.Name))
		default:
			for _, msg := range isDNS1123Label(v.Name) {
				errs = append(errs, Invalid(vp.Child("name"), v.Name, msg))
			}
		}
		names[v.Name] = true

		unsupported := v.UnsupportedSources()
		for _, key := range unsupported {
			errs = append(errs, Unsupported(vp.Child(key),
				fmt.Sprintf("volume source %q is not supported by kl (supported: %s)", key, supportedVolumeTypes)))
		}
		var set []string
		if s := v.HostPath; s != nil {
			set = append(set, "hostPath")
			hp := vp.Child("hostPath", "path")
			if s.Path == "" {
				errs = append(errs, Required(hp, ""))
			} else if !path.IsAbs(s.Path) {
				errs = append(errs, Invalid(hp, s.Path, "must be an absolute path"))
			}
		}
		if s := v.EmptyDir; s != nil {
			set = append(set, "emptyDir")
			if s.SizeLimit != nil && s.SizeLimit.Sign() < 0 {
				errs = append(errs, Invalid(vp.Child("emptyDir", "sizeLimit"), s.SizeLimit.String(), "must be greater than or equal to 0"))
			}
		}
		if s := v.Secret; s != nil {
			set = append(set, "secret")
			sp := vp.Child("secret")
			if s.SecretName == "" {
				errs = append(errs, Required(sp.Child("secretName"), ""))
			}
			errs = append(errs, validateMode(s.DefaultMode, sp, "defaultMode")...)
			errs = append(errs, validateKeyToPaths(s.Items, sp.Child("items"))...)
		}
		if s := v.ConfigMap; s != nil {
			set = append(set, "configMap")
			cp := vp.Child("configMap")
			if s.Name == "" {
				errs = append(errs, Required(cp.Child("name"), ""))
			}
			errs = append(errs, validateMode(s.DefaultMode, cp, "defaultMode")...)
			errs = append(errs, validateKeyToPaths(s.Items, cp.Child("items"))...)
		}
		switch {
		case len(set) == 0 && len(unsupported) == 0:
			errs = append(errs, Required(vp, "must specify a volume type"))
		case len(set) > 1:
			errs = append(errs, Forbidden(vp.Child(set[1]), "may not specify more than 1 volume type"))
		}
	}
	return names, errs
}

func validateMode(mode *int32, p *FieldPath, name string) ErrorList {
	if mode != nil && (*mode < 0 || *mode > 0o777) {
		return ErrorList{Invalid(at(p, name), *mode, "must be a number between 0 and 0777 (octal), both inclusive")}
	}
	return nil
}

func validateKeyToPaths(items []corev1.KeyToPath, p *FieldPath) ErrorList {
	var errs ErrorList
	for i, it := range items {
		ip := p.Index(i)
		if it.Key == "" {
			errs = append(errs, Required(ip.Child("key"), ""))
		} else {
			for _, msg := range isConfigMapKey(it.Key) {
				errs = append(errs, Invalid(ip.Child("key"), it.Key, msg))
			}
		}
		if it.Path == "" {
			errs = append(errs, Required(ip.Child("path"), ""))
		} else {
			errs = append(errs, validateLocalPath(it.Path, ip.Child("path"))...)
		}
		errs = append(errs, validateMode(it.Mode, ip, "mode")...)
	}
	return errs
}

// validateLocalPath checks a path that must stay inside a volume.
func validateLocalPath(v string, p *FieldPath) ErrorList {
	var errs ErrorList
	if path.IsAbs(v) {
		errs = append(errs, Invalid(p, v, "must be a relative path"))
	}
	for _, part := range strings.Split(v, "/") {
		if part == ".." {
			errs = append(errs, Invalid(p, v, "must not contain '..'"))
			break
		}
	}
	return errs
}

// validateContainer checks one container; names collects container names
// across init and app containers.
func validateContainer(c *corev1.Container, init bool, volumes, names map[string]bool, p *FieldPath) ErrorList {
	var errs ErrorList
	switch {
	case c.Name == "":
		errs = append(errs, Required(p.Child("name"), ""))
	case names[c.Name]:
		errs = append(errs, Duplicate(p.Child("name"), c.Name))
	default:
		for _, msg := range isDNS1123Label(c.Name) {
			errs = append(errs, Invalid(p.Child("name"), c.Name, msg))
		}
	}
	names[c.Name] = true
	if strings.TrimSpace(c.Image) == "" {
		errs = append(errs, Required(p.Child("image"), ""))
	} else if c.Image != strings.TrimSpace(c.Image) {
		errs = append(errs, Invalid(p.Child("image"), c.Image, "must not have leading or trailing whitespace"))
	}
	errs = append(errs, enum(string(c.ImagePullPolicy), pullPolicies, true, p, "imagePullPolicy")...)
	errs = append(errs, enum(string(c.TerminationMessagePolicy), terminationPolicies, true, p, "terminationMessagePolicy")...)
	errs = append(errs, validateContainerPorts(c.Ports, p.Child("ports"))...)
	errs = append(errs, validateEnv(c.Env, p.Child("env"))...)
	errs = append(errs, validateEnvFrom(c.EnvFrom, p.Child("envFrom"))...)
	errs = append(errs, validateResources(&c.Resources, p.Child("resources"))...)
	errs = append(errs, validateVolumeMounts(c.VolumeMounts, volumes, p.Child("volumeMounts"))...)
	probes := []struct {
		name    string
		probe   *corev1.Probe
		mustBe1 bool
	}{
		{"livenessProbe", c.LivenessProbe, true},
		{"readinessProbe", c.ReadinessProbe, false},
		{"startupProbe", c.StartupProbe, true},
	}
	for _, pr := range probes {
		if pr.probe == nil {
			continue
		}
		if init {
			errs = append(errs, Forbidden(p.Child(pr.name), "may not be set for init containers"))
			continue
		}
		errs = append(errs, validateProbe(pr.probe, pr.mustBe1, p.Child(pr.name))...)
	}
	if sc := c.SecurityContext; sc != nil {
		sp := p.Child("securityContext")
		errs = append(errs, validID(sc.RunAsUser, sp, "runAsUser")...)
		errs = append(errs, validID(sc.RunAsGroup, sp, "runAsGroup")...)
		if sc.Privileged != nil && *sc.Privileged && sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
			errs = append(errs, Invalid(sp, nil, "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))
		}
	}
	if c.StdinOnce && !c.Stdin {
		errs = append(errs, Invalid(p.Child("stdinOnce"), true, "must be false when `stdin` is false"))
	}
	return errs
}

func validateContainerPorts(ports []corev1.ContainerPort, p *FieldPath) ErrorList {
	var errs ErrorList
	names := map[string]bool{}
	numbers := map[string]bool{}
	for i, port := range ports {
		pp := p.Index(i)
		if port.Name != "" {
			if names[port.Name] {
				errs = append(errs, Duplicate(pp.Child("name"), port.Name))
			} else {
				for _, msg := range isPortName(port.Name) {
					errs = append(errs, Invalid(pp.Child("name"), port.Name, msg))
				}
			}
			names[port.Name] = true
		}
		if port.ContainerPort == 0 {
			errs = append(errs, Required(pp.Child("containerPort"), ""))
		} else {
			for _, msg := range isPortNum(int64(port.ContainerPort)) {
				errs = append(errs, Invalid(pp.Child("containerPort"), port.ContainerPort, msg))
			}
		}
		if port.HostPort != 0 {
			for _, msg := range isPortNum(int64(port.HostPort)) {
				errs = append(errs, Invalid(pp.Child("hostPort"), port.HostPort, msg))
			}
		}
		errs = append(errs, enum(string(port.Protocol), protocols, true, pp, "protocol")...)
		if port.HostIP != "" {
			for _, msg := range isIP(port.HostIP) {
				errs = append(errs, Invalid(pp.Child("hostIP"), port.HostIP, msg))
			}
		}
		key := fmt.Sprintf("%d/%s", port.ContainerPort, protocolOrTCP(port.Protocol))
		if port.ContainerPort != 0 && numbers[key] {
			errs = append(errs, Duplicate(pp.Child("containerPort"), port.ContainerPort))
		}
		numbers[key] = true
	}
	return errs
}

func protocolOrTCP(p corev1.Protocol) string {
	if p == "" {
		return string(corev1.ProtocolTCP)
	}
	return string(p)
}

// validateHostPorts rejects two containers of a pod claiming the same host
// port, and host ports that differ from the container port on the host
// network.
func validateHostPorts(spec *corev1.PodSpec, p *FieldPath) ErrorList {
	var errs ErrorList
	seen := map[string]bool{}
	check := func(cs []corev1.Container, field string) {
		for i := range cs {
			for j, port := range cs[i].Ports {
				pp := p.Child(field).Index(i).Child("ports").Index(j)
				if spec.HostNetwork && port.HostPort != 0 && port.HostPort != port.ContainerPort {
					errs = append(errs, Invalid(pp.Child("hostPort"), port.HostPort, "must match `containerPort` when `hostNetwork` is true"))
				}
				if port.HostPort == 0 {
					continue
				}
				key := fmt.Sprintf("%s/%d/%s", port.HostIP, port.HostPort, protocolOrTCP(port.Protocol))
				if seen[key] {
					errs = append(errs, Duplicate(pp.Child("hostPort"), key))
				}
				seen[key] = true
			}
		}
	}
	check(spec.InitContainers, "initContainers")
	check(spec.Containers, "containers")
	return errs
}

func validateEnv(env []corev1.EnvVar, p *FieldPath) ErrorList {
	var errs ErrorList
	for i, e := range env {
		ep := p.Index(i)
		if e.Name == "" {
			errs = append(errs, Required(ep.Child("name"), ""))
		} else {
			for _, msg := range isEnvVarName(e.Name) {
				errs = append(errs, Invalid(ep.Child("name"), e.Name, msg))
			}
		}
		if e.ValueFrom == nil {
			continue
		}
		vp := ep.Child("valueFrom")
		if e.Value != "" {
			errs = append(errs, Invalid(vp, "", "may not be specified when `value` is not empty"))
		}
		n := 0
		if r := e.ValueFrom.FieldRef; r != nil {
			n++
			fp := vp.Child("fieldRef", "fieldPath")
			switch {
			case r.FieldPath == "":
				errs = append(errs, Required(fp, ""))
			case !contains(fieldRefPaths, r.FieldPath) && !isLabelOrAnnotationRef(r.FieldPath):
				errs = append(errs, NotSupported(fp, r.FieldPath, fieldRefPaths))
			}
		}
		if r := e.ValueFrom.ResourceFieldRef; r != nil {
			n++
			rp := vp.Child("resourceFieldRef", "resource")
			switch {
			case r.Resource == "":
				errs = append(errs, Required(rp, ""))
			case !contains(resourceFieldRefs, r.Resource):
				errs = append(errs, NotSupported(rp, r.Resource, resourceFieldRefs))
			}
		}
		if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
			n++
			errs = append(errs, validateKeyRef(r.Name, r.Key, vp.Child("configMapKeyRef"))...)
		}
		if r := e.ValueFrom.SecretKeyRef; r != nil {
			n++
			errs = append(errs, validateKeyRef(r.Name, r.Key, vp.Child("secretKeyRef"))...)
		}
		switch {
		case n == 0:
			errs = append(errs, Invalid(vp, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"))
		case n > 1:
			errs = append(errs, Invalid(vp, "", "may not have more than one field specified at a time"))
		}
	}
	return errs
}

// isLabelOrAnnotationRef accepts metadata.labels['key'] and
// metadata.annotations['key'] downward API paths.
func isLabelOrAnnotationRef(fp string) bool {
	for _, prefix := range []string{"metadata.labels['", "metadata.annotations['"} {
		if rest, ok := strings.CutPrefix(fp, prefix); ok && strings.HasSuffix(rest, "']") && len(rest) > 2 {
			return len(isQualifiedName(strings.ToLower(strings.TrimSuffix(rest, "']")))) == 0
		}
	}
	return false
}

func validateKeyRef(name, key string, p *FieldPath) ErrorList {
	var errs ErrorList
	if name == "" {
		errs = append(errs, Required(p.Child("name"), ""))
	}
	if key == "" {
		errs = append(errs, Required(p.Child("key"), ""))
	} else {
		for _, msg := range isConfigMapKey(key) {
			errs = append(errs, Invalid(p.Child("key"), key, msg))
		}
	}
	return errs
}

func validateEnvFrom(from []corev1.EnvFromSource, p *FieldPath) ErrorList {
	var errs ErrorList
	for i, f := range from {
		fp := p.Index(i)
		if f.Prefix != "" {
			for _, msg := range isEnvVarName(f.Prefix) {
				errs = append(errs, Invalid(fp.Child("prefix"), f.Prefix, msg))
			}
		}
		n := 0
		if f.ConfigMapRef != nil {
			n++
			if f.ConfigMapRef.Name == "" {
				errs = append(errs, Required(fp.Child("configMapRef", "name"), ""))
			}
		}
		if f.SecretRef != nil {
			n++
			if f.SecretRef.Name == "" {
				errs = append(errs, Required(fp.Child("secretRef", "name"), ""))
			}
		}
		switch {
		case n == 0:
			errs = append(errs, Invalid(fp, "", "must specify one of: `configMapRef` or `secretRef`"))
		case n > 1:
			errs = append(errs, Invalid(fp, "", "may not have more than one field specified at a time"))
		}
	}
	return errs
}

var standardContainerResources = []string{"cpu", "memory", "ephemeral-storage"}

func validateResources(r *corev1.ResourceRequirements, p *FieldPath) ErrorList {
	var errs ErrorList
	check := func(list corev1.ResourceList, lp *FieldPath) {
		for name, q := range list {
			if nameErrs := validateResourceName(string(name), lp, string(name)); nameErrs != nil {
				errs = append(errs, nameErrs...)
			}
			if q.Sign() < 0 {
				errs = append(errs, Invalid(lp.Key(string(name)), q.String(), "must be greater than or equal to 0"))
			}
		}
	}
	check(r.Limits, p.Child("limits"))
	check(r.Requests, p.Child("requests"))
	for name, req := range r.Requests {
		limit, ok := r.Limits[name]
		if ok && req.Cmp(limit) > 0 {
			errs = append(errs, Invalid(p.Child("requests").Key(string(name)), req.String(),
				fmt.Sprintf("must be less than or equal to %s limit of %s", name, limit.String())))
		}
	}
	// Map order is random; keep the errors in a stable order.
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
	return errs
}

// validateResourceName accepts cpu, memory, ephemeral-storage, hugepages-*
// and extended resources, which must be qualified with a domain
// ("example.com/gpu").
func validateResourceName(name string, list *FieldPath, key string) ErrorList {
	if contains(standardContainerResources, name) || strings.HasPrefix(name, "hugepages-") {
		return nil
	}
	if !strings.Contains(name, "/") {
		return ErrorList{Invalid(list.Key(key), name, "must be a standard resource for containers")}
	}
	var errs ErrorList
	for _, msg := range isQualifiedName(name) {
		errs = append(errs, Invalid(list.Key(key), name, msg))
	}
	return errs
}

func validateVolumeMounts(mounts []corev1.VolumeMount, volumes map[string]bool, p *FieldPath) ErrorList {
	var errs ErrorList
	paths := map[string]bool{}
	for i, m := range mounts {
		mp := p.Index(i)
		switch {
		case m.Name == "":
			errs = append(errs, Required(mp.Child("name"), ""))
		case !volumes[m.Name]:
			errs = append(errs, NotFound(mp.Child("name"), m.Name))
		}
		switch {
		case m.MountPath == "":
			errs = append(errs, Required(mp.Child("mountPath"), ""))
		case paths[m.MountPath]:
			errs = append(errs, Invalid(mp.Child("mountPath"), m.MountPath, "must be unique"))
		}
		paths[m.MountPath] = true
		if m.SubPath != "" {
			errs = append(errs, validateLocalPath(m.SubPath, mp.Child("subPath"))...)
		}
	}
	return errs
}

// validateProbe checks a probe: exactly one handler, non-negative timings,
// a success threshold of 1 where Kubernetes requires it.
func validateProbe(pr *corev1.Probe, successMustBe1 bool, p *FieldPath) ErrorList {
	var errs ErrorList
	var handlers []string
	if h := pr.Exec; h != nil {
		handlers = append(handlers, "exec")
		if len(h.Command) == 0 {
			errs = append(errs, Required(p.Child("exec", "command"), ""))
		}
	}
	if h := pr.HTTPGet; h != nil {
		handlers = append(handlers, "httpGet")
		hp := p.Child("httpGet")
		errs = append(errs, validatePortNumOrName(h.Port, hp.Child("port"))...)
		errs = append(errs, enum(string(h.Scheme), uriSchemes, true, hp, "scheme")...)
		for i, hdr := range h.HTTPHeaders {
			if !httpHeaderNameRe.MatchString(hdr.Name) {
				errs = append(errs, Invalid(hp.Child("httpHeaders").Index(i).Child("name"), hdr.Name,
					"a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')"))
			}
		}
	}
	if h := pr.TCPSocket; h != nil {
		handlers = append(handlers, "tcpSocket")
		errs = append(errs, validatePortNumOrName(h.Port, p.Child("tcpSocket", "port"))...)
	}
	switch {
	case len(handlers) == 0:
		errs = append(errs, Required(p, "must specify a handler type"))
	case len(handlers) > 1:
		errs = append(errs, Forbidden(p.Child(handlers[1]), "may not specify more than 1 handler type"))
	}
	errs = append(errs, nonNegative(pr.InitialDelaySeconds, p, "initialDelaySeconds")...)
	errs = append(errs, nonNegative(pr.TimeoutSeconds, p, "timeoutSeconds")...)
	errs = append(errs, nonNegative(pr.PeriodSeconds, p, "periodSeconds")...)
	errs = append(errs, nonNegative(pr.SuccessThreshold, p, "successThreshold")...)
	errs = append(errs, nonNegative(pr.FailureThreshold, p, "failureThreshold")...)
	if successMustBe1 && pr.SuccessThreshold > 1 {
		errs = append(errs, Invalid(p.Child("successThreshold"), pr.SuccessThreshold, "must be 1"))
	}
	if g := pr.TerminationGracePeriodSeconds; g != nil && *g <= 0 {
		errs = append(errs, Invalid(p.Child("terminationGracePeriodSeconds"), *g, "must be greater than 0"))
	}
	return errs
}

// validatePortNumOrName checks a port given as a number (1-65535) or an
// IANA service name.
func validatePortNumOrName(port intstr.IntOrString, p *FieldPath) ErrorList {
	var errs ErrorList
	if port.Type == intstr.String {
		for _, msg := range isPortName(port.StrVal) {
			errs = append(errs, Invalid(p, port.StrVal, msg))
		}
		return errs
	}
	for _, msg := range isPortNum(int64(port.IntVal)) {
		errs = append(errs, Invalid(p, port.IntVal, msg))
	}
	return errs
}

func validateToleration(t *corev1.Toleration, p *FieldPath) ErrorList {
	var errs ErrorList
	if t.Key != "" {
		for _, msg := range isQualifiedName(t.Key) {
			errs = append(errs, Invalid(p.Child("key"), t.Key, msg))
		}
	}
	if t.Key == "" && t.Operator != corev1.TolerationOpExists {
		errs = append(errs, Invalid(p.Child("operator"), string(t.Operator),
			"operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
	}
	switch t.Operator {
	case corev1.TolerationOpEqual, "":
		for _, msg := range isLabelValue(t.Value) {
			errs = append(errs, Invalid(p.Child("value"), t.Value, msg))
		}
	case corev1.TolerationOpExists:
		if t.Value != "" {
			errs = append(errs, Invalid(p.Child("value"), t.Value, "value must be empty when `operator` is 'Exists'"))
		}
	default:
		errs = append(errs, NotSupported(p.Child("operator"), string(t.Operator), tolerationOperators))
	}
	errs = append(errs, enum(string(t.Effect), taintEffects, true, p, "effect")...)
	if t.TolerationSeconds != nil && t.Effect != corev1.TaintEffectNoExecute {
		errs = append(errs, Invalid(p.Child("effect"), string(t.Effect), "effect must be 'NoExecute' when `tolerationSeconds` is set"))
	}
	return errs
}
