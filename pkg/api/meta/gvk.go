package meta

import "strings"

// GroupVersionResource names a REST resource, e.g. {apps v1 deployments}.
type GroupVersionResource struct {
	// Group is the API group, "" for the core group.
	Group string
	// Version is the API version, for example "v1".
	Version string
	// Resource is the plural, lower-case resource name, for example
	// "deployments".
	Resource string
}

// GroupVersion returns "v1" or "apps/v1".
func (r GroupVersionResource) GroupVersion() string { return JoinGroupVersion(r.Group, r.Version) }

// String returns "resource" for the core group and "resource.group"
// otherwise, as kubectl writes resources.
func (r GroupVersionResource) String() string {
	if r.Group == "" {
		return r.Resource
	}
	return r.Resource + "." + r.Group
}

// GroupVersionKind names a kind, e.g. {apps v1 Deployment}.
type GroupVersionKind struct {
	// Group is the API group, "" for the core group.
	Group string
	// Version is the API version, for example "v1".
	Version string
	// Kind is the CamelCase kind, for example "Deployment".
	Kind string
}

// GroupVersion returns "v1" or "apps/v1".
func (k GroupVersionKind) GroupVersion() string { return JoinGroupVersion(k.Group, k.Version) }

// JoinGroupVersion returns "v1" for the core group and "group/version" otherwise.
func JoinGroupVersion(group, version string) string {
	if group == "" {
		return version
	}
	return group + "/" + version
}

// SplitAPIVersion splits "apps/v1" into ("apps", "v1") and "v1" into ("", "v1").
func SplitAPIVersion(apiVersion string) (group, version string) {
	if i := strings.IndexByte(apiVersion, '/'); i >= 0 {
		return apiVersion[:i], apiVersion[i+1:]
	}
	return "", apiVersion
}
