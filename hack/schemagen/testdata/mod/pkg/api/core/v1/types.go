package v1

import (
	"example.com/fake/pkg/api/intstr"
	"example.com/fake/pkg/api/meta"
	res "example.com/fake/pkg/api/resource"
)

// Widget is a test kind.
//
// It has two paragraphs.
type Widget struct {
	meta.TypeMeta `json:",inline"`
	// Standard object metadata.
	meta.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired state.
	// +optional
	Spec WidgetSpec `json:"spec,omitempty"`
	// Data is binary.
	Data       map[string][]byte `json:"data,omitempty"`
	Conditions []meta.Condition  `json:"conditions,omitempty"`
	Local      []Condition       `json:"localConditions,omitempty"`
}

// WidgetList is a list, not a kind.
type WidgetList struct {
	meta.TypeMeta `json:",inline"`
	meta.ListMeta `json:"metadata,omitempty"`
	Items         []Widget `json:"items"`
}

// Condition clashes by name with meta.Condition.
type Condition struct {
	Status string `json:"status"`
}

// RestartPolicy says when to restart.
type RestartPolicy string

const (
	RestartPolicyAlways RestartPolicy = "Always"
	RestartPolicyNever  RestartPolicy = "Never"
	RestartPolicyOdd    RestartPolicy = "Sometimes"
)

type WidgetSpec struct {
	Replicas      *int32                  `json:"replicas,omitempty"` // Replicas is a count.
	RestartPolicy RestartPolicy           `json:"restartPolicy,omitempty"`
	Containers    []Container             `json:"containers"`
	Volumes       []Volume                `json:"volumes,omitempty"`
	Port          intstr.IntOrString      `json:"port"`
	Limits        map[string]res.Quantity `json:"limits,omitempty"`
	Deadline      *int64                  `json:"deadline,omitempty"`
	Weight        float64                 `json:"weight,omitempty"`
	Started       *meta.Time              `json:"started,omitempty"`
	Ignored       string                  `json:"-"`
	private       string
	Next          *WidgetSpec `json:"next,omitempty"`
	Mode          string      `json:"mode,omitempty"`
}

type Container struct {
	Name  string `json:"name"`
	Image string `json:"image,omitempty"`
}

type Volume struct {
	Name         string `json:"name"`
	VolumeSource `json:",inline"`
}

type VolumeSource struct {
	EmptyDir *EmptyDirVolumeSource `json:"emptyDir,omitempty"`
	HostPath *HostPath             `json:"hostPath,omitempty"`
	// Name here is shadowed by Volume.Name.
	Name string `json:"name,omitempty"`
}

type EmptyDirVolumeSource struct{}

type HostPath struct {
	Path string `json:"path"`
}
