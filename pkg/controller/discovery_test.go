package controller_test

import (
	"testing"

	"github.com/kl-dev/kl/pkg/controller"
	"github.com/kl-dev/kl/pkg/controller/internal/apitest"
)

func TestDiscoverResourcesListsEveryServedResource(t *testing.T) {
	c := apitest.Start(t)
	resources, err := controller.DiscoverResources(apitest.Context(t), c)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]controller.APIResource{}
	for _, r := range resources {
		byName[r.GVR.String()] = r
	}
	for name, want := range map[string]struct {
		kind       string
		apiVersion string
		namespaced bool
	}{
		"pods":                       {"Pod", "v1", true},
		"namespaces":                 {"Namespace", "v1", false},
		"replicasets.apps":           {"ReplicaSet", "apps/v1", true},
		"leases.coordination.k8s.io": {"Lease", "coordination.k8s.io/v1", true},
	} {
		r, ok := byName[name]
		if !ok {
			t.Errorf("%s not discovered", name)
			continue
		}
		if r.Kind != want.kind || r.APIVersion() != want.apiVersion || r.Namespaced != want.namespaced {
			t.Errorf("%s = %+v", name, r)
		}
		if !r.HasVerbs("list", "watch", "delete", "deletecollection") {
			t.Errorf("%s verbs = %v", name, r.Verbs)
		}
	}
	for name := range byName {
		if name == "pods/status" || name == "pods/binding" || name == "namespaces/finalize" {
			t.Errorf("subresource %s listed", name)
		}
	}
	if resources[0].GVR.Group != "" {
		t.Errorf("core group not first: %v", resources[0].GVR)
	}
}
