package resource

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/kl-dev/kl/pkg/suggest"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/kl-dev/kl/pkg/api/meta"
)

// Mapping says how to reach one kind of object through the API.
type Mapping struct {
	// GVR is the REST resource, e.g. {apps v1 deployments}.
	GVR meta.GroupVersionResource
	// Kind is the object kind, e.g. "Deployment".
	Kind string
	// Namespaced is false for cluster-scoped kinds (nodes, namespaces).
	Namespaced bool
}

// Type returns the kind as kubectl names it in messages: the lower-case kind,
// qualified by its group unless it is in the core group ("pod",
// "deployment.apps").
func (m Mapping) Type() string {
	k := strings.ToLower(m.Kind)
	if m.GVR.Group == "" {
		return k
	}
	return k + "." + m.GVR.Group
}

// Ref returns "TYPE/NAME", the form of -o name: "pod/web-1",
// "deployment.apps/web".
func (m Mapping) Ref(name string) string { return m.Type() + "/" + name }

// APIVersion returns "v1" or "apps/v1".
func (m Mapping) APIVersion() string { return m.GVR.GroupVersion() }

// Discovery is the part of the API client a Resolver needs;
// *client.Client implements it.
type Discovery interface {
	Do(ctx context.Context, method, path string, query url.Values, contentType string, body []byte) ([]byte, error)
}

// UnknownTypeError is returned when no resource of the server matches a
// KIND argument.
type UnknownTypeError struct {
	// Type is the argument as given.
	Type string
	// Suggestion is a close resource name ("pods" for "pdos"), or "".
	Suggestion string
}

func (e *UnknownTypeError) Error() string {
	msg := fmt.Sprintf("the server doesn't have a resource type %q", e.Type)
	if e.Suggestion != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", e.Suggestion)
	}
	return msg
}

// discovered is one resource from an APIResourceList.
type discovered struct {
	Mapping
	singular   string
	shortNames []string
	categories []string
}

// Resolver resolves KIND arguments with the apiserver's discovery documents
// (/api/v1, /apis, /apis/{group}/{version}). It reads them on first use and
// keeps them for its life, which is one command's. It is safe for
// concurrent use.
type Resolver struct {
	d Discovery

	mu        sync.Mutex
	resources []discovered // core group first, then groups as /apis lists them
}

// NewResolver returns a Resolver reading discovery through d.
func NewResolver(d Discovery) *Resolver { return &Resolver{d: d} }

// Mappings returns every resource the server serves (subresources
// excluded), core group first.
func (r *Resolver) Mappings(ctx context.Context) ([]Mapping, error) {
	res, err := r.load(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Mapping, len(res))
	for i, d := range res {
		out[i] = d.Mapping
	}
	return out, nil
}

// Resolve returns the mapping of a KIND argument, case-insensitively: a
// kind ("Deployment"), plural ("deployments"), singular ("deployment") or
// short name ("deploy"), optionally qualified by group ("deployments.apps")
// or version and group ("deployments.v1.apps"). An unknown type is an
// *UnknownTypeError.
func (r *Resolver) Resolve(ctx context.Context, arg string) (Mapping, error) {
	res, err := r.load(ctx)
	if err != nil {
		return Mapping{}, err
	}
	name := strings.ToLower(strings.TrimSpace(arg))
	if name == "" {
		return Mapping{}, fmt.Errorf("empty resource type")
	}
	// Unqualified first: no served resource name contains a dot.
	if m, ok := match(res, name, nil); ok {
		return m, nil
	}
	if base, rest, ok := strings.Cut(name, "."); ok && rest != "" {
		// base.group, then base.version.group.
		if m, ok := match(res, base, func(d discovered) bool { return d.GVR.Group == rest }); ok {
			return m, nil
		}
		if v, g, ok := strings.Cut(rest, "."); ok {
			if m, ok := match(res, base, func(d discovered) bool { return d.GVR.Group == g && d.GVR.Version == v }); ok {
				return m, nil
			}
		}
	}
	return Mapping{}, &UnknownTypeError{Type: arg, Suggestion: closestResource(res, name)}
}

// Category returns the resources of a category ("all": pods, services,
// deployments, replica sets), in discovery order, or nil when no resource
// is in the category.
func (r *Resolver) Category(ctx context.Context, name string) ([]Mapping, error) {
	res, err := r.load(ctx)
	if err != nil {
		return nil, err
	}
	name = strings.ToLower(name)
	var out []Mapping
	for _, d := range res {
		for _, c := range d.categories {
			if c == name {
				out = append(out, d.Mapping)
				break
			}
		}
	}
	return out, nil
}

// ForKind returns the mapping of an apiVersion and kind, as a manifest
// names them ("apps/v1", "Deployment").
func (r *Resolver) ForKind(ctx context.Context, apiVersion, kind string) (Mapping, error) {
	res, err := r.load(ctx)
	if err != nil {
		return Mapping{}, err
	}
	group, version := meta.SplitAPIVersion(apiVersion)
	for _, d := range res {
		if d.Kind == kind && d.GVR.Group == group && d.GVR.Version == version {
			return d.Mapping, nil
		}
	}
	return Mapping{}, fmt.Errorf("the server doesn't have a resource for kind %q in version %q", kind, apiVersion)
}

func match(res []discovered, name string, keep func(discovered) bool) (Mapping, bool) {
	for _, d := range res {
		if keep != nil && !keep(d) {
			continue
		}
		if d.GVR.Resource == name || d.singular == name || strings.ToLower(d.Kind) == name {
			return d.Mapping, true
		}
		for _, s := range d.shortNames {
			if s == name {
				return d.Mapping, true
			}
		}
	}
	return Mapping{}, false
}

// closestResource returns the resource name closest to name when it is close
// enough to be a typo.
func closestResource(res []discovered, name string) string {
	best, bestDist := "", 3
	for _, d := range res {
		for _, cand := range append([]string{d.GVR.Resource, d.singular}, d.shortNames...) {
			if cand == "" {
				continue
			}
			limit := 2
			if len(cand) <= 3 {
				limit = 1
			}
			if dist := suggest.Distance(name, cand); dist <= limit && dist < bestDist {
				best, bestDist = d.GVR.Resource, dist
			}
		}
	}
	return best
}

// load reads the discovery documents once; a failure is not cached.
func (r *Resolver) load(ctx context.Context) ([]discovered, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.resources != nil {
		return r.resources, nil
	}
	res, err := r.fetch(ctx)
	if err != nil {
		return nil, err
	}
	r.resources = res
	return res, nil
}

type apiResourceList struct {
	GroupVersion string `json:"groupVersion"`
	Resources    []struct {
		Name         string   `json:"name"`
		SingularName string   `json:"singularName"`
		Namespaced   bool     `json:"namespaced"`
		Kind         string   `json:"kind"`
		ShortNames   []string `json:"shortNames"`
		Categories   []string `json:"categories"`
	} `json:"resources"`
}

type apiGroupList struct {
	Groups []struct {
		Name             string `json:"name"`
		PreferredVersion struct {
			GroupVersion string `json:"groupVersion"`
		} `json:"preferredVersion"`
	} `json:"groups"`
}

func (r *Resolver) fetch(ctx context.Context) ([]discovered, error) {
	if r.d == nil {
		return nil, fmt.Errorf("no discovery client")
	}
	paths := []string{"/api/v1"}
	body, err := r.d.Do(ctx, http.MethodGet, "/apis", nil, "", nil)
	if err != nil {
		return nil, fmt.Errorf("discover API groups: %w", err)
	}
	var groups apiGroupList
	if err := json.Unmarshal(body, &groups); err != nil {
		return nil, fmt.Errorf("decode /apis: %w", err)
	}
	for _, g := range groups.Groups {
		if g.PreferredVersion.GroupVersion != "" {
			paths = append(paths, "/apis/"+g.PreferredVersion.GroupVersion)
		}
	}
	out := []discovered{}
	for _, p := range paths {
		body, err := r.d.Do(ctx, http.MethodGet, p, nil, "", nil)
		if err != nil {
			return nil, fmt.Errorf("discover resources at %s: %w", p, err)
		}
		var l apiResourceList
		if err := json.Unmarshal(body, &l); err != nil {
			return nil, fmt.Errorf("decode %s: %w", p, err)
		}
		group, version := meta.SplitAPIVersion(l.GroupVersion)
		var here []discovered
		for _, res := range l.Resources {
			if strings.Contains(res.Name, "/") {
				continue // subresource
			}
			singular := res.SingularName
			if singular == "" {
				singular = strings.ToLower(res.Kind)
			}
			here = append(here, discovered{
				Mapping: Mapping{
					GVR:        meta.GroupVersionResource{Group: group, Version: version, Resource: res.Name},
					Kind:       res.Kind,
					Namespaced: res.Namespaced,
				},
				singular:   singular,
				shortNames: res.ShortNames,
				categories: res.Categories,
			})
		}
		sort.SliceStable(here, func(i, j int) bool { return here[i].GVR.Resource < here[j].GVR.Resource })
		out = append(out, here...)
	}
	return out, nil
}
