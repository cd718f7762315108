package k8sclient

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/openapi3"
)

// TestOpenAPIV3FieldValidation reads kl's OpenAPI v3 documents with
// client-go's openapi3 root the way kubectl's --validate=strict (its
// default) does: for each kind it looks for the PATCH operation tagged
// with the kind's x-kubernetes-group-version-kind and checks that it takes
// the fieldValidation query parameter, so validation is left to the
// server. Without the documents kubectl apply and create fail with
// "failed to download openapi".
func TestOpenAPIV3FieldValidation(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	dc, err := discovery.NewDiscoveryClientForConfig(c.config)
	if err != nil {
		t.Fatal(err)
	}
	root := openapi3.NewRoot(dc.OpenAPIV3())
	gvs, err := root.GroupVersions()
	if err != nil {
		t.Fatalf("openapi v3 group versions: %v", err)
	}
	for _, want := range []schema.GroupVersion{{Version: "v1"}, {Group: "apps", Version: "v1"}} {
		found := false
		for _, gv := range gvs {
			found = found || gv == want
		}
		if !found {
			t.Errorf("openapi v3 group versions %v: missing %s", gvs, want)
		}
	}
	for _, gvk := range []schema.GroupVersionKind{
		{Version: "v1", Kind: "Pod"},
		{Version: "v1", Kind: "Service"},
		{Version: "v1", Kind: "ConfigMap"},
		{Version: "v1", Kind: "Namespace"},
		{Group: "apps", Version: "v1", Kind: "Deployment"},
	} {
		doc, err := root.GVSpec(gvk.GroupVersion())
		if err != nil {
			t.Errorf("openapi v3 document of %s: %v", gvk.GroupVersion(), err)
			continue
		}
		ok := false
		for path, item := range doc.Paths.Paths {
			if item == nil || item.Patch == nil {
				continue
			}
			var got map[string]string
			if err := item.Patch.Extensions.GetObject("x-kubernetes-group-version-kind", &got); err != nil ||
				got["group"] != gvk.Group || got["version"] != gvk.Version || got["kind"] != gvk.Kind {
				continue
			}
			for _, p := range item.Patch.Parameters {
				if p.Name == "fieldValidation" && p.In == "query" {
					ok = true
				}
			}
			if !ok {
				t.Errorf("%s: PATCH %s takes no fieldValidation query parameter", gvk, path)
			}
		}
		if !ok {
			t.Errorf("%s: no PATCH operation with fieldValidation in the openapi v3 document", gvk)
		}
	}
}
