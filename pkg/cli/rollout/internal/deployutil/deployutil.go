// Package deployutil is what the kl rollout subcommands share: the
// DEPLOYMENT argument, typed clients of Deployments, ReplicaSets and Pods,
// a Deployment's ReplicaSets and their revisions, and read-check-patch with
// optimistic concurrency.
//
// The rules mirror Kubernetes' deployment utilities (and kl's deployment
// controller): a Deployment's ReplicaSets are the ones its selector matches
// and it controls (owner reference with its UID); the "new" ReplicaSet is
// the oldest whose pod template equals the Deployment's but for the
// pod-template-hash label; a ReplicaSet's revision is its
// deployment.kubernetes.io/revision annotation.
package deployutil

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"sort"
	"strconv"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/cli/resource"
	"github.com/kl-dev/kl/pkg/client"
)

// The resources rollout reads and writes.
var (
	DeploymentsGVR = meta.GroupVersionResource{Group: appsv1.GroupName, Version: appsv1.Version, Resource: "deployments"}
	ReplicaSetsGVR = meta.GroupVersionResource{Group: appsv1.GroupName, Version: appsv1.Version, Resource: "replicasets"}
	PodsGVR        = meta.GroupVersionResource{Version: "v1", Resource: "pods"}
)

// Type is how messages name the kind: "deployment.apps/web rolled back".
const Type = "deployment.apps"

// Ref returns "deployment.apps/NAME".
func Ref(name string) string { return Type + "/" + name }

// Arg returns "deployment/NAME", how hints name a deployment in commands
// to run.
func Arg(name string) string { return "deployment/" + name }

// Quoted returns `deployments.apps "NAME"`, the form of kubectl's errors
// about one object.
func Quoted(name string) string {
	return fmt.Sprintf("%s.%s %q", DeploymentsGVR.Resource, DeploymentsGVR.Group, name)
}

// Deployments returns the typed client of Deployments in ns.
func Deployments(c *client.Client, ns string) *client.Resource[appsv1.Deployment, *appsv1.Deployment] {
	return client.NewResource[appsv1.Deployment](c, DeploymentsGVR, true).Namespace(ns)
}

// ReplicaSets returns the typed client of ReplicaSets in ns.
func ReplicaSets(c *client.Client, ns string) *client.Resource[appsv1.ReplicaSet, *appsv1.ReplicaSet] {
	return client.NewResource[appsv1.ReplicaSet](c, ReplicaSetsGVR, true).Namespace(ns)
}

// Pods returns the typed client of Pods in ns.
func Pods(c *client.Client, ns string) *client.Resource[corev1.Pod, *corev1.Pod] {
	return client.NewResource[corev1.Pod](c, PodsGVR, true).Namespace(ns)
}

// ResolveNames resolves the DEPLOYMENT arguments of a rollout command,
// "deployment/web", "deploy web" or "deployments.apps web other", to the
// deployment names. Every argument must name a Deployment.
func ResolveNames(ctx context.Context, d resource.Discovery, args []string) ([]string, error) {
	sels, err := resource.ParseArgs(args)
	if err != nil {
		return nil, err
	}
	targets, err := resource.NewResolver(d).ResolveSelections(ctx, sels)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, t := range targets {
		if t.Mapping.GVR.Group != DeploymentsGVR.Group || t.Mapping.GVR.Resource != DeploymentsGVR.Resource {
			return nil, fmt.Errorf("rollout is not supported for %s: kl rollout works on deployments", t.Mapping.GVR.Resource)
		}
		names = append(names, t.Names...)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("a deployment name is required: deployment/NAME or deployment NAME")
	}
	return names, nil
}

// ResolveName is ResolveNames for commands that work on exactly one
// Deployment.
func ResolveName(ctx context.Context, d resource.Discovery, args []string) (string, error) {
	names, err := ResolveNames(ctx, d, args)
	if err != nil {
		return "", err
	}
	if len(names) != 1 {
		return "", fmt.Errorf("exactly one deployment is required, got %d", len(names))
	}
	return names[0], nil
}

// Selector returns the Deployment's pod selector.
func Selector(d *appsv1.Deployment) (meta.Selector, error) {
	if d.Spec.Selector == nil {
		return meta.Nothing(), fmt.Errorf("deployment %q has no selector", d.Name)
	}
	sel, err := meta.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return meta.Nothing(), fmt.Errorf("deployment %q: invalid selector: %w", d.Name, err)
	}
	return sel, nil
}

// Owned keeps the ReplicaSets d controls (controller owner reference with
// d's UID).
func Owned(d *appsv1.Deployment, rss []*appsv1.ReplicaSet) []*appsv1.ReplicaSet {
	var out []*appsv1.ReplicaSet
	for _, rs := range rss {
		if meta.IsControlledBy(&rs.ObjectMeta, d.UID) {
			out = append(out, rs)
		}
	}
	return out
}

// ListOwned lists the ReplicaSets of d: those its selector matches that it
// controls.
func ListOwned(ctx context.Context, c *client.Client, d *appsv1.Deployment) ([]*appsv1.ReplicaSet, error) {
	sel, err := Selector(d)
	if err != nil {
		return nil, err
	}
	rss, _, err := ReplicaSets(c, d.Namespace).ListAll(ctx, client.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, err
	}
	return Owned(d, rss), nil
}

// Revision returns the revision annotation of an object: 0 when it has
// none, an error when it is not a number.
func Revision(m *meta.ObjectMeta) (int64, error) {
	v, ok := m.Annotations[appsv1.RevisionAnnotation]
	if !ok || v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid %s annotation %q on %s: %w", appsv1.RevisionAnnotation, v, m.Name, err)
	}
	return n, nil
}

// Revisions maps the revision of each ReplicaSet that has a valid one to
// it. Should two share a revision, the newer object wins.
func Revisions(rss []*appsv1.ReplicaSet) map[int64]*appsv1.ReplicaSet {
	sorted := append([]*appsv1.ReplicaSet(nil), rss...)
	SortByCreation(sorted)
	out := map[int64]*appsv1.ReplicaSet{}
	for _, rs := range sorted {
		if v, err := Revision(&rs.ObjectMeta); err == nil && v > 0 {
			out[v] = rs
		}
	}
	return out
}

// SortedRevisions returns the keys of revs in increasing order.
func SortedRevisions[V any](revs map[int64]V) []int64 {
	keys := make([]int64, 0, len(revs))
	for k := range revs {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}

// SortByCreation sorts ReplicaSets oldest first (then by name).
func SortByCreation(rss []*appsv1.ReplicaSet) {
	sort.SliceStable(rss, func(i, j int) bool {
		a, b := rss[i].CreationTimestamp.Time, rss[j].CreationTimestamp.Time
		if !a.Equal(b) {
			return a.Before(b)
		}
		return rss[i].Name < rss[j].Name
	})
}

// StripHash returns a copy of t without the pod-template-hash label (the
// labels nil when none remain). The copy shares t's spec.
func StripHash(t *corev1.PodTemplateSpec) corev1.PodTemplateSpec {
	c := *t
	c.Labels = maps.Clone(t.Labels)
	delete(c.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	if len(c.Labels) == 0 {
		c.Labels = nil
	}
	return c
}

// EqualIgnoreHash reports whether two pod templates are equal but for the
// pod-template-hash label (how Kubernetes finds a Deployment's current
// ReplicaSet).
func EqualIgnoreHash(a, b *corev1.PodTemplateSpec) bool {
	sa, sb := StripHash(a), StripHash(b)
	ja, erra := json.Marshal(&sa)
	jb, errb := json.Marshal(&sb)
	return erra == nil && errb == nil && string(ja) == string(jb)
}

// FindNewReplicaSet returns the ReplicaSet of rss holding d's current pod
// template (the oldest, should several), or nil.
func FindNewReplicaSet(d *appsv1.Deployment, rss []*appsv1.ReplicaSet) *appsv1.ReplicaSet {
	sorted := append([]*appsv1.ReplicaSet(nil), rss...)
	SortByCreation(sorted)
	for _, rs := range sorted {
		if EqualIgnoreHash(&rs.Spec.Template, &d.Spec.Template) {
			return rs
		}
	}
	return nil
}
