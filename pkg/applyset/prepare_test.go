package applyset_test

import (
	"encoding/json"
	"regexp"
	"testing"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/apiserver/apiservertest"
	"github.com/kl-dev/kl/pkg/applyset"
	"github.com/kl-dev/kl/pkg/cli/resource"
)

const mixedNamespaces = `apiVersion: v1
kind: ConfigMap
metadata: {name: plain, labels: {tier: web}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: placed, namespace: shop}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop, namespace: ignored}
`

func TestPrepareResolvesNamespacesAndAddsTheSetLabel(t *testing.T) {
	c := apiservertest.StartClient(t)
	set, _ := applyset.Named("web", "team")
	mos := readManifests(t, map[string]string{"m.yaml": mixedNamespaces})
	objs, err := applyset.Prepare(ctxT(t), resource.NewResolver(c), mos, applyset.PrepareOptions{Namespace: "team", Set: &set})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ ref, ns string }{{"configmap/plain", "team"}, {"configmap/placed", "shop"}, {"namespace/shop", ""}}
	for i, w := range want {
		o := objs[i]
		if o.Ref() != w.ref || o.Namespace != w.ns {
			t.Errorf("object %d: %s in %q, want %s in %q", i, o.Ref(), o.Namespace, w.ref, w.ns)
		}
		var body struct {
			Metadata meta.ObjectMeta `json:"metadata"`
		}
		if err := json.Unmarshal(o.Body, &body); err != nil {
			t.Fatal(err)
		}
		if body.Metadata.Namespace != w.ns || body.Metadata.Labels[applyset.PartOfLabel] != "web" {
			t.Errorf("%s: body metadata %+v", o.Ref(), body.Metadata)
		}
	}
	if l := labelsOf(t, objs[0].Body); l["tier"] != "web" {
		t.Errorf("the manifest's labels were lost: %v", l)
	}
	if _, ok := mos[0].Object["metadata"].(map[string]any)["labels"].(map[string]any)[applyset.PartOfLabel]; ok {
		t.Error("Prepare modified the manifest object")
	}

	sel, _ := meta.ParseSelector("tier=web")
	if got := applyset.Select(objs, sel); len(got) != 1 || got[0].Name != "plain" {
		t.Errorf("Select(tier=web) = %v", got)
	}
}

func TestPrepareNamesTheFileLineOfEveryProblem(t *testing.T) {
	c := apiservertest.StartClient(t)
	mos := readManifests(t, map[string]string{"m.yaml": mixedNamespaces + `---
apiVersion: example.com/v1
kind: Gizmo
metadata: {name: g}
`})
	_, err := applyset.Prepare(ctxT(t), resource.NewResolver(c), mos, applyset.PrepareOptions{Namespace: "default", ExplicitNamespace: true})
	if err == nil {
		t.Fatal("no error")
	}
	for _, re := range []string{
		`(?m)^.*m\.yaml:5:1: ConfigMap shop/placed: the namespace from the provided object "shop" does not match the namespace "default"`,
		`(?m)^.*m\.yaml:13:1: Gizmo g: the server doesn't have a resource for kind "Gizmo" in version "example.com/v1"$`,
	} {
		if !regexp.MustCompile(re).MatchString(err.Error()) {
			t.Errorf("error %q\ndoes not match %s", err, re)
		}
	}
}
