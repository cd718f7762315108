package v1

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// volumeKeys are the JSON keys of Volume that kl supports.
var volumeKeys = []string{"name", "hostPath", "emptyDir", "secret", "configMap"}

// volumeFields has Volume's fields without its methods, for decoding.
type volumeFields Volume

// UnmarshalJSON decodes a volume and records every key that is not one kl
// supports (persistentVolumeClaim, nfs, projected, downwardAPI, csi, ... or a
// misspelt source) so validation can reject the volume instead of the source
// being dropped silently. Unsupported sources are not kept and do not
// re-encode.
func (v *Volume) UnmarshalJSON(data []byte) error {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(data, &keys); err != nil {
		return fmt.Errorf("volume: %w", err)
	}
	var f volumeFields
	if err := json.Unmarshal(data, &f); err != nil {
		return err
	}
	f.unsupported = nil
	for k, raw := range keys {
		if slices.Contains(volumeKeys, k) || bytes.Equal(raw, []byte("null")) {
			continue
		}
		f.unsupported = append(f.unsupported, k)
	}
	slices.Sort(f.unsupported)
	*v = Volume(f)
	return nil
}

// UnsupportedSources returns, sorted, the JSON keys of the volume sources
// (or other fields) the decoded volume had that kl does not support, for
// example ["persistentVolumeClaim"]. Validation reports each as
// "<key>: volume source not supported by kl".
func (v *Volume) UnsupportedSources() []string {
	return slices.Clone(v.unsupported)
}

// SetUnsupportedSources records unsupported source keys on a volume built in
// code; it exists for tests of validation.
func (v *Volume) SetUnsupportedSources(keys ...string) {
	v.unsupported = slices.Sorted(slices.Values(keys))
	if len(v.unsupported) == 0 {
		v.unsupported = nil
	}
}
