package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
)

// APIResource is one resource the apiserver serves, as its discovery
// documents describe it (subresources excluded).
type APIResource struct {
	GVR        meta.GroupVersionResource
	Kind       string
	Namespaced bool
	Verbs      []string
}

// APIVersion returns the resource's "v1" or "group/version".
func (r APIResource) APIVersion() string { return r.GVR.GroupVersion() }

// HasVerbs reports whether the resource supports every verb given.
func (r APIResource) HasVerbs(verbs ...string) bool {
	for _, v := range verbs {
		if !slices.Contains(r.Verbs, v) {
			return false
		}
	}
	return true
}

// DiscoverResources reads the apiserver's discovery documents (/api/v1,
// /apis, and /apis/{group}/{version} for each group's preferred version)
// and returns every resource served, core group first. The garbage
// collector and the namespace controller use it to handle every kind the
// server has, not a fixed list.
func DiscoverResources(ctx context.Context, c *client.Client) ([]APIResource, error) {
	do := func(ctx context.Context, path string) ([]byte, error) {
		return c.Do(ctx, http.MethodGet, path, nil, "", nil)
	}
	var out []APIResource
	core, err := resourceList(ctx, do, "/api/v1")
	if err != nil {
		return nil, err
	}
	out = append(out, core...)
	data, err := do(ctx, "/apis")
	if err != nil {
		return nil, fmt.Errorf("discovery /apis: %w", err)
	}
	var groups struct {
		Groups []struct {
			Name             string `json:"name"`
			PreferredVersion struct {
				Version string `json:"version"`
			} `json:"preferredVersion"`
		} `json:"groups"`
	}
	if err := json.Unmarshal(data, &groups); err != nil {
		return nil, fmt.Errorf("discovery /apis: decoding: %w", err)
	}
	for _, g := range groups.Groups {
		if g.PreferredVersion.Version == "" {
			continue
		}
		res, err := resourceList(ctx, do, "/apis/"+g.Name+"/"+g.PreferredVersion.Version)
		if err != nil {
			return nil, err
		}
		out = append(out, res...)
	}
	return out, nil
}

func resourceList(ctx context.Context, do func(ctx context.Context, path string) ([]byte, error), path string) ([]APIResource, error) {
	data, err := do(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("discovery %s: %w", path, err)
	}
	var list struct {
		GroupVersion string `json:"groupVersion"`
		Resources    []struct {
			Name       string   `json:"name"`
			Namespaced bool     `json:"namespaced"`
			Kind       string   `json:"kind"`
			Verbs      []string `json:"verbs"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("discovery %s: decoding: %w", path, err)
	}
	group, version := meta.SplitAPIVersion(list.GroupVersion)
	var out []APIResource
	for _, r := range list.Resources {
		if strings.Contains(r.Name, "/") {
			continue // a subresource
		}
		out = append(out, APIResource{
			GVR:        meta.GroupVersionResource{Group: group, Version: version, Resource: r.Name},
			Kind:       r.Kind,
			Namespaced: r.Namespaced,
			Verbs:      r.Verbs,
		})
	}
	return out, nil
}
