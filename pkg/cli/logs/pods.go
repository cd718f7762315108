package logs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/cli/resource"
	"github.com/kl-dev/kl/pkg/client"
)

// Resources kl logs and kl exec read.
var (
	podsGVR        = meta.GroupVersionResource{Version: "v1", Resource: "pods"}
	servicesGVR    = meta.GroupVersionResource{Version: "v1", Resource: "services"}
	deploymentsGVR = meta.GroupVersionResource{Group: appsv1.GroupName, Version: "v1", Resource: "deployments"}
	replicaSetsGVR = meta.GroupVersionResource{Group: appsv1.GroupName, Version: "v1", Resource: "replicasets"}
)

// DefaultContainerAnnotation names the container kl logs and kl exec use
// when none is given, as kubectl's annotation does.
const DefaultContainerAnnotation = "kubectl.kubernetes.io/default-container"

// PodPath returns the API path of a pod's subresource (log, exec).
func PodPath(namespace, pod, subresource string) string {
	return client.ResourcePath(podsGVR, namespace, pod, subresource)
}

// AttachablePod returns the pod an argument of kl logs or kl exec names:
// POD or pod/POD, or deployment/NAME, replicaset/NAME or service/NAME,
// whose pods are listed by its selector and one picked as kubectl picks it
// (see PickPod). note, when not empty, says which pod was picked among
// several ("Found 3 pods, using pod/web-7d4b9c-x2x"), for stderr.
func AttachablePod(ctx context.Context, c *client.Client, namespace, arg string) (pod *corev1.Pod, note string, err error) {
	typ, name, slashed := strings.Cut(arg, "/")
	if !slashed {
		typ, name = "pods", arg
	}
	if typ == "" || name == "" || strings.Contains(name, "/") {
		return nil, "", fmt.Errorf("%q is neither a pod name nor TYPE/NAME", arg)
	}
	gvr := podsGVR
	if slashed {
		m, err := resource.NewResolver(c).Resolve(ctx, typ)
		if err != nil {
			return nil, "", err
		}
		gvr = m.GVR
	}
	pods := client.NewResource[corev1.Pod](c, podsGVR, true).Namespace(namespace)
	var selector string
	switch gvr {
	case podsGVR:
		p, err := pods.Get(ctx, name)
		return p, "", err
	case deploymentsGVR:
		d, err := client.NewResource[appsv1.Deployment](c, gvr, true).Namespace(namespace).Get(ctx, name)
		if err != nil {
			return nil, "", err
		}
		if selector, err = labelSelector(d.Spec.Selector); err != nil {
			return nil, "", fmt.Errorf("deployment %s: %w", name, err)
		}
	case replicaSetsGVR:
		rs, err := client.NewResource[appsv1.ReplicaSet](c, gvr, true).Namespace(namespace).Get(ctx, name)
		if err != nil {
			return nil, "", err
		}
		if selector, err = labelSelector(rs.Spec.Selector); err != nil {
			return nil, "", fmt.Errorf("replicaset %s: %w", name, err)
		}
	case servicesGVR:
		svc, err := client.NewResource[corev1.Service](c, gvr, true).Namespace(namespace).Get(ctx, name)
		if err != nil {
			return nil, "", err
		}
		if len(svc.Spec.Selector) == 0 {
			return nil, "", fmt.Errorf("service %s has no selector: it selects no pods", name)
		}
		selector = meta.SelectorFromSet(svc.Spec.Selector).String()
	default:
		return nil, "", fmt.Errorf("cannot pick a pod of %s: kl logs and kl exec work on pods, deployments, replicasets and services", gvr.Resource)
	}
	list, _, err := pods.List(ctx, client.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, "", err
	}
	ref := strings.TrimSuffix(gvr.Resource, "s") + "/" + name
	if len(list) == 0 {
		return nil, "", fmt.Errorf("no pods found for %s (selector %s)", ref, selector)
	}
	p := PickPod(list, time.Now())
	if len(list) > 1 {
		note = fmt.Sprintf("Found %d pods, using pod/%s", len(list), p.Name)
	}
	return p, note, nil
}

func labelSelector(ls *meta.LabelSelector) (string, error) {
	if ls == nil {
		return "", errors.New("it has no selector")
	}
	sel, err := meta.LabelSelectorAsSelector(ls)
	if err != nil {
		return "", err
	}
	if sel.Empty() {
		return "", errors.New("its selector is empty")
	}
	return sel.String(), nil
}

// PickPod returns the pod kubectl's logs and exec would pick (its
// podutils.ByLogging order): bound to a node, then Running before Unknown
// before Pending, then ready, then ready for longest, then with the most
// restarts, then oldest.
func PickPod(pods []*corev1.Pod, now time.Time) *corev1.Pod {
	sorted := slices.Clone(pods)
	slices.SortStableFunc(sorted, func(a, b *corev1.Pod) int {
		if lessForLogging(a, b, now) {
			return -1
		}
		if lessForLogging(b, a, now) {
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return sorted[0]
}

func lessForLogging(a, b *corev1.Pod, now time.Time) bool {
	if (a.Spec.NodeName == "") != (b.Spec.NodeName == "") {
		return a.Spec.NodeName != ""
	}
	rank := map[corev1.PodPhase]int{corev1.PodRunning: 0, corev1.PodUnknown: 1, corev1.PodPending: 2}
	ra, okA := rank[a.Status.Phase]
	rb, okB := rank[b.Status.Phase]
	if !okA {
		ra = 3
	}
	if !okB {
		rb = 3
	}
	if ra != rb {
		return ra < rb
	}
	readyA, readyB := corev1.IsPodReady(a), corev1.IsPodReady(b)
	if readyA != readyB {
		return readyA
	}
	if readyA && readyB {
		ta, tb := readySince(a, now), readySince(b, now)
		if !ta.Equal(tb) {
			return ta.Before(tb) // ready for longer first
		}
	}
	if ma, mb := maxRestarts(a), maxRestarts(b); ma != mb {
		return ma > mb
	}
	ca, cb := a.CreationTimestamp.Time, b.CreationTimestamp.Time
	if !ca.Equal(cb) {
		if ca.IsZero() || cb.IsZero() {
			return !ca.IsZero()
		}
		return ca.Before(cb)
	}
	return false
}

// readySince is when the pod became ready (now when unknown).
func readySince(p *corev1.Pod, now time.Time) time.Time {
	if c := corev1.GetPodReadyCondition(&p.Status); c != nil && !c.LastTransitionTime.IsZero() {
		return c.LastTransitionTime.Time
	}
	return now
}

func maxRestarts(p *corev1.Pod) int32 {
	var m int32
	for _, cs := range p.Status.ContainerStatuses {
		m = max(m, cs.RestartCount)
	}
	return m
}

// DefaultContainer returns the container to use when none is named: the
// one the kubectl.kubernetes.io/default-container annotation names, else
// the first. notice, when the pod has several containers, says so as
// kubectl does ("Defaulted container "app" out of: app, sidecar, setup
// (init)"), for stderr.
func DefaultContainer(pod *corev1.Pod) (name, notice string) {
	if len(pod.Spec.Containers) == 0 {
		return "", ""
	}
	name = pod.Spec.Containers[0].Name
	if want := pod.Annotations[DefaultContainerAnnotation]; want != "" {
		for _, c := range pod.Spec.Containers {
			if c.Name == want {
				return want, ""
			}
		}
	}
	if len(pod.Spec.Containers)+len(pod.Spec.InitContainers) == 1 {
		return name, ""
	}
	var all []string
	for _, c := range pod.Spec.Containers {
		all = append(all, c.Name)
	}
	for _, c := range pod.Spec.InitContainers {
		all = append(all, c.Name+" (init)")
	}
	return name, fmt.Sprintf("Defaulted container %q out of: %s", name, strings.Join(all, ", "))
}
