package fieldmanager_test

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/apiserver/fieldmanager"
)

func TestConflictErrorIsKubernetesApplyConflictStatus(t *testing.T) {
	m := &fieldmanager.Manager{Now: func() time.Time { return t0 }}
	live, mf := applied(t, m, `{metadata: {name: web}, spec: {replicas: 3}}`)
	next := mergePatch(live, obj(t, `{spec: {replicas: 5}}`))
	mf = m.Update(live, next, mf, "kl-scale", "apps/v1")
	_, _, err := m.Apply(next, mf, obj(t, `{metadata: {name: web}, spec: {replicas: 3}}`), "kl", "apps/v1", false)
	var ce *fieldmanager.ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("want a ConflictError, got %v", err)
	}
	want := []fieldmanager.Conflict{{Manager: "kl-scale", Operation: "Update", APIVersion: "apps/v1", Field: ".spec.replicas"}}
	if !reflect.DeepEqual(ce.Conflicts, want) {
		t.Errorf("conflicts %+v, want %+v", ce.Conflicts, want)
	}
	ae := ce.APIError()
	if ae.Status.Code != http.StatusConflict || ae.Status.Reason != meta.StatusReasonConflict || ae.Status.Message != err.Error() {
		t.Errorf("status %+v", ae.Status)
	}
	wantCauses := []meta.StatusCause{{Type: "FieldManagerConflict", Message: `conflict with "kl-scale" using apps/v1`, Field: ".spec.replicas"}}
	if ae.Status.Details == nil || !reflect.DeepEqual(ae.Status.Details.Causes, wantCauses) {
		t.Errorf("causes %+v, want %+v", ae.Status.Details, wantCauses)
	}
}

func TestApplyNeedsAManager(t *testing.T) {
	if _, _, err := (&fieldmanager.Manager{}).Apply(nil, nil, obj(t, `{metadata: {name: x}}`), "", "v1", false); err == nil {
		t.Error("Apply without a manager name succeeded")
	}
}

func TestApplyDoesNotModifyItsArguments(t *testing.T) {
	m := &fieldmanager.Manager{Now: func() time.Time { return t0 }}
	live, mf := applied(t, m, deployment)
	live = mergePatch(live, obj(t, `{status: {replicas: 3}}`))
	config := obj(t, strings.Replace(deployment, "{name: web, image: \"nginx:1.25\"}", "{name: api, image: \"api:1\", args: [x]}", 1))
	liveBefore, mfBefore, configBefore := toJSON(t, live), toJSON(t, mf), toJSON(t, config)
	merged, _, err := m.Apply(live, mf, config, "kl", "apps/v1", false)
	if err != nil {
		t.Fatal(err)
	}
	merged["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["args"].([]any)[0] = "mutated"
	merged["status"].(map[string]any)["replicas"] = "mutated"
	if toJSON(t, live) != liveBefore || toJSON(t, mf) != mfBefore || toJSON(t, config) != configBefore {
		t.Error("Apply or a change to its result modified an argument")
	}
}

func TestManagedFieldsOfAndSet(t *testing.T) {
	m := &fieldmanager.Manager{Now: func() time.Time { return t0 }}
	o, mf := applied(t, m, `{metadata: {name: web}, spec: {replicas: 3}}`)
	if err := fieldmanager.SetManagedFields(o, mf); err != nil {
		t.Fatal(err)
	}
	if want := `[{"apiVersion":"apps/v1","fieldsType":"FieldsV1","fieldsV1":{"f:spec":{"f:replicas":{}}},"manager":"kl","operation":"Apply","time":"2025-03-01T12:00:00Z"}]`; toJSON(t, o["metadata"].(map[string]any)["managedFields"]) != want {
		t.Errorf("stored %s, want %s", toJSON(t, o["metadata"].(map[string]any)["managedFields"]), want)
	}
	got, err := fieldmanager.ManagedFieldsOf(o)
	if err != nil || toJSON(t, got) != toJSON(t, mf) {
		t.Errorf("read back %s (%v), want %s", toJSON(t, got), err, toJSON(t, mf))
	}
	if err := fieldmanager.ValidateManagedFields(got); err != nil {
		t.Errorf("valid entries rejected: %v", err)
	}
	if err := fieldmanager.SetManagedFields(o, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := o["metadata"].(map[string]any)["managedFields"]; ok {
		t.Error("empty managedFields were stored")
	}
}

func TestValidateManagedFields(t *testing.T) {
	good := meta.RawJSON(`{"f:a":{}}`)
	bad := meta.RawJSON(`{"a":{}}`)
	tests := []struct {
		name    string
		entry   meta.ManagedFieldsEntry
		wantErr string
	}{
		{"valid", meta.ManagedFieldsEntry{Manager: "m", Operation: "Update", FieldsType: "FieldsV1", FieldsV1: &good}, ""},
		{"unknown operation", meta.ManagedFieldsEntry{Manager: "m", Operation: "Patch", FieldsType: "FieldsV1", FieldsV1: &good}, "managedFields[0].operation"},
		{"unknown fields type", meta.ManagedFieldsEntry{Manager: "m", Operation: "Apply", FieldsType: "FieldsV2", FieldsV1: &good}, "managedFields[0].fieldsType"},
		{"bad fieldsV1", meta.ManagedFieldsEntry{Manager: "m", Operation: "Apply", FieldsType: "FieldsV1", FieldsV1: &bad}, "managedFields[0].fieldsV1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := fieldmanager.ValidateManagedFields([]meta.ManagedFieldsEntry{tt.entry})
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}
