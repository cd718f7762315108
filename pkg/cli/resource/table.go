package resource

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	coordinationv1 "github.com/kl-dev/kl/pkg/api/coordination/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
)

// nameCell stands for the NAME cell; the printer fills in NAME or
// TYPE/NAME.
const nameCell = "\x00name"

type column struct {
	name string
	wide bool // only with -o wide
}

type row struct {
	meta  meta.ObjectMeta
	cells []string // one per column of the table definition
}

type rowContext struct {
	now time.Time
}

// tableDef is how one kind is printed as a table.
type tableDef struct {
	columns []column
	rows    func(objs []Object, c rowContext) ([]row, error)
}

func cols(names ...string) []column {
	out := make([]column, len(names))
	for i, n := range names {
		wide := strings.HasPrefix(n, "+")
		out[i] = column{name: strings.TrimPrefix(n, "+"), wide: wide}
	}
	return out
}

// typed builds a tableDef whose rows decode each object into T.
func typed[T any](columns []column, cells func(o *T, c rowContext) []string) tableDef {
	return tableDef{columns: columns, rows: func(objs []Object, c rowContext) ([]row, error) {
		rows := make([]row, 0, len(objs))
		for _, o := range objs {
			var v T
			if err := json.Unmarshal(o.Raw, &v); err != nil {
				return nil, fmt.Errorf("decode %s: %w", o.Mapping.Type(), err)
			}
			m, err := o.Meta()
			if err != nil {
				return nil, err
			}
			rows = append(rows, row{meta: m, cells: cells(&v, c)})
		}
		return rows, nil
	}}
}

func age(m *meta.ObjectMeta, c rowContext) string {
	return Age(m.CreationTimestamp.Time, c.now)
}

// tableFor returns the table definition of m's kind; kinds without one get
// NAME and AGE.
func tableFor(m Mapping) tableDef {
	switch m.GVR.Group + "/" + m.Kind {
	case "/Pod":
		return typed(cols("NAME", "READY", "STATUS", "RESTARTS", "AGE", "+IP", "+NODE"), func(p *corev1.Pod, c rowContext) []string {
			ready, status, restarts := PodStatusSummary(p, c.now)
			return []string{nameCell, ready, status, restarts, age(&p.ObjectMeta, c), orNone(p.Status.PodIP), orNone(p.Spec.NodeName)}
		})
	case "apps/Deployment":
		return typed(cols("NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "+CONTAINERS", "+IMAGES", "+SELECTOR"), func(d *appsv1.Deployment, c rowContext) []string {
			names, images := containerNamesImages(d.Spec.Template.Spec.Containers)
			return []string{nameCell,
				fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, deref32(d.Spec.Replicas, 1)),
				strconv.Itoa(int(d.Status.UpdatedReplicas)), strconv.Itoa(int(d.Status.AvailableReplicas)),
				age(&d.ObjectMeta, c), names, images, FormatLabelSelector(d.Spec.Selector)}
		})
	case "apps/ReplicaSet":
		return typed(cols("NAME", "DESIRED", "CURRENT", "READY", "AGE", "+CONTAINERS", "+IMAGES", "+SELECTOR"), func(rs *appsv1.ReplicaSet, c rowContext) []string {
			names, images := containerNamesImages(rs.Spec.Template.Spec.Containers)
			return []string{nameCell,
				strconv.Itoa(int(deref32(rs.Spec.Replicas, 1))), strconv.Itoa(int(rs.Status.Replicas)),
				strconv.Itoa(int(rs.Status.ReadyReplicas)), age(&rs.ObjectMeta, c), names, images, FormatLabelSelector(rs.Spec.Selector)}
		})
	case "/Service":
		return typed(cols("NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "+SELECTOR"), func(s *corev1.Service, c rowContext) []string {
			typ := s.Spec.Type
			if typ == "" {
				typ = corev1.ServiceTypeClusterIP
			}
			clusterIP := s.Spec.ClusterIP
			if clusterIP == "" {
				clusterIP = "<none>"
			}
			sel := "<none>"
			if len(s.Spec.Selector) > 0 {
				sel = FormatLabels(s.Spec.Selector)
			}
			return []string{nameCell, string(typ), clusterIP, serviceExternalIP(s), servicePorts(s.Spec.Ports), age(&s.ObjectMeta, c), sel}
		})
	case "/Node":
		return typed(cols("NAME", "STATUS", "ROLES", "AGE", "VERSION", "+INTERNAL-IP", "+EXTERNAL-IP", "+OS-IMAGE", "+KERNEL-VERSION", "+CONTAINER-RUNTIME"), func(n *corev1.Node, c rowContext) []string {
			info := n.Status.NodeInfo
			return []string{nameCell, nodeStatus(n), NodeRoles(n), age(&n.ObjectMeta, c), orNone(info.KubeletVersion),
				orNone(corev1.GetNodeAddress(n, corev1.NodeInternalIP)), orNone(corev1.GetNodeAddress(n, corev1.NodeExternalIP)),
				orUnknown(info.OSImage), orUnknown(info.KernelVersion), orUnknown(info.ContainerRuntimeVersion)}
		})
	case "/Namespace":
		return typed(cols("NAME", "STATUS", "AGE"), func(ns *corev1.Namespace, c rowContext) []string {
			return []string{nameCell, string(ns.Status.Phase), age(&ns.ObjectMeta, c)}
		})
	case "/ConfigMap":
		return typed(cols("NAME", "DATA", "AGE"), func(cm *corev1.ConfigMap, c rowContext) []string {
			return []string{nameCell, strconv.Itoa(len(cm.Data) + len(cm.BinaryData)), age(&cm.ObjectMeta, c)}
		})
	case "/Secret":
		return typed(cols("NAME", "TYPE", "DATA", "AGE"), func(s *corev1.Secret, c rowContext) []string {
			return []string{nameCell, string(s.Type), strconv.Itoa(len(s.Data)), age(&s.ObjectMeta, c)}
		})
	case "/Endpoints":
		return typed(cols("NAME", "ENDPOINTS", "AGE"), func(e *corev1.Endpoints, c rowContext) []string {
			return []string{nameCell, formatEndpoints(e, 3), age(&e.ObjectMeta, c)}
		})
	case "/ServiceAccount":
		return typed(cols("NAME", "SECRETS", "AGE"), func(sa *corev1.ServiceAccount, c rowContext) []string {
			return []string{nameCell, strconv.Itoa(len(sa.Secrets)), age(&sa.ObjectMeta, c)}
		})
	case "coordination.k8s.io/Lease":
		return typed(cols("NAME", "HOLDER", "AGE"), func(l *coordinationv1.Lease, c rowContext) []string {
			holder := ""
			if l.Spec.HolderIdentity != nil {
				holder = *l.Spec.HolderIdentity
			}
			return []string{nameCell, holder, age(&l.ObjectMeta, c)}
		})
	case "/Event":
		return eventTable()
	}
	return typed(cols("NAME", "AGE"), func(o *struct {
		Metadata meta.ObjectMeta `json:"metadata"`
	}, c rowContext) []string {
		return []string{nameCell, age(&o.Metadata, c)}
	})
}

func eventTable() tableDef {
	def := typed(cols("LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE", "+NAME", "+SOURCE", "+FIRST SEEN", "+COUNT"), func(e *corev1.Event, c rowContext) []string {
		obj := strings.ToLower(e.InvolvedObject.Kind) + "/" + e.InvolvedObject.Name
		count := e.Count
		if count == 0 {
			count = 1
		}
		first := e.FirstTimestamp.Time
		if first.IsZero() {
			first = e.EventTime.Time
		}
		return []string{Age(EventTime(e), c.now), e.Type, e.Reason, obj, strings.TrimSpace(e.Message),
			nameCell, orNone(eventSource(e)), Age(first, c.now), strconv.Itoa(int(count))}
	})
	inner := def.rows
	def.rows = func(objs []Object, c rowContext) ([]row, error) {
		sorted := append([]Object(nil), objs...)
		times := make(map[int]time.Time, len(objs))
		idx := make([]int, len(objs))
		for i, o := range objs {
			idx[i] = i
			var e corev1.Event
			if err := json.Unmarshal(o.Raw, &e); err != nil {
				return nil, fmt.Errorf("decode event: %w", err)
			}
			times[i] = EventTime(&e)
		}
		sort.SliceStable(idx, func(a, b int) bool { return times[idx[a]].Before(times[idx[b]]) })
		for i, j := range idx {
			sorted[i] = objs[j]
		}
		return inner(sorted, c)
	}
	return def
}

// EventTime returns when an event last happened: its series' last
// observation, lastTimestamp, eventTime or creationTimestamp, the first
// that is set.
func EventTime(e *corev1.Event) time.Time {
	switch {
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		return e.Series.LastObservedTime.Time
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}

func eventSource(e *corev1.Event) string {
	src := e.Source.Component
	if src == "" {
		src = e.ReportingController
	}
	if e.Source.Host != "" {
		src += ", " + e.Source.Host
	}
	return src
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

func orUnknown(s string) string {
	if s == "" {
		return "<unknown>"
	}
	return s
}

func deref32(p *int32, def int32) int32 {
	if p == nil {
		return def
	}
	return *p
}

func containerNamesImages(cs []corev1.Container) (string, string) {
	names := make([]string, len(cs))
	images := make([]string, len(cs))
	for i, c := range cs {
		names[i], images[i] = c.Name, c.Image
	}
	return strings.Join(names, ","), strings.Join(images, ",")
}

// FormatLabelSelector prints a label selector as kubectl does
// ("app=web,tier in (a,b)"), "<none>" for nil and "" for an empty one.
func FormatLabelSelector(ls *meta.LabelSelector) string {
	if ls == nil {
		return "<none>"
	}
	sel, err := meta.LabelSelectorAsSelector(ls)
	if err != nil {
		return "<error>"
	}
	s := sel.String()
	if s == "" {
		return "<none>"
	}
	return s
}

// PodStatusSummary returns the READY ("1/2"), STATUS ("Running",
// "CrashLoopBackOff", "Completed", "Terminating", "Init:0/1", ...) and
// RESTARTS ("3 (2m ago)") cells of a pod, with kubectl's rules.
func PodStatusSummary(pod *corev1.Pod, now time.Time) (ready, status, restarts string) {
	total := len(pod.Spec.Containers)
	readyCount, restartCount := 0, 0
	var lastRestart time.Time
	reason := string(pod.Status.Phase)
	if pod.Status.Reason != "" {
		reason = pod.Status.Reason
	}
	noteRestart := func(cs *corev1.ContainerStatus) {
		restartCount += int(cs.RestartCount)
		if t := cs.LastTerminationState.Terminated; t != nil && t.FinishedAt.After(lastRestart) {
			lastRestart = t.FinishedAt.Time
		}
	}
	initializing := false
	for i := range pod.Status.InitContainerStatuses {
		cs := &pod.Status.InitContainerStatuses[i]
		noteRestart(cs)
		switch {
		case cs.State.Terminated != nil && cs.State.Terminated.ExitCode == 0:
			continue
		case cs.State.Terminated != nil:
			switch t := cs.State.Terminated; {
			case t.Reason != "":
				reason = "Init:" + t.Reason
			case t.Signal != 0:
				reason = fmt.Sprintf("Init:Signal:%d", t.Signal)
			default:
				reason = fmt.Sprintf("Init:ExitCode:%d", t.ExitCode)
			}
		case cs.State.Waiting != nil && cs.State.Waiting.Reason != "" && cs.State.Waiting.Reason != "PodInitializing":
			reason = "Init:" + cs.State.Waiting.Reason
		default:
			reason = fmt.Sprintf("Init:%d/%d", i, len(pod.Spec.InitContainers))
		}
		initializing = true
		break
	}
	if !initializing {
		restartCount, lastRestart = 0, time.Time{}
		hasRunning := false
		for i := len(pod.Status.ContainerStatuses) - 1; i >= 0; i-- {
			cs := &pod.Status.ContainerStatuses[i]
			noteRestart(cs)
			switch {
			case cs.State.Waiting != nil && cs.State.Waiting.Reason != "":
				reason = cs.State.Waiting.Reason
			case cs.State.Terminated != nil && cs.State.Terminated.Reason != "":
				reason = cs.State.Terminated.Reason
			case cs.State.Terminated != nil && cs.State.Terminated.Signal != 0:
				reason = fmt.Sprintf("Signal:%d", cs.State.Terminated.Signal)
			case cs.State.Terminated != nil:
				reason = fmt.Sprintf("ExitCode:%d", cs.State.Terminated.ExitCode)
			case cs.Ready && cs.State.Running != nil:
				hasRunning = true
				readyCount++
			}
		}
		if reason == "Completed" && hasRunning {
			reason = "NotReady"
			if corev1.IsPodReadyConditionTrue(&pod.Status) {
				reason = "Running"
			}
		}
	}
	if pod.DeletionTimestamp != nil {
		reason = "Terminating"
		if pod.Status.Reason == "NodeLost" {
			reason = "Unknown"
		}
	}
	restarts = strconv.Itoa(restartCount)
	if restartCount > 0 && !lastRestart.IsZero() {
		restarts = fmt.Sprintf("%d (%s ago)", restartCount, HumanDuration(now.Sub(lastRestart)))
	}
	return fmt.Sprintf("%d/%d", readyCount, total), reason, restarts
}

// servicePorts prints a service's ports as kubectl's PORT(S) column:
// "80/TCP,443:30443/TCP", or "<none>".
func servicePorts(ports []corev1.ServicePort) string {
	if len(ports) == 0 {
		return "<none>"
	}
	parts := make([]string, len(ports))
	for i, p := range ports {
		proto := p.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		if p.NodePort > 0 {
			parts[i] = fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, proto)
		} else {
			parts[i] = fmt.Sprintf("%d/%s", p.Port, proto)
		}
	}
	return strings.Join(parts, ",")
}

func serviceExternalIP(s *corev1.Service) string {
	switch s.Spec.Type {
	case corev1.ServiceTypeExternalName:
		return s.Spec.ExternalName
	case corev1.ServiceTypeLoadBalancer:
		ips := lbIngress(s)
		ips = append(ips, s.Spec.ExternalIPs...)
		if len(ips) == 0 {
			return "<pending>"
		}
		return strings.Join(ips, ",")
	}
	if len(s.Spec.ExternalIPs) > 0 {
		return strings.Join(s.Spec.ExternalIPs, ",")
	}
	return "<none>"
}

func lbIngress(s *corev1.Service) []string {
	var out []string
	for _, in := range s.Status.LoadBalancer.Ingress {
		if in.IP != "" {
			out = append(out, in.IP)
		} else if in.Hostname != "" {
			out = append(out, in.Hostname)
		}
	}
	return out
}

// nodeStatus returns kubectl's STATUS of a node: Ready, NotReady or
// Unknown, with ",SchedulingDisabled" when cordoned.
func nodeStatus(n *corev1.Node) string {
	status := "Unknown"
	if _, c := corev1.GetNodeCondition(&n.Status, corev1.NodeReady); c != nil {
		switch c.Status {
		case corev1.ConditionTrue:
			status = "Ready"
		case corev1.ConditionFalse:
			status = "NotReady"
		}
	}
	if n.Spec.Unschedulable {
		status += ",SchedulingDisabled"
	}
	return status
}

// NodeRoles returns the roles of a node from its node-role.kubernetes.io/X
// labels (and kubernetes.io/role), or "<none>".
func NodeRoles(n *corev1.Node) string {
	var roles []string
	for k, v := range n.Labels {
		switch {
		case strings.HasPrefix(k, "node-role.kubernetes.io/"):
			if r := strings.TrimPrefix(k, "node-role.kubernetes.io/"); r != "" {
				roles = append(roles, r)
			}
		case k == "kubernetes.io/role" && v != "":
			roles = append(roles, v)
		}
	}
	if len(roles) == 0 {
		return "<none>"
	}
	sort.Strings(roles)
	return strings.Join(roles, ",")
}

// formatEndpoints prints up to max "IP:PORT" pairs of ready addresses,
// then " + N more...", or "<none>".
func formatEndpoints(e *corev1.Endpoints, max int) string {
	var list []string
	total := 0
	for _, ss := range e.Subsets {
		for _, a := range ss.Addresses {
			if len(ss.Ports) == 0 {
				total++
				if len(list) < max {
					list = append(list, a.IP)
				}
				continue
			}
			for _, p := range ss.Ports {
				total++
				if len(list) < max {
					list = append(list, fmt.Sprintf("%s:%d", a.IP, p.Port))
				}
			}
		}
	}
	if total == 0 {
		return "<none>"
	}
	s := strings.Join(list, ",")
	if total > len(list) {
		s += fmt.Sprintf(" + %d more...", total-len(list))
	}
	return s
}
