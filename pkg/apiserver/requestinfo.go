package apiserver

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/kl-dev/kl/pkg/api/meta"
)

// requestInfo is what a resource request's path and method say.
type requestInfo struct {
	// Verb is get, list, watch, create, update, patch, delete or
	// deletecollection (as Kubernetes' authorizer sees them).
	Verb        string
	Group       string
	Version     string
	Namespace   string
	Resource    string
	Name        string
	Subresource string
}

// parseRequestInfo parses /api/v1/... and /apis/{group}/{version}/... paths.
// ok is false for paths that are not resource requests (discovery, health).
func parseRequestInfo(r *http.Request) (info requestInfo, ok bool, err error) {
	parts := splitPath(r.URL.Path)
	switch {
	case len(parts) >= 3 && parts[0] == "api":
		info.Version = parts[1]
		parts = parts[2:]
	case len(parts) >= 4 && parts[0] == "apis":
		info.Group, info.Version = parts[1], parts[2]
		parts = parts[3:]
	default:
		return info, false, nil
	}
	// namespaces/{ns}/{resource}... is namespaced, except the namespaces
	// resource itself (namespaces/{name}[/{subresource}]).
	// (namespaces/{name}/status and /finalize are the namespace's own
	// subresources, as Kubernetes special-cases them.)
	nsSubresource := len(parts) == 3 && (parts[2] == "status" || parts[2] == "finalize")
	if parts[0] == "namespaces" && len(parts) >= 3 && !nsSubresource {
		info.Namespace = parts[1]
		parts = parts[2:]
	}
	info.Resource = parts[0]
	if len(parts) >= 2 {
		info.Name = parts[1]
	}
	if len(parts) >= 3 {
		info.Subresource = parts[2]
	}
	if len(parts) > 3 {
		return info, true, meta.NewNotFound("", info.Resource, strings.Join(parts[1:], "/"))
	}
	for _, p := range []string{info.Namespace, info.Name} {
		if p != "" {
			if msg := pathSegmentError(p); msg != "" {
				return info, true, meta.NewBadRequest(msg)
			}
		}
	}
	q := r.URL.Query()
	watch := q.Get("watch") == "true" || q.Get("watch") == "1"
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		switch {
		case watch && info.Name == "":
			info.Verb = "watch"
		case info.Name == "":
			info.Verb = "list"
		default:
			info.Verb = "get"
		}
	case http.MethodPost:
		info.Verb = "create"
	case http.MethodPut:
		info.Verb = "update"
	case http.MethodPatch:
		info.Verb = "patch"
	case http.MethodDelete:
		if info.Name == "" {
			info.Verb = "deletecollection"
		} else {
			info.Verb = "delete"
		}
	default:
		return info, true, meta.NewMethodNotAllowed(fmt.Sprintf("method %s is not supported", r.Method))
	}
	return info, true, nil
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// pathSegmentError rejects names that could escape their storage key.
func pathSegmentError(s string) string {
	switch {
	case s == "." || s == "..":
		return fmt.Sprintf("invalid name %q: may not be '.' or '..'", s)
	case strings.ContainsAny(s, "/%\\\x00"):
		return fmt.Sprintf("invalid name %q: may not contain '/', '%%' or '\\'", s)
	}
	return ""
}
