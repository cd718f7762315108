package apiserver

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
)

// OpenAPI v3, only as much as kubectl needs: /openapi/v3 lists a document
// per group/version, and each document has, for every resource, a PATCH
// operation tagged with x-kubernetes-group-version-kind that takes the
// fieldValidation query parameter. kubectl's default --validate=strict
// reads that and leaves validation to the server (which rejects unknown
// fields) instead of failing to download a schema to validate with. No
// component schemas are served: `kubectl explain` has nothing to show, and
// kubectl apply computes its patches from its built-in types.

type openAPIV3Discovery struct {
	Paths map[string]openAPIV3Ref `json:"paths"`
}

type openAPIV3Ref struct {
	ServerRelativeURL string `json:"serverRelativeURL"`
}

type openAPIGVK struct {
	Group   string `json:"group"`
	Version string `json:"version"`
	Kind    string `json:"kind"`
}

type openAPIParameter struct {
	Name        string         `json:"name"`
	In          string         `json:"in"`
	Description string         `json:"description,omitempty"`
	Schema      map[string]any `json:"schema"`
}

type openAPIOperation struct {
	OperationID string             `json:"operationId"`
	Action      string             `json:"x-kubernetes-action"`
	GVK         openAPIGVK         `json:"x-kubernetes-group-version-kind"`
	Parameters  []openAPIParameter `json:"parameters"`
	Responses   map[string]any     `json:"responses"`
}

type openAPIPathItem struct {
	Patch *openAPIOperation `json:"patch,omitempty"`
}

type openAPIV3Doc struct {
	OpenAPI    string                     `json:"openapi"`
	Info       map[string]string          `json:"info"`
	Paths      map[string]openAPIPathItem `json:"paths"`
	Components openAPIComponents          `json:"components"`
}

type openAPIComponents struct {
	Schemas map[string]any `json:"schemas"`
}

var patchQueryParams = []openAPIParameter{
	{Name: "dryRun", In: "query", Schema: map[string]any{"type": "string"}},
	{Name: "fieldManager", In: "query", Schema: map[string]any{"type": "string"}},
	{Name: "fieldValidation", In: "query", Description: "kl rejects unknown and duplicate fields (Strict)", Schema: map[string]any{"type": "string"}},
	{Name: "force", In: "query", Schema: map[string]any{"type": "boolean"}},
}

// openAPIV3Docs builds the document of every group/version, keyed
// "api/v1", "apis/apps/v1", ..., JSON-encoded.
func (s *Server) openAPIV3Docs() (map[string][]byte, error) {
	docs := map[string]*openAPIV3Doc{}
	for _, r := range s.resources.all {
		key := "api/" + r.gvr.Version
		if r.gvr.Group != "" {
			key = "apis/" + r.gvr.Group + "/" + r.gvr.Version
		}
		d := docs[key]
		if d == nil {
			d = &openAPIV3Doc{OpenAPI: "3.0.0", Info: map[string]string{"title": "kl", "version": kubeVersion().GitVersion}, Paths: map[string]openAPIPathItem{}, Components: openAPIComponents{Schemas: map[string]any{}}}
			docs[key] = d
		}
		path := "/" + key + "/" + r.gvr.Resource + "/{name}"
		if r.namespaced {
			path = "/" + key + "/namespaces/{namespace}/" + r.gvr.Resource + "/{name}"
		}
		d.Paths[path] = openAPIPathItem{Patch: &openAPIOperation{
			OperationID: "patch" + r.kind,
			Action:      "patch",
			GVK:         openAPIGVK{Group: r.gvr.Group, Version: r.gvr.Version, Kind: r.kind},
			Parameters:  patchQueryParams,
			Responses:   map[string]any{"200": map[string]any{"description": "OK"}},
		}}
	}
	out := map[string][]byte{}
	for k, d := range docs {
		b, err := json.Marshal(d)
		if err != nil {
			return nil, err
		}
		out[k] = b
	}
	return out, nil
}

// serveOpenAPIV3 answers /openapi/v3 and /openapi/v3/{api/v1|apis/g/v}.
func (s *Server) serveOpenAPIV3(w http.ResponseWriter, req *http.Request) (bool, error) {
	docs, err := s.openAPIV3Docs()
	if err != nil {
		return true, err
	}
	key := strings.Trim(strings.TrimPrefix(req.URL.Path, "/openapi/v3"), "/")
	if key == "" {
		keys := make([]string, 0, len(docs))
		for k := range docs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		d := openAPIV3Discovery{Paths: map[string]openAPIV3Ref{}}
		for _, k := range keys {
			sum := sha256.Sum256(docs[k])
			d.Paths[k] = openAPIV3Ref{ServerRelativeURL: "/openapi/v3/" + k + "?hash=" + strings.ToUpper(hex.EncodeToString(sum[:16]))}
		}
		return true, writeObject(w, http.StatusOK, d)
	}
	doc, ok := docs[key]
	if !ok {
		return false, nil
	}
	writeRaw(w, http.StatusOK, doc)
	return true, nil
}
