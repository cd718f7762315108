package applyset

import (
	"reflect"
	"testing"

	"github.com/kl-dev/kl/pkg/cli/resource"
	"github.com/kl-dev/kl/pkg/manifest"
)

func TestPhasesFollowApplyOrderClasses(t *testing.T) {
	kinds := []string{"Deployment", "ConfigMap", "Widget", "Namespace", "Secret", "Service", "Pod", "Namespace", "Lease"}
	objs := make([]*Object, len(kinds))
	for i, k := range kinds {
		objs[i] = &Object{Manifest: &manifest.Object{Kind: k}, Mapping: resource.Mapping{Kind: k}}
	}
	got := phases(objs)
	want := [][]int{
		{3, 7}, // Namespaces
		{1, 4}, // ConfigMap, Secret
		{5},    // Service
		{0, 6}, // Deployment, Pod
		{2, 8}, // everything else
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("phases = %v, want %v", got, want)
	}
	if phases(nil) != nil {
		t.Error("phases(nil) is not empty")
	}
}
