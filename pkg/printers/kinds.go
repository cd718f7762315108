package printers

import (
	"fmt"
	"strings"
	"time"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	coordinationv1 "github.com/kl-dev/kl/pkg/api/coordination/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
)

// Descriptions shared by many kinds' columns.
const (
	nameDescription       = "Name must be unique within a namespace. It is required when creating resources and cannot be updated."
	ageDescription        = "CreationTimestamp is when the server created the object, shown as the time since then."
	containersDescription = "Names of each container in the template."
	imagesDescription     = "Images referenced by each container in the template."
)

var (
	nameColumn = Column{Name: "Name", Type: "string", Format: "name", Description: nameDescription}
	ageColumn  = Column{Name: "Age", Type: "string", Description: ageDescription}
)

func col(name, typ, description string) Column {
	return Column{Name: name, Type: typ, Description: description}
}

func wide(name, typ, description string) Column {
	return Column{Name: name, Type: typ, Description: description, Priority: 1}
}

// For returns the table of a kind, by API group ("" for the core group)
// and kind; kinds without a table of their own get NAME and AGE.
func For(group, kind string) *Table {
	switch group + "/" + kind {
	case "/Pod":
		return podTable()
	case "apps/Deployment":
		return deploymentTable()
	case "apps/ReplicaSet":
		return replicaSetTable()
	case "/Service":
		return serviceTable()
	case "/Node":
		return nodeTable()
	case "/Namespace":
		return typed[corev1.Namespace]("Namespace",
			[]Column{nameColumn, col("Status", "string", "The status of the namespace"), ageColumn},
			func(ns *corev1.Namespace, now time.Time) ([]any, []RowCondition) {
				return []any{ns.Name, string(ns.Status.Phase), age(&ns.ObjectMeta, now)}, nil
			})
	case "/ConfigMap":
		return typed[corev1.ConfigMap]("ConfigMap",
			[]Column{nameColumn, col("Data", "string", "The number of keys in data and binaryData."), ageColumn},
			func(cm *corev1.ConfigMap, now time.Time) ([]any, []RowCondition) {
				return []any{cm.Name, int64(len(cm.Data) + len(cm.BinaryData)), age(&cm.ObjectMeta, now)}, nil
			})
	case "/Secret":
		return typed[corev1.Secret]("Secret",
			[]Column{nameColumn, col("Type", "string", "Used to facilitate programmatic handling of secret data."),
				col("Data", "string", "The number of keys in data."), ageColumn},
			func(s *corev1.Secret, now time.Time) ([]any, []RowCondition) {
				return []any{s.Name, string(s.Type), int64(len(s.Data)), age(&s.ObjectMeta, now)}, nil
			})
	case "/Endpoints":
		return typed[corev1.Endpoints]("Endpoints",
			[]Column{nameColumn, col("Endpoints", "string", "The ready addresses and ports of the service (at most three shown)."), ageColumn},
			func(e *corev1.Endpoints, now time.Time) ([]any, []RowCondition) {
				return []any{e.Name, formatEndpoints(e, 3), age(&e.ObjectMeta, now)}, nil
			})
	case "/ServiceAccount":
		return typed[corev1.ServiceAccount]("ServiceAccount",
			[]Column{nameColumn, col("Secrets", "string", "The number of secrets pods running as this service account may use."), ageColumn},
			func(sa *corev1.ServiceAccount, now time.Time) ([]any, []RowCondition) {
				return []any{sa.Name, int64(len(sa.Secrets)), age(&sa.ObjectMeta, now)}, nil
			})
	case "coordination.k8s.io/Lease":
		return typed[coordinationv1.Lease]("Lease",
			[]Column{nameColumn, col("Holder", "string", "The identity of the holder of the lease."), ageColumn},
			func(l *coordinationv1.Lease, now time.Time) ([]any, []RowCondition) {
				holder := ""
				if l.Spec.HolderIdentity != nil {
					holder = *l.Spec.HolderIdentity
				}
				return []any{l.Name, holder, age(&l.ObjectMeta, now)}, nil
			})
	case "/Event":
		return eventTable()
	}
	return typed[metadataOnly](kind, []Column{nameColumn, ageColumn},
		func(o *metadataOnly, now time.Time) ([]any, []RowCondition) {
			return []any{o.Name, age(&o.ObjectMeta, now)}, nil
		})
}

// metadataOnly decodes any object's metadata.
type metadataOnly struct {
	meta.ObjectMeta `json:"metadata"`
}

func age(m *meta.ObjectMeta, now time.Time) string {
	return Age(m.CreationTimestamp.Time, now)
}

var (
	podSucceeded = []RowCondition{{Type: "Completed", Status: "True", Reason: string(corev1.PodSucceeded), Message: "The pod has completed successfully."}}
	podFailed    = []RowCondition{{Type: "Completed", Status: "True", Reason: string(corev1.PodFailed), Message: "The pod failed."}}
)

func podTable() *Table {
	columns := []Column{
		nameColumn,
		col("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
		col("Status", "string", "The aggregate status of the containers in this pod."),
		col("Restarts", "string", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
		ageColumn,
		wide("IP", "string", "The IP address allocated to the pod."),
		wide("Node", "string", "The node the pod is bound to."),
		wide("Nominated Node", "string", "The node a preempting pod expects to run on; kl's scheduler does not preempt."),
		wide("Readiness Gates", "string", "How many of the pod's readiness gates are true."),
	}
	t := typed[corev1.Pod]("Pod", columns, func(p *corev1.Pod, now time.Time) ([]any, []RowCondition) {
		ready, status, restarts := PodStatusSummary(p, now)
		var conds []RowCondition
		switch p.Status.Phase {
		case corev1.PodSucceeded:
			conds = podSucceeded
		case corev1.PodFailed:
			conds = podFailed
		}
		// kl's pods have no readiness gates.
		return []any{p.Name, ready, status, restarts, age(&p.ObjectMeta, now),
			orNone(p.Status.PodIP), orNone(p.Spec.NodeName), orNone(p.Status.NominatedNodeName), "<none>"}, conds
	})
	return t.withCLI("Name", "Ready", "Status", "Restarts", "Age", "IP", "Node")
}

func deploymentTable() *Table {
	columns := []Column{
		nameColumn,
		col("Ready", "string", "Number of the pod with ready state"),
		col("Up-to-date", "string", "Total number of non-terminated pods targeted by this deployment that have the desired template spec."),
		col("Available", "string", "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment."),
		ageColumn,
		wide("Containers", "string", containersDescription),
		wide("Images", "string", imagesDescription),
		wide("Selector", "string", "Label selector for pods."),
	}
	return typed[appsv1.Deployment]("Deployment", columns, func(d *appsv1.Deployment, now time.Time) ([]any, []RowCondition) {
		names, images := containerNamesImages(d.Spec.Template.Spec.Containers)
		return []any{d.Name,
			fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, deref32(d.Spec.Replicas, 1)),
			int64(d.Status.UpdatedReplicas), int64(d.Status.AvailableReplicas),
			age(&d.ObjectMeta, now), names, images, FormatLabelSelector(d.Spec.Selector)}, nil
	})
}

func replicaSetTable() *Table {
	columns := []Column{
		nameColumn,
		col("Desired", "integer", "Replicas is the number of desired pods."),
		col("Current", "integer", "Replicas is the most recently observed number of pods."),
		col("Ready", "integer", "The number of pods targeted by this ReplicaSet with a Ready condition."),
		ageColumn,
		wide("Containers", "string", containersDescription),
		wide("Images", "string", imagesDescription),
		wide("Selector", "string", "Label selector for pods."),
	}
	return typed[appsv1.ReplicaSet]("ReplicaSet", columns, func(rs *appsv1.ReplicaSet, now time.Time) ([]any, []RowCondition) {
		names, images := containerNamesImages(rs.Spec.Template.Spec.Containers)
		return []any{rs.Name,
			int64(deref32(rs.Spec.Replicas, 1)), int64(rs.Status.Replicas), int64(rs.Status.ReadyReplicas),
			age(&rs.ObjectMeta, now), names, images, FormatLabelSelector(rs.Spec.Selector)}, nil
	})
}

func serviceTable() *Table {
	columns := []Column{
		nameColumn,
		col("Type", "string", "How the service is exposed: ClusterIP, NodePort, LoadBalancer or ExternalName."),
		col("Cluster-IP", "string", "The IP address of the service, allocated by the apiserver."),
		col("External-IP", "string", "IP addresses (or the external name) the service is reachable at from outside the cluster."),
		col("Port(s)", "string", "The ports exposed by this service."),
		ageColumn,
		wide("Selector", "string", "Route service traffic to pods with label keys and values matching this selector."),
	}
	return typed[corev1.Service]("Service", columns, func(s *corev1.Service, now time.Time) ([]any, []RowCondition) {
		typ := s.Spec.Type
		if typ == "" {
			typ = corev1.ServiceTypeClusterIP
		}
		return []any{s.Name, string(typ), orNone(s.Spec.ClusterIP), serviceExternalIP(s), servicePorts(s.Spec.Ports),
			age(&s.ObjectMeta, now), FormatLabels(s.Spec.Selector)}, nil
	})
}

func nodeTable() *Table {
	columns := []Column{
		nameColumn,
		col("Status", "string", "The status of the node"),
		col("Roles", "string", "The roles of the node"),
		ageColumn,
		col("Version", "string", "Kubelet Version reported by the node."),
		wide("Internal-IP", "string", "The node's InternalIP address."),
		wide("External-IP", "string", "The node's ExternalIP address."),
		wide("OS-Image", "string", "OS Image reported by the node."),
		wide("Kernel-Version", "string", "Kernel Version reported by the node."),
		wide("Container-Runtime", "string", "ContainerRuntime Version reported by the node."),
	}
	return typed[corev1.Node]("Node", columns, func(n *corev1.Node, now time.Time) ([]any, []RowCondition) {
		info := n.Status.NodeInfo
		return []any{n.Name, NodeStatus(n), NodeRoles(n), age(&n.ObjectMeta, now), orNone(info.KubeletVersion),
			orNone(corev1.GetNodeAddress(n, corev1.NodeInternalIP)), orNone(corev1.GetNodeAddress(n, corev1.NodeExternalIP)),
			orUnknown(info.OSImage), orUnknown(info.KernelVersion), orUnknown(info.ContainerRuntimeVersion)}, nil
	})
}

func eventTable() *Table {
	columns := []Column{
		col("Last Seen", "string", "The time at which the most recent occurrence of this event was recorded."),
		col("Type", "string", "Type of this event (Normal, Warning)."),
		col("Reason", "string", "A short, machine understandable string that gives the reason for this event."),
		col("Object", "string", "The object that this event is about."),
		wide("Subobject", "string", "The part of the object the event is about, e.g. a container."),
		wide("Source", "string", "The component reporting this event."),
		col("Message", "string", "A human-readable description of the status of this operation."),
		wide("First Seen", "string", "The time at which the event was first recorded."),
		wide("Count", "string", "The number of times this event has occurred."),
		{Name: "Name", Type: "string", Format: "name", Description: nameDescription, Priority: 1},
	}
	t := typed[corev1.Event]("Event", columns, func(e *corev1.Event, now time.Time) ([]any, []RowCondition) {
		obj := strings.ToLower(e.InvolvedObject.Kind) + "/" + e.InvolvedObject.Name
		count := e.Count
		if count == 0 {
			count = 1
		}
		first := e.FirstTimestamp.Time
		if first.IsZero() {
			first = e.EventTime.Time
		}
		return []any{Age(EventTime(e), now), e.Type, e.Reason, obj, e.InvolvedObject.FieldPath, orNone(eventSource(e)),
			strings.TrimSpace(e.Message), Age(first, now), int64(count), e.Name}, nil
	})
	return t.withCLI("Last Seen", "Type", "Reason", "Object", "Message", "Name", "Source", "First Seen", "Count")
}
