package describe

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"sort"
	"strings"
	"time"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/intstr"
	"github.com/kl-dev/kl/pkg/api/meta"
	apiresource "github.com/kl-dev/kl/pkg/api/resource"
	"github.com/kl-dev/kl/pkg/cli/resource"
	"github.com/kl-dev/kl/pkg/client"
)

// describer describes objects; related objects (events, pods of a node,
// replica sets of a deployment) are read through dyn.
type describer struct {
	c      *client.Client
	dyn    *client.Dynamic
	now    time.Time
	events bool
}

var (
	gvrPods        = meta.GroupVersionResource{Version: "v1", Resource: "pods"}
	gvrEvents      = meta.GroupVersionResource{Version: "v1", Resource: "events"}
	gvrEndpoints   = meta.GroupVersionResource{Version: "v1", Resource: "endpoints"}
	gvrReplicaSets = meta.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}
)

func decode[T any](o resource.Object) (*T, error) {
	v := new(T)
	if err := json.Unmarshal(o.Raw, v); err != nil {
		return nil, fmt.Errorf("decode %s: %w", o.Mapping.Type(), err)
	}
	return v, nil
}

// describe writes the description of o to w.
func (d *describer) describe(ctx context.Context, w io.Writer, o resource.Object) error {
	p := newPrefixWriter(w)
	var err error
	switch o.Mapping.GVR.Group + "/" + o.Mapping.Kind {
	case "/Pod":
		err = d.pod(ctx, p, o)
	case "apps/Deployment":
		err = d.deployment(ctx, p, o)
	case "apps/ReplicaSet":
		err = d.replicaSet(ctx, p, o)
	case "/Service":
		err = d.service(ctx, p, o)
	case "/Node":
		err = d.node(ctx, p, o)
	case "/Namespace":
		err = d.namespace(p, o)
	case "/ConfigMap":
		err = d.configMap(p, o)
	case "/Secret":
		err = d.secret(p, o)
	case "/Endpoints":
		err = d.endpoints(p, o)
	case "/ServiceAccount":
		err = d.serviceAccount(p, o)
	default:
		err = d.generic(p, o)
	}
	if err != nil {
		return err
	}
	if d.events {
		m, err := o.Meta()
		if err != nil {
			return err
		}
		d.writeEvents(ctx, p, o.Mapping, &m)
	}
	return p.flush()
}

// header writes Name, Namespace (for namespaced kinds), Labels and
// Annotations.
func header(p *prefixWriter, m *meta.ObjectMeta, namespaced bool) {
	p.write(level0, "Name:\t%s\n", m.Name)
	if namespaced {
		p.write(level0, "Namespace:\t%s\n", m.Namespace)
	}
	p.stringMap(level0, "Labels", m.Labels, "=")
	annotations(p, level0, m.Annotations)
}

// annotations writes annotations as kubectl does ("key: value"), leaving
// out the last-applied configuration.
func annotations(p *prefixWriter, level int, a map[string]string) {
	shown := map[string]string{}
	for k, v := range a {
		if k == "kubectl.kubernetes.io/last-applied-configuration" {
			continue
		}
		if len(v) > 200 {
			v = v[:200] + "..."
		}
		shown[k] = strings.TrimSpace(v)
	}
	p.stringMap(level, "Annotations", shown, ": ")
}

func controlledBy(p *prefixWriter, m *meta.ObjectMeta) {
	if ref := meta.GetControllerOf(m); ref != nil {
		p.write(level0, "Controlled By:\t%s/%s\n", ref.Kind, ref.Name)
	}
}

// ---------------------------------------------------------------------------
// Pod

func (d *describer) pod(ctx context.Context, p *prefixWriter, o resource.Object) error {
	pod, err := decode[corev1.Pod](o)
	if err != nil {
		return err
	}
	p.write(level0, "Name:\t%s\n", pod.Name)
	p.write(level0, "Namespace:\t%s\n", pod.Namespace)
	if pod.Spec.Priority != nil {
		p.write(level0, "Priority:\t%d\n", *pod.Spec.Priority)
	}
	if pod.Spec.PriorityClassName != "" {
		p.write(level0, "Priority Class Name:\t%s\n", pod.Spec.PriorityClassName)
	}
	p.write(level0, "Service Account:\t%s\n", orNone(pod.Spec.ServiceAccountName))
	node := "<none>"
	if pod.Spec.NodeName != "" {
		node = pod.Spec.NodeName
		if pod.Status.HostIP != "" {
			node += "/" + pod.Status.HostIP
		}
	}
	p.write(level0, "Node:\t%s\n", node)
	if pod.Status.StartTime != nil {
		p.write(level0, "Start Time:\t%s\n", timestamp(pod.Status.StartTime.Time))
	}
	p.stringMap(level0, "Labels", pod.Labels, "=")
	annotations(p, level0, pod.Annotations)
	_, status, _ := resource.PodStatusSummary(pod, d.now)
	if pod.DeletionTimestamp != nil {
		grace := int64(0)
		if pod.DeletionGracePeriodSeconds != nil {
			grace = *pod.DeletionGracePeriodSeconds
		}
		p.write(level0, "Status:\tTerminating (lasts %s)\n", resource.HumanDuration(d.now.Sub(pod.DeletionTimestamp.Time)))
		p.write(level0, "Termination Grace Period:\t%ds\n", grace)
	} else {
		phase := string(pod.Status.Phase)
		if status != phase && !strings.HasPrefix(status, "Init:") && pod.Status.Reason != "" {
			phase = status
		}
		p.write(level0, "Status:\t%s\n", phase)
	}
	if pod.Status.Reason != "" {
		p.write(level0, "Reason:\t%s\n", pod.Status.Reason)
	}
	if pod.Status.Message != "" {
		p.write(level0, "Message:\t%s\n", strings.TrimSpace(pod.Status.Message))
	}
	p.write(level0, "IP:\t%s\n", pod.Status.PodIP)
	if len(pod.Status.PodIPs) > 0 {
		p.write(level0, "IPs:\n")
		for _, ip := range pod.Status.PodIPs {
			p.write(level1, "IP:\t%s\n", ip.IP)
		}
	} else {
		p.write(level0, "IPs:\t<none>\n")
	}
	controlledBy(p, &pod.ObjectMeta)
	if len(pod.Spec.InitContainers) > 0 {
		p.write(level0, "Init Containers:\n")
		d.containers(p, "  ", pod.Spec.InitContainers, pod.Status.InitContainerStatuses)
	}
	p.write(level0, "Containers:\n")
	d.containers(p, "  ", pod.Spec.Containers, pod.Status.ContainerStatuses)
	if len(pod.Status.Conditions) > 0 {
		p.write(level0, "Conditions:\n")
		p.write(level1, "Type\tStatus\n")
		for _, c := range pod.Status.Conditions {
			p.write(level1, "%s\t%s\n", c.Type, c.Status)
		}
	}
	volumes(p, pod.Spec.Volumes)
	if pod.Status.QOSClass != "" {
		p.write(level0, "QoS Class:\t%s\n", pod.Status.QOSClass)
	}
	p.stringMap(level0, "Node-Selectors", pod.Spec.NodeSelector, "=")
	tolerations(p, pod.Spec.Tolerations)
	return nil
}

// containers writes containers with their statuses (none for templates).
// Names are indented by namePrefix: two spaces in pods, three in pod
// templates, as kubectl does.
func (d *describer) containers(p *prefixWriter, namePrefix string, cs []corev1.Container, statuses []corev1.ContainerStatus) {
	byName := map[string]*corev1.ContainerStatus{}
	for i := range statuses {
		byName[statuses[i].Name] = &statuses[i]
	}
	for _, c := range cs {
		st := byName[c.Name]
		p.write(level0, "%s%s:\n", namePrefix, c.Name)
		if st != nil && st.ContainerID != "" {
			p.write(level2, "Container ID:\t%s\n", st.ContainerID)
		}
		p.write(level2, "Image:\t%s\n", c.Image)
		if st != nil {
			p.write(level2, "Image ID:\t%s\n", st.ImageID)
		}
		containerPorts(p, c.Ports)
		if len(c.Command) > 0 {
			p.write(level2, "Command:\n")
			for _, s := range c.Command {
				p.write(level3, "%s\n", s)
			}
		}
		if len(c.Args) > 0 {
			p.write(level2, "Args:\n")
			for _, s := range c.Args {
				p.write(level3, "%s\n", s)
			}
		}
		if st != nil {
			d.containerState(p, "State", st.State)
			if st.LastTerminationState.Terminated != nil || st.LastTerminationState.Waiting != nil || st.LastTerminationState.Running != nil {
				d.containerState(p, "Last State", st.LastTerminationState)
			}
			p.write(level2, "Ready:\t%s\n", titleBool(st.Ready))
			p.write(level2, "Restart Count:\t%d\n", st.RestartCount)
		}
		resourceList(p, "Limits", c.Resources.Limits)
		resourceList(p, "Requests", c.Resources.Requests)
		if c.LivenessProbe != nil {
			p.write(level2, "Liveness:\t%s\n", describeProbe(c.LivenessProbe))
		}
		if c.ReadinessProbe != nil {
			p.write(level2, "Readiness:\t%s\n", describeProbe(c.ReadinessProbe))
		}
		if c.StartupProbe != nil {
			p.write(level2, "Startup:\t%s\n", describeProbe(c.StartupProbe))
		}
		env(p, c)
		p.write(level2, "Mounts:\t")
		if len(c.VolumeMounts) == 0 {
			p.write(level0, "<none>\n")
		}
		for i, m := range c.VolumeMounts {
			if i > 0 {
				p.write(level2, "\t")
			}
			mode := "rw"
			if m.ReadOnly {
				mode = "ro"
			}
			sub := ""
			if m.SubPath != "" {
				sub = ", path = \"" + m.SubPath + "\""
			}
			p.write(level0, "%s from %s (%s%s)\n", m.MountPath, m.Name, mode, sub)
		}
	}
}

func containerPorts(p *prefixWriter, ports []corev1.ContainerPort) {
	if len(ports) == 0 {
		p.write(level2, "Port:\t<none>\n")
		p.write(level2, "Host Port:\t<none>\n")
		return
	}
	label, hostLabel := "Port", "Host Port"
	if len(ports) > 1 {
		label, hostLabel = "Ports", "Host Ports"
	}
	var ps, hs []string
	for _, cp := range ports {
		proto := cp.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		s := fmt.Sprintf("%d/%s", cp.ContainerPort, proto)
		if cp.Name != "" {
			s += " (" + cp.Name + ")"
		}
		ps = append(ps, s)
		hs = append(hs, fmt.Sprintf("%d/%s", cp.HostPort, proto))
	}
	p.write(level2, "%s:\t%s\n", label, strings.Join(ps, ", "))
	p.write(level2, "%s:\t%s\n", hostLabel, strings.Join(hs, ", "))
}

func (d *describer) containerState(p *prefixWriter, title string, s corev1.ContainerState) {
	switch {
	case s.Running != nil:
		p.write(level2, "%s:\tRunning\n", title)
		p.write(level3, "Started:\t%s\n", timestamp(s.Running.StartedAt.Time))
	case s.Waiting != nil:
		p.write(level2, "%s:\tWaiting\n", title)
		if s.Waiting.Reason != "" {
			p.write(level3, "Reason:\t%s\n", s.Waiting.Reason)
		}
		if s.Waiting.Message != "" {
			p.write(level3, "Message:\t%s\n", s.Waiting.Message)
		}
	case s.Terminated != nil:
		t := s.Terminated
		p.write(level2, "%s:\tTerminated\n", title)
		if t.Reason != "" {
			p.write(level3, "Reason:\t%s\n", t.Reason)
		}
		if t.Message != "" {
			p.write(level3, "Message:\t%s\n", t.Message)
		}
		p.write(level3, "Exit Code:\t%d\n", t.ExitCode)
		if t.Signal != 0 {
			p.write(level3, "Signal:\t%d\n", t.Signal)
		}
		p.write(level3, "Started:\t%s\n", timestamp(t.StartedAt.Time))
		p.write(level3, "Finished:\t%s\n", timestamp(t.FinishedAt.Time))
	default:
		p.write(level2, "%s:\tWaiting\n", title)
	}
}

func resourceList(p *prefixWriter, title string, l apiresource.ResourceList) {
	if len(l) == 0 {
		return
	}
	p.write(level2, "%s:\n", title)
	names := make([]string, 0, len(l))
	for n := range l {
		names = append(names, string(n))
	}
	sort.Strings(names)
	for _, n := range names {
		q := l[apiresource.ResourceName(n)]
		p.write(level3, "%s:\t%s\n", n, q.String())
	}
}

func env(p *prefixWriter, c corev1.Container) {
	if len(c.EnvFrom) > 0 {
		p.write(level2, "Environment Variables from:\n")
		for _, e := range c.EnvFrom {
			kind, name, optional := "", "", false
			switch {
			case e.ConfigMapRef != nil:
				kind, name = "ConfigMap", e.ConfigMapRef.Name
				optional = e.ConfigMapRef.Optional != nil && *e.ConfigMapRef.Optional
			case e.SecretRef != nil:
				kind, name = "Secret", e.SecretRef.Name
				optional = e.SecretRef.Optional != nil && *e.SecretRef.Optional
			}
			prefix := ""
			if e.Prefix != "" {
				prefix = " with prefix '" + e.Prefix + "'"
			}
			p.write(level3, "%s\t%s%s\tOptional: %t\n", name, kind, prefix, optional)
		}
	}
	if len(c.Env) == 0 {
		p.write(level2, "Environment:\t<none>\n")
		return
	}
	p.write(level2, "Environment:\n")
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			p.write(level3, "%s:\t%s\n", e.Name, e.Value)
		case e.ValueFrom.FieldRef != nil:
			p.write(level3, "%s:\t (%s:%s)\n", e.Name, orDefault(e.ValueFrom.FieldRef.APIVersion, "v1"), e.ValueFrom.FieldRef.FieldPath)
		case e.ValueFrom.ResourceFieldRef != nil:
			p.write(level3, "%s:\t%s (%s)\n", e.Name, e.ValueFrom.ResourceFieldRef.Resource, e.ValueFrom.ResourceFieldRef.ContainerName)
		case e.ValueFrom.SecretKeyRef != nil:
			r := e.ValueFrom.SecretKeyRef
			p.write(level3, "%s:\t<set to the key '%s' in secret '%s'>\tOptional: %t\n", e.Name, r.Key, r.Name, r.Optional != nil && *r.Optional)
		case e.ValueFrom.ConfigMapKeyRef != nil:
			r := e.ValueFrom.ConfigMapKeyRef
			p.write(level3, "%s:\t<set to the key '%s' of config map '%s'>\tOptional: %t\n", e.Name, r.Key, r.Name, r.Optional != nil && *r.Optional)
		}
	}
}

// describeProbe prints a probe as kubectl does: "http-get http://:8080/healthz
// delay=0s timeout=1s period=10s #success=1 #failure=3".
func describeProbe(pr *corev1.Probe) string {
	attrs := fmt.Sprintf("delay=%ds timeout=%ds period=%ds #success=%d #failure=%d",
		pr.InitialDelaySeconds, pr.TimeoutSeconds, pr.PeriodSeconds, pr.SuccessThreshold, pr.FailureThreshold)
	switch {
	case pr.Exec != nil:
		return fmt.Sprintf("exec [%s] %s", strings.Join(pr.Exec.Command, " "), attrs)
	case pr.HTTPGet != nil:
		u := &url.URL{Scheme: strings.ToLower(string(pr.HTTPGet.Scheme)), Path: pr.HTTPGet.Path}
		if u.Scheme == "" {
			u.Scheme = "http"
		}
		if port := pr.HTTPGet.Port.String(); port != "" {
			u.Host = net.JoinHostPort(pr.HTTPGet.Host, port)
		} else {
			u.Host = pr.HTTPGet.Host
		}
		return fmt.Sprintf("http-get %s %s", u.String(), attrs)
	case pr.TCPSocket != nil:
		return fmt.Sprintf("tcp-socket %s:%s %s", pr.TCPSocket.Host, pr.TCPSocket.Port.String(), attrs)
	}
	return "unknown " + attrs
}

func volumes(p *prefixWriter, vs []corev1.Volume) {
	if len(vs) == 0 {
		p.write(level0, "Volumes:\t<none>\n")
		return
	}
	p.write(level0, "Volumes:\n")
	for _, v := range vs {
		p.write(level1, "%s:\n", v.Name)
		switch {
		case v.EmptyDir != nil:
			p.write(level2, "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n")
			p.write(level2, "Medium:\t%s\n", v.EmptyDir.Medium)
			limit := "<unset>"
			if v.EmptyDir.SizeLimit != nil {
				limit = v.EmptyDir.SizeLimit.String()
			}
			p.write(level2, "SizeLimit:\t%s\n", limit)
		case v.HostPath != nil:
			typ := ""
			if v.HostPath.Type != nil {
				typ = string(*v.HostPath.Type)
			}
			p.write(level2, "Type:\tHostPath (bare host directory volume)\n")
			p.write(level2, "Path:\t%s\n", v.HostPath.Path)
			p.write(level2, "HostPathType:\t%s\n", typ)
		case v.Secret != nil:
			p.write(level2, "Type:\tSecret (a volume populated by a Secret)\n")
			p.write(level2, "SecretName:\t%s\n", v.Secret.SecretName)
			p.write(level2, "Optional:\t%t\n", v.Secret.Optional != nil && *v.Secret.Optional)
		case v.ConfigMap != nil:
			p.write(level2, "Type:\tConfigMap (a volume populated by a ConfigMap)\n")
			p.write(level2, "Name:\t%s\n", v.ConfigMap.Name)
			p.write(level2, "Optional:\t%t\n", v.ConfigMap.Optional != nil && *v.ConfigMap.Optional)
		default:
			p.write(level2, "<unknown>\n")
		}
	}
}

func tolerations(p *prefixWriter, ts []corev1.Toleration) {
	p.write(level0, "Tolerations:\t")
	if len(ts) == 0 {
		p.write(level0, "<none>\n")
		return
	}
	for i, t := range ts {
		if i > 0 {
			p.write(level0, "\t")
		}
		s := t.Key
		if t.Value != "" {
			s += "=" + t.Value
		}
		if t.Operator == corev1.TolerationOpExists && t.Value == "" {
			if t.Key != "" {
				s += " op=Exists"
			} else {
				s = "op=Exists"
			}
		}
		if t.Effect != "" {
			s += ":" + string(t.Effect)
		}
		if t.TolerationSeconds != nil {
			s += fmt.Sprintf(" for %ds", *t.TolerationSeconds)
		}
		p.write(level0, "%s\n", s)
	}
}

// ---------------------------------------------------------------------------
// Deployment and ReplicaSet

func (d *describer) deployment(ctx context.Context, p *prefixWriter, o resource.Object) error {
	dep, err := decode[appsv1.Deployment](o)
	if err != nil {
		return err
	}
	p.write(level0, "Name:\t%s\n", dep.Name)
	p.write(level0, "Namespace:\t%s\n", dep.Namespace)
	p.write(level0, "CreationTimestamp:\t%s\n", timestamp(dep.CreationTimestamp.Time))
	p.stringMap(level0, "Labels", dep.Labels, "=")
	annotations(p, level0, dep.Annotations)
	p.write(level0, "Selector:\t%s\n", resource.FormatLabelSelector(dep.Spec.Selector))
	desired := int32(1)
	if dep.Spec.Replicas != nil {
		desired = *dep.Spec.Replicas
	}
	st := dep.Status
	p.write(level0, "Replicas:\t%d desired | %d updated | %d total | %d available | %d unavailable\n",
		desired, st.UpdatedReplicas, st.Replicas, st.AvailableReplicas, st.UnavailableReplicas)
	strategy := dep.Spec.Strategy.Type
	if strategy == "" {
		strategy = appsv1.RollingUpdateDeploymentStrategyType
	}
	p.write(level0, "StrategyType:\t%s\n", strategy)
	p.write(level0, "MinReadySeconds:\t%d\n", dep.Spec.MinReadySeconds)
	if strategy == appsv1.RollingUpdateDeploymentStrategyType {
		unavailable, surge := "25%", "25%"
		if ru := dep.Spec.Strategy.RollingUpdate; ru != nil {
			if ru.MaxUnavailable != nil {
				unavailable = ru.MaxUnavailable.String()
			}
			if ru.MaxSurge != nil {
				surge = ru.MaxSurge.String()
			}
		}
		p.write(level0, "RollingUpdateStrategy:\t%s max unavailable, %s max surge\n", unavailable, surge)
	}
	if dep.Spec.Paused {
		p.write(level0, "Paused:\ttrue\n")
	}
	d.podTemplate(p, &dep.Spec.Template)
	if len(st.Conditions) > 0 {
		p.write(level0, "Conditions:\n")
		p.write(level1, "Type\tStatus\tReason\n")
		p.write(level1, "----\t------\t------\n")
		for _, c := range st.Conditions {
			p.write(level1, "%s\t%s\t%s\n", c.Type, c.Status, c.Reason)
		}
	}
	oldRSs, newRS, err := d.deploymentReplicaSets(ctx, dep)
	if err != nil {
		return err
	}
	p.write(level0, "OldReplicaSets:\t%s\n", replicaSetsSummary(oldRSs))
	p.write(level0, "NewReplicaSet:\t%s\n", replicaSetsSummary(newRS))
	return nil
}

// deploymentReplicaSets returns the replica sets a deployment controls:
// the new one (of the deployment's revision) and the old ones.
func (d *describer) deploymentReplicaSets(ctx context.Context, dep *appsv1.Deployment) (old, cur []appsv1.ReplicaSet, err error) {
	body, err := d.dyn.List(ctx, gvrReplicaSets, dep.Namespace, client.ListOptions{})
	if err != nil {
		return nil, nil, err
	}
	var l appsv1.ReplicaSetList
	if err := json.Unmarshal(body, &l); err != nil {
		return nil, nil, fmt.Errorf("decode replica sets: %w", err)
	}
	var owned []appsv1.ReplicaSet
	for _, rs := range l.Items {
		if meta.IsControlledBy(&rs.ObjectMeta, dep.UID) {
			owned = append(owned, rs)
		}
	}
	sort.Slice(owned, func(i, j int) bool { return revision(&owned[i]) > revision(&owned[j]) })
	want := dep.Annotations[appsv1.RevisionAnnotation]
	newIdx := -1
	for i := range owned {
		if want != "" && owned[i].Annotations[appsv1.RevisionAnnotation] == want {
			newIdx = i
			break
		}
	}
	if newIdx < 0 && len(owned) > 0 && want == "" {
		newIdx = 0
	}
	for i, rs := range owned {
		if i == newIdx {
			cur = append(cur, rs)
		} else {
			old = append(old, rs)
		}
	}
	return old, cur, nil
}

func revision(rs *appsv1.ReplicaSet) int {
	var n int
	fmt.Sscan(rs.Annotations[appsv1.RevisionAnnotation], &n)
	return n
}

func replicaSetsSummary(rss []appsv1.ReplicaSet) string {
	if len(rss) == 0 {
		return "<none>"
	}
	parts := make([]string, len(rss))
	for i, rs := range rss {
		desired := int32(1)
		if rs.Spec.Replicas != nil {
			desired = *rs.Spec.Replicas
		}
		parts[i] = fmt.Sprintf("%s (%d/%d replicas created)", rs.Name, rs.Status.Replicas, desired)
	}
	return strings.Join(parts, ", ")
}

func (d *describer) podTemplate(p *prefixWriter, t *corev1.PodTemplateSpec) {
	p.write(level0, "Pod Template:\n")
	p.stringMap(level1, "Labels", t.Labels, "=")
	if len(t.Annotations) > 0 {
		annotations(p, level1, t.Annotations)
	}
	if t.Spec.ServiceAccountName != "" {
		p.write(level1, "Service Account:\t%s\n", t.Spec.ServiceAccountName)
	}
	if len(t.Spec.InitContainers) > 0 {
		p.write(level1, "Init Containers:\n")
		d.containers(p, "   ", t.Spec.InitContainers, nil)
	}
	p.write(level1, "Containers:\n")
	d.containers(p, "   ", t.Spec.Containers, nil)
	if len(t.Spec.Volumes) == 0 {
		p.write(level1, "Volumes:\t<none>\n")
	} else {
		p.write(level1, "Volumes:\t%d\n", len(t.Spec.Volumes))
		for _, v := range t.Spec.Volumes {
			p.write(level2, "%s\n", v.Name)
		}
	}
	p.stringMap(level1, "Node-Selectors", t.Spec.NodeSelector, "=")
	if len(t.Spec.Tolerations) > 0 {
		p.write(level1, "Tolerations:\t%d\n", len(t.Spec.Tolerations))
	}
}

func (d *describer) replicaSet(ctx context.Context, p *prefixWriter, o resource.Object) error {
	rs, err := decode[appsv1.ReplicaSet](o)
	if err != nil {
		return err
	}
	p.write(level0, "Name:\t%s\n", rs.Name)
	p.write(level0, "Namespace:\t%s\n", rs.Namespace)
	p.write(level0, "Selector:\t%s\n", resource.FormatLabelSelector(rs.Spec.Selector))
	p.stringMap(level0, "Labels", rs.Labels, "=")
	annotations(p, level0, rs.Annotations)
	controlledBy(p, &rs.ObjectMeta)
	desired := int32(1)
	if rs.Spec.Replicas != nil {
		desired = *rs.Spec.Replicas
	}
	p.write(level0, "Replicas:\t%d current / %d desired\n", rs.Status.Replicas, desired)
	running, waiting, succeeded, failed, err := d.podPhases(ctx, rs)
	if err != nil {
		return err
	}
	p.write(level0, "Pods Status:\t%d Running / %d Waiting / %d Succeeded / %d Failed\n", running, waiting, succeeded, failed)
	d.podTemplate(p, &rs.Spec.Template)
	if len(rs.Status.Conditions) > 0 {
		p.write(level0, "Conditions:\n")
		p.write(level1, "Type\tStatus\tReason\n")
		p.write(level1, "----\t------\t------\n")
		for _, c := range rs.Status.Conditions {
			p.write(level1, "%s\t%s\t%s\n", c.Type, c.Status, c.Reason)
		}
	}
	return nil
}

// podPhases counts the phases of the pods a replica set controls.
func (d *describer) podPhases(ctx context.Context, rs *appsv1.ReplicaSet) (running, waiting, succeeded, failed int, err error) {
	sel := ""
	if rs.Spec.Selector != nil {
		s, err := meta.LabelSelectorAsSelector(rs.Spec.Selector)
		if err != nil {
			return 0, 0, 0, 0, fmt.Errorf("replica set %s: %w", rs.Name, err)
		}
		sel = s.String()
	}
	body, err := d.dyn.List(ctx, gvrPods, rs.Namespace, client.ListOptions{LabelSelector: sel})
	if err != nil {
		return 0, 0, 0, 0, err
	}
	var l corev1.PodList
	if err := json.Unmarshal(body, &l); err != nil {
		return 0, 0, 0, 0, fmt.Errorf("decode pods: %w", err)
	}
	for _, pod := range l.Items {
		if ref := meta.GetControllerOf(&pod.ObjectMeta); ref != nil && ref.UID != rs.UID {
			continue
		}
		switch pod.Status.Phase {
		case corev1.PodRunning:
			running++
		case corev1.PodPending:
			waiting++
		case corev1.PodSucceeded:
			succeeded++
		case corev1.PodFailed:
			failed++
		}
	}
	return running, waiting, succeeded, failed, nil
}

// ---------------------------------------------------------------------------
// Service

func (d *describer) service(ctx context.Context, p *prefixWriter, o resource.Object) error {
	svc, err := decode[corev1.Service](o)
	if err != nil {
		return err
	}
	var eps *corev1.Endpoints
	if body, err := d.dyn.Get(ctx, gvrEndpoints, svc.Namespace, svc.Name); err == nil {
		eps = new(corev1.Endpoints)
		if err := json.Unmarshal(body, eps); err != nil {
			return fmt.Errorf("decode endpoints: %w", err)
		}
	} else if !meta.IsNotFound(err) {
		return err
	}
	header(p, &svc.ObjectMeta, true)
	p.stringMap(level0, "Selector", svc.Spec.Selector, "=")
	typ := svc.Spec.Type
	if typ == "" {
		typ = corev1.ServiceTypeClusterIP
	}
	p.write(level0, "Type:\t%s\n", typ)
	if svc.Spec.IPFamilyPolicy != nil {
		p.write(level0, "IP Family Policy:\t%s\n", *svc.Spec.IPFamilyPolicy)
	}
	if len(svc.Spec.IPFamilies) > 0 {
		fams := make([]string, len(svc.Spec.IPFamilies))
		for i, f := range svc.Spec.IPFamilies {
			fams[i] = string(f)
		}
		p.write(level0, "IP Families:\t%s\n", strings.Join(fams, ","))
	}
	if svc.Spec.ClusterIP != "" {
		p.write(level0, "IP:\t%s\n", svc.Spec.ClusterIP)
	}
	if len(svc.Spec.ClusterIPs) > 0 {
		p.write(level0, "IPs:\t%s\n", strings.Join(svc.Spec.ClusterIPs, ","))
	}
	if len(svc.Spec.ExternalIPs) > 0 {
		p.write(level0, "External IPs:\t%s\n", strings.Join(svc.Spec.ExternalIPs, ","))
	}
	if typ == corev1.ServiceTypeExternalName {
		p.write(level0, "External Name:\t%s\n", svc.Spec.ExternalName)
	}
	for _, sp := range svc.Spec.Ports {
		name := sp.Name
		if name == "" {
			name = "<unset>"
		}
		proto := sp.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		p.write(level0, "Port:\t%s\t%d/%s\n", name, sp.Port, proto)
		target := sp.TargetPort
		if target.String() == "" || target.String() == "0" {
			target = intstr.FromInt32(sp.Port)
		}
		if target.Type == intstr.String {
			p.write(level0, "TargetPort:\t%s/%s\n", target.String(), proto)
		} else {
			p.write(level0, "TargetPort:\t%d/%s\n", target.IntValue(), proto)
		}
		if sp.NodePort != 0 {
			p.write(level0, "NodePort:\t%s\t%d/%s\n", name, sp.NodePort, proto)
		}
		p.write(level0, "Endpoints:\t%s\n", serviceEndpoints(eps, sp.Name))
	}
	affinity := svc.Spec.SessionAffinity
	if affinity == "" {
		affinity = corev1.ServiceAffinityNone
	}
	p.write(level0, "Session Affinity:\t%s\n", affinity)
	if typ == corev1.ServiceTypeNodePort || typ == corev1.ServiceTypeLoadBalancer {
		policy := svc.Spec.ExternalTrafficPolicy
		if policy == "" {
			policy = corev1.ServiceExternalTrafficPolicyCluster
		}
		p.write(level0, "External Traffic Policy:\t%s\n", policy)
	}
	if svc.Spec.InternalTrafficPolicy != nil {
		p.write(level0, "Internal Traffic Policy:\t%s\n", *svc.Spec.InternalTrafficPolicy)
	}
	return nil
}

// serviceEndpoints lists the ready "IP:PORT" of a service port (by its
// name), or "<none>".
func serviceEndpoints(eps *corev1.Endpoints, portName string) string {
	if eps == nil {
		return "<none>"
	}
	var list []string
	for _, ss := range eps.Subsets {
		for _, port := range ss.Ports {
			if port.Name != portName {
				continue
			}
			for _, a := range ss.Addresses {
				list = append(list, net.JoinHostPort(a.IP, fmt.Sprint(port.Port)))
			}
		}
	}
	if len(list) == 0 {
		return "<none>"
	}
	return strings.Join(list, ",")
}

// ---------------------------------------------------------------------------
// Node

func (d *describer) node(ctx context.Context, p *prefixWriter, o resource.Object) error {
	n, err := decode[corev1.Node](o)
	if err != nil {
		return err
	}
	p.write(level0, "Name:\t%s\n", n.Name)
	p.write(level0, "Roles:\t%s\n", resource.NodeRoles(n))
	p.stringMap(level0, "Labels", n.Labels, "=")
	annotations(p, level0, n.Annotations)
	p.write(level0, "CreationTimestamp:\t%s\n", timestamp(n.CreationTimestamp.Time))
	p.write(level0, "Taints:\t")
	if len(n.Spec.Taints) == 0 {
		p.write(level0, "<none>\n")
	}
	for i, t := range n.Spec.Taints {
		if i > 0 {
			p.write(level0, "\t")
		}
		p.write(level0, "%s\n", t.ToString())
	}
	p.write(level0, "Unschedulable:\t%t\n", n.Spec.Unschedulable)
	if len(n.Status.Conditions) == 0 {
		p.write(level0, "Conditions:\t<none>\n")
	} else {
		p.write(level0, "Conditions:\n")
		p.write(level1, "Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n")
		p.write(level1, "----\t------\t-----------------\t------------------\t------\t-------\n")
		for _, c := range n.Status.Conditions {
			p.write(level1, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Type, c.Status,
				timestamp(c.LastHeartbeatTime.Time), timestamp(c.LastTransitionTime.Time), c.Reason, c.Message)
		}
	}
	if len(n.Status.Addresses) == 0 {
		p.write(level0, "Addresses:\t<none>\n")
	} else {
		p.write(level0, "Addresses:\n")
		for _, a := range n.Status.Addresses {
			p.write(level1, "%s:\t%s\n", a.Type, a.Address)
		}
	}
	nodeResources(p, "Capacity", n.Status.Capacity)
	nodeResources(p, "Allocatable", n.Status.Allocatable)
	info := n.Status.NodeInfo
	p.write(level0, "System Info:\n")
	p.write(level1, "Machine ID:\t%s\n", info.MachineID)
	p.write(level1, "System UUID:\t%s\n", info.SystemUUID)
	p.write(level1, "Boot ID:\t%s\n", info.BootID)
	p.write(level1, "Kernel Version:\t%s\n", info.KernelVersion)
	p.write(level1, "OS Image:\t%s\n", info.OSImage)
	p.write(level1, "Operating System:\t%s\n", info.OperatingSystem)
	p.write(level1, "Architecture:\t%s\n", info.Architecture)
	p.write(level1, "Container Runtime Version:\t%s\n", info.ContainerRuntimeVersion)
	p.write(level1, "Kubelet Version:\t%s\n", info.KubeletVersion)
	if n.Spec.PodCIDR != "" {
		p.write(level0, "PodCIDR:\t%s\n", n.Spec.PodCIDR)
	}
	if len(n.Spec.PodCIDRs) > 0 {
		p.write(level0, "PodCIDRs:\t%s\n", strings.Join(n.Spec.PodCIDRs, ","))
	}
	return d.nodePods(ctx, p, n)
}

func nodeResources(p *prefixWriter, title string, l apiresource.ResourceList) {
	if len(l) == 0 {
		return
	}
	p.write(level0, "%s:\n", title)
	names := make([]string, 0, len(l))
	for n := range l {
		names = append(names, string(n))
	}
	sort.Strings(names)
	for _, k := range names {
		q := l[apiresource.ResourceName(k)]
		p.write(level1, "%s:\t%s\n", k, q.String())
	}
}

// nodePods writes the non-terminated pods of a node and the resources they
// request.
func (d *describer) nodePods(ctx context.Context, p *prefixWriter, n *corev1.Node) error {
	body, err := d.dyn.List(ctx, gvrPods, "", client.ListOptions{FieldSelector: "spec.nodeName=" + n.Name})
	if err != nil {
		return err
	}
	var l corev1.PodList
	if err := json.Unmarshal(body, &l); err != nil {
		return fmt.Errorf("decode pods: %w", err)
	}
	var pods []corev1.Pod
	for _, pod := range l.Items {
		if pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed {
			pods = append(pods, pod)
		}
	}
	sort.Slice(pods, func(i, j int) bool {
		if pods[i].Namespace != pods[j].Namespace {
			return pods[i].Namespace < pods[j].Namespace
		}
		return pods[i].Name < pods[j].Name
	})
	alloc := n.Status.Allocatable
	if len(alloc) == 0 {
		alloc = n.Status.Capacity
	}
	p.write(level0, "Non-terminated Pods:\t(%d in total)\n", len(pods))
	reqs, limits := apiresource.ResourceList{}, apiresource.ResourceList{}
	if len(pods) > 0 {
		p.write(level1, "Namespace\tName\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n")
		p.write(level1, "---------\t----\t------------\t----------\t---------------\t-------------\t---\n")
	}
	for i := range pods {
		pod := &pods[i]
		r, lim := corev1.PodRequests(pod), corev1.PodLimits(pod)
		corev1.AddResourceList(reqs, r)
		corev1.AddResourceList(limits, lim)
		p.write(level1, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", pod.Namespace, pod.Name,
			fraction(r, alloc, corev1.ResourceCPU), fraction(lim, alloc, corev1.ResourceCPU),
			fraction(r, alloc, corev1.ResourceMemory), fraction(lim, alloc, corev1.ResourceMemory),
			resource.Age(pod.CreationTimestamp.Time, d.now))
	}
	p.write(level0, "Allocated resources:\n")
	p.write(level1, "(Total limits may be over 100 percent, i.e., overcommitted.)\n")
	p.write(level1, "Resource\tRequests\tLimits\n")
	p.write(level1, "--------\t--------\t------\n")
	for _, res := range []apiresource.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		p.write(level1, "%s\t%s\t%s\n", res, fraction(reqs, alloc, res), fraction(limits, alloc, res))
	}
	return nil
}

// fraction prints "100m (5%)": a quantity and its share of the node's
// allocatable amount.
func fraction(l, alloc apiresource.ResourceList, name apiresource.ResourceName) string {
	q, ok := l[name]
	if !ok {
		return "0 (0%)"
	}
	pct := int64(0)
	if total, ok := alloc[name]; ok && total.MilliValue() > 0 {
		pct = q.MilliValue() * 100 / total.MilliValue()
	}
	return fmt.Sprintf("%s (%d%%)", q.String(), pct)
}

// ---------------------------------------------------------------------------
// Namespace, ConfigMap, Secret, Endpoints, ServiceAccount

func (d *describer) namespace(p *prefixWriter, o resource.Object) error {
	ns, err := decode[corev1.Namespace](o)
	if err != nil {
		return err
	}
	header(p, &ns.ObjectMeta, false)
	p.write(level0, "Status:\t%s\n", ns.Status.Phase)
	if len(ns.Status.Conditions) > 0 {
		p.write(level0, "Conditions:\n")
		p.write(level1, "Type\tStatus\tLastTransitionTime\tReason\tMessage\n")
		p.write(level1, "----\t------\t------------------\t------\t-------\n")
		for _, c := range ns.Status.Conditions {
			p.write(level1, "%s\t%s\t%s\t%s\t%s\n", c.Type, c.Status, timestamp(c.LastTransitionTime.Time), c.Reason, c.Message)
		}
	}
	return nil
}

func (d *describer) configMap(p *prefixWriter, o resource.Object) error {
	cm, err := decode[corev1.ConfigMap](o)
	if err != nil {
		return err
	}
	header(p, &cm.ObjectMeta, true)
	p.write(level0, "\nData\n====\n")
	for _, k := range sortedKeys(cm.Data) {
		p.write(level0, "%s:\n----\n", k)
		p.write(level0, "%s\n", cm.Data[k])
		p.write(level0, "\n")
	}
	p.write(level0, "\nBinaryData\n====\n")
	for _, k := range sortedKeys(cm.BinaryData) {
		p.write(level0, "%s: %d bytes\n", k, len(cm.BinaryData[k]))
	}
	p.write(level0, "\n")
	return nil
}

func (d *describer) secret(p *prefixWriter, o resource.Object) error {
	s, err := decode[corev1.Secret](o)
	if err != nil {
		return err
	}
	header(p, &s.ObjectMeta, true)
	p.write(level0, "\nType:\t%s\n", s.Type)
	p.write(level0, "\nData\n====\n")
	for _, k := range sortedKeys(s.Data) {
		p.write(level0, "%s:\t%d bytes\n", k, len(s.Data[k]))
	}
	p.write(level0, "\n")
	return nil
}

func (d *describer) endpoints(p *prefixWriter, o resource.Object) error {
	e, err := decode[corev1.Endpoints](o)
	if err != nil {
		return err
	}
	header(p, &e.ObjectMeta, true)
	p.write(level0, "Subsets:\n")
	for _, ss := range e.Subsets {
		ips := func(as []corev1.EndpointAddress) string {
			if len(as) == 0 {
				return "<none>"
			}
			out := make([]string, len(as))
			for i, a := range as {
				out[i] = a.IP
			}
			return strings.Join(out, ",")
		}
		p.write(level1, "Addresses:\t%s\n", ips(ss.Addresses))
		p.write(level1, "NotReadyAddresses:\t%s\n", ips(ss.NotReadyAddresses))
		if len(ss.Ports) == 0 {
			p.write(level1, "Ports:\t<none>\n")
			continue
		}
		p.write(level1, "Ports:\n")
		p.write(level2, "Name\tPort\tProtocol\n")
		p.write(level2, "----\t----\t--------\n")
		for _, port := range ss.Ports {
			p.write(level2, "%s\t%d\t%s\n", orDefault(port.Name, "<unset>"), port.Port, port.Protocol)
		}
		p.write(level0, "\n")
	}
	return nil
}

func (d *describer) serviceAccount(p *prefixWriter, o resource.Object) error {
	sa, err := decode[corev1.ServiceAccount](o)
	if err != nil {
		return err
	}
	header(p, &sa.ObjectMeta, true)
	names := func(refs []string) string {
		if len(refs) == 0 {
			return "<none>"
		}
		return strings.Join(refs, ", ")
	}
	var pull, mount []string
	for _, r := range sa.ImagePullSecrets {
		pull = append(pull, r.Name)
	}
	for _, r := range sa.Secrets {
		mount = append(mount, r.Name)
	}
	p.write(level0, "Image pull secrets:\t%s\n", names(pull))
	p.write(level0, "Mountable secrets:\t%s\n", names(mount))
	p.write(level0, "Tokens:\t<none>\n")
	return nil
}

// ---------------------------------------------------------------------------
// Any other kind

// generic writes the metadata header and every other top-level field,
// nested, with readable labels ("Holder Identity:").
func (d *describer) generic(p *prefixWriter, o resource.Object) error {
	m, err := o.Meta()
	if err != nil {
		return err
	}
	header(p, &m, o.Mapping.Namespaced)
	v, err := o.Value()
	if err != nil {
		return err
	}
	p.write(level0, "API Version:\t%s\n", o.Mapping.APIVersion())
	p.write(level0, "Kind:\t%s\n", o.Mapping.Kind)
	for _, k := range sortedKeys(v) {
		switch k {
		case "apiVersion", "kind", "metadata":
			continue
		}
		genericValue(p, level0, smartLabel(k), v[k])
	}
	return nil
}

func genericValue(p *prefixWriter, level int, label string, v any) {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 0 {
			p.write(level, "%s:\t<none>\n", label)
			return
		}
		p.write(level, "%s:\n", label)
		for _, k := range sortedKeys(v) {
			genericValue(p, level+1, smartLabel(k), v[k])
		}
	case []any:
		if len(v) == 0 {
			p.write(level, "%s:\t<none>\n", label)
			return
		}
		p.write(level, "%s:\n", label)
		for _, e := range v {
			if m, ok := e.(map[string]any); ok {
				for i, k := range sortedKeys(m) {
					prefix := "  "
					if i == 0 {
						prefix = "- "
					}
					genericValue(p, level+1, prefix+smartLabel(k), m[k])
				}
				continue
			}
			p.write(level+1, "%s\n", scalar(e))
		}
	default:
		p.write(level, "%s:\t%s\n", label, scalar(v))
	}
}

func scalar(v any) string {
	switch v := v.(type) {
	case nil:
		return "<nil>"
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}

// ---------------------------------------------------------------------------
// Events

// writeEvents writes the events about an object, oldest first, or
// "Events: <none>". Failing to read them is not fatal: the rest of the
// description stands.
func (d *describer) writeEvents(ctx context.Context, p *prefixWriter, m resource.Mapping, om *meta.ObjectMeta) {
	// Select by kind, name (and namespace), then drop the events of an
	// earlier object of the same name: those carry another uid.
	sel := fmt.Sprintf("involvedObject.kind=%s,involvedObject.name=%s", m.Kind, om.Name)
	if om.Namespace != "" {
		sel += ",involvedObject.namespace=" + om.Namespace
	}
	body, err := d.dyn.List(ctx, gvrEvents, om.Namespace, client.ListOptions{FieldSelector: sel})
	var l corev1.EventList
	if err == nil {
		err = json.Unmarshal(body, &l)
	}
	var events []corev1.Event
	if err == nil {
		for _, e := range l.Items {
			if e.InvolvedObject.UID == "" || om.UID == "" || e.InvolvedObject.UID == om.UID {
				events = append(events, e)
			}
		}
	}
	if len(events) == 0 {
		p.write(level0, "Events:\t<none>\n")
		return
	}
	sort.SliceStable(events, func(i, j int) bool {
		return resource.EventTime(&events[i]).Before(resource.EventTime(&events[j]))
	})
	p.write(level0, "Events:\n")
	p.write(level1, "Type\tReason\tAge\tFrom\tMessage\n")
	p.write(level1, "----\t------\t----\t----\t-------\n")
	for i := range events {
		e := &events[i]
		first := e.FirstTimestamp.Time
		if first.IsZero() {
			first = e.EventTime.Time
		}
		if first.IsZero() {
			first = e.CreationTimestamp.Time
		}
		firstAge := resource.Age(first, d.now)
		interval := firstAge
		switch {
		case e.Series != nil && e.Series.Count > 1:
			interval = fmt.Sprintf("%s (x%d over %s)", resource.Age(e.Series.LastObservedTime.Time, d.now), e.Series.Count, firstAge)
		case e.Count > 1:
			interval = fmt.Sprintf("%s (x%d over %s)", resource.Age(e.LastTimestamp.Time, d.now), e.Count, firstAge)
		}
		source := e.Source.Component
		if source == "" {
			source = e.ReportingController
		}
		p.write(level1, "%s\t%s\t%s\t%s\t%s\n", e.Type, e.Reason, interval, source, strings.TrimSpace(e.Message))
	}
}

func orNone(s string) string { return orDefault(s, "<none>") }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func titleBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}
