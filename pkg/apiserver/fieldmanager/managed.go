package fieldmanager

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/kl-dev/kl/pkg/api/meta"
)

// Values of ManagedFieldsEntry.Operation and FieldsType.
const (
	OperationApply  = "Apply"
	OperationUpdate = "Update"
	FieldsTypeV1    = "FieldsV1"
)

// Manager computes server-side apply merges and managedFields bookkeeping.
// The zero value is ready to use: kl's list keys and the wall clock.
type Manager struct {
	// ListKeys tells how lists merge; nil means DefaultListKeys.
	ListKeys ListKeyFunc
	// Now is the clock for managedFields times; nil means time.Now.
	Now func() time.Time
}

func (m *Manager) keys() ListKeyFunc {
	if m.ListKeys != nil {
		return m.ListKeys
	}
	return DefaultListKeys
}

func (m *Manager) now() *meta.Time {
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	t := meta.NewTime(now())
	return &t
}

// entry is one managedFields entry being worked on.
type entry struct {
	orig    meta.ManagedFieldsEntry // as received; written back verbatim unless changed
	set     *FieldSet
	changed bool // set or metadata differ from orig: re-encode
}

func (e *entry) is(manager, operation string) bool {
	return e.orig.Manager == manager && e.orig.Operation == operation && e.orig.Subresource == ""
}

// decodeEntries parses managedFields, folding duplicate (manager,
// operation, subresource) entries into the first one. With strict, an entry
// that does not decode is an error; otherwise it is dropped.
func decodeEntries(managed []meta.ManagedFieldsEntry, strict bool) ([]*entry, error) {
	var out []*entry
	for i, mf := range managed {
		set, err := decodeEntry(mf)
		if err != nil {
			if strict {
				return nil, fmt.Errorf("managedFields[%d] (manager %q): %w", i, mf.Manager, err)
			}
			continue
		}
		var dup *entry
		for _, e := range out {
			if e.orig.Manager == mf.Manager && e.orig.Operation == mf.Operation && e.orig.Subresource == mf.Subresource {
				dup = e
				break
			}
		}
		if dup != nil {
			dup.set = dup.set.Union(set)
			dup.changed = true
			continue
		}
		out = append(out, &entry{orig: mf, set: set})
	}
	return out, nil
}

func decodeEntry(mf meta.ManagedFieldsEntry) (*FieldSet, error) {
	if mf.FieldsType != "" && mf.FieldsType != FieldsTypeV1 {
		return nil, fmt.Errorf("fieldsType %q is not %s", mf.FieldsType, FieldsTypeV1)
	}
	if mf.FieldsV1 == nil || len(*mf.FieldsV1) == 0 || string(*mf.FieldsV1) == "null" {
		return &FieldSet{}, nil
	}
	return DecodeFieldsV1(*mf.FieldsV1)
}

// encodeEntries writes the entries back in order, dropping empty ones and
// keeping unchanged ones byte for byte.
func encodeEntries(entries []*entry) []meta.ManagedFieldsEntry {
	var out []meta.ManagedFieldsEntry
	for _, e := range entries {
		if e.set.Empty() {
			continue
		}
		if !e.changed {
			out = append(out, e.orig)
			continue
		}
		mf := e.orig
		raw, _ := e.set.MarshalJSON() // cannot fail
		r := meta.RawJSON(raw)
		mf.FieldsType = FieldsTypeV1
		mf.FieldsV1 = &r
		out = append(out, mf)
	}
	return out
}

// ValidateManagedFields checks entries a client sent: a known operation, the
// FieldsV1 type and a well-formed fieldsV1.
func ValidateManagedFields(entries []meta.ManagedFieldsEntry) error {
	for i, mf := range entries {
		if mf.Operation != OperationApply && mf.Operation != OperationUpdate {
			return fmt.Errorf("managedFields[%d].operation: must be %q or %q, not %q", i, OperationApply, OperationUpdate, mf.Operation)
		}
		if mf.FieldsType != FieldsTypeV1 {
			return fmt.Errorf("managedFields[%d].fieldsType: must be %q, not %q", i, FieldsTypeV1, mf.FieldsType)
		}
		if _, err := decodeEntry(mf); err != nil {
			return fmt.Errorf("managedFields[%d].fieldsV1: %w", i, err)
		}
	}
	return nil
}

// ManagedFieldsOf reads metadata.managedFields of a JSON-like object.
func ManagedFieldsOf(obj map[string]any) ([]meta.ManagedFieldsEntry, error) {
	md, _ := obj["metadata"].(map[string]any)
	raw, ok := md["managedFields"]
	if !ok || raw == nil {
		return nil, nil
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, fmt.Errorf("encode metadata.managedFields: %w", err)
	}
	var out []meta.ManagedFieldsEntry
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("decode metadata.managedFields: %w", err)
	}
	return out, nil
}

// SetManagedFields stores entries as metadata.managedFields of a JSON-like
// object (removing the field when entries is empty).
func SetManagedFields(obj map[string]any, entries []meta.ManagedFieldsEntry) error {
	md, _ := obj["metadata"].(map[string]any)
	if len(entries) == 0 {
		if md != nil {
			delete(md, "managedFields")
		}
		return nil
	}
	b, err := json.Marshal(entries)
	if err != nil {
		return fmt.Errorf("encode managedFields: %w", err)
	}
	var v []any
	if err := unmarshalNumber(b, &v); err != nil {
		return fmt.Errorf("decode managedFields: %w", err)
	}
	if md == nil {
		md = map[string]any{}
		obj["metadata"] = md
	}
	md["managedFields"] = v
	return nil
}
