package v1

import "example.com/fake/pkg/api/meta"

const GroupName = "shop.example.com"

// Gadget is cluster scoped.
type Gadget struct {
	meta.TypeMeta   `json:",inline"`
	meta.ObjectMeta `json:"metadata,omitempty"`
	Size            int32 `json:"size"`
}
