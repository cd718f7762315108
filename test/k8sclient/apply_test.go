package k8sclient

import (
	"encoding/json"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
)

// TestServerSideApply applies a ConfigMap with client-go the two ways
// clients do it (a raw apply patch and the typed Apply with apply
// configurations) and checks Kubernetes' field ownership rules: create on
// first apply, update on re-apply, a field dropped from the applied config
// is removed, another manager's change to an owned field is a Conflict
// unless forced.
func TestServerSideApply(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	ctx := testContext(t, 15*time.Second)
	ns := createNamespace(t, c, "apply")
	cms := c.client.CoreV1().ConfigMaps(ns)

	applyPatch := func(manager string, force bool, data map[string]string) (*corev1.ConfigMap, error) {
		t.Helper()
		body, err := json.Marshal(map[string]any{
			"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": "cfg", "labels": map[string]string{"owner": manager}},
			"data":     data,
		})
		if err != nil {
			t.Fatal(err)
		}
		return cms.Patch(ctx, "cfg", types.ApplyPatchType, body, metav1.PatchOptions{FieldManager: manager, Force: &force})
	}

	created, err := applyPatch("deployer", true, map[string]string{"a": "1", "b": "2"})
	if err != nil {
		t.Fatalf("first apply (create): %v", err)
	}
	if created.UID == "" || created.Data["a"] != "1" || created.Data["b"] != "2" {
		t.Fatalf("first apply: got uid=%q data=%v", created.UID, created.Data)
	}
	if m := manager(created, "deployer"); m == nil || m.Operation != metav1.ManagedFieldsOperationApply || m.FieldsV1 == nil {
		t.Fatalf("first apply: managedFields %+v, want an Apply entry for deployer with fieldsV1", created.ManagedFields)
	}

	// Re-applying the same config changes nothing.
	again, err := applyPatch("deployer", true, map[string]string{"a": "1", "b": "2"})
	if err != nil {
		t.Fatalf("re-apply unchanged: %v", err)
	}
	if again.ResourceVersion != created.ResourceVersion {
		t.Errorf("re-apply unchanged: resourceVersion %s -> %s, want no write", created.ResourceVersion, again.ResourceVersion)
	}

	// Re-applying without b changes a and removes b, which deployer owned.
	reapplied, err := applyPatch("deployer", true, map[string]string{"a": "10"})
	if err != nil {
		t.Fatalf("re-apply: %v", err)
	}
	if reapplied.UID != created.UID || reapplied.Data["a"] != "10" {
		t.Fatalf("re-apply: uid=%q data=%v, want uid %q and a=10", reapplied.UID, reapplied.Data, created.UID)
	}
	if _, ok := reapplied.Data["b"]; ok {
		t.Errorf("re-apply without b: data=%v, want b removed", reapplied.Data)
	}

	// Another manager setting a field deployer owns to another value is a
	// conflict; with force it takes the field over.
	_, err = cms.Apply(ctx, corev1ac.ConfigMap("cfg", ns).WithData(map[string]string{"a": "20"}),
		metav1.ApplyOptions{FieldManager: "other"})
	if !apierrors.IsConflict(err) {
		t.Fatalf("apply a conflicting value as another manager: want Conflict, got %v", err)
	}
	forced, err := cms.Apply(ctx, corev1ac.ConfigMap("cfg", ns).WithData(map[string]string{"a": "20", "c": "3"}),
		metav1.ApplyOptions{FieldManager: "other", Force: true})
	if err != nil {
		t.Fatalf("forced apply by another manager: %v", err)
	}
	if forced.Data["a"] != "20" || forced.Data["c"] != "3" || forced.Labels["owner"] != "deployer" {
		t.Errorf("forced apply: data=%v labels=%v, want a=20 c=3 and deployer's label kept", forced.Data, forced.Labels)
	}
	if manager(forced, "other") == nil || manager(forced, "deployer") == nil {
		t.Errorf("forced apply: managedFields %+v, want entries for deployer and other", forced.ManagedFields)
	}

	// A plain update through the typed client is recorded as an Update by
	// its field manager.
	forced.Data["d"] = "4"
	updated, err := cms.Update(ctx, forced, metav1.UpdateOptions{FieldManager: "editor"})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if m := manager(updated, "editor"); m == nil || m.Operation != metav1.ManagedFieldsOperationUpdate {
		t.Errorf("update: managedFields %+v, want an Update entry for editor", updated.ManagedFields)
	}
}

func manager(cm *corev1.ConfigMap, name string) *metav1.ManagedFieldsEntry {
	for i, m := range cm.ManagedFields {
		if m.Manager == name {
			return &cm.ManagedFields[i]
		}
	}
	return nil
}
