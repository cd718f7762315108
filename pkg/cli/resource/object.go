package resource

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/kl-dev/kl/pkg/api/meta"
)

// Object is one API object as JSON, with the mapping of its kind.
type Object struct {
	Mapping Mapping
	Raw     json.RawMessage
}

// Meta decodes the object's metadata.
func (o Object) Meta() (meta.ObjectMeta, error) {
	var v struct {
		Metadata meta.ObjectMeta `json:"metadata"`
	}
	if err := json.Unmarshal(o.Raw, &v); err != nil {
		return meta.ObjectMeta{}, fmt.Errorf("decode %s: %w", o.Mapping.Type(), err)
	}
	return v.Metadata, nil
}

// Value decodes the object into JSON values (map[string]any, numbers as
// json.Number), the form JSONPath works on.
func (o Object) Value() (map[string]any, error) {
	return decodeValue(o.Raw)
}

func decodeValue(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode object: %w", err)
	}
	return v, nil
}

// NewObject returns raw as an Object of m, adding apiVersion and kind when
// raw lacks them (list items often do).
func NewObject(m Mapping, raw []byte) (Object, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return Object{}, fmt.Errorf("decode %s: %w", m.Type(), err)
	}
	if _, ok := fields["kind"]; ok {
		if _, ok := fields["apiVersion"]; ok {
			return Object{Mapping: m, Raw: json.RawMessage(raw)}, nil
		}
	}
	fields["kind"], _ = json.Marshal(m.Kind)
	fields["apiVersion"], _ = json.Marshal(m.APIVersion())
	out, err := json.Marshal(fields)
	if err != nil {
		return Object{}, fmt.Errorf("encode %s: %w", m.Type(), err)
	}
	return Object{Mapping: m, Raw: out}, nil
}

// DecodeList returns the items of a list response as Objects of m, and
// the list's resourceVersion.
func DecodeList(m Mapping, body []byte) ([]Object, string, error) {
	var l struct {
		Metadata meta.ListMeta     `json:"metadata"`
		Items    []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(body, &l); err != nil {
		return nil, "", fmt.Errorf("decode %s list: %w", m.GVR, err)
	}
	out := make([]Object, 0, len(l.Items))
	for _, raw := range l.Items {
		o, err := NewObject(m, raw)
		if err != nil {
			return nil, "", err
		}
		out = append(out, o)
	}
	return out, l.Metadata.ResourceVersion, nil
}
