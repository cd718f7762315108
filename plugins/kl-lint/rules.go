package main

import (
	"fmt"
	"strings"

	"github.com/kl-dev/kl/pkg/manifest"
)

// severity says whether a finding fails the run.
type severity int

const (
	warning severity = iota // exit 1
	info                    // reported only
)

func (s severity) String() string {
	if s == info {
		return "info"
	}
	return "warning"
}

// reportFunc records a finding at a field path of the object.
type reportFunc func(path []string, format string, args ...any)

// rule is one check.
type rule struct {
	id       string
	severity severity
	doc      string
	check    func(o *manifest.Object, report reportFunc)
}

// rules are every check, in the order --list-rules shows them.
var rules = []*rule{
	{id: "no-resource-requests", severity: warning, doc: "containers set resources.requests (cpu and memory)", check: checkRequests},
	{id: "no-resource-limits", severity: warning, doc: "containers set resources.limits", check: checkLimits},
	{id: "no-readiness-probe", severity: warning, doc: "containers have a readinessProbe", check: probeCheck("readinessProbe", "it gets traffic as soon as it starts, ready or not")},
	{id: "no-liveness-probe", severity: warning, doc: "containers have a livenessProbe", check: probeCheck("livenessProbe", "a hung process is never restarted")},
	{id: "latest-tag", severity: warning, doc: "images name a version, not :latest or no tag", check: checkImageTags},
	{id: "recommended-labels", severity: warning, doc: "workloads and services have an app.kubernetes.io/name or app label", check: checkLabels},
	{id: "service-no-selector", severity: warning, doc: "services have a selector (except ExternalName)", check: checkServiceSelector},
	{id: "single-replica", severity: info, doc: "deployments run more than one replica", check: checkReplicas},
}

func ruleByID(id string) *rule {
	for _, r := range rules {
		if r.id == id {
			return r
		}
	}
	return nil
}

// podSpecPath returns where the kind keeps its pod spec, or nil.
func podSpecPath(kind string) []string {
	switch kind {
	case "Pod":
		return []string{"spec"}
	case "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "ReplicationController":
		return []string{"spec", "template", "spec"}
	case "CronJob":
		return []string{"spec", "jobTemplate", "spec", "template", "spec"}
	}
	return nil
}

// container is one container of an object's pod spec.
type container struct {
	name string
	spec map[string]any
	path []string // to the container item
	init bool
}

// containers returns the object's containers (init containers too when
// withInit), or nil when it has no pod spec.
func containers(o *manifest.Object, withInit bool) []container {
	specPath := podSpecPath(o.Kind)
	if specPath == nil {
		return nil
	}
	spec, _ := dig(o.Object, specPath...).(map[string]any)
	var out []container
	lists := []string{"containers"}
	if withInit {
		lists = append([]string{"initContainers"}, lists...)
	}
	for _, list := range lists {
		items, _ := spec[list].([]any)
		for i, item := range items {
			c, ok := item.(map[string]any)
			if !ok {
				continue
			}
			name, _ := c["name"].(string)
			out = append(out, container{
				name: name, spec: c, init: list == "initContainers",
				path: append(append([]string{}, specPath...), list, fmt.Sprint(i)),
			})
		}
	}
	return out
}

// dig returns the value at path in m, or nil.
func dig(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// at returns the path of a field under the container.
func (c container) at(fields ...string) []string {
	return append(append([]string{}, c.path...), fields...)
}

// what names the container in messages.
func (c container) what() string {
	if c.init {
		return fmt.Sprintf("init container %q", c.name)
	}
	return fmt.Sprintf("container %q", c.name)
}

func checkRequests(o *manifest.Object, report reportFunc) {
	for _, c := range containers(o, true) {
		req, _ := dig(c.spec, "resources", "requests").(map[string]any)
		var missing []string
		for _, r := range []string{"cpu", "memory"} {
			if _, ok := req[r]; !ok {
				missing = append(missing, r)
			}
		}
		switch len(missing) {
		case 0:
		case 2:
			report(c.at("resources", "requests"), "%s has no resource requests: set resources.requests.cpu and .memory so the scheduler places it where it fits", c.what())
		default:
			report(c.at("resources", "requests"), "%s has no %s request: set resources.requests.%s", c.what(), missing[0], missing[0])
		}
	}
}

func checkLimits(o *manifest.Object, report reportFunc) {
	for _, c := range containers(o, true) {
		if lim, _ := dig(c.spec, "resources", "limits").(map[string]any); len(lim) == 0 {
			report(c.at("resources", "limits"), "%s has no resource limits: set resources.limits (memory at least) so it cannot starve its neighbours", c.what())
		}
	}
}

func probeCheck(field, why string) func(*manifest.Object, reportFunc) {
	return func(o *manifest.Object, report reportFunc) {
		for _, c := range containers(o, false) {
			if _, ok := c.spec[field]; !ok {
				report(c.path, "%s has no %s: %s", c.what(), field, why)
			}
		}
	}
}

func checkImageTags(o *manifest.Object, report reportFunc) {
	for _, c := range containers(o, true) {
		image, _ := c.spec["image"].(string)
		if image == "" {
			continue // validation's business
		}
		switch tag := imageTag(image); tag {
		case "@":
		case "":
			report(c.at("image"), "%s image %q has no tag, which means :latest: name a version so every node runs the same code", c.what(), image)
		case "latest":
			report(c.at("image"), "%s image %q uses the latest tag: name a version so every node runs the same code", c.what(), image)
		}
	}
}

// imageTag returns the tag of an image reference, "" when it has none, or
// "@" when it is pinned by digest.
func imageTag(image string) string {
	if strings.Contains(image, "@") {
		return "@"
	}
	last := image[strings.LastIndex(image, "/")+1:] // a registry port is not a tag
	if _, tag, ok := strings.Cut(last, ":"); ok {
		return tag
	}
	return ""
}

// labelledKinds are the kinds that should carry an app label.
var labelledKinds = map[string]bool{
	"Pod": true, "Deployment": true, "ReplicaSet": true, "StatefulSet": true, "DaemonSet": true,
	"Job": true, "CronJob": true, "Service": true,
}

func checkLabels(o *manifest.Object, report reportFunc) {
	if !labelledKinds[o.Kind] {
		return
	}
	labels, _ := dig(o.Object, "metadata", "labels").(map[string]any)
	if _, ok := labels["app.kubernetes.io/name"]; ok {
		return
	}
	if _, ok := labels["app"]; ok {
		return
	}
	report([]string{"metadata", "labels"}, "missing the recommended label app.kubernetes.io/name (or app)")
}

func checkServiceSelector(o *manifest.Object, report reportFunc) {
	if o.Kind != "Service" || dig(o.Object, "spec", "type") == "ExternalName" {
		return
	}
	if sel, _ := dig(o.Object, "spec", "selector").(map[string]any); len(sel) > 0 {
		return
	}
	report([]string{"spec", "selector"}, "has no selector: it gets no endpoints unless you manage an Endpoints object %q yourself", o.Name)
}

func checkReplicas(o *manifest.Object, report reportFunc) {
	if o.Kind != "Deployment" {
		return
	}
	switch r := dig(o.Object, "spec", "replicas"); r {
	case nil:
		report([]string{"spec"}, "replicas is not set and defaults to 1: one pod means downtime on every node failure")
	case int64(1), float64(1):
		report([]string{"spec", "replicas"}, "replicas is 1: one pod means downtime on every node failure")
	}
}
