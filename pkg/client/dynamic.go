package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/kl-dev/kl/pkg/api/meta"
)

// Dynamic is the untyped flavour of the client, for callers that handle any
// kind as JSON (the CLI): every operation names its resource, namespace and
// object and takes and returns raw JSON. namespace "" means a
// cluster-scoped resource, or all namespaces for List, Watch and
// DeleteCollection.
type Dynamic struct {
	c *Client
}

// Dynamic returns the untyped flavour of c.
func (c *Client) Dynamic() *Dynamic { return &Dynamic{c: c} }

// Get returns one object.
func (d *Dynamic) Get(ctx context.Context, gvr meta.GroupVersionResource, namespace, name string) ([]byte, error) {
	if err := needName(gvr, name); err != nil {
		return nil, err
	}
	return d.c.Do(ctx, http.MethodGet, ResourcePath(gvr, namespace, name), nil, "", nil)
}

// List returns one list response ({"kind":"...List","metadata":{...},
// "items":[...]}); follow metadata.continue for more pages when opts.Limit
// is set.
func (d *Dynamic) List(ctx context.Context, gvr meta.GroupVersionResource, namespace string, opts ListOptions) ([]byte, error) {
	return d.c.Do(ctx, http.MethodGet, ResourcePath(gvr, namespace, ""), opts.Query(), "", nil)
}

// Create creates the object in body (JSON) and returns the stored object.
func (d *Dynamic) Create(ctx context.Context, gvr meta.GroupVersionResource, namespace string, body []byte, opts CreateOptions) ([]byte, error) {
	return d.c.Do(ctx, http.MethodPost, ResourcePath(gvr, namespace, ""), opts.Query(), "application/json", body)
}

// Update replaces the object (PUT); a metadata.resourceVersion in body makes
// it a compare-and-swap that fails with Conflict when the object changed.
func (d *Dynamic) Update(ctx context.Context, gvr meta.GroupVersionResource, namespace, name string, body []byte, opts UpdateOptions) ([]byte, error) {
	if err := needName(gvr, name); err != nil {
		return nil, err
	}
	return d.c.Do(ctx, http.MethodPut, ResourcePath(gvr, namespace, name), opts.Query(), "application/json", body)
}

// UpdateStatus replaces the object's status (PUT to the status subresource).
func (d *Dynamic) UpdateStatus(ctx context.Context, gvr meta.GroupVersionResource, namespace, name string, body []byte, opts UpdateOptions) ([]byte, error) {
	if err := needName(gvr, name); err != nil {
		return nil, err
	}
	return d.c.Do(ctx, http.MethodPut, ResourcePath(gvr, namespace, name, "status"), opts.Query(), "application/json", body)
}

// Patch applies data of type pt to the object (or to opts.Subresource) and
// returns the result. With ApplyPatchType it is server-side apply:
// opts.FieldManager is required.
func (d *Dynamic) Patch(ctx context.Context, gvr meta.GroupVersionResource, namespace, name string, pt PatchType, data []byte, opts PatchOptions) ([]byte, error) {
	if err := needName(gvr, name); err != nil {
		return nil, err
	}
	if pt == ApplyPatchType && opts.FieldManager == "" {
		return nil, fmt.Errorf("apply %s %q: a field manager is required", gvr, name)
	}
	return d.c.Do(ctx, http.MethodPatch, ResourcePath(gvr, namespace, name, opts.Subresource), opts.Query(), string(pt), data)
}

// ApplyResultHeader is the response header in which kl's apiserver says
// what a server-side apply did: "created", "configured" or "unchanged".
const ApplyResultHeader = "X-Kl-Apply-Result"

// PatchResult is the outcome of PatchWithResult.
type PatchResult struct {
	// Object is the patched (or, for an apply, created) object.
	Object []byte
	// StatusCode is 201 for an apply that created the object, else 200.
	StatusCode int
	// ApplyResult is the ApplyResultHeader of a server-side apply:
	// "created", "configured" or "unchanged"; "" when the server did not
	// say (other patch types, other servers).
	ApplyResult string
}

// PatchWithResult is Patch that also returns what the server said about
// the write; with ApplyPatchType, kl's apiserver says whether the apply
// created the object, changed it or found nothing to change.
func (d *Dynamic) PatchWithResult(ctx context.Context, gvr meta.GroupVersionResource, namespace, name string, pt PatchType, data []byte, opts PatchOptions) (*PatchResult, error) {
	if err := needName(gvr, name); err != nil {
		return nil, err
	}
	if pt == ApplyPatchType && opts.FieldManager == "" {
		return nil, fmt.Errorf("apply %s %q: a field manager is required", gvr, name)
	}
	resp, err := d.c.DoResponse(ctx, http.MethodPatch, ResourcePath(gvr, namespace, name, opts.Subresource), opts.Query(), string(pt), data)
	if err != nil {
		return nil, err
	}
	return &PatchResult{Object: resp.Body, StatusCode: resp.StatusCode, ApplyResult: resp.Header.Get(ApplyResultHeader)}, nil
}

// Delete deletes the object and returns the response body: the object (when
// deletion is graceful or waits for finalizers) or a Status.
func (d *Dynamic) Delete(ctx context.Context, gvr meta.GroupVersionResource, namespace, name string, opts meta.DeleteOptions) ([]byte, error) {
	if err := needName(gvr, name); err != nil {
		return nil, err
	}
	body, err := deleteBody(opts)
	if err != nil {
		return nil, err
	}
	return d.c.Do(ctx, http.MethodDelete, ResourcePath(gvr, namespace, name), deleteQuery(opts), contentTypeOf(body), body)
}

// DeleteCollection deletes every object that listOpts selects.
func (d *Dynamic) DeleteCollection(ctx context.Context, gvr meta.GroupVersionResource, namespace string, opts meta.DeleteOptions, listOpts ListOptions) ([]byte, error) {
	body, err := deleteBody(opts)
	if err != nil {
		return nil, err
	}
	q := mergeQuery(listOpts.Query(), deleteQuery(opts))
	return d.c.Do(ctx, http.MethodDelete, ResourcePath(gvr, namespace, ""), q, contentTypeOf(body), body)
}

// Watch streams changes after opts.ResourceVersion; each event's Object is
// the object's raw JSON. See Resource.Watch.
func (d *Dynamic) Watch(ctx context.Context, gvr meta.GroupVersionResource, namespace string, opts ListOptions) (<-chan Event[json.RawMessage], error) {
	q := opts.Query()
	q.Set("watch", "true")
	body, err := d.c.Stream(ctx, http.MethodGet, ResourcePath(gvr, namespace, ""), q)
	if err != nil {
		return nil, err
	}
	return decodeWatch(ctx, body, func(raw []byte) (json.RawMessage, error) {
		if !json.Valid(raw) {
			return nil, errors.New("invalid JSON object")
		}
		return bytes.Clone(raw), nil // raw is the reader's buffer
	}, d.c.log), nil
}

// RetryWatch is Watch that resumes after disconnects; see RetryWatch.
func (d *Dynamic) RetryWatch(ctx context.Context, gvr meta.GroupVersionResource, namespace string, opts ListOptions) (<-chan Event[json.RawMessage], error) {
	return RetryWatch(ctx, opts.ResourceVersion, func(ctx context.Context, rv string) (<-chan Event[json.RawMessage], error) {
		o := opts
		o.ResourceVersion = rv
		return d.Watch(ctx, gvr, namespace, o)
	}, rawResourceVersion, d.c.log)
}

// Subresource sends a request to an object's subresource ("binding",
// "scale", "status", "log", ...) and returns the response body.
func (d *Dynamic) Subresource(ctx context.Context, method string, gvr meta.GroupVersionResource, namespace, name, subresource string, query url.Values, body []byte) ([]byte, error) {
	if err := needName(gvr, name); err != nil {
		return nil, err
	}
	return d.c.Do(ctx, method, ResourcePath(gvr, namespace, name, subresource), query, contentTypeOf(body), body)
}

// rawResourceVersion reads metadata.resourceVersion from raw JSON.
func rawResourceVersion(raw json.RawMessage) string {
	var o struct {
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
	}
	if json.Unmarshal(raw, &o) != nil {
		return ""
	}
	return o.Metadata.ResourceVersion
}

func needName(gvr meta.GroupVersionResource, name string) error {
	if name == "" {
		return fmt.Errorf("%s: a resource name is required", gvr)
	}
	return nil
}

func deleteBody(opts meta.DeleteOptions) ([]byte, error) {
	if opts.GracePeriodSeconds == nil && opts.Preconditions == nil && opts.OrphanDependents == nil &&
		opts.PropagationPolicy == nil && len(opts.DryRun) == 0 {
		return nil, nil
	}
	opts.TypeMeta = meta.TypeMeta{Kind: "DeleteOptions", APIVersion: "v1"}
	b, err := json.Marshal(opts)
	if err != nil {
		return nil, fmt.Errorf("encoding delete options: %w", err)
	}
	return b, nil
}

func contentTypeOf(body []byte) string {
	if body == nil {
		return ""
	}
	return "application/json"
}
