package validation

import (
	"reflect"
	"testing"

	"github.com/kl-dev/kl/pkg/api/meta"
)

func TestFieldErrorFormatsLikeKubernetes(t *testing.T) {
	p := NewFieldPath("spec", "replicas")
	tests := []struct {
		err  *FieldError
		want string
	}{
		{Invalid(p, int32(-1), "must be greater than or equal to 0"), "spec.replicas: Invalid value: -1: must be greater than or equal to 0"},
		{Invalid(NewFieldPath("metadata", "name"), "Web", "bad"), `metadata.name: Invalid value: "Web": bad`},
		{Invalid(p, nil, "no value shown"), "spec.replicas: Invalid value: no value shown"},
		{Required(NewFieldPath("spec", "selector"), ""), "spec.selector: Required value"},
		{Required(NewFieldPath("metadata", "name"), "name or generateName is required"), "metadata.name: Required value: name or generateName is required"},
		{NotSupported(NewFieldPath("spec", "restartPolicy"), "Never", []string{"Always"}), `spec.restartPolicy: Unsupported value: "Never": supported values: "Always"`},
		{Duplicate(NewFieldPath("spec", "containers").Index(1).Child("name"), "web"), `spec.containers[1].name: Duplicate value: "web"`},
		{NotFound(NewFieldPath("volumeMounts").Index(0).Child("name"), "data"), `volumeMounts[0].name: Not found: "data"`},
		{Forbidden(NewFieldPath("spec"), "may not change"), "spec: Forbidden: may not change"},
		{TooLong(NewFieldPath("metadata", "annotations"), 262144), "metadata.annotations: Too long: must have at most 262144 bytes"},
		{Unsupported(NewFieldPath("spec", "replica"), `unknown field "replica"`), `spec.replica: unknown field "replica"`},
		{Invalid(NewFieldPath("metadata", "labels"), map[string]string{"app": "web"}, "x"), `metadata.labels: Invalid value: {"app":"web"}: x`},
		{Invalid(nil, nil, "cannot decode object"), "Invalid value: cannot decode object"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q\nwant      %q", got, tt.want)
		}
	}
}

func TestFieldPathRendersIndexesAndKeys(t *testing.T) {
	p := NewFieldPath("spec").Child("template", "spec").Child("containers").Index(0).Child("resources", "requests").Key("cpu")
	if got, want := p.String(), "spec.template.spec.containers[0].resources.requests[cpu]"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	want := []string{"spec", "template", "spec", "containers", "0", "resources", "requests", "cpu"}
	if got := p.Segments(); !reflect.DeepEqual(got, want) {
		t.Errorf("Segments() = %q, want %q", got, want)
	}
	var root *FieldPath
	if root.String() != "" || len(root.Segments()) != 0 {
		t.Error("nil path should be the root")
	}
}

func TestErrorListErrAndCauses(t *testing.T) {
	var empty ErrorList
	if empty.Err() != nil {
		t.Error("empty list must be a nil error")
	}
	l := ErrorList{
		Invalid(NewFieldPath("spec", "replicas"), -1, "must be greater than or equal to 0"),
		Required(NewFieldPath("spec", "selector"), ""),
	}
	if l.Err() == nil {
		t.Fatal("non-empty list must be an error")
	}
	if got, want := l.Error(), "spec.replicas: Invalid value: -1: must be greater than or equal to 0; spec.selector: Required value"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	want := []meta.StatusCause{
		{Type: "FieldValueInvalid", Message: "Invalid value: -1: must be greater than or equal to 0", Field: "spec.replicas"},
		{Type: "FieldValueRequired", Message: "Required value", Field: "spec.selector"},
	}
	if got := l.Causes(); !reflect.DeepEqual(got, want) {
		t.Errorf("Causes() = %+v\nwant %+v", got, want)
	}
}
