package v1

import (
	"testing"

	"github.com/kl-dev/kl/pkg/api/core/v1/apitest"
	"github.com/kl-dev/kl/pkg/api/resource"
)

// Each DeepCopy yields an equal object that shares no memory with the
// original, for an object with every field set.
func TestDeepCopyIsIndependent(t *testing.T) {
	pod := &Pod{}
	apitest.Fill(pod)
	pod.Spec.Volumes[0].SetUnsupportedSources("nfs")
	big := resource.MustParse("18446744073709551616")
	pod.Spec.Containers[0].Resources.Limits["big"] = big
	apitest.AssertIndependent(t, pod, pod.DeepCopy())

	tests := []struct {
		obj  any
		copy func() any
	}{}
	add := func(obj any, copy func() any) {
		tests = append(tests, struct {
			obj  any
			copy func() any
		}{obj, copy})
	}
	podList := &PodList{}
	apitest.Fill(podList)
	add(podList, func() any { return podList.DeepCopy() })
	tmpl := &PodTemplateSpec{}
	apitest.Fill(tmpl)
	add(tmpl, func() any { return tmpl.DeepCopy() })
	spec := &PodSpec{}
	apitest.Fill(spec)
	add(spec, func() any { return spec.DeepCopy() })
	node := &Node{}
	apitest.Fill(node)
	add(node, func() any { return node.DeepCopy() })
	nodeList := &NodeList{}
	apitest.Fill(nodeList)
	add(nodeList, func() any { return nodeList.DeepCopy() })
	svc := &Service{}
	apitest.Fill(svc)
	add(svc, func() any { return svc.DeepCopy() })
	svcList := &ServiceList{}
	apitest.Fill(svcList)
	add(svcList, func() any { return svcList.DeepCopy() })
	ep := &Endpoints{}
	apitest.Fill(ep)
	add(ep, func() any { return ep.DeepCopy() })
	epList := &EndpointsList{}
	apitest.Fill(epList)
	add(epList, func() any { return epList.DeepCopy() })
	cm := &ConfigMap{}
	apitest.Fill(cm)
	add(cm, func() any { return cm.DeepCopy() })
	cmList := &ConfigMapList{}
	apitest.Fill(cmList)
	add(cmList, func() any { return cmList.DeepCopy() })
	sec := &Secret{}
	apitest.Fill(sec)
	add(sec, func() any { return sec.DeepCopy() })
	secList := &SecretList{}
	apitest.Fill(secList)
	add(secList, func() any { return secList.DeepCopy() })
	sa := &ServiceAccount{}
	apitest.Fill(sa)
	add(sa, func() any { return sa.DeepCopy() })
	saList := &ServiceAccountList{}
	apitest.Fill(saList)
	add(saList, func() any { return saList.DeepCopy() })
	ns := &Namespace{}
	apitest.Fill(ns)
	add(ns, func() any { return ns.DeepCopy() })
	nsList := &NamespaceList{}
	apitest.Fill(nsList)
	add(nsList, func() any { return nsList.DeepCopy() })
	ev := &Event{}
	apitest.Fill(ev)
	add(ev, func() any { return ev.DeepCopy() })
	evList := &EventList{}
	apitest.Fill(evList)
	add(evList, func() any { return evList.DeepCopy() })
	b := &Binding{}
	apitest.Fill(b)
	add(b, func() any { return b.DeepCopy() })

	for _, tt := range tests {
		apitest.AssertIndependent(t, tt.obj, tt.copy())
	}
}

// Copies keep nil and empty slices and maps apart: "containers": null and
// "containers": [] are different JSON.
func TestDeepCopyPreservesNilVersusEmpty(t *testing.T) {
	empty := &Pod{Spec: PodSpec{Containers: []Container{}, NodeSelector: map[string]string{}}}
	c := empty.DeepCopy()
	if c.Spec.Containers == nil || c.Spec.NodeSelector == nil {
		t.Error("empty became nil")
	}
	if c := (&Pod{}).DeepCopy(); c.Spec.Containers != nil || c.Spec.NodeSelector != nil || c.Labels != nil {
		t.Error("nil became empty")
	}
	var nilPod *Pod
	if nilPod.DeepCopy() != nil {
		t.Error("nil pod copied to non-nil")
	}
}

func TestDeepCopyOfMutatedCopyLeavesOriginalAlone(t *testing.T) {
	pod := &Pod{}
	apitest.Fill(pod)
	c := pod.DeepCopy()
	c.Labels["x"] = "changed"
	c.Spec.Containers[0].Env[0].ValueFrom.SecretKeyRef.Name = "changed"
	c.Spec.Containers[0].Resources.Requests["x"] = resource.MustParse("9")
	*c.Spec.TerminationGracePeriodSeconds = 1
	c.Status.ContainerStatuses[0].State.Running.StartedAt.Time = c.Status.ContainerStatuses[0].State.Running.StartedAt.AddDate(1, 0, 0)
	orig := &Pod{}
	apitest.Fill(orig)
	apitest.AssertIndependent(t, orig, pod)
}
