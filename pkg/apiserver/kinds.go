package apiserver

import (
	"strconv"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	coordinationv1 "github.com/kl-dev/kl/pkg/api/coordination/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
)

// kinds is the table of resources kl serves, with each kind's strategy.
func kinds() []*resource {
	core := func(res string) meta.GroupVersionResource {
		return meta.GroupVersionResource{Version: "v1", Resource: res}
	}
	apps := func(res string) meta.GroupVersionResource {
		return meta.GroupVersionResource{Group: "apps", Version: "v1", Resource: res}
	}
	return []*resource{
		{
			gvr: core("namespaces"), kind: "Namespace", shortNames: []string{"ns"},
			newObj:    func() meta.Object { return &corev1.Namespace{} },
			hasStatus: true, subresources: []string{"finalize"},
			defaults: func(o meta.Object) { corev1.SetDefaultsNamespace(o.(*corev1.Namespace)) },
			prepareForCreate: func(o meta.Object) {
				ns := o.(*corev1.Namespace)
				ns.Status = corev1.NamespaceStatus{Phase: corev1.NamespaceActive}
				if len(ns.Spec.Finalizers) == 0 {
					ns.Spec.Finalizers = []corev1.FinalizerName{corev1.FinalizerKubernetes}
				}
			},
			gracefulDelete: func(o meta.Object, _ *meta.DeleteOptions) (int64, bool) {
				return 0, namespaceHasSpecFinalizers(o)
			},
			fields: func(o meta.Object) map[string]string {
				return map[string]string{"status.phase": string(o.(*corev1.Namespace).Status.Phase)}
			},
		},
		{
			gvr: core("nodes"), kind: "Node", shortNames: []string{"no"},
			newObj:    func() meta.Object { return &corev1.Node{} },
			hasStatus: true,
			fields: func(o meta.Object) map[string]string {
				return map[string]string{"spec.unschedulable": strconv.FormatBool(o.(*corev1.Node).Spec.Unschedulable)}
			},
		},
		{
			gvr: core("pods"), kind: "Pod", shortNames: []string{"po"}, namespaced: true, categories: []string{"all"},
			newObj:    func() meta.Object { return &corev1.Pod{} },
			hasStatus: true, generation: true, subresources: []string{"binding", "log", "exec"},
			defaults: func(o meta.Object) { corev1.SetDefaultsPod(o.(*corev1.Pod)) },
			prepareForCreate: func(o meta.Object) {
				p := o.(*corev1.Pod)
				p.Status = corev1.PodStatus{Phase: corev1.PodPending, QOSClass: corev1.ComputePodQOS(p)}
			},
			prepareForUpdate: func(n, o meta.Object) {
				// The kubelet owns status; spec changes keep the binding.
				np, op := n.(*corev1.Pod), o.(*corev1.Pod)
				if np.Spec.NodeName == "" {
					np.Spec.NodeName = op.Spec.NodeName
				}
			},
			gracefulDelete: podGracefulDelete,
			fields: func(o meta.Object) map[string]string {
				p := o.(*corev1.Pod)
				return map[string]string{
					"spec.nodeName":           p.Spec.NodeName,
					"spec.restartPolicy":      string(p.Spec.RestartPolicy),
					"spec.schedulerName":      p.Spec.SchedulerName,
					"spec.serviceAccountName": p.Spec.ServiceAccountName,
					"status.phase":            string(p.Status.Phase),
					"status.podIP":            p.Status.PodIP,
				}
			},
		},
		{
			gvr: core("services"), kind: "Service", shortNames: []string{"svc"}, namespaced: true, categories: []string{"all"},
			newObj:    func() meta.Object { return &corev1.Service{} },
			hasStatus: true, resetStatusOnCreate: true,
			defaults:         func(o meta.Object) { corev1.SetDefaultsService(o.(*corev1.Service)) },
			prepareForUpdate: servicePrepareForUpdate,
			admitCreate:      serviceAdmitCreate,
			admitUpdate:      serviceAdmitUpdate,
			afterDelete:      serviceRelease,
		},
		{
			gvr: core("endpoints"), kind: "Endpoints", shortNames: []string{"ep"}, namespaced: true,
			singular: "endpoints",
			newObj:   func() meta.Object { return &corev1.Endpoints{} },
		},
		{
			gvr: core("configmaps"), kind: "ConfigMap", shortNames: []string{"cm"}, namespaced: true,
			newObj: func() meta.Object { return &corev1.ConfigMap{} },
		},
		{
			gvr: core("secrets"), kind: "Secret", namespaced: true,
			newObj:   func() meta.Object { return &corev1.Secret{} },
			defaults: func(o meta.Object) { corev1.SetDefaultsSecret(o.(*corev1.Secret)) },
			prepareForCreate: func(o meta.Object) {
				s := o.(*corev1.Secret)
				mergeStringData(s)
			},
			prepareForUpdate: func(n, _ meta.Object) { mergeStringData(n.(*corev1.Secret)) },
			fields: func(o meta.Object) map[string]string {
				return map[string]string{"type": string(o.(*corev1.Secret).Type)}
			},
		},
		{
			gvr: core("serviceaccounts"), kind: "ServiceAccount", shortNames: []string{"sa"}, namespaced: true,
			newObj: func() meta.Object { return &corev1.ServiceAccount{} },
		},
		{
			gvr: core("events"), kind: "Event", shortNames: []string{"ev"}, namespaced: true,
			newObj: func() meta.Object { return &corev1.Event{} },
			fields: func(o meta.Object) map[string]string {
				e := o.(*corev1.Event)
				return map[string]string{
					"involvedObject.kind":      e.InvolvedObject.Kind,
					"involvedObject.namespace": e.InvolvedObject.Namespace,
					"involvedObject.name":      e.InvolvedObject.Name,
					"involvedObject.uid":       e.InvolvedObject.UID,
					"reason":                   e.Reason,
					"type":                     e.Type,
				}
			},
		},
		{
			gvr: apps("replicasets"), kind: "ReplicaSet", shortNames: []string{"rs"}, namespaced: true, categories: []string{"all"},
			newObj:    func() meta.Object { return &appsv1.ReplicaSet{} },
			hasStatus: true, generation: true, resetStatusOnCreate: true, subresources: []string{"scale"},
			defaults: func(o meta.Object) { appsv1.SetDefaultsReplicaSet(o.(*appsv1.ReplicaSet)) },
			scaleGet: func(o meta.Object) (int32, int32, string) {
				rs := o.(*appsv1.ReplicaSet)
				return deref32(rs.Spec.Replicas), rs.Status.Replicas, selectorString(rs.Spec.Selector)
			},
			scaleSet: func(o meta.Object, n int32) { o.(*appsv1.ReplicaSet).Spec.Replicas = &n },
		},
		{
			gvr: apps("deployments"), kind: "Deployment", shortNames: []string{"deploy"}, namespaced: true, categories: []string{"all"},
			newObj:    func() meta.Object { return &appsv1.Deployment{} },
			hasStatus: true, generation: true, resetStatusOnCreate: true, subresources: []string{"scale"},
			defaults: func(o meta.Object) { appsv1.SetDefaultsDeployment(o.(*appsv1.Deployment)) },
			scaleGet: func(o meta.Object) (int32, int32, string) {
				d := o.(*appsv1.Deployment)
				return deref32(d.Spec.Replicas), d.Status.Replicas, selectorString(d.Spec.Selector)
			},
			scaleSet: func(o meta.Object, n int32) { o.(*appsv1.Deployment).Spec.Replicas = &n },
		},
		{
			gvr:        meta.GroupVersionResource{Group: "coordination.k8s.io", Version: "v1", Resource: "leases"},
			kind:       "Lease",
			namespaced: true,
			newObj:     func() meta.Object { return &coordinationv1.Lease{} },
		},
	}
}

func deref32(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

func selectorString(ls *meta.LabelSelector) string {
	sel, err := meta.LabelSelectorAsSelector(ls)
	if err != nil {
		return ""
	}
	return sel.String()
}

// mergeStringData folds a Secret's write-only stringData into data, as
// Kubernetes does.
func mergeStringData(s *corev1.Secret) {
	if len(s.StringData) == 0 {
		return
	}
	if s.Data == nil {
		s.Data = map[string][]byte{}
	}
	for k, v := range s.StringData {
		s.Data[k] = []byte(v)
	}
	s.StringData = nil
}

func namespaceHasSpecFinalizers(o meta.Object) bool {
	ns, ok := o.(*corev1.Namespace)
	return ok && len(ns.Spec.Finalizers) > 0
}

func setNamespaceTerminating(o meta.Object) {
	if ns, ok := o.(*corev1.Namespace); ok {
		ns.Status.Phase = corev1.NamespaceTerminating
	}
}

// podGracefulDelete decides a pod's grace period. A pod that never got a
// node, or has finished, goes at once; a bound one is marked and its kubelet
// stops the containers, then deletes it with grace 0.
func podGracefulDelete(o meta.Object, opts *meta.DeleteOptions) (int64, bool) {
	p := o.(*corev1.Pod)
	grace := int64(corev1.DefaultTerminationGracePeriodSeconds)
	if p.Spec.TerminationGracePeriodSeconds != nil {
		grace = *p.Spec.TerminationGracePeriodSeconds
	}
	if opts.GracePeriodSeconds != nil {
		grace = *opts.GracePeriodSeconds
	}
	if p.Spec.NodeName == "" || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
		return 0, false
	}
	if grace == 0 {
		return 0, false
	}
	return grace, true
}
