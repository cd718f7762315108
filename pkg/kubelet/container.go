package kubelet

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/api/resource"
	"github.com/kl-dev/kl/pkg/kubelet/runtime"
)

// containerConfig turns a container of the pod spec into what the runtime
// creates: the environment resolved (values, downward API, ConfigMap and
// Secret keys), $(VAR) references expanded, volume mounts mapped to node
// paths, ports, resources and security settings.
func (k *Kubelet) containerConfig(ctx context.Context, pod *corev1.Pod, c *corev1.Container, attempt uint32, sb *runtime.PodSandbox) (runtime.ContainerConfig, error) {
	env, err := k.makeEnv(ctx, pod, c, sb.IP)
	if err != nil {
		return runtime.ContainerConfig{}, err
	}
	vars := make(map[string]string, len(env))
	for _, kv := range env {
		vars[kv.Key] = kv.Value
	}
	cfg := runtime.ContainerConfig{
		Name: c.Name, Attempt: attempt, Image: c.Image,
		Command:    expandAll(c.Command, vars),
		Args:       expandAll(c.Args, vars),
		WorkingDir: c.WorkingDir,
		Env:        env,
		Stdin:      c.Stdin,
		TTY:        c.TTY,
		Labels:     map[string]string{labelContainerHash: containerHash(c)},
	}
	for _, p := range c.Ports {
		cfg.Ports = append(cfg.Ports, portMapping(p))
	}
	mounts, err := k.volumes.mounts(pod, c)
	if err != nil {
		return runtime.ContainerConfig{}, err
	}
	cfg.Mounts = mounts
	if q, ok := c.Resources.Limits[corev1.ResourceCPU]; ok {
		cfg.Resources.CPULimitMilli = q.MilliValue()
	}
	if q, ok := c.Resources.Requests[corev1.ResourceCPU]; ok {
		cfg.Resources.CPURequestMilli = q.MilliValue()
	}
	if q, ok := c.Resources.Limits[corev1.ResourceMemory]; ok {
		cfg.Resources.MemoryLimitBytes = q.Value()
	}
	cfg.SecurityContext = securityContext(pod.Spec.SecurityContext, c.SecurityContext)
	return cfg, nil
}

func securityContext(pod *corev1.PodSecurityContext, c *corev1.SecurityContext) *runtime.SecurityContext {
	if pod == nil && c == nil {
		return nil
	}
	sc := &runtime.SecurityContext{}
	if pod != nil {
		sc.RunAsUser, sc.RunAsGroup = pod.RunAsUser, pod.RunAsGroup
		sc.SupplementalGroups = pod.SupplementalGroups
	}
	if c != nil {
		if c.RunAsUser != nil {
			sc.RunAsUser = c.RunAsUser
		}
		if c.RunAsGroup != nil {
			sc.RunAsGroup = c.RunAsGroup
		}
		sc.Privileged = c.Privileged != nil && *c.Privileged
		sc.ReadOnlyRootFilesystem = c.ReadOnlyRootFilesystem != nil && *c.ReadOnlyRootFilesystem
		if c.Capabilities != nil {
			for _, cp := range c.Capabilities.Add {
				sc.CapAdd = append(sc.CapAdd, string(cp))
			}
			for _, cp := range c.Capabilities.Drop {
				sc.CapDrop = append(sc.CapDrop, string(cp))
			}
		}
	}
	return sc
}

// makeEnv resolves the container's environment as Kubernetes does: envFrom
// sources first, then env in order, each value able to refer to earlier
// ones with $(NAME).
func (k *Kubelet) makeEnv(ctx context.Context, pod *corev1.Pod, c *corev1.Container, podIP string) ([]runtime.KeyValue, error) {
	var env []runtime.KeyValue
	index := map[string]int{}
	setVar := func(key, val string) {
		if i, ok := index[key]; ok {
			env[i].Value = val
			return
		}
		index[key] = len(env)
		env = append(env, runtime.KeyValue{Key: key, Value: val})
	}
	vars := func() map[string]string {
		m := make(map[string]string, len(env))
		for _, kv := range env {
			m[kv.Key] = kv.Value
		}
		return m
	}
	for _, from := range c.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			cm, err := k.objects.configMap(ctx, pod.Namespace, from.ConfigMapRef.Name)
			if err != nil {
				if optional(from.ConfigMapRef.Optional) && meta.IsNotFound(err) {
					continue
				}
				return nil, err
			}
			for _, key := range sortedKeys(cm.Data) {
				setVar(from.Prefix+key, cm.Data[key])
			}
		case from.SecretRef != nil:
			s, err := k.objects.secret(ctx, pod.Namespace, from.SecretRef.Name)
			if err != nil {
				if optional(from.SecretRef.Optional) && meta.IsNotFound(err) {
					continue
				}
				return nil, err
			}
			for _, key := range slices.Sorted(maps.Keys(s.Data)) {
				setVar(from.Prefix+key, string(s.Data[key]))
			}
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			setVar(e.Name, expand(e.Value, vars()))
			continue
		}
		val, ok, err := k.envValueFrom(ctx, pod, c, e.ValueFrom, podIP)
		if err != nil {
			// Kubernetes' wording: the error alone, e.g. "couldn't find
			// key url in ConfigMap default/app".
			return nil, err
		}
		if ok {
			setVar(e.Name, val)
		}
	}
	return env, nil
}

// envValueFrom resolves one valueFrom; ok is false for a missing optional
// key.
func (k *Kubelet) envValueFrom(ctx context.Context, pod *corev1.Pod, c *corev1.Container, src *corev1.EnvVarSource, podIP string) (string, bool, error) {
	switch {
	case src.FieldRef != nil:
		v, err := podField(pod, src.FieldRef.FieldPath, podIP, k.cfg.NodeIP)
		return v, err == nil, err
	case src.ResourceFieldRef != nil:
		v, err := k.resourceField(pod, c, src.ResourceFieldRef)
		return v, err == nil, err
	case src.ConfigMapKeyRef != nil:
		ref := src.ConfigMapKeyRef
		cm, err := k.objects.configMap(ctx, pod.Namespace, ref.Name)
		if err != nil {
			if optional(ref.Optional) && meta.IsNotFound(err) {
				return "", false, nil
			}
			return "", false, err
		}
		v, ok := cm.Data[ref.Key]
		if !ok {
			if optional(ref.Optional) {
				return "", false, nil
			}
			return "", false, fmt.Errorf("couldn't find key %s in ConfigMap %s/%s", ref.Key, pod.Namespace, ref.Name)
		}
		return v, true, nil
	case src.SecretKeyRef != nil:
		ref := src.SecretKeyRef
		s, err := k.objects.secret(ctx, pod.Namespace, ref.Name)
		if err != nil {
			if optional(ref.Optional) && meta.IsNotFound(err) {
				return "", false, nil
			}
			return "", false, err
		}
		v, ok := s.Data[ref.Key]
		if !ok {
			if optional(ref.Optional) {
				return "", false, nil
			}
			return "", false, fmt.Errorf("couldn't find key %s in Secret %s/%s", ref.Key, pod.Namespace, ref.Name)
		}
		return string(v), true, nil
	}
	return "", false, nil
}

func optional(p *bool) bool { return p != nil && *p }

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// podField resolves a downward API field path.
func podField(pod *corev1.Pod, path, podIP, hostIP string) (string, error) {
	if key, ok := bracketKey(path, "metadata.labels"); ok {
		return pod.Labels[key], nil
	}
	if key, ok := bracketKey(path, "metadata.annotations"); ok {
		return pod.Annotations[key], nil
	}
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return pod.UID, nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.podIP", "status.podIPs":
		return podIP, nil
	case "status.hostIP", "status.hostIPs":
		return hostIP, nil
	}
	return "", fmt.Errorf("unsupported fieldRef %q", path)
}

// bracketKey parses prefix['key'].
func bracketKey(path, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(path, prefix+"['")
	if !ok {
		return "", false
	}
	key, ok := strings.CutSuffix(rest, "']")
	return key, ok
}

// resourceField resolves a resourceFieldRef: a limit or request of a
// container divided by the divisor, rounded up; an unset limit is the
// node's allocatable.
func (k *Kubelet) resourceField(pod *corev1.Pod, c *corev1.Container, ref *corev1.ResourceFieldSelector) (string, error) {
	target := c
	if ref.ContainerName != "" {
		target = nil
		for _, list := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
			for i := range list {
				if list[i].Name == ref.ContainerName {
					target = &list[i]
				}
			}
		}
		if target == nil {
			return "", fmt.Errorf("resourceFieldRef names no container %q", ref.ContainerName)
		}
	}
	kind, name, ok := strings.Cut(ref.Resource, ".")
	if !ok {
		return "", fmt.Errorf("unsupported resourceFieldRef %q", ref.Resource)
	}
	list := target.Resources.Limits
	if kind == "requests" {
		list = target.Resources.Requests
	}
	q, ok := list[corev1.ResourceName(name)]
	if !ok {
		if kind == "requests" {
			return "0", nil
		}
		if q, ok = k.capacity[corev1.ResourceName(name)]; !ok {
			return "0", nil
		}
	}
	divisor := ref.Divisor
	if divisor.IsZero() {
		divisor = *resource.NewQuantity(1, resource.DecimalSI)
	}
	v := math.Ceil(q.AsApproximateFloat64() / divisor.AsApproximateFloat64())
	return strconv.FormatInt(int64(v), 10), nil
}

// expandAll expands $(VAR) references in each string.
func expandAll(in []string, vars map[string]string) []string {
	if in == nil {
		return nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = expand(s, vars)
	}
	return out
}

// expand replaces $(VAR) with the variable's value as Kubernetes does:
// $$ is a literal $, an unknown $(VAR) stays as it is.
func expand(s string, vars map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			name := s[i+2 : i+2+end]
			if v, ok := vars[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}
