package apiserver

import (
	"net/http"
	"sort"
	"strings"

	"github.com/kl-dev/kl/pkg/version"
)

// Discovery documents in Kubernetes' shapes (APIVersions, APIGroupList,
// APIResourceList), so kubectl and client-go find kl's resources.

type apiVersions struct {
	Kind                       string                      `json:"kind"`
	Versions                   []string                    `json:"versions"`
	ServerAddressByClientCIDRs []serverAddressByClientCIDR `json:"serverAddressByClientCIDRs"`
}

type serverAddressByClientCIDR struct {
	ClientCIDR    string `json:"clientCIDR"`
	ServerAddress string `json:"serverAddress"`
}

type groupVersionForDiscovery struct {
	GroupVersion string `json:"groupVersion"`
	Version      string `json:"version"`
}

type apiGroup struct {
	Name             string                     `json:"name"`
	Versions         []groupVersionForDiscovery `json:"versions"`
	PreferredVersion groupVersionForDiscovery   `json:"preferredVersion"`
}

type apiGroupList struct {
	Kind       string     `json:"kind"`
	APIVersion string     `json:"apiVersion"`
	Groups     []apiGroup `json:"groups"`
}

type apiResource struct {
	Name               string   `json:"name"`
	SingularName       string   `json:"singularName"`
	Namespaced         bool     `json:"namespaced"`
	Group              string   `json:"group,omitempty"`
	Version            string   `json:"version,omitempty"`
	Kind               string   `json:"kind"`
	Verbs              []string `json:"verbs"`
	ShortNames         []string `json:"shortNames,omitempty"`
	Categories         []string `json:"categories,omitempty"`
	StorageVersionHash string   `json:"storageVersionHash,omitempty"`
}

type apiResourceList struct {
	Kind         string        `json:"kind"`
	APIVersion   string        `json:"apiVersion"`
	GroupVersion string        `json:"groupVersion"`
	Resources    []apiResource `json:"resources"`
}

var resourceVerbs = []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}

// serveDiscovery answers /api, /apis, /api/v1 and /apis/{g}/{v}; ok is
// false when the path is none of them.
func (s *Server) serveDiscovery(w http.ResponseWriter, req *http.Request) (bool, error) {
	if req.URL.Path == "/openapi/v3" || strings.HasPrefix(req.URL.Path, "/openapi/v3/") {
		return s.serveOpenAPIV3(w, req)
	}
	parts := splitPath(req.URL.Path)
	switch {
	case len(parts) == 1 && parts[0] == "api":
		return true, writeObject(w, http.StatusOK, apiVersions{
			Kind:     "APIVersions",
			Versions: []string{"v1"},
			ServerAddressByClientCIDRs: []serverAddressByClientCIDR{
				{ClientCIDR: "0.0.0.0/0", ServerAddress: req.Host},
			},
		})
	case len(parts) == 1 && parts[0] == "apis":
		return true, writeObject(w, http.StatusOK, s.groupList())
	case len(parts) == 2 && parts[0] == "apis":
		for _, g := range s.groupList().Groups {
			if g.Name == parts[1] {
				return true, writeObject(w, http.StatusOK, struct {
					Kind       string `json:"kind"`
					APIVersion string `json:"apiVersion"`
					apiGroup
				}{"APIGroup", "v1", g})
			}
		}
		return false, nil
	case len(parts) == 2 && parts[0] == "api" && parts[1] == "v1":
		return true, writeObject(w, http.StatusOK, s.resourceList("", "v1"))
	case len(parts) == 3 && parts[0] == "apis":
		l := s.resourceList(parts[1], parts[2])
		if len(l.Resources) == 0 {
			return false, nil
		}
		return true, writeObject(w, http.StatusOK, l)
	}
	return false, nil
}

func (s *Server) groupList() apiGroupList {
	versions := map[string][]string{}
	for _, r := range s.resources.all {
		if r.gvr.Group == "" {
			continue
		}
		vs := versions[r.gvr.Group]
		found := false
		for _, v := range vs {
			found = found || v == r.gvr.Version
		}
		if !found {
			versions[r.gvr.Group] = append(vs, r.gvr.Version)
		}
	}
	names := make([]string, 0, len(versions))
	for g := range versions {
		names = append(names, g)
	}
	sort.Strings(names)
	l := apiGroupList{Kind: "APIGroupList", APIVersion: "v1", Groups: []apiGroup{}}
	for _, g := range names {
		var gvs []groupVersionForDiscovery
		for _, v := range versions[g] {
			gvs = append(gvs, groupVersionForDiscovery{GroupVersion: g + "/" + v, Version: v})
		}
		l.Groups = append(l.Groups, apiGroup{Name: g, Versions: gvs, PreferredVersion: gvs[0]})
	}
	return l
}

func (s *Server) resourceList(group, version string) apiResourceList {
	gv := version
	if group != "" {
		gv = group + "/" + version
	}
	l := apiResourceList{Kind: "APIResourceList", APIVersion: "v1", GroupVersion: gv, Resources: []apiResource{}}
	for _, r := range s.resources.all {
		if r.gvr.Group != group || r.gvr.Version != version {
			continue
		}
		l.Resources = append(l.Resources, apiResource{
			Name: r.gvr.Resource, SingularName: r.singular, Namespaced: r.namespaced, Kind: r.kind,
			Verbs: resourceVerbs, ShortNames: r.shortNames, Categories: r.categories,
		})
		if r.hasStatus {
			l.Resources = append(l.Resources, apiResource{Name: r.gvr.Resource + "/status", Namespaced: r.namespaced, Kind: r.kind, Verbs: []string{"get", "patch", "update"}})
		}
		for _, sub := range r.subresources {
			sr := apiResource{Name: r.gvr.Resource + "/" + sub, Namespaced: r.namespaced, Kind: r.kind}
			switch sub {
			case "scale":
				sr.Group, sr.Version, sr.Kind, sr.Verbs = "autoscaling", "v1", "Scale", []string{"get", "patch", "update"}
			case "binding":
				sr.Kind, sr.Verbs = "Binding", []string{"create"}
			case "finalize":
				sr.Verbs = []string{"update"}
			case "log":
				sr.Kind, sr.Verbs = "Pod", []string{"get"}
			case "exec":
				sr.Kind, sr.Verbs = "PodExecOptions", []string{"create", "get"}
			}
			l.Resources = append(l.Resources, sr)
		}
	}
	sort.Slice(l.Resources, func(i, j int) bool { return strings.Compare(l.Resources[i].Name, l.Resources[j].Name) < 0 })
	return l
}

// versionInfo is /version in Kubernetes' shape, so kubectl version works;
// gitVersion names the Kubernetes API level kl follows, plus kl's own.
type versionInfo struct {
	Major      string `json:"major"`
	Minor      string `json:"minor"`
	GitVersion string `json:"gitVersion"`
	GitCommit  string `json:"gitCommit"`
	GoVersion  string `json:"goVersion"`
	Platform   string `json:"platform"`
	KlVersion  string `json:"klVersion"`
}

func kubeVersion() versionInfo {
	v := version.Get()
	return versionInfo{
		Major: "1", Minor: "32", GitVersion: "v1.32.0+kl", GitCommit: v.GitCommit,
		GoVersion: v.GoVersion, Platform: v.Platform, KlVersion: v.Version,
	}
}
