package client

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/kl-dev/kl/pkg/api/meta"
)

// ListOptions are the query parameters of list, watch and deletecollection
// requests, as in Kubernetes.
type ListOptions struct {
	// LabelSelector restricts the result by labels ("app=web,tier!=db").
	LabelSelector string
	// FieldSelector restricts the result by fields ("spec.nodeName=n1").
	FieldSelector string
	// Limit asks for at most Limit items; the response carries a Continue
	// token when there are more (0: no limit).
	Limit int64
	// Continue is the token of the previous page.
	Continue string
	// ResourceVersion: for a list, "" means the latest state and "0" any
	// cached state; for a watch, the version to stream changes after.
	ResourceVersion string
	// TimeoutSeconds asks the server to end a watch after this long.
	TimeoutSeconds *int64
	// AllowWatchBookmarks asks for BOOKMARK events carrying the latest
	// resourceVersion (watch only).
	AllowWatchBookmarks bool
}

// Query returns the options as URL query parameters.
func (o ListOptions) Query() url.Values {
	q := url.Values{}
	if o.LabelSelector != "" {
		q.Set("labelSelector", o.LabelSelector)
	}
	if o.FieldSelector != "" {
		q.Set("fieldSelector", o.FieldSelector)
	}
	if o.Limit > 0 {
		q.Set("limit", strconv.FormatInt(o.Limit, 10))
	}
	if o.Continue != "" {
		q.Set("continue", o.Continue)
	}
	if o.ResourceVersion != "" {
		q.Set("resourceVersion", o.ResourceVersion)
	}
	if o.TimeoutSeconds != nil {
		q.Set("timeoutSeconds", strconv.FormatInt(*o.TimeoutSeconds, 10))
	}
	if o.AllowWatchBookmarks {
		q.Set("allowWatchBookmarks", "true")
	}
	return q
}

// CreateOptions are the query parameters of a create.
type CreateOptions struct {
	// DryRun runs admission and validation but does not persist
	// (dryRun=All); the response is the would-be object.
	DryRun bool
	// FieldManager names the writer for managedFields.
	FieldManager string
}

// Query returns the options as URL query parameters.
func (o CreateOptions) Query() url.Values { return writeQuery(o.DryRun, o.FieldManager, nil) }

// UpdateOptions are the query parameters of an update (PUT).
type UpdateOptions struct {
	DryRun       bool
	FieldManager string
}

// Query returns the options as URL query parameters.
func (o UpdateOptions) Query() url.Values { return writeQuery(o.DryRun, o.FieldManager, nil) }

// PatchType is the Content-Type of a PATCH request and selects how the
// server applies the patch.
type PatchType string

// The patch types Kubernetes defines.
const (
	JSONPatchType           PatchType = "application/json-patch+json"
	MergePatchType          PatchType = "application/merge-patch+json"
	StrategicMergePatchType PatchType = "application/strategic-merge-patch+json"
	// ApplyPatchType is server-side apply: the body is the full intent of
	// FieldManager (which is required), YAML or JSON.
	ApplyPatchType PatchType = "application/apply-patch+yaml"
)

// PatchOptions are the query parameters of a patch.
type PatchOptions struct {
	DryRun       bool
	FieldManager string
	// Force takes over conflicting fields from other managers (apply only).
	Force *bool
	// Subresource patches a subresource such as "status" instead of the
	// object itself.
	Subresource string
}

// Query returns the options as URL query parameters.
func (o PatchOptions) Query() url.Values { return writeQuery(o.DryRun, o.FieldManager, o.Force) }

func writeQuery(dryRun bool, fieldManager string, force *bool) url.Values {
	q := url.Values{}
	if dryRun {
		q.Set("dryRun", "All")
	}
	if fieldManager != "" {
		q.Set("fieldManager", fieldManager)
	}
	if force != nil {
		q.Set("force", strconv.FormatBool(*force))
	}
	return q
}

// deleteQuery returns the query form of the DeleteOptions fields Kubernetes
// accepts as parameters; the options are also sent as the body.
func deleteQuery(o meta.DeleteOptions) url.Values {
	q := url.Values{}
	if o.GracePeriodSeconds != nil {
		q.Set("gracePeriodSeconds", strconv.FormatInt(*o.GracePeriodSeconds, 10))
	}
	if o.PropagationPolicy != nil {
		q.Set("propagationPolicy", string(*o.PropagationPolicy))
	}
	if o.OrphanDependents != nil {
		q.Set("orphanDependents", strconv.FormatBool(*o.OrphanDependents))
	}
	if len(o.DryRun) > 0 {
		q.Set("dryRun", strings.Join(o.DryRun, ","))
	}
	return q
}

// mergeQuery adds b's parameters to a (a may be nil).
func mergeQuery(a, b url.Values) url.Values {
	if a == nil {
		a = url.Values{}
	}
	for k, vs := range b {
		for _, v := range vs {
			a.Add(k, v)
		}
	}
	return a
}

// ResourcePath returns the REST path of a resource collection (name ""),
// an object, or an object's subresources:
//
//	/api/v1/namespaces/{ns}/{resource}[/{name}[/{subresource}...]]
//	/api/v1/{resource}[/{name}...]           (cluster-scoped, or all namespaces)
//	/apis/{group}/{version}/...              (named groups)
func ResourcePath(gvr meta.GroupVersionResource, namespace, name string, subresources ...string) string {
	var b strings.Builder
	if gvr.Group == "" {
		b.WriteString("/api/")
	} else {
		b.WriteString("/apis/")
		b.WriteString(gvr.Group)
		b.WriteByte('/')
	}
	b.WriteString(gvr.Version)
	if namespace != "" {
		b.WriteString("/namespaces/")
		b.WriteString(url.PathEscape(namespace))
	}
	b.WriteByte('/')
	b.WriteString(gvr.Resource)
	if name != "" {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(name))
		for _, s := range subresources {
			if s != "" {
				b.WriteByte('/')
				b.WriteString(s)
			}
		}
	}
	return b.String()
}
